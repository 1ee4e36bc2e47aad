"""The stand-in car's number entities."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import StandInConfigEntry, async_setup_platform_entry


async def async_setup_entry(
    hass: HomeAssistant,
    entry: StandInConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add them."""
    await async_setup_platform_entry("number", entry, async_add_entities)
