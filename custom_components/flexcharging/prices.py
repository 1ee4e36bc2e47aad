"""Price slots for the charge planner: from a price entity's attributes, or from a tariff.

Pure: no Home Assistant, no I/O, no clock.

Every returned time is in UTC. Python subtracts and compares two datetimes of one zoneinfo zone
by their wall-clock readings (ignoring `fold` and the offset), which is wrong across a DST change;
in UTC it is right, and aware datetimes of different zones still compare correctly with them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
import math
import re
from typing import Any
from zoneinfo import ZoneInfo

from .planner import PriceSlot

# Attributes holding price lists, most trusted first: where slots of two lists overlap, the
# first list's slot is kept (published prices over forecasts).
_LIST_KEYS = (
    # Nord Pool (HACS custom-components/nordpool): {"start", "end", "value"}, value None when
    # unknown; Energi Data Service (HACS MTrab/energidataservice): {"hour", "price"}, and
    # raw_tomorrow None before publication.
    "raw_today",
    "raw_tomorrow",
    # ENTSO-e (HACS JaccoR/hass-entso-e): {"time": str(pandas.Timestamp), "price"}; "prices" below
    # repeats them (with yesterday's).
    "prices_today",
    "prices_tomorrow",
    # GE-Spot (HACS enoch85/ge-spot, 1.5+): {"time": datetime, "value"}, 15-minute.
    "today_interval_prices",
    "tomorrow_interval_prices",
    # Tibber API's priceInfo as REST/template sensors expose it:
    # {"startsAt": "…T00:00:00.000+01:00", "total", "energy", "tax", "level"}.
    "today",
    "tomorrow",
    # Octopus Energy (HACS BottlecapDave/HomeAssistant-OctopusEnergy), events
    # *_current_day_rates / *_next_day_rates: {"start", "end", "value_inc_vat", "is_capped"}.
    "rates",
    # Generic lists, e.g. EPEX Spot (HACS mampfes/ha_epex_spot) "data":
    # {"start_time", "end_time", "price_ct_per_kwh"}.
    "prices",
    "data",
    # Amber Electric (core) "forecasts": {"start_time", "end_time", "per_kwh", "duration"}.
    "forecasts",
    # Energi Data Service's price forecast ({"hour", "price"}), generic forecasts: estimates last.
    "forecast",
)
_START_KEYS = ("start", "time", "startsAt", "start_time", "from", "datetime", "hour", "timestamp")
_END_KEYS = ("end", "end_time", "to", "endsAt")
_DURATION_KEY = "duration"
_PRICE_KEYS = (
    "price",
    "value",
    "total",
    "value_inc_vat",
    "price_ct_per_kwh",
    "electricity_price",
    "per_kwh",
)
# Keys whose name fixes the energy unit: the entity's unit does not rescale them.
_PER_KWH_KEYS = frozenset({"value_inc_vat", "price_ct_per_kwh", "per_kwh"})
_ENERGY_UNITS = {"wh": 1000.0, "kwh": 1.0, "mwh": 0.001}  # price per unit → per kWh: multiply
_UNIT_KEYS = ("unit_of_measurement", "unit", "currency")
_DEFAULT_SPACING = timedelta(hours=1)
_ISO_DURATION = re.compile(
    r"P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_CLOCK_DURATION = re.compile(
    r"(?P<hours>\d+):(?P<minutes>[0-5]\d)(?::(?P<seconds>[0-5]\d(?:\.\d+)?))?"
)


class PriceFormatError(ValueError):
    """The attributes hold no price list we understand (message says what was looked for)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RateSchedule:
    """A two-tier time-of-use tariff: peak windows in local time, for weekdays and weekends."""

    offpeak_price: float
    peak_price: float
    # (start, end); None = no peak; end <= start crosses midnight (equal: 24 hours from start).
    weekday_peak: tuple[time, time] | None
    weekend_peak: tuple[time, time] | None


