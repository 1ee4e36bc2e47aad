"""The plan spans every known price up to the next departure, however many days ahead it is.

Frozen at Wednesday 02:30 US/Pacific (09:30 UTC); the Model Y is at 62 %, its target 75 %:
1.3 h of charging at the default 10 %/h. The fixtures are smart charging's (see conftest).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import CONF_DEVICE_ID, SERVICE_TURN_OFF
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexcharging.const import (
    CONF_OFFPEAK_PRICE,
    CONF_PEAK_PRICE,
    CONF_PRICE_SOURCE,
    CONF_REQUEST_BUDGET,
    CONF_WEEKDAY_PEAK_END,
    CONF_WEEKDAY_PEAK_START,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
    PRICE_SOURCE_SCHEDULE,
)
from custom_components.flexcharging.smart_charging import SmartChargingManager
from tests.test_smart_charging import (
    COST,
    HOUR,
    NEXT_START,
    PLANNED,
    PRICE_ENTITY,
    PRICE_START,
    STATUS,
    VEHICLE,
    call,
    manage,
    price_attributes,
    state_of,
)
from tests.test_trips import NEXT_DEPARTURE, vehicle_device

SATURDAY_0900 = PRICE_START + 79 * HOUR  # 16:00 UTC on Saturday 13 June


async def set_prices(hass: HomeAssistant, hours: int, cheap: dict[int, float]) -> None:
    """`hours` hourly prices from 02:00 local today at .40, but the `cheap` hours."""
    prices = [cheap.get(hour, 0.40) for hour in range(hours)]
    hass.states.async_set(PRICE_ENTITY, "0.40", price_attributes(prices))
    await hass.async_block_till_done(wait_background_tasks=True)


async def no_departure_on(hass: HomeAssistant, *days: str) -> None:
    """Turn the days' departures off."""
    for day in days:
        await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, f"switch.{VEHICLE}_departure_on_{day}")


def ready_by(hass: HomeAssistant) -> object:
    """The deadline the plan was made for."""
    state = hass.states.get(STATUS)
    assert state is not None
    return state.attributes["ready_by"]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_departure_days_ahead_plans_over_every_known_price(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """No departure Wednesday to Friday: Friday's cheap hours, 50 h ahead, are planned."""
    await set_prices(hass, 80, {50: 0.05, 51: 0.05})
    await manage(hass, target=75)
    # Ready by Wednesday 07:00: only the next hours count (all .40: at once).
    assert state_of(hass, NEXT_START) == "2026-06-10T09:30:00+00:00"

    await no_departure_on(hass, "wednesday", "thursday", "friday")
    assert ready_by(hass) == SATURDAY_0900
    assert state_of(hass, NEXT_DEPARTURE) == SATURDAY_0900.isoformat()
    assert state_of(hass, NEXT_START) == (PRICE_START + 50 * HOUR).isoformat()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_known_cheap_prices_beat_unknown_ones_before_a_far_departure(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """Prices for 30 h, the departure in 3 days: the cheap known hour, not the unknown days."""
    await set_prices(hass, 30, {20: 0.05, 21: 0.05})
    await manage(hass, target=75)
    await no_departure_on(hass, "wednesday", "thursday", "friday")
    assert ready_by(hass) == SATURDAY_0900
    assert state_of(hass, NEXT_START) == (PRICE_START + 20 * HOUR).isoformat()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_without_any_departure_the_known_prices_decide(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """No departure all week: the cheapest of all known prices (48 h), no deadline shown."""
    await set_prices(hass, 48, {40: 0.02, 41: 0.02})
    await manage(hass, target=75)
    await no_departure_on(
        hass, "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    )
    assert ready_by(hass) is None
    assert state_of(hass, NEXT_DEPARTURE) == "unknown"
    state = hass.states.get(NEXT_DEPARTURE)
    assert state is not None
    assert state.attributes["source"] == "none"
    assert state_of(hass, NEXT_START) == (PRICE_START + 40 * HOUR).isoformat()


async def test_trip_two_days_ahead_uses_48_hours_of_prices(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """A trip 47 h ahead: the cheap hours at 45 h are planned, not tomorrow morning's."""
    await set_prices(hass, 48, {20: 0.10, 45: 0.03, 46: 0.03})
    await manage(hass, target=75)
    trip_at = PRICE_START + 47 * HOUR + timedelta(minutes=30)
    await hass.services.async_call(
        DOMAIN,
        "plan_trip",
        {CONF_DEVICE_ID: vehicle_device(hass), "departure": trip_at.isoformat()},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ready_by(hass) == trip_at
    assert state_of(hass, NEXT_START) == (PRICE_START + 45 * HOUR).isoformat()


@pytest.mark.usefixtures(
    "entity_registry_enabled_by_default", "credentials", "frozen_emulator", "connected_fleet"
)
async def test_rate_schedule_days_ahead(hass: HomeAssistant, smart_entry: MockConfigEntry) -> None:
    """A time-of-use schedule is known for any day: peak on weekdays, Saturday night planned."""
    hass.config_entries.async_update_entry(
        smart_entry,
        options={
            CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET,
            CONF_PRICE_SOURCE: PRICE_SOURCE_SCHEDULE,
            CONF_OFFPEAK_PRICE: 0.1,
            CONF_PEAK_PRICE: 0.5,
            CONF_WEEKDAY_PEAK_START: "00:00:00",
            CONF_WEEKDAY_PEAK_END: "23:59:00",
        },
    )
    assert await hass.config_entries.async_setup(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await manage(hass, target=75)
    await no_departure_on(hass, "wednesday", "thursday", "friday")
    # Off-peak: a minute each weekday night (23:59 local), then Saturday from midnight: the
    # last block starts on Friday 23:59 local (06:59 UTC Saturday), three days ahead.
    planned = hass.states.get(PLANNED)
    assert planned is not None
    starts = [block["start"] for block in planned.attributes["planned_dispatches"]]
    assert starts[-1] == datetime(2026, 6, 13, 6, 59, tzinfo=UTC)
    cost = hass.states.get(COST)
    assert cost is not None
    assert float(cost.state) == pytest.approx(9.75 * 0.1)
