"""Charging sessions end to end: a plug-in to unplug against the emulator, at known prices.

Home Assistant's clock and the emulator's move together. The test time zone is US/Pacific; the
frozen start is 2026-06-10 09:30 UTC. Prices (EUR/kWh, from a price sensor): 09:00 .30,
10:00 .25, 11:00 .05, 12:00 .06, then .40. The Model Y (75 kWh, 11 kW, 62 %) is plugged in at
home from the start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.components.sensor import ATTR_LAST_RESET, ATTR_STATE_CLASS
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.flexcharging.const import (
    CONF_OFFPEAK_PRICE,
    CONF_PEAK_PRICE,
    CONF_PRICE_ENTITIES,
    CONF_PRICE_SOURCE,
    CONF_REQUEST_BUDGET,
    CONF_WEEKDAY_PEAK_END,
    CONF_WEEKDAY_PEAK_START,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
    PRICE_SOURCE_ENTITIES,
    PRICE_SOURCE_SCHEDULE,
)
from emulator import DEFAULT_APP, MODEL_Y_ID, ledger_cost
from tests.common import (
    CREDENTIAL_ID,
    FROZEN_NOW,
    SMARTCAR_VARIANTS,
    Emulator,
    entry_data,
    setup_integration,
)

type Advance = Callable[[timedelta], Awaitable[None]]

PRICE_ENTITY = "sensor.electricity_price"
VEHICLE = "2024_tesla_model_y"
CHARGING_SWITCH = f"switch.{VEHICLE}_charging"
ENERGY = f"sensor.{VEHICLE}_energy_charged_at_home"
MONTH_COST = f"sensor.{VEHICLE}_charging_cost_this_month"
LAST_COST = f"sensor.{VEHICLE}_last_charging_session_cost"
LAST_SAVING = f"sensor.{VEHICLE}_last_charging_session_saving"
HOUR = timedelta(hours=1)
PRICE_START = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
PRICES = [0.30, 0.25, 0.05, 0.06] + [0.40] * 26


def price_attributes() -> dict[str, Any]:
    """The price sensor's attributes in the generic `{start, end, price}` format."""
    return {
        "unit_of_measurement": "EUR/kWh",
        "prices": [
            {
                "start": (PRICE_START + i * HOUR).isoformat(),
                "end": (PRICE_START + (i + 1) * HOUR).isoformat(),
                "price": price,
            }
            for i, price in enumerate(PRICES)
        ],
    }


@pytest.fixture
def entry(hass: HomeAssistant, frozen_emulator: Emulator, credentials: None) -> MockConfigEntry:
    """The config entry with the price sensor as its price source (credentials stored)."""
    hass.states.async_set(PRICE_ENTITY, "0.30", price_attributes())
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="FlexCharging",
        unique_id="0f4b9c1e-5a8d-4e2f-9b3a-7c6d5e4f3a21",
        data=entry_data(),
        options={
            CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET,
            CONF_PRICE_SOURCE: PRICE_SOURCE_ENTITIES,
            CONF_PRICE_ENTITIES: [PRICE_ENTITY],
        },
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def advance(frozen_emulator: Emulator, advance_time: Advance) -> Advance:
    """Move the emulator's clock and Home Assistant's together."""

    async def _advance(delta: timedelta) -> None:
        frozen_emulator.state.advance(delta.total_seconds())
        await advance_time(delta)

    return _advance


async def advance_to(advance: Advance, moment: datetime) -> None:
    """Move both clocks to `moment`, a minute at a time (timers fire as they would)."""
    while (left := moment - dt_util.utcnow()) > timedelta(0):
        await advance(min(left, timedelta(minutes=1)))


async def switch(hass: HomeAssistant, service: str) -> None:
    """Turn the Model Y's charging switch on or off, as a user does."""
    await hass.services.async_call(
        SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: CHARGING_SWITCH}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)


