"""Binary sensors: plugged in, charging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import ChargingStatus
from .coordinator import FlexChargingConfigEntry, VehicleData
from .entity import FlexChargingEntity, async_add_vehicle_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class FlexChargingBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor and how to read it."""

    value_fn: Callable[[VehicleData], bool | None]


def _charging(vehicle: VehicleData) -> bool | None:
    state = vehicle.state
    if state.charging_status.known:
        return state.charging_status.value is ChargingStatus.CHARGING
    return state.is_charging.value


BINARY_SENSORS: tuple[FlexChargingBinarySensorDescription, ...] = (
    FlexChargingBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=lambda vehicle: vehicle.state.plugged_in.value,
    ),
    FlexChargingBinarySensorDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        value_fn=_charging,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [
            FlexChargingBinarySensor(coordinator, vehicle_id, description)
            for description in BINARY_SENSORS
        ],
    )


class FlexChargingBinarySensor(FlexChargingEntity, BinarySensorEntity):
    """A vehicle binary sensor."""

    entity_description: FlexChargingBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The current value."""
        return self.entity_description.value_fn(self.vehicle)
