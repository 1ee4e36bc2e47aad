"""Buttons: start charging now, refresh (one billed read), verify the Smartcar webhook again."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, LOGGER
from .entity import (
    FlexChargingEntity,
    FlexChargingEntityDescription,
    SmartChargingEntity,
    async_add_vehicle_entities,
    webhook_device_info,
)
from .models import FlexChargingConfigEntry
from .push import VERIFY_WINDOW, PushReceiver

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
    """Add the refresh and start-now buttons of every vehicle, and the webhook's button."""
    if (receiver := entry.runtime_data.receiver) is not None:
        async_add_entities([VerifyWebhookButton(entry, receiver)])
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


class VerifyWebhookButton(ButtonEntity):
    """Lets Smartcar verify the webhook again for a few minutes (after an edit in its dashboard).

    Outside such a window an unsigned VERIFY is refused: see push.py for why.
    """

    _attr_has_entity_name = True
    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "verify_webhook"

    def __init__(self, entry: FlexChargingConfigEntry, receiver: PushReceiver) -> None:
        """The button of the entry's webhook device."""
        self._receiver = receiver
        self._attr_unique_id = f"{entry.entry_id}_verify_webhook"
        self._attr_device_info = webhook_device_info(entry)

    async def async_press(self) -> None:
        """Answer Smartcar's next VERIFY (for VERIFY_WINDOW)."""
        self._receiver.open_verification()
        LOGGER.info(
            "Smartcar may verify the webhook in the next %d minutes",
            VERIFY_WINDOW.total_seconds() // 60,
        )
