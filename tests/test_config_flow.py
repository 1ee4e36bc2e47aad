"""The config flow, driven as a user does, against the Smartcar emulator over real HTTP.

The browser is an aiohttp session: it opens Smartcar Connect's consent page, posts the decision
form, follows the redirect back to Home Assistant's OAuth callback, and opens the Tesla app's
virtual-key page from the link the flow shows. Smartcar's webhook deliveries (VERIFY, vehicle
state, errors) reach the flow's temporary webhook on Home Assistant's test server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from html.parser import HTMLParser
import json
import sys
import types
from typing import Any
from unittest.mock import patch

import aiohttp
from aiohttp.test_utils import TestClient
from homeassistant import config_entries
from homeassistant.components import webhook
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HassJobType, HomeAssistant, callback, get_hassjob_callable_job_type
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.dispatcher import DATA_DISPATCHER, async_dispatcher_connect
from homeassistant.setup import async_setup_component
import jwt
from multidict import CIMultiDict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

import custom_components.flexcharging as integration
from custom_components.flexcharging import config_flow, const, pairing
from custom_components.flexcharging.api import (
    ORIGIN_OVERRIDE_VARIABLE,
    TESLA_VIRTUAL_KEY_URL,
    KeyState,
    SmartcarUrls,
)
from custom_components.flexcharging.application_credentials import redirect_uri
from custom_components.flexcharging.const import (
    CONF_APPLICATION_ID,
    CONF_CLOUDHOOK_URL,
    CONF_MANAGEMENT_TOKEN,
    CONF_PRICE_SOURCE,
    CONF_READ_LOCATION,
    CONF_REDIRECT_URI,
    CONF_REQUEST_BUDGET,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_USER_ID,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOK_VERIFIED,
    DEFAULT_PLAN_ALLOWANCE,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
    PRICE_SOURCE_NONE,
    REQUIRED_SCOPES,
    SMARTCAR_DASHBOARD_URL,
)
from custom_components.flexcharging.pairing import KeyPairingFlow
from custom_components.flexcharging.push import PushReceiver, public_https
from emulator import (
    DEFAULT_APP,
    DEFAULT_USER_ID,
    ID4_ID,
    MODEL_3_ID,
    MODEL_Y_ID,
    sign,
)
from tests.common import (
    CREDENTIAL_ID,
    HA_WEBHOOK_ID,
    SMARTCAR_VARIANTS,
    SMARTCAR_WEBHOOK_ID,
    Emulator,
    entry_data,
)

REDIRECT_URI = "https://example.com/api/flexcharging/connect"
# The real setup, kept before `no_setup` replaces it (for the tests that run the created entry).
REAL_SETUP = (integration.async_setup_entry, integration.async_unload_entry)
HA_REDIRECT_URI = "https://example.com/auth/external/callback"
MY_REDIRECT_URI = "https://my.home-assistant.io/redirect/oauth"
LOCAL_FRONTEND = "http://homeassistant.local:8123"
THIRD_USER_ID = "3c1e0b2a-7d4f-4a6b-8c9d-0e1f2a3b4c5d"
AMT = DEFAULT_APP.amt
OTHER_USER_ID = "9d2f7a61-1c3b-4e8a-9f00-5b6c7d8e9f01"
MODEL_3_VIN = "5YJ3E1EA7PF000001"


class PageForms(HTMLParser):
    """The forms of an HTML page: each form's action and its <input> elements."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[dict[str, str]]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), []))
        elif tag == "input" and self.forms:
            self.forms[-1][1].append(values)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fast_key_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key checks give up after 0.3 s, re-reading every 0.05 s."""
    monkeypatch.setattr(KeyPairingFlow, "key_check_delays", (0.05,))
    monkeypatch.setattr(KeyPairingFlow, "key_check_timeout", timedelta(seconds=0.3))


def slow_key_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key checks that only a webhook delivery can end within a test's time."""
    monkeypatch.setattr(KeyPairingFlow, "key_check_delays", (60.0,))
    monkeypatch.setattr(KeyPairingFlow, "key_check_timeout", timedelta(seconds=120))


@pytest.fixture
def no_setup() -> Iterator[None]:
    """Created and updated entries do not start the coordinator."""
    with (
        patch("custom_components.flexcharging.async_setup_entry", return_value=True),
        patch("custom_components.flexcharging.async_unload_entry", return_value=True),
    ):
        yield


@pytest.fixture
def smartcar(emulator: Emulator) -> Emulator:
    """The emulator, with our and Home Assistant's redirect URIs registered in the application."""
    emulator.state.update_app({"add_redirect_uris": [REDIRECT_URI, HA_REDIRECT_URI]})
    return emulator


@pytest.fixture
def ha_components() -> tuple[str, ...]:
    """Further components to set up in Home Assistant (tests parametrize it, e.g. `my`)."""
    return ()


@pytest.fixture
async def ha_client(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    ha_components: tuple[str, ...],
) -> TestClient:
    """Home Assistant's HTTP server, reachable from the emulator, and its external URL."""
    # Everything the integration depends on, before the test server freezes the router.
    base = ("http", "webhook", "repairs", "application_credentials", DOMAIN)
    if "my" in ha_components:
        # `my` registers a panel with `frontend`, whose setup serves the UI's files (a
        # development requirement, not installed on a fresh machine): marked as loaded, the
        # panel registration works without them.
        hass.config.components.add("frontend")
    for component in (*base, *ha_components):
        assert await async_setup_component(hass, component, {})
    client = await hass_client_no_auth()
    await async_process_ha_core_config(hass, {"external_url": base_url(client)})
    return client


@pytest.fixture
def http_frontend(current_request_with_host: None, current_request: Any) -> None:
    """The user opened Home Assistant at an http:// address (Smartcar accepts none but localhost)."""
    request = current_request.get.return_value
    headers = CIMultiDict(request.headers)
    headers[config_entry_oauth2_flow.HEADER_FRONTEND_BASE] = LOCAL_FRONTEND
    current_request.get.return_value = request.clone(headers=headers)


