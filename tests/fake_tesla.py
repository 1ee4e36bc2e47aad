"""A car of "another integration": real Home Assistant entities that behave like Teslemetry's.

The entities register on the `teslemetry` platform with Teslemetry's unique ids ("<VIN>-<key>",
from homeassistant/components/teslemetry: sensor.py, binary_sensor.py, switch.py, number.py,
button.py, device_tracker.py) on a device of a `teslemetry` config entry, so FlexCharging sees
them as it would see the real integration's. Their behaviour follows tesla_fleet/teslemetry:
- the charge switch is optimistic: it shows on as soon as the command was sent, whether or not
  the car charges (tesla_fleet's `async_turn_on` writes `_attr_is_on = True`);
- a car that is asleep ignores a start (the command reaches nothing); the wake button wakes it;
- the sensors change only when the car reports (`report`, as a poll or a stream does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.components.button import ButtonEntity
from homeassistant.components.device_tracker import TrackerEntity
from homeassistant.components.number import NumberDeviceClass, NumberEntity
from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.components.switch import SwitchEntity
from homeassistant.const import PERCENTAGE, UnitOfElectricCurrent, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.setup import async_setup_component

if TYPE_CHECKING:
    from pytest_homeassistant_custom_component.common import MockConfigEntry

VIN = "LRW3E7FS0PC000001"
# The mapping FlexCharging proposes for the car (its entity ids follow the device's name).
MAPPING = {
    "battery_level": "sensor.scotty_battery_level",
    "plugged_in": "binary_sensor.scotty_charge_cable",
    "charging_state": "sensor.scotty_charging",
    "charge_switch": "switch.scotty_charge",
    "charge_limit": "number.scotty_charge_limit",
    "charge_power": "sensor.scotty_charger_power",
    "location": "device_tracker.scotty_location",
    "wake_button": "button.scotty_wake",
}
CHARGE_STATES = ["starting", "charging", "stopped", "complete", "disconnected", "no_power"]


@dataclass
class FakeTesla:
    """The car behind the entities, and what was asked of it."""

    soc: float = 60.0
    plugged: bool = True
    charging: bool = False
    asleep: bool = False
    limit: int = 80
    power_kw: float = 11.0  # at the highest current: 16 A on three phases
    amps: int = 16  # the charging current asked for (charge_state_charge_current_request)
    max_amps: int = 16
    home: bool = True
    refuse: bool = False  # the integration raises (as tesla_fleet's "command_failed" does)
    calls: list[str] = field(default_factory=list)
    entities: list[FakeEntity] = field(default_factory=list)
    device_id: str = ""

    def command(self, name: str, value: int | None = None) -> None:
        """A command reaching the car (ignored while it is asleep)."""
        if self.refuse:
            raise HomeAssistantError("The vehicle refused the command")
        self.calls.append(name)
        if self.asleep:
            return
        if name == "charge_start" and self.plugged:
            self.charging = True
        elif name == "charge_stop":
            self.charging = False
        elif name == "set_charge_limit" and value is not None:
            self.limit = value
        elif name == "set_charging_amps" and value is not None:
            self.amps = value

    def wake(self) -> None:
        """The wake button: the car wakes up."""
        self.calls.append("wake_up")
        self.asleep = False

    def report(self) -> None:
        """The car reports: every entity writes its state (unchanged ones too)."""
        for entity in self.entities:
            if entity.hass is not None:  # added to Home Assistant
                entity.sync()


class FakeEntity(Entity):
    """An entity of the fake car."""

    _attr_should_poll = False
    _attr_has_entity_name = True

    def __init__(self, car: FakeTesla, key: str, name: str) -> None:
        """Teslemetry's unique id and device."""
        self.car = car
        self._attr_unique_id = f"{VIN}-{key}"
        self._attr_name = name
        self._attr_device_info = DeviceInfo(
            identifiers={("fake_tesla", VIN)},
            manufacturer="Tesla",
            model="Model Y",
            name="Scotty",
            serial_number=VIN,
        )
        car.entities.append(self)

    def sync(self) -> None:
        """Write the car's current state."""
        self.async_write_ha_state()


