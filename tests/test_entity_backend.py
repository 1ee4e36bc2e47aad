"""A vehicle from another integration: added in the config flow, driven through its entities.

The other integration is `tests/fake_tesla.py`: real entities on the teslemetry platform with
Teslemetry's unique ids. The time zone is US/Pacific; the frozen start, 2026-06-10 09:30 UTC,
is 02:30 on a Wednesday; prices (as in test_smart_charging) are cheapest from 11:00 UTC.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import ANY

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.flexcharging.const import (
    BACKEND_ENTITIES,
    CONF_BACKEND,
    CONF_DEVICE_ID,
    CONF_PRICE_ENTITIES,
    CONF_PRICE_SOURCE,
    CONF_VEHICLE_ENTITIES,
    DOMAIN,
    EVENT_CHARGING_DECISION,
    PRICE_SOURCE_ENTITIES,
    storage_key,
)
from custom_components.flexcharging.issues import charging_problem_issue_id
from custom_components.flexcharging.smart_charging.policy import RETRY_AFTER
from tests.common import FROZEN_NOW
from tests.fake_tesla import (
    MAPPING,
    BatteryLevel,
    ChargingState,
    FakeTesla,
    async_add_fake_tesla,
    flexcharging_entry,
)
from tests.test_smart_charging import CHEAP_START, PRICE_ENTITY, PRICES, price_attributes


def ours(hass: HomeAssistant, domain: str, car: FakeTesla, key: str) -> str:
    """The entity id of one of FlexCharging's entities of the car."""
    entity_id = er.async_get(hass).async_get_entity_id(domain, DOMAIN, f"{car.device_id}_{key}")
    assert entity_id is not None, key
    return entity_id


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def assert_commands(hass: HomeAssistant, car: FakeTesla, *, sent: int, wake_ups: int) -> None:
    """The commands-sent sensor: this month's commands, and the wake-ups among them."""
    commands = hass.states.get(ours(hass, "sensor", car, "commands_sent"))
    assert commands is not None
    assert commands.state == str(sent)
    assert commands.attributes["wake_ups"] == wake_ups


