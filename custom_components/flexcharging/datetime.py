"""The next departure: shown (a trip, or the weekly schedule's next), and set as a one-off trip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.datetime import DateTimeEntity, DateTimeEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .entity import FlexChargingEntityDescription, SmartChargingEntity, async_add_vehicle_entities
from .models import FlexChargingConfigEntry
from .services import validated_trip
from .smart_charging.departures import next_departure
from .smart_charging.model import Departure

PARALLEL_UPDATES = 1  # setting a departure re-plans, which may send a command


@dataclass(frozen=True, kw_only=True)
class FlexChargingDateTimeDescription(FlexChargingEntityDescription, DateTimeEntityDescription):
    """A date and time."""


NEXT_DEPARTURE = FlexChargingDateTimeDescription(
    key="next_departure", translation_key="next_departure", available_fn=None
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the next departure of every vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [NextDeparture(coordinator, vehicle_id, NEXT_DEPARTURE)],
    )


class NextDeparture(SmartChargingEntity, DateTimeEntity):
    """When the car must next be ready; setting it plans a one-off trip (the general target)."""

    entity_description: FlexChargingDateTimeDescription

    def _departure(self) -> Departure:
        return next_departure(
            self.smart_state.settings,
            dt_util.utcnow(),
            ZoneInfo(self.hass.config.time_zone),
            self.manager.calendar.trips,
        )

    @property
    def native_value(self) -> datetime | None:
        """The next departure (None: none in the coming week)."""
        return self._departure().at

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Its source (trip, calendar, schedule, none), target, and calendar event."""
        departure = self._departure()
        return {
            "source": departure.source.value,
            "target": departure.target,
            "event": departure.event,
        }

    async def async_set_value(self, value: datetime) -> None:
        """Plan a one-off trip at `value`; it beats the weekly schedule until it has passed."""
        trip = validated_trip(value, None, dt_util.utcnow())
        await self.manager.async_update_settings(self.vehicle_id, trip=trip)
