"""The one source of truth: every vehicle's state, read within the request budget and pushed."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from . import budget
from .api import (
    KeyState,
    SmartcarAuthenticationError,
    SmartcarBillingError,
    SmartcarClient,
    SmartcarConnectedServicesError,
    SmartcarError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarVirtualKeyRequiredError,
    VehicleState,
)
from .api.webhooks import VehicleErrorEvent, VehicleStateEvent, WebhookEvent
from .commands import CommandSender
from .const import (
    CONF_PLUG_TRIGGERS,
    CONF_REQUEST_BUDGET,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_USER_ID,
    DATA_CONFIRMED_KEYS,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
    LOGGER,
    SIGNAL_KEY_STATE_CHANGED,
)
from .issues import delete_vehicle_issues, sync_vehicle_issues
from .models import FleetData, FlexChargingConfigEntry, VehicleCoordinator, VehicleData
from .plan_limit import count_usage, limit_reached, roll_month
from .rereads import COMMAND_REREAD_DELAY, WEBHOOK_REREAD_DELAY, Rereads
from .usage import UsageMeter

CONNECTIONS_REFRESH = timedelta(hours=6)
NOT_SUBSCRIBED = "not_subscribed"
WEBHOOK_QUIET_AFTER = timedelta(hours=26)  # no delivery for this long: webhooks are not flowing
RECENT_COMMAND = timedelta(minutes=30)


class FlexChargingCoordinator(VehicleCoordinator):
    """Reads each vehicle's signal store when its budget allows, and merges webhook deliveries."""

    config_entry: FlexChargingConfigEntry
    rereads: Rereads
    unsupported_keys = frozenset({"commands_sent"})  # Smartcar's are requests_used

    def __init__(
        self, hass: HomeAssistant, entry: FlexChargingConfigEntry, client: SmartcarClient
    ) -> None:
        """One coordinator per config entry."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=timedelta(minutes=1),
        )
        self.client = client
        self.user_id: str = entry.data[CONF_USER_ID]
        self.budget: int = int(entry.options.get(CONF_REQUEST_BUDGET, DEFAULT_REQUEST_BUDGET))
        self.data = {}
        self.last_webhook: datetime | None = None
        self._connections_checked: datetime | None = None
        self.usage = UsageMeter(hass, entry.entry_id)
        self.rereads = Rereads(hass, self._async_reread)
        self.commands = CommandSender(self)
        self._logged_signal_problems: set[str] = set()

    @callback
    def async_update_listeners(self) -> None:
        """Log availability changes (once per vehicle each way), then update the entities."""
        for vehicle in (self.data or {}).values():
            vehicle.log_availability_change()
        super().async_update_listeners()

    # --- setup ---------------------------------------------------------------------------------

    async def _async_setup(self) -> None:
        """Load this month's usage and the vehicles on the account."""
        await self.usage.async_load(dt_util.now())
        await self._async_refresh_connections(raise_on_error=True)

    async def _async_refresh_connections(self, *, raise_on_error: bool = False) -> None:
        """Add vehicles that appeared on the account; remove those that left."""
        try:
            connections = await self.client.async_get_connections(user_id=self.user_id)
        except SmartcarAuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except SmartcarError as err:
            if raise_on_error:
                raise UpdateFailed(
                    translation_domain=DOMAIN,
                    translation_key="cannot_connect",
                    translation_placeholders={"error": str(err)},
                ) from err
            LOGGER.debug("Could not refresh the connected vehicles: %s", err)
            return
        self._connections_checked = dt_util.utcnow()
        seen = {c.vehicle.vehicle_id: c.vehicle for c in connections if c.user_id == self.user_id}
        data = dict(self.data or {})
        added = [vehicle_id for vehicle_id in seen if vehicle_id not in data]
        confirmed: dict[str, datetime] = self.hass.data.get(DATA_CONFIRMED_KEYS, {}).pop(
            self.user_id, {}
        )
        for vehicle_id in added:
            data[vehicle_id] = VehicleData(
                info=seen[vehicle_id],
                requests_used=self.usage.get(vehicle_id),
                limit_hit=vehicle_id in self.usage.limited,
            )
            if (at := confirmed.get(vehicle_id)) is not None:
                data[vehicle_id].set_key(paired=True, at=at)  # the setup flow just checked
            elif (key := self.usage.keys.get(vehicle_id)) is not None:
                data[vehicle_id].set_key(paired=key[0], at=key[1])
            if vehicle_id in self.usage.limited:
                data[vehicle_id].next_poll = budget.month_end(dt_util.now())
        removed = [vehicle_id for vehicle_id in data if vehicle_id not in seen]
        for vehicle_id in removed:
            del data[vehicle_id]
            self._remove_device(vehicle_id)
            delete_vehicle_issues(self.hass, vehicle_id)
        self.data = data

    def _remove_device(self, vehicle_id: str) -> None:
        registry = dr.async_get(self.hass)
        if device := registry.async_get_device_by_identifier(
            (DOMAIN, vehicle_id), self.config_entry.entry_id
        ):
            registry.async_remove_device(device.id)

    # --- polling -------------------------------------------------------------------------------

    async def _async_update_data(self) -> FleetData:
        """Read the vehicles that are due; plan the next wake-up."""
        now = dt_util.utcnow()
        roll_month(self, now)
        if self._connections_checked is None or now - self._connections_checked > (
            CONNECTIONS_REFRESH
        ):
            await self._async_refresh_connections()
        due = [
            vehicle_id
            for vehicle_id, vehicle in self.data.items()
            if vehicle.next_poll is None or vehicle.next_poll <= now
        ]
        if due:
            results = await asyncio.gather(
                *(self._async_read_vehicle(vehicle_id) for vehicle_id in due),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, SmartcarAuthenticationError):
                    raise ConfigEntryAuthFailed(
                        translation_domain=DOMAIN, translation_key="auth_failed"
                    ) from result
                if isinstance(result, BaseException):
                    raise result
        self.sync_issues()
        self._plan_next_update()
        self.usage.save()
        unreachable = [
            vehicle
            for vehicle in self.data.values()
            if not vehicle.available and vehicle.last_error not in (None, NOT_SUBSCRIBED)
        ]
        if due and self.data and len(unreachable) == len(self.data):
            # Smartcar failed for every vehicle: the service is down (logged once by the
            # coordinator, and once when it is back).
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={
                    "error": ", ".join(sorted({v.last_error or "" for v in unreachable}))
                },
            )
        return dict(self.data)

    def _plan_next_update(self) -> None:
        planned = [v.next_poll for v in self.data.values() if v.next_poll is not None]
        if not planned:
            self.update_interval = timedelta(minutes=5)
            return
        wait = min(planned) - dt_util.utcnow()
        self.update_interval = max(wait, timedelta(seconds=10))

    async def _async_read_vehicle(self, vehicle_id: str) -> None:
        """One billed read of a vehicle's signal store; errors become the vehicle's state."""
        vehicle = self.data[vehicle_id]
        now = dt_util.utcnow()
        try:
            fresh = await self.client.async_get_state(vehicle_id, self.user_id)
        except SmartcarAuthenticationError:
            count_usage(self, vehicle_id)
            raise
        except SmartcarVirtualKeyRequiredError as err:
            vehicle.set_key(paired=False, at=now, link=err.resolution_url)
            vehicle.available = True
            vehicle.last_error = None
            vehicle.failures = 0
        except SmartcarRateLimitError as err:
            vehicle.failures += 1
            vehicle.last_error = "rate_limited"
            vehicle.next_poll = now + budget.backoff(vehicle.failures, err.retry_after)
            count_usage(self, vehicle_id)
            return
        except SmartcarBillingError as err:
            count_usage(self, vehicle_id)
            limit_reached(self, vehicle, err)
            vehicle.available = False
            return
        except (SmartcarPermissionError, SmartcarConnectedServicesError) as err:
            vehicle.last_error = (err.code or err.error_type or "permission").lower()
            vehicle.available = False
            vehicle.failures += 1
            vehicle.next_poll = now + budget.MAX_INTERVAL
            count_usage(self, vehicle_id)
            return
        except SmartcarError as err:
            vehicle.failures += 1
            vehicle.available = False
            vehicle.last_error = type(err).__name__
            vehicle.next_poll = now + budget.backoff(vehicle.failures)
            LOGGER.debug("Reading %s failed: %s", vehicle.info.display_name, err)
            count_usage(self, vehicle_id)
            return
        else:
            await self._async_apply_read(vehicle, fresh)
            self._log_signal_problems(vehicle)
        count_usage(self, vehicle_id)
        if vehicle.available:
            vehicle.last_success = now
        vehicle.next_poll = now + self._interval_for(vehicle)

    async def _async_apply_read(self, vehicle: VehicleData, fresh: VehicleState) -> None:
        vehicle.failures = 0
        vehicle.last_error = None
        if fresh.is_empty:
            vehicle.available = False
            vehicle.last_error = NOT_SUBSCRIBED
            if not vehicle.resubscribed:
                vehicle.resubscribed = True
                await self._async_resubscribe(vehicle.info.vehicle_id)
            else:
                vehicle.empty_store = True
            return
        vehicle.empty_store = False
        vehicle.resubscribed = False
        vehicle.available = True
        vehicle.merge(fresh)
        vehicle.active_share = budget.updated_active_share(
            vehicle.active_share,
            was_active=vehicle.was_active,
            hours=self._hours_since_read(vehicle),
        )
        vehicle.was_active = vehicle.active

    def _log_signal_problems(self, vehicle: VehicleData) -> None:
        """Log a signal that could not be read once per signal code (diagnostics keep them)."""
        for code, reason in vehicle.signal_problems.items():
            if code not in self._logged_signal_problems:
                self._logged_signal_problems.add(code)
                LOGGER.warning(
                    "Smartcar's %s signal of %s could not be read (%s); it shows as unknown and "
                    "the other signals are used. Logged once; diagnostics list such signals",
                    code,
                    vehicle.info.display_name,
                    reason,
                )

    def _hours_since_read(self, vehicle: VehicleData) -> float:
        if vehicle.last_success is None:
            return 0.0
        return (dt_util.utcnow() - vehicle.last_success).total_seconds() / 3600

    async def _async_resubscribe(self, vehicle_id: str) -> None:
        webhook_id = self.config_entry.data.get(CONF_SMARTCAR_WEBHOOK_ID)
        if not webhook_id:
            return
        try:
            await self.client.async_subscribe(webhook_id, self.user_id, vehicle_id)
        except SmartcarError as err:
            LOGGER.debug("Re-subscribing %s failed: %s", vehicle_id, err)

    def _managed(self, vehicle_id: str) -> bool:
        """Whether smart charging manages the vehicle (it sends start/stop commands)."""
        runtime = getattr(self.config_entry, "runtime_data", None)
        if runtime is None:  # the first refresh runs before the manager exists
            return False
        return bool(runtime.smart_charging.vehicle(vehicle_id).settings.managed)

    def _solar_commands(self, vehicle_id: str) -> int:
        """The sun's daily command budget for a managed vehicle (0 without solar charging)."""
        runtime = getattr(self.config_entry, "runtime_data", None)
        if runtime is None or not self._managed(vehicle_id):
            return 0
        return int(runtime.smart_charging.solar.commands_per_day)

    def _interval_for(self, vehicle: VehicleData) -> timedelta:
        now = dt_util.utcnow()
        recent_command = vehicle.last_command is not None and (
            now - vehicle.last_command < RECENT_COMMAND
        )
        context = budget.PollContext(
            budget=self.budget,
            used=self.usage.get(vehicle.info.vehicle_id),
            active=vehicle.active or recent_command,
            active_share=vehicle.active_share,
            webhooks_flowing=self.webhooks_flowing,
            key_missing=vehicle.key_state is KeyState.MISSING,
            managed_charging=self._managed(vehicle.info.vehicle_id),
            solar_commands_per_day=self._solar_commands(vehicle.info.vehicle_id),
            plug_triggers=bool(self.config_entry.options.get(CONF_PLUG_TRIGGERS)),
            limit_hit=vehicle.limit_hit,
            commands_sent=self.usage.smart_commands.get(vehicle.info.vehicle_id, 0),
        )
        return budget.poll_interval(context, dt_util.now())

    @property
    def webhooks_flowing(self) -> bool:
        """Whether Smartcar delivered a webhook recently."""
        return self.last_webhook is not None and (
            dt_util.utcnow() - self.last_webhook < WEBHOOK_QUIET_AFTER
        )

    # --- usage and repairs -------------------------------------------------------------------

    def sync_issues(self) -> None:
        """Update each vehicle's budget forecast and its repairs; keep Smartcar's word on keys."""
        now = dt_util.now()
        self.usage.remember_keys(
            {
                vehicle_id: (vehicle.key_confirmed, vehicle.key_confirmed_at)
                for vehicle_id, vehicle in self.data.items()
                if vehicle.key_confirmed is not None
                and vehicle.key_confirmed_at is not None
                and not vehicle.key_from_signal
            }
        )
        for vehicle in self.data.values():
            vehicle.forecast_exhausted = budget.forecast_exhaustion(
                self.budget, vehicle.requests_used, now
            )
            vehicle.budget_at_risk = not vehicle.limit_hit and budget.exhaustion_at_risk(
                vehicle.forecast_exhausted, now
            )
        sync_vehicle_issues(self.hass, self.config_entry.entry_id, self.data)

    # --- webhooks ------------------------------------------------------------------------------

    async def async_handle_event(self, event: WebhookEvent) -> None:
        """Merge a webhook delivery: newer values win; errors set and clear vehicle problems."""
        if isinstance(event, VehicleStateEvent | VehicleErrorEvent):
            if event.user_id is not None and event.user_id != self.user_id:
                return
            vehicle = self.data.get(event.vehicle_id)
            if vehicle is None:
                return
            self.last_webhook = dt_util.utcnow()
            vehicle.apply_event(event, self.last_webhook)
            if isinstance(event, VehicleStateEvent) and event.state.charging_status.known:
                self.rereads.cancel(event.vehicle_id)  # it shows what a read would have
            self._log_signal_problems(vehicle)
            vehicle.next_poll = dt_util.utcnow() + self._interval_for(vehicle)
            self.sync_issues()
            self.async_set_updated_data(dict(self.data))
            async_dispatcher_send(self.hass, SIGNAL_KEY_STATE_CHANGED.format(event.vehicle_id))

    # --- on demand -----------------------------------------------------------------------------

    async def async_refresh_vehicle(self, vehicle_id: str) -> VehicleData:
        """Read one vehicle now (refresh button, repair check, after a command)."""
        try:
            await self._async_read_vehicle(vehicle_id)
        except SmartcarAuthenticationError as err:
            self.config_entry.async_start_reauth(self.hass)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="auth_failed",
                translation_placeholders={"vehicle": self.data[vehicle_id].info.display_name},
            ) from err
        self.sync_issues()
        self._plan_next_update()
        self.usage.save()
        self.async_set_updated_data(dict(self.data))
        return self.data[vehicle_id]

    @callback
    def schedule_reread(self, vehicle_id: str, *, fallback: bool = False) -> None:
        """Read this one vehicle again shortly after a command (not the whole fleet).

        `fallback`: only if no webhook delivery shows the charging state first.
        """
        self.rereads.schedule(
            vehicle_id, WEBHOOK_REREAD_DELAY if fallback else COMMAND_REREAD_DELAY
        )

    async def _async_reread(self, vehicle_id: str) -> None:
        if vehicle_id in self.data:
            await self.async_refresh_vehicle(vehicle_id)

    async def async_shutdown(self) -> None:
        """Cancel pending re-reads; write the usage now."""
        self.rereads.cancel_all()
        await self.usage.async_flush()
        await super().async_shutdown()

    # --- commands (sent by commands.CommandSender) ----------------------------------------------

    async def async_start_charging(self, vehicle_id: str, *, automatic: bool = False) -> None:
        """Start charging; "already charging" counts as success."""
        await self.commands.async_start_charging(vehicle_id, automatic=automatic)

    async def async_stop_charging(self, vehicle_id: str, *, automatic: bool = False) -> None:
        """Stop charging; "not charging" counts as success."""
        await self.commands.async_stop_charging(vehicle_id, automatic=automatic)

    async def async_set_charge_limit(self, vehicle_id: str, percent: int) -> None:
        """Set the charge limit (50–100 %)."""
        await self.commands.async_set_charge_limit(vehicle_id, percent)
