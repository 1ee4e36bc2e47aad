"""Our texts made at run time (calendar events, logbook entries, pages): the "common" translations.

Home Assistant loads an integration's translations for its language when it sets the integration
up, with English under the keys a language lacks; these texts are read from that cache, so they
can be made in callbacks. A key missing everywhere shows as itself (a bug, not a crash).
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import async_get_cached_translations

from .const import DOMAIN


class Placeholders(dict[str, str]):
    """Placeholders for a text; one a translation names but we lack stays as it is."""

    def __missing__(self, key: str) -> str:
        """The placeholder itself, unfilled."""
        return f"{{{key}}}"


@callback
def cached_text(hass: HomeAssistant, key: str, **placeholders: object) -> str:
    """The text `key` of the "common" translations in Home Assistant's language."""
    translations = async_get_cached_translations(hass, hass.config.language, "common", DOMAIN)
    text = translations.get(f"component.{DOMAIN}.common.{key}", key)
    return text.format_map(Placeholders({name: str(value) for name, value in placeholders.items()}))
