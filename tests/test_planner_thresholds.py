"""The planner's price thresholds: opportunity charging above the target, a maximum price."""

from __future__ import annotations

import math

from hypothesis import assume, given, settings, strategies as st
import pytest

from custom_components.flexcharging.planner import (
    EMPTY_PLAN,
    BlockReason,
    ChargeRequest,
    plan_charging,
)

from .test_planner import (
    CAPACITY,
    HOUR,
    PROFILE,
    T0,
    UNIT,
    Instance,
    ask,
    at,
    planned_hours,
    slots,
    spans,
    unit_price,
)

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
    assert plan.opportunity_cost == pytest.approx(-25.0)
    assert plan.savings == pytest.approx(0.0)  # nothing to the target: nothing saved on it


def test_savings_leave_opportunity_charging_out() -> None:
    """The extra energy is not compared with charging at once to the target."""
    plain = plan_charging(ask(), PRICES)
    plan = plan_charging(ask(opportunity_level=90.0, opportunity_price=13.0), PRICES)
    assert plan.opportunity_cost == pytest.approx(5 * 13.0)
    assert plain.cost is not None
    assert plan.cost == pytest.approx(plain.cost + 5 * 13.0)
    assert plan.savings == pytest.approx(plain.savings)
    no_capacity = plan_charging(
        ask(opportunity_level=90.0, opportunity_price=13.0, capacity_kwh=None), PRICES
    )
    assert (no_capacity.opportunity_cost, no_capacity.savings) == (None, None)


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


# --- property: with thresholds the plan is still the cheapest --------------------------------------


@st.composite
def threshold_instances(draw: st.DrawFn) -> Instance:
    """Small instances with prices known all the way, a maximum price and opportunity charging."""
    minutes = draw(st.sampled_from([15, 60]))
    count = draw(st.integers(1, 12 if minutes == 60 else 40))
    price = st.integers(-10, 30).map(lambda v: v * 0.5)
    prices = slots(draw(st.lists(price, min_size=count, max_size=count)), minutes=minutes)
    horizon = count * minutes // 5
    now = T0 + draw(st.integers(0, horizon // 2)) * UNIT
    deadline = T0 + horizon * UNIT - draw(st.integers(0, horizon // 4)) * UNIT
    rate = draw(st.sampled_from([4.0, 6.0, 12.0]))
    soc = draw(st.integers(0, 95))
    target = min(soc + draw(st.integers(-2, 20)), 100)
    return Instance(
        prices,
        ChargeRequest(
            now=now,
            deadline=deadline,
            soc=float(soc),
            target=float(target),
            minimum=float(max(soc + draw(st.integers(-10, 5)), 0)),
            percent_per_hour=rate,
            capacity_kwh=CAPACITY,
            max_price=draw(st.none() | price),
            opportunity_level=float(min(max(soc, target) + draw(st.integers(-5, 15)), 100)),
            opportunity_price=draw(st.none() | price),
        ),
    )


@pytest.mark.filterwarnings("ignore:It looks like `register_random`")
@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(threshold_instances())
def test_plan_with_thresholds_is_optimal(instance: Instance) -> None:
    """Against a count over 5-minute units: the target's cheapest affordable time, then the
    cheap time left up to the opportunity level; nothing above the maximum but the minimum."""
    request = instance.request
    unit_percent = request.percent_per_hour * (UNIT / HOUR)
    needed = round(max(request.target - request.soc, 0) / unit_percent)
    forced = min(
        round(max(min(request.minimum, request.target) - request.soc, 0) / unit_percent), needed
    )
    rest = needed - forced
    to_deadline = round((request.deadline - request.now) / UNIT)
    assume(needed <= to_deadline or request.max_price is not None)
    assert request.opportunity_level is not None
    extra = round(
        max(request.opportunity_level - max(request.soc, request.target), 0) / unit_percent
    )
    units = [unit_price(instance.prices, request.now + i * UNIT) for i in range(to_deadline)]
    known = [price for price in units if price is not None]
    assert len(known) == len(units)  # the instances have no gaps
    maximum, threshold = request.max_price, request.opportunity_price
    affordable = sorted(p for p in known[forced:] if maximum is None or p <= maximum)
    cheap = [p for p in affordable if p < 0 or (threshold is not None and p <= threshold)]
    reaches = rest <= len(affordable)
    opportunity = min(extra, len(cheap) - min(rest, len(cheap))) if reaches else 0
    taken = min(rest, len(affordable)) + opportunity

    plan = plan_charging(request, instance.prices)
    unit_energy = unit_percent / 100 * CAPACITY
    assert plan.reaches_target is reaches
    assert planned_hours(plan) == pytest.approx((forced + taken) * UNIT / HOUR, abs=1 / 3600)
    expected = (sum(known[:forced]) + sum(affordable[:taken])) * unit_energy
    assert plan.cost is not None
    assert math.isclose(plan.cost, expected, rel_tol=1e-6, abs_tol=1e-9)
    if not reaches:
        assert plan.capped_hours == pytest.approx((forced + taken) * UNIT / HOUR, abs=1 / 3600)
