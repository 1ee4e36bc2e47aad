"""Charging commands: sending them, showing what they did, and why one was not carried out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from . import budget
from .api import (
    ChargingStatus,
    CommandResult,
    Signal,
    SignalStatus,
    SmartcarAuthenticationError,
    SmartcarBillingError,
    SmartcarCommandFailedError,
    SmartcarCommandResultUnknownError,
    SmartcarError,
    SmartcarInvalidInputError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarVehicleStateError,
    SmartcarVirtualKeyRequiredError,
)
from .const import DOMAIN, LOGGER, Refusal
from .plan_limit import count_usage, limit_reached

if TYPE_CHECKING:
    from .coordinator import FlexChargingCoordinator

# Codes that mean a command already had its effect.
ALREADY_DONE = {
    "start": {"CHARGING_IN_PROGRESS", "ALREADY_CHARGING"},
    "stop": {"NOT_CHARGING", "ALREADY_STOPPED"},
}


class CommandRefusedError(HomeAssistantError):
    """A command that was not carried out, and why (translated by its reason)."""

    def __init__(self, reason: Refusal, placeholders: dict[str, str]) -> None:
        """Translate the reason with the placeholders."""
        super().__init__(
            translation_domain=DOMAIN,
            translation_key=reason.value,
            translation_placeholders=placeholders,
        )
        self.reason = reason


class CommandResultUnknownError(HomeAssistantError):
    """A command was sent but its result never came: the car may have carried it out."""

    def __init__(self, placeholders: dict[str, str]) -> None:
        """Say so, translated; the car's state is being read to check."""
        super().__init__(
            translation_domain=DOMAIN,
            translation_key="command_result_unknown",
            translation_placeholders=placeholders,
        )


_STATE_REFUSALS = {
    "ASLEEP": Refusal.VEHICLE_ASLEEP,
    "UNREACHABLE": Refusal.VEHICLE_UNREACHABLE,
    "CHARGING_PLUG_NOT_CONNECTED": Refusal.PLUG_NOT_CONNECTED,
    "FULLY_CHARGED": Refusal.FULLY_CHARGED,
    "REMOTE_ACCESS_DISABLED": Refusal.REMOTE_ACCESS_DISABLED,
}


def command_refusal(err: SmartcarError, placeholders: dict[str, str]) -> CommandRefusedError:
    """The refusal of a failed command."""
    reason = Refusal.COMMAND_FAILED
    extra: dict[str, str] = {"error": str(err)}
    if isinstance(err, SmartcarVehicleStateError):
        code = (err.code or "").upper()
        reason = _STATE_REFUSALS.get(code, Refusal.VEHICLE_STATE)
        extra = {"error": code or str(err)}
    elif isinstance(err, SmartcarRateLimitError):
        reason = Refusal.RATE_LIMITED
        extra = {"seconds": str(round(err.retry_after or 60))}
    elif isinstance(err, SmartcarBillingError):
        reason = Refusal.BILLING_LIMIT
    elif isinstance(err, SmartcarPermissionError):
        reason = Refusal.PERMISSION_MISSING
    elif isinstance(err, SmartcarInvalidInputError):
        reason = Refusal.INVALID_CHARGE_LIMIT
    elif isinstance(err, SmartcarCommandFailedError):
        reason = Refusal.COMMAND_NOT_EXECUTED
    return CommandRefusedError(reason, {**placeholders, **extra})