def value(hass: HomeAssistant, entity_id: str) -> float:
    """A sensor's numeric state."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def charge_one_session(
    hass: HomeAssistant, entry: MockConfigEntry, emulator: Emulator, advance: Advance
) -> None:
    """Plugged in since 09:30; charge 11:00-12:00 (the .05 hour); unplug at 13:00."""
    await advance_to(advance, PRICE_START + 2 * HOUR)
    await switch(hass, SERVICE_TURN_ON)
    await advance_to(advance, PRICE_START + 3 * HOUR)
    await switch(hass, SERVICE_TURN_OFF)
    await advance_to(advance, PRICE_START + 4 * HOUR)
    emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False})
    await entry.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.usefixtures("frozen_emulator", "credentials", "connected_fleet")
@pytest.mark.parametrize("variant", ["documented", "no_energy_added"])
async def test_session_from_plug_in_to_unplug(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    entry: MockConfigEntry,
    advance: Advance,
    variant: str,
) -> None:
    """The session's energy, cost at the hour it charged in, and saving against at once."""
    frozen_emulator.state.update_options(SMARTCAR_VARIANTS[variant])
    await setup_integration(hass, entry)
    assert value(hass, ENERGY) == 0
    assert value(hass, MONTH_COST) == 0
    assert hass.states.get(LAST_COST).state == "unknown"
    car = frozen_emulator.state.vehicles[MODEL_Y_ID]
    soc_start = car.soc

    await charge_one_session(hass, entry, frozen_emulator, advance)

    # The truth, the emulator's ledger: an hour at 11 kW, 11:00-12:00 at .05.
    slots = [
        (PRICE_START + i * HOUR, PRICE_START + (i + 1) * HOUR, p) for i, p in enumerate(PRICES)
    ]
    truth_kwh, truth_cost = ledger_cost(car.ledger, slots, FROZEN_NOW, PRICE_START + 4 * HOUR)
    assert truth_kwh == pytest.approx(11.0)
    assert truth_cost == pytest.approx(0.55)
    if variant == "documented":
        energy, source = 11.0, "energy_added"
    else:
        # No counter: the reported (whole) levels times the capacity.
        reading = car.reading
        assert reading is not None
        energy, source = (reading.soc - round(soc_start)) * 75 / 100, "state_of_charge"
    assert value(hass, ENERGY) == pytest.approx(energy)
    assert value(hass, LAST_COST) == pytest.approx(energy * 0.05)
    # Within 1 % of the truth with the car's counter; whole levels are off by up to 0.75 kWh.
    assert value(hass, LAST_COST) == pytest.approx(
        truth_cost, rel=0.01 if variant == "documented" else 0.07
    )
    assert value(hass, MONTH_COST) == pytest.approx(energy * 0.05)
    # At once from plug-in (09:30) at 11 kW: half at .30 (09:30-10:00), the rest at .25.
    hours = energy / 11
    reference = 11 * 0.5 * 0.30 + 11 * (hours - 0.5) * 0.25
    assert value(hass, LAST_SAVING) == pytest.approx(reference - energy * 0.05)
    last = hass.states.get(LAST_COST)
    assert last.attributes[ATTR_UNIT_OF_MEASUREMENT] == "EUR"
    assert last.attributes["energy_source"] == source
    assert last.attributes["started_at"] == FROZEN_NOW
    assert last.attributes["ended_at"] == PRICE_START + 4 * HOUR
    assert last.attributes["soc_start"] == round(soc_start)

    session = entry.runtime_data.sessions.last_session(MODEL_Y_ID)
    assert session is not None
    if variant == "documented":
        # When it charged, within the second the commands took (whole levels cannot say).
        assert abs(session.charges[0].start - (PRICE_START + 2 * HOUR)) < timedelta(seconds=1)
        assert abs(session.charges[-1].end - (PRICE_START + 3 * HOUR)) < timedelta(seconds=1)