@pytest.fixture
async def browser(smartcar: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    """The user's browser."""
    async with aiohttp.ClientSession() as session:
        yield session


async def deliveries_done(smartcar: Emulator) -> None:
    """Wait until Smartcar's webhook deliveries (retries included) are done.

    Not EmulatorState.wait_for_deliveries: its drain() spins without yielding when a delivery
    task is done but not yet discarded (gather() of done tasks completes eagerly), which hangs
    the event loop now and then.
    """
    async with asyncio.timeout(10):
        while smartcar.state.dispatcher.pending:  # noqa: ASYNC110 (no event to wait on)
            await asyncio.sleep(0.005)


def base_url(client: TestClient) -> str:
    return str(client.make_url("/")).rstrip("/")


# --- the user --------------------------------------------------------------------------------


@dataclass
class User:
    """Drives the config flow, Smartcar Connect and the Tesla app as a person does."""

    hass: HomeAssistant
    smartcar: Emulator
    client: TestClient
    browser: aiohttp.ClientSession
    result: Any = None

    @property
    def flow_id(self) -> str:
        return str(self.result["flow_id"])

    @property
    def step(self) -> str | None:
        return self.result.get("step_id")

    @property
    def placeholders(self) -> dict[str, str]:
        return dict(self.result["description_placeholders"] or {})

    async def start(self) -> Any:
        """Add FlexCharging and choose the Smartcar way in."""
        self.result = await self.hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}
        )
        assert self.result["type"] is FlowResultType.MENU
        assert self.result["menu_options"] == ["smartcar", "vehicle", "shared_charger"]
        return await self.configure({"next_step_id": "smartcar"})

    async def configure(self, user_input: dict[str, Any] | None = None) -> Any:
        self.result = await self.hass.config_entries.flow.async_configure(self.flow_id, user_input)
        return self.result

    async def application(self, **overrides: Any) -> Any:
        assert self.step == "application", self.result
        return await self.configure(
            {
                CONF_APPLICATION_ID: DEFAULT_APP.application_id,
                CONF_MANAGEMENT_TOKEN: AMT,
                CONF_READ_LOCATION: False,
                **overrides,
            }
        )

    async def open_connect(
        self,
        *,
        decision: str = "approve",
        vehicles: list[str] | None = None,
        decline: tuple[str, ...] = (),
    ) -> URL:
        """Open the Connect URL, tick vehicles, press Approve or Deny; return the redirect."""
        if self.step == "connect":  # the link in the step (Home Assistant's callback)
            url = self.placeholders["connect_url"]
        else:
            assert self.result["type"] is FlowResultType.EXTERNAL_STEP, self.result
            url = self.result["url"]
        async with self.browser.get(url) as response:
            assert response.status == 200
            page = await response.text()
        ((action, inputs),) = PageForms(page).forms
        assert action == "/oauth/authorize/decision"
        hidden = {i["name"]: i["value"] for i in inputs if i["type"] == "hidden"}
        form = aiohttp.FormData(list(hidden.items()))
        boxes = [i for i in inputs if i["type"] == "checkbox"]
        for box in boxes:
            # Untick the declined permissions; a required one is disabled (never posted).
            ticked = "disabled" not in box and box["value"] not in decline
            if box["name"] == "permission" and ticked:
                form.add_field("permission", box["value"])
        offered = [i["value"] for i in boxes if i["name"] == "vehicle"]
        for vehicle_id in offered if vehicles is None else vehicles:
            assert vehicle_id in offered
            form.add_field("vehicle", vehicle_id)
        form.add_field("decision", decision)
        async with self.browser.post(
            f"{self.smartcar.origin}/oauth/authorize/decision", data=form, allow_redirects=False
        ) as response:
            assert response.status == 302, await response.text()
            return URL(response.headers["Location"])

    async def connect(self, **kwargs: Any) -> Any:
        """Go through Connect and back to Home Assistant; return the next step."""
        location = await self.open_connect(**kwargs)
        await self.back_to_home_assistant(location)
        # Through Home Assistant's callback the user comes back and presses Submit.
        return await self.configure({} if self.step == "connect" else None)

    async def back_to_home_assistant(self, location: URL) -> None:
        """Follow Connect's redirect (to our view, or to Home Assistant's OAuth callback)."""
        if str(location).startswith(MY_REDIRECT_URI):
            # My Home Assistant forwards the OAuth parameters it knows to the instance.
            known = {k: v for k, v in location.query.items() if k in ("code", "state", "error")}
            location = URL(HA_REDIRECT_URI).with_query(known)
        assert str(location).startswith((REDIRECT_URI, HA_REDIRECT_URI)), location
        response = await self.client.get(location.path_qs)
        assert response.status == 200
        if location.path == URL(REDIRECT_URI).path:  # our view's page, in the user's language
            assert "<p>Smartcar Connect is done. You can close this window.</p>" in (
                await response.text()
            )
        if location.path == URL(HA_REDIRECT_URI).path and not {"code", "error"} & set(
            location.query
        ):
            # Home Assistant's callback cannot take the documented redirect (no `code`).
            assert await response.text() == "Missing code or error parameter"
        expected = ("connect",) if self.step == "connect" else ("creation", "authorize_rejected")
        assert self.hass.config_entries.flow.async_get(self.flow_id)["step_id"] in expected

    @property
    def webhook_url(self) -> str:
        assert self.step == "webhook", self.result
        return self.placeholders["webhook_url"]

    @property
    def ha_webhook_id(self) -> str:
        return self.webhook_url.rsplit("/", 1)[-1]

    async def create_smartcar_webhook(self, callback_uri: str | None = None, **kwargs: Any) -> str:
        """Create the webhook in the Smartcar dashboard (VERIFY is sent to Home Assistant)."""
        hook = await self.smartcar.state.create_webhook(callback_uri or self.webhook_url, **kwargs)
        return hook.id

    async def approve_in_tesla_app(self, link: str) -> str:
        """Open the virtual-key link and approve the request; return the car's VIN."""
        async with self.browser.get(link) as response:
            assert response.status == 200
            page = await response.text()
        forms = {
            inputs[0]["value"]: action
            for action, inputs in PageForms(page).forms
            if action.endswith("/approve")
        }
        vin = URL(link).query.get("vin")
        if vin is None:
            assert len(forms) == 1, forms
            vin = next(iter(forms))
        async with self.browser.post(
            f"{self.smartcar.origin}{forms[vin]}", data={"vin": vin}
        ) as response:
            assert response.status == 200
            assert "Key added" in await response.text()
        return vin

    async def wait_for_check(self) -> str:
        """Let the running key check finish; return the step it leads to."""
        flow = self.hass.config_entries.flow._progress[self.flow_id]
        async with asyncio.timeout(10):
            # Waited for first: block_till_done skips a task its own timeout is interrupting.
            if (task := flow._pairing_task) is not None:
                await asyncio.wait({task})
            await self.hass.async_block_till_done()
        return str(self.hass.config_entries.flow.async_get(self.flow_id)["step_id"])

    def pairing_task(self) -> asyncio.Task[Any]:
        flow = self.hass.config_entries.flow._progress[self.flow_id]
        task = flow._pairing_task
        assert task is not None
        return task

    async def settle(self) -> None:
        """Let Smartcar's background deliveries and Home Assistant's tasks finish."""
        await deliveries_done(self.smartcar)
        await self.hass.async_block_till_done()


@pytest.fixture
async def user(
    hass: HomeAssistant,
    *,
    smartcar: Emulator,
    ha_client: TestClient,
    browser: aiohttp.ClientSession,
    credentials: None,
    current_request_with_host: None,
    no_setup: None,
) -> AsyncIterator[User]:
    """A user with Smartcar application credentials stored, in the frontend."""
    user = User(hass, smartcar, ha_client, browser)
    yield user
    await close_dialogs(user)


async def close_dialogs(user: User) -> None:
    """Close any flow still open (stopping its key check) and let deliveries finish."""
    for flow in user.hass.config_entries.flow.async_progress_by_handler(DOMAIN):
        user.hass.config_entries.flow.async_abort(flow["flow_id"])
    await user.settle()


def webhook_registered(hass: HomeAssistant, webhook_id: str) -> bool:
    return webhook_id in hass.data.get("webhook", {})


def field(result: Any, name: str) -> Any:
    """The schema marker of a form field."""
    return next(key for key in result["data_schema"].schema if str(key) == name)


def selector(result: Any, name: str) -> Any:
    return result["data_schema"].schema[field(result, name)]


def default(result: Any, name: str) -> Any:
    return field(result, name).default()


def assert_pair_key_form(result: Any, *, vehicle: str, link: str, position: str = "") -> None:
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pair_key"
    qr = selector(result, "qr_code")
    assert qr.config["data"] == link
    assert selector(result, "next_action").config["options"] == ["check", "skip"]
    placeholders = result["description_placeholders"]
    assert placeholders["vehicle"] == vehicle
    assert placeholders["position"] == position
    assert placeholders["virtual_key_link"] == f"[{link}]({link})"
    assert placeholders["virtual_key_url"] == link


async def user_to_webhook_step(user: User, **connect: Any) -> None:
    await user.start()
    await user.application()
    await user.connect(**connect)
    assert user.step == "webhook", user.result


async def user_to_vehicles_step(user: User, **connect: Any) -> None:
    """Connect, create the Smartcar webhook (verified by Home Assistant) and subscribe."""
    await user_to_webhook_step(user, **connect)
    smartcar_webhook_id = await user.create_smartcar_webhook()
    await user.configure({CONF_SMARTCAR_WEBHOOK_ID: smartcar_webhook_id})
    assert user.step == "vehicles", user.result
    # Smartcar's first deliveries after subscribing reach the flow's webhook before any check
    # starts (a delivery during a check would hit the woken.set bug, see below).
    await deliveries_done(user.smartcar)


# --- the whole flow --------------------------------------------------------------------------


