"""The plug-in guard's pure decisions: learned plug-in times, bursts, triggers (no Home Assistant)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.flexcharging.plug_pattern import (
    BURST_OFFSETS,
    BURSTS_PER_DAY,
    GUARD_MAX_INTERVAL,
    GUARD_MIN_INTERVAL,
    KEEP_PER_WEEKDAY,
    SLOT_MINUTES,
    PlugPattern,
    burst_affordable,
    burst_times,
    guard_interval,
    is_arrival,
    max_window_slots,
)

ZONE = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 6, 1, tzinfo=ZONE)  # 1 June 2026 is a Monday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time `day` days after Monday 1 June 2026."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def slot(hour: int, minute: int = 0) -> int:
    """The slot of a time of day."""
    return (hour * 60 + minute) // SLOT_MINUTES


# --- triggers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity_id", "old", "new", "arrival"),
    [
        ("person.alex", "not_home", "home", True),
        ("device_tracker.phone", "work", "home", True),
        ("person.alex", "home", "not_home", False),  # leaving
        ("person.alex", "not_home", "work", False),  # arriving elsewhere
        ("binary_sensor.wallbox_plug", "off", "on", True),
        ("binary_sensor.wallbox_plug", "on", "off", False),  # unplugged
        ("cover.garage_door", "closed", "opening", True),
        ("cover.garage_door", "opening", "open", True),
        ("cover.garage_door", "open", "closing", False),
        ("input_boolean.arrived", "off", "on", True),
        ("sensor.wallbox_status", "available", "connected", True),
        ("binary_sensor.wallbox_plug", "unavailable", "on", False),  # back after a restart
        ("binary_sensor.wallbox_plug", "off", "unknown", False),
        ("binary_sensor.wallbox_plug", None, "on", False),  # entity added
        ("binary_sensor.wallbox_plug", "on", None, False),  # entity removed
        ("binary_sensor.wallbox_plug", "on", "on", False),  # attributes only
    ],
)
def test_is_arrival(entity_id: str, old: str | None, new: str | None, arrival: bool) -> None:
    """Arriving home, plugging in, opening: yes. Leaving, unplugging, closing, restarts: no."""
    assert is_arrival(entity_id, old, new) is arrival


def test_burst_reads_minutes_after_the_trigger() -> None:
    """A burst reads within the first minutes, then less often, for 20 minutes."""
    triggered = at(0, 18)
    times = burst_times(triggered)
    assert times[0] == triggered + timedelta(minutes=1)
    assert times[-1] == triggered + timedelta(minutes=20)
    assert times == sorted(times)
    assert len(times) == len(BURST_OFFSETS)


def test_burst_affordable() -> None:
    """A burst needs budget for all its reads, and only a few a day."""
    assert burst_affordable(left=100, bursts_today=0)
    assert not burst_affordable(left=len(BURST_OFFSETS) - 1, bursts_today=0)
    assert not burst_affordable(left=100, bursts_today=BURSTS_PER_DAY)


# --- the budget of the learned window ------------------------------------------------------------


def test_guard_interval_from_the_reads_a_day() -> None:
    """A 120-minute window with 5 reads a day: about half of it is read, every 12 minutes."""
    assert guard_interval(per_day=5, window_minutes=120) == timedelta(minutes=12)


def test_guard_interval_bounds() -> None:
    """Never more often than every 5 minutes; no guard when it could only read rarely."""
    assert guard_interval(per_day=100, window_minutes=60) == GUARD_MIN_INTERVAL
    assert guard_interval(per_day=1, window_minutes=240) is None
    assert guard_interval(per_day=0, window_minutes=60) is None
    assert guard_interval(per_day=5, window_minutes=0) is None
    assert guard_interval(per_day=5, window_minutes=300) == GUARD_MAX_INTERVAL


# --- learning ------------------------------------------------------------------------------------


def test_nothing_learned_guards_the_evening() -> None:
    """Before the first plug-in, the evening hours home plug-ins mostly happen in are guarded."""
    pattern = PlugPattern()
    assert not pattern.learned
    window = pattern.window(0)
    # 16:00-21:00, weighed to the middle: nine tenths of it, a slot either side
    assert (min(window), max(window) + 1) == (slot(16), slot(20, 15))
    assert pattern.guarded(at(0, 18))
    assert not pattern.guarded(at(0, 12))
    assert pattern.next_guarded(at(0, 12)) == at(0, 16)
    # Cut to what the budget can read, the likeliest middle stays: 17:15-19:45.
    narrow = pattern.window(0, max_slots=10)
    assert (min(narrow), max(narrow) + 1, len(narrow)) == (slot(17, 15), slot(19, 45), 10)
    assert pattern.guarded(at(3, 18, 30), max_slots=10)
    assert not pattern.guarded(at(3, 16, 30), max_slots=10)


def test_the_first_plug_in_replaces_the_evening_guess() -> None:
    """One learned plug-in at 07:00 is guarded; the evening no longer is."""
    pattern = PlugPattern()
    pattern.record(at(0, 7, 0), at(0, 7, 5))
    assert pattern.learned
    assert pattern.guarded(at(1, 7, 2))
    assert not pattern.guarded(at(1, 18))


def test_one_precise_plug_in_guards_its_time_on_every_day() -> None:
    """One plug-in seen within minutes guards that time, a slot either side, on every weekday."""
    pattern = PlugPattern()
    pattern.record(at(0, 18, 5), at(0, 18, 10))
    for weekday in range(7):
        assert pattern.window(weekday) == {slot(17, 45), slot(18), slot(18, 15)}
    assert pattern.guarded(at(3, 17, 50))
    assert not pattern.guarded(at(3, 17, 40))
    assert pattern.next_guarded(at(3, 12)) == at(3, 17, 45)
    assert pattern.next_guarded(at(3, 18, 20)) == at(4, 17, 45)  # tomorrow's


def test_a_window_is_cut_to_what_the_budget_reads_often() -> None:
    """Vague plug-ins over eight hours: only the likeliest slots, as many as 5 reads a day cover
    at a read every 15 minutes (150 minutes), where the spans overlap most."""
    assert max_window_slots(5) == 10
    assert max_window_slots(0) == 1
    pattern = PlugPattern()
    pattern.record(at(0, 11, 30), at(0, 19, 30))
    pattern.record(at(1, 12), at(1, 19, 45))
    pattern.record(at(2, 10), at(2, 18))
    window = pattern.window(3, max_slots=10)
    assert len(window) <= 10
    assert min(window) >= slot(11, 45)  # the overlap, 12:00-18:00, and a margin slot
    assert max(window) <= slot(18, 15)
    assert len(pattern.window(3)) > 20  # uncut: 90 % of eight hours


def test_stretch_of_the_window() -> None:
    """The run of window slots a moment falls in, from its first slot to past its last."""
    pattern = PlugPattern()
    pattern.record(at(0, 18, 5), at(0, 18, 10))
    assert pattern.stretch(at(2, 18, 20)) == (at(2, 17, 45), at(2, 18, 30))
    assert pattern.stretch(at(2, 17, 44)) is None


def test_a_late_seen_plug_in_spreads_over_its_span() -> None:
    """Seen only hours later: every slot it may have happened in is guarded a little."""
    pattern = PlugPattern()
    pattern.record(at(0, 14), at(0, 19, 30))
    weights = pattern.weights(0)
    assert sum(weights) == pytest.approx(1.0)
    assert weights[slot(14)] == pytest.approx(weights[slot(19)])
    assert weights[slot(13, 45)] == 0
    assert len(pattern.window(0)) >= 0.9 * (5.5 * 60 / SLOT_MINUTES)


def test_precise_plug_ins_outweigh_a_vague_one() -> None:
    """Plug-ins seen by frequent reads narrow the window that a late-seen one had widened."""
    pattern = PlugPattern()
    pattern.record(at(0, 12), at(0, 20))  # seen eight hours late
    for day in range(1, 7):
        pattern.record(at(day, 18, 5), at(day, 18, 12))
    window = pattern.window(0)
    assert slot(18) in window
    # 6 of 7 is not yet 90 %: the rest comes from the late-seen one's slots nearest 18:00.
    assert slot(12) not in window
    assert min(window) >= slot(16)
    assert max(window) <= slot(20, 15)


def test_a_weekday_uses_its_own_times_once_it_has_enough() -> None:
    """Mondays at 18:00 and the other days at 08:00: Mondays get their own window after three."""
    pattern = PlugPattern()
    for week in range(3):
        for day in range(1, 7):
            pattern.record(at(7 * week + day, 8), at(7 * week + day, 8, 5))
    pattern.record(at(0, 18), at(0, 18, 5))
    pattern.record(at(7, 18), at(7, 18, 5))
    assert slot(8) in pattern.window(0)  # two Mondays: every day's times still count
    pattern.record(at(14, 18), at(14, 18, 5))
    assert slot(18) in pattern.window(0)
    assert slot(8) not in pattern.window(0)
    assert slot(8) in pattern.window(1)


def test_a_weekdays_few_times_grow_into_every_days_next_to_them() -> None:
    """Three Tuesdays at 17:30-17:45, other days until 18:30: the Tuesday window, cut to what
    the budget reads (10 slots), grows into every day's later slots next to it."""
    pattern = PlugPattern()
    for week in range(3):
        pattern.record(at(7 * week + 1, 17, 30), at(7 * week + 1, 17, 35))
        pattern.record(at(7 * week + 2, 18, 20), at(7 * week + 2, 18, 25))
        pattern.record(at(7 * week + 3, 17, 55), at(7 * week + 3, 18))
    assert max(pattern.window(1)) == slot(18, 30)
    assert pattern.window(1, max_slots=4) == {slot(17, 15), slot(17, 30), slot(17, 45), slot(18)}
    # Not into a different habit far from it: Mondays at 08:00 stay there.
    for week in range(3):
        pattern.record(at(7 * week, 8), at(7 * week, 8, 5))
    assert max(pattern.window(0)) <= slot(8, 15)


