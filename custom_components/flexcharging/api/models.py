"""Typed models of what Smartcar tells about the user's vehicles."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Self


class ChargingStatus(StrEnum):
    """Smartcar's `charge-detailedchargingstatus`."""

    CHARGING = "CHARGING"
    NOT_CHARGING = "NOT_CHARGING"
    FULLY_CHARGED = "FULLY_CHARGED"


class KeyState(StrEnum):
    """Whether the smartcar.com virtual key lets Smartcar control the vehicle."""

    PAIRED = "paired"
    MISSING = "missing"
    # The car reports a digital key (connectivitystatus-isdigitalkeypaired: "a digital key has
    # been paired", perhaps the owner's phone key); Smartcar has not confirmed its own.
    UNCONFIRMED = "unconfirmed"
    NOT_REQUIRED = "not_required"
    UNKNOWN = "unknown"


class DistanceUnit(StrEnum):
    """Units Smartcar reports distances in."""

    KILOMETERS = "km"
    MILES = "mi"


class SignalStatus(StrEnum):
    """Whether a signal carried a value."""

    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    UNAVAILABLE = "UNAVAILABLE"
    INVALID = "INVALID"  # reported, but its body could not be read (see `reason`)
    ABSENT = "ABSENT"  # not in the response at all


@dataclass(frozen=True, slots=True)
class Distance:
    """A distance with its unit."""

    value: float
    unit: DistanceUnit


@dataclass(frozen=True, slots=True)
class Location:
    """A vehicle's position."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Signal[T]:
    """One signal: its value when Smartcar reported it successfully, and how fresh it is.

    A signal whose status is not SUCCESS has no value (its stale body is never used); its error
    type and code say why, or `reason` when its body could not be read. A SUCCESS without a
    value is one the vehicle could not determine (a charge limit without a global entry).
    """

    value: T | None = None
    status: SignalStatus = SignalStatus.ABSENT
    oem_updated_at: datetime | None = None
    error_type: str | None = None
    error_code: str | None = None
    reason: str | None = None

    @property
    def known(self) -> bool:
        """Whether the signal carries a value."""
        return self.status is SignalStatus.SUCCESS and self.value is not None

    def newer_than(self, other: Signal[Any]) -> bool:
        """Whether this signal should replace `other` when both describe the same thing."""
        if self.status is SignalStatus.ABSENT:
            return False
        if other.status is SignalStatus.ABSENT:
            return True
        if self.oem_updated_at is None or other.oem_updated_at is None:
            # Without two timestamps the later arrival wins.
            return True
        return self.oem_updated_at >= other.oem_updated_at


@dataclass(frozen=True, slots=True)
class SignalProblem:
    """A signal of a report that could not be read: it is unknown, the rest of the report is used."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleInfo:
    """What a vehicle is."""

    vehicle_id: str
    make: str | None = None
    model: str | None = None
    year: int | None = None
    powertrain_type: str | None = None
    mode: str | None = None
    name: str | None = None  # the user's name for it (a vehicle from another integration)

    @property
    def is_tesla(self) -> bool:
        """Whether Smartcar reaches this vehicle through Tesla (and so needs the virtual key)."""
        return (self.make or "").upper() == "TESLA"

    @property
    def needs_virtual_key(self) -> bool:
        """Whether Smartcar needs the smartcar.com virtual key to control this vehicle.

        Tesla requires it for every Model 3, Model Y and Cybertruck and for Model S and X from
        2021 on; earlier Model S and X take commands without one.
        """
        if not self.is_tesla:
            return False
        words = (self.model or "").upper().replace("MODEL", " ").split()
        series = words[0] if words else ""
        return not (series in ("S", "X") and self.year is not None and self.year <= 2020)

    @property
    def display_name(self) -> str:
        """A name for people: its own name, else "2023 Tesla Model 3"."""
        if self.name:
            return self.name
        make = (self.make or "").title() if self.make else None
        parts = [str(self.year) if self.year else None, make, self.model]
        return " ".join(part for part in parts if part) or self.vehicle_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """A vehicle the user connected to the application through Smartcar Connect."""

    connection_id: str
    user_id: str
    vehicle: VehicleInfo
    permissions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleState:
    """The charging-related state of one vehicle, signal by signal."""

    battery_level: Signal[float] = field(default_factory=Signal)
    range: Signal[Distance] = field(default_factory=Signal)
    charging_status: Signal[ChargingStatus] = field(default_factory=Signal)
    is_charging: Signal[bool] = field(default_factory=Signal)
    plugged_in: Signal[bool] = field(default_factory=Signal)
    charge_limit: Signal[int] = field(default_factory=Signal)
    charge_power: Signal[float] = field(default_factory=Signal)
    # kWh delivered in the car's current or most recent charging session (its own counter).
    energy_added: Signal[float] = field(default_factory=Signal)
    battery_capacity: Signal[float] = field(default_factory=Signal)
    key_paired: Signal[bool] = field(default_factory=Signal)
    vin: Signal[str] = field(default_factory=Signal)
    location: Signal[Location] = field(default_factory=Signal)
    is_at_home: Signal[bool] = field(default_factory=Signal)
    # The signals of this one report that could not be read (merges do not carry them).
    problems: tuple[SignalProblem, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether no signal at all was reported (the vehicle's signal store is empty)."""
        return not self.problems and all(
            getattr(self, name).status is SignalStatus.ABSENT for name in _SIGNAL_NAMES
        )

    def merged_with(self, newer: VehicleState) -> Self:
        """Combine with a later report: per signal, the fresher one wins (by `oemUpdatedAt`)."""
        changes = {
            name: incoming
            for name in _SIGNAL_NAMES
            if (incoming := getattr(newer, name)).newer_than(getattr(self, name))
        }
        return replace(self, **changes) if changes else self

    def key_state(self, vehicle: VehicleInfo) -> KeyState:
        """What the key signal says of the smartcar.com key: a hint only, never PAIRED.

        `isdigitalkeypaired` is documented as "a digital key has been paired", which may be
        the owner's phone key: true is UNCONFIRMED; false (no digital key at all) or Smartcar's
        own VIRTUAL_KEY_REQUIRED on the signal is MISSING.
        """
        if not vehicle.needs_virtual_key:
            return KeyState.NOT_REQUIRED
        signal = self.key_paired
        if signal.error_code == "VIRTUAL_KEY_REQUIRED":
            return KeyState.MISSING
        if signal.known:
            return KeyState.UNCONFIRMED if signal.value else KeyState.MISSING
        return KeyState.UNKNOWN


_SIGNAL_NAMES = tuple(item.name for item in fields(VehicleState) if item.name != "problems")


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    """The outcome of a charging command Smartcar accepted."""

    command_id: str | None
    status: str

    @property
    def done(self) -> bool:
        """Carried out (SUCCESS); otherwise only accepted (PENDING, IN_PROGRESS)."""
        return self.status == "SUCCESS"


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookInfo:
    """A webhook of the application, as the management API describes it."""

    webhook_id: str
    name: str | None = None
    callback_uri: str | None = None
    is_enabled: bool | None = None  # None: not reported
    # Where VEHICLE_ERROR events go when set; unset, they go to `callback_uri`.
    error_callback_uri: str | None = None
