"""The emulator's whole state and the operations on it (also the in-process test API)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import itertools
import secrets
from typing import Any
import uuid

from emulator.clock import Clock, iso
from emulator.config import (
    APP_TYPES,
    COMMAND_RESPONSES,
    CONNECT_REDIRECTS,
    OPTION_TYPES,
    PAYLOAD_SIGNATURES,
    SUBSCRIPTION_PATHS,
    AppConfig,
    EmulatorOptions,
    type_problems,
)
from emulator.errors import ERROR_SHAPES
from emulator.faults import Fault, FaultBook, PlanLimits, RequestCounter
from emulator.fleet import (
    CREATE_FIELDS,
    DEFAULT_USER_ID,
    SETTABLE_FIELDS,
    User,
    Vehicle,
    apply_fields,
    check_fields,
    default_fleet,
    new_vehicle,
)
from emulator.signals import (
    ASLEEP,
    AT_HOME,
    CHARGE_LIMITS,
    CHARGING_STATUS,
    IS_CHARGING,
    KEY_PAIRED,
    ONLINE,
    PLUGGED_IN,
    SIGNAL_VARIANTS,
    SOC,
    VIRTUAL_KEY_PATH,
    SignalDef,
    SignalValue,
    apply_variants,
    compute_signals,
)
from emulator.webhooks import (
    Dispatcher,
    Event,
    Subscription,
    Webhook,
    vehicle_error_event,
    vehicle_state_event,
)

ALL_PERMISSIONS = (
    "control_charge",
    "read_battery",
    "read_charge",
    "read_location",
    "read_odometer",
    "read_vehicle_info",
    "read_vin",
)
DEFAULT_ORIGIN = "http://127.0.0.1:8765"
_SEQUENCE = itertools.count()


class NotFoundError(LookupError):
    """An admin or management operation named something that does not exist."""


class ConflictError(ValueError):
    """The thing to create already exists."""


@dataclass(slots=True)
class Connection:
    """A vehicle connected to the application by its user through Connect."""

    id: str
    user_id: str
    vehicle_id: str
    permissions: list[str]
    mode: str
    created_at: datetime
    updated_at: datetime
    seq: int

    def resource(self, origin: str, vehicle: Vehicle) -> dict[str, Any]:
        """Render as a v3 connection resource."""
        return {
            "id": self.id,
            "type": "connection",
            "attributes": {
                "permissions": sorted(self.permissions),
                "vehicle": vehicle.attributes(self.mode),
                "user": {"id": self.user_id},
            },
            "relationships": {
                "vehicle": {
                    "data": {"id": self.vehicle_id, "type": "vehicle"},
                    "links": {"related": f"{origin}/v3/vehicles/{self.vehicle_id}"},
                },
                "user": {"data": {"id": self.user_id, "type": "user"}},
            },
            "meta": {"createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at)},
            "links": {"self": f"{origin}/v3/connections/{self.id}"},
        }

    def as_dict(self) -> dict[str, Any]:
        """Describe the connection for the admin API."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "vehicle_id": self.vehicle_id,
            "permissions": sorted(self.permissions),
            "mode": self.mode,
            "created_at": iso(self.created_at),
        }


def _trigger(signal: SignalDef) -> dict[str, Any]:
    return {"type": "SIGNAL_UPDATED", "signal": signal.ref()}


