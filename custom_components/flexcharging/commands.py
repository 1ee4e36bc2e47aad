"""Commands and their refusals: why a command was not carried out, as a type and a message."""

from __future__ import annotations

from homeassistant.exceptions import HomeAssistantError

from .api import (
    SmartcarBillingError,
    SmartcarCommandFailedError,
    SmartcarError,
    SmartcarInvalidInputError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarVehicleStateError,
)
from .const import DOMAIN, Refusal

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
