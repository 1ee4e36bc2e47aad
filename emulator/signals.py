"""The v3 signal catalogue and how a vehicle's last reading becomes signals."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from emulator.clock import epoch_ms, iso
from emulator.fleet import KM_PER_MILE, Reading, Vehicle

DIRECTIONS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
VIRTUAL_KEY_PATH = "/_ak/smartcar.com"


@dataclass(frozen=True, slots=True)
class SignalDef:
    """A signal's identity; ``permission`` gates it when set."""

    code: str
    name: str
    group: str
    permission: str | None = None

    def ref(self) -> dict[str, str]:
        """Return the ``{code, name, group}`` reference used in triggers."""
        return {"code": self.code, "name": self.name, "group": self.group}


def _def(code: str, name: str, permission: str | None = None) -> SignalDef:
    group = {
        "tractionbattery": "TractionBattery",
        "charge": "Charge",
        "location": "Location",
        "odometer": "Odometer",
        "vehicleidentification": "VehicleIdentification",
        "connectivitystatus": "ConnectivityStatus",
    }[code.split("-", 1)[0]]
    return SignalDef(code, name, group, permission)


SOC = _def("tractionbattery-stateofcharge", "StateOfCharge")
RANGE = _def("tractionbattery-range", "Range")
CAPACITY = _def("tractionbattery-nominalcapacity", "NominalCapacity")
CHARGING_STATUS = _def("charge-detailedchargingstatus", "DetailedChargingStatus")
IS_CHARGING = _def("charge-ischarging", "IsCharging")
PLUGGED_IN = _def("charge-ischargingcableconnected", "IsChargingCableConnected")
CHARGE_LIMITS = _def("charge-chargelimits", "ChargeLimits")
CHARGE_RATE = _def("charge-chargerate", "ChargeRate")
WATTAGE = _def("charge-wattage", "Wattage")
ENERGY_ADDED = _def("charge-energyadded", "EnergyAdded")
TIME_TO_COMPLETE = _def("charge-timetocomplete", "TimeToComplete")
LOCATION = _def("location-preciselocation", "PreciseLocation", "read_location")
AT_HOME = _def("location-isathome", "IsAtHome", "read_location")
ODOMETER = _def("odometer-traveleddistance", "TraveledDistance")
VIN = _def("vehicleidentification-vin", "VIN")
KEY_PAIRED = _def("connectivitystatus-isdigitalkeypaired", "IsDigitalKeyPaired")
ONLINE = _def("connectivitystatus-isonline", "IsOnline")
ASLEEP = _def("connectivitystatus-isasleep", "IsAsleep")

CATALOGUE: tuple[SignalDef, ...] = (
    SOC,
    RANGE,
    CAPACITY,
    CHARGING_STATUS,
    IS_CHARGING,
    PLUGGED_IN,
    CHARGE_LIMITS,
    CHARGE_RATE,
    WATTAGE,
    ENERGY_ADDED,
    TIME_TO_COMPLETE,
    LOCATION,
    AT_HOME,
    ODOMETER,
    VIN,
    KEY_PAIRED,
    ONLINE,
    ASLEEP,
)
BY_CODE = {signal.code: signal for signal in CATALOGUE}


@dataclass(frozen=True, slots=True)
class SignalError:
    """A per-signal error."""

    type: str
    code: str
    title: str
    detail: str
    resolution: dict[str, Any]

    def rest(self) -> dict[str, Any]:
        """Render for REST responses."""
        return {
            "type": self.type,
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "description": "Deprecated. Use detail",
            "resolution": dict(self.resolution),
        }

    def webhook(self) -> dict[str, Any]:
        """Render for webhook payloads (terser, as observed)."""
        error: dict[str, Any] = {"type": self.type, "code": self.code}
        if self.resolution.get("url"):
            error["resolution"] = dict(self.resolution)
        return error