@pytest.mark.usefixtures("frozen_emulator", "credentials", "connected_fleet")
async def test_energy_sensor_is_fit_for_the_energy_dashboard(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    entry: MockConfigEntry,
    advance: Advance,
) -> None:
    """kWh, energy, total increasing; the monthly cost a total that resets each month."""
    await setup_integration(hass, entry)
    energy = hass.states.get(ENERGY)
    assert energy.attributes[ATTR_DEVICE_CLASS] == "energy"
    assert energy.attributes[ATTR_STATE_CLASS] == "total_increasing"
    assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    cost = hass.states.get(MONTH_COST)
    assert cost.attributes[ATTR_DEVICE_CLASS] == "monetary"
    assert cost.attributes[ATTR_STATE_CLASS] == "total"
    assert cost.attributes[ATTR_UNIT_OF_MEASUREMENT] == "EUR"
    # 2026-06-01 00:00 in US/Pacific
    assert datetime.fromisoformat(cost.attributes[ATTR_LAST_RESET]) == datetime(
        2026, 6, 1, 7, 0, tzinfo=UTC
    )

    # While it charges, the energy grows (the dashboard sees it before the unplug).
    await advance_to(advance, PRICE_START + 2 * HOUR)
    await switch(hass, SERVICE_TURN_ON)
    await advance_to(advance, PRICE_START + 2 * HOUR + 30 * timedelta(minutes=1))
    await entry.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert value(hass, ENERGY) == pytest.approx(5.5)
    assert value(hass, MONTH_COST) == pytest.approx(5.5 * 0.05)


@pytest.mark.usefixtures("frozen_emulator", "credentials", "connected_fleet")
async def test_a_restart_continues_the_session(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    entry: MockConfigEntry,
    advance: Advance,
) -> None:
    """Reloaded mid-session: the stored session goes on; totals and history are kept."""
    await setup_integration(hass, entry)
    await advance_to(advance, PRICE_START + 2 * HOUR)
    await switch(hass, SERVICE_TURN_ON)
    await advance_to(advance, PRICE_START + 3 * HOUR)
    await switch(hass, SERVICE_TURN_OFF)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert value(hass, ENERGY) == pytest.approx(11.0)
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False})
    await entry.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert value(hass, LAST_COST) == pytest.approx(0.55)
    assert hass.states.get(LAST_COST).attributes["started_at"] == FROZEN_NOW

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert value(hass, ENERGY) == pytest.approx(11.0)
    assert value(hass, LAST_COST) == pytest.approx(0.55)


@pytest.fixture
async def one_session(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    entry: MockConfigEntry,
    advance: Advance,
) -> MockConfigEntry:
    """The entry after the Model Y's session of 11 kWh at .05 (plugged 09:30, unplugged 13:00)."""
    await setup_integration(hass, entry)
    await charge_one_session(hass, entry, frozen_emulator, advance)
    return entry


async def get_sessions(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    """Call `flexcharging.get_sessions` and return the sessions it answered with."""
    response = await hass.services.async_call(
        DOMAIN, "get_sessions", data, blocking=True, return_response=True
    )
    assert response is not None
    sessions = response["sessions"]
    assert isinstance(sessions, list)
    return sessions


def model_y_device(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The Model Y's device id."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, MODEL_Y_ID), entry.entry_id)
    assert device is not None
    return device.id


async def test_get_sessions_returns_the_period(
    hass: HomeAssistant, one_session: MockConfigEntry
) -> None:
    """By vehicle, by entry or all; only the sessions that overlap the period."""
    by_vehicle = await get_sessions(hass, device_id=model_y_device(hass, one_session))
    assert len(by_vehicle) == 1
    session = by_vehicle[0]
    assert session["vehicle"] == "2024 Tesla Model Y"
    assert session["started_at"] == FROZEN_NOW.isoformat()
    assert session["ended_at"] == (PRICE_START + 4 * HOUR).isoformat()
    assert session["energy_kwh"] == pytest.approx(11.0)
    assert session["energy_source"] == "energy_added"
    assert session["cost"] == pytest.approx(0.55)
    assert session["saving"] == pytest.approx(3.025 - 0.55)
    assert session["currency"] == "EUR"
    assert session["charges"][0]["energy_kwh"] > 0
    assert await get_sessions(hass, config_entry_id=one_session.entry_id) == by_vehicle
    assert await get_sessions(hass) == by_vehicle
    # Times without a zone are Home Assistant's (US/Pacific): 06:00 there is 13:00 UTC.
    assert await get_sessions(hass, start="2026-06-10 05:59:00", end="2026-06-11 00:00:00") == (
        by_vehicle
    )
    assert await get_sessions(hass, start="2026-06-10 06:00:00") == []
    assert await get_sessions(hass, end=FROZEN_NOW.isoformat()) == []


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"start": "2026-06-10 12:00:00", "end": "2026-06-10 12:00:00"}, "invalid_period"),
        ({"device_id": "no-such-device"}, "service_device_not_found"),
        ({"config_entry_id": "no-such-entry"}, "unknown_config_entry"),
    ],
)
async def test_get_sessions_refuses_bad_input(
    hass: HomeAssistant, one_session: MockConfigEntry, data: dict[str, Any], key: str
) -> None:
    """Bad input: a translated validation error, not a stack trace."""
    with pytest.raises(ServiceValidationError) as err:
        await get_sessions(hass, **data)
    assert err.value.translation_key == key


