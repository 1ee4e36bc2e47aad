"""The refresh button: one billed read of that vehicle, on demand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.flexcharging.const import DOMAIN
from emulator import ID4_ID, MODEL_3_ID, MODEL_S_ID, MODEL_Y_ID
from tests.common import Emulator

MODEL_Y_REFRESH = "button.2024_tesla_model_y_refresh"


async def press(hass: HomeAssistant, entity_id: str = MODEL_Y_REFRESH) -> None:
    """Press a refresh button as a user does."""
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def test_buttons(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    setup_platform: Callable[[str], Awaitable[MockConfigEntry]],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A refresh button per vehicle."""
    entry = await setup_platform(Platform.BUTTON)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_press_reads_that_vehicle_once(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """One billed read of the Model Y, none of the others; new values show at once."""
    emulator.state.patch_vehicle(MODEL_Y_ID, {"soc": 70})
    before = dict(emulator.state.requests.by_vehicle)
    await press(hass)
    after = emulator.state.requests.by_vehicle
    assert after[MODEL_Y_ID] == before[MODEL_Y_ID] + 1
    for other in (MODEL_3_ID, MODEL_S_ID, ID4_ID):
        assert after[other] == before[other]
    assert hass.states.get("sensor.2024_tesla_model_y_battery_level").state == "70.0"
    assert hass.states.get("sensor.2024_tesla_model_y_requests_this_month").state == "2"
    assert hass.states.get(MODEL_Y_REFRESH).state != STATE_UNKNOWN  # the press time


async def test_failing_read_says_so(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """The read fails: a translated error, the vehicle unavailable, the button still pressable."""
    emulator.state.add_fault("http_502", vehicle_id=MODEL_Y_ID, path="/signals")
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass)
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == "refresh_failed"
    assert raised.value.translation_placeholders == {
        "vehicle": "2024 Tesla Model Y",
        "error": "SmartcarUpstreamError",
    }
    assert hass.states.get("sensor.2024_tesla_model_y_battery_level").state == STATE_UNAVAILABLE
    assert hass.states.get(MODEL_Y_REFRESH).state != STATE_UNAVAILABLE

    await press(hass)
    assert hass.states.get("sensor.2024_tesla_model_y_battery_level").state == "62.0"


async def test_rate_limited_read_says_so(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Smartcar refuses the read for now: the user is told, not left with old values."""
    emulator.state.add_fault("http_429", vehicle_id=MODEL_Y_ID, path="/signals", retry_after=60)
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass)
    assert raised.value.translation_key in {"refresh_failed", "rate_limited"}


async def test_refused_credentials_on_press_start_reauth(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Smartcar refuses the application on a refresh: a translated error, and reauth."""
    emulator.state.add_fault("http_401", vehicle_id=MODEL_Y_ID, path="/signals", count=2)
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass)
    assert raised.value.translation_key == "auth_failed"
    await hass.async_block_till_done()
    assert init_integration.async_get_active_flows(hass, {SOURCE_REAUTH})
