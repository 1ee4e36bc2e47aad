"""Small helpers shared by the route modules."""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web
from yarl import URL

from emulator.errors import bad_parameter
from emulator.state import EmulatorState

STATE_KEY = web.AppKey("emulator_state", EmulatorState)


def get_state(request: web.Request) -> EmulatorState:
    """Return the emulator state of the request's application."""
    return request.app[STATE_KEY]


def origin_of(request: web.Request) -> str:
    """Return the origin links should use: the public origin or the request's own."""
    public = request.app[STATE_KEY].options.public_origin
    return public.rstrip("/") if public else f"{request.scheme}://{request.host}"


def json_response(payload: Any, status: int = 200, **kwargs: Any) -> web.Response:
    """Return a JSON response."""
    return web.json_response(payload, status=status, dumps=json.dumps, **kwargs)


async def read_json(request: web.Request) -> Any:
    """Return the parsed JSON body, or raise 400 VALIDATION/PARAMETER."""
    try:
        return await request.json()
    except ValueError, UnicodeDecodeError:
        raise bad_parameter("The request body is not valid JSON.") from None


def page_params(request: web.Request, *, default_size: int, max_size: int) -> tuple[int, int]:
    """Return ``page[number]`` and ``page[size]`` from the query, validated."""
    try:
        number = int(request.query.get("page[number]", "1"))
        size = int(request.query.get("page[size]", str(default_size)))
    except ValueError:
        raise bad_parameter("page[number] and page[size] must be integers.") from None
    if number < 1 or not 1 <= size <= max_size:
        raise bad_parameter(f"page[number] must be >= 1 and page[size] 1-{max_size}.")
    return number, size


def paged(
    request: web.Request, items: list[Any], *, default_size: int, max_size: int
) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
    """Slice ``items`` for the requested page; return it with ``meta`` and ``links``."""
    number, size = page_params(request, default_size=default_size, max_size=max_size)
    total = len(items)
    last = max(1, math.ceil(total / size))
    base = URL(origin_of(request) + request.path)

    def link(page: int) -> str:
        query = dict(request.query) | {"page[number]": str(page), "page[size]": str(size)}
        return str(base.with_query(query))

    key = request.app[STATE_KEY].options.paging_meta
    meta = {key: number, "pageSize": size, "totalCount": total}
    links = {
        "self": link(number),
        "first": link(1),
        "last": link(last),
        "next": link(number + 1) if number < last else None,
        "prev": link(number - 1) if 1 < number <= last + 1 else None,
    }
    return items[(number - 1) * size : number * size], meta, links
