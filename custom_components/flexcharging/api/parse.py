"""Turn Smartcar's JSON into the typed models, naming the field that was wrong.

Smartcar sends the same signal in two envelopes (REST `attributes`, webhook flat objects),
timestamps as ISO strings, seconds or milliseconds, and units in several spellings. All of that
is absorbed here; the rest of the integration only sees `models`.

Envelopes are strict; signals are not. Smartcar documents partial data as normal ("successful
signals containing body data and failed signals containing status errors", webhooks/events/
vehicle-state): one signal that cannot be read becomes unknown with its reason (a
`SignalProblem` of the report) and never costs the rest of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
import math
from typing import Any

from .errors import SmartcarParseError
from .models import (
    ChargingStatus,
    Connection,
    Distance,
    DistanceUnit,
    Location,
    Signal,
    SignalProblem,
    SignalStatus,
    VehicleInfo,
    VehicleState,
    WebhookInfo,
)

_MILLISECONDS_THRESHOLD = 1e11  # a number above this is milliseconds since the epoch
_DISTANCE_UNITS = {
    "km": DistanceUnit.KILOMETERS,
    "kilometers": DistanceUnit.KILOMETERS,
    "kilometres": DistanceUnit.KILOMETERS,
    "mi": DistanceUnit.MILES,
    "miles": DistanceUnit.MILES,
    # signals/tractionbattery prints the unit enum as "DEFAULT" (a doc mix-up, see
    # docs/smartcar-v3.md §6.3): the requested unit system, metric unless asked otherwise.
    "default": DistanceUnit.KILOMETERS,
}
_POWER_TO_KW = {"kw": 1.0, "kilowatts": 1.0, "w": 0.001, "watts": 0.001}


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


def vehicle_resource(body: object) -> VehicleInfo:
    """Parse `GET /vehicles/{id}`, with or without the `data` wrapper."""
    root = mapping(body, "body")
    resource = mapping(root.get("data", root), "data")
    vehicle_id = string(resource.get("id"), "data.id")
    attributes = mapping(resource.get("attributes", {}), "data.attributes")
    return vehicle_info(vehicle_id, attributes, "data.attributes")


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


# --- signals ----------------------------------------------------------------------------------


def _percent(body: Mapping[str, Any], where: str) -> float:
    # An older integrations/webhooks/responses example sends {"percentage": 75}.
    key = "value" if "value" in body or "percentage" not in body else "percentage"
    value = number(body.get(key), f"{where}.{key}")
    if not 0 <= value <= 100:
        raise SmartcarParseError(f"{where}.value", f"{value} is not a percentage")
    return value


def _distance(body: Mapping[str, Any], where: str) -> Distance:
    value = number(body.get("value"), f"{where}.value")
    unit_name = string(body.get("unit", "km"), f"{where}.unit").lower()
    if (unit := _DISTANCE_UNITS.get(unit_name)) is None:
        raise SmartcarParseError(f"{where}.unit", f"unknown distance unit {unit_name!r:.20}")
    return Distance(value=value, unit=unit)


def _charging_status(body: Mapping[str, Any], where: str) -> ChargingStatus:
    raw = string(body.get("value"), f"{where}.value").upper()
    try:
        return ChargingStatus(raw)
    except ValueError:
        raise SmartcarParseError(f"{where}.value", f"unknown charging status {raw!r:.30}") from None


def _flag(body: Mapping[str, Any], where: str) -> bool:
    return boolean(body.get("value"), f"{where}.value")


def _charge_limit(body: Mapping[str, Any], where: str) -> int | None:
    """The global charge limit: `values[type=GLOBAL, no condition].limit`, else `activeLimit`.

    None (unknown, not an error) when neither is there: signals/charge documents LOCATION and
    CONNECTOR entries and an `activeLimit` that is null when it "cannot be determined".
    """
    values = sequence(body.get("values", []), f"{where}.values")
    for index, item in enumerate(values):
        entry = mapping(item, f"{where}.values[{index}]")
        kind = optional_string(entry.get("type"), f"{where}.values[{index}].type") or ""
        if kind.lower() == "global" and entry.get("condition") is None:
            limit = number(entry.get("limit"), f"{where}.values[{index}].limit")
            return round(limit)
    active = body.get("activeLimit")
    if active is None:
        return None
    return round(number(active, f"{where}.activeLimit"))


def _power(default_unit: str) -> Callable[[Mapping[str, Any], str], float]:
    """A parser of a power body in kW, for a body without a unit given in `default_unit`."""

    def parse_power(body: Mapping[str, Any], where: str) -> float:
        value = number(body.get("value"), f"{where}.value")
        unit = string(body.get("unit", default_unit), f"{where}.unit").lower()
        if (factor := _POWER_TO_KW.get(unit)) is None:
            raise SmartcarParseError(f"{where}.unit", f"unknown power unit {unit!r:.20}")
        return value * factor

    return parse_power


def _capacity_kwh(body: Mapping[str, Any], where: str) -> float:
    # `nominalcapacity` reports `capacity` (and sometimes `value`) in kWh.
    raw = body.get("capacity", body.get("value"))
    if isinstance(raw, Mapping):
        raw = raw.get("nominal", raw.get("value"))
    return number(raw, f"{where}.capacity")


def _vin(body: Mapping[str, Any], where: str) -> str:
    return string(body.get("value"), f"{where}.value")


def _location(body: Mapping[str, Any], where: str) -> Location:
    latitude = number(body.get("latitude"), f"{where}.latitude")
    longitude = number(body.get("longitude"), f"{where}.longitude")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise SmartcarParseError(where, "coordinates out of range")
    return Location(latitude=latitude, longitude=longitude)


# signal code -> (VehicleState field, body parser)
_SIGNALS: Mapping[str, tuple[str, Callable[[Mapping[str, Any], str], Any]]] = {
    "tractionbattery-stateofcharge": ("battery_level", _percent),
    "tractionbattery-range": ("range", _distance),
    "charge-detailedchargingstatus": ("charging_status", _charging_status),
    "charge-ischarging": ("is_charging", _flag),
    "charge-ischargingcableconnected": ("plugged_in", _flag),
    "charge-chargelimits": ("charge_limit", _charge_limit),
    "charge-chargerate": ("charge_power", _power("kw")),
    "charge-power": ("charge_power", _power("kw")),
    # signals/charge: "measured in watts", so a body without a unit is in watts.
    "charge-wattage": ("charge_power", _power("watts")),
    "tractionbattery-nominalcapacity": ("battery_capacity", _capacity_kwh),
    "connectivitystatus-isdigitalkeypaired": ("key_paired", _flag),
    "vehicleidentification-vin": ("vin", _vin),
    "location-preciselocation": ("location", _location),
    "location-isathome": ("is_at_home", _flag),
}
SIGNAL_CODES = frozenset(_SIGNALS)
FIELD_OF_CODE: Mapping[str, str] = {code: spec[0] for code, spec in _SIGNALS.items()}


def _status(status_obj: object) -> tuple[SignalStatus, str | None, str | None]:
    """A signal's status, error type and error code; an absent status means SUCCESS."""
    if status_obj is None:
        return SignalStatus.SUCCESS, None, None
    status_map = mapping(status_obj, "status")
    raw_status = string(status_map.get("value"), "status.value").upper()
    try:
        status_value = SignalStatus(raw_status)
    except ValueError:
        status_value = SignalStatus.ERROR
    if status_value in (SignalStatus.INVALID, SignalStatus.ABSENT):
        status_value = SignalStatus.ERROR  # our own markers, never Smartcar's
    error = status_map.get("error")
    if not isinstance(error, Mapping):
        return status_value, None, None
    return (
        status_value,
        optional_string(error.get("type"), "status.error.type"),
        optional_string(error.get("code"), "status.error.code"),
    )


