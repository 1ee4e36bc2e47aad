"""Sensors: battery, range, charging state, virtual key, the smart-charging plan, and health."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfLength, UnitOfPower
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import DistanceConverter

from .api import DistanceUnit, KeyState
from .coordinator import FlexChargingCoordinator
from .entity import (
    FlexChargingEntity,
    FlexChargingEntityDescription,
    SmartChargingEntity,
    async_add_vehicle_entities,
    webhook_device_info,
)
from .models import FlexChargingConfigEntry, VehicleCoordinator, VehicleData
from .planner import PlannedBlock
from .prices import monetary
from .push import PushReceiver
from .session_sensors import session_sensors
from .smart_charging import Decision, SmartChargingState, SmartStatus

PARALLEL_UPDATES = 0

_DISTANCE_UNITS = {
    DistanceUnit.KILOMETERS: UnitOfLength.KILOMETERS,
    DistanceUnit.MILES: UnitOfLength.MILES,
}
CHARGING_STATES = ["charging", "not_charging", "fully_charged"]
KEY_STATES = [
    KeyState.PAIRED.value,
    KeyState.UNCONFIRMED.value,
    KeyState.MISSING.value,
    KeyState.NOT_REQUIRED.value,
]


@dataclass(frozen=True, kw_only=True)
class FlexChargingSensorDescription(FlexChargingEntityDescription, SensorEntityDescription):
    """A sensor and how to read its value from the vehicle's data."""

    value_fn: Callable[[VehicleData], Any]
    attributes_fn: Callable[[VehicleData, VehicleCoordinator], dict[str, Any]] | None = None


def _range_km(vehicle: VehicleData) -> float | None:
    """The range in km, whatever unit Smartcar sent (webhooks use the car's own units).

    One native unit keeps long-term statistics consistent; Home Assistant shows it in the
    user's unit system.
    """
    distance = vehicle.state.range.value
    if distance is None:
        return None
    return DistanceConverter.convert(
        distance.value, _DISTANCE_UNITS[distance.unit], UnitOfLength.KILOMETERS
    )


def _charging_state(vehicle: VehicleData) -> str | None:
    status = vehicle.state.charging_status.value
    return status.value.lower() if status else None


def _key_state(vehicle: VehicleData) -> str | None:
    state = vehicle.key_state
    return None if state is KeyState.UNKNOWN else state.value


def _budget_attributes(vehicle: VehicleData, coordinator: VehicleCoordinator) -> dict[str, Any]:
    assert isinstance(coordinator, FlexChargingCoordinator)  # a Smartcar vehicle's sensor
    return {
        "budget": coordinator.budget,
        "next_update": vehicle.next_poll,
        "webhooks_flowing": coordinator.webhooks_flowing,
        # At this month's rate the budget runs out then (None: it lasts the month).
        "budget_runs_out": vehicle.forecast_exhausted,
        "plan_limit_reached": vehicle.limit_hit,
    }


SENSORS: tuple[FlexChargingSensorDescription, ...] = (
    FlexChargingSensorDescription(
        key="battery_level",
        translation_key="battery_level",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda vehicle: vehicle.state.battery_level.value,
    ),
    FlexChargingSensorDescription(
        key="range",
        translation_key="range",
        device_class=SensorDeviceClass.DISTANCE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfLength.KILOMETERS,
        suggested_display_precision=0,
        value_fn=_range_km,
    ),
    FlexChargingSensorDescription(
        key="charging_state",
        translation_key="charging_state",
        device_class=SensorDeviceClass.ENUM,
        options=CHARGING_STATES,
        value_fn=_charging_state,
    ),
    FlexChargingSensorDescription(
        key="charge_power",
        translation_key="charge_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=lambda vehicle: vehicle.state.charge_power.value,
    ),
    FlexChargingSensorDescription(
        key="virtual_key",
        translation_key="virtual_key",
        device_class=SensorDeviceClass.ENUM,
        options=KEY_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_key_state,
        available_fn=None,
    ),
    FlexChargingSensorDescription(
        key="last_update",
        translation_key="last_update",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda vehicle: vehicle.last_success,
        available_fn=None,
    ),
    FlexChargingSensorDescription(
        key="last_webhook",
        translation_key="last_webhook",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda vehicle: vehicle.last_webhook,
        available_fn=None,
    ),
    FlexChargingSensorDescription(
        key="requests_used",
        translation_key="requests_used",
        native_unit_of_measurement="requests",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda vehicle: vehicle.requests_used,
        attributes_fn=_budget_attributes,
        available_fn=None,
    ),
    FlexChargingSensorDescription(
        key="commands_sent",
        translation_key="commands_sent",
        native_unit_of_measurement="commands",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda vehicle: vehicle.commands_sent,
        attributes_fn=lambda vehicle, coordinator: {
            "wake_ups": vehicle.wake_ups,
            "last_command": vehicle.last_command,
        },
        available_fn=None,
    ),
)


@dataclass(frozen=True, kw_only=True)
class SmartSensorDescription(FlexChargingEntityDescription, SensorEntityDescription):
    """A sensor of the smart-charging plan (available as settings are)."""

    available_fn: Callable[[VehicleData], bool] | None = None

    value_fn: Callable[[SmartChargingState], Any]
    attributes_fn: Callable[[SmartChargingState], dict[str, Any]] | None = None
    monetary: bool = False


def _block(smart: SmartChargingState) -> PlannedBlock | None:
    """The block charging now, or else the next one."""
    return smart.plan.current_or_next(dt_util.utcnow()) if smart.plan else None


