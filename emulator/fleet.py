"""The vehicle model: physical state, charging physics and what the OEM last reported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import math
from typing import Any
import uuid

from emulator.clock import iso

DEFAULT_USER_ID = "0f4b9c1e-5a8d-4e2f-9b3a-7c6d5e4f3a21"
MODEL_3_ID = "a1000000-0000-4000-8000-000000000001"
MODEL_Y_ID = "a1000000-0000-4000-8000-000000000002"
MODEL_S_ID = "a1000000-0000-4000-8000-000000000003"
ID4_ID = "a1000000-0000-4000-8000-000000000004"

HOME_LATITUDE = 52.3702
HOME_LONGITUDE = 4.8952
AWAY_DISTANCE_DEG = 0.005  # about 500 m: closer than this counts as "at home"

KM_PER_MILE = 1.609344
STATUS_CHARGING = "CHARGING"
STATUS_NOT_CHARGING = "NOT_CHARGING"
STATUS_FULLY_CHARGED = "FULLY_CHARGED"


@dataclass(frozen=True, slots=True)
class Reading:
    """One report of the vehicle's values, as Smartcar's store last received it."""

    at: datetime
    soc: int
    range_km: float
    plugged_in: bool
    charging: bool
    status: str
    charge_limit: int
    capacity_kwh: float
    power_w: int
    energy_added_kwh: float
    charge_rate_kmh: float
    charge_rate_at: datetime
    minutes_to_complete: int
    latitude: float
    longitude: float
    heading: int
    is_at_home: bool
    odometer_km: float
    vin: str


@dataclass(slots=True)
class User:
    """A Smartcar user: one connected-services account."""

    id: str
    name: str

    def as_dict(self) -> dict[str, Any]:
        """Describe the user for the admin API."""
        return {"id": self.id, "name": self.name}


@dataclass(slots=True)
class Vehicle:
    """A simulated vehicle.

    Physical fields are the truth; ``reading`` is what Smartcar last received from
    the OEM. The state object decides when a new reading is taken.
    """

    id: str
    user_id: str
    make: str
    model: str
    year: int
    vin: str
    created_at: datetime
    powertrain: str = "BEV"
    key_required: bool = False
    key_paired: bool = False
    soc: float = 50.0
    capacity_kwh: float = 75.0
    charge_power_kw: float = 11.0
    efficiency_km_per_kwh: float = 6.5
    plugged_in: bool = False
    charging: bool = False
    charge_limit: int = 80
    asleep: bool = False
    # Smartcar wakes an asleep car for a command, but may answer 409 VEHICLE_STATE/ASLEEP, "The
    # vehicle is asleep and did not wake up in time"
    # (https://smartcar.com/docs/errors/api-errors/vehicle-state-errors). Both variants: False
    # makes a command to an asleep car wake it but fail; the next command works.
    wakes_in_time: bool = True
    reachable: bool = True
    latitude: float = HOME_LATITUDE
    longitude: float = HOME_LONGITUDE
    heading: int = 90
    home_latitude: float = HOME_LATITUDE
    home_longitude: float = HOME_LONGITUDE
    odometer_km: float = 12000.0
    unit: str = "metric"
    # The car's counter of its charging session (signals/charge `charge-energyadded`: "during the
    # current or most recent charging session"); it restarts at plug-in, as Tesla's does.
    energy_added_kwh: float = 0.0
    simulated_at: datetime = field(init=False)
    reading: Reading | None = field(init=False, default=None)
    # Ground truth for the tests and benchmarks: each stretch charged, as (start, end, kWh).
    ledger: list[tuple[datetime, datetime, float]] = field(init=False, default_factory=list)
    polled_at: datetime = field(init=False)
    flags_changed_at: dict[str, datetime] = field(init=False)

    def __post_init__(self) -> None:
        """Start the simulation at creation time."""
        self.simulated_at = self.created_at
        self.polled_at = self.created_at
        self.flags_changed_at = dict.fromkeys(("key", "asleep", "reachable"), self.created_at)

    @property
    def is_tesla(self) -> bool:
        """Whether the vehicle is a Tesla."""
        return self.make == "TESLA"

    @property
    def keyless(self) -> bool:
        """Whether the vehicle needs Smartcar's virtual key and lacks it."""
        return self.key_required and not self.key_paired

    @property
    def is_at_home(self) -> bool:
        """Whether the vehicle is near its home location."""
        return (
            abs(self.latitude - self.home_latitude) < AWAY_DISTANCE_DEG
            and abs(self.longitude - self.home_longitude) < AWAY_DISTANCE_DEG
        )

    @property
    def charge_rate_kmh(self) -> float:
        """Range added per hour while charging."""
        return round(self.charge_power_kw * self.efficiency_km_per_kwh, 1)

    def status(self) -> str:
        """Return the detailed charging status."""
        if self.charging:
            return STATUS_CHARGING
        if self.plugged_in and self.soc >= self.charge_limit - 0.5:
            return STATUS_FULLY_CHARGED
        return STATUS_NOT_CHARGING

    def simulate(self, until: datetime) -> datetime | None:
        """Run the charging physics up to ``until``.

        Returns:
            The moment charging reached the limit, if it did in this interval.
        """
        start = self.simulated_at
        if until <= start:
            return None
        self.simulated_at = until
        if not (self.charging and self.plugged_in):
            self.charging = False
            return None
        percent_per_hour = self.charge_power_kw / self.capacity_kwh * 100.0
        hours = (until - start).total_seconds() / 3600.0
        needed = max(0.0, (self.charge_limit - self.soc) / percent_per_hour)
        if hours < needed:
            self.soc += percent_per_hour * hours
            self._charged(start, until, self.charge_power_kw * hours)
            return None
        finished = start + timedelta(hours=needed)
        self._charged(start, finished, self.charge_power_kw * needed)
        self.soc = float(self.charge_limit)
        self.charging = False
        return finished

    def _charged(self, start: datetime, end: datetime, kwh: float) -> None:
        """Count energy into the car's counter and the ledger (a stretch continued is one)."""
        self.energy_added_kwh += kwh
        if end <= start:
            return
        if self.ledger:
            last_start, last_end, last_kwh = self.ledger[-1]
            same_power = abs(last_kwh / _hours(last_start, last_end) - kwh / _hours(start, end))
            if last_end == start and same_power < 1e-9:
                self.ledger[-1] = (last_start, end, last_kwh + kwh)
                return
        self.ledger.append((start, end, kwh))

    def take_reading(self, at: datetime) -> Reading:
        """Capture the current physical values as a report made at ``at``."""
        previous = self.reading
        if self.charging or previous is None:
            rate, rate_at = self.charge_rate_kmh, at
            if previous is None and not self.charging:
                rate_at = at - timedelta(days=1)
        else:
            rate, rate_at = previous.charge_rate_kmh, previous.charge_rate_at
        remaining_h = 0.0
        if self.charging:
            percent_per_hour = self.charge_power_kw / self.capacity_kwh * 100.0
            remaining_h = max(0.0, self.charge_limit - self.soc) / percent_per_hour
        full_range = self.capacity_kwh * self.efficiency_km_per_kwh
        return Reading(
            at=at,
            soc=round(self.soc),
            range_km=round(full_range * self.soc / 100.0, 1),
            plugged_in=self.plugged_in,
            charging=self.charging,
            status=self.status(),
            charge_limit=self.charge_limit,
            capacity_kwh=self.capacity_kwh,
            power_w=round(self.charge_power_kw * 1000) if self.charging else 0,
            energy_added_kwh=round(self.energy_added_kwh, 3),
            charge_rate_kmh=rate,
            charge_rate_at=rate_at,
            minutes_to_complete=math.ceil(remaining_h * 60),
            latitude=self.latitude,
            longitude=self.longitude,
            heading=self.heading,
            is_at_home=self.is_at_home,
            odometer_km=round(self.odometer_km, 1),
            vin=self.vin,
        )

    def attributes(self, mode: str = "live") -> dict[str, Any]:
        """Return the v3 vehicle attributes."""
        return {
            "make": self.make,
            "model": self.model,
            "year": self.year,
            "powertrainType": self.powertrain,
            "mode": mode,
        }

    def title(self) -> str:
        """Return a human-readable name, e.g. ``2023 Tesla Model 3``."""
        return f"{self.year} {self.make.title()} {self.model}"

    def as_dict(self) -> dict[str, Any]:
        """Describe the vehicle (truth and last reading) for the admin API."""
        reading = self.reading
        return {
            "id": self.id,
            "user_id": self.user_id,
            "make": self.make,
            "model": self.model,
            "year": self.year,
            "vin": self.vin,
            "powertrain": self.powertrain,
            "key_required": self.key_required,
            "key_paired": self.key_paired,
            "soc": round(self.soc, 3),
            "capacity_kwh": self.capacity_kwh,
            "charge_power_kw": self.charge_power_kw,
            "energy_added_kwh": round(self.energy_added_kwh, 3),
            "range_km": round(self.capacity_kwh * self.efficiency_km_per_kwh * self.soc / 100, 1),
            "plugged_in": self.plugged_in,
            "charging": self.charging,
            "status": self.status(),
            "charge_limit": self.charge_limit,
            "asleep": self.asleep,
            "wakes_in_time": self.wakes_in_time,
            "reachable": self.reachable,
            "location": {"latitude": self.latitude, "longitude": self.longitude},
            "home": {"latitude": self.home_latitude, "longitude": self.home_longitude},
            "is_at_home": self.is_at_home,
            "odometer_km": self.odometer_km,
            "unit": self.unit,
            "reading": _reading_dict(reading) if reading else None,
        }


