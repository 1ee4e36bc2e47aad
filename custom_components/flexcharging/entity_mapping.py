"""A vehicle from another integration: which of its entities FlexCharging reads and drives.

Each role names what the entity stands for. The mapping is proposed from the device's entities
(exactly for tesla_fleet, teslemetry and Tessie, by device class for any other integration),
edited by the user, and checked before it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT, PERCENTAGE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util.unit_conversion import PowerConverter

ROLE_BATTERY: Final = "battery_level"
ROLE_PLUGGED: Final = "plugged_in"
ROLE_CHARGING: Final = "charging_state"
ROLE_SWITCH: Final = "charge_switch"
ROLE_START: Final = "start_button"
ROLE_STOP: Final = "stop_button"
ROLE_LIMIT: Final = "charge_limit"
ROLE_POWER: Final = "charge_power"
ROLE_LOCATION: Final = "location"
ROLE_WAKE: Final = "wake_button"


@dataclass(frozen=True, slots=True)
class Role:
    """What an entity of the vehicle stands for, and the domains it may come from."""

    name: str
    domains: tuple[str, ...]
    required: bool = False


ROLES: Final = (
    Role(ROLE_BATTERY, ("sensor",), required=True),
    Role(ROLE_PLUGGED, ("binary_sensor",), required=True),
    Role(ROLE_CHARGING, ("sensor", "binary_sensor")),
    Role(ROLE_SWITCH, ("switch",)),
    Role(ROLE_START, ("button",)),
    Role(ROLE_STOP, ("button",)),
    Role(ROLE_LIMIT, ("number",)),
    Role(ROLE_POWER, ("sensor",)),
    Role(ROLE_LOCATION, ("device_tracker", "binary_sensor")),
    Role(ROLE_WAKE, ("button",)),
)
ROLE_DOMAINS: Final = {role.name: role.domains for role in ROLES}

# The unique-id keys (after "<VIN>-") of the Tesla integrations in Home Assistant core, from
# their entity descriptions: homeassistant/components/{tesla_fleet,teslemetry,tessie}. The
# charge switch's unique id is the description's `unique_id`, not its key.
_TESLA_KEYS: Final = {
    ROLE_BATTERY: ("sensor", "charge_state_battery_level"),
    ROLE_PLUGGED: ("binary_sensor", "charge_state_conn_charge_cable"),
    ROLE_CHARGING: ("sensor", "charge_state_charging_state"),
    ROLE_SWITCH: ("switch", "charge_state_user_charge_enable_request"),
    ROLE_LIMIT: ("number", "charge_state_charge_limit_soc"),
    ROLE_POWER: ("sensor", "charge_state_charger_power"),
    ROLE_LOCATION: ("device_tracker", "location"),
    ROLE_WAKE: ("button", "wake"),
}
KNOWN_KEYS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "tesla_fleet": _TESLA_KEYS,
    "teslemetry": _TESLA_KEYS,
    # Tessie has no plain battery level (only the usable one) and its own switch id.
    "tessie": {
        **_TESLA_KEYS,
        ROLE_BATTERY: ("sensor", "charge_state_usable_battery_level"),
        ROLE_SWITCH: ("switch", "charge_state_charge_enable_request"),
    },
}

# Any other integration: the first entity of the domain and device class.
_BY_DEVICE_CLASS: Final = {
    ROLE_BATTERY: ("sensor", SensorDeviceClass.BATTERY),
    ROLE_PLUGGED: ("binary_sensor", BinarySensorDeviceClass.PLUG),
    ROLE_CHARGING: ("binary_sensor", BinarySensorDeviceClass.BATTERY_CHARGING),
    ROLE_POWER: ("sensor", SensorDeviceClass.POWER),
}

# States of a charging-state sensor (Tesla's options, and common words of other integrations).
CHARGING_WORDS: Final = frozenset({"charging", "starting"})
FULL_WORDS: Final = frozenset({"complete", "completed", "fully_charged", "full"})


def propose(hass: HomeAssistant, device_id: str) -> dict[str, str]:
    """The mapping FlexCharging proposes for a device: role -> entity id."""
    entries = [
        entry
        for entry in er.async_entries_for_device(er.async_get(hass), device_id)
        if entry.disabled_by is None
    ]
    proposal: dict[str, str] = {}
    for entry in entries:
        keys = KNOWN_KEYS.get(entry.platform, {})
        key = entry.unique_id.partition("-")[2]
        for role, (domain, known_key) in keys.items():
            if entry.domain == domain and key == known_key:
                proposal.setdefault(role, entry.entity_id)
    for role, (domain, device_class) in _BY_DEVICE_CLASS.items():
        if role in proposal:
            continue
        for entry in entries:
            if (
                entry.domain == domain
                and (entry.device_class or entry.original_device_class) == device_class
            ):
                proposal[role] = entry.entity_id
                break
    return proposal


def validate(hass: HomeAssistant, mapping: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with a mapping: field (role or "base") -> error key; empty when usable.

    The form's entity selectors already refused an entity of another domain (a sensor as the
    charge switch); this checks what they cannot: that it exists, its unit, its meaning.
    """
    errors: dict[str, str] = {}
    for role in ROLES:
        if not (entity_id := mapping.get(role.name)):
            continue  # the form's schema asks for the required ones
        if (state := hass.states.get(entity_id)) is None:
            errors[role.name] = "entity_missing"
            continue
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        if role.name == ROLE_BATTERY and unit != PERCENTAGE:
            errors[role.name] = "battery_unit"
        elif role.name == ROLE_LIMIT and unit not in (None, PERCENTAGE):
            errors[role.name] = "limit_unit"
        elif role.name == ROLE_POWER and unit not in PowerConverter.VALID_UNITS:
            errors[role.name] = "power_unit"
        elif (
            role.name == ROLE_PLUGGED
            and state.attributes.get(ATTR_DEVICE_CLASS) == BinarySensorDeviceClass.BATTERY_CHARGING
        ):
            errors[role.name] = "plug_is_charging"
    if bool(mapping.get(ROLE_START)) != bool(mapping.get(ROLE_STOP)):
        errors.setdefault(ROLE_STOP if mapping.get(ROLE_START) else ROLE_START, "buttons_in_pairs")
    if not mapping.get(ROLE_SWITCH):
        if not (mapping.get(ROLE_START) and mapping.get(ROLE_STOP)):
            errors.setdefault("base", "no_control")
        elif not mapping.get(ROLE_CHARGING):
            # Buttons have no state: nothing would tell whether the car charges.
            errors.setdefault(ROLE_CHARGING, "charging_state_needed")
    return errors
