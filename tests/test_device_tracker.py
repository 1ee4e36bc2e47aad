"""The vehicle's location: only when the user opted in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.const import STATE_NOT_HOME, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.flexcharging.const import (
    CONF_READ_LOCATION,
    CONF_REQUEST_BUDGET,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
)
from emulator import ALL_PERMISSIONS, DEFAULT_USER_ID
from tests.common import Emulator, connect_fleet, entry_data

MODEL_Y_LOCATION = "device_tracker.2024_tesla_model_y_location"


def opted_in_entry(hass: HomeAssistant) -> MockConfigEntry:
    """An entry whose user turned location on in the options."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEFAULT_USER_ID,
        data=entry_data(),
        options={CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET, CONF_READ_LOCATION: True},
    )
    entry.add_to_hass(hass)
    return entry


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_device_trackers(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    setup_platform: Callable[[str], Awaitable[MockConfigEntry]],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A location per vehicle."""
    entry = await setup_platform(Platform.DEVICE_TRACKER)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_disabled_unless_opted_in(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Location was not opted into: the tracker exists but is disabled, and shows nothing."""
    entry = entity_registry.async_get(MODEL_Y_LOCATION)
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(MODEL_Y_LOCATION) is None


async def test_enabled_when_opted_in(
    hass: HomeAssistant, emulator: Emulator, credentials: None
) -> None:
    """Opted in (options win over the entry's data): where the car is."""
    await connect_fleet(emulator)
    entry = opted_in_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(MODEL_Y_LOCATION)
    assert state.state == STATE_NOT_HOME  # Amsterdam, far from the test home zone
    assert state.attributes["latitude"] == pytest.approx(52.3702)
    assert state.attributes["longitude"] == pytest.approx(4.8952)
    assert hass.states.get("device_tracker.2019_tesla_model_s_location").attributes[
        "latitude"
    ] == pytest.approx(52.4202)


async def test_location_permission_not_granted(
    hass: HomeAssistant, emulator: Emulator, credentials: None
) -> None:
    """Opted in, but Connect did not grant the location permission: location unknown."""
    await connect_fleet(emulator, permissions=[p for p in ALL_PERMISSIONS if p != "read_location"])
    entry = opted_in_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(MODEL_Y_LOCATION)
    assert state.state == STATE_UNKNOWN
    assert "latitude" not in state.attributes
