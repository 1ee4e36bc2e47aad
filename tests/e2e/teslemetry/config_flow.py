"""The stand-in's config flow: one car, nothing to ask."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult


class StandInConfigFlow(ConfigFlow, domain="teslemetry"):
    """Add the car."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Create the entry at once."""
        return self.async_create_entry(title="Teslemetry", data={})
