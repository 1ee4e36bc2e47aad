"""Config and options flow steps for a charger or circuit shared by several vehicles.

A shared charger is an entry of its own, declared once for vehicles of any FlexCharging entry
(a Smartcar account's, or another integration's): which vehicles, and whether they share a
charger (one car at a time) or a circuit (a power limit). The options change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_NAME, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    DeviceSelector,
    DeviceSelectorConfig,
    EntityFilterSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import voluptuous as vol

from .const import (
    CONF_ENTRY_TYPE,
    CONF_SHARED_LIMIT,
    CONF_SHARED_MODE,
    CONF_SHARED_VEHICLES,
    DOMAIN,
    ENTRY_TYPE_SHARED_CHARGER,
)
from .smart_charging.shared import SharedMode
from .smart_charging.sharing import is_shared_charger, loaded_vehicle

LIMIT_RANGE = (1.0, 1000.0)  # kW: from a socket to a car park's feed


def shared_schema(values: Mapping[str, Any], *, with_name: bool) -> vol.Schema:
    """The shared charger's form, showing `values`."""
    schema: dict[Any, Any] = {}
    if with_name:
        schema[vol.Required(CONF_NAME, default=values.get(CONF_NAME, ""))] = TextSelector()
    schema[
        vol.Required(CONF_SHARED_VEHICLES, default=list(values.get(CONF_SHARED_VEHICLES, [])))
    ] = DeviceSelector(
        DeviceSelectorConfig(
            integration=DOMAIN,
            # A vehicle's device has the managed-charging switch; the webhook's has none.
            entity=EntityFilterSelectorConfig(integration=DOMAIN, domain="switch"),
            multiple=True,
        )
    )
    schema[
        vol.Required(CONF_SHARED_MODE, default=values.get(CONF_SHARED_MODE, SharedMode.CHARGER))
    ] = SelectSelector(
        SelectSelectorConfig(
            options=[mode.value for mode in SharedMode],
            translation_key=CONF_SHARED_MODE,
            mode=SelectSelectorMode.LIST,
        )
    )
    schema[
        vol.Optional(
            CONF_SHARED_LIMIT, description={"suggested_value": values.get(CONF_SHARED_LIMIT)}
        )
    ] = NumberSelector(
        NumberSelectorConfig(
            min=LIMIT_RANGE[0],
            max=LIMIT_RANGE[1],
            step=0.1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement=UnitOfPower.KILO_WATT,
        )
    )
    return vol.Schema(schema)


def shared_problems(
    hass: HomeAssistant, user_input: Mapping[str, Any], entry_id: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """What is wrong with the declaration (errors, and their placeholders); `entry_id`: its own."""
    devices: list[str] = list(user_input.get(CONF_SHARED_VEHICLES, []))
    registry = dr.async_get(hass)

    def name(device_id: str) -> str:
        device = registry.async_get(device_id)
        return (device.name_by_user or device.name or device_id) if device else device_id

    for device_id in devices:
        if loaded_vehicle(hass, device_id) is None:
            return {CONF_SHARED_VEHICLES: "not_a_flexcharging_vehicle"}, {
                "vehicle": name(device_id)
            }
        for entry in hass.config_entries.async_entries(DOMAIN):
            if (
                entry.entry_id != entry_id
                and is_shared_charger(entry)
                and device_id in entry.options.get(CONF_SHARED_VEHICLES, [])
            ):
                return {CONF_SHARED_VEHICLES: "already_shared"}, {
                    "vehicle": name(device_id),
                    "charger": entry.title,
                }
    if len(set(devices)) < 2:
        return {CONF_SHARED_VEHICLES: "too_few_vehicles"}, {}
    if user_input[CONF_SHARED_MODE] == SharedMode.CIRCUIT and not user_input.get(CONF_SHARED_LIMIT):
        return {CONF_SHARED_LIMIT: "limit_required"}, {}
    return {}, {}


def shared_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The options kept: the vehicles, the mode, and a circuit's limit."""
    options: dict[str, Any] = {
        CONF_SHARED_VEHICLES: list(dict.fromkeys(user_input[CONF_SHARED_VEHICLES])),
        CONF_SHARED_MODE: user_input[CONF_SHARED_MODE],
    }
    if user_input[CONF_SHARED_MODE] == SharedMode.CIRCUIT:
        options[CONF_SHARED_LIMIT] = float(user_input[CONF_SHARED_LIMIT])
    return options


class SharedChargerFlowMixin(ConfigFlow):
    """The step that declares a shared charger (and changes it, on reconfigure)."""

    async def async_step_shared_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which vehicles share it, and how."""
        reconfigure = self.source == SOURCE_RECONFIGURE
        entry = self._get_reconfigure_entry() if reconfigure else None
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"vehicle": "", "charger": ""}
        if user_input is not None:
            name = str(user_input.get(CONF_NAME, "")).strip()
            found, found_placeholders = shared_problems(
                self.hass, user_input, entry.entry_id if entry else None
            )
            errors.update(found)
            placeholders.update(found_placeholders)
            if not name:
                errors[CONF_NAME] = "name_required"
            if not errors:
                if entry is not None:
                    return self.async_update_reload_and_abort(
                        entry, title=name, options=shared_options(user_input)
                    )
                return self.async_create_entry(
                    title=name,
                    data={CONF_ENTRY_TYPE: ENTRY_TYPE_SHARED_CHARGER},
                    options=shared_options(user_input),
                )
            values: Mapping[str, Any] = user_input
        elif entry is not None:
            values = {CONF_NAME: entry.title, **entry.options}
        else:
            values = {}
        return self.async_show_form(
            step_id="shared_charger",
            data_schema=shared_schema(values, with_name=True),
            errors=errors,
            description_placeholders=placeholders,
        )


class SharedChargerOptionsFlow(OptionsFlowWithReload):
    """Change a shared charger: its vehicles, and how they share it."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The one step (named apart from the vehicle entries' options)."""
        return await self.async_step_shared_charger()

    async def async_step_shared_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which vehicles share it, and how."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"vehicle": "", "charger": ""}
        if user_input is not None:
            errors, found = shared_problems(self.hass, user_input, self.config_entry.entry_id)
            placeholders.update(found)
            if not errors:
                return self.async_create_entry(data=shared_options(user_input))
        return self.async_show_form(
            step_id="shared_charger",
            data_schema=shared_schema(user_input or self.config_entry.options, with_name=False),
            errors=errors,
            description_placeholders=placeholders,
        )
