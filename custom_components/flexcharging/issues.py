"""Each vehicle's repair issues: virtual key, no data, plan limit, budget, charging problem."""

from __future__ import annotations

from collections.abc import Mapping
import hashlib

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .api import KeyState
from .const import CONF_WEBHOOK_VERIFIED, DOMAIN, SMARTCAR_DASHBOARD_URL
from .models import VehicleData


def _short_hash(vehicle_id: str) -> str:
    # Issue ids appear in diagnostics and .storage: keep the vehicle id out of them.
    return hashlib.sha256(vehicle_id.encode()).hexdigest()[:16]


def key_issue_id(vehicle_id: str) -> str:
    """The repair issue of a vehicle whose virtual key is missing."""
    return f"virtual_key_missing_{_short_hash(vehicle_id)}"


def subscription_issue_id(vehicle_id: str) -> str:
    """The repair issue of a vehicle Smartcar serves no data for."""
    return f"not_subscribed_{_short_hash(vehicle_id)}"


def charging_problem_issue_id(vehicle_id: str) -> str:
    """The repair issue of a vehicle that does not charge (or stop) as planned."""
    return f"charging_problem_{_short_hash(vehicle_id)}"


def raise_charging_problem(hass: HomeAssistant, vehicle_id: str, name: str, cause: str) -> None:
    """The watchdog gave up on a vehicle: say why (one translation per cause)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        charging_problem_issue_id(vehicle_id),
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=f"charging_problem_{cause}",
        translation_placeholders={"vehicle": name},
    )


def clear_charging_problem(hass: HomeAssistant, vehicle_id: str) -> None:
    """The vehicle does as planned again."""
    ir.async_delete_issue(hass, DOMAIN, charging_problem_issue_id(vehicle_id))


def plan_at_risk_issue_id(vehicle_id: str) -> str:
    """The repair issue of a vehicle whose plan cannot reach its target in time."""
    return f"plan_at_risk_{_short_hash(vehicle_id)}"


def raise_plan_at_risk(
    hass: HomeAssistant, entry_id: str, vehicle_id: str, placeholders: dict[str, str]
) -> None:
    """The plan falls short: offer charge now, accept less, or ignore this time."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        plan_at_risk_issue_id(vehicle_id),
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="plan_at_risk",
        translation_placeholders=placeholders,
        data={"entry_id": entry_id, "vehicle_id": vehicle_id, "kind": "plan_at_risk"},
    )


def clear_plan_at_risk(hass: HomeAssistant, vehicle_id: str) -> None:
    """The plan reaches the target again (or the session ended)."""
    ir.async_delete_issue(hass, DOMAIN, plan_at_risk_issue_id(vehicle_id))


def limit_issue_id(vehicle_id: str) -> str:
    """The repair issue of a vehicle Smartcar refused for the plan's monthly limit."""
    return f"request_limit_reached_{_short_hash(vehicle_id)}"


def budget_issue_id(vehicle_id: str) -> str:
    """The repair issue of a vehicle whose budget runs out days before the month ends."""
    return f"budget_running_out_{_short_hash(vehicle_id)}"


def sync_vehicle_issues(
    hass: HomeAssistant, entry_id: str, vehicles: Mapping[str, VehicleData]
) -> None:
    """Create or delete each vehicle's repair issues from the data (the only writer)."""
    for vehicle_id, vehicle in vehicles.items():
        if vehicle.key_state is KeyState.MISSING:
            ir.async_create_issue(
                hass,
                DOMAIN,
                key_issue_id(vehicle_id),
                is_fixable=True,
                is_persistent=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="virtual_key_missing",
                translation_placeholders={"vehicle": vehicle.info.display_name},
                data={"entry_id": entry_id, "vehicle_id": vehicle_id},
            )
        elif not fix_flow_open(hass, key_issue_id(vehicle_id)):
            # With its fix flow open the issue stays: deleting it would close the user's
            # dialog mid-step. The flow ends it (paired), or its closing re-checks.
            ir.async_delete_issue(hass, DOMAIN, key_issue_id(vehicle_id))
        if vehicle.empty_store:
            ir.async_create_issue(
                hass,
                DOMAIN,
                subscription_issue_id(vehicle_id),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="not_subscribed",
                translation_placeholders={"vehicle": vehicle.info.display_name},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, subscription_issue_id(vehicle_id))
        _sync_budget_issues(hass, vehicle_id, vehicle)


