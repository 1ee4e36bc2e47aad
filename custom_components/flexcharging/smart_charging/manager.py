"""Smart charging: plan each vehicle's charging on the user's prices and carry the plan out.

The planner (`planner.py`) decides when to charge; this module feeds it (battery level, charge
speed, ready-by time, prices) and executes the plan through the coordinator's commands: one
start and one stop per planned block, a car that starts by itself on plug-in is stopped, a start
that does not take is retried once, and the user always wins (a manual start or stop, or "Start
charging now", holds until the car is unplugged). Every decision is recorded, logged to the
logbook and shown by an entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.location import distance

from ..api import ChargingStatus
from ..const import (
    CONF_OFFPEAK_PRICE,
    CONF_PEAK_PRICE,
    CONF_PRICE_ENTITIES,
    CONF_PRICE_SOURCE,
    CONF_READ_LOCATION,
    CONF_WEEKDAY_PEAK_END,
    CONF_WEEKDAY_PEAK_START,
    CONF_WEEKEND_PEAK_END,
    CONF_WEEKEND_PEAK_START,
    DOMAIN,
    EVENT_CHARGING_DECISION,
    LOGGER,
    PRICE_SOURCE_ENTITIES,
    PRICE_SOURCE_SCHEDULE,
    SIGNAL_PLAN_UPDATED,
    Refusal,
    storage_key,
)
from ..coordinator import CommandRefusedError, FlexChargingCoordinator, VehicleData
from ..models import FlexChargingConfigEntry
from ..planner import BlockReason, ChargePlan, ChargeRequest, PriceSlot, plan_charging
from ..prices import (
    PriceFormatError,
    RateSchedule,
    price_unit,
    schedule_slots,
    slots_from_attributes,
)

STORAGE_VERSION = 1
DEFAULT_PERCENT_PER_HOUR = 10.0  # a slow home charger: plans start early rather than late
MIN_POWER_KW = 0.5  # below this a power reading is idle noise
MAX_HOME_POWER_KW = 22.0  # the most a home (AC) charger delivers; more is a fast charger
LEARN_BELOW_SOC = 90.0  # above this cars slow down: not their usual speed
MIN_LEARN_HOURS = 0.2  # shorter stretches say little about the charge speed
RATE_MEMORY = 0.3  # weight of a new charge-speed observation
RETRY_AFTER = timedelta(minutes=2)  # a command that did not take is sent again once, after this
REEVALUATE_EVERY = timedelta(minutes=15)
TOP_UP_BELOW = 3.0  # percent below the target that starts a new charge once it was reached
MAX_COMMANDS = 2  # per decision: the command and one retry
# Charging that begins this soon after the plug-in was seen is the car's own start (a report
# may show the plug before the charging), not the user's.
AUTO_START_WINDOW = timedelta(minutes=10)


class SmartStatus(StrEnum):
    """What smart charging is doing for a vehicle."""

    OFF = "off"
    UNPLUGGED = "unplugged"
    AWAY = "away"
    NO_DATA = "no_data"
    WAITING = "waiting"
    CHARGING = "charging"
    OVERRIDE = "override"
    MANUAL = "manual"
    TARGET_REACHED = "target_reached"
    START_FAILED = "start_failed"
    STOP_FAILED = "stop_failed"


class Decision(StrEnum):
    """What the executor did last, and why."""

    START_PLAN = "start_plan"
    START_MINIMUM = "start_minimum"
    START_NOT_ENOUGH_TIME = "start_not_enough_time"
    START_OVERRIDE = "start_override"
    RETRY_START = "retry_start"
    STOP_PLAN = "stop_plan"
    STOP_AUTO_START = "stop_auto_start"
    STOP_TARGET = "stop_target"
    RETRY_STOP = "retry_stop"
    USER_TOOK_OVER = "user_took_over"
    START_FAILED = "start_failed"
    STOP_FAILED = "stop_failed"
    TARGET_REACHED = "target_reached"


_START_FOR_REASON = {
    BlockReason.MINIMUM: Decision.START_MINIMUM,
    BlockReason.NOT_ENOUGH_TIME: Decision.START_NOT_ENOUGH_TIME,
}


@dataclass(slots=True)
class SmartSettings:
    """A vehicle's smart-charging settings (stored)."""

    managed: bool = False
    ready_by_weekday: time = time(7, 0)
    ready_by_weekend: time = time(9, 0)
    target: int = 80
    minimum: int = 20

    def as_dict(self) -> dict[str, Any]:
        """For storage."""
        return {
            "managed": self.managed,
            "ready_by_weekday": self.ready_by_weekday.isoformat(),
            "ready_by_weekend": self.ready_by_weekend.isoformat(),
            "target": self.target,
            "minimum": self.minimum,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SmartSettings:
        """From storage; anything missing or unreadable takes its default."""
        settings = cls()
        try:
            return cls(
                managed=bool(data.get("managed", settings.managed)),
                ready_by_weekday=time.fromisoformat(
                    data.get("ready_by_weekday", settings.ready_by_weekday.isoformat())
                ),
                ready_by_weekend=time.fromisoformat(
                    data.get("ready_by_weekend", settings.ready_by_weekend.isoformat())
                ),
                target=int(data.get("target", settings.target)),
                minimum=int(data.get("minimum", settings.minimum)),
            )
        except TypeError, ValueError:
            return settings


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision of the executor."""

    decision: Decision
    at: datetime
    detail: str | None = None


@dataclass(slots=True)
class SmartChargingState:
    """Smart charging's state for one vehicle."""

    settings: SmartSettings = field(default_factory=SmartSettings)
    plan: ChargePlan | None = None
    status: SmartStatus = SmartStatus.OFF
    last_decision: DecisionRecord | None = None
    deadline: datetime | None = None
    currency: str | None = None
    # The plug-in session
    plugged: bool | None = None
    plugged_at: datetime | None = None  # when this session's plug-in was first seen
    first_look: bool = True  # the first reading of a session (or after management was enabled)
    override: bool = False  # "Start charging now" until the target or the unplug
    manual: bool = False  # the user started or stopped charging: hands off until the unplug
    # The executor's current intent, how often it acted on it, and whether the car followed
    wanted: bool | None = None
    confirmed: bool = False
    attempts: int = 0
    last_attempt: datetime | None = None
    failed: bool = False
    done: bool = False  # the target was reached in this session
    command_error: HomeAssistantError | None = None  # of the last command that failed
    # The charge speed, learned
    power_kw: float | None = None
    learned_percent_per_hour: float | None = None
    soc_sample: tuple[datetime, float] | None = None
    # The level we worked out, when, and the car's report it started from.
    soc_estimate: tuple[float, datetime, datetime | None] | None = None

    def stored(self) -> dict[str, Any]:
        """What survives a restart."""
        return {
            "settings": self.settings.as_dict(),
            "override": self.override,
            "manual": self.manual,
            "power_kw": self.power_kw,
            "learned_percent_per_hour": self.learned_percent_per_hour,
        }


def plan_signal(entry_id: str, vehicle_id: str) -> str:
    """The dispatcher signal sent after a vehicle's plan was made."""
    return SIGNAL_PLAN_UPDATED.format(f"{entry_id}_{vehicle_id}")


def next_ready_by(settings: SmartSettings, now: datetime, time_zone: ZoneInfo) -> datetime:
    """The next ready-by moment after `now` (weekend days: Saturday and Sunday)."""
    local = now.astimezone(time_zone)
    day: date = local.date()
    while True:  # today or tomorrow
        ready = settings.ready_by_weekend if day.weekday() >= 5 else settings.ready_by_weekday
        candidate = datetime.combine(day, ready, tzinfo=time_zone)
        if candidate > local:
            return candidate.astimezone(dt_util.UTC)
        day += timedelta(days=1)


class SmartChargingManager:
    """Plans and executes smart charging for every vehicle of a config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: FlexChargingConfigEntry,
        coordinator: FlexChargingCoordinator,
    ) -> None:
        """Prepare; `async_setup` starts it."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.vehicles: dict[str, SmartChargingState] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id, "smart_charging")
        )
        self._stored: dict[str, Any] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        self._wake_up: CALLBACK_TYPE | None = None
        self._running: set[str] = set()
        self._dirty: set[str] = set()
        # Per price entity: the state last read, its prices, and their currency.
        self._price_cache: dict[str, tuple[State, list[PriceSlot], str | None]] = {}
        self.price_problem: str | None = None
        options = entry.options
        self.price_source: str | None = options.get(CONF_PRICE_SOURCE)
        self.price_entities: list[str] = list(options.get(CONF_PRICE_ENTITIES, []))
        self.schedule = _schedule_from_options(options)

    # --- lifecycle -----------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Load the stored settings (before the entities read them)."""
        self._stored = (await self._store.async_load() or {}).get("vehicles", {})

    async def async_start(self) -> None:
        """Start listening; the first plans once Home Assistant has started.

        Before that the price integration may not be loaded yet: planning without its prices
        would start the car only to stop it a moment later.
        """
        ir.async_delete_issue(self.hass, DOMAIN, self._price_issue_id)  # re-raised if still so
        self._unsubs.append(async_at_started(self.hass, self._on_started))

    @callback
    def _on_started(self, _: HomeAssistant) -> None:
        self._unsubs.append(self.coordinator.async_add_listener(self._on_coordinator_update))
        if self.price_source == PRICE_SOURCE_ENTITIES and self.price_entities:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, self.price_entities, self._on_price_change
                )
            )
        self._unsubs.append(
            async_track_time_interval(
                self.hass, self._on_timer, REEVALUATE_EVERY, name="flexcharging replan"
            )
        )
        self._on_coordinator_update()

    async def async_unload(self) -> None:
        """Stop listening and timers; write the settings now (a reload reads them at once)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._wake_up:
            self._wake_up()
            self._wake_up = None
        await self._store.async_save(self._data_to_store())

    @property
    def _price_issue_id(self) -> str:
        return f"price_entity_unusable_{self.entry.entry_id}"

    def vehicle(self, vehicle_id: str) -> SmartChargingState:
        """The smart-charging state of a vehicle (created with its stored settings)."""
        if (smart := self.vehicles.get(vehicle_id)) is None:
            stored = self._stored.get(vehicle_id, {})
            smart = SmartChargingState(
                settings=SmartSettings.from_dict(stored.get("settings", {})),
                override=bool(stored.get("override", False)),
                manual=bool(stored.get("manual", False)),
                power_kw=_positive(stored.get("power_kw")),
                learned_percent_per_hour=_positive(stored.get("learned_percent_per_hour")),
            )
            self.vehicles[vehicle_id] = smart
        return smart

    def _save(self) -> None:
        self._store.async_delay_save(self._data_to_store, 5)

    def _data_to_store(self) -> dict[str, Any]:
        known = set(self.coordinator.data)  # vehicles that left the account are dropped
        stored = {vid: data for vid, data in self._stored.items() if vid in known}
        return {
            "vehicles": {**stored, **{vid: smart.stored() for vid, smart in self.vehicles.items()}}
        }

    # --- user actions --------------------------------------------------------------------------

    async def async_update_settings(self, vehicle_id: str, **changes: Any) -> None:
        """Change settings (the managed switch, ready-by times, target, minimum)."""
        smart = self.vehicle(vehicle_id)
        enabling = changes.get("managed") is True and not smart.settings.managed
        smart.settings = replace(smart.settings, **changes)
        smart.done = False
        if enabling:
            # Take charge of whatever the car is doing now.
            smart.first_look = True
            smart.manual = False
            smart.override = False
            smart.failed = False
            smart.wanted = None
        self._save()
        await self._async_evaluate(vehicle_id)

    async def async_start_now(self, vehicle_id: str) -> None:
        """Start charging now: charge until the target, whatever the plan (until unplugged)."""
        smart = self.vehicle(vehicle_id)
        if not smart.settings.managed:
            await self.async_user_command(vehicle_id, start=True)
            return
        vehicle = self.coordinator.data[vehicle_id]
        if vehicle.state.plugged_in.value is not True:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="not_plugged_in",
                translation_placeholders={"vehicle": vehicle.info.display_name},
            )
        smart.override = True
        smart.manual = False
        smart.failed = False
        smart.command_error = None
        self._save()
        await self._async_evaluate(vehicle_id)
        if smart.command_error is not None:
            # Said at once; the executor retries once by itself.
            raise smart.command_error
        if not smart.override or smart.status in (SmartStatus.AWAY, SmartStatus.NO_DATA):
            # Nothing the plan could charge (the target is reached, the car is away, or its
            # level is unknown): start anyway, and leave charging to the user until unplugged.
            smart.override = False
            await self.async_user_command(vehicle_id, start=True, detail="start_charging_now")

    async def async_user_command(
        self, vehicle_id: str, *, start: bool, detail: str = "charging_switch"
    ) -> None:
        """Start or stop charging for the user; smart charging holds off until the next plug-in.

        The hold is taken before the command is sent: the update the command causes must not
        look like someone else's change (which the executor would answer).
        """
        smart = self.vehicle(vehicle_id)
        before = (smart.manual, smart.override)
        take_over = smart.settings.managed and not smart.manual
        if take_over:
            smart.manual, smart.override = True, False
        try:
            if start:
                await self.coordinator.async_start_charging(vehicle_id)
            else:
                await self.coordinator.async_stop_charging(vehicle_id)
        except HomeAssistantError:
            smart.manual, smart.override = before
            self._schedule_evaluation(vehicle_id)  # the status follows the restored state
            raise
        if take_over:
            self._record(vehicle_id, Decision.USER_TOOK_OVER, detail)
            self._save()
            self._schedule_evaluation(vehicle_id)

    # --- triggers ------------------------------------------------------------------------------

    @callback
    def _on_coordinator_update(self) -> None:
        for vehicle_id in list(self.coordinator.data):
            self._schedule_evaluation(vehicle_id)

    @callback
    def _on_price_change(self, event: Event[EventStateChangedData]) -> None:
        self._on_coordinator_update()

    @callback
    def _on_timer(self, _: datetime) -> None:
        self._on_coordinator_update()

    @callback
    def _schedule_evaluation(self, vehicle_id: str) -> None:
        if vehicle_id in self._running:
            self._dirty.add(vehicle_id)
            return
        self.entry.async_create_background_task(
            self.hass, self._async_evaluate(vehicle_id), f"flexcharging plan {vehicle_id}"
        )

    def _plan_wake_up(self) -> None:
        """Wake at the next block boundary (or retry) of any vehicle."""
        now = dt_util.utcnow()
        moments: list[datetime] = []
        for smart in self.vehicles.values():
            if smart.plan is not None and (edges := smart.plan.boundaries_after(now)):
                moments.append(edges[0])
            if smart.last_attempt is not None and smart.attempts and not smart.failed:
                moments.append(smart.last_attempt + RETRY_AFTER)
        moments = [moment for moment in moments if moment > now]
        if self._wake_up:
            self._wake_up()
            self._wake_up = None
        if moments:
            self._wake_up = async_track_point_in_utc_time(self.hass, self._on_wake_up, min(moments))

    @callback
    def _on_wake_up(self, _: datetime) -> None:
        self._wake_up = None
        self._on_coordinator_update()

    # --- the decision --------------------------------------------------------------------------

    async def _async_evaluate(self, vehicle_id: str) -> None:
        """Plan, and act on the plan (one evaluation per vehicle at a time)."""
        if vehicle_id in self._running:
            self._dirty.add(vehicle_id)
            return
        self._running.add(vehicle_id)
        try:
            while True:
                self._dirty.discard(vehicle_id)
                await self._async_evaluate_once(vehicle_id)
                if vehicle_id not in self._dirty:
                    break
        finally:
            self._running.discard(vehicle_id)
        self._plan_wake_up()
        async_dispatcher_send(self.hass, plan_signal(self.entry.entry_id, vehicle_id))

    async def _async_evaluate_once(self, vehicle_id: str) -> None:
        vehicle = self.coordinator.data.get(vehicle_id)
        if vehicle is None:
            return
        smart = self.vehicle(vehicle_id)
        now = dt_util.utcnow()
        if not smart.settings.managed:
            smart.plan, smart.status = None, SmartStatus.OFF
            return
        plugged = vehicle.state.plugged_in.value
        if plugged is None:
            # Not known (an error or a gap in the report): no plan, but the session goes on.
            smart.plan, smart.status = None, SmartStatus.NO_DATA
            return
        if plugged is False:
            if smart.plugged:
                # Unplugged: the session, its override and the user's hold end.
                smart.override = smart.manual = smart.failed = False
                smart.wanted = None
                self._save()
            smart.plugged = False
            smart.plan, smart.status = None, SmartStatus.UNPLUGGED
            return
        if smart.plugged is not True:
            # Seen being plugged in, or merely found plugged in (at start-up, or on enabling):
            # only a real plug-in starts a new session; a restart keeps the user's hold.
            plugged_in_now = smart.plugged is False
            smart.plugged_at = now if plugged_in_now else None
            smart.plugged = True
            smart.first_look = True
            smart.wanted = None
            if plugged_in_now:
                smart.manual = smart.override = smart.failed = smart.done = False
                smart.soc_estimate = None  # driven since: the car's report is what counts
        if not self._at_home(vehicle):
            smart.plan, smart.status = None, SmartStatus.AWAY
            return
        self._learn(smart, vehicle)
        soc = vehicle.state.battery_level.value
        if soc is None:
            smart.plan, smart.status = None, SmartStatus.NO_DATA
            return
        target = self._target(smart, vehicle)
        soc = self._estimated_soc(smart, vehicle, now, soc)
        if soc >= target:
            smart.done = True
        elif smart.done and soc >= target - TOP_UP_BELOW:
            soc = target  # reached already: no top-up for a percent or two
        smart.plan = self._make_plan(smart, vehicle, now, soc, target)
        if smart.override and soc >= target:
            smart.override = False
            self._save()
        if smart.manual:
            smart.status = SmartStatus.MANUAL
            return
        await self._async_execute(vehicle_id, smart, vehicle, now, soc >= target)

    async def _async_execute(
        self,
        vehicle_id: str,
        smart: SmartChargingState,
        vehicle: VehicleData,
        now: datetime,
        target_reached: bool,
    ) -> None:
        plan = smart.plan
        assert plan is not None
        desired = smart.override or plan.charging_at(now)
        if desired != smart.wanted:
            smart.wanted, smart.attempts, smart.failed, smart.confirmed = desired, 0, False, False
        first_look, smart.first_look = smart.first_look, False
        charging = vehicle.charging
        if not vehicle.available or charging is None:
            smart.status = self._resting_status(smart, desired, target_reached)
            return
        if desired == charging:
            # Confirmed by the car itself, not by the value a command showed in advance.
            if not smart.attempts or _reported_after_command(vehicle):
                smart.confirmed = True
            smart.status = self._resting_status(smart, charging, target_reached)
            return
        if desired and vehicle.state.charging_status.value is ChargingStatus.FULLY_CHARGED:
            smart.status = SmartStatus.TARGET_REACHED  # the car's own limit is below the target
            return
        limit = vehicle.state.charge_limit.value
        if target_reached and smart.wanted is False and limit and smart.settings.target >= limit:
            # The target is the car's own limit: it stops there by itself, exactly (our level
            # is an estimate), and a stop command would cost a request.
            smart.status = SmartStatus.TARGET_REACHED
            return
        auto_start = not desired and _soon_after(smart.plugged_at, now, AUTO_START_WINDOW)
        if smart.confirmed and not first_look and not auto_start:
            # The car did as planned and then changed: someone started or stopped it by hand.
            smart.manual = True
            smart.status = SmartStatus.MANUAL
            detail = "charging_stopped_elsewhere" if desired else "charging_started_elsewhere"
            self._record(vehicle_id, Decision.USER_TOOK_OVER, detail)
            self._save()
            return
        if smart.failed:
            smart.status = SmartStatus.START_FAILED if desired else SmartStatus.STOP_FAILED
            return
        if smart.attempts >= MAX_COMMANDS:
            smart.failed = True
            failure = Decision.START_FAILED if desired else Decision.STOP_FAILED
            smart.status = SmartStatus.START_FAILED if desired else SmartStatus.STOP_FAILED
            self._record(vehicle_id, failure, "no_effect")
            return
        if smart.last_attempt and smart.attempts and now - smart.last_attempt < RETRY_AFTER:
            smart.status = self._resting_status(smart, charging, target_reached)
            return
        await self._async_command(vehicle_id, smart, start=desired, target_reached=target_reached)

    async def _async_command(
        self,
        vehicle_id: str,
        smart: SmartChargingState,
        *,
        start: bool,
        target_reached: bool,
    ) -> None:
        now = dt_util.utcnow()
        plan = smart.plan
        assert plan is not None
        block = plan.current_or_next(now)
        if smart.attempts:
            decision = Decision.RETRY_START if start else Decision.RETRY_STOP
        elif start and smart.override:
            decision = Decision.START_OVERRIDE
        elif start:
            reason = block.reason if block else BlockReason.CHEAPEST
            decision = _START_FOR_REASON.get(reason, Decision.START_PLAN)
        elif _soon_after(smart.plugged_at, now, AUTO_START_WINDOW):
            decision = Decision.STOP_AUTO_START
        else:
            decision = Decision.STOP_TARGET if target_reached else Decision.STOP_PLAN
        smart.attempts += 1
        smart.last_attempt = now
        smart.command_error = None
        try:
            if start:
                await self.coordinator.async_start_charging(vehicle_id)
            else:
                await self.coordinator.async_stop_charging(vehicle_id)
        except HomeAssistantError as err:
            refusal = err.reason if isinstance(err, CommandRefusedError) else Refusal.COMMAND_FAILED
            if start and refusal is Refusal.FULLY_CHARGED:
                # The car is at its limit already: the target is reached, nothing failed. Until
                # the car reports its level, the limit is the best estimate of it.
                limit = self.coordinator.data[vehicle_id].state.charge_limit.value or 100
                smart.soc_estimate = (float(limit), now, now)
                smart.done = True
                smart.status = SmartStatus.TARGET_REACHED
                self._record(vehicle_id, Decision.TARGET_REACHED, "fully_charged")
                return
            smart.command_error = err
            detail = refusal.value
            LOGGER.debug("Smart charging command failed for %s: %s", vehicle_id, err)
            if smart.attempts >= MAX_COMMANDS:
                smart.failed = True
                failure = Decision.START_FAILED if start else Decision.STOP_FAILED
                self._record(vehicle_id, failure, detail)
                smart.status = SmartStatus.START_FAILED if start else SmartStatus.STOP_FAILED
                return
            self._record(vehicle_id, decision, f"failed: {detail}")
            smart.status = self._resting_status(smart, not start, target_reached)
            return
        self._record(vehicle_id, decision, None)
        smart.status = self._resting_status(smart, start, target_reached)

    @staticmethod
    def _resting_status(
        smart: SmartChargingState, charging: bool, target_reached: bool
    ) -> SmartStatus:
        if smart.override:
            return SmartStatus.OVERRIDE
        if charging:
            return SmartStatus.CHARGING
        if target_reached or (smart.plan is not None and not smart.plan.blocks):
            return SmartStatus.TARGET_REACHED
        return SmartStatus.WAITING

    def _record(self, vehicle_id: str, decision: Decision, detail: str | None) -> None:
        """Keep the decision, log it, and put it in the logbook."""
        smart = self.vehicle(vehicle_id)
        smart.last_decision = DecisionRecord(decision, dt_util.utcnow(), detail)
        vehicle = self.coordinator.data.get(vehicle_id)
        name = vehicle.info.display_name if vehicle else vehicle_id
        LOGGER.debug("Smart charging, %s: %s (%s)", name, decision.value, detail or "-")
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            (DOMAIN, vehicle_id), self.entry.entry_id
        )
        entity_id = er.async_get(self.hass).async_get_entity_id(
            "sensor", DOMAIN, f"{vehicle_id}_last_decision"
        )
        self.hass.bus.async_fire(
            EVENT_CHARGING_DECISION,
            {
                "device_id": device.id if device else None,
                "entity_id": entity_id,
                "vehicle": name,
                "decision": decision.value,
                "detail": detail,
            },
        )

    # --- inputs --------------------------------------------------------------------------------

    def _make_plan(
        self,
        smart: SmartChargingState,
        vehicle: VehicleData,
        now: datetime,
        soc: float,
        target: int,
    ) -> ChargePlan:
        time_zone = ZoneInfo(self.hass.config.time_zone)
        deadline = next_ready_by(smart.settings, now, time_zone)
        smart.deadline = deadline
        percent_per_hour, capacity = self._charge_speed(smart, vehicle)
        prices, smart.currency = self._prices(now, deadline, time_zone)
        request = ChargeRequest(
            now=now,
            deadline=deadline,
            soc=soc,
            target=target,
            minimum=min(smart.settings.minimum, target),
            percent_per_hour=percent_per_hour,
            capacity_kwh=capacity,
        )
        return plan_charging(request, prices)

    def _estimated_soc(
        self, smart: SmartChargingState, vehicle: VehicleData, now: datetime, soc: float
    ) -> float:
        """The battery level now: the car's latest report, or our estimate made since it.

        While charging, what was charged since is added. Reports come every half hour or so: a
        plan made on a stale level would charge past the target, and after a stop at the
        (estimated) target it would start again. Any report newer than the one an estimate
        started from replaces the estimate.
        """
        reported_at = vehicle.state.battery_level.oem_updated_at
        estimate = smart.soc_estimate
        since: datetime | None
        if estimate is not None and (
            reported_at is None or (estimate[2] is not None and reported_at <= estimate[2])
        ):
            base, since, based_on = estimate
        else:
            base, since, based_on = soc, reported_at, reported_at
        level = base
        if vehicle.charging and since is not None:
            if vehicle.last_command is not None:
                since = max(since, vehicle.last_command)
            hours = max((now - since).total_seconds() / 3600, 0.0)
            percent_per_hour, _ = self._charge_speed(smart, vehicle)
            limit = vehicle.state.charge_limit.value or 100
            level = min(base + percent_per_hour * hours, max(float(limit), base))
        smart.soc_estimate = (level, now, based_on)
        return level

    @staticmethod
    def _target(smart: SmartChargingState, vehicle: VehicleData) -> int:
        """The target, but never above the car's own charge limit (it stops there anyway)."""
        limit = vehicle.state.charge_limit.value
        return min(smart.settings.target, limit) if limit else smart.settings.target

    @staticmethod
    def _charge_speed(
        smart: SmartChargingState, vehicle: VehicleData
    ) -> tuple[float, float | None]:
        """Percent per hour and the battery's capacity (kWh), from the car or learned."""
        capacity = _positive(vehicle.state.battery_capacity.value)
        if smart.power_kw and capacity:
            return smart.power_kw / capacity * 100, capacity
        if smart.learned_percent_per_hour:
            if capacity is None and smart.power_kw:
                capacity = smart.power_kw / smart.learned_percent_per_hour * 100
            return smart.learned_percent_per_hour, capacity
        return DEFAULT_PERCENT_PER_HOUR, capacity

    def _learn(self, smart: SmartChargingState, vehicle: VehicleData) -> None:
        """Learn the charge power and speed from what the car reports while it charges at home.

        Only home charging counts (fast chargers elsewhere say nothing about home), and only
        below LEARN_BELOW_SOC (cars slow down near full).
        """
        state = vehicle.state
        level = state.battery_level
        if not vehicle.charging or (level.value is not None and level.value >= LEARN_BELOW_SOC):
            smart.soc_sample = None
            return
        power = state.charge_power.value
        if (
            power is not None
            and MIN_POWER_KW <= power <= MAX_HOME_POWER_KW
            and state.charge_power.known
            and power != smart.power_kw
        ):
            smart.power_kw = power
            self._save()
        if level.value is None or level.oem_updated_at is None:
            return
        sample = (level.oem_updated_at, level.value)
        previous = smart.soc_sample
        if previous is None or sample[0] < previous[0]:
            smart.soc_sample = sample
            return
        hours = (sample[0] - previous[0]).total_seconds() / 3600
        if hours < MIN_LEARN_HOURS:
            return
        if sample[1] > previous[1]:
            observed = (sample[1] - previous[1]) / hours
            old = smart.learned_percent_per_hour
            smart.learned_percent_per_hour = (
                observed if old is None else old + RATE_MEMORY * (observed - old)
            )
            self._save()
        smart.soc_sample = sample

    def _at_home(self, vehicle: VehicleData) -> bool:
        """Whether the car is at home: its own flag, else the home zone, else assumed."""
        flag = vehicle.state.is_at_home
        if flag.known:
            return bool(flag.value)
        read_location = self.entry.options.get(
            CONF_READ_LOCATION, self.entry.data.get(CONF_READ_LOCATION, False)
        )
        location = vehicle.state.location.value
        zone = self.hass.states.get("zone.home")
        if not read_location or location is None or zone is None:
            return True
        meters = distance(
            location.latitude,
            location.longitude,
            zone.attributes.get("latitude"),
            zone.attributes.get("longitude"),
        )
        return meters is None or meters <= float(zone.attributes.get("radius", 100))

    def _prices(
        self, now: datetime, deadline: datetime, time_zone: ZoneInfo
    ) -> tuple[list[PriceSlot], str | None]:
        """The known prices up to the deadline, and their currency."""
        if self.price_source == PRICE_SOURCE_SCHEDULE and self.schedule is not None:
            end = deadline + timedelta(hours=1)
            return schedule_slots(self.schedule, now, end, time_zone), self.hass.config.currency
        if self.price_source != PRICE_SOURCE_ENTITIES:
            return [], None
        slots: list[PriceSlot] = []
        currency: str | None = None
        problems: list[str] = []
        for entity_id in self.price_entities:
            state = self.hass.states.get(entity_id)
            cached = self._price_cache.get(entity_id)
            if state is not None and (cached is None or cached[0] is not state):
                try:
                    parsed = slots_from_attributes(state.attributes, time_zone)
                except PriceFormatError as err:
                    LOGGER.debug("No prices in %s: %s", entity_id, err)
                else:
                    # Prices carry their own times: the last good list stays valid while the
                    # entity is briefly unavailable.
                    cached = (state, parsed, price_unit(state.attributes))
                    self._price_cache[entity_id] = cached
            if cached is None:
                problems.append(entity_id)
                continue
            slots.extend(cached[1])
            currency = currency or cached[2]
        if not problems and not any(slot.end > now for slot in slots):
            problems = list(self.price_entities)  # lists, but nothing from now on
        self._sync_price_issue(problems)
        # Without a unit on the entity (Octopus Energy's rate events), Home Assistant's currency.
        return slots, currency or self.hass.config.currency

    def _sync_price_issue(self, problems: list[str]) -> None:
        problem = ", ".join(problems) or None
        if problem == self.price_problem:
            return
        self.price_problem = problem
        issue_id = self._price_issue_id
        if problem is None:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="price_entity_unusable",
            translation_placeholders={"entities": problem},
        )


