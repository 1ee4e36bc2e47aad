"""The coordinator against the emulator: budget-planned reads, faults, vehicles coming and going."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ImplementationUnavailableError
from homeassistant.helpers import (
    config_entry_oauth2_flow,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexcharging.api import SmartcarClient
from custom_components.flexcharging.const import (
    CONF_CLOUDHOOK_URL,
    CONF_REQUEST_BUDGET,
    CONF_SMARTCAR_WEBHOOK_ID,
    DOMAIN,
)
from custom_components.flexcharging.coordinator import CONNECTIONS_REFRESH
from custom_components.flexcharging.issues import key_issue_id, subscription_issue_id
from custom_components.flexcharging.usage import SAVE_DELAY
from emulator import DEFAULT_USER_ID, ID4_ID, MODEL_3_ID, MODEL_S_ID, MODEL_Y_ID
from tests.common import (
    HA_WEBHOOK_ID,
    SMARTCAR_WEBHOOK_ID,
    Emulator,
    connect_fleet,
    entry_data,
)

type Advance = Callable[[timedelta], Awaitable[None]]

SIGNALS = "GET /v3/vehicles/{vehicle_id}/signals"
SUBSCRIBE = "POST /v3/subscriptions"
CONNECTIONS = "GET /v3/connections"
SLUG = {
    MODEL_3_ID: "2023_tesla_model_3",
    MODEL_Y_ID: "2024_tesla_model_y",
    MODEL_S_ID: "2019_tesla_model_s",
    ID4_ID: "2023_volkswagen_id_4",
}


def battery(hass: HomeAssistant, vehicle_id: str) -> str:
    """The battery sensor's state of a vehicle."""
    state = hass.states.get(f"sensor.{SLUG[vehicle_id]}_battery_level")
    assert state is not None
    return state.state


def reads(emulator: Emulator) -> dict[str, int]:
    """Requests per vehicle the emulator answered (signal reads, when no command was sent)."""
    return dict(emulator.state.requests.by_vehicle)


def reauth_flows(hass: HomeAssistant) -> list[Any]:
    """The reauthentication flows in progress."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up (whatever the outcome) and let it settle."""
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def connect_some(emulator: Emulator, connected: list[str], subscribed: list[str]) -> None:
    """Connect some default vehicles and subscribe some of them to the Smartcar webhook."""
    state = emulator.state
    state.connect(vehicle_ids=connected)
    await state.create_webhook(
        "http://127.0.0.1:9/api/webhook/unused",
        webhook_id=SMARTCAR_WEBHOOK_ID,
        verify=False,
        verified=True,
    )
    for vehicle_id in subscribed:
        state.subscribe(SMARTCAR_WEBHOOK_ID, vehicle_id)
    await state.wait_for_deliveries()


def subscription_of(emulator: Emulator, vehicle_id: str) -> str:
    """The emulator's subscription id of a vehicle."""
    return next(s.id for s in emulator.state.subscriptions.values() if s.vehicle_id == vehicle_id)


# --- setup ---------------------------------------------------------------------------------------


