"""Webhooks: their resources, event payloads and signed deliveries with retries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any
import uuid

import aiohttp

from emulator.clock import Clock, epoch_ms, iso
from emulator.config import EmulatorOptions
from emulator.faults import DELIVERY_KINDS, FaultBook
from emulator.fleet import Vehicle

_LOGGER = logging.getLogger(__name__)

PAYLOAD_VERSION = "4.0"
RETRY_DELAYS: tuple[float, ...] = (0.0, 25.0, 50.0, 100.0)
USER_AGENT = "Smartcar/emulator"
WRONG_KEY = "not-the-application-management-token"


def sign(key: str, body: bytes) -> str:
    """Return hex HMAC-SHA256 of ``body`` keyed with ``key``."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


@dataclass(slots=True)
class Webhook:
    """A webhook as configured in the dashboard."""

    id: str
    name: str
    callback_uri: str
    created_at: datetime
    verified: bool = False  # the emulator's own record of VERIFY; not in the API resource
    verify_error: str | None = None
    # api-reference/management/get-webhook: isEnabled, errorCallbackUri (null: errors go to
    # callbackUri, integrations/webhooks/responses), autoSubscribe.
    is_enabled: bool = True
    error_callback_uri: str | None = None
    auto_subscribe: bool = False

    @property
    def status(self) -> str:
        """Return ``VERIFIED`` or ``UNVERIFIED``."""
        return "VERIFIED" if self.verified else "UNVERIFIED"

    def resource(self, origin: str) -> dict[str, Any]:
        """Render as a management-API resource (the fields get-webhook documents; no status)."""
        return {
            "type": "webhook",
            "id": self.id,
            "attributes": {
                "name": self.name,
                "callbackUri": self.callback_uri,
                "isEnabled": self.is_enabled,
                "triggers": [],
                "data": [],
                "errorCallbackUri": self.error_callback_uri,
                "autoSubscribe": self.auto_subscribe,
            },
            "meta": {"createdAt": iso(self.created_at), "updatedAt": iso(self.created_at)},
            "links": {"self": f"{origin}/v3/webhooks/{self.id}"},
        }

    def as_dict(self) -> dict[str, Any]:
        """Describe the webhook for the admin API."""
        return {
            "id": self.id,
            "name": self.name,
            "callback_uri": self.callback_uri,
            "status": self.status,
            "verified": self.verified,
            "verify_error": self.verify_error,
            "is_enabled": self.is_enabled,
            "error_callback_uri": self.error_callback_uri,
            "created_at": iso(self.created_at),
        }


@dataclass(slots=True)
class Subscription:
    """A vehicle subscribed to a webhook."""

    id: str
    webhook_id: str
    user_id: str
    vehicle_id: str
    created_at: datetime

    def resource(self, origin: str, vehicle: Vehicle | None) -> dict[str, Any]:
        """Render as a management-API resource."""
        return {
            "type": "subscription",
            "id": self.id,
            "attributes": {"vehicle": vehicle.attributes() if vehicle else None},
            "meta": {"createdAt": iso(self.created_at), "updatedAt": iso(self.created_at)},
            "relationships": {
                "webhook": {"data": {"type": "webhook", "id": self.webhook_id}},
                "user": {"data": {"type": "user", "id": self.user_id}},
                "vehicle": {"data": {"type": "vehicle", "id": self.vehicle_id}},
            },
            "links": {"self": f"{origin}/v3/subscriptions/{self.id}"},
        }

    def as_dict(self) -> dict[str, Any]:
        """Describe the subscription for the admin API."""
        return {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "user_id": self.user_id,
            "vehicle_id": self.vehicle_id,
            "created_at": iso(self.created_at),
        }


