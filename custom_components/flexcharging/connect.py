"""Back from Smartcar Connect: our redirect view.

Smartcar's current "Handle the response" page documents a success redirect with `user_id` and
`state` only; older pages and live apps add `code`. Home Assistant's own OAuth callback answers
"Missing code or error parameter" without `code`, so Connect returns here instead: the view
checks Home Assistant's signed `state` (as that callback does) and hands the waiting flow
`code`, `error` and the redirect's `user_id` (the documented identity of the user). Where
Smartcar cannot be sent here (an http address; My Home Assistant's redirect reaches only Home
Assistant's callback), the flow's `connect` step asks the user when Connect is done.
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web
from homeassistant.components.http import KEY_HASS, HomeAssistantView
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import UnknownFlow
from homeassistant.helpers.config_entry_oauth2_flow import DATA_JWT_SECRET
import jwt

from .application_credentials import CONNECT_CALLBACK_PATH
from .const import DOMAIN, LOGGER
from .texts import cached_text

DATA_VIEW_REGISTERED = f"{DOMAIN}_connect_view"
# Parameters Connect documents on the redirect; `userId` is an older spelling of `user_id`.
FORWARDED = ("code", "error", "error_description", "virtual_key_url")
CLOSE_PAGE = "<p>{text}</p><script>window.close()</script>"


def async_register_connect_view(hass: HomeAssistant) -> None:
    """Register the redirect view once (before the HTTP server starts when possible)."""
    if not hass.data.get(DATA_VIEW_REGISTERED):
        hass.http.register_view(ConnectCallbackView())
        hass.data[DATA_VIEW_REGISTERED] = True


def decode_state(hass: HomeAssistant, state: str | None) -> dict[str, Any] | None:
    """Home Assistant's signed OAuth `state` (it names the flow), or None when not valid."""
    secret = hass.data.get(DATA_JWT_SECRET)
    if not state or not secret:
        return None
    try:
        decoded = jwt.decode(state, secret, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    return decoded if isinstance(decoded, dict) and "flow_id" in decoded else None


def redirect_input(query: Any, state: dict[str, Any]) -> dict[str, Any]:
    """What the flow's `auth` step gets from a Connect redirect (any documented shape)."""
    user_input: dict[str, Any] = {"state": state}
    for name in FORWARDED:
        if query.get(name):
            user_input[name] = str(query[name])
    if user_id := query.get("user_id") or query.get("userId"):
        user_input["user_id"] = str(user_id)
    return user_input


async def async_resume_connect(
    hass: HomeAssistant, flow_id: str, user_input: dict[str, Any]
) -> bool:
    """Resume a flow waiting in Connect; False when it is gone or already moved on."""
    try:
        flow = hass.config_entries.flow.async_get(flow_id)
    except UnknownFlow:
        return False
    if flow.get("handler") != DOMAIN or flow.get("step_id") != "auth":
        return False
    await hass.config_entries.flow.async_configure(flow_id, user_input)
    return True


class ConnectCallbackView(HomeAssistantView):
    """Smartcar Connect's redirect: `state` plus `user_id` and/or `code`, or `error`."""

    requires_auth = False  # the browser comes back from Smartcar; `state` is signed
    url = CONNECT_CALLBACK_PATH
    name = "api:flexcharging:connect"

    async def get(self, request: web.Request) -> web.Response:
        """Hand the redirect to the flow named in `state`."""
        hass = request.app[KEY_HASS]
        state = decode_state(hass, request.query.get("state"))
        if state is None:
            return web.Response(status=400, text="Invalid or missing state parameter.")
        if not await async_resume_connect(
            hass, state["flow_id"], redirect_input(request.query, state)
        ):
            LOGGER.debug("Connect redirect for a flow that is not waiting for it")
        text = html.escape(cached_text(hass, "connect_done"))
        return web.Response(content_type="text/html", text=CLOSE_PAGE.format(text=text))
