"""Config flow: connect the Smartcar account, the webhook, and pair each Tesla's virtual key."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging
import re
from typing import TYPE_CHECKING, Any, cast

from homeassistant.components import webhook
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers import config_entry_oauth2_flow, entity_registry as er
from homeassistant.helpers.config_entry_oauth2_flow import LocalOAuth2Implementation
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .api import (
    SUBSCRIPTION_PATHS,
    Connection,
    KeyState,
    SmartcarAuthenticationError,
    SmartcarClient,
    SmartcarError,
    SmartcarNotFoundError,
    SmartcarSubscriptionPathError,
    SmartcarVirtualKeyRequiredError,
    VehicleInfo,
    VehicleState,
)
from .api.webhooks import VehicleErrorEvent, VehicleStateEvent, WebhookEvent
from .application_credentials import redirect_uri, returns_to_our_view, smartcar_client
from .config_flow_shared import SharedChargerFlowMixin, SharedChargerOptionsFlow
from .config_flow_vehicle import VehicleFlowMixin
from .connect import async_register_connect_view
from .const import (
    CONF_APPLICATION_ID,
    CONF_CALENDAR_ENTITY,
    CONF_CALENDAR_KEYWORD,
    CONF_CLOUDHOOK_URL,
    CONF_MANAGEMENT_TOKEN,
    CONF_NOTIFY_TARGET,
    CONF_OFFPEAK_PRICE,
    CONF_PEAK_PRICE,
    CONF_PLUG_TRIGGERS,
    CONF_PRICE_ENTITIES,
    CONF_PRICE_SOURCE,
    CONF_READ_LOCATION,
    CONF_REDIRECT_URI,
    CONF_REQUEST_BUDGET,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_SOLAR_SOURCE,
    CONF_USER_ID,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOK_VERIFIED,
    CONF_WEEKDAY_PEAK_END,
    CONF_WEEKDAY_PEAK_START,
    CONF_WEEKEND_PEAK_END,
    CONF_WEEKEND_PEAK_START,
    DATA_CONFIRMED_KEYS,
    DEFAULT_PLAN_ALLOWANCE,
    DEFAULT_REQUEST_BUDGET,
    DOMAIN,
    LOCATION_SCOPE,
    LOCKED_SCOPES,
    LOGGER,
    MAX_REQUEST_BUDGET,
    PLAN_ALLOWANCES,
    PRICE_SOURCE_ENTITIES,
    PRICE_SOURCE_NONE,
    PRICE_SOURCE_SCHEDULE,
    REQUIRED_SCOPES,
    SIGNAL_KEY_STATE_CHANGED,
    SMARTCAR_DASHBOARD_URL,
    SOLAR_SOURCE_NONE,
)
from .models import from_other_integration
from .pairing import KeyPairingFlow, PairingVehicle, async_probe_key, pairing_link
from .prices import PriceFormatError, slots_from_attributes
from .smart_charging.sharing import is_shared_charger
from .solar_options import SOLAR_KEYS, SolarOptionsStep, solar_source_selector

if TYPE_CHECKING:
    from .models import FlexChargingConfigEntry
from .notifications import notify_targets
from .push import (
    PushReceiver,
    async_cloudhook_url,
    async_register_receiver,
    local_webhook_url,
    public_https,
)

UUID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)
TOKEN_PATTERN = re.compile(r"^\S{8,}$")
CLIENT_ID_PREFIX = "client_"


def mask_vin(vin: str | None) -> str:
    """Show only the last six characters of a VIN."""
    if not vin:
        return "—"
    return "•" * max(len(vin) - 6, 0) + vin[-6:]


def _key_label(state: KeyState | None) -> str:
    """A symbol for a key state; the step's translated text explains the symbols."""
    return {
        KeyState.PAIRED: "✅",
        KeyState.NOT_REQUIRED: "➖",
    }.get(state or KeyState.UNKNOWN, "🔑")


