"""Solar surplus charging end to end: the options, power sensors set by the test, the emulator.

The power sensors are plain states the test sets (as a meter or inverter integration would);
Home Assistant's clock and the emulator's move together (`advance`). The Model Y charges at
3.7 kW here (16 A on one phase), so the controller starts at 1.48 kW of surplus (40 %) and
stops below 0.74 kW (20 %), a little less in the last three hours before the plan charges.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.flexcharging.const import (
    CONF_FEED_IN_TARIFF,
    CONF_GRID_POWER_ENTITY,
    CONF_HOUSE_POWER_ENTITY,
    CONF_PRICE_SOURCE,
    CONF_PV_POWER_ENTITY,
    CONF_READ_LOCATION,
    CONF_REQUEST_BUDGET,
    CONF_SOLAR_COMMANDS_PER_DAY,
    CONF_SOLAR_FORECAST_ENTITY,
    CONF_SOLAR_SOURCE,
    CONF_SOLAR_SURPLUS,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
    EVENT_CHARGING_DECISION,
    PRICE_SOURCE_NONE,
    SOLAR_SOURCE_GRID,
    SOLAR_SOURCE_PV,
)
from custom_components.flexcharging.diagnostics import async_get_config_entry_diagnostics
from custom_components.flexcharging.smart_charging import SmartChargingManager
from emulator import MODEL_Y_ID
from tests.common import FROZEN_NOW, Emulator, entry_data, setup_integration
from tests.test_smart_charging import (
    COST,
    DECISION,
    NEXT_END,
    NEXT_START,
    STATUS,
    Advance,
    advance,  # noqa: F401 (the fixture)
    advance_to,
    commands,
    manage,
    state_of,
)

GRID = "sensor.grid_power"
PV = "sensor.solar_power"
HOUSE = "sensor.house_power"
WATTS = {"unit_of_measurement": "W", "device_class": "power"}
KILOWATTS = {"unit_of_measurement": "kW", "device_class": "power"}
MINUTE = timedelta(minutes=1)
FORECAST = "sensor.solcast_pv_forecast_forecast_today"

GRID_OPTIONS = {CONF_SOLAR_SOURCE: SOLAR_SOURCE_GRID, CONF_GRID_POWER_ENTITY: GRID}
PV_OPTIONS = {
    CONF_SOLAR_SOURCE: SOLAR_SOURCE_PV,
    CONF_PV_POWER_ENTITY: PV,
    CONF_HOUSE_POWER_ENTITY: HOUSE,
}


def sun(hass: HomeAssistant, source: str, export_kw: float) -> None:
    """Set the power sensors so that `export_kw` is exported (negative: imported).

    The grid meter reads in W; the inverter's production and the house's load in kW and W.
    """
    if source == SOLAR_SOURCE_GRID:
        hass.states.async_set(GRID, str(round(-export_kw * 1000)), WATTS)
    else:
        hass.states.async_set(PV, str(export_kw + 1.0), KILOWATTS)
        hass.states.async_set(HOUSE, "1000", WATTS)


def entry_with(hass: HomeAssistant, options: dict[str, Any]) -> MockConfigEntry:
    """A config entry without prices, with the given solar options."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="FlexCharging",
        unique_id="0f4b9c1e-5a8d-4e2f-9b3a-7c6d5e4f3a21",
        data=entry_data(),
        options={
            CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET,
            CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
            **options,
        },
    )
    entry.add_to_hass(hass)
    return entry


