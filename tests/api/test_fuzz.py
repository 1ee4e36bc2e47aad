"""Property tests: whatever Smartcar (or anyone posting to the webhook) sends, only SmartcarError
subclasses leave the parsers, and error bodies always become a SmartcarApiError.

The strategies are shaped like Smartcar's payloads (and `mostly` valid) so that the properties
reach the body parsers instead of failing at the envelope. Integers beyond float range are in
the strategies; huge digit strings and deep nesting in raw JSON are pinned by their own tests
(test_webhooks, test_client).
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.flexcharging.api import parse, signals as readers, webhooks
from custom_components.flexcharging.api.errors import (
    SmartcarApiError,
    SmartcarError,
    SmartcarRateLimitError,
    error_from_body,
)
from custom_components.flexcharging.api.models import SignalStatus, VehicleState

FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Keys and strings the parsers look for, so that arbitrary JSON often takes the deep branches.
KEYS = [
    "data",
    "attributes",
    "code",
    "status",
    "body",
    "meta",
    "value",
    "errors",
    "error",
    "error_description",
    "id",
    "type",
    "unit",
    "values",
    "limit",
    "activeLimit",
    "condition",
    "capacity",
    "nominal",
    "latitude",
    "longitude",
    "links",
    "next",
    "relationships",
    "vehicle",
    "user",
    "permissions",
    "pageNumber",
    "page",
    "pageSize",
    "totalCount",
    "included",
    "eventId",
    "eventType",
    "eventName",
    "payload",
    "vehicleId",
    "signals",
    "triggers",
    "challenge",
    "state",
    "mode",
    "resolution",
    "url",
    "detail",
    "description",
    "title",
    "statusCode",
    "suggestedUserMessage",
    "requestId",
    "make",
    "model",
    "year",
]
TEXTS = [
    *sorted(readers.FIELD_OF_CODE),
    *(status.value for status in SignalStatus),
    "GLOBAL",
    "global",
    "LOCATION",
    "km",
    "kilometers",
    "miles",
    "km/h",
    "kW",
    "watts",
    "percent",
    "CHARGING",
    "NOT_CHARGING",
    "FULLY_CHARGED",
    "VERIFY",
    "verify",
    "VEHICLE_STATE",
    "VEHICLE_ERROR",
    "FIRST_DELIVERY",
    "SIGNAL_UPDATED",
    "TEST",
    "RESOLVED",
    "VIRTUAL_KEY_REQUIRED",
    "CONNECTED_SERVICES_ACCOUNT",
    "AUTHENTICATION_FAILED",
    "RATE_LIMIT",
    "unauthorized",
    "invalid_client",
    "2026-06-29T23:55:53.000Z",
    "2026-06-29T23:55:53",
    "401",
    "409",
    "TESLA",
    "Model S",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.integers(min_value=10**308, max_value=10**400)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(TEXTS)
)
keys = st.sampled_from(KEYS) | st.text(max_size=6)


def objects(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects whose keys are often the real ones."""
    return st.dictionaries(keys, values, max_size=3)


json_values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=3) | objects(children), max_leaves=6
)
json_objects = objects(json_values)


