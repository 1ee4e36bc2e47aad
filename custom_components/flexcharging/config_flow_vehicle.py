"""Config flow steps for a vehicle from another integration: pick its device, map its entities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigFlow, ConfigFlowResult
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    DeviceSelector,
    DeviceSelectorConfig,
    EntityFilterSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
)
import voluptuous as vol

from .const import BACKEND_ENTITIES, CONF_BACKEND, CONF_DEVICE_ID, CONF_VEHICLE_ENTITIES, DOMAIN
from .entity_mapping import ROLES, propose, validate


class VehicleFlowMixin(ConfigFlow):
    """The steps that add a vehicle Home Assistant already has, through its entities."""

    _vehicle_device: dr.DeviceEntry | None = None

    async def async_step_vehicle(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the vehicle's device."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device = dr.async_get(self.hass).async_get(user_input[CONF_DEVICE_ID])
            if not isinstance(device, dr.DeviceEntry) or any(
                domain == DOMAIN for domain, _ in device.identifiers
            ):
                errors[CONF_DEVICE_ID] = "not_a_vehicle"
            else:
                await self.async_set_unique_id(device.id)
                self._abort_if_unique_id_configured(error="vehicle_already_configured")
                self._vehicle_device = device
                return await self.async_step_vehicle_entities()
        return self.async_show_form(
            step_id="vehicle",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_DEVICE_ID): DeviceSelector(
                        DeviceSelectorConfig(
                            entity=EntityFilterSelectorConfig(
                                domain="sensor", device_class="battery"
                            )
                        )
                    )
                }
            ),
            errors=errors,
        )

    async def async_step_vehicle_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which of the device's entities stand for what: proposed, editable, checked."""
        device = self._vehicle_device
        assert device is not None
        name = device.name_by_user or device.name or device.id
        errors: dict[str, str] = {}
        if user_input is not None:
            mapping = {role: entity for role, entity in user_input.items() if entity}
            if not (errors := validate(self.hass, mapping)):
                data = {
                    CONF_BACKEND: BACKEND_ENTITIES,
                    CONF_DEVICE_ID: device.id,
                    CONF_VEHICLE_ENTITIES: mapping,
                }
                if self.source == SOURCE_RECONFIGURE:
                    return self.async_update_reload_and_abort(
                        self._get_reconfigure_entry(), data=data
                    )
                return self.async_create_entry(title=name, data=data)
            suggested: Mapping[str, str] = mapping
        elif self.source == SOURCE_RECONFIGURE:
            suggested = self._get_reconfigure_entry().data[CONF_VEHICLE_ENTITIES]
        else:
            suggested = propose(self.hass, device.id)
        schema = vol.Schema(
            {
                (vol.Required if role.required else vol.Optional)(role.name): EntitySelector(
                    EntitySelectorConfig(domain=list(role.domains))
                )
                for role in ROLES
            }
        )
        return self.async_show_form(
            step_id="vehicle_entities",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={"vehicle": name},
        )

    async def async_step_vehicle_reconfigure(self) -> ConfigFlowResult:
        """Map the vehicle's entities again."""
        entry = self._get_reconfigure_entry()
        device = dr.async_get(self.hass).async_get(entry.data[CONF_DEVICE_ID])
        if not isinstance(device, dr.DeviceEntry):
            return self.async_abort(reason="vehicle_gone")
        self._vehicle_device = device
        return await self.async_step_vehicle_entities()
