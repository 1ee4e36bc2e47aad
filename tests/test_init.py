"""Home Assistant loads and unloads the integration against the emulator."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

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
