"""The smart-charging policy: from the session, the car and the plan to what to do next.

Pure and deterministic: no Home Assistant, no I/O, no clock. The manager reads the car and the
prices, asks `decide` for a step, sends the step's command if it has one, tells
`after_command` how that went, and keeps the step's session for next time.

The session's states have names: who holds the car (the plan, "Start charging now", or the
user), and the executor's intent (charge or not, how often it said so, whether the car
confirmed it, whether it gave up).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from ..const import Refusal
from ..planner import BlockReason, ChargePlan
from .estimates import target_for
from .model import (
    REFUSED_PREFIX,
    START_FOR_REASON,
    Decision,
    Hold,
    Intent,
    Problem,
    Session,
    SmartSettings,
    SmartStatus,
)
from .transitions import (
    accept_less,
    found_plugged_in,
    plugged_in,
    settings_changed,
    start_now,
    unplugged,
    user_took_over,
)

__all__ = [  # the transitions are `transitions.py`'s, reached through the policy too
    "Car",
    "SharedTurn",
    "Step",
    "accept_less",
    "after_command",
    "decide",
    "found_plugged_in",
    "observe",
    "planning_level",
    "plugged_in",
    "settings_changed",
    "start_now",
    "unplugged",
    "user_took_over",
]

RETRY_AFTER = timedelta(minutes=2)  # a command that did not take is sent again once, after this
TOP_UP_BELOW = 3.0  # percent below the target that starts a new charge once it was reached
MAX_COMMANDS = 2  # per decision: the command and one retry
# Charging that begins this soon after the plug-in was seen is the car's own start (a report
# may show the plug before the charging), not the user's.
AUTO_START_WINDOW = timedelta(minutes=10)
# A guard against any rule that flips back and forth (it happened: two cars sharing a charger
# once swapped places at every decision): at most this many planned commands in the window;
# the next is not sent and the user is told. A site-limit stop is always sent. Normal use stays
# well below: the sun's minimum times, the site limit's growing resume delay, one retry.
STORM_COMMANDS = 6
STORM_WINDOW = timedelta(minutes=30)

type Command = Literal["start", "stop"]

PROBLEM_FOR_REFUSAL = {
    Refusal.VEHICLE_ASLEEP: Problem.ASLEEP,
    Refusal.VEHICLE_UNREACHABLE: Problem.UNREACHABLE,
    Refusal.REMOTE_ACCESS_DISABLED: Problem.UNREACHABLE,
    Refusal.VIRTUAL_KEY_MISSING: Problem.NO_KEY,
    Refusal.PLUG_NOT_CONNECTED: Problem.UNPLUGGED,
    Refusal.RATE_LIMITED: Problem.RATE_LIMITED,
    Refusal.BILLING_LIMIT: Problem.RATE_LIMITED,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Car:
    """What the policy needs to know about the vehicle (the manager builds it)."""

    available: bool = True  # its data could be read
    plugged_in: bool | None
    charging: bool | None = None
    reported_after_command: bool = True  # the charging state is the car's, not a command's echo
    fully_charged: bool = False  # the car says so (its own limit)
    charge_limit: int | None = None
    at_home: bool = True
    soc: float | None = None  # the estimated level now (estimates.estimated_soc)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What to do now: the new session and status, and a command and decision, if any."""

    session: Session
    status: SmartStatus
    command: Command | None = None
    decision: Decision | None = None  # recorded (logbook, sensor) when set
    detail: str | None = None
    status_if_refused: SmartStatus | None = None  # with a command: the status if it fails
    problem: Problem | None = None  # set once, when the executor gives up (the watchdog)
    waiting_for: str | None = None  # the car that has its turn on a shared charger now
    held_back: bool = False  # it would charge now, but that car still has the charger


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedTurn:
    """Another car's turn on a shared charger or circuit, now (the manager finds it)."""

    occupied_by: str | None = None  # it charges or is about to: this car may not start
    planned_for: str | None = None  # the joint plan gave it now (this car's own would charge)


# --- the decision ------------------------------------------------------------------------------


def observe(session: Session, car: Car, now: datetime) -> Session:
    """The session after what the car's plug shows (unknown: the session goes on)."""
    if car.plugged_in is False:
        return unplugged(session)
    if car.plugged_in and session.plugged is not True:
        return plugged_in(session, now) if session.plugged is False else found_plugged_in(session)
    return session


def planning_level(
    session: Session, car: Car, settings: SmartSettings, now: datetime
) -> tuple[float, int] | None:
    """The level and target to plan for, or None when there is nothing to plan.

    Once the target was reached no top-up is planned for a percent or two below it.
    """
    if not settings.managed or not car.plugged_in or not car.at_home or car.soc is None:
        return None
    session = observe(session, car, now)
    target = target_for(settings, car.charge_limit, session.accepted_target)
    return _level(session, car.soc, target), target


def _level(session: Session, soc: float, target: int) -> float:
    """The level that counts: the target once reached, for a percent or two below it."""
    if soc >= target or (session.target_reached and soc >= target - TOP_UP_BELOW):
        return float(target)
    return soc