NOT_CAPABLE = SignalError(
    "COMPATIBILITY",
    "VEHICLE_NOT_CAPABLE",
    "Vehicle Not Capable",
    "The vehicle is incapable of performing your request.",
    {"type": "UNKNOWN_RESOLUTION_TYPE"},
)
NOT_CHARGING = SignalError(
    "VEHICLE_STATE",
    "NOT_CHARGING",
    "Not Charging",
    "The vehicle is unable to perform your request because it is not currently charging.",
    {"type": "UNKNOWN_RESOLUTION_TYPE"},
)


def virtual_key_error(origin: str) -> SignalError:
    """Return the per-signal error of a Tesla lacking Smartcar's virtual key."""
    return SignalError(
        "CONNECTED_SERVICES_ACCOUNT",
        "VIRTUAL_KEY_REQUIRED",
        "Virtual Key Required",
        "The vehicle owner needs to grant additional access to Smartcar in order to perform this request.",
        {"type": "ACTION_REQUIRED", "url": origin + VIRTUAL_KEY_PATH},
    )


@dataclass(frozen=True, slots=True)
class SignalValue:
    """One signal as the store holds it: a body, a time and maybe an error."""

    signal: SignalDef
    body: dict[str, Any] | None
    oem_updated_at: datetime | None
    error: SignalError | None = None
    stale: bool = False
    omit_status: bool = False  # the status_omitted variant
    shape: Any = None  # a body that is not an object (the unknown_signal variant)

    def rest(
        self, *, vehicle_id: str, origin: str, retrieved_at: datetime, epoch_ms_times: bool = True
    ) -> dict[str, Any]:
        """Render as a REST ``SignalResource`` (times in epoch ms, or ISO as observed)."""
        stamp = epoch_ms if epoch_ms_times else iso
        attributes: dict[str, Any] = {
            "code": self.signal.code,
            "name": self.signal.name,
            "group": self.signal.group,
            "status": self._status(rest=True),
        }
        if self.body is not None:
            attributes["body"] = self.body if self.shape is None else self.shape
        if self.omit_status:
            del attributes["status"]
        meta: dict[str, Any] = {"ingestedAt": stamp(retrieved_at)}
        if self.oem_updated_at is not None:
            fetched = self.oem_updated_at + timedelta(seconds=2) if self.stale else retrieved_at
            meta |= {"retrievedAt": stamp(fetched), "oemUpdatedAt": stamp(self.oem_updated_at)}
        vehicle_url = f"{origin}/v3/vehicles/{vehicle_id}"
        return {
            "id": self.signal.code,
            "type": "signal",
            "attributes": attributes,
            "meta": meta,
            "links": {"self": f"{vehicle_url}/signals/{self.signal.code}", "vehicle": vehicle_url},
        }

    def webhook(self, *, retrieved_at: datetime) -> dict[str, Any]:
        """Render as a webhook ``signals[]`` item (millisecond timestamps)."""
        item: dict[str, Any] = {**self.signal.ref()}
        if self.body is not None:
            item["body"] = self.body if self.shape is None else self.shape
        if self.oem_updated_at is not None:
            fetched = self.oem_updated_at + timedelta(seconds=2) if self.stale else retrieved_at
            item["meta"] = {
                "oemUpdatedAt": epoch_ms(self.oem_updated_at),
                "retrievedAt": epoch_ms(fetched),
            }
        if not self.omit_status:
            item["status"] = self._status(rest=False)
        return item

    def _status(self, *, rest: bool) -> dict[str, Any]:
        if self.error is None:
            return {"value": "SUCCESS"}
        return {"value": "ERROR", "error": self.error.rest() if rest else self.error.webhook()}


