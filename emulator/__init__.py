"""A Smartcar Vehicles API v3 emulator for tests and local development.

Never imported by ``custom_components``: it stands in for Smartcar's servers.
"""

from emulator.app import create_app
from emulator.clock import Clock
from emulator.config import DEFAULT_APP, AppConfig, AppCredentials, EmulatorOptions
from emulator.fleet import (
    DEFAULT_USER_ID,
    ID4_ID,
    MODEL_3_ID,
    MODEL_S_ID,
    MODEL_Y_ID,
    Vehicle,
    ledger_cost,
)
from emulator.state import ALL_PERMISSIONS, ConflictError, EmulatorState, NotFoundError
from emulator.webhooks import sign

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_APP",
    "DEFAULT_USER_ID",
    "ID4_ID",
    "MODEL_3_ID",
    "MODEL_S_ID",
    "MODEL_Y_ID",
    "AppConfig",
    "AppCredentials",
    "Clock",
    "ConflictError",
    "EmulatorOptions",
    "EmulatorState",
    "NotFoundError",
    "Vehicle",
    "create_app",
    "ledger_cost",
    "sign",
]
