"""A solar forecast as cheap slots for the planner (pure: no Home Assistant, no I/O, no clock).

Where the forecast production, less the house's expected load, covers the car's start level,
charging costs what the energy would have earned fed in: those periods become price slots at
the feed-in tariff, laid over the grid prices (the lower price wins). The planner then buys only
what the sun will not cover, in the cheapest remaining time ("buy the minimum, top up from the
sun").

Forecast formats read from a sensor's attributes:
- Solcast (HACS `solcast_solar`): `detailedForecast` or `detailedHourly`, lists of
  `{period_start, pv_estimate}` with `pv_estimate` in kW;
- a `watts` mapping of period start to W (Open-Meteo Solar Forecast, the older Forecast.Solar).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
import math
from typing import Any

from ..planner import PriceSlot

EXPECTED_HOUSE_KW = 0.5  # the house's load assumed for forecast hours
SOLCAST_KEYS = ("detailedForecast", "detailedHourly")


class ForecastFormatError(ValueError):
    """The attributes hold no readable forecast."""


def forecast_periods(attributes: Mapping[str, Any]) -> list[tuple[datetime, datetime, float]]:
    """(start, end, kW) periods of the forecast, in order."""
    points: list[tuple[datetime, float]] = []
    for key in SOLCAST_KEYS:
        if isinstance(items := attributes.get(key), list) and items:
            points = [_solcast_point(item) for item in items]
            break
    else:
        watts = attributes.get("watts")
        if not isinstance(watts, Mapping) or not watts:
            raise ForecastFormatError("no detailedForecast, detailedHourly or watts attribute")
        points = [(_time(start), _number(value) / 1000) for start, value in watts.items()]
    points.sort()
    periods = []
    for index, (start, kw) in enumerate(points):
        if index + 1 < len(points):
            end = points[index + 1][0]
        else:
            end = start + (points[index - 1][0] - points[index - 2][0] if index >= 2 else _HOUR)
        if end > start:
            periods.append((start, end, kw))
    return periods


_HOUR = timedelta(hours=1)


def _solcast_point(item: Any) -> tuple[datetime, float]:
    if not isinstance(item, Mapping) or "period_start" not in item or "pv_estimate" not in item:
        raise ForecastFormatError(f"not a period_start and pv_estimate: {item!r}")
    return _time(item["period_start"]), _number(item["pv_estimate"])


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise ForecastFormatError(f"not a number: {value!r}") from err
    if not math.isfinite(number):
        raise ForecastFormatError(f"not a number: {value!r}")
    return number


def _time(value: Any) -> datetime:
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except (TypeError, ValueError) as err:
        raise ForecastFormatError(f"not a time: {value!r}") from err
    if moment.tzinfo is None:
        raise ForecastFormatError(f"a time without its zone: {value!r}")
    return moment


def sunny_slots(
    periods: Sequence[tuple[datetime, datetime, float]],
    *,
    start_kw: float,
    price: float,
    house_kw: float = EXPECTED_HOUSE_KW,
) -> list[PriceSlot]:
    """The periods whose forecast surplus reaches `start_kw`, priced at `price`."""
    return [PriceSlot(start, end, price) for start, end, kw in periods if kw - house_kw >= start_kw]


def overlay(prices: Sequence[PriceSlot], sunny: Sequence[PriceSlot]) -> list[PriceSlot]:
    """The grid prices with the sunny slots laid over them: where both apply, the lower."""
    if not sunny:
        return list(prices)
    edges = sorted({edge for slot in (*prices, *sunny) for edge in (slot.start, slot.end)})
    merged: list[PriceSlot] = []
    for start, end in pairwise(edges):
        covering = [
            slot.price for slot in (*prices, *sunny) if slot.start <= start and end <= slot.end
        ]
        if covering:
            merged.append(PriceSlot(start, end, min(covering)))
    return merged