class FlexChargingConfigFlow(
    KeyPairingFlow[ConfigFlowResult],
    VehicleFlowMixin,
    SharedChargerFlowMixin,
    config_entry_oauth2_flow.AbstractOAuth2FlowHandler,
    domain=DOMAIN,
):
    """Set up FlexCharging: Smartcar application → Connect → webhook → vehicles → keys."""

    DOMAIN = DOMAIN
    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known."""
        super().__init__()
        self._application: dict[str, Any] = {}
        self._allowance: int = DEFAULT_PLAN_ALLOWANCE
        self._client: SmartcarClient | None = None
        self._connections: list[Connection] = []
        self._user_id: str | None = None
        self._vehicles: dict[str, VehicleInfo] = {}
        self._states: dict[str, VehicleState] = {}
        self._key_states: dict[str, KeyState] = {}
        self._key_links: dict[str, str] = {}  # VIRTUAL_KEY_REQUIRED's resolution.url
        self._to_pair: list[str] = []
        self._pair_total = 0
        self._skipped: set[str] = set()
        self._webhook_id: str | None = None
        self._webhook_url: str | None = None
        self._cloudhook = False
        self._receiver: PushReceiver | None = None  # registered by this flow, during setup
        self._verifier: PushReceiver | None = None  # whichever receiver answers this flow's VERIFY
        self._verifications_before = 0
        # Smartcar's VERIFY of the chosen webhook was answered (None: not known, an older entry).
        self._webhook_verified: bool | None = False
        self._unregister: CALLBACK_TYPE | None = None  # of the flow's receiver
        self._smartcar_webhook_id: str | None = None
        self._failed_call = ""  # the Smartcar call the last webhook error is about
        self._error_uri_warned: str | None = None  # webhook whose error URI was pointed out
        self._redirect_uri: str | None = None
        self._candidates: list[str] = []  # the users to pick from
        # Connect through Home Assistant's callback (async_step_connect)
        self._connect_before: frozenset[tuple[str, ...]] = frozenset()
        self._connect_url = ""
        self._connect_redirect: dict[str, Any] | None = None
        self._connect_nothing_new = False

    @property
    def logger(self) -> logging.Logger:
        """The integration's logger (used by the OAuth2 helper)."""
        return LOGGER

    @property
    def extra_authorize_data(self) -> dict[str, str]:
        """Connect takes the Application ID as `client_id` (not the API client id)."""
        scopes = [f"required:{s}" if s in LOCKED_SCOPES else s for s in REQUIRED_SCOPES]
        if self._application.get(CONF_READ_LOCATION):
            scopes.append(LOCATION_SCOPE)
        return {
            "client_id": self._application[CONF_APPLICATION_ID],
            "scope": " ".join(scopes),
            "mode": "live",
            "redirect_uri": self._connect_redirect_uri(),
        }

    def _connect_redirect_uri(self) -> str:
        """Where Connect returns; an entry keeps the one its user registered."""
        if self._redirect_uri is None:
            reference = self._reference_data()
            if reference and not reference.get(CONF_REDIRECT_URI):
                # Made before our view existed: Home Assistant's callback is what is registered.
                self._redirect_uri = redirect_uri(self.hass, legacy=True)
            else:
                self._redirect_uri = reference.get(CONF_REDIRECT_URI) or redirect_uri(self.hass)
        return self._redirect_uri

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: FlexChargingConfigEntry,
    ) -> FlexChargingOptionsFlow | SharedChargerOptionsFlow:
        """Options: request budget, location, and the prices for smart charging.

        A shared charger: its vehicles and how they share it.
        """
        if is_shared_charger(config_entry):
            return SharedChargerOptionsFlow()
        return FlexChargingOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A Smartcar account, a vehicle another integration already has, or a shared charger."""
        return self.async_show_menu(
            step_id="user", menu_options=["smartcar", "vehicle", "shared_charger"]
        )

    async def async_step_smartcar(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A Smartcar account: its application's credentials, then Connect."""
        return await super().async_step_user(user_input)

    # --- 1. the Smartcar application ---------------------------------------------------------

    async def async_step_auth(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Send the user to Connect; our view brings the redirect back, whatever its shape."""
        if user_input is None and not self._application:
            return await self.async_step_application()
        if user_input is None and not returns_to_our_view(self._connect_redirect_uri()):
            return await self.async_step_connect()
        async_register_connect_view(self.hass)
        return await super().async_step_auth(user_input)

    async def async_step_connect(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect returns to Home Assistant's own callback (My Home Assistant): the user says when.

        That callback refuses the documented redirect without `code`, so the flow cannot count on
        it: the user opens Connect from here and presses Submit when done; the connections are
        read when this step opens and once per Submit, and only ones that are new (or changed)
        since then count. With `code`, the callback configures this step: noted, nothing more.
        """
        if user_input is None:  # from async_step_auth: Connect (again) from the start
            self._connect_redirect = None
            self._connect_nothing_new = False
            if aborted := await self._async_list_connections():
                return aborted
            self._connect_before = _fingerprints(self._connections)
            self._connect_url = await self.async_generate_authorize_url()
            return self._connect_form()
        if "state" in user_input:
            self._connect_redirect = user_input
            return self._connect_form()
        if "error" in (self._connect_redirect or {}):
            return await self.async_step_authorize_rejected()
        if aborted := await self._async_list_connections():
            return aborted
        new = sorted({fp[0] for fp in _fingerprints(self._connections) - self._connect_before})
        everyone = sorted({c.user_id for c in self._connections})
        if new or self._connect_nothing_new or self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            # Nothing new (again, or a re-authentication): the vehicles were connected before.
            return await self._async_choose_user(new or everyone)
        self._connect_nothing_new = True
        return self._connect_form(error="connect_nothing_new")

    def _connect_form(self, error: str | None = None) -> ConfigFlowResult:
        return self.async_show_form(
            step_id="connect",
            errors={"base": error} if error else None,
            description_placeholders={
                "connect_url": self._connect_url,
                "redirect_uri": self._connect_redirect_uri(),
            },
        )

    async def async_step_application(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Application ID and Application Management Token, checked with a token request."""
        errors: dict[str, str] = {}
        client_id = cast(LocalOAuth2Implementation, self.flow_impl).client_id
        if not client_id.startswith(CLIENT_ID_PREFIX):
            errors["base"] = "client_id_format"
        if user_input is not None and not errors:
            application_id = user_input[CONF_APPLICATION_ID].strip()
            management_token = user_input[CONF_MANAGEMENT_TOKEN].strip()
            if not UUID_PATTERN.match(application_id):
                errors[CONF_APPLICATION_ID] = "application_id_format"
            if not TOKEN_PATTERN.match(management_token):
                errors[CONF_MANAGEMENT_TOKEN] = "management_token_format"
            allowance = plan_allowance(user_input[CONF_REQUEST_BUDGET])
            if allowance is None:
                errors[CONF_REQUEST_BUDGET] = "plan_allowance_invalid"
            if not errors and (error := await self._async_validate_credentials()):
                errors["base"] = error
            if not errors and allowance is not None:
                self._application = {
                    CONF_APPLICATION_ID: application_id.lower(),
                    CONF_MANAGEMENT_TOKEN: management_token,
                    CONF_READ_LOCATION: user_input.get(CONF_READ_LOCATION, False),
                }
                self._allowance = allowance
                return await self.async_step_auth()
        defaults = user_input or self._reference_data()
        allowance_default = str(
            (user_input or {}).get(CONF_REQUEST_BUDGET)
            or self._reference_options().get(CONF_REQUEST_BUDGET, DEFAULT_PLAN_ALLOWANCE)
        )
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_APPLICATION_ID, default=defaults.get(CONF_APPLICATION_ID, "")
                ): TextSelector(),
                vol.Required(
                    CONF_MANAGEMENT_TOKEN, default=defaults.get(CONF_MANAGEMENT_TOKEN, "")
                ): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
                vol.Required(
                    CONF_READ_LOCATION, default=defaults.get(CONF_READ_LOCATION, False)
                ): BooleanSelector(),
                vol.Required(CONF_REQUEST_BUDGET, default=allowance_default): (
                    plan_allowance_selector()
                ),
            }
        )
        return self.async_show_form(
            step_id="application",
            data_schema=schema,
            errors=errors,
            description_placeholders={
                "dashboard_url": SMARTCAR_DASHBOARD_URL,
                "redirect_uri": self._connect_redirect_uri(),
                "client_id": client_id or "—",
            },
        )

    def _reference_data(self) -> Mapping[str, Any]:
        """The existing entry's data during reauth and reconfigure."""
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            return self._get_reference_entry().data
        return {}

    def _reference_options(self) -> Mapping[str, Any]:
        """The existing entry's options during reauth and reconfigure."""
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            return self._get_reference_entry().options
        return {}

    def _get_reference_entry(self) -> FlexChargingConfigEntry:
        if self.source == SOURCE_REAUTH:
            return cast("FlexChargingConfigEntry", self._get_reauth_entry())
        return cast("FlexChargingConfigEntry", self._get_reconfigure_entry())

    async def _async_validate_credentials(self) -> str | None:
        """Mint a token with the client id and secret: None when they work, else an error key."""
        client = self._smartcar_client()
        try:
            await client.async_validate_credentials()
        except SmartcarAuthenticationError:
            return "invalid_credentials"
        except SmartcarError as err:
            LOGGER.debug("Token request failed: %s", err)
            return "cannot_connect"
        return None

    def _smartcar_client(self) -> SmartcarClient:
        if self._client is None:
            self._client = smartcar_client(self.hass, self.flow_impl)
        return self._client

    # --- 2. Smartcar Connect -----------------------------------------------------------------

    async def async_step_authorize_rejected(self, data: None = None) -> ConfigFlowResult:
        """The user denied access on Smartcar's consent page."""
        return self.async_abort(reason="connect_denied")

    async def async_step_creation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Back from Connect. Smartcar v3 exchanges no code: the application token is used."""
        return await self.async_oauth_create_entry({"auth_implementation": self.flow_impl.domain})

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Find who just connected: the redirect's `user_id` (documented), else the connections."""
        back = self.external_data if isinstance(self.external_data, dict) else {}
        if aborted := await self._async_list_connections():
            return aborted
        users = sorted({connection.user_id for connection in self._connections})
        if isinstance(redirected := back.get("user_id"), str) and redirected:
            # Connect named the user: that is who connected, even among several.
            users = [redirected] if redirected in users else []
        return await self._async_choose_user(users)

    async def _async_list_connections(self) -> ConfigFlowResult | None:
        """Read `GET /v3/connections`; an abort when that fails."""
        try:
            self._connections = await self._smartcar_client().async_get_connections()
        except SmartcarAuthenticationError:
            return self.async_abort(reason="invalid_credentials")
        except SmartcarError as err:
            LOGGER.warning("Could not list the Smartcar connections: %s", err)
            return self.async_abort(reason="cannot_connect")
        return None

    async def _async_choose_user(self, users: list[str]) -> ConfigFlowResult:
        """Go on with the one user, or ask which of several this is."""
        if not users:
            return self.async_abort(reason="no_vehicles")
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            expected = self._get_reference_entry().unique_id
            if expected in users:
                return await self._async_use_user(expected)
            return self.async_abort(reason="wrong_account")
        if len(users) == 1:
            return await self._async_use_user(users[0])
        self._candidates = users
        return await self.async_step_pick_user()

    async def async_step_pick_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Several people connected vehicles to this Smartcar application: which one is this?"""
        if user_input is not None:
            return await self._async_use_user(user_input[CONF_USER_ID])
        options: list[SelectOptionDict] = []
        for user_id in self._candidates:
            names = ", ".join(
                c.vehicle.display_name for c in self._connections if c.user_id == user_id
            )
            options.append({"value": user_id, "label": f"{names} (user …{user_id[-6:]})"})
        return self.async_show_form(
            step_id="pick_user",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_USER_ID): SelectSelector(
                        SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
                    )
                }
            ),
        )

    async def _async_use_user(self, user_id: str) -> ConfigFlowResult:
        await self.async_set_unique_id(user_id)
        if self.source == SOURCE_USER:
            self._abort_if_unique_id_configured()
        self._user_id = user_id
        mine = [c for c in self._connections if c.user_id == user_id]
        missing = sorted(
            {scope for c in mine for scope in REQUIRED_SCOPES if scope not in c.permissions}
        )
        if missing:
            return await self.async_step_missing_permissions(missing=missing)
        self._vehicles = {c.vehicle.vehicle_id: c.vehicle for c in mine}
        if self.source == SOURCE_REAUTH:
            entry = self._get_reauth_entry()
            return self.async_update_reload_and_abort(
                entry,
                data_updates={**self._application, CONF_REDIRECT_URI: self._redirect_uri},
                # The plan was asked again in the application step: what was entered counts.
                options={**entry.options, CONF_REQUEST_BUDGET: self._allowance},
            )
        return await self.async_step_webhook()

    async def async_step_missing_permissions(
        self, user_input: dict[str, Any] | None = None, *, missing: list[str] | None = None
    ) -> ConfigFlowResult:
        """Some permissions were not granted in Connect: explain and offer to connect again."""
        if user_input is not None:
            return await self.async_step_auth()
        return self.async_show_form(
            step_id="missing_permissions",
            description_placeholders={"permissions": ", ".join(missing or [])},
        )

    # --- 3. the webhook ----------------------------------------------------------------------

    async def async_step_webhook(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the webhook URL; take the Smartcar webhook's id; subscribe every vehicle."""
        errors: dict[str, str] = {}
        if self._webhook_url is None:
            await self._async_prepare_webhook()
        if self._verifier is not None:
            # Shown or submitted: Smartcar may verify for the next ten minutes, with this AMT.
            self._verifier.open_verification(
                management_token=self._application[CONF_MANAGEMENT_TOKEN]
            )
        if user_input is not None:
            smartcar_webhook_id = (user_input.get(CONF_SMARTCAR_WEBHOOK_ID) or "").strip()
            if not smartcar_webhook_id:
                self._smartcar_webhook_id = None
                self._webhook_verified = False
                return await self.async_step_no_webhook()
            error = await self._async_subscribe_all(smartcar_webhook_id)
            if error is None:
                new_webhook = smartcar_webhook_id != self._reference_data().get(
                    CONF_SMARTCAR_WEBHOOK_ID
                )
                self._smartcar_webhook_id = smartcar_webhook_id
                reference = self._reference_data()
                same_token = (
                    reference.get(CONF_MANAGEMENT_TOKEN) == self._application[CONF_MANAGEMENT_TOKEN]
                )
                self._webhook_verified = self._verified_in_flow() or (
                    reference.get(CONF_WEBHOOK_VERIFIED)
                    if not new_webhook and same_token
                    else False
                )
                if new_webhook and not self._verified_in_flow():
                    return await self.async_step_webhook_unverified()
                return await self.async_step_vehicles()
            errors["base"] = error
        elif not public_https(self._webhook_url or ""):
            # Shown, not enforced: without deliveries FlexCharging still works by polling.
            errors["base"] = "webhook_url_not_public"
        default = self._reference_data().get(CONF_SMARTCAR_WEBHOOK_ID) or ""
        return self.async_show_form(
            step_id="webhook",
            data_schema=vol.Schema(
                {vol.Optional(CONF_SMARTCAR_WEBHOOK_ID, default=default): TextSelector()}
            ),
            errors=errors,
            description_placeholders={
                "webhook_url": self._webhook_url or "",
                "dashboard_url": SMARTCAR_DASHBOARD_URL,
                "reachability": "Home Assistant Cloud" if self._cloudhook else "your own URL",
                "failed_call": self._failed_call,
            },
        )

    async def _async_prepare_webhook(self) -> None:
        """Register the receiving webhook (reusing the entry's on reconfigure)."""
        reference = self._reference_data()
        if reference.get(CONF_WEBHOOK_ID):
            self._webhook_id = reference[CONF_WEBHOOK_ID]
            self._webhook_url = reference.get(CONF_CLOUDHOOK_URL) or local_webhook_url(
                self.hass, self._webhook_id
            )
            self._cloudhook = bool(reference.get(CONF_CLOUDHOOK_URL))
            entry = self._get_reference_entry()
            if entry.state is ConfigEntryState.LOADED and entry.runtime_data.receiver:
                # The loaded entry's receiver answers, with the AMT this flow brings.
                self._verifier = entry.runtime_data.receiver
            else:
                self._register_receiver()
        else:
            self._webhook_id = webhook.async_generate_id()
            self._register_receiver()
            self._webhook_url = await async_cloudhook_url(self.hass, self._webhook_id)
            self._cloudhook = self._webhook_url is not None
            if self._webhook_url is None:
                self._webhook_url = local_webhook_url(self.hass, self._webhook_id)
        if self._verifier is not None:
            self._verifications_before = self._verifier.verifications

    def _register_receiver(self) -> None:
        """Answer this flow's webhook until the entry takes it over."""
        assert self._webhook_id is not None
        receiver = PushReceiver(self._application[CONF_MANAGEMENT_TOKEN], self._async_push)
        try:
            self._unregister = async_register_receiver(
                self.hass, self._webhook_id, "FlexCharging setup", receiver
            )
        except ValueError:
            LOGGER.debug("Webhook %s already has a handler", self._webhook_id)
            return
        self._receiver = self._verifier = receiver

    def _verified_in_flow(self) -> bool:
        """Whether Smartcar's VERIFY was answered while this flow was open."""
        return (
            self._verifier is not None and self._verifier.verifications > self._verifications_before
        )

    @callback
    def _release_webhook(self) -> None:
        """Unregister the flow's receiver; close the VERIFY window it opened."""
        if self._verifier is not None:
            self._verifier.close_verification()
            self._verifier = None
        if self._unregister is not None:
            self._unregister()
            self._unregister = None
            self._receiver = None

    async def _async_push(self, event: WebhookEvent) -> None:
        """During setup a delivery only wakes a running key check."""
        if isinstance(event, VehicleStateEvent | VehicleErrorEvent):
            async_dispatcher_send(self.hass, SIGNAL_KEY_STATE_CHANGED.format(event.vehicle_id))

    async def _async_subscribe_all(self, smartcar_webhook_id: str) -> str | None:
        """Check the Smartcar webhook and subscribe every vehicle to it; None or an error key."""
        client = self._smartcar_client()
        assert self._user_id is not None
        self._failed_call = f"GET /v3/webhooks/{smartcar_webhook_id}"
        try:
            info = await client.async_get_webhook(smartcar_webhook_id)
        except SmartcarNotFoundError:
            return "webhook_not_found"
        except SmartcarError as err:
            LOGGER.warning("Could not read the Smartcar webhook: %s", err)
            self._failed_call += f": {err}"
            return "webhook_call_failed"
        if info.callback_uri and info.callback_uri.rstrip("/") != (self._webhook_url or "").rstrip(
            "/"
        ):
            return "webhook_url_mismatch"
        if info.is_enabled is False:
            return "webhook_disabled"
        if (
            info.error_callback_uri
            and info.error_callback_uri.rstrip("/") != (self._webhook_url or "").rstrip("/")
            and self._error_uri_warned != smartcar_webhook_id
        ):
            # VEHICLE_ERROR events (a missing virtual key) go there, not here: said once.
            self._error_uri_warned = smartcar_webhook_id
            return "webhook_error_uri_elsewhere"
        results = await asyncio.gather(
            *(
                client.async_subscribe(smartcar_webhook_id, self._user_id, vehicle_id)
                for vehicle_id in self._vehicles
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, SmartcarSubscriptionPathError):
                self._failed_call = "; ".join(result.calls)
            elif isinstance(result, SmartcarError):
                path = client.subscription_path or SUBSCRIPTION_PATHS[0]
                self._failed_call = (
                    f"POST /v3{path.format(webhook_id=smartcar_webhook_id)}: {result}"
                )
            elif isinstance(result, BaseException):
                raise result
            else:
                continue
            LOGGER.warning("Could not subscribe the vehicles to the webhook: %s", result)
            return "subscribe_failed"
        return None

    async def async_step_no_webhook(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """No Smartcar webhook: say what that means, then carry on."""
        if user_input is not None:
            return await self.async_step_vehicles()
        return self.async_show_form(step_id="no_webhook", last_step=False)

    async def async_step_webhook_unverified(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Smartcar could not reach Home Assistant: updates come by polling only."""
        if user_input is not None:
            return await self.async_step_vehicles()
        return self.async_show_form(
            step_id="webhook_unverified",
            description_placeholders={"webhook_url": self._webhook_url or ""},
            last_step=False,
        )

    # --- 4. the vehicles ---------------------------------------------------------------------

    async def async_step_vehicles(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the vehicles found and which of them need a virtual key."""
        if user_input is not None:
            self._to_pair = [
                vehicle_id
                for vehicle_id, vehicle in self._vehicles.items()
                if vehicle.needs_virtual_key
                and self._key_states.get(vehicle_id) is not KeyState.PAIRED
            ]
            self._pair_total = len(self._to_pair)
            return await self._async_next_pairing()
        await self._async_read_all_states()
        lines = []
        for vehicle_id, vehicle in self._vehicles.items():
            vin = self._states.get(vehicle_id, VehicleState()).vin.value
            lines.append(
                f"- **{vehicle.display_name}** (VIN {mask_vin(vin)}): "
                f"{_key_label(self._key_states.get(vehicle_id))}"
            )
        return self.async_show_form(
            step_id="vehicles",
            description_placeholders={
                "count": str(len(self._vehicles)),
                "vehicles": "\n".join(lines),
            },
            last_step=False,
        )

    async def _async_read_all_states(self) -> None:
        """Read every vehicle once (concurrently): VIN and key state."""
        vehicle_ids = list(self._vehicles)
        results = await asyncio.gather(
            *(self._async_read_state(vehicle_id) for vehicle_id in vehicle_ids)
        )
        for vehicle_id, state in zip(vehicle_ids, results, strict=True):
            if state is not None:
                self._states[vehicle_id] = state

    async def _async_read_state(self, vehicle_id: str) -> VehicleState | None:
        vehicle = self._vehicles[vehicle_id]
        if not vehicle.needs_virtual_key:
            self._key_states[vehicle_id] = KeyState.NOT_REQUIRED
        assert self._user_id is not None
        try:
            state = await self._smartcar_client().async_get_state(vehicle_id, self._user_id)
        except SmartcarVirtualKeyRequiredError as err:
            self._key_states[vehicle_id] = KeyState.MISSING
            if err.resolution_url:
                self._key_links[vehicle_id] = err.resolution_url
            return None
        except SmartcarError as err:
            LOGGER.debug("Could not read %s: %s", vehicle.display_name, err)
            self._key_states.setdefault(vehicle_id, KeyState.UNKNOWN)
            return None
        self._states[vehicle_id] = state
        self._key_states[vehicle_id] = state.key_state(vehicle)
        if self._key_states[vehicle_id] is KeyState.UNCONFIRMED:
            self._key_states[vehicle_id] = await self.async_confirm_key(vehicle_id)
        return state

    # --- 5/6. the virtual keys (steps shared with the repair flow) ---------------------------

    async def _async_next_pairing(self) -> ConfigFlowResult:
        if not self._to_pair:
            return await self._async_finish()
        vehicle_id = self._to_pair[0]
        teslas = [v for v in self._vehicles.values() if v.needs_virtual_key]
        vin = self._states.get(vehicle_id, VehicleState()).vin.value
        link = pairing_link(
            self._smartcar_client(),
            self._key_links.get(vehicle_id),
            vin if len(teslas) > 1 else None,
        )
        index = self._pair_total - len(self._to_pair) + 1
        self.async_start_pairing(
            PairingVehicle(vehicle_id, self._vehicles[vehicle_id].display_name, link),
            position=f"({index}/{self._pair_total})" if self._pair_total > 1 else "",
        )
        return await self.async_step_pair_key()

    async def async_read_key_state(self, vehicle_id: str) -> KeyState:
        """One read of the vehicle's key state."""
        assert self._user_id is not None
        state = await self._smartcar_client().async_get_state(vehicle_id, self._user_id)
        self._states[vehicle_id] = state
        return state.key_state(self._vehicles[vehicle_id])

    async def async_confirm_key(self, vehicle_id: str) -> KeyState:
        """Ask Smartcar itself: the car's charge limit, sent again."""
        assert self._user_id is not None
        limit = self._states.get(vehicle_id, VehicleState()).charge_limit.value
        state, link = await async_probe_key(
            self._smartcar_client(), vehicle_id, self._user_id, limit
        )
        if link:
            self._key_links[vehicle_id] = link
        return state

    async def async_pairing_finished(self, state: KeyState | None) -> ConfigFlowResult:
        """Record the outcome for this vehicle and go to the next one."""
        vehicle_id = self._to_pair.pop(0)
        if state is None:
            self._skipped.add(vehicle_id)
        else:
            self._key_states[vehicle_id] = state
        return await self._async_next_pairing()

    # --- 7. the entry ------------------------------------------------------------------------

    async def _async_finish(self) -> ConfigFlowResult:
        if self._smartcar_webhook_id is not None and self._verified_in_flow():
            self._webhook_verified = True  # Smartcar verified after the webhook step
        self._release_webhook()  # the entry registers the same webhook for good when it sets up
        if confirmed := {
            vehicle_id: dt_util.utcnow()
            for vehicle_id, state in self._key_states.items()
            if state is KeyState.PAIRED
        }:
            # Smartcar just confirmed these keys: the entry's first data starts from that.
            assert self._user_id is not None
            self.hass.data.setdefault(DATA_CONFIRMED_KEYS, {})[self._user_id] = confirmed
        data = {
            **self._application,
            "auth_implementation": self.flow_impl.domain,
            CONF_USER_ID: self._user_id,
            CONF_WEBHOOK_ID: self._webhook_id,
            CONF_CLOUDHOOK_URL: self._webhook_url if self._cloudhook else None,
            CONF_SMARTCAR_WEBHOOK_ID: self._smartcar_webhook_id,
            CONF_WEBHOOK_VERIFIED: self._webhook_verified,
            CONF_REDIRECT_URI: self._redirect_uri,
        }
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            return self.async_update_reload_and_abort(
                entry,
                data_updates=data,
                options={**entry.options, CONF_REQUEST_BUDGET: self._allowance},
            )
        summary = "\n".join(
            f"- **{vehicle.display_name}**: "
            + ("⏭️" if vehicle_id in self._skipped else _key_label(self._key_states.get(vehicle_id)))
            for vehicle_id, vehicle in self._vehicles.items()
        )
        return self.async_create_entry(
            title="FlexCharging",
            data=data,
            options={CONF_REQUEST_BUDGET: self._allowance},
            description_placeholders={"vehicles": summary},
        )

    # --- reauth and reconfigure --------------------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Smartcar refused the credentials or the user's access: connect again."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Explain, then run the application step and Connect again."""
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_confirm",
                description_placeholders={"dashboard_url": SMARTCAR_DASHBOARD_URL},
            )
        return await self.async_step_smartcar()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the application details, the vehicles (Connect again) or the webhook.

        A vehicle from another integration: map its entities again. A shared charger: its
        name, vehicles and limit.
        """
        if is_shared_charger(self._get_reconfigure_entry()):
            return await self.async_step_shared_charger()
        if from_other_integration(self._get_reconfigure_entry()):
            return await self.async_step_vehicle_reconfigure()
        return await self.async_step_smartcar()

    @callback
    def async_remove(self) -> None:
        """The dialog was closed: stop the key check and release the setup webhook."""
        self.async_cancel_pairing()
        self._release_webhook()


def _fingerprints(connections: list[Connection]) -> frozenset[tuple[str, ...]]:
    """What identifies a grant: user, vehicle and permissions (a re-grant changes them).

    A v3 connection carries no creation time (only v2's management list had `connectedAt`), so
    "made since the step opened" is "not in the list read then".
    """
    return frozenset((c.user_id, c.vehicle.vehicle_id, *sorted(c.permissions)) for c in connections)


class FlexChargingOptionsFlow(SolarOptionsStep):
    """Request budget, location, the prices smart charging plans with, and solar surplus."""

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._options: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The plan's allowance, location, and where the prices come from."""
        options = self.config_entry.options
        if user_input is not None:
            self._options = {CONF_PRICE_SOURCE: user_input[CONF_PRICE_SOURCE]}
            if not from_other_integration(self.config_entry):
                allowance = plan_allowance(user_input[CONF_REQUEST_BUDGET])
                if allowance is None:
                    return self._show_init(
                        {CONF_REQUEST_BUDGET: "plan_allowance_invalid"}, user_input
                    )
                self._options |= {
                    CONF_REQUEST_BUDGET: allowance,
                    CONF_READ_LOCATION: user_input[CONF_READ_LOCATION],
                }
            if (solar := user_input[CONF_SOLAR_SOURCE]) != SOLAR_SOURCE_NONE:
                # The solar step shows the sensors chosen before (and replaces them).
                self._options |= {key: options[key] for key in SOLAR_KEYS if key in options}
                self._options[CONF_SOLAR_SOURCE] = solar
            if notify_target := user_input.get(CONF_NOTIFY_TARGET):
                if notify_target not in notify_targets(self.hass):
                    return self._show_init(
                        {CONF_NOTIFY_TARGET: "unknown_notify_target"}, user_input
                    )
                self._options[CONF_NOTIFY_TARGET] = notify_target
            if triggers := user_input.get(CONF_PLUG_TRIGGERS):
                if any(self.hass.states.get(entity_id) is None for entity_id in triggers):
                    return self._show_init(
                        {CONF_PLUG_TRIGGERS: "unknown_trigger_entity"}, user_input
                    )
                self._options[CONF_PLUG_TRIGGERS] = list(triggers)
            if calendar := user_input.get(CONF_CALENDAR_ENTITY):
                self._options[CONF_CALENDAR_ENTITY] = calendar
                self._options[CONF_CALENDAR_KEYWORD] = user_input.get(
                    CONF_CALENDAR_KEYWORD, ""
                ).strip()
            source = user_input[CONF_PRICE_SOURCE]
            if source == PRICE_SOURCE_ENTITIES:
                return await self.async_step_price_entities()
            if source == PRICE_SOURCE_SCHEDULE:
                return await self.async_step_rate_schedule()
            return await self._async_after_prices(self._options)
        return self._show_init({}, options)

    def _show_init(self, errors: dict[str, str], values: Mapping[str, Any]) -> ConfigFlowResult:
        """The first step's form, showing `values` (the options, or what was entered).

        A vehicle from another integration has no Smartcar plan, its location is an entity, and
        it reports a plug-in by itself (no plug-in triggers needed).
        """
        plug_triggers = {
            vol.Optional(
                CONF_PLUG_TRIGGERS,
                description={"suggested_value": values.get(CONF_PLUG_TRIGGERS)},
            ): EntitySelector(EntitySelectorConfig(multiple=True)),
        }
        smartcar = {
            vol.Required(
                CONF_REQUEST_BUDGET,
                # Entries made before the plan was asked keep their budget (500).
                default=str(values.get(CONF_REQUEST_BUDGET, DEFAULT_REQUEST_BUDGET)),
            ): plan_allowance_selector(),
            vol.Required(
                CONF_READ_LOCATION,
                default=values.get(
                    CONF_READ_LOCATION, self.config_entry.data.get(CONF_READ_LOCATION, False)
                ),
            ): BooleanSelector(),
        }
        return self.async_show_form(
            step_id="init",
            errors=errors,
            data_schema=vol.Schema(
                {
                    **({} if from_other_integration(self.config_entry) else smartcar),
                    vol.Required(
                        CONF_PRICE_SOURCE,
                        default=values.get(CONF_PRICE_SOURCE, PRICE_SOURCE_NONE),
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=[
                                PRICE_SOURCE_NONE,
                                PRICE_SOURCE_ENTITIES,
                                PRICE_SOURCE_SCHEDULE,
                            ],
                            translation_key=CONF_PRICE_SOURCE,
                            mode=SelectSelectorMode.LIST,
                        )
                    ),
                    vol.Optional(
                        CONF_NOTIFY_TARGET,
                        description={"suggested_value": values.get(CONF_NOTIFY_TARGET)},
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=notify_targets(self.hass),
                            custom_value=True,
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    ),
                    **({} if from_other_integration(self.config_entry) else plug_triggers),
                    vol.Required(
                        CONF_SOLAR_SOURCE,
                        default=values.get(CONF_SOLAR_SOURCE, SOLAR_SOURCE_NONE),
                    ): solar_source_selector(),
                    vol.Optional(
                        CONF_CALENDAR_ENTITY,
                        description={"suggested_value": values.get(CONF_CALENDAR_ENTITY)},
                    ): EntitySelector(
                        EntitySelectorConfig(
                            domain="calendar", exclude_entities=self._own_calendars()
                        )
                    ),
                    vol.Optional(
                        CONF_CALENDAR_KEYWORD,
                        description={"suggested_value": values.get(CONF_CALENDAR_KEYWORD)},
                    ): TextSelector(),
                }
            ),
        )

    def _own_calendars(self) -> list[str]:
        """FlexCharging's own Charging calendars: as a source, the plan would feed itself."""
        registry = er.async_get(self.hass)
        return [
            entry.entity_id
            for entry in registry.entities.values()
            if entry.platform == DOMAIN and entry.domain == "calendar"
        ]

    async def async_step_price_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Price entities whose attributes list today's and tomorrow's prices."""
        errors: dict[str, str] = {}
        placeholders = {"entities": ""}
        if user_input is not None:
            entities: list[str] = user_input[CONF_PRICE_ENTITIES]
            found = {entity_id: self._price_count(entity_id) for entity_id in entities}
            unusable = [entity_id for entity_id, count in found.items() if count is None]
            if not entities:
                errors[CONF_PRICE_ENTITIES] = "no_price_entity"
            elif unusable or not any(found.values()):
                # An empty list is fine (tomorrow's prices), as long as some entity has prices.
                errors[CONF_PRICE_ENTITIES] = "no_prices_found"
                placeholders["entities"] = ", ".join(unusable or entities)
            else:
                return await self._async_after_prices(
                    {**self._options, CONF_PRICE_ENTITIES: entities}
                )
        default = self.config_entry.options.get(CONF_PRICE_ENTITIES, [])
        return self.async_show_form(
            step_id="price_entities",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_PRICE_ENTITIES, default=default): EntitySelector(
                        EntitySelectorConfig(domain=["sensor", "event"], multiple=True)
                    )
                }
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _price_count(self, entity_id: str) -> int | None:
        """How many prices the entity's attributes list; None without a readable list."""
        if (state := self.hass.states.get(entity_id)) is None:
            return None
        try:
            return len(slots_from_attributes(state.attributes, dt_util.get_default_time_zone()))
        except PriceFormatError:
            return None

    async def async_step_rate_schedule(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A time-of-use rate schedule: off-peak and peak prices, peak hours."""
        errors: dict[str, str] = {}
        current = {**self.config_entry.options, **(user_input or {})}
        if user_input is not None:
            weekend = (
                user_input.get(CONF_WEEKEND_PEAK_START),
                user_input.get(CONF_WEEKEND_PEAK_END),
            )
            if user_input[CONF_PEAK_PRICE] < user_input[CONF_OFFPEAK_PRICE]:
                errors[CONF_PEAK_PRICE] = "peak_below_offpeak"
            elif user_input[CONF_WEEKDAY_PEAK_START] == user_input[CONF_WEEKDAY_PEAK_END]:
                errors[CONF_WEEKDAY_PEAK_END] = "empty_window"
            elif bool(weekend[0]) != bool(weekend[1]):
                errors[CONF_WEEKEND_PEAK_END] = "incomplete_window"
            elif weekend[0] and weekend[0] == weekend[1]:
                errors[CONF_WEEKEND_PEAK_END] = "empty_window"
            else:
                return await self._async_after_prices({**self._options, **user_input})
        price = NumberSelector(
            NumberSelectorConfig(
                min=-10,
                max=10,
                step="any",
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=f"{self.hass.config.currency}/kWh",
            )
        )
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_OFFPEAK_PRICE, default=current.get(CONF_OFFPEAK_PRICE, 0.1)
                ): price,
                vol.Required(CONF_PEAK_PRICE, default=current.get(CONF_PEAK_PRICE, 0.3)): price,
                vol.Required(
                    CONF_WEEKDAY_PEAK_START,
                    default=current.get(CONF_WEEKDAY_PEAK_START, "16:00:00"),
                ): TimeSelector(),
                vol.Required(
                    CONF_WEEKDAY_PEAK_END, default=current.get(CONF_WEEKDAY_PEAK_END, "21:00:00")
                ): TimeSelector(),
                # Suggested, not defaulted: a cleared field must stay cleared (no weekend peak).
                vol.Optional(CONF_WEEKEND_PEAK_START): TimeSelector(),
                vol.Optional(CONF_WEEKEND_PEAK_END): TimeSelector(),
            }
        )
        suggested = {
            key: current[key]
            for key in (CONF_WEEKEND_PEAK_START, CONF_WEEKEND_PEAK_END)
            if current.get(key)
        }
        return self.async_show_form(
            step_id="rate_schedule",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )


def plan_allowance_selector() -> SelectSelector:
    """The plan's monthly calls per vehicle: Smartcar's usual values, or any number typed in."""
    return SelectSelector(
        SelectSelectorConfig(
            options=[str(value) for value in PLAN_ALLOWANCES],
            custom_value=True,
            translation_key="plan_allowance",
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


def plan_allowance(value: Any) -> int | None:
    """The allowance chosen or typed in; None unless a whole number from 0 up."""
    try:
        allowance = int(str(value).strip())
    except ValueError:
        return None
    return allowance if 0 <= allowance <= MAX_REQUEST_BUDGET else None
