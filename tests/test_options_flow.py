"""The options flow: request budget, location, and the prices smart charging plans with.

Price entities are set in the formats their integrations really use: Nord Pool's sensor
(`raw_today`/`raw_tomorrow`, times in the price area's zone) and Octopus Energy's current-day and
next-day rate events (`rates`, half-hourly, in UTC). The test time zone is US/Pacific.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType, InvalidData
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
import voluptuous as vol

from custom_components.flexcharging.const import (
    CONF_NOTIFY_TARGET,
    CONF_OFFPEAK_PRICE,
    CONF_PEAK_PRICE,
    CONF_PLUG_TRIGGERS,
    CONF_PRICE_ENTITIES,
    CONF_PRICE_SOURCE,
    CONF_READ_LOCATION,
    CONF_REQUEST_BUDGET,
    CONF_WEEKDAY_PEAK_END,
    CONF_WEEKDAY_PEAK_START,
    CONF_WEEKEND_PEAK_END,
    CONF_WEEKEND_PEAK_START,
    DEFAULT_REQUEST_BUDGET,
    PRICE_SOURCE_ENTITIES,
    PRICE_SOURCE_NONE,
    PRICE_SOURCE_SCHEDULE,
)
from custom_components.flexcharging.prices import RateSchedule
from tests.common import Emulator

NORD_POOL = "sensor.nordpool_kwh_oslo_eur_3_10_025"
OCTOPUS = "event.octopus_energy_electricity_21l1234567_1900012345678"
OCTOPUS_TODAY = f"{OCTOPUS}_current_day_rates"
OCTOPUS_TOMORROW = f"{OCTOPUS}_next_day_rates"
TEMPERATURE = "sensor.outdoor_temperature"
MISSING = "sensor.nordpool_kwh_se3_sek_3_10_025"

VEHICLE = "2024_tesla_model_y"
MANAGED = f"switch.{VEHICLE}_managed_charging"
NEXT_START = f"sensor.{VEHICLE}_next_charge_start"
NEXT_END = f"sensor.{VEHICLE}_next_charge_end"

OSLO = ZoneInfo("Europe/Oslo")
HOUR = timedelta(hours=1)
HALF_HOUR = timedelta(minutes=30)
# Now (frozen) is 09:30 UTC; ready by 07:00 Pacific = 14:00 UTC. 62 % → 80 % at 10 %/h: 1.8 h.
CHEAPEST_START = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
# 1 h in the cheapest hour, 0.8 h of the next-cheapest one right after it.
CHARGE_END = CHEAPEST_START + timedelta(hours=1.8)

BUDGET = 1500
EMPTY_LISTS = "sensor.prices_not_published_yet"
WEEKDAY_ONLY = {
    CONF_OFFPEAK_PRICE: 0.12,
    CONF_PEAK_PRICE: 0.41,
    CONF_WEEKDAY_PEAK_START: "16:00:00",
    CONF_WEEKDAY_PEAK_END: "21:00:00",
}
WITH_WEEKEND = {
    CONF_OFFPEAK_PRICE: 0.08,
    CONF_PEAK_PRICE: 0.35,
    CONF_WEEKDAY_PEAK_START: "17:00:00",
    CONF_WEEKDAY_PEAK_END: "02:00:00",
    CONF_WEEKEND_PEAK_START: "10:00:00",
    CONF_WEEKEND_PEAK_END: "14:30:00",
}


# --- price entities as their integrations publish them ---------------------------------------


def nord_pool_hour_price(start: datetime) -> float:
    """Oslo day-ahead prices in EUR/kWh: cheapest at 11:00 UTC, next cheapest at 12:00 UTC.

    The night after the ready-by time is cheaper still (the plan must not wait for it).
    """
    special = {11: 0.021, 12: 0.034, 15: 0.005}
    return special.get(start.astimezone(UTC).hour, 0.187 + start.hour / 1000)


def nord_pool_attributes() -> dict[str, Any]:
    """A Nord Pool sensor (HACS custom-components/nordpool) before tomorrow is published."""
    midnight = datetime(2026, 6, 10, tzinfo=OSLO)
    raw_today = [
        {
            "start": midnight + i * HOUR,
            "end": midnight + (i + 1) * HOUR,
            "value": nord_pool_hour_price(midnight + i * HOUR),
        }
        for i in range(24)
    ]
    today = [slot["value"] for slot in raw_today]
    return {
        "average": sum(today) / len(today),
        "off_peak_1": 0.19,
        "off_peak_2": 0.2,
        "peak": 0.198,
        "min": min(today),
        "max": max(today),
        "unit": "kWh",
        "currency": "EUR",
        "country": "Norway",
        "region": "Oslo",
        "low_price": False,
        "price_percent_to_average": 1.04,
        "today": today,
        "tomorrow": [],
        "tomorrow_valid": False,
        "raw_today": raw_today,
        "raw_tomorrow": [],
        "current_price": 0.19,
        "additional_costs_current_hour": 0,
        "price_in_cents": False,
        "unit_of_measurement": "EUR/kWh",
        "device_class": "monetary",
        "icon": "mdi:flash",
        "friendly_name": "nordpool_kwh_oslo_eur_3_10_025",
    }


def octopus_half_hour_price(start: datetime) -> float:
    """Agile Octopus in GBP/kWh: the cheapest run is 11:00-13:00 UTC, cheapest first."""
    cheap = {
        CHEAPEST_START: 0.0512,
        CHEAPEST_START + HALF_HOUR: 0.0534,
        CHEAPEST_START + 2 * HALF_HOUR: 0.0578,
        CHEAPEST_START + 3 * HALF_HOUR: 0.0601,
    }
    return cheap.get(start, 0.2468)


def octopus_attributes(day: datetime, event_type: str) -> dict[str, Any]:
    """An Octopus Energy rates event (HACS BottlecapDave/HomeAssistant-OctopusEnergy)."""
    rates = [
        {
            "start": day + i * HALF_HOUR,
            "end": day + (i + 1) * HALF_HOUR,
            "value_inc_vat": octopus_half_hour_price(day + i * HALF_HOUR),
            "is_capped": False,
        }
        for i in range(48)
    ]
    return {
        "event_types": [event_type],
        "event_type": event_type,
        "mpan": "1900012345678",
        "serial_number": "21L1234567",
        "is_export": False,
        "is_smart_meter": True,
        "tariff_code": "E-1R-AGILE-24-10-01-C",
        "rates": rates,
        "friendly_name": "Electricity 21L1234567 1900012345678 Current Day Rates",
    }


def set_nord_pool(hass: HomeAssistant) -> None:
    """The Nord Pool sensor, its state the current hour's price."""
    hass.states.async_set(NORD_POOL, "0.19", nord_pool_attributes())


