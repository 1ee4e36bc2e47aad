"""A solar forecast as cheap slots for the planner (pure: no Home Assistant, no I/O, no clock).

Where the forecast production, less the house's expected load, covers a share of the car's
power, that share costs what the energy would have earned fed in and the rest the grid price:
the planner then places the charge in the sunniest hours, and buys at night only what the sun
will not cover more cheaply ("buy the minimum, top up from the sun"). The start of charging on
the sun waits for a surplus as good as those hours (`sun_bar`), so the charge is not spent on a
morning's partial surplus before them.

Forecast formats read from a sensor's attributes:
- Solcast (HACS `solcast_solar`): `detailedForecast` or `detailedHourly`, lists of
  `{period_start, pv_estimate}` with `pv_estimate` in kW;
- a `watts` mapping of period start to W (Open-Meteo Solar Forecast, the older Forecast.Solar).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
import math
from typing import Any

from ..planner import PriceSlot

EXPECTED_HOUSE_KW = 0.5  # the house's load assumed for forecast hours
# Periods whose surplus covers less of the car are not sunny (dawn, dusk): scripts/bench-solar
# found any share worth ranking (the big cars' winter sun covers a fifth of them at best).
MIN_SHARE = 0.02
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
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


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


def solar_prices(
    prices: Sequence[PriceSlot],
    periods: Sequence[tuple[datetime, datetime, float]],
    *,
    car_kw: float,
    feed_in: float,
    house_kw: float = EXPECTED_HOUSE_KW,
) -> list[PriceSlot]:
    """The grid prices with the forecast's sun blended in.

    Where the forecast surplus covers a share c of the car's power (at least MIN_SHARE), a kWh
    costs c x feed-in + (1 - c) x the grid price: the planner then prefers the sunniest hours,
    and buys at night only when the grid is cheaper than the sun's share saves. Where the grid
    price is unknown, the highest known one (or feed-in + 1 when none is known) stands in for
    ranking only: what the energy costs there stays unknown.
    """
    if car_kw <= 0:
        return list(prices)
    grid = sorted((slot.start, slot.end, slot.price) for slot in prices)
    sun = sorted(periods)
    reference = max((price for _, _, price in grid), default=feed_in + 1.0)
    edges = sorted({edge for start, end, _ in (*grid, *sun) for edge in (start, end)})
    merged: list[PriceSlot] = []
    for start, end in pairwise(edges):
        price = _covering(grid, start, end)
        production = _covering(sun, start, end)
        share = 0.0 if production is None else min(max((production - house_kw) / car_kw, 0), 1)
        if share >= MIN_SHARE:
            base = reference if price is None else price
            cost = min(share * feed_in + (1 - share) * base, base)
            merged.append(PriceSlot(start, end, cost, cost_known=price is not None))
        elif price is not None:
            merged.append(PriceSlot(start, end, price))
    return merged


def _covering(
    periods: Sequence[tuple[datetime, datetime, float]], start: datetime, end: datetime
) -> float | None:
    """The value of the period (sorted, not overlapping) that covers [start, end), if any."""
    index = bisect_right(periods, (start, _FAR_FUTURE, math.inf)) - 1
    if index < 0 or periods[index][1] < end:
        return None
    return periods[index][2]


def sun_bar(
    blocks: Sequence[tuple[datetime, datetime]],
    periods: Sequence[tuple[datetime, datetime, float]],
    *,
    now: datetime,
    car_kw: float,
    house_kw: float = EXPECTED_HOUSE_KW,
) -> float | None:
    """The surplus (kW, at most the car's power) the sun is forecast to give the plan ahead.

    The mean over the plan's sunny time to come. Charging on the sun now is worth it only when
    it is as good: a start on less takes the charge before those hours and leaves their sun
    unused (scripts/bench-solar: the least of them started a sunny day's charge an hour before
    the noon sun). None: the plan has no sunny hours ahead.
    """
    if car_kw <= 0:
        return None
    energy = seconds = 0.0
    for start, end, kw in periods:
        surplus = kw - house_kw
        if end <= now or surplus / car_kw < MIN_SHARE:
            continue
        for block_start, block_end in blocks:
            overlap = (min(end, block_end) - max(start, block_start, now)).total_seconds()
            if overlap > 0:
                energy += min(surplus, car_kw) * overlap
                seconds += overlap
    return energy / seconds if seconds else None


def following_bar(
    periods: Sequence[tuple[datetime, datetime, float]],
    *,
    now: datetime,
    deadline: datetime,
    car_kw: float,
    min_kw: float,
    need_kwh: float,
    house_kw: float = EXPECTED_HOUSE_KW,
) -> float | None:
    """With a current entity: the surplus (kW) of the sunniest hours that would hold the need.

    In an hour the car takes the surplus, at least its lowest current's power (the rest
    imported); the hours with the best share of sun until the deadline are charged first, and
    the bar is the surplus of the last one needed. Charging on less would import for a charge
    the sunnier hours could give. None: the sunny hours cannot hold the need.
    """
    if car_kw <= 0 or need_kwh <= 0:
        return None
    hours: list[tuple[float, float, float]] = []  # (share of sun, surplus, kWh charged)
    for start, end, kw in periods:
        begin, finish = max(start, now), min(end, deadline)
        surplus = kw - house_kw
        if finish <= begin or surplus <= 0:
            continue
        power = min(max(surplus, min_kw), car_kw)
        charged = power * (finish - begin).total_seconds() / 3600
        hours.append((min(surplus, car_kw) / power, surplus, charged))
    hours.sort(reverse=True)
    covered = 0.0
    for _, surplus, charged in hours:
        covered += charged
        if covered >= need_kwh:
            return min(surplus, car_kw)
    return None
