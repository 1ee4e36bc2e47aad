"""Departures as a table: settings and now → the next departure (pure: no Home Assistant)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.flexcharging.smart_charging.departures import (
    NO_DEPARTURE_HORIZON,
    accepted_for,
    calendar_trips,
    for_departure,
    next_departure,
    planning_deadline,
    ready_by_text,
    without_past_trip,
)
from custom_components.flexcharging.smart_charging.model import (
    DEFAULT_WEEK,
    CalendarTrip,
    DaySchedule,
    Departure,
    DepartureSource,
    Session,
    SmartSettings,
    Trip,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
WEDNESDAY_0230 = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)  # 02:30 local
HOUR = timedelta(hours=1)
NO_DAYS = tuple(DaySchedule(depart=False) for _ in range(7))


def week(**days: DaySchedule) -> tuple[DaySchedule, ...]:
    """No departure but on the days given ("monday"=...)."""
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return tuple(days.get(name, DaySchedule(depart=False)) for name in names)


@pytest.mark.parametrize(
    ("settings", "now", "expected"),
    [
        pytest.param(
            SmartSettings(),
            datetime(2026, 6, 10, 13, 0, tzinfo=UTC),  # Wednesday 06:00
            Departure(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), 80, DepartureSource.SCHEDULE, 2),
            id="today_later",
        ),
        pytest.param(
            SmartSettings(),
            datetime(2026, 6, 12, 15, 0, tzinfo=UTC),  # Friday 08:00 → Saturday 09:00
            Departure(datetime(2026, 6, 13, 16, 0, tzinfo=UTC), 80, DepartureSource.SCHEDULE, 5),
            id="weekend_time",
        ),
        pytest.param(
            SmartSettings(),
            datetime(2026, 6, 14, 17, 0, tzinfo=UTC),  # Sunday 10:00 → Monday 07:00
            Departure(datetime(2026, 6, 15, 14, 0, tzinfo=UTC), 80, DepartureSource.SCHEDULE, 0),
            id="next_week",
        ),
        pytest.param(
            SmartSettings(),
            datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # Saturday night before the DST change
            Departure(datetime(2026, 11, 1, 17, 0, tzinfo=UTC), 80, DepartureSource.SCHEDULE, 6),
            id="over_dst_change",
        ),
        pytest.param(
            SmartSettings(days=week(saturday=DaySchedule(ready_by=time(10, 0), target=95))),
            WEDNESDAY_0230,  # the next departure is three days ahead, with its own target
            Departure(datetime(2026, 6, 13, 17, 0, tzinfo=UTC), 95, DepartureSource.SCHEDULE, 5),
            id="days_ahead_own_target",
        ),
        pytest.param(
            SmartSettings(days=week(wednesday=DaySchedule(ready_by=time(2, 0)))),
            WEDNESDAY_0230,  # today's has passed: the same day next week
            Departure(datetime(2026, 6, 17, 9, 0, tzinfo=UTC), 80, DepartureSource.SCHEDULE, 2),
            id="only_day_passed_next_week",
        ),
        pytest.param(
            SmartSettings(days=NO_DAYS),
            WEDNESDAY_0230,
            Departure(None, 80, DepartureSource.NONE),
            id="no_departure",
        ),
        pytest.param(
            SmartSettings(trip=Trip(WEDNESDAY_0230 + 60 * HOUR, target=100)),
            WEDNESDAY_0230,  # the trip beats Wednesday's and Thursday's scheduled departures
            Departure(WEDNESDAY_0230 + 60 * HOUR, 100, DepartureSource.TRIP),
            id="trip_beats_schedule",
        ),
        pytest.param(
            SmartSettings(target=70, days=NO_DAYS, trip=Trip(WEDNESDAY_0230 + HOUR)),
            WEDNESDAY_0230,
            Departure(WEDNESDAY_0230 + HOUR, 70, DepartureSource.TRIP),
            id="trip_general_target",
        ),
        pytest.param(
            SmartSettings(trip=Trip(WEDNESDAY_0230 - HOUR, target=100)),
            WEDNESDAY_0230,  # a trip that has passed: the schedule again
            Departure(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), 80, DepartureSource.SCHEDULE, 2),
            id="past_trip_schedule_resumes",
        ),
    ],
)
def test_next_departure(settings: SmartSettings, now: datetime, expected: Departure) -> None:
    """The trip, else the weekly schedule's next departure (local time), else none."""
    assert next_departure(settings, now, PACIFIC) == expected