def compute_signals(
    vehicle: Vehicle,
    reading: Reading,
    *,
    permissions: Collection[str],
    imperial: bool,
    origin: str,
    keyless_key_status: str,
) -> list[SignalValue]:
    """Build every signal of ``vehicle`` from its last ``reading``."""
    at = reading.at
    distance_unit = "miles" if imperial else "km"

    def distance(km: float) -> int | float:
        return round(km / KM_PER_MILE) if imperial else round(km)

    values = [
        SignalValue(SOC, {"value": reading.soc, "unit": "percent"}, at),
        SignalValue(
            RANGE,
            {
                "value": distance(reading.range_km),
                "type": "DEFAULT",
                "additionalValues": [],
                "unit": distance_unit,
            },
            at,
        ),
        SignalValue(
            CAPACITY,
            {
                "source": "SMARTCAR",
                "capacity": reading.capacity_kwh,
                "availableCapacities": [
                    {"capacity": reading.capacity_kwh, "description": "Nominal capacity"}
                ],
                # As in the example of
                # https://smartcar.com/docs/api-reference/signals/tractionbattery.
                "unit": "kWhr",
            },
            at,
        ),
        SignalValue(CHARGING_STATUS, {"value": reading.status}, at),
        SignalValue(IS_CHARGING, {"value": reading.charging}, at),
        SignalValue(PLUGGED_IN, {"value": reading.plugged_in}, at),
        SignalValue(
            CHARGE_LIMITS,
            {
                "values": [{"type": "GLOBAL", "limit": reading.charge_limit, "condition": None}],
                "activeLimit": reading.charge_limit,
                "unit": "percent",
            },
            at,
        ),
        _charge_rate(reading, imperial=imperial),
        SignalValue(WATTAGE, {"value": reading.power_w, "unit": "watts"}, at),
        # signals/charge example: {"unit": "kWh", "value": 25.5}
        SignalValue(ENERGY_ADDED, {"value": reading.energy_added_kwh, "unit": "kWh"}, at),
        SignalValue(
            TIME_TO_COMPLETE, {"value": reading.minutes_to_complete, "unit": "minutes"}, at
        ),
    ]
    if "read_location" in permissions:
        heading = reading.heading % 360
        values += [
            SignalValue(
                LOCATION,
                {
                    "latitude": reading.latitude,
                    "longitude": reading.longitude,
                    "heading": heading,
                    "direction": DIRECTIONS[round(heading / 45) % 8],
                    "locationType": "LAST_PARKED",
                },
                at,
            ),
            SignalValue(AT_HOME, {"value": reading.is_at_home}, at),
        ]
    values += [
        SignalValue(ODOMETER, {"value": distance(reading.odometer_km), "unit": distance_unit}, at),
        SignalValue(VIN, {"value": reading.vin}, at),
        key_signal(vehicle, origin=origin, keyless_key_status=keyless_key_status),
        SignalValue(ONLINE, {"value": vehicle.reachable}, vehicle.flags_changed_at["reachable"]),
        SignalValue(ASLEEP, {"value": vehicle.asleep}, vehicle.flags_changed_at["asleep"]),
    ]
    return values


def _charge_rate(reading: Reading, *, imperial: bool) -> SignalValue:
    rate = reading.charge_rate_kmh / KM_PER_MILE if imperial else reading.charge_rate_kmh
    # km/h as in live payloads a third-party client published (https://github.com/wbyoung/smartcar
    # tests/fixtures/api/vw_id_4.ok.v3.json@1914a42); miles_per_hour as the example of
    # https://smartcar.com/docs/api-reference/signals/charge has it.
    body = {"value": round(rate, 1), "unit": "miles_per_hour" if imperial else "km/h"}
    if reading.charging:
        return SignalValue(CHARGE_RATE, body, reading.charge_rate_at)
    return SignalValue(CHARGE_RATE, body, reading.charge_rate_at, NOT_CHARGING, stale=True)


def key_signal(vehicle: Vehicle, *, origin: str, keyless_key_status: str) -> SignalValue:
    """Return ``connectivitystatus-isdigitalkeypaired`` for ``vehicle``.

    Without Smartcar's key (``EmulatorOptions.keyless_key_status``): ``error``, Smartcar's
    VIRTUAL_KEY_REQUIRED on the signal (documented as a command error and a VEHICLE_ERROR code,
    not as a per-signal code: https://smartcar.com/docs/help/oem-integrations/tesla/faqs,
    https://smartcar.com/docs/api-reference/webhooks/events/vehicle-error);
    ``false``; or ``true``, "a digital key has been paired" (signals/connectivitystatus), which
    the owner's phone key satisfies while the smartcar.com key is missing.
    """
    changed = vehicle.flags_changed_at["key"]
    if not (vehicle.is_tesla and vehicle.key_required):
        return SignalValue(KEY_PAIRED, None, None, NOT_CAPABLE)
    if vehicle.key_paired:
        return SignalValue(KEY_PAIRED, {"value": True}, changed)
    if keyless_key_status in ("false", "true"):
        return SignalValue(KEY_PAIRED, {"value": keyless_key_status == "true"}, changed)
    return SignalValue(KEY_PAIRED, None, changed, virtual_key_error(origin))


