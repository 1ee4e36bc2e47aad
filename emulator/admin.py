"""The admin API under ``/_emulator/`` (JSON in, JSON out)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import functools
from typing import Any

from aiohttp import web

from emulator.clock import iso, parse_time
from emulator.state import ConflictError, NotFoundError
from emulator.web_utils import get_state, json_response, origin_of

routes = web.RouteTableDef()

type Handler = Callable[[web.Request], Awaitable[web.Response]]


def _admin(handler: Handler) -> Handler:
    """Map bad input to 400, unknown ids to 404 and conflicts to 409."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except NotFoundError as err:
            return json_response({"error": str(err)}, status=404)
        except ConflictError as err:
            return json_response({"error": str(err)}, status=409)
        except (ValueError, TypeError) as err:
            return json_response({"error": str(err)}, status=400)

    return wrapper


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise TypeError("the body must be a JSON object")
    return body


def _str_or_none(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value


def _number_or_none(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number")
    return float(value)


@routes.get("/_emulator/state")
@_admin
async def get_whole_state(request: web.Request) -> web.Response:
    """Return the whole state."""
    return json_response(get_state(request).as_dict())


@routes.post("/_emulator/reset")
@_admin
async def reset(request: web.Request) -> web.Response:
    """Reset to the default application and fleet."""
    state = get_state(request)
    state.reset()
    return json_response(state.as_dict())


@routes.get("/_emulator/vehicles/{vehicle_id}")
@_admin
async def get_vehicle(request: web.Request) -> web.Response:
    """Return one vehicle's truth and last reading."""
    state = get_state(request)
    state.sync()
    return json_response(state.vehicle(request.match_info["vehicle_id"]).as_dict())


@routes.patch("/_emulator/vehicles/{vehicle_id}")
@_admin
async def patch_vehicle(request: web.Request) -> web.Response:
    """Change vehicle fields; webhooks follow."""
    vehicle = get_state(request).patch_vehicle(
        request.match_info["vehicle_id"], await _body(request)
    )
    return json_response(vehicle.as_dict())


@routes.post("/_emulator/vehicles/{vehicle_id}/remove-key")
@_admin
async def remove_key(request: web.Request) -> web.Response:
    """Remove Smartcar's virtual key (as the car's Locks screen does)."""
    vehicle = get_state(request).set_key(request.match_info["vehicle_id"], paired=False)
    return json_response(vehicle.as_dict())


@routes.post("/_emulator/vehicles/{vehicle_id}/pair-key")
@_admin
async def pair_key(request: web.Request) -> web.Response:
    """Pair Smartcar's virtual key."""
    vehicle = get_state(request).set_key(request.match_info["vehicle_id"], paired=True)
    return json_response(vehicle.as_dict())


@routes.post("/_emulator/vehicles/{vehicle_id}/plan")
@_admin
async def set_plan(request: web.Request) -> web.Response:
    """Give the vehicle a monthly allowance of billable requests (``limit``; null: unlimited)."""
    state = get_state(request)
    vehicle_id = state.vehicle(request.match_info["vehicle_id"]).id
    body = await _body(request)
    if set(body) != {"limit"}:
        raise ValueError("give exactly the field 'limit'")
    limit = body["limit"]
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError("limit must be a whole number from 0, or null")
    state.plans.set(vehicle_id, limit)
    return json_response(state.plans.as_dict(state.month))


@routes.post("/_emulator/clock")
@_admin
async def clock(request: web.Request) -> web.Response:
    """Advance (``advance_seconds``), set (``set``) or speed up (``speed``) the clock."""
    state = get_state(request)
    body = await _body(request)
    if unknown := set(body) - {"advance_seconds", "set", "speed"}:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    if (speed := _number_or_none(body, "speed")) is not None:
        state.set_speed(speed)
    if (when := _str_or_none(body, "set")) is not None:
        state.set_time(parse_time(when))
    if (seconds := _number_or_none(body, "advance_seconds")) is not None:
        state.advance(seconds)
    return json_response(state.clock.as_dict())


@routes.get("/_emulator/faults")
@_admin
async def list_faults(request: web.Request) -> web.Response:
    """List active faults."""
    return json_response({"faults": get_state(request).faults.as_list()})


@routes.post("/_emulator/faults")
@_admin
async def add_fault(request: web.Request) -> web.Response:
    """Inject a fault."""
    body = await _body(request)
    if unknown := set(body) - {
        "kind",
        "vehicle_id",
        "path",
        "count",
        "retry_after",
        "delay",
        "variant",
    }:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    kind = _str_or_none(body, "kind")
    if kind is None:
        raise ValueError("kind is required")
    count = body.get("count", 1)
    retry_after = body.get("retry_after")
    if not isinstance(count, int) or isinstance(count, bool):
        raise TypeError("count must be an integer")
    if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
        raise TypeError("retry_after must be a non-negative integer")
    fault = get_state(request).add_fault(
        kind,
        vehicle_id=_str_or_none(body, "vehicle_id"),
        path=_str_or_none(body, "path"),
        count=count,
        retry_after=retry_after,
        delay=_number_or_none(body, "delay"),
        variant=_str_or_none(body, "variant"),
    )
    return json_response(fault.as_dict(), status=201)


@routes.delete("/_emulator/faults")
@_admin
async def clear_faults(request: web.Request) -> web.Response:
    """Remove every fault."""
    get_state(request).clear_faults()
    return json_response({"faults": []})


@routes.get("/_emulator/requests")
@_admin
async def request_counts(request: web.Request) -> web.Response:
    """Return request counts."""
    return json_response(get_state(request).requests.as_dict())


@routes.delete("/_emulator/requests")
@_admin
async def reset_request_counts(request: web.Request) -> web.Response:
    """Reset request counts."""
    state = get_state(request)
    state.requests.reset()
    return json_response(state.requests.as_dict())


@routes.post("/_emulator/users")
@_admin
async def add_user(request: web.Request) -> web.Response:
    """Add a user with vehicles: ``{"id"?, "name"?, "vehicles": [spec, ...]}``."""
    state = get_state(request)
    body = await _body(request)
    vehicles = body.get("vehicles", [])
    if not isinstance(vehicles, list) or not all(isinstance(v, dict) for v in vehicles):
        raise TypeError("vehicles must be a list of objects")
    user = state.add_user(
        user_id=_str_or_none(body, "id"), name=_str_or_none(body, "name"), vehicles=vehicles
    )
    owned = [v.as_dict() for v in state.vehicles.values() if v.user_id == user.id]
    return json_response(user.as_dict() | {"vehicles": owned}, status=201)


@routes.post("/_emulator/app")
@_admin
async def update_app(request: web.Request) -> web.Response:
    """Change the application's credentials, redirect URIs or Connect settings."""
    app = get_state(request).update_app(await _body(request))
    return json_response(app.as_dict())


@routes.post("/_emulator/options")
@_admin
async def update_options(request: web.Request) -> web.Response:
    """Change emulator options."""
    options = get_state(request).update_options(await _body(request))
    return json_response(options.as_dict())


@routes.post("/_emulator/connections")
@_admin
async def connect(request: web.Request) -> web.Response:
    """Connect vehicles without the Connect pages: ``{user_id?, vehicle_ids?, permissions?}``."""
    state = get_state(request)
    body = await _body(request)
    kwargs: dict[str, Any] = {}
    for name in ("user_id", "mode"):
        if name in body:
            kwargs[name] = _str_or_none(body, name)
    for name in ("vehicle_ids", "permissions"):
        if name in body:
            value = body[name]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"{name} must be a list of strings")
            kwargs[name] = value
    connections = state.connect(**kwargs)
    return json_response({"connections": [c.as_dict() for c in connections]}, status=201)


@routes.post("/_emulator/webhooks")
@_admin
async def create_webhook(request: web.Request) -> web.Response:
    """Create a webhook and VERIFY it: ``{id?, name?, callbackUri, verify?, verified?}``."""
    body = await _body(request)
    callback = _str_or_none(body, "callbackUri") or _str_or_none(body, "callback_uri")
    if not callback:
        raise ValueError("callbackUri is required")
    verify = body.get("verify", True)
    verified = body.get("verified", False)
    if not isinstance(verify, bool) or not isinstance(verified, bool):
        raise TypeError("verify and verified must be booleans")
    webhook = await get_state(request).create_webhook(
        callback,
        name=_str_or_none(body, "name") or "Emulator webhook",
        webhook_id=_str_or_none(body, "id"),
        verify=verify,
        verified=verified,
    )
    return json_response(webhook.as_dict(), status=201)


@routes.post("/_emulator/webhooks/{webhook_id}/verify")
@_admin
async def verify_webhook(request: web.Request) -> web.Response:
    """Send VERIFY again."""
    state = get_state(request)
    await state.verify_webhook(request.match_info["webhook_id"])
    return json_response(state.webhooks[request.match_info["webhook_id"]].as_dict())


@routes.post("/_emulator/webhooks/{webhook_id}/test")
@_admin
async def test_delivery(request: web.Request) -> web.Response:
    """Send a VEHICLE_STATE: ``{vehicle_id?, mode? ("TEST"|"LIVE"), bad_signature?}``."""
    body = await _body(request)
    mode = _str_or_none(body, "mode") or "TEST"
    bad_signature = body.get("bad_signature", False)
    if mode not in ("TEST", "LIVE") or not isinstance(bad_signature, bool):
        raise ValueError("mode must be TEST or LIVE; bad_signature a boolean")
    state = get_state(request)
    event = state.send_test_delivery(
        request.match_info["webhook_id"],
        vehicle_id=_str_or_none(body, "vehicle_id"),
        mode=mode,
        bad_signature=bad_signature,
    )
    if body.get("wait", True):
        await state.wait_for_deliveries()
    return json_response({"event_id": event.event_id}, status=202)


@routes.post("/_emulator/subscriptions")
@_admin
async def subscribe(request: web.Request) -> web.Response:
    """Subscribe a vehicle to a webhook without the management API."""
    body = await _body(request)
    webhook_id = _str_or_none(body, "webhook_id")
    vehicle_id = _str_or_none(body, "vehicle_id")
    if not webhook_id or not vehicle_id:
        raise ValueError("webhook_id and vehicle_id are required")
    sub = get_state(request).subscribe(webhook_id, vehicle_id)
    return json_response(sub.as_dict(), status=201)


@routes.get("/_emulator/deliveries")
@_admin
async def deliveries(request: web.Request) -> web.Response:
    """Return the delivery log (every attempt, with its payload)."""
    state = get_state(request)
    return json_response(
        {
            "pending": state.dispatcher.pending,
            "deliveries": [record.as_dict() for record in state.dispatcher.log],
        }
    )


@routes.delete("/_emulator/deliveries")
@_admin
async def clear_deliveries(request: web.Request) -> web.Response:
    """Clear the delivery log."""
    get_state(request).dispatcher.log.clear()
    return json_response({"deliveries": []})


@routes.post("/_emulator/deliveries/wait")
@_admin
async def wait_deliveries(request: web.Request) -> web.Response:
    """Wait until all scheduled deliveries (with retries) are done."""
    state = get_state(request)
    await state.wait_for_deliveries()
    return json_response({"pending": state.dispatcher.pending})


@routes.post("/_emulator/tokens")
@_admin
async def issue_token(request: web.Request) -> web.Response:
    """Mint an access token without the token endpoint."""
    state = get_state(request)
    token, ttl = state.issue_token()
    return json_response({"access_token": token, "token_type": "Bearer", "expires_in": ttl})


@routes.get("/_emulator")
@_admin
async def index(request: web.Request) -> web.Response:
    """Describe where things are."""
    state = get_state(request)
    origin = origin_of(request)
    return json_response(
        {
            "origin": origin,
            "now": iso(state.clock.now()),
            "connect": f"{origin}/oauth/authorize",
            "token": f"{origin}/oauth2/token",
            "api": f"{origin}/v3",
            "client_id": state.app.client_id,
            "client_secret": state.app.client_secret,
            "application_id": state.app.application_id,
            "amt": state.app.amt,
        }
    )