async def test_first_refresh_reads_each_vehicle_once(
    hass: HomeAssistant, frozen_emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Setup lists the connections once and reads each vehicle's signal store once."""
    requests = frozen_emulator.state.requests
    assert init_integration.state is ConfigEntryState.LOADED
    assert requests.by_path[CONNECTIONS] == 1
    assert requests.by_path[SIGNALS] == 4
    assert reads(frozen_emulator) == dict.fromkeys(SLUG, 1)
    assert battery(hass, MODEL_Y_ID) == "62.0"
    assert battery(hass, MODEL_S_ID) == "71.0"
    assert battery(hass, ID4_ID) == "35.0"
    # The key-less Model 3 is still served (its last report) and shows the key as missing.
    assert battery(hass, MODEL_3_ID) == "48.0"
    assert hass.states.get("sensor.2023_tesla_model_3_virtual_key").state == "missing"


async def test_update_interval_follows_the_budget_plan(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """Each vehicle is read when its own plan says so; the coordinator wakes for the earliest."""
    coordinator = init_integration.runtime_data.coordinator
    data = coordinator.data
    now = dt_util.utcnow()
    active = data[MODEL_Y_ID].next_poll - now
    assert data[ID4_ID].next_poll - now == active  # plugged in, not full: active
    idle = data[MODEL_S_ID].next_poll - now  # not plugged in: idle
    assert idle > 3 * active
    assert data[MODEL_3_ID].next_poll - now == timedelta(hours=8)  # key-less: 8 h
    assert coordinator.update_interval == active

    await advance_time(active)
    # Only the two active vehicles were due.
    assert reads(frozen_emulator) == {MODEL_3_ID: 1, MODEL_Y_ID: 2, MODEL_S_ID: 1, ID4_ID: 2}
    assert hass.states.get("sensor.2024_tesla_model_y_requests_this_month").state == "2"
    assert hass.states.get("sensor.2019_tesla_model_s_requests_this_month").state == "1"
    last_update = hass.states.get("sensor.2024_tesla_model_y_last_update").state
    assert dt_util.parse_datetime(last_update) == dt_util.utcnow().replace(microsecond=0)

    await advance_time(data[MODEL_S_ID].next_poll - dt_util.utcnow())
    assert reads(frozen_emulator)[MODEL_S_ID] == 2
    assert reads(frozen_emulator)[MODEL_3_ID] == 1


async def test_request_budget_option_is_used(
    hass: HomeAssistant, frozen_emulator: Emulator, credentials: None
) -> None:
    """A larger monthly budget reads more often."""
    await connect_fleet(frozen_emulator)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEFAULT_USER_ID,
        data=entry_data(),
        options={CONF_REQUEST_BUDGET: 5000},
    )
    entry.add_to_hass(hass)
    await setup(hass, entry)
    coordinator = entry.runtime_data.coordinator
    assert coordinator.budget == 5000
    assert coordinator.update_interval < timedelta(minutes=10)
    state = hass.states.get("sensor.2024_tesla_model_y_requests_this_month")
    assert state.attributes["budget"] == 5000
    assert state.attributes["webhooks_flowing"] is False


async def test_first_refresh_failure_retries_setup(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """Smartcar unreachable during setup: Home Assistant retries later."""
    await connect_fleet(frozen_emulator)
    frozen_emulator.state.add_fault("http_500", path="/v3/connections")
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert not reauth_flows(hass)


async def test_every_read_failing_on_setup_retries_setup(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """Connections listed but no vehicle readable: not ready yet."""
    await connect_fleet(frozen_emulator)
    frozen_emulator.state.add_fault("http_502", path="/signals", count=-1)
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_refused_credentials_on_setup_start_reauth(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """Smartcar refuses the client credentials: setup fails and asks to re-authenticate."""
    await connect_fleet(frozen_emulator)
    frozen_emulator.state.add_fault("token_invalid_client")
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass)) == 1


async def test_missing_application_credentials_start_reauth(
    hass: HomeAssistant, frozen_emulator: Emulator, config_entry: MockConfigEntry
) -> None:
    """The entry's Application Credentials were deleted: the user is asked to set them again."""
    await connect_fleet(frozen_emulator)
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass)) == 1
    assert frozen_emulator.state.requests.total == 0


async def test_unavailable_credentials_provider_retries_setup(
    hass: HomeAssistant, frozen_emulator: Emulator, config_entry: MockConfigEntry
) -> None:
    """A credentials provider that is down (not gone): setup is retried, with a translated reason."""

    async def _provider_down(hass: HomeAssistant, domain: str) -> list[Any]:
        raise ImplementationUnavailableError("provider down")

    config_entry_oauth2_flow.async_add_implementation_provider(hass, "cloud", _provider_down)
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert config_entry.error_reason_translation_key == "credentials_unavailable"


async def test_entry_without_a_webhook_sets_up(
    hass: HomeAssistant, frozen_emulator: Emulator, credentials: None
) -> None:
    """An entry created without Home Assistant's webhook still reads the vehicles."""
    await connect_fleet(frozen_emulator)
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=DEFAULT_USER_ID, data=entry_data(webhook_id=None)
    )
    entry.add_to_hass(hass)
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert battery(hass, MODEL_Y_ID) == "62.0"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_removing_the_entry_releases_the_cloudhook(
    hass: HomeAssistant, frozen_emulator: Emulator, credentials: None, cloud: Any
) -> None:
    """Deleting an entry that used a Home Assistant Cloud webhook deletes that cloudhook."""
    await connect_fleet(frozen_emulator)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEFAULT_USER_ID,
        data=entry_data(**{CONF_CLOUDHOOK_URL: "https://hooks.nabu.casa/abc"}),
    )
    entry.add_to_hass(hass)
    await setup(hass, entry)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    cloud.async_delete_cloudhook.assert_awaited_once_with(hass, HA_WEBHOOK_ID)


