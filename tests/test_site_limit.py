"""The site limit and the charging-current entity end to end: options, meter, car, logbook.

The car is tests/fake_tesla.py's (Teslemetry's entities, its Charge current number included):
11 kW at 16 A on three phases. The grid meter is a plain state the test sets, as a meter
integration would. Prices as in test_smart_charging (cheapest from 11:00 UTC).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.number import SERVICE_SET_VALUE
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexcharging.const import (
    CONF_CURRENT_ENTITY,
    CONF_FEED_IN_TARIFF,
    CONF_GRID_POWER_ENTITY,
    CONF_HOUSE_POWER_ENTITY,
    CONF_PRICE_ENTITIES,
    CONF_PRICE_SOURCE,
    CONF_PV_POWER_ENTITY,
    CONF_SITE_LIMIT,
    CONF_SOLAR_COMMANDS_PER_DAY,
    CONF_SOLAR_FORECAST_ENTITY,
    CONF_SOLAR_SOURCE,
    CONF_SOLAR_SURPLUS,
    DOMAIN,
    PRICE_SOURCE_ENTITIES,
    SOLAR_SOURCE_GRID,
    SOLAR_SOURCE_PV,
    storage_key,
)
from custom_components.flexcharging.diagnostics import async_get_config_entry_diagnostics
from emulator import MODEL_3_ID, MODEL_Y_ID
from tests.common import FROZEN_NOW, Emulator, setup_integration
from tests.fake_tesla import ChargeCurrent, FakeTesla, async_add_fake_tesla, flexcharging_entry
from tests.test_entity_backend import advance as advance_clock, call, ours, state_of
from tests.test_smart_charging import (
    CHARGING_SWITCH,
    CHEAP_START,
    DECISION,
    PRICE_ENTITY,
    PRICES,
    START_NOW,
    STATUS,
    Advance,
    advance,  # noqa: F401 (the fixture)
    advance_to,
    call as smart_call,
    commands,
    manage,
    price_attributes,
    state_of as smart_state,
)
from tests.test_solar import (
    FORECAST,
    GRID_OPTIONS,
    HOUSE,
    KILOWATTS,
    MINUTE,
    PV,
    WATTS,
    entry_with,
    learned_day,
    open_solar_step,
    solcast,
)

GRID = "sensor.grid_power"
CURRENT = "number.scotty_charge_current"
LIMIT = "number.scotty_charge_limit"


def meter(hass: HomeAssistant, import_kw: float) -> None:
    """The grid meter reads `import_kw` (in W, as most meters do)."""
    hass.states.async_set(GRID, str(round(import_kw * 1000)), WATTS)


async def options_with_site_limit(hass: HomeAssistant, current_entity: str | None) -> None:
    """Through the options flow: prices, the grid meter, a 13.8 kW limit, the current entity."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_PRICE_SOURCE: PRICE_SOURCE_ENTITIES, CONF_SOLAR_SOURCE: SOLAR_SOURCE_GRID},
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_ENTITIES: [PRICE_ENTITY]}
    )
    assert result["step_id"] == "solar"
    assert CONF_CURRENT_ENTITY in [str(key) for key in result["data_schema"].schema]
    answer = {
        CONF_GRID_POWER_ENTITY: GRID,
        CONF_SOLAR_COMMANDS_PER_DAY: 4,
        CONF_FEED_IN_TARIFF: 0.08,
        CONF_SITE_LIMIT: 13.8,
    }
    # The charge limit is a number with a range too, but in %: not a current.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], answer | {CONF_CURRENT_ENTITY: LIMIT}
    )
    assert result["errors"] == {CONF_CURRENT_ENTITY: "not_a_current_entity"}
    assert result["description_placeholders"] == {"entity": LIMIT}
    if current_entity is not None:
        answer[CONF_CURRENT_ENTITY] = current_entity
    result = await hass.config_entries.options.async_configure(result["flow_id"], answer)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_SITE_LIMIT] == 13.8
    assert entry.options.get(CONF_CURRENT_ENTITY) == current_entity
    await hass.async_block_till_done(wait_background_tasks=True)  # the entry reloads