def set_octopus(hass: HomeAssistant) -> None:
    """Octopus Energy's two rate events: the UK day of 10 June (BST) and the next one."""
    uk_day = datetime(2026, 6, 9, 23, 0, tzinfo=UTC)  # 00:00 BST
    hass.states.async_set(
        OCTOPUS_TODAY,
        "2026-06-09T23:00:04.218+00:00",
        octopus_attributes(uk_day, "octopus_energy_electricity_current_day_rates"),
    )
    hass.states.async_set(
        OCTOPUS_TOMORROW,
        "2026-06-09T16:05:11.730+00:00",
        octopus_attributes(uk_day + 24 * HOUR, "octopus_energy_electricity_next_day_rates"),
    )


def set_temperature(hass: HomeAssistant) -> None:
    """A sensor without any price list."""
    hass.states.async_set(
        TEMPERATURE,
        "14.2",
        {"unit_of_measurement": "°C", "device_class": "temperature", "state_class": "measurement"},
    )


def set_nord_pool_floats_only(hass: HomeAssistant) -> None:
    """The Nord Pool sensor without its raw lists: bare floats (both days) have no times."""
    attributes = nord_pool_attributes()
    del attributes["raw_today"], attributes["raw_tomorrow"]
    attributes["tomorrow"] = attributes["today"]
    attributes["tomorrow_valid"] = True
    hass.states.async_set(NORD_POOL, "0.19", attributes)


def set_nord_pool_unavailable(hass: HomeAssistant) -> None:
    """The Nord Pool sensor while its integration cannot reach the price service."""
    hass.states.async_set(NORD_POOL, "unavailable", {"friendly_name": "nordpool"})


