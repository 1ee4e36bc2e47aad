"""Smartcar webhook deliveries to Home Assistant: signed, deduplicated, merged by freshness."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import hashlib
import hmac
from http import HTTPStatus
from typing import Any
import uuid

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexcharging.budget import WEBHOOK_INTERVAL
from custom_components.flexcharging.const import DOMAIN
from custom_components.flexcharging.issues import key_issue_id
from emulator import DEFAULT_APP, DEFAULT_USER_ID, MODEL_3_ID, MODEL_Y_ID, sign
from tests.common import HA_WEBHOOK_ID, Emulator

type Post = Callable[..., Awaitable[Any]]
type Advance = Callable[[timedelta], Awaitable[None]]

MODEL_Y_BATTERY = "sensor.2024_tesla_model_y_battery_level"
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


async def test_verify_is_answered_with_the_hmac(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post
) -> None:
    """Smartcar's VERIFY (unsigned) is answered with HMAC-SHA256(challenge, AMT)."""
    response = await post_webhook(
        {"eventId": "v1", "eventType": "VERIFY", "data": {"challenge": "abc123"}}, signature=""
    )
    assert response.status == HTTPStatus.OK
    expected = hmac.new(DEFAULT_APP.amt.encode(), b"abc123", hashlib.sha256).hexdigest()
    assert await response.json() == {"challenge": expected}


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


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"eventType": 5, "data": {}}'])
async def test_not_a_smartcar_event(
    hass: HomeAssistant, init_integration: MockConfigEntry, post_webhook: Post, body: bytes
) -> None:
    """Anything that is not a Smartcar event: 400."""
    response = await post_webhook(body)
    assert response.status == HTTPStatus.BAD_REQUEST


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
    assert hass.states.get("sensor.2024_tesla_model_y_virtual_key").state == "paired"


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