async def start(
    hass: HomeAssistant, emulator: Emulator, options: dict[str, Any], source: str
) -> SmartChargingManager:
    """FlexCharging with solar charging on, the sun not yet out, the Model Y managed to 75 %."""
    emulator.state.patch_vehicle(MODEL_Y_ID, {"charge_power_kw": 3.7})
    sun(hass, source, -0.5)
    entry = entry_with(hass, options)
    await setup_integration(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    await manage(hass, target=75)
    return entry.runtime_data.smart_charging


@pytest.mark.parametrize(
    "options", [GRID_OPTIONS, PV_OPTIONS], ids=["grid_meter", "production_and_consumption"]
)
@pytest.mark.usefixtures("credentials")
async def test_charges_on_the_surplus_and_stops_when_it_goes(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
    options: dict[str, Any],
) -> None:
    """Two minutes of surplus start the car; a lasting shortfall stops it after its minimum
    time on; the plan meanwhile keeps the ready-by target, as late as it can."""
    source = options[CONF_SOLAR_SOURCE]
    events = async_capture_events(hass, EVENT_CHARGING_DECISION)
    smart = await start(hass, frozen_emulator, options, source)
    car = frozen_emulator.state.vehicles[MODEL_Y_ID]

    # 62 % → 75 % at 10 %/h is 1.3 h: planned right before 07:00 local (14:00 UTC), leaving
    # the day before to the sun; no sun yet.
    assert state_of(hass, STATUS) == "waiting_for_sun"
    assert state_of(hass, NEXT_START) == "2026-06-10T12:42:00+00:00"
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.attributes["solar_surplus_kw"] == -0.5

    sun(hass, source, 3.1)
    await hass.async_block_till_done(wait_background_tasks=True)
    sunny_at = dt_util.utcnow()
    await advance_to(advance, sunny_at + MINUTE)
    assert commands(frozen_emulator, "start") == 0  # not yet two minutes
    await advance_to(advance, sunny_at + 2 * MINUTE + 30 * timedelta(seconds=1))
    assert commands(frozen_emulator, "start") == 1
    assert car.charging is True
    assert state_of(hass, STATUS) == "solar_charging"
    assert state_of(hass, DECISION) == "start_solar"
    assert events[-1].data["decision"] == "start_solar"
    assert (events[-1].data["detail"], events[-1].data["kw"]) == ("surplus", 3.1)

    # The car draws 3.7 kW: the meter now shows 0.6 kW imported, the surplus is still 3.1 kW.
    sun(hass, source, 3.1 - 3.7)
    await advance_to(advance, sunny_at + 15 * MINUTE)
    assert car.charging is True
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.attributes["solar_surplus_kw"] == 3.1

    # A cloud: 0.1 kW of sun, 3.6 kW imported. Stopped once it lasted ten minutes.
    sun(hass, source, 0.1 - 3.7)
    await hass.async_block_till_done(wait_background_tasks=True)
    cloud_at = dt_util.utcnow()
    await advance_to(advance, cloud_at + 9 * MINUTE)
    assert car.charging is True
    await advance_to(advance, cloud_at + 10 * MINUTE + 30 * timedelta(seconds=1))
    assert commands(frozen_emulator, "stop") == 1
    assert car.charging is False
    assert state_of(hass, STATUS) == "waiting_for_sun"
    assert state_of(hass, DECISION) == "stop_solar"
    assert (events[-1].data["detail"], events[-1].data["kw"]) == ("surplus", 0.1)
    assert smart.vehicle(MODEL_Y_ID).solar is not None


async def test_the_daily_command_budget_holds(
    hass: HomeAssistant,
    credentials: None,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """Two commands a day: one start and its stop; the next sun waits for the next day."""
    await start(
        hass, frozen_emulator, {**GRID_OPTIONS, CONF_SOLAR_COMMANDS_PER_DAY: 2}, SOLAR_SOURCE_GRID
    )
    sun(hass, SOLAR_SOURCE_GRID, 4.0)
    await advance_to(advance, FROZEN_NOW + 6 * MINUTE)
    assert commands(frozen_emulator, "start") == 1
    # The sensor goes unavailable: no reading is no sun (stopped after the minimum time on).
    hass.states.async_set(GRID, "unavailable", WATTS)
    await advance_to(advance, FROZEN_NOW + 27 * MINUTE)
    assert commands(frozen_emulator, "stop") == 1
    assert state_of(hass, DECISION) == "stop_solar"
    decision = hass.states.get(DECISION)
    assert decision is not None
    assert (decision.attributes["detail"], decision.attributes["kw"]) == ("no_reading", None)

    sun(hass, SOLAR_SOURCE_GRID, 4.0)
    await advance_to(advance, FROZEN_NOW + 60 * MINUTE)
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, STATUS) == "waiting_for_sun"


# --- options ------------------------------------------------------------------------------------


async def first_step(hass: HomeAssistant, entry: MockConfigEntry, source: str) -> Any:
    """The options flow's first step answered: no prices, the given solar source."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_REQUEST_BUDGET: "500",
            CONF_READ_LOCATION: False,
            CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
            CONF_SOLAR_SOURCE: source,
        },
    )


async def open_solar_step(hass: HomeAssistant, entry: MockConfigEntry, source: str) -> Any:
    """The options flow up to the solar step (no prices)."""
    result = await first_step(hass, entry, source)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "solar"
    return result


async def test_options_grid_sensor(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A grid sensor in W or kW is taken; an energy sensor or a missing one is refused."""
    entry = init_integration
    hass.states.async_set(GRID, "-1200", WATTS)
    hass.states.async_set("sensor.grid_energy", "1234", {"unit_of_measurement": "kWh"})
    result = await open_solar_step(hass, entry, SOLAR_SOURCE_GRID)
    flow_id = result["flow_id"]

    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_GRID_POWER_ENTITY: "sensor.grid_energy", CONF_SOLAR_COMMANDS_PER_DAY: 4}
    )
    assert result["errors"] == {CONF_GRID_POWER_ENTITY: "not_a_power_sensor"}
    assert result["description_placeholders"] == {"entity": "sensor.grid_energy"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_GRID_POWER_ENTITY: "sensor.nothing", CONF_SOLAR_COMMANDS_PER_DAY: 4}
    )
    assert result["errors"] == {CONF_GRID_POWER_ENTITY: "power_entity_missing"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_GRID_POWER_ENTITY: GRID, CONF_SOLAR_COMMANDS_PER_DAY: 6}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options == {
        CONF_REQUEST_BUDGET: 500,
        CONF_READ_LOCATION: False,
        CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
        CONF_SOLAR_SOURCE: SOLAR_SOURCE_GRID,
        CONF_GRID_POWER_ENTITY: GRID,
        CONF_SOLAR_SURPLUS: True,
        CONF_SOLAR_COMMANDS_PER_DAY: 6,
        CONF_FEED_IN_TARIFF: 0.0,
    }
    assert entry.state is ConfigEntryState.LOADED
    solar = entry.runtime_data.smart_charging.solar
    assert solar.entities == [GRID]
    assert solar.settings.commands_per_day == 6
    assert solar.surplus(0.0) == pytest.approx(1.2)

    # Shown again with the sensor chosen; turning solar off forgets it.
    result = await open_solar_step(hass, entry, SOLAR_SOURCE_GRID)
    schema = result["data_schema"].schema
    marker = next(key for key in schema if key == CONF_GRID_POWER_ENTITY)
    assert marker.description == {"suggested_value": GRID}
    await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_GRID_POWER_ENTITY: GRID, CONF_SOLAR_COMMANDS_PER_DAY: 6}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await first_step(hass, entry, "none")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert CONF_GRID_POWER_ENTITY not in entry.options
    assert entry.runtime_data.smart_charging.solar.enabled is False


