"""Actions: plan a one-off trip for a vehicle, and clear it."""

from __future__ import annotations

from datetime import datetime

from homeassistant.const import ATTR_ENTITY_ID, CONF_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, entity_registry as er, service
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .models import FlexChargingConfigEntry
from .smart_charging import SmartChargingManager
from .smart_charging.model import TARGET_RANGE, Trip

SERVICE_PLAN_TRIP = "plan_trip"
SERVICE_CLEAR_TRIP = "clear_trip"
ATTR_DEPARTURE = "departure"
ATTR_TARGET = "target"

# The vehicle: its device, or any of its entities (checked in the action, for translated errors).
VEHICLE_FIELDS = {
    vol.Optional(CONF_DEVICE_ID): cv.string,
    vol.Optional(ATTR_ENTITY_ID): cv.entity_id,
}
PLAN_TRIP_SCHEMA = vol.Schema(
    {
        **VEHICLE_FIELDS,
        vol.Required(ATTR_DEPARTURE): cv.datetime,
        vol.Optional(ATTR_TARGET): vol.Coerce(float),
    }
)
CLEAR_TRIP_SCHEMA = vol.Schema(VEHICLE_FIELDS)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the trip actions (once, for every entry)."""

    async def plan_trip(call: ServiceCall) -> None:
        manager, vehicle_id = _vehicle(hass, call)
        trip = validated_trip(
            call.data[ATTR_DEPARTURE], call.data.get(ATTR_TARGET), dt_util.utcnow()
        )
        await manager.async_update_settings(vehicle_id, trip=trip)

    async def clear_trip(call: ServiceCall) -> None:
        manager, vehicle_id = _vehicle(hass, call)
        await manager.async_update_settings(vehicle_id, trip=None)

    hass.services.async_register(DOMAIN, SERVICE_PLAN_TRIP, plan_trip, schema=PLAN_TRIP_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_CLEAR_TRIP, clear_trip, schema=CLEAR_TRIP_SCHEMA)


def validated_trip(departure: datetime, target: float | None, now: datetime) -> Trip:
    """A trip from the user's input (a time without zone is local), or a translated error."""
    at = dt_util.as_utc(departure)
    if at <= now:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="departure_in_past",
            translation_placeholders={"departure": dt_util.as_local(at).isoformat()},
        )
    if target is None:
        return Trip(at=at)
    if not target.is_integer() or not TARGET_RANGE[0] <= target <= TARGET_RANGE[1]:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_trip_target",
            translation_placeholders={
                "target": f"{target:g}",
                "min": str(TARGET_RANGE[0]),
                "max": str(TARGET_RANGE[1]),
            },
        )
    return Trip(at=at, target=int(target))


def _vehicle(hass: HomeAssistant, call: ServiceCall) -> tuple[SmartChargingManager, str]:
    """The smart charging and vehicle id of the call's device or entity (else translated errors)."""
    device_id = call.data.get(CONF_DEVICE_ID)
    if device_id is None and (entity_id := call.data.get(ATTR_ENTITY_ID)):
        registered = er.async_get(hass).async_get(entity_id)
        if registered is None or registered.platform != DOMAIN or registered.device_id is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_vehicle",
                translation_placeholders={"device": entity_id},
            )
        device_id = registered.device_id
    if device_id is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="vehicle_missing")
    entry, vehicle_id = vehicle_of_device(hass, device_id)
    return entry.runtime_data.smart_charging, vehicle_id


def vehicle_of_device(hass: HomeAssistant, device_id: str) -> tuple[FlexChargingConfigEntry, str]:
    """The loaded entry and vehicle id of a FlexCharging vehicle's device (else translated errors).

    An unknown device, another integration's or an entry not loaded: Home Assistant's own
    errors; our device that is no vehicle (an account's webhook device): `not_a_vehicle`.
    """
    entry: FlexChargingConfigEntry
    device, entry = service.async_get_device_and_config_entry(
        hass, DOMAIN, device_id, include_child_devices=False
    )
    runtime = entry.runtime_data
    vehicle_id = next(
        (
            identifier
            for domain, identifier in device.identifiers
            if domain == DOMAIN and identifier in runtime.coordinator.data
        ),
        None,
    )
    if vehicle_id is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_vehicle",
            translation_placeholders={"device": device.name_by_user or device.name or device_id},
        )
    return entry, vehicle_id
