"""Smartcar Connect (consent pages), the IAM token endpoint and the Tesla app page."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
import secrets
from urllib.parse import unquote

from aiohttp import web
from yarl import URL

from emulator.faults import TOKEN_KINDS
from emulator.fleet import DEFAULT_USER_ID, User
from emulator.pages import consent_page, error_page, tesla_app_page, tesla_approved_page
from emulator.signals import VIRTUAL_KEY_PATH
from emulator.state import EmulatorState
from emulator.web_utils import get_state, json_response, origin_of

routes = web.RouteTableDef()

CONNECT_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "mode",
    "approval_prompt",
    "user",
)


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html")


def _connect_problem(state: EmulatorState, params: Mapping[str, str]) -> str | None:
    """Return the first invalid Connect parameter's message, or None."""
    if params.get("client_id") != state.app.application_id:
        return "Invalid parameter client_id"
    if not state.app.redirect_allowed(params.get("redirect_uri", "")):
        return "Invalid parameter redirect_uri"
    if params.get("response_type") != "code":
        return "Invalid parameter response_type"
    if params.get("mode", "live") not in ("live", "simulated", "test"):
        return "Invalid parameter mode"
    if params.get("approval_prompt", "auto") not in ("auto", "force"):
        return "Invalid parameter approval_prompt"
    if not params.get("scope", "").split():
        return "Invalid parameter scope"
    return None


def _account(state: EmulatorState, params: Mapping[str, str]) -> User:
    for user_id in (params.get("user"), state.app.connect_user_id, DEFAULT_USER_ID):
        if user_id and user_id in state.users:
            return state.users[user_id]
    return next(iter(state.users.values()))


def _requested(scope: str) -> dict[str, bool]:
    """Each requested permission and whether it is required.

    "A permission is optional by default. It can be made required by adding the `required:`
    prefix to the permission name, e.g. `required:read_odometer`" (connect/redirect-to-connect;
    the page dates the prefix from 16 June 2026). Connect lets the owner untick an optional
    permission only.
    """
    requested: dict[str, bool] = {}
    for item in scope.split():
        name = item.removeprefix("required:")
        requested[name] = requested.get(name, False) or item != name
    return requested


def _granted(scope: str, form: Mapping[str, object], ticked: list[str]) -> list[str]:
    """What the owner granted: the required permissions and the optional ones left ticked.

    A decision posted without the consent page's permission choice (`permission_choice`)
    grants everything requested, as approving the page unchanged does.
    """
    requested = _requested(scope)
    if "permission_choice" not in form:
        return sorted(requested)
    return sorted(name for name, required in requested.items() if required or name in ticked)


def _render_consent(
    state: EmulatorState, params: Mapping[str, str], *, error: str | None = None
) -> web.Response:
    user = _account(state, params)
    hidden = {name: params[name] for name in CONNECT_FIELDS if name in params}
    hidden["user"] = user.id
    page = consent_page(
        app_name=state.app.name,
        user=user,
        vehicles=[v for v in state.vehicles.values() if v.user_id == user.id],
        scopes=_requested(params["scope"]),
        hidden=hidden,
        error=error,
    )
    return _html(page, 400 if error else 200)


@routes.get("/oauth/authorize")
async def authorize(request: web.Request) -> web.Response:
    """Show Connect's consent page, or a 400 page for invalid parameters."""
    state = get_state(request)
    params = dict(request.query)
    if problem := _connect_problem(state, params):
        return _html(error_page("400: Bad Request", problem), 400)
    return _render_consent(state, params)


@routes.post("/oauth/authorize/decision")
async def decide(request: web.Request) -> web.Response:
    """Handle Approve/Deny: record connections and redirect back with the result."""
    state = get_state(request)
    form = await request.post()
    params = {name: str(form[name]) for name in CONNECT_FIELDS if name in form}
    if problem := _connect_problem(state, params):
        return _html(error_page("400: Bad Request", problem), 400)
    target = URL(params["redirect_uri"])
    extra = {"state": params["state"]} if "state" in params else {}
    if form.get("decision") != "approve":
        query = {
            "error": "access_denied",
            "error_description": "User denied access to application.",
            **extra,
        }
        raise web.HTTPFound(str(target.extend_query(query)))
    user = _account(state, params)
    owned = {v.id for v in state.vehicles.values() if v.user_id == user.id}
    chosen = [str(value) for value in form.getall("vehicle", []) if value in owned]
    if not chosen:
        return _render_consent(state, params, error="Select at least one vehicle to continue.")
    state.connect(
        user_id=user.id,
        vehicle_ids=chosen,
        permissions=_granted(
            params["scope"], form, [str(value) for value in form.getall("permission", [])]
        ),
        mode=params.get("mode", "live"),
    )
    query = {**_redirect_identity(state, user), **extra}
    if state.app.connect_virtual_key_url and any(state.vehicles[v].keyless for v in chosen):
        query["virtual_key_url"] = origin_of(request) + VIRTUAL_KEY_PATH
    raise web.HTTPFound(str(target.extend_query(query)))


