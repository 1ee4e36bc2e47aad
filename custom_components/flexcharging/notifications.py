"""Notifications of the watchdog and of a plan at risk (to a notify entity or service)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .const import LOGGER

NOTIFY = "notify"
# Services of the notify domain that are not a target of their own.
NOT_TARGETS = {"send_message", "persistent_notification"}


def notify_targets(hass: HomeAssistant) -> list[str]:
    """Every notify entity, and every legacy notify service (such as notify.mobile_app_*)."""
    entities = hass.states.async_entity_ids(NOTIFY)
    services = [
        f"{NOTIFY}.{service}"
        for service in hass.services.async_services_for_domain(NOTIFY)
        if service not in NOT_TARGETS
    ]
    return sorted({*entities, *services})


async def async_notify(hass: HomeAssistant, target: str | None, title: str, message: str) -> None:
    """Send a notification; a target that went away is logged, not raised (nobody waits)."""
    if not target:
        return
    try:
        if hass.states.get(target) is not None:
            await hass.services.async_call(
                NOTIFY,
                "send_message",
                {"entity_id": target, "title": title, "message": message},
                blocking=True,
            )
        else:
            await hass.services.async_call(
                NOTIFY,
                target.removeprefix(f"{NOTIFY}."),
                {"title": title, "message": message},
                blocking=True,
            )
    except HomeAssistantError as err:
        LOGGER.warning("Could not notify %s: %s", target, err)
