"""The vehicle's location: only when the user opted in (and granted it in Connect)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.device_tracker import TrackerEntity, TrackerEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_READ_LOCATION
from .entity import FlexChargingEntity, FlexChargingEntityDescription, async_add_vehicle_entities
from .models import FlexChargingConfigEntry, VehicleCoordinator

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class FlexChargingTrackerDescription(FlexChargingEntityDescription, TrackerEntityDescription):
    """A device tracker."""


LOCATION = FlexChargingTrackerDescription(key="location", translation_key="location")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a tracker per vehicle; enabled only when location was opted into."""
    opted_in = bool(entry.options.get(CONF_READ_LOCATION, entry.data.get(CONF_READ_LOCATION)))
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [
            VehicleLocation(coordinator, vehicle_id, LOCATION, opted_in)
        ],
    )


class VehicleLocation(FlexChargingEntity, TrackerEntity):
    """Where the vehicle is."""

    entity_description: FlexChargingTrackerDescription

    def __init__(
        self,
        coordinator: VehicleCoordinator,
        vehicle_id: str,
        description: FlexChargingTrackerDescription,
        opted_in: bool,
    ) -> None:
        """Disabled by default unless the user opted into location."""
        super().__init__(coordinator, vehicle_id, description)
        self._attr_entity_registry_enabled_default = opted_in

    @property
    def latitude(self) -> float | None:
        """Latitude."""
        location = self.vehicle.state.location.value
        return location.latitude if location else None

    @property
    def longitude(self) -> float | None:
        """Longitude."""
        location = self.vehicle.state.location.value
        return location.longitude if location else None
