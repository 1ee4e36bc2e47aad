"""The plug-in guard's decisions: learned plug-in times, bursts, triggers (pure; no I/O).

A car that starts charging by itself when plugged in (Teslas do) charges at whatever price until
FlexCharging reads it and smart charging stops it. With webhooks Smartcar says so at once;
without them the plug-in is only seen at a read, so the guard spends reads where a plug-in is
likely:

- a burst of reads after a trigger entity says the car may just have arrived or been plugged in;
- frequent reads at the times of day the car was plugged in before: each weekday's own times
  once it has a few, every day's before that, and the evening hours most home plug-ins happen
  in before the car's first plug-in is learned.

What the reads cost comes out of the same monthly budget: budget.py keeps a share of it for the
guard (budget.GUARD_SHARE) that the poll scheduler does not spend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SLOT_MINUTES = 15
MINUTES_PER_DAY = 24 * 60
SLOTS_PER_DAY = MINUTES_PER_DAY // SLOT_MINUTES
MAX_SPAN = timedelta(hours=8)  # a plug-in seen only after longer is counted in its last 8 h
KEEP_PER_WEEKDAY = 6  # about six weeks of plug-ins per weekday
OWN_PATTERN_AFTER = 3  # plug-ins a weekday needs before its own times are used
EVERY_DAY_WEIGHT = 1.0  # then every day's times count as this many of the weekday's own
COVERAGE = 0.9  # the window holds this share of the learned plug-ins (plus a slot each side)
GUARD_MIN_INTERVAL = timedelta(minutes=5)
GUARD_MAX_INTERVAL = timedelta(minutes=30)  # reading less often than this guards nothing
# The window is cut to the likeliest slots the guard can read about this often: a wide window
# read rarely would catch nothing within minutes (and never learn precise times).
GUARD_TARGET_INTERVAL = timedelta(minutes=15)
# A burst after a trigger: reads this many minutes after it (people plug in within minutes of
# arriving), stopping as soon as the car reads plugged in.
BURST_OFFSETS = (1, 2, 4, 6, 8, 11, 15, 20)
BURSTS_PER_DAY = 4  # a flapping trigger (a garage door) cannot spend more than this a day
# Before a car's first plug-in is learned, the guard watches the evening: in the EV Project's
# San Diego homes (US DOE, Fact of the Week #912) charging demand climbs from 15:00 to an
# evening plateau at 19:00-21:00, cars plugged in coming home (its peak, at 01:30, is charging
# scheduled for the cheap rate). Overlapping spans weigh the middle most.
FIRST_GUESS = ((16 * 60, 21 * 60), (17 * 60, 20 * 60), (17 * 60 + 30, 19 * 60 + 30))

ARRIVAL_DOMAINS = ("person", "device_tracker")  # these trigger only on arriving home
HOME = "home"
NOT_A_STATE = ("unavailable", "unknown")
GONE = ("off", "closed", "closing", "not_home")  # leaving, closing, unplugging: no burst


def is_arrival(entity_id: str, old: str | None, new: str | None) -> bool:
    """Whether a trigger entity's change means the car may just have arrived or been plugged in.

    A person or device tracker: arriving home. Anything else (a wallbox's plug sensor, a garage
    door, an input boolean): a change to a state other than off, closed or not_home. Changes from
    or to unavailable/unknown (restarts, lost connections) are none.
    """
    if old is None or new is None or old == new or old in NOT_A_STATE or new in NOT_A_STATE:
        return False
    if entity_id.split(".", 1)[0] in ARRIVAL_DOMAINS:
        return new == HOME
    return new not in GONE


def burst_times(triggered: datetime) -> list[datetime]:
    """When a burst started at `triggered` reads the car."""
    return [triggered + timedelta(minutes=offset) for offset in BURST_OFFSETS]


def guard_interval(*, per_day: float, window_minutes: float) -> timedelta | None:
    """How often to read inside the learned window with `per_day` reads; None if too rarely.

    Reads stop at the plug-in, so on average half the window is read.
    """
    if per_day <= 0 or window_minutes <= 0:
        return None
    interval = timedelta(minutes=window_minutes / 2 / per_day)
    if interval > GUARD_MAX_INTERVAL:
        return None
    return max(interval, GUARD_MIN_INTERVAL)


def max_window_slots(per_day: float) -> int:
    """How many slots a window may have for `per_day` reads at GUARD_TARGET_INTERVAL."""
    minutes = per_day * 2 * GUARD_TARGET_INTERVAL.total_seconds() / 60
    return max(int(minutes // SLOT_MINUTES), 1)


def burst_affordable(*, left: float, bursts_today: int) -> bool:
    """Whether another burst fits: the budget can pay for all of it, and today's are not used up."""
    return left >= len(BURST_OFFSETS) and bursts_today < BURSTS_PER_DAY


