"""A solar forecast for the planner: reading Solcast and `watts` attributes, prices, the bar.

Pure: no Home Assistant, no clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.flexcharging.planner import PriceSlot
from custom_components.flexcharging.smart_charging.solar_forecast import (
    ForecastFormatError,
    following_bar,
    forecast_periods,
    solar_prices,
    sun_bar,
)

T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
HALF = timedelta(minutes=30)
HOUR = timedelta(hours=1)


def at(hours: float) -> datetime:
    """T0 plus some hours."""
    return T0 + timedelta(hours=hours)


def test_solcast_detailed_forecast() -> None:
    """Half-hour periods in kW; the last one as long as the one before."""
    attributes = {
        "detailedForecast": [
            {"period_start": at(0.5).isoformat(), "pv_estimate": 2.0, "pv_estimate10": 1.0},
            {"period_start": at(0).isoformat(), "pv_estimate": 1.5},
            {"period_start": at(1), "pv_estimate": 3.0},
        ]
    }
    assert forecast_periods(attributes) == [
        (at(0), at(0.5), 1.5),
        (at(0.5), at(1), 2.0),
        (at(1), at(1.5), 3.0),
    ]


def test_solcast_hourly_and_watts() -> None:
    """`detailedHourly` (kW), and a `watts` mapping (W) of Open-Meteo Solar Forecast."""
    hourly = {"detailedHourly": [{"period_start": at(0).isoformat(), "pv_estimate": 4.2}]}
    assert forecast_periods(hourly) == [(at(0), at(1), 4.2)]
    watts = {"watts": {at(1).isoformat(): 2500, at(0).isoformat(): 1000}}
    assert forecast_periods(watts) == [(at(0), at(1), 1.0), (at(1), at(2), 2.5)]


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"detailedForecast": []},
        {"watts": {}},
        {"watts": {"noon": 100}},
        {"watts": {"2026-06-10T08:00:00": 100}},  # no time zone
        {"detailedForecast": [{"period_start": None, "pv_estimate": 1.0}]},
        {"detailedForecast": [{"period_start": T0.isoformat(), "pv_estimate": None}]},
        {"detailedForecast": [{"period_start": T0.isoformat()}]},
        {"detailedHourly": [{"pv_estimate": 1.0}]},
        {"detailedHourly": ["08:00 1.0"]},
        {"watts": {T0.isoformat(): "n/a"}},
        {"watts": {T0.isoformat(): [100]}},
        {"watts": {T0.isoformat(): "nan"}},
    ],
    ids=[
        "nothing",
        "empty_list",
        "empty_watts",
        "not_a_time",
        "no_zone",
        "no_start",
        "estimate_none",
        "no_estimate",
        "no_period_start",
        "not_a_mapping",
        "watts_text",
        "watts_list",
        "watts_nan",
    ],
)
def test_unreadable_forecasts(attributes: dict[str, Any]) -> None:
    """No forecast, or one whose times or values cannot be read, is an error (not an empty sky
    nor a KeyError/TypeError the callers do not expect)."""
    with pytest.raises(ForecastFormatError):
        forecast_periods(attributes)


def test_the_sun_is_priced_by_the_share_of_the_car_it_covers() -> None:
    """A 4 kW car: 2.5 kW of production less the house's 0.5 kW covers half of it."""
    grid = [PriceSlot(at(0), at(3), 0.30)]
    periods = [(at(0), at(1), 0.4), (at(1), at(2), 2.5), (at(2), at(3), 9.0)]
    assert solar_prices(grid, periods, car_kw=4.0, feed_in=0.10) == [
        PriceSlot(at(0), at(1), 0.30),  # no surplus: the grid's price
        PriceSlot(at(1), at(2), pytest.approx(0.5 * 0.10 + 0.5 * 0.30)),
        PriceSlot(at(2), at(3), pytest.approx(0.10)),  # all of the car: the feed-in tariff
    ]


