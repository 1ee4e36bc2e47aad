"""Read Smartcar's signals (REST `attributes` and webhook flat objects) into a vehicle state.

Smartcar sends the same signal in two envelopes and units in several spellings. Signals are not
strict: Smartcar documents partial data as normal ("successful signals containing body data and
failed signals containing status errors", webhooks/events/vehicle-state): one signal that cannot
be read becomes unknown with its reason (a `SignalProblem` of the report) and never costs the
rest of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from .errors import SmartcarParseError
from .models import (
    ChargingStatus,
    Distance,
    DistanceUnit,
    Location,
    Signal,
    SignalProblem,
    SignalStatus,
    VehicleState,
)
from .parse import (
    boolean,
    mapping,
    number,
    optional_string,
    sequence,
    string,
    timestamp,
)

_DISTANCE_UNITS = {
    "km": DistanceUnit.KILOMETERS,
    "kilometers": DistanceUnit.KILOMETERS,
    "kilometres": DistanceUnit.KILOMETERS,
    "mi": DistanceUnit.MILES,
    "miles": DistanceUnit.MILES,
    # https://smartcar.com/docs/api-reference/signals/tractionbattery prints the unit enum as
    # "DEFAULT" (a doc mix-up; its example has "kilometers"): the requested unit system, metric
    # unless asked otherwise.
    "default": DistanceUnit.KILOMETERS,
}
_POWER_TO_KW = {"kw": 1.0, "kilowatts": 1.0, "w": 0.001, "watts": 0.001}
_ENERGY_TO_KWH = {"kwh": 1.0, "wh": 0.001}


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


def _energy_kwh(body: Mapping[str, Any], where: str) -> float:
    """`charge-energyadded`: `{"unit": "kWh", "value": 25.5}` (signals/charge); no unit is kWh."""
    value = number(body.get("value"), f"{where}.value")
    unit = string(body.get("unit", "kwh"), f"{where}.unit").lower()
    if (factor := _ENERGY_TO_KWH.get(unit)) is None:
        raise SmartcarParseError(f"{where}.unit", f"unknown energy unit {unit!r:.20}")
    if value < 0:
        raise SmartcarParseError(f"{where}.value", "negative energy")
    return value * factor


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
    "charge-energyadded": ("energy_added", _energy_kwh),
    "tractionbattery-nominalcapacity": ("battery_capacity", _capacity_kwh),
    "connectivitystatus-isdigitalkeypaired": ("key_paired", _flag),
    "vehicleidentification-vin": ("vin", _vin),
    "location-preciselocation": ("location", _location),
    "location-isathome": ("is_at_home", _flag),
}
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
