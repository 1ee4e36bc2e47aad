"""One-off trips: the Next departure entity and the plan_trip / clear_trip actions, end to end.

The fixtures (`smart`, `smart_entry`, `advance`) are smart charging's, shared by the conftest.

The clock is frozen at 2026-06-10 09:30 UTC, 02:30 on a Wednesday in US/Pacific; the weekly
schedule's next departure is then Wednesday 07:00 (14:00 UTC).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.components.datetime import (
    ATTR_DATETIME,
    DOMAIN as DATETIME_DOMAIN,
    SERVICE_SET_VALUE as SET_DATETIME,
)
from homeassistant.components.number import ATTR_VALUE, DOMAIN as NUMBER_DOMAIN, SERVICE_SET_VALUE
from homeassistant.const import CONF_DEVICE_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.flexcharging.const import DOMAIN
from custom_components.flexcharging.smart_charging import SmartChargingManager
from custom_components.flexcharging.smart_charging.model import Trip
from emulator import MODEL_Y_ID
from tests.common import Emulator
from tests.test_smart_charging import (
    NEXT_START,
    STATUS,
    TARGET,
    VEHICLE,
    Advance,
    advance_to,
    call,
    manage,
    state_of,
)

NEXT_DEPARTURE = f"datetime.{VEHICLE}_next_departure"
SCHEDULED = "2026-06-10T14:00:00+00:00"  # Wednesday 07:00 local
SATURDAY_0630 = datetime(2026, 6, 13, 13, 30, tzinfo=UTC)


def vehicle_device(hass: HomeAssistant) -> str:
    """The Model Y's device id."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, MODEL_Y_ID), entry.entry_id)
    assert device is not None
    return device.id


async def plan_trip(hass: HomeAssistant, **data: Any) -> None:
    """Call flexcharging.plan_trip and wait for what follows."""
    await hass.services.async_call(DOMAIN, "plan_trip", data, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)


def attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """An entity's attributes (it must exist)."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return dict(state.attributes)


async def test_next_departure_shows_the_schedule_and_sets_a_trip(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """The entity shows the schedule's next departure; setting it plans a trip that beats it."""
    await manage(hass, target=75)
    assert state_of(hass, NEXT_DEPARTURE) == SCHEDULED
    assert attributes(hass, NEXT_DEPARTURE)["source"] == "schedule"
    assert attributes(hass, STATUS)["ready_by"] == datetime.fromisoformat(SCHEDULED)

    # Saturday 06:30 local, written in local time: it replaces Wednesday to Friday's departures.
    await call(
        hass,
        DATETIME_DOMAIN,
        SET_DATETIME,
        NEXT_DEPARTURE,
        **{ATTR_DATETIME: "2026-06-13T06:30:00-07:00"},
    )
    assert state_of(hass, NEXT_DEPARTURE) == SATURDAY_0630.isoformat()
    assert attributes(hass, NEXT_DEPARTURE)["source"] == "trip"
    assert attributes(hass, NEXT_DEPARTURE)["target"] == 75
    assert attributes(hass, STATUS)["ready_by"] == SATURDAY_0630
    assert smart.vehicle(MODEL_Y_ID).settings.trip == Trip(at=SATURDAY_0630)


async def test_plan_trip_with_a_target_and_clear_it(
    hass: HomeAssistant, smart: SmartChargingManager, smart_entry: MockConfigEntry
) -> None:
    """plan_trip sets the departure and its own target; clear_trip brings the schedule back."""
    await manage(hass, target=75)
    device_id = vehicle_device(hass)
    await plan_trip(
        hass, **{CONF_DEVICE_ID: device_id, "departure": "2026-06-13 06:30:00", "target": 95}
    )
    # A time without zone is Home Assistant's.
    assert state_of(hass, NEXT_DEPARTURE) == SATURDAY_0630.isoformat()
    assert attributes(hass, NEXT_DEPARTURE)["target"] == 95
    assert smart.vehicle(MODEL_Y_ID).departure is not None
    assert smart.vehicle(MODEL_Y_ID).departure.target == 95  # type: ignore[union-attr]
    # The general target is left alone.
    assert state_of(hass, TARGET) == "75"

    # Kept over a restart.
    assert await hass.config_entries.async_reload(smart_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, NEXT_DEPARTURE) == SATURDAY_0630.isoformat()

    await hass.services.async_call(DOMAIN, "clear_trip", {CONF_DEVICE_ID: device_id}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, NEXT_DEPARTURE) == SCHEDULED
    assert attributes(hass, NEXT_DEPARTURE)["source"] == "schedule"
    assert smart_entry.runtime_data.smart_charging.vehicle(MODEL_Y_ID).settings.trip is None


