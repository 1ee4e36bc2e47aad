"""Logbook entries for smart charging's decisions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.components.logbook import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.components.recorder import Recorder
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.flexcharging.const import (
    DOMAIN,
    EVENT_CHARGING_DECISION,
    EVENT_CHARGING_PROBLEM,
)
from custom_components.flexcharging.logbook import DETAILS, async_describe_events
from custom_components.flexcharging.smart_charging import Decision
from custom_components.flexcharging.smart_charging.model import Problem

type Describer = Callable[[Event], dict[str, str | None]]

DECISION_ENTITY = "sensor.2024_tesla_model_y_last_smart_charging_decision"
INTEGRATION = Path(__file__).parents[1] / "custom_components" / DOMAIN


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """As in conftest, but the recorder's database first: it must exist before `hass`."""


async def describer(hass: HomeAssistant, event_type: str = EVENT_CHARGING_DECISION) -> Describer:
    """Register the integration's describers with a collector; return the event's one.

    The integration's translations are loaded first, as setting it up does.
    """
    await async_get_translations(hass, hass.config.language, "common", {DOMAIN})
    registered: list[tuple[str, str, Describer]] = []

    def collect(domain: str, event_type: str, describe: Describer) -> None:
        registered.append((domain, event_type, describe))

    async_describe_events(hass, collect)
    assert [(domain, event) for domain, event, _ in registered] == [
        (DOMAIN, EVENT_CHARGING_DECISION),
        (DOMAIN, EVENT_CHARGING_PROBLEM),
    ]
    return next(describe for _, event, describe in registered if event == event_type)


def decision_data(decision: str, detail: str | None = None) -> dict[str, Any]:
    """An event's data as smart charging fires it."""
    return {
        "device_id": "0c5b1d6e3f4a4b2c9d8e7f6a5b4c3d2e",
        "entity_id": DECISION_ENTITY,
        "vehicle": "2024 Tesla Model Y",
        "decision": decision,
        "detail": detail,
    }


@pytest.mark.parametrize(
    ("data", "name", "message", "entity_id"),
    [
        (
            decision_data("start_plan"),
            "2024 Tesla Model Y",
            "started charging: a planned cheap slot began",
            DECISION_ENTITY,
        ),
        (
            decision_data("start_plan", "failed: vehicle_asleep"),
            "2024 Tesla Model Y",
            "started charging: a planned cheap slot began (the command failed: the car is asleep)",
            DECISION_ENTITY,
        ),
        (
            decision_data("user_took_over", "charging_started_elsewhere"),
            "2024 Tesla Model Y",
            (
                "left charging to you until the car is unplugged (charging was started in the car "
                "or its app)"
            ),
            DECISION_ENTITY,
        ),
        (
            {**decision_data("start_solar", "surplus"), "kw": 3.1},
            "2024 Tesla Model Y",
            "started charging on solar surplus (solar surplus 3.1 kW)",
            DECISION_ENTITY,
        ),
        (
            {**decision_data("stop_house_at_limit", "room"), "kw": 1.5},
            "2024 Tesla Model Y",
            (
                "stopped charging: the house is at its power limit (1.5 kW of room under the site "
                "limit)"
            ),
            DECISION_ENTITY,
        ),
        (
            decision_data("start_plan", "failed: a_refusal_of_a_newer_version"),
            "2024 Tesla Model Y",
            (
                "started charging: a planned cheap slot began (the command failed: "
                "a_refusal_of_a_newer_version)"
            ),
            DECISION_ENTITY,
        ),
        (
            decision_data("pause_for_solar"),
            "2024 Tesla Model Y",
            "smart charging decided: pause_for_solar",
            DECISION_ENTITY,
        ),
        (
            {"decision": "stop_target", "vehicle": None, "entity_id": None, "detail": ""},
            "FlexCharging",
            "stopped charging: the target charge is reached",
            None,
        ),
    ],
    ids=[
        "without_detail",
        "with_detail",
        "took_over",
        "solar_surplus",
        "site_room",
        "unknown_refusal",
        "unknown_decision",
        "no_vehicle_or_entity",
    ],
)
async def test_describe(
    hass: HomeAssistant,
    data: dict[str, Any],
    name: str,
    message: str,
    entity_id: str | None,
) -> None:
    """The vehicle is the name; the message explains the decision and adds any detail."""
    describe = await describer(hass)
    assert describe(Event(EVENT_CHARGING_DECISION, data)) == {
        LOGBOOK_ENTRY_NAME: name,
        LOGBOOK_ENTRY_MESSAGE: message,
        LOGBOOK_ENTRY_ENTITY_ID: entity_id,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"vehicle": "2024 Tesla Model Y", "cause": "asleep", "action": "start"},
            "did not start charging as planned: the car is asleep",
        ),
        (
            {"vehicle": "2024 Tesla Model Y", "cause": "no_effect", "action": "stop"},
            "did not stop charging as planned: the car ignored the command",
        ),
        ({"vehicle": None, "cause": None}, "did not stop charging as planned: unknown cause"),
    ],
    ids=["start_asleep", "stop_no_effect", "unknown"],
)
async def test_describe_problem(hass: HomeAssistant, data: dict[str, Any], message: str) -> None:
    """A watchdog problem: the vehicle, what it did not do, and why."""
    describe = await describer(hass, EVENT_CHARGING_PROBLEM)
    entry = describe(Event(EVENT_CHARGING_PROBLEM, {**data, "entity_id": DECISION_ENTITY}))
    assert entry[LOGBOOK_ENTRY_MESSAGE] == message
    assert entry[LOGBOOK_ENTRY_NAME] == (data["vehicle"] or "FlexCharging")


