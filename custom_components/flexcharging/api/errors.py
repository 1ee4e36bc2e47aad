"""One exception hierarchy for everything the Smartcar API can answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SmartcarError(Exception):
    """Base of every error this client raises."""


class SmartcarConnectionError(SmartcarError):
    """The API could not be reached, or the connection broke."""


class SmartcarTimeoutError(SmartcarConnectionError):
    """The API did not answer in time."""


class SmartcarCommandResultUnknownError(SmartcarTimeoutError):
    """A command was sent but its result never came (no answer in time, or a gateway 504).

    The car may have carried it out: read its state to know.
    """


class SmartcarParseError(SmartcarError):
    """A response body did not have the documented shape."""

    def __init__(self, field: str, problem: str) -> None:
        """Name the field that was wrong and how."""
        super().__init__(f"Unexpected response from Smartcar: {field}: {problem}")
        self.field = field
        self.problem = problem


class SmartcarInvalidInputError(SmartcarError, ValueError):
    """A caller asked for something the API would refuse (checked before sending)."""


class SmartcarApiError(SmartcarError):
    """The API answered with an error."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        code: str | None = None,
        resolution_type: str | None = None,
        resolution_url: str | None = None,
        suggested_user_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """Keep the fields Smartcar documents for its errors."""
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.code = code
        self.resolution_type = resolution_type
        self.resolution_url = resolution_url
        self.suggested_user_message = suggested_user_message
        self.request_id = request_id

    @property
    def detail(self) -> str:
        """The human-readable part of the error."""
        return str(self)


class SmartcarAuthenticationError(SmartcarApiError):
    """The application's credentials or token were refused."""


class SmartcarPermissionError(SmartcarApiError):
    """The user did not grant the permission a request needs (re-run Connect)."""


class SmartcarVirtualKeyRequiredError(SmartcarApiError):
    """A Tesla needs the smartcar.com virtual key before Smartcar can do this."""


class SmartcarConnectedServicesError(SmartcarApiError):
    """The vehicle's connected-services account has a problem the owner must fix."""


class SmartcarVehicleStateError(SmartcarApiError):
    """The vehicle cannot do this in its current state (asleep, unplugged, ...)."""


class SmartcarRateLimitError(SmartcarApiError):
    """Too many requests; `retry_after` is the wait Smartcar asked for, when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        """Keep the `Retry-After` value."""
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class SmartcarBillingError(SmartcarApiError):
    """The Smartcar plan's limits were reached (HTTP 430)."""


class SmartcarCompatibilityError(SmartcarApiError):
    """The vehicle or make cannot do this at all."""


class SmartcarUpstreamError(SmartcarApiError):
    """Smartcar or the car maker failed (5xx, UPSTREAM)."""


class SmartcarNotFoundError(SmartcarApiError):
    """The resource does not exist (or the vehicle's signal store is empty)."""


class SmartcarSubscriptionPathError(SmartcarApiError):
    """Every documented subscription call answered 404 or 405: `calls` says which and how."""

    def __init__(self, calls: tuple[str, ...], *, status: int | None = None) -> None:
        """Name each call that was tried."""
        super().__init__("; ".join(calls), status=status)
        self.calls = calls


class SmartcarValidationError(SmartcarApiError):
    """Smartcar refused the request's parameters."""


class SmartcarCommandFailedError(SmartcarApiError):
    """A command was accepted but its execution did not succeed."""


_BY_TYPE: Mapping[str, type[SmartcarApiError]] = {
    "AUTHENTICATION": SmartcarAuthenticationError,
    "PERMISSION": SmartcarPermissionError,
    "VEHICLE_STATE": SmartcarVehicleStateError,
    "RATE_LIMIT": SmartcarRateLimitError,
    "BILLING": SmartcarBillingError,
    "COMPATIBILITY": SmartcarCompatibilityError,
    "UPSTREAM": SmartcarUpstreamError,
    "SERVER": SmartcarUpstreamError,
    "RESOURCE_NOT_FOUND": SmartcarNotFoundError,
    "VALIDATION": SmartcarValidationError,
    "CONNECTED_SERVICES_ACCOUNT": SmartcarConnectedServicesError,
}

