"""The client against a local HTTP server standing in for Smartcar (`api/client.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import logging
import socket
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
import pytest

from custom_components.flexcharging.api import (
    CHARGE_LIMIT_RANGE,
    ChargingStatus,
    CommandResult,
    RequestCounter,
    SmartcarAuthenticationError,
    SmartcarBillingError,
    SmartcarClient,
    SmartcarCommandFailedError,
    SmartcarCommandResultUnknownError,
    SmartcarCompatibilityError,
    SmartcarConnectionError,
    SmartcarError,
    SmartcarInvalidInputError,
    SmartcarNotFoundError,
    SmartcarParseError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarSubscriptionPathError,
    SmartcarTimeoutError,
    SmartcarUpstreamError,
    SmartcarUrls,
    SmartcarVehicleStateError,
    SmartcarVirtualKeyRequiredError,
    WebhookInfo,
    client as client_module,
)
from custom_components.flexcharging.api.urls import ORIGIN_OVERRIDE_VARIABLE

from .helpers import FakeSmartcar, json_response, load_fixture, raw_response

CLIENT_ID = "client_0123456789"
CLIENT_SECRET = "s3cr3t-Cl1ent-Secret-7f3a9e"
VEHICLE = "36ab27d0-fd9d-4455-823a-ce30af709ffc"
USER = "218eda3b-0656-49a8-8f3d-360cdad07334"
SIGNALS = f"/v3/vehicles/{VEHICLE}/signals"
START = f"/v3/vehicles/{VEHICLE}/commands/charge/start"
STOP = f"/v3/vehicles/{VEHICLE}/commands/charge/stop"
SET_LIMIT = f"/v3/vehicles/{VEHICLE}/commands/charge/set-limit"
SHORT_LIMIT = 0.2  # seconds, for the timeout tests

type MakeClient = Callable[..., SmartcarClient]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def make_client(smartcar: FakeSmartcar, session: aiohttp.ClientSession) -> MakeClient:
    """Build a client that talks to the local server."""

    def make(**kwargs: Any) -> SmartcarClient:
        kwargs.setdefault("urls", SmartcarUrls.for_origin(smartcar.base_url))
        return SmartcarClient(session, CLIENT_ID, CLIENT_SECRET, **kwargs)

    return make


@pytest.fixture
def secret_free_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every log record, down to DEBUG."""
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_no_secret(exc: BaseException, caplog: pytest.LogCaptureFixture | None = None) -> None:
    """Neither the exception (nor what caused it) nor the logs reveal the client secret."""
    seen: BaseException | None = exc
    while seen is not None:
        assert CLIENT_SECRET not in str(seen)
        assert CLIENT_SECRET not in repr(seen)
        assert CLIENT_SECRET not in repr(seen.args)
        seen = seen.__cause__ or seen.__context__
    if caplog is not None:
        assert CLIENT_SECRET not in caplog.text


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command_body(status: str = "SUCCESS", command_id: str = "exec_1") -> dict[str, Any]:
    """A command-execution response."""
    return {
        "data": {
            "id": command_id,
            "type": "command-execution",
            "attributes": {"commandType": "charge-start", "status": {"value": status}},
        }
    }


def signals_body(percent: int = 57) -> dict[str, Any]:
    """A one-signal signals response."""
    return {
        "data": [
            {
                "id": "tractionbattery-stateofcharge",
                "type": "signal",
                "attributes": {
                    "code": "tractionbattery-stateofcharge",
                    "status": {"value": "SUCCESS"},
                    "body": {"value": percent, "unit": "percent"},
                },
                "meta": {"oemUpdatedAt": "2026-06-29T23:55:53.000Z"},
            }
        ],
        "meta": {"totalCount": 1, "pageSize": 1, "pageNumber": 1},
    }


def connection(index: int) -> dict[str, Any]:
    """A connection resource for vehicle `v<index>`."""
    return {
        "id": f"c{index}",
        "type": "connection",
        "attributes": {
            "permissions": ["read_battery"],
            "vehicle": {"make": "TESLA", "model": "Model 3", "year": 2023},
        },
        "relationships": {
            "vehicle": {"data": {"id": f"v{index}", "type": "vehicle"}},
            "user": {"data": {"id": USER, "type": "user"}},
        },
    }


# --- token ----------------------------------------------------------------------------------------


async def test_token_request(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token("tok-1")
    client = make_client()
    assert await client.async_get_token() == "tok-1"
    (request,) = smartcar.requests
    assert (request.method, request.path) == ("POST", "/oauth2/token")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in request.headers
    assert parse_qs(request.body.decode(), strict_parsing=True) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }


