"""Smart charging's alerts: the watchdog's charging problem and a plan at risk.

Each is said once: a repair, an event (automations, the logbook) and a notification to the
notify target chosen (translated, with answer buttons). The answers tapped in the Mobile App
come back here and go to the manager.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_NOTIFY_TARGET,
    DOMAIN,
    EVENT_CHARGING_DECISION,
    EVENT_CHARGING_PROBLEM,
    EVENT_PLAN_AT_RISK,
    LOGGER,
)
from ..issues import (
    clear_charging_problem,
    clear_plan_at_risk,
    raise_charging_problem,
    raise_plan_at_risk,
)
from ..models import FlexChargingConfigEntry
from ..notifications import EVENT_NOTIFICATION_ACTION, Text, async_send, parse_action
from . import departures, estimates, policy, watchdog
from .inputs import charge_speed
from .model import Decision, DecisionRecord, Problem, SmartChargingState

if TYPE_CHECKING:
    from .manager import SmartChargingManager


class SmartAlerts:
    """What smart charging must tell the user about a vehicle, and the user's answers."""

    def __init__(self, manager: SmartChargingManager) -> None:
        """Alert for the manager's vehicles; answers go to it."""
        self.manager = manager
        self.hass: HomeAssistant = manager.hass
        self.entry: FlexChargingConfigEntry = manager.entry

    @callback
    def async_listen(self) -> CALLBACK_TYPE:
        """Hear the answers tapped in the Mobile App (until the callback returned is called)."""
        return self.hass.bus.async_listen(EVENT_NOTIFICATION_ACTION, self._on_notification_action)

    def record(
        self, vehicle_id: str, decision: Decision, detail: str | None, *, kw: float | None = None
    ) -> None:
        """Keep the decision, log it, and put it in the logbook.

        `detail` is a code (the logbook translates it); `kw` the power it is about, if any.
        """
        state = self.manager.vehicle(vehicle_id)
        state.last_decision = DecisionRecord(decision, dt_util.utcnow(), detail, kw)
        name, device_id = self.names(vehicle_id)
        LOGGER.debug("Smart charging, %s: %s (%s %s)", name, decision.value, detail or "-", kw)
        self.hass.bus.async_fire(
            EVENT_CHARGING_DECISION,
            {
                "device_id": device_id,
                "entity_id": self.manager.decision_entities.get(vehicle_id),
                "vehicle": name,
                "decision": decision.value,
                "detail": detail,
                "kw": kw,
            },
        )

    def names(self, vehicle_id: str) -> tuple[str, str | None]:
        """The vehicle's display name and device id (for events)."""
        vehicle = self.manager.coordinator.data.get(vehicle_id)
        name = vehicle.info.display_name if vehicle else vehicle_id
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            (DOMAIN, vehicle_id), self.entry.entry_id
        )
        return name, device.id if device else None

    # --- a plan at risk ----------------------------------------------------------------------

    def check_risk(
        self,
        vehicle_id: str,
        state: SmartChargingState,
        step: policy.Step,
        car: policy.Car,
        now: datetime,
    ) -> None:
        """Say so (once) when the plan can no longer reach the target; clear it when it can."""
        vehicle = self.manager.coordinator.data[vehicle_id]
        settings = departures.for_departure(state.settings, state.departure)
        target = estimates.target_for(settings, car.charge_limit, state.session.accepted_target)
        reachable = watchdog.plan_at_risk(
            step,
            state.plan,
            soc=car.soc,
            target=target,
            percent_per_hour=charge_speed(state, vehicle)[0],
            now=now,
            deadline=state.deadline,
        )
        before, state.at_risk = state.at_risk, reachable
        if reachable is None:
            if before is not None:
                clear_plan_at_risk(self.hass, vehicle_id)
            return
        name, device_id = self.names(vehicle_id)
        ready_by = departures.ready_by_text(
            state.deadline, now, ZoneInfo(self.hass.config.time_zone)
        )
        placeholders = {
            "vehicle": name,
            "target": str(target),
            "reachable": str(reachable),
            "ready_by": ready_by,
        }
        raise_plan_at_risk(self.hass, self.entry.entry_id, vehicle_id, placeholders)
        if before is None:
            LOGGER.info("Smart charging, %s: the plan reaches %s%% only", name, reachable)
            self.hass.bus.async_fire(
                EVENT_PLAN_AT_RISK,
                {
                    "device_id": device_id,
                    "vehicle": name,
                    "target": target,
                    "reachable": reachable,
                    "ready_by": state.deadline.isoformat() if state.deadline else None,
                },
            )
            self._notify(device_id, "plan_at_risk", {**placeholders})

    # --- the watchdog ------------------------------------------------------------------------

    def report_problem(self, vehicle_id: str, problem: Problem, *, start: bool) -> None:
        """The watchdog gave up: a repair issue, an event and a notification."""
        name, device_id = self.names(vehicle_id)
        LOGGER.warning("Smart charging, %s: the car does not follow the plan (%s)", name, problem)
        raise_charging_problem(self.hass, vehicle_id, name, problem.value)
        self.hass.bus.async_fire(
            EVENT_CHARGING_PROBLEM,
            {
                "device_id": device_id,
                "entity_id": self.manager.decision_entities.get(vehicle_id),
                "vehicle": name,
                "cause": problem.value,
                "action": "start" if start else "stop",
            },
        )
        self._notify(
            device_id,
            "start_problem" if start else "stop_problem",
            {"vehicle": name, "cause": Text(f"cause_{problem.value}")},
        )

    def problem_solved(self, vehicle_id: str) -> None:
        """The car does as planned again."""
        clear_charging_problem(self.hass, vehicle_id)

    # --- notifications and their answers -----------------------------------------------------

    def _notify(
        self, device_id: str | None, kind: str, placeholders: dict[str, str | Text]
    ) -> None:
        """Tell the user's chosen notify target, if any (events are fired in any case)."""
        if target := self.entry.options.get(CONF_NOTIFY_TARGET):
            self.entry.async_create_background_task(
                self.hass,
                async_send(self.hass, target, kind, placeholders, device_id=device_id),
                "flexcharging notify",
            )

    @callback
    def _on_notification_action(self, event: Event) -> None:
        """A button of our notification was tapped in the Mobile App."""
        if (parsed := parse_action(event.data.get("action"))) is None:
            return
        answer, device_id = parsed
        vehicle_id = next(
            (vid for vid in self.manager.coordinator.data if self.names(vid)[1] == device_id),
            None,
        )
        if vehicle_id is not None:
            self.entry.async_create_background_task(
                self.hass, self._async_answer(vehicle_id, answer), "flexcharging answer"
            )

    async def _async_answer(self, vehicle_id: str, answer: str) -> None:
        """Charge now, skip tonight (hands off until unplugged), or ignore the warning."""
        try:
            if answer == "charge_now":
                await self.manager.async_start_now(vehicle_id)
            elif answer == "skip":
                await self.manager.async_skip(vehicle_id)
        except HomeAssistantError as err:
            # The problem and the warning stay: nothing was done about them.
            LOGGER.warning("Could not carry out the notification's answer: %s", err)
            await async_send(
                self.hass,
                self.entry.options.get(CONF_NOTIFY_TARGET),
                "answer_failed",
                {"vehicle": self.names(vehicle_id)[0], "error": str(err)},
                fallback=True,
            )
            return
        self.problem_solved(vehicle_id)
        await self.manager.async_ignore_risk(vehicle_id)
