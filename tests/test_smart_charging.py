"""Smart charging end to end: Home Assistant, the planner and the executor against the emulator.

Home Assistant's clock and the emulator's move together (`advance`); prices come from a price
sensor in the generic `{start, end, price}` format. The test time zone is US/Pacific: the frozen
start, 2026-06-10 09:30 UTC, is 02:30 on a Wednesday; "ready by" 07:00 is 14:00 UTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.components.time import DOMAIN as TIME_DOMAIN, SERVICE_SET_VALUE as SET_TIME
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_TIME,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_mock_service,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.flexcharging.api import ChargingStatus, Location, Signal, SignalStatus
from custom_components.flexcharging.const import (
    CONF_NOTIFY_TARGET,
    CONF_OFFPEAK_PRICE,
    CONF_PEAK_PRICE,
    CONF_PRICE_ENTITIES,
    CONF_PRICE_SOURCE,
    CONF_READ_LOCATION,
    CONF_REQUEST_BUDGET,
    CONF_WEEKDAY_PEAK_END,
    CONF_WEEKDAY_PEAK_START,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
    EVENT_CHARGING_DECISION,
    EVENT_CHARGING_PROBLEM,
    EVENT_PLAN_AT_RISK,
    PRICE_SOURCE_ENTITIES,
    PRICE_SOURCE_SCHEDULE,
)
from custom_components.flexcharging.issues import plan_at_risk_issue_id
from custom_components.flexcharging.smart_charging import Hold, SmartChargingManager
from custom_components.flexcharging.smart_charging.policy import RETRY_AFTER
from emulator import MODEL_S_ID, MODEL_Y_ID
from tests.common import FROZEN_NOW, Emulator, entry_data, setup_integration

type Advance = Callable[[timedelta], Awaitable[None]]

PRICE_ENTITY = "sensor.electricity_price"
VEHICLE = "2024_tesla_model_y"
MANAGED = f"switch.{VEHICLE}_managed_charging"
CHARGING_SWITCH = f"switch.{VEHICLE}_charging"
PLANNED = f"binary_sensor.{VEHICLE}_charging_planned_now"
STATUS = f"sensor.{VEHICLE}_smart_charging_status"
DECISION = f"sensor.{VEHICLE}_last_smart_charging_decision"
NEXT_START = f"sensor.{VEHICLE}_next_charge_start"
NEXT_END = f"sensor.{VEHICLE}_next_charge_end"
COST = f"sensor.{VEHICLE}_estimated_charging_cost"
SAVINGS = f"sensor.{VEHICLE}_estimated_savings"
TARGET = f"number.{VEHICLE}_target_charge"
MINIMUM = f"number.{VEHICLE}_minimum_charge"
START_NOW = f"button.{VEHICLE}_start_charging_now"
READY_WEDNESDAY = f"time.{VEHICLE}_ready_by_wednesday"

HOUR = timedelta(hours=1)
PRICE_START = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # 02:00 local
# 02:00 .30, 03:00 .25, 04:00 .05, 05:00 .06, then .40 for a day.
PRICES = [0.30, 0.25, 0.05, 0.06] + [0.40] * 26
CHEAP_START = PRICE_START + 2 * HOUR  # 11:00 UTC


def price_attributes(prices: list[float], start: datetime = PRICE_START) -> dict[str, Any]:
    """A price sensor's attributes in the generic format."""
    return {
        "unit_of_measurement": "EUR/kWh",
        "prices": [
            {
                "start": (start + i * HOUR).isoformat(),
                "end": (start + (i + 1) * HOUR).isoformat(),
                "price": price,
            }
            for i, price in enumerate(prices)
        ],
    }


@pytest.fixture
def smart_entry(hass: HomeAssistant, frozen_emulator: Emulator) -> MockConfigEntry:
    """The config entry with a price sensor as the price source (the sensor is set)."""
    hass.states.async_set(PRICE_ENTITY, "0.30", price_attributes(PRICES))
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
async def smart(
    hass: HomeAssistant,
    credentials: None,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    smart_entry: MockConfigEntry,
) -> SmartChargingManager:
    """FlexCharging set up with smart charging available (not yet turned on)."""
    await setup_integration(hass, smart_entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    return smart_entry.runtime_data.smart_charging


@pytest.fixture
def advance(frozen_emulator: Emulator, advance_time: Advance) -> Advance:
    """Move the emulator's clock and Home Assistant's together."""

    async def _advance(delta: timedelta) -> None:
        frozen_emulator.state.advance(delta.total_seconds())
        await advance_time(delta)

    return _advance


async def advance_to(advance: Advance, moment: datetime) -> None:
    """Move both clocks to `moment`, a minute at a time (timers fire as they would)."""
    from homeassistant.util import dt as dt_util

    while (left := moment - dt_util.utcnow()) > timedelta(0):
        await advance(min(left, timedelta(minutes=1)))


def commands(emulator: Emulator, action: str) -> int:
    """How many charge commands of one kind the emulator carried out (billed; all vehicles).

    Rejected attempts (an expired token, answered 401 and retried) do not count.
    """
    return emulator.state.requests.billable_by_path[
        f"POST /v3/vehicles/{{vehicle_id}}/commands/charge/{action}"
    ]


def attempts(emulator: Emulator, action: str) -> int:
    """How many charge commands of one kind reached the emulator, refused ones included."""
    return emulator.state.requests.by_path[
        f"POST /v3/vehicles/{{vehicle_id}}/commands/charge/{action}"
    ]


async def call(hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any) -> None:
    """Call an entity service and wait for what follows."""
    await hass.services.async_call(
        domain, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)


async def manage(hass: HomeAssistant, target: int = 75) -> None:
    """Set the target and turn managed charging on for the Model Y."""
    await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, TARGET, **{ATTR_VALUE: target})
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, MANAGED)


