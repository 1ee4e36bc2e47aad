"""This month's billable requests per vehicle, and Smartcar's refusal past the plan's limit (430).

Smartcar bills successful reads and commands against the plan's calls per vehicle per month;
past them it answers HTTP 430 BILLING / VEHICLE_REQUEST_LIMIT to every read and command.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from . import budget
from .api import SmartcarBillingError
from .const import CONF_REQUEST_BUDGET, LOGGER
from .models import VehicleData

if TYPE_CHECKING:
    from .coordinator import FlexChargingCoordinator


def count_usage(coordinator: FlexChargingCoordinator, vehicle_id: str) -> None:
    """Add the client's new billable requests for the vehicle to this month's usage."""
    used = coordinator.usage.count(vehicle_id, coordinator.client.requests.billable[vehicle_id])
    if vehicle := coordinator.data.get(vehicle_id):
        vehicle.requests_used = used


def limit_reached(
    coordinator: FlexChargingCoordinator, vehicle: VehicleData, err: SmartcarBillingError
) -> None:
    """Smartcar refuses this vehicle for the plan's limit: no reads until the month rolls over.

    The budget comes down to what Smartcar actually allowed (what was used when it refused).
    """
    vehicle_id = vehicle.info.vehicle_id
    vehicle.last_error = "billing"
    vehicle.limit_hit = True
    vehicle.next_poll = budget.month_end(dt_util.now())
    usage = coordinator.usage
    usage.limited.add(vehicle_id)
    usage.save()
    used = usage.get(vehicle_id)
    LOGGER.warning(
        "Smartcar refused %s for the plan's limit (%s) after %d requests this month; "
        "no more reads until next month",
        vehicle.info.display_name,
        err.code or err.error_type,
        used,
    )
    if used < coordinator.budget:
        coordinator.budget = used
        entry = coordinator.config_entry
        coordinator.hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_REQUEST_BUDGET: used}
        )
    coordinator.sync_issues()


def roll_month(coordinator: FlexChargingCoordinator, now: datetime) -> None:
    """A new month: usage starts from zero, and a vehicle refused for the limit is read at once."""
    if coordinator.usage.roll(dt_util.as_local(now)):
        for vehicle in coordinator.data.values():
            vehicle.requests_used = 0
            if vehicle.limit_hit:
                vehicle.limit_hit = False
                vehicle.next_poll = None  # read at once: the new month's allowance
