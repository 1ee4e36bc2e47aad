"""FlexCharging: smart EV charging, through Smartcar or a vehicle another integration has."""

from __future__ import annotations

from functools import partial
import os
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_entry_oauth2_flow, config_validation as cv
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType

from .api import ORIGIN_OVERRIDE_VARIABLE, SmartcarClient
from .application_credentials import smartcar_client
from .connect import async_register_connect_view
from .const import (
    CONF_CLOUDHOOK_URL,
    CONF_MANAGEMENT_TOKEN,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOK_VERIFIED,
    DOMAIN,
    LOGGER,
    STORE_NAMES,
    storage_key,
)
from .coordinator import FlexChargingCoordinator
from .entity_backend import EntityVehicleCoordinator
from .issues import sync_webhook_signature_issue, webhook_verified
from .models import (
    FlexChargingConfigEntry,
    FlexChargingRuntime,
    VehicleCoordinator,
    from_other_integration,
)
from .plug_guard import PlugGuard
from .push import PushReceiver, async_delete_cloudhook, async_register_receiver
from .services import async_setup_services
from .session_actions import async_setup_session_actions
from .session_log import SessionLog
from .smart_charging import SmartChargingManager
from .smart_charging.sharing import (
    async_setup_shared_charger,
    async_unload_shared_charger,
    is_shared_charger,
)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.DATETIME,
    Platform.DEVICE_TRACKER,
    Platform.IMAGE,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions (trips, the sessions of a period) and Smartcar Connect's redirect view.

    The config flow registers the view too, when it runs first.
    """
    async_setup_services(hass)
    async_setup_session_actions(hass)
    async_register_connect_view(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: FlexChargingConfigEntry) -> bool:
    """Set up FlexCharging from a config entry."""
    if is_shared_charger(entry):
        return await async_setup_shared_charger(hass, entry)
    if from_other_integration(entry):
        return await _async_setup(hass, entry, None, EntityVehicleCoordinator(hass, entry))
    try:
        implementation = await config_entry_oauth2_flow.async_get_config_entry_implementation(
            hass, entry
        )
    except config_entry_oauth2_flow.ImplementationUnavailableError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="credentials_unavailable"
        ) from err
    if origin := os.environ.get(ORIGIN_OVERRIDE_VARIABLE):
        # A development override (the emulator): it also decides where the client secret goes.
        LOGGER.warning(
            "%s is set: every Smartcar request, the client secret included, goes to %s",
            ORIGIN_OVERRIDE_VARIABLE,
            origin,
        )
    client = smartcar_client(hass, implementation)
    return await _async_setup(hass, entry, client, FlexChargingCoordinator(hass, entry, client))


async def _async_setup(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    client: SmartcarClient | None,
    coordinator: VehicleCoordinator,
) -> bool:
    """Set up either backend: its first data, smart charging, the webhook, the platforms."""
    await coordinator.async_config_entry_first_refresh()
    smart_charging = SmartChargingManager(hass, entry, coordinator)
    await smart_charging.async_load()
    sessions = SessionLog(hass, entry, coordinator)
    await sessions.async_load()
    entry.runtime_data = FlexChargingRuntime(
        client=client, coordinator=coordinator, smart_charging=smart_charging, sessions=sessions
    )

    if isinstance(coordinator, FlexChargingCoordinator) and (
        webhook_id := entry.data.get(CONF_WEBHOOK_ID)
    ):
        receiver = PushReceiver(
            entry.data[CONF_MANAGEMENT_TOKEN],
            coordinator.async_handle_event,
            verified=entry.data.get(CONF_WEBHOOK_VERIFIED),  # None: an older entry, not known
            on_signature_failures=partial(sync_webhook_signature_issue, hass, entry.entry_id),
            on_verified=partial(webhook_verified, hass, entry),
        )
        entry.runtime_data.receiver = receiver
        entry.async_on_unload(async_register_receiver(hass, webhook_id, "FlexCharging", receiver))

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # Started after the platforms: the first decisions can name their entities in the logbook.
    await smart_charging.async_start()
    entry.async_on_unload(smart_charging.async_unload)
    sessions.async_start()
    entry.async_on_unload(sessions.async_unload)
    if isinstance(coordinator, FlexChargingCoordinator):
        # Smartcar reads to catch a plug-in; another integration reports it by itself.
        plug_guard = PlugGuard(hass, entry, coordinator, smart_charging)
        await plug_guard.async_load()
        entry.runtime_data.plug_guard = plug_guard
        plug_guard.async_start()
        entry.async_on_unload(plug_guard.async_unload)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: FlexChargingConfigEntry) -> bool:
    """Unload a config entry."""
    if is_shared_charger(entry):
        return await async_unload_shared_charger(entry)
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: FlexChargingConfigEntry) -> None:
    """Delete the entry's stores, and release its Home Assistant Cloud webhook."""
    if is_shared_charger(entry):
        return  # no stores, no webhook
    for name in STORE_NAMES:
        await Store[dict[str, Any]](hass, 1, storage_key(entry.entry_id, name)).async_remove()
    if entry.data.get(CONF_CLOUDHOOK_URL) and (webhook_id := entry.data.get(CONF_WEBHOOK_ID)):
        await async_delete_cloudhook(hass, webhook_id)
