"""Shared fixtures: Home Assistant, and a Smartcar-compatible emulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
    CONF_REQUEST_BUDGET,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
)
from emulator import DEFAULT_APP, DEFAULT_USER_ID, EmulatorOptions, EmulatorState, create_app
from tests.common import (
    CREDENTIAL_ID,
    FROZEN_NOW,
    HA_WEBHOOK_ID,
    Emulator,
    connect_fleet,
    entry_data,
    setup_integration,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom integrations in every test."""


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


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """A FlexCharging entry for the emulator's default user (not yet set up)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="FlexCharging",
        entry_id="01KFLEXCHARG1NGTESTENTRY00",  # fixed: the webhook device's ids derive from it
        unique_id=DEFAULT_USER_ID,
        data=entry_data(),
        options={CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET},
    )
    entry.add_to_hass(hass)
    return entry


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
    await setup_integration(hass, config_entry)
    return config_entry


# --- Shared by the platform, coordinator, repairs and diagnostics tests ---------------------------
# (Imported here, at the end, to keep this block self-contained.)
from collections.abc import Awaitable, Callable, Iterator  # noqa: E402
from datetime import timedelta  # noqa: E402
from unittest.mock import PropertyMock, patch  # noqa: E402

from freezegun.api import FrozenDateTimeFactory  # noqa: E402
from pytest_homeassistant_custom_component.common import async_fire_time_changed  # noqa: E402

from emulator import Clock  # noqa: E402


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

    async def _advance(delta: timedelta) -> None:
        freezer.tick(delta)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    return _advance


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


# Smart charging's fixtures (FlexCharging with a price sensor; both clocks moved together), for
# the tests of departures and trips as well.
from tests.test_smart_charging import advance, smart, smart_entry  # noqa: E402, F401
