"""Notifications of the watchdog and of a plan at risk (to a notify entity or service)."""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN, LOGGER

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


class _Placeholders(dict[str, str]):
    """Placeholders for a text; one a translation names but we lack stays as it is."""

    def __missing__(self, key: str) -> str:
        return f"{{{key}}}"


async def async_text(hass: HomeAssistant, key: str, placeholders: Mapping[str, str]) -> str:
    """One of our texts (the "common" translations) in Home Assistant's language."""
    translations = await async_get_translations(hass, hass.config.language, "common", {DOMAIN})
    text = translations.get(f"component.{DOMAIN}.common.{key}", key)
    return text.format_map(_Placeholders(placeholders))


async def async_send(
    hass: HomeAssistant,
    target: str | None,
    key: str,
    placeholders: Mapping[str, str],
    *,
    fallback: bool = False,
) -> None:
    """Send our notification `key` (texts `<key>_title` and `<key>_message`), translated.

    Without a target it goes nowhere, or, with `fallback`, to Home Assistant's own
    notifications (for what must not go unsaid).
    """
    title = await async_text(hass, f"{key}_title", placeholders)
    message = await async_text(hass, f"{key}_message", placeholders)
    if target:
        await async_notify(hass, target, title, message)
    elif fallback:
        persistent_notification.async_create(hass, message, title)
