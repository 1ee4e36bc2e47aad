"""The charge limit."""

from __future__ import annotations

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import PERCENTAGE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CHARGE_LIMIT_RANGE
from .const import DOMAIN
from .coordinator import FlexChargingConfigEntry
from .entity import FlexChargingEntity, async_add_vehicle_entities

PARALLEL_UPDATES = 1

CHARGE_LIMIT = NumberEntityDescription(
    key="charge_limit",
    translation_key="charge_limit",
    native_min_value=CHARGE_LIMIT_RANGE[0],
    native_max_value=CHARGE_LIMIT_RANGE[1],
    native_step=1,
    native_unit_of_measurement=PERCENTAGE,
    mode=NumberMode.SLIDER,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charge limit per vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [ChargeLimit(coordinator, vehicle_id, CHARGE_LIMIT)],
    )


class ChargeLimit(FlexChargingEntity, NumberEntity):
    """The charge limit, 50–100 %."""

    @property
    def native_value(self) -> float | None:
        """The current limit."""
        return self.vehicle.state.charge_limit.value

    async def async_set_native_value(self, value: float) -> None:
        """Set a new limit (whole percent)."""
        if not value.is_integer():
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_charge_limit",
                translation_placeholders={"vehicle": self.vehicle.info.display_name},
            )
        await self.coordinator.async_set_charge_limit(self.vehicle_id, int(value))
