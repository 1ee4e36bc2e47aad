"""What a loaded config entry holds: its runtime data and what it knows of each vehicle."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from . import budget
from .api import (
    ChargingStatus,
    KeyState,
    Signal,
    SignalStatus,
    SmartcarClient,
    VehicleInfo,
    VehicleState,
)
from .api.signals import FIELD_OF_CODE
from .api.webhooks import VehicleErrorEvent, VehicleStateEvent
from .const import LOGGER

if TYPE_CHECKING:
    from .coordinator import FlexChargingCoordinator
    from .plug_guard import PlugGuard
    from .push import PushReceiver
    from .smart_charging import SmartChargingManager

type FlexChargingConfigEntry = ConfigEntry[FlexChargingRuntime]


@dataclass(slots=True)
class FlexChargingRuntime:
    """What a loaded entry holds."""

    client: SmartcarClient
    coordinator: FlexChargingCoordinator
    smart_charging: SmartChargingManager
    receiver: PushReceiver | None = None  # None without a webhook
    plug_guard: PlugGuard | None = None  # set once the entry's data is read


@dataclass(slots=True)
class VehicleData:
    """What the integration knows about one vehicle."""

    info: VehicleInfo
    state: VehicleState = field(default_factory=VehicleState)
    key_error: bool = False  # Smartcar said VIRTUAL_KEY_REQUIRED (request, command or webhook)
    available: bool = False
    last_success: datetime | None = None
    last_error: str | None = None
    empty_store: bool = False
    resubscribed: bool = False
    next_poll: datetime | None = None
    failures: int = 0
    last_command: datetime | None = None
    active_share: float = budget.DEFAULT_ACTIVE_SHARE  # share of time plugged in, not full
    was_active: bool = False
    requests_used: int = 0  # billable requests this month
    limit_hit: bool = False  # Smartcar refused a request for the plan's limit this month
    forecast_exhausted: datetime | None = None  # when this month's budget runs out at this rate
    budget_at_risk: bool = False  # it runs out days before the month ends
    logged_unavailable: bool = False  # "unavailable" was logged; "available again" is due
    last_webhook: datetime | None = None  # when a webhook delivery about this vehicle arrived
    # Signals that could not be read (code -> reason), until the signal reads again.
    signal_problems: dict[str, str] = field(default_factory=dict)

    def merge(self, fresh: VehicleState) -> None:
        """Merge a read or a delivery (newer values win); its key signal sets the key error."""
        self.state = self.state.merged_with(fresh)
        for code in list(self.signal_problems):
            if (name := FIELD_OF_CODE.get(code)) and getattr(fresh, name).known:
                del self.signal_problems[code]
        self.signal_problems.update((p.code, p.reason) for p in fresh.problems)
        if fresh.key_paired.status is not SignalStatus.ABSENT:
            self.key_error = fresh.key_paired.error_code == "VIRTUAL_KEY_REQUIRED"

    def log_availability_change(self) -> None:
        """INFO once when the data becomes unavailable and once when it is back."""
        failed = not self.available and self.last_error is not None
        if failed and not self.logged_unavailable:
            self.logged_unavailable = True
            LOGGER.info("%s is unavailable: %s", self.info.display_name, self.last_error)
        elif self.available and self.logged_unavailable:
            self.logged_unavailable = False
            LOGGER.info("%s is available again", self.info.display_name)

    def apply_event(self, event: VehicleStateEvent | VehicleErrorEvent, now: datetime) -> None:
        """Merge a webhook delivery: newer values win; errors set and clear vehicle problems."""
        self.last_webhook = now
        if isinstance(event, VehicleStateEvent):
            self.merge(event.state)
            self.available = True
            self.empty_store = False
            return
        for error in event.errors:
            if error.code == "VIRTUAL_KEY_REQUIRED":
                self.key_error = not error.resolved
                # The last poll's key signal still carries the error: replace it.
                self.state = replace(
                    self.state,
                    key_paired=Signal(
                        value=error.resolved, status=SignalStatus.SUCCESS, oem_updated_at=now
                    ),
                )

    @property
    def key_state(self) -> KeyState:
        """The virtual-key state, errors included."""
        if not self.info.needs_virtual_key:
            return KeyState.NOT_REQUIRED
        if self.key_error:
            return KeyState.MISSING
        return self.state.key_state(self.info)

    @property
    def charging(self) -> bool | None:
        """Whether the vehicle charges (the detailed status when known)."""
        state = self.state
        if state.charging_status.known:
            return state.charging_status.value is ChargingStatus.CHARGING
        return state.is_charging.value

    @property
    def charging_updated_at(self) -> datetime | None:
        """When the vehicle recorded the charging state `charging` is based on."""
        state = self.state
        signal = state.charging_status if state.charging_status.known else state.is_charging
        return signal.oem_updated_at

    @property
    def active(self) -> bool:
        """Plugged in and not full, or charging: a change is likely soon."""
        state = self.state
        if state.charging_status.value is ChargingStatus.CHARGING or state.is_charging.value:
            return True
        return bool(state.plugged_in.value) and (
            state.charging_status.value is not ChargingStatus.FULLY_CHARGED
        )


type FleetData = dict[str, VehicleData]