class BatteryLevel(FakeEntity, SensorEntity):
    """charge_state_battery_level."""

    _attr_device_class = SensorDeviceClass.BATTERY
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def native_value(self) -> float:
        """The level."""
        return self.car.soc


class ChargingState(FakeEntity, SensorEntity):
    """charge_state_charging_state (Tesla's words)."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = CHARGE_STATES

    @property
    def native_value(self) -> str:
        """What the car does."""
        if not self.car.plugged:
            return "disconnected"
        if self.car.charging:
            return "charging"
        return "complete" if self.car.soc >= self.car.limit else "stopped"


class ChargerPower(FakeEntity, SensorEntity):
    """charge_state_charger_power."""

    _attr_device_class = SensorDeviceClass.POWER
    _attr_native_unit_of_measurement = UnitOfPower.KILO_WATT

    @property
    def native_value(self) -> float:
        """The power drawn."""
        car = self.car
        return car.power_kw * min(car.amps, car.max_amps) / car.max_amps if car.charging else 0.0


class ChargeCable(FakeEntity, BinarySensorEntity):
    """charge_state_conn_charge_cable."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY

    @property
    def is_on(self) -> bool:
        """The cable is in."""
        return self.car.plugged


class ChargeSwitch(FakeEntity, SwitchEntity):
    """charge_state_user_charge_enable_request: optimistic, like tesla_fleet's."""

    def __init__(self, car: FakeTesla, key: str, name: str) -> None:
        """On while the car charges."""
        super().__init__(car, key, name)
        self._attr_is_on = car.charging

    def sync(self) -> None:
        """A report shows what the car really does."""
        self._attr_is_on = self.car.charging
        super().sync()

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging."""
        self.car.command("charge_start")
        self._attr_is_on = True
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        self.car.command("charge_stop")
        self._attr_is_on = False
        self.async_write_ha_state()


class ChargeLimit(FakeEntity, NumberEntity):
    """charge_state_charge_limit_soc."""

    _attr_device_class = NumberDeviceClass.BATTERY
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_native_min_value = 50
    _attr_native_max_value = 100

    @property
    def native_value(self) -> float:
        """The limit."""
        return self.car.limit

    async def async_set_native_value(self, value: float) -> None:
        """Set the limit."""
        self.car.command("set_charge_limit", int(value))
        self.async_write_ha_state()


class ChargeCurrent(FakeEntity, NumberEntity):
    """charge_state_charge_current_request: from 0 A in steps of 1 up to the car's maximum
    (Teslemetry's maximum follows charge_state_charge_current_request_max)."""

    _attr_device_class = NumberDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_native_min_value = 0
    _attr_native_step = 1

    @property
    def native_max_value(self) -> float:
        """The car's maximum."""
        return self.car.max_amps

    @property
    def native_value(self) -> float:
        """The current asked for."""
        return self.car.amps

    async def async_set_native_value(self, value: float) -> None:
        """Ask for another current."""
        self.car.command("set_charging_amps", int(value))
        self.async_write_ha_state()


class WakeButton(FakeEntity, ButtonEntity):
    """wake."""

    async def async_press(self) -> None:
        """Wake the car up."""
        self.car.wake()


class Location(FakeEntity, TrackerEntity):
    """location (home or away), as the zones the car is in."""

    @property
    def in_zones(self) -> list[str]:
        """The home zone, or none."""
        return ["zone.home"] if self.car.home else []


class PressButton(FakeEntity, ButtonEntity):
    """A button that sends one command (integrations with start and stop buttons)."""

    def __init__(self, car: FakeTesla, key: str, name: str, command: str) -> None:
        """The command it sends."""
        super().__init__(car, key, name)
        self._command = command

    async def async_press(self) -> None:
        """Send the command."""
        self.car.command(self._command)


# Tessie's unique-id keys where they differ from Teslemetry's (homeassistant/components/tessie:
# sensor.py has only the usable battery level; switch.py's charge switch has its own id).
TESSIE_KEYS = {
    "charge_state_battery_level": "charge_state_usable_battery_level",
    "charge_state_user_charge_enable_request": "charge_state_charge_enable_request",
}


def fake_tesla_entities(
    car: FakeTesla, platform_name: str = "teslemetry"
) -> dict[str, list[FakeEntity]]:
    """The car's entities per domain, with `platform_name`'s unique ids.

    "tesla_fleet" has Teslemetry's ids, "tessie" its own; another `platform_name` makes it an
    integration FlexCharging knows nothing about. All have start and stop buttons too.
    """
    keys = TESSIE_KEYS if platform_name == "tessie" else {}
    return {
        "sensor": [
            BatteryLevel(
                car,
                keys.get("charge_state_battery_level", "charge_state_battery_level"),
                "Battery level",
            ),
            ChargingState(car, "charge_state_charging_state", "Charging"),
            ChargerPower(car, "charge_state_charger_power", "Charger power"),
        ],
        "binary_sensor": [ChargeCable(car, "charge_state_conn_charge_cable", "Charge cable")],
        "switch": [
            ChargeSwitch(
                car,
                keys.get(
                    "charge_state_user_charge_enable_request",
                    "charge_state_user_charge_enable_request",
                ),
                "Charge",
            )
        ],
        "number": [
            ChargeLimit(car, "charge_state_charge_limit_soc", "Charge limit"),
            ChargeCurrent(car, "charge_state_charge_current_request", "Charge current"),
        ],
        "button": [
            WakeButton(car, "wake", "Wake"),
            PressButton(car, "start", "Start charging", "charge_start"),
            PressButton(car, "stop", "Stop charging", "charge_stop"),
        ],
        "device_tracker": [Location(car, "location", "Location")],
    }


async def async_add_fake_tesla(
    hass: HomeAssistant, car: FakeTesla | None = None, platform_name: str = "teslemetry"
) -> FakeTesla:
    """Register the car's entities and device as the teslemetry integration would."""
    # Imported here: the browser test's Teslemetry stand-in uses this module's entities inside
    # a real Home Assistant, where the test harness has no business.
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        MockEntityPlatform,
    )

    # The location entity says home through the home zone (a device tracker's dependency).
    assert await async_setup_component(hass, "zone", {})
    car = car or FakeTesla()
    entry = MockConfigEntry(domain=platform_name, title=platform_name)
    entry.add_to_hass(hass)
    platforms = fake_tesla_entities(car, platform_name)
    for domain, entities in platforms.items():
        platform = MockEntityPlatform(hass, domain=domain, platform_name=platform_name)
        platform.config_entry = entry
        await platform.async_add_entities(entities)
    device = dr.async_get(hass).async_get_device_by_identifier(("fake_tesla", VIN), entry.entry_id)
    assert device is not None
    car.device_id = device.id
    await hass.async_block_till_done()
    return car


def flexcharging_entry(car: FakeTesla, options: dict[str, Any]) -> MockConfigEntry:
    """FlexCharging's config entry for the car, with the mapping it proposes, not yet added."""
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
    )

    from custom_components.flexcharging.const import (
        BACKEND_ENTITIES,
        CONF_BACKEND,
        CONF_DEVICE_ID,
        CONF_VEHICLE_ENTITIES,
        DOMAIN,
    )

    return MockConfigEntry(
        domain=DOMAIN,
        title="Scotty",
        unique_id=car.device_id,
        data={
            CONF_BACKEND: BACKEND_ENTITIES,
            CONF_DEVICE_ID: car.device_id,
            CONF_VEHICLE_ENTITIES: MAPPING,
        },
        options=options,
    )