def _signal(
    code: str, status_obj: object, body: object, meta: object, problems: list[SignalProblem]
) -> tuple[str, Signal[Any]] | None:
    """Parse one signal in its neutral form; None for signals this integration does not use.

    What cannot be read is added to `problems`, and the signal is INVALID (no value).
    """
    spec = _SIGNALS.get(code)
    if spec is None:
        return None
    field_name, parse_body = spec
    if code == "charge-chargerate" and isinstance(body, Mapping):
        unit = str(body.get("unit", "")).lower()
        if unit not in _POWER_TO_KW:
            # A charge rate in km/h says how fast range grows, not power: not used.
            return None
    try:
        status_value, error_type, error_code = _status(status_obj)
        if status_value is not SignalStatus.SUCCESS:
            # Never the stale body of a failed signal: unknown, with the reason.
            return field_name, Signal(
                status=status_value,
                oem_updated_at=None,
                error_type=error_type,
                error_code=error_code,
            )
        value = parse_body(mapping(body, "body"), "body")
    except SmartcarParseError as err:
        reason = f"{err.field}: {err.problem}"
        problems.append(SignalProblem(code, reason))
        return field_name, Signal(status=SignalStatus.INVALID, reason=reason)
    stamp = None
    try:
        if meta is not None:
            stamp = timestamp(mapping(meta, "meta").get("oemUpdatedAt"), "meta.oemUpdatedAt")
    except SmartcarParseError as err:
        # The value is fine; without its time a later arrival replaces it.
        problems.append(SignalProblem(code, f"{err.field}: {err.problem}"))
    return field_name, Signal(value=value, status=SignalStatus.SUCCESS, oem_updated_at=stamp)


