"""Webhook verification, signatures, parsing and de-duplication (`api/webhooks.py`)."""

from __future__ import annotations

from datetime import UTC, datetime
import hashlib
import hmac
import json
from typing import Any

from custom_components.flexcharging.api import webhooks
from custom_components.flexcharging.api.models import (
    ChargingStatus,
    Distance,
    DistanceUnit,
    SignalStatus,
    VehicleInfo,
)
from custom_components.flexcharging.api.webhooks import (
    EventDeduplicator,
    UnknownEvent,
    VehicleError,
    VehicleErrorEvent,
    VehicleStateEvent,
    VerifyEvent,
    challenge_response,
    parse_event,
    signature_valid,
)

from .helpers import fixture_bytes, load_fixture, parse_error

AMT = "amt-0123456789abcdef"  # the Application Management Token


def expected_hmac(key: str, message: bytes) -> str:
    """HMAC-SHA256 in hex, computed here independently of the client."""
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def encode(payload: Any) -> bytes:
    """A delivery's raw body."""
    return json.dumps(payload).encode()


# --- VERIFY and signatures ----------------------------------------------------------------------


def test_signature_header_name() -> None:
    assert webhooks.SIGNATURE_HEADER == "SC-Signature"


def test_challenge_response() -> None:
    for challenge in ("<random-string>", "3a1c", "ünïcødé challenge", ""):
        expected = {"challenge": expected_hmac(AMT, challenge.encode())}
        assert challenge_response(AMT, challenge) == expected, challenge
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    assert challenge_response("Jefe", "what do ya want for nothing?") == {
        "challenge": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    }


def test_signature_valid() -> None:
    body = fixture_bytes("webhook_vehicle_state_vw_id7.json")
    good = expected_hmac(AMT, body)
    assert signature_valid(AMT, body, good)
    assert signature_valid(AMT, body, good.upper())  # hex case does not matter
    assert signature_valid(AMT, body, f"  {good}\n")  # nor surrounding whitespace
    for signature in (None, "", "00" * 32, "deadbeef", "not hex at all", good[:-1]):
        assert not signature_valid(AMT, body, signature), signature


def test_signature_is_over_the_raw_bytes() -> None:
    body = fixture_bytes("webhook_vehicle_state_vw_id7.json")
    reserialised = json.dumps(json.loads(body)).encode()
    assert reserialised != body
    assert not signature_valid(AMT, body, expected_hmac(AMT, reserialised))
    assert not signature_valid("other-token", body, expected_hmac(AMT, body))


def test_signature_non_ascii_is_invalid() -> None:
    assert not signature_valid(AMT, b"{}", "é" * 64)


# --- parse_event: VERIFY --------------------------------------------------------------------------


def test_verify_v4() -> None:
    event = parse_event(fixture_bytes("webhook_verify.json"))
    assert event == VerifyEvent(
        event_id="52f6e0bb-1369-45da-a61c-9e67d092d6db", challenge="<random-string>"
    )


def test_verify_legacy() -> None:
    event = parse_event(fixture_bytes("webhook_verify_legacy.json"))
    assert event == VerifyEvent(event_id=None, challenge="<random-string>")


def test_verify_rejects() -> None:
    for payload, field in (
        ({"eventType": "VERIFY", "data": {}}, "data.challenge"),
        ({"eventType": "VERIFY", "data": {"challenge": 5}}, "data.challenge"),
        ({"eventType": "VERIFY"}, "data"),
    ):
        assert parse_error(lambda p=payload: parse_event(encode(p))).field == field, payload


# --- parse_event: VEHICLE_STATE ------------------------------------------------------------------


def test_vehicle_state_documented() -> None:
    event = parse_event(fixture_bytes("webhook_vehicle_state_vw_id7.json"))
    assert isinstance(event, VehicleStateEvent)
    assert event.event_id == "bead8cd7-6527-62c1-ecd5-0e293943907f"
    assert event.vehicle_id == "00000000-0000-0000-0000-0000000000aa"
    assert event.user_id == "00000000-0000-0000-0000-000000000099"
    assert event.vehicle == VehicleInfo(
        vehicle_id="00000000-0000-0000-0000-0000000000aa",
        make="VOLKSWAGEN",
        model="ID.7",
        year=2025,
        mode="live",
        powertrain_type=None,  # null in the live payload
    )
    assert not event.test
    state = event.state
    at = datetime(2026, 5, 31, 10, 15, 6, tzinfo=UTC)  # 1780222506000 ms
    assert state.battery_level.value == 80.0
    assert state.battery_level.oem_updated_at == at
    assert state.range.value == Distance(472.0, DistanceUnit.KILOMETERS)
    assert state.plugged_in.value is True
    assert state.is_charging.value is False
    assert state.charging_status.value is ChargingStatus.FULLY_CHARGED
    # The errored charge rate (km/h, stale body) is not used.
    assert state.charge_power.status is SignalStatus.ABSENT


