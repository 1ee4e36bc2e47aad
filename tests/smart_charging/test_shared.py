"""Cars sharing a charger or circuit, as tables: the ranking, the busy time, the wait (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.flexcharging.planner import (
    BlockReason,
    ChargePlan,
    ChargeRequest,
    PlannedBlock,
    PriceSlot,
    plan_charging,
)
from custom_components.flexcharging.smart_charging.model import Intent, Session, SmartStatus
from custom_components.flexcharging.smart_charging.policy import Step
from custom_components.flexcharging.smart_charging.shared import (
    Busy,
    Load,
    Member,
    Occupant,
    SharedLimit,
    SharedMode,
    busy_times,
    holder_at,
    load_of,
    rank,
    waiting_for,
    wants_charge,
)

NOW = datetime(2026, 6, 10, 22, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CHARGER = SharedLimit(SharedMode.CHARGER)
CIRCUIT_16 = SharedLimit(SharedMode.CIRCUIT, 16.0)
CIRCUIT_22 = SharedLimit(SharedMode.CIRCUIT, 22.0)


def at(hours: float) -> datetime:
    """`hours` after NOW."""
    return NOW + timedelta(hours=hours)


def car(key: str, **fields: object) -> Member:
    """A smart-charged car plugged in at home, departing at 07:00 (9 h), needing 2 h at 11 kW."""
    values: dict[str, object] = {
        "key": key,
        "name": key,
        "plugged": True,
        "charging": False,
        "controlled": True,
        "departure": at(9),
        "need_hours": 2.0,
        "power_kw": 11.0,
    }
    values.update(fields)
    return Member(**values)  # type: ignore[arg-type]


# --- the ranking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        pytest.param(
            [car("a", departure=at(9)), car("b", departure=at(3))], ["b", "a"], id="earlier-first"
        ),
        pytest.param(
            [car("a", need_hours=1.0), car("b", need_hours=3.0)], ["b", "a"], id="needier-first"
        ),
        pytest.param(
            [car("a", departure=at(3)), car("b", below_minimum=True)],
            ["b", "a"],
            id="below-minimum-before-departure",
        ),
        pytest.param(
            [car("a", below_minimum=True), car("b", override=True)],
            ["b", "a"],
            id="start-charging-now-first",
        ),
        pytest.param(
            [car("a", override=True), car("b", controlled=False, charging=True)],
            ["b", "a"],
            id="the-users-charging-before-all",
        ),
        pytest.param(
            [car("a"), car("b", controlled=False)], ["a"], id="not-smart-charged-not-charging"
        ),
        pytest.param([car("a"), car("b", plugged=False)], ["a"], id="unplugged-takes-no-part"),
        pytest.param(
            # Charging now is the arbiter's own doing: ranking on it swapped the two cars at
            # every decision (test_shared_charger's two cars started and stopped in turn).
            [car("a", need_hours=3.0), car("b", charging=True)],
            ["a", "b"],
            id="charging-does-not-go-first-the-greater-need-does",
        ),
        pytest.param(
            [car("a", departure=None, need_hours=9.0), car("b")],
            ["b", "a"],
            id="no-departure-last",
        ),
        pytest.param([car("b"), car("a")], ["a", "b"], id="a-tie-by-key"),
    ],
)
def test_rank(members: list[Member], expected: list[str]) -> None:
    assert [member.key for member in rank(members)] == expected


# --- the time the cars ahead take --------------------------------------------------------------


def load(name: str, *spans: tuple[float, float], power_kw: float | None = 11.0) -> Load:
    """A car ahead charging in the given stretches (hours after NOW)."""
    return Load(name, power_kw, tuple((at(start), at(end)) for start, end in spans))


@pytest.mark.parametrize(
    ("limit", "power_kw", "ahead", "expected"),
    [
        pytest.param(CHARGER, 11.0, [], (), id="alone"),
        pytest.param(
            CHARGER,
            11.0,
            [load("A", (1, 3), (5, 6))],
            (Busy(at(1), at(3), "A"), Busy(at(5), at(6), "A")),
            id="charger-one-at-a-time",
        ),
        pytest.param(
            CHARGER,
            11.0,
            [load("A", (-1, 1)), load("B", (1, 2))],
            (Busy(at(0), at(1), "A"), Busy(at(1), at(2), "B")),
            id="from-now-on-with-each-holder",
        ),
        pytest.param(
            CHARGER,
            11.0,
            [load("A", (0, 2)), load("B", (1, 3))],
            (Busy(at(0), at(2), "A"), Busy(at(2), at(3), "B")),
            id="the-first-ahead-holds",
        ),
        pytest.param(CIRCUIT_22, 11.0, [load("A", (0, 2))], (), id="circuit-room-for-both"),
        pytest.param(
            CIRCUIT_22,
            11.0,
            [load("A", (0, 2)), load("B", (1, 3))],
            (Busy(at(1), at(2), "A"),),
            id="circuit-full-while-two-charge",
        ),
        pytest.param(
            CIRCUIT_16,
            11.0,
            [load("A", (0, 2))],
            (Busy(at(0), at(2), "A"),),
            id="circuit-too-small-for-two",
        ),
        pytest.param(
            CIRCUIT_22,
            None,
            [load("A", (0, 2))],
            (Busy(at(0), at(2), "A"),),
            id="power-not-known-takes-the-circuit",
        ),
        pytest.param(
            CIRCUIT_22,
            11.0,
            [load("A", (0, 2), power_kw=None)],
            (Busy(at(0), at(2), "A"),),
            id="power-ahead-not-known-takes-the-circuit",
        ),
        pytest.param(CIRCUIT_16, 22.0, [], (), id="one-car-alone-always-fits"),
    ],
)
def test_busy_times(
    limit: SharedLimit, power_kw: float | None, ahead: list[Load], expected: tuple[Busy, ...]
) -> None:
    assert busy_times(limit, power_kw, ahead, NOW) == expected


def plan(*spans: tuple[float, float]) -> ChargePlan:
    """A plan charging in the given stretches (hours after NOW)."""
    return ChargePlan(
        blocks=tuple(
            PlannedBlock(
                start=at(start),
                end=at(end),
                reason=BlockReason.CHEAPEST,
                energy_kwh=None,
                cost=None,
            )
            for start, end in spans
        ),
        needed_hours=0.0,
        reaches_target=True,
        cost=None,
        reference_cost=None,
    )


@pytest.mark.parametrize(
    ("member", "plan_", "expected"),
    [
        pytest.param(car("a"), plan((1, 2), (4, 5)), ((at(1), at(2)), (at(4), at(5))), id="plan"),
        pytest.param(car("a", override=True), plan((4, 5)), ((at(0), at(2)),), id="at-once"),
        pytest.param(car("a", override=True, need_hours=0.0), plan(), (), id="at-the-target"),
        pytest.param(car("a", controlled=False, charging=True), plan((4, 5)), (), id="the-users"),
        pytest.param(car("a"), None, (), id="no-plan"),
    ],
)
def test_load_of(member: Member, plan_: ChargePlan | None, expected: tuple[object, ...]) -> None:
    assert load_of(member, plan_, NOW).spans == expected


# --- the moment of a decision ------------------------------------------------------------------


def other(name: str = "B", **fields: object) -> Occupant:
    """Another car: behind, not charging, wanting nothing, 11 kW."""
    values: dict[str, object] = {
        "name": name,
        "power_kw": 11.0,
        "ahead": False,
        "wants": False,
        "charging": False,
    }
    values.update(fields)
    return Occupant(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("limit", "member", "others", "expected"),
    [
        pytest.param(CHARGER, car("a"), [], None, id="alone"),
        pytest.param(CHARGER, car("a"), [other(ahead=True, wants=True)], "B", id="ahead-wants"),
        pytest.param(
            CHARGER,
            car("a"),
            [other(ahead=True, charging=True)],
            "B",
            id="ahead-still-stopping",
        ),
        pytest.param(CHARGER, car("a"), [other(ahead=True)], None, id="ahead-wants-nothing"),
        pytest.param(
            CHARGER, car("a"), [other(charging=True)], "B", id="behind-charging-stops-first"
        ),
        pytest.param(
            CHARGER,
            car("a", charging=True),
            [other(charging=True)],
            None,
            id="charging-ahead-keeps-its-turn",
        ),
        pytest.param(
            CIRCUIT_22, car("a"), [other(ahead=True, wants=True)], None, id="circuit-room"
        ),
        pytest.param(
            CIRCUIT_22,
            car("a"),
            [other("B", ahead=True, wants=True), other("C", charging=True)],
            "B",
            id="circuit-full",
        ),
        pytest.param(
            CIRCUIT_16, car("a"), [other(ahead=True, wants=True)], "B", id="circuit-too-small"
        ),
    ],
)
def test_waiting_for(
    limit: SharedLimit, member: Member, others: list[Occupant], expected: str | None
) -> None:
    assert waiting_for(limit, member, others) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [(at(0), None), (at(1), "A"), (at(2.5), "B"), (at(3), None)],
)
def test_holder_at(moment: datetime, expected: str | None) -> None:
    busy = (Busy(at(1), at(2), "A"), Busy(at(2), at(3), "B"))
    assert holder_at(busy, moment) == expected


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        pytest.param(Step(session=Session(), status=SmartStatus.WAITING), False, id="no-intent"),
        pytest.param(
            Step(session=Session(intent=Intent(charge=True)), status=SmartStatus.CHARGING),
            True,
            id="charging",
        ),
        pytest.param(
            Step(
                session=Session(intent=Intent(charge=True, failed=True)),
                status=SmartStatus.START_FAILED,
            ),
            False,
            id="gave-up",
        ),
        pytest.param(
            Step(
                session=Session(intent=Intent(charge=False)),
                status=SmartStatus.WAITING_FOR_OTHER_CAR,
                waiting_for="B",
                held_back=True,
            ),
            True,
            id="waiting-for-room",
        ),
        pytest.param(
            Step(
                session=Session(intent=Intent(charge=False)),
                status=SmartStatus.WAITING_FOR_OTHER_CAR,
                waiting_for="B",
            ),
            False,
            id="planned-for-later",
        ),
    ],
)
def test_wants_charge(step: Step, expected: bool) -> None:
    assert wants_charge(step) is expected


# --- planned jointly ---------------------------------------------------------------------------

# Night prices: 22:00 .30, then .10 .08 .05 .06 .12 .20 .25 .30 until 07:00.
PRICES = [0.30, 0.10, 0.08, 0.05, 0.06, 0.12, 0.20, 0.25, 0.30]
SLOTS = [PriceSlot(at(i), at(i + 1), price) for i, price in enumerate(PRICES)]


def joint(limit: SharedLimit, members: list[Member]) -> dict[str, ChargePlan]:
    """Each car's plan, in ranking order, around the time the cars ahead take."""
    plans: dict[str, ChargePlan] = {}
    ahead: list[Load] = []
    for member in rank(members):
        busy = busy_times(limit, member.power_kw, ahead, NOW)
        request = ChargeRequest(
            now=NOW,
            deadline=member.departure or at(24),
            soc=50.0,
            target=50.0 + 10.0 * member.need_hours,
            percent_per_hour=10.0,
            busy=tuple((stretch.start, stretch.end) for stretch in busy),
        )
        plans[member.key] = plan_charging(request, SLOTS)
        ahead.append(load_of(member, plans[member.key], NOW))
    return plans


