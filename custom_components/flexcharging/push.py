"""Receiving Smartcar webhook deliveries in Home Assistant.

The webhook URL is public and secret only by obscurity; what proves a delivery came from
Smartcar is `SC-Signature`, the HMAC-SHA256 of the body keyed with the Application Management
Token (AMT). So every request is authenticated before its body is parsed, with one exception:
Smartcar's VERIFY, which is unsigned and asks us to sign its challenge with that same AMT.

Answering any VERIFY would make this endpoint a signing oracle: a stranger could send a forged
delivery body as the "challenge" and get back its valid signature. The rule chosen here:

1. VERIFY is answered only while a verification is expected: for VERIFY_WINDOW after the setup
   or reconfigure webhook step was last shown or submitted, or after the user pressed "Verify
   webhook again" (Smartcar re-verifies when a webhook is edited in its dashboard). Outside that
   window unsigned requests are refused without being parsed. A reconfigure that brings a new
   AMT opens the window with that token: VERIFY is answered with it, and deliveries signed with
   it are taken until the window closes (the entry then reloads with the new token).
2. Even then, only a challenge of the shape a random token has (CHALLENGE_PATTERN: letters,
   digits and the characters of UUIDs, hex and base64, at most 256) is signed. Smartcar documents
   the challenge only as a random string; every delivery body is JSON (it starts with `{` and
   has quotes), so no challenge we sign can ever be a delivery.

What it costs the user: re-verifying a webhook from Smartcar's dashboard needs a press of
"Verify webhook again" in Home Assistant first (or the reconfigure flow).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, timedelta
from http import HTTPStatus
import ipaddress
import re
import time

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util
from yarl import URL

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
from .const import DOMAIN, LOGGER

type EventHandler = Callable[[WebhookEvent], Awaitable[None]]
type Clock = Callable[[], float]

VERIFY_WINDOW = timedelta(minutes=10)
CHALLENGE_PATTERN = re.compile(r"[A-Za-z0-9._~+/=:-]{1,256}")
MAX_BODY_BYTES = 256 * 1024  # a delivery with every signal is a few kB
REJECTION_LOG_INTERVAL = 60.0  # seconds: rejected requests are logged at most this often
# Signed deliveries failing the signature this many times in a row, with none accepted since,
# is the Smartcar-side condition users reported (https://github.com/wbyoung/smartcar/issues/130,
# /issues/139, /pull/141), not an attacker's noise alone.
SIGNATURE_FAILURES_FOR_ISSUE = 5


class PushReceiver:
    """Authenticates deliveries, answers expected VERIFYs, drops duplicates and test deliveries."""

    def __init__(
        self,
        management_token: str,
        on_event: EventHandler,
        *,
        clock: Clock = time.monotonic,
        verified: bool | None = False,
        on_signature_failures: Callable[[bool, bool | None], None] | None = None,
        on_verified: Callable[[], None] | None = None,
    ) -> None:
        """Receive deliveries signed with the Application Management Token.

        `verified`: Smartcar's VERIFY of this webhook was answered (None: not known).
        `on_signature_failures(failing, verified)` is told when signed deliveries start or stop
        failing the signature; `on_verified` when a VERIFY is answered.
        """
        self._management_token = management_token
        self._on_event = on_event
        self._clock = clock
        self._on_signature_failures = on_signature_failures
        self._on_verified = on_verified
        self._seen = EventDeduplicator()
        self._verify_until: float | None = None
        self._verify_token = management_token  # the AMT a VERIFY is answered with
        self._last_rejection_log: float | None = None
        self.verified: bool | None = verified  # a VERIFY was answered, at setup or since
        self.verifications = 0  # VERIFYs answered
        self.accepted = 0
        self.rejected = 0
        self.last_rejection: str | None = None
        self.last_accepted_at: datetime | None = None
        self.signature_failures = 0  # signed deliveries failing the signature since one passed
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` when a request is refused; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # --- verification window ---------------------------------------------------------------

    def open_verification(
        self, duration: timedelta = VERIFY_WINDOW, *, management_token: str | None = None
    ) -> None:
        """Expect a VERIFY for `duration`, answered with `management_token` (default: ours)."""
        self._verify_until = self._clock() + duration.total_seconds()
        self._verify_token = management_token or self._management_token

    def close_verification(self) -> None:
        """Expect no VERIFY any more."""
        self._verify_until = None
        self._verify_token = self._management_token

    @property
    def verification_open(self) -> bool:
        """Whether a VERIFY would be answered now."""
        return self._verify_until is not None and self._clock() < self._verify_until

    # --- handling --------------------------------------------------------------------------

    async def async_handle(self, request: web.Request) -> web.Response:
        """Handle one request (the webhook component's handler signature, minus hass/id)."""
        raw = await _read_limited(request)
        if raw is None:
            return self._reject("body too large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        signature = request.headers.get(SIGNATURE_HEADER)
        if signature_valid(self._management_token, raw, signature) or (
            self._verify_token != self._management_token
            and self.verification_open
            and signature_valid(self._verify_token, raw, signature)
        ):
            return await self._async_signed(raw)
        if signature:
            self._note_signature_failure()
            return self._reject("invalid signature", HTTPStatus.UNAUTHORIZED)
        if not self.verification_open:
            return self._reject("unsigned, no verification expected", HTTPStatus.UNAUTHORIZED)
        # An unsigned request while a verification is expected: it may only be a VERIFY.
        try:
            event = parse_event(raw)
        except SmartcarParseError:
            return self._reject("unsigned and not a VERIFY", HTTPStatus.UNAUTHORIZED)
        if not isinstance(event, VerifyEvent):
            return self._reject("unsigned and not a VERIFY", HTTPStatus.UNAUTHORIZED)
        if not CHALLENGE_PATTERN.fullmatch(event.challenge):
            return self._reject("VERIFY challenge of an unexpected shape", HTTPStatus.BAD_REQUEST)
        self.verified = True
        self.verifications += 1
        if self._on_verified is not None:
            self._on_verified()
        LOGGER.info("Answered Smartcar's webhook verification")
        return web.json_response(challenge_response(self._verify_token, event.challenge))

    async def _async_signed(self, raw: bytes) -> web.Response:
        if self.signature_failures:
            self.signature_failures = 0
            self._report_signature_failures(failing=False)
        self.accepted += 1
        self.last_accepted_at = dt_util.utcnow()
        try:
            event = parse_event(raw)
        except SmartcarParseError as err:
            # Signed by Smartcar: a retry would fail the same way, so it is taken and logged.
            LOGGER.warning("Ignoring a Smartcar delivery FlexCharging cannot read: %s", err)
            return web.Response(status=HTTPStatus.ACCEPTED)
        if isinstance(event, VerifyEvent):
            return web.Response(status=HTTPStatus.OK)  # VERIFY is never signed: nothing to do
        if getattr(event, "test", False):
            return web.Response(status=HTTPStatus.ACCEPTED)
        if self._seen.is_duplicate(event.event_id):
            return web.Response(status=HTTPStatus.OK)
        await self._on_event(event)
        return web.Response(status=HTTPStatus.OK)

    def _reject(self, reason: str, status: HTTPStatus) -> web.Response:
        """Count and (at most once a minute) log a refused request; echo nothing back."""
        self.rejected += 1
        self.last_rejection = reason
        for listener in list(self._listeners):
            listener()
        now = self._clock()
        if self._last_rejection_log is None or (
            now - self._last_rejection_log >= REJECTION_LOG_INTERVAL
        ):
            self._last_rejection_log = now
            LOGGER.warning(
                "Refused a request to the FlexCharging webhook (%s; %d refused so far). If "
                "Smartcar's deliveries are refused, check that the Application Management Token "
                "in FlexCharging matches the Smartcar dashboard",
                reason,
                self.rejected,
            )
        return web.Response(status=status)

    def _note_signature_failure(self) -> None:
        self.signature_failures += 1
        if self.signature_failures == SIGNATURE_FAILURES_FOR_ISSUE:
            self._report_signature_failures(failing=True)

    def _report_signature_failures(self, *, failing: bool) -> None:
        if self._on_signature_failures is not None:
            self._on_signature_failures(failing, self.verified)


async def _read_limited(request: web.Request) -> bytes | None:
    """The body, or None when it is larger than MAX_BODY_BYTES (read no further than that)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    body = bytearray()
    while chunk := await request.content.read(64 * 1024):
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


# --- the webhook in Home Assistant (shared by the entry and the config flow) --------------------


@callback
def async_register_receiver(
    hass: HomeAssistant, webhook_id: str, name: str, receiver: PushReceiver
) -> CALLBACK_TYPE:
    """Route the webhook's requests to `receiver`; return what unregisters it.

    Raises ValueError when the webhook already has a handler.
    """

    async def _handle(hass: HomeAssistant, webhook_id: str, request: web.Request) -> web.Response:
        return await receiver.async_handle(request)

    webhook.async_register(hass, DOMAIN, name, webhook_id, _handle)
    return lambda: webhook.async_unregister(hass, webhook_id)


def local_webhook_url(hass: HomeAssistant, webhook_id: str) -> str:
    """The webhook's URL at Home Assistant's own address (the path alone if it has none)."""
    try:
        return webhook.async_generate_url(hass, webhook_id)
    except NoURLAvailableError:
        return webhook.async_generate_path(webhook_id)


def public_https(url: str) -> bool:
    """Whether Smartcar can deliver to `url`: HTTPS on a public host (best-practices/security)."""
    parsed = URL(url)
    host = (parsed.host or "").lower()
    if parsed.scheme != "https" or not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host != "localhost" and "." in host and not host.endswith((".local", ".lan"))
    return address.is_global


async def async_cloudhook_url(hass: HomeAssistant, webhook_id: str) -> str | None:
    """A Home Assistant Cloud webhook URL, when the user has an active subscription."""
    if "cloud" not in hass.config.components:
        return None
    # Imported only when loaded: the cloud component pulls in many others.
    from homeassistant.components import cloud  # noqa: PLC0415

    if not (cloud.async_active_subscription(hass) and cloud.async_is_connected(hass)):
        return None
    try:
        return await cloud.async_create_cloudhook(hass, webhook_id)
    except cloud.CloudNotAvailable:
        return None


async def async_delete_cloudhook(hass: HomeAssistant, webhook_id: str) -> None:
    """Release a Home Assistant Cloud webhook (nothing to do without the cloud component)."""
    if "cloud" not in hass.config.components:
        return
    from homeassistant.components import cloud  # noqa: PLC0415

    with suppress(cloud.CloudNotAvailable):
        await cloud.async_delete_cloudhook(hass, webhook_id)