def test_vehicle_state_errored_signal_without_body_or_meta() -> None:
    event = parse_event(fixture_bytes("webhook_vehicle_state_vw_id4_fragments.json"))
    assert isinstance(event, VehicleStateEvent)
    assert event.state.range.status is SignalStatus.ERROR
    assert event.state.range.error_code == "VEHICLE_NOT_CAPABLE"
    assert event.state.charge_limit.value == 80
    # A trigger whose signal is a string is tolerated.
    assert event.vehicle.powertrain_type is None


def state_payload(**extra: Any) -> dict[str, Any]:
    """A small VEHICLE_STATE delivery."""
    payload: dict[str, Any] = {
        "eventId": "e1",
        "eventType": "VEHICLE_STATE",
        "data": {
            "user": {"id": "u1"},
            "vehicle": {"id": "v1", "make": "TESLA", "model": "Model 3", "year": 2023},
            "signals": [
                {
                    "code": "tractionbattery-stateofcharge",
                    "body": {"value": 55, "unit": "percent"},
                    "meta": {"oemUpdatedAt": 1780222506000},
                    "status": {"value": "SUCCESS"},
                }
            ],
        },
        "meta": {"mode": "LIVE", "version": "4.0"},
    }
    payload.update(extra)
    return payload


def state_event(payload: dict[str, Any]) -> VehicleStateEvent:
    """Parse a delivery that must be a VEHICLE_STATE event."""
    event = parse_event(encode(payload))
    assert isinstance(event, VehicleStateEvent)
    return event


def test_triggers_of_any_shape_are_ignored() -> None:
    """Deliveries say what triggered them; FlexCharging reads the signals, never the triggers."""
    for triggers in (
        [{"type": "FIRST_DELIVERY"}],
        [{"type": "SIGNAL_UPDATED", "code": "FIRST_DELIVERY"}],
        [{"type": "SIGNAL_UPDATED", "signal": {"code": "charge-ischarging"}}],
        [{"type": "SIGNAL_UPDATED", "signal": "Odometer.TraveledDistance"}],
        ["FIRST_DELIVERY"],
        {"type": "FIRST_DELIVERY"},
        [],
    ):
        payload = state_payload(triggers=triggers)
        payload["data"]["triggers"] = triggers
        assert state_event(payload).state.battery_level.value == 55, triggers


def test_test_mode() -> None:
    for meta, test in (
        ({"mode": "TEST"}, True),
        ({"mode": "test"}, True),
        ({"mode": "LIVE"}, False),
        ({}, False),
        ("TEST", False),
        (None, False),
    ):
        assert state_event(state_payload(meta=meta)).test is test, meta


def test_vehicle_state_minimal_forms() -> None:
    # Older payloads: a top-level vehicleId, no user, no signals.
    payload = {"eventType": "vehicle_state", "vehicleId": "v9", "data": {}}
    event = parse_event(encode(payload))
    assert isinstance(event, VehicleStateEvent)
    assert event.vehicle == VehicleInfo(vehicle_id="v9")
    assert event.vehicle_id == "v9"
    assert event.user_id is None
    assert event.event_id is None
    assert event.state.is_empty


def test_vehicle_state_without_user_id() -> None:
    for user in ({"id": None}, {}, "u1", None):
        payload = state_payload()
        payload["data"]["user"] = user
        assert state_event(payload).user_id is None, user


def test_vehicle_state_rejects() -> None:
    cases: list[tuple[Any, str]] = [
        (lambda p: p["data"]["vehicle"].pop("id"), "data.vehicle.id"),
        (lambda p: p["data"].pop("vehicle"), "vehicleId"),
        (lambda p: p["data"]["vehicle"].update(year="2023"), "data.vehicle.year"),
        (lambda p: p["data"].update(user={"id": 5}), "data.user.id"),
        (lambda p: p.update(eventId=7), "eventId"),
    ]
    for mutate, field in cases:
        payload = state_payload()
        mutate(payload)
        assert parse_error(lambda p=payload: parse_event(encode(p))).field == field, field


