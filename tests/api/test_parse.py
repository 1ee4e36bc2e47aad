"""Parsing of Smartcar's JSON into the typed models (`api/parse.py`).

Tables of cases run in loops (not parametrized) to keep the suite fast; each assertion names its
case.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from custom_components.flexcharging.api import parse, signals as readers
from custom_components.flexcharging.api.errors import SmartcarParseError
from custom_components.flexcharging.api.models import (
    ChargingStatus,
    Distance,
    DistanceUnit,
    Location,
    SignalStatus,
    VehicleInfo,
    VehicleState,
    WebhookInfo,
)

from .helpers import load_fixture, parse_error

ISO_STAMP = "2026-06-29T23:55:53.000Z"
ISO_DATETIME = datetime(2026, 6, 29, 23, 55, 53, tzinfo=UTC)
WEBHOOK_MS = 1780222506000
WEBHOOK_DATETIME = datetime(2026, 5, 31, 10, 15, 6, tzinfo=UTC)


def rest_item(
    code: str,
    body: Any = None,
    *,
    status: Any = "SUCCESS",
    meta: Any = None,
    error: Any = None,
) -> dict[str, Any]:
    """One REST signal resource: `{id, type, attributes: {code, status, body}, meta}`."""
    attributes: dict[str, Any] = {"code": code, "name": "Name", "group": "Group"}
    if status is not None:
        attributes["status"] = {"value": status}
        if error is not None:
            attributes["status"]["error"] = error
    if body is not None:
        attributes["body"] = body
    item: dict[str, Any] = {"id": code, "type": "signal", "attributes": attributes}
    if meta is not None:
        item["meta"] = meta
    return item


def rest(*items: dict[str, Any]) -> VehicleState:
    """Parse REST signals."""
    return readers.rest_signals({"data": list(items)})


def invalid(state: VehicleState, field: str) -> str:
    """The reason the one signal in `state` could not be read: INVALID, no value, one problem."""
    signal = getattr(state, field)
    assert signal.status is SignalStatus.INVALID, signal
    assert signal.value is None
    (problem,) = state.problems
    assert problem.reason == signal.reason
    return problem.reason


def flat_item(
    code: str, body: Any = None, *, status: Any = "SUCCESS", meta: Any = None
) -> dict[str, Any]:
    """One webhook signal object: `{code, name, group, body, meta, status}`."""
    item: dict[str, Any] = {"code": code, "name": "Name", "group": "Group"}
    if status is not None:
        item["status"] = {"value": status}
    if body is not None:
        item["body"] = body
    if meta is not None:
        item["meta"] = meta
    return item


# --- primitives -------------------------------------------------------------------------------


def test_mapping_and_sequence() -> None:
    assert parse.mapping({"a": 1}, "x") == {"a": 1}
    assert parse.sequence([1], "x") == [1]
    error = parse_error(lambda: parse.mapping([], "where.it.was"))
    assert error.field == "where.it.was"
    assert error.problem == "expected an object, got list"
    assert str(error) == (
        "Unexpected response from Smartcar: where.it.was: expected an object, got list"
    )
    assert parse_error(lambda: parse.sequence({}, "x")).problem == "expected an array, got dict"


def test_strings() -> None:
    assert parse.string("a", "x") == "a"
    for value in (None, "", 1, True, [], {}):
        assert "expected a string" in parse_error(lambda v=value: parse.string(v, "x")).problem
    assert parse.optional_string(None, "x") is None
    assert parse.optional_string("", "x") is None
    assert parse.optional_string("b", "x") == "b"
    parse_error(lambda: parse.optional_string(3, "x"))


def test_numbers_and_booleans() -> None:
    assert parse.number(3, "x") == 3.0
    assert isinstance(parse.number(3, "x"), float)
    assert parse.number(-2.5, "x") == -2.5
    for value in (None, True, False, "1", [], {}, float("nan"), float("inf"), float("-inf")):
        error = parse_error(lambda v=value: parse.number(v, "x"))
        assert "expected a number" in error.problem, value
    assert parse.boolean(True, "x") is True
    assert parse.boolean(False, "x") is False
    for value in (0, 1, "true", None):
        assert "true or false" in parse_error(lambda v=value: parse.boolean(v, "x")).problem
    assert parse.optional_int(None, "x") is None
    assert parse.optional_int(2020, "x") == 2020
    assert parse.optional_int(2020.0, "x") == 2020
    assert "expected an integer" in parse_error(lambda: parse.optional_int(2020.5, "x")).problem
    assert "expected a number" in parse_error(lambda: parse.optional_int(True, "x")).problem


def test_number_rejects_huge_integer() -> None:
    parse_error(lambda: parse.number(10**400, "x"))


# --- timestamps ---------------------------------------------------------------------------------


def test_timestamp_parses() -> None:
    cases: list[tuple[object, datetime]] = [
        (ISO_STAMP, ISO_DATETIME),
        ("2026-06-29T23:55:53Z", ISO_DATETIME),
        ("2026-06-29T23:55:53", ISO_DATETIME),  # naive: taken as UTC
        ("2026-06-30T01:55:53+02:00", ISO_DATETIME),
        (1696156800, datetime(2023, 10, 1, 10, 40, tzinfo=UTC)),  # seconds (OpenAPI example)
        (1696156800.5, datetime(2023, 10, 1, 10, 40, 0, 500000, tzinfo=UTC)),
        (WEBHOOK_MS, WEBHOOK_DATETIME),  # milliseconds (webhooks)
        (1e11, datetime(5138, 11, 16, 9, 46, 40, tzinfo=UTC)),  # the threshold itself: seconds
        (1e11 + 1000, datetime.fromtimestamp(1e8 + 1, UTC)),  # just above: milliseconds
        (1, datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)),
    ]
    for value, expected in cases:
        parsed = parse.timestamp(value, "meta.oemUpdatedAt")
        assert parsed == expected, value
        assert parsed is not None
        assert parsed.tzinfo is not None, value
    offset = parse.timestamp("2026-06-30T01:55:53+02:00", "x")
    assert offset is not None
    assert offset.utcoffset() == timedelta(hours=2)
    assert offset.tzinfo == timezone(timedelta(hours=2))


def test_timestamp_unknown() -> None:
    for value in (None, 0, 0.0, ""):
        assert parse.timestamp(value, "x") is None, value


def test_timestamp_rejects() -> None:
    cases: list[tuple[object, str]] = [
        ("yesterday", "not an ISO-8601 time"),
        ("2026-13-01T00:00:00Z", "not an ISO-8601 time"),
        ("1696156800", "not an ISO-8601 time"),
        (-1, "negative time"),
        (-WEBHOOK_MS, "negative time"),
        (True, "expected a number"),
        (float("nan"), "expected a number"),
        (1e300, "time out of range"),
        (2**63, "time out of range"),
    ]
    for value, problem in cases:
        error = parse_error(lambda v=value: parse.timestamp(v, "data[0].meta.oemUpdatedAt"))
        assert problem in error.problem, value
        assert error.field == "data[0].meta.oemUpdatedAt"


def test_timestamp_rejects_false() -> None:
    parse_error(lambda: parse.timestamp(False, "x"))


def test_timestamp_rejects_containers() -> None:
    for value in ([], {}, [WEBHOOK_MS], {"ms": 1}):
        parse_error(lambda v=value: parse.timestamp(v, "x"))
    # A signal whose time cannot be read keeps its value, without a time.
    state = rest(rest_item("charge-ischarging", {"value": True}, meta={"oemUpdatedAt": []}))
    assert state.is_charging.value is True
    assert state.is_charging.oem_updated_at is None
    assert [p.code for p in state.problems] == ["charge-ischarging"]


# --- vehicles, connections, webhooks ---------------------------------------------------------------


def test_vehicle_info() -> None:
    where = "data.attributes"
    nulls = {"make": None, "model": "", "year": None}
    assert parse.vehicle_info("v1", nulls, where) == VehicleInfo(vehicle_id="v1")
    cases: list[tuple[dict[str, object], str]] = [
        ({"year": "2020"}, "data.attributes.year"),
        ({"year": 2020.5}, "data.attributes.year"),
        ({"make": 7}, "data.attributes.make"),
    ]
    for attributes, field in cases:
        assert (
            parse_error(lambda a=attributes: parse.vehicle_info("v1", a, where)).field == field
        ), attributes


def test_connections_page_documented() -> None:
    connections, next_page = parse.connections_page(load_fixture("connections.json"))
    assert next_page is None  # links.next null, 1 * 10 >= 1
    (connection,) = connections
    assert connection.connection_id == "553c49e4-08b0-4d28-b83c-fe9d539af4aa"
    assert connection.user_id == "218eda3b-0656-49a8-8f3d-360cdad07334"
    assert connection.vehicle == VehicleInfo(
        vehicle_id="36ab27d0-fd9d-4455-823a-ce30af709ffc",
        make="TESLA",
        model="Model S",
        year=2014,
        powertrain_type="BEV",
        mode="live",
    )
    assert connection.permissions == frozenset(
        {
            "control_charge",
            "read_battery",
            "read_charge",
            "read_location",
            "read_odometer",
            "read_security",
            "read_vehicle_info",
            "read_vin",
        }
    )


def connection_item(index: int) -> dict[str, Any]:
    """A minimal connection resource."""
    return {
        "id": f"c{index}",
        "relationships": {
            "vehicle": {"data": {"id": f"v{index}", "type": "vehicle"}},
            "user": {"data": {"id": "u1", "type": "user"}},
        },
    }


def test_connections_page_links_next() -> None:
    url = "https://vehicle.api.smartcar.com/v3/connections?page%5Bnumber%5D=2"
    body = {
        "data": [connection_item(1)],
        "links": {"next": url},
        "meta": {"pageNumber": 1, "pageSize": 1, "totalCount": 2},
    }
    connections, next_page = parse.connections_page(body)
    assert next_page == url
    # Without attributes: no permissions, a vehicle known only by its id.
    assert connections[0].permissions == frozenset()
    assert connections[0].vehicle == VehicleInfo(vehicle_id="v1")


def test_connections_page_meta_paging() -> None:
    cases: list[tuple[object, object, object]] = [
        ({"pageNumber": 1, "pageSize": 1, "totalCount": 3}, {"next": None}, 2),
        ({"pageNumber": 2, "pageSize": 1, "totalCount": 3}, None, 3),
        ({"page": 1, "pageSize": 1, "totalCount": 3}, {}, 2),  # the spec's key name
        ({"pageNumber": 3, "pageSize": 1, "totalCount": 3}, {"next": ""}, None),  # last page
        ({"pageNumber": 1, "pageSize": 10, "totalCount": 1}, {"next": None}, None),
        ({"pageNumber": 1, "pageSize": 1}, None, None),  # no total
        ({"pageNumber": 1, "totalCount": 9}, None, None),  # no size
        ({"pageSize": 1, "totalCount": 9}, None, None),  # no page
        ({"pageNumber": 0, "pageSize": 1, "totalCount": 9}, None, None),
        ("not an object", "not an object", None),
        (None, None, None),
    ]
    for meta, links, expected in cases:
        body: dict[str, Any] = {"data": [connection_item(1)]}
        if meta is not None:
            body["meta"] = meta
        if links is not None:
            body["links"] = links
        assert parse.connections_page(body)[1] == expected, (meta, links)
    # An empty page never asks for another one, whatever meta says.
    empty = {"data": [], "meta": {"pageNumber": 1, "pageSize": 10, "totalCount": 30}}
    assert parse.connections_page(empty) == ([], None)


def test_connections_page_rejects() -> None:
    cases: list[tuple[Any, str]] = [
        (lambda b: b.update(data={}), "data"),
        (lambda b: b["data"].append("x"), "data[1]"),
        (lambda b: b["data"][0].pop("relationships"), "data[0].relationships"),
        (lambda b: b["data"][0]["relationships"].pop("user"), "data[0].relationships.user"),
        (
            lambda b: b["data"][0]["relationships"]["vehicle"].pop("data"),
            "data[0].relationships.vehicle.data",
        ),
        (
            lambda b: b["data"][0]["relationships"]["vehicle"]["data"].pop("id"),
            "data[0].relationships.vehicle.data.id",
        ),
        (lambda b: b["data"][0].pop("id"), "data[0].id"),
        (lambda b: b["data"][0].update(attributes=[]), "data[0].attributes"),
        (
            lambda b: b["data"][0].update(attributes={"permissions": "read_vin"}),
            "data[0].attributes.permissions",
        ),
        (
            lambda b: b["data"][0].update(attributes={"permissions": ["read_vin", 3]}),
            "data[0].attributes.permissions[1]",
        ),
        (
            lambda b: b["data"][0].update(attributes={"vehicle": "TESLA"}),
            "data[0].attributes.vehicle",
        ),
        (
            lambda b: b["data"][0].update(attributes={"vehicle": {"year": "2014"}}),
            "data[0].attributes.vehicle.year",
        ),
        (lambda b: b.update(links={"next": 2}), "links.next"),
        (
            lambda b: b.update(meta={"pageNumber": "1", "pageSize": 1, "totalCount": 3}),
            "meta.pageNumber",
        ),
        (lambda b: b.update(meta={"pageSize": 1.5}), "meta.pageSize"),
        (lambda b: b.update(meta={"totalCount": True}), "meta.totalCount"),
    ]
    for mutate, field in cases:
        body = {"data": [connection_item(0)]}
        mutate(body)
        assert parse_error(lambda b=body: parse.connections_page(b)).field == field, field
    assert parse_error(lambda: parse.connections_page([])).field == "body"


def test_webhook_resource() -> None:
    body = {
        "data": {
            "id": "wh-1",
            "type": "webhook",
            "attributes": {
                "name": "AutoData",
                "callbackUri": "https://example.com/api/webhook/abc",
                "isEnabled": False,
                "errorCallbackUri": None,
                "triggers": [],
                "autoSubscribe": False,
            },
        }
    }
    assert parse.webhook_resource(body) == WebhookInfo(
        webhook_id="wh-1",
        name="AutoData",
        callback_uri="https://example.com/api/webhook/abc",
        is_enabled=False,
    )
    not_a_flag = {"id": "wh-2", "attributes": {"isEnabled": "yes"}}
    assert parse_error(lambda: parse.webhook_resource(not_a_flag)).field == (
        "data.attributes.isEnabled"
    )
    assert parse.webhook_resource({"id": "wh-2"}) == WebhookInfo(webhook_id="wh-2")
    bad_uri = {"id": "wh-2", "attributes": {"callbackUri": 1}}
    assert (
        parse_error(lambda: parse.webhook_resource(bad_uri)).field == "data.attributes.callbackUri"
    )
    assert parse_error(lambda: parse.webhook_resource({"data": {}})).field == "data.id"


# --- signals -----------------------------------------------------------------------------------

# One successful body per signal code, with the field and value it must produce.
SIGNAL_CASES: list[tuple[str, dict[str, Any], str, object]] = [
    ("tractionbattery-stateofcharge", {"value": 57, "unit": "percent"}, "battery_level", 57.0),
    (
        "tractionbattery-range",
        {"value": 253, "type": "DEFAULT", "additionalValues": [], "unit": "km"},
        "range",
        Distance(253.0, DistanceUnit.KILOMETERS),
    ),
    (
        "charge-detailedchargingstatus",
        {"value": "CHARGING"},
        "charging_status",
        ChargingStatus.CHARGING,
    ),
    ("charge-ischarging", {"value": True}, "is_charging", True),
    ("charge-ischargingcableconnected", {"value": True}, "plugged_in", True),
    (
        "charge-chargelimits",
        {"values": [{"type": "GLOBAL", "limit": 80}], "activeLimit": 80, "unit": "percent"},
        "charge_limit",
        80,
    ),
    ("charge-chargerate", {"value": 7.2, "unit": "kW"}, "charge_power", 7.2),
    ("charge-power", {"value": 11, "unit": "kW"}, "charge_power", 11.0),
    ("charge-wattage", {"value": 7400, "unit": "watts"}, "charge_power", 7.4),
    ("charge-energyadded", {"unit": "kWh", "value": 25.5}, "energy_added", 25.5),
    ("tractionbattery-nominalcapacity", {"capacity": 77.0}, "battery_capacity", 77.0),
    ("connectivitystatus-isdigitalkeypaired", {"value": True}, "key_paired", True),
    ("vehicleidentification-vin", {"value": "5YJ3E1EA7KF000001"}, "vin", "5YJ3E1EA7KF000001"),
    (
        "location-preciselocation",
        {"latitude": 52.52, "longitude": 13.405},
        "location",
        Location(52.52, 13.405),
    ),
    ("location-isathome", {"value": False}, "is_at_home", False),
]


def test_signal_cases_cover_every_code() -> None:
    assert {case[0] for case in SIGNAL_CASES} == set(readers.FIELD_OF_CODE)


@pytest.mark.parametrize(
    ("code", "body", "field", "expected"), SIGNAL_CASES, ids=[c[0] for c in SIGNAL_CASES]
)
def test_every_signal(code: str, body: dict[str, Any], field: str, expected: object) -> None:
    # REST envelope.
    state = rest(rest_item(code, body, meta={"oemUpdatedAt": ISO_STAMP}))
    signal = getattr(state, field)
    assert signal.value == expected
    assert signal.status is SignalStatus.SUCCESS
    assert signal.oem_updated_at == ISO_DATETIME
    assert signal.known
    assert not state.is_empty
    # Webhook flat object, milliseconds.
    state = readers.webhook_signals(
        [flat_item(code, body, meta={"oemUpdatedAt": WEBHOOK_MS})], "data.signals"
    )
    signal = getattr(state, field)
    assert signal.value == expected
    assert signal.oem_updated_at == WEBHOOK_DATETIME
    # Failed: the stale body and the old timestamp are never used.
    error = {"type": "VEHICLE_STATE", "code": "ASLEEP", "title": "Asleep"}
    for status in ("ERROR", "UNAVAILABLE"):
        item = rest_item(code, body, status=status, error=error, meta={"oemUpdatedAt": ISO_STAMP})
        state = rest(item)
        signal = getattr(state, field)
        assert signal.value is None, status
        assert not signal.known
        assert signal.status is SignalStatus(status)
        assert signal.oem_updated_at is None
        assert (signal.error_type, signal.error_code) == ("VEHICLE_STATE", "ASLEEP")
        assert not state.is_empty


def test_rest_documented_payload() -> None:
    state = readers.rest_signals(load_fixture("signals_vw_id4.json"))
    assert state.battery_level.value == 57.0
    assert state.battery_level.oem_updated_at == ISO_DATETIME
    assert state.range.value == Distance(253.0, DistanceUnit.KILOMETERS)
    assert state.charging_status.value is ChargingStatus.NOT_CHARGING
    assert state.plugged_in.value is False
    assert state.plugged_in.known  # False is a value
    assert state.is_charging.value is False
    assert state.charge_limit.value == 80
    # The charge rate (km/h) is not power: ignored, even though it errored.
    assert state.charge_power.status is SignalStatus.ABSENT
    # No body, meta with only ingestedAt: unknown, with the reason.
    assert state.key_paired.status is SignalStatus.ERROR
    assert state.key_paired.value is None
    assert state.key_paired.error_type == "COMPATIBILITY"
    assert state.key_paired.error_code == "VEHICLE_NOT_CAPABLE"
    assert state.vin.status is SignalStatus.ABSENT


def test_rest_envelope_variants() -> None:
    # The empty store.
    empty = readers.rest_signals({"data": [], "meta": {"totalCount": 0}})
    assert empty.is_empty
    assert empty == VehicleState()
    # The code from the resource id.
    item = {"id": "tractionbattery-stateofcharge", "attributes": {"body": {"value": 12}}}
    assert readers.rest_signals({"data": [item]}).battery_level.value == 12.0
    # Unknown codes are ignored.
    assert rest(rest_item("odometer-traveleddistance", {"value": 1000, "unit": "km"})).is_empty
    # No status: success; no meta: no time.
    signal = rest(rest_item("charge-ischarging", {"value": True}, status=None)).is_charging
    assert (signal.status, signal.value, signal.oem_updated_at) == (
        SignalStatus.SUCCESS,
        True,
        None,
    )
    # Meta with only ingestedAt: known, no time.
    signal = rest(
        rest_item("charge-ischarging", {"value": True}, meta={"ingestedAt": ISO_STAMP})
    ).is_charging
    assert signal.known
    assert signal.oem_updated_at is None
    for body in ([], {"data": {}}, {"data": None}, {}):
        parse_error(lambda b=body: readers.rest_signals(b))


def test_signal_status_variants() -> None:
    assert rest(rest_item("charge-ischarging", {"value": True}, status="success")).is_charging.known
    # An unknown status is an error without a reason.
    weird = rest(rest_item("charge-ischarging", {"value": True}, status="PENDING")).is_charging
    assert (weird.status, weird.value, weird.error_code) == (SignalStatus.ERROR, None, None)
    # An error that is not an object is ignored.
    signal = rest(rest_item("charge-ischarging", status="ERROR", error="broken")).is_charging
    assert (signal.status, signal.error_type, signal.error_code) == (SignalStatus.ERROR, None, None)
    # A null code (PERMISSION errors have one).
    error = {"type": "PERMISSION", "code": None}
    signal = rest(rest_item("charge-ischarging", status="ERROR", error=error)).is_charging
    assert (signal.error_type, signal.error_code) == ("PERMISSION", None)


def test_rest_signal_unreadable_parts() -> None:
    """Each unreadable part costs only its own signal, which is reported with the reason."""
    good = rest_item("tractionbattery-stateofcharge", {"value": 57, "unit": "percent"})
    # Entries without a readable code: reported under a stand-in code.
    for item, field in [
        ("x", "data[1]"),
        ({"id": "charge-ischarging"}, "data[1].attributes"),
        ({"attributes": {}}, "data[1].attributes.code"),
    ]:
        state = readers.rest_signals({"data": [good, item]})
        assert state.battery_level.value == 57
        (problem,) = state.problems
        assert problem.code == readers.UNREADABLE_SIGNAL
        assert problem.reason.startswith(f"{field}: "), item
    # A readable value with an unreadable time: kept, without a time.
    for meta, field in ([], "meta"), ({"oemUpdatedAt": "soon"}, "meta.oemUpdatedAt"):
        state = rest(good, rest_item("charge-ischarging", {"value": True}, meta=meta))
        assert state.is_charging.value is True
        assert state.is_charging.oem_updated_at is None
        assert [(p.code, p.reason.split(":")[0]) for p in state.problems] == [
            ("charge-ischarging", field)
        ]
    # An unreadable status or body: the signal is unknown, with the reason.
    for item, field in [
        ({"attributes": {"code": "charge-ischarging", "status": "SUCCESS"}}, "status"),
        ({"attributes": {"code": "charge-ischarging", "status": {}}}, "status.value"),
        (rest_item("charge-ischarging", status="ERROR", error={"type": 3}), "status.error.type"),
        (
            rest_item("charge-ischarging", status="ERROR", error={"code": ["x"]}),
            "status.error.code",
        ),
        (rest_item("charge-ischarging"), "body"),
        (rest_item("charge-ischarging", {"value": "true"}), "body.value"),
    ]:
        state = rest(good, item)
        assert state.battery_level.value == 57
        assert invalid(state, "is_charging").startswith(f"{field}: "), item
        assert state.problems[0].code == "charge-ischarging"
    # Our own status markers are never taken from Smartcar.
    assert rest(rest_item("charge-ischarging", status="INVALID")).is_charging.status is (
        SignalStatus.ERROR
    )


def test_percent_bounds() -> None:
    for value in (0, 100, 57.5):
        item = rest_item("tractionbattery-stateofcharge", {"value": value, "unit": "percent"})
        assert rest(item).battery_level.value == value
    for value in (-1, 100.5):
        item = rest_item("tractionbattery-stateofcharge", {"value": value, "unit": "percent"})
        assert "is not a percentage" in invalid(rest(item), "battery_level")
    # An older integrations/webhooks/responses example: {"percentage": 75}.
    item = rest_item("tractionbattery-stateofcharge", {"percentage": 75})
    assert rest(item).battery_level.value == 75


def test_range_units() -> None:
    cases: list[tuple[str | None, DistanceUnit]] = [
        ("km", DistanceUnit.KILOMETERS),
        ("kilometers", DistanceUnit.KILOMETERS),
        ("kilometres", DistanceUnit.KILOMETERS),
        ("KM", DistanceUnit.KILOMETERS),
        ("mi", DistanceUnit.MILES),
        ("miles", DistanceUnit.MILES),
        ("Miles", DistanceUnit.MILES),
        (None, DistanceUnit.KILOMETERS),  # absent: metric, Smartcar's default
        ("DEFAULT", DistanceUnit.KILOMETERS),  # the enum signals/tractionbattery prints
    ]
    for unit, expected in cases:
        body: dict[str, Any] = {"value": 350} if unit is None else {"value": 350, "unit": unit}
        assert rest(rest_item("tractionbattery-range", body)).range.value == Distance(350, expected)
    for body, problem in (
        ({"value": 350, "unit": "furlongs"}, "unknown distance unit"),
        ({"value": 350, "unit": None}, "expected a string"),
        ({"value": "350", "unit": "km"}, "expected a number"),
    ):
        assert problem in invalid(rest(rest_item("tractionbattery-range", body)), "range"), body


def test_charging_status() -> None:
    for raw, expected in (
        ("CHARGING", ChargingStatus.CHARGING),
        ("NOT_CHARGING", ChargingStatus.NOT_CHARGING),
        ("FULLY_CHARGED", ChargingStatus.FULLY_CHARGED),
        ("fully_charged", ChargingStatus.FULLY_CHARGED),
    ):
        state = rest(rest_item("charge-detailedchargingstatus", {"value": raw}))
        assert state.charging_status.value is expected
    # A status Smartcar may add later is unknown, with the reason; the rest is used.
    state = rest(
        rest_item("charge-detailedchargingstatus", {"value": "DISCHARGING"}),
        rest_item("charge-ischarging", {"value": False}),
    )
    assert "unknown charging status 'DISCHARGING'" in invalid(state, "charging_status")
    assert state.is_charging.value is False
    for raw in (1, None):
        item = rest_item("charge-detailedchargingstatus", {"value": raw})
        assert invalid(rest(item), "charging_status")


def test_charge_limit() -> None:
    cases: list[tuple[dict[str, Any], int]] = [
        ({"values": [{"type": "GLOBAL", "limit": 80, "condition": None}], "activeLimit": 80}, 80),
        ({"values": [{"type": "global", "limit": 90}], "activeLimit": None}, 90),  # doc example
        ({"values": [{"type": "GLOBAL", "limit": 79.6}]}, 80),  # rounded
        # A location limit is not the global one, whatever comes first.
        (
            {
                "values": [
                    {"type": "LOCATION", "limit": 60, "condition": None},
                    {"type": "GLOBAL", "limit": 85},
                ],
                "activeLimit": 60,
            },
            85,
        ),
        # A GLOBAL entry with a condition does not count: activeLimit decides.
        (
            {
                "values": [{"type": "GLOBAL", "limit": 70, "condition": {"name": "Home"}}],
                "activeLimit": 75,
            },
            75,
        ),
        ({"values": [{"type": None, "limit": 70}], "activeLimit": 65.4}, 65),
        ({"values": [], "activeLimit": 90}, 90),
        ({"activeLimit": 55}, 55),
    ]
    for body, expected in cases:
        value = rest(rest_item("charge-chargelimits", body)).charge_limit.value
        assert value == expected, body
        assert isinstance(value, int)


def test_charge_limit_unknown() -> None:
    """No global entry and no active limit (signals/charge): the limit is unknown, no problem."""
    for body in (
        {"values": [], "activeLimit": None},
        {"values": [{"type": "LOCATION", "limit": 60, "condition": {"name": "Work"}}]},
        {
            "values": [
                {"type": "location", "limit": 60, "condition": {"name": "Home"}},
                {"type": "CONNECTOR", "limit": 70, "condition": {"connectorType": "J1772"}},
            ],
            "activeLimit": None,
        },
        {},
    ):
        state = rest(rest_item("charge-chargelimits", body))
        assert state.charge_limit.status is SignalStatus.SUCCESS, body
        assert state.charge_limit.value is None
        assert not state.charge_limit.known
        assert state.problems == ()


def test_charge_limit_rejects() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"values": {"GLOBAL": 80}}, "body.values"),
        ({"values": ["GLOBAL"]}, "body.values[0]"),
        ({"values": [{"type": 1}]}, "body.values[0].type"),
        ({"values": [{"type": "GLOBAL", "limit": "80"}]}, "body.values[0].limit"),
        ({"values": [], "activeLimit": "80"}, "body.activeLimit"),
    ]
    for body, field in cases:
        reason = invalid(rest(rest_item("charge-chargelimits", body)), "charge_limit")
        assert reason.startswith(f"{field}: "), body


def test_energy_added() -> None:
    """signals/charge's example is `{"unit": "kWh", "value": 25.5}`; Wh and no unit are read."""
    cases: list[tuple[dict[str, Any], float]] = [
        ({"unit": "kWh", "value": 25.5}, 25.5),
        ({"value": 3}, 3.0),
        ({"unit": "Wh", "value": 1500}, 1.5),
    ]
    for body, expected in cases:
        state = rest(rest_item("charge-energyadded", body))
        assert state.energy_added.value == pytest.approx(expected), body
    assert "unknown energy unit" in invalid(
        rest(rest_item("charge-energyadded", {"unit": "J", "value": 1})), "energy_added"
    )
    assert "negative energy" in invalid(
        rest(rest_item("charge-energyadded", {"value": -1})), "energy_added"
    )