async def test_one_tesla(hass: HomeAssistant, user: User) -> None:
    """Model 3 (no key yet) and ID.4: Connect, webhook, the Model 3's key, entry."""
    origin = user.smartcar.origin
    state = user.smartcar.state

    result = await user.start()
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "application"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {
        "dashboard_url": SMARTCAR_DASHBOARD_URL,
        "redirect_uri": REDIRECT_URI,
        "client_id": DEFAULT_APP.client_id,
    }
    assert default(result, CONF_APPLICATION_ID) == ""
    assert default(result, CONF_READ_LOCATION) is False
    assert default(result, CONF_REQUEST_BUDGET) == str(DEFAULT_PLAN_ALLOWANCE)

    # The Application ID is accepted in upper case and with spaces around it.
    result = await user.application(
        application_id=f" {DEFAULT_APP.application_id.upper()} ",
        management_token=f" {AMT} ",
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    url = URL(result["url"])
    assert str(url.with_query(None)) == f"{origin}/oauth/authorize"
    assert url.query["client_id"] == DEFAULT_APP.application_id
    assert url.query["scope"].split() == [
        "read_vehicle_info",
        "read_vin",
        "read_battery",
        "required:read_charge",
        "required:control_charge",
    ]
    assert url.query["mode"] == "live"
    assert url.query["response_type"] == "code"
    assert url.query["redirect_uri"] == REDIRECT_URI
    flow_state = jwt.decode(url.query["state"], options={"verify_signature": False})
    # Home Assistant's signed state; Connect returns to our view named in `redirect_uri`.
    assert flow_state == {"flow_id": user.flow_id, "redirect_uri": HA_REDIRECT_URI}

    location = await user.open_connect(vehicles=[MODEL_3_ID, ID4_ID])
    assert location.query["user_id"] == DEFAULT_USER_ID
    assert location.query["state"] == url.query["state"]
    assert "code" not in location.query  # the documented shape: `user_id` and `state` only
    await user.back_to_home_assistant(location)
    result = await user.configure()

    # The webhook: Home Assistant's URL, Smartcar verifies it, the vehicles are subscribed.
    # The test server's URL is http on 127.0.0.1: Smartcar would not deliver there, and the
    # step says so (without stopping the user).
    assert result["step_id"] == "webhook"
    assert result["errors"] == {"base": "webhook_url_not_public"}
    assert default(result, CONF_SMARTCAR_WEBHOOK_ID) == ""
    assert result["description_placeholders"]["reachability"] == "your own URL"
    ha_webhook_id = user.ha_webhook_id
    assert user.webhook_url == f"{base_url(user.client)}/api/webhook/{ha_webhook_id}"
    assert webhook_registered(hass, ha_webhook_id)
    smartcar_webhook_id = await user.create_smartcar_webhook()
    assert state.webhooks[smartcar_webhook_id].verified
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: f" {smartcar_webhook_id} "})
    assert {(s.webhook_id, s.user_id, s.vehicle_id) for s in state.subscriptions.values()} == {
        (smartcar_webhook_id, DEFAULT_USER_ID, MODEL_3_ID),
        (smartcar_webhook_id, DEFAULT_USER_ID, ID4_ID),
    }

    assert result["step_id"] == "vehicles"
    assert result["description_placeholders"]["count"] == "2"
    assert sorted(result["description_placeholders"]["vehicles"].splitlines()) == [
        "- **2023 Tesla Model 3** (VIN •••••••••••000001): 🔑",
        "- **2023 Volkswagen ID.4** (VIN •••••••••••000004): ➖",
    ]

    result = await user.configure({})
    link = f"{origin}/_ak/smartcar.com"
    assert_pair_key_form(result, vehicle="2023 Tesla Model 3", link=link)
    assert result["errors"] is None

    # The user approves on the phone, then presses "check now": the car reports the key.
    await user.settle()  # Smartcar's first deliveries after subscribing are in
    assert await user.approve_in_tesla_app(link) == MODEL_3_VIN
    assert state.vehicles[MODEL_3_ID].key_paired
    await user.settle()  # the approval's webhooks are in too
    result = await user.configure({"next_action": "check"})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["step_id"] == "verify_key"
    assert result["progress_action"] == "wait_for_key"
    assert result["description_placeholders"] == {"vehicle": "2023 Tesla Model 3"}
    assert await user.wait_for_check() == "key_paired"

    result = await user.configure()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "FlexCharging"
    entry = result["result"]
    assert entry.unique_id == DEFAULT_USER_ID
    assert entry.data == {
        CONF_APPLICATION_ID: DEFAULT_APP.application_id,
        CONF_MANAGEMENT_TOKEN: AMT,
        CONF_READ_LOCATION: False,
        "auth_implementation": CREDENTIAL_ID,
        CONF_USER_ID: DEFAULT_USER_ID,
        CONF_WEBHOOK_ID: ha_webhook_id,
        CONF_CLOUDHOOK_URL: None,
        CONF_SMARTCAR_WEBHOOK_ID: smartcar_webhook_id,
        CONF_WEBHOOK_VERIFIED: True,  # Smartcar's VERIFY was answered in the flow
        CONF_REDIRECT_URI: REDIRECT_URI,
    }
    # The plan's allowance asked in the application step (100 unless changed).
    assert entry.options == {CONF_REQUEST_BUDGET: DEFAULT_PLAN_ALLOWANCE}
    assert sorted(result["description_placeholders"]["vehicles"].splitlines()) == [
        "- **2023 Tesla Model 3**: ✅",
        "- **2023 Volkswagen ID.4**: ➖",
    ]
    # The entry registers the webhook itself when it sets up; the flow's is gone.
    assert not webhook_registered(hass, ha_webhook_id)
    await user.settle()


async def test_three_teslas_need_a_key(hass: HomeAssistant, user: User) -> None:
    """Three Teslas without the key: numbered steps, per-VIN links; pair, skip, pair."""
    state = user.smartcar.state
    origin = user.smartcar.origin
    keyless = {"make": "TESLA", "key_required": True, "key_paired": False}
    owner = state.add_user(
        user_id=OTHER_USER_ID,
        name="Three Teslas",
        vehicles=[
            {**keyless, "model": "Model 3", "year": 2024, "vin": "5YJ3E1EA0RF000011"},
            {**keyless, "model": "Model Y", "year": 2024, "vin": "7SAYGDEE0RF000012"},
            {**keyless, "model": "Cybertruck", "year": 2025, "vin": "7G2CEHED0SA000013"},
        ],
    )
    state.update_app({"connect_user_id": owner.id})
    await user_to_vehicles_step(user)
    assert user.placeholders["count"] == "3"
    assert user.placeholders["vehicles"].count("🔑") == 3
    names = {
        vehicle.vin: f"{vehicle.year} Tesla {vehicle.model}"
        for vehicle in state.vehicles.values()
        if vehicle.user_id == owner.id
    }

    seen: list[str] = []
    result = await user.configure({})
    for position in ("(1/3)", "(2/3)", "(3/3)"):
        vin = URL(result["description_placeholders"]["virtual_key_url"]).query["vin"]
        seen.append(vin)
        link = f"{origin}/_ak/smartcar.com?vin={vin}"
        assert_pair_key_form(result, vehicle=names[vin], link=link, position=position)
        if position == "(2/3)":
            result = await user.configure({"next_action": "skip"})
            continue
        # The car reports the key before the user even presses "check now".
        assert await user.approve_in_tesla_app(link) == vin
        await user.settle()
        result = await user.configure({"next_action": "check"})
        assert result["type"] is FlowResultType.SHOW_PROGRESS
        assert await user.wait_for_check() == "key_paired"
        result = await user.configure()
    assert sorted(seen) == sorted(names)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == OTHER_USER_ID
    summary = dict(
        line.removeprefix("- **").split("**: ")
        for line in result["description_placeholders"]["vehicles"].splitlines()
    )
    assert summary == {
        names[seen[0]]: "✅",
        names[seen[1]]: "⏭️",
        names[seen[2]]: "✅",
    }
    await user.settle()