def test_every_problem_and_decision_has_a_text() -> None:
    """Each watchdog cause, decision and detail is explained in the translations, nothing else."""
    common = json.loads((INTEGRATION / "strings.json").read_text())["common"]
    causes = {
        key.removeprefix("logbook_cause_") for key in common if key.startswith("logbook_cause_")
    }
    assert causes == {problem.value for problem in Problem}
    details = {
        key.removeprefix("logbook_detail_") for key in common if key.startswith("logbook_detail_")
    }
    assert details == {*DETAILS, "failed"}
    texts = {
        key.removeprefix("logbook_")
        for key in common
        if key.startswith("logbook_") and not key.startswith(("logbook_cause_", "logbook_detail_"))
    }
    assert texts - {"unknown_decision", "start_problem", "stop_problem", "unknown_cause"} == {
        decision.value for decision in Decision
    }


async def test_texts_follow_home_assistant_s_language(hass: HomeAssistant) -> None:
    """Another language's text is used where it has one; English where it lacks it."""
    german = {
        f"component.{DOMAIN}.common.logbook_stop_target": "Laden beendet: Ziel erreicht",
    }
    english = await async_get_translations(hass, "en", "common", {DOMAIN})
    hass.config.language = "de"

    def cached(hass: HomeAssistant, language: str, category: str, domain: str) -> dict[str, str]:
        assert (language, category, domain) == ("de", "common", DOMAIN)
        return {**english, **german}

    with patch("custom_components.flexcharging.texts.async_get_cached_translations", cached):
        describe = await describer(hass)
        stop = describe(Event(EVENT_CHARGING_DECISION, decision_data("stop_target")))
        start = describe(Event(EVENT_CHARGING_DECISION, decision_data("start_plan")))
    assert stop[LOGBOOK_ENTRY_MESSAGE] == "Laden beendet: Ziel erreicht"
    assert start[LOGBOOK_ENTRY_MESSAGE] == "started charging: a planned cheap slot began"


async def test_logbook_shows_the_decision(
    recorder_mock: Recorder, hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    """Home Assistant's logbook finds the platform and shows the decision in words."""
    hass.config.components.add(DOMAIN)
    # The logbook depends on `frontend`, whose setup serves the UI's files (home-assistant-frontend,
    # a development requirement). The logbook only registers a panel with it, which works without
    # them: marked as loaded, the test needs nothing beyond requirements_test.txt.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    await hass.async_block_till_done()
    start = dt_util.utcnow()

    hass.bus.async_fire(
        EVENT_CHARGING_DECISION, decision_data("stop_auto_start", "plugged_in_outside_plan")
    )
    hass.bus.async_fire(EVENT_CHARGING_DECISION, decision_data("stop_target"))
    await async_wait_recording_done(hass)

    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": (start - timedelta(seconds=1)).isoformat(),
            "end_time": (dt_util.utcnow() + timedelta(seconds=1)).isoformat(),
        }
    )
    response = await client.receive_json()
    assert response["success"], response
    entries = [
        {key: entry.get(key) for key in ("name", "message", "domain", "entity_id")}
        for entry in response["result"]
        if entry.get("domain") == DOMAIN
    ]
    assert entries == [
        {
            "name": "2024 Tesla Model Y",
            "message": "stopped charging: the car started by itself on plug-in, outside the plan"
            " (plugged_in_outside_plan)",
            "domain": DOMAIN,
            "entity_id": DECISION_ENTITY,
        },
        {
            "name": "2024 Tesla Model Y",
            "message": "stopped charging: the target charge is reached",
            "domain": DOMAIN,
            "entity_id": DECISION_ENTITY,
        },
    ]