async def refresh(hass: HomeAssistant, smart: SmartChargingManager, vehicle_id: str) -> None:
    """Read a vehicle now (as a poll would) and let smart charging react."""
    await smart.coordinator.async_refresh_vehicle(vehicle_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def replug(hass: HomeAssistant, smart: SmartChargingManager, emulator: Emulator) -> None:
    """The Model Y is unplugged, and plugged in again a minute later (each read at once)."""
    state = emulator.state
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False})
    await refresh(hass, smart, MODEL_Y_ID)
    state.advance(60)
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True})
    await refresh(hass, smart, MODEL_Y_ID)


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """An entity's state (it must exist)."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


# --- off by default --------------------------------------------------------------------------


async def test_off_by_default_leaves_the_car_alone(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """Managed charging starts off: no plan, no command, whatever the prices."""
    assert state_of(hass, MANAGED) == STATE_OFF
    assert state_of(hass, STATUS) == "off"
    assert state_of(hass, PLANNED) == STATE_OFF
    assert state_of(hass, NEXT_START) == "unknown"
    await advance_to(advance, CHEAP_START + 10 * timedelta(minutes=1))
    assert commands(frozen_emulator, "start") == 0
    assert frozen_emulator.state.vehicles[MODEL_Y_ID].charging is False


# --- the plan and its execution --------------------------------------------------------------


async def test_plan_is_shown_and_carried_out(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """The cheapest hours are planned, started at their start and stopped at the target."""
    events = async_capture_events(hass, EVENT_CHARGING_DECISION)
    await manage(hass, target=75)

    # 62 % → 75 % at the default 10 %/h (the car has not reported its power yet): 1.3 h,
    # in the cheapest hour (.05, 11:00) and the next cheapest (.06) right after it.
    assert state_of(hass, STATUS) == "waiting"
    assert state_of(hass, PLANNED) == STATE_OFF
    assert state_of(hass, NEXT_START) == "2026-06-10T11:00:00+00:00"
    assert state_of(hass, NEXT_END) == "2026-06-10T12:18:00+00:00"
    planned = hass.states.get(PLANNED)
    assert planned is not None
    dispatches = planned.attributes["planned_dispatches"]
    assert len(dispatches) == 1
    assert dispatches[0]["start"] == CHEAP_START
    assert dispatches[0]["charge_in_kwh"] == pytest.approx(9.75)
    # 7.5 kWh at .05 + 2.25 kWh at .06
    assert float(state_of(hass, COST)) == pytest.approx(0.375 + 0.135)
    cost = hass.states.get(COST)
    assert cost is not None
    assert cost.attributes["unit_of_measurement"] == "EUR"
    assert float(state_of(hass, SAVINGS)) > 1.5
    assert commands(frozen_emulator, "start") == 0
    car = frozen_emulator.state.vehicles[MODEL_Y_ID]

    await advance_to(advance, CHEAP_START)
    assert commands(frozen_emulator, "start") == 1
    assert car.charging is True
    assert state_of(hass, STATUS) == "charging"
    assert state_of(hass, PLANNED) == STATE_ON
    assert state_of(hass, DECISION) == "start_plan"

    # The car reports 11 kW on 75 kWh (14.7 %/h): the plan ends earlier, and charging stops at
    # the target (one start, one stop).
    await advance_to(advance, CHEAP_START + HOUR + 10 * timedelta(minutes=1))
    assert commands(frozen_emulator, "start") == 1
    assert commands(frozen_emulator, "stop") == 1
    assert car.charging is False
    assert car.soc == pytest.approx(75, abs=1.5)
    assert state_of(hass, DECISION) == "stop_target"
    assert state_of(hass, STATUS) == "target_reached"
    assert [event.data["decision"] for event in events] == ["start_plan", "stop_target"]
    assert events[0].data["entity_id"] == DECISION
    assert events[0].data["vehicle"] == "2024 Tesla Model Y"


async def test_smart_charging_commands_are_counted_for_the_budget(
    hass: HomeAssistant,
    smart: SmartChargingManager,
    frozen_emulator: Emulator,
    advance: Advance,
    hass_storage: dict[str, Any],
) -> None:
    """The plan's start and stop are counted for the month and kept (the poll budget reserves
    their rate, budget.commands_reserve); the user's own command is not smart charging's."""
    await manage(hass)
    await advance_to(advance, CHEAP_START + HOUR + 10 * timedelta(minutes=1))
    assert (commands(frozen_emulator, "start"), commands(frozen_emulator, "stop")) == (1, 1)
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, CHARGING_SWITCH)
    assert commands(frozen_emulator, "start") == 2
    await advance_to(advance, CHEAP_START + 2 * HOUR)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}.usage"]["data"]
    assert stored["smart_commands"] == {MODEL_Y_ID: 2}
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data.coordinator.usage.smart_commands == {MODEL_Y_ID: 2}


async def test_replans_when_prices_change(hass: HomeAssistant, smart: SmartChargingManager) -> None:
    """A new price list moves the plan at once."""
    await manage(hass)
    cheaper_later = [0.30, 0.25, 0.40, 0.02, 0.01] + [0.40] * 24
    hass.states.async_set(PRICE_ENTITY, "0.30", price_attributes(cheaper_later))
    await hass.async_block_till_done(wait_background_tasks=True)
    # 1.3 h: the last hour before 07:00 local, and the end of the hour before it.
    assert state_of(hass, NEXT_START) == "2026-06-10T12:42:00+00:00"
    assert state_of(hass, NEXT_END) == "2026-06-10T14:00:00+00:00"


async def test_settings_change_the_plan_and_survive_a_reload(
    hass: HomeAssistant, smart: SmartChargingManager, smart_entry: MockConfigEntry, advance: Advance
) -> None:
    """Target, minimum and ready-by time feed the plan, and are kept over a restart."""
    await manage(hass, target=75)
    # A minimum above the battery level: charge at once up to it.
    await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, MINIMUM, **{ATTR_VALUE: 70})
    assert state_of(hass, NEXT_START) == FROZEN_NOW.isoformat()
    await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, MINIMUM, **{ATTR_VALUE: 0})
    # Ready by 04:30 local (11:30 UTC): only half of the cheap hour is left before it.
    await call(hass, TIME_DOMAIN, SET_TIME, READY_WEDNESDAY, **{ATTR_TIME: "04:30:00"})
    assert state_of(hass, READY_WEDNESDAY) == "04:30:00"
    assert state_of(hass, NEXT_END) == "2026-06-10T11:30:00+00:00"

    await advance(timedelta(seconds=10))  # the store writes after a short delay
    assert await hass.config_entries.async_reload(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, MANAGED) == STATE_ON
    assert state_of(hass, TARGET) == "75"
    assert state_of(hass, MINIMUM) == "0"
    assert state_of(hass, READY_WEDNESDAY) == "04:30:00"


async def test_fractional_percentages_are_refused(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """Target and minimum are whole percentages."""
    with pytest.raises(HomeAssistantError):
        await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, TARGET, **{ATTR_VALUE: 70.5})
    assert state_of(hass, TARGET) == "80"


# --- the car and the user --------------------------------------------------------------------


async def test_auto_start_on_plug_in_is_stopped(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """A Tesla starts charging when plugged in; outside the plan it is stopped (once)."""
    await manage(hass)
    state = frozen_emulator.state
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False})
    await refresh(hass, smart, MODEL_Y_ID)
    assert state_of(hass, STATUS) == "unplugged"
    assert state_of(hass, PLANNED) == STATE_OFF

    state.advance(60)
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": True})
    await refresh(hass, smart, MODEL_Y_ID)
    assert commands(frozen_emulator, "stop") == 1
    assert state.vehicles[MODEL_Y_ID].charging is False
    assert state_of(hass, DECISION) == "stop_auto_start"
    assert state_of(hass, STATUS) == "waiting"


async def test_charging_started_elsewhere_is_left_alone(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """Charging started in the car's app while plugged in is the user's: no stop."""
    await manage(hass)
    state = frozen_emulator.state
    state.advance(60)
    state.patch_vehicle(MODEL_Y_ID, {"charging": True})
    await refresh(hass, smart, MODEL_Y_ID)
    assert commands(frozen_emulator, "stop") == 0
    assert state_of(hass, STATUS) == "manual"
    assert state_of(hass, DECISION) == "user_took_over"
    decision = hass.states.get(DECISION)
    assert decision is not None
    assert decision.attributes["detail"] == "charging_started_elsewhere"
    await advance_to(advance, CHEAP_START + 2 * HOUR)
    assert commands(frozen_emulator, "stop") == 0
    assert commands(frozen_emulator, "start") == 0


async def test_charging_switch_takes_over_until_unplugged(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """Stopping by hand holds until the next plug-in; then the plan runs again."""
    await manage(hass)
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, CHARGING_SWITCH)
    assert state_of(hass, STATUS) == "manual"
    await advance_to(advance, CHEAP_START + timedelta(minutes=5))
    assert commands(frozen_emulator, "start") == 0

    await replug(hass, smart, frozen_emulator)
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, DECISION) == "start_plan"


async def test_start_now_overrides_until_unplugged(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """ "Start charging now" charges outside the plan; unplugging ends it."""
    await manage(hass)
    await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, STATUS) == "override"
    assert state_of(hass, PLANNED) == STATE_ON
    assert state_of(hass, DECISION) == "start_override"

    state = frozen_emulator.state
    state.advance(60)
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False})
    await refresh(hass, smart, MODEL_Y_ID)
    assert state_of(hass, STATUS) == "unplugged"
    assert smart.vehicle(MODEL_Y_ID).session.hold is not Hold.OVERRIDE
    assert commands(frozen_emulator, "stop") == 0

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    assert err.value.translation_key == "not_plugged_in"


async def test_start_now_without_management_just_starts(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """With managed charging off the button is a plain start."""
    await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, STATUS) == "off"


async def test_unplug_mid_plan(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """Unplugged while charging as planned: nothing to stop, the plan is gone."""
    await manage(hass)
    await advance_to(advance, CHEAP_START + timedelta(minutes=5))
    assert commands(frozen_emulator, "start") == 1
    state = frozen_emulator.state
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False})
    await refresh(hass, smart, MODEL_Y_ID)
    assert state_of(hass, STATUS) == "unplugged"
    assert state_of(hass, PLANNED) == STATE_OFF
    assert state_of(hass, NEXT_START) == "unknown"
    await advance_to(advance, CHEAP_START + 2 * HOUR)
    assert commands(frozen_emulator, "stop") == 0


# --- commands that fail ----------------------------------------------------------------------


async def test_missing_key_fails_the_start_once_retried(
    hass: HomeAssistant,
    smart: SmartChargingManager,
    frozen_emulator: Emulator,
    advance: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The key is removed: the start fails, is retried once, and then the failure is shown."""
    await manage(hass)
    frozen_emulator.state.set_key(MODEL_Y_ID, paired=False)
    await advance_to(advance, CHEAP_START)
    assert attempts(frozen_emulator, "start") == 1
    decision = hass.states.get(DECISION)
    assert decision is not None
    assert decision.state == "start_plan"
    assert decision.attributes["detail"] == "failed: virtual_key_missing"
    assert any(
        issue.translation_key == "virtual_key_missing" for issue in issue_registry.issues.values()
    )

    await advance_to(advance, CHEAP_START + RETRY_AFTER + timedelta(minutes=1))
    assert attempts(frozen_emulator, "start") == 2
    assert state_of(hass, DECISION) == "start_failed"
    assert state_of(hass, STATUS) == "start_failed"
    await advance_to(advance, CHEAP_START + HOUR)
    assert attempts(frozen_emulator, "start") == 2  # no third try in this block


