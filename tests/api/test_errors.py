"""Mapping of Smartcar's error bodies to the exception hierarchy (`api/errors.py`)."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.flexcharging.api import errors
from custom_components.flexcharging.api.errors import (
    SmartcarApiError,
    SmartcarAuthenticationError,
    SmartcarBillingError,
    SmartcarCommandFailedError,
    SmartcarCompatibilityError,
    SmartcarConnectedServicesError,
    SmartcarConnectionError,
    SmartcarError,
    SmartcarInvalidInputError,
    SmartcarNotFoundError,
    SmartcarParseError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarTimeoutError,
    SmartcarUpstreamError,
    SmartcarValidationError,
    SmartcarVehicleStateError,
    SmartcarVirtualKeyRequiredError,
    error_class_for,
    error_from_body,
    error_from_object,
)

from .helpers import load_fixture

VIRTUAL_KEY_URL = "https://www.tesla.com/_ak/smartcar.com"


def test_hierarchy() -> None:
    assert issubclass(SmartcarTimeoutError, SmartcarConnectionError)
    assert issubclass(SmartcarConnectionError, SmartcarError)
    assert issubclass(SmartcarParseError, SmartcarError)
    assert issubclass(SmartcarInvalidInputError, ValueError)
    assert issubclass(SmartcarInvalidInputError, SmartcarError)
    for cls in (
        SmartcarAuthenticationError,
        SmartcarPermissionError,
        SmartcarVirtualKeyRequiredError,
        SmartcarConnectedServicesError,
        SmartcarVehicleStateError,
        SmartcarRateLimitError,
        SmartcarBillingError,
        SmartcarCompatibilityError,
        SmartcarUpstreamError,
        SmartcarNotFoundError,
        SmartcarValidationError,
        SmartcarCommandFailedError,
    ):
        assert issubclass(cls, SmartcarApiError)
        assert issubclass(cls, SmartcarError)


def test_api_error_fields() -> None:
    error = SmartcarApiError("It broke", status=409, error_type="VEHICLE_STATE", code="ASLEEP")
    assert error.detail == "It broke" == str(error)
    assert (error.status, error.error_type, error.code) == (409, "VEHICLE_STATE", "ASLEEP")
    assert error.resolution_type is None
    assert error.resolution_url is None
    assert error.suggested_user_message is None
    assert error.request_id is None
    assert SmartcarRateLimitError("slow down").retry_after is None


# --- error_class_for --------------------------------------------------------------------------


CLASS_CASES: list[tuple[str | None, str | None, int | None, type[SmartcarApiError]]] = [
    # The code VIRTUAL_KEY_REQUIRED wins over everything.
    ("CONNECTED_SERVICES_ACCOUNT", "VIRTUAL_KEY_REQUIRED", 400, SmartcarVirtualKeyRequiredError),
    (None, "VIRTUAL_KEY_REQUIRED", None, SmartcarVirtualKeyRequiredError),
    ("VALIDATION", "VIRTUAL_KEY_REQUIRED", 401, SmartcarVirtualKeyRequiredError),
    ("CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED", 400, SmartcarAuthenticationError),
    ("CONNECTED_SERVICES_ACCOUNT", "ACCOUNT_ISSUE", 400, SmartcarConnectedServicesError),
    ("CONNECTED_SERVICES_ACCOUNT", None, None, SmartcarConnectedServicesError),
    ("AUTHENTICATION", None, 401, SmartcarAuthenticationError),
    ("PERMISSION", None, 403, SmartcarPermissionError),
    ("VEHICLE_STATE", "ASLEEP", 409, SmartcarVehicleStateError),
    ("RATE_LIMIT", "VEHICLE", 429, SmartcarRateLimitError),
    ("BILLING", "VEHICLE_REQUEST_LIMIT", 430, SmartcarBillingError),
    ("COMPATIBILITY", "VEHICLE_NOT_CAPABLE", 501, SmartcarCompatibilityError),
    ("UPSTREAM", "NO_RESPONSE", 502, SmartcarUpstreamError),
    ("SERVER", "INTERNAL", 500, SmartcarUpstreamError),
    ("RESOURCE_NOT_FOUND", "PATH", 404, SmartcarNotFoundError),
    ("VALIDATION", "PARAMETER", 400, SmartcarValidationError),
    # The type decides before the status, case-insensitively.
    ("permission", None, 400, SmartcarPermissionError),
    ("VEHICLE_STATE", None, 500, SmartcarVehicleStateError),
    ("VALIDATION", None, 401, SmartcarValidationError),
    # Unknown or missing type: the status decides.
    ("SOMETHING_NEW", None, 401, SmartcarAuthenticationError),
    (None, None, 401, SmartcarAuthenticationError),
    (None, None, 403, SmartcarPermissionError),
    (None, None, 404, SmartcarNotFoundError),
    (None, None, 409, SmartcarVehicleStateError),
    (None, None, 429, SmartcarRateLimitError),
    (None, None, 430, SmartcarBillingError),
    (None, None, 501, SmartcarCompatibilityError),
    (None, None, 500, SmartcarUpstreamError),
    (None, None, 502, SmartcarUpstreamError),
    (None, None, 503, SmartcarUpstreamError),
    (None, None, 504, SmartcarUpstreamError),
    # A 400 without a type is a validation error, never an authentication failure.
    (None, None, 400, SmartcarValidationError),
    (None, "MISSING_PARAMETER", 400, SmartcarValidationError),
    (None, None, 418, SmartcarValidationError),
    (None, None, None, SmartcarValidationError),
]


def test_error_class_for() -> None:
    for error_type, code, status, expected in CLASS_CASES:
        found = error_class_for(error_type, code, status)
        assert found is expected, (error_type, code, status, found)


# --- the three body shapes -----------------------------------------------------------------------


def jsonapi(status: int, code: str | None, detail: str, **extra: Any) -> dict[str, Any]:
    """Shape 1: JSON:API `{"errors": [{status, code, title, detail}]}`."""
    return {
        "errors": [
            {
                "status": str(status),
                "code": code,
                "title": "Title",
                "detail": detail,
                "links": {"about": "https://smartcar.com/docs/errors"},
                **extra,
            }
        ]
    }


def classic(status: int, error_type: str | None, code: str | None, detail: str) -> dict[str, Any]:
    """Shape 2: Smartcar classic."""
    return {
        "type": error_type,
        "code": code,
        "description": detail,
        "docURL": "https://smartcar.com/docs/errors",
        "statusCode": status,
        "requestId": "req-1",
        "resolution": {"type": "RETRY_LATER"},
        "suggestedUserMessage": "Please try again later.",
    }


def v3_object(status: int, error_type: str | None, code: str | None, detail: str) -> dict[str, Any]:
    """Shape 3: the v3 error object (inside `errors`)."""
    return {
        "errors": [
            {
                "type": error_type,
                "code": code,
                "title": "Title",
                "detail": detail,
                "status": status,
                "resolution": {"type": "RETRY_LATER"},
                "suggestedUserMessage": "Please try again later.",
                "links": {},
                "meta": {"requestId": "req-2"},
            }
        ]
    }


MAPPINGS: list[tuple[int, str | None, str | None, type[SmartcarApiError]]] = [
    (401, "AUTHENTICATION", None, SmartcarAuthenticationError),
    (403, "PERMISSION", None, SmartcarPermissionError),
    (404, "RESOURCE_NOT_FOUND", "PATH", SmartcarNotFoundError),
    (400, "VALIDATION", "PARAMETER", SmartcarValidationError),
    (400, "CONNECTED_SERVICES_ACCOUNT", "ACCOUNT_ISSUE", SmartcarConnectedServicesError),
    (400, "CONNECTED_SERVICES_ACCOUNT", "VIRTUAL_KEY_REQUIRED", SmartcarVirtualKeyRequiredError),
    (409, "VEHICLE_STATE", "ASLEEP", SmartcarVehicleStateError),
    (429, "RATE_LIMIT", "VEHICLE", SmartcarRateLimitError),
    (430, "BILLING", "VEHICLE_REQUEST_LIMIT", SmartcarBillingError),
    (501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE", SmartcarCompatibilityError),
    (502, "UPSTREAM", "NO_RESPONSE", SmartcarUpstreamError),
    (500, "SERVER", "INTERNAL", SmartcarUpstreamError),
]


@pytest.mark.parametrize(("status", "error_type", "code", "expected"), MAPPINGS)
def test_every_shape(status: int, error_type: str | None, code: str | None, expected: type) -> None:
    # Classic.
    error = error_from_body(classic(status, error_type, code, "What happened"), status=status)
    assert type(error) is expected
    assert str(error) == "What happened"
    assert (error.status, error.error_type, error.code) == (status, error_type, code)
    assert error.resolution_type == "RETRY_LATER"
    assert error.suggested_user_message == "Please try again later."
    assert error.request_id == "req-1"
    # The v3 error object.
    error = error_from_body(v3_object(status, error_type, code, "What happened"), status=status)
    assert type(error) is expected
    assert str(error) == "What happened"
    assert (error.status, error.error_type, error.code) == (status, error_type, code)
    assert error.resolution_type == "RETRY_LATER"
    assert error.request_id is None  # v3 keeps it under meta
    # The same object flat, not in an envelope (the emulator's older default shape).
    flat = v3_object(status, error_type, code, "What happened")["errors"][0]
    error = error_from_body(flat, status=status)
    assert type(error) is expected
    assert (error.status, error.error_type, error.code) == (status, error_type, code)
    # The JSON:API envelope whose errors also carry the error guides' fields (the emulator's
    # default shape): the type decides, the resolution is kept.
    envelope = jsonapi(
        status, code, "What happened", type=error_type, resolution={"type": "RETRY_LATER"}
    )
    error = error_from_body(envelope, status=status)
    assert type(error) is expected
    assert (error.status, error.error_type, error.code) == (status, error_type, code)
    assert error.resolution_type == "RETRY_LATER"
    # JSON:API carries no type: the code VIRTUAL_KEY_REQUIRED, else the HTTP status decides.
    error = error_from_body(jsonapi(status, code, "What happened"), status=status)
    if expected is SmartcarConnectedServicesError:
        expected = SmartcarValidationError  # a 400 without a type
    assert type(error) is expected
    assert str(error) == "What happened"
    assert error.status == status
    assert error.error_type is None


def test_jsonapi_documented_401() -> None:
    error = error_from_body(load_fixture("error_jsonapi_401.json"), status=401)
    assert type(error) is SmartcarAuthenticationError
    assert error.error_type == "AUTHENTICATION"  # from the code "unauthorized"
    assert error.code == "unauthorized"
    assert error.status == 401
    assert str(error) == "The Authorization token is missing or invalid."


def test_jsonapi_unauthorized_code_without_http_status() -> None:
    error = error_from_object({"code": "unauthorized", "title": "Unauthorized"})
    assert type(error) is SmartcarAuthenticationError
    assert str(error) == "Unauthorized"


def test_jsonapi_body_status_used_when_no_http_status() -> None:
    assert error_from_object({"status": "409"}).status == 409
    assert type(error_from_object({"status": "409"})) is SmartcarVehicleStateError
    assert error_from_object({"statusCode": 430}).status == 430
    assert error_from_object({"status": "four hundred"}).status is None
    # The HTTP status wins over the body's.
    assert error_from_object({"status": "409"}, status=500).status == 500


def test_virtual_key_required_any_shape() -> None:
    resolution = {"type": "ACTION_REQUIRED", "url": VIRTUAL_KEY_URL}
    shapes = {
        "classic": classic(400, "CONNECTED_SERVICES_ACCOUNT", "VIRTUAL_KEY_REQUIRED", "Key"),
        "v3": v3_object(400, "CONNECTED_SERVICES_ACCOUNT", "VIRTUAL_KEY_REQUIRED", "Key"),
        "jsonapi": jsonapi(400, "VIRTUAL_KEY_REQUIRED", "Key"),
    }
    for shape, body in shapes.items():
        (body["errors"][0] if "errors" in body else body)["resolution"] = resolution
        error = error_from_body(body, status=400)
        assert isinstance(error, SmartcarVirtualKeyRequiredError), shape
        assert error.code == "VIRTUAL_KEY_REQUIRED"
        assert error.resolution_type == "ACTION_REQUIRED"
        assert error.resolution_url == VIRTUAL_KEY_URL, shape
        assert error.status == 400


def test_virtual_key_required_documented_classic() -> None:
    error = error_from_body(load_fixture("error_classic_virtual_key.json"), status=400)
    assert isinstance(error, SmartcarVirtualKeyRequiredError)
    assert error.error_type == "CONNECTED_SERVICES_ACCOUNT"
    assert error.resolution_url == VIRTUAL_KEY_URL
    assert error.request_id == "26c14915-0c26-43c5-8e42-9edfc2a66a0f"
    assert error.suggested_user_message == (
        "Please add the Smartcar virtual key to your Tesla to continue."
    )
    assert str(error) == "Thrown when a virtual key is required to complete the request."


def test_400_without_type_is_validation() -> None:
    for status in (400, 422):
        for body in (
            {},
            None,
            {"description": "Bad request"},
            {"statusCode": 401, "description": "The body's status does not count"},
            {"errors": [{"status": str(status), "code": "MISSING_PARAMETER", "detail": "userId"}]},
        ):
            error = error_from_body(body, status=status)
            assert type(error) is SmartcarValidationError, (status, body)


def test_rate_limit_keeps_retry_after() -> None:
    body = classic(429, "RATE_LIMIT", "VEHICLE", "Too many requests")
    error = error_from_body(body, status=429, retry_after=30.0)
    assert isinstance(error, SmartcarRateLimitError)
    assert error.retry_after == 30.0
    # Also when only the status says so.
    error = error_from_body(None, status=429, retry_after=5.0)
    assert isinstance(error, SmartcarRateLimitError)
    assert error.retry_after == 5.0
    assert str(error) == "HTTP 429"
    # Other errors ignore it.
    assert not hasattr(error_from_body(None, status=500, retry_after=5.0), "retry_after")


def test_status_only_classes() -> None:
    body = classic(430, "BILLING", "VEHICLE_REQUEST_LIMIT", "Monthly limit reached")
    error = error_from_body(body, status=430)
    assert isinstance(error, SmartcarBillingError)
    assert error.code == "VEHICLE_REQUEST_LIMIT"
    assert type(error_from_body({}, status=430)) is SmartcarBillingError
    assert type(error_from_body({}, status=501)) is SmartcarCompatibilityError
    for status in (500, 502, 503, 504):
        assert type(error_from_body(None, status=status)) is SmartcarUpstreamError, status
        assert type(error_from_body("<html>", status=status)) is SmartcarUpstreamError, status
    for body in (None, [], "text", 3, True, [{"type": "PERMISSION"}]):
        error = error_from_body(body, status=404)
        assert type(error) is SmartcarNotFoundError, body
        assert str(error) == "HTTP 404"


# --- messages ---------------------------------------------------------------------------------


def test_message_fallbacks() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"detail": "d", "description": "x", "title": "t", "message": "m"}, "d"),
        ({"detail": "", "description": "x", "title": "t"}, "x"),
        ({"description": None, "title": "t", "message": "m"}, "t"),
        ({"message": "m"}, "m"),
        ({"type": "VEHICLE_STATE", "code": "ASLEEP"}, "VEHICLE_STATE ASLEEP"),
        ({"type": "VEHICLE_STATE"}, "VEHICLE_STATE"),
        ({"code": "ASLEEP"}, "ASLEEP"),
        ({"detail": 5}, "HTTP 409"),
        ({}, "HTTP 409"),
    ]
    for obj, message in cases:
        assert str(error_from_object(obj, status=409)) == message, obj


def test_resolution_and_odd_fields() -> None:
    assert error_from_object({"resolution": "RETRY_LATER"}, status=500).resolution_type is None
    error = error_from_object({"resolution": {"type": None, "url": ""}}, status=500)
    assert (error.resolution_type, error.resolution_url) == (None, None)
    error = error_from_object({"resolution": {"type": "REAUTHENTICATE"}}, status=403)
    assert (error.resolution_type, error.resolution_url) == ("REAUTHENTICATE", None)
    error = error_from_object(
        {"type": 1, "code": ["x"], "suggestedUserMessage": {}, "requestId": 7}, status=409
    )
    assert type(error) is SmartcarVehicleStateError
    assert (error.error_type, error.code) == (None, None)
    assert error.suggested_user_message is None
    assert error.request_id is None


# --- error_from_body: envelopes ----------------------------------------------------------------


def test_oauth_errors() -> None:
    cases: list[tuple[str, int, type[SmartcarApiError]]] = [
        ("invalid_client", 401, SmartcarAuthenticationError),
        ("invalid_client", 400, SmartcarAuthenticationError),
        ("unauthorized_client", 400, SmartcarAuthenticationError),
        ("invalid_request", 401, SmartcarAuthenticationError),
        ("invalid_request", 400, SmartcarValidationError),
    ]
    for code, status, expected in cases:
        error = error_from_body({"error": code}, status=status)
        assert type(error) is expected, (code, status)
        assert (error.code, error.status) == (code, status)
        assert str(error) == code  # no description: the code
    body = {"error": "invalid_client", "error_description": "Client authentication failed"}
    assert str(error_from_body(body, status=401)) == "Client authentication failed"
    # {"error": {...}} is not the OAuth shape: the object itself is read.
    error = error_from_body({"error": {"code": "x"}, "type": "PERMISSION"}, status=403)
    assert type(error) is SmartcarPermissionError


def test_errors_member() -> None:
    for body in ({"errors": []}, {"errors": ["unauthorized"]}, {"errors": "x"}, {"errors": None}):
        error = error_from_body(body, status=401)
        assert type(error) is SmartcarAuthenticationError, body
        assert str(error) == "HTTP 401"
    # Only the first error counts.
    body = {
        "errors": [
            {"status": "409", "code": "ASLEEP", "detail": "Asleep"},
            {"type": "AUTHENTICATION", "detail": "Other"},
        ]
    }
    error = error_from_body(body, status=409)
    assert type(error) is SmartcarVehicleStateError
    assert str(error) == "Asleep"
    assert errors.VIRTUAL_KEY_REQUIRED == "VIRTUAL_KEY_REQUIRED"


def test_body_status_superscript_digit() -> None:
    assert isinstance(error_from_object({"status": "²", "detail": "x"}), SmartcarApiError)


def test_body_status_too_many_digits() -> None:
    assert isinstance(error_from_object({"status": "4" * 5000}), SmartcarApiError)


def test_oauth_error_keeps_status_class() -> None:
    assert type(error_from_body({"error": "server_error"}, status=500)) is SmartcarUpstreamError
    assert type(error_from_body({"error": "temporarily_unavailable"}, status=503)) is (
        SmartcarUpstreamError
    )
    assert type(error_from_body({"error": "slow_down"}, status=429)) is SmartcarRateLimitError
