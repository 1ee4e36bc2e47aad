"""Turn Smartcar's JSON into the typed models, naming the field that was wrong.

Timestamps come as ISO strings, seconds or milliseconds; all of that is absorbed here and in
`signals` (the signal readers); the rest of the integration only sees `models`. Envelopes are
strict.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import math
from typing import Any

from .errors import SmartcarParseError
from .models import (
    Connection,
    VehicleInfo,
    WebhookInfo,
)

_MILLISECONDS_THRESHOLD = 1e11  # a number above this is milliseconds since the epoch


def mapping(value: object, where: str) -> Mapping[str, Any]:
    """Return `value` as a JSON object, or raise naming `where`."""
    if not isinstance(value, Mapping):
        raise SmartcarParseError(where, f"expected an object, got {type(value).__name__}")
    return value


def sequence(value: object, where: str) -> list[Any]:
    """Return `value` as a JSON array, or raise naming `where`."""
    if not isinstance(value, list):
        raise SmartcarParseError(where, f"expected an array, got {type(value).__name__}")
    return value


def string(value: object, where: str) -> str:
    """Return `value` as a non-empty string, or raise naming `where`."""
    if not isinstance(value, str) or not value:
        raise SmartcarParseError(where, f"expected a string, got {type(value).__name__}")
    return value


def optional_string(value: object, where: str) -> str | None:
    """Return `value` as a string, None for null/absent, or raise naming `where`."""
    if value is None or value == "":
        return None
    return string(value, where)


def number(value: object, where: str) -> float:
    """Return `value` as a finite number (booleans are not numbers), or raise naming `where`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SmartcarParseError(where, f"expected a number, got {value!r:.40}")
    try:
        result = float(value)
    except OverflowError:
        raise SmartcarParseError(where, "number out of range") from None
    if not math.isfinite(result):
        raise SmartcarParseError(where, f"expected a number, got {value!r:.40} (not finite)")
    return result


def boolean(value: object, where: str) -> bool:
    """Return `value` as a boolean, or raise naming `where`."""
    if not isinstance(value, bool):
        raise SmartcarParseError(where, f"expected true or false, got {value!r:.40}")
    return value


def optional_int(value: object, where: str) -> int | None:
    """Return `value` as an integer, None for null/absent, or raise naming `where`."""
    if value is None:
        return None
    result = number(value, where)
    if not result.is_integer():
        raise SmartcarParseError(where, f"expected an integer, got {value!r:.40}")
    return int(result)


def timestamp(value: object, where: str) -> datetime | None:
    """Parse a Smartcar timestamp: ISO-8601, or seconds or milliseconds since the epoch.

    Zero, null and absent mean unknown.
    """
    if value is None or value == "" or (type(value) in {int, float} and value == 0):
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise SmartcarParseError(where, f"not an ISO-8601 time: {value!r:.40}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    seconds = number(value, where)
    if seconds < 0:
        raise SmartcarParseError(where, "negative time")
    if seconds > _MILLISECONDS_THRESHOLD:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except OverflowError, OSError, ValueError:
        raise SmartcarParseError(where, f"time out of range: {value!r:.40}") from None


# --- vehicles and connections ---------------------------------------------------------------


def vehicle_info(vehicle_id: str, attributes: Mapping[str, Any], where: str) -> VehicleInfo:
    """Parse `{make, model, year, powertrainType, mode}`."""
    return VehicleInfo(
        vehicle_id=vehicle_id,
        make=optional_string(attributes.get("make"), f"{where}.make"),
        model=optional_string(attributes.get("model"), f"{where}.model"),
        year=optional_int(attributes.get("year"), f"{where}.year"),
        powertrain_type=optional_string(
            attributes.get("powertrainType"), f"{where}.powertrainType"
        ),
        mode=optional_string(attributes.get("mode"), f"{where}.mode"),
    )


def _related_id(relationships: Mapping[str, Any], name: str, where: str) -> str:
    related = mapping(relationships.get(name), f"{where}.relationships.{name}")
    data = mapping(related.get("data"), f"{where}.relationships.{name}.data")
    return string(data.get("id"), f"{where}.relationships.{name}.data.id")


def connections_page(body: object) -> tuple[list[Connection], str | int | None]:
    """Parse one page of `GET /v3/connections`.

    Returns the connections and where the next page is: its URL (`links.next`), else its number
    (from `meta`), else None.
    """
    root = mapping(body, "body")
    result: list[Connection] = []
    for index, item in enumerate(sequence(root.get("data"), "data")):
        where = f"data[{index}]"
        resource = mapping(item, where)
        attributes = mapping(resource.get("attributes", {}), f"{where}.attributes")
        relationships = mapping(resource.get("relationships"), f"{where}.relationships")
        vehicle_id = _related_id(relationships, "vehicle", where)
        user_id = _related_id(relationships, "user", where)
        permissions = sequence(attributes.get("permissions", []), f"{where}.attributes.permissions")
        result.append(
            Connection(
                connection_id=string(resource.get("id"), f"{where}.id"),
                user_id=user_id,
                vehicle=vehicle_info(
                    vehicle_id,
                    mapping(attributes.get("vehicle", {}), f"{where}.attributes.vehicle"),
                    f"{where}.attributes.vehicle",
                ),
                permissions=frozenset(
                    string(permission, f"{where}.attributes.permissions[{position}]")
                    for position, permission in enumerate(permissions)
                ),
            )
        )
    links = root.get("links")
    next_page: str | int | None = None
    if isinstance(links, Mapping):
        next_page = optional_string(links.get("next"), "links.next")
    if next_page is None:
        meta = root.get("meta")
        if isinstance(meta, Mapping):
            page = optional_int(meta.get("pageNumber", meta.get("page")), "meta.pageNumber")
            size = optional_int(meta.get("pageSize"), "meta.pageSize")
            total = optional_int(meta.get("totalCount"), "meta.totalCount")
            if page and size and total is not None and page * size < total and result:
                next_page = page + 1
    return result, next_page


def webhook_resource(body: object) -> WebhookInfo:
    """Parse `GET /v3/webhooks/{id}` of the management API."""
    root = mapping(body, "body")
    resource = mapping(root.get("data", root), "data")
    attributes = mapping(resource.get("attributes", {}), "data.attributes")
    return WebhookInfo(
        webhook_id=string(resource.get("id"), "data.id"),
        name=optional_string(attributes.get("name"), "data.attributes.name"),
        callback_uri=optional_string(attributes.get("callbackUri"), "data.attributes.callbackUri"),
        is_enabled=None
        if attributes.get("isEnabled") is None
        else boolean(attributes["isEnabled"], "data.attributes.isEnabled"),
        error_callback_uri=optional_string(
            attributes.get("errorCallbackUri"), "data.attributes.errorCallbackUri"
        ),
    )


def command_status(body: object) -> tuple[str | None, str]:
    """The command id and `data.attributes.status.value` of a command response."""
    root = mapping(body, "body")
    data = mapping(root.get("data"), "data")
    attributes = mapping(data.get("attributes"), "data.attributes")
    status = mapping(attributes.get("status"), "data.attributes.status")
    value = string(status.get("value"), "data.attributes.status.value").upper()
    return optional_string(data.get("id"), "data.id"), value
