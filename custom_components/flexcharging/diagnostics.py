"""Diagnostics with tokens, VINs, user ids and locations redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import (
    CONF_APPLICATION_ID,
    CONF_CLOUDHOOK_URL,
    CONF_MANAGEMENT_TOKEN,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_USER_ID,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from .coordinator import FlexChargingConfigEntry, VehicleData

TO_REDACT = {
    CONF_APPLICATION_ID,
    CONF_MANAGEMENT_TOKEN,
    CONF_USER_ID,
    CONF_WEBHOOK_ID,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_CLOUDHOOK_URL,
    "token",
    "access_token",
    "client_secret",
    "vin",
    "location",
    "is_at_home",
    "latitude",
    "longitude",
    "vehicle_id",
}


def _vehicle(vehicle: VehicleData) -> dict[str, Any]:
    return async_redact_data(
        {
            "info": asdict(vehicle.info),
            "state": asdict(vehicle.state),
            "key_state": vehicle.key_state,
            "available": vehicle.available,
            "last_success": vehicle.last_success,
            "last_error": vehicle.last_error,
            "empty_store": vehicle.empty_store,
            "next_poll": vehicle.next_poll,
            "failures": vehicle.failures,
            "requests_used": vehicle.requests_used,
        },
        TO_REDACT,
    )


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: FlexChargingConfigEntry
) -> dict[str, Any]:
    """The whole entry."""
    coordinator = entry.runtime_data.coordinator
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "budget": coordinator.budget,
        "webhooks_flowing": coordinator.webhooks_flowing,
        "last_webhook": coordinator.last_webhook,
        "update_interval": str(coordinator.update_interval),
        "billable_requests_since_start": sum(entry.runtime_data.client.requests.billable.values()),
        "vehicles": [_vehicle(vehicle) for vehicle in coordinator.data.values()],
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: FlexChargingConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """One vehicle."""
    coordinator = entry.runtime_data.coordinator
    vehicle_id = next(identifier for domain, identifier in device.identifiers if domain == DOMAIN)
    vehicle = coordinator.data.get(vehicle_id)
    return {"vehicle": _vehicle(vehicle) if vehicle else None}
