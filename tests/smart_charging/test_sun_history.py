"""The sun learned from the meter (`smart_charging/sun_history.py`): pure, no Home Assistant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.flexcharging.smart_charging.sun_history import (
    AHEAD,
    SLOTS_PER_DAY,
    SunHistory,
)

ZONE = ZoneInfo("Asia/Tokyo")  # no daylight saving time (test_daylight_saving_time has it)
MONDAY = datetime(2026, 6, 8, tzinfo=ZONE)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def sunny(hour: float) -> float:
    """A day's surplus (kW): 0.3 kW imported at night, the sun 08:00-18:00 peaking at 13:00."""
    if 8 <= hour < 18:
        return 5.0 - abs(hour - 13)
    return -0.3


def live(history: SunHistory, start: datetime, hours: float, every: timedelta = MINUTE) -> None:
    """Readings of `sunny` from `start` for `hours`, one every `every`."""
    moment = start
    while moment < start + timedelta(hours=hours):
        history.record(moment, sunny(moment.hour + moment.minute / 60))
        moment += every


def test_nothing_is_expected_before_a_whole_day_was_seen() -> None:
    """Today's readings alone teach nothing: the expectation is of days before today."""
    history = SunHistory()
    live(history, MONDAY, 20)
    assert history.expected(MONDAY + 20 * HOUR) == []


def test_a_day_seen_is_expected_again_today_and_tomorrow() -> None:
    """After a whole day each hour's mean surplus is expected at the same hour, 36 h ahead."""
    history = SunHistory()
    live(history, MONDAY, 24)
    now = MONDAY + timedelta(days=1, hours=9, minutes=30)
    periods = history.expected(now)
    # From the hour now is in until 36 hours ahead, an hour each.
    assert periods[0][0] == now.replace(minute=0)
    assert periods[-1][1] == (now + AHEAD).replace(minute=0) + HOUR
    assert all(end - start == HOUR for start, end, _ in periods)
    by_start = {start: kw for start, _, kw in periods}
    # 13:00-14:00: the mean of 5.0 falling to 4.0 over the hour.
    assert by_start[now.replace(hour=13, minute=0)] == pytest.approx(4.5, abs=0.01)
    assert by_start[now.replace(hour=13, minute=0) + timedelta(days=1)] == pytest.approx(
        4.5, abs=0.01
    )
    assert by_start[now.replace(hour=22, minute=0)] == pytest.approx(-0.3)


def test_the_mean_of_the_last_three_days() -> None:
    """A cloudy day after sunny ones lowers the expected mean by a third, not the best the hour
    gave; older days drop out."""
    history = SunHistory()
    live(history, MONDAY, 72)  # three sunny days
    cloudy = MONDAY + timedelta(days=3)
    moment = cloudy
    while moment < cloudy + timedelta(days=1):
        history.record(moment, sunny(moment.hour + moment.minute / 60) / 5)
        moment += MINUTE
    noon = cloudy + timedelta(days=1, hours=13)
    (kw,) = [kw for start, _, kw in history.expected(noon) if start == noon]
    assert kw == pytest.approx(4.5 * (2 + 1 / 5) / 3, abs=0.01)
    # The best of them (what a start on the sun waits for) is still the sunny days'.
    (best,) = [kw for start, _, kw in history.expected(noon, best=True) if start == noon]
    assert best == pytest.approx(4.5, abs=0.01)
    # Today and the three days before it are kept: Monday goes with Friday's first hour.
    assert min(history.days) == MONDAY.date()
    history.record(noon, 4.0)
    assert min(history.days) == MONDAY.date() + timedelta(days=1)


