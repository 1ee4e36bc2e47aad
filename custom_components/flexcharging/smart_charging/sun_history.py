"""The sun learned from the meter: a forecast for users without a forecast entity (pure).

Every surplus reading (what is exported plus what the cars draw) is averaged over time per hour
of the local day, by the zone's standard time (the sun does not move with daylight saving
time). The last days' hours are what is expected of the same hours today and
tomorrow (a persistence forecast): the hours the sun reaches this roof best, shading and
orientation included. Their mean prices the hours for the planner, as a forecast entity's
production does (`solar_forecast.py`); the most any of them gave is the surplus a start on the
sun waits for, so a morning's partial surplus does not take the charge the noon sun would give
(scripts/bench-solar: hourly slots, the best of three days for the start). With a current
entity the car follows the sun as it comes and the learned sun only holds its start; a day
much duller than the days learned then lowers the rest of it (`dull_today`), so a change of
weather does not keep the car waiting all day.

Nothing is expected before a whole day was seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import math
from typing import Any

SLOT = timedelta(hours=1)
SLOTS_PER_DAY = 24
DAYS_KEPT = 3
# A reading stands for at most this long: a meter that stops reporting is not extrapolated (the
# integration records the meter's state again every 15 minutes, for sensors that report only
# on change).
MAX_HOLD = timedelta(minutes=15)
# An hour counts once readings covered this share of it.
MIN_COVERED = 0.5
AHEAD = timedelta(hours=36)
# The learned hours that tell how sunny today is: at least this share of the best hour.
SUNNY_SHARE = 0.25
# A day whose sunny hours so far gave less than this share of the learned ones is duller: a
# passing cloud gives more, a change of weather less (scripts/bench-solar: sunny days learned,
# then a cloudy week).
DULL_DAY = 0.45


def standard_offset(moment: datetime) -> timedelta:
    """The zone's offset from UTC without daylight saving time, at `moment` (aware)."""
    return (moment.utcoffset() or timedelta(0)) - (moment.dst() or timedelta(0))


def standard_time(moment: datetime) -> datetime:
    """`moment` (aware) on the zone's standard wall clock (naive).

    The sun's hours do not move when the clocks change for daylight saving time.
    """
    return moment.replace(tzinfo=None) - (moment.dst() or timedelta(0))


@dataclass(slots=True)
class SunDay:
    """One local day: per hour, the surplus integrated (kW x s) and the seconds seen."""

    energy: list[float] = field(default_factory=lambda: [0.0] * SLOTS_PER_DAY)
    seconds: list[float] = field(default_factory=lambda: [0.0] * SLOTS_PER_DAY)

    def mean(self, slot: int) -> float | None:
        """The mean surplus (kW) of an hour, None when too little of it was seen."""
        seen = self.seconds[slot]
        if seen < MIN_COVERED * SLOT.total_seconds():
            return None
        return self.energy[slot] / seen

    @property
    def complete(self) -> bool:
        """Whether most of the day was seen (a day the meter was down does not teach)."""
        return sum(1 for slot in range(SLOTS_PER_DAY) if self.mean(slot) is not None) >= (
            SLOTS_PER_DAY * 3 // 4
        )


