"""Fixtures for the Smartcar API client tests: a local Smartcar stand-in and the documented payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from .helpers import FakeSmartcar


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the repository-wide autouse fixture: these tests need no Home Assistant."""


@pytest.fixture
async def smartcar(socket_enabled: None) -> AsyncIterator[FakeSmartcar]:
    """A local Smartcar stand-in on 127.0.0.1 (the socket guard still refuses other hosts)."""
    fake = FakeSmartcar()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.dispatch)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.base_url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        fake.release.set()
        await server.close()