@pytest.fixture
async def charging(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> FakeTesla:
    """Scotty plugged in at 60 %, managed to 75 %, charging in the cheap slot at 16 A."""
    freezer.move_to(FROZEN_NOW)
    hass.states.async_set(PRICE_ENTITY, "0.30", price_attributes(PRICES))
    meter(hass, 1.0)
    car = await async_add_fake_tesla(hass)
    entry = flexcharging_entry(
        car, {CONF_PRICE_SOURCE: PRICE_SOURCE_ENTITIES, CONF_PRICE_ENTITIES: [PRICE_ENTITY]}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return car


async def start_charging(
    hass: HomeAssistant, car: FakeTesla, freezer: FrozenDateTimeFactory
) -> str:
    """Manage the car to 75 % and let the plan start it; the status sensor's id."""
    await call(hass, "number", SERVICE_SET_VALUE, ours(hass, "number", car, "target_charge"), 75)
    await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", car, "managed_charging"))
    await advance_clock(hass, freezer, CHEAP_START - FROZEN_NOW)
    assert car.calls == ["charge_start"]
    car.report()  # Teslemetry's stream: the car's power a moment before the meter's
    meter(hass, 1.0 + 11.0)
    await hass.async_block_till_done(wait_background_tasks=True)
    status = ours(hass, "sensor", car, "smart_charging_status")
    decision = hass.states.get(ours(hass, "sensor", car, "last_decision"))
    assert state_of(hass, status) == "charging", decision
    return status


async def test_the_current_is_lowered_then_the_car_paused_and_resumed(
    hass: HomeAssistant, charging: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """With a current entity: the oven lowers the current, the sauna pauses the car, the room
    that comes back resumes it at full current after five minutes; the logbook says why."""
    car = charging
    await options_with_site_limit(hass, CURRENT)
    status = await start_charging(hass, car, freezer)
    assert hass.states.get(status).attributes["charging_current"] == 16  # type: ignore[union-attr]

    # The house takes 8 kW: 5.8 kW of room is 8 A at the 0.6875 kW/A learned from the car.
    meter(hass, 8.0 + 11.0)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.amps == 8
    assert car.calls == ["charge_start", "set_charging_amps"]
    meter(hass, 8.0 + 5.5)  # the meter sees it at once
    await advance_clock(hass, freezer, timedelta(minutes=1))
    car.report()  # the car reports 5.5 kW at 8 A: 0.6875 kW/A learned
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, status) == "charging"
    assert hass.states.get(status).attributes["charging_current"] == 8  # type: ignore[union-attr]

    # 11 kW of house leaves 2.8 kW, less than 6 A (4.1 kW): paused at once.
    meter(hass, 11.0 + 5.5)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.calls[-1] == "charge_stop"
    assert not car.charging
    car.report()
    meter(hass, 11.0)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, status) == "house_at_limit"
    decision = ours(hass, "sensor", car, "last_decision")
    assert state_of(hass, decision) == "stop_house_at_limit"
    attributes = hass.states.get(decision).attributes  # type: ignore[union-attr]
    assert (attributes["detail"], attributes["kw"]) == ("room", 2.8)

    # The sauna goes off: room again, but the car waits five minutes.
    meter(hass, 1.5)
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance_clock(hass, freezer, timedelta(minutes=4))
    assert car.calls[-1] == "charge_stop"
    await advance_clock(hass, freezer, timedelta(minutes=2))
    # Resumed at the 8 A it was left at; raised to the car's 16 A once it reports charging.
    assert car.calls[-1] == "charge_start"
    assert car.charging
    car.report()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.calls[-1] == "set_charging_amps"
    assert car.amps == 16
    car.report()
    meter(hass, 1.5 + 11.0)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, status) == "charging"
    assert car.calls.count("charge_stop") == 1

    entry = hass.config_entries.async_entries(DOMAIN)[0]
    # (called directly: the frozen clock moved past a test client's token)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    site = diagnostics["site"]
    assert site["site_limit_kw"] == 13.8
    assert site["current_entity"] == CURRENT
    (vehicle,) = site["vehicles"]
    assert vehicle["kw_per_amp"] == pytest.approx(0.6875)
    assert vehicle["current_error"] is None

    # Kept across a restart: the car's phases are known before it charges again.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    (vehicle,) = diagnostics["site"]["vehicles"]
    assert vehicle["kw_per_amp"] == pytest.approx(0.6875)

    # A while without a current entity, then another charger's (it may have other phases):
    # learned anew, not recalled (at the wallbox's maximum the car's power tells nothing of it).
    await options_with_site_limit(hass, None)
    await advance_clock(hass, freezer, timedelta(minutes=16))
    wallbox = "number.garage_wallbox_current"
    hass.states.async_set(wallbox, "32", {"unit_of_measurement": "A", "min": 6, "max": 32})
    await options_with_site_limit(hass, wallbox)
    for _ in range(2):  # the options' reload, then a restart
        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        assert diagnostics["site"]["current_entity"] == wallbox
        (vehicle,) = diagnostics["site"]["vehicles"]
        assert vehicle["kw_per_amp"] is None
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize(("taught_by", "recalled"), [(None, None), (CURRENT, 0.23)])
async def test_a_power_per_ampere_stored_without_its_entity_is_learned_anew(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    taught_by: str | None,
    recalled: float | None,
) -> None:
    """Stored before the entity was kept with it: which charger taught it is unknown (one
    phase's 0.23 kW/A with this three-phase one would set three times the current). Stored
    with this entity it is recalled."""
    freezer.move_to(FROZEN_NOW)
    meter(hass, 1.0)
    car = await async_add_fake_tesla(hass)
    options = {
        CONF_SOLAR_SOURCE: SOLAR_SOURCE_GRID,
        CONF_GRID_POWER_ENTITY: GRID,
        CONF_SITE_LIMIT: 13.8,
        CONF_CURRENT_ENTITY: CURRENT,
    }
    entry = flexcharging_entry(car, options)
    key = storage_key(entry.entry_id, "smart_charging")
    learned = {"kw_per_amp": 0.23, "kw_per_amp_entity": taught_by}
    hass_storage[key] = {"version": 1, "key": key, "data": {"vehicles": {car.device_id: learned}}}
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    (vehicle,) = diagnostics["site"]["vehicles"]
    assert vehicle["kw_per_amp"] == recalled