async def test_options_production_and_consumption(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Production and consumption must be two different power sensors."""
    entry = init_integration
    hass.states.async_set(PV, "4.5", KILOWATTS)
    hass.states.async_set(HOUSE, "800", WATTS)
    result = await open_solar_step(hass, entry, SOLAR_SOURCE_PV)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_PV_POWER_ENTITY: PV, CONF_HOUSE_POWER_ENTITY: PV, CONF_SOLAR_COMMANDS_PER_DAY: 4},
    )
    assert result["errors"] == {CONF_HOUSE_POWER_ENTITY: "same_power_entity"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_PV_POWER_ENTITY: PV, CONF_HOUSE_POWER_ENTITY: HOUSE, CONF_SOLAR_COMMANDS_PER_DAY: 4},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    solar = entry.runtime_data.smart_charging.solar
    assert solar.entities == [PV, HOUSE]
    assert solar.surplus(0.0) == pytest.approx(3.7)
    assert solar.surplus(3.7) == pytest.approx(7.4)


# --- the solar forecast -------------------------------------------------------------------------


def solcast(start: datetime, kw: list[float]) -> dict[str, Any]:
    """Solcast's forecast attributes: half-hour periods from `start`."""
    return {
        "detailedForecast": [
            {"period_start": (start + i * 30 * MINUTE).isoformat(), "pv_estimate": value}
            for i, value in enumerate(kw)
        ]
    }


@pytest.mark.usefixtures("credentials")
async def test_a_forecast_moves_the_plan_into_the_sun(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """The plan charges in the hours the forecast covers the car best, not just before the
    ready-by time; the sun starts the car only with a surplus as good as those hours'."""
    # 3 kW forecast 10:00–12:00 UTC (less the house's 0.5 kW: 2.5 kW, two thirds of the car),
    # 1 kW after it (0.5 kW: an eighth).
    sunny_from = FROZEN_NOW.replace(hour=10, minute=0)
    hass.states.async_set(FORECAST, "12.5", solcast(sunny_from, [3.0] * 4 + [1.0] * 4))
    await start(
        hass,
        frozen_emulator,
        {**GRID_OPTIONS, CONF_SOLAR_FORECAST_ENTITY: FORECAST, CONF_FEED_IN_TARIFF: 0.08},
        SOLAR_SOURCE_GRID,
    )
    # 1.3 h in the two sunny hours, as late in them as it fits (equal prices: latest first).
    assert state_of(hass, NEXT_START) == "2026-06-10T10:42:00+00:00"
    assert state_of(hass, NEXT_END) == "2026-06-10T12:00:00+00:00"
    # Without grid prices a third of that energy has no known price: no cost is claimed.
    assert state_of(hass, COST) == "unknown"

    # 2 kW of surplus would start the car without a forecast (1.48 kW), not before the sunny
    # hours' 2.5 kW; 2.6 kW does.
    sun(hass, SOLAR_SOURCE_GRID, 2.0)
    await advance_to(advance, FROZEN_NOW + 5 * MINUTE)
    assert commands(frozen_emulator, "start") == 0
    status = hass.states.get(STATUS)
    assert status is not None
    assert (status.state, status.attributes["solar_waits_for_kw"]) == ("waiting_for_sun", 2.5)
    sun(hass, SOLAR_SOURCE_GRID, 2.6)
    await advance_to(advance, FROZEN_NOW + 8 * MINUTE)
    assert commands(frozen_emulator, "start") == 1
    status = hass.states.get(STATUS)
    assert status is not None
    assert (status.state, status.attributes.get("solar_waits_for_kw")) == ("solar_charging", None)
    # Diagnostics show the sun's controller (called directly: the frozen clock and a client).
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    (solar,) = [
        vehicle["smart_charging"]["solar"]
        for vehicle in diagnostics["vehicles"]
        if vehicle["smart_charging"]["settings"]["managed"]
    ]
    assert (solar["wants"], solar["reason"], solar["commands"]) == (True, "surplus", 2)
    # The meter still exports 2.6 kW (not updated for the car): the car's 3.7 kW on top.
    assert solar["surplus_kw"] == pytest.approx(2.6 + 3.7)
    # A forecast that no longer reads: the next plan (at the latest in 15 minutes) is made as
    # without one.
    hass.states.async_set(FORECAST, "12.5", {"detailedForecast": "soon"})
    await advance_to(advance, FROZEN_NOW + 25 * MINUTE)
    assert state_of(hass, NEXT_END) == "2026-06-10T14:00:00+00:00"


MALFORMED_FORECASTS = pytest.mark.parametrize(
    "attributes",
    [
        {"detailedForecast": [{"period_start": FROZEN_NOW.isoformat(), "pv_estimate": None}]},
        {"detailedForecast": [{"period_start": FROZEN_NOW.isoformat()}]},
        {"watts": {FROZEN_NOW.isoformat(): "n/a"}},
    ],
    ids=["pv_estimate_none", "no_pv_estimate", "watts_not_a_number"],
)


@MALFORMED_FORECASTS
@pytest.mark.usefixtures("credentials")
async def test_a_malformed_forecast_leaves_the_plan_to_the_prices(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    attributes: dict[str, Any],
) -> None:
    """A forecast with a value that does not read: the plan is made from the prices alone."""
    hass.states.async_set(FORECAST, "12.5", attributes)
    await start(
        hass,
        frozen_emulator,
        {**GRID_OPTIONS, CONF_SOLAR_FORECAST_ENTITY: FORECAST, CONF_FEED_IN_TARIFF: 0.08},
        SOLAR_SOURCE_GRID,
    )
    assert state_of(hass, NEXT_START) == "2026-06-10T12:42:00+00:00"
    assert state_of(hass, NEXT_END) == "2026-06-10T14:00:00+00:00"


@MALFORMED_FORECASTS
async def test_options_refuse_a_malformed_forecast(
    hass: HomeAssistant, init_integration: MockConfigEntry, attributes: dict[str, Any]
) -> None:
    """The options step says the entity has no forecast it can read (not "Unknown error")."""
    hass.states.async_set(GRID, "-1200", WATTS)
    hass.states.async_set(FORECAST, "12.5", attributes)
    result = await open_solar_step(hass, init_integration, SOLAR_SOURCE_GRID)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_GRID_POWER_ENTITY: GRID,
            CONF_SOLAR_COMMANDS_PER_DAY: 4,
            CONF_FEED_IN_TARIFF: 0.07,
            CONF_SOLAR_FORECAST_ENTITY: FORECAST,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOLAR_FORECAST_ENTITY: "no_forecast_found"}
    assert result["description_placeholders"] == {"entity": FORECAST}
    assert CONF_SOLAR_FORECAST_ENTITY not in init_integration.options


async def test_options_forecast(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A forecast entity must list a forecast; with one, it and the tariff are kept."""
    entry = init_integration
    hass.states.async_set(GRID, "-1200", WATTS)
    hass.states.async_set("sensor.sun_hours", "7", {"unit_of_measurement": "h"})
    hass.states.async_set(FORECAST, "12.5", solcast(FROZEN_NOW, [2.0, 3.0]))
    result = await open_solar_step(hass, entry, SOLAR_SOURCE_GRID)
    answer = {
        CONF_GRID_POWER_ENTITY: GRID,
        CONF_SOLAR_COMMANDS_PER_DAY: 4,
        CONF_FEED_IN_TARIFF: 0.07,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**answer, CONF_SOLAR_FORECAST_ENTITY: "sensor.sun_hours"}
    )
    assert result["errors"] == {CONF_SOLAR_FORECAST_ENTITY: "no_forecast_found"}
    assert result["description_placeholders"] == {"entity": "sensor.sun_hours"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**answer, CONF_SOLAR_FORECAST_ENTITY: FORECAST}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_SOLAR_FORECAST_ENTITY] == FORECAST
    assert entry.options[CONF_FEED_IN_TARIFF] == 0.07
    solar = entry.runtime_data.smart_charging.solar
    assert solar.forecast_entity == FORECAST

    # Cleared again: forgotten.
    result = await open_solar_step(hass, entry, SOLAR_SOURCE_GRID)
    result = await hass.config_entries.options.async_configure(result["flow_id"], answer)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert CONF_SOLAR_FORECAST_ENTITY not in entry.options
