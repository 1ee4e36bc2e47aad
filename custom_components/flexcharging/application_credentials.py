"""Smartcar API credentials (client id and secret) through Home Assistant's Application Credentials."""

from __future__ import annotations

from typing import cast

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant
from homeassistant.helpers import http
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    HEADER_FRONTEND_BASE,
    AbstractOAuth2Implementation,
    LocalOAuth2Implementation,
)
from homeassistant.helpers.network import NoURLAvailableError, get_url
from yarl import URL

from .api import SmartcarClient, SmartcarUrls
from .const import SMARTCAR_DASHBOARD_URL

AUTH_CALLBACK_PATH = "/auth/external/callback"  # Home Assistant's own (needs `code`)
CONNECT_CALLBACK_PATH = "/api/flexcharging/connect"  # ours: any documented redirect shape
MY_AUTH_CALLBACK_URL = "https://my.home-assistant.io/redirect/oauth"


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """Smartcar Connect (consent) and the IAM token endpoint."""
    urls = SmartcarUrls.from_environment()
    return AuthorizationServer(authorize_url=urls.connect_authorize, token_url=urls.token_endpoint)


def smartcar_client(
    hass: HomeAssistant, implementation: AbstractOAuth2Implementation
) -> SmartcarClient:
    """A client with the Application Credentials' client id and secret."""
    # Application Credentials always provide a local implementation (id and secret in HA).
    credentials = cast(LocalOAuth2Implementation, implementation)
    return SmartcarClient(
        async_get_clientsession(hass),
        credentials.client_id,
        credentials.client_secret,
        urls=SmartcarUrls.from_environment(),
    )


def redirect_uri(hass: HomeAssistant, *, legacy: bool = False) -> str:
    """The redirect URI to register in the Smartcar dashboard.

    Our view takes every documented redirect shape (with or without `code`), so it is used
    whenever Smartcar accepts the address: HTTPS, or http on localhost only
    (https://smartcar.com/docs/connect/dashboard-config). Otherwise My Home Assistant's HTTPS
    redirect (which reaches only Home Assistant's own callback) when it is set up. `legacy`: the
    callback entries made before our view existed registered (Home Assistant's choice).
    """
    base = _frontend_base(hass)
    if not legacy and _smartcar_accepts(base):
        return f"{base}{CONNECT_CALLBACK_PATH}"
    if "my" in hass.config.components:
        return MY_AUTH_CALLBACK_URL
    return f"{base}{AUTH_CALLBACK_PATH if legacy else CONNECT_CALLBACK_PATH}"


def returns_to_our_view(uri: str) -> bool:
    """Whether Connect's redirect to `uri` reaches our view (else Home Assistant's callback)."""
    return URL(uri).path == CONNECT_CALLBACK_PATH


def _frontend_base(hass: HomeAssistant) -> str:
    """The address the user's browser reaches Home Assistant at (Connect redirects that browser)."""
    request = http.current_request.get()
    if request is not None and (base := request.headers.get(HEADER_FRONTEND_BASE)):
        return str(base).rstrip("/")
    try:
        return get_url(hass, allow_cloud=False)
    except NoURLAvailableError:
        return "http://homeassistant.local:8123"


def _smartcar_accepts(base: str) -> bool:
    url = URL(base)
    return url.scheme == "https" or (
        url.scheme == "http" and url.host in ("localhost", "127.0.0.1", "::1")
    )


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Placeholders for the Application Credentials dialog."""
    return {
        "dashboard_url": SMARTCAR_DASHBOARD_URL,
        "redirect_uri": redirect_uri(hass),
    }
