"""Receiving Smartcar webhook deliveries in Home Assistant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import web

from .api import SmartcarParseError
from .api.webhooks import (
    SIGNATURE_HEADER,
    EventDeduplicator,
    VerifyEvent,
    WebhookEvent,
    challenge_response,
    parse_event,
    signature_valid,
)
from .const import LOGGER

type EventHandler = Callable[[WebhookEvent], Awaitable[None]]


class PushReceiver:
    """Answers Smartcar's VERIFY, checks signatures, drops duplicates and test deliveries."""

    def __init__(self, management_token: str, on_event: EventHandler) -> None:
        """Receive deliveries signed with the Application Management Token."""
        self._management_token = management_token
        self._on_event = on_event
        self._seen = EventDeduplicator()
        self.verified = False
        self.deliveries = 0

    async def async_handle(self, request: web.Request) -> web.Response:
        """Handle one delivery (the webhook component's handler signature, minus hass/id)."""
        raw = await request.read()
        try:
            event = parse_event(raw)
        except SmartcarParseError as err:
            LOGGER.warning("Ignoring a webhook delivery that is not a Smartcar event: %s", err)
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        if isinstance(event, VerifyEvent):
            # VERIFY is the only unsigned event: Smartcar checks we know the token.
            self.verified = True
            return web.json_response(challenge_response(self._management_token, event.challenge))
        if not signature_valid(self._management_token, raw, request.headers.get(SIGNATURE_HEADER)):
            LOGGER.warning(
                "Ignoring a webhook delivery with an invalid signature; check that the "
                "Application Management Token in FlexCharging matches the Smartcar dashboard"
            )
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        self.deliveries += 1
        if getattr(event, "test", False):
            return web.Response(status=HTTPStatus.ACCEPTED)
        if self._seen.is_duplicate(event.event_id):
            return web.Response(status=HTTPStatus.OK)
        await self._on_event(event)
        return web.Response(status=HTTPStatus.OK)
