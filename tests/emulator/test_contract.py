"""The emulator's wire format against the documented Smartcar examples (shape, not values).

The examples live in ``tests/fixtures/smartcar/`` (sources in its README). A document is
compared with the emulator's by a recursive *shape* check: every key of the documented object
must exist with the same JSON type (``null`` in the doc accepts any type, since the example
cannot tell it); lists are compared by their first item; extra keys are allowed only at the
paths listed per test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import json
from pathlib import Path
from typing import Any

import pytest

from emulator import DEFAULT_USER_ID, ID4_ID, MODEL_3_ID, MODEL_Y_ID

from .helpers import Api, Emulator, Receiver, subscribe_all

FIXTURES = Path(__file__).parent.parent / "fixtures" / "smartcar"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


@dataclass(frozen=True)
class Leeway:
    """Where the emulator may differ: extra keys, keys it may omit, values it may null."""

    extras: Mapping[str, set[str]] = field(default_factory=dict)
    optional: set[str] = field(default_factory=set)
    nullable: set[str] = field(default_factory=set)


STRICT = Leeway()


def shape_problems(doc: Any, actual: Any, path: str = "$", leeway: Leeway = STRICT) -> list[str]:
    """Return every difference in shape between a documented example and an actual value."""
    if doc is None or (actual is None and path in leeway.nullable):
        return []
    if _kind(doc) != _kind(actual):
        return [f"{path}: expected {_kind(doc)}, got {_kind(actual)} ({actual!r:.60})"]
    if isinstance(doc, list):
        if doc and actual:
            return shape_problems(doc[0], actual[0], f"{path}[]", leeway)
        return []
    if not isinstance(doc, dict):
        return []
    problems = [
        f"{path}.{key}: missing"
        for key in doc
        if key not in actual and f"{path}.{key}" not in leeway.optional
    ]
    allowed = leeway.extras.get(path, set())
    problems += [
        f"{path}.{key}: not in the doc" for key in actual if key not in doc and key not in allowed
    ]
    for key in doc:
        if key in actual:
            problems += shape_problems(doc[key], actual[key], f"{path}.{key}", leeway)
    return problems


def assert_shape(doc: Any, actual: Any, leeway: Leeway = STRICT, path: str = "$") -> None:
    problems = shape_problems(doc, actual, path, leeway)
    assert not problems, "\n".join(problems)


def test_the_shape_check_itself() -> None:
    doc = {"a": 1, "b": [{"c": "x"}], "d": None, "e": {"f": True}}
    assert shape_problems(doc, {"a": 2.5, "b": [{"c": "y"}, {}], "d": [], "e": {"f": False}}) == []
    assert shape_problems(doc, {"a": "1", "b": [], "d": 1, "e": {"f": 0}}) == [
        "$.a: expected number, got string ('1')",
        "$.e.f: expected boolean, got number (0)",
    ]
    assert shape_problems({"a": 1}, {"b": 1}) == ["$.a: missing", "$.b: not in the doc"]
    assert shape_problems({"a": {}}, {"a": {"x": 1}}, leeway=Leeway(extras={"$.a": {"x"}})) == []
    assert shape_problems({"a": 1, "b": "x"}, {"b": None}, leeway=Leeway(optional={"$.a"})) == [
        "$.b: expected string, got null (None)"
    ]
    assert shape_problems({"b": "x"}, {"b": None}, leeway=Leeway(nullable={"$.b"})) == []


# --- REST ------------------------------------------------------------------------------


# The REST examples are observed payloads: ISO times and `pageNumber`, the emulator's
# "observed" variant (its default follows the OpenAPI: epoch-ms times and `page`).
OBSERVED = {"rest_timestamps": "iso", "paging_meta": "pageNumber"}


async def test_connections_contract(emulator: Emulator, api: Api) -> None:
    emulator.state.update_options(OBSERVED)
    emulator.state.connect()
    status, body, _ = await api.get("/v3/connections", user=None)
    assert status == 200
    assert_shape(load("connections.json"), body)


async def test_vehicle_contract(emulator: Emulator, api: Api) -> None:
    emulator.state.connect()
    status, body, _ = await api.get(f"/v3/vehicles/{ID4_ID}", user=None)
    assert status == 200
    assert_shape(load("vehicle.json"), body)


SIGNAL_LEEWAY = Leeway(
    extras={
        "$.data[].links": {"vehicle"},
        "$.data.links": {"vehicle"},
        "$.data[].attributes.body.values[]": {"condition"},
    }
)


async def test_signals_contract(emulator: Emulator, api: Api, receiver: Receiver) -> None:
    emulator.state.update_options(OBSERVED)
    await subscribe_all(emulator.state, receiver, [ID4_ID])
    status, body, _ = await api.get(f"/v3/vehicles/{ID4_ID}/signals")
    assert status == 200
    doc = load("signals.json")
    assert_shape(doc, body, SIGNAL_LEEWAY)
    ours = {item["id"]: item for item in body["data"]}
    for item in doc["data"]:
        assert item["id"] in ours, item["id"]
        assert_shape(item, ours[item["id"]], SIGNAL_LEEWAY, path="$.data[]")

    status, one, _ = await api.get(f"/v3/vehicles/{ID4_ID}/signals/tractionbattery-stateofcharge")
    assert status == 200
    assert_shape({"data": doc["data"][0], "included": doc["included"]}, one, SIGNAL_LEEWAY)


async def test_command_contract(emulator: Emulator, api: Api) -> None:
    emulator.state.connect()
    status, body, _ = await api.post(
        f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/set-limit",
        json_body={"data": {"attributes": {"percent": 75}}},
    )
    assert status == 200
    assert_shape(load("command_set_limit.json"), body)
    for action in ("start", "stop"):
        status, body, _ = await api.post(f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/{action}")
        assert status == 200
        leeway = Leeway(optional={"$.data.attributes.parameters.percent"})
        assert_shape(load("command_set_limit.json"), body, leeway)


# PERMISSION errors have a null code; only VIRTUAL_KEY_REQUIRED has a resolution URL.
ERROR_LEEWAY = Leeway(extras={"$": {"docURL"}}, optional={"$.resolution.url"}, nullable={"$.code"})


async def test_error_shapes_contract(emulator: Emulator, api: Api) -> None:
    emulator.state.connect()
    status, body, _ = await api.get("/v3/connections", headers={"Authorization": "Bearer bad"})
    assert status == 401
    assert_shape(load("error_jsonapi.json"), body)

    status, body, _ = await api.post(f"/v3/vehicles/{MODEL_3_ID}/commands/charge/start")
    assert status == 400
    assert_shape(load("error_classic.json"), body)

    await api.post(f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/start")
    status, body, _ = await api.post(f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/start")
    assert status == 409
    assert_shape(load("error_jsonapi.json"), body, ENVELOPE_LEEWAY)

    emulator.state.update_options({"error_shape": "v3"})  # the older flat object
    status, body, _ = await api.post(f"/v3/vehicles/{MODEL_Y_ID}/commands/charge/start")
    assert status == 409
    assert_shape(load("error_v3.json"), body, ERROR_LEEWAY)


# The default envelope's errors also carry the fields the error guides give every Smartcar error
# (api-reference/api-errors); PERMISSION errors have a null code.
ENVELOPE_LEEWAY = Leeway(
    extras={"$.errors[]": {"type", "resolution", "suggestedUserMessage"}},
    nullable={"$.errors[].code"},
)


@pytest.mark.parametrize("shape", ["jsonapi", "v3"])
@pytest.mark.parametrize(
    ("kind", "document"),
    [
        ("http_403", None),
        ("http_429", None),
        ("http_429_app", None),
        ("http_409_asleep", None),
        ("http_500", None),
        ("http_502", None),
        ("http_504", None),
        ("http_430", "error_classic.json"),
        ("virtual_key_request", "error_classic.json"),
        ("http_401", "error_jsonapi.json"),
    ],
)
async def test_fault_error_shapes_contract(
    emulator: Emulator, api: Api, kind: str, document: str | None, shape: str
) -> None:
    emulator.state.update_options({"error_shape": shape})
    emulator.state.connect()
    emulator.state.add_fault(kind)
    status, body, _ = await api.get(f"/v3/vehicles/{MODEL_Y_ID}/signals")
    assert status >= 400
    if document is not None:  # documented examples of these errors have their own shape
        assert_shape(load(document), body, ERROR_LEEWAY)
    elif shape == "jsonapi":
        assert_shape(load("error_jsonapi.json"), body, ENVELOPE_LEEWAY)
    else:
        assert_shape(load("error_v3.json"), body, ERROR_LEEWAY)


# --- webhooks --------------------------------------------------------------------------


async def test_verify_contract(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.state.create_webhook(receiver.url)
    assert_shape(load("webhook_verify.json"), receiver.received[0].body)


STATE_LEEWAY = Leeway(extras={"$.data.signals[].body.values[]": {"condition"}})


async def test_vehicle_state_contract(emulator: Emulator, receiver: Receiver) -> None:
    state = emulator.state
    await subscribe_all(state, receiver, [ID4_ID])
    state.patch_vehicle(ID4_ID, {"plugged_in": False})
    await state.wait_for_deliveries()
    (event,) = receiver.events("VEHICLE_STATE")
    doc = load("webhook_vehicle_state.json")
    assert_shape(doc, event, STATE_LEEWAY)
    ours = {item["code"]: item for item in event["data"]["signals"]}
    for item in doc["data"]["signals"]:
        assert_shape(item, ours[item["code"]], STATE_LEEWAY, path="$.data.signals[]")


async def test_vehicle_error_contract(emulator: Emulator, receiver: Receiver) -> None:
    state = emulator.state
    await subscribe_all(state, receiver, [MODEL_Y_ID])
    state.set_key(MODEL_Y_ID, paired=False)
    await state.wait_for_deliveries()
    (event,) = receiver.events("VEHICLE_ERROR")
    assert event["data"]["user"]["id"] == DEFAULT_USER_ID
    leeway = Leeway(
        extras={
            "$.data.errors[].resolution": {"url"},
            "$.meta": {"version", "webhookId", "webhookName", "mode"},
        }
    )
    assert_shape(load("webhook_vehicle_error.json"), event, leeway)
