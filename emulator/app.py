"""The aiohttp application: routes, the request middleware (auth, faults, counting)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import json
import logging
from typing import Any

from aiohttp import web

from emulator import admin, api, auth, dashboard
from emulator.config import EmulatorOptions
from emulator.errors import (
    ApiError,
    Shape,
    billing,
    not_found,
    permission,
    rate_limited_app,
    rate_limited_vehicle,
    server_error,
    unauthorized,
    vehicle_state,
    virtual_key_required,
)
from emulator.faults import (
    COMMAND_KINDS,
    ERROR_KINDS,
    RESPONSE_KINDS,
    SIGNALS_KINDS,
    Fault,
)
from emulator.state import EmulatorState
from emulator.web_utils import STATE_KEY, get_state, json_response, origin_of

_LOGGER = logging.getLogger(__name__)
type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_UNCOUNTED_PREFIXES = ("/_emulator", "/_ak/", "/dashboard")
_COMMAND_TYPES = {"start": "charge-start", "stop": "charge-stop", "set-limit": "charge-set-limit"}


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return f"{request.method} {resource.canonical if resource else request.path}"


def _fault_error(fault: Fault, request: web.Request) -> ApiError:
    match fault.kind:
        case "http_401":
            return unauthorized("The access token is invalid or has expired.")
        case "http_403":
            return permission("Your application lacks the permission for this request.")
        case "http_429":
            return rate_limited_vehicle(30 if fault.retry_after is None else fault.retry_after)
        case "http_429_app":
            return rate_limited_app()
        case "http_430":
            return billing()
        case "http_409_asleep":
            return vehicle_state("ASLEEP")
        case "http_409_unreachable":
            return vehicle_state("UNREACHABLE")
        case "virtual_key_request":
            return virtual_key_required(origin_of(request))
        case "http_404_path":
            return not_found("Not Found")
        case _:
            return server_error(int(fault.kind.removeprefix("http_")))


def _kinds_for(path: str) -> frozenset[str]:
    kinds = ERROR_KINDS | RESPONSE_KINDS
    if "/commands/" in path:
        kinds |= COMMAND_KINDS
    if "/signals" in path:
        kinds |= SIGNALS_KINDS
    return kinds


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _stream_202(
    request: web.Request, body: dict[str, Any], delay: float
) -> web.StreamResponse:
    """Answer 202 at once and send the final body after ``delay`` seconds."""
    response = web.StreamResponse(status=202, headers={"Content-Type": "application/json"})
    await response.prepare(request)
    await asyncio.sleep(delay)
    await response.write(json.dumps(body).encode())
    await response.write_eof()
    return response


async def _command_response(
    request: web.Request, response: web.Response, options: EmulatorOptions
) -> web.StreamResponse:
    """A done command's answer as ``options.command_response`` says (COMMAND_RESPONSES)."""
    if options.command_response == "streamed" and isinstance(response.body, bytes):
        body = json.loads(response.body)
        body["data"]["attributes"]["executionMode"] = "async"
        return await _stream_202(request, body, options.command_seconds)
    if options.command_response == "slow":
        await asyncio.sleep(options.command_seconds)
    return response


async def _failed_command(request: web.Request) -> dict[str, Any]:
    action = request.path.rsplit("/", 1)[-1]
    parameters: dict[str, Any] = {}
    if action == "set-limit" and request.can_read_body:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            parameters["percent"] = (await request.json())["data"]["attributes"]["percent"]
    return {
        "data": {
            "type": "command-execution",
            "id": "exec_failed",
            "attributes": {
                "commandType": _COMMAND_TYPES.get(action, action),
                "status": {
                    "value": "FAILURE",
                    "error": {
                        "type": "VEHICLE_STATE",
                        "code": "UNKNOWN",
                        "detail": "The vehicle did not confirm the command.",
                    },
                },
                "executionMode": "async",
                "parameters": parameters,
            },
        }
    }


