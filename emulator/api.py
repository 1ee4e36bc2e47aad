"""The v3 Vehicle API and Management API routes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
import uuid

from aiohttp import web

from emulator.clock import iso
from emulator.errors import (
    bad_parameter,
    conflict,
    missing_parameter,
    not_found,
    permission,
    vehicle_state,
    virtual_key_required,
)
from emulator.fleet import STATUS_FULLY_CHARGED, Vehicle
from emulator.state import ConflictError, Connection, EmulatorState, NotFoundError
from emulator.web_utils import get_state, json_response, origin_of, paged, read_json

routes = web.RouteTableDef()

# Routes whose successful answers count as billable vehicle requests.
BILLABLE_ROUTES = frozenset(
    {
        "GET /v3/vehicles/{vehicle_id}",
        "GET /v3/vehicles/{vehicle_id}/signals",
        "GET /v3/vehicles/{vehicle_id}/signals/{code}",
        "POST /v3/vehicles/{vehicle_id}/commands/charge/start",
        "POST /v3/vehicles/{vehicle_id}/commands/charge/stop",
        "POST /v3/vehicles/{vehicle_id}/commands/charge/set-limit",
    }
)


def _connected(state: EmulatorState, vehicle_id: str) -> tuple[Vehicle, Connection]:
    vehicle = state.vehicles.get(vehicle_id)
    conn = state.connection_for(vehicle_id)
    if vehicle is None or conn is None:
        raise not_found(f"Vehicle {vehicle_id} was not found for this application.")
    return vehicle, conn


def _require_user(request: web.Request, vehicle: Vehicle) -> None:
    # The v3 reference makes `sc-user-id` required; what Smartcar answers without it, or for a
    # user who has not connected the vehicle, is not documented: the emulator's choice is 400
    # MISSING_PARAMETER and 403 PERMISSION.
    user_id = request.headers.get("sc-user-id")
    if not user_id:
        raise missing_parameter("missing userId")
    if user_id != vehicle.user_id:
        raise permission("The user in sc-user-id has not connected this vehicle.")


def _vehicle_resource(origin: str, vehicle: Vehicle, conn: Connection) -> dict[str, Any]:
    return {
        "id": vehicle.id,
        "type": "vehicle",
        "attributes": vehicle.attributes(conn.mode),
        "links": {"self": f"{origin}/v3/vehicles/{vehicle.id}"},
    }


def _imperial(request: web.Request, vehicle: Vehicle) -> bool:
    header = request.headers.get("SC-Unit-System")
    if header is None:
        return vehicle.unit == "imperial"
    return header.strip().lower() == "imperial"


# --- connections ------------------------------------------------------------------


@routes.get("/v3/connections")
async def list_connections(request: web.Request) -> web.Response:
    """List connections (filters, paging, optional ``sc-user-id`` filter)."""
    state = get_state(request)
    query = request.query
    user_id = query.get("filter[userId]")
    header_user = request.headers.get("sc-user-id")
    items = state.find_connections(
        user_id=user_id or header_user,
        vehicle_id=query.get("filter[vehicleId]"),
        mode=query.get("filter[vehicle.mode]", "live"),
    )
    if user_id and header_user and user_id != header_user:
        items = []
    page, meta, links = paged(request, items, default_size=10, max_size=100)
    origin = origin_of(request)
    data = [conn.resource(origin, state.vehicles[conn.vehicle_id]) for conn in page]
    meta |= {"orderBy": "createdAt", "orderDirection": "DESC"}
    return json_response({"data": data, "meta": meta, "links": links})


@routes.get("/v3/connections/{connection_id}")
async def get_connection(request: web.Request) -> web.Response:
    """Return one connection."""
    state = get_state(request)
    conn = state.connections.get(request.match_info["connection_id"])
    if conn is None:
        raise not_found("Connection not found.")
    vehicle = state.vehicles[conn.vehicle_id]
    return json_response({"data": conn.resource(origin_of(request), vehicle)})


@routes.delete("/v3/connections/{connection_id}")
async def delete_connection(request: web.Request) -> web.Response:
    """Disconnect a vehicle."""
    try:
        get_state(request).disconnect(request.match_info["connection_id"])
    except NotFoundError:
        raise not_found("Connection not found.") from None
    return web.Response(status=204)


# --- vehicles and signals ---------------------------------------------------------


@routes.get("/v3/vehicles/{vehicle_id}")
async def get_vehicle(request: web.Request) -> web.Response:
    """Return a vehicle's attributes."""
    vehicle, conn = _connected(get_state(request), request.match_info["vehicle_id"])
    return json_response({"data": _vehicle_resource(origin_of(request), vehicle, conn)})