def mostly(
    valid: st.SearchStrategy[Any], *others: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Usually `valid` (three times in four), else one of `others`.

    st.one_of would merge a repeated branch, and st.sampled_from over strategies builds reprs that
    grow exponentially when nested.
    """
    choices = [valid, valid, valid, *others]

    def pick(index: int) -> st.SearchStrategy[Any]:
        return choices[index]

    return st.integers(min_value=0, max_value=len(choices) - 1).flatmap(pick)


# Shaped like the real thing (https://smartcar.com/docs/api-reference/get-signals, the
# VEHICLE_STATE of https://smartcar.com/docs/api-reference/webhooks/events/vehicle-state, and
# tests/fixtures/api/ with its README's sources), with arbitrary values mixed in, so that the
# properties reach the body parsers rather than failing at the envelope.
numbers = mostly(
    st.integers(min_value=-200, max_value=200) | st.floats(allow_nan=False, width=32),
    st.integers(min_value=-(2**63), max_value=2**63) | st.floats(),
    scalars,
)
times = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.datetimes().map(lambda moment: moment.isoformat() + "Z"),
    st.integers(min_value=0, max_value=2**42),  # seconds or milliseconds
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(),
    scalars,
)
percent_units = st.sampled_from(["percent", "percentage"]) | scalars
BODIES: dict[str, st.SearchStrategy[Any]] = {
    "tractionbattery-stateofcharge": st.fixed_dictionaries(
        {"value": numbers, "unit": percent_units}
    ),
    "tractionbattery-range": st.fixed_dictionaries(
        {
            "value": numbers,
            "unit": mostly(st.sampled_from(["km", "kilometers", "miles", "MI"]), scalars),
        },
        optional={"type": scalars, "additionalValues": json_values},
    ),
    "charge-detailedchargingstatus": st.fixed_dictionaries(
        {
            "value": st.sampled_from(["CHARGING", "NOT_CHARGING", "FULLY_CHARGED", "charging"])
            | scalars
        }
    ),
    "charge-ischarging": st.fixed_dictionaries({"value": st.booleans() | scalars}),
    "charge-ischargingcableconnected": st.fixed_dictionaries({"value": st.booleans() | scalars}),
    "charge-chargelimits": st.fixed_dictionaries(
        {
            "values": mostly(
                st.lists(
                    mostly(
                        st.fixed_dictionaries(
                            {
                                "type": mostly(
                                    st.sampled_from(["GLOBAL", "global", "LOCATION"]), scalars
                                ),
                                "limit": numbers,
                            },
                            optional={"condition": st.none() | json_objects | scalars},
                        ),
                        scalars,
                    ),
                    max_size=3,
                ),
                json_values,
            ),
            "activeLimit": st.none() | numbers,
        },
        optional={"unit": percent_units},
    ),
    "charge-chargerate": st.fixed_dictionaries(
        {"value": numbers},
        optional={"unit": mostly(st.sampled_from(["kW", "W", "watts", "km/h"]), scalars)},
    ),
    "charge-power": st.fixed_dictionaries(
        {"value": numbers},
        optional={"unit": mostly(st.sampled_from(["kW", "w", "kilowatts", "hp"]), scalars)},
    ),
    "charge-wattage": st.fixed_dictionaries(
        {"value": numbers},
        optional={"unit": mostly(st.sampled_from(["watts", "W", "kW", "hp"]), scalars)},
    ),
    "charge-energyadded": st.fixed_dictionaries(
        {"value": numbers},
        optional={"unit": mostly(st.sampled_from(["kWh", "Wh", "kwh", "J"]), scalars)},
    ),
    "tractionbattery-nominalcapacity": st.one_of(
        st.fixed_dictionaries({"capacity": numbers}),
        st.fixed_dictionaries({"value": numbers}),
        st.fixed_dictionaries(
            {"capacity": st.fixed_dictionaries({}, optional={"nominal": numbers, "value": numbers})}
        ),
    ),
    "connectivitystatus-isdigitalkeypaired": st.fixed_dictionaries(
        {"value": st.booleans() | scalars}
    ),
    "vehicleidentification-vin": st.fixed_dictionaries({"value": st.text(max_size=17) | scalars}),
    "location-preciselocation": st.fixed_dictionaries(
        {"latitude": numbers, "longitude": numbers}, optional={"heading": numbers}
    ),
    "location-isathome": st.fixed_dictionaries({"value": st.booleans() | scalars}),
}
assert set(BODIES) == set(readers.FIELD_OF_CODE)
codes = mostly(st.sampled_from(sorted(BODIES)), st.text(max_size=8), scalars)
statuses = st.fixed_dictionaries(
    {
        "value": mostly(
            st.sampled_from(["SUCCESS", "SUCCESS", "ERROR", "UNAVAILABLE", "success", "PENDING"]),
            scalars,
        )
    },
    optional={
        "error": mostly(
            st.fixed_dictionaries(
                {},
                optional={
                    "type": st.sampled_from(["VEHICLE_STATE", "COMPATIBILITY"]) | scalars,
                    "code": st.sampled_from(["ASLEEP", "VIRTUAL_KEY_REQUIRED"]) | scalars,
                },
            ),
            json_values,
        )
    },
)
metas = st.fixed_dictionaries(
    {"oemUpdatedAt": times}, optional={"retrievedAt": times, "ingestedAt": times}
)


def signal_parts(code: Any) -> st.SearchStrategy[dict[str, Any]]:
    """`status`, `body` and `meta` for one signal, usually shaped for its code."""
    body = BODIES.get(code, json_objects) if isinstance(code, str) else json_objects
    # None stands for an absent member: the parsers read them with .get().
    return st.fixed_dictionaries(
        {
            "status": mostly(statuses, st.none(), json_values),
            "body": mostly(body, st.none(), json_values),
            "meta": mostly(metas, st.none(), scalars),
        }
    )


def flat_signal(code: Any) -> st.SearchStrategy[dict[str, Any]]:
    """A webhook signal object."""
    return signal_parts(code).map(lambda parts: {"code": code, **parts})


def rest_resource(code: Any) -> st.SearchStrategy[dict[str, Any]]:
    """A REST signal resource."""

    def build(parts: dict[str, Any]) -> dict[str, Any]:
        meta = parts.pop("meta", None)
        resource: dict[str, Any] = {
            "id": code,
            "type": "signal",
            "attributes": {"code": code, **parts},
        }
        if meta is not None:
            resource["meta"] = meta
        return resource

    return signal_parts(code).map(build)


flat_signals = codes.flatmap(flat_signal)
rest_resources = codes.flatmap(rest_resource)
signal_responses = st.fixed_dictionaries(
    {"data": mostly(st.lists(mostly(rest_resources, json_values), max_size=5), json_values)},
    optional={"meta": json_values, "included": json_values},
)
related = mostly(
    st.fixed_dictionaries({"data": mostly(st.fixed_dictionaries({"id": scalars}), scalars)}),
    scalars,
)
connection_pages = st.fixed_dictionaries(
    {
        "data": mostly(
            st.lists(
                mostly(
                    st.fixed_dictionaries(
                        {
                            "id": scalars,
                            "relationships": mostly(
                                st.fixed_dictionaries({"vehicle": related, "user": related}),
                                scalars,
                            ),
                        },
                        optional={
                            "attributes": mostly(
                                st.fixed_dictionaries(
                                    {},
                                    optional={
                                        "permissions": st.lists(scalars, max_size=3) | scalars,
                                        "vehicle": json_objects | scalars,
                                    },
                                ),
                                scalars,
                            )
                        },
                    ),
                    scalars,
                ),
                max_size=3,
            ),
            scalars,
        )
    },
    optional={
        "meta": mostly(
            st.fixed_dictionaries(
                {},
                optional={
                    "pageNumber": numbers,
                    "page": numbers,
                    "pageSize": numbers,
                    "totalCount": numbers,
                },
            ),
            scalars,
        ),
        "links": mostly(st.fixed_dictionaries({}, optional={"next": scalars}), scalars),
    },
)
vehicle_errors = st.fixed_dictionaries(
    {
        "type": mostly(st.sampled_from(["CONNECTED_SERVICES_ACCOUNT", "PERMISSION"]), scalars),
        "code": mostly(st.sampled_from(["VIRTUAL_KEY_REQUIRED", "ASLEEP"]), scalars),
        "state": mostly(st.sampled_from(["ERROR", "RESOLVED", "resolved"]), scalars),
    },
    optional={
        "description": scalars,
        "detail": scalars,
        "resolution": mostly(
            st.fixed_dictionaries({"type": scalars}, optional={"url": scalars}), scalars
        ),
    },
)
vehicles = mostly(
    st.fixed_dictionaries(
        {"id": mostly(st.text(min_size=1, max_size=8), scalars)},
        optional={
            "make": mostly(st.sampled_from(["TESLA", "VOLKSWAGEN", "tesla"]), scalars),
            "model": mostly(st.sampled_from(["Model 3", "Model S", "ID.7"]), scalars),
            "year": mostly(st.integers(min_value=2010, max_value=2030), numbers),
            "powertrainType": mostly(st.sampled_from(["BEV"]) | st.none(), scalars),
        },
    ),
    json_values,
)
users = mostly(st.fixed_dictionaries({"id": scalars}), json_values)
triggers = mostly(
    st.lists(
        mostly(
            st.fixed_dictionaries(
                {},
                optional={
                    "type": st.sampled_from(["SIGNAL_UPDATED", "FIRST_DELIVERY"]) | scalars,
                    "code": st.sampled_from(["FIRST_DELIVERY", "charge-ischarging"]) | scalars,
                    "signal": json_values,
                },
            ),
            scalars,
        ),
        max_size=3,
    ),
    json_values,
)
EVENT_DATA: dict[str, st.SearchStrategy[Any]] = {
    "VERIFY": st.fixed_dictionaries({"challenge": mostly(st.text(max_size=16), scalars)}),
    "VEHICLE_STATE": st.fixed_dictionaries(
        {
            "vehicle": vehicles,
            "signals": mostly(st.lists(mostly(flat_signals, json_values), max_size=4), scalars),
        },
        optional={"user": users, "triggers": triggers},
    ),
    "VEHICLE_ERROR": st.fixed_dictionaries(
        {
            "vehicle": vehicles,
            "errors": mostly(st.lists(mostly(vehicle_errors, json_values), max_size=3), scalars),
        },
        optional={"user": users},
    ),
}


def event(event_type: Any) -> st.SearchStrategy[dict[str, Any]]:
    """A delivery of `event_type`, in the v4 or the legacy 2.0 envelope."""
    data = EVENT_DATA.get(str(event_type).upper(), json_objects)
    optional = {
        "eventId": scalars,
        "meta": mostly(
            st.fixed_dictionaries({"mode": mostly(st.sampled_from(["TEST", "LIVE"]), scalars)}),
            scalars,
        ),
        "triggers": triggers,
        "vehicleId": scalars,
    }
    return st.one_of(
        st.fixed_dictionaries(
            {"eventType": st.just(event_type), "data": mostly(data, json_values)},
            optional=optional,
        ),
        st.fixed_dictionaries(
            {"eventName": st.just(event_type), "payload": mostly(data, json_values)},
            optional={"version": st.just("2.0"), "webhookId": scalars},
        ),
    )


events = mostly(
    st.sampled_from(
        ["VERIFY", "VEHICLE_STATE", "VEHICLE_ERROR", "vehicle_state", "verify", "OTHER"]
    ),
    scalars,
).flatmap(event)


def only_smartcar_errors(call: Callable[[], object]) -> None:
    """Run `call`; a SmartcarError is fine, anything else fails the property."""
    with contextlib.suppress(SmartcarError):
        call()


@FUZZ
@given(mostly(signal_responses, json_values))
def test_rest_signals(body: Any) -> None:
    try:
        state = readers.rest_signals(body)
    except SmartcarError:
        return
    assert isinstance(state, VehicleState)
    for name in VehicleState.__dataclass_fields__:
        if name == "problems":
            continue
        signal = getattr(state, name)
        # A value only with SUCCESS; a failed signal never keeps its stale body.
        assert signal.value is None or signal.status is SignalStatus.SUCCESS


@FUZZ
@given(mostly(connection_pages, json_values))
def test_connections_page(body: Any) -> None:
    try:
        connections, next_page = parse.connections_page(body)
    except SmartcarError:
        return
    assert next_page is None or isinstance(next_page, str | int)
    if isinstance(next_page, int):
        assert connections  # an empty page never asks for another


@FUZZ
@given(
    st.one_of(
        json_values,
        json_objects,
        st.fixed_dictionaries({"data": json_objects | json_values}),
        st.fixed_dictionaries(
            {"data": st.fixed_dictionaries({"id": scalars}, optional={"attributes": json_objects})}
        ),
    )
)
def test_webhook_resource(body: Any) -> None:
    only_smartcar_errors(lambda: parse.webhook_resource(body))


@FUZZ
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "data": st.fixed_dictionaries(
                    {"attributes": st.fixed_dictionaries({"status": statuses | json_values})},
                    optional={"id": scalars},
                )
                | json_values
            }
        ),
    )
)
def test_command_status(body: Any) -> None:
    try:
        command_id, status = parse.command_status(body)
    except SmartcarError:
        return
    assert status == status.upper()
    assert command_id is None or isinstance(command_id, str)


@FUZZ
@given(mostly(events, json_values))
def test_parse_event_json(payload: Any) -> None:
    raw = json.dumps(payload).encode()
    only_smartcar_errors(lambda: webhooks.parse_event(raw))


@FUZZ
@given(st.binary(max_size=200))
def test_parse_event_bytes(raw: bytes) -> None:
    only_smartcar_errors(lambda: webhooks.parse_event(raw))


error_objects = st.fixed_dictionaries(
    {
        "type": mostly(
            st.sampled_from(
                [
                    "AUTHENTICATION",
                    "PERMISSION",
                    "CONNECTED_SERVICES_ACCOUNT",
                    "VEHICLE_STATE",
                    "RATE_LIMIT",
                    "BILLING",
                    "COMPATIBILITY",
                    "UPSTREAM",
                    "SERVER",
                    "RESOURCE_NOT_FOUND",
                    "VALIDATION",
                    "rate_limit",
                    "NEW_TYPE",
                ]
            ),
            scalars,
        ),
        "code": mostly(
            st.sampled_from(
                ["VIRTUAL_KEY_REQUIRED", "AUTHENTICATION_FAILED", "ASLEEP", "unauthorized", "PATH"]
            ),
            scalars,
        ),
    },
    optional={
        "status": scalars | st.sampled_from(["401", "409", "429", "500"]),
        "statusCode": scalars,
        "detail": scalars,
        "description": scalars,
        "title": scalars,
        "message": scalars,
        "resolution": mostly(
            st.fixed_dictionaries({"type": scalars}, optional={"url": scalars}), scalars
        ),
        "suggestedUserMessage": scalars,
        "requestId": scalars,
    },
)


@FUZZ
@given(
    st.one_of(
        json_values,
        error_objects,
        st.fixed_dictionaries({"errors": st.lists(mostly(error_objects, json_values), max_size=3)}),
        st.fixed_dictionaries(
            {"error": mostly(st.sampled_from(["invalid_client", "invalid_request"]), scalars)},
            optional={"error_description": scalars},
        ),
    ),
    st.integers(min_value=100, max_value=599),
    st.none() | st.floats(min_value=0, max_value=86400),
)
def test_error_from_body(body: Any, status: int, retry_after: float | None) -> None:
    error = error_from_body(body, status=status, retry_after=retry_after)
    assert isinstance(error, SmartcarApiError)
    assert isinstance(str(error), str)
    assert error.status == status
    if isinstance(error, SmartcarRateLimitError):
        assert error.retry_after == retry_after