def test_power() -> None:
    cases: list[tuple[str, dict[str, Any], float]] = [
        ("charge-power", {"value": 11, "unit": "kW"}, 11.0),
        ("charge-power", {"value": 11, "unit": "kilowatts"}, 11.0),
        ("charge-power", {"value": 7400, "unit": "W"}, 7.4),
        ("charge-power", {"value": 7400, "unit": "watts"}, 7.4),
        ("charge-power", {"value": 3.7}, 3.7),  # absent unit: kW
        ("charge-chargerate", {"value": 7400, "unit": "watts"}, 7.4),
        ("charge-wattage", {"value": 11000, "unit": "watts"}, 11.0),
        ("charge-wattage", {"value": 250}, 0.25),  # signals/charge: "measured in watts"
        ("charge-chargerate", {"value": 7.4, "unit": "KW"}, 7.4),
    ]
    for code, body, expected in cases:
        assert rest(rest_item(code, body)).charge_power.value == pytest.approx(expected), body
    state = rest(rest_item("charge-power", {"value": 11, "unit": "hp"}))
    assert "unknown power unit" in invalid(state, "charge_power")
    # A charge rate in a speed (or without a unit) says how fast range grows: not power.
    for body in ({"value": 30, "unit": "km/h"}, {"value": 30, "unit": "mph"}, {"value": 30}):
        state = rest(rest_item("charge-chargerate", body))
        assert state.charge_power.status is SignalStatus.ABSENT, body
    # Without a body, an errored charge rate still reports its reason.
    item = rest_item("charge-chargerate", status="ERROR", error={"code": "NOT_CHARGING"})
    assert rest(item).charge_power.error_code == "NOT_CHARGING"
    # A kW charge rate that errored: stale body ignored.
    item = rest_item("charge-chargerate", {"value": 53, "unit": "kW"}, status="ERROR")
    assert rest(item).charge_power.value is None


