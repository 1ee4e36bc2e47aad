"""Ready-by times: when the car must reach its target, one per day of the week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from homeassistant.components.time import DOMAIN as TIME_DOMAIN, TimeEntity, TimeEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .entity import FlexChargingEntityDescription, SmartChargingEntity, async_add_vehicle_entities
from .models import FlexChargingConfigEntry, VehicleCoordinator
from .smart_charging.model import WEEKDAYS

PARALLEL_UPDATES = 1  # setting a time re-plans, which may send a command

# The two ready-by times before the weekly schedule; their values now live in the schedule.
REPLACED_KEYS = ("ready_by_weekday", "ready_by_weekend")


@dataclass(frozen=True, kw_only=True)
class ReadyByDescription(FlexChargingEntityDescription, TimeEntityDescription):
    """The ready-by time of one day of the week (available as settings are)."""

    weekday: int  # 0: Monday


READY_BY: tuple[ReadyByDescription, ...] = tuple(
    ReadyByDescription(
        key=f"ready_by_{day}", translation_key=f"ready_by_{day}", weekday=index, available_fn=None
    )
    for index, day in enumerate(WEEKDAYS)
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the ready-by times of every vehicle (and drop the weekday/weekend ones they replace)."""
    registry = er.async_get(hass)

    def entities(coordinator: VehicleCoordinator, vehicle_id: str) -> list[ReadyByTime]:
        for key in REPLACED_KEYS:
            if entity_id := registry.async_get_entity_id(
                TIME_DOMAIN, DOMAIN, f"{vehicle_id}_{key}"
            ):
                registry.async_remove(entity_id)
        return [ReadyByTime(coordinator, vehicle_id, description) for description in READY_BY]

    async_add_vehicle_entities(entry, async_add_entities, entities)


class ReadyByTime(SmartChargingEntity, TimeEntity):
    """When the target charge must be reached on one day of the week."""

    entity_description: ReadyByDescription

    @property
    def native_value(self) -> time:
        """The day's ready-by time (kept when the day has no departure)."""
        return self.smart_state.settings.days[self.entity_description.weekday].ready_by

    async def async_set_value(self, value: time) -> None:
        """Set the day's ready-by time (to the minute)."""
        settings = self.smart_state.settings.with_day(
            self.entity_description.weekday, ready_by=value.replace(second=0, microsecond=0)
        )
        await self.manager.async_update_settings(self.vehicle_id, days=settings.days)