def _hours(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 1e-9) / 3600.0


def ledger_cost(
    ledger: list[tuple[datetime, datetime, float]],
    prices: list[tuple[datetime, datetime, float]],
    start: datetime,
    end: datetime,
) -> tuple[float, float]:
    """The energy charged from ``start`` to ``end`` and its cost at ``prices`` (start, end, price).

    Each ledger stretch is at one power: its energy is spread evenly over its time.
    """
    energy = cost = 0.0
    for piece_start, piece_end, kwh in ledger:
        lo, hi = max(piece_start, start), min(piece_end, end)
        if hi <= lo:
            continue
        per_hour = kwh / _hours(piece_start, piece_end)
        energy += per_hour * _hours(lo, hi)
        for slot_start, slot_end, price in prices:
            a, b = max(lo, slot_start), min(hi, slot_end)
            if b > a:
                cost += per_hour * _hours(a, b) * price
    return energy, cost


def _reading_dict(reading: Reading) -> dict[str, Any]:
    return {
        "at": iso(reading.at),
        "soc": reading.soc,
        "range_km": reading.range_km,
        "plugged_in": reading.plugged_in,
        "charging": reading.charging,
        "status": reading.status,
        "charge_limit": reading.charge_limit,
    }


# Fields the admin API may set on a vehicle, with their types.
SETTABLE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "plugged_in": bool,
    "charging": bool,
    "soc": (int, float),
    "charge_limit": int,
    "asleep": bool,
    "wakes_in_time": bool,
    "reachable": bool,
    "key_paired": bool,
    "capacity_kwh": (int, float),
    "charge_power_kw": (int, float),
    "efficiency_km_per_kwh": (int, float),
    "odometer_km": (int, float),
    "heading": int,
    "unit": str,
}