# --- helpers -------------------------------------------------------------------------------------


def field(result: FlowResult, name: str) -> Any:
    """The schema marker of a form field."""
    return next(key for key in result["data_schema"].schema if str(key) == name)


def default(result: FlowResult, name: str) -> Any:
    """The value a form field shows before the user changes it (default or suggested)."""
    marker = field(result, name)
    if (marker.description or {}).get("suggested_value") is not None:
        return marker.description["suggested_value"]
    return marker.default()


def has_default(result: FlowResult, name: str) -> bool:
    """Whether a form field shows a value before the user types one."""
    marker = field(result, name)
    suggested = (marker.description or {}).get("suggested_value")
    return marker.default is not vol.UNDEFINED or suggested is not None


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """An entity's state (it must exist)."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def open_options(
    hass: HomeAssistant, entry: MockConfigEntry, price_source: str, **general: Any
) -> FlowResult:
    """Open the options and submit the first step with `price_source`."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    return await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_REQUEST_BUDGET: str(general.get(CONF_REQUEST_BUDGET, BUDGET)),
            CONF_READ_LOCATION: general.get(CONF_READ_LOCATION, False),
            CONF_PRICE_SOURCE: price_source,
        },
    )


async def finish(hass: HomeAssistant, result: FlowResult, user_input: dict[str, Any]) -> None:
    """Submit the last step, check the flow ends, and let the entry reload."""
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)


async def set_options(hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any]) -> None:
    """Start from other options (as an earlier options flow would have left them)."""
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


# --- the first step ------------------------------------------------------------------------------


async def test_first_step_defaults(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A new entry shows the default budget, the entry's location choice, and no prices."""
    hass.config_entries.async_update_entry(
        init_integration, data={**init_integration.data, CONF_READ_LOCATION: True}
    )
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["step_id"] == "init"
    assert default(result, CONF_REQUEST_BUDGET) == str(DEFAULT_REQUEST_BUDGET)
    assert default(result, CONF_READ_LOCATION) is True
    assert default(result, CONF_PRICE_SOURCE) == PRICE_SOURCE_NONE
    source = result["data_schema"].schema[field(result, CONF_PRICE_SOURCE)]
    assert source.config["options"] == ["none", "entities", "schedule"]
    assert source.config["translation_key"] == CONF_PRICE_SOURCE
    hass.config_entries.options.async_abort(result["flow_id"])


async def test_notify_target(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A notify service (or entity) from the list; an unknown one is refused, nothing lost."""
    async_mock_service(hass, "notify", "mobile_app_phone")
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    target = result["data_schema"].schema[field(result, CONF_NOTIFY_TARGET)]
    assert target.config["options"] == ["notify.mobile_app_phone"]
    assert target.config["custom_value"] is True
    general = {
        CONF_REQUEST_BUDGET: str(BUDGET),
        CONF_READ_LOCATION: False,
        CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**general, CONF_NOTIFY_TARGET: "notify.mobile_app_tablet"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NOTIFY_TARGET: "unknown_notify_target"}
    assert default(result, CONF_REQUEST_BUDGET) == str(BUDGET)
    assert default(result, CONF_NOTIFY_TARGET) == "notify.mobile_app_tablet"
    await finish(hass, result, {**general, CONF_NOTIFY_TARGET: "notify.mobile_app_phone"})
    assert init_integration.options[CONF_NOTIFY_TARGET] == "notify.mobile_app_phone"


async def test_plug_triggers(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Any entities as plug-in triggers; one that does not exist is refused, nothing lost."""
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"arrived": {}}})
    hass.states.async_set("device_tracker.phone", "not_home")
    general = {
        CONF_REQUEST_BUDGET: str(BUDGET),
        CONF_READ_LOCATION: False,
        CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
    }
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert not has_default(result, CONF_PLUG_TRIGGERS)
    chosen = ["input_boolean.arrived", "device_tracker.phone"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**general, CONF_PLUG_TRIGGERS: [*chosen, "cover.gone"]}
    )
    assert result["errors"] == {CONF_PLUG_TRIGGERS: "unknown_trigger_entity"}
    assert default(result, CONF_PLUG_TRIGGERS) == [*chosen, "cover.gone"]
    await finish(hass, result, {**general, CONF_PLUG_TRIGGERS: chosen})
    assert init_integration.options[CONF_PLUG_TRIGGERS] == chosen
    guard = init_integration.runtime_data.plug_guard
    assert guard is not None
    assert guard.triggers == chosen

    # Shown again, and cleared by leaving the field empty.
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert default(result, CONF_PLUG_TRIGGERS) == chosen
    await finish(hass, result, general)
    assert CONF_PLUG_TRIGGERS not in init_integration.options