BERLIN_AT = WEDNESDAY_0230 + 3 * HOUR  # 05:30 local
BERLIN = CalendarTrip(start=BERLIN_AT, target=95, summary="Trip to Berlin")
LAKE_FRIDAY = CalendarTrip(start=date(2026, 6, 12), target=None, summary="Trip: lake")


@pytest.mark.parametrize(
    ("settings", "calendar", "expected"),
    [
        pytest.param(
            SmartSettings(),
            [BERLIN],  # 05:30 local: replaces Wednesday's 07:00
            Departure(BERLIN_AT, 95, DepartureSource.CALENDAR, event="Trip to Berlin"),
            id="event_replaces_its_day",
        ),
        pytest.param(
            SmartSettings(),
            [LAKE_FRIDAY],  # Friday: Wednesday's 07:00 comes first
            Departure(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), 80, DepartureSource.SCHEDULE, 2),
            id="schedule_before_a_later_event",
        ),
        pytest.param(
            SmartSettings(days=NO_DAYS),
            [LAKE_FRIDAY],  # all day: at Friday's ready-by time (07:00 local), general target
            Departure(
                datetime(2026, 6, 12, 14, 0, tzinfo=UTC),
                80,
                DepartureSource.CALENDAR,
                event="Trip: lake",
            ),
            id="all_day_event_at_the_days_time",
        ),
        pytest.param(
            SmartSettings(),
            [CalendarTrip(start=WEDNESDAY_0230 - HOUR, target=None, summary="Trip, gone")],
            # Left earlier today: today's scheduled departure is replaced, Thursday's is next.
            Departure(datetime(2026, 6, 11, 14, 0, tzinfo=UTC), 80, DepartureSource.SCHEDULE, 3),
            id="event_earlier_today_replaces_today",
        ),
        pytest.param(
            SmartSettings(trip=Trip(WEDNESDAY_0230 + 50 * HOUR)),
            [BERLIN],
            Departure(WEDNESDAY_0230 + 50 * HOUR, 80, DepartureSource.TRIP),
            id="manual_trip_beats_the_calendar",
        ),
    ],
)
def test_next_departure_with_a_calendar(
    settings: SmartSettings, calendar: list[CalendarTrip], expected: Departure
) -> None:
    """Calendar events are departures among the schedule's; a manual trip beats them all."""
    assert next_departure(settings, WEDNESDAY_0230, PACIFIC, calendar) == expected


@pytest.mark.parametrize(
    ("event", "keyword", "expected"),
    [
        pytest.param(
            {"start": "2026-06-12T05:30:00-07:00", "summary": "TRIP to Berlin 90%"},
            "trip",
            CalendarTrip(datetime(2026, 6, 12, 5, 30, tzinfo=PACIFIC), 90, "TRIP to Berlin 90%"),
            id="keyword_any_case_target_in_summary",
        ),
        pytest.param(
            {"start": "2026-06-12", "summary": "Lake", "description": "trip, charge to 85 %"},
            "Trip",
            CalendarTrip(date(2026, 6, 12), 85, "Lake"),
            id="all_day_keyword_and_target_in_description",
        ),
        pytest.param(
            {"start": "2026-06-12 05:30:00", "summary": "Trip 5% 1.5% 120%"},
            "trip",
            CalendarTrip(datetime(2026, 6, 12, 5, 30, tzinfo=PACIFIC), None, "Trip 5% 1.5% 120%"),
            id="no_zone_is_local_targets_out_of_range_ignored",
        ),
        pytest.param({"start": "2026-06-12", "summary": "Dentist"}, "trip", None, id="no_keyword"),
        pytest.param(
            {"start": "2026-06-12", "summary": "Dentist"},
            "",
            CalendarTrip(date(2026, 6, 12), None, "Dentist"),
            id="empty_keyword_every_event",
        ),
        pytest.param({"start": "soon", "summary": "Trip"}, "trip", None, id="bad_start"),
        pytest.param({"summary": "Trip"}, "trip", None, id="no_start"),
    ],
)
def test_calendar_trips(event: dict[str, str], keyword: str, expected: CalendarTrip | None) -> None:
    """Events with the keyword are departures; "90%" in their text is the target."""
    assert calendar_trips([event], keyword, PACIFIC) == ((expected,) if expected else ())


def test_past_trip_is_dropped() -> None:
    """A trip that has passed leaves the settings; a coming one stays."""
    coming = SmartSettings(trip=Trip(WEDNESDAY_0230 + HOUR))
    assert without_past_trip(coming, WEDNESDAY_0230) is coming
    assert without_past_trip(coming, WEDNESDAY_0230 + HOUR).trip is None


