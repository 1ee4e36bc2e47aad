"""Smartcar's endpoints and the development override (`api/urls.py`)."""

from __future__ import annotations

import pytest

from custom_components.flexcharging.api.urls import (
    ORIGIN_OVERRIDE_VARIABLE,
    TESLA_VIRTUAL_KEY_URL,
    SmartcarUrls,
)

PRODUCTION = SmartcarUrls(
    connect_authorize="https://connect.smartcar.com/oauth/authorize",
    token_endpoint="https://iam.smartcar.com/oauth2/token",
    vehicle_api="https://vehicle.api.smartcar.com/v3",
    management_api="https://management.api.smartcar.com/v3",
    virtual_key="https://www.tesla.com/_ak/smartcar.com",
)


def test_production_matches_the_documented_hosts() -> None:
    assert SmartcarUrls.production() == PRODUCTION
    assert TESLA_VIRTUAL_KEY_URL == "https://www.tesla.com/_ak/smartcar.com"


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8765", "http://127.0.0.1:8765/"])
def test_for_origin(origin: str) -> None:
    assert SmartcarUrls.for_origin(origin) == SmartcarUrls(
        connect_authorize="http://127.0.0.1:8765/oauth/authorize",
        token_endpoint="http://127.0.0.1:8765/oauth2/token",
        vehicle_api="http://127.0.0.1:8765/v3",
        management_api="http://127.0.0.1:8765/v3",
        virtual_key="http://127.0.0.1:8765/_ak/smartcar.com",
    )


def test_from_environment_mapping() -> None:
    assert ORIGIN_OVERRIDE_VARIABLE == "FLEXCHARGING_SMARTCAR_ORIGIN"
    emulated = SmartcarUrls.from_environment({ORIGIN_OVERRIDE_VARIABLE: "http://emulator:9000"})
    assert emulated.vehicle_api == "http://emulator:9000/v3"
    assert SmartcarUrls.from_environment({}) == PRODUCTION
    assert SmartcarUrls.from_environment({ORIGIN_OVERRIDE_VARIABLE: "  "}) == PRODUCTION


def test_from_environment_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ORIGIN_OVERRIDE_VARIABLE, raising=False)
    assert SmartcarUrls.from_environment() == PRODUCTION
    monkeypatch.setenv(ORIGIN_OVERRIDE_VARIABLE, "http://127.0.0.1:1234/")
    assert SmartcarUrls.from_environment().token_endpoint == "http://127.0.0.1:1234/oauth2/token"


def test_virtual_key_for() -> None:
    urls = SmartcarUrls.production()
    assert urls.virtual_key_for() == TESLA_VIRTUAL_KEY_URL
    assert urls.virtual_key_for(None) == TESLA_VIRTUAL_KEY_URL
    assert urls.virtual_key_for("") == TESLA_VIRTUAL_KEY_URL
    assert (
        urls.virtual_key_for("5YJ3E1EA7KF000001")
        == f"{TESLA_VIRTUAL_KEY_URL}?vin=5YJ3E1EA7KF000001"
    )
    # Anything unusual is percent-encoded, including the separators.
    assert urls.virtual_key_for("A B&c=/?") == f"{TESLA_VIRTUAL_KEY_URL}?vin=A%20B%26c%3D%2F%3F"
    emulated = SmartcarUrls.for_origin("http://127.0.0.1:8765")
    assert emulated.virtual_key_for("VIN1") == "http://127.0.0.1:8765/_ak/smartcar.com?vin=VIN1"


def test_frozen() -> None:
    with pytest.raises(AttributeError):
        PRODUCTION.vehicle_api = "x"  # type: ignore[misc]