async def test_mixed_fleet_skip_the_keyless_tesla(hass: HomeAssistant, user: User) -> None:
    """The default fleet, with location: only the Model 3 needs pairing; it is skipped."""
    await user.start()
    result = await user.application(read_location=True)
    scopes = URL(result["url"]).query["scope"].split()
    assert scopes[-1] == "read_location"  # optional, like the other read permissions
    await user.connect()
    smartcar_webhook_id = await user.create_smartcar_webhook()
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: smartcar_webhook_id})
    assert result["step_id"] == "vehicles"
    assert result["description_placeholders"]["count"] == "4"
    assert sorted(result["description_placeholders"]["vehicles"].splitlines()) == [
        "- **2019 Tesla Model S** (VIN •••••••••••000003): ➖",
        "- **2023 Tesla Model 3** (VIN •••••••••••000001): 🔑",
        "- **2023 Volkswagen ID.4** (VIN •••••••••••000004): ➖",
        "- **2024 Tesla Model Y** (VIN •••••••••••000002): ✅",
    ]
    assert len(user.smartcar.state.subscriptions) == 4

    # Two Teslas on the account need the key (the Model Y has it): the link names the car.
    result = await user.configure({})
    link = f"{user.smartcar.origin}/_ak/smartcar.com?vin={MODEL_3_VIN}"
    assert result["description_placeholders"]["virtual_key_url"] == link
    assert selector(result, "qr_code").config["data"] == link
    assert result["description_placeholders"]["vehicle"] == "2023 Tesla Model 3"

    result = await user.configure({"next_action": "skip"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_READ_LOCATION] is True
    assert sorted(result["description_placeholders"]["vehicles"].splitlines()) == [
        "- **2019 Tesla Model S**: ➖",
        "- **2023 Tesla Model 3**: ⏭️",
        "- **2023 Volkswagen ID.4**: ➖",
        "- **2024 Tesla Model Y**: ✅",
    ]
    connections = user.smartcar.state.connections.values()
    granted = sorted(s.removeprefix("required:") for s in scopes)
    assert {tuple(c.permissions) for c in connections} == {tuple(granted)}
    await user.settle()


@pytest.mark.parametrize("key_signal", ["error", "false", "true"])
async def test_smartcar_decides_whatever_the_key_signal_says(
    hass: HomeAssistant, user: User, key_signal: str
) -> None:
    """The key signal of a key-less Tesla is a hint (true may be a phone key); Smartcar decides.

    The Model Y has the key: the signal says so, and re-sending its charge limit goes through.
    The Model 3 lacks it: refused with VIRTUAL_KEY_REQUIRED until approved; then the check ends.
    """
    state = user.smartcar.state
    state.update_options({"keyless_key_status": key_signal})
    await user_to_vehicles_step(user, vehicles=[MODEL_3_ID, MODEL_Y_ID])
    assert sorted(user.placeholders["vehicles"].splitlines()) == [
        "- **2023 Tesla Model 3** (VIN •••••••••••000001): 🔑",
        "- **2024 Tesla Model Y** (VIN •••••••••••000002): ✅",
    ]
    set_limit = "POST /v3/vehicles/{vehicle_id}/commands/charge/set-limit"
    # Asked only where the car reports a key: the Model Y, and the Model 3 if its signal is true.
    assert state.requests.by_path[set_limit] == (2 if key_signal == "true" else 1)
    assert state.vehicles[MODEL_Y_ID].charge_limit == 80  # sent again, unchanged

    result = await user.configure({})
    assert result["step_id"] == "pair_key"
    commands = state.requests.by_path[set_limit]
    await user.configure({"next_action": "check"})
    assert await user.wait_for_check() == "pair_key"
    assert (await user.configure())["errors"] == {"base": "key_not_detected"}
    # Each re-read of a true signal does not send another command (each one wakes the car):
    # Smartcar is asked once, and its "missing" stands for the rest of the check.
    assert state.requests.by_path[set_limit] == commands + (1 if key_signal == "true" else 0)

    await user.approve_in_tesla_app(result["description_placeholders"]["virtual_key_url"])
    await user.settle()
    await user.configure({"next_action": "check"})
    assert await user.wait_for_check() == "key_paired"
    result = await user.configure()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await user.settle()


async def test_a_webhook_during_the_check_asks_smartcar_again(
    hass: HomeAssistant, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Smartcar said "missing"; the owner approves and a delivery comes: the check asks again.

    The key signal is true throughout (a phone key), so only the delivery says it is worth
    another command.
    """
    state = user.smartcar.state
    state.update_options({"keyless_key_status": "true"})
    await user_to_vehicles_step(user, vehicles=[MODEL_3_ID])
    result = await user.configure({})
    link = result["description_placeholders"]["virtual_key_url"]
    await user.settle()

    flow_class = config_flow.FlexChargingConfigFlow
    confirm = flow_class.async_confirm_key
    answers: list[KeyState] = []

    async def confirm_then_approve(self: Any, vehicle_id: str) -> KeyState:
        answers.append(await confirm(self, vehicle_id))
        if len(answers) == 1:  # "missing": approved in the Tesla app right after
            await user.approve_in_tesla_app(link)
            await deliveries_done(user.smartcar)
        return answers[-1]

    monkeypatch.setattr(flow_class, "async_confirm_key", confirm_then_approve)
    await user.configure({"next_action": "check"})
    assert await user.wait_for_check() == "key_paired"
    assert answers == [KeyState.MISSING, KeyState.PAIRED]
    result = await user.configure()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await user.settle()


async def test_key_check_times_out(hass: HomeAssistant, user: User) -> None:
    """The car does not report the key in time: back to the step, with the reason."""
    state = user.smartcar.state
    # The first reads fail: the Model 3 with Smartcar's "virtual key required", the ID.4 with
    # a server error (it needs no key either way).
    state.add_fault("virtual_key_request", path="signals", vehicle_id=MODEL_3_ID)
    state.add_fault("http_500", path="signals", vehicle_id=ID4_ID)
    await user_to_vehicles_step(user, vehicles=[MODEL_3_ID, ID4_ID])
    assert sorted(user.placeholders["vehicles"].splitlines()) == [
        "- **2023 Tesla Model 3** (VIN —): 🔑",
        "- **2023 Volkswagen ID.4** (VIN —): ➖",
    ]
    await user.configure({})

    # Never approved: rate limited once, "virtual key required" once, then no key reported.
    state.add_fault("http_429", path="signals", retry_after=0)
    state.add_fault("virtual_key_request", path="signals")
    result = await user.configure({"next_action": "check"})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    # The frontend asking again while the check runs gets the same progress.
    assert (await user.configure())["type"] is FlowResultType.SHOW_PROGRESS
    assert await user.wait_for_check() == "pair_key"
    result = await user.configure()
    assert result["step_id"] == "pair_key"
    assert result["errors"] == {"base": "key_not_detected"}

    # The car does not answer at all.
    state.add_fault("http_500", path="signals", count=-1)
    await user.configure({"next_action": "check"})
    assert await user.wait_for_check() == "pair_key"
    result = await user.configure()
    assert result["errors"] == {"base": "key_state_unknown"}

    # Approved now, and the car answers again: the error goes away.
    state.clear_faults()
    await user.approve_in_tesla_app(result["description_placeholders"]["virtual_key_url"])
    await user.settle()
    await user.configure({"next_action": "check"})
    assert await user.wait_for_check() == "key_paired"
    result = await user.configure()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "- **2023 Tesla Model 3**: ✅" in result["description_placeholders"]["vehicles"]
    await user.settle()


async def test_closing_the_dialog_during_the_check(
    hass: HomeAssistant, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing the dialog stops the key check and releases the temporary webhook."""
    slow_key_checks(monkeypatch)
    await user_to_vehicles_step(user, vehicles=[MODEL_3_ID])
    webhook_id = user.hass.config_entries.flow._progress[user.flow_id]._webhook_id
    await user.configure({})
    result = await user.configure({"next_action": "check"})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    task = user.pairing_task()
    await asyncio.sleep(0.05)  # the first read is done; the check waits
    assert not task.done()

    hass.config_entries.flow.async_abort(user.flow_id)
    await hass.async_block_till_done()
    assert task.cancelled()
    assert not webhook_registered(hass, webhook_id)
    assert not hass.config_entries.flow.async_progress()
    assert not hass.config_entries.async_entries(DOMAIN)
    await user.settle()


async def test_key_approved_while_the_check_runs(
    hass: HomeAssistant, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user presses "check now" first and approves in the Tesla app while it waits.

    The Model 3 is already subscribed to a webhook of an earlier installation (so Smartcar
    keeps its data) and the user leaves the webhook out this time: the check notices the key
    by re-reading it.
    """
    state = user.smartcar.state
    monkeypatch.setattr(KeyPairingFlow, "key_check_timeout", timedelta(seconds=10))
    await user_to_webhook_step(user, vehicles=[MODEL_3_ID])
    earlier = await state.create_webhook(
        "http://127.0.0.1:9/api/webhook/earlier-installation", verify=False, verified=True
    )
    state.subscribe(earlier.id, MODEL_3_ID)
    await user.configure({CONF_SMARTCAR_WEBHOOK_ID: ""})
    result = await user.configure({})
    assert result["description_placeholders"]["vehicles"] == (
        "- **2023 Tesla Model 3** (VIN •••••••••••000001): 🔑"
    )
    result = await user.configure({})
    link = result["description_placeholders"]["virtual_key_url"]
    await user.settle()

    result = await user.configure({"next_action": "check"})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    task = user.pairing_task()
    await asyncio.sleep(0.1)
    assert not task.done()  # no key yet: the check keeps re-reading
    await user.approve_in_tesla_app(link)
    assert await user.wait_for_check() == "key_paired"
    result = await user.configure()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SMARTCAR_WEBHOOK_ID] is None
    assert result["description_placeholders"]["vehicles"] == "- **2023 Tesla Model 3**: ✅"
    await user.settle()


async def test_webhook_wakes_the_check_in_the_event_loop(
    hass: HomeAssistant, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A webhook delivery during the check must wake it from the event loop.

    Driving it end to end would leave a task that cannot be cancelled (the test would hang), so
    this looks at what the running check connected to its signal.
    """
    slow_key_checks(monkeypatch)
    await user_to_vehicles_step(user, vehicles=[MODEL_3_ID])
    await user.configure({})
    await user.configure({"next_action": "check"})
    task = user.pairing_task()
    await asyncio.sleep(0.05)  # the first read found no key; the check waits
    assert not task.done()
    signal = const.SIGNAL_KEY_STATE_CHANGED.format(MODEL_3_ID)
    targets = list(hass.data[DATA_DISPATCHER][signal])
    assert targets
    assert [get_hassjob_callable_job_type(t) for t in targets] == [HassJobType.Callback]


async def test_webhook_during_a_read_ends_the_wait(
    hass: HomeAssistant, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The approval's webhook arrives while the check's read is still on its way back."""
    slow_key_checks(monkeypatch)
    state = user.smartcar.state

    # The woken.set bug above fixed here, to show this one on its own.
    def connect_in_loop(hass: HomeAssistant, signal: str, target: Any) -> Any:
        @callback
        def in_loop(*args: Any) -> None:
            target(*args)

        return async_dispatcher_connect(hass, signal, in_loop)

    monkeypatch.setattr(pairing, "async_dispatcher_connect", connect_in_loop)
    await user_to_vehicles_step(user, vehicles=[MODEL_3_ID])
    await user.configure({})

    flow_class = config_flow.FlexChargingConfigFlow
    read = flow_class.async_read_key_state
    reads = 0

    async def read_then_approve(self: Any, vehicle_id: str) -> Any:
        nonlocal reads
        reads += 1
        key_state = await read(self, vehicle_id)
        if reads == 1:  # Smartcar answered "no key"; the car reports the key right after
            state.set_key(MODEL_3_ID, paired=True)
            await deliveries_done(user.smartcar)
        return key_state

    monkeypatch.setattr(flow_class, "async_read_key_state", read_then_approve)
    await user.configure({"next_action": "check"})
    done, _ = await asyncio.wait({user.pairing_task()}, timeout=2)
    assert done
    assert await user.wait_for_check() == "key_paired"


# --- Smartcar Connect ------------------------------------------------------------------------


async def test_connect_denied(hass: HomeAssistant, user: User) -> None:
    await user.start()
    await user.application()
    location = await user.open_connect(decision="deny")
    assert location.query["error"] == "access_denied"
    await user.back_to_home_assistant(location)
    result = await user.configure()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "connect_denied"
    assert not user.smartcar.state.connections


async def test_missing_permissions_connect_again(hass: HomeAssistant, user: User) -> None:
    """A permission declined in Connect: explained, then Connect again."""
    await user.start()
    await user.application()
    # control_charge is asked for as `required:`: Connect does not let the owner untick it.
    result = await user.connect(decline=("control_charge", "read_vin"))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "missing_permissions"
    assert result["description_placeholders"] == {"permissions": "read_vin"}

    result = await user.configure({})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    result = await user.connect()
    assert result["step_id"] == "webhook"
    connection = next(iter(user.smartcar.state.connections.values()))
    assert set(REQUIRED_SCOPES) <= set(connection.permissions)


async def test_no_vehicles(hass: HomeAssistant, user: User) -> None:
    """The connection is gone again before Home Assistant lists it."""
    await user.start()
    await user.application()
    location = await user.open_connect(vehicles=[ID4_ID])
    state = user.smartcar.state
    for connection_id in list(state.connections):
        state.disconnect(connection_id)
    await user.back_to_home_assistant(location)
    result = await user.configure()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_vehicles"


@pytest.mark.parametrize(
    ("fault", "count", "reason"),
    [("http_500", 1, "cannot_connect"), ("http_401", 2, "invalid_credentials")],
)
async def test_listing_connections_fails(
    hass: HomeAssistant, user: User, fault: str, count: int, reason: str
) -> None:
    await user.start()
    await user.application()
    user.smartcar.state.add_fault(fault, path="/v3/connections", count=count)
    result = await user.connect()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


def add_second_driver(state: Any) -> None:
    """Someone connected the default fleet earlier; a second driver connects now."""
    state.connect()
    state.add_user(
        user_id=OTHER_USER_ID,
        name="Second driver",
        vehicles=[
            {
                "make": "TESLA",
                "model": "Model Y",
                "year": 2022,
                "vin": "7SAYGDEE0NF000021",
                "key_required": True,
                "key_paired": True,
            }
        ],
    )
    state.update_app({"connect_user_id": OTHER_USER_ID})


async def test_redirect_names_the_user(hass: HomeAssistant, user: User) -> None:
    """Connect's documented redirect carries `user_id`: that user, even among several."""
    add_second_driver(user.smartcar.state)
    await user.start()
    await user.application()
    location = await user.open_connect()
    assert set(location.query) == {"user_id", "state"}  # no `code`
    await user.back_to_home_assistant(location)
    result = await user.configure()
    assert result["step_id"] == "webhook"
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: ""})
    result = await user.configure({})
    assert result["description_placeholders"]["vehicles"].startswith("- **2022 Tesla Model Y**")


async def test_several_users_pick_yours(hass: HomeAssistant, user: User) -> None:
    """An older redirect (`code` only) names nobody: the user says which one they are."""
    state = user.smartcar.state
    add_second_driver(state)
    state.update_options({"connect_redirect": "code_only"})
    await user.start()
    await user.application()
    result = await user.connect()
    assert result["step_id"] == "pick_user"
    options = selector(result, CONF_USER_ID).config["options"]
    assert sorted(options, key=lambda o: o["value"]) == [
        {
            "value": DEFAULT_USER_ID,
            "label": "2023 Volkswagen ID.4, 2019 Tesla Model S, 2024 Tesla Model Y, "
            "2023 Tesla Model 3 (user …4f3a21)",
        },
        {"value": OTHER_USER_ID, "label": "2022 Tesla Model Y (user …8e9f01)"},
    ]

    # No webhook for now: Smartcar keeps no data, so the key state is not known.
    result = await user.configure({CONF_USER_ID: OTHER_USER_ID})
    assert result["step_id"] == "webhook"
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: "  "})
    assert result["step_id"] == "no_webhook"
    assert result["last_step"] is False
    result = await user.configure({})
    assert result["step_id"] == "vehicles"
    assert result["description_placeholders"]["vehicles"] == (
        "- **2022 Tesla Model Y** (VIN —): 🔑"
    )
    result = await user.configure({})
    assert_pair_key_form(
        result, vehicle="2022 Tesla Model Y", link=f"{user.smartcar.origin}/_ak/smartcar.com"
    )
    result = await user.configure({"next_action": "skip"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == OTHER_USER_ID
    assert result["data"][CONF_SMARTCAR_WEBHOOK_ID] is None
    assert result["data"][CONF_USER_ID] == OTHER_USER_ID
    assert not state.subscriptions


async def test_connect_view_checks_the_state(hass: HomeAssistant, user: User) -> None:
    """Our redirect view needs Home Assistant's signed state; a replay changes nothing."""
    await user.start()
    await user.application()
    location = await user.open_connect(vehicles=[ID4_ID])
    for query in ({"user_id": DEFAULT_USER_ID}, {"user_id": DEFAULT_USER_ID, "state": "forged"}):
        response = await user.client.get(URL(REDIRECT_URI).path, params=query)
        assert response.status == 400
        assert await response.text() == "Invalid or missing state parameter."
    # The older spelling `userId` is taken too ("Older docs show `userId`", a third-party client:
    # https://github.com/wbyoung/smartcar/blob/6d61fe6e/custom_components/smartcar/views.py).
    query = {"userId": location.query["user_id"], "state": location.query["state"]}
    await user.back_to_home_assistant(location.with_query(query))
    result = await user.configure()
    assert result["step_id"] == "webhook"
    response = await user.client.get(location.path_qs)  # the same redirect again
    assert response.status == 200
    assert hass.config_entries.flow.async_get(user.flow_id)["step_id"] == "webhook"
    hass.config_entries.flow.async_abort(user.flow_id)
    response = await user.client.get(location.path_qs)  # and once the dialog is closed
    assert response.status == 200


@pytest.mark.parametrize(
    ("urls", "my", "expected"),
    [
        (
            {"external_url": "https://ha.example.org"},
            False,
            "https://ha.example.org/api/flexcharging/connect",
        ),
        ({}, False, "http://homeassistant.local:8123/api/flexcharging/connect"),
        ({}, True, MY_REDIRECT_URI),
    ],
)
async def test_redirect_uri_outside_the_frontend(
    hass: HomeAssistant, urls: dict[str, str], my: bool, expected: str
) -> None:
    """Without a browser's request: Home Assistant's configured URL, else a guess."""
    await async_process_ha_core_config(hass, urls)
    if my:
        hass.config.components.add("my")
    assert redirect_uri(hass) == expected


# --- Connect through My Home Assistant (Home Assistant's own callback) -------------------------


async def connect_step(user: User, state: Any) -> Any:
    """Start at an http:// address with My Home Assistant: the flow offers the Connect link."""
    state.update_app({"add_redirect_uris": [MY_REDIRECT_URI]})
    await user.start()
    assert user.placeholders["redirect_uri"] == MY_REDIRECT_URI
    result = await user.application()
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "connect"
    assert URL(user.placeholders["connect_url"]).query["redirect_uri"] == MY_REDIRECT_URI
    assert user.placeholders["redirect_uri"] == MY_REDIRECT_URI
    return result


@pytest.mark.parametrize("ha_components", [("my",)])
@pytest.mark.parametrize("shape", ["documented", "with_code", "code_only"])
@pytest.mark.usefixtures("http_frontend")
async def test_my_home_assistant(hass: HomeAssistant, user: User, shape: str) -> None:
    """My Home Assistant's redirect, with or without `code`: the new connection is the user's."""
    state = user.smartcar.state
    add_second_driver(state)  # the default fleet was connected before; the second driver now
    state.update_options({"connect_redirect": shape})
    await connect_step(user, state)
    result = await user.connect()
    assert result["step_id"] == "webhook"  # no question: only the second driver's is new
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: ""})
    result = await user.configure({})
    assert result["description_placeholders"]["vehicles"] == "- **2022 Tesla Model Y** (VIN —): 🔑"
    await user.configure({})
    result = await user.configure({"next_action": "skip"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == OTHER_USER_ID
    assert result["data"][CONF_REDIRECT_URI] == MY_REDIRECT_URI


@pytest.mark.parametrize("ha_components", [("my",)])
async def test_my_home_assistant_but_https(hass: HomeAssistant, user: User) -> None:
    """At an HTTPS address our view is used even with My Home Assistant (no extra step)."""
    await user.start()
    assert user.placeholders["redirect_uri"] == REDIRECT_URI
    result = await user.application()
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert URL(result["url"]).query["redirect_uri"] == REDIRECT_URI


@pytest.mark.parametrize("ha_components", [("my",)])
@pytest.mark.usefixtures("http_frontend")
async def test_connect_step_submit_early_or_reconnected(hass: HomeAssistant, user: User) -> None:
    """Submit before Connect: said so. Vehicles connected before: a second Submit takes them."""
    state = user.smartcar.state
    state.connect(permissions=REQUIRED_SCOPES)  # as Connect will grant them again
    await connect_step(user, state)
    result = await user.configure({})
    assert result["step_id"] == "connect"
    assert result["errors"] == {"base": "connect_nothing_new"}
    location = await user.open_connect(vehicles=[ID4_ID])
    await user.back_to_home_assistant(location)
    # The same grant as before (nothing new): the second Submit takes the connected account.
    result = await user.configure({})
    assert result["step_id"] == "webhook"
    # The cost: one read of the connections when the step opened and one per Submit, none of
    # them billed to a vehicle.
    assert state.requests.by_path["GET /v3/connections"] == 3
    assert state.requests.billable == 0


@pytest.mark.parametrize("ha_components", [("my",)])
@pytest.mark.usefixtures("http_frontend")
async def test_connect_step_several_new_users(hass: HomeAssistant, user: User) -> None:
    """Two people connected while the step was open: the choice is between those two."""
    state = user.smartcar.state
    add_second_driver(state)
    state.add_user(user_id=THIRD_USER_ID, vehicles=[{"make": "TESLA", "model": "Model S"}])
    state.connections.clear()
    state.connect(user_id=THIRD_USER_ID)  # connected before the step: not a candidate
    await connect_step(user, state)
    state.connect()  # the default account, at the same time
    result = await user.connect()
    assert result["step_id"] == "pick_user"
    options = selector(result, CONF_USER_ID).config["options"]
    assert sorted(o["value"] for o in options) == sorted([DEFAULT_USER_ID, OTHER_USER_ID])


@pytest.mark.parametrize("ha_components", [("my",)])
@pytest.mark.usefixtures("http_frontend")
async def test_connect_step_denied(hass: HomeAssistant, user: User) -> None:
    state = user.smartcar.state
    await connect_step(user, state)
    result = await user.connect(decision="deny")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "connect_denied"


@pytest.mark.parametrize("ha_components", [("my",)])
@pytest.mark.usefixtures("http_frontend")
async def test_connect_step_cannot_list(hass: HomeAssistant, user: User) -> None:
    state = user.smartcar.state
    state.update_app({"add_redirect_uris": [MY_REDIRECT_URI]})
    await user.start()
    state.add_fault("http_500", path="/v3/connections", count=1)
    result = await user.application()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"
    # Or on Submit, after Connect.
    await connect_step(user, state)
    state.add_fault("http_401", path="/v3/connections", count=2)
    result = await user.connect()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_credentials"


async def test_account_already_configured(
    hass: HomeAssistant, user: User, config_entry: MockConfigEntry
) -> None:
    await user.start()
    await user.application()
    result = await user.connect()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


# --- the application step --------------------------------------------------------------------


async def test_application_details_format(hass: HomeAssistant, user: User) -> None:
    await user.start()
    result = await user.application(application_id="client_emulator", management_token="short")
    assert result["step_id"] == "application"
    assert result["errors"] == {
        CONF_APPLICATION_ID: "application_id_format",
        CONF_MANAGEMENT_TOKEN: "management_token_format",
    }
    # What the user typed stays in the form.
    assert default(result, CONF_APPLICATION_ID) == "client_emulator"
    assert default(result, CONF_MANAGEMENT_TOKEN) == "short"

    result = await user.application()
    assert result["type"] is FlowResultType.EXTERNAL_STEP


async def test_application_plan_allowance(hass: HomeAssistant, user: User) -> None:
    """The plan's allowance is asked with the application: typed nonsense stays and is refused."""
    await user.start()
    selector = user.result["data_schema"].schema[field(user.result, CONF_REQUEST_BUDGET)]
    assert selector.config["options"] == ["0", "100", "500"]
    assert selector.config["custom_value"] is True
    result = await user.application(request_budget="a hundred")
    assert result["step_id"] == "application"
    assert result["errors"] == {CONF_REQUEST_BUDGET: "plan_allowance_invalid"}
    assert default(result, CONF_REQUEST_BUDGET) == "a hundred"
    result = await user.application(request_budget="0")
    assert result["type"] is FlowResultType.EXTERNAL_STEP


@pytest.fixture
async def user_with_credential(
    hass: HomeAssistant,
    *,
    smartcar: Emulator,
    ha_client: TestClient,
    browser: aiohttp.ClientSession,
    current_request_with_host: None,
    no_setup: None,
) -> AsyncIterator[User]:
    """A user whose Application Credentials the test stores."""
    user = User(hass, smartcar, ha_client, browser)
    yield user
    await close_dialogs(user)


async def store_credential(hass: HomeAssistant, client_id: str, client_secret: str) -> None:
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(client_id, client_secret), CREDENTIAL_ID
    )


async def test_wrong_client_secret(hass: HomeAssistant, user_with_credential: User) -> None:
    user = user_with_credential
    await store_credential(hass, DEFAULT_APP.client_id, "secret_from_another_app")
    await user.start()
    result = await user.application()
    assert result["step_id"] == "application"
    assert result["errors"] == {"base": "invalid_credentials"}


async def test_application_id_stored_as_client_id(
    hass: HomeAssistant, user_with_credential: User
) -> None:
    """The Application ID went into Application Credentials instead of the Client ID."""
    user = user_with_credential
    await store_credential(hass, DEFAULT_APP.application_id, DEFAULT_APP.client_secret)
    result = await user.start()
    assert result["errors"] == {"base": "client_id_format"}
    assert result["description_placeholders"]["client_id"] == DEFAULT_APP.application_id
    result = await user.application()
    assert result["step_id"] == "application"
    assert result["errors"] == {"base": "client_id_format"}
    assert not user.smartcar.state.tokens


async def test_smartcar_unreachable(
    hass: HomeAssistant, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    await user.start()
    monkeypatch.setenv(ORIGIN_OVERRIDE_VARIABLE, "http://127.0.0.1:9")  # nothing listens
    result = await user.application()
    assert result["step_id"] == "application"
    assert result["errors"] == {"base": "cannot_connect"}


async def test_implementation_provider_down(
    hass: HomeAssistant, user_with_credential: User, caplog: pytest.LogCaptureFixture
) -> None:
    """No stored credentials and an OAuth implementation provider failing: abort, logged."""

    async def provider_down(hass: HomeAssistant, domain: str) -> list[Any]:
        raise config_entry_oauth2_flow.ImplementationUnavailableError("provider down")

    config_entry_oauth2_flow.async_add_implementation_provider(hass, "broken", provider_down)
    result = await user_with_credential.start()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "oauth_implementation_unavailable"
    assert any(
        record.name == const.LOGGER.name and "provider down" in record.getMessage()
        for record in caplog.records
    )


# --- the webhook -----------------------------------------------------------------------------


async def test_webhook_errors_then_unverified(hass: HomeAssistant, user: User) -> None:
    """Unknown id, wrong callback URI, Smartcar failing; then a webhook that never verified."""
    state = user.smartcar.state
    await user_to_webhook_step(user, vehicles=[MODEL_3_ID, MODEL_Y_ID])
    webhook_url = user.webhook_url

    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: "no-such-webhook"})
    assert result["step_id"] == "webhook"
    assert result["errors"] == {"base": "webhook_not_found"}

    elsewhere = await user.create_smartcar_webhook(
        "https://elsewhere.example/api/webhook/x", verify=False
    )
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: elsewhere})
    assert result["errors"] == {"base": "webhook_url_mismatch"}
    assert not state.subscriptions

    # Smartcar has the webhook but was never able to reach Home Assistant with VERIFY.
    unverified = await user.create_smartcar_webhook(webhook_url + "/", verify=False, verified=True)
    state.add_fault("http_500", path="subscriptions")
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: unverified})
    assert result["errors"] == {"base": "subscribe_failed"}
    assert result["description_placeholders"]["failed_call"].startswith("POST /v3/subscriptions: ")
    assert default(result, CONF_SMARTCAR_WEBHOOK_ID) == ""
    async with asyncio.timeout(5):
        while not state.subscriptions:  # noqa: ASYNC110 (the other one goes through)
            await asyncio.sleep(0.01)

    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: unverified})
    assert result["step_id"] == "webhook_unverified"
    assert result["description_placeholders"] == {"webhook_url": webhook_url}
    assert len(state.subscriptions) == 2
    result = await user.configure({})
    assert result["step_id"] == "vehicles"
    result = await user.configure({})
    assert result["step_id"] == "pair_key"
    hass.config_entries.flow.async_abort(user.flow_id)
    await user.settle()