@dataclass(slots=True)
class Event:
    """One webhook event; its ``eventId`` stays the same across retries."""

    event_type: str
    data: dict[str, Any]
    vehicle_id: str | None = None
    triggers: list[dict[str, Any]] | None = None
    mode: str = "LIVE"
    bad_signature: bool = False
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def payload(self, webhook: Webhook, *, delivery_id: str, now: datetime) -> dict[str, Any]:
        """Build the body of one delivery attempt."""
        body: dict[str, Any] = {
            "eventId": self.event_id,
            "eventType": self.event_type,
            "data": self.data,
        }
        if self.event_type == "VERIFY":
            body["meta"] = {
                "version": PAYLOAD_VERSION,
                "webhookId": webhook.id,
                "webhookName": webhook.name,
                "deliveryId": delivery_id,
                "deliveredAt": iso(now),
            }
            return body
        if self.triggers is not None:
            body["triggers"] = self.triggers
        meta: dict[str, Any] = {"deliveryId": delivery_id, "deliveredAt": epoch_ms(now)}
        if self.event_type == "VEHICLE_ERROR":
            meta["deliveryTime"] = epoch_ms(now)
        meta |= {
            "version": PAYLOAD_VERSION,
            "webhookId": webhook.id,
            "webhookName": webhook.name,
            "mode": self.mode,
        }
        if self.event_type == "VEHICLE_STATE":
            meta["signalCount"] = len(self.data.get("signals", []))
        body["meta"] = meta
        return body


def vehicle_ref(vehicle: Vehicle, *, full: bool = True) -> dict[str, Any]:
    """Return ``data.vehicle`` of an event."""
    ref: dict[str, Any] = {
        "id": vehicle.id,
        "make": vehicle.make,
        "model": vehicle.model,
        "year": vehicle.year,
    }
    if full:
        ref |= {"mode": "live", "powertrainType": vehicle.powertrain}
    return ref


def vehicle_state_event(
    vehicle: Vehicle,
    signals: list[dict[str, Any]],
    triggers: list[dict[str, Any]],
    *,
    mode: str = "LIVE",
) -> Event:
    """Build a VEHICLE_STATE event."""
    data = {
        "user": {"id": vehicle.user_id},
        "vehicle": vehicle_ref(vehicle),
        "signals": signals,
    }
    return Event("VEHICLE_STATE", data, vehicle.id, triggers, mode)


def vehicle_error_event(vehicle: Vehicle, errors: list[dict[str, Any]]) -> Event:
    """Build a VEHICLE_ERROR event."""
    data = {
        "user": {"id": vehicle.user_id},
        "vehicle": vehicle_ref(vehicle, full=False),
        "errors": errors,
    }
    return Event("VEHICLE_ERROR", data, vehicle.id)


@dataclass(slots=True)
class DeliveryRecord:
    """One delivery attempt as the log keeps it."""

    delivery_id: str
    event_id: str
    event_type: str
    webhook_id: str
    vehicle_id: str | None
    attempt: int
    status: int | None
    error: str | None
    at: str
    mode: str
    signature: str
    outcome: str
    payload: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """Describe the attempt for the admin API."""
        return asdict(self)


