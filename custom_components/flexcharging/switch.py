"""Switches: charging (start/stop now) and managed charging (smart charging on or off)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchDeviceClass, SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import (
    FlexChargingEntity,
    FlexChargingEntityDescription,
    SmartChargingEntity,
    async_add_vehicle_entities,
)
from .models import FlexChargingConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class FlexChargingSwitchDescription(FlexChargingEntityDescription, SwitchEntityDescription):
    """A switch."""


CHARGING_SWITCH = FlexChargingSwitchDescription(
    key="charging_switch", translation_key="charging", device_class=SwitchDeviceClass.SWITCH
)
MANAGED_CHARGING = FlexChargingSwitchDescription(
    key="managed_charging",
    translation_key="managed_charging",
    device_class=SwitchDeviceClass.SWITCH,
    available_fn=None,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the charging and managed-charging switches of every vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [
            ChargingSwitch(coordinator, vehicle_id, CHARGING_SWITCH),
            ManagedChargingSwitch(coordinator, vehicle_id, MANAGED_CHARGING),
        ],
    )


class ChargingSwitch(FlexChargingEntity, SwitchEntity):
    """On while the vehicle charges; turning it on or off starts or stops charging.

    Using it is taking over from smart charging until the car is unplugged.
    """

    entity_description: FlexChargingSwitchDescription

    @property
    def is_on(self) -> bool | None:
        """Whether the vehicle is charging."""
        return self.vehicle.charging

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging."""
        await self.coordinator.config_entry.runtime_data.smart_charging.async_user_command(
            self.vehicle_id, start=True
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        await self.coordinator.config_entry.runtime_data.smart_charging.async_user_command(
            self.vehicle_id, start=False
        )


class ManagedChargingSwitch(SmartChargingEntity, SwitchEntity):
    """Smart charging on or off; off, the car charges as it likes."""

    entity_description: FlexChargingSwitchDescription

    @property
    def is_on(self) -> bool:
        """Whether smart charging manages this vehicle."""
        return self.smart_state.settings.managed

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Manage charging from now on."""
        await self.manager.async_update_settings(self.vehicle_id, managed=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop managing; the car is left as it is."""
        await self.manager.async_update_settings(self.vehicle_id, managed=False)
