"""The smart-charging policy as a table: (session, car, plan) → status, command, decision.

One case per rule learned (several only ever recorded in commit messages) and per status the
policy can produce. Pure: no Home Assistant, no emulator, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.flexcharging.const import Refusal
from custom_components.flexcharging.planner import BlockReason, ChargePlan, PlannedBlock
from custom_components.flexcharging.smart_charging.estimates import opportunity_level
from custom_components.flexcharging.smart_charging.model import (
    Decision,
    Hold,
    Intent,
    Problem,
    Session,
    SmartSettings,
    SmartStatus,
)
from custom_components.flexcharging.smart_charging.policy import (
    AUTO_START_WINDOW,
    RETRY_AFTER,
    Car,
    SharedTurn,
    Step,
    accept_less,
    after_command,
    decide,
    planning_level,
    problem_cause,
    settings_changed,
    start_now,
    user_took_over,
)
from custom_components.flexcharging.smart_charging.watchdog import (
    ignore_risk,
    plan_at_risk,
    problem_solved,
    retry_at,
)

NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MANAGED = SmartSettings(managed=True, target=80)


def plan(
    *spans: tuple[timedelta, timedelta], reason: BlockReason = BlockReason.CHEAPEST
) -> ChargePlan:
    """A plan with blocks from NOW + start to NOW + end."""
    blocks = tuple(
        PlannedBlock(start=NOW + start, end=NOW + end, reason=reason, energy_kwh=None, cost=None)
        for start, end in spans
    )
    return ChargePlan(
        blocks=blocks, needed_hours=0.0, reaches_target=True, cost=None, reference_cost=None
    )


CHARGE_NOW = plan((-HOUR, 2 * HOUR))
LATER = plan((2 * HOUR, 4 * HOUR))
NOTHING = plan()

# Plugged in an hour ago, at home, half full, not charging; the session already looked at.
CAR = Car(plugged_in=True, charging=False, soc=50.0, charge_limit=90)
SESSION = Session(plugged=True, plugged_at=NOW - HOUR, first_reading=False)


def intent(charge: bool, **changes: Any) -> Intent:
    """The executor's intent, with attempts etc."""
    return Intent(charge=charge, **changes)


@dataclass(frozen=True, kw_only=True)
class Case:
    """One rule: what the policy sees and what it must do."""

    id: str
    session: Session = SESSION
    car: Car = CAR
    plan: ChargePlan | None = LATER
    settings: SmartSettings = MANAGED
    status: SmartStatus
    command: str | None = None
    decision: Decision | None = None
    detail: str | None = None
    hold: Hold | None = None  # the hold afterwards, when the rule is about it
    problem: Problem | None = None  # the watchdog's cause, when the executor gives up
    session_has: dict[str, object] = field(default_factory=dict)
    solar: bool | None = None  # the solar controller's wish (None: no solar charging)
    at_limit: bool = False  # the site limit leaves the car too little room
    shared: SharedTurn | None = None  # another car's turn on a shared charger
    waiting_for: str | None = None  # the car the step says it waits for
    held_back: bool = False  # the step would charge but for that car


