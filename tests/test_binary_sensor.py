"""Binary sensors: plugged in, charging."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from emulator import DEFAULT_USER_ID, MODEL_Y_ID
from tests.common import Emulator, connect_fleet


async def test_binary_sensors(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    setup_platform: Callable[[str], Awaitable[MockConfigEntry]],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Plugged in and charging, per vehicle."""
    entry = await setup_platform(Platform.BINARY_SENSOR)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_follow_the_car(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Unplugged in the car: the next read shows it."""
    assert hass.states.get("binary_sensor.2024_tesla_model_y_plugged_in").state == STATE_ON
    emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False})
    await init_integration.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.2024_tesla_model_y_plugged_in").state == STATE_OFF
    assert hass.states.get("binary_sensor.2024_tesla_model_y_charging").state == STATE_OFF


async def test_charging_from_is_charging_alone(
    hass: HomeAssistant,
    emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
    post_webhook: Callable[..., Awaitable[Any]],
) -> None:
    """A vehicle that reports only IsCharging (no detailed status) still shows charging."""
    await connect_fleet(emulator)
    subscription = next(
        s.id for s in emulator.state.subscriptions.values() if s.vehicle_id == MODEL_Y_ID
    )
    emulator.state.unsubscribe(subscription)
    emulator.state.add_fault("http_500", path="/v3/subscriptions")
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    charging = "binary_sensor.2024_tesla_model_y_charging"
    assert hass.states.get(charging).state == STATE_UNAVAILABLE

    stamp = int(datetime.now(UTC).timestamp() * 1000)
    response = await post_webhook(
        {
            "eventId": "is-charging-only",
            "eventType": "VEHICLE_STATE",
            "data": {
                "user": {"id": DEFAULT_USER_ID},
                "vehicle": {"id": MODEL_Y_ID, "make": "TESLA", "model": "Model Y", "year": 2024},
                "signals": [
                    {
                        "code": "charge-ischarging",
                        "name": "IsCharging",
                        "group": "Charge",
                        "body": {"value": True},
                        "status": {"value": "SUCCESS"},
                        "meta": {"oemUpdatedAt": stamp, "retrievedAt": stamp},
                    }
                ],
            },
            "meta": {"mode": "LIVE"},
        }
    )
    assert response.status == 200
    assert hass.states.get(charging).state == STATE_ON
    assert hass.states.get("binary_sensor.2024_tesla_model_y_plugged_in").state == STATE_UNKNOWN