async def test_plan_allowance_offers_smartcars_plans(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """0, 100 and 500 calls are offered, and any other number can be typed in."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    selector = result["data_schema"].schema[field(result, CONF_REQUEST_BUDGET)]
    assert selector.config["options"] == ["0", "100", "500"]
    assert selector.config["custom_value"] is True
    assert selector.config["translation_key"] == "plan_allowance"
    hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.parametrize("allowance", ["-1", "100001", "lots", "12.5"])
async def test_plan_allowance_invalid(
    hass: HomeAssistant, init_integration: MockConfigEntry, allowance: str
) -> None:
    """A typed allowance that is not a whole number from 0 to 100000 is refused on its field."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_REQUEST_BUDGET: allowance,
            CONF_READ_LOCATION: False,
            CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_REQUEST_BUDGET: "plan_allowance_invalid"}
    assert init_integration.options == {CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET}
    hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.parametrize(("allowance", "stored"), [("0", 0), ("100", 100), (" 250 ", 250)])
async def test_plan_allowance_saved(
    hass: HomeAssistant, init_integration: MockConfigEntry, allowance: str, stored: int
) -> None:
    """A plan's allowance, chosen or typed in, is stored as the vehicles' monthly budget."""
    entry = init_integration
    result = await open_options(hass, entry, PRICE_SOURCE_NONE, request_budget=allowance)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_REQUEST_BUDGET] == stored
    assert entry.runtime_data.coordinator.budget == stored


# --- no prices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "previous",
    [
        {CONF_PRICE_SOURCE: PRICE_SOURCE_ENTITIES, CONF_PRICE_ENTITIES: [NORD_POOL]},
        {CONF_PRICE_SOURCE: PRICE_SOURCE_SCHEDULE, **WITH_WEEKEND},
    ],
    ids=["from_entities", "from_schedule"],
)
async def test_no_prices_drops_the_old_source(
    hass: HomeAssistant, init_integration: MockConfigEntry, previous: dict[str, Any]
) -> None:
    """Choosing no prices ends the flow at once and forgets the previous price settings."""
    entry = init_integration
    set_nord_pool(hass)
    await set_options(hass, entry, {CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET, **previous})
    smart = entry.runtime_data.smart_charging

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert default(result, CONF_PRICE_SOURCE) == previous[CONF_PRICE_SOURCE]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_REQUEST_BUDGET: "750", CONF_READ_LOCATION: True, CONF_PRICE_SOURCE: "none"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.options == {
        CONF_REQUEST_BUDGET: 750,
        CONF_READ_LOCATION: True,
        CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
    }
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.smart_charging is not smart
    assert entry.runtime_data.smart_charging.prices.source == PRICE_SOURCE_NONE
    assert entry.runtime_data.smart_charging.prices.entities == []
    assert entry.runtime_data.smart_charging.prices.schedule is None


