"""Departures: the next moment the car must be ready, from a one-off trip or the weekly schedule.

Pure and deterministic: no Home Assistant, no I/O, no clock (the caller passes `now`).

Rules:
- a trip beats the weekly schedule: until it has passed it is the only departure (the schedule
  resumes after it);
- a calendar's events (chosen in the options) are departures too, at their start (all-day
  events at their day's ready-by time), with the target their text names ("90%"); an event
  replaces its day's scheduled departure;
- the weekly schedule has a time and a target per day; a day may have no departure, so the next
  one can be days ahead (the plan then spans every known price until it);
- without any departure ahead the car charges to the general target on the cheapest known
  prices (at least a day ahead).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
import re
from typing import Any
from zoneinfo import ZoneInfo

from .model import (
    TARGET_RANGE,
    CalendarTrip,
    Departure,
    DepartureSource,
    Session,
    SmartSettings,
)

NO_DEPARTURE_HORIZON = timedelta(hours=24)  # the least a plan without a departure looks ahead
TARGET_IN_TEXT = re.compile(r"(?<![\d.,])(\d{1,3})\s*%")  # "90%", "90 %"


def without_past_trip(settings: SmartSettings, now: datetime) -> SmartSettings:
    """The settings without their trip once it has passed (unchanged otherwise)."""
    if settings.trip is not None and settings.trip.at <= now:
        return replace(settings, trip=None)
    return settings


def next_departure(
    settings: SmartSettings,
    now: datetime,
    time_zone: ZoneInfo,
    calendar: Sequence[CalendarTrip] = (),
) -> Departure:
    """The next departure after `now`: the trip, else the earliest event or scheduled one.

    A calendar event replaces its day's scheduled departure. None of them: no departure.
    """
    if (trip := settings.trip) is not None and trip.at > now:
        return Departure(
            at=trip.at.astimezone(UTC),
            target=settings.target if trip.target is None else trip.target,
            source=DepartureSource.TRIP,
        )
    local = now.astimezone(time_zone)
    candidates: list[Departure] = []
    event_days: set[date] = set()
    for event in calendar:
        if isinstance(event.start, datetime):
            at = event.start.astimezone(time_zone)
            day = at.date()
        else:  # all day: at the day's ready-by time
            day = event.start
            at = datetime.combine(day, settings.days[day.weekday()].ready_by, tzinfo=time_zone)
        event_days.add(day)
        if at > local:
            candidates.append(
                Departure(
                    at=at.astimezone(UTC),
                    target=settings.target if event.target is None else event.target,
                    source=DepartureSource.CALENDAR,
                    event=event.summary,
                )
            )
    for offset in range(8):  # today, and up to the same weekday next week
        day = local.date() + timedelta(days=offset)
        schedule = settings.days[day.weekday()]
        if not schedule.depart or day in event_days:
            continue
        candidate = datetime.combine(day, schedule.ready_by, tzinfo=time_zone)
        if candidate > local:
            candidates.append(
                Departure(
                    at=candidate.astimezone(UTC),
                    target=settings.target if schedule.target is None else schedule.target,
                    source=DepartureSource.SCHEDULE,
                    weekday=day.weekday(),
                )
            )
            break
    if not candidates:
        return Departure(at=None, target=settings.target, source=DepartureSource.NONE)
    return min(candidates, key=lambda departure: departure.at or local)


def calendar_trips(
    events: Iterable[Mapping[str, Any]], keyword: str, time_zone: ZoneInfo
) -> tuple[CalendarTrip, ...]:
    """The departures among a calendar's events (as `calendar.get_events` lists them).

    An event counts when its summary or description holds the keyword (any case; none given:
    every event). Its text may name the trip's target ("90%").
    """
    trips: list[CalendarTrip] = []
    for event in events:
        summary = str(event.get("summary") or "")
        text = f"{summary} {event.get('description') or ''}"
        if keyword.strip().casefold() not in text.casefold():
            continue
        try:
            start = _event_start(str(event["start"]), time_zone)
        except KeyError, ValueError:
            continue
        targets = [int(found) for found in TARGET_IN_TEXT.findall(text)]
        target = next(
            (value for value in targets if TARGET_RANGE[0] <= value <= TARGET_RANGE[1]), None
        )
        trips.append(CalendarTrip(start=start, target=target, summary=summary))
    return tuple(trips)


def _event_start(text: str, time_zone: ZoneInfo) -> datetime | date:
    if "T" not in text and " " not in text:
        return date.fromisoformat(text)
    start = datetime.fromisoformat(text)
    return start if start.tzinfo else start.replace(tzinfo=time_zone)


def for_departure(settings: SmartSettings, departure: Departure | None) -> SmartSettings:
    """The settings the policy plans with: the departure's target is the target."""
    return settings if departure is None else replace(settings, target=departure.target)


def planning_deadline(departure: Departure, now: datetime, price_ends: list[datetime]) -> datetime:
    """The plan's deadline: the departure, else the end of the known prices (a day at least)."""
    if departure.at is not None:
        return departure.at
    return max([now + NO_DEPARTURE_HORIZON, *price_ends])


def ready_by_text(deadline: datetime | None, now: datetime, time_zone: ZoneInfo) -> str:
    """The departure for a message: its time, with its date once it is a day or more ahead.

    The date is ISO (2026-06-12), not a weekday name: the name would be English in any language.
    """
    if deadline is None:
        return ""
    local = deadline.astimezone(time_zone)
    return local.strftime("%H:%M" if deadline - now < timedelta(days=1) else "%Y-%m-%d %H:%M")


def accepted_for(session: Session, before: Departure | None, departure: Departure) -> Session:
    """An accepted lower target holds for its departure only: another one asks again."""
    if session.accepted_target is None or before is None or before.at == departure.at:
        return session
    return replace(session, accepted_target=None)
