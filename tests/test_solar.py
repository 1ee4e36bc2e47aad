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
    storage_key,
)
from custom_components.flexcharging.diagnostics import async_get_config_entry_diagnostics
from custom_components.flexcharging.smart_charging import SmartChargingManager, house, inputs
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


def entry_with(
    hass: HomeAssistant, options: dict[str, Any], entry_id: str | None = None
) -> MockConfigEntry:
    """A config entry without prices, with the given solar options."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=entry_id,
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
    hass: HomeAssistant,
    emulator: Emulator,
    options: dict[str, Any],
    source: str,
    entry_id: str | None = None,
) -> SmartChargingManager:
    """FlexCharging with solar charging on, the sun not yet out, the Model Y managed to 75 %."""
    emulator.state.patch_vehicle(MODEL_Y_ID, {"charge_power_kw": 3.7})
    sun(hass, source, -0.5)
    entry = entry_with(hass, options, entry_id)
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


async def started_by_the_sun(hass: HomeAssistant, emulator: Emulator, step: Advance) -> None:
    """Two solar commands a day; 4 kW of surplus has started the car (six minutes on)."""
    await start(hass, emulator, {**GRID_OPTIONS, CONF_SOLAR_COMMANDS_PER_DAY: 2}, SOLAR_SOURCE_GRID)
    sun(hass, SOLAR_SOURCE_GRID, 4.0)
    await advance_to(step, FROZEN_NOW + 6 * MINUTE)
    assert commands(emulator, "start") == 1


async def test_the_daily_command_budget_holds(
    hass: HomeAssistant,
    credentials: None,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """Two commands a day: one start and its stop; the next sun waits for the next day."""
    await started_by_the_sun(hass, frozen_emulator, advance)
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


async def reload(hass: HomeAssistant) -> None:
    """Reload the entry, as saving the options or a restart of Home Assistant does."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.usefixtures("credentials")
async def test_a_restart_keeps_a_solar_charge_and_its_budget(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """A reload while the sun charges the car neither stops it nor renews the day's budget."""
    await started_by_the_sun(hass, frozen_emulator, advance)
    sun(hass, SOLAR_SOURCE_GRID, 4.0 - 3.7)  # the car draws 3.7 kW of the 4
    await advance_to(advance, FROZEN_NOW + 30 * MINUTE)
    await reload(hass)
    await advance_to(advance, FROZEN_NOW + 40 * MINUTE)
    assert commands(frozen_emulator, "stop") == 0
    assert state_of(hass, STATUS) == "solar_charging"

    # A cloud stops it (the stop was reserved); the day's two commands are spent, also after
    # another restart.
    sun(hass, SOLAR_SOURCE_GRID, -0.5 - 3.7)
    await advance_to(advance, FROZEN_NOW + 60 * MINUTE)
    assert commands(frozen_emulator, "stop") == 1
    await reload(hass)
    sun(hass, SOLAR_SOURCE_GRID, 4.0)
    await advance_to(advance, FROZEN_NOW + 90 * MINUTE)
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, STATUS) == "waiting_for_sun"


@pytest.mark.usefixtures("credentials")
async def test_a_wish_changed_at_a_meter_reading_is_saved(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
    hass_storage: dict[str, Any],
) -> None:
    """The sun's start and its commands are written to storage within seconds, not only at an
    unload: Home Assistant stopped without one (a crash, a power cut) finds them."""
    await started_by_the_sun(hass, frozen_emulator, advance)
    await advance_to(advance, FROZEN_NOW + 7 * MINUTE)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    stored = hass_storage[storage_key(entry.entry_id, "smart_charging")]["data"]
    solar = stored["vehicles"][MODEL_Y_ID]["solar"]
    assert (solar["wants"], solar["commands"]) == (True, 2)  # the start and its reserved stop


@pytest.mark.usefixtures("credentials")
async def test_a_solar_charge_stopped_during_a_restart_is_not_started_again(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """The sun had the car charging; it stopped while Home Assistant was down and the sun is
    gone: after the restart the car is not started (the sun's wish ended with the charge)."""
    await start(hass, frozen_emulator, GRID_OPTIONS, SOLAR_SOURCE_GRID)
    sun(hass, SOLAR_SOURCE_GRID, 4.0)
    await advance_to(advance, FROZEN_NOW + 6 * MINUTE)
    assert commands(frozen_emulator, "start") == 1
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert await hass.config_entries.async_unload(entry.entry_id)
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"charging": False})
    sun(hass, SOLAR_SOURCE_GRID, -0.5)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance_to(advance, FROZEN_NOW + 30 * MINUTE)
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, STATUS) == "waiting_for_sun"


