"""The planner around time a shared charger or circuit is taken by another car (`busy`)."""

from __future__ import annotations

from datetime import datetime

import pytest

from custom_components.flexcharging.planner import plan_charging
from tests.test_planner import (
    CHEAPEST,
    MINIMUM,
    NOT_ENOUGH,
    PROFILE,
    UNKNOWN,
    ask,
    assert_well_formed,
    at,
    planned_hours,
    slots,
    spans,
)

type Span = tuple[datetime, datetime]


@pytest.mark.parametrize(
    ("busy", "changes", "expected", "reaches", "capped"),
    [
        pytest.param((), {}, [(at(3), at(6), CHEAPEST)], True, None, id="free"),
        pytest.param(
            ((at(3), at(6)),),
            {},
            # The cheap night is taken: the next cheapest hours (15 at 02:00, 14 and 13 after noon).
            [(at(2), at(3), CHEAPEST), (at(13), at(15), CHEAPEST)],
            True,
            None,
            id="cheapest-hours-taken",
        ),
        pytest.param(
            ((at(4), at(5)),),
            {},
            # 04:00 (10) was the cheapest: 05:00 (11), 03:00 (12) and 14:00 (13) instead.
            [(at(3), at(4), CHEAPEST), (at(5), at(6), CHEAPEST), (at(14), at(15), CHEAPEST)],
            True,
            None,
            id="split-around-the-other-car",
        ),
        pytest.param(
            ((at(-2), at(1)),),
            {"minimum": 60.0},
            # Taken since before now: the minimum at the first free moment, then the cheapest.
            [(at(1), at(2), MINIMUM), (at(4), at(6), CHEAPEST)],
            True,
            None,
            id="minimum-once-free",
        ),
        pytest.param(
            ((at(0), at(5)),),
            {"deadline": at(6)},
            # One free hour before the deadline: charging at once from then, past the deadline.
            [(at(5), at(8), NOT_ENOUGH)],
            False,
            1.0,
            id="not-enough-free-time",
        ),
        pytest.param(
            ((at(1), at(5)),),
            {"deadline": at(6), "minimum": 60.0},
            [(at(0), at(1), MINIMUM), (at(5), at(7), NOT_ENOUGH)],
            False,
            2.0,
            id="minimum-then-not-enough",
        ),
        pytest.param(
            ((at(0), at(24)),),
            {},
            # Taken until the deadline: after it, where no price is known.
            [(at(24), at(27), NOT_ENOUGH)],
            False,
            0.0,
            id="taken-all-along",
        ),
        pytest.param(
            ((at(0), at(2)), (at(3), at(4))),
            {"deadline": at(8)},
            [(at(2), at(3), CHEAPEST), (at(4), at(6), CHEAPEST)],
            True,
            None,
            id="two-busy-stretches",
        ),
        pytest.param(
            ((at(5), at(3)),),
            {},
            [(at(3), at(6), CHEAPEST)],
            True,
            None,
            id="reversed-stretch-is-nothing",
        ),
    ],
)
def test_busy_time_is_not_planned(
    busy: tuple[Span, ...],
    changes: dict[str, object],
    expected: list[tuple[datetime, datetime, object]],
    reaches: bool,
    capped: float | None,
) -> None:
    plan = plan_charging(ask(busy=busy, **changes), slots(PROFILE))
    assert spans(plan) == expected
    assert plan.reaches_target is reaches
    assert plan.capped_hours == capped
    assert planned_hours(plan) == pytest.approx(3.0)
    assert_well_formed(plan)
    for block in plan.blocks:
        for start, end in busy:
            assert block.end <= start or block.start >= end or start >= end


def test_busy_time_with_unknown_prices_after_it() -> None:
    """Free time without prices is used last, as without a shared charger."""
    plan = plan_charging(
        ask(busy=((at(0), at(21)), (at(22), at(23))), deadline=at(30)),
        slots([*PROFILE[:23], None]),
    )
    # The known free hours (21:00, 23:00 has no price), then the earliest unknown time.
    assert spans(plan) == [(at(21), at(22), CHEAPEST), (at(23), at(25), UNKNOWN)]
    assert plan.cost is None


def test_reference_cost_charges_at_once_in_the_free_time() -> None:
    """Charging at once (the savings' reference) also waits for the other car."""
    plan = plan_charging(ask(busy=((at(0), at(2)),)), slots(PROFILE))
    # 15 + 12 + 10 at 02:00 .. 05:00, 5 kWh an hour.
    assert plan.reference_cost == pytest.approx(5 * (15 + 12 + 10))