class CommandSender:
    """Sends a vehicle's charging commands for the coordinator and shows what they did."""

    def __init__(self, coordinator: FlexChargingCoordinator) -> None:
        """For the vehicles of one coordinator."""
        self._coordinator = coordinator

    async def async_start_charging(self, vehicle_id: str, *, automatic: bool = False) -> None:
        """Start charging; "already charging" counts as success."""
        coordinator = self._coordinator
        await self._async_command(
            vehicle_id,
            "start",
            lambda: coordinator.client.async_start_charging(vehicle_id, coordinator.user_id),
            expected={"is_charging": True, "charging_status": ChargingStatus.CHARGING},
            automatic=automatic,
        )

    async def async_stop_charging(self, vehicle_id: str, *, automatic: bool = False) -> None:
        """Stop charging; "not charging" counts as success."""
        coordinator = self._coordinator
        await self._async_command(
            vehicle_id,
            "stop",
            lambda: coordinator.client.async_stop_charging(vehicle_id, coordinator.user_id),
            expected={"is_charging": False, "charging_status": ChargingStatus.NOT_CHARGING},
            automatic=automatic,
        )

    async def async_set_charge_limit(self, vehicle_id: str, percent: int) -> None:
        """Set the charge limit (50–100 %)."""
        coordinator = self._coordinator
        await self._async_command(
            vehicle_id,
            "set_limit",
            lambda: coordinator.client.async_set_charge_limit(
                vehicle_id, coordinator.user_id, percent
            ),
            expected={"charge_limit": percent},
        )

    async def _async_command(
        self,
        vehicle_id: str,
        command: str,
        send: Callable[[], Awaitable[CommandResult]],
        expected: dict[str, Any],
        *,
        automatic: bool = False,
    ) -> None:
        """Send a command; map every failure to a translated error; show a done command at once.

        A command Smartcar only accepted (202 PENDING) is not shown until the car confirms it
        (a read or a delivery); one whose result never came is re-read, not called failed.
        Past the plan's limit Smartcar refuses commands too: automatic ones (smart charging) are
        not sent; the user's own are (the plan may have grown) and a refusal says why.
        """
        coordinator = self._coordinator
        vehicle = coordinator.data[vehicle_id]
        name = vehicle.info.display_name
        placeholders = {"vehicle": name}
        if automatic and vehicle.limit_hit:
            raise CommandRefusedError(Refusal.BILLING_LIMIT, placeholders)
        result: CommandResult | None = None
        unknown: SmartcarCommandResultUnknownError | None = None
        try:
            result = await send()
        except SmartcarCommandResultUnknownError as err:
            unknown = err
        except SmartcarVehicleStateError as err:
            if (err.code or "").upper() not in ALREADY_DONE.get(command, set()):
                raise command_refusal(err, placeholders) from err
        except SmartcarVirtualKeyRequiredError as err:
            vehicle.set_key(paired=False, at=dt_util.utcnow(), link=err.resolution_url)
            coordinator.sync_issues()
            coordinator.async_set_updated_data(dict(coordinator.data))
            raise CommandRefusedError(Refusal.VIRTUAL_KEY_MISSING, placeholders) from err
        except SmartcarAuthenticationError as err:
            coordinator.config_entry.async_start_reauth(coordinator.hass)
            raise CommandRefusedError(Refusal.AUTH_FAILED, placeholders) from err
        except SmartcarBillingError as err:
            count_usage(coordinator, vehicle_id)
            limit_reached(coordinator, vehicle, err)
            coordinator.async_set_updated_data(dict(coordinator.data))
            raise command_refusal(err, placeholders) from err
        except SmartcarError as err:
            raise command_refusal(err, placeholders) from err
        finally:
            count_usage(coordinator, vehicle_id)
        now = dt_util.utcnow()
        vehicle.last_command = now
        if automatic:
            coordinator.usage.smart_command_sent(vehicle_id)
        if result is not None and vehicle.info.needs_virtual_key:
            # Carried out or accepted: Smartcar reached the car with its key (the Tesla FAQ:
            # without it a command fails with VIRTUAL_KEY_REQUIRED).
            changed = vehicle.key_confirmed is not True
            vehicle.set_key(paired=True, at=now)
            if changed:
                coordinator.sync_issues()
        if unknown is not None:
            LOGGER.warning(
                "The %s command to %s got no result (%s); reading the car to check",
                command,
                name,
                unknown,
            )
            coordinator.schedule_reread(vehicle_id)
            if automatic:
                return  # smart charging waits for the car's confirmation, as after any command
            raise CommandResultUnknownError(placeholders) from unknown
        if result is not None and not result.done:
            LOGGER.debug("%s accepted the %s command (%s)", name, command, result.status)
        else:
            # Done: shown at once, stamped with the command's time (an older poll cannot undo it).
            optimistic: dict[str, Any] = {
                name: Signal(value=value, status=SignalStatus.SUCCESS, oem_updated_at=now)
                for name, value in expected.items()
            }
            vehicle.state = replace(vehicle.state, **optimistic)
            coordinator.async_set_updated_data(dict(coordinator.data))
        if not (budget.small_plan(coordinator.budget) and coordinator.webhooks_flowing):
            # With webhooks the delivery that follows shows the result: a small plan does not
            # read at all, a larger one only if no delivery came.
            coordinator.schedule_reread(vehicle_id, fallback=coordinator.webhooks_flowing)
