"""Helpers shared by the tests (fixtures stay in conftest.py): ids, entry data, the fleet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexcharging.const import (
    CONF_APPLICATION_ID,
    CONF_CLOUDHOOK_URL,
    CONF_MANAGEMENT_TOKEN,
    CONF_READ_LOCATION,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_USER_ID,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOK_VERIFIED,
)
from emulator import ALL_PERMISSIONS, DEFAULT_APP, DEFAULT_USER_ID, EmulatorState

CREDENTIAL_ID = "smartcar_app"
SMARTCAR_WEBHOOK_ID = "5a8e0000-0000-4000-8000-0000000000aa"
HA_WEBHOOK_ID = "flexcharging_test_webhook"


FROZEN_NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)


@dataclass
class Emulator:
    """A running emulator: its state (to drive it from tests) and its origin."""

    state: EmulatorState
    origin: str


def entry_data(**overrides: Any) -> dict[str, Any]:
    """Config entry data as the config flow writes it, for the emulator's default account."""
    data: dict[str, Any] = {
        "auth_implementation": CREDENTIAL_ID,
        CONF_APPLICATION_ID: DEFAULT_APP.application_id,
        CONF_MANAGEMENT_TOKEN: DEFAULT_APP.amt,
        CONF_READ_LOCATION: False,
        CONF_USER_ID: DEFAULT_USER_ID,
        CONF_WEBHOOK_ID: HA_WEBHOOK_ID,
        CONF_CLOUDHOOK_URL: None,
        CONF_SMARTCAR_WEBHOOK_ID: SMARTCAR_WEBHOOK_ID,
        CONF_WEBHOOK_VERIFIED: True,
    }
    data.update(overrides)
    return data


async def connect_fleet(
    emulator: Emulator, *, subscribe: bool = True, permissions: Iterable[str] = ALL_PERMISSIONS
) -> None:
    """Connect the default fleet (as Connect's approval does) and subscribe it to a webhook.

    The webhook is marked verified without a receiver, so the signal store is served.
    """
    state = emulator.state
    state.connect(permissions=permissions)
    if subscribe:
        await state.create_webhook(
            "http://127.0.0.1:9/api/webhook/unused",
            webhook_id=SMARTCAR_WEBHOOK_ID,
            verify=False,
            verified=True,
        )
        for vehicle_id in list(state.vehicles):
            state.subscribe(SMARTCAR_WEBHOOK_ID, vehicle_id)
        await state.wait_for_deliveries()


async def setup_integration(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up the entry and wait until it has settled."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


# Smartcar behaviours the documentation allows in more than one way (issue #12): the emulator
# option changes that produce each; "documented" is the emulator's default.
SMARTCAR_VARIANTS: dict[str, dict[str, Any]] = {
    "documented": {},
    **{
        name: {"signal_variants": [name]}
        for name in (
            "location_only_limit",
            "connector_only_limit",
            "wattage_without_unit",
            "range_unit_default",
            "soc_percentage",
            "unknown_charging_status",
            "unknown_signal",
            "status_omitted",
            "no_energy_added",
        )
    },
    "observed_rest": {"rest_timestamps": "iso", "paging_meta": "pageNumber"},
    "launch_post_subscriptions": {"subscription_paths": "launch_post"},
    "both_subscription_paths": {"subscription_paths": "both"},
    "connect_redirect_with_code": {"connect_redirect": "with_code"},
    "connect_redirect_code_only": {"connect_redirect": "code_only"},
    "flat_errors": {"error_shape": "v3"},
    "phone_key_signal": {"keyless_key_status": "true"},
}