def test_a_late_seen_plug_in_does_not_push_out_every_days_times() -> None:
    """A Tuesday seen four hours late, two at 17:30-17:45, most days at 18:00-18:30: cut to 10
    slots, Tuesday keeps every day's 18:15 rather than the late-seen one's afternoon."""
    pattern = PlugPattern()
    pattern.record(at(1, 14, 8), at(1, 18))  # the window missed it: seen at 18:00
    pattern.record(at(8, 17, 33), at(8, 17, 45))
    pattern.record(at(15, 17, 42), at(15, 17, 51))
    for week in range(3):
        for day in (0, 2, 3, 4):
            pattern.record(at(7 * week + day, 18, 15), at(7 * week + day, 18, 30))
    window = pattern.window(1, max_slots=10)
    assert len(window) == 10
    assert {slot(17, 30), slot(17, 45), slot(18), slot(18, 15)} <= window
    assert slot(15) not in window


def test_old_plug_ins_are_forgotten() -> None:
    """A weekday keeps its last six plug-ins: a changed habit takes over."""
    pattern = PlugPattern()
    for week in range(KEEP_PER_WEEKDAY):
        pattern.record(at(7 * week, 8), at(7 * week, 8, 5))
    for week in range(KEEP_PER_WEEKDAY, 2 * KEEP_PER_WEEKDAY):
        pattern.record(at(7 * week, 18), at(7 * week, 18, 5))
    assert pattern.count() == KEEP_PER_WEEKDAY
    assert slot(8) not in pattern.window(0)
    assert slot(18) in pattern.window(0)


