"""Constants for the FlexCharging integration."""

from __future__ import annotations

from enum import StrEnum
import logging
from typing import Final

DOMAIN: Final = "flexcharging"
LOGGER = logging.getLogger(__package__)

# Config entry data
CONF_APPLICATION_ID: Final = "application_id"
CONF_MANAGEMENT_TOKEN: Final = "management_token"  # noqa: S105 (a key name)
CONF_USER_ID: Final = "user_id"
CONF_WEBHOOK_ID: Final = "webhook_id"  # Home Assistant's webhook (our receiving end)
CONF_SMARTCAR_WEBHOOK_ID: Final = "smartcar_webhook_id"  # the webhook in the Smartcar dashboard
# Whether FlexCharging answered that webhook's VERIFY when it was set up: real v3 apps were
# reported to pass VERIFY and fail every delivery's signature
# (https://github.com/wbyoung/smartcar/issues/130, /issues/139, /pull/141).
CONF_WEBHOOK_VERIFIED: Final = "webhook_verified"
CONF_CLOUDHOOK_URL: Final = "cloudhook_url"
CONF_READ_LOCATION: Final = "read_location"
CONF_REDIRECT_URI: Final = "redirect_uri"  # the Connect redirect the user registered
# A vehicle from another integration (an entry of its own): its device and its entities by role.
CONF_BACKEND: Final = "backend"
BACKEND_ENTITIES: Final = "entities"
CONF_DEVICE_ID: Final = "device_id"
CONF_VEHICLE_ENTITIES: Final = "vehicle_entities"
# A charger or circuit shared by several vehicles (an entry of its own): its vehicles' devices,
# and one car at a time or a circuit's power limit (options).
CONF_ENTRY_TYPE: Final = "entry_type"
ENTRY_TYPE_SHARED_CHARGER: Final = "shared_charger"
CONF_SHARED_VEHICLES: Final = "vehicles"
CONF_SHARED_MODE: Final = "shared_mode"
CONF_SHARED_LIMIT: Final = "limit_kw"

# Options
CONF_REQUEST_BUDGET: Final = "request_budget"
DEFAULT_REQUEST_BUDGET: Final = 500  # entries made before the plan was asked (older plans' 500)
# Smartcar's plans since December 2025: 0, 100 or 500 calls per vehicle a month (issue #20).
PLAN_ALLOWANCES: Final = (0, 100, 500)
DEFAULT_PLAN_ALLOWANCE: Final = 100  # new entries: the smallest plan that polls at all
MAX_REQUEST_BUDGET: Final = 100_000

# Smartcar Connect permissions
REQUIRED_SCOPES: Final = (
    "read_vehicle_info",
    "read_vin",
    "read_battery",
    "read_charge",
    "control_charge",
)
LOCATION_SCOPE: Final = "read_location"
# Asked for as `required:` so owners cannot untick them in Connect ("A permission is optional by
# default. It can be made required by adding the `required:` prefix", connect/redirect-to-connect,
# from 16 June 2026): without them FlexCharging can do nothing. The rest stay optional; every
# grant is still checked after Connect (config_flow: missing_permissions).
LOCKED_SCOPES: Final = ("read_charge", "control_charge")

SMARTCAR_DASHBOARD_URL: Final = "https://dashboard.smartcar.com"

SIGNAL_KEY_STATE_CHANGED: Final = f"{DOMAIN}_key_state_changed_{{}}"

