"""Repair flows: pair a missing virtual key (the setup's guided steps); a plan at risk."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .api import KeyState
from .const import DOMAIN
from .coordinator import FlexChargingCoordinator
from .issues import key_issue_id
from .models import FlexChargingConfigEntry
from .pairing import KeyPairingFlow, PairingVehicle, async_probe_key, pairing_link
from .plan_limit import count_usage


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
        client = self._entry.runtime_data.client
        if vehicle.key_state is not KeyState.MISSING or client is None:
            return self.async_create_entry(data={})
        link = pairing_link(client, vehicle.key_link, vehicle.state.vin.value)
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
        if vehicle.key_state is KeyState.PAIRED:
            return KeyState.PAIRED  # Smartcar confirmed it (a command, or RESOLVED meanwhile)
        return vehicle.state.key_state(vehicle.info)  # what the key signal hints

    async def async_confirm_key(self, vehicle_id: str) -> KeyState:
        """Ask Smartcar itself (the car's charge limit, sent again); the vehicle keeps the answer."""
        coordinator = self._entry.runtime_data.coordinator
        assert isinstance(coordinator, FlexChargingCoordinator)  # keys are Smartcar's
        vehicle = coordinator.data.get(vehicle_id)
        if vehicle is None:
            return KeyState.UNKNOWN
        state, link = await async_probe_key(
            coordinator.client, vehicle_id, coordinator.user_id, vehicle.state.charge_limit.value
        )
        count_usage(coordinator, vehicle_id)
        if state is not KeyState.UNCONFIRMED:
            vehicle.set_key(paired=state is KeyState.PAIRED, at=dt_util.utcnow(), link=link)
            coordinator.sync_issues()
            coordinator.async_set_updated_data(dict(coordinator.data))
        return state

    async def async_pairing_finished(self, state: KeyState | None) -> RepairsFlowResult:
        """Paired: the repair is done."""
        return self.async_create_entry(data={})

    def async_remove(self) -> None:
        """The dialog was closed: stop the key check; a key paired meanwhile ends the issue."""
        self.async_cancel_pairing()
        vehicle = self._entry.runtime_data.coordinator.data.get(self._vehicle_id)
        if vehicle is not None and vehicle.key_state is not KeyState.MISSING:
            ir.async_delete_issue(self.hass, DOMAIN, key_issue_id(self._vehicle_id))


class PlanAtRiskRepairFlow(RepairsFlow):
    """The plan cannot reach the target in time: charge now, accept less, or ignore this time."""

    def __init__(self, entry: FlexChargingConfigEntry, vehicle_id: str) -> None:
        """For one vehicle of the entry."""
        self._manager = entry.runtime_data.smart_charging
        self._vehicle_id = vehicle_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Offer the three answers."""
        return self.async_show_menu(
            menu_options=["charge_now", "accept_less", "ignore"],
            description_placeholders=self._placeholders(),
        )

    async def async_step_charge_now(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Start charging now, whatever the plan (until unplugged); the warning is answered.

        When the car refuses, the warning stays and the dialog says why.
        """
        try:
            await self._manager.async_start_now(self._vehicle_id)
        except HomeAssistantError as err:
            return self.async_abort(
                reason="charge_now_failed", description_placeholders={"error": str(err)}
            )
        await self._manager.async_ignore_risk(self._vehicle_id)
        return self.async_create_entry(data={})

    async def async_step_accept_less(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Lower the target to what the plan can reach."""
        await self._manager.async_accept_less(self._vehicle_id)
        return self.async_create_entry(data={})

    async def async_step_ignore(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """No warning until the car is unplugged."""
        await self._manager.async_ignore_risk(self._vehicle_id)
        return self.async_create_entry(data={})

    def _placeholders(self) -> dict[str, str]:
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        return dict(issue.translation_placeholders or {}) if issue else {}


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
    if (data or {}).get("kind") == "plan_at_risk":
        return PlanAtRiskRepairFlow(entry, vehicle_id)
    return VirtualKeyRepairFlow(entry, vehicle_id)