def test_vehicle_state_unreadable_signals_are_problems() -> None:
    """Signals that cannot be read are the event's problems, not a rejected event."""
    cases: list[tuple[Any, str, str]] = [
        (lambda p: p["data"].update(signals={}), "(unreadable entry)", "data.signals"),
        (
            lambda p: p["data"]["signals"].append({"code": ""}),
            "(unreadable entry)",
            "data.signals[1].code",
        ),
        (
            lambda p: p["data"]["signals"][0]["body"].update(value=101),
            "tractionbattery-stateofcharge",
            "body.value",
        ),
    ]
    for mutate, code, field in cases:
        payload = state_payload()
        mutate(payload)
        event = parse_event(encode(payload))
        assert isinstance(event, VehicleStateEvent)
        (problem,) = event.state.problems
        assert (problem.code, problem.reason.split(": ")[0]) == (code, field)


# --- parse_event: VEHICLE_ERROR ------------------------------------------------------------------


def test_vehicle_error_documented() -> None:
    event = parse_event(fixture_bytes("webhook_vehicle_error_vw_id4.json"))
    assert isinstance(event, VehicleErrorEvent)
    assert event.event_id == "1821c036-0000-4000-8000-000000000001"
    assert event.vehicle_id == "a1d5a1d5-0000-4000-8000-000000000001"
    assert event.user_id == "2fbd2fbd-0000-4000-8000-000000000001"
    assert not event.test
    assert event.errors == (
        VehicleError(
            error_type="COMPATIBILITY",
            code="VEHICLE_NOT_CAPABLE",
            resolved=False,
            description="The vehicle is incapable of performing your request.",
            resolution_type=None,
            resolution_url=None,
        ),
        VehicleError(
            error_type="PERMISSION",
            code=None,
            resolved=False,
            description=load_fixture("webhook_vehicle_error_vw_id4.json")["data"]["errors"][1][
                "description"
            ],
            resolution_type="REAUTHENTICATE",
        ),
    )


def test_vehicle_error_virtual_key_raised_then_resolved() -> None:
    payload = load_fixture("webhook_vehicle_error_virtual_key.json")
    event = parse_event(encode(payload))
    assert isinstance(event, VehicleErrorEvent)
    (error,) = event.errors
    assert (error.error_type, error.code) == ("CONNECTED_SERVICES_ACCOUNT", "VIRTUAL_KEY_REQUIRED")
    assert not error.resolved
    assert error.resolution_type == "ACTION_REQUIRED"
    assert error.resolution_url == "https://www.tesla.com/_ak/smartcar.com"
    assert error.description == "Vehicle requires a virtual key to be configured"

    payload["data"]["errors"][0]["state"] = "RESOLVED"
    payload["eventId"] = "7e577e57-0000-4000-8000-000000000002"
    resolved = parse_event(encode(payload))
    assert isinstance(resolved, VehicleErrorEvent)
    assert resolved.errors[0].resolved
    assert resolved.errors[0].code == "VIRTUAL_KEY_REQUIRED"


def test_vehicle_error_items() -> None:
    cases: list[tuple[dict[str, Any], VehicleError]] = [
        (
            {"type": "VEHICLE_STATE", "code": "ASLEEP"},
            VehicleError(error_type="VEHICLE_STATE", code="ASLEEP", resolved=False),
        ),
        (
            {"type": "VEHICLE_STATE", "code": "ASLEEP", "state": "resolved", "detail": "Awake"},
            VehicleError(
                error_type="VEHICLE_STATE", code="ASLEEP", resolved=True, description="Awake"
            ),
        ),
        (
            {"type": "PERMISSION", "state": None, "resolution": "REAUTHENTICATE"},
            VehicleError(error_type="PERMISSION", code=None, resolved=False),
        ),
    ]
    for item, expected in cases:
        payload = {
            "eventType": "VEHICLE_ERROR",
            "data": {"vehicle": {"id": "v1"}, "errors": [item]},
            "meta": {"mode": "TEST"},
        }
        event = parse_event(encode(payload))
        assert isinstance(event, VehicleErrorEvent)
        assert event.errors == (expected,), item
        assert event.test
        assert event.user_id is None


