"""Helpers for the Smartcar API client tests: the documented payloads and a local Smartcar stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
import pytest

from custom_components.flexcharging.api.errors import SmartcarParseError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "api"


def load_fixture(name: str) -> Any:
    """The decoded JSON of `tests/fixtures/api/<name>`."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_bytes(name: str) -> bytes:
    """The raw bytes of `tests/fixtures/api/<name>` (webhook deliveries are signed over raw bytes)."""
    return (FIXTURES / name).read_bytes()


@dataclass
class RecordedRequest:
    """What the stand-in server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FakeSmartcar:
    """A local HTTP server with canned answers per `(method, path)`; records every request.

    A route holds a list of responses used in turn (the last one repeats), or a handler.
    """

    base_url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    routes: dict[tuple[str, str], list[Any] | Handler] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def add(
        self,
        method: str,
        path: str,
        *responses: web.StreamResponse | Callable[[], web.StreamResponse],
    ) -> None:
        """Answer `method path` with these responses, in turn."""
        self.routes[(method, path)] = list(responses)

    def handle(self, method: str, path: str, handler: Handler) -> None:
        """Answer `method path` with a handler."""
        self.routes[(method, path)] = handler

    def token(self, access_token: str = "tok-1", expires_in: float = 3600, **extra: Any) -> None:  # noqa: S107
        """Answer the token endpoint with one token."""
        self.add(
            "POST",
            "/oauth2/token",
            json_response(
                {
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                    **extra,
                }
            ),
        )

    def to(self, method: str, path: str) -> list[RecordedRequest]:
        """The requests received for `method path`."""
        return [r for r in self.requests if r.method == method and r.path == path]

    @property
    def api_requests(self) -> list[RecordedRequest]:
        """Every request except token requests."""
        return [r for r in self.requests if r.path != "/oauth2/token"]

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Record the request and answer it."""
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=CIMultiDict(request.headers),
                body=await request.read(),
            )
        )
        route = self.routes.get((request.method, request.path))
        if route is None:
            return web.json_response(
                {"type": "RESOURCE_NOT_FOUND", "code": "PATH", "description": "no route"},
                status=404,
            )
        if callable(route):
            return await route(request)
        response = route.pop(0) if len(route) > 1 else route[0]
        return response() if callable(response) else response


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[[], web.Response]:
    """A factory of JSON responses (aiohttp responses cannot be sent twice)."""
    return lambda: web.json_response(body, status=status, headers=headers)


def raw_response(
    body: bytes, status: int = 200, content_type: str = "text/plain"
) -> Callable[[], web.Response]:
    """A factory of responses with a raw body."""
    return lambda: web.Response(body=body, status=status, content_type=content_type)


def parse_error(call: Callable[[], object]) -> SmartcarParseError:
    """The SmartcarParseError that `call` raises; fails the test when it returns instead."""
    try:
        result = call()
    except SmartcarParseError as err:
        return err
    pytest.fail(f"expected SmartcarParseError, got {result!r:.200}")
