"""Repairs: the missing virtual key, fixed through the repairs API as the frontend does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HassJobType, HomeAssistant, get_hassjob_callable_job_type
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import DATA_DISPATCHER
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexcharging import const
from custom_components.flexcharging.const import DOMAIN
from custom_components.flexcharging.issues import key_issue_id
from custom_components.flexcharging.pairing import KeyPairingFlow
from emulator import DEFAULT_USER_ID, MODEL_S_ID, MODEL_Y_ID
from tests.common import HA_WEBHOOK_ID, Emulator

type Advance = Callable[[timedelta], Awaitable[None]]

ISSUE = key_issue_id(MODEL_Y_ID)
SIGNALS = "GET /v3/vehicles/{vehicle_id}/signals"


@pytest.fixture
def quick_key_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check the key every 50 ms and give up after 0.3 s (instead of 20 s)."""
    monkeypatch.setattr(KeyPairingFlow, "key_check_delays", (0.05,))
    monkeypatch.setattr(KeyPairingFlow, "key_check_inline_timeout", timedelta(seconds=0.3))


class RepairsApi:
    """The repairs HTTP API, as the frontend calls it."""

    def __init__(self, client: Any) -> None:
        """Wrap an authenticated test client."""
        self.client = client

    async def start(self, issue_id: str) -> dict[str, Any]:
        """Open the fix flow of an issue."""
        response = await self.client.post(
            "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
        )
        assert response.status == HTTPStatus.OK, await response.text()
        return await response.json()

    async def submit(self, flow_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Submit a step."""
        response = await self.client.post(f"/api/repairs/issues/fix/{flow_id}", json=data or {})
        assert response.status == HTTPStatus.OK, await response.text()
        return await response.json()

    async def close(self, flow_id: str) -> None:
        """Close the dialog."""
        response = await self.client.delete(f"/api/repairs/issues/fix/{flow_id}")
        assert response.status == HTTPStatus.OK


@pytest.fixture
async def repairs(hass: HomeAssistant, hass_client: Any) -> Callable[[], Awaitable[RepairsApi]]:
    """The repairs API (the client is made after setup, once the routes exist)."""

    async def _api() -> RepairsApi:
        return RepairsApi(await hass_client())

    return _api


async def wait_until(condition: Callable[[], bool]) -> None:
    """Let the loop run (real time) until `condition` holds; at most 5 s."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in 5 s")


def flows_in_progress(hass: HomeAssistant) -> list[Any]:
    """Repair flows still open."""
    manager = repairs_flow_manager(hass)
    assert manager is not None
    return manager.async_progress()


async def remove_key(hass: HomeAssistant, emulator: Emulator, entry: MockConfigEntry) -> None:
    """The key is removed from the Model Y (Tesla app → Locks); the user presses Refresh."""
    emulator.state.set_key(MODEL_Y_ID, paired=False)
    await entry.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()


# --- the issue -----------------------------------------------------------------------------------


