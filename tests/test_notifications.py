"""Where the watchdog and a plan at risk send their notifications."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.core import HomeAssistant, ServiceCall
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service
import voluptuous as vol

from custom_components.flexcharging.notifications import (
    ANSWERS,
    NOTIFICATIONS,
    Text,
    async_actions,
    async_notify,
    async_text,
    notify_targets,
    parse_action,
)
from custom_components.flexcharging.planner import BlockReason
from custom_components.flexcharging.sessions import EnergySource
from custom_components.flexcharging.smart_charging.model import Problem

STRINGS = Path(__file__).parent.parent / "custom_components" / "flexcharging" / "strings.json"


async def test_targets_are_notify_entities_and_legacy_services(hass: HomeAssistant) -> None:
    """Entities and services such as the Mobile App's; the domain's own services are not."""
    hass.states.async_set("notify.kitchen_display", "unknown")
    hass.states.async_set("sensor.other", "1")
    for service in ("mobile_app_phone", "send_message", "persistent_notification"):
        async_mock_service(hass, "notify", service)
    assert notify_targets(hass) == ["notify.kitchen_display", "notify.mobile_app_phone"]


async def test_a_legacy_service_gets_title_and_message(hass: HomeAssistant) -> None:
    """notify.mobile_app_*: called with the title and the message."""
    sent = async_mock_service(hass, "notify", "mobile_app_phone")
    await async_notify(hass, "notify.mobile_app_phone", "Title", "Message")
    assert [call.data for call in sent] == [{"title": "Title", "message": "Message"}]


async def test_a_target_that_went_away_is_logged(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """The phone was removed since it was chosen: a warning, nothing raised."""
    await async_notify(hass, "notify.mobile_app_old_phone", "Title", "Message")
    assert "Could not notify notify.mobile_app_old_phone" in caplog.text


async def test_a_target_that_refuses_the_data_is_logged(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A notify service whose schema refuses a title: one warning, nothing raised."""

    async def handle(call: ServiceCall) -> None:
        raise AssertionError("not called: the schema refuses the data")

    hass.services.async_register(
        "notify", "strict", handle, schema=vol.Schema({vol.Required("message"): str})
    )
    await async_notify(hass, "notify.strict", "Title", "Message")
    warnings = [record for record in caplog.records if "Could not notify" in record.message]
    assert [(record.levelname, record.exc_info) for record in warnings] == [("WARNING", None)]


async def test_no_target_sends_nothing(hass: HomeAssistant) -> None:
    """None chosen: events only."""
    sent = async_mock_service(hass, "notify", "send_message")
    await async_notify(hass, None, "Title", "Message")
    assert sent == []


@pytest.mark.parametrize(
    ("action", "parsed"),
    [
        ("FLEXCHARGING:charge_now:abc123", ("charge_now", "abc123")),
        ("FLEXCHARGING:skip:abc123", ("skip", "abc123")),
        ("FLEXCHARGING:ignore:abc123", ("ignore", "abc123")),
        ("FLEXCHARGING:explode:abc123", None),
        ("FLEXCHARGING:ignore:", None),
        ("OTHER_APP:ignore:abc123", None),
        (None, None),
    ],
    ids=["charge_now", "skip", "ignore", "unknown_answer", "no_device", "not_ours", "no_action"],
)
def test_parse_action(action: object, parsed: tuple[str, str] | None) -> None:
    """Only our buttons, with a known answer and a device, are answered."""
    assert parse_action(action) == parsed


async def test_every_text_resolves(hass: HomeAssistant) -> None:
    """Every notification, button and cause has its translation, its placeholders filled.

    And every text translated is one of them.
    """
    keys = [
        *(f"{kind}_{part}" for kind in NOTIFICATIONS for part in ("title", "message")),
        *(f"action_{answer}" for answer in ANSWERS),
        *(f"cause_{problem}" for problem in Problem),
    ]
    placeholders: dict[str, str | Text] = {
        "vehicle": "Model Y",
        "target": "80",
        "reachable": "64",
        "ready_by": "07:00",
        "error": "It is asleep",
        "cause": Text("cause_asleep"),
    }
    for key in keys:
        text = await async_text(hass, key, placeholders)
        assert text != key
        assert "{" not in text, key
    common = set(json.loads(STRINGS.read_text())["common"])
    # The rest of the run-time texts: the logbook's (test_logbook), the calendar's events
    # (test_session_log) and the Connect page's (test_config_flow).
    others = {
        *(key for key in common if key.startswith("logbook_")),
        *(f"reason_{reason}" for reason in BlockReason),
        *(f"energy_source_{source}" for source in EnergySource),
        "calendar_planned",
        "calendar_reason",
        "calendar_energy",
        "calendar_estimated_cost",
        "session_summary",
        "session_energy",
        "session_levels",
        "session_cost",
        "session_saving",
        "connect_done",
    }
    assert common == set(keys) | others
    assert await async_text(hass, "stop_problem_message", placeholders) == (
        "Model Y did not stop charging as planned (asleep). See Repairs."
    )


async def test_buttons_are_translated(hass: HomeAssistant) -> None:
    """The buttons carry the vehicle's device and their titles in Home Assistant's language."""
    assert await async_actions(hass, "abc123") == [
        {"action": "FLEXCHARGING:charge_now:abc123", "title": "Charge now"},
        {"action": "FLEXCHARGING:skip:abc123", "title": "Skip tonight"},
        {"action": "FLEXCHARGING:ignore:abc123", "title": "Ignore"},
    ]


async def test_a_text_with_a_placeholder_we_lack_keeps_it(hass: HomeAssistant) -> None:
    """A translation naming a placeholder we do not pass shows it as it is (nothing raised)."""
    assert await async_text(hass, "plan_at_risk_title", {}) == "{vehicle}: plan at risk"