async def test_get_sessions_of_a_device_that_is_no_vehicle(
    hass: HomeAssistant, one_session: MockConfigEntry
) -> None:
    """The account's webhook device is ours but holds no sessions: said so, not an empty list."""
    registry = dr.async_get(hass)
    vehicles = set(one_session.runtime_data.coordinator.data)
    webhook = next(
        device
        for device in dr.async_entries_for_config_entry(registry, one_session.entry_id)
        if not any(identifier in vehicles for _, identifier in device.identifiers)
    )
    with pytest.raises(ServiceValidationError) as err:
        await get_sessions(hass, device_id=webhook.id)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "not_a_vehicle"


async def test_get_sessions_of_an_entry_not_loaded(
    hass: HomeAssistant, one_session: MockConfigEntry
) -> None:
    """An unloaded entry's sessions cannot be read (they are back once it is loaded)."""
    device_id = model_y_device(hass, one_session)
    assert await hass.config_entries.async_unload(one_session.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await get_sessions(hass, config_entry_id=one_session.entry_id)
    assert err.value.translation_key == "config_entry_not_loaded"
    with pytest.raises(ServiceValidationError) as err:
        await get_sessions(hass, device_id=device_id)
    assert err.value.translation_key == "service_config_entry_not_loaded"
    assert await get_sessions(hass) == []
    assert await hass.config_entries.async_setup(one_session.entry_id)
    assert len(await get_sessions(hass, device_id=device_id)) == 1


async def test_sessions_in_diagnostics(
    hass: HomeAssistant, one_session: MockConfigEntry, hass_client: Any
) -> None:
    """The energy total, the open session and the last sessions, per vehicle."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, one_session)
    by_name = {v["info"]["model"]: v["sessions"] for v in diagnostics["vehicles"]}
    model_y = by_name["Model Y"]
    assert model_y["energy_total_kwh"] == pytest.approx(11.0)
    assert model_y["open"] is None
    assert model_y["recorded"] == 1
    assert model_y["last"][0]["cost"] == pytest.approx(0.55)
    # The Model 3 is plugged in at home and has not charged: its session is open.
    model_3 = by_name["Model 3"]
    assert model_3["open"]["started_at"] == FROZEN_NOW.isoformat()
    assert model_3["open"]["prices_known"] > 0
    assert "prices" not in model_3["open"]
    assert model_3["last"] == []


async def test_calendar_shows_sessions_and_the_plan(
    hass: HomeAssistant, one_session: MockConfigEntry, frozen_emulator: Emulator
) -> None:
    """Past sessions and planned blocks are events; the state is the block now or next."""
    calendar = f"calendar.{VEHICLE}_charging"
    assert hass.states.get(calendar).state == "off"  # no plan: unplugged
    # Plugged in again and managed to 80 %: the plan takes the cheapest time (the .40 day).
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True})
    await entry_refresh(hass, one_session)
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: f"number.{VEHICLE}_target_charge", "value": 80},
        blocking=True,
    )
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: f"switch.{VEHICLE}_managed_charging"},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    plan = one_session.runtime_data.smart_charging.vehicle(MODEL_Y_ID).plan
    assert plan is not None
    assert plan.blocks

    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            ATTR_ENTITY_ID: calendar,
            "start_date_time": FROZEN_NOW.isoformat(),
            "end_date_time": (FROZEN_NOW + timedelta(days=3)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    events = response[calendar]["events"]
    session, *planned = events
    assert session["summary"] == "Charged 11.0 kWh"
    assert dt_util.parse_datetime(session["start"]) == FROZEN_NOW
    assert dt_util.parse_datetime(session["end"]) == PRICE_START + 4 * HOUR
    assert "Cost: 0.55 EUR" in session["description"]
    assert [dt_util.parse_datetime(event["start"]) for event in planned] == [
        block.start for block in plan.blocks
    ]
    assert all(event["summary"] == "Planned charging" for event in planned)
    state = hass.states.get(calendar)
    assert state.attributes["message"] == "Planned charging"
    assert dt_util.parse_datetime(state.attributes["start_time"]) is not None

    # A range before the session: nothing.
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            ATTR_ENTITY_ID: calendar,
            "start_date_time": (FROZEN_NOW - timedelta(days=2)).isoformat(),
            "end_date_time": (FROZEN_NOW - timedelta(days=1)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    assert response[calendar]["events"] == []


async def entry_refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Read the Model Y now and let everything react."""
    await entry.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_monthly_cost_starts_again_on_the_first(
    hass: HomeAssistant, one_session: MockConfigEntry, freezer: Any
) -> None:
    """At local midnight on the 1st the month's cost is 0 with a new reset time; kWh stay."""
    assert value(hass, MONTH_COST) == pytest.approx(0.55)
    new_month = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # 2026-07-01 00:00 in US/Pacific
    freezer.move_to(new_month)
    async_fire_time_changed(hass, new_month)
    await hass.async_block_till_done()
    cost = hass.states.get(MONTH_COST)
    assert float(cost.state) == 0
    assert datetime.fromisoformat(cost.attributes[ATTR_LAST_RESET]) == new_month
    assert value(hass, ENERGY) == pytest.approx(11.0)
    assert value(hass, LAST_COST) == pytest.approx(0.55)


async def test_fast_charging_is_not_at_home(
    hass: HomeAssistant, one_session: MockConfigEntry, frozen_emulator: Emulator, advance: Advance
) -> None:
    """A plug-in charging at 50 kW is a fast charger: no session, no energy at home."""
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"charge_power_kw": 50.0, "soc": 30.0})
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": True})
    await entry_refresh(hass, one_session)
    await advance(30 * timedelta(minutes=1))
    await entry_refresh(hass, one_session)
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False})
    await entry_refresh(hass, one_session)
    assert frozen_emulator.state.vehicles[MODEL_Y_ID].energy_added_kwh == pytest.approx(25.0)
    assert value(hass, ENERGY) == pytest.approx(11.0)
    assert len(one_session.runtime_data.sessions.sessions(MODEL_Y_ID)) == 1


