"""Charging sessions in Home Assistant: fed by the coordinator's updates, kept in a store.

The accounting itself is `sessions.py`; this module turns each vehicle's data into reports,
remembers the prices a session may need, keeps a bounded history and the lifetime energy, and
tells the entities when something changed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import (
    DOMAIN,
    PRICE_SOURCE_ENTITIES,
    PRICE_SOURCE_NONE,
    PRICE_SOURCE_SCHEDULE,
    storage_key,
)
from .models import FlexChargingConfigEntry, VehicleCoordinator, VehicleData
from .planner import PriceSlot
from .prices import schedule_slots
from .sessions import ChargingSession, OpenSession, Report, is_stale, month_cost, observe
from .smart_charging.estimates import MAX_HOME_POWER_KW
from .smart_charging.inputs import PriceInputs, at_home

STORAGE_VERSION = 1
MAX_SESSIONS = 500  # per vehicle: years of daily charging
SAVE_DELAY = 30  # seconds
PRICES_EVERY = timedelta(minutes=15)  # price sensors drop past days: keep what a session needs
PRICES_AHEAD = timedelta(days=1)
AWAIT_REPORT = timedelta(minutes=10)  # for the car's own report after a command


def sessions_signal(entry_id: str, vehicle_id: str) -> str:
    """The dispatcher signal sent when a vehicle's sessions or energy changed."""
    return f"{DOMAIN}_sessions_{entry_id}_{vehicle_id}"


def report_of(
    hass: HomeAssistant, entry: FlexChargingConfigEntry, vehicle: VehicleData, now: datetime
) -> Report | None:
    """What the vehicle's data says now, as of the newest report it is based on.

    None while a command's result is shown but not yet reported: the coordinator shows it at
    once, stamped with the command's time, without the energy the car took until then. The
    car's own report follows (a re-read or a webhook); past `AWAIT_REPORT` the shown state counts.
    """
    state = vehicle.state
    command = vehicle.last_command
    charging_signal = state.charging_status if state.charging_status.known else state.is_charging
    if (
        command is not None
        and charging_signal.oem_updated_at == command
        and now - command < AWAIT_REPORT
    ):
        return None
    stamps = [
        signal.oem_updated_at
        for signal in (
            state.plugged_in,
            state.charging_status,
            state.is_charging,
            state.battery_level,
            state.energy_added,
        )
        if signal.known and signal.oem_updated_at is not None
    ]
    # More power than a home (AC) charger gives is a fast charger: not at home, whatever else says.
    fast = (state.charge_power.value or 0.0) > MAX_HOME_POWER_KW
    return Report(
        at=max(stamps, default=now),
        plugged_in=state.plugged_in.value,
        charging=vehicle.charging,
        at_home=at_home(hass, entry, vehicle) and not fast,
        soc=state.battery_level.value,
        energy_added_kwh=state.energy_added.value,
        power_kw=state.charge_power.value,
        capacity_kwh=state.battery_capacity.value,
    )


