"""The weekly schedule's entities: a ready-by time per day, and the settings of before carried over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.components.time import DOMAIN as TIME_DOMAIN, SERVICE_SET_VALUE as SET_TIME
from homeassistant.const import ATTR_TIME, SERVICE_TURN_OFF, STATE_OFF, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.flexcharging.const import DOMAIN, storage_key
from emulator import MODEL_Y_ID
from tests.common import Emulator, setup_integration
from tests.test_smart_charging import call

VEHICLE = "2024_tesla_model_y"
STATUS = f"sensor.{VEHICLE}_smart_charging_status"


def ready_by(day: str) -> str:
    """A day's ready-by time entity."""
    return f"time.{VEHICLE}_ready_by_{day}"


def departs(day: str) -> str:
    """A day's departure switch."""
    return f"switch.{VEHICLE}_departure_on_{day}"


def day_target(day: str) -> str:
    """A day's target number."""
    return f"number.{VEHICLE}_target_charge_on_{day}"


async def test_times(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    setup_platform: Callable[[str], Awaitable[MockConfigEntry]],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Seven ready-by times per vehicle: 07:00 on weekdays, 09:00 at weekends."""
    entry = await setup_platform(Platform.TIME)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


@pytest.mark.usefixtures(
    "entity_registry_enabled_by_default", "credentials", "frozen_emulator", "connected_fleet"
)
async def test_weekday_and_weekend_settings_carry_over(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A store from before the weekly schedule: its times fill the week, its entities go."""
    hass_storage[storage_key(config_entry.entry_id, "smart_charging")] = {
        "version": 1,
        "minor_version": 1,
        "key": storage_key(config_entry.entry_id, "smart_charging"),
        "data": {
            "vehicles": {
                MODEL_Y_ID: {
                    "settings": {
                        "managed": False,
                        "ready_by_weekday": "06:15:00",
                        "ready_by_weekend": "10:30:00",
                        "target": 70,
                        "minimum": 15,
                    },
                    "override": False,
                    "manual": False,
                    "power_kw": 7.2,
                    "learned_percent_per_hour": None,
                }
            }
        },
    }
    old = {
        key: entity_registry.async_get_or_create(
            TIME_DOMAIN,
            DOMAIN,
            f"{MODEL_Y_ID}_{key}",
            config_entry=config_entry,
            suggested_object_id=f"{VEHICLE}_{key}",
        ).entity_id
        for key in ("ready_by_weekday", "ready_by_weekend")
    }
    await setup_integration(hass, config_entry)
    await hass.async_block_till_done(wait_background_tasks=True)

    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        assert hass.states.get(ready_by(day)).state == "06:15:00"  # type: ignore[union-attr]
    for day in ("saturday", "sunday"):
        assert hass.states.get(ready_by(day)).state == "10:30:00"  # type: ignore[union-attr]
    for day in ("monday", "sunday"):
        assert hass.states.get(departs(day)).state == "on"  # type: ignore[union-attr]
        assert hass.states.get(day_target(day)).state == "70"  # type: ignore[union-attr]
    assert hass.states.get(f"number.{VEHICLE}_target_charge").state == "70"  # type: ignore[union-attr]
    assert hass.states.get(f"number.{VEHICLE}_minimum_charge").state == "15"  # type: ignore[union-attr]
    for entity_id in old.values():
        assert entity_registry.async_get(entity_id) is None
        assert hass.states.get(entity_id) is None


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_each_day_has_its_time_departure_and_target(
    hass: HomeAssistant, frozen_emulator: Emulator, init_integration: MockConfigEntry
) -> None:
    """Changing one day changes that day only."""
    await call(hass, TIME_DOMAIN, SET_TIME, ready_by("sunday"), **{ATTR_TIME: "11:45:30"})
    await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, departs("wednesday"))
    await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, day_target("friday"), **{ATTR_VALUE: 95})
    await call(
        hass,
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        f"number.{VEHICLE}_target_charge",
        **{ATTR_VALUE: 60},
    )

    assert hass.states.get(ready_by("sunday")).state == "11:45:00"  # type: ignore[union-attr]
    assert hass.states.get(ready_by("saturday")).state == "09:00:00"  # type: ignore[union-attr]
    assert hass.states.get(departs("wednesday")).state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get(departs("thursday")).state == "on"  # type: ignore[union-attr]
    # Friday keeps its own target; the others follow the general one.
    assert hass.states.get(day_target("friday")).state == "95"  # type: ignore[union-attr]
    assert hass.states.get(day_target("thursday")).state == "60"  # type: ignore[union-attr]

    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, day_target("friday"), **{ATTR_VALUE: 90.5}
        )
    assert err.value.translation_key == "whole_percent"
    assert hass.states.get(day_target("friday")).state == "95"  # type: ignore[union-attr]

    manager = init_integration.runtime_data.smart_charging
    settings = manager.vehicle(MODEL_Y_ID).settings.as_dict()
    assert settings["days"][2]["depart"] is False
    assert settings["days"][4]["target"] == 95
    assert settings["days"][6]["ready_by"] == "11:45:00"