@pytest.mark.usefixtures("credentials")
async def test_a_restart_whose_first_read_fails_keeps_the_solar_charge(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
) -> None:
    """After the restart the car's first read fails (asleep): its charging is unknown, so the
    sun's wish waits for a read that knows instead of ending: no stop."""
    await started_by_the_sun(hass, frozen_emulator, advance)
    sun(hass, SOLAR_SOURCE_GRID, 4.0 - 3.7)
    await advance_to(advance, FROZEN_NOW + 30 * MINUTE)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert await hass.config_entries.async_unload(entry.entry_id)
    frozen_emulator.state.add_fault("http_409_asleep", vehicle_id=MODEL_Y_ID, path="/signals")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    for reading in range(20):  # a meter reading a minute
        sun(hass, SOLAR_SOURCE_GRID, 4.0 - 3.7 + reading * 0.001)
        await hass.async_block_till_done(wait_background_tasks=True)
        await advance(MINUTE)
    assert commands(frozen_emulator, "stop") == 0
    assert state_of(hass, STATUS) == "solar_charging"


@pytest.mark.usefixtures("credentials")
async def test_a_moment_away_does_not_stop_a_solar_charge(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One evaluation sees the car charging on the sun away from home (GPS at the zone's edge):
    back home a moment later it charges on, no stop, no start, no command counted."""
    smart = await start(hass, frozen_emulator, GRID_OPTIONS, SOLAR_SOURCE_GRID)
    sun(hass, SOLAR_SOURCE_GRID, 4.0)
    await advance_to(advance, FROZEN_NOW + 6 * MINUTE)
    sun(hass, SOLAR_SOURCE_GRID, 4.0 - 3.7)
    await advance_to(advance, FROZEN_NOW + 30 * MINUTE)
    assert commands(frozen_emulator, "start") == 1
    with monkeypatch.context() as away:
        for module in (house, inputs):
            away.setattr(module, "at_home", lambda *_: False)
        smart.schedule_evaluation(MODEL_Y_ID)
        await hass.async_block_till_done(wait_background_tasks=True)
    sun(hass, SOLAR_SOURCE_GRID, 4.0 - 3.7 + 0.001)  # the next reading: home again
    await hass.async_block_till_done(wait_background_tasks=True)
    smart.schedule_evaluation(MODEL_Y_ID)  # and the car's next report a moment later
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance_to(advance, FROZEN_NOW + 40 * MINUTE)
    assert (commands(frozen_emulator, "start"), commands(frozen_emulator, "stop")) == (1, 0)
    solar = smart.vehicle(MODEL_Y_ID).solar
    assert solar is not None
    assert solar.commands == 2
    assert state_of(hass, STATUS) == "solar_charging"


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


async def waits_for_the_sunny_hours(
    hass: HomeAssistant, emulator: Emulator, advance_both: Advance
) -> None:
    """2 kW of surplus does not start the car while the plan's sunny hours promise 2.5 kW (it
    says so); 2.6 kW does."""
    sun(hass, SOLAR_SOURCE_GRID, 2.0)
    await advance_to(advance_both, FROZEN_NOW + 5 * MINUTE)
    assert commands(emulator, "start") == 0
    status = hass.states.get(STATUS)
    assert status is not None
    assert (status.state, status.attributes["solar_waits_for_kw"]) == ("waiting_for_sun", 2.5)
    sun(hass, SOLAR_SOURCE_GRID, 2.6)
    await advance_to(advance_both, FROZEN_NOW + 8 * MINUTE)
    assert commands(emulator, "start") == 1


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
    await waits_for_the_sunny_hours(hass, frozen_emulator, advance)
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


def learned_day(hourly_kw: dict[int, float], night_kw: float = -0.3) -> dict[str, list[float]]:
    """A day of the sun learned from the meter, as stored: each local hour's mean surplus."""
    kw = [hourly_kw.get(hour, night_kw) for hour in range(24)]
    return {"energy": [value * 3600 for value in kw], "seconds": [3600.0] * 24}


@pytest.mark.usefixtures("credentials")
async def test_the_sun_learned_from_the_meter_moves_the_plan_into_it(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
    hass_storage: dict[str, Any],
) -> None:
    """Without a forecast entity, the last days' surplus (stored, read after a restart) is what
    the plan expects today, and a start on the sun waits for the best those hours gave: the
    same plan and start bar as with a forecast of that sun."""
    # Yesterday 03:00-05:00 summer time (UTC-7; stored by standard time, 02:00-04:00) exported
    # 2.5 kW, then 0.5 kW for two hours: the forecast of
    # test_a_forecast_moves_the_plan_into_the_sun less its house's 0.5 kW. The day before,
    # 1.5 kW: the plan still prefers those hours (2.0 kW on average), and the start waits for
    # their best, 2.5 kW (2.0 kW does not start the car).
    entry_id = "sun-learned"
    hass_storage[f"{DOMAIN}.{entry_id}.sun"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry_id}.sun",
        "data": {
            "2026-06-08": learned_day({2: 1.5, 3: 1.5, 4: 0.5, 5: 0.5}),
            "2026-06-09": learned_day({2: 2.5, 3: 2.5, 4: 0.5, 5: 0.5}),
        },
    }
    options = {**GRID_OPTIONS, CONF_FEED_IN_TARIFF: 0.08}
    await start(hass, frozen_emulator, options, SOLAR_SOURCE_GRID, entry_id)
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["sun"] == {
        "forecast_periods": 0,
        "learned_days": ["2026-06-08", "2026-06-09"],
    }
    # Without it the plan would charge 12:42-14:00 (test_a_malformed_forecast_...).
    assert state_of(hass, NEXT_START) == "2026-06-10T10:42:00+00:00"
    assert state_of(hass, NEXT_END) == "2026-06-10T12:00:00+00:00"
    await waits_for_the_sunny_hours(hass, frozen_emulator, advance)