async def test_setup_webhook_deliveries(hass: HomeAssistant, user: User) -> None:
    """The flow's webhook answers VERIFY and takes Smartcar's signed events, known or not."""
    state = user.smartcar.state
    await user_to_webhook_step(user, vehicles=[MODEL_3_ID])
    ha_webhook_id = user.ha_webhook_id
    smartcar_webhook_id = await user.create_smartcar_webhook()
    await user.configure({CONF_SMARTCAR_WEBHOOK_ID: smartcar_webhook_id})
    await user.settle()
    log = [d for d in state.dispatcher.log if d.webhook_id == smartcar_webhook_id]
    assert {(d.event_type, d.status) for d in log} == {
        ("VERIFY", 200),
        ("VEHICLE_STATE", 200),
        ("VEHICLE_ERROR", 200),
    }

    # An event type FlexCharging does not use is taken and ignored.
    body = json.dumps(
        {"eventId": "evt-unknown", "eventType": "VEHICLE_DISCONNECTED", "data": {}}
    ).encode()
    response = await user.client.post(
        f"/api/webhook/{ha_webhook_id}",
        data=body,
        headers={"SC-Signature": sign(AMT, body), "Content-Type": "application/json"},
    )
    assert response.status == 200
    hass.config_entries.flow.async_abort(user.flow_id)
    await user.settle()