@dataclass(frozen=True, slots=True)
class _Entry:
    """One parsed list item: a start, maybe an end, maybe a price (None: a gap)."""

    start: datetime
    end: datetime | None
    price: float | None


# --- price entities ------------------------------------------------------------------------------


def slots_from_attributes(attributes: Mapping[str, Any], time_zone: tzinfo) -> list[PriceSlot]:
    """All price slots in one entity's attributes (today, tomorrow, ...), sorted by start.

    `time_zone` interprets naive timestamps (Home Assistant's zone). Entries without a usable
    price leave a gap. Prices per MWh or Wh (by the entity's unit) are converted to per kWh.
    Raises PriceFormatError when no known list is found; a known list that is empty or None
    (e.g. tomorrow before publication) gives no slots.
    """
    per_kwh = _per_kwh_factor(attributes)
    found = False
    lists: list[list[PriceSlot]] = []
    for key in _LIST_KEYS:
        if key not in attributes:
            continue
        value = attributes[key]
        if value is None:
            found = True
            continue
        items = _as_sequence(value)
        if items is None or (items and not any(_looks_like_price(item) for item in items)):
            continue  # e.g. Nord Pool's "today": a bare list of floats
        found = True
        lists.append(_slots_of(items, time_zone, per_kwh))
    if not found:
        raise PriceFormatError(
            "no price list found: looked for a list under "
            + ", ".join(_LIST_KEYS)
            + " whose items have a start ("
            + ", ".join(_START_KEYS)
            + ") and a price ("
            + ", ".join(_PRICE_KEYS)
            + ")"
        )
    return _merge(lists)


# Hundredths of a currency that price sources use as the unit of their prices ("c/kWh").
_SUBUNITS = frozenset({"c", "ct", "cent", "cents", "öre", "ore", "øre", "p", "pence"})


def monetary(amount: float | None, currency: str | None, main: str) -> tuple[float | None, str]:
    """An amount and its unit for a monetary sensor (Home Assistant wants an ISO 4217 code).

    Prices in hundredths of a currency ("c/kWh") give amounts in `main`, Home Assistant's
    currency; an unknown currency is `main`'s too; any other stays as it is.
    """
    if currency is None or currency.lower() in _SUBUNITS:
        scale = 1.0 if currency is None else 100.0
        return (None if amount is None else amount / scale), main
    return amount, currency


def price_unit(attributes: Mapping[str, Any]) -> str | None:
    """The currency part of the entity's unit ('EUR/kWh' → 'EUR', 'c/kWh' → 'c') or None."""
    for key in _UNIT_KEYS:
        value = attributes.get(key)
        if not isinstance(value, str):
            continue
        currency, _, _ = value.partition("/")
        currency = currency.strip()
        if currency and (key == "currency" or currency.lower() not in _ENERGY_UNITS):
            return currency
    return None


def _per_kwh_factor(attributes: Mapping[str, Any]) -> float:
    """What turns the entity's prices into prices per kWh (1 unless its unit is per MWh or Wh)."""
    for key in ("unit_of_measurement", "unit"):
        value = attributes.get(key)
        if isinstance(value, str):
            energy = value.rpartition("/")[2].strip().lower()
            if energy in _ENERGY_UNITS:
                return _ENERGY_UNITS[energy]
    return 1.0


def _as_sequence(value: object) -> Sequence[object] | None:
    if isinstance(value, (list, tuple)):
        return value
    return None


def _looks_like_price(item: object) -> bool:
    return (
        isinstance(item, Mapping)
        and any(key in item for key in _START_KEYS)
        and any(key in item for key in _PRICE_KEYS)
    )


