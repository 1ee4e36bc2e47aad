"""Buttons: start charging now (overrides the plan) and refresh (one billed read)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .entity import (
    FlexChargingEntity,
    FlexChargingEntityDescription,
    SmartChargingEntity,
    async_add_vehicle_entities,
)
from .models import FlexChargingConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class FlexChargingButtonDescription(FlexChargingEntityDescription, ButtonEntityDescription):
    """A button."""


REFRESH = FlexChargingButtonDescription(
    key="refresh",
    translation_key="refresh",
    entity_category=EntityCategory.DIAGNOSTIC,
    available_fn=None,  # pressable whenever the vehicle is on the account
)

START_NOW = FlexChargingButtonDescription(
    key="start_charging_now", translation_key="start_charging_now", available_fn=None
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the refresh and start-now buttons of every vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [
            RefreshButton(coordinator, vehicle_id, REFRESH),
            StartNowButton(coordinator, vehicle_id, START_NOW),
        ],
    )


class RefreshButton(FlexChargingEntity, ButtonEntity):
    """Reads the vehicle now."""

    entity_description: FlexChargingButtonDescription

    async def async_press(self) -> None:
        """Read the vehicle; say so when it failed."""
        vehicle = await self.coordinator.async_refresh_vehicle(self.vehicle_id)
        if not vehicle.available or vehicle.last_error:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="refresh_failed",
                translation_placeholders={
                    "vehicle": vehicle.info.display_name,
                    "error": vehicle.last_error or "unknown",
                },
            )


class StartNowButton(SmartChargingEntity, ButtonEntity):
    """Charge now, whatever the plan, until the target is reached or the car is unplugged."""

    entity_description: FlexChargingButtonDescription

    async def async_press(self) -> None:
        """Start charging now."""
        await self.manager.async_start_now(self.vehicle_id)
