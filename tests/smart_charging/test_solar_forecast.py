"""A solar forecast as cheap slots: reading Solcast and `watts` attributes, sunny slots, overlay.

Pure: no Home Assistant, no clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.flexcharging.planner import PriceSlot
from custom_components.flexcharging.smart_charging.solar_forecast import (
    ForecastFormatError,
    forecast_periods,
    overlay,
    sunny_slots,
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


def test_sunny_slots_are_where_the_surplus_reaches_the_start_level() -> None:
    """Production less the house's expected 0.5 kW must reach the level."""
    periods = [(at(0), at(1), 1.0), (at(1), at(2), 2.0), (at(2), at(3), 1.9)]
    assert sunny_slots(periods, start_kw=1.5, price=0.08) == [PriceSlot(at(1), at(2), 0.08)]
    assert sunny_slots(periods, start_kw=1.5, price=0.08, house_kw=0.0) == [
        PriceSlot(at(1), at(2), 0.08),
        PriceSlot(at(2), at(3), 0.08),
    ]


def test_overlay_takes_the_lower_price() -> None:
    """Grid prices split at the sunny slots' edges; the lower price wins; gaps stay gaps."""
    grid = [PriceSlot(at(0), at(2), 0.30), PriceSlot(at(3), at(4), 0.05)]
    sunny = [PriceSlot(at(1.5), at(3.5), 0.08)]
    assert overlay(grid, sunny) == [
        PriceSlot(at(0), at(1.5), 0.30),
        PriceSlot(at(1.5), at(2), 0.08),
        PriceSlot(at(2), at(3), 0.08),
        PriceSlot(at(3), at(3.5), 0.05),
        PriceSlot(at(3.5), at(4), 0.05),
    ]
    assert overlay(grid, []) == grid
    assert overlay([], sunny) == sunny
