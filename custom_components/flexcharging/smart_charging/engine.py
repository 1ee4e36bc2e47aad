"""Smart charging's engine in Home Assistant: listeners, timers, storage, commands, publishing.

The policy (`policy.py`) decides; this module feeds it (the car and its plan from `inputs.py`,
the house from `house.py`), sends the command it asks for, keeps its session, and publishes the
outcome: the status for the entities, the decision for the logbook; what the user must be told
goes to `alerts.py`. The user's own actions are the manager's (`manager.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..commands import CommandRefusedError
from ..const import (
    LOGGER,
    SIGNAL_PLAN_UPDATED,
    Refusal,
    storage_key,
)
from ..models import FlexChargingConfigEntry, VehicleCoordinator, VehicleData
from . import departures, policy, shared, watchdog
from .alerts import SmartAlerts
from .calendar_source import CalendarInputs
from .house import House
from .inputs import PriceInputs, charge_speed, make_plan, read_car
from .model import (
    Decision,
    Hold,
    SmartChargingState,
    SmartSettings,
    SmartStatus,
)
from .sharing import shared_charger_of
from .site_inputs import site_detail
from .solar_inputs import solar_detail

STORAGE_VERSION = 1
REEVALUATE_EVERY = timedelta(minutes=15)


def plan_signal(entry_id: str, vehicle_id: str) -> str:
    """The dispatcher signal sent after a vehicle's plan was made."""
    return SIGNAL_PLAN_UPDATED.format(f"{entry_id}_{vehicle_id}")


@dataclass(slots=True, kw_only=True)
class Prepared:
    """A vehicle read for an evaluation: what the car shows, and what there is to plan."""

    vehicle: VehicleData
    stored: dict[str, Any]  # the state to store before the evaluation (saved if it changed)
    car: policy.Car
    settings: SmartSettings  # for the next departure
    level: tuple[float, int] | None  # the level and target to plan for (None: no plan)


