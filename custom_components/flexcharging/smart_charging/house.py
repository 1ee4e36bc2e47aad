"""The house around the cars in Home Assistant: solar surplus, the site limit, the current.

One per entry (the manager's `house`). Every change of a power sensor is read at once: the sun
learns it (`sun_history.py`), it may show that a smart-charging start or stop took effect (the
read that would confirm it is then not made: each is billed), and it tells the manager which
cars to evaluate; an evaluation asks it for the sun's wish and the site limit's pause, and has
it set the charging current afterwards. The rules are `solar.py`'s and `site.py`'s; the sensors
and the entity are read in `solar_inputs.py` and `site_inputs.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant

from ..const import LOGGER
from ..models import FlexChargingConfigEntry, VehicleCoordinator, VehicleData
from . import solar as solar_control
from .estimates import MIN_POWER_KW
from .inputs import at_home
from .model import SmartChargingState, SmartStatus
from .site import ONE_PHASE_KW_PER_AMP, meter_shows
from .site_inputs import SiteInputs
from .solar_inputs import SolarInputs, car_power

# Statuses in which FlexCharging sets the charging current (with a current entity).
CURRENT_STATUSES = (SmartStatus.CHARGING, SmartStatus.SOLAR_CHARGING, SmartStatus.OVERRIDE)
# After a smart-charging command the read that confirms it waits this long for the grid meter to
# show the car's start or stop instead (a car takes seconds to ramp; meters report every few).
METER_WINDOW = timedelta(seconds=90)


@dataclass(frozen=True, slots=True)
class MeterCheck:
    """A command the grid meter may confirm.

    The import before it, the car's power, until when, and the number of the read it would save
    (`Rereads`).
    """

    charging: bool
    before_kw: float
    car_kw: float
    until: datetime
    read: int


class House:
    """The power sensors, the site limit and the charging-current entity of an entry."""

    def __init__(
        self, hass: HomeAssistant, entry: FlexChargingConfigEntry, options: Mapping[str, Any]
    ) -> None:
        """Read what the options name."""
        self.hass = hass
        self.entry = entry
        self.solar = SolarInputs(hass, options, entry.entry_id)
        self.site = SiteInputs(hass, options, self.solar)
        self._checks: dict[str, MeterCheck] = {}

    @property
    def watched_entities(self) -> list[str]:
        """The power sensors whose every change is read."""
        return self.solar.entities if self.solar.metered else []

    def record(
        self,
        states: Mapping[str, SmartChargingState],
        coordinator: VehicleCoordinator,
        now: datetime,
    ) -> None:
        """Take a reading: the sun learns it, and it may confirm a command (`command_sent`).

        The cars charging at home are added back (the sun gave what they draw).
        """
        self._confirm(coordinator, now)
        drawn = sum(
            car_power(states[vehicle_id], vehicle)
            for vehicle_id, vehicle in coordinator.data.items()
            if vehicle_id in states and vehicle.charging and at_home(self.hass, self.entry, vehicle)
        )
        self.solar.record(now, drawn)

    def command_sent(
        self,
        coordinator: VehicleCoordinator,
        vehicle_id: str,
        state: SmartChargingState,
        *,
        start: bool,
        before_kw: float | None,
        now: datetime,
    ) -> None:
        """After a smart-charging command: let the meter confirm it instead of a billed read.

        Only a command the car carried out (its state already shows it; one Smartcar merely
        accepted waits for the read) and only while a read is pending; `before_kw`: the grid
        import before the command. An earlier command's check ends here.
        """
        self._checks.pop(vehicle_id, None)
        vehicle = coordinator.data.get(vehicle_id)
        rereads = coordinator.rereads
        if (
            before_kw is None
            or vehicle is None
            or vehicle.charging is not start
            or rereads is None
            or (read := rereads.defer(vehicle_id, METER_WINDOW.total_seconds())) is None
        ):
            return
        # The power it last reported (a stop: while it charged), else learned, else assumed.
        reported = vehicle.state.charge_power.value
        power = reported if reported and reported >= MIN_POWER_KW else car_power(state, vehicle)
        self._checks[vehicle_id] = MeterCheck(start, before_kw, power, now + METER_WINDOW, read)
        self._confirm(coordinator, now)  # the meter may have shown it while Smartcar answered

    def _confirm(self, coordinator: VehicleCoordinator, now: datetime) -> None:
        for vehicle_id, check in list(self._checks.items()):
            if now > check.until:
                del self._checks[vehicle_id]
        # Two cars switched within the window: the meter shows their sum, not which one did.
        if len(self._checks) != 1 or (grid := self.solar.grid_kw()) is None:
            return
        ((vehicle_id, check),) = self._checks.items()
        if not meter_shows(
            charging=check.charging, before_kw=check.before_kw, now_kw=grid, car_kw=check.car_kw
        ):
            return
        del self._checks[vehicle_id]
        if coordinator.rereads is not None and coordinator.rereads.cancel(vehicle_id, check.read):
            self.site.reads_saved += 1
            action = "start" if check.charging else "stop"
            LOGGER.debug("The grid meter shows %s's %s: no read", vehicle_id, action)

    def changed(
        self, vehicle_id: str, state: SmartChargingState, vehicle: VehicleData, now: datetime
    ) -> bool:
        """Take a power reading for a car: whether its wish, pause or current should change."""
        before = state.solar.wants if state.solar else None
        paused = self.site.vehicle(vehicle_id).limit.paused
        return (
            self.wish(vehicle_id, state, vehicle, now) not in (None, before)
            or self.reading(vehicle_id, state, vehicle, now) != paused
            or self.site.due(vehicle_id, self.wanted_current(vehicle_id, state, vehicle), now)
        )

    def _recall(self, vehicle_id: str, state: SmartChargingState) -> None:
        """The power per ampere learned before a restart, until the car shows it again.

        Learned with another current entity it is forgotten: another charger may have other
        phases, and the value only grows (`site.learn_kw_per_amp`), it would never come down.
        So is one stored before the entity was kept with it (which entity taught it is unknown:
        one phase's value with a three-phase charger would set three times the current).
        """
        learned = state.learned
        entity = self.site.current_entity
        if learned.kw_per_amp is None or not entity:  # without an entity it is not used
            return
        if learned.kw_per_amp_entity != entity:
            state.learned = replace(learned, kw_per_amp=None, kw_per_amp_entity=None)
            return
        data = self.site.vehicle(vehicle_id)
        data.kw_per_amp = data.kw_per_amp or learned.kw_per_amp

    def wish(
        self, vehicle_id: str, state: SmartChargingState, vehicle: VehicleData, now: datetime
    ) -> bool | None:
        """The sun's wish for a car (None: solar surplus charging is not in use).

        With a current entity that can be set, the sun's levels are shares of the car's power
        at the lowest current (the current follows the surplus above it).
        """
        self._recall(vehicle_id, state)
        home = self.solar.enabled and at_home(self.hass, self.entry, vehicle)
        return self.solar.wish(
            state,
            vehicle,
            now,
            home=home,
            min_power_kw=self.site.minimum_kw(vehicle_id),
            bar_min_kw=self.site.minimum_kw(vehicle_id, unknown=ONE_PHASE_KW_PER_AMP),
        )

    def reading(
        self, vehicle_id: str, state: SmartChargingState, vehicle: VehicleData, now: datetime
    ) -> bool:
        """The site limit's reading for a car; whether it pauses it (`SiteInputs.reading`)."""
        self._recall(vehicle_id, state)
        intent = state.session.intent
        told = intent.charge if intent is not None and intent.attempts else None
        held = state.status is SmartStatus.HOUSE_AT_LIMIT
        return self.site.reading(
            vehicle_id, vehicle, car_power(state, vehicle), now, told=told, held=held
        )

    def wanted_current(
        self, vehicle_id: str, state: SmartChargingState, vehicle: VehicleData
    ) -> tuple[float, bool] | None:
        """The charging current to set, and whether it is urgent (None: nothing to set)."""
        self._recall(vehicle_id, state)
        if state.status not in CURRENT_STATUSES:
            return None
        solar_kw = None
        if state.status is SmartStatus.SOLAR_CHARGING and state.solar is not None:
            solar_kw = state.solar.surplus_kw
        return self.site.wanted(vehicle_id, vehicle, solar_kw=solar_kw)

    async def async_follow_current(
        self, vehicle_id: str, state: SmartChargingState, vehicle: VehicleData, now: datetime
    ) -> bool:
        """Set the current entity to what the sun and the site allow; True: evaluate again.

        A current that could not be lowered makes the site limit pause the car instead.
        """
        wanted = self.wanted_current(vehicle_id, state, vehicle)
        again = (
            wanted is not None
            and self.site.due(vehicle_id, wanted, now)
            and not await self.site.async_set(vehicle_id, wanted[0], now)
            and self.reading(vehicle_id, state, vehicle, now)
        )
        state.charging_current = self.site.setting() if self.site.current_entity else None
        data = self.site.vehicles.get(vehicle_id)
        if data is not None and data.kw_per_amp is not None and self.site.current_entity:
            learned = (data.kw_per_amp, self.site.current_entity)
            if learned != (state.learned.kw_per_amp, state.learned.kw_per_amp_entity):
                state.learned = replace(  # stored with it
                    state.learned, kw_per_amp=learned[0], kw_per_amp_entity=learned[1]
                )
        return again

    def wake_moments(self, states: Mapping[str, SmartChargingState]) -> list[datetime]:
        """When something may change without a new reading (meters that report only on change).

        A delay of the sun's controller or a site pause ends, or a current held back may be set.
        """
        current = self.site.current_entity is not None
        moments = [
            check
            for state in states.values()
            if state.solar
            and (
                check := solar_control.next_check(state.solar, self.solar.settings, current=current)
            )
        ]
        return moments + self.site.check_moments()
