"""Departures from a calendar: its events with the keyword chosen in the options.

Read with the calendar's own `get_events` action (every calendar integration answers it), at
start-up, when the calendar's state changes, and every quarter of an hour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval
from homeassistant.util import dt as dt_util

from ..const import CONF_CALENDAR_ENTITY, CONF_CALENDAR_KEYWORD, LOGGER
from ..models import FlexChargingConfigEntry
from .departures import calendar_trips
from .model import CalendarTrip

CALENDAR_DOMAIN = "calendar"
LOOK_AHEAD = timedelta(days=8)  # a week of departures, as the weekly schedule
READ_EVERY = timedelta(minutes=15)


class CalendarInputs:
    """The departures of the calendar chosen in the options (none without one)."""

    def __init__(self, hass: HomeAssistant, entry: FlexChargingConfigEntry) -> None:
        """Read the calendar and keyword from the options."""
        self.hass = hass
        self.entry = entry
        self.entity_id: str | None = entry.options.get(CONF_CALENDAR_ENTITY) or None
        self.keyword: str = entry.options.get(CONF_CALENDAR_KEYWORD) or ""
        self.trips: tuple[CalendarTrip, ...] = ()
        self._failed = False

    @callback
    def async_start(self, on_change: Callable[[], None]) -> list[CALLBACK_TYPE]:
        """Follow the calendar; `on_change` runs whenever its departures change."""
        if self.entity_id is None:
            return []

        async def _read(*_: object) -> None:
            if await self.async_refresh():
                on_change()

        @callback
        def _schedule(*_: datetime | Event[EventStateChangedData]) -> None:
            self.entry.async_create_background_task(self.hass, _read(), "flexcharging calendar")

        return [
            async_track_state_change_event(self.hass, [self.entity_id], _schedule),
            async_track_time_interval(
                self.hass, _schedule, READ_EVERY, name="flexcharging calendar"
            ),
        ]

    async def async_refresh(self) -> bool:
        """Read the coming events; whether the departures changed. A failed read keeps the last."""
        if self.entity_id is None:
            return False
        time_zone = ZoneInfo(self.hass.config.time_zone)
        # From the start of today: an event earlier today still replaces today's departure.
        start = dt_util.start_of_local_day()
        try:
            response = await self.hass.services.async_call(
                CALENDAR_DOMAIN,
                "get_events",
                {
                    ATTR_ENTITY_ID: self.entity_id,
                    "start_date_time": start,
                    "end_date_time": dt_util.now() + LOOK_AHEAD,
                },
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as err:
            if not self._failed:
                LOGGER.warning("Could not read the departures in %s: %s", self.entity_id, err)
            self._failed = True
            return False
        self._failed = False
        answer = (response or {}).get(self.entity_id)
        listed = answer.get("events") if isinstance(answer, dict) else None
        events = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
        trips = calendar_trips(events, self.keyword, time_zone)
        changed = trips != self.trips
        self.trips = trips
        return changed