async def test_validate_credentials_mints_now(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    client = make_client()
    await client.async_get_token()
    await client.async_validate_credentials()
    assert len(smartcar.to("POST", "/oauth2/token")) == 2


async def test_token_cached(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token("tok-1")
    smartcar.add("GET", SIGNALS, json_response(signals_body()))
    client = make_client()
    for _ in range(3):
        await client.async_get_state(VEHICLE, USER)
    assert len(smartcar.to("POST", "/oauth2/token")) == 1
    assert [r.headers["Authorization"] for r in smartcar.to("GET", SIGNALS)] == ["Bearer tok-1"] * 3


async def test_concurrent_calls_mint_once(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    smartcar.add("GET", SIGNALS, json_response(signals_body()))
    client = make_client()
    await asyncio.gather(*(client.async_get_state(VEHICLE, USER) for _ in range(5)))
    assert len(smartcar.to("POST", "/oauth2/token")) == 1


async def test_token_renewed_before_expiry(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    token = {"token_type": "Bearer", "expires_in": 3600}
    smartcar.add(
        "POST",
        "/oauth2/token",
        json_response({"access_token": "tok-1", **token}),
        json_response({"access_token": "tok-2", **token}),
    )
    now = [1000.0]
    client = make_client(monotonic=lambda: now[0])
    assert await client.async_get_token() == "tok-1"
    now[0] = 1000 + 3600 - client_module.TOKEN_RENEW_MARGIN - 1  # just before the margin
    assert await client.async_get_token() == "tok-1"
    now[0] += 1  # five minutes before expiry: renewed
    assert await client.async_get_token() == "tok-2"
    assert client_module.TOKEN_RENEW_MARGIN == 300.0
    assert len(smartcar.to("POST", "/oauth2/token")) == 2


async def test_short_lived_token_is_minted_every_time(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    for expires_in in (60, 0, -5):
        smartcar.requests.clear()
        smartcar.token(expires_in=expires_in)
        client = make_client(monotonic=lambda: 50.0)
        await client.async_get_token()
        await client.async_get_token()
        assert len(smartcar.to("POST", "/oauth2/token")) == 2, expires_in


async def test_token_defaults(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    # No token_type (bearer assumed), lower-case bearer, no expires_in (an hour).
    smartcar.add(
        "POST",
        "/oauth2/token",
        json_response({"access_token": "tok-1"}),
        json_response({"access_token": "tok-2", "token_type": "bearer"}),
    )
    now = [0.0]
    client = make_client(monotonic=lambda: now[0])
    assert await client.async_get_token() == "tok-1"
    now[0] = 3299.0
    assert await client.async_get_token() == "tok-1"
    now[0] = 3300.0
    assert await client.async_get_token() == "tok-2"


async def test_remint_once_on_401(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.add(
        "POST",
        "/oauth2/token",
        json_response({"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}),
        json_response({"access_token": "tok-2", "token_type": "Bearer", "expires_in": 3600}),
    )
    smartcar.add(
        "GET",
        SIGNALS,
        json_response(load_fixture("error_jsonapi_401.json"), status=401),
        json_response(signals_body(61)),
    )
    client = make_client()
    state = await client.async_get_state(VEHICLE, USER)
    assert state.battery_level.value == 61.0
    assert [r.headers["Authorization"] for r in smartcar.to("GET", SIGNALS)] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]
    assert len(smartcar.to("POST", "/oauth2/token")) == 2
    assert client.requests.as_dict() == {"billable": {VEHICLE: 1}, "failed": {VEHICLE: 1}}
    # The new token is kept.
    await client.async_get_state(VEHICLE, USER)
    assert smartcar.to("GET", SIGNALS)[-1].headers["Authorization"] == "Bearer tok-2"


async def test_401_twice_is_authentication_error(
    smartcar: FakeSmartcar, make_client: MakeClient, secret_free_logs: pytest.LogCaptureFixture
) -> None:
    smartcar.token()
    smartcar.add("GET", SIGNALS, json_response(load_fixture("error_jsonapi_401.json"), status=401))
    client = make_client()
    with pytest.raises(SmartcarAuthenticationError) as exc:
        await client.async_get_state(VEHICLE, USER)
    assert exc.value.status == 401
    assert len(smartcar.to("GET", SIGNALS)) == 2
    assert len(smartcar.to("POST", "/oauth2/token")) == 2
    assert client.requests.as_dict() == {"billable": {}, "failed": {VEHICLE: 2}}
    assert_no_secret(exc.value, secret_free_logs)


async def test_token_refused_is_authentication_error(
    smartcar: FakeSmartcar, make_client: MakeClient, secret_free_logs: pytest.LogCaptureFixture
) -> None:
    cases: list[tuple[int, object, str | None]] = [
        (401, {"error": "invalid_client", "error_description": "Bad client"}, "invalid_client"),
        (400, {"error": "invalid_client"}, "invalid_client"),
        (400, {"error": "invalid_request", "error_description": "bad grant"}, "invalid_request"),
        (401, None, None),
        (400, {"type": "VALIDATION", "code": "PARAMETER", "description": "client_id"}, "PARAMETER"),
    ]
    client = make_client()
    for status, body, code in cases:
        smartcar.add(
            "POST",
            "/oauth2/token",
            json_response(body, status=status) if body is not None else raw_response(b"", status),
        )
        with pytest.raises(SmartcarAuthenticationError) as exc:
            await client.async_validate_credentials()
        assert (exc.value.status, exc.value.code) == (status, code), body
        assert_no_secret(exc.value, secret_free_logs)
    # A token-endpoint 400 is always about the credentials.
    assert exc.value.error_type == "AUTHENTICATION"
    assert not smartcar.api_requests


async def test_token_invalid_client_fails_api_call(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.add("POST", "/oauth2/token", json_response({"error": "invalid_client"}, status=401))
    client = make_client()
    with pytest.raises(SmartcarAuthenticationError) as exc:
        await client.async_get_state(VEHICLE, USER)
    assert exc.value.code == "invalid_client"
    assert not smartcar.api_requests


async def test_token_endpoint_down_is_upstream(
    smartcar: FakeSmartcar, make_client: MakeClient, secret_free_logs: pytest.LogCaptureFixture
) -> None:
    smartcar.add("POST", "/oauth2/token", raw_response(b"<html>Bad gateway</html>", 502))
    with pytest.raises(SmartcarUpstreamError) as exc:
        await make_client().async_get_token()
    assert exc.value.status == 502
    assert_no_secret(exc.value, secret_free_logs)


async def test_token_response_parse_errors(
    smartcar: FakeSmartcar, make_client: MakeClient, secret_free_logs: pytest.LogCaptureFixture
) -> None:
    cases: list[tuple[Callable[[], web.Response], str]] = [
        (json_response({"access_token": "t", "token_type": "MAC", "expires_in": 1}), "token_type"),
        (json_response({"token_type": "Bearer", "expires_in": 3600}), "access_token"),
        (json_response({"access_token": "", "token_type": "Bearer"}), "access_token"),
        (json_response({"access_token": "tok", "expires_in": "3600"}), "expires_in"),
        (json_response(["tok"]), "body"),
        (raw_response(b"access_token=tok", 200), "body"),  # not JSON
    ]
    client = make_client()
    for response, field in cases:
        smartcar.add("POST", "/oauth2/token", response)
        with pytest.raises(SmartcarParseError) as exc:
            await client.async_get_token()
        assert exc.value.field == field
        assert_no_secret(exc.value, secret_free_logs)
    assert exc.value.problem == "HTTP 200 answer is not JSON"
    assert not smartcar.api_requests


async def test_urls_default_to_the_environment(
    smartcar: FakeSmartcar, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ORIGIN_OVERRIDE_VARIABLE, smartcar.base_url)
    smartcar.token("tok-env")
    client = SmartcarClient(session, CLIENT_ID, CLIENT_SECRET)
    assert client.urls == SmartcarUrls.for_origin(smartcar.base_url)
    assert await client.async_get_token() == "tok-env"


# --- reads ----------------------------------------------------------------------------------------


async def test_connections_single_page(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    smartcar.add("GET", "/v3/connections", json_response(load_fixture("connections.json")))
    client = make_client()
    (found,) = await client.async_get_connections()
    assert found.user_id == USER
    assert found.vehicle.vehicle_id == VEHICLE
    assert "control_charge" in found.permissions
    (request,) = smartcar.to("GET", "/v3/connections")
    assert request.query == {"page[size]": str(client_module.CONNECTIONS_PAGE_SIZE)}
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert "sc-user-id" not in request.headers
    # Connections are not vehicle requests: nothing billed.
    assert client.requests.as_dict() == {"billable": {}, "failed": {}}


async def test_connections_follow_links_next(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    second = f"{smartcar.base_url}/v3/connections?page%5Bnumber%5D=2&page%5Bsize%5D=1&filter%5BuserId%5D={USER}"
    third = f"{smartcar.base_url}/v3/connections?page%5Bnumber%5D=3&page%5Bsize%5D=1&filter%5BuserId%5D={USER}"
    smartcar.add(
        "GET",
        "/v3/connections",
        json_response({"data": [connection(1)], "links": {"next": second}}),
        json_response({"data": [connection(2)], "links": {"next": third}}),
        json_response({"data": [connection(3)], "links": {"next": None}}),
    )
    connections = await make_client().async_get_connections(user_id=USER)
    assert [c.vehicle.vehicle_id for c in connections] == ["v1", "v2", "v3"]
    queries = [r.query for r in smartcar.to("GET", "/v3/connections")]
    assert queries == [
        {"page[size]": "50", "filter[userId]": USER},
        {"page[number]": "2", "page[size]": "1", "filter[userId]": USER},
        {"page[number]": "3", "page[size]": "1", "filter[userId]": USER},
    ]


async def test_connections_page_numbers_from_meta(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()

    def page(number: int, items: list[dict[str, Any]]) -> Callable[[], web.Response]:
        meta = {"pageNumber": number, "pageSize": 2, "totalCount": 5}
        return json_response({"data": items, "meta": meta, "links": {"next": None}})

    smartcar.add(
        "GET",
        "/v3/connections",
        page(1, [connection(1), connection(2)]),
        page(2, [connection(3), connection(4)]),
        page(3, [connection(5)]),
    )
    connections = await make_client().async_get_connections(user_id=USER)
    assert [c.connection_id for c in connections] == ["c1", "c2", "c3", "c4", "c5"]
    queries = [r.query for r in smartcar.to("GET", "/v3/connections")]
    assert queries == [
        {"page[size]": "50", "filter[userId]": USER},
        {"page[size]": "50", "filter[userId]": USER, "page[number]": "2"},
        {"page[size]": "50", "filter[userId]": USER, "page[number]": "3"},
    ]


async def test_connections_stop_after_too_many_pages(
    smartcar: FakeSmartcar, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "_MAX_PAGES", 3)
    smartcar.token()
    meta = {"pageNumber": 1, "pageSize": 1, "totalCount": 1000}  # never advances
    smartcar.add("GET", "/v3/connections", json_response({"data": [connection(1)], "meta": meta}))
    with pytest.raises(SmartcarParseError, match="more than 3 pages"):
        await make_client().async_get_connections()
    assert len(smartcar.to("GET", "/v3/connections")) == 3


async def test_connections_error(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    body = {"type": "PERMISSION", "code": None, "description": "No permission"}
    smartcar.add("GET", "/v3/connections", json_response(body, status=403))
    with pytest.raises(SmartcarPermissionError):
        await make_client().async_get_connections()


async def test_get_state(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    smartcar.add("GET", SIGNALS, json_response(load_fixture("signals_vw_id4.json")))
    client = make_client()
    state = await client.async_get_state(VEHICLE, USER)
    assert state.battery_level.value == 57.0
    assert state.charging_status.value is ChargingStatus.NOT_CHARGING
    assert state.charge_limit.value == 80
    assert state.key_paired.error_code == "VEHICLE_NOT_CAPABLE"
    (request,) = smartcar.to("GET", SIGNALS)
    assert request.headers["sc-user-id"] == USER
    assert request.headers["SC-Unit-System"] == "metric"
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert client.requests.as_dict() == {"billable": {VEHICLE: 1}, "failed": {}}


async def test_get_state_imperial(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    body = {
        "data": [
            {
                "id": "tractionbattery-range",
                "attributes": {
                    "code": "tractionbattery-range",
                    "status": {"value": "SUCCESS"},
                    "body": {"value": 157, "unit": "miles"},
                },
            }
        ]
    }
    smartcar.add("GET", SIGNALS, json_response(body))
    state = await make_client(unit_system="imperial").async_get_state(VEHICLE, USER)
    assert state.range.value is not None
    assert state.range.value.unit == "mi"
    assert smartcar.to("GET", SIGNALS)[0].headers["SC-Unit-System"] == "imperial"


async def test_get_state_empty_store(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    body = {"data": [], "meta": {"totalCount": 0, "pageSize": 0, "pageNumber": 1}}
    smartcar.add("GET", SIGNALS, json_response(body))
    assert (await make_client().async_get_state(VEHICLE, USER)).is_empty


async def test_get_state_bad_body_is_parse_error(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    cases: list[tuple[Callable[[], web.Response], str]] = [
        (raw_response(b"<html>OK</html>", 200, "text/html"), "body"),
        (raw_response(b"", 200), "body"),
        (raw_response(b"\xff\xfe\xfd", 200, "application/json"), "body"),
        (json_response({"data": {}}), "data"),
    ]
    client = make_client()
    for response, field in cases:
        smartcar.add("GET", SIGNALS, response)
        with pytest.raises(SmartcarParseError) as exc:
            await client.async_get_state(VEHICLE, USER)
        assert exc.value.field == field
    # Every attempt is counted once (a 200 that is not JSON counts as failed).
    assert client.requests.billable[VEHICLE] + client.requests.failed[VEHICLE] == 4


# --- commands -------------------------------------------------------------------------------------


async def test_start_stop(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    smartcar.add("POST", START, json_response(command_body("SUCCESS", "exec_41")))
    smartcar.add("POST", STOP, json_response(command_body("SUCCESS", "exec_42")))
    client = make_client()
    started = await client.async_start_charging(VEHICLE, USER)
    assert started == CommandResult(command_id="exec_41", status="SUCCESS")
    stopped = await client.async_stop_charging(VEHICLE, USER)
    assert stopped == CommandResult(command_id="exec_42", status="SUCCESS")
    for path in (START, STOP):
        (request,) = smartcar.to("POST", path)
        assert request.body == b""
        assert request.headers["sc-user-id"] == USER
        assert request.headers["Authorization"] == "Bearer tok-1"
        assert request.headers["SC-Unit-System"] == "metric"
    assert client.requests.billable == {VEHICLE: 2}


async def test_set_limit(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    smartcar.add("POST", SET_LIMIT, json_response(load_fixture("command_set_limit_200.json")))
    result = await make_client().async_set_charge_limit(VEHICLE, USER, 80)
    assert result == CommandResult(command_id="exec_9876543210", status="SUCCESS")
    (request,) = smartcar.to("POST", SET_LIMIT)
    assert request.json() == {"data": {"attributes": {"percent": 80}}}
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["sc-user-id"] == USER


async def test_set_limit_bounds_accepted(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    assert CHARGE_LIMIT_RANGE == (50, 100)
    smartcar.token()
    smartcar.add("POST", SET_LIMIT, json_response(command_body()))
    client = make_client()
    for percent in CHARGE_LIMIT_RANGE:
        await client.async_set_charge_limit(VEHICLE, USER, percent)
    bodies = [r.json() for r in smartcar.to("POST", SET_LIMIT)]
    assert bodies == [{"data": {"attributes": {"percent": p}}} for p in CHARGE_LIMIT_RANGE]


async def test_set_limit_rejected_before_any_request(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    client = make_client()
    for percent in (49, 101, 0, -80, 80.5, 80.0, True, False, "80", None):
        with pytest.raises(SmartcarInvalidInputError, match="from 50 to 100"):
            await client.async_set_charge_limit(VEHICLE, USER, percent)  # type: ignore[arg-type]
    assert isinstance(SmartcarInvalidInputError("x"), ValueError)
    assert smartcar.requests == []  # not even a token
    assert client.requests.as_dict() == {"billable": {}, "failed": {}}


async def test_command_accepted(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    client = make_client()
    for status, value in (
        (200, "SUCCESS"),
        (202, "SUCCESS"),
        (202, "PENDING"),
        (202, "IN_PROGRESS"),
        (200, "success"),
    ):
        smartcar.add("POST", START, json_response(command_body(value), status=status))
        result = await client.async_start_charging(VEHICLE, USER)
        assert result.status == value.upper(), (status, value)
        # PENDING and IN_PROGRESS are accepted, not done (api-reference/commands/overview).
        assert result.done is (value.upper() == "SUCCESS"), (status, value)


async def test_command_failed(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    client = make_client()
    for status, value in ((202, "FAILURE"), (200, "FAILED"), (202, "TIMEOUT")):
        smartcar.add("POST", START, json_response(command_body(value), status=status))
        with pytest.raises(SmartcarCommandFailedError) as exc:
            await client.async_start_charging(VEHICLE, USER)
        assert exc.value.code == value
        assert value.lower() in str(exc.value)
    # Smartcar answered 2xx: the requests count as billable.
    assert client.requests.billable == {VEHICLE: 3}


@pytest.mark.parametrize("status", [200, 202])
async def test_command_body_with_errors(
    smartcar: FakeSmartcar, make_client: MakeClient, status: int
) -> None:
    smartcar.token()
    body = {
        "errors": [
            {
                "status": "409",
                "type": "VEHICLE_STATE",
                "code": "CHARGING_PLUG_NOT_CONNECTED",
                "title": "Plug not connected",
                "detail": "The charging plug is not connected.",
            }
        ]
    }
    smartcar.add("POST", SET_LIMIT, json_response(body, status=status))
    with pytest.raises(SmartcarVehicleStateError) as exc:
        await make_client().async_set_charge_limit(VEHICLE, USER, 80)
    assert exc.value.code == "CHARGING_PLUG_NOT_CONNECTED"
    assert exc.value.status == 409
    assert str(exc.value) == "The charging plug is not connected."


async def test_command_unreadable_body(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    cases: list[tuple[Callable[[], web.Response], str]] = [
        (raw_response(b"", 202), "body"),
        (json_response([]), "body"),
        (json_response({"errors": []}), "data"),
        (json_response({"data": {"attributes": {"status": "SUCCESS"}}}), "data.attributes.status"),
    ]
    client = make_client()
    for response, field in cases:
        smartcar.add("POST", STOP, response)
        with pytest.raises(SmartcarParseError) as exc:
            await client.async_stop_charging(VEHICLE, USER)
        assert exc.value.field == field


async def test_command_asleep(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    body = {
        "type": "VEHICLE_STATE",
        "code": "ASLEEP",
        "description": "The vehicle is asleep.",
        "statusCode": 409,
        "requestId": "req-9",
        "resolution": {"type": "RETRY_LATER"},
        "suggestedUserMessage": "Wake your car and try again.",
    }
    smartcar.add("POST", START, json_response(body, status=409))
    client = make_client()
    with pytest.raises(SmartcarVehicleStateError) as exc:
        await client.async_start_charging(VEHICLE, USER)
    error = exc.value
    assert (error.status, error.error_type, error.code) == (409, "VEHICLE_STATE", "ASLEEP")
    assert error.request_id == "req-9"
    assert error.resolution_type == "RETRY_LATER"
    assert error.suggested_user_message == "Wake your car and try again."
    assert client.requests.as_dict() == {"billable": {}, "failed": {VEHICLE: 1}}


async def test_command_virtual_key_required(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    smartcar.add(
        "POST", SET_LIMIT, json_response(load_fixture("error_classic_virtual_key.json"), status=400)
    )
    with pytest.raises(SmartcarVirtualKeyRequiredError) as exc:
        await make_client().async_set_charge_limit(VEHICLE, USER, 90)
    assert exc.value.resolution_url == "https://www.tesla.com/_ak/smartcar.com"
    assert exc.value.status == 400
    assert exc.value.error_type == "CONNECTED_SERVICES_ACCOUNT"


async def test_rate_limited(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    body = {"type": "RATE_LIMIT", "code": "VEHICLE", "description": "Too many requests"}
    client = make_client()
    cases: list[tuple[dict[str, str], float | None]] = [
        ({"Retry-After": "30"}, 30.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, None),
        ({"Retry-After": "-3"}, None),
        ({}, None),
    ]
    for headers, retry_after in cases:
        smartcar.add("POST", START, json_response(body, status=429, headers=headers))
        with pytest.raises(SmartcarRateLimitError) as exc:
            await client.async_start_charging(VEHICLE, USER)
        assert exc.value.retry_after == retry_after, headers
        assert exc.value.code == "VEHICLE"
    # Status alone (JSON:API body without a type) and Retry-After: 30.
    jsonapi = {"errors": [{"status": "429", "code": "SMARTCAR_API", "detail": "Slow down"}]}
    smartcar.add("GET", SIGNALS, json_response(jsonapi, status=429, headers={"Retry-After": "30"}))
    with pytest.raises(SmartcarRateLimitError) as exc:
        await client.async_get_state(VEHICLE, USER)
    assert exc.value.retry_after == 30.0
    assert client.requests.failed == {VEHICLE: 7}


async def test_billing_430(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    body = {"type": "BILLING", "code": "VEHICLE_REQUEST_LIMIT", "description": "Limit reached"}
    smartcar.add("GET", SIGNALS, json_response(body, status=430))
    with pytest.raises(SmartcarBillingError) as exc:
        await make_client().async_get_state(VEHICLE, USER)
    assert exc.value.status == 430
    assert exc.value.code == "VEHICLE_REQUEST_LIMIT"


async def test_server_errors(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    client = make_client()
    body = {"type": "UPSTREAM", "code": "NO_RESPONSE", "description": "The OEM did not answer"}
    for status in (500, 502, 504):
        smartcar.add("GET", SIGNALS, json_response(body, status=status))
        with pytest.raises(SmartcarUpstreamError) as exc:
            await client.async_get_state(VEHICLE, USER)
        assert exc.value.status == status
        assert exc.value.code == "NO_RESPONSE"
    # Not JSON: the status alone decides.
    for raw in (b"<html>Internal Server Error</html>", b"", b"\xff\xfe", b"{"):
        smartcar.add("GET", SIGNALS, raw_response(raw, 500, "text/html"))
        with pytest.raises(SmartcarUpstreamError) as exc:
            await client.async_get_state(VEHICLE, USER)
        assert str(exc.value) == "HTTP 500", raw
        assert exc.value.status == 500


async def test_501_not_capable(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    body = {"type": "COMPATIBILITY", "code": "VEHICLE_NOT_CAPABLE", "description": "Not capable"}
    smartcar.add("POST", STOP, json_response(body, status=501))
    with pytest.raises(SmartcarCompatibilityError) as exc:
        await make_client().async_stop_charging(VEHICLE, USER)
    assert exc.value.code == "VEHICLE_NOT_CAPABLE"


async def test_command_body_error_with_odd_status(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    smartcar.add("POST", START, json_response({"errors": [{"status": "²", "detail": "x"}]}))
    with pytest.raises(SmartcarError):
        await make_client().async_start_charging(VEHICLE, USER)


async def test_huge_integer_json_is_parse_error(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    raw = b'{"data": [], "n": ' + b"7" * 5000 + b"}"
    smartcar.add("GET", SIGNALS, raw_response(raw, 200, "application/json"))
    with pytest.raises(SmartcarError):
        await make_client().async_get_state(VEHICLE, USER)


async def test_deeply_nested_json_is_parse_error(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    raw = b"[" * 100_000 + b"]" * 100_000
    smartcar.add("GET", SIGNALS, raw_response(raw, 200, "application/json"))
    with pytest.raises(SmartcarError):
        await make_client().async_get_state(VEHICLE, USER)


# --- transport failures ---------------------------------------------------------------------------


async def _hang(smartcar: FakeSmartcar) -> web.Response:
    await smartcar.release.wait()
    return web.json_response({})


async def test_read_timeout(
    smartcar: FakeSmartcar,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    secret_free_logs: pytest.LogCaptureFixture,
) -> None:
    # REQUEST_TIMEOUT is bound as a default argument; shorten the default itself.
    kwdefaults = SmartcarClient._async_api.__kwdefaults__
    assert kwdefaults["time_limit"] == client_module.REQUEST_TIMEOUT == 30.0
    monkeypatch.setitem(kwdefaults, "time_limit", SHORT_LIMIT)
    smartcar.token()
    smartcar.handle("GET", SIGNALS, lambda request: _hang(smartcar))
    client = make_client()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SmartcarTimeoutError) as exc:
        await client.async_get_state(VEHICLE, USER)
    assert loop.time() - started < 5
    assert isinstance(exc.value, SmartcarConnectionError)
    assert "did not answer within" in str(exc.value)
    assert client.requests.as_dict() == {"billable": {}, "failed": {VEHICLE: 1}}
    assert_no_secret(exc.value, secret_free_logs)


async def test_command_timeout(
    smartcar: FakeSmartcar, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client_module.COMMAND_TIMEOUT == 310  # what every official Smartcar SDK waits
    monkeypatch.setattr(client_module, "COMMAND_TIMEOUT", SHORT_LIMIT)
    smartcar.token()
    smartcar.handle("POST", START, lambda request: _hang(smartcar))
    with pytest.raises(SmartcarCommandResultUnknownError) as exc:
        await make_client().async_start_charging(VEHICLE, USER)
    assert isinstance(exc.value, SmartcarTimeoutError)


async def test_command_gateway_timeout_leaves_the_result_unknown(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    client = make_client()
    smartcar.add("POST", START, json_response({"type": "SERVER"}, status=504))
    with pytest.raises(SmartcarCommandResultUnknownError, match="gateway"):
        await client.async_start_charging(VEHICLE, USER)
    smartcar.add("POST", START, json_response({"type": "SERVER"}, status=500))
    with pytest.raises(SmartcarUpstreamError) as exc:
        await client.async_start_charging(VEHICLE, USER)
    assert not isinstance(exc.value, SmartcarCommandResultUnknownError)


async def test_token_timeout_before_a_command_is_no_unknown_result(
    smartcar: FakeSmartcar, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SmartcarClient._async_send.__kwdefaults__, "time_limit", SHORT_LIMIT)
    smartcar.handle("POST", "/oauth2/token", lambda request: _hang(smartcar))
    with pytest.raises(SmartcarTimeoutError) as exc:
        await make_client().async_start_charging(VEHICLE, USER)
    assert not isinstance(exc.value, SmartcarCommandResultUnknownError)


async def test_token_timeout(
    smartcar: FakeSmartcar,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    secret_free_logs: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setitem(SmartcarClient._async_send.__kwdefaults__, "time_limit", SHORT_LIMIT)
    smartcar.handle("POST", "/oauth2/token", lambda request: _hang(smartcar))
    with pytest.raises(SmartcarTimeoutError) as exc:
        await make_client().async_validate_credentials()
    assert_no_secret(exc.value, secret_free_logs)


async def test_connection_refused(
    smartcar: FakeSmartcar,
    make_client: MakeClient,
    secret_free_logs: pytest.LogCaptureFixture,
) -> None:
    client = make_client(urls=SmartcarUrls.for_origin(f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(SmartcarConnectionError) as exc:
        await client.async_validate_credentials()
    assert not isinstance(exc.value, SmartcarTimeoutError)
    assert str(exc.value).startswith("Cannot reach Smartcar: ")
    assert_no_secret(exc.value, secret_free_logs)


async def test_connection_refused_counts_failed_request(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    dead = SmartcarUrls.for_origin(f"http://127.0.0.1:{closed_port()}")
    live = SmartcarUrls.for_origin(smartcar.base_url)
    client = make_client(
        urls=SmartcarUrls(
            connect_authorize=live.connect_authorize,
            token_endpoint=live.token_endpoint,
            vehicle_api=dead.vehicle_api,
            management_api=dead.management_api,
            virtual_key=live.virtual_key,
        )
    )
    with pytest.raises(SmartcarConnectionError):
        await client.async_get_state(VEHICLE, USER)
    with pytest.raises(SmartcarConnectionError):
        await client.async_get_connections()  # not a vehicle request: not counted
    assert client.requests.as_dict() == {"billable": {}, "failed": {VEHICLE: 1}}


async def test_server_disconnects(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()

    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    smartcar.handle("GET", SIGNALS, drop)
    with pytest.raises(SmartcarConnectionError, match="Cannot reach Smartcar"):
        await make_client().async_get_state(VEHICLE, USER)


async def test_debug_log_names_no_secret(
    smartcar: FakeSmartcar, make_client: MakeClient, secret_free_logs: pytest.LogCaptureFixture
) -> None:
    smartcar.token("tok-secretive")
    smartcar.add("GET", SIGNALS, json_response(signals_body()))
    await make_client().async_get_state(VEHICLE, USER)
    assert f"GET {smartcar.base_url}{SIGNALS} -> 200" in secret_free_logs.text
    assert "POST" in secret_free_logs.text
    assert CLIENT_SECRET not in secret_free_logs.text
    assert "tok-secretive" not in secret_free_logs.text


# --- management API -------------------------------------------------------------------------------


async def test_subscribe_created(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    smartcar.add(
        "POST",
        "/v3/subscriptions",
        json_response({"meta": {"message": "subscription creation in progress"}}, status=202),
    )
    client = make_client()
    assert await client.async_subscribe("wh-1", USER, VEHICLE) is True
    (request,) = smartcar.to("POST", "/v3/subscriptions")
    assert request.json() == {
        "data": {"attributes": {"webhookId": "wh-1", "userId": USER, "vehicleId": VEHICLE}}
    }
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert client.requests.as_dict() == {"billable": {}, "failed": {}}


async def test_subscribe_already_subscribed(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    smartcar.token()
    body = {"errors": [{"status": "409", "code": "CONFLICT", "detail": "Already subscribed"}]}
    smartcar.add("POST", "/v3/subscriptions", json_response(body, status=409))
    assert await make_client().async_subscribe("wh-1", USER, VEHICLE) is False


async def test_subscribe_empty_202(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    smartcar.add("POST", "/v3/subscriptions", raw_response(b"", 202))
    assert await make_client().async_subscribe("wh-1", USER, VEHICLE) is True


async def test_subscribe_falls_back_and_remembers(
    smartcar: FakeSmartcar, make_client: MakeClient
) -> None:
    """`POST /subscriptions` (API reference) 404s: the launch post's path is used from then on."""
    smartcar.token()
    body = {"errors": [{"status": "404", "code": "not_found", "detail": "Not Found"}]}
    smartcar.add("POST", "/v3/subscriptions", json_response(body, status=404))
    accepted = json_response({"meta": {"message": "subscription creation in progress"}}, 202)
    smartcar.add("POST", "/v3/webhooks/wh-1/subscriptions", accepted, accepted)
    client = make_client()
    assert await client.async_subscribe("wh-1", USER, VEHICLE) is True
    assert await client.async_subscribe("wh-1", USER, "other-vehicle") is True
    assert len(smartcar.to("POST", "/v3/subscriptions")) == 1
    scoped = smartcar.to("POST", "/v3/webhooks/wh-1/subscriptions")
    assert [r.json()["data"]["attributes"]["vehicleId"] for r in scoped] == [
        VEHICLE,
        "other-vehicle",
    ]
    assert client.subscription_path == "/webhooks/{webhook_id}/subscriptions"


async def test_subscribe_no_path_works(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    """Both calls 404 or 405: the error names each call."""
    smartcar.token()
    smartcar.add("POST", "/v3/subscriptions", raw_response(b"", 405))
    body = {"errors": [{"status": "404", "code": "not_found", "detail": "Not Found"}]}
    smartcar.add("POST", "/v3/webhooks/wh-x/subscriptions", json_response(body, status=404))
    with pytest.raises(SmartcarSubscriptionPathError) as caught:
        await make_client().async_subscribe("wh-x", USER, VEHICLE)
    assert caught.value.calls == (
        "POST /v3/subscriptions: HTTP 405",
        "POST /v3/webhooks/wh-x/subscriptions: HTTP 404",
    )


async def test_subscribe_remints_on_401(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    smartcar.add(
        "POST",
        "/v3/subscriptions",
        json_response(load_fixture("error_jsonapi_401.json"), status=401),
        json_response({"meta": {}}, status=202),
    )
    assert await make_client().async_subscribe("wh-1", USER, VEHICLE) is True
    assert len(smartcar.to("POST", "/oauth2/token")) == 2


async def test_get_webhook(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    body = {
        "data": {
            "id": "wh-1",
            "type": "webhook",
            "attributes": {
                "name": "AutoData",
                "callbackUri": "https://hooks.nabu.casa/abc",
                "isEnabled": True,
                "errorCallbackUri": "https://errors.example/hook",
            },
        }
    }
    smartcar.add("GET", "/v3/webhooks/wh-1", json_response(body))
    assert await make_client().async_get_webhook("wh-1") == WebhookInfo(
        webhook_id="wh-1",
        name="AutoData",
        callback_uri="https://hooks.nabu.casa/abc",
        is_enabled=True,
        error_callback_uri="https://errors.example/hook",
    )


async def test_get_webhook_unknown(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    smartcar.token()
    with pytest.raises(SmartcarNotFoundError):
        await make_client().async_get_webhook("wh-x")


# --- request counter ------------------------------------------------------------------------------


def test_request_counter() -> None:
    counter = RequestCounter()
    assert counter.as_dict() == {"billable": {}, "failed": {}}
    counter.record("a", billable=True)
    counter.record("a", billable=True)
    counter.record("a", billable=False)
    counter.record("b", billable=False)
    snapshot = counter.as_dict()
    assert snapshot == {"billable": {"a": 2}, "failed": {"a": 1, "b": 1}}
    counter.record("b", billable=True)
    assert snapshot["billable"] == {"a": 2}  # a copy


async def test_request_counter_per_vehicle(smartcar: FakeSmartcar, make_client: MakeClient) -> None:
    other = "v-other"
    smartcar.token()
    smartcar.add("GET", "/v3/connections", json_response({"data": []}))
    smartcar.add(
        "GET",
        SIGNALS,
        json_response(signals_body()),
        json_response({"type": "VEHICLE_STATE", "code": "ASLEEP"}, status=409),
    )
    smartcar.add("POST", START, json_response(command_body()))
    smartcar.add(
        "POST", f"/v3/vehicles/{other}/commands/charge/stop", json_response({}, status=500)
    )
    client = make_client()
    await client.async_get_token()
    await client.async_get_connections()
    await client.async_get_state(VEHICLE, USER)
    with pytest.raises(SmartcarVehicleStateError):
        await client.async_get_state(VEHICLE, USER)
    await client.async_start_charging(VEHICLE, USER)
    with pytest.raises(SmartcarUpstreamError):
        await client.async_stop_charging(other, USER)
    with pytest.raises(SmartcarInvalidInputError):
        await client.async_set_charge_limit(VEHICLE, USER, 20)
    assert client.requests.as_dict() == {
        "billable": {VEHICLE: 2},
        "failed": {VEHICLE: 1, other: 1},
    }
