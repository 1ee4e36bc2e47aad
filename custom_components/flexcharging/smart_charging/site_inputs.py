"""The house around the car in Home Assistant: the site limit's meter and the current entity.

The site limit reads the grid import from the solar step's sensors (a grid meter, or house
consumption less PV production); the charging current is another integration's number entity,
set with `number.set_value`. The rules are `site.py`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
import math
from typing import Any

from homeassistant.components.number import (
    ATTR_MAX,
    ATTR_MIN,
    ATTR_STEP,
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_connect, async_dispatcher_send
from homeassistant.util.hass_dict import HassKey

from ..api.models import Signal
from ..const import CONF_CURRENT_ENTITY, CONF_SITE_LIMIT, DOMAIN, LOGGER
from ..models import VehicleData
from . import site
from .model import Decision, SmartChargingState
from .site import SETTLE, CurrentRange, SiteSettings, SiteState
from .solar_inputs import SolarInputs

CURRENT_PROBLEM = "current_entity_failed"  # why the site limit pauses instead of lowering
# The site limits of all entries by the meter they read: cars of several entries under one
# meter (a Smartcar account's and a car of another integration) see each other's pauses.
SHARED_SITES: HassKey[dict[tuple[str, ...], list[SiteInputs]]] = HassKey(f"{DOMAIN}_sites")


@dataclass(slots=True)
class VehicleSite:
    """One vehicle's site limit and current: the limit's memory, and what was learned and set."""

    limit: SiteState = field(default_factory=SiteState)
    kw_per_amp: float | None = None
    set_at: datetime | None = None
    set_to: float | None = None
    set_from: float | None = None  # the current before the last change
    failed: str | None = None  # the current entity's last error (the site limit then pauses)
    failed_at: datetime | None = None
    leaving: site.Leaving | None = None  # paused while it charged: its draw is going


class SiteInputs:
    """The site limit (a maximum import) and the charging-current entity of an entry."""

    def __init__(self, hass: HomeAssistant, options: Mapping[str, Any], power: SolarInputs) -> None:
        """Read the limit and the entity from the options; `power` reads the meters."""
        self.hass = hass
        self.power = power
        # Reads after smart-charging commands the grid meter made needless (`House`).
        self.reads_saved = 0
        limit = options.get(CONF_SITE_LIMIT)
        self.settings = SiteSettings(limit_kw=float(limit)) if limit and power.metered else None
        self.current_entity: str | None = options.get(CONF_CURRENT_ENTITY)
        self.vehicles: dict[str, VehicleSite] = {}

    def vehicle(self, vehicle_id: str) -> VehicleSite:
        """A vehicle's site state (created empty)."""
        return self.vehicles.setdefault(vehicle_id, VehicleSite())

    @callback
    def async_join(self, on_change: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Share the limit with the other entries under the meter; `on_change`: read again.

        Returns the callback that leaves (the entry unloads).
        """
        if self.settings is None:
            return lambda: None
        members = self.hass.data.setdefault(SHARED_SITES, {}).setdefault(self._meter, [])
        members.append(self)
        disconnect = async_dispatcher_connect(self.hass, self._signal, on_change)

        @callback
        def leave() -> None:
            disconnect()
            members.remove(self)

        return leave

    @callback
    def async_announce(self) -> None:
        """A car's draw counted as going stays: every entry under the meter reads it again."""
        async_dispatcher_send(self.hass, self._signal)

    @property
    def _meter(self) -> tuple[str, ...]:
        return tuple(self.power.entities)

    @property
    def _signal(self) -> str:
        return f"{DOMAIN}_site_{'_'.join(self._meter)}"

    def _site_vehicles(self) -> list[tuple[str, VehicleSite]]:
        """The vehicles under the meter: this entry's and those of the entries sharing it."""
        members = self.hass.data.get(SHARED_SITES, {}).get(self._meter, [])
        sites = members if self in members else [self]
        return [item for member in sites for item in member.vehicles.items()]

    # --- the limit -------------------------------------------------------------------------------

    def paused(self, vehicle_id: str) -> bool:
        """Whether the site limit pauses the car, as of the last reading."""
        return self.settings is not None and self.vehicle(vehicle_id).limit.paused

    def reading(
        self,
        vehicle_id: str,
        vehicle: VehicleData,
        car_kw: float,
        now: datetime,
        *,
        told: bool | None,
        held: bool = False,
    ) -> bool:
        """Take the meter's reading (or a timer's moment); whether the car is paused now.

        `car_kw`: the car's charging power (reported, learned or assumed); `told`: what the
        last command that stands asked (None: none); `held`: the pause holds charging back
        (the car charges when it ends). Only a reading moves the limit: the car's
        report lags the meter (minutes with polling), and mixing a new report with an old
        reading would show a house load that is not there.
        """
        if self.settings is None:
            return False
        data = self.vehicle(vehicle_id)
        need = car_kw
        if (lowest := self.minimum_kw(vehicle_id)) is not None:
            need = min(lowest, car_kw)
        paused = data.limit.paused
        grid = self.power.grid_kw()
        draw = self._draw_kw(data, vehicle, car_kw, told=told)
        data.limit = site.update(
            data.limit,
            self.settings,
            grid_kw=None if grid is None else grid - self._going_kw(vehicle_id, grid, now),
            car_draw_kw=draw,
            need_kw=need,
            now=now,
        )
        if not data.limit.paused:
            data.leaving = None
        elif not paused and told and vehicle.charging and draw > 0 and grid is not None:
            # Told to charge and charging: its stop follows. Not one that charges on its own (no
            # stop comes), nor one not seen charging (a start in flight or without effect: its
            # draw may not be there). The evaluation decided on the pause ends the leaving when
            # it sends no stop (`stop_dropped`).
            data.leaving = site.Leaving(kw=draw, grid_kw=grid, until=now + site.LEAVING_FOR)
        if paused and held and not data.limit.paused:
            # One car resumes at a time: the room the others saw is the one it takes now, so
            # they wait their delay again, until the meter shows it (else they all resume,
            # all pause again, and so on).
            for other_id, other in self._site_vehicles():
                if other_id != vehicle_id and other.limit.paused:
                    other.limit = replace(other.limit, clear_since=None)
        return data.limit.paused

    def _going_kw(self, vehicle_id: str, grid_kw: float, now: datetime) -> float:
        """The draw of the other cars the limit paused that the meter still shows."""
        leavings = []
        for other_id, other in self._site_vehicles():
            if other.leaving is not None and now >= other.leaving.until:
                other.leaving = None
            elif other.leaving is not None and other_id != vehicle_id:
                leavings.append(other.leaving)
        return site.going_kw(leavings, grid_kw, now)

    def stop_dropped(self, vehicle_id: str) -> bool:
        """No stop comes (refused, or not sent): the car's draw stays.

        True: the others' room counted it as going (they must read the meter again).
        """
        if (data := self.vehicles.get(vehicle_id)) is None or data.leaving is None:
            return False
        data.leaving = None
        return True

    def minimum_kw(
        self, vehicle_id: str, *, unknown: float = site.DEFAULT_KW_PER_AMP
    ) -> float | None:
        """The car's power at the entity's lowest current (None: no current entity to set).

        `unknown`: the power per ampere until it is learned.
        """
        if (limits := self.current_range()) is None:
            return None
        data = self.vehicles.get(vehicle_id, VehicleSite())
        if data.failed is not None:
            return None
        return site.minimum_power(limits, data.kw_per_amp, unknown=unknown)

    def _draw_kw(
        self, data: VehicleSite, vehicle: VehicleData, car_kw: float, *, told: bool | None
    ) -> float:
        """What the car draws now, as far as FlexCharging can tell.

        Told to stop: nothing (if it still draws, the house seems to take it: no early resume).
        Told to start, or charging: the current set times the power per ampere once learned,
        else its reported power, else its power (the meter sees it before the car reports it).
        """
        if told is False or not (vehicle.charging or told):
            return 0.0
        setting = self.setting() if self.current_entity else None
        if setting is not None and data.kw_per_amp is not None:
            return min(setting * data.kw_per_amp, car_kw)
        report = vehicle.state.charge_power
        if not (vehicle.charging and report.value):
            return car_kw
        power = float(report.value)
        if setting and data.set_from and not self._settled(data, report):
            power *= setting / data.set_from  # reported at the current before the change
        return min(power, car_kw)

    @staticmethod
    def _settled(data: VehicleSite, report: Signal[float]) -> bool:
        """Whether the power report came after the car settled at the current last set."""
        return data.set_at is None or (
            report.oem_updated_at is not None and report.oem_updated_at >= data.set_at + SETTLE
        )

    def check_moments(self) -> list[datetime]:
        """When a pause may end, or the current may change again, without a new reading.

        Some may be past (the caller keeps those ahead).
        """
        moments: list[datetime] = []
        for data in self.vehicles.values():
            if self.settings is not None and (moment := site.next_check(data.limit, self.settings)):
                moments.append(moment)
            # A change held back (`due`) may be made then.
            moments += [at + site.RAISE_EVERY for at in (data.set_at, data.failed_at) if at]
        # The others' room counts a draw that did not go again (other entries' cars too).
        moments += [data.leaving.until for _, data in self._site_vehicles() if data.leaving]
        return moments

    # --- the charging current --------------------------------------------------------------------

    def current_range(self) -> CurrentRange | None:
        """The currents the entity accepts (None: no entity, or it is not available)."""
        if not self.current_entity or (state := self.hass.states.get(self.current_entity)) is None:
            return None
        try:
            return site.current_range(
                float(state.attributes[ATTR_MIN]),
                float(state.attributes[ATTR_MAX]),
                float(state.attributes.get(ATTR_STEP, 1.0)),
            )
        except KeyError, TypeError, ValueError:
            return None

    def setting(self) -> float | None:
        """The current the entity shows now (None: unknown)."""
        if not self.current_entity or (state := self.hass.states.get(self.current_entity)) is None:
            return None
        try:
            return float(state.state)
        except ValueError:
            return None

    def wanted(
        self, vehicle_id: str, vehicle: VehicleData, *, solar_kw: float | None
    ) -> tuple[float, bool] | None:
        """The current to set and whether it is urgent (lower for the site), or None: none.

        `solar_kw`: the surplus when the sun decides the charging (None: the plan charges).
        """
        if (limits := self.current_range()) is None or not vehicle.charging:
            return None
        data = self.vehicle(vehicle_id)
        setting = self.setting()
        report = vehicle.state.charge_power
        if setting is not None and setting < limits.maximum and self._settled(data, report):
            # At the entity's maximum the car may take less (a wallbox's maximum above the
            # car's): only a current below it, and a report after the car settled, tell the
            # power per ampere.
            data.kw_per_amp = site.learn_kw_per_amp(
                report.value,
                setting,
                known=data.kw_per_amp,
                level=vehicle.state.battery_level.value,
            )
        room = data.limit.room_kw if self.settings is not None else None
        wanted = site.wanted_current(limits, data.kw_per_amp, solar_kw=solar_kw, room=room)
        urgent = room is not None and wanted < (setting or limits.maximum)
        return wanted, urgent

    def due(self, vehicle_id: str, wanted: tuple[float, bool] | None, now: datetime) -> bool:
        """Whether the wanted current should be set now."""
        if wanted is None:
            return False
        amps, urgent = wanted
        data = self.vehicle(vehicle_id)
        # Not again at every meter reading: after a refusal (a rate limit, the car out of
        # reach), nor while a polled entity has not yet shown the value it was just set to.
        if data.failed_at is not None and now - data.failed_at < site.RAISE_EVERY:
            return False
        if (
            data.set_at is not None
            and data.set_to is not None
            and now - data.set_at < site.RAISE_EVERY
            and math.isclose(data.set_to, amps)
        ):
            return False
        return site.should_set(self.setting(), amps, last_set=data.set_at, now=now, urgent=urgent)

    async def async_set(self, vehicle_id: str, amps: float, now: datetime) -> bool:
        """Set the entity to `amps`; False (and the error kept) when the service fails."""
        data = self.vehicle(vehicle_id)
        before = self.setting()
        try:
            await self.hass.services.async_call(
                NUMBER_DOMAIN,
                SERVICE_SET_VALUE,
                {ATTR_ENTITY_ID: self.current_entity, ATTR_VALUE: amps},
                blocking=True,
            )
        except HomeAssistantError as err:
            if data.failed is None:
                LOGGER.warning("Could not set %s to %s A: %s", self.current_entity, amps, err)
            data.failed, data.failed_at = str(err) or type(err).__name__, now
            return False
        data.failed, data.failed_at = None, None
        data.set_at, data.set_from, data.set_to = now, before, amps
        return True

    def diagnostics(self) -> dict[str, Any]:
        """What the site limit and the current entity know, per vehicle (without its id)."""
        return {
            "site_limit_kw": self.settings.limit_kw if self.settings else None,
            "current_entity": self.current_entity,
            "reads_saved_by_the_meter": self.reads_saved,
            "vehicles": [
                {
                    "paused": data.limit.paused,
                    "room_kw": data.limit.room_kw,
                    "kw_per_amp": data.kw_per_amp,
                    "current_set_to": data.set_to,
                    "current_error": data.failed,
                }
                for data in self.vehicles.values()
            ],
        }


def site_detail(
    decision: Decision | None, state: SmartChargingState
) -> tuple[str, float | None] | None:
    """The room a pause for the site limit was made on: ("room", kW)."""
    if decision is not Decision.STOP_HOUSE_AT_LIMIT or state.house_room_kw is None:
        return None
    return ("room", round(state.house_room_kw, 1))