def _state_from(
    parsed: Iterable[tuple[str, Signal[Any]] | None], problems: list[SignalProblem]
) -> VehicleState:
    values: dict[str, Signal[Any]] = {}
    for item in parsed:
        if item is None:
            continue
        field_name, signal = item
        current = values.get(field_name)
        if current is None or (signal.known and not current.known):
            values[field_name] = signal
    return replace(VehicleState(), **values, problems=tuple(problems))


UNREADABLE_SIGNAL = "(unreadable entry)"


def _unreadable_entry(err: SmartcarParseError) -> SignalProblem:
    """A signal entry without a readable code: reported under a stand-in code."""
    return SignalProblem(UNREADABLE_SIGNAL, f"{err.field}: {err.problem}")


def rest_signals(body: object) -> VehicleState:
    """Parse `GET /v3/vehicles/{id}/signals` into a vehicle state."""
    root = mapping(body, "body")
    items = sequence(root.get("data"), "data")
    problems: list[SignalProblem] = []

    def parse_item(index: int, item: object) -> tuple[str, Signal[Any]] | None:
        where = f"data[{index}]"
        try:
            resource = mapping(item, where)
            attributes = mapping(resource.get("attributes"), f"{where}.attributes")
            code = string(attributes.get("code", resource.get("id")), f"{where}.attributes.code")
        except SmartcarParseError as err:
            problems.append(_unreadable_entry(err))
            return None
        return _signal(
            code, attributes.get("status"), attributes.get("body"), resource.get("meta"), problems
        )

    parsed = [parse_item(index, item) for index, item in enumerate(items)]
    return _state_from(parsed, problems)


def webhook_signals(signals: object, where: str) -> VehicleState:
    """Parse the flat signal objects of a VEHICLE_STATE webhook into a vehicle state."""
    problems: list[SignalProblem] = []

    def parse_item(index: int, item: object) -> tuple[str, Signal[Any]] | None:
        item_where = f"{where}[{index}]"
        try:
            signal = mapping(item, item_where)
            code = string(signal.get("code"), f"{item_where}.code")
        except SmartcarParseError as err:
            problems.append(_unreadable_entry(err))
            return None
        return _signal(code, signal.get("status"), signal.get("body"), signal.get("meta"), problems)

    try:
        items = sequence(signals, where)
    except SmartcarParseError as err:
        problems.append(_unreadable_entry(err))
        items = []
    parsed = [parse_item(index, item) for index, item in enumerate(items)]
    return _state_from(parsed, problems)


def included_vehicle(body: object) -> VehicleInfo | None:
    """The vehicle described in a signals response's `included.vehicle`, if any."""
    root = mapping(body, "body")
    included = root.get("included")
    if not isinstance(included, Mapping) or not isinstance(included.get("vehicle"), Mapping):
        return None
    resource = mapping(included["vehicle"], "included.vehicle")
    vehicle_id = string(resource.get("id"), "included.vehicle.id")
    attributes = mapping(resource.get("attributes", {}), "included.vehicle.attributes")
    return vehicle_info(vehicle_id, attributes, "included.vehicle.attributes")


def command_status(body: object) -> tuple[str | None, str]:
    """The command id and `data.attributes.status.value` of a command response."""
    root = mapping(body, "body")
    data = mapping(root.get("data"), "data")
    attributes = mapping(data.get("attributes"), "data.attributes")
    status = mapping(attributes.get("status"), "data.attributes.status")
    value = string(status.get("value"), "data.attributes.status.value").upper()
    return optional_string(data.get("id"), "data.id"), value