def test_power_signals_prefer_a_known_value() -> None:
    # Both codes feed charge_power: the first known one wins; an unknown never displaces it.
    errored = rest_item("charge-chargerate", {"value": 1, "unit": "kW"}, status="ERROR")
    known = rest_item("charge-power", {"value": 11, "unit": "kW"})
    other = rest_item("charge-chargerate", {"value": 22, "unit": "kW"})
    assert rest(errored, known).charge_power.value == 11.0
    assert rest(known, errored).charge_power.value == 11.0
    assert rest(known, other).charge_power.value == 11.0
    assert rest(errored).charge_power.status is SignalStatus.ERROR


def test_capacity_vin_location() -> None:
    for body, expected in (
        ({"capacity": 77}, 77.0),
        ({"value": 82.5}, 82.5),
        ({"capacity": {"nominal": 75}}, 75.0),
        ({"capacity": {"value": 64}}, 64.0),
    ):
        state = rest(rest_item("tractionbattery-nominalcapacity", body))
        assert state.battery_capacity.value == expected, body
    for body in ({}, {"capacity": {}}, {"capacity": "77"}):
        state = rest(rest_item("tractionbattery-nominalcapacity", body))
        assert invalid(state, "battery_capacity").startswith("body.capacity"), body
    assert invalid(rest(rest_item("vehicleidentification-vin", {"value": ""})), "vin")
    corner = {"latitude": -90, "longitude": 180}
    assert rest(rest_item("location-preciselocation", corner)).location.value == Location(-90, 180)
    for body in (
        {"latitude": 91, "longitude": 0},
        {"latitude": -91, "longitude": 0},
        {"latitude": 0, "longitude": 180.5},
        {"latitude": 0, "longitude": -181},
    ):
        state = rest(rest_item("location-preciselocation", body))
        assert invalid(state, "location") == "body: coordinates out of range", body
    missing = rest(rest_item("location-preciselocation", {"latitude": 1}))
    assert invalid(missing, "location").startswith("body.longitude")


