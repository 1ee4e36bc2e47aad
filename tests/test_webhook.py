"""Smartcar webhook deliveries to Home Assistant: signed, deduplicated, merged by freshness."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import hashlib
import hmac
from http import HTTPStatus
import json
from typing import Any
import uuid

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexcharging.api.webhooks import challenge_response
from custom_components.flexcharging.budget import WEBHOOK_INTERVAL
from custom_components.flexcharging.const import (
    CONF_USER_ID,
    CONF_WEBHOOK_VERIFIED,
    DATA_CONFIRMED_KEYS,
    DOMAIN,
)
from custom_components.flexcharging.diagnostics import async_get_config_entry_diagnostics
from custom_components.flexcharging.issues import key_issue_id, webhook_signature_issue_id
from custom_components.flexcharging.push import VERIFY_WINDOW, PushReceiver
from emulator import DEFAULT_APP, DEFAULT_USER_ID, MODEL_3_ID, MODEL_Y_ID, sign
from tests.common import HA_WEBHOOK_ID, Emulator, setup_integration

type Post = Callable[..., Awaitable[Any]]
type Advance = Callable[[timedelta], Awaitable[None]]

MODEL_Y_BATTERY = "sensor.2024_tesla_model_y_battery_level"
VERIFY_AGAIN_BUTTON = "button.smartcar_webhook_verify_webhook_again"
VEHICLES = {
    MODEL_Y_ID: {"make": "TESLA", "model": "Model Y", "year": 2024},
    MODEL_3_ID: {"make": "TESLA", "model": "Model 3", "year": 2023},
}


def ms(moment: datetime) -> int:
    """Milliseconds since the epoch, as webhook payloads carry times."""
    return int(moment.timestamp() * 1000)


def soc(value: float, at: datetime) -> dict[str, Any]:
    """A TractionBattery.StateOfCharge signal."""
    return {
        "code": "tractionbattery-stateofcharge",
        "name": "StateOfCharge",
        "group": "TractionBattery",
        "body": {"value": value, "unit": "percent"},
        "status": {"value": "SUCCESS"},
        "meta": {"oemUpdatedAt": ms(at), "retrievedAt": ms(at)},
    }


def state_event(
    vehicle_id: str,
    signals: list[dict[str, Any]],
    *,
    event_id: str | None = None,
    user_id: str | None = DEFAULT_USER_ID,
    mode: str = "LIVE",
) -> dict[str, Any]:
    """A VEHICLE_STATE delivery (payload version 4.0)."""
    data: dict[str, Any] = {
        "vehicle": {"id": vehicle_id, **VEHICLES.get(vehicle_id, {"make": "KIA"})},
        "signals": signals,
    }
    if user_id is not None:
        data["user"] = {"id": user_id}
    return {
        "eventId": event_id or str(uuid.uuid4()),
        "eventType": "VEHICLE_STATE",
        "data": data,
        "triggers": [{"type": "SIGNAL_UPDATED"}],
        "meta": {"version": "4.0", "mode": mode, "deliveryId": str(uuid.uuid4())},
    }


def error_event(vehicle_id: str, code: str, state: str) -> dict[str, Any]:
    """A VEHICLE_ERROR delivery raising (ERROR) or clearing (RESOLVED) one error."""
    return {
        "eventId": str(uuid.uuid4()),
        "eventType": "VEHICLE_ERROR",
        "data": {
            "user": {"id": DEFAULT_USER_ID},
            "vehicle": {"id": vehicle_id, **VEHICLES[vehicle_id]},
            "errors": [{"type": "CONNECTED_SERVICES_ACCOUNT", "code": code, "state": state}],
        },
        "meta": {"version": "4.0", "mode": "LIVE"},
    }


def battery(hass: HomeAssistant) -> str:
    """The Model Y's battery level state."""
    return hass.states.get(MODEL_Y_BATTERY).state


# --- the receiving end ---------------------------------------------------------------------------