def problem_issue(issue_registry: ir.IssueRegistry) -> ir.IssueEntry | None:
    """The watchdog's repair issue, if raised."""
    issues = [
        issue
        for issue in issue_registry.issues.values()
        if issue.domain == DOMAIN and (issue.translation_key or "").startswith("charging_problem_")
    ]
    assert len(issues) <= 1
    return issues[0] if issues else None


async def test_watchdog_reports_a_missing_key_and_clears_when_charging(
    hass: HomeAssistant,
    smart: SmartChargingManager,
    frozen_emulator: Emulator,
    advance: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Start refused twice (no key): a repair and an event with the cause; charging clears it."""
    problems = async_capture_events(hass, EVENT_CHARGING_PROBLEM)
    await manage(hass)
    frozen_emulator.state.set_key(MODEL_Y_ID, paired=False)
    await advance_to(advance, CHEAP_START)
    assert problem_issue(issue_registry) is None  # the first refusal is retried first
    await advance_to(advance, CHEAP_START + RETRY_AFTER + timedelta(minutes=1))
    issue = problem_issue(issue_registry)
    assert issue is not None
    assert issue.translation_key == "charging_problem_no_key"
    assert issue.translation_placeholders == {"vehicle": "2024 Tesla Model Y"}
    assert [event.data["cause"] for event in problems] == ["no_key"]
    assert problems[0].data["action"] == "start"
    assert problems[0].data["vehicle"] == "2024 Tesla Model Y"
    assert problems[0].data["device_id"] is not None

    # The user adds the key and starts the car: it charges, the repair goes.
    frozen_emulator.state.set_key(MODEL_Y_ID, paired=True)
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, CHARGING_SWITCH)
    await refresh(hass, smart, MODEL_Y_ID)
    assert problem_issue(issue_registry) is None
    assert len(problems) == 1


@pytest.mark.parametrize(
    ("wakes_in_time", "starts"),
    [(True, 1), (False, 2)],
    ids=["command_wakes_the_car", "car_wakes_too_slowly"],
)
async def test_asleep_car_is_started(
    hass: HomeAssistant,
    *,
    smart: SmartChargingManager,
    frozen_emulator: Emulator,
    advance: Advance,
    issue_registry: ir.IssueRegistry,
    wakes_in_time: bool,
    starts: int,
) -> None:
    """Smartcar wakes an asleep car for a command, or answers ASLEEP: then the retry works."""
    problems = async_capture_events(hass, EVENT_CHARGING_PROBLEM)
    await manage(hass)
    frozen_emulator.state.patch_vehicle(
        MODEL_Y_ID, {"asleep": True, "wakes_in_time": wakes_in_time}
    )
    await advance_to(advance, CHEAP_START)
    if not wakes_in_time:
        decision = hass.states.get(DECISION)
        assert decision is not None
        assert decision.attributes["detail"] == "failed: vehicle_asleep"
        assert frozen_emulator.state.vehicles[MODEL_Y_ID].charging is False
        await advance_to(advance, CHEAP_START + RETRY_AFTER + timedelta(minutes=1))
        assert state_of(hass, DECISION) == "retry_start"
    assert frozen_emulator.state.vehicles[MODEL_Y_ID].charging is True
    assert attempts(frozen_emulator, "start") == starts
    assert state_of(hass, STATUS) == "charging"
    assert problem_issue(issue_registry) is None
    assert problems == []


async def test_asleep_twice_is_reported_as_asleep(
    hass: HomeAssistant,
    smart: SmartChargingManager,
    frozen_emulator: Emulator,
    advance: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The car stays asleep for the retry too: the repair says so, and the phone is told."""
    sent = async_mock_service(hass, "notify", "mobile_app_phone")
    await notify_to(hass, "notify.mobile_app_phone")
    await manage(hass)
    frozen_emulator.state.add_fault(
        "http_409_asleep", vehicle_id=MODEL_Y_ID, path="/commands/charge/start", count=2
    )
    await advance_to(advance, CHEAP_START + RETRY_AFTER + timedelta(minutes=1))
    issue = problem_issue(issue_registry)
    assert issue is not None
    assert issue.translation_key == "charging_problem_asleep"
    assert len(sent) == 1
    assert sent[0].data["title"] == "2024 Tesla Model Y: charging problem"
    assert sent[0].data["message"] == (
        "2024 Tesla Model Y did not start charging as planned (asleep). See Repairs."
    )
    device_id = device_of(hass)
    assert sent[0].data["data"] == {
        "actions": [
            {"action": f"FLEXCHARGING:charge_now:{device_id}", "title": "Charge now"},
            {"action": f"FLEXCHARGING:skip:{device_id}", "title": "Skip tonight"},
            {"action": f"FLEXCHARGING:ignore:{device_id}", "title": "Ignore"},
        ]
    }


def device_of(hass: HomeAssistant) -> str:
    """The Model Y's device id."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, MODEL_Y_ID), entry.entry_id)
    assert device is not None
    return device.id


@pytest.mark.parametrize(
    ("answer", "hold"),
    [("charge_now", Hold.OVERRIDE), ("skip", Hold.USER), ("ignore", Hold.PLAN)],
)
async def test_notification_answers(
    hass: HomeAssistant,
    *,
    smart: SmartChargingManager,
    issue_registry: ir.IssueRegistry,
    answer: str,
    hold: Hold,
) -> None:
    """A tapped button of the Mobile App's notification answers the plan at risk."""
    await plan_short(hass)
    hass.bus.async_fire("mobile_app_notification_action", {"action": "OTHER_APP:charge_now:x"})
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": f"FLEXCHARGING:{answer}:unknown-device"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, AT_RISK) == "on"

    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": f"FLEXCHARGING:{answer}:{device_of(hass)}"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert smart.vehicle(MODEL_Y_ID).session.hold is hold
    assert state_of(hass, AT_RISK) == "off"
    assert issue_registry.async_get_issue(DOMAIN, plan_at_risk_issue_id(MODEL_Y_ID)) is None
    if answer == "skip":
        decision = hass.states.get(DECISION)
        assert decision is not None
        assert (decision.state, decision.attributes["detail"]) == (
            "user_took_over",
            "skip_tonight",
        )


@pytest.mark.parametrize("target", ["notify.mobile_app_phone", None], ids=["phone", "no_target"])
async def test_a_failed_answer_is_said_and_the_warnings_stay(
    hass: HomeAssistant,
    *,
    smart: SmartChargingManager,
    frozen_emulator: Emulator,
    advance: Advance,
    issue_registry: ir.IssueRegistry,
    target: str | None,
) -> None:
    """Charge now, tapped while the car stays asleep: the user is told; nothing is cleared."""
    sent = async_mock_service(hass, "notify", "mobile_app_phone")
    shown: list[dict[str, Any]] = []
    persistent_notification.async_register_callback(
        hass, lambda _, notifications: shown.extend(notifications.values())
    )
    if target:
        await notify_to(hass, target)
    frozen_emulator.state.add_fault(
        "http_409_asleep", vehicle_id=MODEL_Y_ID, path="/commands/charge/start", count=3
    )
    await plan_short(hass)  # the planned start and its retry are refused: the watchdog says so
    await advance_to(advance, dt_now() + RETRY_AFTER + timedelta(minutes=1))
    assert state_of(hass, AT_RISK) == "on"
    assert problem_issue(issue_registry) is not None

    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": f"FLEXCHARGING:charge_now:{device_of(hass)}"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert attempts(frozen_emulator, "start") == 3  # Charge now tried again, in vain
    assert state_of(hass, AT_RISK) == "on"
    assert issue_registry.async_get_issue(DOMAIN, plan_at_risk_issue_id(MODEL_Y_ID)) is not None
    problem = problem_issue(issue_registry)
    assert problem is not None
    assert problem.translation_key == "charging_problem_asleep"
    told = [call.data for call in sent] if target else shown
    assert told[-1]["title"] == "2024 Tesla Model Y: could not charge now"
    assert told[-1]["message"].startswith(
        "Your answer to charge 2024 Tesla Model Y now could not be carried out: "
        "2024 Tesla Model Y is asleep"
    )


async def notify_to(hass: HomeAssistant, target: str) -> None:
    """Choose where notifications go (as the options flow does; the entry reloads)."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_NOTIFY_TARGET: target}
    )
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_start_without_effect_is_retried_once_then_reported(
    hass: HomeAssistant,
    smart: SmartChargingManager,
    frozen_emulator: Emulator,
    advance: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Smartcar accepts the start but the car does not charge: one retry, then it says so."""
    await manage(hass)
    await advance_to(advance, CHEAP_START)
    state = frozen_emulator.state
    assert commands(frozen_emulator, "start") == 1
    for expected in (2, 2):
        state.advance(60)
        state.patch_vehicle(MODEL_Y_ID, {"charging": False})
        await refresh(hass, smart, MODEL_Y_ID)
        await advance_to(advance, dt_now() + RETRY_AFTER)
        assert commands(frozen_emulator, "start") == expected
    assert state_of(hass, DECISION) == "start_failed"
    decision = hass.states.get(DECISION)
    assert decision is not None
    assert decision.attributes["detail"] == "no_effect"
    issue = problem_issue(issue_registry)
    assert issue is not None
    assert issue.translation_key == "charging_problem_no_effect"

    # The car starts after all: the plan is followed, the repair clears itself.
    state.advance(60)
    state.patch_vehicle(MODEL_Y_ID, {"charging": True})
    await refresh(hass, smart, MODEL_Y_ID)
    assert state_of(hass, STATUS) == "charging"
    assert problem_issue(issue_registry) is None


def dt_now() -> datetime:
    """Home Assistant's now."""
    from homeassistant.util import dt as dt_util

    return dt_util.utcnow()


# --- where and what ----------------------------------------------------------------------------


async def test_away_from_home_is_not_managed(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """A car that reports it is not at home is left alone."""
    frozen_emulator.state.patch_vehicle(MODEL_S_ID, {"plugged_in": True, "charging": True})
    await refresh(hass, smart, MODEL_S_ID)
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, "switch.2019_tesla_model_s_managed_charging")
    assert state_of(hass, "sensor.2019_tesla_model_s_smart_charging_status") == "away"
    assert frozen_emulator.state.vehicles[MODEL_S_ID].charging is True


async def test_rate_schedule_prices(
    hass: HomeAssistant,
    credentials: None,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    smart_entry: MockConfigEntry,
) -> None:
    """A typed time-of-use schedule plans outside the peak, costed in Home Assistant's currency."""
    hass.config_entries.async_update_entry(
        smart_entry,
        options={
            CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET,
            CONF_PRICE_SOURCE: PRICE_SOURCE_SCHEDULE,
            CONF_OFFPEAK_PRICE: 0.1,
            CONF_PEAK_PRICE: 0.5,
            CONF_WEEKDAY_PEAK_START: "02:00:00",
            CONF_WEEKDAY_PEAK_END: "05:00:00",
        },
    )
    assert await hass.config_entries.async_setup(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await manage(hass, target=75)
    # Peak until 05:00 local (12:00 UTC); 1.3 h off-peak from then, before 07:00.
    assert state_of(hass, NEXT_START) == "2026-06-10T12:00:00+00:00"
    cost = hass.states.get(COST)
    assert cost is not None
    assert float(cost.state) == pytest.approx(9.75 * 0.1)
    assert cost.attributes["unit_of_measurement"] == hass.config.currency


async def test_unavailable_price_entity_keeps_its_last_prices(
    hass: HomeAssistant, smart: SmartChargingManager, issue_registry: ir.IssueRegistry
) -> None:
    """Prices carry their times: while the entity is unavailable the last ones still count."""
    await manage(hass)
    hass.states.async_set(PRICE_ENTITY, "unavailable", {})
    await hass.async_block_till_done(wait_background_tasks=True)
    issue_id = f"price_entity_unusable_{smart.entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert state_of(hass, NEXT_START) == "2026-06-10T11:00:00+00:00"


@pytest.mark.usefixtures("credentials", "frozen_emulator", "connected_fleet")
async def test_price_entity_never_read_raises_an_issue(
    hass: HomeAssistant, smart_entry: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """No prices known at all: the car charges at once, and a repair issue says why."""
    hass.states.async_remove(PRICE_ENTITY)
    assert await hass.config_entries.async_setup(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await manage(hass)
    issue_id = f"price_entity_unusable_{smart_entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"entities": PRICE_ENTITY}
    assert state_of(hass, NEXT_START) == FROZEN_NOW.isoformat()

    hass.states.async_set(PRICE_ENTITY, "0.30", price_attributes(PRICES))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert state_of(hass, NEXT_START) == "2026-06-10T11:00:00+00:00"

    # Choosing other prices reloads the entry: nothing stale is left behind.
    hass.states.async_remove(PRICE_ENTITY)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_reload(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    hass.config_entries.async_update_entry(
        smart_entry, options={CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET}
    )
    assert await hass.config_entries.async_reload(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_start_now_says_at_once_when_the_car_refuses(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """The override's first start fails: the button press fails with the reason."""
    await manage(hass)
    frozen_emulator.state.set_key(MODEL_Y_ID, paired=False)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    assert err.value.translation_key == "virtual_key_missing"
    assert state_of(hass, STATUS) == "override"


async def test_override_ends_at_the_target(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """Start charging now holds until the target, then the plan (empty) takes over again."""
    await manage(hass, target=70)
    await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    assert state_of(hass, STATUS) == "override"
    await advance_to(advance, FROZEN_NOW + HOUR)
    assert smart.vehicle(MODEL_Y_ID).session.hold is not Hold.OVERRIDE
    assert state_of(hass, DECISION) == "stop_target"
    assert frozen_emulator.state.vehicles[MODEL_Y_ID].charging is False
    # The car reported its power while charging: 11 kW.
    assert smart.vehicle(MODEL_Y_ID).learned.power_kw == pytest.approx(11.0)


# --- inputs the car does not always send -------------------------------------------------------


async def set_state(hass: HomeAssistant, smart: SmartChargingManager, **signals: Any) -> None:
    """Replace some of the Model Y's signals (as a report would) and let smart charging react."""
    coordinator = smart.coordinator
    vehicle = coordinator.data[MODEL_Y_ID]
    vehicle.state = replace(vehicle.state, **signals)
    coordinator.async_set_updated_data(dict(coordinator.data))
    await hass.async_block_till_done(wait_background_tasks=True)


def known[T](value: T) -> Signal[T]:
    """A successfully reported signal, stamped now."""
    return Signal(value=value, status=SignalStatus.SUCCESS, oem_updated_at=dt_now())


async def test_unknown_battery_level_waits_for_data(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """No battery level: no plan, and the status says why."""
    await manage(hass)
    await set_state(hass, smart, battery_level=Signal())
    assert state_of(hass, STATUS) == "no_data"
    assert state_of(hass, NEXT_START) == "unknown"
    await set_state(hass, smart, plugged_in=Signal())
    assert state_of(hass, STATUS) == "no_data"


async def test_unknown_charging_state_sends_nothing(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """While the car's charging state is unknown the executor only plans."""
    await manage(hass)
    await set_state(
        hass, smart, charging_status=Signal(), is_charging=Signal(status=SignalStatus.ERROR)
    )
    smart.coordinator.data[MODEL_Y_ID].next_poll = CHEAP_START + 3 * HOUR  # no read meanwhile
    await advance_to(advance, CHEAP_START + timedelta(minutes=2))
    assert commands(frozen_emulator, "start") == 0
    assert state_of(hass, STATUS) == "charging"  # as planned; the car will tell


async def test_car_full_below_the_target(hass: HomeAssistant, smart: SmartChargingManager) -> None:
    """The car says it is full (its own limit) though the plan wants more: nothing to start."""
    await manage(hass)
    await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    await set_state(
        hass,
        smart,
        charging_status=known(ChargingStatus.FULLY_CHARGED),
        is_charging=known(False),
        charge_limit=Signal(),
    )
    assert state_of(hass, STATUS) == "target_reached"


@pytest.mark.parametrize(
    ("latitude", "status"), [(32.87336, "waiting"), (33.5, "away")], ids=["home", "away"]
)
async def test_home_zone_when_the_car_has_no_home_flag(
    hass: HomeAssistant, smart: SmartChargingManager, latitude: float, status: str
) -> None:
    """Without `location-isathome`, the car's location against Home Assistant's home zone."""
    hass.config_entries.async_update_entry(
        smart.entry, options={**smart.entry.options, CONF_READ_LOCATION: True}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    smart = smart.entry.runtime_data.smart_charging
    hass.states.async_set(
        "zone.home", "0", {"latitude": 32.87336, "longitude": -117.22743, "radius": 100}
    )
    await manage(hass)
    await set_state(
        hass,
        smart,
        is_at_home=Signal(),
        location=known(Location(latitude=latitude, longitude=-117.22743)),
    )
    assert state_of(hass, STATUS) == status


async def test_learns_the_charge_speed_from_the_battery_level(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """Without a power reading the speed is learned from the level rising while charging."""
    await manage(hass)
    start = dt_now()
    await set_state(
        hass,
        smart,
        charging_status=known(ChargingStatus.CHARGING),
        charge_power=Signal(),
        battery_capacity=Signal(),
        battery_level=Signal(value=60.0, status=SignalStatus.SUCCESS, oem_updated_at=start),
    )
    await set_state(
        hass,
        smart,
        battery_level=Signal(
            value=66.0, status=SignalStatus.SUCCESS, oem_updated_at=start + timedelta(minutes=30)
        ),
    )
    vehicle = smart.vehicle(MODEL_Y_ID)
    assert vehicle.learned.percent_per_hour == pytest.approx(12.0)
    # Energy and cost need the battery's size: unknown here.
    assert state_of(hass, COST) == "unknown"


async def test_no_price_source_charges_at_once(
    hass: HomeAssistant,
    credentials: None,
    frozen_emulator: Emulator,
    connected_fleet: Emulator,
    smart_entry: MockConfigEntry,
) -> None:
    """Without prices the plan is to charge at once (still to the target, then stop)."""
    hass.config_entries.async_update_entry(
        smart_entry, options={CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET}
    )
    assert await hass.config_entries.async_setup(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await manage(hass)
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, COST) == "unknown"


async def test_price_entity_without_a_price_list(
    hass: HomeAssistant, smart: SmartChargingManager, issue_registry: ir.IssueRegistry
) -> None:
    """An entity whose attributes hold no prices is reported like an unavailable one."""
    hass.states.async_set(PRICE_ENTITY, "0.3", {"unit_of_measurement": "EUR/kWh"})
    await manage(hass)
    await set_state(hass, smart)  # parsed once, then taken from the cache
    assert issue_registry.async_get_issue(DOMAIN, f"price_entity_unusable_{smart.entry.entry_id}")


async def test_settings_changed_during_an_evaluation(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """Two changes at once: the second waits for the first and the plan has both."""
    await manage(hass)
    await asyncio.gather(
        smart.async_update_settings(MODEL_Y_ID, target=70),
        smart.async_update_settings(MODEL_Y_ID, minimum=65),
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, NEXT_START) == FROZEN_NOW.isoformat()  # minimum 65 > 62: at once
    assert smart.vehicle(MODEL_Y_ID).settings.target == 70


async def test_ignore_during_a_command_is_kept(
    hass: HomeAssistant,
    smart: SmartChargingManager,
    frozen_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ "Ignore this time", pressed while the plan's start is on its way to the car, is kept."""
    await call(hass, TIME_DOMAIN, SET_TIME, READY_WEDNESDAY, **{ATTR_TIME: "03:30:00"})
    in_flight, answered = asyncio.Event(), asyncio.Event()
    send = smart.coordinator.async_start_charging

    async def slow_start(vehicle_id: str, *, automatic: bool = False) -> None:
        in_flight.set()
        await answered.wait()  # Smartcar takes its time to answer
        await send(vehicle_id, automatic=automatic)

    monkeypatch.setattr(smart.coordinator, "async_start_charging", slow_start)
    enabling = asyncio.ensure_future(
        smart.async_update_settings(MODEL_Y_ID, managed=True, target=100)
    )
    await in_flight.wait()
    ignoring = asyncio.ensure_future(smart.async_ignore_risk(MODEL_Y_ID))
    await asyncio.sleep(0)
    answered.set()
    await asyncio.gather(enabling, ignoring)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, STATUS) == "charging"
    assert smart.vehicle(MODEL_Y_ID).session.risk_ignored
    assert state_of(hass, AT_RISK) == "off"


async def test_charging_switch_without_management(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """With managed charging off the charging switch is just a switch."""
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, CHARGING_SWITCH)
    assert commands(frozen_emulator, "start") == 1
    assert smart.vehicle(MODEL_Y_ID).session.hold is not Hold.USER
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, MANAGED)
    assert state_of(hass, STATUS) == "off"


async def test_prices_only_in_the_past_raise_the_issue(
    hass: HomeAssistant, smart: SmartChargingManager, issue_registry: ir.IssueRegistry
) -> None:
    """A price list that stopped yesterday is as good as none."""
    await manage(hass)
    hass.states.async_set(
        PRICE_ENTITY, "0.3", price_attributes([0.1] * 24, start=PRICE_START - timedelta(days=2))
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    issue_id = f"price_entity_unusable_{smart.entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None


async def test_diagnostics_show_the_plan(
    hass: HomeAssistant, smart: SmartChargingManager, hass_client: Any
) -> None:
    """The entry's diagnostics carry each vehicle's settings, plan and last decision."""
    await manage(hass)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, smart.entry)
    model_y = next(
        vehicle for vehicle in diagnostics["vehicles"] if vehicle["info"]["model"] == "Model Y"
    )["smart_charging"]
    assert model_y["settings"]["managed"] is True
    assert model_y["status"] == "waiting"
    assert model_y["plan"]["blocks"][0]["start"] == CHEAP_START.isoformat()
    assert model_y["plan"]["reaches_target"] is True
    assert diagnostics["price_problem"] is None


async def test_auto_start_reported_after_the_plug_is_still_stopped(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """The first report shows the plug, the next one the car's own start: still stopped."""
    await manage(hass)
    await replug(hass, smart, frozen_emulator)
    assert state_of(hass, STATUS) == "waiting"
    state = frozen_emulator.state
    state.advance(60)
    state.patch_vehicle(MODEL_Y_ID, {"charging": True})
    await refresh(hass, smart, MODEL_Y_ID)
    assert commands(frozen_emulator, "stop") == 1
    assert state_of(hass, DECISION) == "stop_auto_start"


async def test_restart_keeps_the_users_hold(
    hass: HomeAssistant, smart: SmartChargingManager, smart_entry: MockConfigEntry, advance: Advance
) -> None:
    """Left to the user before a restart: still left to the user after it."""
    await manage(hass)
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, CHARGING_SWITCH)
    assert state_of(hass, STATUS) == "manual"
    await advance(timedelta(seconds=10))  # the store writes after a short delay
    assert await hass.config_entries.async_reload(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, STATUS) == "manual"


async def test_start_refused_as_fully_charged_is_the_target_reached(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """The car charged meanwhile and answers "fully charged": reached, not failed."""
    await manage(hass, target=75)
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"soc": 80.0})
    smart.coordinator.data[MODEL_Y_ID].next_poll = CHEAP_START + 3 * HOUR  # no read meanwhile
    await advance_to(advance, CHEAP_START + timedelta(minutes=1))
    assert attempts(frozen_emulator, "start") == 1
    assert state_of(hass, STATUS) == "target_reached"
    assert state_of(hass, DECISION) == "target_reached"
    await advance_to(advance, CHEAP_START + timedelta(minutes=10))
    assert attempts(frozen_emulator, "start") == 1


@pytest.mark.parametrize("case", ["target_reached", "away"])
async def test_start_now_when_the_plan_has_nothing_to_charge(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, case: str
) -> None:
    """At the target, or away from home: the button still starts, and charging is the user's."""
    await manage(hass, target=60 if case == "target_reached" else 80)
    if case == "away":
        await set_state(hass, smart, is_at_home=known(False))
    await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, START_NOW)
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, STATUS) == ("manual" if case == "target_reached" else "away")
    decision = hass.states.get(DECISION)
    assert decision is not None
    assert decision.state == "user_took_over"
    assert decision.attributes["detail"] == "start_charging_now"


async def test_unknown_plug_state_keeps_the_session(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """A report without the plug state is no unplug: the user's hold survives it."""
    await manage(hass)
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, CHARGING_SWITCH)
    assert state_of(hass, STATUS) == "manual"
    await set_state(hass, smart, plugged_in=Signal(status=SignalStatus.ERROR))
    assert state_of(hass, STATUS) == "no_data"
    await set_state(hass, smart, plugged_in=known(True))
    assert state_of(hass, STATUS) == "manual"
    assert commands(frozen_emulator, "stop") == 0


async def test_fast_charging_away_is_not_learned(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """A 150 kW fast charger says nothing about the charge speed at home."""
    await manage(hass)
    await set_state(
        hass,
        smart,
        charging_status=known(ChargingStatus.CHARGING),
        charge_power=known(150.0),
    )
    assert smart.vehicle(MODEL_Y_ID).learned.power_kw is None
    await set_state(hass, smart, charge_power=known(11.0))
    assert smart.vehicle(MODEL_Y_ID).learned.power_kw == pytest.approx(11.0)


async def test_target_at_the_cars_limit_is_left_to_the_car(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """Target = the car's charge limit: the car stops itself there; no stop command is sent."""
    await manage(hass, target=80)
    await advance_to(advance, CHEAP_START + 2 * HOUR)
    assert commands(frozen_emulator, "start") == 1
    assert commands(frozen_emulator, "stop") == 0
    car = frozen_emulator.state.vehicles[MODEL_Y_ID]
    assert car.charging is False
    assert car.soc == pytest.approx(80)
    assert state_of(hass, STATUS) == "target_reached"


async def test_failed_switch_command_takes_no_hold(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """A start by hand that fails leaves smart charging in charge (and says why)."""
    await manage(hass)
    frozen_emulator.state.set_key(MODEL_Y_ID, paired=False)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, CHARGING_SWITCH)
    assert err.value.translation_key == "virtual_key_missing"
    assert smart.vehicle(MODEL_Y_ID).session.hold is not Hold.USER
    assert state_of(hass, STATUS) == "waiting"


async def test_switch_during_an_unconfirmed_start_is_the_users(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator, advance: Advance
) -> None:
    """Stopped by hand before the car confirmed the planned start: no retry against the user."""
    await manage(hass)
    await advance_to(advance, CHEAP_START)
    assert commands(frozen_emulator, "start") == 1
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, CHARGING_SWITCH)
    await advance_to(advance, CHEAP_START + RETRY_AFTER + timedelta(minutes=3))
    assert commands(frozen_emulator, "start") == 1
    assert state_of(hass, STATUS) == "manual"
    decision = hass.states.get(DECISION)
    assert decision is not None
    assert decision.attributes["detail"] == "charging_switch"


# --- plan at risk ------------------------------------------------------------------------------

AT_RISK = f"binary_sensor.{VEHICLE}_plan_at_risk"


async def plan_short(hass: HomeAssistant) -> None:
    """Manage to 100 % with the car ready an hour from now: too little time."""
    await call(hass, TIME_DOMAIN, SET_TIME, READY_WEDNESDAY, **{ATTR_TIME: "03:30:00"})
    await manage(hass, target=100)


@pytest.mark.parametrize(
    ("answer", "less", "hold"),
    [
        ("accept_less", True, Hold.PLAN),
        ("ignore", False, Hold.PLAN),
        ("charge_now", False, Hold.OVERRIDE),
    ],
)
async def test_plan_at_risk_is_said_and_answered(
    hass: HomeAssistant,
    *,
    smart: SmartChargingManager,
    issue_registry: ir.IssueRegistry,
    answer: str,
    less: bool,
    hold: Hold,
) -> None:
    """Too little time for the target: a problem sensor, an event, a repair with three answers."""
    events = async_capture_events(hass, EVENT_PLAN_AT_RISK)
    await plan_short(hass)
    state = hass.states.get(AT_RISK)
    assert state is not None
    assert state.state == "on"
    assert state.attributes["device_class"] == "problem"
    reachable = state.attributes["reachable"]
    assert 0 < reachable < 80
    assert [event.data["reachable"] for event in events] == [reachable]
    assert events[0].data["target"] == 80  # the car's own limit is below the 100 % set
    issue = issue_registry.async_get_issue(DOMAIN, plan_at_risk_issue_id(MODEL_Y_ID))
    assert issue is not None
    assert issue.translation_placeholders == {
        "vehicle": "2024 Tesla Model Y",
        "target": "80",
        "reachable": str(reachable),
        "ready_by": "03:30",
    }

    flows = repairs_flow_manager(hass)
    assert flows is not None
    result = await flows.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert result["type"] == "menu"
    assert result["menu_options"] == ["charge_now", "accept_less", "ignore"]
    assert result["description_placeholders"]["reachable"] == str(reachable)
    result = await flows.async_configure(result["flow_id"], {"next_step_id": answer})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["type"] == "create_entry"

    assert state_of(hass, TARGET) == "100"  # accepting less is for this session only
    session = smart.vehicle(MODEL_Y_ID).session
    assert session.accepted_target == (reachable if less else None)
    assert session.hold is hold
    assert state_of(hass, AT_RISK) == "off"
    assert issue_registry.async_get_issue(DOMAIN, plan_at_risk_issue_id(MODEL_Y_ID)) is None
    assert len(events) == 1


async def test_accept_less_ends_with_the_session(
    hass: HomeAssistant, smart: SmartChargingManager, frozen_emulator: Emulator
) -> None:
    """Accepted less tonight: the plan charges to what is reachable; the next plug-in asks again."""
    events = async_capture_events(hass, EVENT_PLAN_AT_RISK)
    await plan_short(hass)
    reachable = smart.vehicle(MODEL_Y_ID).at_risk
    assert reachable is not None
    await smart.async_accept_less(MODEL_Y_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, AT_RISK) == "off"
    plan = smart.vehicle(MODEL_Y_ID).plan
    assert plan is not None
    assert plan.reaches_target
    assert state_of(hass, TARGET) == "100"

    # A new day target (or trip) is another target for the departure: asked again.
    days = smart.vehicle(MODEL_Y_ID).settings.days
    await smart.async_update_settings(
        MODEL_Y_ID, days=(*days[:2], replace(days[2], target=95), *days[3:])
    )
    assert smart.vehicle(MODEL_Y_ID).session.accepted_target is None
    await smart.async_accept_less(MODEL_Y_ID)
    assert smart.vehicle(MODEL_Y_ID).session.accepted_target is not None

    await replug(hass, smart, frozen_emulator)
    assert smart.vehicle(MODEL_Y_ID).session.accepted_target is None
    assert state_of(hass, AT_RISK) == "on"
    assert len(events) == 3  # the plug-in, the new day target, the next plug-in


@pytest.mark.parametrize("answer", [None, "ignore", "accept_less"])
async def test_plan_at_risk_and_its_answer_survive_a_reload(
    hass: HomeAssistant,
    *,
    smart: SmartChargingManager,
    smart_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    answer: str | None,
) -> None:
    """A warning is said once per session: a reload neither repeats it nor forgets the answer."""
    sent = async_mock_service(hass, "notify", "mobile_app_phone")
    events = async_capture_events(hass, EVENT_PLAN_AT_RISK)
    await notify_to(hass, "notify.mobile_app_phone")
    await plan_short(hass)
    manager = smart_entry.runtime_data.smart_charging
    reachable = manager.vehicle(MODEL_Y_ID).at_risk
    assert reachable is not None
    if answer == "ignore":
        await manager.async_ignore_risk(MODEL_Y_ID)
    elif answer == "accept_less":
        await manager.async_accept_less(MODEL_Y_ID)
    assert (len(events), len(sent)) == (1, 1)

    assert await hass.config_entries.async_reload(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    session = smart_entry.runtime_data.smart_charging.vehicle(MODEL_Y_ID).session
    assert (len(events), len(sent)) == (1, 1)
    assert state_of(hass, AT_RISK) == ("on" if answer is None else "off")
    issue = issue_registry.async_get_issue(DOMAIN, plan_at_risk_issue_id(MODEL_Y_ID))
    assert (issue is not None) == (answer is None)
    assert session.risk_ignored == (answer == "ignore")
    assert session.accepted_target == (reachable if answer == "accept_less" else None)


async def test_charge_now_refused_in_the_repair_says_why(
    hass: HomeAssistant,
    smart: SmartChargingManager,
    frozen_emulator: Emulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The car refuses "Charge now" from the repair: the dialog says why; the warning stays."""
    frozen_emulator.state.add_fault(
        "http_409_asleep", vehicle_id=MODEL_Y_ID, path="/commands/charge/start", count=2
    )
    await plan_short(hass)  # the plan's start is refused once (retried later)
    issue_id = plan_at_risk_issue_id(MODEL_Y_ID)
    flows = repairs_flow_manager(hass)
    assert flows is not None
    result = await flows.async_init(DOMAIN, data={"issue_id": issue_id})
    result = await flows.async_configure(result["flow_id"], {"next_step_id": "charge_now"})
    await hass.async_block_till_done(wait_background_tasks=True)

    assert result["type"] == "abort"
    assert result["reason"] == "charge_now_failed"
    assert result["description_placeholders"] == {
        "error": "2024 Tesla Model Y is asleep and did not wake for the command. "
        "Wake it in the Tesla app and try again"
    }
    assert attempts(frozen_emulator, "start") == 2
    assert state_of(hass, AT_RISK) == "on"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None


async def test_plan_at_risk_clears_when_time_suffices(
    hass: HomeAssistant, smart: SmartChargingManager, issue_registry: ir.IssueRegistry
) -> None:
    """A later ready-by time makes the target reachable: the warning goes by itself.

    The warning went to the notify entity chosen.
    """
    hass.states.async_set("notify.kitchen_display", "unknown")
    sent = async_mock_service(hass, "notify", "send_message")
    await notify_to(hass, "notify.kitchen_display")
    await plan_short(hass)
    assert state_of(hass, AT_RISK) == "on"
    assert len(sent) == 1
    assert sent[0].data["entity_id"] == "notify.kitchen_display"
    assert sent[0].data["title"] == "2024 Tesla Model Y: plan at risk"
    assert "not 80%" in sent[0].data["message"]
    await call(hass, TIME_DOMAIN, SET_TIME, READY_WEDNESDAY, **{ATTR_TIME: "23:00:00"})
    assert state_of(hass, AT_RISK) == "off"
    assert issue_registry.async_get_issue(DOMAIN, plan_at_risk_issue_id(MODEL_Y_ID)) is None