class EmulatorState:
    """Everything the emulator knows, with the operations tests and routes use.

    The simulation is lazy: ``sync()`` brings every vehicle up to the clock's time,
    takes the readings Smartcar would have received, and sends webhooks for what
    changed. Routes call it on every request; the admin operations call it too.
    """

    def __init__(
        self, *, clock: Clock | None = None, options: EmulatorOptions | None = None
    ) -> None:
        """Create the default application, user and fleet."""
        self.clock = clock or Clock()
        self.options = options or EmulatorOptions()
        self.faults = FaultBook()
        self.requests = RequestCounter()
        self.plans = PlanLimits()
        self.app = AppConfig()
        self.dispatcher = Dispatcher(
            clock=lambda: self.clock,
            amt=lambda: self.app.amt,
            options=self.options,
            faults=self.faults,
        )
        self.seen_origin: str | None = None
        self.users: dict[str, User] = {}
        self.vehicles: dict[str, Vehicle] = {}
        self.connections: dict[str, Connection] = {}
        self.tokens: dict[str, datetime] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self._active_errors: dict[str, set[str]] = {}
        # Commands accepted with 202 PENDING: (when the car carries it out, vehicle, changes).
        self._deferred: list[tuple[datetime, str, dict[str, Any]]] = []
        self.reset()

    # --- whole state -------------------------------------------------------------

    def reset(self) -> None:
        """Return to the default application, user and fleet (keeps clock and options)."""
        now = self.clock.now()
        self.app = AppConfig()
        self.users = {DEFAULT_USER_ID: User(DEFAULT_USER_ID, "Default user")}
        self.vehicles = {vehicle.id: vehicle for vehicle in default_fleet(now)}
        self.connections = {}
        self.tokens = {}
        self.webhooks = {}
        self.subscriptions = {}
        self.faults.clear()
        self.requests.reset()
        self.plans.reset()
        self.dispatcher.log.clear()
        self._active_errors = {}
        self._deferred = []
        for vehicle in self.vehicles.values():
            self._adopt(vehicle, now)

    @property
    def origin(self) -> str:
        """Return the origin used in links outside a request."""
        return self.options.public_origin or self.seen_origin or DEFAULT_ORIGIN

    def as_dict(self) -> dict[str, Any]:
        """Describe the whole state for ``GET /_emulator/state``."""
        self.sync()
        now = self.clock.now()
        return {
            "clock": self.clock.as_dict(),
            "app": self.app.as_dict(),
            "options": self.options.as_dict(),
            "users": [user.as_dict() for user in self.users.values()],
            "vehicles": [
                vehicle.as_dict() | {"store_active": self.store_active(vehicle)}
                for vehicle in self.vehicles.values()
            ],
            "connections": [conn.as_dict() for conn in self._connections_sorted()],
            "webhooks": [webhook.as_dict() for webhook in self.webhooks.values()],
            "subscriptions": [sub.as_dict() for sub in self.subscriptions.values()],
            "faults": self.faults.as_list(),
            "requests": self.requests.as_dict(),
            "plans": self.plans.as_dict(self.month),
            "tokens_valid": sum(1 for expiry in self.tokens.values() if expiry > now),
            "deliveries": len(self.dispatcher.log),
        }

    async def close(self) -> None:
        """Stop background deliveries and close their HTTP session."""
        await self.dispatcher.close()

    async def wait_for_deliveries(self) -> None:
        """Wait until every scheduled webhook delivery (with retries) is done."""
        await self.dispatcher.drain()

    # --- clock ---------------------------------------------------------------------

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` and observe the result."""
        self.sync()
        now = self.clock.advance(seconds)
        self.sync()
        return now

    def set_time(self, when: datetime) -> datetime:
        """Set the clock to ``when`` and observe the result."""
        self.sync()
        now = self.clock.set(when)
        self.sync()
        return now

    def set_speed(self, speed: float) -> None:
        """Change the clock's speed factor."""
        self.sync()
        self.clock.set_speed(speed)

    # --- application, users, tokens ---------------------------------------------

    def update_app(self, changes: Mapping[str, Any]) -> AppConfig:
        """Change credentials, redirect URIs or Connect settings."""
        problems = type_problems(dict(changes), APP_TYPES)
        for name in ("redirect_uris", "add_redirect_uris"):
            if name in changes and not all(isinstance(u, str) for u in changes[name]):
                problems.append(f"{name} must be a list of strings")
        if problems:
            raise ValueError("; ".join(problems))
        for name, value in changes.items():
            if name == "add_redirect_uris":
                self.app.redirect_uris.extend(value)
            elif name == "redirect_uris":
                self.app.redirect_uris = list(value)
            else:
                setattr(self.app, name, value)
        return self.app

    def update_options(self, changes: Mapping[str, Any]) -> EmulatorOptions:
        """Change emulator options (see ``EmulatorOptions``)."""
        problems = type_problems(dict(changes), OPTION_TYPES)
        if changes.get("keyless_key_status", "error") not in ("error", "false", "true"):
            problems.append("keyless_key_status must be 'error', 'false' or 'true'")
        if changes.get("subscription_paths", "reference") not in SUBSCRIPTION_PATHS:
            problems.append(f"subscription_paths must be one of {sorted(SUBSCRIPTION_PATHS)}")
        if changes.get("rest_timestamps", "iso") not in ("iso", "epoch_ms"):
            problems.append("rest_timestamps must be 'iso' or 'epoch_ms'")
        if changes.get("error_shape", "jsonapi") not in ERROR_SHAPES:
            problems.append(f"error_shape must be one of {list(ERROR_SHAPES)}")
        if changes.get("command_response", "sync") not in COMMAND_RESPONSES:
            problems.append(f"command_response must be one of {sorted(COMMAND_RESPONSES)}")
        if changes.get("payload_signature", "amt") not in PAYLOAD_SIGNATURES:
            problems.append(f"payload_signature must be one of {sorted(PAYLOAD_SIGNATURES)}")
        if changes.get("paging_meta", "page") not in ("page", "pageNumber"):
            problems.append("paging_meta must be 'page' or 'pageNumber'")
        unknown = set(changes.get("signal_variants", [])) - set(SIGNAL_VARIANTS)
        if unknown:
            problems.append(f"unknown signal variants {sorted(unknown)}")
        if changes.get("connect_redirect", "documented") not in CONNECT_REDIRECTS:
            problems.append(f"connect_redirect must be one of {', '.join(CONNECT_REDIRECTS)}")
        if problems:
            raise ValueError("; ".join(problems))
        self.sync()
        for name, value in changes.items():
            setattr(self.options, name, value)
        return self.options

    def add_user(
        self,
        *,
        user_id: str | None = None,
        name: str | None = None,
        vehicles: Sequence[Mapping[str, Any]] = (),
    ) -> User:
        """Add a user owning new vehicles (specs use admin field names)."""
        user_id = user_id or str(uuid.uuid4())
        if user_id in self.users:
            raise ConflictError(f"user {user_id} exists")
        problems = []
        for spec in vehicles:
            problems += check_fields(spec, SETTABLE_FIELDS | CREATE_FIELDS)
            if spec.get("id") in self.vehicles:
                problems.append(f"vehicle {spec['id']} exists")
        if problems:
            raise ValueError("; ".join(problems))
        self.sync()
        now = self.clock.now()
        user = User(user_id, name or f"User {len(self.users) + 1}")
        self.users[user_id] = user
        for spec in vehicles:
            vehicle = new_vehicle(user_id, spec, now)
            self.vehicles[vehicle.id] = vehicle
            self._adopt(vehicle, now)
        return user

    def issue_token(self) -> tuple[str, int]:
        """Mint an application access token; return it and its lifetime in seconds."""
        token = "emu_" + secrets.token_urlsafe(24)
        ttl = self.app.token_ttl_seconds
        self.tokens[token] = self.clock.now() + timedelta(seconds=ttl)
        return token, ttl

    def token_valid(self, token: str) -> bool:
        """Whether ``token`` was issued and has not expired on the emulator clock."""
        expiry = self.tokens.get(token)
        return expiry is not None and expiry > self.clock.now()

    # --- connections -----------------------------------------------------------------

    def connect(
        self,
        *,
        user_id: str = DEFAULT_USER_ID,
        vehicle_ids: Iterable[str] | None = None,
        permissions: Iterable[str] = ALL_PERMISSIONS,
        mode: str = "live",
    ) -> list[Connection]:
        """Connect vehicles of ``user_id`` (default: all) as Connect's approval does."""
        if user_id not in self.users:
            raise NotFoundError(f"unknown user {user_id}")
        owned = [v.id for v in self.vehicles.values() if v.user_id == user_id]
        chosen = list(owned if vehicle_ids is None else vehicle_ids)
        if stray := [vid for vid in chosen if vid not in owned]:
            raise NotFoundError(f"vehicles not owned by {user_id}: {stray}")
        now = self.clock.now()
        granted = sorted(set(permissions))
        result = []
        for vehicle_id in chosen:
            conn = self.connection_for(vehicle_id)
            if conn is None:
                conn = Connection(
                    str(uuid.uuid4()), user_id, vehicle_id, granted, mode, now, now, next(_SEQUENCE)
                )
                self.connections[conn.id] = conn
            else:
                conn.permissions, conn.mode, conn.updated_at = granted, mode, now
            result.append(conn)
        return result

    def disconnect(self, connection_id: str) -> None:
        """Remove a connection and the vehicle's subscriptions."""
        conn = self.connections.pop(connection_id, None)
        if conn is None:
            raise NotFoundError(f"unknown connection {connection_id}")
        for sub in list(self.subscriptions.values()):
            if sub.vehicle_id == conn.vehicle_id:
                del self.subscriptions[sub.id]

    def connection_for(self, vehicle_id: str) -> Connection | None:
        """Return the vehicle's connection to the application, if any."""
        return next((c for c in self.connections.values() if c.vehicle_id == vehicle_id), None)

    def _connections_sorted(self) -> list[Connection]:
        return sorted(self.connections.values(), key=lambda c: (c.created_at, c.seq), reverse=True)

    def find_connections(
        self, *, user_id: str | None = None, vehicle_id: str | None = None, mode: str | None = None
    ) -> list[Connection]:
        """Return connections newest first, filtered like ``GET /v3/connections``."""
        return [
            conn
            for conn in self._connections_sorted()
            if (user_id is None or conn.user_id == user_id)
            and (vehicle_id is None or conn.vehicle_id == vehicle_id)
            and (mode is None or conn.mode == mode)
        ]

    # --- vehicles --------------------------------------------------------------------

    @property
    def month(self) -> str:
        """The emulator clock's month ("2026-06"): Smartcar's allowances are monthly."""
        now = self.clock.now()
        return f"{now.year:04d}-{now.month:02d}"

    def vehicle(self, vehicle_id: str) -> Vehicle:
        """Return a vehicle or raise ``NotFoundError``."""
        try:
            return self.vehicles[vehicle_id]
        except KeyError:
            raise NotFoundError(f"unknown vehicle {vehicle_id}") from None

    def patch_vehicle(self, vehicle_id: str, changes: Mapping[str, Any]) -> Vehicle:
        """Change a vehicle's physical state (admin field names); webhooks follow."""
        vehicle = self.vehicle(vehicle_id)
        problems = check_fields(changes, SETTABLE_FIELDS)
        plugged = changes.get("plugged_in", vehicle.plugged_in)
        if changes.get("charging") is True and not plugged:
            problems.append("a vehicle cannot charge while unplugged")
        if "key_paired" in changes and not vehicle.key_required:
            problems.append("this vehicle has no virtual key")
        if problems:
            raise ValueError("; ".join(problems))
        self.sync()
        now = self.clock.now()
        triggers = []
        for flag, signal in (("asleep", ASLEEP), ("reachable", ONLINE)):
            if flag in changes and changes[flag] != getattr(vehicle, flag):
                vehicle.flags_changed_at[flag] = now
                triggers.append(_trigger(signal))
        apply_fields(vehicle, {k: v for k, v in changes.items() if k != "key_paired"})
        if not vehicle.plugged_in or vehicle.soc >= vehicle.charge_limit:
            vehicle.charging = False
        if "reachable" in changes:
            self._set_error(vehicle, "UNREACHABLE", active=not vehicle.reachable)
        if "key_paired" in changes:
            triggers += self._set_key(vehicle, paired=bool(changes["key_paired"]))
        self._observe(vehicle, now, triggers)
        return vehicle

    def set_key(self, vehicle_id: str, *, paired: bool) -> Vehicle:
        """Pair or remove Smartcar's virtual key (as the Tesla app / Locks screen do)."""
        vehicle = self.vehicle(vehicle_id)
        if not vehicle.key_required:
            raise ValueError("this vehicle has no virtual key")
        self.sync()
        triggers = self._set_key(vehicle, paired=paired)
        if triggers:
            self._observe(vehicle, self.clock.now(), triggers)
        return vehicle

    def _set_key(self, vehicle: Vehicle, *, paired: bool) -> list[dict[str, Any]]:
        if vehicle.key_paired == paired:
            return []
        vehicle.key_paired = paired
        vehicle.flags_changed_at["key"] = self.clock.now()
        self._set_error(vehicle, "VIRTUAL_KEY_REQUIRED", active=not paired)
        return [_trigger(KEY_PAIRED)]

    def store_active(self, vehicle: Vehicle) -> bool:
        """Whether Smartcar's signal store holds data for ``vehicle``."""
        if not self.options.store_requires_subscription:
            return True
        return any(
            sub.vehicle_id == vehicle.id and self.webhooks[sub.webhook_id].verified
            for sub in self.subscriptions.values()
            if sub.webhook_id in self.webhooks
        )

    def signals_for(
        self, vehicle: Vehicle, *, origin: str | None = None, imperial: bool | None = None
    ) -> list[SignalValue]:
        """Return the vehicle's signals as the store holds them."""
        conn = self.connection_for(vehicle.id)
        reading = vehicle.reading or vehicle.take_reading(self.clock.now())
        values = compute_signals(
            vehicle,
            reading,
            permissions=conn.permissions if conn else ALL_PERMISSIONS,
            imperial=vehicle.unit == "imperial" if imperial is None else imperial,
            origin=origin or self.origin,
            keyless_key_status=self.options.keyless_key_status,
        )
        return apply_variants(values, self.options.signal_variants)

    # --- commands --------------------------------------------------------------------

    def wake(self, vehicle: Vehicle) -> list[dict[str, Any]]:
        """Wake an asleep vehicle; return the triggers this causes."""
        if not vehicle.asleep:
            return []
        vehicle.asleep = False
        vehicle.flags_changed_at["asleep"] = self.clock.now()
        return [_trigger(ASLEEP)]

    def defer(self, vehicle: Vehicle, changes: dict[str, Any], seconds: float) -> None:
        """The car carries out an accepted command (``changes``) ``seconds`` from now."""
        due = self.clock.now() + timedelta(seconds=seconds)
        self._deferred.append((due, vehicle.id, changes))

    def _carry_out_deferred(self, now: datetime) -> None:
        due = [item for item in self._deferred if item[0] <= now]
        self._deferred = [item for item in self._deferred if item[0] > now]
        for at, vehicle_id, changes in due:
            if (vehicle := self.vehicles.get(vehicle_id)) is None:
                continue
            vehicle.simulate(at)
            for name, value in changes.items():
                setattr(vehicle, name, value)
            self.commit(vehicle)

    def commit(self, vehicle: Vehicle, triggers: list[dict[str, Any]] | None = None) -> None:
        """Observe ``vehicle`` after a command changed it."""
        if not vehicle.plugged_in or vehicle.soc >= vehicle.charge_limit:
            vehicle.charging = False
        self._observe(vehicle, self.clock.now(), triggers or [])

    # --- simulation ------------------------------------------------------------------

    def sync(self) -> None:
        """Bring every vehicle up to the clock's time and send webhooks for changes."""
        now = self.clock.now()
        if self._deferred:
            self._carry_out_deferred(now)
        for vehicle in list(self.vehicles.values()):
            self._sync_vehicle(vehicle, now)

    def _adopt(self, vehicle: Vehicle, now: datetime) -> None:
        vehicle.reading = vehicle.take_reading(now)
        active = set()
        if vehicle.keyless:
            active.add("VIRTUAL_KEY_REQUIRED")
        if not vehicle.reachable:
            active.add("UNREACHABLE")
        self._active_errors[vehicle.id] = active

    def _sync_vehicle(self, vehicle: Vehicle, now: datetime) -> None:
        for at in self._report_times(vehicle, now):
            finished = vehicle.simulate(at)
            if finished is not None and finished < at and not vehicle.keyless:
                self._report(vehicle, finished)
            self._report(vehicle, at)
        vehicle.simulate(now)
        vehicle.polled_at = max(vehicle.polled_at, now)

    def _report_times(self, vehicle: Vehicle, now: datetime) -> list[datetime]:
        if vehicle.asleep or not vehicle.reachable:
            return []
        if not vehicle.keyless or vehicle.reading is None:
            return [now]
        period = timedelta(hours=self.options.keyless_refresh_hours)
        last = vehicle.reading.at
        if now - last < period:
            return []
        return [last + period * ((now - last) // period)]

    def _observe(self, vehicle: Vehicle, now: datetime, triggers: list[dict[str, Any]]) -> None:
        if vehicle.asleep or not vehicle.reachable or vehicle.keyless:
            vehicle.simulate(now)
            if triggers:
                self._emit_state(vehicle, triggers)
            return
        vehicle.simulate(now)
        self._report(vehicle, now, triggers)

    def _report(self, vehicle: Vehicle, at: datetime, extra: Sequence[dict[str, Any]] = ()) -> None:
        previous = vehicle.reading
        current = vehicle.take_reading(at)
        vehicle.reading = current
        triggers = []
        if previous is not None:
            for signal, before, after in (
                (PLUGGED_IN, previous.plugged_in, current.plugged_in),
                (IS_CHARGING, previous.charging, current.charging),
                (CHARGING_STATUS, previous.status, current.status),
                (SOC, previous.soc, current.soc),
                (CHARGE_LIMITS, previous.charge_limit, current.charge_limit),
                (AT_HOME, previous.is_at_home, current.is_at_home),
            ):
                if before != after:
                    triggers.append(_trigger(signal))
        triggers += [t for t in extra if t not in triggers]
        if triggers:
            self._emit_state(vehicle, triggers)

    def _set_error(self, vehicle: Vehicle, code: str, *, active: bool) -> None:
        current = self._active_errors.setdefault(vehicle.id, set())
        if (code in current) == active:
            return
        if active:
            current.add(code)
        else:
            current.discard(code)
        self._emit_error(vehicle, code, "ERROR" if active else "RESOLVED")

    # --- webhooks ----------------------------------------------------------------------

    def _hooks_for(self, vehicle: Vehicle) -> list[Webhook]:
        hooks = []
        for sub in self.subscriptions.values():
            webhook = self.webhooks.get(sub.webhook_id)
            # A disabled webhook gets nothing (inferred from get-webhook's isEnabled).
            if (
                sub.vehicle_id == vehicle.id
                and webhook is not None
                and webhook.verified
                and webhook.is_enabled
            ):
                hooks.append(webhook)
        return hooks

    def _state_event(
        self, vehicle: Vehicle, triggers: list[dict[str, Any]], mode: str = "LIVE"
    ) -> Event:
        now = self.clock.now()
        signals = [s.webhook(retrieved_at=now) for s in self.signals_for(vehicle)]
        return vehicle_state_event(vehicle, signals, triggers, mode=mode)

    def _emit_state(self, vehicle: Vehicle, triggers: list[dict[str, Any]]) -> None:
        for webhook in self._hooks_for(vehicle):
            self.dispatcher.send(webhook, self._state_event(vehicle, triggers))

    def _error_item(self, vehicle: Vehicle, code: str, state: str) -> dict[str, Any]:
        if code == "VIRTUAL_KEY_REQUIRED":
            return {
                "type": "CONNECTED_SERVICES_ACCOUNT",
                "code": code,
                "state": state,
                "description": "Vehicle requires a virtual key to be configured.",
                "suggestedUserMessage": "Add Smartcar's virtual key to your Tesla in the Tesla app.",
                "docURL": "https://smartcar.com/docs/errors/api-errors/connected-services-account-errors#virtual-key-required",
                "resolution": {"type": "ACTION_REQUIRED", "url": self.origin + VIRTUAL_KEY_PATH},
                "signals": ["ConnectivityStatus.IsDigitalKeyPaired"],
            }
        return {
            "type": "VEHICLE_STATE",
            "code": code,
            "state": state,
            "description": "The vehicle is unreachable: it may be out of network coverage.",
            "suggestedUserMessage": "Your car is unreachable. Make sure it has network coverage.",
            "docURL": "https://smartcar.com/docs/errors/api-errors/vehicle-state-errors#unreachable",
            "resolution": {"type": "RETRY_LATER"},
            "signals": [f"{s.group}.{s.name}" for s in (SOC, IS_CHARGING, PLUGGED_IN)],
        }

    def _emit_error(self, vehicle: Vehicle, code: str, state: str) -> None:
        for webhook in self._hooks_for(vehicle):
            item = self._error_item(vehicle, code, state)
            self.dispatcher.send(webhook, vehicle_error_event(vehicle, [item]))

    async def create_webhook(
        self,
        callback_uri: str,
        *,
        name: str = "Emulator webhook",
        webhook_id: str | None = None,
        verify: bool = True,
        verified: bool = False,
        is_enabled: bool = True,
        error_callback_uri: str | None = None,
    ) -> Webhook:
        """Create a webhook; VERIFY it unless ``verify`` is false (then ``verified`` is taken)."""
        webhook_id = webhook_id or str(uuid.uuid4())
        if webhook_id in self.webhooks:
            raise ConflictError(f"webhook {webhook_id} exists")
        webhook = Webhook(
            webhook_id,
            name,
            callback_uri,
            self.clock.now(),
            verified=verified,
            is_enabled=is_enabled,
            error_callback_uri=error_callback_uri,
        )
        self.webhooks[webhook_id] = webhook
        if verify:
            await self.dispatcher.verify(webhook)
        return webhook

    async def verify_webhook(self, webhook_id: str) -> bool:
        """Send VERIFY again; return whether the webhook is now verified."""
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            raise NotFoundError(f"unknown webhook {webhook_id}")
        return await self.dispatcher.verify(webhook)

    def subscribe(
        self, webhook_id: str, vehicle_id: str, user_id: str | None = None
    ) -> Subscription:
        """Subscribe a connected vehicle to a webhook; FIRST_DELIVERY follows."""
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            raise NotFoundError(f"unknown webhook {webhook_id}")
        vehicle = self.vehicles.get(vehicle_id)
        if vehicle is None or self.connection_for(vehicle_id) is None:
            raise NotFoundError(f"unknown vehicle {vehicle_id}")
        if user_id is not None and user_id != vehicle.user_id:
            raise NotFoundError(f"vehicle {vehicle_id} is not connected for user {user_id}")
        if any(
            s.webhook_id == webhook_id and s.vehicle_id == vehicle_id
            for s in self.subscriptions.values()
        ):
            raise ConflictError("vehicle already subscribed to this webhook")
        self.sync()
        sub = Subscription(
            str(uuid.uuid4()), webhook_id, vehicle.user_id, vehicle_id, self.clock.now()
        )
        self.subscriptions[sub.id] = sub
        if webhook.verified:
            self.dispatcher.send(webhook, self._state_event(vehicle, [{"type": "FIRST_DELIVERY"}]))
            for code in sorted(self._active_errors.get(vehicle_id, ())):
                item = self._error_item(vehicle, code, "ERROR")
                self.dispatcher.send(webhook, vehicle_error_event(vehicle, [item]))
        return sub

    def unsubscribe(self, subscription_id: str) -> None:
        """Delete a subscription."""
        if self.subscriptions.pop(subscription_id, None) is None:
            raise NotFoundError(f"unknown subscription {subscription_id}")

    def send_test_delivery(
        self,
        webhook_id: str,
        *,
        vehicle_id: str | None = None,
        mode: str = "TEST",
        bad_signature: bool = False,
    ) -> Event:
        """Send one VEHICLE_STATE to a webhook, verified or not (``mode`` TEST or LIVE)."""
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            raise NotFoundError(f"unknown webhook {webhook_id}")
        if vehicle_id is None:
            subscribed = [s.vehicle_id for s in self.subscriptions.values()]
            vehicle_id = subscribed[0] if subscribed else next(iter(self.vehicles))
        vehicle = self.vehicle(vehicle_id)
        self.sync()
        event = self._state_event(vehicle, [_trigger(SOC)], mode=mode)
        event.bad_signature = bad_signature
        self.dispatcher.send(webhook, event)
        return event

    # --- faults ----------------------------------------------------------------------

    def add_fault(
        self,
        kind: str,
        *,
        vehicle_id: str | None = None,
        path: str | None = None,
        count: int = 1,
        retry_after: int | None = None,
        delay: float | None = None,
        variant: str | None = None,
    ) -> Fault:
        """Inject a fault (see ``emulator.faults.FAULT_KINDS``)."""
        return self.faults.add(
            kind,
            vehicle_id=vehicle_id,
            path=path,
            count=count,
            retry_after=retry_after,
            delay=delay,
            variant=variant,
        )

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.faults.clear()