def test_spans_are_clipped_to_eight_hours_and_the_day() -> None:
    """Seen a day late: the last eight hours count. Over midnight: the day with most of it."""
    pattern = PlugPattern()
    pattern.record(at(0, 6), at(1, 20))
    assert pattern.days[1] == [(12 * 60, 20 * 60)]
    pattern.record(at(1, 23), at(2, 1, 30))
    assert pattern.days[2] == [(0, 90)]
    # Unplugged at 17:45, first seen plugged in at 00:30: the evening's, up to midnight.
    pattern.record(at(3, 17, 45), at(4, 0, 30))
    assert pattern.days[3] == [(17 * 60 + 45, 24 * 60)]
    assert pattern.days[4] == []
    assert slot(18) in pattern.window(3)
    assert PlugPattern.from_dict(pattern.as_dict()).days == pattern.days


def test_stored_and_read_back() -> None:
    """What is stored reads back the same; damaged data is dropped, not fatal."""
    pattern = PlugPattern()
    pattern.record(at(0, 18), at(0, 18, 10))
    pattern.record(at(5, 9), at(5, 9, 30))
    assert PlugPattern.from_dict(pattern.as_dict()) == pattern
    assert PlugPattern.from_dict(None) == PlugPattern()
    assert PlugPattern.from_dict({"days": [[]] * 6}) == PlugPattern()
    damaged = pattern.as_dict()
    damaged["days"][0].append([1200, 10])  # ends before it starts
    damaged["days"][0].append([1, 2, 3])
    damaged["days"][0].append(["18:00", 1100])
    damaged["days"][0].append([0, 1441])  # past the day
    damaged["days"][1] = "junk"
    assert PlugPattern.from_dict(damaged) == pattern