def _solar_attributes(smart: SmartChargingState) -> dict[str, Any]:
    """The surplus the solar controller last saw, and the charging current set (if any)."""
    attributes: dict[str, Any] = {}
    if smart.solar is not None:
        surplus = smart.solar.surplus_kw
        attributes["solar_surplus_kw"] = None if surplus is None else round(surplus, 1)
        bar = smart.solar.bar_kw
        if bar is not None and smart.status is SmartStatus.WAITING_FOR_SUN:
            # The sun ahead (a forecast, or learned): the surplus to reach before it starts the car.
            attributes["solar_waits_for_kw"] = round(bar, 1)
    if smart.charging_current is not None:
        attributes["charging_current"] = smart.charging_current
    return attributes


def _decision_attributes(smart: SmartChargingState) -> dict[str, Any]:
    record = smart.last_decision
    return {
        "at": record.at if record else None,
        "detail": record.detail if record else None,
        "kw": record.kw if record else None,
    }


SMART_SENSORS: tuple[SmartSensorDescription, ...] = (
    SmartSensorDescription(
        key="smart_charging_status",
        translation_key="smart_charging_status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in SmartStatus],
        value_fn=lambda smart: smart.status.value,
        attributes_fn=lambda smart: {
            "ready_by": smart.deadline,
            **_solar_attributes(smart),
            **({"waiting_for": smart.waiting_for} if smart.waiting_for else {}),
        },
    ),
    SmartSensorDescription(
        key="next_charge_start",
        translation_key="next_charge_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda smart: block.start if (block := _block(smart)) else None,
    ),
    SmartSensorDescription(
        key="next_charge_end",
        translation_key="next_charge_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda smart: block.end if (block := _block(smart)) else None,
    ),
    SmartSensorDescription(
        key="estimated_cost",
        translation_key="estimated_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=lambda smart: smart.plan.cost if smart.plan else None,
    ),
    SmartSensorDescription(
        key="estimated_savings",
        translation_key="estimated_savings",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=lambda smart: smart.plan.savings if smart.plan else None,
    ),
)
LAST_DECISION = SmartSensorDescription(
    key="last_decision",
    translation_key="last_decision",
    device_class=SensorDeviceClass.ENUM,
    options=[decision.value for decision in Decision],
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=lambda smart: smart.last_decision.decision.value if smart.last_decision else None,
    attributes_fn=_decision_attributes,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every vehicle, and the webhook's refusal count."""
    if (receiver := entry.runtime_data.receiver) is not None:
        async_add_entities([WebhookRejectionsSensor(entry, receiver)])
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [
            *(FlexChargingSensor(coordinator, vehicle_id, description) for description in SENSORS),
            *(SmartSensor(coordinator, vehicle_id, description) for description in SMART_SENSORS),
            LastDecisionSensor(coordinator, vehicle_id, LAST_DECISION),
            *session_sensors(coordinator, vehicle_id),
        ],
    )


class FlexChargingSensor(FlexChargingEntity, SensorEntity):
    """A vehicle sensor."""

    entity_description: FlexChargingSensorDescription

    @property
    def native_value(self) -> Any:
        """The current value."""
        return self.entity_description.value_fn(self.vehicle)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Extra context, where the sensor has any."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.vehicle, self.coordinator)


class SmartSensor(SmartChargingEntity, SensorEntity):
    """A sensor of the vehicle's smart-charging plan."""

    entity_description: SmartSensorDescription

    @property
    def native_value(self) -> Any:
        """The current value (a cost in the currency, not its cents)."""
        value = self.entity_description.value_fn(self.smart_state)
        if self.entity_description.monetary:
            return monetary(value, self.smart_state.currency, self.hass.config.currency)[0]
        return value

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Costs are in the currency of the prices (its ISO code)."""
        if self.entity_description.monetary:
            return monetary(None, self.smart_state.currency, self.hass.config.currency)[1]
        return super().native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Extra context, where the sensor has any."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.smart_state)


class LastDecisionSensor(SmartSensor):
    """The last decision; the logbook's entries of decisions link to it."""

    async def async_added_to_hass(self) -> None:
        """Tell smart charging which entity shows its decisions."""
        await super().async_added_to_hass()
        entities = self.manager.decision_entities
        entities[self.vehicle_id] = self.entity_id

        def _forget() -> None:
            if entities.get(self.vehicle_id) == self.entity_id:
                del entities[self.vehicle_id]

        self.async_on_remove(_forget)


class WebhookRejectionsSensor(SensorEntity):
    """Requests the webhook refused since Home Assistant started (bad signature, unsigned, …).

    A count that climbs while vehicles' last deliveries age means Smartcar's deliveries are
    being refused (a wrong Application Management Token), not that none are sent.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_translation_key = "rejected_deliveries"

    def __init__(self, entry: FlexChargingConfigEntry, receiver: PushReceiver) -> None:
        """The sensor of the entry's webhook device."""
        self._receiver = receiver
        self._attr_unique_id = f"{entry.entry_id}_rejected_deliveries"
        self._attr_device_info = webhook_device_info(entry)

    async def async_added_to_hass(self) -> None:
        """Update on every refusal."""
        self.async_on_remove(self._receiver.add_listener(self._refused))

    @callback
    def _refused(self) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> int:
        """Refused requests so far."""
        return self._receiver.rejected

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Why the last one was refused."""
        return {"last_reason": self._receiver.last_rejection}
