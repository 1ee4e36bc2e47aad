"""Smart charging's inputs from Home Assistant: the car as the policy sees it, and its plan.

Prices come from entities or a schedule; at-home from the car, or the home zone; the level and
the charge speed are worked out by `estimates.py`, the departure by `departures.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import issue_registry as ir
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
    LOGGER,
    PRICE_SOURCE_ENTITIES,
    PRICE_SOURCE_SCHEDULE,
)
from ..models import FlexChargingConfigEntry, VehicleData
from ..planner import ChargePlan, ChargeRequest, PriceSlot, plan_charging
from ..prices import (
    PriceFormatError,
    RateSchedule,
    price_unit,
    schedule_slots,
    slots_from_attributes,
)
from . import departures, estimates
from .estimates import opportunity_level
from .model import SmartChargingState
from .policy import Car


class PriceInputs:
    """The entry's prices: from price entities (with a repair issue when unusable) or a schedule."""

    def __init__(self, hass: HomeAssistant, entry: FlexChargingConfigEntry) -> None:
        """Read the price source from the options."""
        self.hass = hass
        options = entry.options
        self.source: str | None = options.get(CONF_PRICE_SOURCE)
        self.entities: list[str] = list(options.get(CONF_PRICE_ENTITIES, []))
        self.schedule = schedule_from_options(options)
        self.problem: str | None = None
        self.issue_id = f"price_entity_unusable_{entry.entry_id}"
        # Per price entity: the state last read, its prices, and their currency.
        self._cache: dict[str, tuple[State, list[PriceSlot], str | None]] = {}

    @property
    def watched_entities(self) -> list[str]:
        """The entities whose changes call for a new plan."""
        return self.entities if self.source == PRICE_SOURCE_ENTITIES else []

    def slots(
        self, now: datetime, deadline: datetime, time_zone: ZoneInfo, *, sync_issue: bool = True
    ) -> tuple[list[PriceSlot], str | None]:
        """The known prices up to the deadline, and their currency.

        `sync_issue=False` only reads (the session log): the repair issue is the planner's.
        """
        if self.source == PRICE_SOURCE_SCHEDULE and self.schedule is not None:
            end = deadline + timedelta(hours=1)
            return schedule_slots(self.schedule, now, end, time_zone), self.hass.config.currency
        if self.source != PRICE_SOURCE_ENTITIES:
            return [], None
        slots: list[PriceSlot] = []
        currency: str | None = None
        problems: list[str] = []
        for entity_id in self.entities:
            state = self.hass.states.get(entity_id)
            cached = self._cache.get(entity_id)
            if state is not None and (cached is None or cached[0] is not state):
                try:
                    parsed = slots_from_attributes(state.attributes, time_zone)
                except PriceFormatError as err:
                    LOGGER.debug("No prices in %s: %s", entity_id, err)
                else:
                    # Prices carry their own times: the last good list stays valid while the
                    # entity is briefly unavailable.
                    cached = (state, parsed, price_unit(state.attributes))
                    self._cache[entity_id] = cached
            if cached is None:
                problems.append(entity_id)
                continue
            slots.extend(cached[1])
            currency = currency or cached[2]
        if not problems and not any(slot.end > now for slot in slots):
            problems = list(self.entities)  # lists, but nothing from now on
        if sync_issue:
            self._sync_issue(problems)
        # Without a unit on the entity (Octopus Energy's rate events), Home Assistant's currency.
        return slots, currency or self.hass.config.currency

    def clear_issue(self) -> None:
        """Forget the issue (raised again at the next plan if it still holds)."""
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)

    def _sync_issue(self, problems: list[str]) -> None:
        problem = ", ".join(problems) or None
        if problem == self.problem:
            return
        self.problem = problem
        if problem is None:
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="price_entity_unusable",
            translation_placeholders={"entities": problem},
        )


def at_home(hass: HomeAssistant, entry: FlexChargingConfigEntry, vehicle: VehicleData) -> bool:
    """Whether the car is at home: its own flag, else the home zone, else assumed."""
    flag = vehicle.state.is_at_home
    if flag.known:
        return bool(flag.value)
    read_location = entry.options.get(CONF_READ_LOCATION, entry.data.get(CONF_READ_LOCATION, False))
    location = vehicle.state.location.value
    zone = hass.states.get("zone.home")
    if not read_location or location is None or zone is None:
        return True
    meters = distance(
        location.latitude,
        location.longitude,
        zone.attributes.get("latitude"),
        zone.attributes.get("longitude"),
    )
    return meters is None or meters <= float(zone.attributes.get("radius", 100))


