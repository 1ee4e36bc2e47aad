"""The plug-in guard: extra reads that catch a car's own start at plug-in without webhooks.

Two sources say when to read (the decisions are in plug_pattern.py):
- trigger entities chosen in the options (a person arriving home, a wallbox's plug sensor, a
  garage door): a change starts a short burst of reads for the entry's unplugged vehicles;
- each vehicle's learned plug-in times per weekday: while smart charging manages it, it is read
  often at those times, as long as it reads unplugged.
Reads go through the coordinator (counted, within the budget); a read that shows the car plugged
in ends the burst, and smart charging stops a start that is not in its plan.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from . import budget
from .api import KeyState
from .const import CONF_PLUG_TRIGGERS, LOGGER, storage_key
from .coordinator import FlexChargingCoordinator
from .models import FlexChargingConfigEntry, VehicleData
from .plug_pattern import (
    PlugPattern,
    burst_affordable,
    burst_times,
    guard_interval,
    is_arrival,
    max_window_slots,
)
from .smart_charging import SmartChargingManager, plan_signal

STORAGE_VERSION = 1
SAVE_DELAY = 60.0  # seconds: plug-ins are rare; one write covers a burst of them
DUE_SLACK = timedelta(seconds=30)  # a read this close to its time counts as on time
DRIVEN_DROP = 3.0  # battery points lost between two plugged-in reads: driven (not idle drain)


class PlugGuard:
    """Learns each vehicle's plug-in times and reads it when a plug-in is likely."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: FlexChargingConfigEntry,
        coordinator: FlexChargingCoordinator,
        smart_charging: SmartChargingManager,
    ) -> None:
        """Prepare; `async_load` reads the learned times, `async_start` starts listening."""
        self.hass = hass
        self.entry_id = entry.entry_id
        self.coordinator = coordinator
        self.smart_charging = smart_charging
        self.triggers: list[str] = list(entry.options.get(CONF_PLUG_TRIGGERS, []))
        self.patterns: dict[str, PlugPattern] = {}
        # Today's reads a day for the learned window, per vehicle: (local date, reads).
        self._day_allowance: dict[str, tuple[date, float]] = {}
        self.bursts: dict[str, list[datetime]] = {}  # a vehicle's burst reads still to come
        self._burst_started: dict[str, datetime] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id, "plug_times")
        )
        self._plugged: dict[str, bool | None] = {}
        self._unplugged_seen: dict[str, datetime] = {}
        self._plugged_seen: dict[str, tuple[datetime, float | None]] = {}  # last read plugged in
        self._bursts_on: dict[str, tuple[date, int]] = {}
        self._timers: dict[str, tuple[datetime, CALLBACK_TYPE]] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        self._reading: set[str] = set()

    # --- lifecycle -----------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the learned plug-in times."""
        stored = await self._store.async_load() or {}
        vehicles = stored.get("vehicles", {})
        if isinstance(vehicles, dict):
            self.patterns = {vid: PlugPattern.from_dict(data) for vid, data in vehicles.items()}

    @callback
    def async_start(self) -> None:
        """Watch the vehicles' data and the trigger entities."""
        self._unsubs.append(self.coordinator.async_add_listener(self._on_update))
        for vehicle_id in self.coordinator.data:
            # Smart charging turned on or off for the vehicle: guard it by learned times or not.
            self._unsubs.append(
                async_dispatcher_connect(
                    self.hass,
                    plan_signal(self.entry_id, vehicle_id),
                    partial(self._schedule, vehicle_id),
                )
            )
        if self.triggers:
            self._unsubs.append(
                async_track_state_change_event(self.hass, self.triggers, self._on_trigger)
            )
        self._on_update()

    async def async_unload(self) -> None:
        """Stop listening and reading; write the learned times now."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        for _, cancel in self._timers.values():
            cancel()
        self._timers.clear()
        await self._store.async_save(self._data())

    def _data(self) -> dict[str, Any]:
        known = set(self.coordinator.data)  # vehicles that left the account are dropped
        return {
            "vehicles": {
                vid: pattern.as_dict() for vid, pattern in self.patterns.items() if vid in known
            }
        }

    def pattern(self, vehicle_id: str) -> PlugPattern:
        """A vehicle's learned plug-in times."""
        return self.patterns.setdefault(vehicle_id, PlugPattern())

    # --- learning ------------------------------------------------------------------------------

    @callback
    def _on_update(self) -> None:
        """Note plug-ins (learned), end bursts of plugged-in cars, plan the next guard reads."""
        for vehicle_id, vehicle in self.coordinator.data.items():
            plugged = vehicle.state.plugged_in.value
            seen = _observed_at(vehicle)
            level = vehicle.state.battery_level.value
            if seen is not None and plugged is False:
                self._unplugged_seen[vehicle_id] = seen
            elif seen is not None and plugged is True and self._plugged.get(vehicle_id) is False:
                self._learn(vehicle_id, vehicle, seen)
            elif seen is not None and plugged is True and self._replugged(vehicle_id, level, seen):
                # Plugged in at both reads, but driven in between: unplugged and plugged in again.
                self._unplugged_seen[vehicle_id] = self._plugged_seen[vehicle_id][0]
                self._learn(vehicle_id, vehicle, seen)
            if seen is not None and plugged is True:
                self._plugged_seen[vehicle_id] = (seen, level)
            started = self._burst_started.get(vehicle_id)
            if plugged is True and seen is not None and started is not None and seen >= started:
                self.bursts.pop(vehicle_id, None)  # read plugged in since the trigger: done
            self._plugged[vehicle_id] = plugged
            self._schedule(vehicle_id)

    def _replugged(self, vehicle_id: str, level: float | None, seen: datetime) -> bool:
        """Whether the battery fell since the last read plugged in (the car was driven)."""
        if (last := self._plugged_seen.get(vehicle_id)) is None:
            return False
        last_seen, last_level = last
        return (
            seen > last_seen
            and level is not None
            and last_level is not None
            and level <= last_level - DRIVEN_DROP
        )

    def _learn(self, vehicle_id: str, vehicle: VehicleData, seen: datetime) -> None:
        """A plug-in happened after the car last read unplugged, and before `seen`."""
        latest = seen
        if (stamp := vehicle.state.plugged_in.oem_updated_at) is not None:
            latest = min(latest, stamp)  # the car may say when it changed
        earliest = self._unplugged_seen.get(vehicle_id, latest)
        if self.coordinator.webhooks_flowing:
            earliest = latest  # pushed at the change: the time is known
        earliest = min(earliest, latest)
        self.pattern(vehicle_id).record(dt_util.as_local(earliest), dt_util.as_local(latest))
        self._store.async_delay_save(self._data, SAVE_DELAY)
        LOGGER.debug("%s plugged in between %s and %s", vehicle.info.display_name, earliest, latest)

    # --- triggers ------------------------------------------------------------------------------

    @callback
    def _on_trigger(self, event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if not is_arrival(
            event.data["entity_id"],
            old.state if old else None,
            new.state if new else None,
        ):
            return
        now = dt_util.utcnow()
        today = dt_util.as_local(now).date()
        for vehicle_id, vehicle in self.coordinator.data.items():
            # A car last read plugged in is read too: that may be from before it left.
            if not self._may_read(vehicle):
                continue
            day, count = self._bursts_on.get(vehicle_id, (today, 0))
            count = count if day == today else 0
            if not burst_affordable(left=self._left(vehicle_id, now), bursts_today=count):
                LOGGER.debug("No burst for %s: budget or today's bursts used", vehicle_id)
                continue
            self._bursts_on[vehicle_id] = (today, count + 1)
            self.bursts[vehicle_id] = burst_times(now)
            self._burst_started[vehicle_id] = now
            LOGGER.debug(
                "%s changed: reading %s in a burst",
                event.data["entity_id"],
                vehicle.info.display_name,
            )
            self._schedule(vehicle_id)

    # --- reading -------------------------------------------------------------------------------

    def _may_read(self, vehicle: VehicleData) -> bool:
        """Whether extra reads can tell anything: read recently, allowed, and not pushed."""
        return (
            vehicle.available
            and vehicle.failures == 0
            and not vehicle.limit_hit
            and vehicle.key_state is not KeyState.MISSING
            and not self.coordinator.webhooks_flowing
        )

    def _context(self, vehicle_id: str) -> budget.PollContext:
        return budget.PollContext(
            budget=self.coordinator.budget,
            used=self.coordinator.usage.get(vehicle_id),
            active=False,
            webhooks_flowing=self.coordinator.webhooks_flowing,
            managed_charging=(managed := self.smart_charging.vehicle(vehicle_id).settings.managed),
            solar_commands_per_day=self.smart_charging.solar.commands_per_day if managed else 0,
            plug_triggers=bool(self.triggers),
            commands_sent=self.coordinator.usage.smart_commands.get(vehicle_id, 0),
        )

    def _left(self, vehicle_id: str, now: datetime) -> float:
        """Requests left this month after the reserve for commands."""
        context = self._context(vehicle_id)
        return (
            context.budget - context.used - budget.commands_reserve(context, dt_util.as_local(now))
        )

    def _per_day(self, vehicle_id: str, now: datetime) -> float:
        """Reads a day the learned window may spend (0: not guarded).

        Kept at the day's largest: the reads today's window spends do not shrink it (at the
        month's end they would cut its later slots off), while the month has requests left.
        Kept in memory only: after a restart the day is sized again from what is left.
        """
        context = self._context(vehicle_id)
        if not context.managed_charging:
            return 0.0  # learned times cost reads only where smart charging acts on them
        local = dt_util.as_local(now)
        if budget.guard_reads_per_day(context, local) <= 0:
            return 0.0  # webhooks flow, or a small plan: not guarded at all
        allowance = budget.guard_allowance(context, local)
        day, sized = self._day_allowance.get(vehicle_id, (None, 0.0))
        if day != local.date() or allowance >= sized:
            self._day_allowance[vehicle_id] = (local.date(), allowance)
            return allowance
        return sized if budget.guard_spendable(context, local) >= 1 else 0.0

    def window_interval(self, vehicle_id: str, now: datetime) -> timedelta | None:
        """How often the vehicle is read in today's learned window (None: not guarded)."""
        per_day = self._per_day(vehicle_id, now)
        minutes = self.pattern(vehicle_id).window_minutes(
            dt_util.as_local(now).weekday(), max_window_slots(per_day)
        )
        return guard_interval(per_day=per_day, window_minutes=minutes)

    def _next_read(self, vehicle_id: str, now: datetime) -> datetime | None:
        vehicle = self.coordinator.data[vehicle_id]
        if not self._may_read(vehicle):
            return None
        moments = []
        if burst := self.bursts.get(vehicle_id):
            moments.append(burst[0])
        if (window_read := self._window_read(vehicle_id, vehicle, now)) is not None:
            moments.append(window_read)
        return min(moments, default=None)

    def _window_read(self, vehicle_id: str, vehicle: VehicleData, now: datetime) -> datetime | None:
        """When the learned window wants the car read next (may be past: due now).

        Inside a stretch of the window the car is read every interval until a read in that
        stretch shows it plugged in. A "plugged in" read before the stretch is not trusted: the
        car may have been unplugged and driven since (nothing is read while it is away).
        """
        pattern = self.pattern(vehicle_id)
        if (interval := self.window_interval(vehicle_id, now)) is None:
            return None
        local = dt_util.as_local(now)
        slots = max_window_slots(self._per_day(vehicle_id, now))
        if (stretch := pattern.stretch(local, slots)) is None:
            return pattern.next_guarded(local, slots)
        start, end = stretch
        seen = _observed_at(vehicle)
        if vehicle.state.plugged_in.value is True and seen is not None and seen >= start:
            return pattern.next_guarded(end - timedelta(minutes=1), slots)
        if seen is None or seen < start:
            return start  # not read since the stretch began: now
        return seen + interval

    @callback
    def _schedule(self, vehicle_id: str) -> None:
        moment = None
        if vehicle_id not in self._reading:  # else planned again when the read is done
            moment = self._next_read(vehicle_id, dt_util.utcnow())
        if vehicle_id in self._timers:
            if self._timers[vehicle_id][0] == moment:
                return
            self._timers.pop(vehicle_id)[1]()
        if moment is not None:
            cancel = async_track_point_in_utc_time(
                self.hass, partial(self._async_due, vehicle_id), moment
            )
            self._timers[vehicle_id] = (moment, cancel)

    async def _async_due(self, vehicle_id: str, now: datetime) -> None:
        """A burst read is due, or a read in the learned window may be."""
        self._timers.pop(vehicle_id, None)
        if (vehicle := self.coordinator.data.get(vehicle_id)) is None:
            return
        now = dt_util.utcnow()
        burst = self.bursts.get(vehicle_id, [])
        due_burst = [moment for moment in burst if moment <= now + DUE_SLACK]
        if due_burst:
            self.bursts[vehicle_id] = burst = burst[len(due_burst) :]
            if not burst:
                del self.bursts[vehicle_id]
        window_read = self._window_read(vehicle_id, vehicle, now)
        due_window = (
            window_read is not None
            and window_read <= now + DUE_SLACK
            and self.pattern(vehicle_id).guarded(
                dt_util.as_local(now), max_window_slots(self._per_day(vehicle_id, now))
            )
        )
        if not (due_burst or due_window):
            self._schedule(vehicle_id)
            return
        self._reading.add(vehicle_id)
        try:
            await self.coordinator.async_refresh_vehicle(vehicle_id)
        except HomeAssistantError as err:
            LOGGER.debug("Guard read of %s failed: %s", vehicle.info.display_name, err)
        finally:
            self._reading.discard(vehicle_id)
        self._schedule(vehicle_id)

    def diagnostics(self, vehicle_id: str) -> dict[str, Any]:
        """What the guard learned and plans for a vehicle."""
        now = dt_util.utcnow()
        pattern = self.pattern(vehicle_id)
        interval = self.window_interval(vehicle_id, now)
        return {
            "plug_ins_learned": pattern.count(),
            "window_from": "learned plug-ins" if pattern.learned else "evening guess",
            "window_today_minutes": pattern.window_minutes(
                dt_util.as_local(now).weekday(), max_window_slots(self._per_day(vehicle_id, now))
            ),
            "window_read_every_minutes": interval.total_seconds() / 60 if interval else None,
            "burst_reads_left": len(self.bursts.get(vehicle_id, [])),
            "next_guard_read": self._next_read(vehicle_id, now),
        }


def _observed_at(vehicle: VehicleData) -> datetime | None:
    """When the vehicle's data was last confirmed (a read or a delivery)."""
    return max((t for t in (vehicle.last_success, vehicle.last_webhook) if t), default=None)