def test_the_departures_target_is_planned_for() -> None:
    """The policy sees the departure's target as the target."""
    departure = Departure(WEDNESDAY_0230, 95, DepartureSource.SCHEDULE, 2)
    assert for_departure(SmartSettings(target=80), departure).target == 95
    assert for_departure(SmartSettings(target=80), None).target == 80


def test_planning_deadline() -> None:
    """The departure; without one, every known price and a day at least."""
    at = WEDNESDAY_0230 + 50 * HOUR
    departure = Departure(at, 80, DepartureSource.SCHEDULE, 5)
    assert planning_deadline(departure, WEDNESDAY_0230, []) == at
    none = Departure(None, 80, DepartureSource.NONE)
    assert planning_deadline(none, WEDNESDAY_0230, []) == WEDNESDAY_0230 + NO_DEPARTURE_HORIZON
    far = WEDNESDAY_0230 + 40 * HOUR
    assert planning_deadline(none, WEDNESDAY_0230, [WEDNESDAY_0230 + HOUR, far]) == far


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        pytest.param(
            {"managed": True, "ready_by_weekday": "06:15:00", "ready_by_weekend": "10:00:00"},
            SmartSettings(
                managed=True,
                days=tuple(
                    DaySchedule(ready_by=time(6, 15) if day < 5 else time(10, 0))
                    for day in range(7)
                ),
            ),
            id="weekday_weekend_migrated",
        ),
        pytest.param({}, SmartSettings(), id="empty"),
        pytest.param({"ready_by_weekday": "25:99"}, SmartSettings(), id="damaged_old_time"),
        pytest.param({"target": "70"}, SmartSettings(target=70), id="target_as_text"),
        pytest.param(
            {"days": [{"ready_by": "nonsense"}, "x", *[{"depart": False}] * 5]},
            SmartSettings(
                days=tuple(
                    day if index < 2 else replace(day, depart=False)
                    for index, day in enumerate(DEFAULT_WEEK)
                )
            ),
            id="damaged_days_take_their_default",
        ),
        pytest.param(
            {"trip": {"at": "2026-06-10T10:00:00"}}, SmartSettings(), id="trip_without_zone"
        ),
        pytest.param({"trip": {"target": 90}}, SmartSettings(), id="trip_without_time"),
        pytest.param({"trip": "tomorrow"}, SmartSettings(), id="trip_not_a_dict"),
    ],
)
def test_settings_from_storage(stored: dict[str, object], expected: SmartSettings) -> None:
    """Stored settings, today's and those before the weekly schedule; damage takes defaults."""
    assert SmartSettings.from_dict(stored) == expected


def test_settings_round_trip() -> None:
    """What is stored is read back the same."""
    settings = SmartSettings(
        managed=True,
        days=week(friday=DaySchedule(ready_by=time(5, 45), target=90)),
        trip=Trip(WEDNESDAY_0230, target=100),
    )
    assert SmartSettings.from_dict(settings.as_dict()) == settings


def test_ready_by_text() -> None:
    """A message gives the date of a departure a day or more ahead (in no one language)."""
    assert ready_by_text(WEDNESDAY_0230 + 4 * HOUR, WEDNESDAY_0230, PACIFIC) == "06:30"
    assert ready_by_text(WEDNESDAY_0230 + 50 * HOUR, WEDNESDAY_0230, PACIFIC) == "2026-06-12 04:30"
    assert ready_by_text(None, WEDNESDAY_0230, PACIFIC) == ""


FRIDAY = Departure(WEDNESDAY_0230 + 2 * 24 * HOUR, 90, DepartureSource.SCHEDULE, weekday=4)
MONDAY = Departure(WEDNESDAY_0230 + 5 * 24 * HOUR, 90, DepartureSource.SCHEDULE, weekday=0)


@pytest.mark.parametrize(
    ("before", "departure", "kept"),
    [
        pytest.param(FRIDAY, FRIDAY, True, id="same_departure_keeps_it"),
        pytest.param(FRIDAY, MONDAY, False, id="next_departure_asks_again"),
        pytest.param(None, FRIDAY, True, id="first_evaluation_after_a_restart_keeps_it"),
    ],
)
def test_accepted_less_holds_for_its_departure(
    before: Departure | None, departure: Departure, kept: bool
) -> None:
    """ "Accept less" was said of one departure; a later one gets its own target back."""
    session = Session(plugged=True, accepted_target=60)
    assert accepted_for(session, before, departure).accepted_target == (60 if kept else None)
    unaccepted = Session(plugged=True)
    assert accepted_for(unaccepted, FRIDAY, MONDAY) is unaccepted