def schedule_from_options(options: Mapping[str, Any]) -> RateSchedule | None:
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


def read_car(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    state: SmartChargingState,
    vehicle: VehicleData,
    now: datetime,
) -> Car:
    """What the policy sees of the vehicle; learns the charge speed on the way."""
    signals = vehicle.state
    plugged = signals.plugged_in.value
    home, soc = True, None
    if state.settings.managed and plugged:
        if state.session.plugged is False:
            state.soc_estimate = None  # driven since: the car's report is what counts
        home = at_home(hass, entry, vehicle)
    if state.settings.managed and plugged and home:
        state.learned = estimates.learn(
            state.learned,
            charging=vehicle.charging,
            level=signals.battery_level.value,
            level_at=signals.battery_level.oem_updated_at,
            power_kw=signals.charge_power.value,
            power_known=signals.charge_power.known,
        )
        if (reported := signals.battery_level.value) is not None:
            state.soc_estimate = estimates.estimated_soc(
                state.soc_estimate,
                reported=reported,
                reported_at=signals.battery_level.oem_updated_at,
                charging=vehicle.charging,
                last_command=vehicle.last_command,
                percent_per_hour=charge_speed(state, vehicle)[0],
                charge_limit=signals.charge_limit.value,
                now=now,
            )
            soc = state.soc_estimate[0]
    stamp = vehicle.charging_updated_at
    return Car(
        available=vehicle.available,
        plugged_in=plugged,
        charging=vehicle.charging,
        reported_after_command=vehicle.last_command is None
        or (stamp is not None and stamp > vehicle.last_command),
        fully_charged=signals.charging_status.value is ChargingStatus.FULLY_CHARGED,
        charge_limit=signals.charge_limit.value,
        at_home=home,
        soc=soc,
    )


def charge_speed(state: SmartChargingState, vehicle: VehicleData) -> tuple[float, float | None]:
    """Percent per hour and the battery's capacity (kWh), from the car or learned."""
    return estimates.charge_speed(state.learned, vehicle.state.battery_capacity.value)


def make_plan(
    prices: PriceInputs,
    state: SmartChargingState,
    vehicle: VehicleData,
    now: datetime,
    level: tuple[float, int],
    *,
    latest_first: bool = False,
    adjust: Callable[[list[PriceSlot]], list[PriceSlot]] | None = None,
    busy: tuple[tuple[datetime, datetime], ...] = (),
) -> ChargePlan:
    """The plan from the level to the target (`level`) by the state's next departure.

    `latest_first` and `adjust` are solar's: equal prices as late as allowed (the sun first),
    and the forecast's sunny hours laid over the prices. `busy`: when a shared charger or
    circuit is taken by other cars.
    """
    soc, target = level
    time_zone = ZoneInfo(prices.hass.config.time_zone)
    departure = state.departure
    assert departure is not None  # found just before
    state.deadline = departure.at
    percent_per_hour, capacity = charge_speed(state, vehicle)
    # Every known price up to the departure, however many days ahead it is.
    horizon = departures.planning_deadline(departure, now, [])
    slots, state.currency = prices.slots(now, horizon, time_zone)
    deadline = departures.planning_deadline(departure, now, [slot.end for slot in slots])
    request = ChargeRequest(
        now=now,
        deadline=deadline,
        soc=soc,
        target=target,
        minimum=min(state.settings.minimum, target),
        percent_per_hour=percent_per_hour,
        capacity_kwh=capacity,
        latest_first=latest_first,
        max_price=state.settings.max_price,
        opportunity_level=opportunity_level(state.settings, vehicle.state.charge_limit.value),
        opportunity_price=state.settings.opportunity_price,
        opportunity_share=state.settings.opportunity_share / 100,
        level_now=state.soc_estimate[0] if state.soc_estimate else None,
        busy=busy,
    )
    return plan_charging(request, adjust(slots) if adjust else slots)
