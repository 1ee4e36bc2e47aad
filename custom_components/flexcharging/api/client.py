"""A small async client for Smartcar's Vehicles API v3."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
import json
import logging
import time
from typing import Any, Final

import aiohttp

from . import parse
from .errors import (
    SmartcarAuthenticationError,
    SmartcarCommandFailedError,
    SmartcarCommandResultUnknownError,
    SmartcarConnectionError,
    SmartcarError,
    SmartcarInvalidInputError,
    SmartcarParseError,
    SmartcarSubscriptionPathError,
    SmartcarTimeoutError,
    SmartcarUpstreamError,
    error_from_body,
    error_from_object,
)
from .models import CommandResult, Connection, VehicleState, WebhookInfo
from .signals import rest_signals
from .urls import SmartcarUrls

_LOGGER = logging.getLogger(__name__)

TOKEN_RENEW_MARGIN: Final = 300.0  # renew the application token five minutes before it expires
REQUEST_TIMEOUT: Final = 30.0
# How long a command may take to answer: every official Smartcar SDK waits 310 s
# (https://github.com/smartcar/python-sdk smartcar/helpers.py `timeout=310`;
# https://github.com/smartcar/node-sdk lib/config.json `"timeout": 310000`;
# https://github.com/smartcar/java-sdk src/main/java/com/smartcar/sdk/ApiClient.java
# `readTimeout(310, TimeUnit.SECONDS)`).
COMMAND_TIMEOUT: Final = 310.0
# The command statuses that mean "accepted, not carried out yet" (api-reference/commands/overview:
# "A 202 means the command is in process but is long-running. Always read the response body").
COMMAND_ACCEPTED: Final = frozenset({"PENDING", "IN_PROGRESS"})
CHARGE_LIMIT_RANGE: Final = (50, 100)
CONNECTIONS_PAGE_SIZE: Final = 50
# The API reference (create-subscription) documents POST /subscriptions; the v3 launch post
# lists POST /webhooks/{webhookId}/subscriptions. Both are tried; the one that works is kept.
SUBSCRIPTION_PATHS: Final = ("/subscriptions", "/webhooks/{webhook_id}/subscriptions")
_MAX_PAGES: Final = 100


class RequestCounter:
    """Counts the vehicle requests the client makes, as Smartcar bills them.

    Smartcar bills successful vehicle requests (signal reads and commands); attempts that failed
    are counted separately.
    """

    def __init__(self) -> None:
        """Start from zero."""
        self.billable: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    def record(self, vehicle_id: str, *, billable: bool) -> None:
        """Count one request for `vehicle_id`."""
        (self.billable if billable else self.failed)[vehicle_id] += 1

    def as_dict(self) -> dict[str, dict[str, int]]:
        """A plain copy for diagnostics."""
        return {"billable": dict(self.billable), "failed": dict(self.failed)}


class SmartcarClient:
    """Talks to Smartcar v3 with the application's client credentials.

    The client-credentials token is cached and renewed before it expires, and minted again once
    when Smartcar refuses it. Secrets never appear in logs or in exception messages.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        client_id: str,
        client_secret: str,
        *,
        urls: SmartcarUrls | None = None,
        unit_system: str = "metric",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create a client on an existing aiohttp session."""
        self._session = session
        self._client_id = client_id
        self._client_secret = client_secret
        self.urls = urls or SmartcarUrls.from_environment()
        self._unit_system = unit_system
        self._monotonic = monotonic
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()
        self.requests = RequestCounter()
        self.subscription_path: str | None = None  # the subscription call that worked

    # --- token ------------------------------------------------------------------------------

    async def async_get_token(self, *, force: bool = False) -> str:
        """A valid application token, minted when needed."""
        async with self._token_lock:
            now = self._monotonic()
            if force or self._token is None or now >= self._token_expires_at - TOKEN_RENEW_MARGIN:
                self._token, lifetime = await self._async_mint_token()
                self._token_expires_at = now + lifetime
            return self._token

    async def async_validate_credentials(self) -> None:
        """Mint a token now: raises SmartcarAuthenticationError for wrong credentials."""
        await self.async_get_token(force=True)

    async def _async_mint_token(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        status, body, _ = await self._async_send("POST", self.urls.token_endpoint, data=form)
        if status >= 400:
            error = error_from_body(body, status=status)
            if status in (400, 401) and not isinstance(error, SmartcarAuthenticationError):
                error = SmartcarAuthenticationError(
                    error.detail, status=status, code=error.code, error_type="AUTHENTICATION"
                )
            raise error
        root = parse.mapping(body, "body")
        token = parse.string(root.get("access_token"), "access_token")
        token_type = parse.optional_string(root.get("token_type"), "token_type") or "bearer"
        if token_type.lower() != "bearer":
            raise SmartcarParseError("token_type", f"unsupported token type {token_type!r:.20}")
        lifetime = parse.number(root.get("expires_in", 3600), "expires_in")
        return token, max(lifetime, 0.0)

    # --- transport ---------------------------------------------------------------------------

    async def _async_send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        time_limit: float = REQUEST_TIMEOUT,
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Send one request; return the status, the decoded JSON body and the headers."""
        try:
            async with self._session.request(
                method,
                url,
                headers=headers,
                data=data,
                json=json_body,
                params=params,
                timeout=aiohttp.ClientTimeout(total=time_limit),
            ) as response:
                raw = await response.read()
                status = response.status
                response_headers = dict(response.headers)
        except TimeoutError as err:
            raise SmartcarTimeoutError(
                f"Smartcar did not answer within {time_limit:.0f} s"
            ) from err
        except aiohttp.ClientError as err:
            raise SmartcarConnectionError(f"Cannot reach Smartcar: {type(err).__name__}") from err
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError, RecursionError:  # not JSON, too deep, or a number too long
            if status >= 400:
                body = None  # the status alone decides the error
            else:
                raise SmartcarParseError("body", f"HTTP {status} answer is not JSON") from None
        _LOGGER.debug("%s %s -> %s", method, url, status)
        return status, body, response_headers

    async def _async_api(
        self,
        method: str,
        url: str,
        *,
        user_id: str | None = None,
        vehicle_id: str | None = None,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        time_limit: float = REQUEST_TIMEOUT,
        accept: tuple[int, ...] = (),
    ) -> tuple[int, Any]:
        """Call the API with the application token; re-mint once on a 401.

        Statuses listed in `accept` are returned instead of raised.
        """
        for attempt in (1, 2):
            token = await self.async_get_token(force=attempt == 2)
            headers = {
                "Authorization": f"Bearer {token}",
                "SC-Unit-System": self._unit_system,
            }
            if user_id is not None:
                headers["sc-user-id"] = user_id
            try:
                status, body, response_headers = await self._async_send(
                    method,
                    url,
                    headers=headers,
                    json_body=json_body,
                    params=params,
                    time_limit=time_limit,
                )
            except SmartcarError:
                if vehicle_id is not None:
                    self.requests.record(vehicle_id, billable=False)
                raise
            if vehicle_id is not None:
                self.requests.record(vehicle_id, billable=200 <= status < 300)
            if status == 401 and attempt == 1:
                _LOGGER.debug("Smartcar refused the application token; minting a new one")
                continue
            if status >= 400 and status not in accept:
                raise error_from_body(
                    body, status=status, retry_after=_retry_after(response_headers)
                )
            return status, body
        raise AssertionError("unreachable")  # pragma: no cover

    # --- reads -------------------------------------------------------------------------------

    async def async_get_connections(self, *, user_id: str | None = None) -> list[Connection]:
        """Every vehicle connected to the application (all pages), optionally for one user."""
        url = f"{self.urls.vehicle_api}/connections"
        params: dict[str, str] = {"page[size]": str(CONNECTIONS_PAGE_SIZE)}
        if user_id is not None:
            params["filter[userId]"] = user_id
        result: list[Connection] = []
        for _ in range(_MAX_PAGES):
            _, body = await self._async_api("GET", url, params=params)
            connections, next_page = parse.connections_page(body)
            result.extend(connections)
            if next_page is None:
                return result
            if isinstance(next_page, int):
                params = {**params, "page[number]": str(next_page)}
            else:
                url, params = next_page, {}
        raise SmartcarParseError("links.next", f"more than {_MAX_PAGES} pages")

    async def async_get_state(self, vehicle_id: str, user_id: str) -> VehicleState:
        """Every signal of a vehicle in one request, read from Smartcar's signal store.

        An empty state means the store is empty: the vehicle is not subscribed to a webhook.
        """
        _, body = await self._async_api(
            "GET",
            f"{self.urls.vehicle_api}/vehicles/{vehicle_id}/signals",
            user_id=user_id,
            vehicle_id=vehicle_id,
        )
        return rest_signals(body)

    # --- commands ----------------------------------------------------------------------------

    async def async_start_charging(self, vehicle_id: str, user_id: str) -> CommandResult:
        """Start charging."""
        return await self._async_command(vehicle_id, user_id, "charge/start")

    async def async_stop_charging(self, vehicle_id: str, user_id: str) -> CommandResult:
        """Stop charging."""
        return await self._async_command(vehicle_id, user_id, "charge/stop")

    async def async_set_charge_limit(
        self, vehicle_id: str, user_id: str, percent: int
    ) -> CommandResult:
        """Set the charge limit, an integer percentage from 50 to 100."""
        low, high = CHARGE_LIMIT_RANGE
        if isinstance(percent, bool) or not isinstance(percent, int) or not low <= percent <= high:
            raise SmartcarInvalidInputError(
                f"The charge limit must be a whole percentage from {low} to {high}"
            )
        return await self._async_command(
            vehicle_id,
            user_id,
            "charge/set-limit",
            {"data": {"attributes": {"percent": percent}}},
        )

    async def _async_command(
        self, vehicle_id: str, user_id: str, path: str, body: Any = None
    ) -> CommandResult:
        """Send a command; the body decides (200 and 202 alike): done, accepted or failed.

        SUCCESS is done; PENDING or IN_PROGRESS is accepted but not done (the car's signals
        confirm it later). No answer within COMMAND_TIMEOUT, or a gateway timeout (504), raises
        SmartcarCommandResultUnknownError: the command may have been carried out.
        """
        await self.async_get_token()  # a token failure is not a command of unknown outcome
        try:
            _, response = await self._async_api(
                "POST",
                f"{self.urls.vehicle_api}/vehicles/{vehicle_id}/commands/{path}",
                user_id=user_id,
                vehicle_id=vehicle_id,
                json_body=body,
                time_limit=COMMAND_TIMEOUT,
            )
        except SmartcarTimeoutError as err:
            raise SmartcarCommandResultUnknownError(str(err)) from err
        except SmartcarUpstreamError as err:
            if err.status != 504:
                raise
            raise SmartcarCommandResultUnknownError(
                f"Smartcar's gateway timed out on the command: {err}"
            ) from err
        root = parse.mapping(response, "body")
        errors = root.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            raise error_from_object(errors[0])
        command_id, status = parse.command_status(root)
        if status == "SUCCESS" or status in COMMAND_ACCEPTED:
            return CommandResult(command_id=command_id, status=status)
        raise SmartcarCommandFailedError(
            f"The vehicle reported {status.lower()} for the command", code=status
        )

    # --- management API ----------------------------------------------------------------------

    async def async_subscribe(self, webhook_id: str, user_id: str, vehicle_id: str) -> bool:
        """Subscribe a vehicle to a webhook; False when it already was (HTTP 409).

        Raises SmartcarSubscriptionPathError when every subscription call answers 404 or 405.
        """
        body = {
            "data": {
                "attributes": {"webhookId": webhook_id, "userId": user_id, "vehicleId": vehicle_id}
            }
        }
        paths = sorted(SUBSCRIPTION_PATHS, key=lambda path: path != self.subscription_path)
        failed: list[str] = []
        status = None
        for path in paths:
            status, _ = await self._async_api(
                "POST",
                self.urls.management_api + path.format(webhook_id=webhook_id),
                json_body=body,
                accept=(404, 405, 409),
            )
            if status in (404, 405):
                failed.append(f"POST /v3{path.format(webhook_id=webhook_id)}: HTTP {status}")
                continue
            self.subscription_path = path
            return status != 409
        raise SmartcarSubscriptionPathError(tuple(failed), status=status)

    async def async_get_webhook(self, webhook_id: str) -> WebhookInfo:
        """One webhook of the application (raises SmartcarNotFoundError when unknown)."""
        _, body = await self._async_api("GET", f"{self.urls.management_api}/webhooks/{webhook_id}")
        return parse.webhook_resource(body)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` in seconds, when present and a number."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                seconds = float(value)
            except ValueError:
                return None
            return seconds if 0 <= seconds < float("inf") else None
    return None
