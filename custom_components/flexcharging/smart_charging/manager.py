"""Smart charging in Home Assistant: the engine (`engine.py`) and what the user asks of it.

The user always wins: a manual start or stop, or "Start charging now", holds until the car is
unplugged; a skipped night, an ignored risk or a lower target accepted hold as long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from ..commands import CommandResultUnknownError
from ..const import DOMAIN
from ..models import FlexChargingConfigEntry, VehicleCoordinator
from . import policy, watchdog
from .alerts import SmartAlerts
from .engine import SmartChargingEngine, plan_signal
from .model import Decision, Hold, Session, SmartChargingState, SmartStatus

__all__ = ["SmartChargingManager", "plan_signal"]

# Settings that give the departure another target: an accepted lower one no longer holds.
NEW_TARGET = frozenset({"target", "trip", "days"})


class SmartChargingManager(SmartChargingEngine):
    """Plans and executes smart charging for every vehicle of a config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: FlexChargingConfigEntry,
        coordinator: VehicleCoordinator,
    ) -> None:
        """Prepare; `async_load` reads the settings, `async_start` starts listening."""
        super().__init__(hass, entry, coordinator)
        self.alerts = SmartAlerts(self)

    # --- user actions --------------------------------------------------------------------------

    async def async_update_settings(self, vehicle_id: str, **changes: Any) -> None:
        """Change settings (the managed switch, ready-by times, target, minimum)."""

        def change(state: SmartChargingState) -> None:
            enabling = changes.get("managed") is True and not state.settings.managed
            state.settings = replace(state.settings, **changes)
            state.session = policy.settings_changed(
                state.session, enabling=enabling, new_target=bool(changes.keys() & NEW_TARGET)
            )

        await self._async_change(vehicle_id, change)
        self._save()
        await self._async_evaluate(vehicle_id)

    async def async_start_now(self, vehicle_id: str) -> None:
        """Start charging now: charge until the target, whatever the plan (until unplugged)."""
        state = self.vehicle(vehicle_id)
        if not state.settings.managed:
            await self.async_user_command(vehicle_id, start=True)
            return
        vehicle = self.coordinator.data[vehicle_id]
        if vehicle.state.plugged_in.value is not True:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="not_plugged_in",
                translation_placeholders={"vehicle": vehicle.info.display_name},
            )

        def change(state: SmartChargingState) -> None:
            state.session = policy.start_now(state.session)
            state.command_error = None

        await self._async_change(vehicle_id, change)
        self._save()
        await self._async_evaluate(vehicle_id)
        if state.command_error is not None:
            # Said at once; the executor retries once by itself.
            raise state.command_error
        if state.session.hold is not Hold.OVERRIDE or state.status in (
            SmartStatus.AWAY,
            SmartStatus.NO_DATA,
        ):
            # Nothing the plan could charge (the target is reached, the car is away, or its
            # level is unknown): start anyway, and leave charging to the user until unplugged.
            await self._async_change(vehicle_id, _session(_hold(Hold.PLAN)))
            await self.async_user_command(vehicle_id, start=True, detail="start_charging_now")

    async def async_user_command(
        self, vehicle_id: str, *, start: bool, detail: str = "charging_switch"
    ) -> None:
        """Start or stop charging for the user; smart charging holds off until the next plug-in.

        The hold is taken before the command is sent: the update the command causes must not
        look like someone else's change (which the executor would answer).
        """
        state = self.vehicle(vehicle_id)
        before = state.session.hold
        take_over = state.settings.managed and before is not Hold.USER
        if take_over:
            await self._async_change(vehicle_id, _session(policy.user_took_over))
        try:
            await self._async_send(vehicle_id, start=start, automatic=False)
        except HomeAssistantError as err:
            if not isinstance(err, CommandResultUnknownError):  # else the car may have done it
                await self._async_change(vehicle_id, _session(_hold(before)))
            self._schedule_evaluation(vehicle_id)  # the status follows the restored hold
            raise
        if take_over:
            self.alerts.record(vehicle_id, Decision.USER_TOOK_OVER, detail)
            self._save()
            self._schedule_evaluation(vehicle_id)

    async def async_skip(self, vehicle_id: str) -> None:
        """Skip tonight: hands off until the car is unplugged."""
        await self._async_change(vehicle_id, _session(policy.user_took_over))
        self.alerts.record(vehicle_id, Decision.USER_TOOK_OVER, "skip_tonight")
        self._save()

    async def async_ignore_risk(self, vehicle_id: str) -> None:
        """Ignore this time: no plan-at-risk warning until the car is unplugged."""
        await self._async_change(vehicle_id, _session(watchdog.ignore_risk))
        await self._async_evaluate(vehicle_id)

    async def async_accept_less(self, vehicle_id: str) -> None:
        """Accept less: charge to what the plan can reach, until the car is unplugged."""
        if (reachable := self.vehicle(vehicle_id).at_risk) is not None:
            await self._async_change(
                vehicle_id, _session(lambda session: policy.accept_less(session, reachable))
            )
            await self._async_evaluate(vehicle_id)


def _session(transition: Callable[[Session], Session]) -> Callable[[SmartChargingState], None]:
    """A session transition as a change of the state (for `_async_change`)."""

    def change(state: SmartChargingState) -> None:
        state.session = transition(state.session)

    return change


def _hold(hold: Hold) -> Callable[[Session], Session]:
    """The session held by someone else."""
    return lambda session: replace(session, hold=hold)