async def test_key_removed_raises_the_repair_at_the_next_poll(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    advance_time: Advance,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The key is removed in the car: the next poll raises a fixable repair naming the vehicle."""
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    frozen_emulator.state.set_key(MODEL_Y_ID, paired=False)
    model_y = init_integration.runtime_data.coordinator.data[MODEL_Y_ID]
    await advance_time(model_y.next_poll - dt_util.utcnow())

    issue = issue_registry.async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.is_fixable is True
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "virtual_key_missing"
    assert issue.translation_placeholders == {"vehicle": "2024 Tesla Model Y"}
    assert issue.data == {"entry_id": init_integration.entry_id, "vehicle_id": MODEL_Y_ID}
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "missing"
    # The keyless Model 3 has had its own repair since setup.
    assert issue_registry.async_get_issue(
        DOMAIN, key_issue_id("a1000000-0000-4000-8000-000000000001")
    )


# --- the fix flow --------------------------------------------------------------------------------


@pytest.mark.usefixtures("quick_key_check")
async def test_fix_flow_pairs_the_key(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
    issue_registry: ir.IssueRegistry,
) -> None:
    """QR code and link; a check that times out while the key is missing; then the pairing."""
    await remove_key(hass, emulator, init_integration)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    api = await repairs()

    result = await api.start(ISSUE)
    assert result["type"] == "form"
    assert result["step_id"] == "pair_key"
    assert result["errors"] is None
    placeholders = result["description_placeholders"]
    link = f"{emulator.origin}/_ak/smartcar.com?vin=7SAYGDEE5RF000002"
    assert placeholders["vehicle"] == "2024 Tesla Model Y"
    assert placeholders["virtual_key_url"] == link
    assert placeholders["virtual_key_link"] == f"[{link}]({link})"
    fields = {field["name"]: field for field in result["data_schema"]}
    assert fields["qr_code"]["selector"]["qr_code"]["data"] == link
    # The repair cannot be skipped: checking is the only way on.
    assert fields["next_action"]["selector"]["select"]["options"] == ["check"]
    flow_id = result["flow_id"]

    # Check while the key is still missing: it reads again and again, then says so.
    reads = emulator.state.requests.by_path[SIGNALS]
    result = await api.submit(flow_id, {"next_action": "check"})
    assert result["type"] == "form"
    assert result["step_id"] == "pair_key"
    assert result["errors"] == {"base": "key_not_detected"}
    assert emulator.state.requests.by_path[SIGNALS] > reads + 1
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None

    # Approved in the Tesla app: the check finds the key, the repair is done.
    emulator.state.set_key(MODEL_Y_ID, paired=True)
    result = await api.submit(flow_id, {"next_action": "check"})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert not flows_in_progress(hass)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "paired"


@pytest.mark.usefixtures("quick_key_check")
async def test_phone_key_is_not_taken_for_smartcars(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
    issue_registry: ir.IssueRegistry,
) -> None:
    """The key signal stays true (a phone key): only Smartcar's answer to a command counts."""
    emulator.state.update_options({"keyless_key_status": "true"})
    await remove_key(hass, emulator, init_integration)
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "unconfirmed"
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    # A command: Smartcar answers VIRTUAL_KEY_REQUIRED; the key is missing, the repair appears.
    with pytest.raises(HomeAssistantError):
        await init_integration.runtime_data.coordinator.async_set_charge_limit(MODEL_Y_ID, 80)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "missing"
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None

    # The check reads the signal (true: a hint) and asks Smartcar once: still missing. The
    # signal's later reads (still true) send no more commands: each one would wake the car.
    api = await repairs()
    flow_id = (await api.start(ISSUE))["flow_id"]
    set_limit = "POST /v3/vehicles/{vehicle_id}/commands/charge/set-limit"
    commands = emulator.state.requests.by_path[set_limit]
    reads = emulator.state.requests.by_path[SIGNALS]
    result = await api.submit(flow_id, {"next_action": "check"})
    assert result["errors"] == {"base": "key_not_detected"}
    assert emulator.state.requests.by_path[SIGNALS] > reads + 1
    assert emulator.state.requests.by_path[set_limit] == commands + 1
    assert emulator.state.vehicles[MODEL_Y_ID].charge_limit == 80  # nothing changed

    # Approved in the Tesla app: the next check's command goes through.
    emulator.state.set_key(MODEL_Y_ID, paired=True)
    result = await api.submit(flow_id, {"next_action": "check"})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "paired"


async def test_pairing_link_is_the_errors_resolution_url(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
    post_webhook: Callable[..., Awaitable[Any]],
) -> None:
    """A VIRTUAL_KEY_REQUIRED with a resolution.url (an Enterprise key): that is the link."""
    url = "https://www.tesla.com/_ak/fleet.example.com"
    await post_webhook(
        {
            "eventId": "key-error-1",
            "eventType": "VEHICLE_ERROR",
            "data": {
                "user": {"id": DEFAULT_USER_ID},
                "vehicle": {"id": MODEL_Y_ID, "make": "TESLA", "model": "Model Y", "year": 2024},
                "errors": [
                    {
                        "type": "CONNECTED_SERVICES_ACCOUNT",
                        "code": "VIRTUAL_KEY_REQUIRED",
                        "state": "ERROR",
                        "resolution": {"type": "ACTION_REQUIRED", "url": url},
                    }
                ],
            },
            "meta": {"version": "4.0", "mode": "LIVE"},
        }
    )
    api = await repairs()
    result = await api.start(ISSUE)
    link = f"{url}?vin=7SAYGDEE5RF000002"
    assert result["description_placeholders"]["virtual_key_url"] == link
    qr_code = hass.states.get("image.2024_tesla_model_y_virtual_key_qr_code")
    assert qr_code.attributes["url"] == link  # the dashboard's QR code follows


async def test_key_removed_is_pushed_by_smartcar(
    hass: HomeAssistant,
    *,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    hass_client_no_auth: Any,
    issue_registry: ir.IssueRegistry,
) -> None:
    """End to end: Smartcar's webhook reports the key removed and paired again; no poll needed."""
    state = emulator.state
    receiver = await hass_client_no_auth()
    init_integration.runtime_data.receiver.open_verification()  # "Verify webhook again"
    webhook = await state.create_webhook(
        str(receiver.make_url(f"/api/webhook/{HA_WEBHOOK_ID}")), name="Home Assistant"
    )
    assert webhook.verified  # Home Assistant answered Smartcar's VERIFY
    state.subscribe(webhook.id, MODEL_Y_ID)
    await state.wait_for_deliveries()
    reads = state.requests.by_path[SIGNALS]

    state.set_key(MODEL_Y_ID, paired=False)
    await state.wait_for_deliveries()
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "missing"

    state.set_key(MODEL_Y_ID, paired=True)
    await state.wait_for_deliveries()
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "paired"
    assert state.requests.by_path[SIGNALS] == reads


async def test_key_paired_while_the_dialog_is_open(
    hass: HomeAssistant,
    *,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
    issue_registry: ir.IssueRegistry,
) -> None:
    """Approved in the Tesla app before "check now": the dialog stays until the user checks.

    Deleting the issue under an open fix flow would close the user's dialog mid-step.
    """
    coordinator = init_integration.runtime_data.coordinator
    await remove_key(hass, emulator, init_integration)
    api = await repairs()
    flow_id = (await api.start(ISSUE))["flow_id"]
    emulator.state.set_key(MODEL_Y_ID, paired=True)
    await coordinator.async_refresh_vehicle(MODEL_Y_ID)  # a poll (or a delivery) sees the key
    await hass.async_block_till_done()
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state != "missing"
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    assert flows_in_progress(hass)
    result = await api.submit(flow_id, {"next_action": "check"})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None


async def test_key_paired_then_the_dialog_is_closed(
    hass: HomeAssistant,
    *,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
    issue_registry: ir.IssueRegistry,
) -> None:
    """Paired while the dialog is open, then the dialog is closed: the issue goes with it."""
    coordinator = init_integration.runtime_data.coordinator
    await remove_key(hass, emulator, init_integration)
    api = await repairs()
    flow_id = (await api.start(ISSUE))["flow_id"]
    emulator.state.set_key(MODEL_Y_ID, paired=True)
    await coordinator.async_refresh_vehicle(MODEL_Y_ID)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    await api.close(flow_id)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None


@pytest.mark.usefixtures("quick_key_check")
async def test_key_check_is_woken_on_the_event_loop(
    hass: HomeAssistant,
    *,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
) -> None:
    """The wake-up a webhook delivery sends to a running key check is an event-loop callback."""
    await remove_key(hass, emulator, init_integration)
    api = await repairs()
    flow_id = (await api.start(ISSUE))["flow_id"]
    reads = emulator.state.requests.by_path[SIGNALS]
    check = asyncio.ensure_future(api.submit(flow_id, {"next_action": "check"}))
    try:
        await wait_until(lambda: emulator.state.requests.by_path[SIGNALS] > reads)
        signal = const.SIGNAL_KEY_STATE_CHANGED.format(MODEL_Y_ID)
        targets = list(hass.data[DATA_DISPATCHER][signal])
        assert targets
        for target in targets:
            assert get_hassjob_callable_job_type(target) is HassJobType.Callback
    finally:
        await check  # the check ends on its own after 0.3 s


async def test_closing_the_dialog_stops_the_check(
    hass: HomeAssistant,
    *,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
    issue_registry: ir.IssueRegistry,
) -> None:
    """The user closes the dialog during the check: no more reads, the repair stays."""
    monkeypatch.setattr(KeyPairingFlow, "key_check_delays", (0.1,))
    monkeypatch.setattr(KeyPairingFlow, "key_check_inline_timeout", timedelta(seconds=1))
    await remove_key(hass, emulator, init_integration)
    requests = emulator.state.requests
    api = await repairs()
    flow_id = (await api.start(ISSUE))["flow_id"]
    reads = requests.by_path[SIGNALS]
    check = asyncio.ensure_future(
        api.client.post(f"/api/repairs/issues/fix/{flow_id}", json={"next_action": "check"})
    )
    await wait_until(lambda: requests.by_path[SIGNALS] > reads)
    await api.close(flow_id)
    closed_at = requests.by_path[SIGNALS]
    async with asyncio.timeout(5):
        await check  # (its answer no longer matters: the dialog is gone)
        await hass.async_block_till_done()
    assert requests.by_path[SIGNALS] == closed_at
    assert not flows_in_progress(hass)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None


@pytest.mark.usefixtures("quick_key_check")
async def test_check_refused_by_smartcar_says_the_state_is_unknown(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
) -> None:
    """Smartcar refuses every check: the key state is unknown, not "missing"."""
    await remove_key(hass, emulator, init_integration)
    api = await repairs()
    flow_id = (await api.start(ISSUE))["flow_id"]
    emulator.state.add_fault("http_401", vehicle_id=MODEL_Y_ID, path="/signals", count=-1)
    result = await api.submit(flow_id, {"next_action": "check"})
    assert result["step_id"] == "pair_key"
    assert result["errors"] == {"base": "key_state_unknown"}


@pytest.mark.usefixtures("quick_key_check")
async def test_check_of_a_sleeping_car_says_the_state_is_unknown(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
) -> None:
    """The car does not answer during the check: "wake it", not "the key is not there"."""
    await remove_key(hass, emulator, init_integration)
    api = await repairs()
    flow_id = (await api.start(ISSUE))["flow_id"]
    emulator.state.add_fault("http_409_asleep", vehicle_id=MODEL_Y_ID, path="/signals", count=-1)
    result = await api.submit(flow_id, {"next_action": "check"})
    assert result["errors"] == {"base": "key_state_unknown"}


# --- flows that end at once ----------------------------------------------------------------------


def create_key_issue(hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None) -> None:
    """A key issue as the coordinator writes it (here with chosen data)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        severity=ir.IssueSeverity.ERROR,
        translation_key="virtual_key_missing",
        translation_placeholders={"vehicle": "a car"},
        data=data,
    )


async def test_vehicle_gone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
) -> None:
    """The issue's vehicle is no longer on the account."""
    data = {"entry_id": init_integration.entry_id, "vehicle_id": "gone"}
    create_key_issue(hass, key_issue_id("gone"), data)
    result = await (await repairs()).start(key_issue_id("gone"))
    assert result["type"] == "abort"
    assert result["reason"] == "vehicle_gone"


async def test_key_no_longer_missing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
    issue_registry: ir.IssueRegistry,
) -> None:
    """Opened after the key was found: nothing left to do."""
    data = {"entry_id": init_integration.entry_id, "vehicle_id": MODEL_S_ID}
    create_key_issue(hass, key_issue_id(MODEL_S_ID), data)
    result = await (await repairs()).start(key_issue_id(MODEL_S_ID))
    assert result["type"] == "create_entry"
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_S_ID)) is None


async def test_entry_not_loaded(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
) -> None:
    """FlexCharging is unloaded: the repair explains it must be running."""
    await remove_key(hass, emulator, init_integration)
    api = await repairs()
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    result = await api.start(ISSUE)
    assert result["type"] == "abort"
    assert result["reason"] == "not_loaded"


@pytest.mark.parametrize("data", [None, {"entry_id": "no-such-entry", "vehicle_id": MODEL_Y_ID}])
async def test_unknown_entry(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    repairs: Callable[[], Awaitable[RepairsApi]],
    data: dict[str, Any] | None,
) -> None:
    """An issue without (or with a stale) entry: not loaded."""
    create_key_issue(hass, "virtual_key_missing_stale", data)
    result = await (await repairs()).start("virtual_key_missing_stale")
    assert result["type"] == "abort"
    assert result["reason"] == "not_loaded"
