"""Where the watchdog and a plan at risk send their notifications."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.flexcharging.notifications import async_notify, notify_targets


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