@pytest.mark.usefixtures("credentials")
async def test_the_meter_teaches_the_sun_and_it_is_stored(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    advance: Advance,  # noqa: F811 (the fixture)
    hass_storage: dict[str, Any],
) -> None:
    """Each reading counts until the next, per hour of standard time (02:30 summer time is 01:30
    there), also while the meter is silent (it is read again every 15 minutes); the car's own
    draw counts as surplus (it would otherwise be exported). Written at most every 15 minutes,
    and at once by a reload, which reads it back."""
    await start(hass, frozen_emulator, GRID_OPTIONS, SOLAR_SOURCE_GRID)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    key = f"{DOMAIN}.{entry.entry_id}.sun"
    # 02:30-03:00 local: 0.3 kW exported, then 0.4 kW (too little to start the car on the sun);
    # from 03:15 the car charges (3.7 kW, started by the user) on the same 0.4 kW of sun: the
    # meter imports 3.3 kW and says nothing more until past 04:00.
    sun(hass, SOLAR_SOURCE_GRID, 0.3)
    await advance_to(advance, FROZEN_NOW + 15 * MINUTE)
    sun(hass, SOLAR_SOURCE_GRID, 0.4)
    await advance_to(advance, FROZEN_NOW + 45 * MINUTE)
    assert commands(frozen_emulator, "start") == 0
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.2024_tesla_model_y_charging"}, blocking=True
    )
    sun(hass, SOLAR_SOURCE_GRID, 0.4 - 3.7)
    await advance_to(advance, FROZEN_NOW + 95 * MINUTE)
    assert commands(frozen_emulator, "start") == 1
    stored = hass_storage[key]["data"]["2026-06-10"]
    assert stored["seconds"][1] == pytest.approx(1800, abs=60)
    assert stored["energy"][1] / stored["seconds"][1] == pytest.approx(
        (15 * 0.3 + 15 * 0.4) / 30, abs=0.05
    )
    # A reading at 04:05 is learned at once but not written (the last write was at 04:00 at
    # the latest: writes follow readings by 15 minutes, and all came on the quarter hour).
    sun(hass, SOLAR_SOURCE_GRID, 0.41 - 3.7)
    await hass.async_block_till_done(wait_background_tasks=True)
    learned = entry.runtime_data.smart_charging.solar.history.days[FROZEN_NOW.date()]
    stored = hass_storage[key]["data"]["2026-06-10"]
    assert sum(stored["seconds"]) <= sum(learned.seconds) - 5 * 60 + 1
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # 03:00-04:00, the meter silent since 03:15: the sun's 0.4 kW throughout.
    stored = hass_storage[key]["data"]["2026-06-10"]
    assert stored["seconds"][2] == pytest.approx(3600, abs=60)
    assert stored["energy"][2] / stored["seconds"][2] == pytest.approx(0.4, abs=0.05)
    history = entry.runtime_data.smart_charging.solar.history
    assert history.days[FROZEN_NOW.date()].seconds[2] == pytest.approx(3600, abs=60)
