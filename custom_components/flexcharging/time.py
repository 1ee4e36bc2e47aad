"""Ready-by times: when the car must reach its target, on weekdays and at weekends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import FlexChargingEntityDescription, SmartChargingEntity, async_add_vehicle_entities
from .models import FlexChargingConfigEntry, VehicleData
from .smart_charging import SmartSettings

PARALLEL_UPDATES = 1  # setting a time re-plans, which may send a command


@dataclass(frozen=True, kw_only=True)
class ReadyByDescription(FlexChargingEntityDescription, TimeEntityDescription):
    """A ready-by time and the setting it stands for (available as settings are)."""

    available_fn: Callable[[VehicleData], bool] | None = None

    setting: str
    value_fn: Callable[[SmartSettings], time]


READY_BY: tuple[ReadyByDescription, ...] = (
    ReadyByDescription(
        key="ready_by_weekday",
        translation_key="ready_by_weekday",
        setting="ready_by_weekday",
        value_fn=lambda settings: settings.ready_by_weekday,
    ),
    ReadyByDescription(
        key="ready_by_weekend",
        translation_key="ready_by_weekend",
        setting="ready_by_weekend",
        value_fn=lambda settings: settings.ready_by_weekend,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the ready-by times of every vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [
            ReadyByTime(coordinator, vehicle_id, description) for description in READY_BY
        ],
    )


class ReadyByTime(SmartChargingEntity, TimeEntity):
    """When the target charge must be reached."""

    entity_description: ReadyByDescription

    @property
    def native_value(self) -> time:
        """The ready-by time."""
        return self.entity_description.value_fn(self.smart_state.settings)

    async def async_set_value(self, value: time) -> None:
        """Set the ready-by time (to the minute)."""
        await self.manager.async_update_settings(
            self.vehicle_id,
            **{self.entity_description.setting: value.replace(second=0, microsecond=0)},
        )