async def test_removing_the_entry_tolerates_cloud_being_unavailable(
    hass: HomeAssistant, frozen_emulator: Emulator, credentials: None, cloud: Any
) -> None:
    """Home Assistant Cloud logged out: removing the entry still succeeds."""
    cloud.async_delete_cloudhook.side_effect = cloud.CloudNotAvailable
    await connect_fleet(frozen_emulator)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEFAULT_USER_ID,
        data=entry_data(**{CONF_CLOUDHOOK_URL: "https://hooks.nabu.casa/abc"}),
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_remove(entry.entry_id)
    cloud.async_delete_cloudhook.assert_awaited_once()


async def test_removing_an_entry_without_cloudhook_leaves_cloud_alone(
    hass: HomeAssistant, init_integration: MockConfigEntry, cloud: Any
) -> None:
    """No cloudhook in the entry: nothing to delete."""
    await hass.config_entries.async_remove(init_integration.entry_id)
    cloud.async_delete_cloudhook.assert_not_awaited()


# --- faults while polling ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "variant", "error"),
    [
        ("http_500", None, "SmartcarUpstreamError"),
        ("http_502", None, "SmartcarUpstreamError"),
        ("http_504", None, "SmartcarUpstreamError"),
        ("http_409_asleep", None, "SmartcarVehicleStateError"),
        ("http_409_unreachable", None, "SmartcarVehicleStateError"),
        ("malformed_json", None, "SmartcarParseError"),
        ("wrong_types", "data", "SmartcarParseError"),
    ],
)
async def test_failed_read_makes_the_vehicle_unavailable_until_it_clears(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
    kind: str,
    variant: str | None,
    error: str,
) -> None:
    """A failed read: that vehicle's entities go unavailable, back off, and return."""
    coordinator = init_integration.runtime_data.coordinator
    model_y = coordinator.data[MODEL_Y_ID]
    frozen_emulator.state.add_fault(kind, vehicle_id=MODEL_Y_ID, path="/signals", variant=variant)

    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert battery(hass, MODEL_Y_ID) == STATE_UNAVAILABLE
    assert battery(hass, ID4_ID) == "35.0"  # read in the same poll, fine
    assert model_y.last_error == error
    assert model_y.failures == 1
    assert model_y.next_poll == dt_util.utcnow() + timedelta(minutes=1)
    # Diagnostic sensors stay available to explain what happens.
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "unconfirmed"
    assert not reauth_flows(hass)

    await advance_time(timedelta(minutes=1))
    assert battery(hass, MODEL_Y_ID) == "62.0"
    assert model_y.failures == 0
    assert model_y.last_error is None


