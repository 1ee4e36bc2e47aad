"""The Smartcar plan's monthly limit, hit against the emulator: no storm, a repair, a lower budget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexcharging.commands import CommandRefusedError
from custom_components.flexcharging.const import CONF_REQUEST_BUDGET, DOMAIN, Refusal
from custom_components.flexcharging.issues import budget_issue_id, limit_issue_id
from emulator import ID4_ID, MODEL_Y_ID
from tests.common import Emulator, setup_integration

type Advance = Callable[[timedelta], Awaitable[None]]

MODEL_Y_SWITCH = "switch.2024_tesla_model_y_charging"
REQUESTS_SENSOR = "sensor.2024_tesla_model_y_requests_this_month"


@pytest.fixture
async def limited(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    connected_fleet: Emulator,
    config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """The Model Y on a plan of 2 calls a month (FlexCharging still thinks 500): set up."""
    frozen_emulator.state.plans.set(MODEL_Y_ID, 2)
    await setup_integration(hass, config_entry)  # the first call
    return config_entry


async def test_limit_hit_on_a_read(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    limited: MockConfigEntry,
    advance_time: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """430 VEHICLE_REQUEST_LIMIT: reads stop until next month, a repair, the budget comes down."""
    state = frozen_emulator.state
    coordinator = limited.runtime_data.coordinator
    model_y = coordinator.data[MODEL_Y_ID]
    await advance_time(model_y.next_poll - dt_util.utcnow())  # the second (last) call
    assert not model_y.limit_hit
    await advance_time(model_y.next_poll - dt_util.utcnow())  # refused
    assert state.requests.by_status["430"] == 1
    assert model_y.limit_hit
    assert model_y.last_error == "billing"

    issue = issue_registry.async_get_issue(DOMAIN, limit_issue_id(MODEL_Y_ID))
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "request_limit_reached"
    assert issue.translation_placeholders == {"vehicle": "2024 Tesla Model Y", "used": "2"}
    # What Smartcar actually allowed becomes the budget.
    assert limited.options[CONF_REQUEST_BUDGET] == 2
    assert coordinator.budget == 2
    sensor = hass.states.get(REQUESTS_SENSOR)
    assert sensor is not None
    assert sensor.attributes["plan_limit_reached"] is True

    # No request storm: a week later Smartcar was not asked about the Model Y again.
    asked = state.requests.by_vehicle[MODEL_Y_ID]
    for _ in range(7):
        await advance_time(timedelta(days=1))
    assert state.requests.by_vehicle[MODEL_Y_ID] == asked
    assert state.requests.by_status["430"] == 1


async def test_limit_survives_a_restart(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    limited: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """After a reload the vehicle is still not read: the hit is stored with the month's usage."""
    state = frozen_emulator.state
    model_y = limited.runtime_data.coordinator.data[MODEL_Y_ID]
    await advance_time(model_y.next_poll - dt_util.utcnow())
    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert model_y.limit_hit
    asked = state.requests.by_vehicle[MODEL_Y_ID]
    assert await hass.config_entries.async_reload(limited.entry_id)
    await hass.async_block_till_done()
    reloaded = limited.runtime_data.coordinator.data[MODEL_Y_ID]
    assert reloaded.limit_hit
    assert state.requests.by_vehicle[MODEL_Y_ID] == asked


async def test_commands_past_the_limit(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    limited: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """The user's command is sent and refused with a clear error; smart charging's is not sent."""
    state = frozen_emulator.state
    coordinator = limited.runtime_data.coordinator
    model_y = coordinator.data[MODEL_Y_ID]
    await advance_time(model_y.next_poll - dt_util.utcnow())  # the second (last) call
    assert not model_y.limit_hit
    with pytest.raises(HomeAssistantError) as refused:
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: MODEL_Y_SWITCH}, blocking=True
        )
    assert refused.value.translation_key == "billing_limit"
    assert coordinator.data[MODEL_Y_ID].limit_hit
    asked = state.requests.by_vehicle[MODEL_Y_ID]

    with pytest.raises(CommandRefusedError) as skipped:
        await coordinator.async_start_charging(MODEL_Y_ID, automatic=True)
    assert skipped.value.reason is Refusal.BILLING_LIMIT
    assert state.requests.by_vehicle[MODEL_Y_ID] == asked  # not sent


async def test_new_month_reads_again(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    limited: MockConfigEntry,
    *,
    advance_time: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """When the month rolls over the vehicle is read at once and the repair goes."""
    state = frozen_emulator.state
    model_y = limited.runtime_data.coordinator.data[MODEL_Y_ID]
    await advance_time(model_y.next_poll - dt_util.utcnow())
    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert issue_registry.async_get_issue(DOMAIN, limit_issue_id(MODEL_Y_ID)) is not None
    asked = state.requests.by_vehicle[MODEL_Y_ID]

    july = datetime(2026, 7, 1, 7, 0, 1, tzinfo=UTC)  # local (US/Pacific) midnight, 1 July
    state.set_time(july)
    await advance_time(july - dt_util.utcnow())
    assert state.requests.by_vehicle[MODEL_Y_ID] == asked + 1
    assert not model_y.limit_hit
    assert model_y.available
    assert issue_registry.async_get_issue(DOMAIN, limit_issue_id(MODEL_Y_ID)) is None


async def test_budget_running_out_is_foreseen(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    connected_fleet: Emulator,
    *,
    config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """At this month's rate the budget runs out on the 24th: a warning before it happens."""
    hass.config_entries.async_update_entry(config_entry, options={CONF_REQUEST_BUDGET: 500})
    await setup_integration(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    # 10 June, 09:30 local: 375 requests so far run out 500 on the 13th.
    coordinator.usage.counts[ID4_ID] = 375
    coordinator.data[ID4_ID].requests_used = 375
    await coordinator.async_refresh_vehicle(ID4_ID)
    forecast = coordinator.data[ID4_ID].forecast_exhausted
    assert forecast is not None
    assert forecast.day == 13
    issue = issue_registry.async_get_issue(DOMAIN, budget_issue_id(ID4_ID))
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "vehicle": "2023 Volkswagen ID.4",
        "used": "376",
        "date": forecast.date().isoformat(),
    }
    sensor = hass.states.get("sensor.2023_volkswagen_id_4_requests_this_month")
    assert sensor is not None
    assert sensor.attributes["budget_runs_out"] == forecast
    # The budget raised to what the rate needs: the warning goes.
    coordinator.budget = 2000
    await coordinator.async_refresh_vehicle(ID4_ID)
    assert issue_registry.async_get_issue(DOMAIN, budget_issue_id(ID4_ID)) is None
