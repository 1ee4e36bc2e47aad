"""Repair flows: pair a missing virtual key, with the same guided steps as the setup."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .api import KeyState
from .const import DOMAIN
from .models import FlexChargingConfigEntry
from .pairing import KeyPairingFlow, PairingVehicle


class VirtualKeyRepairFlow(KeyPairingFlow[RepairsFlowResult], RepairsFlow):
    """Shows the QR code and link again, and finishes only once the key is really paired."""

    pairing_can_skip = False
    pairing_checks_inline = True

    def __init__(self, entry: FlexChargingConfigEntry, vehicle_id: str) -> None:
        """Repair the key of one vehicle."""
        self._entry = entry
        self._vehicle_id = vehicle_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Start with the guided steps."""
        coordinator = self._entry.runtime_data.coordinator
        vehicle = coordinator.data.get(self._vehicle_id)
        if vehicle is None:
            return self.async_abort(reason="vehicle_gone")
        if vehicle.key_state is not KeyState.MISSING:
            return self.async_create_entry(data={})
        link = coordinator.client.urls.virtual_key_for(vehicle.state.vin.value)
        self.async_start_pairing(PairingVehicle(self._vehicle_id, vehicle.info.display_name, link))
        return await self.async_step_pair_key()

    async def async_read_key_state(self, vehicle_id: str) -> KeyState:
        """Re-read through the coordinator, which also clears the issue once paired."""
        try:
            vehicle = await self._entry.runtime_data.coordinator.async_refresh_vehicle(vehicle_id)
        except HomeAssistantError:
            return KeyState.UNKNOWN  # Smartcar refused the credentials; reauth was started
        if not vehicle.available or vehicle.last_error:
            return KeyState.UNKNOWN  # the read failed: what the car has is not known
        return vehicle.key_state

    async def async_pairing_finished(self, state: KeyState | None) -> RepairsFlowResult:
        """Paired: the repair is done."""
        return self.async_create_entry(data={})

    def async_remove(self) -> None:
        """The dialog was closed: stop the key check."""
        self.async_cancel_pairing()


class UnavailableRepairFlow(RepairsFlow):
    """The entry is not loaded: nothing to check against."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Explain."""
        return self.async_abort(reason="not_loaded")


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix flow of a repair issue."""
    entry_id = str((data or {}).get("entry_id", ""))
    vehicle_id = str((data or {}).get("vehicle_id", ""))
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        return UnavailableRepairFlow()
    return VirtualKeyRepairFlow(entry, vehicle_id)