@pytest.mark.parametrize("variant", list(SMARTCAR_VARIANTS))
async def test_setup_from_scratch_in_each_variant(
    hass: HomeAssistant, user: User, variant: str
) -> None:
    """Whichever documented shape or subscription path Smartcar uses, setup creates the entry."""
    state = user.smartcar.state
    state.update_options(SMARTCAR_VARIANTS[variant])
    await user_to_vehicles_step(user, vehicles=[ID4_ID])
    ((subscription),) = state.subscriptions.values()
    assert subscription.vehicle_id == ID4_ID
    assert user.placeholders["vehicles"] == "- **2023 Volkswagen ID.4** (VIN •••••••••••000004): ➖"
    result = await user.configure({})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SMARTCAR_WEBHOOK_ID] == subscription.webhook_id
    await user.settle()
    # Smartcar's signed deliveries in this shape (the first delivery, errors) were all taken.
    log = [d for d in state.dispatcher.log if d.event_type != "VERIFY"]
    assert log
    assert all(d.status is not None and 200 <= d.status < 300 for d in log), log

    # The entry the flow created, run for real: the car's data shows (tests/test_variants.py
    # checks every entity in each variant, polled and pushed).
    entry = result["result"]
    reading = state.vehicles[ID4_ID].reading
    assert reading is not None
    with (
        patch.object(integration, "async_setup_entry", REAL_SETUP[0]),
        patch.object(integration, "async_unload_entry", REAL_SETUP[1]),
    ):
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        battery = hass.states.get("sensor.2023_volkswagen_id_4_battery_level")
        assert battery is not None
        assert float(battery.state) == reading.soc
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def test_webhook_disabled_or_errors_elsewhere(hass: HomeAssistant, user: User) -> None:
    """A disabled webhook is refused; a separate error callback URI is pointed out once."""
    state = user.smartcar.state
    await user_to_webhook_step(user, vehicles=[ID4_ID])
    disabled = await user.create_smartcar_webhook(is_enabled=False)
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: disabled})
    assert result["errors"] == {"base": "webhook_disabled"}
    assert not state.subscriptions

    elsewhere = await user.create_smartcar_webhook(error_callback_uri="https://errors.example/hook")
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: elsewhere})
    assert result["errors"] == {"base": "webhook_error_uri_elsewhere"}
    assert not state.subscriptions
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: elsewhere})
    assert result["step_id"] == "vehicles"
    assert len(state.subscriptions) == 1
    hass.config_entries.flow.async_abort(user.flow_id)
    await user.settle()