# Documented or plausible signal shapes the client must take (issue #12; "Partial data delivery",
# https://smartcar.com/docs/api-reference/webhooks/events/vehicle-state). Each name switches one
# on; the default (none) is the documented example shape.
SIGNAL_VARIANTS: dict[str, str] = {
    "location_only_limit": "charge-chargelimits with only a LOCATION entry and activeLimit "
    "null (signals/charge: type GLOBAL|LOCATION|CONNECTOR; activeLimit null when it cannot be "
    "determined)",
    "connector_only_limit": "charge-chargelimits with only a CONNECTOR entry (condition with a "
    "connectorType) and activeLimit null (signals/charge, as above)",
    "wattage_without_unit": "charge-wattage without a unit (signals/charge: measured in watts)",
    "range_unit_default": 'tractionbattery-range with unit "DEFAULT" (the enum '
    "signals/tractionbattery prints)",
    "soc_percentage": 'state of charge as {"percentage": N} (an older '
    "integrations/webhooks/responses example)",
    "unknown_charging_status": "a charging status Smartcar does not document (NOT documented: "
    "stands for a value Smartcar may add, issue #12)",
    "unknown_signal": "a signal code nobody has heard of, with a non-object body (NOT "
    "documented: stands for a signal Smartcar may add, issue #12)",
    "status_omitted": "successful signals without a status (webhooks/events/vehicle-state "
    "examples carry none)",
    "no_energy_added": "no charge-energyadded (signals/charge lists it, but not every make "
    "reports it: the state of charge and capacity are then all there is)",
}
FUTURE_SIGNAL = SignalDef("charge-futuresignal", "FutureSignal", "Charge")


def apply_variants(values: list[SignalValue], variants: Collection[str]) -> list[SignalValue]:
    """Reshape ``values`` as the switched-on ``variants`` say (see ``SIGNAL_VARIANTS``)."""
    result = []
    for value in values:
        if value.signal is ENERGY_ADDED and "no_energy_added" in variants:
            continue
        body = dict(value.body) if value.body is not None else None
        code = value.signal.code
        if body is not None and value.error is None:
            if code == CHARGE_LIMITS.code and "location_only_limit" in variants:
                condition = {"name": "Home", "address": None, "latitude": 0, "longitude": 0}
                body["values"] = [
                    {"type": "LOCATION", "limit": body["activeLimit"], "condition": condition}
                ]
                body["activeLimit"] = None
            elif code == CHARGE_LIMITS.code and "connector_only_limit" in variants:
                condition = {"name": None, "connectorType": "J1772"}
                body["values"] = [
                    {"type": "CONNECTOR", "limit": body["activeLimit"], "condition": condition}
                ]
                body["activeLimit"] = None
            elif code == WATTAGE.code and "wattage_without_unit" in variants:
                body.pop("unit", None)
            elif code == RANGE.code and "range_unit_default" in variants:
                body["unit"] = "DEFAULT"
            elif code == SOC.code and "soc_percentage" in variants:
                body = {"percentage": body["value"]}
            elif code == CHARGING_STATUS.code and "unknown_charging_status" in variants:
                body["value"] = "DISCHARGING"
        result.append(
            SignalValue(
                value.signal,
                body,
                value.oem_updated_at,
                value.error,
                value.stale,
                omit_status="status_omitted" in variants and value.error is None,
            )
        )
    if "unknown_signal" in variants and values:
        result.append(
            SignalValue(FUTURE_SIGNAL, {"value": 1}, values[0].oem_updated_at, shape=["odd"])
        )
    return result