@pytest.mark.parametrize(
    ("today_share", "rest"),
    [
        (0.3, 0.3),  # much duller than the days learned: the rest of today is lowered so
        (0.6, 1.0),  # a passing cloud: all of the learned sun is still expected
    ],
)
def test_a_dull_day_lowers_the_rest_of_it(today_share: float, rest: float) -> None:
    """With `dull_today`, today's finished sunny hours against the learned ones scale the rest
    of today (only today, only when much duller); without it the days learned stand."""
    history = SunHistory()
    live(history, MONDAY, 24)
    today = MONDAY + timedelta(days=1)
    moment = today
    while moment < today + 11 * HOUR:  # until 11:00, at today_share of the sun
        kw = sunny(moment.hour + moment.minute / 60)
        history.record(moment, kw * today_share if kw > 0 else kw)
        moment += MINUTE
    now = today + timedelta(hours=11, minutes=5)
    lowered = {start: kw for start, _, kw in history.expected(now, best=True, dull_today=True)}
    learned = {start: kw for start, _, kw in history.expected(now, best=True)}
    noon = today + 13 * HOUR
    assert learned[noon] == pytest.approx(4.5, abs=0.01)
    assert lowered[noon] == pytest.approx(4.5 * rest, abs=0.02)
    # Tomorrow may be sunny again; the night's import is not the sun's to lower.
    assert lowered[noon + timedelta(days=1)] == pytest.approx(4.5, abs=0.01)
    assert lowered[today + 22 * HOUR] == pytest.approx(-0.3)


def test_a_dull_day_is_judged_by_its_sunny_hours_only() -> None:
    """Before any of today's hours the days learned found sunny is over, nothing is lowered."""
    history = SunHistory()
    live(history, MONDAY, 24)
    today = MONDAY + timedelta(days=1)
    moment = today
    while moment < today + 9 * HOUR:  # an overcast morning, but only 08:00 is sunny yet
        history.record(moment, -0.3)
        moment += MINUTE
    early = {start: kw for start, _, kw in history.expected(today + 8 * HOUR, dull_today=True)}
    assert early[today + 13 * HOUR] == pytest.approx(4.5, abs=0.01)
    # 08:00 (0.5 kW learned) is under a quarter of the best hour: it does not judge the day.
    later = {start: kw for start, _, kw in history.expected(today + 9 * HOUR, dull_today=True)}
    assert later[today + 13 * HOUR] == pytest.approx(4.5, abs=0.01)
    while moment < today + 10 * HOUR:  # 09:00 (1.5 kW learned) gives nothing
        history.record(moment, -0.3)
        moment += MINUTE
    dull = {start: kw for start, _, kw in history.expected(today + 10 * HOUR, dull_today=True)}
    assert dull[today + 13 * HOUR] == 0.0


def test_a_reading_holds_a_quarter_hour_at_most() -> None:
    """A meter that stops reporting is not extrapolated: hours it missed are not expected."""
    history = SunHistory()
    live(history, MONDAY, 24, every=20 * MINUTE)  # each reading covers 15 of 20 minutes
    assert history.days[MONDAY.date()].complete
    gap = SunHistory()
    live(gap, MONDAY, 10)
    gap.record(MONDAY + 10 * HOUR, 3.0)
    live(gap, MONDAY + 20 * HOUR, 4)  # the meter was silent 10:00-20:00
    day = gap.days[MONDAY.date()]
    # The reading at 10:00 held 15 minutes: too little of the hour to say what it was.
    assert (day.seconds[10], day.mean(10)) == (900, None)
    assert day.seconds[11] == 0
    # 10 of 24 hours missing: the day does not teach.
    assert gap.expected(MONDAY + timedelta(days=1, hours=8)) == []


def test_no_reading_ends_the_previous_one() -> None:
    """An unavailable meter (None) or a non-number: the time since the last reading counts,
    nothing after it."""
    history = SunHistory()
    history.record(MONDAY + 12 * HOUR, 2.0)
    history.record(MONDAY + 12 * HOUR + 10 * MINUTE, None)
    history.record(MONDAY + 12 * HOUR + 40 * MINUTE, float("nan"))
    history.record(MONDAY + 13 * HOUR, 1.0)
    day = history.days[MONDAY.date()]
    assert (day.seconds[12], day.energy[12]) == (600, 1200)
    assert history.last == (MONDAY + 13 * HOUR, 1.0)


