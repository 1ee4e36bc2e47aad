"""A stand-in for Teslemetry in the browser test: one car as Teslemetry's entities.

Loaded as the custom integration `teslemetry` (it replaces the built-in one in the test's Home
Assistant only), so FlexCharging proposes its entities exactly as it would the real
integration's. The entities are tests/fake_tesla.py's (linked here as fake_tesla.py; Teslemetry's unique ids, its optimistic
charge switch); the car charges fast here (half a percent a second) so that a night's charge
takes a minute, and reports every second, as Teslemetry's streaming does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval

from .fake_tesla import FakeEntity, FakeTesla, fake_tesla_entities

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.DEVICE_TRACKER,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]
PERCENT_PER_SECOND = 0.5


@dataclass
class StandIn:
    """The car and its entities (made once, added platform by platform)."""

    car: FakeTesla
    entities: dict[str, list[FakeEntity]]


type StandInConfigEntry = ConfigEntry[StandIn]


async def async_setup_entry(hass: HomeAssistant, entry: StandInConfigEntry) -> bool:
    """The car, plugged in at home at 60 %, not charging; it charges while told to."""
    car = FakeTesla(soc=60.0, limit=90)
    entry.runtime_data = StandIn(car, fake_tesla_entities(car))

    @callback
    def drive(_: object) -> None:
        if car.charging:
            car.soc = min(car.soc + PERCENT_PER_SECOND, car.limit)
            car.charging = car.soc < car.limit
        car.report()

    entry.async_on_unload(async_track_time_interval(hass, drive, timedelta(seconds=1)))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: StandInConfigEntry) -> bool:
    """Unload the platforms."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_setup_platform_entry(
    domain: str, entry: StandInConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """The car's entities of one platform."""
    async_add_entities(entry.runtime_data.entities[domain])
