"""Notifications of the watchdog and of a plan at risk (to a notify entity or service)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .const import LOGGER

NOTIFY = "notify"
# The Mobile App's actionable notifications: a tapped button comes back as this event.
EVENT_NOTIFICATION_ACTION = "mobile_app_notification_action"
ACTION_PREFIX = "FLEXCHARGING"
ANSWERS = {"charge_now": "Charge now", "skip": "Skip tonight", "ignore": "Ignore"}


def notification_actions(device_id: str) -> list[dict[str, str]]:
    """The buttons of a notification about one vehicle (its device id comes back with a tap)."""
    return [
        {"action": f"{ACTION_PREFIX}:{answer}:{device_id}", "title": title}
        for answer, title in ANSWERS.items()
    ]


def parse_action(action: object) -> tuple[str, str] | None:
    """The answer and device id of a tapped button of ours (None: not ours)."""
    if not isinstance(action, str):
        return None
    prefix, _, rest = action.partition(":")
    answer, _, device_id = rest.partition(":")
    if prefix != ACTION_PREFIX or answer not in ANSWERS or not device_id:
        return None
    return answer, device_id


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


async def async_notify(
    hass: HomeAssistant,
    target: str | None,
    title: str,
    message: str,
    actions: list[dict[str, str]] | None = None,
) -> None:
    """Send a notification; a target that went away is logged, not raised (nobody waits).

    Buttons (`actions`) go to notify services only: notify entities take a message alone.
    """
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
            data: dict[str, object] = {"title": title, "message": message}
            if actions:
                data["data"] = {"actions": actions}
            await hass.services.async_call(
                NOTIFY, target.removeprefix(f"{NOTIFY}."), data, blocking=True
            )
    except HomeAssistantError as err:
        LOGGER.warning("Could not notify %s: %s", target, err)
