"""Shared fixtures: Home Assistant, and a Smartcar-compatible emulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestServer
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Imported before the `hass` fixture runs: pytest-homeassistant-custom-component ships its own
# `custom_components` package, and Home Assistant only finds ours when it is imported first.
import custom_components.flexcharging  # noqa: F401
from custom_components.flexcharging.api import ORIGIN_OVERRIDE_VARIABLE
from custom_components.flexcharging.const import (
    CONF_APPLICATION_ID,
    CONF_CLOUDHOOK_URL,
    CONF_MANAGEMENT_TOKEN,
    CONF_READ_LOCATION,
    CONF_REQUEST_BUDGET,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_USER_ID,
    CONF_WEBHOOK_ID,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
)
from emulator import (
    DEFAULT_APP,
    DEFAULT_USER_ID,
    EmulatorOptions,
    EmulatorState,
    create_app,
)

CREDENTIAL_ID = "smartcar_app"
SMARTCAR_WEBHOOK_ID = "5a8e0000-0000-4000-8000-0000000000aa"
HA_WEBHOOK_ID = "flexcharging_test_webhook"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom integrations in every test."""


@dataclass
class Emulator:
    """A running emulator: its state (to drive it from tests) and its origin."""

    state: EmulatorState
    origin: str


@pytest.fixture
async def emulator(
    monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> AsyncIterator[Emulator]:
    """Start the Smartcar emulator on 127.0.0.1 and point the integration at it."""
    state = EmulatorState(
        options=EmulatorOptions(retry_delay_scale=0.0, tick_interval=0.0, delivery_timeout=2.0)
    )
    server = TestServer(create_app(state), host="127.0.0.1", access_log=None)
    await server.start_server()
    origin = f"http://127.0.0.1:{server.port}"
    monkeypatch.setenv(ORIGIN_OVERRIDE_VARIABLE, origin)
    try:
        yield Emulator(state=state, origin=origin)
    finally:
        await state.close()
        await server.close()


@pytest.fixture
async def credentials(hass: HomeAssistant) -> None:
    """The Smartcar client id and secret, stored as Application Credentials."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass,
        DOMAIN,
        ClientCredential(DEFAULT_APP.client_id, DEFAULT_APP.client_secret),
        CREDENTIAL_ID,
    )


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
    }
    data.update(overrides)
    return data


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """A FlexCharging entry for the emulator's default user (not yet set up)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="FlexCharging",
        unique_id=DEFAULT_USER_ID,
        data=entry_data(),
        options={CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET},
    )
    entry.add_to_hass(hass)
    return entry


async def connect_fleet(emulator: Emulator, *, subscribe: bool = True) -> None:
    """Connect the default fleet (as Connect's approval does) and subscribe it to a webhook.

    The webhook is marked verified without a receiver, so the signal store is served.
    """
    state = emulator.state
    state.connect()
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


@pytest.fixture
async def connected_fleet(emulator: Emulator) -> Emulator:
    """The emulator with the default fleet connected and subscribed."""
    await connect_fleet(emulator)
    return emulator


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    credentials: None,
    connected_fleet: Emulator,
    config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """FlexCharging set up against the emulator's connected fleet."""
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


# --- Shared by the platform, coordinator, repairs and diagnostics tests ---------------------------
# (Imported here, at the end, to keep this block self-contained.)
from collections.abc import Awaitable, Callable, Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from unittest.mock import PropertyMock, patch  # noqa: E402

from freezegun.api import FrozenDateTimeFactory  # noqa: E402
from pytest_homeassistant_custom_component.common import async_fire_time_changed  # noqa: E402

from emulator import Clock  # noqa: E402

FROZEN_NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def frozen_emulator(emulator: Emulator, freezer: FrozenDateTimeFactory) -> Emulator:
    """Home Assistant and the emulator on one frozen clock (deterministic states and snapshots).

    Request it before `connected_fleet`/`init_integration` so the fleet is rebuilt on that clock.
    """
    freezer.move_to(FROZEN_NOW)
    emulator.state.clock = Clock(start=FROZEN_NOW, speed=0.0)
    emulator.state.reset()
    return emulator


@pytest.fixture
def advance_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> Callable[[timedelta], Awaitable[None]]:
    """Move Home Assistant's (frozen) time forward, fire the timers now due, and settle."""

    async def advance(delta: timedelta) -> None:
        freezer.tick(delta)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    return advance


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create every entity enabled, including those disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
async def setup_platform(
    hass: HomeAssistant,
    credentials: None,
    connected_fleet: Emulator,
    config_entry: MockConfigEntry,
) -> AsyncIterator[Callable[[str], Awaitable[MockConfigEntry]]]:
    """Set the entry up with one platform only (for `snapshot_platform`); unload it at the end."""
    patcher: Any = None

    async def _setup(platform: str) -> MockConfigEntry:
        nonlocal patcher
        patcher = patch("custom_components.flexcharging.PLATFORMS", [platform])
        patcher.start()
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
        return config_entry

    yield _setup
    if patcher is not None:
        await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()
        patcher.stop()


@pytest.fixture
async def post_webhook(
    hass: HomeAssistant, hass_client_no_auth: Any
) -> Callable[..., Awaitable[Any]]:
    """Post a Smartcar delivery to the entry's webhook, signed with the AMT unless told otherwise.

    `post_webhook(payload, signature=None)`: `payload` is a dict (sent as JSON) or raw bytes;
    `signature` replaces the correct one (`""` sends none). Returns the aiohttp response.
    """
    import json

    from emulator import sign

    clients: list[Any] = []  # made at the first post: after setup, once the routes exist

    async def _post(payload: dict[str, Any] | bytes, signature: str | None = None) -> Any:
        if not clients:
            clients.append(await hass_client_no_auth())
        client = clients[0]
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        value = sign(DEFAULT_APP.amt, raw) if signature is None else signature
        if value:
            headers["SC-Signature"] = value
        response = await client.post(f"/api/webhook/{HA_WEBHOOK_ID}", data=raw, headers=headers)
        await hass.async_block_till_done()
        return response

    return _post


@pytest.fixture
def snapshot(snapshot: Any) -> Any:
    """Syrupy with Home Assistant's serializer, stored in tests/snapshots (as in core)."""
    from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension

    return snapshot.use_extension(HomeAssistantSnapshotExtension)


class CloudNotAvailableError(Exception):
    """Stands in for homeassistant.components.cloud.CloudNotAvailable."""


@pytest.fixture
def cloud(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A stand-in `homeassistant.components.cloud`, loaded as far as the integration can tell.

    The real module imports camera/stream components whose requirements (turbojpeg, av) the
    test environment does not install.
    """
    import sys
    import types
    from unittest.mock import AsyncMock

    module = types.ModuleType("homeassistant.components.cloud")
    module.CloudNotAvailable = CloudNotAvailableError  # type: ignore[attr-defined]
    module.async_delete_cloudhook = AsyncMock()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "homeassistant.components.cloud", module)
    monkeypatch.setattr("homeassistant.components.cloud", module, raising=False)
    hass.config.components.add("cloud")
    return module