async def test_verified_after_the_webhook_step(hass: HomeAssistant, user: User) -> None:
    """Smartcar verifies while the flow shows "not verified yet": the entry records it.

    The signature repair needs it: after a VERIFY, failing deliveries are the condition reported
    in https://github.com/wbyoung/smartcar/issues/130, not a wrong token.
    """
    state = user.smartcar.state
    await user_to_webhook_step(user, vehicles=[ID4_ID])
    hook = await user.create_smartcar_webhook(verify=False)
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: hook})
    assert result["step_id"] == "webhook_unverified"
    assert await state.verify_webhook(hook)  # the user presses Verify in the dashboard now
    result = await user.configure({})
    assert result["step_id"] == "vehicles"
    result = await user.configure({})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_WEBHOOK_VERIFIED] is True
    await user.settle()


async def test_no_subscription_call_exists(hass: HomeAssistant, user: User) -> None:
    """Both documented subscription calls answer 404: the error names both calls.

    POST /v3/subscriptions (https://smartcar.com/docs/api-reference/create-subscription) and
    POST /v3/webhooks/{id}/subscriptions (https://smartcar.com/blog/introducing-smartcar-api-v3).
    """
    await user_to_webhook_step(user, vehicles=[ID4_ID])
    hook = await user.create_smartcar_webhook()
    user.smartcar.state.add_fault("http_404_path", path="subscriptions", count=-1)
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: hook})
    assert result["errors"] == {"base": "subscribe_failed"}
    assert user.placeholders["failed_call"] == (
        f"POST /v3/subscriptions: HTTP 404; POST /v3/webhooks/{hook}/subscriptions: HTTP 404"
    )
    assert not user.smartcar.state.subscriptions


async def test_reading_the_webhook_fails(hass: HomeAssistant, user: User) -> None:
    """Smartcar fails on GET /webhooks/{id}: the error names that call, not "not found"."""
    await user_to_webhook_step(user, vehicles=[ID4_ID])
    hook = await user.create_smartcar_webhook()
    user.smartcar.state.add_fault("http_500", path="webhooks")
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: hook})
    assert result["errors"] == {"base": "webhook_call_failed"}
    assert user.placeholders["failed_call"].startswith(f"GET /v3/webhooks/{hook}: ")


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://abc.ui.nabu.casa/api/webhook/x", True),
        ("https://8.8.8.8/api/webhook/x", True),
        ("http://ha.example.com/api/webhook/x", False),
        ("https://192.168.1.5:8123/api/webhook/x", False),
        ("https://127.0.0.1/api/webhook/x", False),
        ("https://[::1]/api/webhook/x", False),
        ("https://localhost/api/webhook/x", False),
        ("https://homeassistant.local:8123/api/webhook/x", False),
        ("https://homeassistant/api/webhook/x", False),
        ("/api/webhook/x", False),
    ],
)
def test_public_https(url: str, public: bool) -> None:
    """Smartcar delivers only to public HTTPS (integrations/webhooks/best-practices/security)."""
    assert public_https(url) is public


# --- Home Assistant Cloud --------------------------------------------------------------------


class CloudNotAvailableError(Exception):
    """Stands in for homeassistant.components.cloud.CloudNotAvailable."""


def fake_cloud(
    monkeypatch: pytest.MonkeyPatch, hass: HomeAssistant, *, active: bool, cloudhook: Any
) -> None:
    """Home Assistant Cloud, logged in or not (its package cannot load in this environment)."""
    cloud = types.ModuleType("homeassistant.components.cloud")

    async def async_create_cloudhook(hass: HomeAssistant, webhook_id: str) -> str:
        if isinstance(cloudhook, Exception):
            raise cloudhook
        return str(cloudhook(webhook_id))

    cloud.CloudNotAvailable = CloudNotAvailableError  # type: ignore[attr-defined]
    cloud.async_active_subscription = lambda hass: active  # type: ignore[attr-defined]
    cloud.async_is_connected = lambda hass: True  # type: ignore[attr-defined]
    cloud.async_create_cloudhook = async_create_cloudhook  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "homeassistant.components.cloud", cloud)
    monkeypatch.setattr("homeassistant.components.cloud", cloud, raising=False)
    hass.config.components.add("cloud")


@pytest.mark.parametrize(
    ("active", "cloudhook"),
    [(False, None), (True, CloudNotAvailableError())],
    ids=["no_subscription", "cloud_not_available"],
)
async def test_cloud_not_usable(
    hass: HomeAssistant,
    user: User,
    monkeypatch: pytest.MonkeyPatch,
    active: bool,
    cloudhook: Any,
) -> None:
    """No cloudhook, and Home Assistant has no URL either: only the webhook's path is shown."""
    fake_cloud(monkeypatch, hass, active=active, cloudhook=cloudhook)
    hass.config.external_url = None
    monkeypatch.setattr(hass.config, "api", None)  # nor a local address
    await user_to_webhook_step(user, vehicles=[ID4_ID])
    assert user.webhook_url == f"/api/webhook/{user.ha_webhook_id}"
    assert user.placeholders["reachability"] == "your own URL"


async def test_cloudhook(hass: HomeAssistant, user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """With Home Assistant Cloud, Smartcar sends to the cloudhook, which relays to HA."""
    relay = f"{base_url(user.client)}/api/webhook"  # stands in for https://hooks.nabu.casa
    fake_cloud(monkeypatch, hass, active=True, cloudhook=lambda wid: f"{relay}/{wid}")
    hass.config.external_url = None
    await user_to_webhook_step(user, vehicles=[ID4_ID])
    assert user.placeholders["reachability"] == "Home Assistant Cloud"
    cloudhook_url = user.webhook_url
    assert cloudhook_url.startswith(relay)
    smartcar_webhook_id = await user.create_smartcar_webhook()
    assert user.smartcar.state.webhooks[smartcar_webhook_id].verified
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: smartcar_webhook_id})
    assert result["step_id"] == "vehicles"
    result = await user.configure({})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CLOUDHOOK_URL] == cloudhook_url
    assert result["data"][CONF_WEBHOOK_ID] == cloudhook_url.rsplit("/", 1)[-1]
    await user.settle()


# --- the virtual-key link --------------------------------------------------------------------


