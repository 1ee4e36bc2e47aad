"""Diagnostics: useful for support, with every identifier and secret redacted."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.flexcharging.const import DOMAIN
from emulator import DEFAULT_APP, DEFAULT_USER_ID, MODEL_Y_ID
from tests.common import HA_WEBHOOK_ID, SMARTCAR_WEBHOOK_ID, Emulator

SECRETS = (
    # the VINs of the default fleet
    "5YJ3E1EA7PF000001",
    "7SAYGDEE5RF000002",
    "5YJSA1E26KF000003",
    "WVGZZZE2ZPP000004",
    DEFAULT_USER_ID,
    DEFAULT_APP.application_id,
    DEFAULT_APP.amt,
    DEFAULT_APP.client_secret,
    HA_WEBHOOK_ID,
    SMARTCAR_WEBHOOK_ID,
)


def assert_nothing_secret(data: Any) -> None:
    """None of the identifiers and secrets appear anywhere in the JSON text."""
    text = json.dumps(data)
    for secret in SECRETS:
        assert secret not in text, secret
    # Nor the vehicles' positions.
    assert "52.37" not in text


async def test_config_entry_diagnostics(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    hass_client: Any,
    snapshot: SnapshotAssertion,
) -> None:
    """The whole entry: settings, budget, and every vehicle's state."""
    data = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert data == snapshot
    assert_nothing_secret(data)
    assert data["billable_requests_since_start"] == 4
    assert len(data["vehicles"]) == 4


async def test_device_diagnostics(
    hass: HomeAssistant,
    *,
    frozen_emulator: Emulator,
    init_integration: MockConfigEntry,
    hass_client: Any,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """One vehicle."""
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, MODEL_Y_ID), init_integration.entry_id
    )
    assert device is not None
    data = await get_diagnostics_for_device(hass, hass_client, init_integration, device)
    assert data == snapshot
    assert_nothing_secret(data)
    assert data["vehicle"]["info"]["model"] == "Model Y"


async def test_device_diagnostics_of_a_stale_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client: Any,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A device whose vehicle is not on the account (any more)."""
    device = device_registry.async_get_or_create(
        config_entry_id=init_integration.entry_id, identifiers={(DOMAIN, "gone")}
    )
    data = await get_diagnostics_for_device(hass, hass_client, init_integration, device)
    assert data == {"vehicle": None}


async def test_downloaded_file_has_nothing_secret(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client: Any
) -> None:
    """The whole download (Home Assistant's own parts and the repairs included)."""
    await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    client = await hass_client()
    response = await client.get(f"/api/diagnostics/config_entry/{init_integration.entry_id}")
    assert response.status == 200
    text = await response.text()
    for secret in SECRETS:
        assert secret not in text, secret
