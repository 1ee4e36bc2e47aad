"""Behaviour of the Smartcar v3 emulator over HTTP (and through its in-process API)."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from emulator import (
    DEFAULT_APP,
    DEFAULT_USER_ID,
    ID4_ID,
    MODEL_3_ID,
    MODEL_S_ID,
    MODEL_Y_ID,
    Clock,
    EmulatorState,
    ledger_cost,
)
from emulator.webhooks import RETRY_DELAYS

from .helpers import (
    START,
    Api,
    Emulator,
    Receiver,
    error,
    make_state,
    start_emulator,
    subscribe_all,
)

REDIRECT = "http://127.0.0.1:8123/auth/external/callback"
SCOPES = "read_vehicle_info read_vin read_battery read_charge required:control_charge"


def signals_by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item["attributes"] for item in body["data"]}


def webhook_signals(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["code"]: item for item in event["data"]["signals"]}


def trigger_codes(event: dict[str, Any]) -> set[str]:
    return {t["signal"]["code"] for t in event["triggers"] if "signal" in t}


# --- Connect ----------------------------------------------------------------------


def connect_params(**overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": DEFAULT_APP.application_id,
        "redirect_uri": REDIRECT,
        "scope": SCOPES,
        "state": "csrf-123",
        "mode": "live",
        "approval_prompt": "force",
    } | overrides


async def test_connect_consent_page_and_approve(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emulator.base_url}/oauth/authorize", params=connect_params()) as resp:
        assert resp.status == 200
        page = await resp.text()
    assert 'id="approve"' in page
    assert 'id="deny"' in page
    for vehicle_id in (MODEL_3_ID, MODEL_Y_ID, MODEL_S_ID, ID4_ID):
        assert f'value="{vehicle_id}"' in page
    assert 'data-scope="control_charge"' in page

    form = aiohttp.FormData(connect_params() | {"decision": "approve"})
    form.add_field("vehicle", MODEL_Y_ID)
    form.add_field("vehicle", ID4_ID)
    async with http.post(
        f"{emulator.base_url}/oauth/authorize/decision", data=form, allow_redirects=False
    ) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["user_id"] == [DEFAULT_USER_ID]
    assert query["state"] == ["csrf-123"]
    assert "code" not in query  # the documented shape: `user_id` and `state`
    assert "virtual_key_url" not in query
    connections = emulator.state.find_connections()
    assert {c.vehicle_id for c in connections} == {MODEL_Y_ID, ID4_ID}
    assert connections[0].permissions == sorted(
        ["read_vehicle_info", "read_vin", "read_battery", "read_charge", "control_charge"]
    )


async def test_connect_required_permissions(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """`required:` permissions cannot be unticked; optional ones can (redirect-to-connect)."""
    async with http.get(f"{emulator.base_url}/oauth/authorize", params=connect_params()) as resp:
        page = await resp.text()
    assert '<li data-scope="control_charge" data-required>' in page
    assert 'value="control_charge" checked disabled' in page
    assert 'value="read_charge" checked>' in page  # optional in SCOPES
    form = aiohttp.FormData(connect_params() | {"decision": "approve", "permission_choice": "1"})
    form.add_field("vehicle", ID4_ID)
    form.add_field("permission", "read_battery")  # the owner unticked the other optional ones
    async with http.post(
        f"{emulator.base_url}/oauth/authorize/decision", data=form, allow_redirects=False
    ) as resp:
        assert resp.status == 302
    (connection,) = emulator.state.find_connections()
    assert connection.permissions == ["control_charge", "read_battery"]


@pytest.mark.parametrize(
    ("shape", "expected"),
    [("with_code", {"code", "user_id", "state"}), ("code_only", {"code", "state"})],
)
async def test_connect_redirect_variants(
    emulator: Emulator, http: aiohttp.ClientSession, shape: str, expected: set[str]
) -> None:
    """The other redirect shapes Smartcar's pages show (options.connect_redirect)."""
    emulator.state.update_options({"connect_redirect": shape})
    form = aiohttp.FormData(connect_params() | {"decision": "approve"})
    form.add_field("vehicle", MODEL_Y_ID)
    async with http.post(
        f"{emulator.base_url}/oauth/authorize/decision", data=form, allow_redirects=False
    ) as resp:
        assert resp.status == 302
        query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert set(query) == expected
    with pytest.raises(ValueError, match="connect_redirect"):
        emulator.state.update_options({"connect_redirect": "other"})


async def test_connect_deny(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    form = connect_params() | {"decision": "deny"}
    async with http.post(
        f"{emulator.base_url}/oauth/authorize/decision", data=form, allow_redirects=False
    ) as resp:
        assert resp.status == 302
        query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["error_description"][0]
    assert query["state"] == ["csrf-123"]
    assert not emulator.state.connections


async def test_connect_approve_without_vehicles_rerenders(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    form = connect_params() | {"decision": "approve"}
    async with http.post(
        f"{emulator.base_url}/oauth/authorize/decision", data=form, allow_redirects=False
    ) as resp:
        assert resp.status == 400
        assert "Select at least one vehicle" in await resp.text()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": DEFAULT_APP.client_id}, "Invalid parameter client_id"),
        ({"redirect_uri": "https://evil.example/callback"}, "Invalid parameter redirect_uri"),
        ({"response_type": "token"}, "Invalid parameter response_type"),
        ({"mode": "bogus"}, "Invalid parameter mode"),
    ],
)
async def test_connect_rejects_bad_parameters(
    emulator: Emulator, http: aiohttp.ClientSession, overrides: dict[str, str], message: str
) -> None:
    params = connect_params(**overrides)
    async with http.get(f"{emulator.base_url}/oauth/authorize", params=params) as resp:
        assert resp.status == 400
        assert message in await resp.text()