# Smart charging (options)
CONF_PRICE_SOURCE: Final = "price_source"
CONF_NOTIFY_TARGET: Final = "notify_target"  # a notify entity or a legacy notify service
CONF_PLUG_TRIGGERS: Final = "plug_triggers"  # entities whose change starts a burst of reads
CONF_CALENDAR_ENTITY: Final = "calendar_entity"  # departures from a calendar's events
CONF_CALENDAR_KEYWORD: Final = "calendar_keyword"  # the text an event must hold to count
PRICE_SOURCE_NONE: Final = "none"
PRICE_SOURCE_ENTITIES: Final = "entities"
PRICE_SOURCE_SCHEDULE: Final = "schedule"
CONF_PRICE_ENTITIES: Final = "price_entities"
CONF_OFFPEAK_PRICE: Final = "offpeak_price"
CONF_PEAK_PRICE: Final = "peak_price"
CONF_WEEKDAY_PEAK_START: Final = "weekday_peak_start"
CONF_WEEKDAY_PEAK_END: Final = "weekday_peak_end"
CONF_WEEKEND_PEAK_START: Final = "weekend_peak_start"
CONF_WEEKEND_PEAK_END: Final = "weekend_peak_end"

SIGNAL_PLAN_UPDATED: Final = f"{DOMAIN}_plan_updated_{{}}"
EVENT_CHARGING_DECISION: Final = f"{DOMAIN}_charging_decision"
EVENT_CHARGING_PROBLEM: Final = f"{DOMAIN}_charging_problem"
EVENT_PLAN_AT_RISK: Final = f"{DOMAIN}_plan_at_risk"

# Solar surplus charging (options)
CONF_SOLAR_SOURCE: Final = "solar_source"
SOLAR_SOURCE_NONE: Final = "none"
SOLAR_SOURCE_GRID: Final = "grid"  # a grid power sensor: import positive, export negative
SOLAR_SOURCE_PV: Final = "pv_consumption"  # PV production and house consumption sensors
CONF_GRID_POWER_ENTITY: Final = "grid_power_entity"
CONF_PV_POWER_ENTITY: Final = "pv_power_entity"
CONF_HOUSE_POWER_ENTITY: Final = "house_power_entity"
CONF_SOLAR_COMMANDS_PER_DAY: Final = "solar_commands_per_day"
CONF_SOLAR_FORECAST_ENTITY: Final = "solar_forecast_entity"  # optional: Solcast and the like
CONF_FEED_IN_TARIFF: Final = "feed_in_tariff"  # per kWh: what the forecast's sunny hours cost
# Optional: another integration's number entity in A that sets the car's charging current.
CONF_CURRENT_ENTITY: Final = "current_entity"
CONF_SITE_LIMIT: Final = "site_limit"  # optional: the most the house may import, kW
# Off: the power sensors serve the site limit only (default on: charge on solar surplus).
CONF_SOLAR_SURPLUS: Final = "solar_surplus"


def storage_key(entry_id: str, name: str) -> str:
    """The `.storage` file of one of an entry's stores (STORE_NAMES)."""
    return f"{DOMAIN}.{entry_id}.{name}"


# Keys the setup flow just had Smartcar confirm, by user id, for the entry's first data.
DATA_CONFIRMED_KEYS: Final = f"{DOMAIN}_confirmed_keys"

STORE_NAMES: Final = ("usage", "smart_charging", "plug_times", "sessions", "commands", "sun")


class Refusal(StrEnum):
    """Why a command was not carried out (each value is its error's translation key)."""

    VEHICLE_ASLEEP = "vehicle_asleep"
    VEHICLE_UNREACHABLE = "vehicle_unreachable"
    PLUG_NOT_CONNECTED = "plug_not_connected"
    FULLY_CHARGED = "fully_charged"
    REMOTE_ACCESS_DISABLED = "remote_access_disabled"
    VEHICLE_STATE = "vehicle_state"
    RATE_LIMITED = "rate_limited"
    BILLING_LIMIT = "billing_limit"
    PERMISSION_MISSING = "permission_missing"
    INVALID_CHARGE_LIMIT = "invalid_charge_limit"
    COMMAND_NOT_EXECUTED = "command_not_executed"
    COMMAND_FAILED = "command_failed"
    VIRTUAL_KEY_MISSING = "virtual_key_missing"
    AUTH_FAILED = "auth_failed"
