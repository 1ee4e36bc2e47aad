"""The planner's price thresholds: opportunity charging above the target, a maximum price."""

from __future__ import annotations

import pytest

from custom_components.flexcharging.planner import EMPTY_PLAN, BlockReason, plan_charging

from .test_planner import PROFILE, ask, at, slots, spans

CHEAPEST = BlockReason.CHEAPEST
MINIMUM = BlockReason.MINIMUM
OPPORTUNITY = BlockReason.OPPORTUNITY
# PROFILE's cheapest hours: 04:00 (10), 05:00 (11), 03:00 (12), 14:00 (13), 13:00 (14).
PRICES = slots(PROFILE)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"opportunity_level": 90.0, "opportunity_price": 13.0},
            [(at(3), at(6), CHEAPEST), (at(14), at(15), OPPORTUNITY)],
            id="a cheap hour left: above the target",
        ),
        pytest.param(
            {"opportunity_level": 90.0, "opportunity_price": 12.5},
            [(at(3), at(6), CHEAPEST)],
            id="no cheap hour left",
        ),
        pytest.param(
            {"opportunity_level": 100.0, "opportunity_price": 14.0},
            [(at(3), at(6), CHEAPEST), (at(13), at(15), OPPORTUNITY)],
            id="as many cheap hours as there are",
        ),
        pytest.param(
            {"opportunity_level": 80.0, "opportunity_price": 50.0},
            [(at(3), at(6), CHEAPEST)],
            id="level at the target: none",
        ),
        pytest.param(
            {"opportunity_level": 90.0},
            [(at(3), at(6), CHEAPEST)],
            id="no threshold, no negative price: none",
        ),
        pytest.param(
            {"soc": 80.0, "opportunity_level": 100.0, "opportunity_price": 13.0},
            [(at(4), at(6), OPPORTUNITY)],
            id="target reached: the cheapest cheap hours",
        ),
        pytest.param(
            {"soc": 80.0, "level_now": 85.0, "opportunity_level": 90.0, "opportunity_price": 13.0},
            [(at(4), at(4, 30), OPPORTUNITY)],
            id="the level above the target counts",
        ),
    ],
)
def test_opportunity_charging(changes: dict[str, float], expected: list[object]) -> None:
    """Above the target only in time at or below the threshold, cheapest first."""
    plan = plan_charging(ask(**changes), PRICES)
    assert spans(plan) == expected
    assert plan.reaches_target


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        # 10 % of 24 h: the 2.4 cheapest hours are 04:00, 05:00 and 03:00 (bound 12), all
        # taken by the target: nothing left.
        pytest.param(0.1, [(at(3), at(6), CHEAPEST)], id="the target took them"),
        # 20 %: 4.8 h, bound 14: 14:00 and 13:00 are left for opportunity.
        pytest.param(
            0.2, [(at(3), at(6), CHEAPEST), (at(13), at(15), OPPORTUNITY)], id="cheapest fifth"
        ),
        pytest.param(0.0, [(at(3), at(6), CHEAPEST)], id="no share"),
        # All of it: still the cheapest time left, up to the level (2 h).
        pytest.param(
            1.0,
            [(at(3), at(6), CHEAPEST), (at(13), at(15), OPPORTUNITY)],
            id="the whole horizon",
        ),
    ],
)
def test_cheapest_share_of_the_horizon(share: float, expected: list[object]) -> None:
    """A relative threshold: the price that bounds the cheapest share of the known time."""
    request = ask(opportunity_level=100.0, opportunity_share=share)
    assert spans(plan_charging(request, PRICES)) == expected


def test_cheapest_share_ignores_unknown_time() -> None:
    """The share is of the known prices: 50 % of 12 known hours is 6 (bound 16)."""
    request = ask(opportunity_level=90.0, opportunity_share=0.5)
    plan = plan_charging(request, slots(PROFILE[:12]))
    # 15 at 02:00 is the cheapest left; the block takes the reason of its first hour.
    assert spans(plan) == [(at(2), at(6), OPPORTUNITY)]


def test_negative_prices_always_count() -> None:
    """A negative price is opportunity time without a threshold; the cost goes down."""
    prices = list(PROFILE)
    prices[20] = -5
    plan = plan_charging(ask(soc=80.0, opportunity_level=90.0), slots(prices))
    assert spans(plan) == [(at(20), at(21), OPPORTUNITY)]
    assert plan.cost == pytest.approx(-25.0)  # 5 kWh at -5


def test_no_opportunity_and_target_reached_is_the_empty_plan() -> None:
    """Nothing above the target to take: the empty plan, as before."""
    plan = plan_charging(ask(soc=80.0, opportunity_level=80.0, opportunity_price=99.0), PRICES)
    assert plan == EMPTY_PLAN


@pytest.mark.parametrize(
    ("changes", "expected", "reaches", "capped"),
    [
        pytest.param(
            {"max_price": 12.0}, [(at(3), at(6), CHEAPEST)], True, None, id="max not binding"
        ),
        pytest.param(
            {"max_price": 11.0}, [(at(4), at(6), CHEAPEST)], False, 2.0, id="max leaves 2 h"
        ),
        pytest.param({"max_price": 5.0}, [], False, 0.0, id="nothing at or below the maximum"),
        pytest.param(
            {"max_price": 11.0, "minimum": 60.0},
            [(at(0), at(1), MINIMUM), (at(4), at(6), CHEAPEST)],
            True,
            None,
            id="the minimum whatever the price",
        ),
        pytest.param(
            {"max_price": 19.0, "deadline": at(2)},
            [(at(1), at(2), CHEAPEST)],
            False,
            1.0,
            id="too little time: only what is within the maximum",
        ),
        pytest.param(
            {"max_price": 11.0, "opportunity_level": 100.0, "opportunity_price": 13.0},
            [(at(4), at(6), CHEAPEST)],
            False,
            2.0,
            id="short of the target: no opportunity charging",
        ),
    ],
)
def test_maximum_price(
    changes: dict[str, object], expected: list[object], reaches: bool, capped: float | None
) -> None:
    """The planned part never buys above the maximum; what it cannot reach is said."""
    plan = plan_charging(ask(**changes), PRICES)
    assert spans(plan) == expected
    assert plan.reaches_target is reaches
    assert plan.capped_hours == (None if capped is None else pytest.approx(capped))


def test_maximum_price_keeps_unknown_time() -> None:
    """Unknown prices may be within the maximum: used last, and made again when they arrive."""
    plan = plan_charging(ask(max_price=11.0), slots(PROFILE[:12]))
    assert spans(plan) == [(at(4), at(6), CHEAPEST), (at(12), at(13), BlockReason.UNKNOWN_PRICE)]
    assert plan.reaches_target