def test_vehicle_error_without_errors() -> None:
    event = parse_event(encode({"eventType": "VEHICLE_ERROR", "vehicleId": "v1", "data": {}}))
    assert isinstance(event, VehicleErrorEvent)
    assert event.errors == ()


def test_vehicle_error_rejects() -> None:
    cases: list[tuple[object, str]] = [
        ({"type": "X"}, "data.errors"),
        (["X"], "data.errors[0]"),
        ([{"state": 1}], "data.errors[0].state"),
        ([{"type": 1}], "data.errors[0].type"),
        ([{"resolution": {"url": 1}}], "data.errors[0].resolution.url"),
        ([{"resolution": {"type": 1}}], "data.errors[0].resolution.type"),
        ([{"description": ["x"]}], "data.errors[0].description"),
    ]
    for errors, field in cases:
        payload = {
            "eventType": "VEHICLE_ERROR",
            "data": {"vehicle": {"id": "v1"}, "errors": errors},
        }
        assert parse_error(lambda p=payload: parse_event(encode(p))).field == field, errors


# --- parse_event: other events and malformed bodies ----------------------------------------------


def test_unknown_event() -> None:
    event = parse_event(encode({"eventId": "e5", "eventType": "vehicle_moved", "data": {}}))
    assert event == UnknownEvent(event_id="e5", event_type="VEHICLE_MOVED")


def test_malformed() -> None:
    cases: list[tuple[bytes, str]] = [
        (b"", "body"),
        (b"not json", "body"),
        (b'{"eventType": "VERIFY"', "body"),
        (b"\xff\xfe\x00garbage", "body"),
        (b"[]", "body"),
        (b'"VERIFY"', "body"),
        (b"null", "body"),
        (b"{}", "eventType"),
        (b'{"eventType": ""}', "eventType"),
        (b'{"eventType": 3, "data": {}}', "eventType"),
        (b'{"eventType": "VEHICLE_STATE", "data": []}', "data"),
    ]
    for raw, field in cases:
        assert parse_error(lambda r=raw: parse_event(r)).field == field, raw


def test_malformed_json_huge_integer() -> None:
    parse_error(lambda: parse_event(b'{"eventType": "VERIFY", "n": ' + b"1" * 5000 + b"}"))


def test_malformed_json_deep_nesting() -> None:
    parse_error(lambda: parse_event(b"[" * 100_000 + b"]" * 100_000))


def test_huge_integer_signal_value() -> None:
    payload = state_payload()
    payload["data"]["signals"][0]["body"]["value"] = 10**400
    event = parse_event(encode(payload))
    assert isinstance(event, VehicleStateEvent)
    assert event.state.battery_level.status is SignalStatus.INVALID


# --- EventDeduplicator ----------------------------------------------------------------------------


def test_deduplicator_duplicates() -> None:
    dedupe = EventDeduplicator()
    assert not dedupe.is_duplicate("a")
    assert dedupe.is_duplicate("a")
    assert dedupe.is_duplicate("a")
    assert not dedupe.is_duplicate("b")
    # Events without an id are never duplicates.
    assert not dedupe.is_duplicate(None)
    assert not dedupe.is_duplicate(None)


def test_deduplicator_evicts_the_oldest() -> None:
    dedupe = EventDeduplicator(size=2)
    assert not dedupe.is_duplicate("a")
    assert not dedupe.is_duplicate("b")
    assert not dedupe.is_duplicate("c")  # evicts "a"
    assert dedupe.is_duplicate("b")
    assert dedupe.is_duplicate("c")
    assert not dedupe.is_duplicate("a")  # forgotten; now remembered again, "b" evicted
    assert not dedupe.is_duplicate("b")


def test_deduplicator_a_repeat_refreshes_the_id() -> None:
    dedupe = EventDeduplicator(size=2)
    dedupe.is_duplicate("a")
    dedupe.is_duplicate("b")
    assert dedupe.is_duplicate("a")  # "a" is now the most recent
    assert not dedupe.is_duplicate("c")  # evicts "b", not "a"
    assert dedupe.is_duplicate("a")
    assert not dedupe.is_duplicate("b")


def test_deduplicator_default_size() -> None:
    dedupe = EventDeduplicator()
    for index in range(512):
        assert not dedupe.is_duplicate(str(index))
    assert dedupe.is_duplicate("0")  # refreshed
    assert not dedupe.is_duplicate("512")  # evicts "1"
    assert not dedupe.is_duplicate("1")
    assert dedupe.is_duplicate("0")