def _weights(spans: Iterable[tuple[int, int]]) -> list[float]:
    """How many plug-ins fell in each slot of a day (each spread over its span)."""
    mass = [0.0] * SLOTS_PER_DAY
    for start, end in spans:
        if end - start < 1:
            mass[min(start // SLOT_MINUTES, SLOTS_PER_DAY - 1)] += 1.0
            continue
        for slot in range(start // SLOT_MINUTES, (end - 1) // SLOT_MINUTES + 1):
            low = max(start, slot * SLOT_MINUTES)
            high = min(end, (slot + 1) * SLOT_MINUTES)
            mass[slot] += max(high - low, 0) / (end - start)
    return mass


def _window(mass: list[float], max_slots: int | None) -> frozenset[int]:
    """The likeliest slots holding COVERAGE of the mass, a slot either side, up to `max_slots`."""
    total = sum(mass)
    chosen: set[int] = set()
    covered = 0.0
    peak = max(range(SLOTS_PER_DAY), key=lambda s: mass[s])
    # Equal slots (one late-seen plug-in's) are taken nearest the likeliest time first.
    for slot in sorted(range(SLOTS_PER_DAY), key=lambda s: (-mass[s], abs(s - peak))):
        if covered >= COVERAGE * total or mass[slot] <= 0:
            break
        widened = _widened(chosen | {slot})
        if chosen and max_slots is not None and len(widened) > max_slots:
            break
        chosen.add(slot)
        covered += mass[slot]
    return frozenset(_widened(chosen))


def _minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


@dataclass
class PlugPattern:
    """A vehicle's plug-in times per weekday (0 Monday), each a span of local minutes of the day.

    A plug-in is seen at a read: it happened after the last read showing the car unplugged and
    before the first showing it plugged in. That span is what is kept, so a plug-in seen late
    counts a little at every time it may have happened, one seen by the guard's frequent reads
    counts much at one time.
    """

    days: list[list[tuple[int, int]]] = field(default_factory=lambda: [[] for _ in range(7)])

    def record(self, earliest: datetime, latest: datetime) -> None:
        """A plug-in between `earliest` and `latest` (local times).

        A span over midnight is counted on the day that holds most of it: an evening plug-in
        first seen after midnight is the evening's, not a plug-in at midnight.
        """
        earliest = max(earliest, latest - MAX_SPAN)
        midnight = latest.replace(hour=0, minute=0, second=0, microsecond=0)
        if midnight - earliest > latest - midnight:
            day = self.days[earliest.weekday()]
            day.append((_minute(earliest), MINUTES_PER_DAY))
        else:
            day = self.days[latest.weekday()]
            day.append((_minute(max(earliest, midnight)), _minute(latest)))
        del day[:-KEEP_PER_WEEKDAY]

    def count(self) -> int:
        """Plug-ins remembered."""
        return sum(len(day) for day in self.days)

    def _spans(self, weekday: int) -> Iterable[tuple[int, int]]:
        own = self.days[weekday]
        if len(own) >= OWN_PATTERN_AFTER:
            return own
        return self._every_day()

    def _every_day(self) -> list[tuple[int, int]]:
        return [span for day in self.days for span in day] or list(FIRST_GUESS)

    @property
    def learned(self) -> bool:
        """Whether the windows come from the car's own plug-ins (else from FIRST_GUESS)."""
        return self.count() > 0

    def weights(self, weekday: int) -> list[float]:
        """How many plug-ins fell in each slot of the weekday (each spread over its span)."""
        return _weights(self._spans(weekday))

    def window(self, weekday: int, max_slots: int | None = None) -> frozenset[int]:
        """The slots to guard on a weekday.

        The likeliest ones holding COVERAGE of the plug-ins, widened by a slot on each side
        (plug-in times drift); at most `max_slots` of them, margins included. A weekday's own
        few plug-ins do not show how widely its times spread: its window may grow into every
        day's likely slots next to it, and where the budget cuts it, every day's times count
        too (as EVERY_DAY_WEIGHT plug-ins of its own), so a plug-in seen hours late on that
        weekday does not push out the slots most days plug in at.
        """
        every_day = _weights(self._every_day())
        if len(self.days[weekday]) < OWN_PATTERN_AFTER:
            return _window(every_day, max_slots)
        own = _weights(self.days[weekday])
        likely = _window(every_day, None)
        grown = set(_window(own, None))
        while nearby := [slot for slot in likely - grown if _next_to(slot, grown)]:
            grown.add(max(nearby, key=lambda slot: every_day[slot]))
        share = EVERY_DAY_WEIGHT / sum(every_day)
        score = [
            own[slot] + share * every_day[slot] if slot in grown else 0.0
            for slot in range(SLOTS_PER_DAY)
        ]
        chosen = set(_window(score, max_slots))
        while max_slots is None or len(chosen) < max_slots:  # the budget allows more
            if not (nearby := [slot for slot in grown - chosen if _next_to(slot, chosen)]):
                break
            chosen.add(max(nearby, key=lambda slot: score[slot]))
        return frozenset(chosen)

    def window_minutes(self, weekday: int, max_slots: int | None = None) -> int:
        """How long the weekday's window is."""
        return len(self.window(weekday, max_slots)) * SLOT_MINUTES

    def guarded(self, local: datetime, max_slots: int | None = None) -> bool:
        """Whether a local moment falls in its weekday's window."""
        return self.stretch(local, max_slots) is not None

    def stretch(
        self, local: datetime, max_slots: int | None = None
    ) -> tuple[datetime, datetime] | None:
        """The run of window slots a local moment falls in (start, end; within its day)."""
        window = self.window(local.weekday(), max_slots)
        first = last = _minute(local) // SLOT_MINUTES
        if first not in window:
            return None
        while first - 1 in window:
            first -= 1
        while last + 1 in window:
            last += 1
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return (
            midnight + timedelta(minutes=first * SLOT_MINUTES),
            midnight + timedelta(minutes=(last + 1) * SLOT_MINUTES),
        )

    def next_guarded(self, local: datetime, max_slots: int | None = None) -> datetime | None:
        """The start of the next window slot after `local` (within a week); None if none."""
        start = local.replace(second=0, microsecond=0)
        start -= timedelta(minutes=start.minute % SLOT_MINUTES)
        windows: dict[int, frozenset[int]] = {}
        for step in range(1, 7 * SLOTS_PER_DAY + 1):
            moment = start + timedelta(minutes=step * SLOT_MINUTES)
            weekday = moment.weekday()
            if weekday not in windows:
                windows[weekday] = self.window(weekday, max_slots)
            if _minute(moment) // SLOT_MINUTES in windows[weekday]:
                return moment
        return None

    def as_dict(self) -> dict[str, Any]:
        """What is stored."""
        return {"days": [[list(span) for span in day] for day in self.days]}

    @classmethod
    def from_dict(cls, data: Any) -> PlugPattern:
        """Read what was stored; anything unreadable is dropped, not fatal."""
        pattern = cls()
        days = data.get("days") if isinstance(data, dict) else None
        if not isinstance(days, list) or len(days) != 7:
            return pattern
        for weekday, day in enumerate(days):
            if isinstance(day, list):
                pattern.days[weekday] = [(span[0], span[1]) for span in day if _valid_span(span)][
                    -KEEP_PER_WEEKDAY:
                ]
        return pattern


def _next_to(slot: int, slots: set[int]) -> bool:
    return slot - 1 in slots or slot + 1 in slots


def _widened(slots: set[int]) -> set[int]:
    widened = {n for slot in slots for n in (slot - 1, slot, slot + 1)}
    return {slot for slot in widened if 0 <= slot < SLOTS_PER_DAY}


def _valid_span(span: Any) -> bool:
    return (
        isinstance(span, Sequence)
        and len(span) == 2
        and all(isinstance(value, int) for value in span)
        and 0 <= span[0] <= span[1] <= MINUTES_PER_DAY  # an end at midnight is the day's end
    )
