"""Numbers: the car's charge limit, and smart charging's targets and minimum charge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import PERCENTAGE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CHARGE_LIMIT_RANGE
from .const import DOMAIN
from .entity import (
    FlexChargingEntity,
    FlexChargingEntityDescription,
    SmartChargingEntity,
    async_add_vehicle_entities,
)
from .models import FlexChargingConfigEntry, VehicleData
from .smart_charging import SmartSettings
from .smart_charging.model import OPPORTUNITY_RANGE, PRICE_RANGE, TARGET_RANGE, WEEKDAYS

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class FlexChargingNumberDescription(FlexChargingEntityDescription, NumberEntityDescription):
    """A number."""


CHARGE_LIMIT = FlexChargingNumberDescription(
    key="charge_limit",
    translation_key="charge_limit",
    native_min_value=CHARGE_LIMIT_RANGE[0],
    native_max_value=CHARGE_LIMIT_RANGE[1],
    native_step=1,
    native_unit_of_measurement=PERCENTAGE,
    mode=NumberMode.SLIDER,
)


@dataclass(frozen=True, kw_only=True)
class SmartNumberDescription(FlexChargingNumberDescription):
    """A smart-charging number and the setting it stands for (available as settings are)."""

    available_fn: Callable[[VehicleData], bool] | None = None

    setting: str
    value_fn: Callable[[SmartSettings], int]


SMART_NUMBERS: tuple[SmartNumberDescription, ...] = (
    SmartNumberDescription(
        key="target_charge",
        translation_key="target_charge",
        native_min_value=TARGET_RANGE[0],
        native_max_value=TARGET_RANGE[1],
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        setting="target",
        value_fn=lambda settings: settings.target,
    ),
    SmartNumberDescription(
        key="minimum_charge",
        translation_key="minimum_charge",
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        setting="minimum",
        value_fn=lambda settings: settings.minimum,
    ),
    SmartNumberDescription(
        key="opportunity_level",
        translation_key="opportunity_level",
        native_min_value=OPPORTUNITY_RANGE[0],
        native_max_value=OPPORTUNITY_RANGE[1],
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        setting="opportunity_level",
        value_fn=lambda settings: settings.opportunity_level,
    ),
    SmartNumberDescription(
        key="opportunity_share",
        translation_key="opportunity_share",
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        setting="opportunity_share",
        value_fn=lambda settings: settings.opportunity_share,
    ),
)


@dataclass(frozen=True, kw_only=True)
class PriceNumberDescription(FlexChargingNumberDescription):
    """A price setting, in the price source's currency per kWh (None: not set)."""

    available_fn: Callable[[VehicleData], bool] | None = None

    setting: str
    value_fn: Callable[[SmartSettings], float | None]


PRICE_NUMBERS: tuple[PriceNumberDescription, ...] = (
    PriceNumberDescription(
        key="opportunity_price",
        translation_key="opportunity_price",
        native_min_value=PRICE_RANGE[0],
        native_max_value=PRICE_RANGE[1],
        native_step=0.001,
        mode=NumberMode.BOX,
        setting="opportunity_price",
        value_fn=lambda settings: settings.opportunity_price,
    ),
    PriceNumberDescription(
        key="max_price",
        translation_key="max_price",
        native_min_value=PRICE_RANGE[0],
        native_max_value=PRICE_RANGE[1],
        native_step=0.001,
        mode=NumberMode.BOX,
        setting="max_price",
        # No maximum shows as the top of the range; setting the top clears it.
        value_fn=lambda settings: (
            PRICE_RANGE[1] if settings.max_price is None else settings.max_price
        ),
    ),
)


@dataclass(frozen=True, kw_only=True)
class DayTargetDescription(FlexChargingNumberDescription):
    """The target of one day of the week (disabled by default: most want one target)."""

    weekday: int  # 0: Monday


DAY_TARGETS: tuple[DayTargetDescription, ...] = tuple(
    DayTargetDescription(
        key=f"target_{day}",
        translation_key=f"target_{day}",
        native_min_value=TARGET_RANGE[0],
        native_max_value=TARGET_RANGE[1],
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        entity_registry_enabled_default=False,
        available_fn=None,
        weekday=index,
    )
    for index, day in enumerate(WEEKDAYS)
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the charge limit and the smart-charging numbers of every vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [
            ChargeLimitNumber(coordinator, vehicle_id, CHARGE_LIMIT),
            *(
                SmartChargingNumber(coordinator, vehicle_id, description)
                for description in SMART_NUMBERS
            ),
            *(DayTarget(coordinator, vehicle_id, description) for description in DAY_TARGETS),
            *(PriceNumber(coordinator, vehicle_id, description) for description in PRICE_NUMBERS),
        ],
    )


class ChargeLimitNumber(FlexChargingEntity, NumberEntity):
    """The charge limit, 50–100 %."""

    entity_description: FlexChargingNumberDescription

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


class SmartChargingNumber(SmartChargingEntity, NumberEntity):
    """Smart charging's target or minimum charge (whole percent)."""

    entity_description: SmartNumberDescription

    @property
    def native_value(self) -> int:
        """The setting."""
        return self.entity_description.value_fn(self.smart_state.settings)

    async def async_set_native_value(self, value: float) -> None:
        """Change the setting; the plan follows at once."""
        await self.manager.async_update_settings(
            self.vehicle_id, **{self.entity_description.setting: whole_percent(value)}
        )


class DayTarget(SmartChargingEntity, NumberEntity):
    """The level the car needs on one day of the week; the general target until it is set."""

    entity_description: DayTargetDescription

    @property
    def native_value(self) -> int:
        """The day's own target, else the general one."""
        settings = self.smart_state.settings
        return settings.days[self.entity_description.weekday].target or settings.target

    async def async_set_native_value(self, value: float) -> None:
        """Give the day its own target; the plan follows at once."""
        settings = self.smart_state.settings.with_day(
            self.entity_description.weekday, target=whole_percent(value)
        )
        await self.manager.async_update_settings(self.vehicle_id, days=settings.days)


class PriceNumber(SmartChargingEntity, NumberEntity):
    """A price smart charging compares the prices with (per kWh, in the prices' currency)."""

    entity_description: PriceNumberDescription

    @property
    def native_value(self) -> float | None:
        """The setting."""
        return self.entity_description.value_fn(self.smart_state.settings)

    @property
    def native_unit_of_measurement(self) -> str:
        """The currency of the prices (Home Assistant's until they were read) per kWh."""
        return f"{self.smart_state.currency or self.hass.config.currency}/kWh"

    async def async_set_native_value(self, value: float) -> None:
        """Change the setting; the plan follows at once (the top of the range: no maximum)."""
        setting = self.entity_description.setting
        price: float | None = value
        if setting == "max_price" and value >= PRICE_RANGE[1]:
            price = None
        await self.manager.async_update_settings(self.vehicle_id, **{setting: price})


def whole_percent(value: float) -> int:
    """A whole percent, or a translated error (the settings are whole percents)."""
    if not value.is_integer():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="whole_percent",
            translation_placeholders={"value": str(value)},
        )
    return int(value)
