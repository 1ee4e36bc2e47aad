"""Fixtures for the emulator tests: the emulator on 127.0.0.1, a client and a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from .helpers import (
    Api,
    Emulator,
    Receiver,
    make_state,
    start_emulator,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the repository-wide autouse fixture: these tests need no Home Assistant."""


@pytest.fixture
async def emulator(socket_enabled: None) -> AsyncIterator[Emulator]:
    """The emulator on 127.0.0.1 with a free port."""
    state = make_state()
    server, handle = await start_emulator(state)
    try:
        yield handle
    finally:
        await server.close()
        await state.close()


@pytest.fixture
async def http(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client session."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def api(emulator: Emulator, http: aiohttp.ClientSession) -> Api:
    """An authenticated client of the emulator."""
    client = Api(http, emulator.base_url)
    await client.authenticate()
    return client


@pytest.fixture
async def receiver(socket_enabled: None) -> AsyncIterator[Receiver]:
    """A webhook receiver on 127.0.0.1."""
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hook.url = str(server.make_url("/hook"))
    try:
        yield hook
    finally:
        await server.close()
