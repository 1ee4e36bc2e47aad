"""Sensors: battery, range, charging state, virtual key, and the integration's own health."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform, UnitOfLength
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from emulator import DEFAULT_USER_ID, MODEL_Y_ID
from tests.common import Emulator, connect_fleet


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_sensors(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    setup_platform: Callable[[str], Awaitable[MockConfigEntry]],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every sensor of the default fleet (disabled-by-default ones included)."""
    entry = await setup_platform(Platform.SENSOR)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_charge_power_is_disabled_by_default(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Charging power is off by default: few vehicles report it."""
    entry = entity_registry.async_get("sensor.2024_tesla_model_y_charging_power")
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get("sensor.2024_tesla_model_y_charging_power") is None


async def test_range_unit_stays_stable_when_a_webhook_reports_miles(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    post_webhook: Callable[..., Awaitable[Any]],
) -> None:
    """A webhook reporting miles does not change the sensor's unit (polls report km)."""
    assert (
        hass.states.get("sensor.2024_tesla_model_y_range").attributes["unit_of_measurement"]
        == UnitOfLength.KILOMETERS
    )
    oem_updated = int(datetime.now(UTC).timestamp() * 1000) + 60_000
    response = await post_webhook(
        {
            "eventId": "range-in-miles",
            "eventType": "VEHICLE_STATE",
            "data": {
                "user": {"id": DEFAULT_USER_ID},
                "vehicle": {"id": MODEL_Y_ID, "make": "TESLA", "model": "Model Y", "year": 2024},
                "signals": [
                    {
                        "code": "tractionbattery-range",
                        "name": "Range",
                        "group": "TractionBattery",
                        "body": {"value": 100, "unit": "miles"},
                        "status": {"value": "SUCCESS"},
                        "meta": {"oemUpdatedAt": oem_updated, "retrievedAt": oem_updated},
                    }
                ],
            },
            "meta": {"mode": "LIVE"},
        }
    )
    assert response.status == 200
    state = hass.states.get("sensor.2024_tesla_model_y_range")
    assert float(state.state) == pytest.approx(160.9, abs=0.1)
    assert state.attributes["unit_of_measurement"] == UnitOfLength.KILOMETERS


async def test_vehicle_without_data(
    hass: HomeAssistant,
    emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """A vehicle whose signal store is empty: values unavailable, diagnostics still shown."""
    await connect_fleet(emulator)
    subscription = next(
        s.id for s in emulator.state.subscriptions.values() if s.vehicle_id == MODEL_Y_ID
    )
    emulator.state.unsubscribe(subscription)
    emulator.state.add_fault("http_500", path="/v3/subscriptions")
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    for key in ("battery_level", "range", "charging_state"):
        assert hass.states.get(f"sensor.2024_tesla_model_y_{key}").state == STATE_UNAVAILABLE
    # Nothing known about the key yet.
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == STATE_UNKNOWN
    assert hass.states.get("sensor.2024_tesla_model_y_requests_this_month").state == "1"
    assert hass.states.get("sensor.2024_tesla_model_y_last_update").state != STATE_UNAVAILABLE
