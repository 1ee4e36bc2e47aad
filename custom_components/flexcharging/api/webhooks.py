"""Smartcar webhook deliveries: verification, signatures and parsing (no I/O)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
import hashlib
import hmac
import json
from typing import Any

from . import parse
from .errors import SmartcarParseError
from .models import VehicleInfo, VehicleState
from .signals import webhook_signals

SIGNATURE_HEADER = "SC-Signature"


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyEvent:
    """Smartcar checks that the webhook belongs to us (unsigned)."""

    event_id: str | None
    challenge: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleStateEvent:
    """New signal values of one vehicle."""

    event_id: str | None
    vehicle_id: str
    user_id: str | None
    vehicle: VehicleInfo
    state: VehicleState
    test: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleError:
    """One error condition of a vehicle, raised (`resolved` False) or cleared."""

    error_type: str | None
    code: str | None
    resolved: bool
    description: str | None = None
    resolution_type: str | None = None
    resolution_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleErrorEvent:
    """Error conditions of one vehicle that started or ended."""

    event_id: str | None
    vehicle_id: str
    user_id: str | None
    errors: tuple[VehicleError, ...]
    test: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent:
    """An event type this integration does not use."""

    event_id: str | None
    event_type: str


type WebhookEvent = VerifyEvent | VehicleStateEvent | VehicleErrorEvent | UnknownEvent


def _hmac_hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def challenge_response(management_token: str, challenge: str) -> dict[str, str]:
    """The JSON body that answers a VERIFY: HMAC-SHA256 of the challenge, keyed with the AMT."""
    return {"challenge": _hmac_hex(management_token, challenge.encode())}


def signature_valid(management_token: str, raw_body: bytes, signature: str | None) -> bool:
    """Whether `SC-Signature` is the HMAC-SHA256 of the raw body (compared in constant time)."""
    if not signature or not signature.isascii():
        return False
    expected = _hmac_hex(management_token, raw_body)
    return hmac.compare_digest(expected, signature.strip().lower())


def _is_test(root: Mapping[str, Any]) -> bool:
    meta = root.get("meta")
    return isinstance(meta, Mapping) and str(meta.get("mode", "")).upper() == "TEST"


def _vehicle(data: Mapping[str, Any], root: Mapping[str, Any]) -> VehicleInfo:
    vehicle = data.get("vehicle")
    if isinstance(vehicle, Mapping):
        vehicle_id = parse.string(vehicle.get("id"), "data.vehicle.id")
        return parse.vehicle_info(vehicle_id, vehicle, "data.vehicle")
    # Older payloads carry only a top-level vehicleId.
    return VehicleInfo(vehicle_id=parse.string(root.get("vehicleId"), "vehicleId"))


def _user_id(data: Mapping[str, Any]) -> str | None:
    user = data.get("user")
    if isinstance(user, Mapping):
        return parse.optional_string(user.get("id"), "data.user.id")
    return None


def _error(item: object, where: str) -> VehicleError:
    error = parse.mapping(item, where)
    state = (parse.optional_string(error.get("state"), f"{where}.state") or "ERROR").upper()
    resolution = error.get("resolution")
    resolution_type = resolution_url = None
    if isinstance(resolution, Mapping):
        resolution_type = parse.optional_string(resolution.get("type"), f"{where}.resolution.type")
        resolution_url = parse.optional_string(resolution.get("url"), f"{where}.resolution.url")
    return VehicleError(
        error_type=parse.optional_string(error.get("type"), f"{where}.type"),
        code=parse.optional_string(error.get("code"), f"{where}.code"),
        resolved=state == "RESOLVED",
        description=parse.optional_string(
            error.get("description", error.get("detail")), f"{where}.description"
        ),
        resolution_type=resolution_type,
        resolution_url=resolution_url,
    )


def parse_event(raw_body: bytes) -> WebhookEvent:
    """Parse a delivery's raw body; raises SmartcarParseError when it is not a Smartcar event."""
    try:
        decoded = json.loads(raw_body)
    except ValueError, RecursionError:  # not JSON, too deep, or a number too long to convert
        raise SmartcarParseError("body", "not JSON") from None
    root = parse.mapping(decoded, "body")
    event_id = parse.optional_string(root.get("eventId"), "eventId")
    event_type = root.get("eventType", root.get("eventName"))
    event_type = parse.string(event_type, "eventType").upper()
    if event_type not in {"VERIFY", "VEHICLE_STATE", "VEHICLE_ERROR"}:
        return UnknownEvent(event_id=event_id, event_type=event_type)
    data = parse.mapping(root.get("data", root.get("payload")), "data")
    if event_type == "VERIFY":
        return VerifyEvent(
            event_id=event_id, challenge=parse.string(data.get("challenge"), "data.challenge")
        )
    if event_type == "VEHICLE_STATE":
        vehicle = _vehicle(data, root)
        return VehicleStateEvent(
            event_id=event_id,
            vehicle_id=vehicle.vehicle_id,
            user_id=_user_id(data),
            vehicle=vehicle,
            state=webhook_signals(data.get("signals", []), "data.signals"),
            test=_is_test(root),
        )
    if event_type == "VEHICLE_ERROR":
        vehicle = _vehicle(data, root)
        errors = parse.sequence(data.get("errors", []), "data.errors")
        return VehicleErrorEvent(
            event_id=event_id,
            vehicle_id=vehicle.vehicle_id,
            user_id=_user_id(data),
            errors=tuple(_error(item, f"data.errors[{i}]") for i, item in enumerate(errors)),
            test=_is_test(root),
        )
    return UnknownEvent(event_id=event_id, event_type=event_type)


class EventDeduplicator:
    """Remembers recent event ids: Smartcar delivers at least once and retries with the same id."""

    def __init__(self, size: int = 512) -> None:
        """Remember up to `size` ids."""
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def is_duplicate(self, event_id: str | None) -> bool:
        """Whether the id was seen before; records it otherwise."""
        if event_id is None:
            return False
        if event_id in self._seen:
            self._seen.move_to_end(event_id)
            return True
        self._seen[event_id] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return False
