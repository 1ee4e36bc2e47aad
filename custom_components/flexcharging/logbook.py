"""Logbook entries for smart charging's decisions and the watchdog's problems."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components.logbook import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_CHARGING_DECISION, EVENT_CHARGING_PROBLEM, Refusal
from .smart_charging.model import REFUSED_PREFIX, Decision, Problem
from .texts import cached_text

# Their texts are the "common" translations logbook_<decision> and logbook_cause_<problem>.
DECISIONS = frozenset(decision.value for decision in Decision)
# Decisions whose detail is the other car of a shared charger: their text names it.
ABOUT_OTHER_CAR = frozenset({Decision.STOP_FOR_OTHER_CAR.value, Decision.WAIT_FOR_OTHER_CAR.value})
CAUSES = frozenset(problem.value for problem in Problem)
# Decision details with a text of their own, logbook_detail_<code> ({kw} where it has a power).
DETAILS = frozenset(
    {
        *(refusal.value for refusal in Refusal),
        "no_effect",
        Problem.TOO_MANY_COMMANDS.value,
        "charging_started_elsewhere",
        "charging_stopped_elsewhere",
        "charging_switch",
        "start_charging_now",
        "skip_tonight",
        "surplus",
        "room",
        "no_reading",
    }
)


def detail_text(hass: HomeAssistant, detail: str, kw: object = None) -> str:
    """A decision's detail in Home Assistant's language (an unknown one as it is)."""
    if detail.startswith(REFUSED_PREFIX):
        reason = detail_text(hass, detail.removeprefix(REFUSED_PREFIX))
        return cached_text(hass, "logbook_detail_failed", reason=reason)
    if detail in DETAILS:
        return cached_text(hass, f"logbook_detail_{detail}", kw="?" if kw is None else kw)
    return detail


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
        detail = data.get("detail")
        if decision in ABOUT_OTHER_CAR:
            message = cached_text(hass, f"logbook_{decision}", other_car=detail or "?")
            detail = None
        elif decision in DECISIONS:
            message = cached_text(hass, f"logbook_{decision}")
        else:
            message = cached_text(hass, "logbook_unknown_decision", decision=decision or "?")
        if detail:
            message = f"{message} ({detail_text(hass, str(detail), data.get('kw'))})"
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
            LOGBOOK_ENTRY_MESSAGE: cached_text(
                hass,
                f"logbook_{action}_problem",
                cause=cached_text(
                    hass,
                    f"logbook_cause_{cause}" if cause in CAUSES else "logbook_unknown_cause",
                ),
            ),
            LOGBOOK_ENTRY_ENTITY_ID: data.get("entity_id"),
        }

    async_describe_event(DOMAIN, EVENT_CHARGING_DECISION, describe)
    async_describe_event(DOMAIN, EVENT_CHARGING_PROBLEM, describe_problem)
