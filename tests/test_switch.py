"""The charging switch: commands through Home Assistant's services, against the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.flexcharging.api import SmartcarVehicleStateError, client as client_module
from custom_components.flexcharging.api.webhooks import VehicleStateEvent
from custom_components.flexcharging.const import DOMAIN
from custom_components.flexcharging.coordinator import COMMAND_REREAD_DELAY, WEBHOOK_REREAD_DELAY
from custom_components.flexcharging.issues import key_issue_id
from emulator import ID4_ID, MODEL_3_ID, MODEL_S_ID, MODEL_Y_ID
from tests.common import HA_WEBHOOK_ID, Emulator

type Advance = Callable[[timedelta], Awaitable[None]]

MODEL_Y_SWITCH = "switch.2024_tesla_model_y_charging"
SIGNALS = "GET /v3/vehicles/{vehicle_id}/signals"


async def switch(hass: HomeAssistant, service: str, entity_id: str = MODEL_Y_SWITCH) -> None:
    """Turn a charging switch on or off as a user does."""
    await hass.services.async_call(
        SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def failing(hass: HomeAssistant, service: str, entity_id: str = MODEL_Y_SWITCH) -> Any:
    """The translated error a command ends in."""
    with pytest.raises(HomeAssistantError) as raised:
        await switch(hass, service, entity_id)
    assert raised.value.translation_domain == DOMAIN
    return raised.value


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_switches(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    setup_platform: Callable[[str], Awaitable[MockConfigEntry]],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A charging switch per vehicle."""
    entry = await setup_platform(Platform.SWITCH)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_turn_on_and_off(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Turning the switch on starts charging in the car, and shows it at once; off stops it."""
    vehicle = emulator.state.vehicles[MODEL_Y_ID]
    key = "sensor.2024_tesla_model_y_virtual_key"
    assert hass.states.get(key).state == "unconfirmed"  # the car's key signal: only a hint
    await switch(hass, SERVICE_TURN_ON)
    assert vehicle.charging is True
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_ON
    assert hass.states.get(key).state == "paired"  # Smartcar carried out a command: its key works
    assert hass.states.get("binary_sensor.2024_tesla_model_y_charging").state == STATE_ON
    assert hass.states.get("sensor.2024_tesla_model_y_charging_state").state == "charging"

    await switch(hass, SERVICE_TURN_OFF)
    assert vehicle.charging is False
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF
    assert hass.states.get("sensor.2024_tesla_model_y_charging_state").state == "not_charging"
    # Commands are billed: they count against the vehicle's budget.
    assert hass.states.get("sensor.2024_tesla_model_y_requests_this_month").state == "3"


async def test_key_removed_after_a_command_confirmed_it(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A command confirmed Smartcar's key; removed later, the next read's key error says so."""
    key = "sensor.2024_tesla_model_y_virtual_key"
    await switch(hass, SERVICE_TURN_ON)
    assert hass.states.get(key).state == "paired"
    emulator.state.set_key(MODEL_Y_ID, paired=False)
    await init_integration.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()
    assert hass.states.get(key).state == "missing"
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_Y_ID)) is not None


async def test_already_charging_counts_as_success(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Started from the car's app meanwhile: "already charging" is what the user wanted."""
    emulator.state.patch_vehicle(MODEL_Y_ID, {"charging": True})
    await switch(hass, SERVICE_TURN_ON)
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_ON


async def test_not_charging_counts_as_success(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Stopping a vehicle that is not charging: done."""
    await switch(hass, SERVICE_TURN_OFF)
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF
    assert emulator.state.requests.by_status["409"] == 1


async def test_unplugged_vehicle(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The Model S is not plugged in: a translated error says so."""
    error = await failing(hass, SERVICE_TURN_ON, "switch.2019_tesla_model_s_charging")
    assert error.translation_key == "plug_not_connected"
    assert error.translation_placeholders["vehicle"] == "2019 Tesla Model S"
    assert hass.states.get("switch.2019_tesla_model_s_charging").state == STATE_OFF


async def test_fully_charged_vehicle(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Charged to its limit: nothing to start."""
    emulator.state.patch_vehicle(MODEL_Y_ID, {"soc": 80})
    error = await failing(hass, SERVICE_TURN_ON)
    assert error.translation_key == "fully_charged"


async def test_unreachable_vehicle(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """No coverage: the command cannot reach the car."""
    emulator.state.patch_vehicle(MODEL_Y_ID, {"reachable": False})
    error = await failing(hass, SERVICE_TURN_ON)
    assert error.translation_key == "vehicle_unreachable"


async def test_keyless_tesla(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The key was removed from the Model Y: the command says so and the repair appears."""
    emulator.state.set_key(MODEL_Y_ID, paired=False)
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_Y_ID)) is None
    error = await failing(hass, SERVICE_TURN_ON)
    assert error.translation_key == "virtual_key_missing"
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_Y_ID)) is not None
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "missing"
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF


async def test_keyless_model_3(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The Model 3 never had the key: no charging control."""
    error = await failing(hass, SERVICE_TURN_ON, "switch.2023_tesla_model_3_charging")
    assert error.translation_key == "virtual_key_missing"
    assert error.translation_placeholders == {"vehicle": "2023 Tesla Model 3"}


@pytest.mark.parametrize(
    ("kind", "options", "key", "placeholders"),
    [
        ("http_409_asleep", {}, "vehicle_asleep", {"error": "ASLEEP"}),
        ("http_429", {"retry_after": 45}, "rate_limited", {"seconds": "45"}),
        ("http_429_app", {}, "rate_limited", {"seconds": "60"}),
        ("http_430", {}, "billing_limit", {}),
        ("http_403", {}, "permission_missing", {}),
        ("http_500", {}, "command_failed", {}),
        ("command_202_failure", {}, "command_not_executed", {}),
    ],
)
@pytest.mark.parametrize("error_shape", ["jsonapi", "v3"])
async def test_command_faults(
    hass: HomeAssistant,
    *,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    kind: str,
    options: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
    error_shape: str,
) -> None:
    """Each refusal becomes its own translated error, in either error body shape."""
    emulator.state.update_options({"error_shape": error_shape})
    emulator.state.add_fault(kind, path="/commands/", **options)
    error = await failing(hass, SERVICE_TURN_ON)
    assert error.translation_key == key
    assert error.translation_placeholders["vehicle"] == "2024 Tesla Model Y"
    for name, value in placeholders.items():
        assert error.translation_placeholders[name] == value
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF
    assert not [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


@pytest.mark.parametrize(
    ("code", "key"),
    [("REMOTE_ACCESS_DISABLED", "remote_access_disabled"), ("DOOR_OPEN", "vehicle_state")],
)
async def test_other_vehicle_states(
    hass: HomeAssistant, init_integration: MockConfigEntry, code: str, key: str
) -> None:
    """Vehicle states the emulator does not produce still get their message."""
    client = init_integration.runtime_data.client
    with patch.object(
        client,
        "async_start_charging",
        side_effect=SmartcarVehicleStateError("no", status=409, code=code),
    ):
        error = await failing(hass, SERVICE_TURN_ON)
    assert error.translation_key == key
    assert error.translation_placeholders["error"] == code


async def test_refused_credentials_start_reauth(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Smartcar refuses the application twice: re-authenticate, and say so."""
    emulator.state.add_fault("http_401", path="/commands/", count=2)
    error = await failing(hass, SERVICE_TURN_ON)
    assert error.translation_key == "auth_failed"
    await hass.async_block_till_done()
    assert [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


# --- the documented command answers (emulator.config.COMMAND_RESPONSES) -------------------------


@pytest.mark.parametrize("response", ["sync", "streamed"])
async def test_done_command_is_shown_at_once(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry, response: str
) -> None:
    """200 SUCCESS, or 202 and then SUCCESS on the same connection: done, shown at once."""
    emulator.state.update_options({"command_response": response, "command_seconds": 0.05})
    await switch(hass, SERVICE_TURN_ON)
    assert emulator.state.vehicles[MODEL_Y_ID].charging is True
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_ON


async def test_pending_command_waits_for_the_car(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """202 PENDING is accepted, not done: the switch shows the car's state until it confirms."""
    state = frozen_emulator.state
    state.update_options({"command_response": "pending", "command_seconds": 60})
    await switch(hass, SERVICE_TURN_ON)
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF
    assert hass.states.get("sensor.2024_tesla_model_y_charging_state").state == "not_charging"

    # The re-read after the command: the car has not done it yet.
    reads = state.requests.by_path[SIGNALS]
    await advance_time(timedelta(seconds=COMMAND_REREAD_DELAY + 1))
    assert state.requests.by_path[SIGNALS] == reads + 1
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF

    # The car carries it out; the next read confirms it.
    state.advance(60)
    await init_integration.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_ON


async def test_pending_command_confirmed_by_a_delivery(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    hass_client_no_auth: Any,
) -> None:
    """The webhook delivery that follows the car's change confirms a pending command."""
    state = emulator.state
    receiver = await hass_client_no_auth()
    await hass.services.async_call(
        "button",
        "press",
        {ATTR_ENTITY_ID: "button.smartcar_webhook_verify_webhook_again"},
        blocking=True,
    )
    webhook = await state.create_webhook(
        str(receiver.make_url(f"/api/webhook/{HA_WEBHOOK_ID}")), name="Home Assistant"
    )
    state.subscribe(webhook.id, MODEL_Y_ID)
    await state.wait_for_deliveries()
    state.update_options({"command_response": "pending", "command_seconds": 60})
    await switch(hass, SERVICE_TURN_ON)
    reads = state.requests.by_path[SIGNALS]
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF

    state.advance(60)
    await state.wait_for_deliveries()
    await hass.async_block_till_done()
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_ON
    assert state.requests.by_path[SIGNALS] == reads  # the delivery, not a read


async def test_no_result_in_time_is_checked_not_failed(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No answer within the wait: "result unknown, checking", and a read tells what happened."""
    monkeypatch.setattr(client_module, "COMMAND_TIMEOUT", 0.1)
    state = emulator.state
    state.update_options({"command_response": "slow", "command_seconds": 0.5})
    reads = state.requests.by_path[SIGNALS]
    error = await failing(hass, SERVICE_TURN_ON)
    assert error.translation_key == "command_result_unknown"
    assert error.translation_placeholders == {"vehicle": "2024 Tesla Model Y"}
    assert state.vehicles[MODEL_Y_ID].charging is True  # the car did it
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF  # not claimed before it is read

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=COMMAND_REREAD_DELAY + 1))
    await hass.async_block_till_done()
    assert state.requests.by_path[SIGNALS] == reads + 1
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_ON

    # Smart charging's own commands wait for the car's confirmation instead of failing.
    coordinator = init_integration.runtime_data.coordinator
    await coordinator.async_stop_charging(MODEL_Y_ID, automatic=True)
    await asyncio.sleep(0.5)  # let the emulator's late answer go before the test ends


async def test_gateway_timeout_is_checked_not_failed(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """A 504 on a command: its result is unknown too; the read shows nothing happened."""
    emulator.state.add_fault("http_504", path="/commands/")
    error = await failing(hass, SERVICE_TURN_ON)
    assert error.translation_key == "command_result_unknown"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=COMMAND_REREAD_DELAY + 1))
    await hass.async_block_till_done()
    assert emulator.state.vehicles[MODEL_Y_ID].charging is False
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF


# --- after a command -----------------------------------------------------------------------------


async def test_one_reread_of_that_vehicle_after_a_command(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """Smartcar's store lags behind a command: that vehicle alone is read once, a bit later."""
    requests = frozen_emulator.state.requests
    await switch(hass, SERVICE_TURN_ON)
    # A second command soon after replaces the pending re-read instead of adding one.
    await switch(hass, SERVICE_TURN_OFF)
    await switch(hass, SERVICE_TURN_ON)
    before = dict(requests.by_vehicle)
    signals_before = requests.by_path[SIGNALS]

    await advance_time(timedelta(seconds=COMMAND_REREAD_DELAY - 5))
    assert requests.by_path[SIGNALS] == signals_before

    await advance_time(timedelta(seconds=10))
    assert requests.by_path[SIGNALS] == signals_before + 1
    assert requests.by_vehicle[MODEL_Y_ID] == before[MODEL_Y_ID] + 1
    for other in (MODEL_3_ID, MODEL_S_ID, ID4_ID):
        assert requests.by_vehicle[other] == before[other]
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_ON

    await advance_time(timedelta(minutes=1))
    assert requests.by_path[SIGNALS] == signals_before + 1


async def test_with_webhooks_the_delivery_replaces_the_read_after_a_command(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """Webhooks flowing (500-call plan): the delivery that shows the charging state makes the
    read after a command unneeded; without one the car is read after three minutes."""
    requests = frozen_emulator.state.requests
    coordinator = init_integration.runtime_data.coordinator
    coordinator.last_webhook = dt_util.utcnow()
    assert coordinator.webhooks_flowing
    await switch(hass, SERVICE_TURN_ON)
    signals = requests.by_path[SIGNALS]
    await advance_time(timedelta(seconds=COMMAND_REREAD_DELAY + 1))
    assert requests.by_path[SIGNALS] == signals  # not at 20 s: a delivery may come
    vehicle = coordinator.data[MODEL_Y_ID]
    delivery = VehicleStateEvent(
        event_id="e1",
        vehicle_id=MODEL_Y_ID,
        user_id=coordinator.user_id,
        vehicle=vehicle.info,
        state=vehicle.state,
        test=False,
    )
    await coordinator.async_handle_event(delivery)
    await advance_time(timedelta(seconds=WEBHOOK_REREAD_DELAY))
    assert requests.by_path[SIGNALS] == signals

    coordinator.last_webhook = dt_util.utcnow()
    await switch(hass, SERVICE_TURN_OFF)  # no delivery this time
    await advance_time(timedelta(seconds=WEBHOOK_REREAD_DELAY + 1))
    assert requests.by_path[SIGNALS] == signals + 1
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF


async def test_stale_poll_cannot_undo_a_command(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """The shown state is stamped with the command's time: an older report does not win."""
    state = frozen_emulator.state
    vehicle = state.vehicles[MODEL_Y_ID]
    stale = vehicle.reading
    await advance_time(timedelta(minutes=5))  # Home Assistant's clock runs; Smartcar's store lags

    await switch(hass, SERVICE_TURN_ON)
    assert vehicle.charging is True
    # Smartcar's store still holds the report from before the command (the car asleep since).
    vehicle.asleep = True
    vehicle.reading = stale

    await advance_time(timedelta(seconds=COMMAND_REREAD_DELAY + 1))
    assert state.requests.by_vehicle[MODEL_Y_ID] == 3  # read, command, re-read
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_ON
    assert hass.states.get("sensor.2024_tesla_model_y_charging_state").state == "charging"

    # A report newer than the command does win.
    state.advance(3600)
    state.patch_vehicle(MODEL_Y_ID, {"asleep": False, "charging": False})
    coordinator = init_integration.runtime_data.coordinator
    await coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()
    assert hass.states.get(MODEL_Y_SWITCH).state == STATE_OFF


async def test_pending_reread_is_cancelled_on_unload(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """Unloading right after a command leaves no re-read behind."""
    await switch(hass, SERVICE_TURN_ON)
    signals = frozen_emulator.state.requests.by_path[SIGNALS]
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await advance_time(timedelta(seconds=COMMAND_REREAD_DELAY + 1))
    assert frozen_emulator.state.requests.by_path[SIGNALS] == signals


async def test_reread_skipped_for_a_vehicle_gone_meanwhile(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """The vehicle left the account before its re-read: nothing to read."""
    await switch(hass, SERVICE_TURN_ON)
    signals = frozen_emulator.state.requests.by_path[SIGNALS]
    init_integration.runtime_data.coordinator.data.pop(MODEL_Y_ID)
    await advance_time(timedelta(seconds=COMMAND_REREAD_DELAY + 1))
    assert frozen_emulator.state.requests.by_path[SIGNALS] == signals
