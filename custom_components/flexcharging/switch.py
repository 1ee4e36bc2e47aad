"""Switches: charging (start/stop now), managed charging, and the departure days of the week."""

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
from .smart_charging.model import WEEKDAYS

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


@dataclass(frozen=True, kw_only=True)
class DepartureDaySwitchDescription(FlexChargingSwitchDescription):
    """Whether the car leaves on one day of the week (disabled by default: most leave daily)."""

    weekday: int  # 0: Monday


DEPARTURE_DAYS: tuple[DepartureDaySwitchDescription, ...] = tuple(
    DepartureDaySwitchDescription(
        key=f"departure_{day}",
        translation_key=f"departure_{day}",
        device_class=SwitchDeviceClass.SWITCH,
        entity_registry_enabled_default=False,
        available_fn=None,
        weekday=index,
    )
    for index, day in enumerate(WEEKDAYS)
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
            *(
                DepartureDaySwitch(coordinator, vehicle_id, description)
                for description in DEPARTURE_DAYS
            ),
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


class DepartureDaySwitch(SmartChargingEntity, SwitchEntity):
    """Off: no departure that day (the plan looks ahead to the next one)."""

    entity_description: DepartureDaySwitchDescription

    @property
    def is_on(self) -> bool:
        """Whether the car leaves that day."""
        return self.smart_state.settings.days[self.entity_description.weekday].depart

    async def async_turn_on(self, **kwargs: Any) -> None:
        """The car leaves that day, at its ready-by time."""
        await self._async_set(depart=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """No departure that day."""
        await self._async_set(depart=False)

    async def _async_set(self, *, depart: bool) -> None:
        settings = self.smart_state.settings.with_day(
            self.entity_description.weekday, depart=depart
        )
        await self.manager.async_update_settings(self.vehicle_id, days=settings.days)
