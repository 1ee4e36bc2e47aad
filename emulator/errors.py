"""Smartcar error responses in their three wire shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from typing import Any, Literal
import uuid

from aiohttp import web

from emulator.signals import VIRTUAL_KEY_PATH

type Shape = Literal["v3", "classic", "jsonapi"]
ERROR_SHAPES: tuple[Shape, ...] = ("jsonapi", "v3")  # the emulator's error_shape option

DOC_BASE = "https://smartcar.com/docs/errors/api-errors"


@dataclass(eq=False)
class ApiError(Exception):
    """An error answer.

    ``shape`` picks the body: ``jsonapi`` (``{"errors": [...]}``, the v3 OpenAPI's
    ``ErrorResponse``), ``v3`` (a flat error object from a third-party review of the v3 API; no
    public page has it), ``classic`` (v2-style with ``description``/``statusCode``, the error
    guides' examples), or None: the emulator's ``error_shape`` option (``jsonapi`` by default).
    """

    status: int
    type: str | None
    code: str | None
    title: str
    detail: str
    shape: Shape | None = None
    resolution: dict[str, Any] = field(default_factory=lambda: {"type": None})
    suggested_user_message: str = (
        "Something went wrong with your car's connection. Please try again later."
    )
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def doc_url(self) -> str:
        """Return the documentation link for this error."""
        kind = (self.type or "server").lower().replace("_", "-")
        anchor = (self.code or "null").lower().replace("_", "-")
        return f"{DOC_BASE}/{kind}-errors#{anchor}"

    def body(self, request_id: str, default_shape: Shape = "jsonapi") -> dict[str, Any]:
        """Return the JSON body in this error's shape (``default_shape`` when it has none)."""
        shape = self.shape or default_shape
        if shape == "jsonapi":
            error: dict[str, Any] = {
                "status": str(self.status),
                "code": self.code,
                "title": self.title,
                "detail": self.detail,
                "links": {"about": self.doc_url},
            }
            if self.type != "AUTHENTICATION":
                # The OpenAPI's envelope, each error also carrying what the error guides say
                # "all Smartcar errors contain" (api-reference/api-errors: type, resolution, ...).
                # Which of those v3 puts inside the envelope is not documented; the 401 is the
                # OpenAPI's example verbatim.
                error |= {
                    "type": self.type,
                    "resolution": dict(self.resolution),
                    "suggestedUserMessage": self.suggested_user_message,
                }
            return {"errors": [error]}
        if shape == "classic":
            return {
                "type": self.type,
                "code": self.code,
                "description": self.detail,
                "docURL": self.doc_url,
                "statusCode": self.status,
                "requestId": request_id,
                "resolution": dict(self.resolution),
                "suggestedUserMessage": self.suggested_user_message,
            }
        return {
            "type": self.type,
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "status": self.status,
            "resolution": dict(self.resolution),
            "suggestedUserMessage": self.suggested_user_message,
            "docURL": self.doc_url,
            "links": {"about": self.doc_url},
            "meta": {"requestId": request_id},
        }

    def response(self, default_shape: Shape = "jsonapi") -> web.Response:
        """Return the aiohttp response for this error."""
        request_id = str(uuid.uuid4())
        return web.json_response(
            self.body(request_id, default_shape),
            status=self.status,
            headers={"SC-Request-Id": request_id, **self.headers},
            dumps=json.dumps,
        )


def unauthorized(detail: str = "The Authorization token is missing or invalid.") -> ApiError:
    """Return the 401 for a missing, unknown or expired token (JSON:API shape)."""
    return ApiError(401, "AUTHENTICATION", "unauthorized", "Unauthorized", detail, shape="jsonapi")


def missing_parameter(detail: str) -> ApiError:
    """Return 400 VALIDATION/MISSING_PARAMETER (errors/api-errors/validation-errors).

    The detail texts the emulator gives (e.g. "missing userId") are its own, not Smartcar's.
    """
    return ApiError(400, "VALIDATION", "MISSING_PARAMETER", "Missing Parameter", detail)


def bad_parameter(detail: str) -> ApiError:
    """Return 400 VALIDATION/PARAMETER."""
    return ApiError(
        400,
        "VALIDATION",
        "PARAMETER",
        "Invalid Parameter",
        detail,
        suggested_user_message="The request contained an invalid value.",
    )


def permission(detail: str) -> ApiError:
    """Return 403 PERMISSION (re-authenticate through Connect)."""
    return ApiError(
        403,
        "PERMISSION",
        None,
        "Permission Denied",
        detail,
        resolution={"type": "REAUTHENTICATE"},
        suggested_user_message="Please reconnect your vehicle to grant the missing permission.",
    )


def not_found(detail: str, code: str = "PATH") -> ApiError:
    """Return 404 RESOURCE_NOT_FOUND."""
    return ApiError(404, "RESOURCE_NOT_FOUND", code, "Resource Not Found", detail)


def conflict(detail: str) -> ApiError:
    """Return a management-API 409 (the resource already exists).

    Not documented: the management reference lists no 409 body; the type and code are the
    emulator's own, in the documented error envelope.
    """
    return ApiError(409, "RESOURCE_CONFLICT", "ALREADY_EXISTS", "Conflict", detail)


def virtual_key_required(origin: str) -> ApiError:
    """Return 400 CONNECTED_SERVICES_ACCOUNT/VIRTUAL_KEY_REQUIRED (classic shape)."""
    return ApiError(
        400,
        "CONNECTED_SERVICES_ACCOUNT",
        "VIRTUAL_KEY_REQUIRED",
        "Virtual Key Required",
        "The vehicle owner needs to grant additional access to Smartcar in order to perform this request.",
        shape="classic",
        resolution={"type": "ACTION_REQUIRED", "url": origin + VIRTUAL_KEY_PATH},
        suggested_user_message="Add Smartcar's virtual key to your Tesla in the Tesla app, then try again.",
    )


_STATE_DETAILS = {
    "ASLEEP": "The vehicle is asleep and did not wake up in time.",
    "UNREACHABLE": "The vehicle is unreachable: it may be out of network coverage.",
    "CHARGING_PLUG_NOT_CONNECTED": "The charging plug is not connected to the vehicle.",
    "CHARGING_IN_PROGRESS": "The vehicle is already charging.",
    "FULLY_CHARGED": "The vehicle is already charged to its charge limit.",
    "NOT_CHARGING": "The vehicle is not charging.",
}


def vehicle_state(code: str) -> ApiError:
    """Return 409 VEHICLE_STATE/``code``."""
    return ApiError(
        409,
        "VEHICLE_STATE",
        code,
        code.replace("_", " ").title(),
        _STATE_DETAILS.get(code, "The vehicle is in a state that prevents this request."),
        resolution={"type": "RETRY_LATER"},
        suggested_user_message="Your car cannot do this right now. Please try again later.",
    )


def rate_limited_vehicle(retry_after: int) -> ApiError:
    """Return 429 RATE_LIMIT/VEHICLE with ``Retry-After``."""
    return ApiError(
        429,
        "RATE_LIMIT",
        "VEHICLE",
        "Vehicle Rate Limit",
        "You have reached the throttling rate limit for this vehicle. Please see the retry-after header for when to retry the request.",
        resolution={"type": "RETRY_LATER"},
        suggested_user_message="Your car is temporarily unable to handle this request. Please try again later.",
        headers={"Retry-After": str(retry_after)},
    )


def rate_limited_app() -> ApiError:
    """Return 429 RATE_LIMIT/SMARTCAR_API (no ``Retry-After``)."""
    return ApiError(
        429,
        "RATE_LIMIT",
        "SMARTCAR_API",
        "Application Rate Limit",
        "Your application has exceeded its rate limit. Retry with exponential backoff.",
        resolution={"type": "RETRY_LATER"},
    )


def billing() -> ApiError:
    """Return 430 BILLING/VEHICLE_REQUEST_LIMIT (classic shape)."""
    return ApiError(
        430,
        "BILLING",
        "VEHICLE_REQUEST_LIMIT",
        "Vehicle Request Limit",
        "You have reached the request limit for this vehicle on your current plan.",
        shape="classic",
        resolution={"type": "CONTACT_SUPPORT"},
        suggested_user_message="Your car has reached its monthly request limit.",
    )


def server_error(status: int) -> ApiError:
    """Return a 500, 502 (UPSTREAM) or 504."""
    if status == 502:
        return ApiError(
            502,
            "UPSTREAM",
            "NO_RESPONSE",
            "No Response",
            "The vehicle manufacturer's servers did not respond.",
            resolution={"type": "RETRY_LATER"},
        )
    if status == 504:
        return ApiError(
            504,
            "SERVER",
            "GATEWAY_TIMEOUT",
            "Gateway Timeout",
            "The request took too long to complete.",
            resolution={"type": "RETRY_LATER"},
        )
    return ApiError(
        500,
        "SERVER",
        "INTERNAL",
        "Internal Server Error",
        "Smartcar ran into an unexpected error.",
        resolution={"type": "RETRY_LATER"},
    )
