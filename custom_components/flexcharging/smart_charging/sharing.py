"""A charger or circuit shared by several vehicles, in Home Assistant: its cars decide together.

A shared charger is a config entry of its own (declared once, for vehicles of any FlexCharging
entry: a Smartcar account's, or another integration's). Whenever one of its cars is evaluated,
all of them are, in the arbiter's order (`shared.py`): each car plans around the time the cars
ahead of it take, and waits while they have the charger.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_ENTRY_TYPE,
    CONF_SHARED_LIMIT,
    CONF_SHARED_MODE,
    CONF_SHARED_VEHICLES,
    DOMAIN,
    ENTRY_TYPE_SHARED_CHARGER,
)
from . import shared

if TYPE_CHECKING:
    from .manager import SmartChargingManager

type SharedChargerConfigEntry = ConfigEntry[SharedCharger]


def is_shared_charger(entry: ConfigEntry[Any]) -> bool:
    """Whether the entry is a shared charger (else a vehicle entry)."""
    return entry.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_SHARED_CHARGER


def limit_from_options(options: Any) -> shared.SharedLimit:
    """The charger's or circuit's limit, as the options give it."""
    mode = shared.SharedMode(options.get(CONF_SHARED_MODE, shared.SharedMode.CHARGER))
    if mode is shared.SharedMode.CIRCUIT:
        return shared.SharedLimit(mode, float(options[CONF_SHARED_LIMIT]))
    return shared.SharedLimit(mode)


@dataclass(frozen=True, slots=True)
class SharedVehicle:
    """A vehicle of the charger whose entry is loaded."""

    manager: SmartChargingManager
    vehicle_id: str


def vehicle_device_id(hass: HomeAssistant, entry_id: str, vehicle_id: str) -> str | None:
    """The device of a FlexCharging entry's vehicle."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, vehicle_id), entry_id)
    return device.id if device else None


def loaded_vehicle(hass: HomeAssistant, device_id: str) -> SharedVehicle | None:
    """The smart charging of a vehicle's device, if its entry is loaded."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if (
            entry is None
            or entry.domain != DOMAIN
            or is_shared_charger(entry)
            or entry.state is not ConfigEntryState.LOADED
        ):
            continue
        data = entry.runtime_data.coordinator.data
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier in data:
                return SharedVehicle(entry.runtime_data.smart_charging, identifier)
    return None


def shared_charger_of(hass: HomeAssistant, entry_id: str, vehicle_id: str) -> SharedCharger | None:
    """The shared charger a vehicle belongs to (None: it has a charger of its own)."""
    device_id = vehicle_device_id(hass, entry_id, vehicle_id)
    if device_id is None:
        return None
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        if is_shared_charger(entry) and entry.runtime_data.includes(device_id):
            charger: SharedCharger = entry.runtime_data
            return charger
    return None


class SharedCharger:
    """The vehicles of one shared charger or circuit, evaluated together."""

    def __init__(self, hass: HomeAssistant, entry: SharedChargerConfigEntry) -> None:
        """Read the vehicles and the limit from the options."""
        self.hass = hass
        self.entry = entry
        self.device_ids: tuple[str, ...] = tuple(entry.options.get(CONF_SHARED_VEHICLES, []))
        self.limit = limit_from_options(entry.options)
        self.closed = False
        self.order: list[str] = []  # the last ranking, by vehicle name (diagnostics)
        self._running: asyncio.Future[None] | None = None
        self._dirty = False

    def includes(self, device_id: str) -> bool:
        """Whether the vehicle of that device shares this charger."""
        return not self.closed and device_id in self.device_ids

    def vehicles(self) -> list[SharedVehicle]:
        """The charger's vehicles whose entries are loaded."""
        found = (loaded_vehicle(self.hass, device_id) for device_id in self.device_ids)
        return [vehicle for vehicle in found if vehicle is not None]

    @callback
    def schedule_evaluations(self) -> None:
        """Have every vehicle evaluated (the charger came, changed or went)."""
        for vehicle in self.vehicles():
            vehicle.manager.schedule_evaluation(vehicle.vehicle_id)

    async def async_evaluate(self) -> None:
        """Evaluate every vehicle of the charger (once more if asked while running)."""
        if (running := self._running) is not None:
            self._dirty = True
            await asyncio.shield(running)
            return
        done = self._running = self.hass.loop.create_future()
        try:
            while True:
                self._dirty = False
                await self._async_evaluate_once()
                if not self._dirty:
                    break
        finally:
            self._running = None
            done.set_result(None)

    async def _async_evaluate_once(self) -> None:
        vehicles = self.vehicles()
        now = dt_util.utcnow()
        async with AsyncExitStack() as stack:
            for vehicle in vehicles:
                await stack.enter_async_context(vehicle.manager.lock(vehicle.vehicle_id))
            prepared = {
                vehicle: ready
                for vehicle in vehicles
                if (ready := vehicle.manager.prepare(vehicle.vehicle_id, now)) is not None
            }
            members = {
                vehicle: vehicle.manager.member(vehicle.vehicle_id, ready)
                for vehicle, ready in prepared.items()
            }
            by_key = {member.key: vehicle for vehicle, member in members.items()}
            ranked = [by_key[member.key] for member in shared.rank(list(members.values()))]
            self.order = [members[vehicle].name for vehicle in ranked]
            loads: list[shared.Load] = []
            decided: list[shared.Occupant] = []
            for index, vehicle in enumerate(ranked):
                member = members[vehicle]
                behind = [
                    _occupant(members[other], ahead=False, wants=False)
                    for other in ranked[index + 1 :]
                ]
                step = await vehicle.manager.async_carry_out(
                    vehicle.vehicle_id,
                    prepared[vehicle],
                    now,
                    busy=shared.busy_times(self.limit, member.power_kw, loads, now),
                    occupied_by=shared.waiting_for(self.limit, member, [*decided, *behind]),
                )
                plan = vehicle.manager.vehicle(vehicle.vehicle_id).plan
                loads.append(shared.load_of(member, plan, now))
                wants = member.controlled and shared.wants_charge(step)
                decided.append(_occupant(member, ahead=True, wants=wants))
            for vehicle, ready in prepared.items():
                if vehicle not in ranked:  # not plugged in, or neither charging nor managed
                    await vehicle.manager.async_carry_out(vehicle.vehicle_id, ready, now)
        for vehicle in vehicles:
            if vehicle.manager.entry.state is ConfigEntryState.LOADED:
                vehicle.manager.publish(vehicle.vehicle_id)


def _occupant(member: shared.Member, *, ahead: bool, wants: bool) -> shared.Occupant:
    return shared.Occupant(
        name=member.name,
        power_kw=member.power_kw,
        ahead=ahead,
        wants=wants,
        charging=member.charging,
    )


async def async_setup_shared_charger(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Set up a shared charger: its vehicles are evaluated together from now on."""
    charger = entry.runtime_data = SharedCharger(hass, entry)

    @callback
    def started(_: HomeAssistant) -> None:
        charger.schedule_evaluations()

    entry.async_on_unload(async_at_started(hass, started))
    return True


async def async_unload_shared_charger(entry: ConfigEntry[Any]) -> bool:
    """Unload a shared charger: each vehicle is evaluated on its own again."""
    charger: SharedCharger = entry.runtime_data
    charger.closed = True
    charger.schedule_evaluations()
    return True