class SmartChargingEngine:
    """Plans and carries out smart charging for every vehicle of a config entry."""

    alerts: SmartAlerts  # the manager's (its answers reach the manager's actions)

    def __init__(
        self,
        hass: HomeAssistant,
        entry: FlexChargingConfigEntry,
        coordinator: VehicleCoordinator,
    ) -> None:
        """Prepare; `async_load` reads the settings, `async_start` starts listening."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.vehicles: dict[str, SmartChargingState] = {}
        self.prices = PriceInputs(hass, entry)
        self.house = House(hass, entry, entry.options)
        self.solar, self.site = self.house.solar, self.house.site
        self.calendar = CalendarInputs(hass, entry)
        # The last-decision sensor of each vehicle, as it registered itself (logbook links).
        self.decision_entities: dict[str, str] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id, "smart_charging")
        )
        self._stored: dict[str, Any] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        self._wake_up: CALLBACK_TYPE | None = None
        # One evaluation per vehicle at a time (its end, for those who wait for it), and the
        # vehicles to evaluate once more when it ends.
        self._running: dict[str, asyncio.Future[None]] = {}
        self._dirty: set[str] = set()
        # Held by an evaluation from reading the session to writing it back (across the
        # command it sends): a change made meanwhile waits instead of being overwritten.
        self._locks: dict[str, asyncio.Lock] = {}

    # --- lifecycle -----------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Load the stored settings (before the entities read them)."""
        self._stored = (await self._store.async_load() or {}).get("vehicles", {})
        await self.solar.async_load()

    async def async_start(self) -> None:
        """Start listening; the first plans once Home Assistant has started.

        Before that the price integration may not be loaded yet: planning without its prices
        would start the car only to stop it a moment later.
        """
        self.prices.clear_issue()  # raised again if it still holds
        self._unsubs.append(self.alerts.async_listen())
        self._unsubs.append(self.site.async_join(self._on_site_change))
        self._unsubs.append(async_at_started(self.hass, self._on_started))

    @callback
    def _on_started(self, _: HomeAssistant) -> None:
        self._unsubs.append(self.coordinator.async_add_listener(self._on_coordinator_update))
        for entities, action in (
            (self.prices.watched_entities, self._on_price_change),
            (self.house.watched_entities, self._on_power_change),
        ):
            if entities:
                self._unsubs.append(async_track_state_change_event(self.hass, entities, action))
        replan = async_track_time_interval(
            self.hass, self._on_timer, REEVALUATE_EVERY, name="flexcharging replan"
        )
        self._unsubs.append(replan)
        self._unsubs.extend(self.calendar.async_start(self._on_coordinator_update))
        self.entry.async_create_background_task(
            self.hass, self._async_first_plans(), "flexcharging first plans"
        )

    async def _async_first_plans(self) -> None:
        """The first plans, with the calendar's departures and the meter read."""
        await self.calendar.async_refresh()
        now = dt_util.utcnow()
        for vehicle_id, vehicle in list(self.coordinator.data.items()):
            self.house.reading(vehicle_id, self.vehicle(vehicle_id), vehicle, now)
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
        await self.solar.async_save()

    def vehicle(self, vehicle_id: str) -> SmartChargingState:
        """The smart-charging state of a vehicle (created with its stored settings)."""
        if (state := self.vehicles.get(vehicle_id)) is None:
            state = SmartChargingState.from_stored(self._stored.get(vehicle_id, {}))
            self.vehicles[vehicle_id] = state
        return state

    def lock(self, vehicle_id: str) -> asyncio.Lock:
        """The lock an evaluation holds on a vehicle's state (see `_locks`)."""
        return self._locks.setdefault(vehicle_id, asyncio.Lock())

    async def _async_change(
        self, vehicle_id: str, change: Callable[[SmartChargingState], None]
    ) -> SmartChargingState:
        """Change a vehicle's state once no evaluation has it (see `_locks`)."""
        state = self.vehicle(vehicle_id)
        async with self.lock(vehicle_id):
            change(state)
        return state

    def _save(self) -> None:
        self._store.async_delay_save(self._data_to_store, 5)

    def _data_to_store(self) -> dict[str, Any]:
        known = set(self.coordinator.data)  # vehicles that left the account are dropped
        stored = {vid: data for vid, data in self._stored.items() if vid in known}
        return {
            "vehicles": {**stored, **{vid: state.stored() for vid, state in self.vehicles.items()}}
        }

    # --- triggers ------------------------------------------------------------------------------

    @callback
    def _on_coordinator_update(self) -> None:
        for vehicle_id in list(self.coordinator.data):
            self._schedule_evaluation(vehicle_id)

    @callback
    def _on_price_change(self, event: Event[EventStateChangedData]) -> None:
        self._on_coordinator_update()

    @callback
    def _on_timer(self, now: datetime) -> None:
        # A meter that reports only on change still holds its reading: the sun learns it.
        self.house.record(self.vehicles, self.coordinator, now)
        self._on_coordinator_update()

    @callback
    def schedule_evaluation(self, vehicle_id: str) -> None:
        """Evaluate a vehicle soon (once, if one is running)."""
        self._schedule_evaluation(vehicle_id)

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
        for state in self.vehicles.values():
            if state.plan is not None and (edges := state.plan.boundaries_after(now)):
                moments.append(edges[0])
            if (retry := watchdog.retry_at(state.session)) is not None:
                moments.append(retry)
        moments += self.house.wake_moments(self.vehicles)
        moments = [moment for moment in moments if moment > now]
        if self._wake_up:
            self._wake_up()
            self._wake_up = None
        if moments:
            self._wake_up = async_track_point_in_utc_time(self.hass, self._on_wake_up, min(moments))

    @callback
    def _on_wake_up(self, now: datetime) -> None:
        self._wake_up = None
        for vehicle_id, vehicle in list(self.coordinator.data.items()):
            # A pause may end without a new reading (meters that report only on change).
            self.house.reading(vehicle_id, self.vehicle(vehicle_id), vehicle, now)
        self._on_coordinator_update()

    # --- the evaluation ------------------------------------------------------------------------

    async def _async_evaluate(self, vehicle_id: str) -> None:
        """Plan, and act on the plan (one evaluation per vehicle at a time).

        While one runs, another is asked for once it ends, and the caller waits for that: a
        caller returns once its change was evaluated.
        """
        if (running := self._running.get(vehicle_id)) is not None:
            self._dirty.add(vehicle_id)
            await asyncio.shield(running)
            return
        done = self._running[vehicle_id] = self.hass.loop.create_future()
        try:
            while True:
                self._dirty.discard(vehicle_id)
                group = shared_charger_of(self.hass, self.entry.entry_id, vehicle_id)
                if group is not None:
                    # Planned and decided with the other cars of its charger (it publishes them).
                    await group.async_evaluate()
                else:
                    async with self.lock(vehicle_id):
                        await self._async_evaluate_once(vehicle_id)
                if vehicle_id not in self._dirty:
                    break
        finally:
            del self._running[vehicle_id]
            done.set_result(None)
        self.publish(vehicle_id)

    @callback
    def publish(self, vehicle_id: str) -> None:
        """An evaluation ended: wake for the next boundary, and tell the entities."""
        self._plan_wake_up()
        async_dispatcher_send(self.hass, plan_signal(self.entry.entry_id, vehicle_id))

    async def _async_evaluate_once(self, vehicle_id: str) -> None:
        now = dt_util.utcnow()
        if (prepared := self.prepare(vehicle_id, now)) is not None:
            await self.async_carry_out(vehicle_id, prepared, now)

    def prepare(self, vehicle_id: str, now: datetime) -> Prepared | None:
        """Read the vehicle and find its next departure (the caller holds its lock)."""
        if (vehicle := self.coordinator.data.get(vehicle_id)) is None:
            return None
        state = self.vehicle(vehicle_id)
        stored = state.stored()
        car = read_car(self.hass, self.entry, state, vehicle, now)
        state.settings = departures.without_past_trip(state.settings, now)
        before = state.departure
        state.departure = departures.next_departure(
            state.settings, now, ZoneInfo(self.hass.config.time_zone), self.calendar.trips
        )
        state.session = departures.accepted_for(state.session, before, state.departure)
        settings = departures.for_departure(state.settings, state.departure)
        level = policy.planning_level(state.session, car, settings, now)
        return Prepared(vehicle=vehicle, stored=stored, car=car, settings=settings, level=level)

    def member(self, vehicle_id: str, prepared: Prepared) -> shared.Member:
        """The vehicle as the arbiter of a shared charger sees it."""
        state = self.vehicle(vehicle_id)
        car, level = prepared.car, prepared.level
        percent_per_hour, _ = charge_speed(state, prepared.vehicle)
        need = max(level[1] - level[0], 0.0) / percent_per_hour if level else 0.0
        minimum = min(prepared.settings.minimum, level[1]) if level else 0
        return shared.Member(
            key=f"{self.entry.entry_id}_{vehicle_id}",
            name=prepared.vehicle.info.display_name,
            plugged=bool(car.plugged_in and car.at_home),
            charging=bool(car.charging),
            controlled=prepared.settings.managed and state.session.hold is not Hold.USER,
            override=state.session.hold is Hold.OVERRIDE,
            below_minimum=level is not None and level[0] < minimum,
            departure=state.departure.at if state.departure else None,
            need_hours=need,
            # Measured while charging; an estimate from the default speed would mislead.
            power_kw=state.learned.power_kw,
        )

    async def async_carry_out(
        self,
        vehicle_id: str,
        prepared: Prepared,
        now: datetime,
        *,
        busy: tuple[shared.Busy, ...] = (),
        occupied_by: str | None = None,
    ) -> policy.Step:
        """Plan (around `busy`), decide, send the command, and tell (the caller holds the lock).

        `busy` and `occupied_by` (the car that has the charger now) come from the vehicle's
        shared charger, if it has one.
        """
        state = self.vehicle(vehicle_id)
        vehicle, car, settings, level = (
            prepared.vehicle,
            prepared.car,
            prepared.settings,
            prepared.level,
        )
        options = self.solar.plan_options(state, vehicle)
        spans = tuple((stretch.start, stretch.end) for stretch in busy)
        state.plan = (
            make_plan(self.prices, state, vehicle, now, level, busy=spans, **options)
            if level
            else None
        )
        planned_for = shared.holder_at(busy, now)
        if planned_for is not None and level:
            # Another car's time: the car waits for it if it would charge now on its own.
            alone = make_plan(self.prices, state, vehicle, now, level, **options)
            planned_for = planned_for if alone.charging_at(now) else None
        turn = policy.SharedTurn(occupied_by=occupied_by, planned_for=planned_for)
        sun = self.house.wish(vehicle_id, state, vehicle, now)
        at_limit = self.site.paused(vehicle_id)
        step = policy.decide(
            state.session,
            car,
            state.plan,
            settings,
            now,
            solar=sun,
            house_at_limit=at_limit,
            shared=turn,
        )
        if step.command is not None:
            state.session = step.session
            refusal = await self._async_send_planned(vehicle_id, step.command == "start")
            step = policy.after_command(step, refusal)
            if step.decision is Decision.TARGET_REACHED:
                # Until the car reports its level, its limit is the best estimate of it.
                state.soc_estimate = (float(car.charge_limit or 100), now, now)
        state.session, state.status = step.session, step.status
        if step.decision is not None:
            state.house_room_kw = self.site.vehicle(vehicle_id).limit.room_kw
            detail, kw = (
                (step.detail, None)
                if step.detail
                else (
                    solar_detail(step, state) or site_detail(step.decision, state) or (None, None)
                )
            )
            self.alerts.record(vehicle_id, step.decision, detail, kw=kw)
        elif step.waiting_for is not None and step.waiting_for != state.waiting_for:
            self.alerts.record(vehicle_id, Decision.WAIT_FOR_OTHER_CAR, step.waiting_for)
        state.waiting_for = step.waiting_for
        intent = state.session.intent
        stopping = (
            intent is not None and not intent.charge and intent.attempts and not intent.failed
        )
        if at_limit and not stopping and self.site.stop_dropped(vehicle_id):
            # Decided on the pause, no stop sent (the user's charging, a start without effect):
            # the others' room counted the car's draw as going, they read the meter again.
            self.site.async_announce()
        if step.problem is not None:
            self.alerts.report_problem(
                vehicle_id, step.problem, start=state.status is SmartStatus.START_FAILED
            )
        elif watchdog.problem_solved(step):
            self.alerts.problem_solved(vehicle_id)
        self.alerts.check_risk(vehicle_id, state, step, car, now)
        if await self.house.async_follow_current(vehicle_id, state, vehicle, now):
            self._dirty.add(vehicle_id)
        if state.stored() != prepared.stored:
            self._save()
        return step

    # --- the house --------------------------------------------------------------------------

    @callback
    def _on_power_change(self, event: Event[EventStateChangedData]) -> None:
        """A power reading: evaluate the cars whose solar wish, site pause or current changes."""
        now = dt_util.utcnow()
        self.house.record(self.vehicles, self.coordinator, now)
        self._take_reading(now)

    @callback
    def _on_site_change(self) -> None:
        self._take_reading(dt_util.utcnow())

    def _take_reading(self, now: datetime) -> None:
        """Evaluate the cars whose solar wish, site pause or current the last reading changes."""
        for vehicle_id, vehicle in list(self.coordinator.data.items()):
            if self.house.changed(vehicle_id, self.vehicle(vehicle_id), vehicle, now):
                self._schedule_evaluation(vehicle_id)
        self._plan_wake_up()

    # --- commands and publishing ---------------------------------------------------------------

    async def _async_send(self, vehicle_id: str, *, start: bool, automatic: bool) -> None:
        if start:
            await self.coordinator.async_start_charging(vehicle_id, automatic=automatic)
        else:
            await self.coordinator.async_stop_charging(vehicle_id, automatic=automatic)

    async def _async_send_planned(self, vehicle_id: str, start: bool) -> Refusal | None:
        """Send the policy's command; a refusal is returned (and kept for Start now to raise)."""
        state = self.vehicle(vehicle_id)
        state.command_error = None
        before = self.solar.grid_kw()
        try:
            await self._async_send(vehicle_id, start=start, automatic=True)
        except HomeAssistantError as err:
            refusal = err.reason if isinstance(err, CommandRefusedError) else Refusal.COMMAND_FAILED
            if not (start and refusal is Refusal.FULLY_CHARGED):
                state.command_error = err
                LOGGER.debug("Smart charging command failed for %s: %s", vehicle_id, err)
            if not start and self.site.stop_dropped(vehicle_id):
                self.site.async_announce()  # the others' room counted its draw as gone
            return refusal
        self.house.command_sent(
            self.coordinator, vehicle_id, state, start=start, before_kw=before, now=dt_util.utcnow()
        )
        return None
