"""Diagnostics with tokens, VINs, user ids and locations redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import (
    CONF_APPLICATION_ID,
    CONF_CLOUDHOOK_URL,
    CONF_MANAGEMENT_TOKEN,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_USER_ID,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from .coordinator import FlexChargingCoordinator
from .models import FlexChargingConfigEntry, VehicleData
from .plug_guard import PlugGuard
from .push import PushReceiver
from .session_log import SessionLog
from .smart_charging import Hold, SmartChargingState
from .smart_charging.sharing import SharedCharger, is_shared_charger

TO_REDACT = {
    CONF_APPLICATION_ID,
    CONF_MANAGEMENT_TOKEN,
    CONF_USER_ID,
    CONF_WEBHOOK_ID,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_CLOUDHOOK_URL,
    "token",
    "access_token",
    "client_secret",
    "vin",
    "location",
    "is_at_home",
    "latitude",
    "longitude",
    "vehicle_id",
    "event",  # a calendar event's title
}


def _smart(smart: SmartChargingState) -> dict[str, Any]:
    """Smart charging's settings, plan and last decision (nothing personal in them)."""
    plan = smart.plan
    intent = smart.session.intent
    return {
        "settings": smart.settings.as_dict(),
        "status": smart.status,
        "ready_by": smart.deadline,
        "departure": asdict(smart.departure) if smart.departure else None,
        "plugged": smart.session.plugged,
        "override": smart.session.hold is Hold.OVERRIDE,
        "manual": smart.session.hold is Hold.USER,
        "wanted": intent.charge if intent else None,
        "attempts": intent.attempts if intent else 0,
        "failed": intent.failed if intent else False,
        "power_kw": smart.learned.power_kw,
        "learned_percent_per_hour": smart.learned.percent_per_hour,
        "last_decision": asdict(smart.last_decision) if smart.last_decision else None,
        # The sun's controller: its wish, why, the surplus seen, a forecast's bar, today's count.
        "solar": asdict(smart.solar) if smart.solar else None,
        "plan": {
            "blocks": [asdict(block) for block in plan.blocks],
            "needed_hours": plan.needed_hours,
            "reaches_target": plan.reaches_target,
            "cost": plan.cost,
            "reference_cost": plan.reference_cost,
        }
        if plan
        else None,
    }


DIAGNOSTIC_SESSIONS = 20  # the last ones: enough to see what went wrong


def _shared_charger(charger: SharedCharger) -> dict[str, Any]:
    """A shared charger: its limit, and its vehicles in the order they were last served."""
    return {
        "mode": charger.limit.mode,
        "limit_kw": charger.limit.limit_kw,
        "vehicles": len(charger.device_ids),
        "loaded": len(charger.vehicles()),
        "order": charger.order,
    }


def _sessions(log: SessionLog, vehicle_id: str) -> dict[str, Any]:
    """The energy total, the open session (without its prices) and the last sessions."""
    session = log.open.get(vehicle_id)
    open_session = None
    if session is not None:
        open_session = {
            key: value for key, value in session.as_dict().items() if key != "prices"
        } | {"prices_known": len(session.prices)}
    return {
        "energy_total_kwh": log.energy_total.get(vehicle_id, 0.0),
        "open": open_session,
        "recorded": len(log.sessions(vehicle_id)),
        "last": [item.as_dict() for item in log.sessions(vehicle_id)[-DIAGNOSTIC_SESSIONS:]],
    }


def _vehicle(
    vehicle: VehicleData,
    smart: SmartChargingState,
    guard: PlugGuard | None,
    sessions: dict[str, Any],
) -> dict[str, Any]:
    return async_redact_data(
        {
            "info": asdict(vehicle.info),
            "state": asdict(vehicle.state),
            "key_state": vehicle.key_state,
            # Smartcar's own word on its key (None: only the key signal's hint so far).
            "key_confirmed": vehicle.key_confirmed,
            "key_confirmed_at": vehicle.key_confirmed_at,
            "available": vehicle.available,
            "last_success": vehicle.last_success,
            "last_webhook": vehicle.last_webhook,
            "last_error": vehicle.last_error,
            "empty_store": vehicle.empty_store,
            "signal_problems": dict(vehicle.signal_problems),
            "next_poll": vehicle.next_poll,
            "failures": vehicle.failures,
            "requests_used": vehicle.requests_used,
            "smart_charging": _smart(smart),
            "plug_guard": guard.diagnostics(vehicle.info.vehicle_id) if guard else None,
            "sessions": sessions,
        },
        TO_REDACT,
    )


def _receiver(receiver: PushReceiver | None) -> dict[str, Any] | None:
    """What the webhook accepted and refused since Home Assistant started."""
    if receiver is None:
        return None
    return {
        "accepted": receiver.accepted,
        "rejected": receiver.rejected,
        "last_rejection": receiver.last_rejection,
        "last_accepted_at": receiver.last_accepted_at,
        "signature_failures_in_a_row": receiver.signature_failures,
        "verification_open": receiver.verification_open,
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: FlexChargingConfigEntry
) -> dict[str, Any]:
    """The whole entry."""
    if is_shared_charger(entry):
        charger: SharedCharger = cast(Any, entry).runtime_data  # typed for vehicle entries
        return _shared_charger(charger)
    coordinator = entry.runtime_data.coordinator
    client = entry.runtime_data.client
    common = {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "price_problem": entry.runtime_data.smart_charging.prices.problem,
        "site": entry.runtime_data.smart_charging.site.diagnostics(),
        "sun": entry.runtime_data.smart_charging.solar.diagnostics(),
        "vehicles": [
            _vehicle(
                vehicle,
                entry.runtime_data.smart_charging.vehicle(vehicle_id),
                entry.runtime_data.plug_guard,
                _sessions(entry.runtime_data.sessions, vehicle_id),
            )
            for vehicle_id, vehicle in coordinator.data.items()
        ],
    }
    if not isinstance(coordinator, FlexChargingCoordinator) or client is None:
        # A vehicle from another integration: its entities are in the entry's data.
        return common
    return {
        **common,
        "budget": coordinator.budget,
        "webhooks_flowing": coordinator.webhooks_flowing,
        "last_webhook": coordinator.last_webhook,
        "update_interval": str(coordinator.update_interval),
        "billable_requests_since_start": sum(client.requests.billable.values()),
        "webhook_receiver": _receiver(entry.runtime_data.receiver),
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: FlexChargingConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """One vehicle."""
    coordinator = entry.runtime_data.coordinator
    vehicle_id = next(identifier for domain, identifier in device.identifiers if domain == DOMAIN)
    vehicle = coordinator.data.get(vehicle_id)
    if vehicle is None:
        return {"vehicle": None}
    runtime = entry.runtime_data
    return {
        "vehicle": _vehicle(
            vehicle,
            runtime.smart_charging.vehicle(vehicle_id),
            runtime.plug_guard,
            _sessions(runtime.sessions, vehicle_id),
        )
    }