# --- webhook signals ---------------------------------------------------------------------------


def test_webhook_signals_documented_fragments() -> None:
    signals = load_fixture("webhook_vehicle_state_vw_id4_fragments.json")["data"]["signals"]
    state = readers.webhook_signals(signals, "data.signals")
    # No status: success. GLOBAL with condition null.
    assert state.charge_limit.value == 80
    assert state.charge_limit.oem_updated_at == datetime(2025, 9, 18, 23, 30, 32, tzinfo=UTC)
    # Errored, without body and meta.
    assert state.range.status is SignalStatus.ERROR
    assert state.range.value is None
    assert (state.range.error_type, state.range.error_code) == (
        "COMPATIBILITY",
        "VEHICLE_NOT_CAPABLE",
    )
    # meta {} and a zero time: known, time unknown.
    assert state.is_charging.value is False
    assert state.is_charging.oem_updated_at is None
    assert state.vin.value == "WVGZZZE2ZMP000001"
    assert state.vin.oem_updated_at is None


def test_webhook_signals_unreadable_parts() -> None:
    """An unreadable entry or body costs only itself; the delivery's other signals are used."""
    good = flat_item("tractionbattery-stateofcharge", {"value": 57, "unit": "percent"})
    for signals, code, field in [
        ({}, readers.UNREADABLE_SIGNAL, "data.signals"),
        ([good, "x"], readers.UNREADABLE_SIGNAL, "data.signals[1]"),
        ([good, {"name": "IsCharging"}], readers.UNREADABLE_SIGNAL, "data.signals[1].code"),
        ([good, flat_item("charge-ischarging")], "charge-ischarging", "body"),
    ]:
        state = readers.webhook_signals(signals, "data.signals")
        (problem,) = state.problems
        assert (problem.code, problem.reason.split(": ")[0]) == (code, field), signals
        assert not state.is_empty
        if isinstance(signals, list):
            assert state.battery_level.value == 57
    # A code the client has never heard of is not used, and not a problem.
    state = readers.webhook_signals(
        [good, flat_item("charge-somethingnew", ["any", "shape"])], "data.signals"
    )
    assert state.problems == ()
    assert state.battery_level.value == 57


# --- commands -------------------------------------------------------------------


def test_command_status() -> None:
    assert parse.command_status(load_fixture("command_set_limit_200.json")) == (
        "exec_9876543210",
        "SUCCESS",
    )
    body = {"data": {"attributes": {"status": {"value": "failure"}}}}
    assert parse.command_status(body) == (None, "FAILURE")
    cases: list[tuple[object, str]] = [
        (None, "body"),
        ({}, "data"),
        ({"data": {}}, "data.attributes"),
        ({"data": {"attributes": {}}}, "data.attributes.status"),
        ({"data": {"attributes": {"status": {}}}}, "data.attributes.status.value"),
        ({"data": {"id": 5, "attributes": {"status": {"value": "SUCCESS"}}}}, "data.id"),
    ]
    for body, field in cases:
        assert parse_error(lambda b=body: parse.command_status(b)).field == field, body


def test_parse_error_fields() -> None:
    error = SmartcarParseError("data[0].id", "expected a string, got int")
    assert (error.field, error.problem) == ("data[0].id", "expected a string, got int")
