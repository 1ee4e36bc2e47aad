"""Price thresholds: opportunity charging above the target, and a maximum price for the plan.

Frozen at Wednesday 02:30 US/Pacific (09:30 UTC); the Model Y is at 62 %, its own limit 80 %,
ready by 07:00 local (14:00 UTC). Prices are set by the test (hourly from 09:00 UTC).
"""

from __future__ import annotations

from homeassistant.components.number import ATTR_VALUE, DOMAIN as NUMBER_DOMAIN, SERVICE_SET_VALUE
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
import pytest

from custom_components.flexcharging.smart_charging import SmartChargingManager
from emulator import MODEL_Y_ID
from tests.common import Emulator
from tests.test_horizon import set_prices
from tests.test_smart_charging import (
    AT_RISK,
    DECISION,
    HOUR,
    NEXT_END,
    NEXT_START,
    PRICE_START,
    STATUS,
    VEHICLE,
    Advance,
    advance_to,
    call,
    commands,
    manage,
    state_of,
)

OPPORTUNITY_LEVEL = f"number.{VEHICLE}_opportunity_charging_up_to"
OPPORTUNITY_PRICE = f"number.{VEHICLE}_opportunity_charging_price"
OPPORTUNITY_SHARE = f"number.{VEHICLE}_opportunity_charging_in_the_cheapest_hours"
MAX_PRICE = f"number.{VEHICLE}_maximum_charging_price"


async def set_number(hass: HomeAssistant, entity_id: str, value: float) -> None:
    """Set a number as the user does."""
    await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, entity_id, **{ATTR_VALUE: value})


async def test_negative_price_charges_above_the_target(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """Target reached, a negative hour before the departure: charging then, up to 80 %."""
    await set_prices(hass, 30, {4: -0.02})  # 13:00 UTC
    await manage(hass, target=60)
    assert state_of(hass, STATUS) == "target_reached"
    assert state_of(hass, NEXT_START) == "unknown"  # its default 50 %: below the target, off

    await set_number(hass, OPPORTUNITY_LEVEL, 90)  # the car stops at its own 80 % anyway
    assert state_of(hass, NEXT_START) == (PRICE_START + 4 * HOUR).isoformat()
    assert state_of(hass, NEXT_END) == (PRICE_START + 5 * HOUR).isoformat()
    car = frozen_emulator.state.vehicles[MODEL_Y_ID]

    await advance_to(advance, PRICE_START + 4 * HOUR)
    assert car.charging is True
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, DECISION) == "start_opportunity"
    assert state_of(hass, STATUS) == "charging"

    await advance_to(advance, PRICE_START + 5 * HOUR + 10 * (HOUR / 60))
    assert car.charging is False
    assert commands(frozen_emulator, "stop") == 1
    assert 62 < car.soc < 80


async def test_threshold_price_is_the_users(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """At or below the threshold counts; the price is in the price source's currency."""
    await set_prices(hass, 30, {2: 0.05, 3: 0.06})  # 11:00 and 12:00 UTC
    await manage(hass, target=70)  # 0.8 h at 10 %/h: 11:00–11:48
    await set_number(hass, OPPORTUNITY_LEVEL, 80)
    assert state_of(hass, NEXT_END) == (PRICE_START + 2 * HOUR + 48 * (HOUR / 60)).isoformat()

    await set_number(hass, OPPORTUNITY_PRICE, 0.06)  # and 80 % - 70 % = 1 h more, up to 12:48
    state = hass.states.get(OPPORTUNITY_PRICE)
    assert state is not None
    assert (state.state, state.attributes["unit_of_measurement"]) == ("0.06", "EUR/kWh")
    assert state_of(hass, NEXT_START) == (PRICE_START + 2 * HOUR).isoformat()
    assert state_of(hass, NEXT_END) == (PRICE_START + 3 * HOUR + 48 * (HOUR / 60)).isoformat()


async def test_cheapest_share_of_the_horizon(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """25 % of the 4.5 known hours to the departure: 11:00 and 12:00 are the cheap ones."""
    await set_prices(hass, 30, {2: 0.05, 3: 0.06})
    await manage(hass, target=70)
    await set_number(hass, OPPORTUNITY_LEVEL, 80)
    await set_number(hass, OPPORTUNITY_SHARE, 25)
    assert state_of(hass, NEXT_END) == (PRICE_START + 3 * HOUR + 48 * (HOUR / 60)).isoformat()
    await set_number(hass, OPPORTUNITY_SHARE, 0)
    assert state_of(hass, NEXT_END) == (PRICE_START + 2 * HOUR + 48 * (HOUR / 60)).isoformat()


async def test_maximum_price_puts_the_plan_at_risk(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """A maximum below all but one cheap hour: 72 % reachable, said; no maximum: fine again."""
    await set_prices(hass, 30, {2: 0.05, 3: 0.06})
    await manage(hass, target=75)  # 1.3 h
    assert state_of(hass, AT_RISK) == STATE_OFF

    await set_number(hass, MAX_PRICE, 0.05)
    assert state_of(hass, NEXT_END) == (PRICE_START + 3 * HOUR).isoformat()
    state = hass.states.get(AT_RISK)
    assert state is not None
    assert (state.state, state.attributes["reachable"]) == (STATE_ON, 72)

    await set_number(hass, MAX_PRICE, 10000)  # the top: no maximum
    assert state_of(hass, MAX_PRICE) == "10000.0"
    assert smart.vehicle(MODEL_Y_ID).settings.max_price is None
    assert state_of(hass, AT_RISK) == STATE_OFF


@pytest.mark.parametrize("value", [0.061, -3])
async def test_price_settings_take_any_price(
    hass: HomeAssistant, smart: SmartChargingManager, value: float
) -> None:
    """Prices are not whole: thousandths and negative prices are kept as set."""
    await set_number(hass, OPPORTUNITY_PRICE, value)
    assert smart.vehicle(MODEL_Y_ID).settings.opportunity_price == value
