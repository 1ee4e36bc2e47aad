"""Notifications of the watchdog and of a plan at risk (to a notify entity or service).

Their texts are the integration's "common" translations, in Home Assistant's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.translation import async_get_translations
import voluptuous as vol

from .const import DOMAIN, LOGGER
from .texts import Placeholders

NOTIFY = "notify"
# The Mobile App's actionable notifications: a tapped button comes back as this event.
EVENT_NOTIFICATION_ACTION = "mobile_app_notification_action"
ACTION_PREFIX = "FLEXCHARGING"
# The buttons of a notification about a vehicle; each one's title is the text action_<answer>.
ANSWERS = ("charge_now", "skip", "ignore")
# Our notifications; each one's texts are <kind>_title and <kind>_message.
NOTIFICATIONS = ("plan_at_risk", "start_problem", "stop_problem", "answer_failed")


@dataclass(frozen=True, slots=True)
class Text:
    """A placeholder that is one of our texts itself (so translated too)."""

    key: str


async def async_actions(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """The buttons of a notification about one vehicle (its device id comes back with a tap)."""
    return [
        {
            "action": f"{ACTION_PREFIX}:{answer}:{device_id}",
            "title": await async_text(hass, f"action_{answer}", {}),
        }
        for answer in ANSWERS
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
    except (HomeAssistantError, vol.Invalid) as err:
        # Gone (ServiceNotFound), refusing our data (vol.Invalid) or failing: said, not raised.
        LOGGER.warning("Could not notify %s: %s", target, err)


async def async_text(hass: HomeAssistant, key: str, placeholders: Mapping[str, str | Text]) -> str:
    """One of our texts (the "common" translations) in Home Assistant's language."""
    translations = await async_get_translations(hass, hass.config.language, "common", {DOMAIN})
    values = {
        name: await async_text(hass, value.key, {}) if isinstance(value, Text) else value
        for name, value in placeholders.items()
    }
    text = translations.get(f"component.{DOMAIN}.common.{key}", key)
    return text.format_map(Placeholders(values))


async def async_send(
    hass: HomeAssistant,
    target: str | None,
    kind: str,
    placeholders: Mapping[str, str | Text],
    *,
    device_id: str | None = None,
    fallback: bool = False,
) -> None:
    """Send one of our NOTIFICATIONS, translated; with the answer buttons for a device.

    Without a target it goes nowhere, or, with `fallback`, to Home Assistant's own
    notifications (for what must not go unsaid).
    """
    title = await async_text(hass, f"{kind}_title", placeholders)
    message = await async_text(hass, f"{kind}_message", placeholders)
    if target:
        actions = await async_actions(hass, device_id) if device_id else None
        await async_notify(hass, target, title, message, actions)
    elif fallback:
        persistent_notification.async_create(hass, message, title)