def _slots_of(items: Sequence[object], time_zone: tzinfo, per_kwh: float) -> list[PriceSlot]:
    """The slots of one list; an item without an end lasts until the next or the usual spacing."""
    entries: list[_Entry] = []
    previous: datetime | None = None
    for item in items:
        if not isinstance(item, Mapping):
            continue
        entry = _entry(item, time_zone, previous, per_kwh)
        if entry is not None:
            entries.append(entry)
            previous = entry.start
    entries.sort(key=lambda entry: entry.start)
    starts = sorted({entry.start for entry in entries})
    spacing = _typical_spacing(starts)
    slots: list[PriceSlot] = []
    for entry in entries:
        if entry.price is None:
            continue
        end = entry.end
        if end is None:
            index = bisect_right(starts, entry.start)
            following = starts[index] if index < len(starts) else None
            if following is not None and following - entry.start <= spacing:
                end = following
            else:
                end = entry.start + spacing
        if end > entry.start:
            slots.append(PriceSlot(entry.start, end, entry.price))
    return slots


def _entry(
    item: Mapping[Any, Any], time_zone: tzinfo, previous: datetime | None, per_kwh: float
) -> _Entry | None:
    start_key = next((key for key in _START_KEYS if key in item), None)
    start = None if start_key is None else _instant(item[start_key], time_zone, previous)
    if start is None:
        return None
    end_key = next((key for key in _END_KEYS if key in item), None)
    end = None if end_key is None else _instant(item[end_key], time_zone, start)
    if end is None and _DURATION_KEY in item:
        duration = _duration(item[_DURATION_KEY])
        end = None if duration is None else start + duration
    price_key = next((key for key in _PRICE_KEYS if key in item), None)
    price = None if price_key is None else _number(item[price_key])
    if price is not None and price_key not in _PER_KWH_KEYS:
        price *= per_kwh
    return _Entry(start, end, price)


