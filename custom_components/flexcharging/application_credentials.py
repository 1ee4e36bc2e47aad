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


def redirect_uri(hass: HomeAssistant, path: str = CONNECT_CALLBACK_PATH) -> str:
    """The redirect URI to register in the Smartcar dashboard.

    My Home Assistant forwards only to Home Assistant's own callback; without it, Connect returns
    to our view, which also takes the documented redirect that carries no `code`.
    """
    if "my" in hass.config.components:
        return MY_AUTH_CALLBACK_URL
    request = http.current_request.get()
    if request is not None and (base := request.headers.get(HEADER_FRONTEND_BASE)):
        return f"{base}{path}"
    try:
        return f"{get_url(hass, allow_cloud=False)}{path}"
    except NoURLAvailableError:
        return f"http://homeassistant.local:8123{path}"


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Placeholders for the Application Credentials dialog."""
    return {
        "dashboard_url": SMARTCAR_DASHBOARD_URL,
        "redirect_uri": redirect_uri(hass),
    }