class SessionLog:
    """Every vehicle's charging sessions at home, the open one, and the energy charged."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: FlexChargingConfigEntry,
        coordinator: VehicleCoordinator,
    ) -> None:
        """Prepare; `async_load` reads the store, `async_start` starts listening."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        # Its own reader of the prices (its own cache): the planner's stays as the planner left it.
        self.prices = PriceInputs(hass, entry)
        self.history: dict[str, list[ChargingSession]] = {}
        self.open: dict[str, OpenSession] = {}
        self.energy_total: dict[str, float] = {}
        # The last report outside a session: a plug-in is told from a car found plugged in.
        self.idle: dict[str, Report] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id, "sessions")
        )
        self._unsubs: list[CALLBACK_TYPE] = []

    async def async_load(self) -> None:
        """Read the stored sessions (before the entities read them)."""
        stored = (await self._store.async_load() or {}).get("vehicles", {})
        for vehicle_id, data in stored.items():
            self.history[vehicle_id] = [
                ChargingSession.from_dict(item) for item in data.get("sessions", [])
            ]
            if data.get("open"):
                self.open[vehicle_id] = OpenSession.from_dict(data["open"])
            self.energy_total[vehicle_id] = float(data.get("energy_total_kwh", 0.0))

    @callback
    def async_start(self) -> None:
        """Follow the coordinator, and keep prices on a timer; account for the data now."""
        self._unsubs.append(self.coordinator.async_add_listener(self._on_update))
        self._unsubs.append(
            async_track_time_interval(
                self.hass, self._on_timer, PRICES_EVERY, name="flexcharging session prices"
            )
        )
        self._on_update()

    async def async_unload(self) -> None:
        """Stop listening; write the store now (a reload reads it at once)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        await self._store.async_save(self._data_to_store())

    # --- what the entities and the action read -------------------------------------------------

    def sessions(self, vehicle_id: str) -> list[ChargingSession]:
        """A vehicle's finished sessions, oldest first."""
        return self.history.get(vehicle_id, [])

    def last_session(self, vehicle_id: str) -> ChargingSession | None:
        """A vehicle's last finished session."""
        sessions = self.sessions(vehicle_id)
        return sessions[-1] if sessions else None

    def month_cost(self, vehicle_id: str, month_start: datetime) -> float | None:
        """What charging at home cost since `month_start` (the open session included).

        None without a price source: nothing is known of the cost, which is not nothing.
        """
        if self.prices.source in (None, PRICE_SOURCE_NONE):
            return None
        return month_cost(
            self.sessions(vehicle_id), self.open.get(vehicle_id), month_start, self.currency()
        )

    def currency(self) -> str:
        """The currency of the costs: the price source's, else Home Assistant's.

        Asked of the price source even before a session: the unit of a monetary total must not
        change once statistics are kept.
        """
        inputs = self.prices
        if inputs.source == PRICE_SOURCE_SCHEDULE:
            return self.hass.config.currency
        if inputs.source == PRICE_SOURCE_ENTITIES:
            now = dt_util.utcnow()
            time_zone = ZoneInfo(self.hass.config.time_zone)
            if currency := inputs.slots(now, now, time_zone, sync_issue=False)[1]:
                return currency
        return self.hass.config.currency

    # --- accounting ----------------------------------------------------------------------------

    @callback
    def _on_update(self) -> None:
        now = dt_util.utcnow()
        for vehicle_id, vehicle in self.coordinator.data.items():
            self._account(vehicle_id, vehicle, now)

    @callback
    def _on_timer(self, now: datetime) -> None:
        if self.open:
            self._remember_prices(now)
            self._save()

    def _account(self, vehicle_id: str, vehicle: VehicleData, now: datetime) -> None:
        report = report_of(self.hass, self.entry, vehicle, now)
        session = self.open.get(vehicle_id)
        if report is None or (session is not None and is_stale(session, report)):
            return
        if session is not None:
            self._remember_prices(now, only=vehicle_id)
        step = observe(session, report, self.idle.get(vehicle_id))
        self.idle[vehicle_id] = report
        if step.open is None and session is None:
            return
        if step.open is None:
            del self.open[vehicle_id]
        else:
            self.open[vehicle_id] = step.open
            if session is None:
                self._remember_prices(now, only=vehicle_id)
        if step.added_kwh:
            self.energy_total[vehicle_id] = self.energy_total.get(vehicle_id, 0.0) + step.added_kwh
        if step.finished is not None:
            history = self.history.setdefault(vehicle_id, [])
            history.append(step.finished)
            del history[:-MAX_SESSIONS]
        self._save()
        async_dispatcher_send(self.hass, sessions_signal(self.entry.entry_id, vehicle_id))

    def _remember_prices(self, now: datetime, only: str | None = None) -> None:
        for vehicle_id, session in self.open.items():
            if only is None or vehicle_id == only:
                slots, currency = self._known_prices(session.started_at, now)
                session.remember_prices(slots, currency)

    def _known_prices(self, since: datetime, now: datetime) -> tuple[list[PriceSlot], str | None]:
        time_zone = ZoneInfo(self.hass.config.time_zone)
        inputs = self.prices
        if inputs.source == PRICE_SOURCE_SCHEDULE and inputs.schedule is not None:
            # A schedule knows the past too: from the session's start.
            slots = schedule_slots(inputs.schedule, since, now + PRICES_AHEAD, time_zone)
            return slots, self.hass.config.currency
        return inputs.slots(now, now + PRICES_AHEAD, time_zone, sync_issue=False)

    # --- storage -------------------------------------------------------------------------------

    def _save(self) -> None:
        self._store.async_delay_save(self._data_to_store, SAVE_DELAY)

    def _data_to_store(self) -> dict[str, Any]:
        vehicles = set(self.history) | set(self.open) | set(self.energy_total)
        return {
            "vehicles": {
                vehicle_id: {
                    "sessions": [session.as_dict() for session in self.sessions(vehicle_id)],
                    "open": session.as_dict() if (session := self.open.get(vehicle_id)) else None,
                    "energy_total_kwh": self.energy_total.get(vehicle_id, 0.0),
                }
                for vehicle_id in vehicles
            }
        }
