"""Helpers for the emulator tests: the emulator on 127.0.0.1, a client and a webhook receiver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
import hashlib
import hmac
import json
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from emulator import DEFAULT_APP, DEFAULT_USER_ID, Clock, EmulatorOptions, EmulatorState, create_app

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Emulator:
    """A running emulator: its base URL and its state (for in-process control)."""

    base_url: str
    state: EmulatorState


def make_state(**options: Any) -> EmulatorState:
    """A state on a frozen clock with instant retries and no background ticking."""
    settings: dict[str, Any] = {
        "retry_delay_scale": 0.0,
        "tick_interval": 0.0,
        "delivery_timeout": 2.0,
    } | options
    return EmulatorState(clock=Clock(start=START, speed=0.0), options=EmulatorOptions(**settings))


async def start_emulator(state: EmulatorState) -> tuple[TestServer, Emulator]:
    """Serve ``state`` on 127.0.0.1 with a free port."""
    server = TestServer(create_app(state), host="127.0.0.1")
    await server.start_server()
    return server, Emulator(str(server.make_url("")).rstrip("/"), state)


def error(body: Any) -> Any:
    """The error object of an error body: the JSON:API envelope's first, or the body itself."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return body["errors"][0]
    return body


@dataclass
class Api:
    """A small Smartcar client for the tests: token handling and the common headers."""

    http: aiohttp.ClientSession
    base_url: str
    token: str = ""

    async def authenticate(self) -> str:
        """Fetch a client-credentials token."""
        async with self.http.post(
            f"{self.base_url}/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEFAULT_APP.client_id,
                "client_secret": DEFAULT_APP.client_secret,
            },
        ) as response:
            assert response.status == 200, await response.text()
            self.token = (await response.json())["access_token"]
        return self.token

    def headers(self, user: str | None = DEFAULT_USER_ID, **extra: str) -> dict[str, str]:
        """Bearer and ``sc-user-id`` headers."""
        headers = {"Authorization": f"Bearer {self.token}", **extra}
        if user is not None:
            headers["sc-user-id"] = user
        return headers

    async def call(
        self,
        method: str,
        path: str,
        *,
        user: str | None = DEFAULT_USER_ID,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        client_timeout: float | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """Send a request; return status, decoded JSON (or text) and headers."""
        async with self.http.request(
            method,
            self.base_url + path,
            json=json_body,
            headers=self.headers(user, **(headers or {})),
            timeout=aiohttp.ClientTimeout(total=client_timeout)
            if client_timeout
            else aiohttp.ClientTimeout(),
        ) as response:
            text = await response.text()
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = text
            return response.status, body, dict(response.headers)

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
        """GET ``path``."""
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
        """POST ``path``."""
        return await self.call("POST", path, **kwargs)


@dataclass
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        """The decoded JSON body."""
        return json.loads(self.raw)


@dataclass
class Receiver:
    """A tiny webhook receiver: answers VERIFY, records everything, fails on demand."""

    amt: str = DEFAULT_APP.amt
    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    verify_answer: str = "correct"

    async def handle(self, request: web.Request) -> web.Response:
        """Record the delivery and answer it."""
        raw = await request.read()
        self.received.append(Received(dict(request.headers), raw))
        body = json.loads(raw)
        if body.get("eventType") == "VERIFY":
            challenge = body["data"]["challenge"]
            if self.verify_answer == "correct":
                answer = hmac.new(self.amt.encode(), challenge.encode(), hashlib.sha256).hexdigest()
                return web.json_response({"challenge": answer})
            if self.verify_answer == "wrong":
                return web.json_response({"challenge": challenge})
            return web.Response(status=500)
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The decoded bodies received, optionally of one event type."""
        bodies = [r.body for r in self.received]
        return [b for b in bodies if event_type is None or b["eventType"] == event_type]


async def subscribe_all(
    state: EmulatorState, receiver: Receiver, vehicle_ids: list[str] | None = None
) -> str:
    """Connect the default fleet, create a verified webhook, subscribe vehicles; clear the log."""
    state.connect()
    webhook = await state.create_webhook(receiver.url, name="Test hook")
    assert webhook.verified, webhook.verify_error
    for vehicle_id in vehicle_ids if vehicle_ids is not None else list(state.vehicles):
        state.subscribe(webhook.id, vehicle_id)
    await state.wait_for_deliveries()
    receiver.received.clear()
    state.dispatcher.log.clear()
    return webhook.id