def hours(plan_: ChargePlan) -> list[tuple[float, float]]:
    """The plan's blocks as hours after NOW."""
    return [((block.start - NOW) / HOUR, (block.end - NOW) / HOUR) for block in plan_.blocks]


@pytest.mark.parametrize(
    ("limit", "members", "expected", "reached"),
    [
        pytest.param(
            CHARGER,
            [car("a", need_hours=2.0), car("b", need_hours=3.0)],
            # b needs more: the three cheapest hours; a the next two.
            {"b": [(2.0, 5.0)], "a": [(1.0, 2.0), (5.0, 6.0)]},
            {"a": True, "b": True},
            id="charger-needier-first",
        ),
        pytest.param(
            CHARGER,
            [car("a", need_hours=3.0), car("b", need_hours=2.0, departure=at(4))],
            # b leaves at 02:00: the cheap hours before it; a takes what is left.
            {"b": [(2.0, 4.0)], "a": [(1.0, 2.0), (4.0, 6.0)]},
            {"a": True, "b": True},
            id="charger-earlier-departure-first",
        ),
        pytest.param(
            CIRCUIT_22,
            [car("a", need_hours=2.0), car("b", need_hours=3.0)],
            # 2 × 11 kW fit on 22 kW: each plans as if alone.
            {"b": [(2.0, 5.0)], "a": [(3.0, 5.0)]},
            {"a": True, "b": True},
            id="circuit-with-room",
        ),
        pytest.param(
            CIRCUIT_16,
            [car("a", need_hours=5.0), car("b", need_hours=5.0, departure=at(6))],
            # b first (earlier); a gets 4 free hours of the 5 it needs: the target is at risk.
            {"b": [(1.0, 6.0)], "a": [(0.0, 1.0), (6.0, 10.0)]},
            {"a": False, "b": True},
            id="circuit-too-small-target-at-risk",
        ),
    ],
)
def test_planned_jointly(
    limit: SharedLimit,
    members: list[Member],
    expected: dict[str, list[tuple[float, float]]],
    reached: dict[str, bool],
) -> None:
    plans = joint(limit, members)
    assert {key: hours(value) for key, value in plans.items()} == expected
    assert {key: value.reaches_target for key, value in plans.items()} == reached
    if limit.mode is SharedMode.CHARGER:
        first, second = plans.values()
        for block in first.blocks:
            assert not any(
                block.start < other.end and other.start < block.end for other in second.blocks
            )


def test_a_target_at_risk_says_what_the_shared_time_reaches() -> None:
    """The hours left before the departure bound what can be reached (the at-risk warning)."""
    plans = joint(CIRCUIT_16, [car("a", need_hours=5.0), car("b", need_hours=5.0, departure=at(6))])
    assert plans["a"].capped_hours == pytest.approx(4.0)
    members = [replace(car("a"), need_hours=1.0), car("b", departure=at(6), need_hours=5.0)]
    assert joint(CIRCUIT_16, members)["a"].reaches_target is True