async def smartcar_under_a_limit(
    hass: HomeAssistant, emulator: Emulator, limit: float = 6.0
) -> MockConfigEntry:
    """The Model Y through Smartcar (3.7 kW), a 6 kW site limit, 1 kW of house, managed to 75 %."""
    emulator.state.patch_vehicle(MODEL_Y_ID, {"charge_power_kw": 3.7})
    meter(hass, 1.0)
    entry = entry_with(hass, GRID_OPTIONS | {CONF_SITE_LIMIT: limit})
    await setup_integration(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    await manage(hass, target=75)
    return entry


@pytest.mark.usefixtures("credentials")
async def test_without_a_current_entity_the_car_is_paused_and_resumed(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """A Smartcar car (3.7 kW) under a 6 kW limit, started with "Start charging now": the
    house taking 4 kW stops it at once, five minutes of room start it again, override intact."""
    await smartcar_under_a_limit(hass, frozen_emulator)
    await smart_call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    assert commands(frozen_emulator, "start") == 1
    assert smart_state(hass, STATUS) == "override"
    meter(hass, 1.0 + 3.7)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert commands(frozen_emulator, "stop") == 0  # 1 kW of house leaves 5 kW: room enough

    meter(hass, 4.0 + 3.7)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert commands(frozen_emulator, "stop") == 1
    assert smart_state(hass, STATUS) == "house_at_limit"
    assert smart_state(hass, DECISION) == "stop_house_at_limit"
    assert frozen_emulator.state.vehicles[MODEL_Y_ID].charging is False

    meter(hass, 4.0)  # the car stopped: the house alone
    await hass.async_block_till_done(wait_background_tasks=True)
    meter(hass, 1.5)
    await hass.async_block_till_done(wait_background_tasks=True)
    resumed_from = dt_util.utcnow()
    await advance_to(advance, resumed_from + 4 * MINUTE)
    assert commands(frozen_emulator, "start") == 1
    assert smart_state(hass, STATUS) == "house_at_limit"
    await advance_to(advance, resumed_from + 6 * MINUTE)
    assert commands(frozen_emulator, "start") == 2
    assert smart_state(hass, STATUS) == "override"
    assert smart_state(hass, DECISION) == "start_override"


async def both_started_now(hass: HomeAssistant, emulator: Emulator) -> None:
    """The Model Y and the Model 3 (3.7 kW each) under the 6 kW limit, both managed to 75 % and
    started with "Start charging now"."""
    emulator.state.patch_vehicle(
        MODEL_3_ID, {"plugged_in": True, "charge_power_kw": 3.7, "key_paired": True}
    )
    await smartcar_under_a_limit(hass, emulator)
    model_3 = "2023_tesla_model_3"
    await smart_call(hass, "number", SERVICE_SET_VALUE, f"number.{model_3}_target_charge", value=75)
    await smart_call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, f"switch.{model_3}_managed_charging")
    await smart_call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    await smart_call(hass, BUTTON_DOMAIN, SERVICE_PRESS, f"button.{model_3}_start_charging_now")


def two_cars_for(
    hass: HomeAssistant, emulator: Emulator, step: Advance, house_kw: float, *, every: timedelta
) -> Callable[[], Awaitable[float]]:
    """A meter reading of `house_kw` and the two cars' draw: a step that returns the import."""
    cars = emulator.state.vehicles

    async def read_and_wait() -> float:
        drawing = sum(cars[vehicle_id].charging for vehicle_id in (MODEL_Y_ID, MODEL_3_ID))
        grid = house_kw + 3.7 * drawing + dt_util.utcnow().second * 0.0001
        meter(hass, grid)
        await hass.async_block_till_done(wait_background_tasks=True)
        await step(every)
        return grid

    return read_and_wait


def charging_cars(emulator: Emulator) -> list[bool]:
    """Whether each of the two cars charges (sorted: which one does is not the point)."""
    cars = emulator.state.vehicles
    return sorted(cars[vehicle_id].charging for vehicle_id in (MODEL_Y_ID, MODEL_3_ID))


@pytest.mark.usefixtures("credentials")
async def test_two_cars_under_a_limit_one_pauses_and_waits(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """Two 3.7 kW cars under a 6 kW limit, 1 kW of house: only one can charge. When both
    start, one pause covers the excess: the other car charges on. The paused one waits, for
    an hour of readings (resuming would pause a car again, over and over)."""
    await both_started_now(hass, frozen_emulator)
    read = two_cars_for(hass, frozen_emulator, advance, 1.0, every=timedelta(seconds=30))
    end = dt_util.utcnow() + timedelta(hours=1)
    while dt_util.utcnow() < end:
        await read()
    assert (commands(frozen_emulator, "start"), commands(frozen_emulator, "stop")) == (2, 1)
    assert charging_cars(frozen_emulator) == [False, True]


@pytest.mark.usefixtures("credentials")
async def test_an_excess_of_more_than_one_car_pauses_both(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """5 kW of house under the 6 kW limit: one pause does not cover it, both cars stop at the
    first reading."""
    await both_started_now(hass, frozen_emulator)
    await two_cars_for(hass, frozen_emulator, advance, 5.0, every=timedelta(seconds=10))()
    assert commands(frozen_emulator, "stop") == 2
    assert charging_cars(frozen_emulator) == [False, False]


@pytest.mark.usefixtures("credentials")
async def test_a_pause_whose_stop_fails_leaves_the_other_car_to_pause(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """The car paused first cannot be stopped (asleep, once): its draw stays, so the other car
    pauses at once, not after the minute its stop is waited for. The first car's stop is tried
    again (the limit still pauses it): both wait, as they did before."""
    await both_started_now(hass, frozen_emulator)
    frozen_emulator.state.add_fault("http_409_asleep", path="/commands/charge/stop", count=1)
    read = two_cars_for(hass, frozen_emulator, advance, 1.0, every=timedelta(seconds=10))
    over = [await read() > 6.0 for _ in range(12)]
    assert over == [True] + [False] * 11  # only the reading that paused the first car
    assert charging_cars(frozen_emulator) == [False, False]


@pytest.mark.usefixtures("credentials")
async def test_a_car_the_user_charges_is_not_counted_as_stopping(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """The Model Y's charging is the user's (stopped and started again in its app): the limit
    sends it no stop, so the Model 3 pauses at the same reading, not a minute later."""
    await both_started_now(hass, frozen_emulator)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    for charging in (True, False, True):  # the read that confirms the start, then the user
        frozen_emulator.state.advance(60)
        frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"charging": charging})
        await entry.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert smart_state(hass, STATUS) == "manual"
    read = two_cars_for(hass, frozen_emulator, advance, 1.0, every=timedelta(seconds=10))
    over = [await read() > 6.0 for _ in range(3)]
    assert over == [True, False, False]
    cars = frozen_emulator.state.vehicles
    assert (cars[MODEL_Y_ID].charging, cars[MODEL_3_ID].charging) == (True, False)


@pytest.mark.usefixtures("credentials")
async def test_cars_of_two_entries_under_one_meter_share_the_limit(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """The Model Y (Smartcar, 3.7 kW) and Scotty (another integration's car, 11 kW), each in an
    entry of its own with a 16 kW limit on one meter: 2 kW more of house is one pause, not two,
    and the paused car waits (resuming would pause a car again)."""
    await smartcar_under_a_limit(hass, frozen_emulator, limit=16.0)
    await smart_call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    scotty = await async_add_fake_tesla(hass)
    options = {CONF_SOLAR_SOURCE: SOLAR_SOURCE_GRID, CONF_GRID_POWER_ENTITY: GRID}
    second = flexcharging_entry(scotty, options | {CONF_SITE_LIMIT: 16.0})
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await call(hass, "number", SERVICE_SET_VALUE, ours(hass, "number", scotty, "target_charge"), 75)
    await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", scotty, "managed_charging"))
    await call(
        hass, BUTTON_DOMAIN, SERVICE_PRESS, ours(hass, "button", scotty, "start_charging_now")
    )
    scotty.report()
    model_y = frozen_emulator.state.vehicles[MODEL_Y_ID]
    assert (model_y.charging, scotty.charging) == (True, True)

    stops = []
    for second_of_reading in range(0, 600, 10):  # the meter follows the cars every 10 s
        house = 1.0 if second_of_reading < 30 else 3.0
        meter(hass, house + 3.7 * model_y.charging + 11.0 * scotty.charging)
        await hass.async_block_till_done(wait_background_tasks=True)
        scotty.report()
        stops.append((model_y.charging, scotty.charging))
        await advance(timedelta(seconds=10))
    assert stops[2] == (True, True)  # 15.7 kW: room for both
    assert sorted(stops[-1]) == [False, True]  # one pause covered the 1.7 kW over
    assert commands(frozen_emulator, "start") == 1
    assert commands(frozen_emulator, "stop") + scotty.calls.count("charge_stop") == 1


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "evaluation_running"])
@pytest.mark.usefixtures("credentials")
async def test_a_car_told_to_start_but_not_charging_is_not_counted_as_leaving(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
    busy: bool,
) -> None:
    """One car charges; the other's start was only accepted (202, not carried out). The house
    takes 2 kW more: the charging car pauses at that reading, also while the other car's
    evaluation is still running (a command in flight holds it up to 310 s), since a car not
    seen charging has no draw the meter could lose."""
    await both_started_now(hass, frozen_emulator)
    engine = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.smart_charging
    first, second = [vid for vid in engine.coordinator.data if vid in (MODEL_Y_ID, MODEL_3_ID)]
    cars = frozen_emulator.state.vehicles
    # Keep the second car charging; the first one's start is accepted, not carried out.
    frozen_emulator.state.patch_vehicle(first, {"charging": False})
    frozen_emulator.state.update_options({"command_response": "pending", "command_seconds": 3600})
    await engine.coordinator.async_refresh_vehicle(first)
    await hass.async_block_till_done(wait_background_tasks=True)
    frozen_emulator.state.update_options({"command_response": "sync"})
    intent = engine.vehicle(first).session.intent
    assert intent is not None
    assert (intent.charge, intent.attempts > 0) == (True, True)
    assert (cars[first].charging, cars[second].charging) == (False, True)
    if busy:
        engine._running[first] = hass.loop.create_future()
    read = two_cars_for(hass, frozen_emulator, advance, 3.0, every=timedelta(seconds=10))
    over = [await read() > 6.0 for _ in range(8)]
    if busy:
        engine._running.pop(first).set_result(None)
    assert over == [True] + [False] * 7
    assert cars[second].charging is False


def billed(emulator: Emulator) -> int:
    """The Model Y's billable requests so far (commands and reads)."""
    return emulator.state.requests.billable_by_vehicle[MODEL_Y_ID]


@pytest.mark.parametrize("meter_follows", [True, False], ids=["meter_shows_it", "meter_silent"])
@pytest.mark.usefixtures("credentials")
async def test_the_meter_confirms_a_command_instead_of_a_read(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
    *,
    meter_follows: bool,
) -> None:
    """A start and a stop of smart charging that the grid meter shows (the import moves by about
    the car's 3.7 kW within 90 s) are not read again: one billed request each. A meter that does
    not show it: the read follows, 90 s after the command."""
    entry = await smartcar_under_a_limit(hass, frozen_emulator)
    before = billed(frozen_emulator)
    await smart_call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    assert commands(frozen_emulator, "start") == 1
    await advance(timedelta(seconds=30))
    assert billed(frozen_emulator) == before + 1  # no read at 20 s: it waits for the meter
    if meter_follows:
        meter(hass, 1.0 + 3.6)
    await advance(timedelta(seconds=70))
    assert billed(frozen_emulator) == before + (1 if meter_follows else 2)

    meter(hass, 4.0 + 3.7)  # the house takes 4 kW: the car must pause
    await hass.async_block_till_done(wait_background_tasks=True)
    assert commands(frozen_emulator, "stop") == 1
    if meter_follows:
        await advance(timedelta(seconds=30))
        meter(hass, 4.0)
    await advance(timedelta(seconds=100))
    assert billed(frozen_emulator) == before + (2 if meter_follows else 4)
    assert smart_state(hass, STATUS) == "house_at_limit"
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["site"]["reads_saved_by_the_meter"] == (2 if meter_follows else 0)


@pytest.mark.usefixtures("credentials")
async def test_the_meter_confirms_only_its_own_command(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """The user stops the car while the meter has not yet shown smart charging's start: the
    meter showing that start later does not cancel the read that confirms the user's stop."""
    await smartcar_under_a_limit(hass, frozen_emulator)
    before = billed(frozen_emulator)
    await smart_call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    await advance(timedelta(seconds=10))
    await smart_call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, CHARGING_SWITCH)
    assert (commands(frozen_emulator, "start"), commands(frozen_emulator, "stop")) == (1, 1)
    meter(hass, 1.0 + 3.6)  # the start, late
    await advance(timedelta(seconds=30))
    assert billed(frozen_emulator) == before + 3  # the stop's read was made
    diagnostics = await async_get_config_entry_diagnostics(
        hass, hass.config_entries.async_entries(DOMAIN)[0]
    )
    assert diagnostics["site"]["reads_saved_by_the_meter"] == 0


@pytest.mark.usefixtures("credentials")
async def test_two_cars_switched_at_once_are_read(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """Both cars started by smart charging within the window: the meter shows their sum, not
    which one did what, so neither read is saved (here only one car's power ever shows)."""
    await both_started_now(hass, frozen_emulator)
    assert commands(frozen_emulator, "start") == 2
    meter(hass, 1.0 + 3.6)
    await advance(timedelta(seconds=100))
    diagnostics = await async_get_config_entry_diagnostics(
        hass, hass.config_entries.async_entries(DOMAIN)[0]
    )
    assert diagnostics["site"]["reads_saved_by_the_meter"] == 0


async def test_a_current_that_cannot_be_set_pauses_instead(
    hass: HomeAssistant,
    charging: FakeTesla,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The other integration refuses the current: the car is paused as without one, the
    error is logged once and kept for the diagnostics."""
    car = charging
    await options_with_site_limit(hass, CURRENT)
    status = await start_charging(hass, car, freezer)

    async def refuse(self: ChargeCurrent, value: float) -> None:
        raise HomeAssistantError("The vehicle is not reachable")

    monkeypatch.setattr(ChargeCurrent, "async_set_native_value", refuse)
    meter(hass, 8.0 + 11.0)  # 5.8 kW of room: 8 A would do, but cannot be set
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.calls == ["charge_start", "charge_stop"]
    assert state_of(hass, status) == "house_at_limit"
    assert caplog.text.count("Could not set number.scotty_charge_current to 8.0 A") == 1
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    (vehicle,) = (await async_get_config_entry_diagnostics(hass, entry))["site"]["vehicles"]
    assert vehicle["current_error"] == "The vehicle is not reachable"


async def managed_in_the_sun(
    hass: HomeAssistant, car: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """The current entity and a site limit set up, the car managed to 75 %; the meter exports
    0.6 kW for three minutes (the sun's start at 6 A)."""
    await options_with_site_limit(hass, CURRENT)
    await call(hass, "number", SERVICE_SET_VALUE, ours(hass, "number", car, "target_charge"), 75)
    await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", car, "managed_charging"))
    meter(hass, -0.6)
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance_clock(hass, freezer, timedelta(minutes=3))


async def test_a_raise_held_back_is_made_without_another_reading(
    hass: HomeAssistant, charging: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """The sun grows right after the current was set: the raise waits a minute, and is made
    then although the meter (one that reports only on change) says nothing new."""
    car = charging
    await managed_in_the_sun(hass, car, freezer)
    car.report()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.amps == 6
    await advance_clock(hass, freezer, timedelta(minutes=10))
    meter(hass, -2.0)  # 2 kW more: raised at once (the last change is ten minutes old)
    await hass.async_block_till_done(wait_background_tasks=True)
    raised = car.amps
    assert raised > 6
    meter(hass, -5.0)  # 3 kW more: the raise waits a minute
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.amps == raised
    await advance_clock(hass, freezer, timedelta(seconds=61))
    assert car.amps > raised


async def test_a_refused_current_is_not_asked_again_at_every_reading(
    hass: HomeAssistant,
    charging: FakeTesla,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sun has the car at 6 A and grows, but the other integration refuses the current
    (rate-limited, the car out of reach): with a meter every 5 s it is asked once a minute."""
    car = charging
    await managed_in_the_sun(hass, car, freezer)
    car.report()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.amps == 6
    asked: list[float] = []

    async def refuse(self: ChargeCurrent, value: float) -> None:
        asked.append(value)
        raise HomeAssistantError("429 Too Many Requests")

    monkeypatch.setattr(ChargeCurrent, "async_set_native_value", refuse)
    await advance_clock(hass, freezer, timedelta(minutes=2))
    for reading in range(60):  # five minutes of 5 kW exported
        meter(hass, -5.0 - reading * 0.001)
        await hass.async_block_till_done(wait_background_tasks=True)
        await advance_clock(hass, freezer, timedelta(seconds=5))
    assert 5 <= len(asked) <= 6
    assert car.charging  # the sun's charge goes on at 6 A


async def test_a_lowered_current_is_sent_once_while_the_entity_catches_up(
    hass: HomeAssistant,
    charging: FakeTesla,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wallbox integration shows a new current only at its next poll: the site limit lowers
    the current once, not again at every meter reading until the entity shows it."""
    car = charging
    await options_with_site_limit(hass, CURRENT)
    await start_charging(hass, car, freezer)
    sent: list[float] = []

    async def polled(self: ChargeCurrent, value: float) -> None:
        sent.append(value)  # accepted; the entity shows it later

    monkeypatch.setattr(ChargeCurrent, "async_set_native_value", polled)
    for reading in range(11):  # 5.8 kW of room: 8 A; a meter every 5 s, for 55 s
        meter(hass, 8.0 + 11.0 + reading * 0.001)
        await hass.async_block_till_done(wait_background_tasks=True)
        await advance_clock(hass, freezer, timedelta(seconds=5))
    assert sent == [8]
    await advance_clock(hass, freezer, timedelta(seconds=5))
    meter(hass, 8.0 + 11.0)  # a minute on, still not shown: asked again
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sent == [8, 8]


async def test_without_the_current_entity_the_limit_pauses(
    hass: HomeAssistant, charging: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """The current entity unavailable (its integration reloading): no range to lower within,
    so the car is paused when the room is short of its power."""
    car = charging
    await options_with_site_limit(hass, CURRENT)
    status = await start_charging(hass, car, freezer)
    hass.states.async_set(CURRENT, "unavailable")
    meter(hass, 8.0 + 11.0)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.calls == ["charge_start", "charge_stop"]
    assert state_of(hass, status) == "house_at_limit"


async def test_a_smartcar_account_with_several_cars_has_no_current_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A current entity belongs to one car: an entry with several offers only the site limit,
    and the limit with production and consumption reads the import as their difference."""
    entry = init_integration
    assert len(entry.runtime_data.coordinator.data) > 1
    hass.states.async_set(PV, "4.0", KILOWATTS)
    hass.states.async_set(HOUSE, "1500", WATTS)
    result = await open_solar_step(hass, entry, SOLAR_SOURCE_PV)
    keys = [str(key) for key in result["data_schema"].schema]
    assert CONF_SITE_LIMIT in keys
    assert CONF_CURRENT_ENTITY not in keys
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_PV_POWER_ENTITY: PV,
            CONF_HOUSE_POWER_ENTITY: HOUSE,
            CONF_SOLAR_COMMANDS_PER_DAY: 4,
            CONF_SITE_LIMIT: 17.0,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    site = entry.runtime_data.smart_charging.site
    assert site.settings is not None
    assert site.settings.limit_kw == 17.0
    assert site.power.grid_kw() == pytest.approx(-2.5)  # 1.5 kW used, 4 kW produced
    hass.states.async_set(HOUSE, "unavailable")
    assert site.power.grid_kw() is None


async def test_a_current_entity_that_does_not_exist_is_refused(
    hass: HomeAssistant, charging: FakeTesla
) -> None:
    """A number that is gone (or never was) is not a current entity."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_SOURCE: "none", CONF_SOLAR_SOURCE: SOLAR_SOURCE_GRID}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_GRID_POWER_ENTITY: GRID,
            CONF_SOLAR_COMMANDS_PER_DAY: 4,
            CONF_CURRENT_ENTITY: "number.nothing",
        },
    )
    assert result["errors"] == {CONF_CURRENT_ENTITY: "not_a_current_entity"}


async def test_the_site_limit_without_solar_charging(
    hass: HomeAssistant, charging: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """Solar surplus charging off: the meter serves the limit alone and the plan charges in the
    cheapest hours as without solar (not as late as it can, to leave the day to the sun)."""
    car = charging
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_PRICE_SOURCE: PRICE_SOURCE_ENTITIES, CONF_SOLAR_SOURCE: SOLAR_SOURCE_GRID},
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_ENTITIES: [PRICE_ENTITY]}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_GRID_POWER_ENTITY: GRID,
            CONF_SOLAR_SURPLUS: False,
            CONF_SOLAR_COMMANDS_PER_DAY: 4,
            CONF_SITE_LIMIT: 13.8,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    smart = entry.runtime_data.smart_charging
    assert smart.solar.enabled is False
    assert smart.site.settings is not None
    status = await start_charging(hass, car, freezer)  # the cheap slot, as without solar
    assert "solar_surplus_kw" not in hass.states.get(status).attributes  # type: ignore[union-attr]
    meter(hass, 11.0 + 11.0)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.calls[-1] == "charge_stop"
    assert state_of(hass, status) == "house_at_limit"


async def test_with_a_current_entity_the_sun_starts_the_car_at_its_lowest_current(
    hass: HomeAssistant, charging: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """0.6 kW of surplus starts the car (a tenth of its 4.1 kW at 6 A would do), and the current
    entity then follows the sun from 6 A; no sun at all stops it only after 45 minutes, the
    current entity's delay (by start and stop: 10 minutes)."""
    car = charging
    await options_with_site_limit(hass, CURRENT)
    await call(hass, "number", SERVICE_SET_VALUE, ours(hass, "number", car, "target_charge"), 75)
    await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", car, "managed_charging"))
    status = ours(hass, "sensor", car, "smart_charging_status")
    assert state_of(hass, status) == "waiting_for_sun"
    meter(hass, -0.6)
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance_clock(hass, freezer, timedelta(minutes=3))
    assert car.calls == ["charge_start"]
    car.report()  # charging: the current follows the sun, down to 6 A
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.calls == ["charge_start", "set_charging_amps"]
    assert car.amps == 6
    assert state_of(hass, status) == "solar_charging"
    # A cloud: the car's 4.1 kW all imported. Still charging after 40 minutes, stopped after 45.
    car.report()
    meter(hass, 4.2)
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance_clock(hass, freezer, timedelta(minutes=40))
    assert car.charging
    await advance_clock(hass, freezer, timedelta(minutes=6))
    assert car.calls[-1] == "charge_stop"
    car.report()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, status) == "waiting_for_sun"


async def managed_with_learned_sun(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    hourly_kw: dict[int, float],
) -> FakeTesla:
    """The car with the current entity, the sun learned on the two days before (`hourly_kw`
    by standard time, UTC-8), managed to 75 %; the meter exports 0.6 kW for three minutes."""
    freezer.move_to(FROZEN_NOW)
    # The same price all day: the plan charges last, before the departure.
    hass.states.async_set(PRICE_ENTITY, "0.30", price_attributes([0.30] * 30))
    meter(hass, 1.0)
    car = await async_add_fake_tesla(hass)
    entry = flexcharging_entry(
        car, {CONF_PRICE_SOURCE: PRICE_SOURCE_ENTITIES, CONF_PRICE_ENTITIES: [PRICE_ENTITY]}
    )
    day = learned_day(hourly_kw)
    hass_storage[f"{DOMAIN}.{entry.entry_id}.sun"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.sun",
        "data": {"2026-06-08": day, "2026-06-09": day},
    }
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await managed_in_the_sun(hass, car, freezer)
    return car


async def test_with_a_current_entity_the_learned_sun_holds_the_start_but_not_all_day(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Without a forecast entity, the sunny hours the meter saw on the days before (5.5 kW from
    10:00 UTC, 02:00 standard time) hold a start on 0.6 kW as a forecast's would; once today's
    first of them gave a ninth of that, the rest of today is expected as dull and the car takes
    the sun it has, at its lowest current."""
    car = await managed_with_learned_sun(
        hass, freezer, hass_storage, dict.fromkeys(range(2, 10), 5.5)
    )
    status = ours(hass, "sensor", car, "smart_charging_status")
    waits = hass.states.get(status)
    assert waits is not None
    # No more than the car takes: 3.7 kW until its power is learned.
    assert (waits.state, waits.attributes["solar_waits_for_kw"]) == ("waiting_for_sun", 3.7)
    # 10:00-11:00 UTC, learned sunny, gives 0.6 kW: still waiting until it is over.
    await advance_clock(hass, freezer, FROZEN_NOW.replace(hour=10, minute=59) - dt_util.utcnow())
    assert car.calls == []
    await advance_clock(hass, freezer, timedelta(minutes=4))
    assert car.calls == ["charge_start"]
    car.report()  # charging: at its lowest current, on the sun there is
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.amps == 6
    assert state_of(hass, status) == "solar_charging"


async def test_the_learned_sun_does_not_hold_a_car_whose_phases_are_unknown(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Three hours of 1 kW learned before the departure: taking the lowest current's power each
    hour (the sun's 1 kW, the rest imported) they hold the charge if that is three phases'
    4.1 kW, not if it is one phase's 1.4 kW. Until the car's power per ampere is learned the
    wait assumes one phase: the car takes the 0.6 kW it has now, as without a learned sun."""
    car = await managed_with_learned_sun(
        hass, freezer, hass_storage, dict.fromkeys(range(2, 5), 1.0)
    )
    assert car.calls == ["charge_start"]
    status = hass.states.get(ours(hass, "sensor", car, "smart_charging_status"))
    assert status is not None
    assert "solar_waits_for_kw" not in status.attributes


async def test_with_a_current_entity_a_forecast_holds_the_sun_for_its_best_hours(
    hass: HomeAssistant, charging: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """Sunny hours forecast from 09:30 UTC (6 kW: 5.5 kW after the house) hold the charge:
    0.6 kW now waits for them (the plan stays in the cheap slot, not in the sun)."""
    car = charging
    hass.states.async_set(FORECAST, "30", solcast(FROZEN_NOW.replace(minute=0), [0.5] + [6.0] * 8))
    await options_with_site_limit(hass, CURRENT)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_SOLAR_FORECAST_ENTITY: FORECAST}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await call(hass, "number", SERVICE_SET_VALUE, ours(hass, "number", car, "target_charge"), 75)
    await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", car, "managed_charging"))
    meter(hass, -0.6)
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance_clock(hass, freezer, timedelta(minutes=3))
    assert car.calls == []
    status = hass.states.get(ours(hass, "sensor", car, "smart_charging_status"))
    assert status is not None
    # No more than the car takes: 3.7 kW until its power is learned (it has not charged yet).
    assert (status.state, status.attributes["solar_waits_for_kw"]) == ("waiting_for_sun", 3.7)
    next_start = hass.states.get(ours(hass, "sensor", car, "next_charge_start"))
    assert next_start is not None
    assert next_start.state == CHEAP_START.isoformat()  # the plan is left to the prices
    meter(hass, -5.6)
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance_clock(hass, freezer, timedelta(minutes=3))
    assert car.calls == ["charge_start"]