def suggested(result: Any) -> dict[str, Any]:
    """The values a form proposes."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


async def start_vehicle_flow(hass: HomeAssistant) -> Any:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "vehicle"}
    )


# --- the config flow -----------------------------------------------------------------------


async def test_add_a_teslemetry_vehicle(hass: HomeAssistant) -> None:
    """Menu → device → the proposed entities (Teslemetry's) → an entry with the car's entities."""
    car = await async_add_fake_tesla(hass)
    result = await start_vehicle_flow(hass)
    assert result["step_id"] == "vehicle"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: car.device_id}
    )
    assert result["step_id"] == "vehicle_entities"
    assert result["description_placeholders"] == {"vehicle": "Scotty"}
    assert suggested(result) == MAPPING

    result = await hass.config_entries.flow.async_configure(result["flow_id"], MAPPING)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Scotty"
    assert result["data"] == {
        CONF_BACKEND: BACKEND_ENTITIES,
        CONF_DEVICE_ID: car.device_id,
        CONF_VEHICLE_ENTITIES: MAPPING,
    }
    await hass.async_block_till_done(wait_background_tasks=True)
    entry = result["result"]
    assert entry.state is config_entries.ConfigEntryState.LOADED

    # The smart-charging entities, on a device of FlexCharging's linked to the car's.
    assert state_of(hass, ours(hass, "switch", car, "managed_charging")) == STATE_OFF
    assert state_of(hass, ours(hass, "sensor", car, "smart_charging_status")) == "off"
    assert state_of(hass, ours(hass, "sensor", car, "battery_level")) == "60.0"
    assert state_of(hass, ours(hass, "binary_sensor", car, "plugged_in")) == STATE_ON
    assert state_of(hass, ours(hass, "number", car, "charge_limit")) == "80"
    assert state_of(hass, ours(hass, "sensor", car, "commands_sent")) == "0"
    # The weekly schedule and the next trip, as for a Smartcar vehicle.
    assert state_of(hass, ours(hass, "time", car, "ready_by_wednesday")) == "07:00:00"
    ours(hass, "datetime", car, "next_departure")
    registry = er.async_get(hass)
    for domain, key in (
        ("sensor", "requests_used"),
        ("sensor", "virtual_key"),
        ("button", "refresh"),
        ("image", "virtual_key_qr_code"),
        ("device_tracker", "location"),
    ):
        assert registry.async_get_entity_id(domain, DOMAIN, f"{car.device_id}_{key}") is None

    # The same car cannot be added twice.
    result = await start_vehicle_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: car.device_id}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "vehicle_already_configured"


@pytest.mark.parametrize("platform", ["tesla_fleet", "tessie"])
async def test_tesla_fleet_and_tessie_are_proposed_too(hass: HomeAssistant, platform: str) -> None:
    """Their unique ids (Tessie's battery level and switch differ) give the same mapping."""
    car = await async_add_fake_tesla(hass, platform_name=platform)
    result = await start_vehicle_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: car.device_id}
    )
    assert suggested(result) == MAPPING


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"plugged_in": "binary_sensor.charging_flag"},
            {"plugged_in": "plug_is_charging"},
        ),
        ({"battery_level": "sensor.scotty_charger_power"}, {"battery_level": "battery_unit"}),
        ({"charge_power": "sensor.scotty_battery_level"}, {"charge_power": "power_unit"}),
        ({"charge_limit": "number.nothing_here"}, {"charge_limit": "entity_missing"}),
        ({"charge_limit": "number.charge_current"}, {"charge_limit": "limit_unit"}),
        (
            {"charge_switch": None, "start_button": "button.scotty_wake"},
            {"stop_button": "buttons_in_pairs", "base": "no_control"},
        ),
        ({"charge_switch": None}, {"base": "no_control"}),
    ],
)
async def test_mapping_is_checked(
    hass: HomeAssistant, change: dict[str, str | None], errors: dict[str, str]
) -> None:
    """A wrong entity is named, field by field; the form keeps what was entered."""
    hass.states.async_set(
        "binary_sensor.charging_flag", STATE_ON, {"device_class": "battery_charging"}
    )
    hass.states.async_set("number.charge_current", "16", {"unit_of_measurement": "A"})
    car = await async_add_fake_tesla(hass)
    result = await start_vehicle_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: car.device_id}
    )
    mapping = {role: entity for role, entity in {**MAPPING, **change}.items() if entity is not None}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], mapping)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert suggested(result) == mapping


async def test_a_switch_must_be_a_switch(hass: HomeAssistant) -> None:
    """The form refuses an entity of another domain (its selector's check)."""
    car = await async_add_fake_tesla(hass)
    result = await start_vehicle_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: car.device_id}
    )
    with pytest.raises(InvalidData) as caught:
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {**MAPPING, "charge_switch": "sensor.scotty_charging"}
        )
    assert caught.value.schema_errors == {"charge_switch": ANY}


async def test_not_a_vehicle(hass: HomeAssistant) -> None:
    """A device that is gone (or FlexCharging's own) is refused."""
    result = await start_vehicle_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: "no-such-device"}
    )
    assert result["errors"] == {CONF_DEVICE_ID: "not_a_vehicle"}


# --- a night's charge ------------------------------------------------------------------------


