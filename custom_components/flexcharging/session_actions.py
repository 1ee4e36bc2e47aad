"""The action `flexcharging.get_sessions`: the charging sessions of a period, as response data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .models import FlexChargingConfigEntry
from .services import vehicle_of_device
from .sessions import in_period
from .smart_charging.sharing import is_shared_charger

SERVICE_GET_SESSIONS = "get_sessions"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_DEVICE_ID = "device_id"
ATTR_START = "start"
ATTR_END = "end"

GET_SESSIONS_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
    }
)


def async_setup_session_actions(hass: HomeAssistant) -> None:
    """Register the sessions action (once, for every entry)."""

    async def get_sessions(call: ServiceCall) -> ServiceResponse:
        return _sessions(hass, call.data)

    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_SESSIONS,
        get_sessions,
        schema=GET_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _utc(value: datetime | None) -> datetime | None:
    """A time the user gave; without a zone, Home Assistant's."""
    return None if value is None else dt_util.as_utc(value)


def _loaded(hass: HomeAssistant, entry_id: str) -> FlexChargingConfigEntry:
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or is_shared_charger(entry):
        raise _invalid("unknown_config_entry", entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _invalid("config_entry_not_loaded", title=entry.title)
    return entry


def _sessions(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, Any]:
    """The sessions of the chosen entry or vehicle (else all) that overlap the period."""
    start, end = _utc(data.get(ATTR_START)), _utc(data.get(ATTR_END))
    if start is not None and end is not None and start >= end:
        raise _invalid("invalid_period")
    vehicle_id: str | None = None
    if device_id := data.get(ATTR_DEVICE_ID):
        entry, vehicle_id = vehicle_of_device(hass, device_id)
        entries = [entry]
    elif entry_id := data.get(ATTR_CONFIG_ENTRY_ID):
        entries = [_loaded(hass, entry_id)]
    else:
        entries = [
            entry
            for entry in hass.config_entries.async_loaded_entries(DOMAIN)
            if not is_shared_charger(entry)
        ]
    found: list[dict[str, Any]] = []
    for entry in entries:
        log = entry.runtime_data.sessions
        names = {
            vid: vehicle.info.display_name
            for vid, vehicle in entry.runtime_data.coordinator.data.items()
        }
        for vid in [vehicle_id] if vehicle_id else list(log.history):
            found.extend(
                {"vehicle": names.get(vid, vid), "vehicle_id": vid, **session.as_dict()}
                for session in in_period(log.sessions(vid), start, end)
            )
    found.sort(key=lambda item: item["started_at"])
    return {"sessions": found}