async def test_session_at_schedule_prices(
    hass: HomeAssistant, frozen_emulator: Emulator, connected_fleet: Emulator, advance: Advance
) -> None:
    """A time-of-use schedule: 11:00-12:00 UTC is 04:00 in US/Pacific, off-peak (.10)."""
    await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass,
        DOMAIN,
        ClientCredential(DEFAULT_APP.client_id, DEFAULT_APP.client_secret),
        CREDENTIAL_ID,
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="FlexCharging",
        unique_id="0f4b9c1e-5a8d-4e2f-9b3a-7c6d5e4f3a21",
        data=entry_data(),
        options={
            CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET,
            CONF_PRICE_SOURCE: PRICE_SOURCE_SCHEDULE,
            CONF_OFFPEAK_PRICE: 0.10,
            CONF_PEAK_PRICE: 0.30,
            CONF_WEEKDAY_PEAK_START: "07:00:00",
            CONF_WEEKDAY_PEAK_END: "23:00:00",
        },
    )
    entry.add_to_hass(hass)
    await setup_integration(hass, entry)
    await charge_one_session(hass, entry, frozen_emulator, advance)
    assert value(hass, LAST_COST) == pytest.approx(1.10)
    # At once from 09:30 UTC (02:30 local): off-peak too, nothing saved.
    assert value(hass, LAST_SAVING) == pytest.approx(0)
    assert hass.states.get(MONTH_COST).attributes[ATTR_UNIT_OF_MEASUREMENT] == (
        hass.config.currency
    )
