"""Every documented Smartcar variant (issue #12): setup works and the entities show what parsed.

The config flow runs in each variant in tests/test_config_flow.py; here the entry is set up
against the emulator in each variant and read by polling and by a webhook delivery.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexcharging.api import SignalStatus
from emulator import ID4_ID
from tests.common import (
    HA_WEBHOOK_ID,
    SMARTCAR_VARIANTS,
    Emulator,
    connect_fleet,
    setup_integration,
)

ID4 = "2023_volkswagen_id_4"
VERIFY_AGAIN_BUTTON = "button.smartcar_webhook_verify_webhook_again"


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "credentials")
@pytest.mark.parametrize("variant", list(SMARTCAR_VARIANTS))
async def test_entities_show_what_parsed(
    hass: HomeAssistant,
    emulator: Emulator,
    config_entry: MockConfigEntry,
    variant: str,
    *,
    caplog: pytest.LogCaptureFixture,
    hass_client_no_auth: Any,
) -> None:
    """Each signal that parsed is shown; one that did not is unknown, logged once."""
    emulator.state.update_options(SMARTCAR_VARIANTS[variant])
    await connect_fleet(emulator)
    await setup_integration(hass, config_entry)
    reading = emulator.state.vehicles[ID4_ID].reading
    assert reading is not None

    def state(entity_id: str) -> Any:
        return hass.states.get(entity_id).state

    assert float(state(f"sensor.{ID4}_battery_level")) == reading.soc
    assert float(state(f"sensor.{ID4}_range")) == pytest.approx(reading.range_km, abs=1)
    assert float(state(f"sensor.{ID4}_charging_power")) == pytest.approx(reading.power_w / 1000)
    limit = state(f"number.{ID4}_charge_limit")
    charging = state(f"sensor.{ID4}_charging_state")
    vehicle = config_entry.runtime_data.coordinator.data[ID4_ID]
    if variant in {"location_only_limit", "connector_only_limit"}:
        assert limit == STATE_UNKNOWN  # not an error: no problem, nothing logged
    else:
        assert float(limit) == reading.charge_limit
    if variant == "unknown_charging_status":
        assert charging == STATE_UNKNOWN
        assert vehicle.state.charging_status.status is SignalStatus.INVALID
        assert vehicle.signal_problems == {
            "charge-detailedchargingstatus": "body.value: unknown charging status 'DISCHARGING'"
        }
        # Every vehicle reports it, on every read and delivery: logged once.
        await config_entry.runtime_data.coordinator.async_refresh_vehicle(ID4_ID)
        assert caplog.text.count("charge-detailedchargingstatus signal of") == 1
    else:
        assert charging == reading.status.lower()
        assert vehicle.signal_problems == {}
        assert "could not be read" not in caplog.text

    # The Model 3 lacks the smartcar.com key. A phone key's signal is only a hint ("a digital
    # key", https://smartcar.com/docs/api-reference/signals/connectivitystatus): never "paired"
    # without Smartcar's word.
    model_3_key = state("sensor.2023_tesla_model_3_virtual_key")
    assert model_3_key == ("unconfirmed" if variant == "phone_key_signal" else "missing")

    # The same variant pushed: Smartcar verifies a webhook to Home Assistant's receiver and
    # delivers the car's next change.
    client = await hass_client_no_auth()
    await hass.services.async_call(
        "button", "press", {"entity_id": VERIFY_AGAIN_BUTTON}, blocking=True
    )
    webhook = await emulator.state.create_webhook(
        str(client.make_url(f"/api/webhook/{HA_WEBHOOK_ID}")), name="Home Assistant"
    )
    assert webhook.verified
    emulator.state.subscribe(webhook.id, ID4_ID)
    await emulator.state.wait_for_deliveries()
    pushed = reading.soc - 5
    emulator.state.patch_vehicle(ID4_ID, {"soc": pushed})
    await emulator.state.wait_for_deliveries()
    await hass.async_block_till_done()
    deliveries = [r for r in emulator.state.dispatcher.log if r.webhook_id == webhook.id]
    assert {r.status for r in deliveries} == {200}, variant  # a signed delivery is taken
    assert config_entry.runtime_data.coordinator.webhooks_flowing
    assert float(state(f"sensor.{ID4}_battery_level")) == pushed
    if variant in {"location_only_limit", "connector_only_limit"}:
        assert state(f"number.{ID4}_charge_limit") == STATE_UNKNOWN
    if variant == "unknown_charging_status":
        assert state(f"sensor.{ID4}_charging_state") == STATE_UNKNOWN
        assert caplog.text.count("charge-detailedchargingstatus signal of") == 1
