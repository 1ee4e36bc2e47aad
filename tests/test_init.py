"""Home Assistant loads and unloads the integration against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.flexcharging
from custom_components.flexcharging.const import DOMAIN, STORE_NAMES, storage_key
from emulator import MODEL_3_ID, MODEL_Y_ID


async def test_load_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A config entry sets up, creates its vehicles' entities, and unloads cleanly."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    assert set(coordinator.data) >= {MODEL_3_ID, MODEL_Y_ID}
    assert hass.states.get("sensor.2024_tesla_model_y_battery_level") is not None

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


def test_translations_are_the_strings() -> None:
    """translations/en.json is exactly strings.json (Home Assistant reads the former)."""
    folder = Path(custom_components.flexcharging.__file__).parent
    strings = json.loads((folder / "strings.json").read_text())
    assert json.loads((folder / "translations" / "en.json").read_text()) == strings
    # Every translated exception the code raises has its text.
    keys = set(
        re.findall(
            r'translation_key="([a-z_]+)"',
            "".join(path.read_text() for path in folder.glob("*.py")),
        )
    )
    exceptions = set(strings["exceptions"])
    entity_keys = {key for platform in strings["entity"].values() for key in platform}
    known = (
        exceptions
        | entity_keys
        | set(strings["issues"])
        | set(strings["selector"])
        | set(strings["device"])
    )
    assert keys <= known, keys - known


async def test_exception_messages_are_translated(hass: HomeAssistant) -> None:
    """Home Assistant finds a message for every exception key (the `{"message": …}` form)."""
    folder = Path(custom_components.flexcharging.__file__).parent
    keys = json.loads((folder / "strings.json").read_text())["exceptions"]
    translations = await async_get_translations(hass, "en", "exceptions", {DOMAIN})
    for key in keys:
        assert translations.get(f"component.{DOMAIN}.exceptions.{key}.message"), key
    assert (
        translations[f"component.{DOMAIN}.exceptions.plug_not_connected.message"]
        == "{vehicle} is not plugged in."
    )


async def test_removing_the_entry_deletes_its_stores(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Usage counts and smart-charging settings go with the entry."""
    entry = init_integration
    assert await hass.config_entries.async_unload(entry.entry_id)  # writes the settings
    await hass.async_block_till_done()
    # A Smartcar entry has these two; "commands" is a vehicle's from another integration.
    keys = {storage_key(entry.entry_id, name) for name in ("usage", "smart_charging")}
    assert keys <= set(hass_storage)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not {storage_key(entry.entry_id, name) for name in STORE_NAMES} & set(hass_storage)
