"""The emulated Smartcar application and the emulator's own options."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
import re
from typing import Any

from emulator.fleet import DEFAULT_USER_ID


@dataclass(frozen=True, slots=True)
class AppCredentials:
    """The identifiers and secrets of a Smartcar application."""

    client_id: str
    client_secret: str
    application_id: str
    amt: str


DEFAULT_APP = AppCredentials(
    client_id="client_emulator",
    client_secret="secret_emulator",
    application_id="11111111-2222-4333-8444-555555555555",
    amt="amt_emulator",
)

# What a user of the emulated dashboard registered: FlexCharging's redirect view (what the setup
# step asks for) and Home Assistant's OAuth callback (entries made before the view, and My Home
# Assistant's redirect).
DEFAULT_REDIRECT_URIS: tuple[str, ...] = (
    "http://127.0.0.1:{port}/api/flexcharging/connect",
    "https://127.0.0.1:{port}/api/flexcharging/connect",
    "http://localhost:{port}/api/flexcharging/connect",
    "https://localhost:{port}/api/flexcharging/connect",
    "http://127.0.0.1:{port}/auth/external/callback",
    "https://127.0.0.1:{port}/auth/external/callback",
    "http://localhost:{port}/auth/external/callback",
    "https://localhost:{port}/auth/external/callback",
    "https://my.home-assistant.io/redirect/oauth",
)


@dataclass(slots=True)
class AppConfig:
    """The Smartcar application as configured in the (emulated) dashboard.

    Redirect URIs are exact strings in which ``{port}`` matches any port number.
    """

    client_id: str = DEFAULT_APP.client_id
    client_secret: str = DEFAULT_APP.client_secret
    application_id: str = DEFAULT_APP.application_id
    amt: str = DEFAULT_APP.amt
    name: str = "Home Assistant (emulated Smartcar app)"
    redirect_uris: list[str] = field(default_factory=lambda: list(DEFAULT_REDIRECT_URIS))
    connect_virtual_key_url: bool = False
    connect_user_id: str = DEFAULT_USER_ID
    token_ttl_seconds: int = 3600

    def redirect_allowed(self, uri: str) -> bool:
        """Whether ``uri`` matches a registered redirect URI."""
        return any(_uri_pattern(pattern).fullmatch(uri) for pattern in self.redirect_uris)

    def as_dict(self) -> dict[str, Any]:
        """Describe the application for the admin API."""
        return asdict(self)


def _uri_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\{port\}", r"\d{1,5}"))


@dataclass(slots=True)
class EmulatorOptions:
    """Behaviour switches of the emulator.

    Attributes:
        retry_delay_scale: Multiplies the webhook retry delays (0, 25, 50, 100 s).
        delivery_timeout: Seconds a webhook receiver has to answer.
        tick_interval: Real seconds between background simulation steps (0: off).
        store_requires_subscription: Serve signals only for vehicles subscribed to a
            verified webhook (as real Smartcar does); off serves every vehicle.
        keyless_key_status: The key signal of a Tesla lacking the smartcar.com key:
            ``"error"`` (VIRTUAL_KEY_REQUIRED), ``"false"`` (SUCCESS ``{"value": false}``) or
            ``"true"`` (a phone key paired: ``{"value": true}``; see ``signals.key_signal``).
        keyless_refresh_hours: How often a key-less Tesla's data refreshes.
        public_origin: Origin used in links when no request is at hand.
        subscription_paths: Which subscription call exists (``SUBSCRIPTION_PATHS``).
        signal_variants: Signal shapes switched on (``emulator.signals.SIGNAL_VARIANTS``).
        rest_timestamps: ``"epoch_ms"`` (the get-signals OpenAPI's int64 epoch, in
            milliseconds as the java-sdk v3 fixture has it) or ``"iso"`` (what third parties
            observed on real REST reads) for REST signal ``meta`` times.
        paging_meta: ``"page"`` (the OpenAPI's paging key) or ``"pageNumber"`` (observed).
        connect_redirect: What Connect's success redirect carries besides `state`:
            ``"documented"`` (`user_id`), ``"with_code"`` (`code` and `user_id`) or
            ``"code_only"`` (`code`); see ``emulator.auth._redirect_identity``.
        error_shape: Error bodies: ``"jsonapi"`` (the v3 OpenAPI's ``{"errors": [...]}``
            envelope, the default) or ``"v3"`` (the flat error object the emulator used before,
            from a third-party review of the v3 API; no public page has it). Errors whose
            documented example has the classic shape (VIRTUAL_KEY_REQUIRED, BILLING) keep it.
        command_response: How commands answer (``COMMAND_RESPONSES``).
        command_seconds: How long the car takes in the ``pending``, ``streamed`` and ``slow``
            command responses.
        payload_signature: How data deliveries are signed (``PAYLOAD_SIGNATURES``); VERIFY
            is answered the documented way in both.
    """

    retry_delay_scale: float = 1.0
    delivery_timeout: float = 15.0
    tick_interval: float = 5.0
    store_requires_subscription: bool = True
    keyless_key_status: str = "error"
    keyless_refresh_hours: float = 8.0
    public_origin: str | None = None
    subscription_paths: str = "reference"
    signal_variants: list[str] = field(default_factory=list)
    rest_timestamps: str = "epoch_ms"
    paging_meta: str = "page"
    connect_redirect: str = "documented"
    error_shape: str = "jsonapi"
    command_response: str = "sync"
    command_seconds: float = 10.0
    payload_signature: str = "amt"

    def as_dict(self) -> dict[str, Any]:
        """Describe the options for the admin API."""
        return asdict(self)


CONNECT_REDIRECTS: tuple[str, ...] = ("documented", "with_code", "code_only")

OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    "retry_delay_scale": (int, float),
    "delivery_timeout": (int, float),
    "tick_interval": (int, float),
    "store_requires_subscription": bool,
    "keyless_key_status": str,
    "keyless_refresh_hours": (int, float),
    "public_origin": (str, type(None)),
    "subscription_paths": str,
    "signal_variants": list,
    "rest_timestamps": str,
    "paging_meta": str,
    "connect_redirect": str,
    "error_shape": str,
    "command_response": str,
    "command_seconds": (int, float),
    "payload_signature": str,
}

# How deliveries are signed (https://smartcar.com/docs/integrations/webhooks/payload-verification;
# third-party reports: https://github.com/wbyoung/smartcar/issues/130, /issues/139, /pull/141).
PAYLOAD_SIGNATURES: dict[str, str] = {
    # integrations/webhooks/payload-verification: "an HMAC-SHA256 hash of the raw request body
    # using your Application Management Token as the secret key", in SC-Signature.
    "amt": "SC-Signature = HMAC-SHA256(AMT, raw body), as documented",
    # Third-party reports on the real v3 API (wbyoung/smartcar #130, #139, PR #141): "every
    # webhook data payload is discarded with `invalid signature`, while the VERIFY handshake
    # for the same webhook succeeds"; a new Smartcar application was the only fix. The key
    # Smartcar used instead is unknown: here, one that is not the AMT.
    "failing": "VERIFY answered with the AMT succeeds; every data delivery fails the signature",
}

# The official sources disagree on the subscription call
# (https://smartcar.com/docs/api-reference/create-subscription against the "Webhook management"
# list of https://smartcar.com/blog/introducing-smartcar-api-v3).
SUBSCRIPTION_PATHS: dict[str, str] = {
    "reference": "POST /v3/subscriptions only (api-reference/create-subscription)",
    "launch_post": "POST /v3/webhooks/{id}/subscriptions only (blog introducing-smartcar-api-v3)",
    "both": "both calls",
}

# How a command answers (https://smartcar.com/docs/api-reference/commands/overview,
# https://smartcar.com/docs/api-reference/charging/set-charge-limit; the SDK timeouts below).
COMMAND_RESPONSES: dict[str, str] = {
    # api-reference/charging/set-charge-limit, verbatim 200 example: "Command executed
    # synchronously and successfully".
    "sync": "200, status SUCCESS, executionMode sync: done",
    # api-reference/commands/overview: "A 202 means the command is in process but is
    # long-running. Always read the response body to determine success or failure"; PENDING is
    # one of the statuses the third-party TS client documents (SUCCESS, FAILURE, PENDING). The
    # car carries it out command_seconds later; its signals (read or pushed) show it.
    "pending": "202, status PENDING: accepted, carried out command_seconds later",
    # Third-party claim (a review of the v3 API; no public source), not in Smartcar's docs: a
    # long command answers 202 at once, holds the connection and streams the final body on it.
    "streamed": "202 at once, the final SUCCESS body command_seconds later on the same connection",
    # The official SDKs wait 310 s for a command (python-sdk helpers.py, node-sdk config.json,
    # java-sdk ApiClient.java), so answers can take minutes: the car carries the command out at
    # once, and the answer comes only after command_seconds (beyond a client's wait).
    "slow": "no answer for command_seconds, then 200 SUCCESS; the car carries it out at once",
}

APP_TYPES: dict[str, type | tuple[type, ...]] = {
    "client_id": str,
    "client_secret": str,
    "application_id": str,
    "amt": str,
    "name": str,
    "redirect_uris": list,
    "add_redirect_uris": list,
    "connect_virtual_key_url": bool,
    "connect_user_id": str,
    "token_ttl_seconds": int,
}


def type_problems(
    changes: dict[str, Any], allowed: dict[str, type | tuple[type, ...]]
) -> list[str]:
    """Return problems with unknown or wrongly typed fields in ``changes``."""
    problems = []
    for name, value in changes.items():
        expected = allowed.get(name)
        if expected is None:
            problems.append(f"unknown field {name!r}")
        elif (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
            problems.append(f"{name} has the wrong type")
    return problems
