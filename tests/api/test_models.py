"""The typed models (`api/models.py`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.flexcharging.api.models import (
    ChargingStatus,
    CommandResult,
    Connection,
    Distance,
    DistanceUnit,
    KeyState,
    Signal,
    SignalStatus,
    VehicleInfo,
    VehicleState,
    WebhookInfo,
)

T0 = datetime(2026, 6, 29, 23, 55, 53, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def known(value: object, at: datetime | None = T0) -> Signal[object]:
    """A successfully reported signal."""
    return Signal(value=value, status=SignalStatus.SUCCESS, oem_updated_at=at)


def failed(code: str = "ASLEEP", status: SignalStatus = SignalStatus.ERROR) -> Signal[object]:
    """A failed signal: no value, no time."""
    return Signal(status=status, error_type="VEHICLE_STATE", error_code=code)


# --- Signal -----------------------------------------------------------------------------------


def test_signal_defaults() -> None:
    signal: Signal[int] = Signal()
    assert signal.status is SignalStatus.ABSENT
    assert signal.value is None
    assert not signal.known


def test_signal_known() -> None:
    assert known(0).known  # a falsy value is still a value
    assert known(False).known
    assert not Signal(value=None, status=SignalStatus.SUCCESS).known
    assert not Signal(value=5, status=SignalStatus.ERROR).known
    assert not failed().known


def test_newer_than() -> None:
    cases: list[tuple[Signal[object], Signal[object], bool]] = [
        (Signal(), known(1), False),  # absent never replaces
        (Signal(), Signal(), False),
        (known(1), Signal(), True),  # anything reported replaces absent
        (failed(), Signal(), True),
        (known(2, T1), known(1, T0), True),  # newer wins
        (known(2, T0), known(1, T0), True),  # same time: the later arrival
        (known(2, T0), known(1, T1), False),  # older never replaces
        (known(2, None), known(1, T1), True),  # without two times: the later arrival
        (known(2, T0), known(1, None), True),
        (failed(), known(1, T1), True),  # an error replaces (no time)
        (known(2, T0), failed(), True),
    ]
    for index, (incoming, current, expected) in enumerate(cases):
        assert incoming.newer_than(current) is expected, index


# --- VehicleInfo ------------------------------------------------------------------------------


def test_needs_virtual_key() -> None:
    cases: list[tuple[str | None, str | None, int | None, bool]] = [
        ("TESLA", "Model 3", 2019, True),
        ("Tesla", "Model Y", 2024, True),
        ("tesla", "model 3", None, True),
        ("TESLA", "Cybertruck", 2024, True),
        ("TESLA", "Model S", 2020, False),
        ("TESLA", "Model S", 2014, False),
        ("TESLA", "Model X", 2020, False),
        ("TESLA", "MODEL X", 2019, False),
        ("TESLA", "Model S", 2021, True),
        ("TESLA", "Model X", 2023, True),
        ("TESLA", "S", 2018, False),
        ("TESLA", "Model S", None, True),  # year unknown: assume it is needed
        ("TESLA", None, 2015, True),  # model unknown: assume it is needed
        ("VOLKSWAGEN", "ID.4", 2023, False),
        ("Toyota", "Camry", 2020, False),
        (None, "Model 3", 2023, False),
    ]
    for make, model, year, expected in cases:
        vehicle = VehicleInfo(vehicle_id="v", make=make, model=model, year=year)
        assert vehicle.needs_virtual_key is expected, (make, model, year)
        assert vehicle.is_tesla is ((make or "").upper() == "TESLA")


def test_display_name() -> None:
    cases: list[tuple[str | None, str | None, int | None, str]] = [
        ("TESLA", "Model 3", 2023, "2023 Tesla Model 3"),
        ("VOLKSWAGEN", "ID.4", None, "Volkswagen ID.4"),
        (None, "Camry", 2020, "2020 Camry"),
        ("Toyota", None, None, "Toyota"),
        (None, None, None, "vehicle-123"),
        ("", "", 0, "vehicle-123"),
    ]
    for make, model, year, expected in cases:
        vehicle = VehicleInfo(vehicle_id="vehicle-123", make=make, model=model, year=year)
        assert vehicle.display_name == expected


# --- VehicleState -----------------------------------------------------------------------------


def test_empty_state() -> None:
    state = VehicleState()
    assert state.is_empty
    assert not VehicleState(vin=failed("VEHICLE_NOT_CAPABLE")).is_empty
    assert not VehicleState(battery_level=known(50.0)).is_empty


def test_merged_with_newer_wins_per_signal() -> None:
    stored = VehicleState(battery_level=known(50.0, T1), plugged_in=known(False, T0))
    update = VehicleState(battery_level=known(40.0, T0), plugged_in=known(True, T1))
    merged = stored.merged_with(update)
    assert merged.battery_level.value == 50.0  # older never overwrites
    assert merged.plugged_in.value is True  # newer wins
    assert merged.plugged_in.oem_updated_at == T1


def test_merged_with_absent_never_overwrites() -> None:
    stored = VehicleState(
        battery_level=known(50.0, T0), charging_status=known(ChargingStatus.CHARGING)
    )
    update = VehicleState(charge_limit=known(80, T1))
    merged = stored.merged_with(update)
    assert merged.battery_level == stored.battery_level
    assert merged.charging_status == stored.charging_status
    assert merged.charge_limit.value == 80


def test_merged_with_error_replaces_value() -> None:
    stored = VehicleState(charge_power=known(7.2, T0))
    merged = stored.merged_with(VehicleState(charge_power=failed("NOT_CHARGING")))
    assert not merged.charge_power.known
    assert merged.charge_power.error_code == "NOT_CHARGING"


def test_merged_with_nothing_new_is_the_same_object() -> None:
    stored = VehicleState(battery_level=known(50.0, T1))
    assert stored.merged_with(VehicleState()) is stored
    assert stored.merged_with(VehicleState(battery_level=known(1.0, T0))) is stored
    assert VehicleState().merged_with(VehicleState()) == VehicleState()


def test_merged_with_into_empty() -> None:
    update = VehicleState(vin=known("VIN", None))
    assert VehicleState().merged_with(update) == update


TESLA_3 = VehicleInfo(vehicle_id="v", make="TESLA", model="Model 3", year=2023)
OLD_S = VehicleInfo(vehicle_id="v", make="TESLA", model="Model S", year=2015)
VW = VehicleInfo(vehicle_id="v", make="VOLKSWAGEN", model="ID.4", year=2023)


def test_key_state() -> None:
    cases: list[tuple[VehicleInfo, Signal[Any], KeyState]] = [
        (VW, known(True), KeyState.NOT_REQUIRED),
        (VW, failed("VEHICLE_NOT_CAPABLE"), KeyState.NOT_REQUIRED),
        (OLD_S, known(False), KeyState.NOT_REQUIRED),
        # "A digital key has been paired" may be the phone key: a hint, not Smartcar's key.
        (TESLA_3, known(True), KeyState.UNCONFIRMED),
        (TESLA_3, known(False), KeyState.MISSING),
        (TESLA_3, failed("VIRTUAL_KEY_REQUIRED"), KeyState.MISSING),
        (TESLA_3, failed("UNREACHABLE"), KeyState.UNKNOWN),
        (TESLA_3, failed("ASLEEP", SignalStatus.UNAVAILABLE), KeyState.UNKNOWN),
        (TESLA_3, Signal(), KeyState.UNKNOWN),
    ]
    for vehicle, key_paired, expected in cases:
        state = VehicleState(key_paired=key_paired)
        assert state.key_state(vehicle) is expected, (vehicle.model, key_paired)


# --- plain records ------------------------------------------------------------------------------


def test_records() -> None:
    connection = Connection(connection_id="c", user_id="u", vehicle=VW)
    assert connection.permissions == frozenset()
    assert CommandResult(command_id=None, status="SUCCESS").status == "SUCCESS"
    assert WebhookInfo(webhook_id="w").callback_uri is None
    assert Distance(1.0, DistanceUnit.KILOMETERS) == Distance(1, DistanceUnit("km"))
    assert KeyState.PAIRED == "paired"
    with pytest.raises(AttributeError):
        VW.make = "TESLA"  # type: ignore[misc]