@pytest.fixture
async def night(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> FakeTesla:
    """The car at 02:30 local, plugged in at 60 %, FlexCharging managing it towards 75 %."""
    freezer.move_to(FROZEN_NOW)
    hass.states.async_set(PRICE_ENTITY, "0.30", price_attributes(PRICES))
    car = await async_add_fake_tesla(hass)
    entry = flexcharging_entry(
        car, {CONF_PRICE_SOURCE: PRICE_SOURCE_ENTITIES, CONF_PRICE_ENTITIES: [PRICE_ENTITY]}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await call(hass, "number", SERVICE_SET_VALUE, ours(hass, "number", car, "target_charge"), 75)
    await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", car, "managed_charging"))
    return car


async def call(
    hass: HomeAssistant, domain: str, service: str, entity_id: str, value: Any = None
) -> None:
    data = {ATTR_ENTITY_ID: entity_id} | ({ATTR_VALUE: value} if value is not None else {})
    await hass.services.async_call(domain, service, data, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move the clock a minute at a time (timers fire as they would)."""
    end = dt_util.utcnow() + delta
    while (left := end - dt_util.utcnow()) > timedelta(0):
        freezer.tick(min(left, timedelta(minutes=1)))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def test_a_night_charge_planned_and_carried_out(
    hass: HomeAssistant, night: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """Planned in the cheapest hours, started and stopped through the car's own switch."""
    car = night
    status = ours(hass, "sensor", car, "smart_charging_status")
    assert state_of(hass, status) == "waiting"
    assert state_of(hass, ours(hass, "sensor", car, "next_charge_start")) == CHEAP_START.isoformat()
    assert car.calls == []

    await advance(hass, freezer, CHEAP_START - FROZEN_NOW)
    assert car.calls == ["charge_start"]
    assert car.charging
    car.report()  # the car confirms
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, status) == "charging"
    assert state_of(hass, ours(hass, "sensor", car, "last_decision")) == "start_plan"

    # Charging at about 10 %/h: the car reports its level as it goes.
    for _ in range(3):
        await advance(hass, freezer, timedelta(minutes=30))
        car.soc += 5
        car.report()
        await hass.async_block_till_done(wait_background_tasks=True)
    assert car.soc == 75
    assert car.calls == ["charge_start", "charge_stop"]
    assert not car.charging
    assert state_of(hass, status) == "target_reached"
    assert_commands(hass, car, sent=2, wake_ups=0)


async def test_a_sleeping_car_is_woken_for_the_retry(
    hass: HomeAssistant, night: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """The car ignores the planned start; the retry wakes it with its wake button first.

    The retry gets its time: nothing says "failed" while the woken car is about to report.
    """
    car = night
    car.asleep = True
    decisions: list[str] = []
    hass.bus.async_listen(
        EVENT_CHARGING_DECISION, lambda event: decisions.append(event.data["decision"])
    )
    await advance(hass, freezer, CHEAP_START - FROZEN_NOW)
    assert car.calls == ["charge_start"]
    assert not car.charging
    # The switch shows on (it is optimistic), but the car's report says it does not charge.
    await advance(hass, freezer, timedelta(seconds=30))
    car.report()
    await advance(hass, freezer, RETRY_AFTER)
    assert car.calls == ["charge_start", "wake_up", "charge_start"]
    car.report()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.charging
    assert state_of(hass, ours(hass, "sensor", car, "smart_charging_status")) == "charging"
    assert_commands(hass, car, sent=3, wake_ups=1)
    assert decisions == ["start_plan", "retry_start"]


async def test_a_start_without_effect_is_reported(
    hass: HomeAssistant, night: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """A car that stays asleep (wake button not mapped): two starts, then a repair issue."""
    car = night
    car.asleep = True
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    hass.config_entries.async_update_entry(
        entry,
        data={
            **entry.data,
            CONF_VEHICLE_ENTITIES: {k: v for k, v in MAPPING.items() if k != "wake_button"},
        },
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance(hass, freezer, CHEAP_START - FROZEN_NOW)
    for _ in range(2):
        await advance(hass, freezer, timedelta(seconds=30))
        car.report()
        await advance(hass, freezer, RETRY_AFTER)
    car.report()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert car.calls == ["charge_start", "charge_start"]
    assert state_of(hass, ours(hass, "sensor", car, "smart_charging_status")) == "start_failed"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, charging_problem_issue_id(car.device_id))
    assert issue is not None
    assert issue.translation_key == "charging_problem_no_effect"
    assert issue.translation_placeholders == {"vehicle": "Scotty"}


async def test_user_switch_and_charge_limit_go_to_the_car(
    hass: HomeAssistant, night: FakeTesla
) -> None:
    """FlexCharging's charging switch and charge limit call the car's own entities."""
    car = night
    await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", car, "charging_switch"))
    await call(hass, "switch", SERVICE_TURN_OFF, ours(hass, "switch", car, "charging_switch"))
    await call(hass, "number", SERVICE_SET_VALUE, ours(hass, "number", car, "charge_limit"), 90)
    assert car.calls == ["charge_start", "charge_stop", "set_charge_limit"]
    assert car.limit == 90
    assert state_of(hass, ours(hass, "number", car, "charge_limit")) == "90"


# --- any other integration, reconfigure, options, failures -----------------------------------


async def test_any_other_integration_by_device_class_and_buttons(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Unknown to FlexCharging: proposed by device class; start and stop buttons drive it."""
    freezer.move_to(FROZEN_NOW)
    car = await async_add_fake_tesla(hass, platform_name="another_ev")
    result = await start_vehicle_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: car.device_id}
    )
    assert suggested(result) == {
        "battery_level": "sensor.scotty_battery_level",
        "charge_power": "sensor.scotty_charger_power",
    }
    mapping = {
        "battery_level": "sensor.scotty_battery_level",
        "plugged_in": "binary_sensor.scotty_charge_cable",
        "start_button": "button.scotty_start_charging",
        "stop_button": "button.scotty_stop_charging",
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], mapping)
    assert result["errors"] == {"charging_state": "charging_state_needed"}
    mapping["charging_state"] = "sensor.scotty_charging"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], mapping)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    registry = er.async_get(hass)
    for domain, key in (("number", "charge_limit"), ("sensor", "charge_power")):
        assert registry.async_get_entity_id(domain, DOMAIN, f"{car.device_id}_{key}") is None

    charging = ours(hass, "switch", car, "charging_switch")
    assert state_of(hass, charging) == STATE_OFF
    await call(hass, "switch", SERVICE_TURN_ON, charging)
    assert car.calls == ["charge_start"]
    assert state_of(hass, charging) == STATE_OFF  # until the car says so
    freezer.tick(timedelta(seconds=10))
    car.report()
    await hass.async_block_till_done()
    assert state_of(hass, charging) == STATE_ON
    await call(hass, "switch", SERVICE_TURN_OFF, charging)
    assert car.calls == ["charge_start", "charge_stop"]


async def test_reconfigure_maps_the_entities_again(hass: HomeAssistant, night: FakeTesla) -> None:
    """Reconfigure shows the current mapping; a new one is saved and the entry reloaded."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "vehicle_entities"
    assert suggested(result) == MAPPING
    without_power = {k: v for k, v in MAPPING.items() if k != "charge_power"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], without_power)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_VEHICLE_ENTITIES] == without_power
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is config_entries.ConfigEntryState.LOADED


async def test_the_vehicle_device_is_removed(hass: HomeAssistant, night: FakeTesla) -> None:
    """Its device deleted while running: the FlexCharging entry, its device and entities go."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert entities
    dr.async_get(hass).async_remove_device(night.device_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.config_entries.async_get_entry(entry.entry_id) is None
    assert not dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert all(hass.states.get(entity.entity_id) is None for entity in entities)


async def test_the_vehicle_device_is_gone_at_setup(hass: HomeAssistant, night: FakeTesla) -> None:
    """Its device gone while Home Assistant was off: reconfigure says so, and so does setup."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await hass.config_entries.async_unload(entry.entry_id)
    dr.async_get(hass).async_remove_device(night.device_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "vehicle_gone"
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is config_entries.ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert entry.reason.startswith("The vehicle's device is no longer in Home Assistant")


async def test_options_have_no_smartcar_plan(hass: HomeAssistant, night: FakeTesla) -> None:
    """The options of a vehicle from another integration: prices, notify and solar only."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert [str(key) for key in result["data_schema"].schema] == [
        CONF_PRICE_SOURCE,
        "notify_target",
        "solar_source",
        "calendar_entity",
        "calendar_keyword",
    ]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_SOURCE: "none"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_PRICE_SOURCE: "none"}


async def test_a_refused_command_says_why(hass: HomeAssistant, night: FakeTesla) -> None:
    """The other integration's error reaches the user, translated; the command is counted."""
    night.refuse = True
    with pytest.raises(HomeAssistantError) as caught:
        await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", night, "charging_switch"))
    assert caught.value.translation_key == "command_failed"
    assert caught.value.translation_placeholders == {
        "vehicle": "Scotty",
        "error": "The vehicle refused the command",
    }
    assert state_of(hass, ours(hass, "sensor", night, "commands_sent")) == "1"


async def test_diagnostics_of_a_vehicle_from_another_integration(
    hass: HomeAssistant, night: FakeTesla, hass_client: Any
) -> None:
    """The entry's mapping and the vehicle, no Smartcar budget or webhook."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    # Entity ids are not secret, but "location" is redacted wherever it appears.
    assert diagnostics["entry"]["data"][CONF_VEHICLE_ENTITIES] == {
        **MAPPING,
        "location": "**REDACTED**",
    }
    assert "budget" not in diagnostics
    (vehicle,) = diagnostics["vehicles"]
    assert vehicle["info"]["name"] == "Scotty"


async def test_removing_the_entry_deletes_its_stores(
    hass: HomeAssistant, night: FakeTesla, hass_storage: dict[str, Any]
) -> None:
    """The command count and the smart-charging settings go with the entry."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", night, "charging_switch"))
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    keys = {storage_key(entry.entry_id, name) for name in ("commands", "smart_charging")}
    assert keys <= set(hass_storage)
    assert hass_storage[storage_key(entry.entry_id, "commands")]["data"]["usage"] == {
        night.device_id: 1
    }
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not keys & set(hass_storage)


async def test_repeated_reports_count_only_after_a_command(
    hass: HomeAssistant, night: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """A streaming integration repeats its values: no new plan for each, but a command's answer."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    coordinator = entry.runtime_data.coordinator
    updates: list[None] = []
    entry.async_on_unload(coordinator.async_add_listener(lambda: updates.append(None)))
    # Device trackers write a state change on every report; the other entities do not.
    battery, charging = (
        next(e for e in night.entities if isinstance(e, kind))
        for kind in (BatteryLevel, ChargingState)
    )
    freezer.tick(timedelta(seconds=5))
    battery.sync()
    await hass.async_block_till_done()
    assert updates == []
    assert coordinator.data[night.device_id].state.battery_level.oem_updated_at == dt_util.utcnow()

    night.asleep = True
    await call(hass, "switch", SERVICE_TURN_ON, ours(hass, "switch", night, "charging_switch"))
    updates.clear()
    freezer.tick(timedelta(seconds=5))
    charging.sync()  # "stopped" again: the car's answer to the start
    await hass.async_block_till_done()
    assert updates
    vehicle = coordinator.data[night.device_id]
    assert vehicle.charging is False
    assert vehicle.charging_updated_at == dt_util.utcnow()


async def test_unavailable_while_its_entities_are(
    hass: HomeAssistant, night: FakeTesla, caplog: pytest.LogCaptureFixture
) -> None:
    """The car's level and plug unavailable: FlexCharging's entities too; logged once each way."""
    battery = ours(hass, "sensor", night, "battery_level")
    for entity_id in (MAPPING["battery_level"], MAPPING["plugged_in"]):
        hass.states.async_set(entity_id, "unavailable")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, battery) == "unavailable"
    assert state_of(hass, ours(hass, "sensor", night, "smart_charging_status")) == "no_data"
    night.report()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, battery) == "60.0"
    assert caplog.text.count("Scotty is unavailable: entities_unavailable") == 1
    assert caplog.text.count("Scotty is available again") == 1
