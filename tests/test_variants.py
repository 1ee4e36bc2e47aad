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
from tests.common import SMARTCAR_VARIANTS, Emulator, connect_fleet, setup_integration

ID4 = "2023_volkswagen_id_4"


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "credentials")
@pytest.mark.parametrize("variant", list(SMARTCAR_VARIANTS))
async def test_entities_show_what_parsed(
    hass: HomeAssistant,
    emulator: Emulator,
    config_entry: MockConfigEntry,
    variant: str,
    caplog: pytest.LogCaptureFixture,
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
    if variant == "location_only_limit":
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