# Extra fields accepted when creating a vehicle.
CREATE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "make": str,
    "model": str,
    "year": int,
    "vin": str,
    "powertrain": str,
    "key_required": bool,
}


def check_fields(
    changes: Mapping[str, Any], allowed: Mapping[str, type | tuple[type, ...]]
) -> list[str]:
    """Return problems with ``changes`` (unknown fields, wrong types, bad ranges)."""
    problems: list[str] = []
    for name, value in changes.items():
        if name in ("location", "home"):
            if not _is_point(value):
                problems.append(f"{name} must be {{'latitude': number, 'longitude': number}}")
            continue
        expected = allowed.get(name)
        if expected is None:
            problems.append(f"unknown field {name!r}")
        elif (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
            problems.append(f"{name} has the wrong type")
    if isinstance(soc := changes.get("soc"), (int, float)) and not 0 <= soc <= 100:
        problems.append("soc must be 0-100")
    if isinstance(limit := changes.get("charge_limit"), int) and not 50 <= limit <= 100:
        problems.append("charge_limit must be 50-100")
    if changes.get("unit", "metric") not in ("metric", "imperial"):
        problems.append("unit must be 'metric' or 'imperial'")
    problems.extend(
        f"{name} must be positive"
        for name in ("capacity_kwh", "charge_power_kw", "efficiency_km_per_kwh")
        if isinstance(value := changes.get(name), (int, float)) and value <= 0
    )
    return problems


def _is_point(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    return all(
        isinstance(value.get(key), (int, float)) and not isinstance(value.get(key), bool)
        for key in ("latitude", "longitude")
    )


def apply_fields(vehicle: Vehicle, changes: Mapping[str, Any]) -> None:
    """Apply already checked ``changes`` to ``vehicle`` (no side effects beyond fields)."""
    for name, value in changes.items():
        if name == "location":
            vehicle.latitude = float(value["latitude"])
            vehicle.longitude = float(value["longitude"])
        elif name == "home":
            vehicle.home_latitude = float(value["latitude"])
            vehicle.home_longitude = float(value["longitude"])
        elif name == "plugged_in":
            if value and not vehicle.plugged_in:
                vehicle.energy_added_kwh = 0.0  # a new charging session
            vehicle.plugged_in = value
        elif name in ("soc", "capacity_kwh", "charge_power_kw", "efficiency_km_per_kwh"):
            setattr(vehicle, name, float(value))
        else:
            setattr(vehicle, name, value)


def new_vehicle(user_id: str, spec: Mapping[str, Any], now: datetime) -> Vehicle:
    """Build a vehicle from an admin spec (already checked)."""
    base = {k: v for k, v in spec.items() if k in CREATE_FIELDS}
    vehicle = Vehicle(
        id=str(base.pop("id", None) or uuid.uuid4()),
        user_id=user_id,
        make=str(base.pop("make", "TESLA")).upper(),
        model=str(base.pop("model", "Model 3")),
        year=int(base.pop("year", 2024)),
        vin=str(base.pop("vin", None) or _random_vin()),
        created_at=now,
        **base,
    )
    if vehicle.key_required and "key_paired" not in spec:
        vehicle.key_paired = True
    apply_fields(vehicle, {k: v for k, v in spec.items() if k not in CREATE_FIELDS})
    return vehicle


def _random_vin() -> str:
    return "EMU" + uuid.uuid4().hex[:14].upper()


def default_fleet(now: datetime) -> list[Vehicle]:
    """Return the four default vehicles, owned by the default user."""
    base = Vehicle(
        id="",
        user_id=DEFAULT_USER_ID,
        make="TESLA",
        model="",
        year=0,
        vin="",
        created_at=now,
    )
    return [
        _fresh(
            base,
            id=MODEL_3_ID,
            model="Model 3",
            year=2023,
            vin="5YJ3E1EA7PF000001",
            key_required=True,
            key_paired=False,
            soc=48.0,
            capacity_kwh=60.0,
            charge_power_kw=11.0,
            efficiency_km_per_kwh=7.0,
            plugged_in=True,
        ),
        _fresh(
            base,
            id=MODEL_Y_ID,
            model="Model Y",
            year=2024,
            vin="7SAYGDEE5RF000002",
            key_required=True,
            key_paired=True,
            soc=62.0,
            capacity_kwh=75.0,
            charge_power_kw=11.0,
            efficiency_km_per_kwh=6.4,
            plugged_in=True,
        ),
        _fresh(
            base,
            id=MODEL_S_ID,
            model="Model S",
            year=2019,
            vin="5YJSA1E26KF000003",
            soc=71.0,
            capacity_kwh=100.0,
            charge_power_kw=16.5,
            efficiency_km_per_kwh=6.0,
            charge_limit=90,
            latitude=HOME_LATITUDE + 0.05,
        ),
        _fresh(
            base,
            id=ID4_ID,
            make="VOLKSWAGEN",
            model="ID.4",
            year=2023,
            vin="WVGZZZE2ZPP000004",
            soc=35.0,
            capacity_kwh=77.0,
            charge_power_kw=11.0,
            efficiency_km_per_kwh=5.3,
            plugged_in=True,
            charge_limit=80,
        ),
    ]


def _fresh(base: Vehicle, **fields: Any) -> Vehicle:
    vehicle = replace(base, **fields)
    vehicle.reading = None
    return vehicle