async def press_verify_again(hass: HomeAssistant) -> None:
    """Press the webhook device's "Verify webhook again" button."""
    await hass.services.async_call(
        "button", "press", {"entity_id": VERIFY_AGAIN_BUTTON}, blocking=True
    )


def verify_event(challenge: str) -> dict[str, Any]:
    """An unsigned VERIFY as Smartcar sends it (payload version 4.0)."""
    return {"eventId": str(uuid.uuid4()), "eventType": "VERIFY", "data": {"challenge": challenge}}


async def test_verify_is_refused_when_none_is_expected(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """No setup step waiting and no "Verify webhook again": an unsigned VERIFY is refused."""
    response = await post_webhook(verify_event("abc123"), signature="")
    assert response.status == HTTPStatus.UNAUTHORIZED
    assert await response.text() == ""  # nothing signed, nothing echoed


async def test_verify_is_answered_after_verify_again(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """After "Verify webhook again", Smartcar's VERIFY gets HMAC-SHA256(challenge, AMT)."""
    await press_verify_again(hass)
    response = await post_webhook(verify_event("abc123"), signature="")
    assert response.status == HTTPStatus.OK
    expected = hmac.new(DEFAULT_APP.amt.encode(), b"abc123", hashlib.sha256).hexdigest()
    assert await response.json() == {"challenge": expected}


@pytest.mark.parametrize("window_open", [False, True], ids=["no_window", "window_open"])
async def test_verify_is_no_signing_oracle(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    post_webhook: Post,
    window_open: bool,
) -> None:
    """The attack: a forged delivery body sent as a VERIFY challenge, to get its signature.

    Before the fix the answer was HMAC(AMT, body), a valid SC-Signature for the forged body,
    which was then accepted (the battery level changed). Now, even while a verification is
    expected, a challenge that could be a delivery body is not signed, and the forged
    delivery is refused.
    """
    if window_open:
        await press_verify_again(hass)
    forged = json.dumps(state_event(MODEL_Y_ID, [soc(5, datetime.now(UTC))]))
    response = await post_webhook(verify_event(forged), signature="")
    assert response.status in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
    answer = await response.text()
    stolen = json.loads(answer)["challenge"] if answer.startswith("{") else "0" * 64
    assert stolen != hmac.new(DEFAULT_APP.amt.encode(), forged.encode(), hashlib.sha256).hexdigest()

    response = await post_webhook(forged.encode(), signature=stolen)
    assert response.status == HTTPStatus.UNAUTHORIZED
    assert battery(hass) == "62.0"
    assert init_integration.runtime_data.receiver.accepted == 0


@pytest.mark.parametrize("signature", ["", "0" * 64, sign("another-token", b"{}")])
async def test_bad_signature_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post, signature: str
) -> None:
    """Missing or wrong SC-Signature: 401, and nothing changes."""
    payload = state_event(MODEL_Y_ID, [soc(90, datetime.now(UTC))])
    response = await post_webhook(payload, signature=signature)
    assert response.status == HTTPStatus.UNAUTHORIZED
    assert battery(hass) == "62.0"
    assert not init_integration.runtime_data.coordinator.webhooks_flowing


async def test_refusals_are_counted_and_logged_once_a_minute(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    post_webhook: Post,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stream of refused requests: each counted (diagnostics), one warning a minute."""
    for _ in range(4):
        await post_webhook(state_event(MODEL_Y_ID, [soc(90, datetime.now(UTC))]), signature="")
    receiver = init_integration.runtime_data.receiver
    assert receiver.rejected == 4
    assert receiver.last_rejection == "unsigned, no verification expected"
    assert caplog.text.count("Refused a request to the FlexCharging webhook") == 1


async def test_oversized_body_is_refused_unread(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """A body over 256 kB: 413, never parsed, even when correctly signed."""
    response = await post_webhook(b"{" + b" " * (256 * 1024) + b"}")
    assert response.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert init_integration.runtime_data.receiver.rejected == 1


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"eventType": 5, "data": {}}'])
async def test_signed_but_unreadable_is_taken(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post, body: bytes
) -> None:
    """Signed by Smartcar but not readable: 202 (a retry would fail the same way), logged."""
    response = await post_webhook(body)
    assert response.status == HTTPStatus.ACCEPTED
    assert battery(hass) == "62.0"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"eventType": "VERIFY"}'])
async def test_unsigned_junk_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post, body: bytes
) -> None:
    """Unsigned and not a VERIFY, even while one is expected: 401."""
    await press_verify_again(hass)
    response = await post_webhook(body, signature="")
    assert response.status == HTTPStatus.UNAUTHORIZED


async def test_delivery_for_an_unknown_vehicle_changes_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """A signed delivery for a vehicle not on the account: acknowledged, nothing created."""
    devices = len(hass.data["device_registry"].devices)
    response = await post_webhook(state_event("f0000000-0000-4000-8000-00000000000f", []))
    assert response.status == HTTPStatus.OK
    assert len(hass.data["device_registry"].devices) == devices
    assert battery(hass) == "62.0"


async def test_failing_signatures_raise_a_repair_until_one_passes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    post_webhook: Post,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Signed deliveries that keep failing the check: a repair; polling goes on.

    As reported for real v3 applications: https://github.com/wbyoung/smartcar/issues/130,
    /issues/139, /pull/141.
    """
    issue_id = webhook_signature_issue_id(init_integration.entry_id)
    for count in range(5):
        assert issue_registry.async_get_issue(DOMAIN, issue_id) is None, count
        payload = state_event(MODEL_Y_ID, [soc(90, datetime.now(UTC))])
        await post_webhook(payload, signature=sign("a-v2-era-secret", json.dumps(payload).encode()))
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "webhook_signature_failing"  # verified at setup
    assert battery(hass) == "62.0"

    await post_webhook(state_event(MODEL_Y_ID, [soc(90, datetime.now(UTC))]))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert battery(hass) == "90.0"


async def post_mis_signed(post_webhook: Post, times: int) -> None:
    """Post `times` deliveries signed with a token that is not the AMT."""
    for _ in range(times):
        payload = state_event(MODEL_Y_ID, [soc(90, datetime.now(UTC))])
        await post_webhook(payload, signature=sign("another-token", json.dumps(payload).encode()))


def signature_repair(issue_registry: ir.IssueRegistry, entry: MockConfigEntry) -> str | None:
    """The signature repair's translation key, if it is raised."""
    issue = issue_registry.async_get_issue(DOMAIN, webhook_signature_issue_id(entry.entry_id))
    return issue.translation_key if issue else None


@pytest.mark.parametrize(
    ("stored", "first_repair"),
    [
        (False, "webhook_signature_failing_unverified"),  # the flow saw no VERIFY
        (None, "webhook_signature_failing_unknown"),  # an entry from before it was recorded
    ],
    ids=["unverified", "older_entry"],
)
async def test_signature_failures_of_a_webhook_not_known_verified(
    hass: HomeAssistant,
    credentials: None,
    *,
    connected_fleet: Emulator,
    config_entry: MockConfigEntry,
    post_webhook: Post,
    issue_registry: ir.IssueRegistry,
    stored: bool | None,
    first_repair: str,
) -> None:
    """No VERIFY known to have passed: the token is the first suspect (the only one if none did).

    Once a VERIFY is answered ("Verify webhook again"), the repair explains the v3 condition,
    and the entry keeps that across a restart.
    """
    data = {**config_entry.data, CONF_WEBHOOK_VERIFIED: stored}
    if stored is None:
        del data[CONF_WEBHOOK_VERIFIED]
    hass.config_entries.async_update_entry(config_entry, data=data)
    await setup_integration(hass, config_entry)
    await post_mis_signed(post_webhook, 5)
    assert signature_repair(issue_registry, config_entry) == first_repair

    await press_verify_again(hass)
    response = await post_webhook(verify_event("abc123"), signature="")
    assert response.status == HTTPStatus.OK
    assert signature_repair(issue_registry, config_entry) == "webhook_signature_failing"
    assert config_entry.data[CONF_WEBHOOK_VERIFIED] is True

    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    ir.async_delete_issue(hass, DOMAIN, webhook_signature_issue_id(config_entry.entry_id))
    await post_mis_signed(post_webhook, 5)
    assert signature_repair(issue_registry, config_entry) == "webhook_signature_failing"


async def test_origin_override_is_logged_at_setup(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """FLEXCHARGING_SMARTCAR_ORIGIN redirects where the client secret goes: a warning says so."""
    assert any(
        "FLEXCHARGING_SMARTCAR_ORIGIN is set: every Smartcar request" in record.getMessage()
        and record.levelname == "WARNING"
        for record in caplog.get_records("setup")
    )


def test_verification_window_closes() -> None:
    """The window "Verify webhook again" opens lasts VERIFY_WINDOW, then closes by itself."""
    now = [1000.0]

    async def ignore(event: Any) -> None:
        raise AssertionError(event)

    receiver = PushReceiver(DEFAULT_APP.amt, ignore, clock=lambda: now[0])
    assert not receiver.verification_open
    receiver.open_verification()
    now[0] += VERIFY_WINDOW.total_seconds() - 1
    assert receiver.verification_open
    now[0] += 1
    assert not receiver.verification_open
    receiver.open_verification()
    receiver.close_verification()
    assert not receiver.verification_open


async def test_new_token_is_trusted_only_while_its_window_is_open(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """A reconfigure's new AMT: VERIFY answered with it, its deliveries taken until it closes."""
    receiver = init_integration.runtime_data.receiver
    assert receiver is not None
    new_token = "amt_new_0123456789abcdef"
    receiver.open_verification(management_token=new_token)
    response = await post_webhook({"eventType": "VERIFY", "data": {"challenge": "c-1"}}, "")
    assert await response.json() == challenge_response(new_token, "c-1")
    payload = state_event(MODEL_Y_ID, [soc(80, datetime.now(UTC))])
    response = await post_webhook(payload, sign(new_token, json.dumps(payload).encode()))
    assert response.status == HTTPStatus.OK
    assert battery(hass) == "80.0"

    receiver.close_verification()
    payload = state_event(MODEL_Y_ID, [soc(81, datetime.now(UTC))])
    response = await post_webhook(payload, sign(new_token, json.dumps(payload).encode()))
    assert response.status == HTTPStatus.UNAUTHORIZED
    assert battery(hass) == "80.0"
    await post_webhook(payload)  # the entry's own token still works
    assert battery(hass) == "81.0"


async def test_partial_delivery_is_used(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    post_webhook: Post,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One unreadable signal: 200, the others are used, the reason is logged once per code."""
    now = datetime.now(UTC)
    broken = {**soc(0, now), "code": "charge-detailedchargingstatus", "body": {"value": "NEW"}}
    for value in (90, 91):
        response = await post_webhook(state_event(MODEL_Y_ID, [soc(value, now), broken]))
        assert response.status == HTTPStatus.OK
        assert battery(hass) == f"{value}.0"
    assert caplog.text.count("charge-detailedchargingstatus signal of 2024 Tesla Model Y") == 1
    assert "unknown charging status 'NEW'" in caplog.text
    vehicle = init_integration.runtime_data.coordinator.data[MODEL_Y_ID]
    assert vehicle.signal_problems == {
        "charge-detailedchargingstatus": "body.value: unknown charging status 'NEW'"
    }
    # The signal reads again: the problem is gone from the vehicle's diagnostics.
    fixed = {
        **broken,
        "body": {"value": "CHARGING"},
        "meta": soc(0, now + timedelta(seconds=1))["meta"],
    }
    response = await post_webhook(state_event(MODEL_Y_ID, [fixed]))
    assert response.status == HTTPStatus.OK
    assert vehicle.signal_problems == {}


async def test_test_delivery_changes_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """The dashboard's test delivery: accepted (202), not applied."""
    payload = state_event(MODEL_Y_ID, [soc(90, datetime.now(UTC))], mode="TEST")
    response = await post_webhook(payload)
    assert response.status == HTTPStatus.ACCEPTED
    assert battery(hass) == "62.0"


async def test_vehicle_state_updates_entities_at_once(
    hass: HomeAssistant, emulator: Emulator, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """A newer value shows at once, without a billed read."""
    requests = emulator.state.requests.total
    response = await post_webhook(state_event(MODEL_Y_ID, [soc(70, datetime.now(UTC))]))
    assert response.status == HTTPStatus.OK
    assert battery(hass) == "70.0"
    assert emulator.state.requests.total == requests


async def test_duplicate_delivery_is_ignored(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """Smartcar retries with the same eventId: applied once."""
    now = datetime.now(UTC)
    await post_webhook(state_event(MODEL_Y_ID, [soc(70, now)], event_id="same"))
    response = await post_webhook(
        state_event(MODEL_Y_ID, [soc(75, now + timedelta(minutes=1))], event_id="same")
    )
    assert response.status == HTTPStatus.OK
    assert battery(hass) == "70.0"


async def test_older_value_does_not_overwrite_a_newer_one(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """A late delivery of an older reading loses to what was read since."""
    read_at = init_integration.runtime_data.coordinator.data[MODEL_Y_ID].state.battery_level
    assert read_at.oem_updated_at is not None
    response = await post_webhook(
        state_event(MODEL_Y_ID, [soc(40, read_at.oem_updated_at - timedelta(hours=1))])
    )
    assert response.status == HTTPStatus.OK
    assert battery(hass) == "62.0"


@pytest.mark.parametrize(
    ("vehicle_id", "user_id"),
    [("f0000000-0000-4000-8000-00000000000f", DEFAULT_USER_ID), (MODEL_Y_ID, "someone-else")],
    ids=["unknown_vehicle", "other_user"],
)
async def test_delivery_for_someone_else_is_ignored(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    post_webhook: Post,
    vehicle_id: str,
    user_id: str,
) -> None:
    """Another vehicle or another user of the same application: not ours."""
    payload = state_event(vehicle_id, [soc(90, datetime.now(UTC))], user_id=user_id)
    response = await post_webhook(payload)
    assert response.status == HTTPStatus.OK
    assert battery(hass) == "62.0"
    assert not init_integration.runtime_data.coordinator.webhooks_flowing


async def test_delivery_without_a_user(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """Older payloads carry no user: the vehicle alone decides."""
    payload = state_event(MODEL_Y_ID, [soc(66, datetime.now(UTC))], user_id=None)
    assert (await post_webhook(payload)).status == HTTPStatus.OK
    assert battery(hass) == "66.0"


async def test_unknown_event_type_is_acknowledged(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """Event types FlexCharging does not use are acknowledged (so Smartcar does not retry)."""
    response = await post_webhook(
        {"eventId": "x", "eventType": "VEHICLE_DISCONNECTED", "data": {"vehicleId": MODEL_Y_ID}}
    )
    assert response.status == HTTPStatus.OK
    assert not init_integration.runtime_data.coordinator.webhooks_flowing


# --- errors --------------------------------------------------------------------------------------


async def test_virtual_key_error_and_resolution(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    post_webhook: Post,
    issue_registry: ir.IssueRegistry,
) -> None:
    """VIRTUAL_KEY_REQUIRED raised: key missing and a repair; resolved: both gone."""
    issue_id = key_issue_id(MODEL_Y_ID)
    await post_webhook(error_event(MODEL_Y_ID, "VIRTUAL_KEY_REQUIRED", "ERROR"))
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "missing"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"vehicle": "2024 Tesla Model Y"}

    await post_webhook(error_event(MODEL_Y_ID, "VIRTUAL_KEY_REQUIRED", "RESOLVED"))
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "paired"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_other_vehicle_errors_leave_the_key_alone(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """An error that is not about the key (here UNREACHABLE) does not touch the key state."""
    await post_webhook(error_event(MODEL_Y_ID, "UNREACHABLE", "ERROR"))
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "unconfirmed"


async def test_resolved_key_error_clears_a_key_read_as_missing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    post_webhook: Post,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The Model 3 was read key-less; Smartcar then reports the key error resolved."""
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_3_ID)) is not None
    await post_webhook(error_event(MODEL_3_ID, "VIRTUAL_KEY_REQUIRED", "RESOLVED"))
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_3_ID)) is None
    # The signal store still holds the error from before (an older time): RESOLVED stands.
    await init_integration.runtime_data.coordinator.async_refresh_vehicle(MODEL_3_ID)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_3_ID)) is None
    assert hass.states.get("sensor.2023_tesla_model_3_virtual_key").state == "paired"


async def test_smartcars_word_on_a_key_survives_a_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """A key Smartcar confirmed stays paired after a restart: the key signal is only a hint."""
    key = "sensor.2024_tesla_model_y_virtual_key"
    assert hass.states.get(key).state == "unconfirmed"
    await post_webhook(error_event(MODEL_Y_ID, "VIRTUAL_KEY_REQUIRED", "RESOLVED"))
    assert hass.states.get(key).state == "paired"
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(key).state == "paired"


async def test_keys_the_setup_flow_confirmed_start_paired(
    hass: HomeAssistant, credentials: None, connected_fleet: Any, config_entry: MockConfigEntry
) -> None:
    """The entry's first data starts from what the setup flow just had Smartcar confirm."""
    confirmed_at = datetime.now(UTC)
    hass.data[DATA_CONFIRMED_KEYS] = {config_entry.data[CONF_USER_ID]: {MODEL_Y_ID: confirmed_at}}
    await setup_integration(hass, config_entry)
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "paired"
    assert hass.data[DATA_CONFIRMED_KEYS] == {}  # taken once


# --- effect on polling ---------------------------------------------------------------------------


async def test_flowing_webhooks_stretch_the_polls(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    post_webhook: Post,
    advance_time: Advance,
) -> None:
    """Once Smartcar pushes, polling is a twice-a-day safety net; after 26 h of silence, not."""
    coordinator = init_integration.runtime_data.coordinator
    assert not coordinator.webhooks_flowing
    await advance_time(timedelta(minutes=1))
    await post_webhook(state_event(MODEL_Y_ID, [soc(63, dt_util.utcnow())]))
    assert coordinator.webhooks_flowing
    now = dt_util.utcnow()
    assert coordinator.data[MODEL_Y_ID].next_poll >= now + WEBHOOK_INTERVAL
    attributes = hass.states.get("sensor.2024_tesla_model_y_requests_this_month").attributes
    assert attributes["webhooks_flowing"] is True

    # The other vehicles' next reads, when they come, are planned with webhooks flowing too.
    for _ in range(5):
        if all(
            vehicle.last_success > now
            for vehicle_id, vehicle in coordinator.data.items()
            if vehicle_id != MODEL_Y_ID
        ):
            break
        await advance_time(coordinator.update_interval)
    for vehicle in coordinator.data.values():
        if vehicle.info.vehicle_id != MODEL_Y_ID:
            assert vehicle.last_success > now
        assert vehicle.next_poll - max(vehicle.last_success, now) >= WEBHOOK_INTERVAL

    await advance_time(timedelta(hours=27))
    assert not coordinator.webhooks_flowing


# --- webhook health ------------------------------------------------------------------------------


async def test_last_delivery_per_vehicle(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    post_webhook: Post,
    advance_time: Advance,
) -> None:
    """Each vehicle's last delivery: a diagnostic timestamp, set by that vehicle's deliveries."""
    model_y = "sensor.2024_tesla_model_y_last_webhook_delivery"
    model_3 = "sensor.2023_tesla_model_3_last_webhook_delivery"
    assert hass.states.get(model_y).state == "unknown"
    await advance_time(timedelta(minutes=3))
    delivered = dt_util.utcnow()
    await post_webhook(state_event(MODEL_Y_ID, [soc(63, delivered)]))
    assert dt_util.parse_datetime(hass.states.get(model_y).state) == delivered.replace(
        microsecond=0
    )
    assert hass.states.get(model_3).state == "unknown"
    # A vehicle error delivery counts as a delivery too.
    await advance_time(timedelta(minutes=5))
    await post_webhook(error_event(MODEL_3_ID, "VIRTUAL_KEY_REQUIRED", "ERROR"))
    assert dt_util.parse_datetime(hass.states.get(model_3).state) == dt_util.utcnow().replace(
        microsecond=0
    )
    # A refused delivery is none.
    await advance_time(timedelta(minutes=5))
    await post_webhook(state_event(MODEL_Y_ID, [soc(64, dt_util.utcnow())]), signature="")
    assert dt_util.parse_datetime(hass.states.get(model_y).state) == delivered.replace(
        microsecond=0
    )


async def test_rejected_deliveries_sensor(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """The webhook device counts refused requests at once, with the last reason."""
    entity_id = "sensor.smartcar_webhook_rejected_deliveries"
    assert hass.states.get(entity_id).state == "0"
    await post_webhook(state_event(MODEL_Y_ID, [soc(90, datetime.now(UTC))]), signature="0" * 64)
    await post_webhook(state_event(MODEL_Y_ID, [soc(90, datetime.now(UTC))]), signature="")
    state = hass.states.get(entity_id)
    assert state.state == "2"
    assert state.attributes["last_reason"] == "unsigned, no verification expected"
    # Accepted deliveries leave it alone.
    await post_webhook(state_event(MODEL_Y_ID, [soc(91, datetime.now(UTC))]))
    assert hass.states.get(entity_id).state == "2"


# --- end to end: the emulator delivers -----------------------------------------------------------


async def test_emulator_deliveries_end_to_end(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    hass_client_no_auth: Any,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Smartcar (the emulator) verifies the webhook, then pushes changes as they happen."""
    state = emulator.state
    receiver = await hass_client_no_auth()
    # Smartcar verifies a webhook when it is created or edited in its dashboard: refused unless
    # the user lets it (the setup step does; here "Verify webhook again").
    refused = await state.create_webhook(
        str(receiver.make_url(f"/api/webhook/{HA_WEBHOOK_ID}")), name="Before the button"
    )
    assert not refused.verified
    await press_verify_again(hass)
    webhook = await state.create_webhook(
        str(receiver.make_url(f"/api/webhook/{HA_WEBHOOK_ID}")), name="Home Assistant"
    )
    assert webhook.verified
    state.subscribe(webhook.id, MODEL_Y_ID)
    await state.wait_for_deliveries()
    requests = state.requests.by_path["GET /v3/vehicles/{vehicle_id}/signals"]

    # The car charges up a bit: pushed at once.
    state.patch_vehicle(MODEL_Y_ID, {"soc": 71})
    await state.wait_for_deliveries()
    await hass.async_block_till_done()
    assert battery(hass) == "71.0"

    # A delivery that reaches Home Assistant with a wrong signature is refused (401); Smartcar
    # retries it with the same eventId, signed right this time: applied once.
    state.add_fault("bad_signature", path=f"/api/webhook/{HA_WEBHOOK_ID}")
    state.patch_vehicle(MODEL_Y_ID, {"soc": 72})
    await state.wait_for_deliveries()
    await hass.async_block_till_done()
    attempts = [r for r in state.dispatcher.log if r.webhook_id == webhook.id][-2:]
    assert [(r.signature, r.status) for r in attempts] == [("invalid", 401), ("valid", 200)]
    assert attempts[0].event_id == attempts[1].event_id
    assert battery(hass) == "72.0"

    # The key is removed in the car: VEHICLE_ERROR, and the repair.
    state.set_key(MODEL_Y_ID, paired=False)
    await state.wait_for_deliveries()
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, key_issue_id(MODEL_Y_ID)) is not None

    # The dashboard's test delivery and a delivery with a wrong signature change nothing.
    state.patch_vehicle(MODEL_Y_ID, {"soc": 73})  # (not pushed: the car is key-less now)
    state.send_test_delivery(webhook.id, vehicle_id=MODEL_Y_ID)
    state.send_test_delivery(webhook.id, vehicle_id=MODEL_Y_ID, mode="LIVE", bad_signature=True)
    await state.wait_for_deliveries()
    await hass.async_block_till_done()
    outcomes = [(r.mode, r.status) for r in state.dispatcher.log if r.webhook_id == webhook.id]
    assert ("TEST", 202) in outcomes
    assert ("LIVE", 401) in outcomes
    assert battery(hass) == "72.0"
    assert state.requests.by_path["GET /v3/vehicles/{vehicle_id}/signals"] == requests


async def test_verified_webhook_whose_every_delivery_fails_the_signature(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    *,
    init_integration: MockConfigEntry,
    hass_client_no_auth: Any,
    issue_registry: ir.IssueRegistry,
    advance_time: Advance,
) -> None:
    """The signature failures reported on the real v3 API, from the emulator (`payload_signature`).

    Smartcar's VERIFY passes, then every data delivery fails the signature
    (https://github.com/wbyoung/smartcar/issues/130, /issues/139, /pull/141): the repair explains
    the reported condition, diagnostics count the refusals, and polling still reads the car.
    """
    state = frozen_emulator.state
    state.update_options({"payload_signature": "failing"})
    receiver = await hass_client_no_auth()
    await press_verify_again(hass)
    webhook = await state.create_webhook(
        str(receiver.make_url(f"/api/webhook/{HA_WEBHOOK_ID}")), name="Home Assistant"
    )
    assert webhook.verified
    state.subscribe(webhook.id, MODEL_Y_ID)
    state.patch_vehicle(MODEL_Y_ID, {"soc": 71})
    await state.wait_for_deliveries()
    await hass.async_block_till_done()

    log = [r for r in state.dispatcher.log if r.webhook_id == webhook.id]
    assert [(r.signature, r.status) for r in log if r.event_type == "VERIFY"] == [("unsigned", 200)]
    sent = [r for r in log if r.event_type != "VERIFY"]
    assert len(sent) >= 5
    assert {(r.signature, r.status) for r in sent} == {("invalid", 401)}
    issue = issue_registry.async_get_issue(
        DOMAIN, webhook_signature_issue_id(init_integration.entry_id)
    )
    assert issue is not None
    assert issue.translation_key == "webhook_signature_failing"
    coordinator = init_integration.runtime_data.coordinator
    assert not coordinator.webhooks_flowing
    assert battery(hass) != "71.0"

    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    counted = diagnostics["webhook_receiver"]
    assert counted["signature_failures_in_a_row"] == len(sent)
    assert counted["rejected"] == len(sent)
    assert counted["accepted"] == 0
    assert counted["last_rejection"] == "invalid signature"

    # Polling goes on as without a webhook: the car's new level is read.
    for _ in range(12):
        if battery(hass) == "71.0":
            break
        await advance_time(coordinator.update_interval)
    assert battery(hass) == "71.0"