def _instant(value: object, time_zone: tzinfo, previous: datetime | None) -> datetime | None:
    """A timestamp (datetime or ISO 8601 string) in UTC; naive ones are local to `time_zone`."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.utcoffset() is None:
        return _wall_to_utc(value.replace(tzinfo=None), time_zone, previous)
    return value.astimezone(UTC)


def _duration(value: object) -> timedelta | None:
    """Minutes (a number or numeric string), "HH:MM[:SS]", ISO 8601 ("PT15M"), or a timedelta."""
    if isinstance(value, timedelta):
        duration = value
    elif (minutes := _number(value)) is not None:
        duration = timedelta(minutes=minutes)
    elif isinstance(value, str) and (
        match := _CLOCK_DURATION.fullmatch(value.strip()) or _ISO_DURATION.fullmatch(value.strip())
    ):
        parts = {name: float(text) for name, text in match.groupdict().items() if text is not None}
        duration = timedelta(**parts)
    else:
        return None
    return duration if duration > timedelta(0) else None


def _number(value: object) -> float | None:
    """A finite float from an int, a float or a numeric string; None otherwise (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _typical_spacing(starts: Sequence[datetime]) -> timedelta:
    """The most common start-to-start step (the smallest of equally common ones)."""
    steps = Counter(later - earlier for earlier, later in pairwise(starts))
    if not steps:
        return _DEFAULT_SPACING
    return min(steps, key=lambda step: (-steps[step], step))


def _merge(lists: Iterable[Sequence[PriceSlot]]) -> list[PriceSlot]:
    """The slots of all lists, sorted; a slot overlapping one already taken is dropped."""
    taken: list[PriceSlot] = []
    starts: list[datetime] = []
    for slots in lists:
        for slot in slots:
            index = bisect_right(starts, slot.start)
            if index > 0 and taken[index - 1].end > slot.start:
                continue
            if index < len(taken) and taken[index].start < slot.end:
                continue
            taken.insert(index, slot)
            starts.insert(index, slot.start)
    return taken


# --- time-of-use tariff --------------------------------------------------------------------------


def schedule_slots(
    schedule: RateSchedule, start: datetime, end: datetime, time_zone: ZoneInfo
) -> list[PriceSlot]:
    """The schedule's slots covering [start, end); the first and last may extend beyond.

    Windows are local wall-clock times in `time_zone`, per local date (Saturday and Sunday are
    the weekend; a window crossing midnight belongs to the day it starts on). A local time that
    a spring-forward change skips moves to the first valid instant; an ambiguous one is the
    first occurrence (fold=0). Adjacent slots with the same price are merged.
    """
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    first_day = start.astimezone(time_zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(time_zone).date()
    horizon_start = _local_midnight(first_day, time_zone)
    horizon_end = _local_midnight(last_day + timedelta(days=1), time_zone)

    peaks: list[tuple[datetime, datetime]] = []
    day = first_day - timedelta(days=1)  # its window may run past midnight into the first day
    while day <= last_day:
        window = schedule.weekend_peak if day.weekday() >= 5 else schedule.weekday_peak
        if window is not None:
            peak_start, peak_end = _window(day, window, time_zone)
            peak_start, peak_end = max(peak_start, horizon_start), min(peak_end, horizon_end)
            if peak_end > peak_start:
                peaks.append((peak_start, peak_end))
        day += timedelta(days=1)

    slots: list[PriceSlot] = []
    cursor = horizon_start
    for peak_start, peak_end in peaks:
        if peak_start > cursor:
            _append(slots, PriceSlot(cursor, peak_start, schedule.offpeak_price))
        if peak_end > cursor:
            _append(slots, PriceSlot(max(peak_start, cursor), peak_end, schedule.peak_price))
            cursor = peak_end
    if cursor < horizon_end:
        _append(slots, PriceSlot(cursor, horizon_end, schedule.offpeak_price))
    return [slot for slot in slots if slot.end > start and slot.start < end]


def _append(slots: list[PriceSlot], slot: PriceSlot) -> None:
    """Add `slot`, merging it into the last one when they touch and cost the same."""
    if slots and slots[-1].end == slot.start and slots[-1].price == slot.price:
        slots[-1] = PriceSlot(slots[-1].start, slot.end, slot.price)
    else:
        slots.append(slot)


def _window(day: date, window: tuple[time, time], time_zone: tzinfo) -> tuple[datetime, datetime]:
    """The peak window of local `day` in UTC; an end not after the start is the next day's."""
    window_start, window_end = (moment.replace(tzinfo=None) for moment in window)
    end_day = day if window_end > window_start else day + timedelta(days=1)
    return (
        _wall_to_utc(datetime.combine(day, window_start), time_zone),
        _wall_to_utc(datetime.combine(end_day, window_end), time_zone),
    )


def _local_midnight(day: date, time_zone: tzinfo) -> datetime:
    return _wall_to_utc(datetime.combine(day, time()), time_zone)


# --- wall-clock times ----------------------------------------------------------------------------


def _wall_to_utc(wall: datetime, time_zone: tzinfo, previous: datetime | None = None) -> datetime:
    """The UTC instant of the naive wall time `wall` in `time_zone`.

    A wall time skipped by a spring-forward change becomes the change's instant (the first valid
    one after it). An ambiguous one is its first occurrence, unless `previous` (the instant just
    before it in a list) is already at or after that: then the second (a repeated hour).
    """
    first = wall.replace(tzinfo=time_zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=time_zone, fold=1).astimezone(UTC)
    if _wall_of(first, time_zone) != wall:
        return _skipped_to(wall, time_zone, min(first, second), max(first, second))
    if previous is not None and first <= previous < second:
        return second
    return first


def _wall_of(instant: datetime, time_zone: tzinfo) -> datetime:
    return instant.astimezone(time_zone).replace(tzinfo=None)


def _skipped_to(wall: datetime, time_zone: tzinfo, low: datetime, high: datetime) -> datetime:
    """The first instant after `low`, to the second, whose wall time is not before `wall`.

    `low` and `high` are `wall` read with the offsets after and before the change.
    """
    low_seconds, high_seconds = 0, int((high - low).total_seconds())
    while high_seconds - low_seconds > 1:
        middle = (low_seconds + high_seconds) // 2
        if _wall_of(low + timedelta(seconds=middle), time_zone) >= wall:
            high_seconds = middle
        else:
            low_seconds = middle
    return low + timedelta(seconds=high_seconds)