def _soon_after(moment: datetime | None, now: datetime, window: timedelta) -> bool:
    return moment is not None and now - moment < window


def _reported_after_command(vehicle: VehicleData) -> bool:
    """Whether the car reported its charging state after the last command was sent."""
    stamp = vehicle.charging_updated_at
    return vehicle.last_command is None or (stamp is not None and stamp > vehicle.last_command)


def _positive(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _schedule_from_options(options: Any) -> RateSchedule | None:
    """The time-of-use schedule typed in the options, if any."""
    if options.get(CONF_PRICE_SOURCE) != PRICE_SOURCE_SCHEDULE:
        return None

    def window(start_key: str, end_key: str) -> tuple[time, time] | None:
        start, end = options.get(start_key), options.get(end_key)
        if not start or not end or start == end:
            return None
        return time.fromisoformat(start), time.fromisoformat(end)

    return RateSchedule(
        offpeak_price=float(options[CONF_OFFPEAK_PRICE]),
        peak_price=float(options[CONF_PEAK_PRICE]),
        weekday_peak=window(CONF_WEEKDAY_PEAK_START, CONF_WEEKDAY_PEAK_END),
        weekend_peak=window(CONF_WEEKEND_PEAK_START, CONF_WEEKEND_PEAK_END),
    )