# --- price entities ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entities",
    [[NORD_POOL], [OCTOPUS_TODAY, OCTOPUS_TOMORROW], [NORD_POOL, OCTOPUS_TODAY]],
    ids=["nord_pool", "octopus_both_days", "mixed"],
)
async def test_price_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry, entities: list[str]
) -> None:
    """Readable price entities are saved, used after the reload, and shown when reopening."""
    entry = init_integration
    set_nord_pool(hass)
    set_octopus(hass)
    result = await open_options(hass, entry, PRICE_SOURCE_ENTITIES)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "price_entities"
    assert result["errors"] == {}
    assert default(result, CONF_PRICE_ENTITIES) == []
    entity_selector = result["data_schema"].schema[field(result, CONF_PRICE_ENTITIES)]
    assert entity_selector.config["domain"] == ["sensor", "event"]
    assert entity_selector.config["multiple"] is True

    await finish(hass, result, {CONF_PRICE_ENTITIES: entities})
    assert entry.options == {
        CONF_REQUEST_BUDGET: BUDGET,
        CONF_READ_LOCATION: False,
        CONF_PRICE_SOURCE: PRICE_SOURCE_ENTITIES,
        CONF_PRICE_ENTITIES: entities,
    }
    assert entry.state is ConfigEntryState.LOADED
    smart = entry.runtime_data.smart_charging
    assert smart.prices.source == PRICE_SOURCE_ENTITIES
    assert smart.prices.entities == entities
    assert smart.prices.schedule is None

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert default(result, CONF_REQUEST_BUDGET) == str(BUDGET)
    assert default(result, CONF_READ_LOCATION) is False
    assert default(result, CONF_PRICE_SOURCE) == PRICE_SOURCE_ENTITIES
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_REQUEST_BUDGET: str(BUDGET),
            CONF_READ_LOCATION: False,
            CONF_PRICE_SOURCE: "entities",
        },
    )
    assert result["step_id"] == "price_entities"
    assert default(result, CONF_PRICE_ENTITIES) == entities
    hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.parametrize(
    ("entities", "error", "unusable"),
    [
        ([], "no_price_entity", ""),
        ([TEMPERATURE], "no_prices_found", TEMPERATURE),
        ([MISSING], "no_prices_found", MISSING),
        (
            [NORD_POOL, MISSING, OCTOPUS_TODAY, TEMPERATURE],
            "no_prices_found",
            f"{MISSING}, {TEMPERATURE}",
        ),
        ([EMPTY_LISTS], "no_prices_found", EMPTY_LISTS),
    ],
    ids=[
        "none_chosen",
        "no_price_list",
        "missing_entity",
        "two_of_four_unusable",
        "only_empty_lists",
    ],
)
async def test_price_entity_errors(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entities: list[str],
    error: str,
    unusable: str,
) -> None:
    """Unusable choices are named; the form stays until a usable choice is made."""
    entry = init_integration
    set_nord_pool(hass)
    set_octopus(hass)
    set_temperature(hass)
    hass.states.async_set(EMPTY_LISTS, "0.3", {"raw_today": [], "raw_tomorrow": None})
    result = await open_options(hass, entry, PRICE_SOURCE_ENTITIES)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_ENTITIES: entities}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "price_entities"
    assert result["errors"] == {CONF_PRICE_ENTITIES: error}
    assert result["description_placeholders"] == {"entities": unusable}
    assert entry.options == {CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET}

    await finish(hass, result, {CONF_PRICE_ENTITIES: [NORD_POOL]})
    assert entry.options[CONF_PRICE_ENTITIES] == [NORD_POOL]
    assert entry.runtime_data.smart_charging.prices.entities == [NORD_POOL]


@pytest.mark.parametrize(
    "set_state",
    [set_nord_pool_floats_only, set_nord_pool_unavailable],
    ids=["floats_without_times", "unavailable"],
)
async def test_nord_pool_without_a_readable_list(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    set_state: Callable[[HomeAssistant], None],
) -> None:
    """A Nord Pool sensor without its raw lists, or unavailable, has no prices to offer."""
    set_state(hass)
    result = await open_options(hass, init_integration, PRICE_SOURCE_ENTITIES)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_ENTITIES: [NORD_POOL]}
    )
    assert result["errors"] == {CONF_PRICE_ENTITIES: "no_prices_found"}
    assert result["description_placeholders"] == {"entities": NORD_POOL}
    hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.parametrize(
    "choice",
    [["switch.2024_tesla_model_y_charging"], NORD_POOL, ["not an entity id"]],
    ids=["other_domain", "not_a_list", "malformed"],
)
async def test_entity_selector_refuses(
    hass: HomeAssistant, init_integration: MockConfigEntry, choice: Any
) -> None:
    """The selector itself refuses other domains, a bare string and malformed ids."""
    set_nord_pool(hass)
    result = await open_options(hass, init_integration, PRICE_SOURCE_ENTITIES)
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_PRICE_ENTITIES: choice}
        )
    hass.config_entries.options.async_abort(result["flow_id"])