def _redirect_identity(state: EmulatorState, user: User) -> dict[str, str]:
    """The success redirect's parameters besides `state`, per ``options.connect_redirect``.

    - "documented": `user_id` only, as the current "Handle the response" page shows
      (https://smartcar.com/docs/connect/handle-the-response: `?user_id=…&state=…`);
    - "with_code": `code` and `user_id` ("the redirect URL now includes a `user_id` parameter
      alongside the authorization code", getting-started/how-to/api-authentication; the live
      redirect as a third-party client describes it, `code` unused and `user_id` snake_case,
      https://github.com/wbyoung/smartcar/blob/6d61fe6e/custom_components/smartcar/views.py);
    - "code_only": `code` only, as the older version of the Handle-the-response page shows.
    """
    mode = state.options.connect_redirect
    identity: dict[str, str] = {}
    if mode in ("with_code", "code_only"):
        identity["code"] = secrets.token_urlsafe(16)
    if mode != "code_only":
        identity["user_id"] = user.id
    return identity


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return json_response({"error": error, "error_description": description}, status=status)


def _basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except binascii.Error, UnicodeDecodeError:
        return None, None
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


@routes.post("/oauth2/token")
async def token(request: web.Request) -> web.Response:
    """Mint a client-credentials token (form, JSON or HTTP Basic credentials)."""
    state = get_state(request)
    if request.content_type == "application/json":
        try:
            raw = await request.json()
        except ValueError:
            return _oauth_error(400, "invalid_request", "The body is not valid JSON.")
        body = {k: str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    else:
        body = {k: str(v) for k, v in (await request.post()).items()}
    basic_id, basic_secret = _basic_credentials(request.headers.get("Authorization"))
    client_id = body.get("client_id") or basic_id
    client_secret = body.get("client_secret") or basic_secret
    grant_type = body.get("grant_type")
    if not (grant_type and client_id and client_secret):
        return _oauth_error(
            400, "invalid_request", "grant_type, client_id and client_secret are required."
        )
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Use grant_type=client_credentials.")
    faulted = state.faults.take(TOKEN_KINDS, path=request.path, vehicle_id=None)
    if faulted or (client_id, client_secret) != (state.app.client_id, state.app.client_secret):
        return _oauth_error(401, "invalid_client", "Client authentication failed.")
    access_token, ttl = state.issue_token()
    return json_response({"access_token": access_token, "token_type": "Bearer", "expires_in": ttl})


@routes.get(VIRTUAL_KEY_PATH)
async def tesla_app(request: web.Request) -> web.Response:
    """Show the simulated Tesla app asking to approve Smartcar's virtual key."""
    state = get_state(request)
    vin = request.query.get("vin")
    match = next((v for v in state.vehicles.values() if vin and v.vin == vin), None)
    user_id = match.user_id if match else DEFAULT_USER_ID
    teslas = [v for v in state.vehicles.values() if v.user_id == user_id and v.key_required]
    return _html(tesla_app_page(teslas, selected_vin=vin))


@routes.post(VIRTUAL_KEY_PATH + "/approve")
async def tesla_approve(request: web.Request) -> web.Response:
    """Pair the key of the vehicle named by the form's ``vin``."""
    state = get_state(request)
    vin = (await request.post()).get("vin")
    vehicle = next((v for v in state.vehicles.values() if v.vin == vin and v.key_required), None)
    if vehicle is None:
        return _html(error_page("Vehicle not found", "No vehicle needs a key for that VIN."), 404)
    state.set_key(vehicle.id, paired=True)
    return _html(tesla_approved_page(vehicle))