_BY_STATUS: Mapping[int, type[SmartcarApiError]] = {
    401: SmartcarAuthenticationError,
    403: SmartcarPermissionError,
    404: SmartcarNotFoundError,
    409: SmartcarVehicleStateError,
    429: SmartcarRateLimitError,
    430: SmartcarBillingError,
    501: SmartcarCompatibilityError,
}

VIRTUAL_KEY_REQUIRED = "VIRTUAL_KEY_REQUIRED"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_class_for(
    error_type: str | None, code: str | None, status: int | None
) -> type[SmartcarApiError]:
    """Choose the exception class for a Smartcar error.

    The type decides first; the HTTP status only where the type is missing or unknown. A 400
    without a type is a validation error, never an authentication failure.
    """
    if code == VIRTUAL_KEY_REQUIRED:
        return SmartcarVirtualKeyRequiredError
    if (
        error_type or ""
    ).upper() == "CONNECTED_SERVICES_ACCOUNT" and code == "AUTHENTICATION_FAILED":
        return SmartcarAuthenticationError
    if error_type is not None and (cls := _BY_TYPE.get(error_type.upper())):
        return cls
    if status is not None:
        if cls := _BY_STATUS.get(status):
            return cls
        if status >= 500:
            return SmartcarUpstreamError
    return SmartcarValidationError


def error_from_object(
    obj: Mapping[str, Any], *, status: int | None = None, retry_after: float | None = None
) -> SmartcarApiError:
    """Build the exception for one error object, in any of Smartcar's three shapes.

    Shapes: JSON:API (`status`, `code`, `title`, `detail`), classic (`type`, `code`,
    `description`, `statusCode`, `resolution`, ...) and the v3 error object (`type`, `code`,
    `title`, `detail`, `status`, `resolution`, ...).
    """
    error_type = _text(obj.get("type"))
    code = _text(obj.get("code"))
    if code is not None and code.upper() == VIRTUAL_KEY_REQUIRED:
        code = VIRTUAL_KEY_REQUIRED
    body_status = obj.get("status", obj.get("statusCode"))
    if status is None:
        if isinstance(body_status, int):
            status = body_status
        elif (
            isinstance(body_status, str)
            and body_status.isascii()
            and body_status.isdigit()
            and len(body_status) <= 3
        ):
            status = int(body_status)
    resolution = obj.get("resolution")
    resolution_type = resolution_url = None
    if isinstance(resolution, Mapping):
        resolution_type = _text(resolution.get("type"))
        resolution_url = _text(resolution.get("url"))
    message = (
        _text(obj.get("detail"))
        or _text(obj.get("description"))
        or _text(obj.get("title"))
        or _text(obj.get("message"))
        or " ".join(part for part in (error_type, code) if part)
        or f"HTTP {status}"
    )
    if error_type is None and code == "unauthorized":
        error_type = "AUTHENTICATION"
    cls = error_class_for(error_type, code, status)
    kwargs: dict[str, Any] = {
        "status": status,
        "error_type": error_type,
        "code": code,
        "resolution_type": resolution_type,
        "resolution_url": resolution_url,
        "suggested_user_message": _text(obj.get("suggestedUserMessage")),
        "request_id": _text(obj.get("requestId")),
    }
    if cls is SmartcarRateLimitError:
        return SmartcarRateLimitError(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)


def error_from_body(
    body: object, *, status: int, retry_after: float | None = None
) -> SmartcarApiError:
    """Build the exception for an HTTP error response's decoded JSON body (any value)."""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            return error_from_object(errors[0], status=status, retry_after=retry_after)
        if "error" in body and isinstance(body["error"], str):
            # OAuth token endpoint: {"error": "invalid_client", "error_description": "..."}
            oauth_code = body["error"] or None
            description = _text(body.get("error_description")) or oauth_code or f"HTTP {status}"
            if oauth_code in ("invalid_client", "unauthorized_client") or status == 401:
                return SmartcarAuthenticationError(description, status=status, code=oauth_code)
            if status == 400:
                return SmartcarValidationError(description, status=status, code=oauth_code)
            cls = error_class_for(None, None, status)
            if cls is SmartcarRateLimitError:
                return SmartcarRateLimitError(
                    description, status=status, code=oauth_code, retry_after=retry_after
                )
            return cls(description, status=status, code=oauth_code)
        return error_from_object(body, status=status, retry_after=retry_after)
    return error_from_object({}, status=status, retry_after=retry_after)
