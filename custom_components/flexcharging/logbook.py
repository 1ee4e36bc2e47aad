"""Logbook entries for smart charging's decisions and the watchdog's problems."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components.logbook import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_CHARGING_DECISION, EVENT_CHARGING_PROBLEM

# The logbook shows untranslated text (as Home Assistant's own integrations do).
MESSAGES = {
    "start_plan": "started charging: a planned cheap slot began",
    "start_minimum": "started charging: the battery is below the minimum charge",
    "start_not_enough_time": "started charging: too little time is left to wait for cheap hours",
    "start_override": "started charging: Start charging now was pressed",
    "retry_start": "started charging again: the car was not charging",
    "stop_plan": "stopped charging: not in the plan now (a planned slot ended, or the plan moved)",
    "stop_auto_start": "stopped charging: the car started by itself on plug-in, outside the plan",
    "stop_target": "stopped charging: the target charge is reached",
    "retry_stop": "stopped charging again: the car was still charging",
    "user_took_over": "left charging to you until the car is unplugged",
    "start_failed": "could not start charging",
    "stop_failed": "could not stop charging",
    "target_reached": "did not start charging: the car says it is full",
    "start_solar": "started charging on solar surplus",
    "stop_solar": "stopped charging: no solar surplus, and no planned slot now",
    "start_opportunity": "started charging above the target: the price is at or below the threshold",
}

PROBLEMS = {
    "asleep": "the car is asleep",
    "unreachable": "the car cannot be reached",
    "no_key": "the virtual key is missing",
    "unplugged": "the car is not plugged in",
    "rate_limited": "a Smartcar rate or plan limit was reached",
    "no_effect": "the car ignored the command",
    "refused": "the car refused the command",
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str | None]]], None],
) -> None:
    """Describe smart charging's decision events."""

    @callback
    def describe(event: Event) -> dict[str, str | None]:
        data = event.data
        decision = str(data.get("decision") or "")
        message = MESSAGES.get(decision, f"smart charging decided: {decision or 'unknown'}")
        if detail := data.get("detail"):
            message = f"{message} ({detail})"
        return {
            LOGBOOK_ENTRY_NAME: data.get("vehicle") or "FlexCharging",
            LOGBOOK_ENTRY_MESSAGE: message,
            LOGBOOK_ENTRY_ENTITY_ID: data.get("entity_id"),
        }

    @callback
    def describe_problem(event: Event) -> dict[str, str | None]:
        data = event.data
        cause = str(data.get("cause") or "")
        action = "start" if data.get("action") == "start" else "stop"
        return {
            LOGBOOK_ENTRY_NAME: data.get("vehicle") or "FlexCharging",
            LOGBOOK_ENTRY_MESSAGE: f"did not {action} charging as planned: "
            + PROBLEMS.get(cause, cause or "unknown cause"),
            LOGBOOK_ENTRY_ENTITY_ID: data.get("entity_id"),
        }

    async_describe_event(DOMAIN, EVENT_CHARGING_DECISION, describe)
    async_describe_event(DOMAIN, EVENT_CHARGING_PROBLEM, describe_problem)
