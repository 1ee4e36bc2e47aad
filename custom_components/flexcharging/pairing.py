"""The guided virtual-key steps, written once for the config flow and the repair flow.

Per Tesla: a form with the steps, a QR code and the same link as a tappable Markdown link; then a
progress step that checks until Smartcar confirms its key (or time runs out).

The check reads the car's key signal, which is only a hint (`isdigitalkeypaired` is documented as
"a digital key has been paired": perhaps the owner's phone key). When the car reports a key, it
asks Smartcar itself: the car's charge limit is sent again, a command that changes nothing and
that Smartcar refuses with VIRTUAL_KEY_REQUIRED while its key is missing (Tesla FAQ).
"""

from __future__ import annotations

from abc import abstractmethod
import asyncio
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from homeassistant.core import callback
from homeassistant.data_entry_flow import FlowHandler, FlowResult
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.selector import (
    QrCodeSelector,
    QrCodeSelectorConfig,
    QrErrorCorrectionLevel,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from .api import (
    CHARGE_LIMIT_RANGE,
    KeyState,
    SmartcarClient,
    SmartcarError,
    SmartcarRateLimitError,
    SmartcarVirtualKeyRequiredError,
)
from .const import LOGGER, SIGNAL_KEY_STATE_CHANGED

TESLA_APP_IOS_URL = "https://apps.apple.com/app/tesla/id582007913"
TESLA_APP_ANDROID_URL = "https://play.google.com/store/apps/details?id=com.teslamotors.tesla"

ACTION_CHECK = "check"
ACTION_SKIP = "skip"


def pairing_link(client: SmartcarClient, resolution_url: str | None, vin: str | None) -> str:
    """The link that adds the key: the error's resolution.url when Smartcar gave one.

    Smartcar's VIRTUAL_KEY_REQUIRED carries `resolution.url` (connected-services-account-errors;
    Enterprise apps get their own key there); otherwise Tesla's smartcar.com link. With a VIN
    (several Teslas) the Tesla app preselects that car.
    """
    usable = resolution_url and resolution_url.startswith(("https://", "http://"))
    return client.urls.virtual_key_for(vin, resolution_url if usable else None)


async def async_probe_key(
    client: SmartcarClient, vehicle_id: str, user_id: str, charge_limit: float | None
) -> tuple[KeyState, str | None]:
    """Ask Smartcar whether its key is there: send the car's charge limit again.

    PAIRED when Smartcar carries it out (or accepts it), MISSING on VIRTUAL_KEY_REQUIRED (with
    the error's resolution.url), UNCONFIRMED when nothing could be sent (no known limit) or
    Smartcar answered otherwise.
    """
    low, high = CHARGE_LIMIT_RANGE
    if charge_limit is None or not low <= round(charge_limit) <= high:
        return KeyState.UNCONFIRMED, None
    try:
        await client.async_set_charge_limit(vehicle_id, user_id, round(charge_limit))
    except SmartcarVirtualKeyRequiredError as err:
        return KeyState.MISSING, err.resolution_url
    except SmartcarError as err:
        LOGGER.debug("Key probe of %s was not carried out: %s", vehicle_id, err)
        return KeyState.UNCONFIRMED, None
    return KeyState.PAIRED, None


@dataclass(frozen=True, slots=True)
class PairingVehicle:
    """A Tesla whose key the user is pairing."""

    vehicle_id: str
    name: str
    link: str  # the virtual-key link, with ?vin= when the account has several Teslas


class KeyPairingFlow[ResultT: FlowResult[Any, Any]](FlowHandler[Any, ResultT, Any]):
    """Steps `pair_key` → `verify_key` → `key_paired`, shared by the config and repair flows."""

    pairing_can_skip = True
    # Repair dialogs do not follow a progress step to its end in Home Assistant's frontend, so
    # the repair flow checks within the request (up to `key_check_inline_timeout`) instead.
    pairing_checks_inline = False
    # How long the check waits for the car to report its new key, and the pauses between reads.
    key_check_timeout: ClassVar[timedelta] = timedelta(minutes=3)
    key_check_delays: ClassVar[tuple[float, ...]] = (5.0, 10.0, 15.0, 20.0, 30.0)
    key_check_inline_timeout: ClassVar[timedelta] = timedelta(seconds=20)
    _pairing: PairingVehicle | None = None
    _pairing_task: asyncio.Task[KeyState] | None = None
    _pairing_error: str | None = None
    _pairing_position = ""

    @abstractmethod
    async def async_read_key_state(self, vehicle_id: str) -> KeyState:
        """Read the vehicle's key state now (one API request); the signal gives UNCONFIRMED."""

    @abstractmethod
    async def async_confirm_key(self, vehicle_id: str) -> KeyState:
        """Ask Smartcar itself (`async_probe_key`): PAIRED, MISSING or UNCONFIRMED."""

    @abstractmethod
    async def async_pairing_finished(self, state: KeyState | None) -> ResultT:
        """Continue after a vehicle: its key state, or None when the user skipped it."""

    def async_start_pairing(
        self, vehicle: PairingVehicle, position: str = "", error: str | None = None
    ) -> None:
        """Choose the vehicle the next `pair_key` step is about."""
        self._pairing = vehicle
        self._pairing_position = position
        self._pairing_error = error

    async def async_step_pair_key(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Show the steps, the QR code and the link; then check, or skip."""
        vehicle = self._pairing
        assert vehicle is not None
        if user_input is not None:
            if user_input.get("next_action") == ACTION_SKIP and self.pairing_can_skip:
                return await self.async_pairing_finished(None)
            if self.pairing_checks_inline:
                # A task of the flow's, so closing the dialog cancels it (async_remove).
                self._pairing_task = self.hass.async_create_task(
                    self._async_wait_for_key(
                        vehicle.vehicle_id, self.key_check_inline_timeout.total_seconds()
                    )
                )
                try:
                    state = await self._pairing_task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # this request itself was cancelled
                    return self.async_abort(reason="check_cancelled")  # the dialog was closed
                finally:
                    self._pairing_task = None
                if state is KeyState.PAIRED:
                    return await self.async_pairing_finished(KeyState.PAIRED)
                self._pairing_error = _error_for(state)
                return await self.async_step_pair_key()
            return await self.async_step_verify_key()

        actions = [ACTION_CHECK, ACTION_SKIP] if self.pairing_can_skip else [ACTION_CHECK]
        schema = vol.Schema(
            {
                vol.Optional("qr_code"): QrCodeSelector(
                    QrCodeSelectorConfig(
                        data=vehicle.link,
                        scale=6,
                        error_correction_level=QrErrorCorrectionLevel.QUARTILE,
                    )
                ),
                vol.Required("next_action", default=ACTION_CHECK): SelectSelector(
                    SelectSelectorConfig(
                        options=actions,
                        translation_key="pair_key_action",
                        mode=SelectSelectorMode.LIST,
                    )
                ),
            }
        )
        errors = {"base": self._pairing_error} if self._pairing_error else None
        return self.async_show_form(
            step_id="pair_key",
            data_schema=schema,
            errors=errors,
            description_placeholders={
                "vehicle": vehicle.name,
                "position": self._pairing_position,
                "virtual_key_link": f"[{vehicle.link}]({vehicle.link})",
                "virtual_key_url": vehicle.link,
                "ios_app_url": TESLA_APP_IOS_URL,
                "android_app_url": TESLA_APP_ANDROID_URL,
            },
            last_step=False,
        )

    async def async_step_verify_key(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Wait, with a progress bar, until the car reports its key."""
        vehicle = self._pairing
        assert vehicle is not None
        if self._pairing_task is None:
            self._pairing_task = self.hass.async_create_task(
                self._async_wait_for_key(vehicle.vehicle_id), eager_start=False
            )
        if not self._pairing_task.done():
            return self.async_show_progress(
                step_id="verify_key",
                progress_action="wait_for_key",
                description_placeholders={"vehicle": vehicle.name},
                progress_task=self._pairing_task,
            )
        task, self._pairing_task = self._pairing_task, None
        state = task.result()
        if state is KeyState.PAIRED:
            self._pairing_error = None
            return self.async_show_progress_done(next_step_id="key_paired")
        self._pairing_error = _error_for(state)
        return self.async_show_progress_done(next_step_id="pair_key")

    async def async_step_key_paired(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """The key is paired: move on."""
        return await self.async_pairing_finished(KeyState.PAIRED)

    async def _async_wait_for_key(self, vehicle_id: str, total: float | None = None) -> KeyState:
        """Re-read the key state with growing pauses; a webhook delivery cuts a pause short.

        While the signal says UNCONFIRMED, Smartcar is asked (a billable command that wakes the
        car) once per check, and again only after a webhook delivery or a change of the signal;
        in between, its last answer stands.
        """
        loop = self.hass.loop
        total = self.key_check_timeout.total_seconds() if total is None else total
        started = loop.time()
        delays = iter(self.key_check_delays)
        woken = asyncio.Event()

        @callback
        def _wake() -> None:
            woken.set()

        unsubscribe = async_dispatcher_connect(
            self.hass, SIGNAL_KEY_STATE_CHANGED.format(vehicle_id), _wake
        )
        state = KeyState.UNKNOWN
        signal = KeyState.UNKNOWN  # the last key state the car's signal gave
        answer: KeyState | None = None  # Smartcar's answer since then (None: ask it)
        try:
            while True:
                pause = 0.0
                if woken.is_set():
                    answer = None  # something happened to the key: worth asking again
                woken.clear()  # a delivery during the read below ends the next pause at once
                try:
                    state = await self.async_read_key_state(vehicle_id)
                except SmartcarVirtualKeyRequiredError:
                    state = KeyState.MISSING
                except SmartcarRateLimitError as err:
                    pause = err.retry_after or 0.0
                    state = KeyState.UNKNOWN
                except SmartcarError as err:
                    LOGGER.debug("Key check of %s failed: %s", vehicle_id, err)
                    state = KeyState.UNKNOWN
                if state is not KeyState.UNKNOWN and state is not signal:
                    signal, answer = state, None
                if state is KeyState.UNCONFIRMED and answer is not None:
                    state = answer
                elif state is KeyState.UNCONFIRMED:
                    # The car reports a digital key: only Smartcar can say it is its own.
                    with suppress(TimeoutError):
                        async with asyncio.timeout(max(total - (loop.time() - started), 1.0)):
                            state = await self.async_confirm_key(vehicle_id)
                    answer = state
                if state in (KeyState.PAIRED, KeyState.NOT_REQUIRED):
                    return KeyState.PAIRED
                elapsed = loop.time() - started
                if elapsed >= total:
                    return state
                if not self.pairing_checks_inline:
                    self.async_update_progress(min(elapsed / total, 1.0))
                pause = max(pause, next(delays, self.key_check_delays[-1]))
                with suppress(TimeoutError):
                    async with asyncio.timeout(min(pause, total - elapsed)):
                        await woken.wait()
        finally:
            unsubscribe()

    def async_cancel_pairing(self) -> None:
        """Stop a running key check (the dialog was closed)."""
        if self._pairing_task is not None and not self._pairing_task.done():
            self._pairing_task.cancel()
        self._pairing_task = None


def _error_for(state: KeyState) -> str:
    """The form error after a check that did not find the key, saying what was checked."""
    return {
        KeyState.MISSING: "key_not_detected",
        KeyState.UNCONFIRMED: "key_unconfirmed",
    }.get(state, "key_state_unknown")