async def test_production_virtual_key_link(
    hass: HomeAssistant, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the emulator override the link is Tesla's own, in the text and the QR code."""
    with monkeypatch.context() as without_override:
        without_override.delenv(ORIGIN_OVERRIDE_VARIABLE)
        production = SmartcarUrls.from_environment()
    assert production == SmartcarUrls.production()
    assert production.virtual_key_for(None) == "https://www.tesla.com/_ak/smartcar.com"
    assert production.virtual_key_for(MODEL_3_VIN) == (
        f"https://www.tesla.com/_ak/smartcar.com?vin={MODEL_3_VIN}"
    )
    assert TESLA_VIRTUAL_KEY_URL == "https://www.tesla.com/_ak/smartcar.com"

    # The API stays on the emulator; only the link is production's.
    emulated = SmartcarUrls.for_origin(user.smartcar.origin)
    monkeypatch.setattr(
        SmartcarUrls,
        "from_environment",
        classmethod(lambda cls: replace(emulated, virtual_key=production.virtual_key)),
    )
    await user_to_vehicles_step(user, vehicles=[MODEL_3_ID, MODEL_Y_ID])
    result = await user.configure({})
    # Two Teslas on the account (the link selects the Model 3), but only the Model 3 still
    # needs its key: no position is shown.
    assert_pair_key_form(
        result,
        vehicle="2023 Tesla Model 3",
        link=f"https://www.tesla.com/_ak/smartcar.com?vin={MODEL_3_VIN}",
        position="",
    )


# --- reauth and reconfigure ------------------------------------------------------------------


@pytest.fixture
def old_entry(hass: HomeAssistant) -> MockConfigEntry:
    """The entry set up with the default account, before the user changed the token."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="FlexCharging",
        unique_id=DEFAULT_USER_ID,
        data=entry_data(management_token="amt_old_0123456789abcdef"),
        options={CONF_REQUEST_BUDGET: DEFAULT_REQUEST_BUDGET},
    )
    entry.add_to_hass(hass)
    return entry


async def test_reauth_same_account(
    hass: HomeAssistant, user: User, old_entry: MockConfigEntry
) -> None:
    result = await old_entry.start_reauth_flow(hass)
    user.result = result
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["dashboard_url"] == SMARTCAR_DASHBOARD_URL
    result = await user.configure({})
    assert result["step_id"] == "application"
    assert default(result, CONF_APPLICATION_ID) == DEFAULT_APP.application_id
    assert default(result, CONF_MANAGEMENT_TOKEN) == "amt_old_0123456789abcdef"

    assert default(result, CONF_REQUEST_BUDGET) == str(DEFAULT_REQUEST_BUDGET)
    await user.application(read_location=True, request_budget="100")
    result = await user.connect()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    # An entry from before our redirect view keeps Home Assistant's callback (and works).
    assert old_entry.data == entry_data(
        management_token=AMT, read_location=True, redirect_uri=HA_REDIRECT_URI
    )
    assert old_entry.options == {CONF_REQUEST_BUDGET: 100}  # the plan entered there counts
    assert old_entry.state is ConfigEntryState.LOADED  # reloaded


async def test_reauth_other_account(
    hass: HomeAssistant, user: User, old_entry: MockConfigEntry
) -> None:
    user.smartcar.state.add_user(
        user_id=OTHER_USER_ID, vehicles=[{"make": "TESLA", "model": "Model 3"}]
    )
    user.smartcar.state.update_app({"connect_user_id": OTHER_USER_ID})
    user.result = await old_entry.start_reauth_flow(hass)
    await user.configure({})
    await user.application()
    result = await user.connect()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert old_entry.data == entry_data(management_token="amt_old_0123456789abcdef")


async def test_reconfigure_webhook(
    hass: HomeAssistant, user: User, old_entry: MockConfigEntry
) -> None:
    """Reconfigure keeps Home Assistant's webhook and takes a new Smartcar webhook."""
    user.result = await old_entry.start_reconfigure_flow(hass)
    assert user.step == "application"
    assert default(user.result, CONF_APPLICATION_ID) == DEFAULT_APP.application_id
    assert default(user.result, CONF_REQUEST_BUDGET) == str(DEFAULT_REQUEST_BUDGET)
    await user.application(request_budget="100")
    result = await user.connect(vehicles=[MODEL_3_ID, ID4_ID])
    assert result["step_id"] == "webhook"
    assert user.webhook_url == f"{base_url(user.client)}/api/webhook/{HA_WEBHOOK_ID}"
    assert default(result, CONF_SMARTCAR_WEBHOOK_ID) == SMARTCAR_WEBHOOK_ID
    # The entry is not loaded (its token was refused, say): the flow answers on its webhook.
    assert webhook_registered(hass, HA_WEBHOOK_ID)

    new_webhook = await user.create_smartcar_webhook()  # VERIFY: answered with the new token
    assert user.smartcar.state.webhooks[new_webhook].verified
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: new_webhook})
    assert result["step_id"] == "vehicles"
    result = await user.configure({})
    assert result["step_id"] == "pair_key"
    result = await user.configure({"next_action": "skip"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert old_entry.data == entry_data(
        management_token=AMT,
        smartcar_webhook_id=new_webhook,
        webhook_id=HA_WEBHOOK_ID,
        redirect_uri=HA_REDIRECT_URI,
    )
    assert old_entry.options == {CONF_REQUEST_BUDGET: 100}  # the plan changed with it
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    await user.settle()


async def test_reconfigure_new_token_while_the_entry_is_loaded(
    hass: HomeAssistant, user: User, old_entry: MockConfigEntry
) -> None:
    """The loaded entry's receiver answers VERIFY with the flow's new token, while it is open."""
    deliveries: list[object] = []

    async def on_event(event: object) -> None:
        deliveries.append(event)

    receiver = PushReceiver("amt_old_0123456789abcdef", on_event)

    async def handle(hass: HomeAssistant, webhook_id: str, request: Any) -> Any:
        return await receiver.async_handle(request)

    webhook.async_register(hass, DOMAIN, "FlexCharging", HA_WEBHOOK_ID, handle)
    old_entry.mock_state(hass, ConfigEntryState.LOADED)
    old_entry.runtime_data = types.SimpleNamespace(receiver=receiver)

    user.result = await old_entry.start_reconfigure_flow(hass)
    await user.application()  # the token Smartcar has now
    await user.connect(vehicles=[MODEL_3_ID])
    assert user.step == "webhook"
    assert receiver.verification_open
    new_webhook = await user.create_smartcar_webhook()
    assert user.smartcar.state.webhooks[new_webhook].verified  # signed with the new token
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: new_webhook})
    assert result["step_id"] == "vehicles"  # verified in this flow: no warning

    hass.config_entries.flow.async_abort(user.flow_id)  # the user closes the dialog
    assert not receiver.verification_open
    assert not await user.smartcar.state.verify_webhook(new_webhook)
    assert receiver.verifications == 1


async def test_reconfigure_same_webhook_is_not_unverified(
    hass: HomeAssistant, user: User, old_entry: MockConfigEntry
) -> None:
    """Keeping the Smartcar webhook the entry has: Smartcar does not verify it again."""
    user.result = await old_entry.start_reconfigure_flow(hass)
    await user.application()
    await user.connect(vehicles=[MODEL_3_ID])
    await user.smartcar.state.create_webhook(
        user.webhook_url, webhook_id=SMARTCAR_WEBHOOK_ID, verify=False, verified=True
    )
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: SMARTCAR_WEBHOOK_ID})
    assert result["step_id"] == "vehicles"


async def test_webhook_step_reopens_verification(hass: HomeAssistant, user: User) -> None:
    """Every showing of the webhook form gives Smartcar a fresh window to verify."""
    await user_to_webhook_step(user, vehicles=[MODEL_3_ID])
    flow = hass.config_entries.flow._progress[user.flow_id]
    receiver = flow._receiver
    assert receiver is not None
    assert receiver.verification_open
    receiver.close_verification()  # ten minutes have passed on the form
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: "no-such-webhook"})
    assert result["errors"] == {"base": "webhook_not_found"}
    assert receiver.verification_open
    hook = await user.create_smartcar_webhook()
    assert user.smartcar.state.webhooks[hook].verified
    hass.config_entries.flow.async_abort(user.flow_id)
    assert not webhook_registered(hass, flow._webhook_id)
    assert not receiver.verification_open


async def test_reconfigure_keeps_the_cloudhook(hass: HomeAssistant, user: User) -> None:
    cloudhook_url = "https://hooks.nabu.casa/flexcharging-test"
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEFAULT_USER_ID,
        data=entry_data(management_token=AMT, cloudhook_url=cloudhook_url),
    )
    entry.add_to_hass(hass)
    user.result = await entry.start_reconfigure_flow(hass)
    await user.application()
    await user.connect(vehicles=[ID4_ID])
    assert user.webhook_url == cloudhook_url
    assert user.placeholders["reachability"] == "Home Assistant Cloud"
    # The Smartcar webhook still sends to this Home Assistant's local URL.
    local = await user.create_smartcar_webhook(
        f"{base_url(user.client)}/api/webhook/{HA_WEBHOOK_ID}", verify=False
    )
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: local})
    assert result["errors"] == {"base": "webhook_url_mismatch"}
    result = await user.configure({CONF_SMARTCAR_WEBHOOK_ID: ""})
    assert result["step_id"] == "no_webhook"
    await user.configure({})
    result = await user.configure({})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CLOUDHOOK_URL] == cloudhook_url
    assert entry.data[CONF_SMARTCAR_WEBHOOK_ID] is None


# --- options ---------------------------------------------------------------------------------


async def test_options(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Budget and location are saved and the entry reloads with them."""
    entry = init_integration
    coordinator = entry.runtime_data.coordinator
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    # An entry made before the plan was asked keeps its budget.
    assert default(result, CONF_REQUEST_BUDGET) == str(DEFAULT_REQUEST_BUDGET)
    assert default(result, CONF_READ_LOCATION) is False

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_REQUEST_BUDGET: "1000", CONF_READ_LOCATION: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {
        CONF_REQUEST_BUDGET: 1000,
        CONF_READ_LOCATION: True,
        CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
    }
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator is not coordinator

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert default(result, CONF_REQUEST_BUDGET) == "1000"
    assert default(result, CONF_READ_LOCATION) is True
    assert default(result, CONF_PRICE_SOURCE) == PRICE_SOURCE_NONE
    hass.config_entries.options.async_abort(result["flow_id"])