def test_a_reading_across_midnight_is_split() -> None:
    """A reading held over midnight counts on both days, in their own hours."""
    history = SunHistory()
    history.record(MONDAY + timedelta(hours=23, minutes=50), -0.5)
    history.record(MONDAY + timedelta(days=1, minutes=5), -0.4)
    assert history.days[MONDAY.date()].seconds[SLOTS_PER_DAY - 1] == 600
    assert history.days[MONDAY.date() + timedelta(days=1)].seconds[0] == 300


def test_stored_and_read_back() -> None:
    """The history survives a restart; what does not read is dropped."""
    history = SunHistory()
    live(history, MONDAY, 26)
    stored = history.stored()
    again = SunHistory.from_stored(
        {**stored, "not a day": stored["2026-06-08"], "2026-06-01": {"energy": [1.0]}}
    )
    assert set(again.days) == {date(2026, 6, 8), date(2026, 6, 9)}
    now = MONDAY + timedelta(days=1, hours=3)
    read, kept = again.expected(now), history.expected(now)
    assert [period[:2] for period in read] == [period[:2] for period in kept]
    assert [period[2] for period in read] == pytest.approx([period[2] for period in kept], abs=0.01)
    assert SunHistory.from_stored(None).days == {}
    assert SunHistory.from_stored({"2026-06-08": {"energy": ["x"] * 24}}).days == {}


def test_daylight_saving_time_does_not_move_the_sun() -> None:
    """Hours are the zone's standard time: sunny days learned before Europe's spring change
    (29 March 2026), their best hour 12:00-13:00 UTC (13:00 on the winter clock), expect it at
    12:00 UTC after the change too: 14:00 on the summer clock, not 13:00."""
    berlin = ZoneInfo("Europe/Berlin")
    history = SunHistory()
    moment = datetime(2026, 3, 26, tzinfo=UTC)
    while moment < datetime(2026, 3, 30, tzinfo=UTC):
        utc_hour = moment.hour + moment.minute / 60
        history.record(moment.astimezone(berlin), 5.0 - abs(utc_hour - 12.5))
        moment += MINUTE
    now = datetime(2026, 3, 30, 6, tzinfo=berlin)
    periods = history.expected(now)
    peak = max(periods, key=lambda period: period[2])
    assert peak[0] == datetime(2026, 3, 30, 12, tzinfo=UTC)
    assert peak[0].astimezone(berlin).hour == 14


def test_a_dull_day_is_judged_by_its_finished_hours_in_summer_time() -> None:
    """Berlin in summer (standard time UTC+1, the clock UTC+2): sunny days learned, then a
    morning at a fifth of their sun. At 12:35 on the clock (10:35 UTC) the hours finished by
    standard time, up to 11:00, judge the day: the rest of today is expected at a fifth."""
    berlin = ZoneInfo("Europe/Berlin")

    def sun(moment: datetime) -> float:
        utc_hour = moment.hour + moment.minute / 60
        return 5.0 - abs(utc_hour - 11.5) if 6.5 <= utc_hour < 16.5 else -0.3

    history = SunHistory()
    moment = datetime(2026, 6, 8, tzinfo=berlin).astimezone(UTC)
    today = datetime(2026, 6, 10, tzinfo=berlin).astimezone(UTC)
    now = datetime(2026, 6, 10, 12, 35, tzinfo=berlin)
    while moment < now:
        kw = sun(moment)
        history.record(moment.astimezone(berlin), kw / 5 if moment >= today and kw > 0 else kw)
        moment += MINUTE
    lowered = {start: kw for start, _, kw in history.expected(now, best=True, dull_today=True)}
    # 08:00-10:00 UTC judge it (2.0 and 3.0 kW learned; 07:00, 1.0 kW, is not sunny enough).
    noon = datetime(2026, 6, 10, 11, tzinfo=UTC)  # 11:00-12:00 UTC: 4.75 kW learned
    assert lowered[noon] == pytest.approx(4.75 / 5, abs=0.01)
    assert lowered[noon + timedelta(days=1)] == pytest.approx(4.75, abs=0.01)