async def test_partial_outage_is_logged_once_per_signal(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Numbers in every signal body turn to strings: those signals are unknown, the rest used.

    The vehicle stays available; each signal code is logged once however often it recurs, and
    the diagnostics list the reasons until the signal reads again.
    """
    coordinator = init_integration.runtime_data.coordinator
    model_y = coordinator.data[MODEL_Y_ID]
    frozen_emulator.state.add_fault("wrong_types", vehicle_id=MODEL_Y_ID, path="/signals", count=3)
    for _ in range(3):
        await advance_time(model_y.next_poll - dt_util.utcnow())
        assert model_y.available
        assert model_y.last_error is None
        assert battery(hass, MODEL_Y_ID) == STATE_UNKNOWN
        # Bodies without a number in `value` are still read.
        assert model_y.state.vin.known
        assert model_y.state.battery_capacity.known
    assert model_y.signal_problems["tractionbattery-stateofcharge"] == (
        "body.value: expected a number, got '62'"
    )
    assert caplog.text.count("tractionbattery-stateofcharge signal of") == 1
    assert caplog.text.count("charge-chargelimits signal of") == 1

    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert battery(hass, MODEL_Y_ID) == "62.0"
    assert model_y.signal_problems == {}


async def test_timeout_makes_the_vehicle_unavailable_until_it_answers(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Smartcar does not answer in time: unavailable, then back (real time: read on demand)."""
    monkeypatch.setitem(SmartcarClient._async_api.__kwdefaults__, "time_limit", 0.2)
    coordinator = init_integration.runtime_data.coordinator
    fault = emulator.state.add_fault("timeout", vehicle_id=MODEL_Y_ID, path="/signals", delay=1.0)

    await coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()
    assert fault.hits == 1
    assert battery(hass, MODEL_Y_ID) == STATE_UNAVAILABLE
    assert coordinator.data[MODEL_Y_ID].last_error == "SmartcarTimeoutError"

    await coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()
    assert battery(hass, MODEL_Y_ID) == "62.0"


async def test_backoff_doubles_while_failures_continue(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """1, 2, 4 minutes between retries of a failing vehicle."""
    model_y = init_integration.runtime_data.coordinator.data[MODEL_Y_ID]
    frozen_emulator.state.add_fault("http_500", vehicle_id=MODEL_Y_ID, path="/signals", count=3)
    await advance_time(model_y.next_poll - dt_util.utcnow())
    for failures, wait in ((1, 1), (2, 2), (3, 4)):
        assert model_y.failures == failures
        assert model_y.next_poll == dt_util.utcnow() + timedelta(minutes=wait)
        await advance_time(timedelta(minutes=wait))
    assert model_y.failures == 0
    assert battery(hass, MODEL_Y_ID) == "62.0"


async def test_failing_vehicles_go_unavailable_and_recover(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """Vehicles whose read failed go unavailable (the others stay); they recover after the
    backoff. The update as a whole fails only when every vehicle failed.
    """
    coordinator = init_integration.runtime_data.coordinator
    frozen_emulator.state.add_fault("http_502", path="/signals", count=2)
    await advance_time(coordinator.update_interval)
    assert coordinator.last_update_success is True
    assert battery(hass, MODEL_Y_ID) == STATE_UNAVAILABLE
    assert battery(hass, ID4_ID) == STATE_UNAVAILABLE
    assert coordinator.update_interval == timedelta(minutes=1)

    await advance_time(timedelta(minutes=1))
    assert coordinator.last_update_success is True
    assert battery(hass, MODEL_Y_ID) == "62.0"
    assert battery(hass, ID4_ID) == "35.0"


async def test_every_vehicle_failing_fails_the_update(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Smartcar fails for every vehicle: the update fails (logged once) until it is back."""
    coordinator = init_integration.runtime_data.coordinator
    frozen_emulator.state.add_fault("http_502", path="/signals", count=-1)
    for _ in range(2):
        for vehicle in coordinator.data.values():
            vehicle.next_poll = None
        await coordinator.async_refresh()
    assert coordinator.last_update_success is False
    assert battery(hass, ID4_ID) == STATE_UNAVAILABLE
    assert caplog.text.count("Error fetching flexcharging data") == 1

    frozen_emulator.state.clear_faults()
    for vehicle in coordinator.data.values():
        vehicle.next_poll = None
    await coordinator.async_refresh()
    assert coordinator.last_update_success is True
    assert battery(hass, ID4_ID) == "35.0"
    assert "Fetching flexcharging data recovered" in caplog.text


async def test_outage_logs_once_per_vehicle_each_way(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A two-hour outage on the real timers (no vehicle forced due): one INFO line per vehicle
    that went unavailable and one when it is back; nothing per retry."""
    coordinator = init_integration.runtime_data.coordinator
    caplog.set_level("INFO", logger="custom_components.flexcharging")

    def lines(text: str) -> list[str]:
        return [
            record.getMessage()
            for record in caplog.records
            if record.levelname == "INFO" and record.getMessage().endswith(text)
        ]

    frozen_emulator.state.add_fault("http_502", path="/signals", count=-1)
    for _ in range(120):
        await advance_time(timedelta(minutes=1))
    down = sorted(v.info.display_name for v in coordinator.data.values() if not v.available)
    assert down  # the active vehicles were due and failed, with retries in between
    assert sorted(lines("SmartcarUpstreamError")) == sorted(
        f"{name} is unavailable: SmartcarUpstreamError" for name in down
    )
    assert all(
        battery(hass, vehicle_id) == STATE_UNAVAILABLE for vehicle_id in (MODEL_Y_ID, ID4_ID)
    )
    assert frozen_emulator.state.requests.by_vehicle[MODEL_Y_ID] > 2  # retried, yet logged once

    frozen_emulator.state.clear_faults()
    for _ in range(60):
        await advance_time(timedelta(minutes=1))
        if all(v.available for v in coordinator.data.values() if v.info.display_name in down):
            break
    assert sorted(lines("is available again")) == sorted(
        f"{name} is available again" for name in down
    )
    assert battery(hass, MODEL_Y_ID) == "62.0"


async def test_rate_limit_honours_retry_after(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """HTTP 429 with Retry-After: the values stay, and the vehicle is read again after it."""
    coordinator = init_integration.runtime_data.coordinator
    model_y = coordinator.data[MODEL_Y_ID]
    frozen_emulator.state.add_fault(
        "http_429", vehicle_id=MODEL_Y_ID, path="/signals", retry_after=120
    )
    await advance_time(model_y.next_poll - dt_util.utcnow())
    before = reads(frozen_emulator)[MODEL_Y_ID]
    assert model_y.last_error == "rate_limited"
    assert battery(hass, MODEL_Y_ID) == "62.0"  # the last values stay
    assert model_y.next_poll == dt_util.utcnow() + timedelta(seconds=120)
    assert coordinator.update_interval == timedelta(seconds=120)

    await advance_time(timedelta(seconds=100))
    assert reads(frozen_emulator)[MODEL_Y_ID] == before
    await advance_time(timedelta(seconds=20))
    assert reads(frozen_emulator)[MODEL_Y_ID] == before + 1
    assert model_y.last_error is None


async def test_application_rate_limit_without_retry_after_backs_off(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """An application-wide 429 without Retry-After: the doubling backoff."""
    model_y = init_integration.runtime_data.coordinator.data[MODEL_Y_ID]
    frozen_emulator.state.add_fault("http_429_app", vehicle_id=MODEL_Y_ID, path="/signals")
    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert model_y.last_error == "rate_limited"
    assert model_y.next_poll == dt_util.utcnow() + timedelta(minutes=1)


async def test_billing_limit_waits_for_the_next_month(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """HTTP 430: the plan's limit is used up; the vehicle is not read again this month."""
    model_y = init_integration.runtime_data.coordinator.data[MODEL_Y_ID]
    frozen_emulator.state.add_fault("http_430", vehicle_id=MODEL_Y_ID, path="/signals")
    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert model_y.last_error == "billing"
    assert battery(hass, MODEL_Y_ID) == STATE_UNAVAILABLE
    # Home Assistant's tests run in US/Pacific: the month ends at local midnight.
    assert model_y.next_poll == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert not reauth_flows(hass)


async def test_permission_refused_waits_long_without_reauth(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """HTTP 403: unavailable; retried only after 12 h; never a reauth of the whole entry."""
    model_y = init_integration.runtime_data.coordinator.data[MODEL_Y_ID]
    frozen_emulator.state.add_fault("http_403", vehicle_id=MODEL_Y_ID, path="/signals")
    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert model_y.last_error == "permission"
    assert battery(hass, MODEL_Y_ID) == STATE_UNAVAILABLE
    assert model_y.next_poll == dt_util.utcnow() + timedelta(hours=12)
    assert not reauth_flows(hass)
    assert init_integration.state is ConfigEntryState.LOADED


async def test_virtual_key_required_on_read_marks_the_key_missing(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A read refused for the virtual key: the key shows missing, a repair appears, no reauth."""
    model_y = init_integration.runtime_data.coordinator.data[MODEL_Y_ID]
    frozen_emulator.state.add_fault("virtual_key_request", vehicle_id=MODEL_Y_ID)
    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "missing"
    assert battery(hass, MODEL_Y_ID) == "62.0"  # still available with its last values
    issue = issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_Y_ID))
    assert issue is not None
    assert issue.translation_placeholders == {"vehicle": "2024 Tesla Model Y"}
    assert not reauth_flows(hass)
    # Key-less Teslas are refreshed by Smartcar only every 8 h: no point reading sooner.
    assert model_y.next_poll == dt_util.utcnow() + timedelta(hours=8)


async def test_single_401_is_retried_with_a_new_token(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """One 401 (an expired token): a new token is minted and the read succeeds."""
    model_y = init_integration.runtime_data.coordinator.data[MODEL_Y_ID]
    frozen_emulator.state.add_fault("http_401", vehicle_id=MODEL_Y_ID, path="/signals")
    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert frozen_emulator.state.requests.by_path["POST /oauth2/token"] == 2
    assert model_y.last_error is None
    assert battery(hass, MODEL_Y_ID) == "62.0"
    assert not reauth_flows(hass)


@pytest.mark.parametrize(
    "faults",
    [
        [("http_401", {"vehicle_id": MODEL_Y_ID, "path": "/signals", "count": 2})],
        [
            ("http_401", {"vehicle_id": MODEL_Y_ID, "path": "/signals"}),
            ("token_invalid_client", {}),
        ],
    ],
    ids=["http_401_twice", "token_invalid_client"],
)
async def test_refused_authentication_starts_reauth(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
    faults: list[tuple[str, dict[str, Any]]],
) -> None:
    """Smartcar keeps refusing the application: the user is asked to re-authenticate."""
    coordinator = init_integration.runtime_data.coordinator
    for kind, options in faults:
        frozen_emulator.state.add_fault(kind, **options)
    await advance_time(coordinator.data[MODEL_Y_ID].next_poll - dt_util.utcnow())
    assert len(reauth_flows(hass)) == 1
    assert coordinator.last_update_success is False
    assert battery(hass, MODEL_Y_ID) == STATE_UNAVAILABLE


async def test_unexpected_error_fails_the_update(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """A bug while reading (not a Smartcar error) fails the update instead of passing silently."""
    coordinator = init_integration.runtime_data.coordinator
    with patch.object(coordinator.client, "async_get_state", side_effect=RuntimeError("boom")):
        await advance_time(coordinator.update_interval)
    assert coordinator.last_update_success is False
    assert isinstance(coordinator.last_exception, RuntimeError)


# --- the empty signal store (vehicle not subscribed) ------------------------------------------------


async def test_empty_store_resubscribes_once(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
    advance_time: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A vehicle without data is subscribed to the entry's webhook again, and then has data."""
    await connect_fleet(frozen_emulator)
    frozen_emulator.state.unsubscribe(subscription_of(frozen_emulator, MODEL_Y_ID))
    await setup(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    model_y = coordinator.data[MODEL_Y_ID]
    assert frozen_emulator.state.requests.by_path[SUBSCRIBE] == 1
    assert battery(hass, MODEL_Y_ID) == STATE_UNAVAILABLE
    assert model_y.last_error == "not_subscribed"
    assert model_y.resubscribed is True

    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert battery(hass, MODEL_Y_ID) == "62.0"
    assert model_y.resubscribed is False
    assert frozen_emulator.state.requests.by_path[SUBSCRIBE] == 1
    assert issue_registry.async_get_issue(DOMAIN, subscription_issue_id(MODEL_Y_ID)) is None


async def test_empty_store_after_resubscribing_raises_a_repair(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Re-subscribing did not help: the `not_subscribed` repair names the vehicle.

    Read here with the refresh button; see the xfail below for the same through polling.
    """
    await connect_fleet(frozen_emulator)
    frozen_emulator.state.unsubscribe(subscription_of(frozen_emulator, MODEL_Y_ID))
    frozen_emulator.state.add_fault("http_500", path="/v3/subscriptions")
    await setup(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    assert coordinator.data[MODEL_Y_ID].resubscribed is True

    await coordinator.async_refresh_vehicle(MODEL_Y_ID)
    issue = issue_registry.async_get_issue(DOMAIN, subscription_issue_id(MODEL_Y_ID))
    assert issue is not None
    assert issue.translation_key == "not_subscribed"
    assert issue.translation_placeholders == {"vehicle": "2024 Tesla Model Y"}
    assert issue.is_fixable is False
    assert frozen_emulator.state.requests.by_path[SUBSCRIBE] == 1  # tried once only

    # Subscribed in the dashboard: the next read has data and the repair goes away.
    frozen_emulator.state.subscribe(SMARTCAR_WEBHOOK_ID, MODEL_Y_ID)
    await frozen_emulator.state.wait_for_deliveries()
    await coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, subscription_issue_id(MODEL_Y_ID)) is None
    assert battery(hass, MODEL_Y_ID) == "62.0"


async def test_empty_store_without_a_smartcar_webhook_is_not_resubscribed(
    hass: HomeAssistant, frozen_emulator: Emulator, credentials: None
) -> None:
    """No Smartcar webhook in the entry: nothing to subscribe to."""
    await connect_fleet(frozen_emulator)
    frozen_emulator.state.unsubscribe(subscription_of(frozen_emulator, MODEL_Y_ID))
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEFAULT_USER_ID,
        data=entry_data(**{CONF_SMARTCAR_WEBHOOK_ID: None}),
    )
    entry.add_to_hass(hass)
    await setup(hass, entry)
    assert frozen_emulator.state.requests.by_path[SUBSCRIBE] == 0
    assert entry.runtime_data.coordinator.data[MODEL_Y_ID].last_error == "not_subscribed"


async def test_empty_store_repair_appears_through_polling(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
    advance_time: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Polling alone (no button) raises the repair once re-subscribing did not help."""
    await connect_some(frozen_emulator, [MODEL_Y_ID, MODEL_S_ID], [MODEL_S_ID])
    frozen_emulator.state.add_fault("http_500", path="/v3/subscriptions")
    await setup(hass, config_entry)
    data = config_entry.runtime_data.coordinator.data
    model_y = data[MODEL_Y_ID]
    # Shortly before the next poll the user refreshes the Model S: the Model Y is due alone.
    await advance_time(model_y.next_poll - dt_util.utcnow() - timedelta(minutes=1))
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.2019_tesla_model_s_refresh"}, blocking=True
    )
    assert data[MODEL_S_ID].next_poll > model_y.next_poll
    await advance_time(model_y.next_poll - dt_util.utcnow())
    assert model_y.empty_store is True
    assert issue_registry.async_get_issue(DOMAIN, subscription_issue_id(MODEL_Y_ID)) is not None


async def test_one_vehicle_failing_alone_leaves_the_others_available(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """The Model Y fails while it is the only vehicle due: the Model S stays available."""
    await connect_some(frozen_emulator, [MODEL_Y_ID, MODEL_S_ID], [MODEL_Y_ID, MODEL_S_ID])
    await setup(hass, config_entry)
    data = config_entry.runtime_data.coordinator.data
    assert data[MODEL_Y_ID].next_poll < data[MODEL_S_ID].next_poll
    frozen_emulator.state.add_fault("http_500", vehicle_id=MODEL_Y_ID, path="/signals")
    await advance_time(data[MODEL_Y_ID].next_poll - dt_util.utcnow())
    assert battery(hass, MODEL_Y_ID) == STATE_UNAVAILABLE
    assert battery(hass, MODEL_S_ID) == "71.0"


async def test_single_unsubscribed_vehicle_account_loads(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """One vehicle, not subscribed (the webhook was skipped): the entry loads, the vehicle's
    entities are unavailable, and once re-subscribing did not help the repair says why.
    """
    await connect_some(frozen_emulator, [MODEL_Y_ID], [])
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    assert battery(hass, MODEL_Y_ID) == STATE_UNAVAILABLE


# --- vehicles coming and going --------------------------------------------------------------------


async def test_vehicles_added_and_removed_on_the_account(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
    advance_time: Advance,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A vehicle connected later gets its device; a disconnected one loses it (and its repair)."""
    state = frozen_emulator.state
    await connect_some(frozen_emulator, [MODEL_3_ID, MODEL_Y_ID], [MODEL_3_ID, MODEL_Y_ID])
    await setup(hass, config_entry)
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, ID4_ID), config_entry.entry_id)
        is None
    )
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_3_ID)) is not None

    # Connect the ID.4 in Smartcar Connect; it shows up at the next connections check.
    state.connect(vehicle_ids=[ID4_ID])
    state.subscribe(SMARTCAR_WEBHOOK_ID, ID4_ID)
    await state.wait_for_deliveries()
    await advance_time(timedelta(hours=1))
    assert hass.states.get("sensor.2023_volkswagen_id_4_battery_level") is None
    await advance_time(CONNECTIONS_REFRESH)
    device = device_registry.async_get_device_by_identifier((DOMAIN, ID4_ID), config_entry.entry_id)
    assert device is not None
    assert device.name == "2023 Volkswagen ID.4"
    assert battery(hass, ID4_ID) == "35.0"

    # Disconnect the Model 3: its device, entities and repair go.
    model_3_device = device_registry.async_get_device_by_identifier(
        (DOMAIN, MODEL_3_ID), config_entry.entry_id
    )
    assert model_3_device is not None
    state.disconnect(state.connection_for(MODEL_3_ID).id)
    await advance_time(CONNECTIONS_REFRESH + timedelta(minutes=1))
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, MODEL_3_ID), config_entry.entry_id)
        is None
    )
    assert not er.async_entries_for_device(entity_registry, model_3_device.id)
    assert hass.states.get("sensor.2023_tesla_model_3_battery_level") is None
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_3_ID)) is None
    assert MODEL_3_ID not in config_entry.runtime_data.coordinator.data
    assert battery(hass, MODEL_Y_ID) == "62.0"


async def test_removing_a_vehicle_uses_no_deprecated_api(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Removing a stale device logs no deprecation warning."""
    state = frozen_emulator.state
    state.disconnect(state.connection_for(MODEL_3_ID).id)
    await advance_time(CONNECTIONS_REFRESH + timedelta(minutes=1))
    assert MODEL_3_ID not in init_integration.runtime_data.coordinator.data
    assert "which is deprecated" not in caplog.text
    assert "This will stop working in Home Assistant" not in caplog.text


async def test_account_without_vehicles_loads(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """No vehicle connected (any more): the entry still loads, and plans a check in 5 min."""
    await connect_some(frozen_emulator, [], [])
    await setup(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    assert config_entry.state is ConfigEntryState.LOADED
    assert coordinator.data == {}
    assert coordinator.update_interval == timedelta(minutes=5)
    assert frozen_emulator.state.requests.by_path[SIGNALS] == 0


async def test_account_without_vehicles_picks_up_a_new_one(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """No vehicle at first: one connected later shows up at the next connections check."""
    await connect_some(frozen_emulator, [], [])
    await setup(hass, config_entry)
    state = frozen_emulator.state
    state.connect(vehicle_ids=[MODEL_Y_ID])
    state.subscribe(SMARTCAR_WEBHOOK_ID, MODEL_Y_ID)
    await state.wait_for_deliveries()
    await advance_time(CONNECTIONS_REFRESH + timedelta(minutes=1))
    assert battery(hass, MODEL_Y_ID) == "62.0"


async def test_update_entity_does_not_spend_the_budget(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
) -> None:
    """`homeassistant.update_entity` refreshes the coordinator, which reads only what is due."""
    assert await async_setup_component(hass, "homeassistant", {})
    await hass.services.async_call(
        "homeassistant",
        "update_entity",
        {"entity_id": f"sensor.{SLUG[MODEL_Y_ID]}_battery_level"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert frozen_emulator.state.requests.by_path[SIGNALS] == 4
    assert init_integration.runtime_data.coordinator.last_update_success is True


async def test_vehicle_leaving_after_its_device_was_deleted(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The device is already gone when the vehicle leaves the account: nothing to remove."""
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, MODEL_S_ID), init_integration.entry_id
    )
    assert device is not None
    device_registry.async_remove_device(device.id)
    state = frozen_emulator.state
    state.disconnect(state.connection_for(MODEL_S_ID).id)
    await advance_time(CONNECTIONS_REFRESH + timedelta(minutes=1))
    assert MODEL_S_ID not in init_integration.runtime_data.coordinator.data
    assert init_integration.runtime_data.coordinator.last_update_success is True


async def test_failed_connections_refresh_keeps_the_vehicles(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """The periodic connections check failing is not a reason to drop anything."""
    frozen_emulator.state.add_fault("http_502", path="/v3/connections")
    await advance_time(CONNECTIONS_REFRESH + timedelta(minutes=1))
    assert frozen_emulator.state.requests.by_path[CONNECTIONS] == 2
    assert set(init_integration.runtime_data.coordinator.data) == set(SLUG)
    assert battery(hass, MODEL_Y_ID) == "62.0"


async def test_refused_connections_refresh_starts_reauth(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
) -> None:
    """The periodic connections check refused twice: reauthenticate."""
    frozen_emulator.state.add_fault("http_401", path="/v3/connections", count=2)
    await advance_time(CONNECTIONS_REFRESH + timedelta(minutes=1))
    assert len(reauth_flows(hass)) == 1


# --- usage ---------------------------------------------------------------------------------------


async def test_usage_persists_across_reload_and_resets_monthly(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
    freezer: Any,
    hass_storage: dict[str, Any],
) -> None:
    """This month's billed requests survive a reload and start from zero in a new month.

    The counts are written with a delay (one write for many requests), and at once on unload.
    """
    entry = init_integration
    key = f"{DOMAIN}.{entry.entry_id}.usage"
    assert key not in hass_storage
    await advance_time(timedelta(seconds=SAVE_DELAY))
    assert hass_storage[key]["data"] == {
        "month": "2026-06",
        "usage": dict.fromkeys(SLUG, 1),
        "limited": [],
        "smart_commands": {},
        "keys": {},  # Smartcar has said nothing of a key yet
    }

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.2024_tesla_model_y_requests_this_month").state == "2"
    await advance_time(timedelta(seconds=SAVE_DELAY))
    assert hass_storage[key]["data"]["usage"] == dict.fromkeys(SLUG, 2)

    # 1 July, 01:00 in Home Assistant's (US/Pacific) time zone.
    freezer.move_to(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    await advance_time(timedelta(seconds=1))
    assert hass.states.get("sensor.2024_tesla_model_y_requests_this_month").state == "1"
    await advance_time(timedelta(seconds=SAVE_DELAY))
    assert hass_storage[key]["data"] == {
        "month": "2026-07",
        "usage": dict.fromkeys(SLUG, 1),
        "limited": [],
        "smart_commands": {},
        "keys": {},  # Smartcar has said nothing of a key yet
    }


async def test_usage_written_at_once_on_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Unloading writes the counts without waiting for the delayed save."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    key = f"{DOMAIN}.{init_integration.entry_id}.usage"
    assert hass_storage[key]["data"]["usage"] == dict.fromkeys(SLUG, 1)


async def test_usage_of_a_past_month_is_not_carried_over(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant was off across the month's end: the stored usage is last month's."""
    hass_storage[f"{DOMAIN}.{config_entry.entry_id}.usage"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{config_entry.entry_id}.usage",
        "data": {"month": "2026-05", "usage": {MODEL_Y_ID: 321}},
    }
    await connect_fleet(frozen_emulator)
    await setup(hass, config_entry)
    assert hass.states.get("sensor.2024_tesla_model_y_requests_this_month").state == "1"