def fix_flow_open(hass: HomeAssistant, issue_id: str) -> bool:
    """Whether the user has the issue's repair dialog open."""
    if (manager := repairs_flow_manager(hass)) is None:
        return False
    return any(
        flow["context"].get("issue_id") == issue_id
        for flow in manager.async_progress_by_handler(DOMAIN)
    )


def _sync_budget_issues(hass: HomeAssistant, vehicle_id: str, vehicle: VehicleData) -> None:
    placeholders = {
        "vehicle": vehicle.info.display_name,
        "used": str(vehicle.requests_used),
    }
    if vehicle.limit_hit:
        ir.async_create_issue(
            hass,
            DOMAIN,
            limit_issue_id(vehicle_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="request_limit_reached",
            translation_placeholders=placeholders,
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, limit_issue_id(vehicle_id))
    if vehicle.budget_at_risk and vehicle.forecast_exhausted is not None:
        ir.async_create_issue(
            hass,
            DOMAIN,
            budget_issue_id(vehicle_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="budget_running_out",
            translation_placeholders={
                **placeholders,
                "date": vehicle.forecast_exhausted.date().isoformat(),
            },
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, budget_issue_id(vehicle_id))


def delete_vehicle_issues(hass: HomeAssistant, vehicle_id: str) -> None:
    """A vehicle left the account: its issues go with it."""
    ir.async_delete_issue(hass, DOMAIN, key_issue_id(vehicle_id))
    ir.async_delete_issue(hass, DOMAIN, subscription_issue_id(vehicle_id))
    clear_charging_problem(hass, vehicle_id)
    clear_plan_at_risk(hass, vehicle_id)

    ir.async_delete_issue(hass, DOMAIN, limit_issue_id(vehicle_id))
    ir.async_delete_issue(hass, DOMAIN, budget_issue_id(vehicle_id))


WEBHOOK_SIGNATURE_KEYS: dict[bool | None, str] = {
    True: "webhook_signature_failing",
    False: "webhook_signature_failing_unverified",
    None: "webhook_signature_failing_unknown",
}


@callback
def webhook_verified(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Smartcar's VERIFY was answered: keep that with the entry, and say so in a raised repair."""
    if entry.data.get(CONF_WEBHOOK_VERIFIED) is not True:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_WEBHOOK_VERIFIED: True}
        )
    if ir.async_get(hass).async_get_issue(DOMAIN, webhook_signature_issue_id(entry.entry_id)):
        sync_webhook_signature_issue(hass, entry.entry_id, failing=True, verified=True)


def webhook_signature_issue_id(entry_id: str) -> str:
    """The repair issue of an entry whose Smartcar deliveries keep failing the signature."""
    return f"webhook_signature_failing_{entry_id}"


def sync_webhook_signature_issue(
    hass: HomeAssistant, entry_id: str, failing: bool, verified: bool | None
) -> None:
    """Raise the signature repair while signed deliveries keep failing; clear it after one passes.

    After a VERIFY FlexCharging answered, the token matched: the failures are the condition
    reported for real v3 applications (https://github.com/wbyoung/smartcar/issues/130, /issues/139,
    /pull/141). Without one, the token is the first suspect; not known (an entry from before this
    was recorded): both, token first.
    """
    issue_id = webhook_signature_issue_id(entry_id)
    if not failing:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=WEBHOOK_SIGNATURE_KEYS[verified],
        learn_more_url=SMARTCAR_DASHBOARD_URL,
    )