@dataclass(slots=True)
class SunHistory:
    """The last days' surplus per hour, and the reading being integrated."""

    days: dict[date, SunDay] = field(default_factory=dict)
    last: tuple[datetime, float] | None = None  # the previous reading (local time, kW)

    def record(self, now: datetime, surplus_kw: float | None) -> None:
        """A reading at `now` (local, aware): the previous one held until now, this one from now.

        None (no reading): the time since the previous reading is kept, nothing from now on.
        """
        if self.last is not None:
            since, value = self.last
            self._integrate(since, min(now, since + MAX_HOLD), value)
        readable = surplus_kw is not None and math.isfinite(surplus_kw)
        self.last = (now, surplus_kw) if readable and surplus_kw is not None else None
        for old in sorted(self.days)[: -(DAYS_KEPT + 1)]:
            del self.days[old]

    def _integrate(self, since: datetime, until: datetime, value: float) -> None:
        start, end = standard_time(since), standard_time(until)
        while start < end:
            midnight = datetime.combine(start.date(), time())
            slot = min(int((start - midnight) / SLOT), SLOTS_PER_DAY - 1)
            upto = min(end, midnight + SLOT * (slot + 1))
            seconds = (upto - start).total_seconds()
            sun_day = self.days.setdefault(start.date(), SunDay())
            sun_day.energy[slot] += value * seconds
            sun_day.seconds[slot] += seconds
            start = upto

    def expected(
        self, now: datetime, *, best: bool = False, dull_today: bool = False
    ) -> list[tuple[datetime, datetime, float]]:
        """The expected surplus (start, end in UTC, kW) per hour from now for AHEAD.

        The mean of the complete days before today (`best`: the most any of them gave that
        hour); empty until one was seen. `dull_today`: when today's sunny hours so far gave
        much less than the days learned, the rest of today is lowered in proportion (a wait
        for the learned sun would last all day).
        """
        local = standard_time(now)
        today = local.date()
        learned = [self.days[day] for day in sorted(self.days) if day < today][-DAYS_KEPT:]
        learned = [sun_day for sun_day in learned if sun_day.complete]
        if not learned:
            return []
        means = [_combined(learned, slot, best=False) for slot in range(SLOTS_PER_DAY)]
        hours = (
            [_combined(learned, slot, best=True) for slot in range(SLOTS_PER_DAY)]
            if best
            else means
        )
        factor = self._today_factor(local, means) if dull_today else 1.0
        periods: list[tuple[datetime, datetime, float]] = []
        offset = standard_offset(now)
        day = today
        while (midnight := datetime.combine(day, time())) < local + AHEAD:
            for slot, kw in enumerate(hours):
                start = midnight + SLOT * slot
                if kw is not None and start + SLOT > local and start < local + AHEAD:
                    utc = (start - offset).replace(tzinfo=UTC)
                    scale = factor if day == today and kw > 0 else 1.0
                    periods.append((utc, utc + SLOT, kw * scale))
            day += timedelta(days=1)
        return periods

    def _today_factor(self, local: datetime, means: list[float | None]) -> float:
        """What is left of the learned sun for the rest of a day duller than the days learned.

        Today's finished hours that the learned days found sunny (at least SUNNY_SHARE of their
        best hour) are compared with them: under DULL_DAY of their sun, the rest of today is
        expected to give that share too; otherwise all of it (1.0).
        """
        today = self.days.get(local.date())
        peak = max((kw for kw in means if kw is not None), default=0.0)
        if today is None or peak <= 0:
            return 1.0
        seen = learned = 0.0
        for slot in range(local.hour):
            expected, value = means[slot], today.mean(slot)
            if expected is not None and value is not None and expected >= SUNNY_SHARE * peak:
                seen += value
                learned += expected
        if learned <= 0 or seen >= DULL_DAY * learned:
            return 1.0
        return max(seen / learned, 0.0)

    def stored(self) -> dict[str, Any]:
        """The days as stored (rounded: kWs and seconds)."""
        return {
            day.isoformat(): {
                "energy": [round(value, 1) for value in sun_day.energy],
                "seconds": [round(value, 1) for value in sun_day.seconds],
            }
            for day, sun_day in self.days.items()
        }

    @classmethod
    def from_stored(cls, data: Any) -> SunHistory:
        """The history as stored; what does not read is dropped."""
        history = cls()
        if not isinstance(data, dict):
            return history
        for key, value in data.items():
            try:
                day = date.fromisoformat(key)
                energy = [float(number) for number in value["energy"]]
                seconds = [float(number) for number in value["seconds"]]
            except TypeError, ValueError, KeyError:
                continue
            if len(energy) == len(seconds) == SLOTS_PER_DAY:
                history.days[day] = SunDay(energy, seconds)
        return history


def _combined(learned: list[SunDay], slot: int, *, best: bool) -> float | None:
    """An hour over the learned days: their mean, or (`best`) the most any gave."""
    values = [value for sun_day in learned if (value := sun_day.mean(slot)) is not None]
    if not values:
        return None
    return max(values) if best else sum(values) / len(values)
