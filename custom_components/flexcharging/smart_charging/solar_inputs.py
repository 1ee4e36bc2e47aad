"""Solar surplus charging in Home Assistant: the options' sensors fed to each car's controller."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_CURRENT_ENTITY,
    CONF_FEED_IN_TARIFF,
    CONF_GRID_POWER_ENTITY,
    CONF_HOUSE_POWER_ENTITY,
    CONF_PV_POWER_ENTITY,
    CONF_SOLAR_COMMANDS_PER_DAY,
    CONF_SOLAR_FORECAST_ENTITY,
    CONF_SOLAR_SOURCE,
    CONF_SOLAR_SURPLUS,
    SOLAR_SOURCE_GRID,
    SOLAR_SOURCE_PV,
    storage_key,
)
from ..models import VehicleData
from ..planner import PriceSlot
from . import solar as control
from .estimates import MIN_POWER_KW
from .model import Decision, Hold, SmartChargingState, SmartStatus
from .policy import Step
from .solar import SolarSettings, power_kw, surplus_kw
from .solar_forecast import (
    EXPECTED_HOUSE_KW,
    ForecastFormatError,
    following_bar,
    forecast_periods,
    solar_prices,
    sun_bar,
)
from .sun_history import SunHistory, standard_time

type Periods = list[tuple[datetime, datetime, float]]

DEFAULT_COMMANDS_PER_DAY = 4
SUN_STORAGE_VERSION = 1
SUN_SAVE_DELAY = timedelta(minutes=15)


def solar_entities(options: Mapping[str, Any]) -> list[str]:
    """The power sensors the options name for the chosen source (none: solar is off)."""
    source = options.get(CONF_SOLAR_SOURCE)
    if source == SOLAR_SOURCE_GRID:
        keys = [CONF_GRID_POWER_ENTITY]
    elif source == SOLAR_SOURCE_PV:
        keys = [CONF_PV_POWER_ENTITY, CONF_HOUSE_POWER_ENTITY]
    else:
        return []
    entities = [options.get(key) for key in keys]
    return [entity for entity in entities if entity] if all(entities) else []


class SolarInputs:
    """The surplus from the user's grid meter, or from PV production and house consumption."""

    def __init__(self, hass: HomeAssistant, options: Mapping[str, Any], entry_id: str) -> None:
        """Read the source and its sensors from the options."""
        self.hass = hass
        self.source: str | None = options.get(CONF_SOLAR_SOURCE)
        self.entities = solar_entities(options)
        self.surplus_on = bool(options.get(CONF_SOLAR_SURPLUS, True))
        self.settings = SolarSettings(
            commands_per_day=int(options.get(CONF_SOLAR_COMMANDS_PER_DAY, DEFAULT_COMMANDS_PER_DAY))
        )
        self.forecast_entity: str | None = (
            options.get(CONF_SOLAR_FORECAST_ENTITY) if self.enabled else None
        )
        # With a current entity the car follows the sun down to its lowest current, and the plan
        # buys the rest last: placing the plan in the forecast's sunny hours would charge at full
        # power there (scripts/bench-solar: 85 % of the optimum instead of 95 %). The sun ahead
        # only holds the start (`bar`).
        self.follows_current = bool(options.get(CONF_CURRENT_ENTITY))
        self._forecast: tuple[State | None, Periods] = (None, [])
        # Without a forecast entity, the sun learned from the meter (sun_history.py); its
        # expectation (the hours' mean, and their best) is worked out once an hour.
        self.history = SunHistory()
        self._learned: tuple[datetime | None, Periods, Periods] = (None, [], [])
        self._sun_store: Store[dict[str, Any]] = Store(
            hass, SUN_STORAGE_VERSION, storage_key(entry_id, "sun")
        )
        self._save_due = False
        self.feed_in_tariff = float(options.get(CONF_FEED_IN_TARIFF, 0.0))

    @property
    def metered(self) -> bool:
        """Whether the power sensors are set up (for solar charging or the site limit)."""
        return bool(self.entities)

    @property
    def enabled(self) -> bool:
        """Whether solar surplus charging is set up (and not left to the site limit alone)."""
        return self.metered and self.surplus_on

    @property
    def commands_per_day(self) -> int:
        """The sun's daily command budget (0 when solar charging is off)."""
        return self.settings.commands_per_day if self.enabled else 0

    def reading_kw(self, entity_id: str) -> float | None:
        """A power sensor's state in kW (None: missing, unavailable or not in W/kW/MW)."""
        state = self.hass.states.get(entity_id)
        if state is None:
            return None
        return power_kw(state.state, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))

    def surplus(self, car_kw: float) -> float | None:
        """The power the car could take without import; `car_kw` is what it draws now."""
        if not self.enabled:
            return None
        if self.source == SOLAR_SOURCE_GRID:
            return surplus_kw(grid_kw=self.reading_kw(self.entities[0]), car_kw=car_kw)
        production, consumption = (self.reading_kw(entity) for entity in self.entities)
        return surplus_kw(production_kw=production, consumption_kw=consumption, car_kw=car_kw)

    def grid_kw(self) -> float | None:
        """The grid import now (negative: export), from the meter or consumption - production."""
        if not self.metered:
            return None
        if self.source == SOLAR_SOURCE_GRID:
            return self.reading_kw(self.entities[0])
        production, consumption = (self.reading_kw(entity) for entity in self.entities)
        if production is None or consumption is None:
            return None
        return consumption - production

    def wish(
        self,
        state: SmartChargingState,
        vehicle: VehicleData,
        now: datetime,
        *,
        home: bool,
        min_power_kw: float | None = None,
        bar_min_kw: float | None = None,
    ) -> bool | None:
        """The solar wish of a car that is plugged in `home` under the plan (None: not in use).

        `min_power_kw`: with a current entity, the car's power at its lowest current;
        `bar_min_kw`: the same for the bar, guessed low while unlearned (`update`).
        """
        eligible = (
            state.settings.managed
            and vehicle.state.plugged_in.value is True
            and state.session.hold is Hold.PLAN
            and state.status is not SmartStatus.TARGET_REACHED
        )
        return self.update(
            state,
            vehicle,
            now,
            eligible=eligible and self.enabled and home,
            min_power_kw=min_power_kw,
            bar_min_kw=bar_min_kw,
        )

    def plan_options(self, state: SmartChargingState, vehicle: VehicleData) -> dict[str, Any]:
        """How a plan leaves room for the sun: equal prices late, forecast sun at the tariff."""
        return {
            "latest_first": self.enabled,
            "adjust": lambda slots: self.with_forecast(slots, car_power(state, vehicle)),
        }

    def update(
        self,
        state: SmartChargingState,
        vehicle: VehicleData,
        now: datetime,
        *,
        eligible: bool,
        min_power_kw: float | None = None,
        bar_min_kw: float | None = None,
    ) -> bool | None:
        """Feed the reading to the vehicle's controller; its wish (None: solar is not in use).

        `eligible`: the sun may charge the car now (managed, plugged in at home, the plan holds
        it, the target not reached). `bar_min_kw`: the lowest current's power for the bar
        (default `min_power_kw`): while the car's phases are unknown, one phase, as a higher
        guess would have the car wait for sunnier hours than its lowest current needs.
        """
        if not self.enabled:
            state.solar = None
            return None
        sun = (state.solar or control.SolarState()).resumed(charging=vehicle.charging, now=now)
        power = car_power(state, vehicle)
        surplus = self.surplus(power if vehicle.charging else 0.0)
        if not eligible:
            # Nothing for the sun to do: the day's command count stays, and so does a charge it
            # asked for while the car still charges (one reading away from home, GPS at the
            # zone's edge, or a report without the plug must not stop it once it is back).
            wants = sun.wants and vehicle.charging is not False  # unknown: kept
            state.solar = replace(
                sun, wants=wants, above_since=None, below_since=None, surplus_kw=surplus
            )
            return None
        block = state.plan.current_or_next(now) if state.plan else None
        state.solar = control.update(
            sun,
            self.settings,
            surplus=surplus,
            car_power_kw=power,
            now=now,
            today=dt_util.as_local(now).date(),
            until_plan=max(block.start - now, timedelta(0)) if block else None,
            min_power_kw=min_power_kw,
            plan_charging=block is not None and block.start <= now,
            sun_bar_kw=self.bar(
                state,
                power,
                now,
                min_power_kw=min_power_kw if bar_min_kw is None else bar_min_kw,
            ),
        )
        return state.solar.wants

    async def async_load(self) -> None:
        """Read the sun learned so far."""
        self.history = SunHistory.from_stored(await self._sun_store.async_load())

    async def async_save(self) -> None:
        """Write the sun learned now (unload: a reload reads it at once)."""
        self._save_due = False
        await self._sun_store.async_save(self.history.stored())

    def _to_store(self) -> dict[str, Any]:
        self._save_due = False
        return self.history.stored()

    def record(self, now: datetime, cars_kw: float) -> None:
        """Learn a reading of the sun (`cars_kw`: what the cars at home draw now).

        Written at most every SUN_SAVE_DELAY (and when Home Assistant stops, or the entry
        unloads): a meter reports every few seconds, a disk should not be written as often.
        """
        if not self.enabled:
            return
        self.history.record(dt_util.as_local(now), self.surplus(cars_kw))
        if not self._save_due:
            self._save_due = True
            self._sun_store.async_delay_save(self._to_store, SUN_SAVE_DELAY.total_seconds())

    def sun(self, now: datetime, *, best: bool = False) -> tuple[Periods, float]:
        """The sun expected ahead and the house's load to take off it.

        A forecast entity's production (less the house's expected load); without one, or while
        it has no readable forecast, the surplus learned from the meter: the hours' mean, or
        (`best`, for the start's bar) the most they gave. With a current entity the learned sun
        is only the bar (the car takes the sun as it comes, the plan is not priced by it), and
        lowered for the rest of a day much duller than the days learned: a wait for sunny days'
        sun would last all day (scripts/bench-solar, the weather changes).
        """
        if periods := self.forecast():
            return periods, EXPECTED_HOUSE_KW
        if not self.enabled:
            return [], 0.0
        local = dt_util.as_local(now)
        hour = local.replace(minute=0, second=0, microsecond=0)
        if self._learned[0] != hour:
            self._learned = (
                hour,
                [] if self.follows_current else self.history.expected(local),
                self.history.expected(local, best=True, dull_today=self.follows_current),
            )
        _, mean, most = self._learned
        return most if best else mean, 0.0

    def diagnostics(self) -> dict[str, Any]:
        """The forecast's periods read and the whole days learned from the meter.

        Only days before today: those the expectation is made of.
        """
        today = standard_time(dt_util.now()).date()  # the history's days are by standard time
        return {
            "forecast_periods": len(self.forecast()),
            "learned_days": [
                day.isoformat()
                for day, seen in sorted(self.history.days.items())
                if seen.complete and day < today
            ],
        }

    def forecast(self) -> Periods:
        """The forecast's (start, end, kW) periods; none without an entity or a readable one.

        Read once per state of the entity (a meter's every reading asks for it).
        """
        if not self.forecast_entity or not (state := self.hass.states.get(self.forecast_entity)):
            return []
        if self._forecast[0] is not state:
            try:
                periods = forecast_periods(state.attributes)
            except ForecastFormatError:
                periods = []
            self._forecast = (state, periods)
        return self._forecast[1]

    def bar(
        self,
        state: SmartChargingState,
        power: float,
        now: datetime,
        *,
        min_power_kw: float | None,
    ) -> float | None:
        """The surplus the sun ahead says is worth waiting for (None: nothing known, or none).

        By start and stop: what the plan's sunny hours ahead give on average. With a current
        entity: the least of the sunniest hours until the departure that would hold the need.
        """
        periods, house_kw = self.sun(now, best=True)
        if not periods or state.plan is None:
            return None
        if min_power_kw is None:
            blocks = [(block.start, block.end) for block in state.plan.blocks]
            return sun_bar(blocks, periods, now=now, car_kw=power, house_kw=house_kw)
        if state.deadline is None:
            return None
        return following_bar(
            periods,
            now=now,
            deadline=state.deadline,
            car_kw=power,
            min_kw=min_power_kw,
            need_kwh=state.plan.needed_hours * power,
            house_kw=house_kw,
        )

    def with_forecast(self, prices: Sequence[PriceSlot], car_power_kw: float) -> list[PriceSlot]:
        """The prices with the sun ahead blended in (`solar_forecast.solar_prices`).

        With a current entity (which follows the sun as it comes), or while nothing is known of
        the sun ahead, the prices alone.
        """
        periods, house_kw = self.sun(dt_util.utcnow())
        if self.follows_current or not periods:
            return list(prices)
        return solar_prices(
            prices, periods, car_kw=car_power_kw, feed_in=self.feed_in_tariff, house_kw=house_kw
        )


def car_power(state: SmartChargingState, vehicle: VehicleData) -> float:
    """The car's charging power: reported while charging, else learned, else assumed."""
    reported = vehicle.state.charge_power.value
    if vehicle.charging and reported and reported >= MIN_POWER_KW:
        return reported
    return state.learned.power_kw or control.DEFAULT_CAR_POWER_KW


def solar_detail(step: Step, state: SmartChargingState) -> tuple[str, float | None] | None:
    """The surplus a solar start or stop was made on: ("surplus", kW) or ("no_reading", None)."""
    if step.decision not in (Decision.START_SOLAR, Decision.STOP_SOLAR) or not state.solar:
        return None
    surplus = state.solar.surplus_kw
    return ("no_reading", None) if surplus is None else ("surplus", round(surplus, 1))