@routes.get("/v3/vehicles/{vehicle_id}/signals")
async def get_signals(request: web.Request) -> web.Response:
    """Return every stored signal (empty when the vehicle is not subscribed)."""
    state = get_state(request)
    vehicle, conn = _connected(state, request.match_info["vehicle_id"])
    _require_user(request, vehicle)
    origin = origin_of(request)
    imperial = _imperial(request, vehicle)
    data = []
    # Not documented for a vehicle without a subscription: an empty list, as a third-party
    # client reports ("Until that is true the endpoint answers with an empty result",
    # https://github.com/wbyoung/smartcar README.md, "Webhooks").
    if state.store_active(vehicle):
        data = [
            signal.rest(
                vehicle_id=vehicle.id,
                origin=origin,
                retrieved_at=vehicle.polled_at,
                epoch_ms_times=state.options.rest_timestamps == "epoch_ms",
            )
            for signal in state.signals_for(vehicle, origin=origin, imperial=imperial)
        ]
    payload = {
        "data": data,
        "meta": {"totalCount": len(data), "pageSize": len(data), state.options.paging_meta: 1},
        "links": {"self": f"{origin}/v3/vehicles/{vehicle.id}/signals"},
        "included": {"vehicle": _vehicle_resource(origin, vehicle, conn)},
    }
    headers = {"SC-Unit-System": "imperial" if imperial else "metric"}
    return json_response(payload, headers=headers)


@routes.get("/v3/vehicles/{vehicle_id}/signals/{code}")
async def get_signal(request: web.Request) -> web.Response:
    """Return one stored signal; 404 for unknown codes and unsubscribed vehicles."""
    state = get_state(request)
    vehicle, conn = _connected(state, request.match_info["vehicle_id"])
    _require_user(request, vehicle)
    code = request.match_info["code"]
    origin = origin_of(request)
    imperial = _imperial(request, vehicle)
    found = None
    if state.store_active(vehicle):
        signals = state.signals_for(vehicle, origin=origin, imperial=imperial)
        found = next((s for s in signals if s.signal.code == code), None)
    if found is None:
        raise not_found(f"Signal {code} was not found for this vehicle.")
    payload = {
        "data": found.rest(
            vehicle_id=vehicle.id,
            origin=origin,
            retrieved_at=vehicle.polled_at,
            epoch_ms_times=state.options.rest_timestamps == "epoch_ms",
        ),
        "included": {"vehicle": _vehicle_resource(origin, vehicle, conn)},
    }
    return json_response(payload)


# --- commands -------------------------------------------------------------------


async def _percent(request: web.Request) -> int:
    body = await read_json(request)
    try:
        percent = body["data"]["attributes"]["percent"]
    except KeyError, TypeError:
        raise bad_parameter("data.attributes.percent is required.") from None
    if not isinstance(percent, int) or isinstance(percent, bool) or not 50 <= percent <= 100:
        raise bad_parameter("percent must be an integer from 50 to 100.")
    return percent


async def _command(request: web.Request, action: str) -> web.Response:
    state = get_state(request)
    vehicle, conn = _connected(state, request.match_info["vehicle_id"])
    _require_user(request, vehicle)
    if "control_charge" not in conn.permissions:
        raise permission("The control_charge permission was not granted for this vehicle.")
    parameters: dict[str, Any] = {}
    if action == "set-limit":
        parameters["percent"] = await _percent(request)
    if vehicle.keyless:
        raise virtual_key_required(origin_of(request))
    if not vehicle.reachable:
        raise vehicle_state("UNREACHABLE")
    if vehicle.asleep and not vehicle.wakes_in_time:
        state.commit(vehicle, state.wake(vehicle))
        raise vehicle_state("ASLEEP")
    triggers = state.wake(vehicle)
    pending = state.options.command_response == "pending"
    try:
        changes = _command_changes(vehicle, action, parameters)
        if pending:
            state.defer(vehicle, changes, state.options.command_seconds)
        else:
            for name, value in changes.items():
                setattr(vehicle, name, value)
    finally:
        state.commit(vehicle, triggers)
    now = state.clock.now()
    payload: dict[str, Any] = {
        "data": {
            "id": f"exec_{uuid.uuid4().hex[:16]}",
            "type": "command-execution",
            "attributes": {
                "commandType": f"charge-{action}",
                "status": {"value": "PENDING" if pending else "SUCCESS"},
                "executionMode": "async" if pending else "sync",
                "parameters": parameters,
            },
            "meta": {
                "executedAt": iso(now),
                "completedAt": iso(now + timedelta(seconds=2)),
                "durationInSeconds": 2,
            },
        }
    }
    if pending:
        # Accepted, not done (emulator.config.COMMAND_RESPONSES); no completion yet.
        payload["data"]["meta"] = {"executedAt": iso(now)}
        return json_response(payload, status=202)
    return json_response(payload)


