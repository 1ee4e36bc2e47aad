"""The charging switch: start and stop charging."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchDeviceClass, SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .binary_sensor import _charging
from .coordinator import FlexChargingConfigEntry
from .entity import FlexChargingEntity, async_add_vehicle_entities

PARALLEL_UPDATES = 1

CHARGING_SWITCH = SwitchEntityDescription(
    key="charging_switch", translation_key="charging", device_class=SwitchDeviceClass.SWITCH
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charging switch per vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [ChargingSwitch(coordinator, vehicle_id, CHARGING_SWITCH)],
    )


class ChargingSwitch(FlexChargingEntity, SwitchEntity):
    """On while the vehicle charges; turning it on or off starts or stops charging."""

    @property
    def is_on(self) -> bool | None:
        """Whether the vehicle is charging."""
        return _charging(self.vehicle)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging."""
        await self.coordinator.async_start_charging(self.vehicle_id)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        await self.coordinator.async_stop_charging(self.vehicle_id)