def _wrong_types(payload: Any, variant: str | None) -> Any:
    """Return ``payload`` with values of the wrong JSON types."""
    if variant == "data" and isinstance(payload, dict):
        data = payload.get("data")
        if isinstance(data, list):
            return payload | {"data": {str(i): item for i, item in enumerate(data)}}
        return payload | {"data": [data]}
    if isinstance(payload, dict):
        return {
            key: (
                str(value)
                if key in ("value", "limit", "activeLimit", "totalCount", "year", "expires_in")
                and isinstance(value, (int, float))
                else _wrong_types(value, variant)
            )
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [_wrong_types(item, variant) for item in payload]
    return payload


async def _handle_v3(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = get_state(request)
    token = _bearer(request)
    if token is None or not state.token_valid(token):
        raise unauthorized()
    fault = state.faults.take(
        _kinds_for(request.path),
        path=request.path,
        vehicle_id=request.match_info.get("vehicle_id"),
    )
    kind = fault.kind if fault else None
    if fault and (kind in ERROR_KINDS or kind in SIGNALS_KINDS):
        raise _fault_error(fault, request)
    vehicle_id = request.match_info.get("vehicle_id")
    if (
        vehicle_id
        and _route_name(request) in api.BILLABLE_ROUTES
        and state.plans.exhausted(vehicle_id, state.month)
    ):
        # The plan's calls for this vehicle are used up this month (see PlanLimits).
        raise billing()
    if fault and kind == "timeout":
        await asyncio.sleep(30.0 if fault.delay is None else fault.delay)
    if fault and kind == "command_202_failure":
        return await _stream_202(request, await _failed_command(request), fault.delay or 0.0)
    response = await handler(request)
    if (
        "/commands/" in request.path
        and response.status == 200
        and isinstance(response, web.Response)
    ):
        response = await _command_response(request, response, state.options)
    if fault is None or not isinstance(response, web.Response) or response.body is None:
        return response
    raw = response.body
    if not isinstance(raw, bytes):
        return response
    if kind == "malformed_json":
        return web.Response(
            status=response.status,
            body=raw[: max(1, len(raw) // 2)],
            content_type="application/json",
        )
    if kind == "wrong_types":
        return json_response(_wrong_types(json.loads(raw), fault.variant), status=response.status)
    if kind == "command_202" and response.status == 200:
        body = json.loads(raw)
        body["data"]["attributes"]["executionMode"] = "async"
        return await _stream_202(request, body, fault.delay or 0.0)
    return response


def _error_shape(state: EmulatorState) -> Shape:
    return "v3" if state.options.error_shape == "v3" else "jsonapi"  # validated by update_options


@web.middleware
async def emulator_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Observe the simulation, authenticate /v3, apply faults and count requests."""
    state = get_state(request)
    state.seen_origin = f"{request.scheme}://{request.host}"
    state.sync()
    path = request.path
    counted = not path.startswith(_UNCOUNTED_PREFIXES)
    status = 500
    try:
        if path.startswith("/v3/"):
            response = await _handle_v3(request, handler)
        else:
            response = await handler(request)
        status = response.status
    except ApiError as err:
        response = err.response(_error_shape(state))
        status = response.status
    except web.HTTPException as exc:
        status = exc.status
        if not (path.startswith("/v3/") and exc.status == 404):
            raise
        response = not_found(f"No route for {request.method} {path}.").response(_error_shape(state))
    finally:
        if counted:
            route = _route_name(request)
            vehicle_id = request.match_info.get("vehicle_id")
            billable = route in api.BILLABLE_ROUTES
            state.requests.record(route, vehicle_id, status, billable=billable)
            if billable and vehicle_id and 200 <= status < 300:
                state.plans.bill(vehicle_id, state.month)
    return response


async def _tick(state: EmulatorState) -> None:
    """Advance the simulation in the background so webhooks flow on their own."""
    while True:
        await asyncio.sleep(max(0.1, state.options.tick_interval or 1.0))
        if state.options.tick_interval > 0:
            try:
                state.sync()
            except Exception:
                _LOGGER.exception("Background simulation step failed")


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE_KEY]
    ticker = None
    if state.options.tick_interval > 0:
        ticker = asyncio.get_running_loop().create_task(_tick(state))
    yield
    if ticker is not None:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    await state.close()


def create_app(state: EmulatorState | None = None) -> web.Application:
    """Create the emulator's aiohttp application around ``state`` (default: fresh)."""
    app = web.Application(middlewares=[emulator_middleware])
    app[STATE_KEY] = state or EmulatorState()
    app.add_routes(auth.routes)
    app.add_routes(api.routes)
    app.add_routes(admin.routes)
    app.add_routes(dashboard.routes)
    app.cleanup_ctx.append(_lifecycle)
    return app
