"""Binary sensors: plugged in, charging, charging planned now (with its slots), plan at risk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .entity import (
    FlexChargingEntity,
    FlexChargingEntityDescription,
    SmartChargingEntity,
    async_add_vehicle_entities,
)
from .models import FlexChargingConfigEntry, VehicleData
from .smart_charging import Hold

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class FlexChargingBinarySensorDescription(
    FlexChargingEntityDescription, BinarySensorEntityDescription
):
    """A binary sensor and how to read it."""

    value_fn: Callable[[VehicleData], bool | None]


BINARY_SENSORS: tuple[FlexChargingBinarySensorDescription, ...] = (
    FlexChargingBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=lambda vehicle: vehicle.state.plugged_in.value,
    ),
    FlexChargingBinarySensorDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        value_fn=lambda vehicle: vehicle.charging,
    ),
)


@dataclass(frozen=True, kw_only=True)
class PlanBinarySensorDescription(FlexChargingEntityDescription, BinarySensorEntityDescription):
    """A binary sensor of the plan (available as settings are)."""

    available_fn: Callable[[VehicleData], bool] | None = None


CHARGING_PLANNED = PlanBinarySensorDescription(
    key="charging_planned", translation_key="charging_planned"
)
PLAN_AT_RISK = PlanBinarySensorDescription(
    key="plan_at_risk",
    translation_key="plan_at_risk",
    device_class=BinarySensorDeviceClass.PROBLEM,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [
            *(
                FlexChargingBinarySensor(coordinator, vehicle_id, description)
                for description in BINARY_SENSORS
            ),
            ChargingPlannedBinarySensor(coordinator, vehicle_id, CHARGING_PLANNED),
            PlanAtRiskSensor(coordinator, vehicle_id, PLAN_AT_RISK),
        ],
    )


class FlexChargingBinarySensor(FlexChargingEntity, BinarySensorEntity):
    """A vehicle binary sensor."""

    entity_description: FlexChargingBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The current value."""
        return self.entity_description.value_fn(self.vehicle)


class ChargingPlannedBinarySensor(SmartChargingEntity, BinarySensorEntity):
    """On while the plan says charge (or "Start charging now" holds).

    The planned slots are in `planned_dispatches`, shaped like Octopus Energy's intelligent
    dispatches so that tools such as Predbat can read them.
    """

    entity_description: PlanBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Whether charging is planned now."""
        smart = self.smart_state
        if smart.plan is None:
            return False
        return smart.session.hold is Hold.OVERRIDE or smart.plan.charging_at(dt_util.utcnow())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The planned slots, and the current and next one."""
        plan = self.smart_state.plan
        now = dt_util.utcnow()
        blocks = [block for block in plan.blocks if block.end > now] if plan else []
        current = next((block for block in blocks if block.start <= now), None)
        upcoming = next((block for block in blocks if block.start > now), None)
        return {
            "planned_dispatches": [
                {
                    "start": block.start,
                    "end": block.end,
                    "charge_in_kwh": (
                        round(block.energy_kwh, 2) if block.energy_kwh is not None else None
                    ),
                    "source": "smart-charge",
                    "location": "AT_HOME",
                }
                for block in blocks
            ],
            "current_start": current.start if current else None,
            "current_end": current.end if current else None,
            "next_start": upcoming.start if upcoming else None,
            "next_end": upcoming.end if upcoming else None,
        }


class PlanAtRiskSensor(SmartChargingEntity, BinarySensorEntity):
    """On while the plan cannot reach the target by the ready-by time."""

    entity_description: PlanBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Whether the plan falls short."""
        return self.smart_state.at_risk is not None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The level the plan can reach by the ready-by time."""
        smart = self.smart_state
        return {"reachable": smart.at_risk, "ready_by": smart.deadline}