def decide(
    session: Session,
    car: Car,
    plan: ChargePlan | None,
    settings: SmartSettings,
    now: datetime,
    *,
    solar: bool | None = None,
    house_at_limit: bool = False,
    shared: SharedTurn | None = None,
) -> Step:
    """What to do now. `plan` is the one made for `planning_level` (None when that is None).

    `solar`: whether the solar controller asks for charging (None: no solar surplus charging);
    it adds charging to the plan's, up to the target. `house_at_limit`: the site limit leaves
    the car too little room; it pauses the plan's and "Start charging now"'s charging alike
    (not the user's own: the user's hold is left alone).
    `shared`: another car's turn on a shared charger or circuit now; this car does not
    charge until it makes room, and says it waits for it.
    """
    if not settings.managed:
        return Step(session=session, status=SmartStatus.OFF)
    if car.plugged_in is None:
        # Not known (an error or a gap in the report): no plan, but the session goes on.
        return Step(session=session, status=SmartStatus.NO_DATA)
    session = observe(session, car, now)
    if not car.plugged_in:
        return Step(session=session, status=SmartStatus.UNPLUGGED)
    if not car.at_home:
        return Step(session=session, status=SmartStatus.AWAY)
    if car.soc is None or plan is None:
        return Step(session=session, status=SmartStatus.NO_DATA)
    target = target_for(settings, car.charge_limit, session.accepted_target)
    if car.soc >= target:
        session = replace(session, target_reached=True)
    target_reached = _level(session, car.soc, target) >= target
    if target_reached and session.hold is Hold.OVERRIDE:
        session = replace(session, hold=Hold.PLAN)
    if session.hold is Hold.USER:
        return Step(session=session, status=SmartStatus.MANUAL)
    return _execute(
        session,
        car,
        plan,
        target,
        now,
        target_reached=target_reached,
        solar=solar,
        at_limit=house_at_limit,
        shared=shared or SharedTurn(),
    )


def _execute(
    session: Session,
    car: Car,
    plan: ChargePlan,
    target: int,
    now: datetime,
    *,
    target_reached: bool,
    solar: bool | None,
    at_limit: bool,
    shared: SharedTurn,
) -> Step:
    planned = session.hold is Hold.OVERRIDE or plan.charging_at(now)
    wish = planned or (bool(solar) and not target_reached)
    at_limit = at_limit and wish
    held_back = wish and shared.occupied_by is not None
    waiting = shared.occupied_by if wish else shared.planned_for
    desired = wish and not (held_back or at_limit)
    intent = session.intent
    if intent is None or intent.charge != desired:
        intent = Intent(charge=desired)
    first_reading = session.first_reading
    session = replace(session, first_reading=False, intent=intent)

    def resting(charging: bool) -> SmartStatus:
        return _resting_status(
            session,
            plan,
            charging=charging,
            target_reached=target_reached,
            solar=None if solar is None else not planned,
            at_limit=at_limit,
            waiting=waiting is not None,
        )

    def step(**fields: Any) -> Step:
        return Step(waiting_for=waiting, held_back=held_back, **fields)

    charging = car.charging
    if not car.available or charging is None:
        return step(session=session, status=resting(desired))
    if desired == charging:
        # Confirmed by the car itself, not by the value a command showed in advance.
        if not intent.attempts or car.reported_after_command:
            session = replace(session, intent=replace(intent, confirmed=True))
        return step(session=session, status=resting(charging))
    if desired and car.fully_charged:
        # The car's own limit is below the target.
        return step(session=session, status=SmartStatus.TARGET_REACHED)
    limit = car.charge_limit
    if target_reached and not desired and limit and target >= limit:
        # The target is the car's own limit: it stops there by itself, exactly (our level is an
        # estimate), and a stop command would cost a request.
        return step(session=session, status=SmartStatus.TARGET_REACHED)
    auto_start = not desired and _soon_after(session.plugged_at, now, AUTO_START_WINDOW)
    if intent.confirmed and not first_reading and not auto_start:
        # The car did as planned and then changed: someone started or stopped it by hand.
        return step(
            session=user_took_over(session),
            status=SmartStatus.MANUAL,
            decision=Decision.USER_TOOK_OVER,
            detail="charging_stopped_elsewhere" if desired else "charging_started_elsewhere",
        )
    failed_status = SmartStatus.START_FAILED if desired else SmartStatus.STOP_FAILED
    if intent.failed:
        return step(session=session, status=failed_status)
    if intent.last_attempt and intent.attempts and now - intent.last_attempt < RETRY_AFTER:
        # The last command (the retry too) gets its time before it counts as without effect.
        return step(session=session, status=resting(charging))
    if intent.attempts >= MAX_COMMANDS:
        return step(
            session=replace(session, intent=replace(intent, failed=True)),
            status=failed_status,
            decision=Decision.START_FAILED if desired else Decision.STOP_FAILED,
            detail="no_effect",
            problem=problem_cause(None),
        )
    recent = tuple(sent for sent in session.recent_commands if now - sent < STORM_WINDOW)
    if len(recent) >= STORM_COMMANDS and not at_limit:
        return step(
            session=replace(session, intent=replace(intent, failed=True), recent_commands=recent),
            status=failed_status,
            decision=Decision.START_FAILED if desired else Decision.STOP_FAILED,
            detail=Problem.TOO_MANY_COMMANDS.value,
            problem=Problem.TOO_MANY_COMMANDS,
        )
    session = replace(session, recent_commands=(*recent, now))
    return step(
        session=replace(
            session, intent=replace(intent, attempts=intent.attempts + 1, last_attempt=now)
        ),
        status=resting(desired),
        command="start" if desired else "stop",
        decision=_command_decision(
            session,
            plan,
            now,
            start=desired,
            target_reached=target_reached,
            solar=None if solar is None else not planned,
            at_limit=at_limit,
            shared=waiting is not None,
        ),
        detail=None if at_limit else waiting,
        status_if_refused=resting(not desired),
    )