def test_sunny_hours_without_a_grid_price_are_ranked_by_their_sun() -> None:
    """No grid price at all: the sunnier hour is the cheaper; hours without sun stay gaps."""
    periods = [(at(0), at(1), 0.0), (at(1), at(2), 1.5), (at(2), at(3), 4.5)]
    prices = solar_prices([], periods, car_kw=4.0, feed_in=0.08)
    assert [(slot.start, slot.end) for slot in prices] == [(at(1), at(2)), (at(2), at(3))]
    assert prices[1].price < prices[0].price


def test_grid_prices_are_split_at_the_forecast_edges() -> None:
    """Half-hour forecast periods inside hourly prices; a price beyond the forecast stays."""
    grid = [PriceSlot(at(0), at(1), 0.20), PriceSlot(at(1), at(2), 0.05)]
    periods = [(at(0), at(0.5), 4.5), (at(0.5), at(1), 0.5)]
    assert solar_prices(grid, periods, car_kw=4.0, feed_in=0.08) == [
        PriceSlot(at(0), at(0.5), pytest.approx(0.08)),
        PriceSlot(at(0.5), at(1), 0.20),
        PriceSlot(at(1), at(2), 0.05),
    ]
    # The sun never costs more than the grid (a feed-in tariff above a cheap night price).
    night = [PriceSlot(at(0), at(1), 0.05)]
    assert solar_prices(night, periods, car_kw=4.0, feed_in=0.10)[0].price == 0.05
    assert solar_prices(grid, periods, car_kw=0.0, feed_in=0.08) == grid


def test_the_sun_bar_is_the_mean_sun_of_the_plans_sunny_time_ahead() -> None:
    """Only the plan's time that lies in the forecast's sun counts, only what is to come, each
    hour by the time the plan charges in it."""
    periods = [(at(0), at(1), 6.5), (at(1), at(2), 3.5), (at(2), at(3), 5.0), (at(3), at(4), 0.0)]
    blocks = [(at(0.5), at(1)), (at(2.5), at(3.5))]
    # Now in the first hour: half an hour of its 6 kW and of the third hour's 4.5 kW (the
    # fourth is dark).
    assert sun_bar(blocks, periods, now=at(0.2), car_kw=7.4) == pytest.approx(5.25)
    # A quarter of an hour of the first hour left, the half hour of the third.
    assert sun_bar(blocks, periods, now=at(0.75), car_kw=7.4) == pytest.approx(5.0)
    assert sun_bar(blocks, periods, now=at(1.5), car_kw=7.4) == pytest.approx(4.5)
    # Never above the car's power: a sunnier hour gives it no more.
    assert sun_bar(blocks[:1], periods, now=at(0), car_kw=3.7) == pytest.approx(3.7)
    # No sunny hour in the plan (only the dark one left), or no car power: no bar.
    assert sun_bar(blocks, periods, now=at(3.2), car_kw=7.4) is None
    assert sun_bar(blocks, periods, now=at(0), car_kw=0.0) is None


def test_with_a_current_entity_the_bar_is_the_sunniest_hours_that_hold_the_need() -> None:
    """A three-phase car (11 kW, 4.1 kW at 6 A) needs 10 kWh by 4 h from now: the 9 kW hour
    (8.5 kW surplus) and the 6 kW one (5.5 kW) hold 14 kWh, so the bar is 5.5 kW; the 2.5 kW
    hour would charge at 4.1 kW, half of it imported."""
    periods = [(at(0), at(1), 3.0), (at(1), at(2), 9.0), (at(2), at(3), 6.0), (at(3), at(5), 9.0)]
    bar = following_bar(periods, now=at(0), deadline=at(3), car_kw=11.0, min_kw=4.1, need_kwh=10.0)
    assert bar == pytest.approx(5.5)
    # More need than the sunny hours hold: no bar (every bit of sun is worth taking).
    assert (
        following_bar(periods, now=at(0), deadline=at(3), car_kw=11.0, min_kw=4.1, need_kwh=30)
        is None
    )
    # Only what is left of the hour now counts; a need met needs no bar.
    assert following_bar(
        periods, now=at(1.5), deadline=at(3), car_kw=11.0, min_kw=4.1, need_kwh=4.0
    ) == pytest.approx(8.5)
    assert (
        following_bar(periods, now=at(0), deadline=at(3), car_kw=11.0, min_kw=4.1, need_kwh=0)
        is None
    )