async def test_connect_redirect_uris_and_virtual_key_url(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    for uri in (
        "https://my.home-assistant.io/redirect/oauth",
        "http://localhost:8123/auth/external/callback",
    ):
        async with http.get(
            f"{emulator.base_url}/oauth/authorize", params=connect_params(redirect_uri=uri)
        ) as resp:
            assert resp.status == 200
    emulator.state.update_app({"connect_virtual_key_url": True})
    form = aiohttp.FormData(connect_params() | {"decision": "approve"})
    form.add_field("vehicle", MODEL_3_ID)
    async with http.post(
        f"{emulator.base_url}/oauth/authorize/decision", data=form, allow_redirects=False
    ) as resp:
        query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["virtual_key_url"] == [f"{emulator.base_url}/_ak/smartcar.com"]


# --- token --------------------------------------------------------------------------


async def test_token_in_all_three_encodings(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = f"{emulator.base_url}/oauth2/token"
    creds = {"client_id": DEFAULT_APP.client_id, "client_secret": DEFAULT_APP.client_secret}
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    attempts: list[dict[str, Any]] = [
        {"data": {"grant_type": "client_credentials", **creds}},
        {"json": {"grant_type": "client_credentials", **creds}},
        {
            "data": {"grant_type": "client_credentials"},
            "headers": {"Authorization": f"Basic {basic}"},
        },
    ]
    for kwargs in attempts:
        async with http.post(url, **kwargs) as resp:
            assert resp.status == 200
            body = await resp.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert emulator.state.token_valid(body["access_token"])


async def test_token_errors(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    url = f"{emulator.base_url}/oauth2/token"
    bad = {"grant_type": "client_credentials", "client_id": "client_x", "client_secret": "nope"}
    async with http.post(url, data=bad) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"] == "invalid_client"
    async with http.post(url, data={"grant_type": "client_credentials"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "invalid_request"
    emulator.state.add_fault("token_invalid_client")
    good = bad | {"client_id": DEFAULT_APP.client_id, "client_secret": DEFAULT_APP.client_secret}
    async with http.post(url, json=good) as resp:
        assert resp.status == 401
        body = await resp.json()
    assert body == {"error": "invalid_client", "error_description": body["error_description"]}
    async with http.post(url, json=good) as resp:
        assert resp.status == 200


async def test_token_expires_on_the_emulator_clock(emulator: Emulator, api: Api) -> None:
    emulator.state.connect()
    status, _, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}")
    assert status == 200
    emulator.state.advance(3601)
    status, body, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}")
    assert status == 401
    assert body == {
        "errors": [
            {
                "status": "401",
                "code": "unauthorized",
                "title": "Unauthorized",
                "detail": body["errors"][0]["detail"],
                "links": body["errors"][0]["links"],
            }
        ]
    }
    status, _, _ = await api.get("/v3/connections", headers={"Authorization": "Bearer nope"})
    assert status == 401


# --- connections and vehicles ------------------------------------------------------


async def test_connections_paging_and_filters(emulator: Emulator, api: Api) -> None:
    state = emulator.state
    state.connect()
    other = state.add_user(name="Second", vehicles=[{"make": "KIA", "model": "EV6", "year": 2024}])
    state.connect(user_id=other.id)
    status, body, _ = await api.get("/v3/connections?page[size]=3", user=None)
    assert status == 200
    assert body["meta"] == {
        "page": 1,  # the OpenAPI's key (observed payloads say pageNumber: paging_meta)
        "pageSize": 3,
        "totalCount": 5,
        "orderBy": "createdAt",
        "orderDirection": "DESC",
    }
    assert len(body["data"]) == 3
    next_url = body["links"]["next"]
    assert next_url.startswith(emulator.base_url + "/v3/connections?")
    assert "page%5Bnumber%5D=2" in next_url
    async with api.http.get(next_url, headers=api.headers(None)) as resp:
        page2 = await resp.json()
    assert len(page2["data"]) == 2
    assert page2["links"]["next"] is None
    seen = {c["relationships"]["vehicle"]["data"]["id"] for c in body["data"] + page2["data"]}
    assert seen == set(state.vehicles)

    first = body["data"][0]
    assert first["type"] == "connection"
    assert first["attributes"]["user"]["id"] == first["relationships"]["user"]["data"]["id"]
    assert first["relationships"]["vehicle"]["links"]["related"].startswith(emulator.base_url)

    status, body, _ = await api.get(f"/v3/connections?filter[userId]={other.id}", user=None)
    assert [c["attributes"]["vehicle"]["make"] for c in body["data"]] == ["KIA"]
    status, body, _ = await api.get(f"/v3/connections?filter[vehicleId]={MODEL_Y_ID}", user=None)
    assert [c["relationships"]["vehicle"]["data"]["id"] for c in body["data"]] == [MODEL_Y_ID]
    status, body, _ = await api.get("/v3/connections", user=DEFAULT_USER_ID)
    assert body["meta"]["totalCount"] == 4
    status, body, _ = await api.get("/v3/connections?page[size]=0", user=None)
    assert status == 400
    assert error(body)["type"] == "VALIDATION"


async def test_vehicle_attributes(emulator: Emulator, api: Api) -> None:
    status, body, _ = await api.get(f"/v3/vehicles/{ID4_ID}")
    assert status == 404
    assert error(body)["type"] == "RESOURCE_NOT_FOUND"
    emulator.state.connect()
    status, body, _ = await api.get(f"/v3/vehicles/{ID4_ID}", user=None)
    assert status == 200
    assert body["data"]["attributes"] == {
        "make": "VOLKSWAGEN",
        "model": "ID.4",
        "year": 2023,
        "powertrainType": "BEV",
        "mode": "live",
    }
    assert body["data"]["links"]["self"] == f"{emulator.base_url}/v3/vehicles/{ID4_ID}"


# --- signals --------------------------------------------------------------------------


async def test_signals_require_the_vehicle_user(emulator: Emulator, api: Api) -> None:
    emulator.state.connect()
    status, body, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals", user=None)
    assert status == 400
    assert (error(body)["type"], error(body)["code"], error(body)["detail"]) == (
        "VALIDATION",
        "MISSING_PARAMETER",
        "missing userId",
    )
    status, body, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals", user="someone-else")
    assert status == 403
    assert error(body)["type"] == "PERMISSION"


async def test_unsubscribed_vehicle_has_an_empty_store(emulator: Emulator, api: Api) -> None:
    emulator.state.connect()
    status, body, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals")
    assert status == 200
    assert body["data"] == []
    assert body["meta"]["totalCount"] == 0
    assert body["included"]["vehicle"]["id"] == MODEL_Y_ID
    status, body, _ = await api.get(
        f"/v3/vehicles/{MODEL_Y_ID}/signals/tractionbattery-stateofcharge"
    )
    assert status == 404
    assert error(body)["type"] == "RESOURCE_NOT_FOUND"


async def test_signals_shape(emulator: Emulator, api: Api, receiver: Receiver) -> None:
    await subscribe_all(emulator.state, receiver)
    status, body, headers = await api.get(f"/v3/vehicles/{ID4_ID}/signals")
    assert status == 200
    assert headers["SC-Unit-System"] == "metric"
    signals = signals_by_code(body)
    assert body["meta"]["totalCount"] == len(body["data"]) == len(signals)
    assert signals["tractionbattery-stateofcharge"]["body"] == {"value": 35, "unit": "percent"}
    assert signals["tractionbattery-stateofcharge"]["status"] == {"value": "SUCCESS"}
    rng = signals["tractionbattery-range"]["body"]
    assert rng == {"value": 143, "type": "DEFAULT", "additionalValues": [], "unit": "km"}
    assert signals["charge-detailedchargingstatus"]["body"] == {"value": "NOT_CHARGING"}
    assert signals["charge-ischarging"]["body"] == {"value": False}
    assert signals["charge-ischargingcableconnected"]["body"] == {"value": True}
    assert signals["charge-chargelimits"]["body"] == {
        "values": [{"type": "GLOBAL", "limit": 80, "condition": None}],
        "activeLimit": 80,
        "unit": "percent",
    }
    assert signals["vehicleidentification-vin"]["body"] == {"value": "WVGZZZE2ZPP000004"}
    assert signals["location-preciselocation"]["body"]["latitude"] == pytest.approx(52.3702)
    assert signals["location-isathome"]["body"] == {"value": True}
    rate = signals["charge-chargerate"]
    assert rate["status"]["value"] == "ERROR"
    assert rate["status"]["error"]["code"] == "NOT_CHARGING"
    assert rate["body"]["unit"] == "km/h"
    key = signals["connectivitystatus-isdigitalkeypaired"]
    assert key["status"]["error"]["code"] == "VEHICLE_NOT_CAPABLE"
    assert "body" not in key
    item = body["data"][0]
    # Epoch milliseconds (the OpenAPI's int64); rest_timestamps "iso" gives observed strings.
    assert isinstance(item["meta"]["oemUpdatedAt"], int)
    assert isinstance(item["meta"]["retrievedAt"], int)
    assert item["links"]["self"] == (
        f"{emulator.base_url}/v3/vehicles/{ID4_ID}/signals/tractionbattery-stateofcharge"
    )
    rate_meta = body["data"][[s["id"] for s in body["data"]].index("charge-chargerate")]["meta"]
    assert rate_meta["oemUpdatedAt"] < item["meta"]["oemUpdatedAt"]

    status, one, _ = await api.get(f"/v3/vehicles/{ID4_ID}/signals/charge-ischarging")
    assert status == 200
    assert one["data"]["attributes"]["body"] == {"value": False}
    assert one["included"]["vehicle"]["attributes"]["make"] == "VOLKSWAGEN"
    status, _, _ = await api.get(f"/v3/vehicles/{ID4_ID}/signals/vin")
    assert status == 404

    status, body, _ = await api.get(
        f"/v3/vehicles/{ID4_ID}/signals", headers={"SC-Unit-System": "imperial"}
    )
    assert signals_by_code(body)["tractionbattery-range"]["body"]["unit"] == "miles"
    assert signals_by_code(body)["tractionbattery-range"]["body"]["value"] == 89


async def test_location_needs_read_location(emulator: Emulator, api: Api) -> None:
    state = emulator.state
    state.update_options({"store_requires_subscription": False})
    state.connect(permissions=["read_battery", "read_charge"])
    status, body, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals")
    assert status == 200
    assert "location-preciselocation" not in signals_by_code(body)
    assert "tractionbattery-stateofcharge" in signals_by_code(body)


# --- Tesla virtual key ----------------------------------------------------------------


async def test_key_status_per_vehicle(emulator: Emulator, api: Api, receiver: Receiver) -> None:
    await subscribe_all(emulator.state, receiver)
    key = "connectivitystatus-isdigitalkeypaired"
    results = {}
    for vehicle_id in (MODEL_3_ID, MODEL_Y_ID, MODEL_S_ID, ID4_ID):
        _, body, _ = await api.get(f"/v3/vehicles/{vehicle_id}/signals")
        results[vehicle_id] = signals_by_code(body)[key]
    assert results[MODEL_Y_ID]["status"] == {"value": "SUCCESS"}
    assert results[MODEL_Y_ID]["body"] == {"value": True}
    for vehicle_id in (MODEL_S_ID, ID4_ID):
        error = results[vehicle_id]["status"]["error"]
        assert (error["type"], error["code"]) == ("COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    error = results[MODEL_3_ID]["status"]["error"]
    assert (error["type"], error["code"]) == ("CONNECTED_SERVICES_ACCOUNT", "VIRTUAL_KEY_REQUIRED")
    assert error["title"]
    assert error["detail"]
    assert error["resolution"] == {
        "type": "ACTION_REQUIRED",
        "url": f"{emulator.base_url}/_ak/smartcar.com",
    }
    emulator.state.update_options({"keyless_key_status": "false"})
    _, body, _ = await api.get(f"/v3/vehicles/{MODEL_3_ID}/signals")
    assert signals_by_code(body)[key] == signals_by_code(body)[key] | {
        "status": {"value": "SUCCESS"},
        "body": {"value": False},
    }
    # A phone key paired, Smartcar's missing: the signal says true, a command is refused.
    emulator.state.update_options({"keyless_key_status": "true"})
    _, body, _ = await api.get(f"/v3/vehicles/{MODEL_3_ID}/signals")
    assert signals_by_code(body)[key] == signals_by_code(body)[key] | {
        "status": {"value": "SUCCESS"},
        "body": {"value": True},
    }
    status, body, _ = await api.post(f"/v3/vehicles/{MODEL_3_ID}/commands/charge/start")
    assert (status, body["code"]) == (400, "VIRTUAL_KEY_REQUIRED")
    with pytest.raises(ValueError, match="keyless_key_status"):
        emulator.state.update_options({"keyless_key_status": "maybe"})


async def test_keyless_commands_fail_in_classic_shape(emulator: Emulator, api: Api) -> None:
    emulator.state.connect()
    status, body, _ = await api.post(f"/v3/vehicles/{MODEL_3_ID}/commands/charge/start")
    assert status == 400
    assert body == {
        "type": "CONNECTED_SERVICES_ACCOUNT",
        "code": "VIRTUAL_KEY_REQUIRED",
        "description": "The vehicle owner needs to grant additional access to Smartcar in order to perform this request.",
        "docURL": body["docURL"],
        "statusCode": 400,
        "requestId": body["requestId"],
        "resolution": {"type": "ACTION_REQUIRED", "url": f"{emulator.base_url}/_ak/smartcar.com"},
        "suggestedUserMessage": body["suggestedUserMessage"],
    }


async def test_keyless_data_refreshes_every_eight_hours(emulator: Emulator, api: Api) -> None:
    state = emulator.state
    state.update_options({"store_requires_subscription": False})
    state.connect()
    state.patch_vehicle(MODEL_3_ID, {"soc": 20})
    state.advance(3600)
    await api.authenticate()
    _, body, _ = await api.get(f"/v3/vehicles/{MODEL_3_ID}/signals")
    soc = signals_by_code(body)["tractionbattery-stateofcharge"]
    assert soc["body"]["value"] == 48
    assert body["data"][0]["meta"]["oemUpdatedAt"] == 1780315200000  # 2026-06-01 12:00 UTC
    state.advance(7 * 3600 + 60)
    await api.authenticate()
    _, body, _ = await api.get(f"/v3/vehicles/{MODEL_3_ID}/signals")
    assert signals_by_code(body)["tractionbattery-stateofcharge"]["body"]["value"] == 20
    assert body["data"][0]["meta"]["oemUpdatedAt"] == 1780344000000  # 2026-06-01 20:00 UTC
    # An asleep car's values stay as they were, and reads do not wake it.
    state.patch_vehicle(MODEL_Y_ID, {"asleep": True})
    state.patch_vehicle(MODEL_Y_ID, {"asleep": True, "soc": 10})
    state.advance(3600)
    await api.authenticate()
    _, body, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals")
    assert signals_by_code(body)["tractionbattery-stateofcharge"]["body"]["value"] == 62
    assert signals_by_code(body)["connectivitystatus-isasleep"]["body"] == {"value": True}
    assert state.vehicles[MODEL_Y_ID].asleep


async def test_tesla_app_page_pairs_the_key(
    emulator: Emulator, api: Api, http: aiohttp.ClientSession
) -> None:
    emulator.state.connect()
    url = f"{emulator.base_url}/_ak/smartcar.com"
    async with http.get(url, params={"vin": "5YJ3E1EA7PF000001"}) as resp:
        page = await resp.text()
    assert "smartcar.com</strong> is requesting third-party access" in page
    assert 'data-vin="5YJ3E1EA7PF000001">Approve' in page
    assert 'card selected" data-vin="5YJ3E1EA7PF000001"' in page
    assert "5YJSA1E26KF000003" not in page  # the 2019 Model S needs no key
    async with http.post(f"{url}/approve", data={"vin": "5YJ3E1EA7PF000001"}) as resp:
        assert resp.status == 200
        assert 'id="approved"' in await resp.text()
    assert emulator.state.vehicles[MODEL_3_ID].key_paired
    status, _, _ = await api.post(f"/v3/vehicles/{MODEL_3_ID}/commands/charge/start")
    assert status == 200
    async with http.post(f"{url}/approve", data={"vin": "nope"}) as resp:
        assert resp.status == 404


# --- commands --------------------------------------------------------------------------


async def test_commands_and_their_conflicts(emulator: Emulator, api: Api) -> None:
    emulator.state.connect()
    base = f"/v3/vehicles/{MODEL_Y_ID}/commands/charge"
    status, body, _ = await api.post(f"{base}/start")
    assert status == 200
    attrs = body["data"]["attributes"]
    assert attrs["commandType"] == "charge-start"
    assert attrs["status"] == {"value": "SUCCESS"}
    assert attrs["executionMode"] == "sync"
    assert body["data"]["type"] == "command-execution"
    assert emulator.state.vehicles[MODEL_Y_ID].charging

    status, body, _ = await api.post(f"{base}/start")
    assert (status, error(body)["type"], error(body)["code"]) == (
        409,
        "VEHICLE_STATE",
        "CHARGING_IN_PROGRESS",
    )
    assert {"title", "detail", "status", "resolution", "suggestedUserMessage"} <= set(error(body))
    status, body, _ = await api.post(f"{base}/stop")
    assert (status, body["data"]["attributes"]["commandType"]) == (200, "charge-stop")
    status, body, _ = await api.post(f"{base}/stop")
    assert (status, error(body)["code"]) == (409, "NOT_CHARGING")

    status, body, _ = await api.post(
        f"{base}/set-limit", json_body={"data": {"attributes": {"percent": 60}}}
    )
    assert status == 200
    assert body["data"]["attributes"]["commandType"] == "charge-set-limit"
    assert body["data"]["attributes"]["parameters"] == {"percent": 60}
    status, body, _ = await api.post(f"{base}/start")
    assert (status, error(body)["code"]) == (409, "FULLY_CHARGED")
    for bad in (40, 101, "80", 80.5, True, None):
        status, body, _ = await api.post(
            f"{base}/set-limit", json_body={"data": {"attributes": {"percent": bad}}}
        )
        assert (status, error(body)["type"], error(body)["code"]) == (
            400,
            "VALIDATION",
            "PARAMETER",
        ), bad
    status, body, _ = await api.post(f"/v3/vehicles/{MODEL_S_ID}/commands/charge/start")
    assert (status, error(body)["code"]) == (409, "CHARGING_PLUG_NOT_CONNECTED")
    status, body, _ = await api.post(f"{base}/start", user=None)
    assert (status, error(body)["code"]) == (400, "MISSING_PARAMETER")


async def test_commands_need_control_charge(emulator: Emulator, api: Api) -> None:
    emulator.state.connect(permissions=["read_battery", "read_charge"])
    status, body, _ = await api.post(f"/v3/vehicles/{ID4_ID}/commands/charge/start")
    assert status == 403
    assert error(body)["type"] == "PERMISSION"
    assert error(body)["resolution"]["type"] == "REAUTHENTICATE"


async def test_commands_wake_asleep_vehicles_but_not_unreachable_ones(
    emulator: Emulator, api: Api
) -> None:
    state = emulator.state
    state.connect()
    state.patch_vehicle(ID4_ID, {"asleep": True})
    status, _, _ = await api.post(f"/v3/vehicles/{ID4_ID}/commands/charge/start")
    assert status == 200
    assert not state.vehicles[ID4_ID].asleep
    state.patch_vehicle(ID4_ID, {"reachable": False})
    status, body, _ = await api.post(f"/v3/vehicles/{ID4_ID}/commands/charge/stop")
    assert (status, error(body)["code"]) == (409, "UNREACHABLE")


async def test_a_car_that_wakes_too_slowly_refuses_the_first_command(
    emulator: Emulator, api: Api
) -> None:
    state = emulator.state
    state.connect()
    state.patch_vehicle(ID4_ID, {"asleep": True, "wakes_in_time": False, "plugged_in": True})
    status, body, _ = await api.post(f"/v3/vehicles/{ID4_ID}/commands/charge/start")
    assert (status, error(body)["code"]) == (409, "ASLEEP")
    assert not state.vehicles[ID4_ID].asleep
    assert not state.vehicles[ID4_ID].charging
    status, _, _ = await api.post(f"/v3/vehicles/{ID4_ID}/commands/charge/start")
    assert status == 200
    assert state.vehicles[ID4_ID].charging


async def test_charging_evolves_with_the_clock(emulator: Emulator, api: Api) -> None:
    state = emulator.state
    state.update_options({"store_requires_subscription": False})
    state.connect()
    status, _, _ = await api.post(f"/v3/vehicles/{ID4_ID}/commands/charge/start")
    assert status == 200
    state.advance(3600)
    await api.authenticate()
    _, body, _ = await api.get(f"/v3/vehicles/{ID4_ID}/signals")
    signals = signals_by_code(body)
    assert signals["tractionbattery-stateofcharge"]["body"]["value"] == 49  # 35 % + 11/77 per h
    assert signals["charge-detailedchargingstatus"]["body"] == {"value": "CHARGING"}
    assert signals["charge-chargerate"]["status"] == {"value": "SUCCESS"}
    assert signals["charge-wattage"]["body"] == {"value": 11000, "unit": "watts"}
    # signals/charge: kWh delivered in the current charging session
    assert signals["charge-energyadded"]["body"] == {"value": 11.0, "unit": "kWh"}
    state.advance(3 * 3600)
    await api.authenticate()
    _, body, _ = await api.get(f"/v3/vehicles/{ID4_ID}/signals")
    signals = signals_by_code(body)
    assert signals["tractionbattery-stateofcharge"]["body"]["value"] == 80
    assert signals["charge-detailedchargingstatus"]["body"] == {"value": "FULLY_CHARGED"}
    assert signals["charge-ischarging"]["body"] == {"value": False}
    assert not state.vehicles[ID4_ID].charging
    # 35 % to 80 % of 77 kWh: the counter and the ledger (one stretch at one power) agree.
    car = state.vehicles[ID4_ID]
    assert signals["charge-energyadded"]["body"]["value"] == pytest.approx(34.65)
    assert len(car.ledger) == 1
    start, end, kwh = car.ledger[0]
    assert kwh == pytest.approx(34.65)
    assert (end - start).total_seconds() == pytest.approx(34.65 / 11 * 3600)
    assert ledger_cost(car.ledger, [(start, end, 0.2)], start, end) == pytest.approx(
        (34.65, 34.65 * 0.2)
    )
    # A new plug-in starts a new charging session of the car: the counter restarts.
    state.patch_vehicle(ID4_ID, {"plugged_in": False})
    state.patch_vehicle(ID4_ID, {"plugged_in": True})
    assert car.energy_added_kwh == 0.0


async def test_no_energy_added_variant(emulator: Emulator, api: Api) -> None:
    """Not every make reports charge-energyadded: the variant leaves it out."""
    state = emulator.state
    state.update_options(
        {"store_requires_subscription": False, "signal_variants": ["no_energy_added"]}
    )
    state.connect()
    await api.authenticate()
    _, body, _ = await api.get(f"/v3/vehicles/{ID4_ID}/signals")
    signals = signals_by_code(body)
    assert "charge-energyadded" not in signals
    assert "charge-wattage" in signals


# --- subscriptions and webhooks ------------------------------------------------------


async def test_subscriptions(emulator: Emulator, api: Api, receiver: Receiver) -> None:
    state = emulator.state
    state.connect()
    webhook = await state.create_webhook(receiver.url, name="HA")
    assert webhook.verified
    payload = {
        "data": {
            "attributes": {"webhookId": webhook.id, "userId": DEFAULT_USER_ID, "vehicleId": ID4_ID}
        }
    }
    status, body, _ = await api.post("/v3/subscriptions", json_body=payload, user=None)
    assert status == 202
    assert body == {"meta": {"message": "subscription creation in progress"}}
    status, body, _ = await api.post("/v3/subscriptions", json_body=payload, user=None)
    assert status == 409
    unknown = {"data": {"attributes": payload["data"]["attributes"] | {"webhookId": "nope"}}}
    status, _, _ = await api.post("/v3/subscriptions", json_body=unknown, user=None)
    assert status == 404
    status, _, _ = await api.post("/v3/subscriptions", json_body={"data": {}}, user=None)
    assert status == 400

    await state.wait_for_deliveries()
    first = receiver.events("VEHICLE_STATE")
    assert len(first) == 1
    assert first[0]["triggers"] == [{"type": "FIRST_DELIVERY"}]
    assert first[0]["data"]["vehicle"]["id"] == ID4_ID

    status, body, _ = await api.get(f"/v3/subscriptions?filter[vehicleId]={ID4_ID}", user=None)
    assert body["meta"]["totalCount"] == 1
    sub = body["data"][0]
    assert sub["relationships"]["webhook"]["data"] == {"type": "webhook", "id": webhook.id}
    status, one, _ = await api.get(f"/v3/subscriptions/{sub['id']}", user=None)
    assert one["data"]["id"] == sub["id"]
    status, hooks, _ = await api.get("/v3/webhooks", user=None)
    assert hooks["data"][0]["attributes"]["callbackUri"] == receiver.url
    # get-webhook's documented attributes; there is no status.
    assert hooks["data"][0]["attributes"] == {
        "name": "HA",
        "callbackUri": receiver.url,
        "isEnabled": True,
        "triggers": [],
        "data": [],
        "errorCallbackUri": None,
        "autoSubscribe": False,
    }
    status, hook, _ = await api.get(f"/v3/webhooks/{webhook.id}", user=None)
    assert hook["data"]["id"] == webhook.id
    status, _, _ = await api.call("DELETE", f"/v3/subscriptions/{sub['id']}", user=None)
    assert status == 204
    status, _, _ = await api.get(f"/v3/subscriptions/{sub['id']}", user=None)
    assert status == 404


async def test_verify_handshake(emulator: Emulator, receiver: Receiver) -> None:
    state = emulator.state
    webhook = await state.create_webhook(receiver.url, name="HA")
    verify = receiver.received[0]
    assert "SC-Signature" not in verify.headers
    assert verify.body["eventType"] == "VERIFY"
    assert verify.body["meta"]["webhookId"] == webhook.id
    assert webhook.verified
    receiver.verify_answer = "wrong"
    assert not await state.verify_webhook(webhook.id)
    assert state.webhooks[webhook.id].status == "UNVERIFIED"
    receiver.verify_answer = "error"
    assert not await state.verify_webhook(webhook.id)
    receiver.verify_answer = "correct"
    assert await state.verify_webhook(webhook.id)
    broken = await state.create_webhook("http://127.0.0.1:9/hook", name="nowhere")
    assert not broken.verified
    assert broken.verify_error


async def test_unverified_webhooks_get_no_deliveries(
    emulator: Emulator, receiver: Receiver
) -> None:
    state = emulator.state
    state.connect()
    receiver.verify_answer = "wrong"
    webhook = await state.create_webhook(receiver.url)
    state.subscribe(webhook.id, ID4_ID)
    state.patch_vehicle(ID4_ID, {"plugged_in": False})
    await state.wait_for_deliveries()
    assert receiver.events("VEHICLE_STATE") == []
    assert not state.store_active(state.vehicles[ID4_ID])


async def test_signed_deliveries_on_changes(emulator: Emulator, receiver: Receiver) -> None:
    state = emulator.state
    await subscribe_all(state, receiver, [ID4_ID])
    state.patch_vehicle(ID4_ID, {"plugged_in": False})
    await state.wait_for_deliveries()
    (delivery,) = receiver.received
    signature = hmac.new(DEFAULT_APP.amt.encode(), delivery.raw, hashlib.sha256).hexdigest()
    assert delivery.headers["SC-Signature"] == signature
    assert delivery.headers["User-Agent"] == "Smartcar/emulator"
    event = delivery.body
    assert event["eventType"] == "VEHICLE_STATE"
    assert trigger_codes(event) == {"charge-ischargingcableconnected"}
    assert event["meta"]["version"] == "4.0"
    assert event["meta"]["mode"] == "LIVE"
    assert event["meta"]["signalCount"] == len(event["data"]["signals"])
    soc = webhook_signals(event)["tractionbattery-stateofcharge"]
    assert isinstance(soc["meta"]["oemUpdatedAt"], int)
    assert soc["meta"]["oemUpdatedAt"] == int(START.timestamp() * 1000)

    receiver.received.clear()
    state.patch_vehicle(ID4_ID, {"plugged_in": True})
    state.vehicles[ID4_ID].charging = True
    state.commit(state.vehicles[ID4_ID])
    state.advance(3600)  # SoC +14 %
    state.advance(4 * 3600)  # reaches the 80 % limit
    await state.wait_for_deliveries()
    events = receiver.events("VEHICLE_STATE")
    assert trigger_codes(events[0]) == {"charge-ischargingcableconnected"}
    assert "charge-ischarging" in trigger_codes(events[1])
    assert trigger_codes(events[2]) == {"tractionbattery-stateofcharge"}
    full = events[3]
    assert {"charge-ischarging", "charge-detailedchargingstatus"} <= trigger_codes(full)
    assert webhook_signals(full)["charge-detailedchargingstatus"]["body"] == {
        "value": "FULLY_CHARGED"
    }
    finished_ms = webhook_signals(full)["charge-ischarging"]["meta"]["oemUpdatedAt"]
    assert finished_ms < int((START + timedelta(hours=5)).timestamp() * 1000)
    assert len({e["eventId"] for e in events}) == len(events)


async def test_retries_keep_the_event_id(emulator: Emulator, receiver: Receiver) -> None:
    state = emulator.state
    await subscribe_all(state, receiver, [ID4_ID])
    receiver.statuses = [500, 503]
    state.patch_vehicle(ID4_ID, {"charge_limit": 90})
    await state.wait_for_deliveries()
    assert len(receiver.received) == 3
    assert len({r.body["eventId"] for r in receiver.received}) == 1
    assert len({r.body["meta"]["deliveryId"] for r in receiver.received}) == 3
    log = [(r.attempt, r.status, r.outcome) for r in state.dispatcher.log]
    assert log == [(1, 500, "retrying"), (2, 503, "retrying"), (3, 200, "delivered")]

    receiver.received.clear()
    state.dispatcher.log.clear()
    receiver.statuses = [500] * 10
    state.patch_vehicle(ID4_ID, {"charge_limit": 85})
    await state.wait_for_deliveries()
    assert len(receiver.received) == len(RETRY_DELAYS) == 4
    assert state.dispatcher.log[-1].outcome == "dropped"


async def test_retry_delays_are_scaled(emulator: Emulator, receiver: Receiver) -> None:
    state = emulator.state
    await subscribe_all(state, receiver, [ID4_ID])
    state.update_options({"retry_delay_scale": 0.002})  # 25 s -> 0.05 s
    receiver.statuses = [500]
    loop = asyncio.get_running_loop()
    started = loop.time()
    state.patch_vehicle(ID4_ID, {"charge_limit": 90})
    await state.wait_for_deliveries()
    assert loop.time() - started >= 0.05
    assert len(receiver.received) == 2


async def test_vehicle_error_for_the_virtual_key(
    emulator: Emulator, api: Api, receiver: Receiver
) -> None:
    state = emulator.state
    state.connect()
    webhook = await state.create_webhook(receiver.url)
    state.subscribe(webhook.id, MODEL_3_ID)
    await state.wait_for_deliveries()
    assert [e["eventType"] for e in receiver.events()[1:]] == ["VEHICLE_STATE", "VEHICLE_ERROR"]
    receiver.received.clear()

    async with api.http.post(
        f"{emulator.base_url}/_emulator/vehicles/{MODEL_3_ID}/pair-key"
    ) as resp:
        assert resp.status == 200
    await state.wait_for_deliveries()
    errors = receiver.events("VEHICLE_ERROR")
    assert errors[0]["data"]["errors"][0]["state"] == "RESOLVED"
    assert errors[0]["data"]["errors"][0]["code"] == "VIRTUAL_KEY_REQUIRED"
    (event,) = receiver.events("VEHICLE_STATE")
    assert "connectivitystatus-isdigitalkeypaired" in trigger_codes(event)

    receiver.received.clear()
    async with api.http.post(
        f"{emulator.base_url}/_emulator/vehicles/{MODEL_3_ID}/remove-key"
    ) as resp:
        assert resp.status == 200
    await state.wait_for_deliveries()
    (error_event,) = receiver.events("VEHICLE_ERROR")
    error = error_event["data"]["errors"][0]
    assert (error["type"], error["code"], error["state"]) == (
        "CONNECTED_SERVICES_ACCOUNT",
        "VIRTUAL_KEY_REQUIRED",
        "ERROR",
    )
    assert error["resolution"] == {
        "type": "ACTION_REQUIRED",
        "url": f"{emulator.base_url}/_ak/smartcar.com",
    }
    assert error_event["data"]["vehicle"]["make"] == "TESLA"
    signature = hmac.new(
        DEFAULT_APP.amt.encode(), receiver.received[-1].raw, hashlib.sha256
    ).hexdigest()
    assert signature in {r.headers["SC-Signature"] for r in receiver.received}


async def test_test_mode_and_bad_signature_deliveries(
    emulator: Emulator, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    state = emulator.state
    webhook_id = await subscribe_all(state, receiver, [ID4_ID])
    url = f"{emulator.base_url}/_emulator/webhooks/{webhook_id}/test"
    async with http.post(url, json={}) as resp:
        assert resp.status == 202
    async with http.post(url, json={"mode": "LIVE", "bad_signature": True}) as resp:
        assert resp.status == 202
    test, bad = receiver.received
    assert test.body["meta"]["mode"] == "TEST"
    good_sig = hmac.new(DEFAULT_APP.amt.encode(), bad.raw, hashlib.sha256).hexdigest()
    assert bad.body["meta"]["mode"] == "LIVE"
    assert bad.headers["SC-Signature"] != good_sig

    receiver.received.clear()
    state.add_fault("bad_signature")
    state.patch_vehicle(ID4_ID, {"plugged_in": False})
    state.patch_vehicle(ID4_ID, {"plugged_in": True})
    await state.wait_for_deliveries()
    first, second = receiver.received
    sign = hmac.new(DEFAULT_APP.amt.encode(), first.raw, hashlib.sha256).hexdigest()
    assert first.headers["SC-Signature"] != sign
    sign = hmac.new(DEFAULT_APP.amt.encode(), second.raw, hashlib.sha256).hexdigest()
    assert second.headers["SC-Signature"] == sign
    async with http.get(f"{emulator.base_url}/_emulator/deliveries") as resp:
        log = (await resp.json())["deliveries"]
    assert [entry["signature"] for entry in log[-2:]] == ["invalid", "valid"]


async def test_payload_signature_failing_after_a_good_verify(
    emulator: Emulator, receiver: Receiver
) -> None:
    """`payload_signature: failing`: VERIFY passes, no delivery's signature.

    As reported for real v3 applications: https://github.com/wbyoung/smartcar/issues/130,
    /issues/139, /pull/141.
    """
    state = emulator.state
    state.update_options({"payload_signature": "failing"})
    webhook_id = await subscribe_all(state, receiver, [ID4_ID])  # asserts the VERIFY passed
    state.patch_vehicle(ID4_ID, {"plugged_in": False})
    await state.wait_for_deliveries()
    assert receiver.received
    for delivery in receiver.received:
        good = hmac.new(DEFAULT_APP.amt.encode(), delivery.raw, hashlib.sha256).hexdigest()
        assert delivery.headers["SC-Signature"] != good
    assert {r.signature for r in state.dispatcher.log if r.webhook_id == webhook_id} == {"invalid"}
    with pytest.raises(ValueError, match="payload_signature"):
        state.update_options({"payload_signature": "sometimes"})


async def test_background_ticker_delivers_on_its_own(
    socket_enabled: None, receiver: Receiver
) -> None:
    fake_time = [1_000.0]
    state = make_state(tick_interval=0.02)
    state.clock = Clock(start=START, speed=1.0, time_source=lambda: fake_time[0])
    server, _ = await start_emulator(state)
    try:
        await subscribe_all(state, receiver, [ID4_ID])
        state.vehicles[ID4_ID].charging = True
        state.commit(state.vehicles[ID4_ID])
        await state.wait_for_deliveries()
        receiver.received.clear()
        fake_time[0] += 3600
        for _ in range(100):
            await asyncio.sleep(0.02)
            await state.wait_for_deliveries()
            if receiver.received:
                break
        (event,) = receiver.events("VEHICLE_STATE")
        assert trigger_codes(event) == {"tractionbattery-stateofcharge"}
    finally:
        await server.close()
        await state.close()


# --- faults ---------------------------------------------------------------------------

ERROR_FAULTS = [
    ("http_401", 401, None, "unauthorized"),
    ("http_403", 403, "PERMISSION", None),
    ("http_429", 429, "RATE_LIMIT", "VEHICLE"),
    ("http_429_app", 429, "RATE_LIMIT", "SMARTCAR_API"),
    ("http_430", 430, "BILLING", "VEHICLE_REQUEST_LIMIT"),
    ("http_409_asleep", 409, "VEHICLE_STATE", "ASLEEP"),
    ("http_409_unreachable", 409, "VEHICLE_STATE", "UNREACHABLE"),
    ("http_500", 500, "SERVER", "INTERNAL"),
    ("http_502", 502, "UPSTREAM", "NO_RESPONSE"),
    ("http_504", 504, "SERVER", "GATEWAY_TIMEOUT"),
    ("virtual_key_request", 400, "CONNECTED_SERVICES_ACCOUNT", "VIRTUAL_KEY_REQUIRED"),
]


@pytest.mark.parametrize("case", ERROR_FAULTS, ids=[case[0] for case in ERROR_FAULTS])
async def test_error_faults(
    emulator: Emulator, api: Api, case: tuple[str, int, str | None, str | None]
) -> None:
    kind, status, error_type, code = case
    state = emulator.state
    state.connect()
    state.add_fault(kind, retry_after=7)
    got, body, headers = await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals")
    assert got == status
    if kind == "http_401":
        assert body["errors"][0]["code"] == code
    else:
        assert (error(body)["type"], error(body)["code"]) == (error_type, code)
    if kind in ("http_430", "virtual_key_request"):
        assert body["statusCode"] == status  # classic shape
    else:
        assert body["errors"][0]["status"] == str(status)  # the JSON:API envelope (default)
        assert "title" in body["errors"][0]
    assert headers.get("Retry-After") == ("7" if kind == "http_429" else None)
    got, _, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals")
    assert got == 200  # count 1: consumed


async def test_fault_filters_and_counts(emulator: Emulator, api: Api) -> None:
    state = emulator.state
    state.connect()
    state.add_fault("http_500", vehicle_id=ID4_ID, count=2)
    state.add_fault("http_502", path="/commands/charge/start", count=-1)
    assert (await api.get(f"/v3/vehicles/{MODEL_Y_ID}"))[0] == 200
    assert (await api.get(f"/v3/vehicles/{ID4_ID}"))[0] == 500
    assert (await api.get(f"/v3/vehicles/{ID4_ID}"))[0] == 500
    assert (await api.get(f"/v3/vehicles/{ID4_ID}"))[0] == 200
    for _ in range(3):
        assert (await api.post(f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/start"))[0] == 502
    async with api.http.get(f"{emulator.base_url}/_emulator/faults") as resp:
        faults = (await resp.json())["faults"]
    assert faults[0]["kind"] == "http_502"
    assert faults[0]["hits"] == 3
    async with api.http.delete(f"{emulator.base_url}/_emulator/faults") as resp:
        assert resp.status == 200
    assert (await api.post(f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/start"))[0] == 200
    with pytest.raises(ValueError, match="unknown fault kind"):
        state.add_fault("http_418")


async def test_timeout_malformed_and_wrong_types(emulator: Emulator, api: Api) -> None:
    state = emulator.state
    state.update_options({"store_requires_subscription": False})
    state.connect()
    path = f"/v3/vehicles/{ID4_ID}/signals"
    state.add_fault("timeout", delay=0.3)
    with pytest.raises(TimeoutError):
        await api.get(path, client_timeout=0.1)
    await asyncio.sleep(0.3)  # let the delayed answer finish

    state.add_fault("malformed_json")
    status, body, _ = await api.get(path)
    assert status == 200
    assert isinstance(body, str)  # not decodable

    state.add_fault("wrong_types")
    status, body, _ = await api.get(path)
    soc = signals_by_code(body)["tractionbattery-stateofcharge"]["body"]["value"]
    assert soc == "35"
    assert body["meta"]["totalCount"] == str(len(body["data"]))

    state.add_fault("wrong_types", variant="data")
    status, body, _ = await api.get(path)
    assert isinstance(body["data"], dict)
    status, body, _ = await api.get(path)
    assert isinstance(body["data"], list)


async def test_command_202_faults(emulator: Emulator, api: Api) -> None:
    state = emulator.state
    state.connect()
    base = f"/v3/vehicles/{MODEL_Y_ID}/commands/charge"
    state.add_fault("command_202", delay=0.05)
    status, body, _ = await api.post(f"{base}/start")
    assert status == 202
    assert body["data"]["attributes"]["status"] == {"value": "SUCCESS"}
    assert state.vehicles[MODEL_Y_ID].charging

    state.add_fault("command_202_failure", delay=0.05)
    status, body, _ = await api.post(
        f"{base}/set-limit", json_body={"data": {"attributes": {"percent": 70}}}
    )
    assert status == 202
    attrs = body["data"]["attributes"]
    assert attrs["status"]["value"] == "FAILURE"
    assert attrs["commandType"] == "charge-set-limit"
    assert attrs["parameters"] == {"percent": 70}
    assert state.vehicles[MODEL_Y_ID].charge_limit == 80
    # command faults ignore non-command requests
    state.add_fault("command_202")
    assert (await api.get(f"/v3/vehicles/{MODEL_Y_ID}"))[0] == 200
    assert (await api.post(f"{base}/stop"))[0] == 202


async def test_command_responses(emulator: Emulator, api: Api) -> None:
    """Each documented command answer (emulator.config.COMMAND_RESPONSES) is produced."""
    state = emulator.state
    state.connect()
    car = state.vehicles[MODEL_Y_ID]
    base = f"/v3/vehicles/{MODEL_Y_ID}/commands/charge"

    # pending: 202 PENDING at once; the car carries it out command_seconds later.
    state.update_options({"command_response": "pending", "command_seconds": 30})
    status, body, _ = await api.post(f"{base}/start")
    assert status == 202
    attributes = body["data"]["attributes"]
    assert attributes["status"] == {"value": "PENDING"}
    assert attributes["executionMode"] == "async"
    assert "completedAt" not in body["data"]["meta"]
    assert not car.charging
    state.advance(29)
    assert not car.charging
    state.advance(1)
    assert car.charging
    # A refusal is still answered at once.
    status, body, _ = await api.post(f"{base}/start")
    assert (status, error(body)["code"]) == (409, "CHARGING_IN_PROGRESS")

    # streamed: 202 at once, the final SUCCESS body later on the same connection.
    state.update_options({"command_response": "streamed", "command_seconds": 0.05})
    status, body, _ = await api.post(f"{base}/stop")
    assert status == 202
    assert body["data"]["attributes"]["status"] == {"value": "SUCCESS"}
    assert not car.charging

    # slow: the car does it at once, the answer (200 SUCCESS) comes command_seconds later.
    state.update_options({"command_response": "slow", "command_seconds": 0.05})
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, body, _ = await api.post(f"{base}/start")
    assert loop.time() - started >= 0.05
    assert status == 200
    assert body["data"]["attributes"]["status"] == {"value": "SUCCESS"}
    assert car.charging

    with pytest.raises(ValueError, match="command_response"):
        state.update_options({"command_response": "later"})


# --- request counting and admin ------------------------------------------------------


async def test_request_counting(emulator: Emulator, api: Api, http: aiohttp.ClientSession) -> None:
    state = emulator.state
    state.connect()
    state.requests.reset()
    await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals")
    await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals", user=None)  # 400
    await api.post(f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/start")
    await api.get("/v3/connections")
    await api.get("/v3/nothing-here")
    async with http.get(f"{emulator.base_url}/_emulator/requests") as resp:
        counts = await resp.json()
    assert counts["total"] == 5
    assert counts["by_path"]["GET /v3/vehicles/{vehicle_id}/signals"] == 2
    assert counts["by_path"]["GET /v3/connections"] == 1
    assert counts["by_path"]["GET /v3/nothing-here"] == 1
    assert counts["by_vehicle"] == {MODEL_Y_ID: 3}
    assert counts["billable"]["total"] == 2
    assert counts["billable"]["by_vehicle"] == {MODEL_Y_ID: 2}
    assert counts["by_status"] == {"200": 3, "400": 1, "404": 1}
    async with http.delete(f"{emulator.base_url}/_emulator/requests") as resp:
        assert (await resp.json())["total"] == 0


async def test_admin_api(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    base = f"{emulator.base_url}/_emulator"
    async with http.patch(f"{base}/vehicles/{ID4_ID}", json={"soc": 55, "unit": "imperial"}) as r:
        assert r.status == 200
        assert (await r.json())["soc"] == 55
    async with http.patch(f"{base}/vehicles/{ID4_ID}", json={"soc": "high"}) as r:
        assert r.status == 400
    async with http.patch(f"{base}/vehicles/{ID4_ID}", json={"key_paired": True}) as r:
        assert r.status == 400
    async with http.patch(f"{base}/vehicles/nope", json={"soc": 5}) as r:
        assert r.status == 404
    async with http.post(f"{base}/clock", json={"advance_seconds": 60}) as r:
        assert (await r.json())["now"] == "2026-06-01T12:01:00.000Z"
    async with http.post(f"{base}/clock", json={"set": "2026-07-01T00:00:00Z"}) as r:
        assert (await r.json())["now"] == "2026-07-01T00:00:00.000Z"
    async with http.post(f"{base}/users", json={"vehicles": [{"make": "kia"}]}) as r:
        assert r.status == 201
        user = await r.json()
    assert user["vehicles"][0]["make"] == "KIA"
    async with http.post(f"{base}/app", json={"add_redirect_uris": ["https://x.test/cb"]}) as r:
        assert "https://x.test/cb" in (await r.json())["redirect_uris"]
    async with http.post(f"{base}/options", json={"keyless_key_status": "maybe"}) as r:
        assert r.status == 400
    async with http.post(f"{base}/connections", json={"vehicle_ids": [ID4_ID]}) as r:
        assert r.status == 201
    async with http.post(f"{base}/tokens") as r:
        assert emulator.state.token_valid((await r.json())["access_token"])
    async with http.post(f"{base}/faults", json={"kind": "http_500", "count": 0}) as r:
        assert r.status == 400
    async with http.get(f"{base}/state") as r:
        whole = await r.json()
    assert {v["id"] for v in whole["vehicles"]} >= {MODEL_3_ID, ID4_ID}
    assert whole["clock"]["now"] == "2026-07-01T00:00:00.000Z"
    assert len(whole["connections"]) == 1
    async with http.post(f"{base}/reset") as r:
        whole = await r.json()
    assert len(whole["vehicles"]) == 4
    assert whole["connections"] == []
    async with http.get(base) as r:
        assert (await r.json())["client_id"] == DEFAULT_APP.client_id


async def test_admin_webhooks_over_http(
    emulator: Emulator, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    base = f"{emulator.base_url}/_emulator"
    emulator.state.connect()
    async with http.post(
        f"{base}/webhooks", json={"id": "hook-1", "name": "HA", "callbackUri": receiver.url}
    ) as r:
        assert r.status == 201
        assert (await r.json())["status"] == "VERIFIED"
    async with http.post(f"{base}/webhooks/hook-1/verify") as r:
        assert (await r.json())["verified"] is True
    async with http.post(
        f"{base}/subscriptions", json={"webhook_id": "hook-1", "vehicle_id": ID4_ID}
    ) as r:
        assert r.status == 201
    async with http.post(f"{base}/deliveries/wait") as r:
        assert (await r.json())["pending"] == 0
    async with http.get(f"{base}/deliveries") as r:
        log = (await r.json())["deliveries"]
    assert [entry["event_type"] for entry in log] == ["VERIFY", "VERIFY", "VEHICLE_STATE"]
    async with http.post(f"{base}/webhooks/nope/verify") as r:
        assert r.status == 404


async def test_in_process_api_without_http(socket_enabled: None) -> None:
    state = EmulatorState(clock=Clock(start=START, speed=0))
    state.connect(vehicle_ids=[MODEL_Y_ID])
    with pytest.raises(ValueError, match="unplugged"):
        state.patch_vehicle(MODEL_S_ID, {"charging": True})
    state.patch_vehicle(MODEL_Y_ID, {"charging": True})
    state.advance(1800)
    assert state.vehicles[MODEL_Y_ID].soc == pytest.approx(62 + 11 / 75 * 100 / 2)
    assert state.vehicles[MODEL_Y_ID].reading is not None
    assert state.vehicles[MODEL_Y_ID].reading.soc == 69
    await state.close()


async def test_dashboard_creates_and_verifies_a_webhook(
    emulator: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """The development dashboard shows the credentials and creates a verified webhook."""
    async with http.get(f"{emulator.base_url}/dashboard") as response:
        page = await response.text()
    assert response.status == 200
    assert "amt_emulator" in page
    assert "No webhook yet." in page
    async with http.post(
        f"{emulator.base_url}/dashboard/webhooks",
        data={"callback_uri": receiver.url},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
    (webhook,) = emulator.state.webhooks.values()
    assert webhook.callback_uri == receiver.url
    assert webhook.verified
    async with http.get(f"{emulator.base_url}/dashboard") as response:
        page = await response.text()
    assert f'<code class="webhook-id">{webhook.id}</code>' in page
    assert "VERIFIED" in page
    # An empty form creates nothing.
    async with http.post(
        f"{emulator.base_url}/dashboard/webhooks", data={"callback_uri": " "}
    ) as response:
        assert response.status == 200
    assert len(emulator.state.webhooks) == 1


@pytest.mark.parametrize("limit", [0, 2, 100])
async def test_plan_limit_per_vehicle(emulator: Emulator, api: Api, limit: int) -> None:
    """Past the plan's monthly calls a vehicle answers 430 BILLING/VEHICLE_REQUEST_LIMIT.

    Reads and commands count alike; other vehicles and the next month are not limited.
    """
    state = emulator.state
    state.connect()
    url = f"{emulator.base_url}/_emulator/vehicles/{MODEL_Y_ID}/plan"
    async with api.http.post(url, json={"limit": limit}) as resp:
        assert resp.status == 200
        assert await resp.json() == {MODEL_Y_ID: {"limit": limit, "used": 0}}
    for _ in range(limit - 1):
        assert (await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals"))[0] == 200
    if limit:
        command = f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/start"
        assert (await api.post(command))[0] == 200
    status, body, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals")
    assert (status, body["type"], body["code"]) == (430, "BILLING", "VEHICLE_REQUEST_LIMIT")
    assert body["statusCode"] == 430  # the classic shape of Smartcar's billing errors
    status, body, _ = await api.post(f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/stop")
    assert (status, body["code"]) == (430, "VEHICLE_REQUEST_LIMIT")
    assert state.plans.as_dict(state.month) == {MODEL_Y_ID: {"limit": limit, "used": limit}}
    assert (await api.get(f"/v3/vehicles/{ID4_ID}/signals"))[0] == 200
    # Refusals are not billed; a new month brings a new allowance.
    state.advance(timedelta(days=31).total_seconds())
    await api.authenticate()  # the token expired meanwhile
    assert (await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals"))[0] == (200 if limit else 430)
    # Unlimited again.
    async with api.http.post(url, json={"limit": None}) as resp:
        assert await resp.json() == {}
    assert (await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals"))[0] == 200


@pytest.mark.parametrize("body", [{"limit": -1}, {"limit": "100"}, {"limit": True}, {}])
async def test_plan_limit_rejects_bad_input(emulator: Emulator, api: Api, body: Any) -> None:
    url = f"{emulator.base_url}/_emulator/vehicles/{MODEL_Y_ID}/plan"
    async with api.http.post(url, json=body) as resp:
        assert resp.status == 400
    assert emulator.state.plans.limits == {}
