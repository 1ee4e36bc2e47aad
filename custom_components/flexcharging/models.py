"""What a loaded config entry holds: its runtime data and what it knows of each vehicle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from . import budget
from .api import (
    ChargingStatus,
    KeyState,
    SignalStatus,
    SmartcarClient,
    VehicleInfo,
    VehicleState,
)
from .api.errors import VIRTUAL_KEY_REQUIRED
from .api.signals import FIELD_OF_CODE
from .api.webhooks import VehicleErrorEvent, VehicleStateEvent
from .const import BACKEND_ENTITIES, CONF_BACKEND, DOMAIN, LOGGER, SMARTCAR_DASHBOARD_URL

if TYPE_CHECKING:
    from .plug_guard import PlugGuard
    from .push import PushReceiver
    from .rereads import Rereads
    from .session_log import SessionLog
    from .smart_charging import SmartChargingManager

type FlexChargingConfigEntry = ConfigEntry[FlexChargingRuntime]


def from_other_integration(entry: ConfigEntry[Any]) -> bool:
    """Whether the entry is a vehicle from another integration (else a Smartcar account)."""
    return entry.data.get(CONF_BACKEND) == BACKEND_ENTITIES


@dataclass(slots=True)
class FlexChargingRuntime:
    """What a loaded entry holds."""

    client: SmartcarClient | None  # None for a vehicle from another integration
    coordinator: VehicleCoordinator
    smart_charging: SmartChargingManager
    sessions: SessionLog
    receiver: PushReceiver | None = None  # None without a webhook
    plug_guard: PlugGuard | None = None  # set once the entry's data is read


@dataclass(slots=True)
class VehicleData:
    """What the integration knows about one vehicle."""

    info: VehicleInfo
    state: VehicleState = field(default_factory=VehicleState)
    # Smartcar's own word on its virtual key, the latest wins: False after VIRTUAL_KEY_REQUIRED
    # (a read, a command, a VEHICLE_ERROR, or on the key signal), True after a command it
    # carried out or accepted or the VEHICLE_ERROR's RESOLVED; None while it has said nothing
    # (the key signal is then only a hint). `key_link` is the error's resolution.url, if any.
    key_confirmed: bool | None = None
    key_confirmed_at: datetime | None = None
    key_from_signal: bool = False  # the False came from the key signal (it goes with it)
    key_link: str | None = None
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
    # Commands sent this month through another integration (its service calls), wake-ups
    # included, and the wake-ups alone (Tesla's Fleet API bills both).
    commands_sent: int = 0
    wake_ups: int = 0
    limit_hit: bool = False  # Smartcar refused a request for the plan's limit this month
    forecast_exhausted: datetime | None = None  # when this month's budget runs out at this rate
    budget_at_risk: bool = False  # it runs out days before the month ends
    logged_unavailable: bool = False  # "unavailable" was logged; "available again" is due
    last_webhook: datetime | None = None  # when a webhook delivery about this vehicle arrived
    # Signals that could not be read (code -> reason), until the signal reads again.
    signal_problems: dict[str, str] = field(default_factory=dict)

    def merge(self, fresh: VehicleState) -> None:
        """Merge a read or a delivery (newer values win); its key signal sets the key error."""
        had_key_error = self.state.key_paired.error_code == VIRTUAL_KEY_REQUIRED
        self.state = self.state.merged_with(fresh)
        for code in list(self.signal_problems):
            if (name := FIELD_OF_CODE.get(code)) and getattr(fresh, name).known:
                del self.signal_problems[code]
        self.signal_problems.update((p.code, p.reason) for p in fresh.problems)
        signal = fresh.key_paired
        if signal.error_code == VIRTUAL_KEY_REQUIRED and not (self.key_confirmed and had_key_error):
            # New on the signal, it is Smartcar's word; still there after a confirmation, the
            # store is stale (an errored signal carries no time to tell).
            self.set_key(paired=False, at=signal.oem_updated_at, from_signal=True)
        elif signal.status is not SignalStatus.ABSENT and self.key_from_signal:
            # Smartcar no longer says so on the signal: back to what the signal hints.
            self.key_confirmed = None
            self.key_from_signal = False

    def set_key(
        self,
        *,
        paired: bool,
        at: datetime | None = None,
        link: str | None = None,
        from_signal: bool = False,
    ) -> None:
        """Smartcar said whether its virtual key is there (see `key_confirmed`)."""
        self.key_confirmed = paired
        self.key_confirmed_at = at or self.key_confirmed_at
        self.key_from_signal = from_signal
        if link:
            self.key_link = link

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
            if error.code == VIRTUAL_KEY_REQUIRED:
                self.set_key(paired=error.resolved, at=now, link=error.resolution_url)

    @property
    def key_state(self) -> KeyState:
        """The virtual-key state, errors included."""
        if not self.info.needs_virtual_key:
            return KeyState.NOT_REQUIRED
        if self.key_confirmed is not None:
            return KeyState.PAIRED if self.key_confirmed else KeyState.MISSING
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


class VehicleCoordinator(DataUpdateCoordinator[FleetData]):
    """A backend: what smart charging and the vehicle entities need, whoever reaches the car.

    `FlexChargingCoordinator` reaches vehicles through Smartcar; `EntityVehicleCoordinator`
    through the entities of another integration.
    """

    config_entry: FlexChargingConfigEntry
    # The keys of the entity descriptions this backend has no data or action for.
    unsupported_keys: frozenset[str] = frozenset()
    # The reads that confirm a command, where they are billed (Smartcar).
    rereads: Rereads | None = None
    configuration_url: str | None = SMARTCAR_DASHBOARD_URL

    def device_info(self, vehicle_id: str) -> DeviceInfo:
        """The device of a vehicle."""
        vehicle = self.data[vehicle_id]
        info = vehicle.info
        return DeviceInfo(
            identifiers={(DOMAIN, vehicle_id)},
            manufacturer=(info.make or "").title() or None,
            model=info.model,
            name=info.display_name,
            serial_number=vehicle.state.vin.value,
            configuration_url=self.configuration_url,
        )

    async def async_start_charging(self, vehicle_id: str, *, automatic: bool = False) -> None:
        """Start charging; "already charging" counts as success."""
        raise NotImplementedError

    async def async_stop_charging(self, vehicle_id: str, *, automatic: bool = False) -> None:
        """Stop charging; "not charging" counts as success."""
        raise NotImplementedError

    async def async_set_charge_limit(self, vehicle_id: str, percent: int) -> None:
        """Set the charge limit."""
        raise NotImplementedError

    async def async_refresh_vehicle(self, vehicle_id: str) -> VehicleData:
        """Read one vehicle now."""
        raise NotImplementedError