@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param({"departure": "2026-06-10 02:00:00"}, "departure_in_past", id="past"),
        pytest.param(
            {"departure": "2026-06-13 06:30:00", "target": 101}, "invalid_trip_target", id="101"
        ),
        pytest.param(
            {"departure": "2026-06-13 06:30:00", "target": 5}, "invalid_trip_target", id="5"
        ),
        pytest.param(
            {"departure": "2026-06-13 06:30:00", "target": 90.5},
            "invalid_trip_target",
            id="fraction",
        ),
    ],
)
async def test_invalid_trips_are_refused(
    hass: HomeAssistant, smart: SmartChargingManager, data: dict[str, Any], key: str
) -> None:
    """A past time or a target out of range: a translated error, and nothing changes."""
    with pytest.raises(ServiceValidationError) as err:
        await plan_trip(hass, **{CONF_DEVICE_ID: vehicle_device(hass), **data})
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert smart.vehicle(MODEL_Y_ID).settings.trip is None
    assert state_of(hass, NEXT_DEPARTURE) == SCHEDULED


async def test_setting_the_entity_in_the_past_is_refused(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """The entity refuses a departure that has passed, with the same translated error."""
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            DATETIME_DOMAIN,
            SET_DATETIME,
            NEXT_DEPARTURE,
            **{ATTR_DATETIME: "2026-06-09T06:30:00-07:00"},
        )
    assert err.value.translation_key == "departure_in_past"
    assert state_of(hass, NEXT_DEPARTURE) == SCHEDULED


async def test_unknown_vehicles_are_refused(
    hass: HomeAssistant,
    smart: SmartChargingManager,
    smart_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A device that is no vehicle of ours: a translated error."""
    data = {"departure": "2026-06-13 06:30:00"}
    with pytest.raises(ServiceValidationError) as err:
        await plan_trip(hass, **{CONF_DEVICE_ID: "no-such-device", **data})
    assert err.value.translation_key == "service_device_not_found"

    # The entry's own webhook device is ours, but not a vehicle.
    webhook = next(
        device
        for device in dr.async_entries_for_config_entry(device_registry, smart_entry.entry_id)
        if not any(identifier[1] in smart.coordinator.data for identifier in device.identifiers)
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "clear_trip", {CONF_DEVICE_ID: webhook.id}, blocking=True
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "not_a_vehicle"

    # No vehicle at all, or an entity that is not ours.
    with pytest.raises(ServiceValidationError) as err:
        await plan_trip(hass, **data)
    assert err.value.translation_key == "vehicle_missing"
    with pytest.raises(ServiceValidationError) as err:
        await plan_trip(hass, entity_id="sensor.electricity_price", **data)
    assert err.value.translation_key == "not_a_vehicle"
    assert err.value.translation_placeholders == {"device": "sensor.electricity_price"}
    assert smart.vehicle(MODEL_Y_ID).settings.trip is None


async def test_the_vehicle_by_one_of_its_entities(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """Any entity of the vehicle names it, as its device does."""
    await plan_trip(hass, entity_id=NEXT_DEPARTURE, departure="2026-06-13 06:30:00", target=90)
    assert smart.vehicle(MODEL_Y_ID).settings.trip == Trip(at=SATURDAY_0630, target=90)
    await hass.services.async_call(
        DOMAIN, "clear_trip", {"entity_id": f"number.{VEHICLE}_target_charge"}, blocking=True
    )
    assert smart.vehicle(MODEL_Y_ID).settings.trip is None


async def test_a_passed_trip_gives_way_to_the_schedule(
    hass: HomeAssistant, smart: SmartChargingManager, advance: Advance
) -> None:
    """Once the trip has left, it is dropped and the weekly schedule plans again."""
    await manage(hass, target=75)
    trip_at = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)  # 04:00 local, before 07:00
    await plan_trip(
        hass, **{CONF_DEVICE_ID: vehicle_device(hass), "departure": trip_at.isoformat()}
    )
    assert attributes(hass, STATUS)["ready_by"] == trip_at
    await advance_to(advance, trip_at + timedelta(minutes=16))  # the quarter-hourly re-plan
    assert smart.vehicle(MODEL_Y_ID).settings.trip is None
    assert state_of(hass, NEXT_DEPARTURE) == SCHEDULED
    assert attributes(hass, STATUS)["ready_by"] == datetime.fromisoformat(SCHEDULED)


async def test_trip_with_its_own_target_plans_for_it(
    hass: HomeAssistant, smart: SmartChargingManager
) -> None:
    """The trip's target is what the plan charges to, by the trip's time."""
    await manage(hass, target=65)  # the car is at 62 %
    # Wednesday 07:00 needs little; a trip at 04:00 to 100 % needs more than the time left.
    assert attributes(hass, STATUS)["ready_by"] == datetime.fromisoformat(SCHEDULED)
    await plan_trip(
        hass,
        **{
            CONF_DEVICE_ID: vehicle_device(hass),
            "departure": "2026-06-10T11:00:00+00:00",
            "target": 100,
        },
    )
    assert state_of(hass, NEXT_START) == "2026-06-10T09:30:00+00:00"  # at once: not enough time
    await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, TARGET, **{ATTR_VALUE: 70})
    assert attributes(hass, NEXT_DEPARTURE)["target"] == 100


async def test_next_departure_entities(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    setup_platform: Callable[[str], Awaitable[MockConfigEntry]],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A Next departure per vehicle: the schedule's next, its source and target."""
    entry = await setup_platform(Platform.DATETIME)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
