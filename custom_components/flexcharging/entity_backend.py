"""A vehicle from another integration: its entities' states read as FlexCharging's vehicle data.

No polling: every state the other integration writes (a change, or the same value reported
again) updates the vehicle at once. Commands are that integration's own actions (switch on or
off, button presses), counted, because Tesla's Fleet API bills per command and per wake-up.
Whether a command had its effect is read from the state entities, never assumed: smart
charging's watchdog retries a start the car ignored and then reports it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_HOME,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, State, callback
from homeassistant.exceptions import ConfigEntryError, HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import PowerConverter

from .api import ChargingStatus, Signal, SignalStatus, VehicleInfo, VehicleState
from .commands import CommandRefusedError
from .const import CONF_DEVICE_ID, CONF_VEHICLE_ENTITIES, DOMAIN, LOGGER, Refusal
from .entity_mapping import (
    CHARGING_WORDS,
    FULL_WORDS,
    ROLE_BATTERY,
    ROLE_CHARGING,
    ROLE_LIMIT,
    ROLE_LOCATION,
    ROLE_PLUGGED,
    ROLE_POWER,
    ROLE_START,
    ROLE_STOP,
    ROLE_SWITCH,
    ROLE_WAKE,
)
from .models import FleetData, FlexChargingConfigEntry, VehicleCoordinator, VehicleData
from .usage import UsageMeter

# Entities of a Smartcar vehicle this backend has no data or action for.
SMARTCAR_ONLY_KEYS: Final = frozenset(
    {
        "range",
        "virtual_key",
        "last_update",
        "requests_used",
        "refresh",
        "location",
        "virtual_key_qr_code",
    }
)
# A value reported again this soon after a command answers it (smart charging retries after two
# minutes, twice).
ANSWER_WINDOW: Final = timedelta(minutes=10)
# A start sent this soon after one that had no effect wakes the car first (where it can).
WAKE_AFTER_IGNORED_START: Final = timedelta(minutes=30)


class EntityVehicleCoordinator(VehicleCoordinator):
    """One vehicle of another integration, as FlexCharging's vehicle data and commands."""

    configuration_url = None

    def __init__(self, hass: HomeAssistant, entry: FlexChargingConfigEntry) -> None:
        """The entry's vehicle and its entities."""
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=None)
        self.vehicle_id: str = entry.data[CONF_DEVICE_ID]
        self.entities: dict[str, str] = dict(entry.data[CONF_VEHICLE_ENTITIES])
        self.unsupported_keys = SMARTCAR_ONLY_KEYS | {
            key
            for role, key in ((ROLE_LIMIT, "charge_limit"), (ROLE_POWER, "charge_power"))
            if role not in self.entities
        }
        self.usage = UsageMeter(hass, entry.entry_id, "commands")
        self.data = {}
        self._sent = 0  # commands sent since start (the meter adds them to the month)
        self._unsubs: list[CALLBACK_TYPE] = []
        self._ignored_start: datetime | None = None  # a start not yet confirmed by the car

    async def _async_setup(self) -> None:
        """Find the vehicle's device; follow its entities."""
        device = dr.async_get(self.hass).async_get(self.vehicle_id)
        if not isinstance(device, dr.DeviceEntry):
            raise ConfigEntryError(translation_domain=DOMAIN, translation_key="vehicle_gone")
        await self.usage.async_load(dt_util.now())
        info = VehicleInfo(
            vehicle_id=self.vehicle_id,
            make=device.manufacturer,
            model=device.model,
            name=device.name_by_user or device.name,
        )
        self.data = {self.vehicle_id: VehicleData(info=info, requests_used=0)}
        self._read()
        watched = list(self.entities.values())
        self._unsubs = [
            async_track_state_change_event(self.hass, watched, self._on_state),
            async_track_state_report_event(self.hass, watched, self._on_report),
            self.hass.bus.async_listen(
                dr.EVENT_DEVICE_REGISTRY_UPDATED,
                self._on_device_removed,
                event_filter=self._is_our_device_removed,
            ),
        ]

    async def _async_update_data(self) -> FleetData:
        """The entities' states now (only at the first refresh: state events do the rest)."""
        self._read()
        return dict(self.data)

    @callback
    def _on_state(self, _: Event[Any]) -> None:
        self._read()
        self.async_set_updated_data(dict(self.data))

    @callback
    def _is_our_device_removed(self, data: dr.EventDeviceRegistryUpdatedData) -> bool:
        return data["action"] == "remove" and data["device_id"] == self.vehicle_id

    @callback
    def _on_device_removed(self, _: Event[dr.EventDeviceRegistryUpdatedData]) -> None:
        """The vehicle's device was deleted: this entry goes with it.

        A device added again gets a new id, so nothing could ever be mapped here again (as
        Home Assistant's own helpers do when what they wrap is removed, e.g. switch_as_x).
        """
        entry = self.config_entry
        LOGGER.info("The device of %s was removed: removing its FlexCharging entry", entry.title)
        self.hass.async_create_task(
            self.hass.config_entries.async_remove(entry.entry_id), eager_start=False
        )

    @callback
    def _on_report(self, _: Event[Any]) -> None:
        """The same value reported again: news only while a command awaits the car's answer.

        Otherwise the fresher stamps are kept for the next evaluation (a streaming integration
        reports every few seconds: each one need not make a new plan).
        """
        self._read()
        last_command = self.data[self.vehicle_id].last_command
        if last_command is not None and dt_util.utcnow() - last_command < ANSWER_WINDOW:
            self.async_set_updated_data(dict(self.data))

    async def async_shutdown(self) -> None:
        """Stop following the entities; write the command count now."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        await self.usage.async_flush()
        await super().async_shutdown()

    def device_info(self, vehicle_id: str) -> DeviceInfo:
        """FlexCharging's device of the vehicle, linked to the other integration's device."""
        return {**super().device_info(vehicle_id), "via_device_id": self.vehicle_id}

    # --- reading -------------------------------------------------------------------------------

    def _state(self, role: str) -> State | None:
        """The state of a role's entity; None when unmapped, missing, unavailable or unknown."""
        if (entity_id := self.entities.get(role)) is None:
            return None
        state = self.hass.states.get(entity_id)
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return None
        return state

    def _signal[T](self, role: str, value: T | None, state: State | None) -> Signal[T]:
        if role not in self.entities:
            return Signal()
        if state is None or value is None:
            return Signal(status=SignalStatus.UNAVAILABLE)
        # last_reported: when the other integration last wrote it, even unchanged: a car that
        # reports "stopped" again after a start command has answered it.
        return Signal(value=value, status=SignalStatus.SUCCESS, oem_updated_at=state.last_reported)

    def _read(self) -> None:
        """Read every role's entity into the vehicle's data."""
        vehicle = self.data[self.vehicle_id]
        battery = self._state(ROLE_BATTERY)
        plugged = self._state(ROLE_PLUGGED)
        charging = self._state(ROLE_CHARGING)
        switch = self._state(ROLE_SWITCH)
        limit = self._state(ROLE_LIMIT)
        power = self._state(ROLE_POWER)
        location = self._state(ROLE_LOCATION)
        status = _charging_status(charging)
        vehicle.state = VehicleState(
            battery_level=self._signal(ROLE_BATTERY, _number(battery), battery),
            plugged_in=self._signal(
                ROLE_PLUGGED, None if plugged is None else plugged.state == STATE_ON, plugged
            ),
            charging_status=self._signal(ROLE_CHARGING, status, charging),
            # Without a charging-state entity, the switch says whether the car charges.
            is_charging=self._signal(
                ROLE_SWITCH,
                None if switch is None or charging is not None else switch.state == STATE_ON,
                switch,
            ),
            charge_limit=self._signal(ROLE_LIMIT, _whole(limit), limit),
            charge_power=self._signal(ROLE_POWER, _kilowatts(power), power),
            is_at_home=self._signal(
                ROLE_LOCATION,
                None if location is None else location.state in (STATE_HOME, STATE_ON),
                location,
            ),
        )
        vehicle.available = battery is not None or plugged is not None
        # Logged once each way (the other integration logs its own outage too).
        vehicle.last_error = None if vehicle.available else "entities_unavailable"
        vehicle.log_availability_change()
        reports = [s.last_reported for s in (battery, plugged, charging, switch) if s]
        vehicle.last_success = max(reports, default=vehicle.last_success)
        if vehicle.charging:
            self._ignored_start = None
        vehicle.commands_sent = self.usage.get(self.vehicle_id)
        vehicle.wake_ups = self.usage.get(f"{self.vehicle_id}_wake")

    # --- commands ------------------------------------------------------------------------------

    async def async_start_charging(self, vehicle_id: str, *, automatic: bool = False) -> None:
        """Start charging; wake the car first when the last start had no effect."""
        vehicle = self.data[vehicle_id]
        now = dt_util.utcnow()
        if (wake := self.entities.get(ROLE_WAKE)) and (
            not vehicle.available
            or (
                self._ignored_start is not None
                and now - self._ignored_start < WAKE_AFTER_IGNORED_START
            )
        ):
            await self._async_call("button", "press", wake, wake_up=True)
        if switch := self.entities.get(ROLE_SWITCH):
            await self._async_call("switch", "turn_on", switch)
        else:
            await self._async_call("button", "press", self.entities[ROLE_START])
        if not vehicle.charging:
            self._ignored_start = now

    async def async_stop_charging(self, vehicle_id: str, *, automatic: bool = False) -> None:
        """Stop charging."""
        if switch := self.entities.get(ROLE_SWITCH):
            await self._async_call("switch", "turn_off", switch)
        else:
            await self._async_call("button", "press", self.entities[ROLE_STOP])

    async def async_set_charge_limit(self, vehicle_id: str, percent: int) -> None:
        """Set the charge limit through the limit's number entity."""
        await self._async_call("number", "set_value", self.entities[ROLE_LIMIT], {"value": percent})

    async def async_refresh_vehicle(self, vehicle_id: str) -> VehicleData:
        """Read the entities again (nothing is billed: they hold what the car last said)."""
        self._read()
        self.async_set_updated_data(dict(self.data))
        return self.data[vehicle_id]

    async def _async_call(
        self,
        domain: str,
        service: str,
        entity_id: str,
        extra: dict[str, Any] | None = None,
        *,
        wake_up: bool = False,
    ) -> None:
        """Call the other integration's action; count it; a failure is a translated refusal."""
        vehicle = self.data[self.vehicle_id]
        # Stamped before the call: what the car reports from now on answers this command.
        vehicle.last_command = dt_util.utcnow()
        self.usage.roll(dt_util.now())
        self._sent += 1
        self.usage.count(self.vehicle_id, self._sent)
        if wake_up:
            self.usage.counts[f"{self.vehicle_id}_wake"] = (
                self.usage.get(f"{self.vehicle_id}_wake") + 1
            )
        self.usage.save()
        LOGGER.debug("%s: %s.%s on %s", vehicle.info.display_name, domain, service, entity_id)
        try:
            await self.hass.services.async_call(
                domain,
                service,
                {ATTR_ENTITY_ID: entity_id, **(extra or {})},
                blocking=True,
            )
        except HomeAssistantError as err:
            raise CommandRefusedError(
                Refusal.COMMAND_FAILED,
                {"vehicle": vehicle.info.display_name, "error": str(err) or type(err).__name__},
            ) from err
        finally:
            self._read()
            self.async_set_updated_data(dict(self.data))


def _number(state: State | None) -> float | None:
    if state is None:
        return None
    try:
        return float(state.state)
    except ValueError:
        return None


def _whole(state: State | None) -> int | None:
    value = _number(state)
    return None if value is None else round(value)


def _kilowatts(state: State | None) -> float | None:
    """A power entity's value in kW, whatever unit it has."""
    value = _number(state)
    if value is None or state is None:
        return None
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if unit not in PowerConverter.VALID_UNITS:
        return None
    return PowerConverter.convert(value, unit, "kW")


def _charging_status(state: State | None) -> ChargingStatus | None:
    """A charging-state entity's state: a binary sensor, or a sensor's words."""
    if state is None:
        return None
    if state.domain == "binary_sensor":
        return ChargingStatus.CHARGING if state.state == STATE_ON else ChargingStatus.NOT_CHARGING
    word = state.state.lower()
    if word in CHARGING_WORDS:
        return ChargingStatus.CHARGING
    if word in FULL_WORDS:
        return ChargingStatus.FULLY_CHARGED
    return ChargingStatus.NOT_CHARGING