def after_command(step: Step, refusal: Refusal | None) -> Step:
    """The step once its command was sent: carried out (`refusal` None) or refused."""
    if step.command is None or refusal is None:
        return step
    start = step.command == "start"
    intent = step.session.intent
    assert intent is not None
    if start and refusal is Refusal.FULLY_CHARGED:
        # The car is at its limit already: the target is reached, nothing failed.
        return replace(
            step,
            session=replace(step.session, target_reached=True),
            status=SmartStatus.TARGET_REACHED,
            decision=Decision.TARGET_REACHED,
            detail=refusal.value,
        )
    if intent.attempts >= MAX_COMMANDS:
        return replace(
            step,
            session=replace(step.session, intent=replace(intent, failed=True)),
            status=SmartStatus.START_FAILED if start else SmartStatus.STOP_FAILED,
            decision=Decision.START_FAILED if start else Decision.STOP_FAILED,
            detail=refusal.value,
            problem=problem_cause(refusal),
        )
    assert step.status_if_refused is not None
    return replace(step, status=step.status_if_refused, detail=f"{REFUSED_PREFIX}{refusal.value}")


def problem_cause(refusal: Refusal | None) -> Problem:
    """Why the commands did not take: the refusal's reason, or none (accepted, no effect).

    What the car shows adds nothing here: a car unplugged, away or unreadable is not sent
    commands (`decide` stops before), so the executor only gives up on one that is plugged
    in at home and read; unplugged and unreachable come as refusals.
    """
    if refusal is None:
        return Problem.NO_EFFECT
    return PROBLEM_FOR_REFUSAL.get(refusal, Problem.REFUSED)


def _command_decision(
    session: Session,
    plan: ChargePlan,
    now: datetime,
    *,
    start: bool,
    target_reached: bool,
    solar: bool | None,
    at_limit: bool = False,
    shared: bool = False,
) -> Decision:
    """`solar`: None without solar charging, else whether the sun (not the plan) decides now.

    `shared`: the car stops for another car of a shared charger or circuit.
    """
    intent = session.intent
    if intent is not None and intent.attempts:
        return Decision.RETRY_START if start else Decision.RETRY_STOP
    if at_limit:
        return Decision.STOP_HOUSE_AT_LIMIT
    if shared:
        return Decision.STOP_FOR_OTHER_CAR
    if start and session.hold is Hold.OVERRIDE:
        return Decision.START_OVERRIDE
    if start and solar:
        return Decision.START_SOLAR
    if start:
        block = plan.current_or_next(now)
        return START_FOR_REASON.get(
            block.reason if block else BlockReason.CHEAPEST, Decision.START_PLAN
        )
    if _soon_after(session.plugged_at, now, AUTO_START_WINDOW):
        return Decision.STOP_AUTO_START
    if target_reached:
        return Decision.STOP_TARGET
    return Decision.STOP_PLAN if solar is None else Decision.STOP_SOLAR


def _resting_status(
    session: Session,
    plan: ChargePlan,
    *,
    charging: bool,
    target_reached: bool,
    solar: bool | None = None,
    at_limit: bool = False,
    waiting: bool = False,
) -> SmartStatus:
    if at_limit:  # paused, or its stop sent and not yet seen
        return SmartStatus.HOUSE_AT_LIMIT
    if waiting and not charging:
        return SmartStatus.WAITING_FOR_OTHER_CAR
    if session.hold is Hold.OVERRIDE:
        return SmartStatus.OVERRIDE
    if charging:
        return SmartStatus.SOLAR_CHARGING if solar else SmartStatus.CHARGING
    if target_reached or (not plan.blocks and solar is None):
        return SmartStatus.TARGET_REACHED
    return SmartStatus.WAITING if solar is None else SmartStatus.WAITING_FOR_SUN


def _soon_after(moment: datetime | None, now: datetime, window: timedelta) -> bool:
    return moment is not None and now - moment < window