def _command_changes(vehicle: Vehicle, action: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """What the command changes in the car; raises the VEHICLE_STATE error that refuses it."""
    if action == "start":
        if not vehicle.plugged_in:
            raise vehicle_state("CHARGING_PLUG_NOT_CONNECTED")
        if vehicle.charging:
            raise vehicle_state("CHARGING_IN_PROGRESS")
        if vehicle.status() == STATUS_FULLY_CHARGED or vehicle.soc >= vehicle.charge_limit:
            raise vehicle_state("FULLY_CHARGED")
        return {"charging": True}
    if action == "stop":
        if not vehicle.charging:
            raise vehicle_state("NOT_CHARGING")
        return {"charging": False}
    return {"charge_limit": parameters["percent"]}


@routes.post("/v3/vehicles/{vehicle_id}/commands/charge/start")
async def start_charge(request: web.Request) -> web.Response:
    """Start charging."""
    return await _command(request, "start")


@routes.post("/v3/vehicles/{vehicle_id}/commands/charge/stop")
async def stop_charge(request: web.Request) -> web.Response:
    """Stop charging."""
    return await _command(request, "stop")


@routes.post("/v3/vehicles/{vehicle_id}/commands/charge/set-limit")
async def set_charge_limit(request: web.Request) -> web.Response:
    """Set the charge limit (integer percent 50-100)."""
    return await _command(request, "set-limit")


# --- management: subscriptions and webhooks ---------------------------------------


@routes.post("/v3/subscriptions")
async def create_subscription(request: web.Request) -> web.Response:
    """Subscribe a vehicle to a webhook (api-reference/create-subscription); 202, FIRST_DELIVERY."""
    if get_state(request).options.subscription_paths == "launch_post":
        raise not_found("Not Found")
    return await _subscribe(request, None)


@routes.post("/v3/webhooks/{webhook_id}/subscriptions")
async def create_webhook_subscription(request: web.Request) -> web.Response:
    """The same, at the path the v3 launch post lists (its body is not documented anywhere)."""
    if get_state(request).options.subscription_paths == "reference":
        raise not_found("Not Found")
    return await _subscribe(request, request.match_info["webhook_id"])


async def _subscribe(request: web.Request, webhook_id: str | None) -> web.Response:
    body = await read_json(request)
    names = ("userId", "vehicleId") if webhook_id else ("webhookId", "userId", "vehicleId")
    try:
        attributes = body["data"]["attributes"]
        ids = {name: attributes[name] for name in names}
    except KeyError, TypeError:
        raise missing_parameter(
            "data.attributes.webhookId, userId and vehicleId are required."
        ) from None
    if webhook_id:
        ids["webhookId"] = webhook_id
    if not all(isinstance(value, str) for value in ids.values()):
        raise bad_parameter("webhookId, userId and vehicleId must be strings.")
    try:
        get_state(request).subscribe(ids["webhookId"], ids["vehicleId"], ids["userId"])
    except NotFoundError as err:
        raise not_found(str(err)) from None
    except ConflictError as err:
        raise conflict(str(err)) from None
    return json_response({"meta": {"message": "subscription creation in progress"}}, status=202)


@routes.get("/v3/subscriptions")
async def list_subscriptions(request: web.Request) -> web.Response:
    """List subscriptions, filtered by user, webhook or vehicle."""
    state = get_state(request)
    query = request.query
    items = [
        sub
        for sub in state.subscriptions.values()
        if query.get("filter[userId]", sub.user_id) == sub.user_id
        and query.get("filter[webhookId]", sub.webhook_id) == sub.webhook_id
        and query.get("filter[vehicleId]", sub.vehicle_id) == sub.vehicle_id
    ]
    page, meta, links = paged(request, items, default_size=25, max_size=100)
    origin = origin_of(request)
    data = [sub.resource(origin, state.vehicles.get(sub.vehicle_id)) for sub in page]
    return json_response({"data": data, "meta": meta, "links": links})


@routes.get("/v3/subscriptions/{subscription_id}")
async def get_subscription(request: web.Request) -> web.Response:
    """Return one subscription."""
    state = get_state(request)
    sub = state.subscriptions.get(request.match_info["subscription_id"])
    if sub is None:
        raise not_found("Subscription not found.")
    resource = sub.resource(origin_of(request), state.vehicles.get(sub.vehicle_id))
    return json_response({"data": resource})


@routes.delete("/v3/subscriptions/{subscription_id}")
async def delete_subscription(request: web.Request) -> web.Response:
    """Delete a subscription."""
    try:
        get_state(request).unsubscribe(request.match_info["subscription_id"])
    except NotFoundError:
        raise not_found("Subscription not found.") from None
    return web.Response(status=204)


@routes.get("/v3/webhooks")
async def list_webhooks(request: web.Request) -> web.Response:
    """List the application's webhooks."""
    items = list(get_state(request).webhooks.values())
    page, meta, links = paged(request, items, default_size=25, max_size=100)
    origin = origin_of(request)
    return json_response(
        {
            "data": [hook.resource(origin) for hook in page],
            "meta": meta,
            "links": links,
        }
    )


@routes.get("/v3/webhooks/{webhook_id}")
async def get_webhook(request: web.Request) -> web.Response:
    """Return one webhook."""
    webhook = get_state(request).webhooks.get(request.match_info["webhook_id"])
    if webhook is None:
        raise not_found("Webhook not found.")
    return json_response({"data": webhook.resource(origin_of(request))})
