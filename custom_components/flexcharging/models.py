"""What a loaded config entry holds (its runtime data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from .api import SmartcarClient

if TYPE_CHECKING:
    from .coordinator import FlexChargingCoordinator
    from .smart_charging import SmartChargingManager

type FlexChargingConfigEntry = ConfigEntry[FlexChargingRuntime]


@dataclass(slots=True)
class FlexChargingRuntime:
    """What a loaded entry holds."""

    client: SmartcarClient
    coordinator: FlexChargingCoordinator
    smart_charging: SmartChargingManager
