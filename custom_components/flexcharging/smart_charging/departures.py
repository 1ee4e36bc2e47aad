"""Departures: the next moment the car must be ready, from a one-off trip or the weekly schedule.

Pure and deterministic: no Home Assistant, no I/O, no clock (the caller passes `now`).

Rules:
- a trip beats the weekly schedule: until it has passed it is the only departure (the schedule
  resumes after it);
- the weekly schedule has a time and a target per day; a day may have no departure, so the next
  one can be days ahead (the plan then spans every known price until it);
- without any departure ahead the car charges to the general target on the cheapest known
  prices (at least a day ahead).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .model import Departure, DepartureSource, SmartSettings

NO_DEPARTURE_HORIZON = timedelta(hours=24)  # the least a plan without a departure looks ahead


def without_past_trip(settings: SmartSettings, now: datetime) -> SmartSettings:
    """The settings without their trip once it has passed (unchanged otherwise)."""
    if settings.trip is not None and settings.trip.at <= now:
        return replace(settings, trip=None)
    return settings


def next_departure(settings: SmartSettings, now: datetime, time_zone: ZoneInfo) -> Departure:
    """The next departure after `now`: the trip, else the weekly schedule's next, else none."""
    if (trip := settings.trip) is not None and trip.at > now:
        return Departure(
            at=trip.at.astimezone(UTC),
            target=settings.target if trip.target is None else trip.target,
            source=DepartureSource.TRIP,
        )
    local = now.astimezone(time_zone)
    for offset in range(8):  # today, and up to the same weekday next week
        day = local.date() + timedelta(days=offset)
        schedule = settings.days[day.weekday()]
        if not schedule.depart:
            continue
        candidate = datetime.combine(day, schedule.ready_by, tzinfo=time_zone)
        if candidate > local:
            return Departure(
                at=candidate.astimezone(UTC),
                target=settings.target if schedule.target is None else schedule.target,
                source=DepartureSource.SCHEDULE,
                weekday=day.weekday(),
            )
    return Departure(at=None, target=settings.target, source=DepartureSource.NONE)


def for_departure(settings: SmartSettings, departure: Departure | None) -> SmartSettings:
    """The settings the policy plans with: the departure's target is the target."""
    return settings if departure is None else replace(settings, target=departure.target)


def planning_deadline(departure: Departure, now: datetime, price_ends: list[datetime]) -> datetime:
    """The plan's deadline: the departure, else the end of the known prices (a day at least)."""
    if departure.at is not None:
        return departure.at
    return max([now + NO_DEPARTURE_HORIZON, *price_ends])
