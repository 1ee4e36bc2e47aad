"""The base of every FlexCharging entity: one device per vehicle, data from the coordinator."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, SMARTCAR_DASHBOARD_URL
from .models import FlexChargingConfigEntry, VehicleCoordinator, VehicleData
from .smart_charging import SmartChargingManager, SmartChargingState, plan_signal


def webhook_device_info(entry: FlexChargingConfigEntry) -> DeviceInfo:
    """The entry's "Smartcar webhook" service device."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"{entry.entry_id}_webhook")},
        translation_key="webhook",
        manufacturer="Smartcar",
        entry_type=DeviceEntryType.SERVICE,
        configuration_url=SMARTCAR_DASHBOARD_URL,
    )


def _data_read(vehicle: VehicleData) -> bool:
    return vehicle.available


@dataclass(frozen=True, kw_only=True)
class FlexChargingEntityDescription(EntityDescription):
    """What every FlexCharging entity describes: when it is available."""

    # Given the vehicle is on the account. None: always then (settings, plans, diagnostics and
    # the refresh button live in Home Assistant and outlast a failed read).
    available_fn: Callable[[VehicleData], bool] | None = _data_read


class FlexChargingEntity(CoordinatorEntity[VehicleCoordinator]):
    """An entity of one vehicle."""

    _attr_has_entity_name = True
    entity_description: FlexChargingEntityDescription

    def __init__(
        self,
        coordinator: VehicleCoordinator,
        vehicle_id: str,
        description: FlexChargingEntityDescription,
    ) -> None:
        """Attach the entity to its vehicle's device."""
        super().__init__(coordinator)
        self.vehicle_id = vehicle_id
        self.entity_description = description
        self._attr_unique_id = f"{vehicle_id}_{description.key}"
        self._attr_device_info = coordinator.device_info(vehicle_id)

    @property
    def vehicle(self) -> VehicleData:
        """This entity's vehicle."""
        return self.coordinator.data[self.vehicle_id]

    @property
    def available(self) -> bool:
        """On the account and, as the description says, with its data read."""
        if self.vehicle_id not in self.coordinator.data:
            return False
        available_fn = self.entity_description.available_fn
        return available_fn is None or (super().available and available_fn(self.vehicle))


class SmartChargingEntity(FlexChargingEntity):
    """An entity of a vehicle's smart charging: its settings and its plan.

    Settings and plans live in Home Assistant: their descriptions keep them available while the
    car is unreachable (available_fn None).
    """

    @property
    def manager(self) -> SmartChargingManager:
        """The entry's smart-charging manager."""
        return self.coordinator.config_entry.runtime_data.smart_charging

    @property
    def smart_state(self) -> SmartChargingState:
        """This vehicle's smart-charging state."""
        return self.manager.vehicle(self.vehicle_id)

    async def async_added_to_hass(self) -> None:
        """Follow the plan as well as the vehicle."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                plan_signal(self.coordinator.config_entry.entry_id, self.vehicle_id),
                self.async_write_ha_state,
            )
        )


def async_add_vehicle_entities[EntityT: FlexChargingEntity](
    entry: FlexChargingConfigEntry,
    async_add_entities: Callable[[Iterable[EntityT]], None],
    factory: Callable[[VehicleCoordinator, str], Iterable[EntityT]],
) -> None:
    """Add a platform's entities for every vehicle, now and whenever one appears (until unload).

    Only those the vehicle's backend supports. The listener also keeps the coordinator polling
    while an account has no vehicle yet.
    """
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def _check_device() -> None:
        new = [vehicle_id for vehicle_id in coordinator.data if vehicle_id not in known]
        known.update(new)
        entities = [
            entity
            for vehicle_id in new
            for entity in factory(coordinator, vehicle_id)
            if entity.entity_description.key not in coordinator.unsupported_keys
        ]
        if entities:
            async_add_entities(entities)

    _check_device()
    entry.async_on_unload(coordinator.async_add_listener(_check_device))