# --- rate schedule -------------------------------------------------------------------------------


async def test_rate_schedule_first_defaults(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A first schedule suggests 0.10/0.30 and a 16:00-21:00 weekday peak, no weekend peak."""
    result = await open_options(hass, init_integration, PRICE_SOURCE_SCHEDULE)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "rate_schedule"
    assert result["errors"] == {}
    assert default(result, CONF_OFFPEAK_PRICE) == 0.1
    assert default(result, CONF_PEAK_PRICE) == 0.3
    assert default(result, CONF_WEEKDAY_PEAK_START) == "16:00:00"
    assert default(result, CONF_WEEKDAY_PEAK_END) == "21:00:00"
    assert not has_default(result, CONF_WEEKEND_PEAK_START)
    assert not has_default(result, CONF_WEEKEND_PEAK_END)
    price = result["data_schema"].schema[field(result, CONF_PEAK_PRICE)]
    assert price.config["unit_of_measurement"] == f"{hass.config.currency}/kWh"
    hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (
            WEEKDAY_ONLY,
            RateSchedule(
                offpeak_price=0.12,
                peak_price=0.41,
                weekday_peak=(time(16), time(21)),
                weekend_peak=None,
            ),
        ),
        (
            WITH_WEEKEND,
            RateSchedule(
                offpeak_price=0.08,
                peak_price=0.35,
                weekday_peak=(time(17), time(2)),
                weekend_peak=(time(10), time(14, 30)),
            ),
        ),
        (
            {**WEEKDAY_ONLY, CONF_PEAK_PRICE: 0.12},
            RateSchedule(
                offpeak_price=0.12,
                peak_price=0.12,
                weekday_peak=(time(16), time(21)),
                weekend_peak=None,
            ),
        ),
    ],
    ids=["weekdays_only", "with_weekend", "flat_rate"],
)
async def test_rate_schedule(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    schedule: dict[str, Any],
    expected: RateSchedule,
) -> None:
    """The schedule is saved as typed, used after the reload, and shown when reopening."""
    entry = init_integration
    result = await open_options(hass, entry, PRICE_SOURCE_SCHEDULE, read_location=True)
    await finish(hass, result, schedule)
    assert entry.options == {
        CONF_REQUEST_BUDGET: BUDGET,
        CONF_READ_LOCATION: True,
        CONF_PRICE_SOURCE: PRICE_SOURCE_SCHEDULE,
        **schedule,
    }
    smart = entry.runtime_data.smart_charging
    assert smart.prices.source == PRICE_SOURCE_SCHEDULE
    assert smart.prices.entities == []
    assert smart.prices.schedule == expected

    result = await open_options(hass, entry, PRICE_SOURCE_SCHEDULE)
    assert result["step_id"] == "rate_schedule"
    shown = {key: default(result, key) for key in schedule}
    assert shown == schedule
    for key in (CONF_WEEKEND_PEAK_START, CONF_WEEKEND_PEAK_END):
        assert has_default(result, key) is (key in schedule)
    hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.parametrize(
    ("schedule", "errors", "fix"),
    [
        (
            {**WEEKDAY_ONLY, CONF_PEAK_PRICE: 0.11},
            {CONF_PEAK_PRICE: "peak_below_offpeak"},
            {CONF_PEAK_PRICE: 0.41},
        ),
        (
            {**WEEKDAY_ONLY, CONF_WEEKEND_PEAK_START: "10:00:00"},
            {CONF_WEEKEND_PEAK_END: "incomplete_window"},
            {CONF_WEEKEND_PEAK_END: "14:00:00"},
        ),
        (
            {**WEEKDAY_ONLY, CONF_WEEKEND_PEAK_END: "14:00:00"},
            {CONF_WEEKEND_PEAK_END: "incomplete_window"},
            {CONF_WEEKEND_PEAK_START: "10:00:00"},
        ),
        (
            {**WEEKDAY_ONLY, CONF_PEAK_PRICE: 0.05, CONF_WEEKEND_PEAK_START: "10:00:00"},
            {CONF_PEAK_PRICE: "peak_below_offpeak"},
            {CONF_PEAK_PRICE: 0.41, CONF_WEEKEND_PEAK_END: "14:00:00"},
        ),
        (
            {**WEEKDAY_ONLY, CONF_WEEKDAY_PEAK_END: WEEKDAY_ONLY[CONF_WEEKDAY_PEAK_START]},
            {CONF_WEEKDAY_PEAK_END: "empty_window"},
            {CONF_WEEKDAY_PEAK_END: "21:00:00"},
        ),
        (
            {
                **WEEKDAY_ONLY,
                CONF_WEEKEND_PEAK_START: "10:00:00",
                CONF_WEEKEND_PEAK_END: "10:00:00",
            },
            {CONF_WEEKEND_PEAK_END: "empty_window"},
            {CONF_WEEKEND_PEAK_END: "14:00:00"},
        ),
    ],
    ids=[
        "peak_below_offpeak",
        "weekend_start_only",
        "weekend_end_only",
        "both_wrong",
        "weekday_empty",
        "weekend_empty",
    ],
)
async def test_rate_schedule_errors(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    schedule: dict[str, Any],
    errors: dict[str, str],
    fix: dict[str, Any],
) -> None:
    """A wrong schedule is shown again, as typed, with the error on the field to fix."""
    entry = init_integration
    result = await open_options(hass, entry, PRICE_SOURCE_SCHEDULE)
    result = await hass.config_entries.options.async_configure(result["flow_id"], schedule)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "rate_schedule"
    assert result["errors"] == errors
    assert {key: default(result, key) for key in schedule} == schedule
    assert entry.options == {CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET}

    await finish(hass, result, {**schedule, **fix})
    assert entry.options == {
        CONF_REQUEST_BUDGET: BUDGET,
        CONF_READ_LOCATION: False,
        CONF_PRICE_SOURCE: PRICE_SOURCE_SCHEDULE,
        **schedule,
        **fix,
    }


WEEKDAYS_OF_WITH_WEEKEND = {
    key: value
    for key, value in WITH_WEEKEND.items()
    if key not in (CONF_WEEKEND_PEAK_START, CONF_WEEKEND_PEAK_END)
}


@pytest.mark.parametrize("after", ["saving_it", "incomplete_window"])
async def test_weekend_peak_can_be_cleared(
    hass: HomeAssistant, init_integration: MockConfigEntry, after: str
) -> None:
    """Clearing the weekend window (after saving one, or after half-typing one) is accepted."""
    entry = init_integration
    if after == "saving_it":
        await finish(hass, await open_options(hass, entry, PRICE_SOURCE_SCHEDULE), WITH_WEEKEND)
        result = await open_options(hass, entry, PRICE_SOURCE_SCHEDULE)
    else:
        result = await open_options(hass, entry, PRICE_SOURCE_SCHEDULE)
        half = {**WEEKDAYS_OF_WITH_WEEKEND, CONF_WEEKEND_PEAK_START: "10:00:00"}
        result = await hass.config_entries.options.async_configure(result["flow_id"], half)
        assert result["errors"] == {CONF_WEEKEND_PEAK_END: "incomplete_window"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], WEEKDAYS_OF_WITH_WEEKEND
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert CONF_WEEKEND_PEAK_START not in entry.options
    assert entry.runtime_data.smart_charging.prices.schedule is not None
    assert entry.runtime_data.smart_charging.prices.schedule.weekend_peak is None


# --- end to end ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("set_prices", "entities"),
    [(set_nord_pool, [NORD_POOL]), (set_octopus, [OCTOPUS_TODAY, OCTOPUS_TOMORROW])],
    ids=["nord_pool", "octopus"],
)
async def test_chosen_prices_plan_the_charge(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    set_prices: Callable[[HomeAssistant], None],
    entities: list[str],
) -> None:
    """After choosing price entities, managed charging plans the cheapest hours before 07:00."""
    set_prices(hass)
    result = await open_options(hass, init_integration, PRICE_SOURCE_ENTITIES)
    await finish(hass, result, {CONF_PRICE_ENTITIES: entities})
    assert state_of(hass, NEXT_START) == "unknown"

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: MANAGED}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, MANAGED) == "on"
    assert state_of(hass, NEXT_START) == CHEAPEST_START.isoformat()
    assert state_of(hass, NEXT_END) == CHARGE_END.isoformat()