class Dispatcher:
    """Delivers events to webhooks in background tasks and logs every attempt."""

    def __init__(
        self,
        *,
        clock: Callable[[], Clock],
        amt: Callable[[], str],
        options: EmulatorOptions,
        faults: FaultBook,
    ) -> None:
        """Create a dispatcher reading the clock and AMT through callables."""
        self._clock = clock
        self._amt = amt
        self._options = options
        self._faults = faults
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: list[tuple[Webhook, Event]] = []
        self.log: list[DeliveryRecord] = []

    def send(self, webhook: Webhook, event: Event) -> None:
        """Schedule delivery of ``event`` (kept until a loop runs, if none does)."""
        self._waiting.append((webhook, event))
        self._schedule()

    async def drain(self) -> None:
        """Wait until every scheduled delivery has finished (retries included)."""
        self._schedule()
        while self._tasks:
            # asyncio.wait always yields to the loop, so finished tasks get removed.
            await asyncio.wait(list(self._tasks))
            await asyncio.sleep(0)

    @property
    def pending(self) -> int:
        """Return how many deliveries are still in progress."""
        return len(self._tasks) + len(self._waiting)

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        waiting, self._waiting = self._waiting, []
        for webhook, event in waiting:
            task = loop.create_task(self._deliver(webhook, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel pending deliveries and close the HTTP session."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def verify(self, webhook: Webhook) -> bool:
        """Send an unsigned VERIFY; mark ``webhook`` verified if the answer is right."""
        # Smartcar documents the challenge only as "<random-string>" (api-reference/webhooks/
        # events/verify); 32 hex characters is this emulator's choice, not a documented shape.
        challenge = secrets.token_hex(16)
        event = Event("VERIFY", {"challenge": challenge})
        expected = sign(self._amt(), challenge.encode())
        delivery_id = str(uuid.uuid4())
        now = self._clock().now()
        raw = _dumps(event.payload(webhook, delivery_id=delivery_id, now=now))
        status, error, answer = await self._post(webhook.callback_uri, raw, signature=None)
        if error is None and not (status is not None and 200 <= status < 300):
            error = f"HTTP {status}"
        if error is None:
            try:
                got = json.loads(answer).get("challenge")
            except ValueError, AttributeError:
                got = None
            if not isinstance(got, str) or not hmac.compare_digest(got, expected):
                error = "wrong or missing challenge in the answer"
        webhook.verified = error is None
        webhook.verify_error = error
        record = self._record(
            event=event,
            webhook=webhook,
            delivery_id=delivery_id,
            attempt=1,
            status=status,
            error=error,
            now=now,
            signature="unsigned",
            payload=json.loads(raw),
        )
        record.outcome = "verified" if error is None else "failed"
        return webhook.verified

    async def _deliver(self, webhook: Webhook, event: Event) -> None:
        for attempt, delay in enumerate(RETRY_DELAYS, start=1):
            if wait := delay * self._options.retry_delay_scale:
                await asyncio.sleep(wait)
            delivery_id = str(uuid.uuid4())
            now = self._clock().now()
            payload = event.payload(webhook, delivery_id=delivery_id, now=now)
            raw = _dumps(payload)
            wrong = (
                event.bad_signature
                or self._options.payload_signature == "failing"
                or self._faults.take(
                    DELIVERY_KINDS, path=webhook.callback_uri, vehicle_id=event.vehicle_id
                )
            )
            key = WRONG_KEY if wrong else self._amt()
            url = webhook.callback_uri
            if event.event_type == "VEHICLE_ERROR" and webhook.error_callback_uri:
                url = webhook.error_callback_uri  # integrations/webhooks/responses
            status, error, _ = await self._post(url, raw, signature=sign(key, raw))
            signature = "invalid" if wrong else "valid"
            record = self._record(
                event=event,
                webhook=webhook,
                delivery_id=delivery_id,
                attempt=attempt,
                status=status,
                error=error,
                now=now,
                signature=signature,
                payload=payload,
            )
            if error is None and status is not None and 200 <= status < 300:
                record.outcome = "delivered"
                return
            record.outcome = "dropped" if attempt == len(RETRY_DELAYS) else "retrying"

    async def _post(
        self, url: str, raw: bytes, *, signature: str | None
    ) -> tuple[int | None, str | None, bytes]:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if signature is not None:
            headers["SC-Signature"] = signature
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=self._options.delivery_timeout)
        try:
            async with self._session.post(
                url, data=raw, headers=headers, timeout=timeout
            ) as response:
                return response.status, None, await response.read()
        except TimeoutError:
            return None, "timeout", b""
        except (aiohttp.ClientError, ValueError, OSError) as err:
            return None, f"{type(err).__name__}: {err}", b""

    def _record(
        self,
        *,
        event: Event,
        webhook: Webhook,
        delivery_id: str,
        attempt: int,
        status: int | None,
        error: str | None,
        now: datetime,
        signature: str,
        payload: dict[str, Any],
    ) -> DeliveryRecord:
        record = DeliveryRecord(
            delivery_id=delivery_id,
            event_id=event.event_id,
            event_type=event.event_type,
            webhook_id=webhook.id,
            vehicle_id=event.vehicle_id,
            attempt=attempt,
            status=status,
            error=error,
            at=iso(now),
            mode=event.mode,
            signature=signature,
            outcome="pending",
            payload=payload,
        )
        self.log.append(record)
        if error or not (status and 200 <= status < 300):
            _LOGGER.debug("Delivery %s to %s failed: %s", delivery_id, webhook.id, error or status)
        return record


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
