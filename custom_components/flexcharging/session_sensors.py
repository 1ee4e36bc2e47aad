"""Sensors of the charging sessions at home: energy for the Energy dashboard, and costs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .entity import FlexChargingEntity, FlexChargingEntityDescription
from .models import VehicleCoordinator, VehicleData
from .prices import monetary
from .session_log import SessionLog, sessions_signal


def month_start(now: datetime) -> datetime:
    """The start of `now`'s month in Home Assistant's time zone."""
    return dt_util.start_of_local_day(dt_util.as_local(now).date().replace(day=1))


def next_month_start(now: datetime) -> datetime:
    """The start of the month after `now`'s."""
    return month_start(month_start(now) + timedelta(days=32))


def _last_attributes(log: SessionLog, vehicle_id: str) -> dict[str, Any]:
    session = log.last_session(vehicle_id)
    if session is None:
        return {}
    return {
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "energy_kwh": round(session.energy_kwh, 3),
        "energy_source": session.energy_source.value,
        "soc_start": session.soc_start,
        "soc_end": session.soc_end,
    }


@dataclass(frozen=True, kw_only=True)
class SessionSensorDescription(FlexChargingEntityDescription, SensorEntityDescription):
    """A sensor of a vehicle's charging sessions (kept in Home Assistant: always available)."""

    available_fn: Callable[[VehicleData], bool] | None = None
    value_fn: Callable[[SessionLog, str], Any]
    attributes_fn: Callable[[SessionLog, str], dict[str, Any]] | None = None
    monetary: bool = False


SESSION_SENSORS: tuple[SessionSensorDescription, ...] = (
    SessionSensorDescription(
        key="energy_charged_at_home",
        translation_key="energy_charged_at_home",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda log, vehicle_id: round(log.energy_total.get(vehicle_id, 0.0), 3),
    ),
    SessionSensorDescription(
        key="charging_cost_this_month",
        translation_key="charging_cost_this_month",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        monetary=True,
        value_fn=lambda log, vehicle_id: (
            None
            if (cost := log.month_cost(vehicle_id, month_start(dt_util.utcnow()))) is None
            else round(cost, 4)
        ),
    ),
    SessionSensorDescription(
        key="last_session_cost",
        translation_key="last_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=lambda log, vehicle_id: (
            session.cost if (session := log.last_session(vehicle_id)) else None
        ),
        attributes_fn=_last_attributes,
    ),
    SessionSensorDescription(
        key="last_session_saving",
        translation_key="last_session_saving",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        monetary=True,
        value_fn=lambda log, vehicle_id: (
            session.saving if (session := log.last_session(vehicle_id)) else None
        ),
    ),
)


def session_sensors(coordinator: VehicleCoordinator, vehicle_id: str) -> list[SessionSensor]:
    """The session sensors of one vehicle."""
    return [SessionSensor(coordinator, vehicle_id, description) for description in SESSION_SENSORS]


class SessionSensor(FlexChargingEntity, SensorEntity):
    """A sensor of a vehicle's charging sessions."""

    entity_description: SessionSensorDescription

    @property
    def log(self) -> SessionLog:
        """The entry's session log."""
        return self.coordinator.config_entry.runtime_data.sessions

    @property
    def native_value(self) -> Any:
        """The current value (a cost in the currency, not its cents)."""
        value = self.entity_description.value_fn(self.log, self.vehicle_id)
        if self.entity_description.monetary:
            return monetary(value, self.log.currency(), self.hass.config.currency)[0]
        return value

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Costs are in the currency of the prices (its ISO code)."""
        if self.entity_description.monetary:
            return monetary(None, self.log.currency(), self.hass.config.currency)[1]
        return super().native_unit_of_measurement

    @property
    def last_reset(self) -> datetime | None:
        """The monthly cost starts again at each month's start."""
        if self.entity_description.state_class is SensorStateClass.TOTAL:
            return month_start(dt_util.utcnow())
        return None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The last session's details, where the sensor has any."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.log, self.vehicle_id)

    _rollover: CALLBACK_TYPE | None = None

    async def async_added_to_hass(self) -> None:
        """Follow the sessions as well as the vehicle; a monthly total starts again on the 1st."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                sessions_signal(self.coordinator.config_entry.entry_id, self.vehicle_id),
                self.async_write_ha_state,
            )
        )
        if self.entity_description.state_class is SensorStateClass.TOTAL:
            self._arm_rollover()
            self.async_on_remove(self._disarm_rollover)

    def _arm_rollover(self) -> None:
        self._rollover = async_track_point_in_utc_time(
            self.hass, self._on_new_month, dt_util.as_utc(next_month_start(dt_util.utcnow()))
        )

    def _disarm_rollover(self) -> None:
        if self._rollover is not None:
            self._rollover()
            self._rollover = None

    @callback
    def _on_new_month(self, _: datetime) -> None:
        self._arm_rollover()
        self.async_write_ha_state()
