"""A tiny stand-in for the Smartcar dashboard: the app's credentials and its webhooks.

In real life webhooks are created in Smartcar's dashboard; this page lets a person running
`scripts/develop` do the same against the emulator.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from emulator.pages import page
from emulator.web_utils import get_state

routes = web.RouteTableDef()


@routes.get("/dashboard")
async def dashboard(request: web.Request) -> web.Response:
    """Credentials, webhooks and a form to create one."""
    state = get_state(request)
    app = state.app
    rows = "".join(
        f'<div class="card webhook" data-id="{escape(hook.id)}"><strong>{escape(hook.name)}</strong>'
        f'<br>ID: <code class="webhook-id">{escape(hook.id)}</code>'
        f"<br>Callback URI: <code>{escape(hook.callback_uri)}</code>"
        f"<br>Status: {escape(hook.status)}"
        + (f" ({escape(hook.verify_error)})" if hook.verify_error else "")
        + "</div>"
        for hook in state.webhooks.values()
    )
    body = (
        '<div class="brand">Smartcar dashboard · emulator</div>'
        f"<h1>{escape(app.name)}</h1>"
        "<h2>Configuration</h2><ul>"
        f"<li>Client ID: <code>{escape(app.client_id)}</code></li>"
        f"<li>Client Secret: <code>{escape(app.client_secret)}</code></li>"
        f"<li>Application ID: <code>{escape(app.application_id)}</code></li>"
        f"<li>Application Management Token: <code>{escape(app.amt)}</code></li></ul>"
        "<h2>Webhooks</h2>"
        + (rows or "<p>No webhook yet.</p>")
        + '<form method="post" action="/dashboard/webhooks">'
        '<p><label>Callback URI<br><input name="callback_uri" size="60" '
        'placeholder="http://localhost:8123/api/webhook/…" required></label></p>'
        '<button type="submit" class="primary" id="create-webhook">Create and verify</button>'
        "</form>"
    )
    return web.Response(text=page("Smartcar dashboard", body), content_type="text/html")


@routes.post("/dashboard/webhooks")
async def create_webhook(request: web.Request) -> web.Response:
    """Create a webhook (Smartcar VERIFYs it at once), then show the dashboard again."""
    form = await request.post()
    callback = str(form.get("callback_uri", "")).strip()
    if callback:
        await get_state(request).create_webhook(callback, name="Home Assistant")
    raise web.HTTPSeeOther("/dashboard")