CASES = [
    # --- not the policy's business ----------------------------------------------------------
    Case(id="off_when_not_managed", settings=SmartSettings(), status=SmartStatus.OFF),
    Case(
        id="plug_unknown_is_no_data_and_the_session_goes_on",
        session=replace(SESSION, hold=Hold.USER),
        car=replace(CAR, plugged_in=None),
        plan=None,
        status=SmartStatus.NO_DATA,
        hold=Hold.USER,
    ),
    Case(
        id="unplugged", car=replace(CAR, plugged_in=False), plan=None, status=SmartStatus.UNPLUGGED
    ),
    Case(
        id="unplugging_ends_the_users_hold",
        session=replace(SESSION, hold=Hold.USER, intent=intent(True, confirmed=True)),
        car=replace(CAR, plugged_in=False),
        plan=None,
        status=SmartStatus.UNPLUGGED,
        hold=Hold.PLAN,
        session_has={"plugged": False, "intent": None},
    ),
    Case(
        id="unplugging_ends_the_answers_to_a_risk",
        session=replace(SESSION, risk_ignored=True, accepted_target=60),
        car=replace(CAR, plugged_in=False),
        plan=None,
        status=SmartStatus.UNPLUGGED,
        session_has={"risk_ignored": False, "accepted_target": None},
    ),
    Case(
        id="unplugging_ends_the_override",
        session=replace(SESSION, hold=Hold.OVERRIDE),
        car=replace(CAR, plugged_in=False),
        plan=None,
        status=SmartStatus.UNPLUGGED,
        hold=Hold.PLAN,
    ),
    Case(id="away_from_home", car=replace(CAR, at_home=False), plan=None, status=SmartStatus.AWAY),
    Case(id="level_unknown", car=replace(CAR, soc=None), plan=None, status=SmartStatus.NO_DATA),
    # --- sessions -----------------------------------------------------------------------------
    Case(
        id="a_new_plug_in_starts_a_new_session",
        session=Session(plugged=False, hold=Hold.USER, target_reached=True),
        status=SmartStatus.WAITING,
        hold=Hold.PLAN,
        session_has={"plugged_at": NOW, "target_reached": False},
    ),
    Case(
        id="a_restart_keeps_the_users_hold",
        session=Session(hold=Hold.USER),
        car=replace(CAR, charging=True),
        status=SmartStatus.MANUAL,
        hold=Hold.USER,
        session_has={"plugged": True, "plugged_at": None},
    ),
    Case(
        id="a_restart_keeps_the_override",
        session=Session(hold=Hold.OVERRIDE),
        status=SmartStatus.OVERRIDE,
        command="start",
        decision=Decision.START_OVERRIDE,
        hold=Hold.OVERRIDE,
    ),
    # --- following the plan -------------------------------------------------------------------
    Case(id="waiting_for_the_plan", status=SmartStatus.WAITING),
    Case(
        id="start_in_a_planned_block",
        plan=CHARGE_NOW,
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.START_PLAN,
    ),
    Case(
        id="start_for_the_minimum",
        plan=plan((-HOUR, HOUR), reason=BlockReason.MINIMUM),
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.START_MINIMUM,
    ),
    Case(
        id="start_with_too_little_time",
        plan=plan((-HOUR, HOUR), reason=BlockReason.NOT_ENOUGH_TIME),
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.START_NOT_ENOUGH_TIME,
    ),
    Case(
        id="stop_outside_the_plan",
        car=replace(CAR, charging=True),
        status=SmartStatus.WAITING,
        command="stop",
        decision=Decision.STOP_PLAN,
    ),
    Case(
        id="charging_as_planned_is_confirmed",
        plan=CHARGE_NOW,
        car=replace(CAR, charging=True),
        status=SmartStatus.CHARGING,
        session_has={"intent": intent(True, confirmed=True)},
    ),
    Case(
        id="a_commands_own_echo_does_not_confirm",
        session=replace(SESSION, intent=intent(True, attempts=1, last_attempt=NOW - MINUTE)),
        plan=CHARGE_NOW,
        car=replace(CAR, charging=True, reported_after_command=False),
        status=SmartStatus.CHARGING,
        session_has={"intent": intent(True, attempts=1, last_attempt=NOW - MINUTE)},
    ),
    Case(
        id="vehicle_unavailable_sends_nothing",
        plan=CHARGE_NOW,
        car=replace(CAR, available=False),
        status=SmartStatus.CHARGING,
    ),
    Case(
        id="charging_state_unknown_sends_nothing",
        car=replace(CAR, charging=None),
        status=SmartStatus.WAITING,
    ),
    # --- the car's own starts and limits -------------------------------------------------------
    Case(
        id="a_start_within_10_minutes_of_the_plug_in_is_the_cars_own",
        session=replace(
            SESSION,
            plugged_at=NOW - AUTO_START_WINDOW + MINUTE,
            intent=intent(False, confirmed=True),
        ),
        car=replace(CAR, charging=True),
        status=SmartStatus.WAITING,
        command="stop",
        decision=Decision.STOP_AUTO_START,
        hold=Hold.PLAN,
    ),
    Case(
        id="a_start_later_than_10_minutes_after_the_plug_in_is_the_users",
        session=replace(
            SESSION, plugged_at=NOW - AUTO_START_WINDOW, intent=intent(False, confirmed=True)
        ),
        car=replace(CAR, charging=True),
        status=SmartStatus.MANUAL,
        decision=Decision.USER_TOOK_OVER,
        detail="charging_started_elsewhere",
        hold=Hold.USER,
    ),
    Case(
        id="a_stop_by_hand_is_the_users",
        session=replace(SESSION, intent=intent(True, confirmed=True)),
        plan=CHARGE_NOW,
        status=SmartStatus.MANUAL,
        decision=Decision.USER_TOOK_OVER,
        detail="charging_stopped_elsewhere",
        hold=Hold.USER,
    ),
    Case(
        id="the_first_reading_of_a_session_is_not_a_takeover",
        session=replace(SESSION, first_reading=True, intent=intent(False, confirmed=True)),
        car=replace(CAR, charging=True),
        status=SmartStatus.WAITING,
        command="stop",
        decision=Decision.STOP_PLAN,
    ),
    Case(
        id="the_users_hold_sends_nothing",
        session=replace(SESSION, hold=Hold.USER),
        plan=CHARGE_NOW,
        status=SmartStatus.MANUAL,
        hold=Hold.USER,
    ),
    Case(
        id="a_target_at_the_cars_own_limit_is_left_to_the_car",
        settings=replace(MANAGED, target=80),
        car=replace(CAR, charging=True, soc=80.0, charge_limit=80),
        plan=NOTHING,
        status=SmartStatus.TARGET_REACHED,
    ),
    Case(
        id="a_target_below_the_cars_limit_is_stopped",
        car=replace(CAR, charging=True, soc=80.0, charge_limit=90),
        plan=NOTHING,
        status=SmartStatus.TARGET_REACHED,
        command="stop",
        decision=Decision.STOP_TARGET,
        session_has={"target_reached": True},
    ),
    Case(
        id="a_lower_target_accepted_below_the_cars_limit_is_stopped",
        settings=replace(MANAGED, target=90),
        session=replace(SESSION, accepted_target=70),
        car=replace(CAR, charging=True, soc=70.0, charge_limit=90),
        plan=NOTHING,
        status=SmartStatus.TARGET_REACHED,
        command="stop",
        decision=Decision.STOP_TARGET,
    ),
    Case(
        id="a_lower_target_accepted_at_the_cars_limit_is_left_to_the_car",
        settings=replace(MANAGED, target=90),
        session=replace(SESSION, accepted_target=85),
        car=replace(CAR, charging=True, soc=80.0, charge_limit=80),
        plan=NOTHING,
        status=SmartStatus.TARGET_REACHED,
    ),
    Case(
        id="the_car_full_below_the_target",
        car=replace(CAR, fully_charged=True, soc=70.0),
        plan=CHARGE_NOW,
        status=SmartStatus.TARGET_REACHED,
    ),
    Case(id="nothing_to_charge", plan=NOTHING, status=SmartStatus.TARGET_REACHED),
    Case(
        id="no_top_up_for_a_percent_or_two_once_reached",
        session=replace(SESSION, target_reached=True),
        car=replace(CAR, soc=78.0),
        plan=NOTHING,
        status=SmartStatus.TARGET_REACHED,
    ),
    # --- opportunity charging: above the target at a cheap price ---------------------------------
    Case(
        id="a_cheap_price_starts_charging_above_the_target",
        session=replace(SESSION, target_reached=True),
        car=replace(CAR, soc=80.0),
        plan=plan((-HOUR, HOUR), reason=BlockReason.OPPORTUNITY),
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.START_OPPORTUNITY,
    ),
    Case(
        id="the_cheap_price_over_stops_at_the_level_reached",
        session=replace(SESSION, target_reached=True, intent=intent(True, confirmed=True)),
        car=replace(CAR, soc=85.0, charging=True),
        plan=plan((2 * HOUR, 3 * HOUR), reason=BlockReason.OPPORTUNITY),
        status=SmartStatus.TARGET_REACHED,
        command="stop",
        decision=Decision.STOP_TARGET,
    ),
    Case(
        id="a_cheap_price_with_the_car_full_is_the_target_reached",
        session=replace(SESSION, target_reached=True),
        car=replace(CAR, soc=90.0, fully_charged=True),
        plan=plan((-HOUR, HOUR), reason=BlockReason.OPPORTUNITY),
        status=SmartStatus.TARGET_REACHED,
    ),
    # --- Start charging now ---------------------------------------------------------------------
    Case(
        id="override_starts_whatever_the_plan",
        session=replace(SESSION, hold=Hold.OVERRIDE),
        status=SmartStatus.OVERRIDE,
        command="start",
        decision=Decision.START_OVERRIDE,
        hold=Hold.OVERRIDE,
    ),
    Case(
        id="override_ends_at_the_target",
        session=replace(SESSION, hold=Hold.OVERRIDE),
        car=replace(CAR, soc=80.0),
        plan=NOTHING,
        status=SmartStatus.TARGET_REACHED,
        hold=Hold.PLAN,
    ),
    # --- commands that do not take ---------------------------------------------------------------
    Case(
        id="a_command_with_no_effect_is_retried_once",
        session=replace(SESSION, intent=intent(True, attempts=1, last_attempt=NOW - RETRY_AFTER)),
        plan=CHARGE_NOW,
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.RETRY_START,
        session_has={"intent": intent(True, attempts=2, last_attempt=NOW)},
    ),
    Case(
        id="the_retry_waits_its_time",
        session=replace(SESSION, intent=intent(True, attempts=1, last_attempt=NOW - MINUTE)),
        plan=CHARGE_NOW,
        status=SmartStatus.WAITING,
    ),
    Case(
        id="a_stop_with_no_effect_is_retried_once",
        session=replace(SESSION, intent=intent(False, attempts=1, last_attempt=NOW - RETRY_AFTER)),
        car=replace(CAR, charging=True),
        status=SmartStatus.WAITING,
        command="stop",
        decision=Decision.RETRY_STOP,
    ),
    Case(
        id="the_retry_gets_its_time_before_it_counts_as_failed",
        session=replace(
            SESSION, intent=intent(True, attempts=2, last_attempt=NOW - timedelta(seconds=30))
        ),
        plan=CHARGE_NOW,
        status=SmartStatus.WAITING,
    ),
    Case(
        id="then_reported_as_failed",
        session=replace(SESSION, intent=intent(True, attempts=2, last_attempt=NOW - RETRY_AFTER)),
        plan=CHARGE_NOW,
        status=SmartStatus.START_FAILED,
        decision=Decision.START_FAILED,
        detail="no_effect",
        problem=Problem.NO_EFFECT,
        session_has={
            "intent": intent(True, attempts=2, last_attempt=NOW - RETRY_AFTER, failed=True)
        },
    ),
    Case(
        id="a_stop_with_no_effect_after_its_retry_is_reported_as_failed",
        session=replace(SESSION, intent=intent(False, attempts=2, last_attempt=NOW - RETRY_AFTER)),
        car=replace(CAR, charging=True),
        status=SmartStatus.STOP_FAILED,
        decision=Decision.STOP_FAILED,
        detail="no_effect",
        problem=Problem.NO_EFFECT,
        session_has={
            "intent": intent(False, attempts=2, last_attempt=NOW - RETRY_AFTER, failed=True)
        },
    ),
    Case(
        id="a_failed_stop_stays_failed",
        session=replace(SESSION, intent=intent(False, attempts=2, failed=True)),
        car=replace(CAR, charging=True),
        status=SmartStatus.STOP_FAILED,
    ),
    Case(
        id="a_new_intent_starts_afresh",
        session=replace(SESSION, intent=intent(False, attempts=2, failed=True)),
        plan=CHARGE_NOW,
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.START_PLAN,
        session_has={"intent": intent(True, attempts=1, last_attempt=NOW)},
    ),
    # --- solar surplus ------------------------------------------------------------------------
    Case(
        id="solar_surplus_starts_outside_the_plan",
        solar=True,
        status=SmartStatus.SOLAR_CHARGING,
        command="start",
        decision=Decision.START_SOLAR,
    ),
    Case(
        id="charging_on_solar_surplus",
        session=replace(SESSION, intent=intent(True, attempts=1, confirmed=True)),
        car=replace(CAR, charging=True),
        solar=True,
        status=SmartStatus.SOLAR_CHARGING,
    ),
    Case(id="waiting_for_sun", solar=False, status=SmartStatus.WAITING_FOR_SUN),
    Case(
        id="the_surplus_ended_outside_the_plan",
        session=replace(SESSION, intent=intent(True, attempts=1, confirmed=True)),
        car=replace(CAR, charging=True),
        solar=False,
        status=SmartStatus.WAITING_FOR_SUN,
        command="stop",
        decision=Decision.STOP_SOLAR,
    ),
    Case(
        id="the_plan_charges_without_sun",
        plan=CHARGE_NOW,
        solar=False,
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.START_PLAN,
    ),
    Case(
        id="the_sun_does_not_charge_past_the_target",
        car=replace(CAR, soc=90.0),
        plan=NOTHING,
        solar=True,
        status=SmartStatus.TARGET_REACHED,
    ),
    Case(
        id="at_the_target_a_solar_charge_stops_as_at_the_target",
        session=replace(SESSION, intent=intent(True, attempts=1, confirmed=True)),
        car=replace(CAR, soc=80.0, charge_limit=100, charging=True),
        plan=NOTHING,
        solar=True,
        status=SmartStatus.TARGET_REACHED,
        command="stop",
        decision=Decision.STOP_TARGET,
    ),
    # --- a shared charger or circuit ----------------------------------------------------------
    Case(
        id="the_plan_waits_for_the_other_car",
        plan=CHARGE_NOW,
        shared=SharedTurn(occupied_by="Model S"),
        status=SmartStatus.WAITING_FOR_OTHER_CAR,
        waiting_for="Model S",
        held_back=True,
        session_has={"intent": intent(False, confirmed=True)},
    ),
    Case(
        id="charging_stops_for_the_other_car",
        session=replace(SESSION, intent=intent(True, attempts=1, confirmed=True)),
        car=replace(CAR, charging=True),
        plan=CHARGE_NOW,
        shared=SharedTurn(occupied_by="Model S"),
        status=SmartStatus.WAITING_FOR_OTHER_CAR,
        command="stop",
        decision=Decision.STOP_FOR_OTHER_CAR,
        detail="Model S",
        waiting_for="Model S",
        held_back=True,
    ),
    Case(
        id="start_charging_now_waits_for_the_other_car_too",
        session=replace(SESSION, hold=Hold.OVERRIDE),
        shared=SharedTurn(occupied_by="Model S"),
        status=SmartStatus.WAITING_FOR_OTHER_CAR,
        hold=Hold.OVERRIDE,
        waiting_for="Model S",
        held_back=True,
    ),
    Case(
        id="solar_surplus_waits_for_the_other_car",
        solar=True,
        shared=SharedTurn(occupied_by="Model S"),
        status=SmartStatus.WAITING_FOR_OTHER_CAR,
        waiting_for="Model S",
        held_back=True,
    ),
    Case(
        id="not_charging_now_anyway_is_plain_waiting",
        shared=SharedTurn(occupied_by="Model S"),
        status=SmartStatus.WAITING,
    ),
    Case(
        id="the_joint_plan_gave_now_to_the_other_car",
        shared=SharedTurn(planned_for="Model S"),
        status=SmartStatus.WAITING_FOR_OTHER_CAR,
        waiting_for="Model S",
    ),
    Case(
        id="charging_stops_when_the_joint_plan_gives_now_away",
        session=replace(SESSION, intent=intent(True, attempts=1, confirmed=True)),
        car=replace(CAR, charging=True),
        shared=SharedTurn(planned_for="Model S"),
        status=SmartStatus.WAITING_FOR_OTHER_CAR,
        command="stop",
        decision=Decision.STOP_FOR_OTHER_CAR,
        detail="Model S",
        waiting_for="Model S",
    ),
    Case(
        id="the_users_charging_is_left_alone",
        session=replace(SESSION, hold=Hold.USER),
        car=replace(CAR, charging=True),
        plan=CHARGE_NOW,
        shared=SharedTurn(occupied_by="Model S"),
        status=SmartStatus.MANUAL,
    ),
    Case(
        id="the_other_car_made_room",
        session=replace(SESSION, intent=intent(False, confirmed=True)),
        plan=CHARGE_NOW,
        shared=SharedTurn(),
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.START_PLAN,
    ),
    # --- the guard against commands back and forth --------------------------------------------
    Case(
        id="a_seventh_command_in_half_an_hour_is_not_sent",
        session=replace(
            SESSION, recent_commands=tuple(NOW - minutes * MINUTE for minutes in range(0, 30, 5))
        ),
        plan=CHARGE_NOW,
        status=SmartStatus.START_FAILED,
        decision=Decision.START_FAILED,
        detail="too_many_commands",
        problem=Problem.TOO_MANY_COMMANDS,
    ),
    Case(
        id="commands_older_than_half_an_hour_do_not_count",
        session=replace(
            SESSION, recent_commands=tuple(NOW - minutes * MINUTE for minutes in range(6, 36, 5))
        ),
        plan=CHARGE_NOW,
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.START_PLAN,
    ),
    Case(
        id="a_site_limit_stop_is_always_sent",
        session=replace(
            SESSION,
            intent=intent(True, attempts=1, confirmed=True),
            recent_commands=tuple(NOW - minutes * MINUTE for minutes in range(0, 30, 5)),
        ),
        car=replace(CAR, charging=True),
        plan=CHARGE_NOW,
        at_limit=True,
        status=SmartStatus.HOUSE_AT_LIMIT,
        command="stop",
        decision=Decision.STOP_HOUSE_AT_LIMIT,
    ),
    # --- the site limit -----------------------------------------------------------------------
    Case(
        id="the_house_at_its_limit_pauses_the_plan",
        session=replace(SESSION, intent=intent(True, attempts=1, confirmed=True)),
        car=replace(CAR, charging=True),
        plan=CHARGE_NOW,
        at_limit=True,
        status=SmartStatus.HOUSE_AT_LIMIT,
        command="stop",
        decision=Decision.STOP_HOUSE_AT_LIMIT,
    ),
    Case(
        id="the_house_at_its_limit_pauses_start_charging_now",
        session=replace(SESSION, hold=Hold.OVERRIDE, intent=intent(True, confirmed=True)),
        car=replace(CAR, charging=True),
        at_limit=True,
        status=SmartStatus.HOUSE_AT_LIMIT,
        command="stop",
        decision=Decision.STOP_HOUSE_AT_LIMIT,
        hold=Hold.OVERRIDE,
    ),
    Case(
        id="paused_at_the_limit_no_start",
        session=replace(SESSION, intent=intent(False, attempts=1, confirmed=True)),
        plan=CHARGE_NOW,
        at_limit=True,
        status=SmartStatus.HOUSE_AT_LIMIT,
    ),
    Case(
        id="room_again_resumes_the_plan",
        session=replace(SESSION, intent=intent(False, attempts=1, confirmed=True)),
        plan=CHARGE_NOW,
        status=SmartStatus.CHARGING,
        command="start",
        decision=Decision.START_PLAN,
    ),
    Case(
        id="the_limit_does_not_matter_while_nothing_would_charge",
        at_limit=True,
        status=SmartStatus.WAITING,
    ),
    Case(
        id="the_users_own_charging_is_left_alone_at_the_limit",
        session=replace(SESSION, hold=Hold.USER),
        car=replace(CAR, charging=True),
        plan=CHARGE_NOW,
        at_limit=True,
        status=SmartStatus.MANUAL,
    ),
    Case(
        id="a_solar_charge_pauses_at_the_limit_too",
        session=replace(SESSION, intent=intent(True, attempts=1, confirmed=True)),
        car=replace(CAR, charging=True),
        solar=True,
        at_limit=True,
        status=SmartStatus.HOUSE_AT_LIMIT,
        command="stop",
        decision=Decision.STOP_HOUSE_AT_LIMIT,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_decide(case: Case) -> None:
    """Each rule of the policy."""
    step = decide(
        case.session,
        case.car,
        case.plan,
        case.settings,
        NOW,
        solar=case.solar,
        house_at_limit=case.at_limit,
        shared=case.shared,
    )
    assert (step.status, step.command, step.decision, step.detail, step.problem) == (
        case.status,
        case.command,
        case.decision,
        case.detail,
        case.problem,
    )
    assert (step.waiting_for, step.held_back) == (case.waiting_for, case.held_back)
    if case.hold is not None:
        assert step.session.hold is case.hold
    for name, value in case.session_has.items():
        assert getattr(step.session, name) == value, name


def test_every_status_has_a_case() -> None:
    """The table covers every status the policy can produce."""
    assert {case.status for case in CASES} == set(SmartStatus)


def test_every_decision_has_a_case() -> None:
    """The table covers every decision `decide` logs.

    Not `decide`'s: TARGET_REACHED comes from `after_command` (a start refused as fully charged),
    WAIT_FOR_OTHER_CAR is the manager's log line for a step's `waiting_for`.
    """
    not_decides = {Decision.TARGET_REACHED, Decision.WAIT_FOR_OTHER_CAR}
    assert {case.decision for case in CASES} - {None} == set(Decision) - not_decides


def test_a_plan_is_asked_for_only_when_one_can_be_made() -> None:
    """No plan without management, plug, home or level; a reached target is planned as met."""
    assert planning_level(SESSION, CAR, MANAGED, NOW) == (50.0, 80)
    assert planning_level(SESSION, CAR, SmartSettings(), NOW) is None
    assert planning_level(SESSION, replace(CAR, plugged_in=None), MANAGED, NOW) is None
    assert planning_level(SESSION, replace(CAR, at_home=False), MANAGED, NOW) is None
    assert planning_level(SESSION, replace(CAR, soc=None), MANAGED, NOW) is None
    reached = replace(SESSION, target_reached=True)
    assert planning_level(reached, replace(CAR, soc=78.0), MANAGED, NOW) == (80.0, 80)
    assert planning_level(reached, replace(CAR, soc=76.0), MANAGED, NOW) == (76.0, 80)
    # A new plug-in forgets the target reached in the session before.
    unplugged = replace(reached, plugged=False)
    assert planning_level(unplugged, replace(CAR, soc=78.0), MANAGED, NOW) == (78.0, 80)
    # The car's own limit below the target is the target.
    assert planning_level(SESSION, replace(CAR, charge_limit=70), MANAGED, NOW) == (50.0, 70)


def _start() -> Step:
    return decide(SESSION, CAR, CHARGE_NOW, MANAGED, NOW)


def test_a_command_carried_out_keeps_the_step() -> None:
    """Sent and accepted: the step stands as decided."""
    step = _start()
    assert after_command(step, None) == step


def test_fully_charged_refusal_is_the_target_reached() -> None:
    """The car refuses a start because it is full: nothing failed, the target is reached."""
    step = after_command(_start(), Refusal.FULLY_CHARGED)
    assert (step.status, step.decision, step.detail) == (
        SmartStatus.TARGET_REACHED,
        Decision.TARGET_REACHED,
        "fully_charged",
    )
    assert step.session.target_reached


def test_a_refused_command_is_retried_then_reported() -> None:
    """The first refusal waits for the retry; the second is reported with its reason."""
    first = after_command(_start(), Refusal.VEHICLE_ASLEEP)
    assert (first.status, first.decision, first.detail) == (
        SmartStatus.WAITING,
        Decision.START_PLAN,
        "failed: vehicle_asleep",
    )
    assert retry_at(first.session) == NOW + RETRY_AFTER
    retry = decide(first.session, CAR, CHARGE_NOW, MANAGED, NOW + RETRY_AFTER)
    assert retry.decision is Decision.RETRY_START
    second = after_command(retry, Refusal.VEHICLE_ASLEEP)
    assert (second.status, second.decision, second.detail) == (
        SmartStatus.START_FAILED,
        Decision.START_FAILED,
        "vehicle_asleep",
    )
    assert second.session.intent is not None
    assert second.session.intent.failed
    assert retry_at(second.session) is None


def test_user_took_over_holds_until_unplugged() -> None:
    """A start or stop by hand: the user's hold, the plan sends nothing."""
    session = user_took_over(SESSION)
    assert session.hold is Hold.USER
    assert decide(session, CAR, CHARGE_NOW, MANAGED, NOW).status is SmartStatus.MANUAL


@pytest.mark.parametrize(
    ("reachable", "accepted"), [(64, 64), (3, 10), (100, 100)], ids=["reachable", "low", "full"]
)
def test_accept_less_is_this_sessions_target(reachable: int, accepted: int) -> None:
    """What can be reached, within the target number's range, is planned for this session."""
    session = accept_less(SESSION, reachable)
    assert session.accepted_target == accepted
    target = min(accepted, 80)  # (never above the target set)
    assert planning_level(session, CAR, MANAGED, NOW) == (min(50.0, target), target)
    # A target set, or management turned on, replaces it; other settings keep it.
    assert settings_changed(session, enabling=False).accepted_target == accepted
    assert settings_changed(session, enabling=False, new_target=True).accepted_target is None
    assert settings_changed(session, enabling=True).accepted_target is None
    # A new plug-in is a new session.
    replugged = decide(replace(session, plugged=False), CAR, LATER, MANAGED, NOW).session
    assert replugged.accepted_target is None


def test_start_now_clears_a_failure() -> None:
    """Start charging now overrides the plan and gives a failed start another go."""
    failed = replace(SESSION, intent=intent(True, attempts=2, failed=True))
    session = start_now(failed)
    assert session.hold is Hold.OVERRIDE
    assert session.intent is None
    step = decide(session, CAR, LATER, MANAGED, NOW)
    assert (step.command, step.decision) == ("start", Decision.START_OVERRIDE)


def test_enabling_takes_charge_of_what_the_car_does() -> None:
    """Turning management on drops the holds and looks afresh; other changes only the target."""
    session = replace(
        SESSION, hold=Hold.USER, target_reached=True, intent=intent(True, failed=True)
    )
    enabled = settings_changed(session, enabling=True)
    assert (enabled.hold, enabled.first_reading, enabled.intent, enabled.target_reached) == (
        Hold.PLAN,
        True,
        None,
        False,
    )
    changed = settings_changed(session, enabling=False)
    assert changed == replace(session, target_reached=False)


@pytest.mark.parametrize(
    ("refusal", "problem"),
    [
        (Refusal.VEHICLE_ASLEEP, Problem.ASLEEP),
        (Refusal.VEHICLE_UNREACHABLE, Problem.UNREACHABLE),
        (Refusal.REMOTE_ACCESS_DISABLED, Problem.UNREACHABLE),
        (Refusal.VIRTUAL_KEY_MISSING, Problem.NO_KEY),
        (Refusal.PLUG_NOT_CONNECTED, Problem.UNPLUGGED),
        (Refusal.RATE_LIMITED, Problem.RATE_LIMITED),
        (Refusal.BILLING_LIMIT, Problem.RATE_LIMITED),
        (Refusal.COMMAND_FAILED, Problem.REFUSED),
        (None, Problem.NO_EFFECT),
    ],
    ids=lambda value: getattr(value, "value", None),
)
def test_problem_cause(refusal: Refusal | None, problem: Problem) -> None:
    """The watchdog's typed cause: the refusal's reason; accepted without effect, no effect."""
    assert problem_cause(refusal) is problem


def test_a_refused_retry_is_a_problem_with_its_cause() -> None:
    """The second refusal gives up, with the refusal's cause; the first only shows it."""
    first = decide(SESSION, CAR, CHARGE_NOW, MANAGED, NOW)
    assert after_command(first, Refusal.VEHICLE_ASLEEP).problem is None
    retry = decide(
        replace(SESSION, intent=intent(True, attempts=1, last_attempt=NOW - RETRY_AFTER)),
        CAR,
        CHARGE_NOW,
        MANAGED,
        NOW,
    )
    given_up = after_command(retry, Refusal.VIRTUAL_KEY_MISSING)
    assert (given_up.status, given_up.problem) == (SmartStatus.START_FAILED, Problem.NO_KEY)
    assert not problem_solved(given_up)


@pytest.mark.parametrize(
    ("session", "car", "solved"),
    [
        (replace(SESSION, intent=intent(True, attempts=2, failed=True)), CAR, False),
        (
            replace(SESSION, intent=intent(True, attempts=2, failed=True)),
            replace(CAR, charging=True),
            True,
        ),
        (
            replace(SESSION, intent=intent(True, attempts=2, failed=True)),
            replace(CAR, plugged_in=False),
            True,
        ),
        (replace(SESSION, intent=intent(True, attempts=1, last_attempt=NOW)), CAR, False),
        (
            replace(SESSION, hold=Hold.USER, intent=intent(True, attempts=2, failed=True)),
            CAR,
            True,
        ),
    ],
    ids=[
        "still_not_charging",
        "charges_as_planned",
        "unplugged",
        "command_unconfirmed",
        "left_to_the_user",
    ],
)
def test_problem_solved(session: Session, car: Car, solved: bool) -> None:
    """The repair clears once the car does as planned (or the session ends)."""
    assert problem_solved(decide(session, car, CHARGE_NOW, MANAGED, NOW)) is solved


SHORT = replace(CHARGE_NOW, reaches_target=False)


@pytest.mark.parametrize(
    ("session", "car", "the_plan", "soc", "deadline", "reachable"),
    [
        (SESSION, CAR, SHORT, 50.0, NOW + HOUR, 60),
        (SESSION, CAR, CHARGE_NOW, 50.0, NOW + HOUR, None),
        (SESSION, CAR, SHORT, 50.0, NOW + 4 * HOUR, None),  # the time suffices after all
        (SESSION, CAR, SHORT, None, NOW + HOUR, None),
        (SESSION, CAR, SHORT, 50.0, None, None),
        (ignore_risk(SESSION), CAR, SHORT, 50.0, NOW + HOUR, None),
        (SESSION, replace(CAR, at_home=False), SHORT, 50.0, NOW + HOUR, None),
        (replace(SESSION, hold=Hold.USER), CAR, SHORT, 50.0, NOW + HOUR, None),
        (SESSION, CAR, None, 50.0, NOW + HOUR, None),
        (SESSION, CAR, SHORT, 50.0, NOW - HOUR, 50),  # past the ready-by time
        # The maximum price leaves 1.5 h of the 3 the time allows: 65 %.
        (SESSION, CAR, replace(SHORT, capped_hours=1.5), 50.0, NOW + 4 * HOUR, 65),
        (SESSION, CAR, replace(SHORT, capped_hours=0.0), 50.0, NOW + 4 * HOUR, 50),
    ],
    ids=[
        "falls_short",
        "plan_reaches_the_target",
        "enough_time",
        "level_unknown",
        "no_deadline",
        "ignored_this_time",
        "away",
        "left_to_the_user",
        "no_plan",
        "deadline_passed",
        "capped_by_the_maximum_price",
        "nothing_within_the_maximum_price",
    ],
)
def test_plan_at_risk(
    *,
    session: Session,
    car: Car,
    the_plan: ChargePlan | None,
    soc: float | None,
    deadline: datetime | None,
    reachable: int | None,
) -> None:
    """At risk: the plan falls short and, at the charge speed, the target is out of reach."""
    step = decide(session, car, the_plan, MANAGED, NOW)
    assert (
        plan_at_risk(
            step,
            the_plan,
            soc=soc,
            target=80,
            percent_per_hour=10.0,
            now=NOW,
            deadline=deadline,
        )
        == reachable
    )


def test_ignoring_the_risk_ends_with_the_session() -> None:
    """Ignore this time: until the car is unplugged and plugged in again."""
    ignored = ignore_risk(SESSION)
    assert ignored.risk_ignored
    unplugged_step = decide(ignored, replace(CAR, plugged_in=False), None, MANAGED, NOW)
    replugged = decide(unplugged_step.session, CAR, SHORT, MANAGED, NOW)
    assert not replugged.session.risk_ignored


@pytest.mark.parametrize(
    ("level", "charge_limit", "expected"),
    [(90, 100, 90), (90, 85, 85), (100, None, 100), (50, 80, 50)],
    ids=["own_level", "never_above_the_cars_limit", "limit_unknown", "default"],
)
def test_opportunity_level(level: int, charge_limit: int | None, expected: int) -> None:
    """Opportunity charging goes up to its own level, never above the car's limit."""
    settings = replace(MANAGED, opportunity_level=level)
    assert opportunity_level(settings, charge_limit) == expected


def test_threshold_settings_survive_storage() -> None:
    """The thresholds are stored; a maximum price gone bad is no maximum."""
    settings = replace(
        MANAGED, opportunity_level=95, opportunity_price=-0.5, opportunity_share=25, max_price=0.25
    )
    assert SmartSettings.from_dict(settings.as_dict()) == settings
    assert SmartSettings.from_dict({**settings.as_dict(), "max_price": "x"}).max_price is None
    assert SmartSettings.from_dict({}).opportunity_level == 50
