"""The charge limit, set through Home Assistant's number service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.flexcharging.const import DOMAIN
from emulator import MODEL_Y_ID
from tests.common import Emulator

MODEL_Y_LIMIT = "number.2024_tesla_model_y_charge_limit"


async def set_limit(hass: HomeAssistant, value: float, entity_id: str = MODEL_Y_LIMIT) -> None:
    """Set a charge limit as a user does."""
    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value},
        blocking=True,
    )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_numbers(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    setup_platform: Callable[[str], Awaitable[MockConfigEntry]],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A charge limit per vehicle."""
    entry = await setup_platform(Platform.NUMBER)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_set_charge_limit(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """The car gets the new limit, and the entity shows it at once."""
    assert hass.states.get(MODEL_Y_LIMIT).state == "80"
    await set_limit(hass, 90)
    assert emulator.state.vehicles[MODEL_Y_ID].charge_limit == 90
    assert hass.states.get(MODEL_Y_LIMIT).state == "90"
    await set_limit(hass, 80)
    assert emulator.state.vehicles[MODEL_Y_ID].charge_limit == 80
    assert hass.states.get(MODEL_Y_LIMIT).state == "80"


async def test_fractional_limit_is_refused(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """80.5 % is not a limit a car takes: refused before anything is sent."""
    commands = emulator.state.requests.by_vehicle[MODEL_Y_ID]
    with pytest.raises(ServiceValidationError) as raised:
        await set_limit(hass, 80.5)
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == "invalid_charge_limit"
    assert raised.value.translation_placeholders == {"vehicle": "2024 Tesla Model Y"}
    assert emulator.state.requests.by_vehicle[MODEL_Y_ID] == commands
    assert hass.states.get(MODEL_Y_LIMIT).state == "80"


async def test_out_of_range_limit_is_refused(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Outside 50–100 %: Home Assistant's own range check, and the coordinator's too."""
    with pytest.raises(ServiceValidationError):
        await set_limit(hass, 40)
    coordinator = init_integration.runtime_data.coordinator
    with pytest.raises(HomeAssistantError) as raised:
        await coordinator.async_set_charge_limit(MODEL_Y_ID, 120)
    assert raised.value.translation_key == "invalid_charge_limit"
    assert emulator.state.vehicles[MODEL_Y_ID].charge_limit == 80


async def test_keyless_model_3(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The Model 3 lacks the virtual key: its limit cannot be set."""
    with pytest.raises(HomeAssistantError) as raised:
        await set_limit(hass, 90, "number.2023_tesla_model_3_charge_limit")
    assert raised.value.translation_key == "virtual_key_missing"
    assert hass.states.get("number.2023_tesla_model_3_charge_limit").state == "80"


async def test_pending_limit_waits_for_the_car(
    hass: HomeAssistant, frozen_emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """202 PENDING is accepted, not done: the car's limit shows until it reports.

    https://smartcar.com/docs/api-reference/commands/overview: "A 202 means the command is in
    process but is long-running."
    """
    state = frozen_emulator.state
    state.update_options({"command_response": "pending", "command_seconds": 60})
    await set_limit(hass, 90)
    assert hass.states.get(MODEL_Y_LIMIT).state == "80"

    state.advance(60)  # the car carries it out; the next read shows it
    await init_integration.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()
    assert state.vehicles[MODEL_Y_ID].charge_limit == 90
    assert hass.states.get(MODEL_Y_LIMIT).state == "90"
