"""The options flow's solar step: the power sensors, the command budget, the house's limits.

The same sensors give the solar surplus and the grid import a site limit is read against; a
charging-current entity (a number in A of another integration) lets the car's power follow both.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.number import NumberDeviceClass
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT, UnitOfElectricCurrent
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from .const import (
    CONF_CURRENT_ENTITY,
    CONF_FEED_IN_TARIFF,
    CONF_GRID_POWER_ENTITY,
    CONF_HOUSE_POWER_ENTITY,
    CONF_PV_POWER_ENTITY,
    CONF_SITE_LIMIT,
    CONF_SOLAR_COMMANDS_PER_DAY,
    CONF_SOLAR_FORECAST_ENTITY,
    CONF_SOLAR_SOURCE,
    CONF_SOLAR_SURPLUS,
    SOLAR_SOURCE_GRID,
    SOLAR_SOURCE_NONE,
    SOLAR_SOURCE_PV,
)
from .smart_charging.solar import POWER_UNITS
from .smart_charging.solar_forecast import ForecastFormatError, forecast_periods
from .smart_charging.solar_inputs import DEFAULT_COMMANDS_PER_DAY

SOLAR_KEYS = (
    CONF_SOLAR_SOURCE,
    CONF_GRID_POWER_ENTITY,
    CONF_PV_POWER_ENTITY,
    CONF_HOUSE_POWER_ENTITY,
    CONF_SOLAR_COMMANDS_PER_DAY,
    CONF_SOLAR_FORECAST_ENTITY,
    CONF_FEED_IN_TARIFF,
    CONF_CURRENT_ENTITY,
    CONF_SITE_LIMIT,
    CONF_SOLAR_SURPLUS,
)
OPTIONAL_KEYS = (CONF_SOLAR_FORECAST_ENTITY, CONF_CURRENT_ENTITY, CONF_SITE_LIMIT)


def solar_source_selector() -> SelectSelector:
    """Off, a grid power sensor, or PV production and house consumption."""
    return SelectSelector(
        SelectSelectorConfig(
            options=[SOLAR_SOURCE_NONE, SOLAR_SOURCE_GRID, SOLAR_SOURCE_PV],
            translation_key=CONF_SOLAR_SOURCE,
            mode=SelectSelectorMode.LIST,
        )
    )


class SolarOptionsStep(OptionsFlowWithReload):
    """The solar step; the flow keeps what earlier steps chose in `_options`."""

    _options: dict[str, Any]

    async def _async_after_prices(self, options: dict[str, Any]) -> ConfigFlowResult:
        """The prices are chosen: the solar step if solar charging is on, else done."""
        self._options = options
        if options.get(CONF_SOLAR_SOURCE, SOLAR_SOURCE_NONE) != SOLAR_SOURCE_NONE:
            return await self.async_step_solar()
        return self.async_create_entry(data=options)

    async def async_step_solar(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The power sensors for the chosen source, and how many commands a day the sun gets."""
        source = self._options[CONF_SOLAR_SOURCE]
        keys = (
            [CONF_GRID_POWER_ENTITY]
            if source == SOLAR_SOURCE_GRID
            else [CONF_PV_POWER_ENTITY, CONF_HOUSE_POWER_ENTITY]
        )
        errors: dict[str, str] = {}
        placeholders = {"entity": ""}
        if user_input is not None:
            for key in keys:
                if (problem := self._power_problem(user_input[key])) is not None:
                    errors[key] = problem
                    placeholders["entity"] = user_input[key]
                    break
            else:
                if len({user_input[key] for key in keys}) < len(keys):
                    errors[keys[-1]] = "same_power_entity"
            forecast = user_input.get(CONF_SOLAR_FORECAST_ENTITY)
            current_entity = user_input.get(CONF_CURRENT_ENTITY)
            if not errors and forecast and not self._has_forecast(forecast):
                errors[CONF_SOLAR_FORECAST_ENTITY] = "no_forecast_found"
                placeholders["entity"] = forecast
            elif not errors and current_entity and not self._sets_current(current_entity):
                errors[CONF_CURRENT_ENTITY] = "not_a_current_entity"
                placeholders["entity"] = current_entity
            if not errors:
                data = {
                    **self._options,
                    **{key: user_input[key] for key in keys},
                    CONF_SOLAR_SURPLUS: bool(user_input.get(CONF_SOLAR_SURPLUS, True)),
                    CONF_SOLAR_COMMANDS_PER_DAY: int(user_input[CONF_SOLAR_COMMANDS_PER_DAY]),
                    CONF_FEED_IN_TARIFF: float(user_input[CONF_FEED_IN_TARIFF]),
                }
                for key in OPTIONAL_KEYS:
                    if user_input.get(key):
                        data[key] = user_input[key]
                    else:
                        data.pop(key, None)
                return self.async_create_entry(data=data)
        current = {**self.config_entry.options, **(user_input or {})}
        sensor = EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.POWER)
        )
        schema: dict[Any, Any] = {
            vol.Required(key, description={"suggested_value": current.get(key)}): sensor
            for key in keys
        }
        schema[vol.Required(CONF_SOLAR_SURPLUS, default=current.get(CONF_SOLAR_SURPLUS, True))] = (
            BooleanSelector()
        )
        schema[
            vol.Required(
                CONF_SOLAR_COMMANDS_PER_DAY,
                default=current.get(CONF_SOLAR_COMMANDS_PER_DAY, DEFAULT_COMMANDS_PER_DAY),
            )
        ] = NumberSelector(NumberSelectorConfig(min=2, max=20, step=1, mode=NumberSelectorMode.BOX))
        schema[
            vol.Optional(
                CONF_SOLAR_FORECAST_ENTITY,
                description={"suggested_value": current.get(CONF_SOLAR_FORECAST_ENTITY)},
            )
        ] = EntitySelector(EntitySelectorConfig(domain="sensor"))
        schema[
            vol.Optional(
                CONF_SITE_LIMIT, description={"suggested_value": current.get(CONF_SITE_LIMIT)}
            )
        ] = NumberSelector(
            NumberSelectorConfig(
                min=1, max=100, step=0.1, mode=NumberSelectorMode.BOX, unit_of_measurement="kW"
            )
        )
        if self._one_vehicle():
            schema[
                vol.Optional(
                    CONF_CURRENT_ENTITY,
                    description={"suggested_value": current.get(CONF_CURRENT_ENTITY)},
                )
            ] = EntitySelector(EntitySelectorConfig(domain="number"))
        schema[vol.Required(CONF_FEED_IN_TARIFF, default=current.get(CONF_FEED_IN_TARIFF, 0.0))] = (
            NumberSelector(
                NumberSelectorConfig(
                    min=-10,
                    max=10,
                    step="any",
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement=f"{self.hass.config.currency}/kWh",
                )
            )
        )
        return self.async_show_form(
            step_id="solar",
            data_schema=vol.Schema(schema),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _has_forecast(self, entity_id: str) -> bool:
        """Whether the entity's attributes hold a forecast FlexCharging can read."""
        if (state := self.hass.states.get(entity_id)) is None:
            return False
        try:
            return bool(forecast_periods(state.attributes))
        except ForecastFormatError:
            return False

    def _sets_current(self, entity_id: str) -> bool:
        """Whether the entity is a number in A (a charge limit in % has a range too)."""
        if (state := self.hass.states.get(entity_id)) is None:
            return False
        return (
            state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) == UnitOfElectricCurrent.AMPERE
            or state.attributes.get(ATTR_DEVICE_CLASS) == NumberDeviceClass.CURRENT
        )

    def _one_vehicle(self) -> bool:
        """Whether the entry has one vehicle (a current entity belongs to one car)."""
        runtime = getattr(self.config_entry, "runtime_data", None)
        return runtime is not None and len(runtime.coordinator.data) == 1

    def _power_problem(self, entity_id: str) -> str | None:
        """Why the entity cannot give power readings (None: it can)."""
        if (state := self.hass.states.get(entity_id)) is None:
            return "power_entity_missing"
        if state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) not in POWER_UNITS:
            return "not_a_power_sensor"
        return None
