"""Where the watchdog and a plan at risk send their notifications."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.flexcharging.notifications import (
    async_notify,
    notify_targets,
    parse_action,
)


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
