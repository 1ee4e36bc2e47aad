"""The request budget: when to read a vehicle next (pure; no Home Assistant, no I/O).

Smartcar bills every successful vehicle request, commands included, against a monthly allowance
per vehicle (as little as 500). The poll scheduler spreads what is left of the month's budget over what
is left of the month, spending it where a change is likely and quickly visible to the user:
while the car is plugged in and not yet full ("active"), a read costs the same but is worth more.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

COMMAND_RESERVE_SHARE = 0.05  # kept back for commands and manual refreshes
ACTIVE_WEIGHT = 6.0  # an active period is read this many times as often as an idle one
MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(hours=12)
WEBHOOK_INTERVAL = timedelta(hours=12)  # a safety net when Smartcar pushes every change
KEYLESS_TESLA_INTERVAL = timedelta(hours=8)  # Smartcar serves key-less Teslas once every 8 h
DEFAULT_ACTIVE_SHARE = 0.5
ACTIVE_SHARE_MEMORY_HOURS = 72.0  # the active share is learned over about three days


@dataclass(frozen=True, slots=True, kw_only=True)
class PollContext:
    """What the poll scheduler needs to know about one vehicle."""

    budget: int  # billable requests allowed this month
    used: int  # billable requests made this month
    active: bool  # plugged in and not full, charging, or just after a command
    active_share: float = DEFAULT_ACTIVE_SHARE  # observed share of time the vehicle is active
    webhooks_flowing: bool = False
    key_missing: bool = False


def month_end(now: datetime) -> datetime:
    """The first instant of the next month, in `now`'s time zone."""
    days = calendar.monthrange(now.year, now.month)[1]
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start + timedelta(days=days)


def poll_interval(context: PollContext, now: datetime) -> timedelta:
    """How long to wait before reading the vehicle again.

    Polls needed over the rest of the month: T·(a/Iₐ + (1−a)/Iᵢ) with Iᵢ = w·Iₐ, which must not
    exceed the requests left R. Solving gives Iₐ = T·(a + (1−a)/w) / R.
    """
    left = context.budget * (1 - COMMAND_RESERVE_SHARE) - context.used
    remaining_time = (month_end(now) - now).total_seconds()
    if left < 1:
        # Budget spent: one read a day keeps the key state and availability honest.
        return timedelta(days=1)
    if context.webhooks_flowing:
        interval = max(WEBHOOK_INTERVAL, timedelta(seconds=remaining_time / left))
        return min(interval, timedelta(days=1))
    share = min(max(context.active_share, 0.05), 1.0)
    active_seconds = remaining_time * (share + (1 - share) / ACTIVE_WEIGHT) / left
    seconds = active_seconds if context.active else active_seconds * ACTIVE_WEIGHT
    interval = min(max(timedelta(seconds=seconds), MIN_INTERVAL), MAX_INTERVAL)
    if context.key_missing:
        interval = max(interval, KEYLESS_TESLA_INTERVAL)
    return interval


def backoff(failures: int, retry_after: float | None = None) -> timedelta:
    """Wait after a failed read: Smartcar's `Retry-After` when given, else doubling from 1 min."""
    if retry_after is not None:
        return timedelta(seconds=max(retry_after, 1.0))
    return min(timedelta(minutes=2 ** min(max(failures - 1, 0), 6)), timedelta(hours=1))


def updated_active_share(share: float, *, was_active: bool, hours: float) -> float:
    """Learn the share of time a vehicle is active, weighting each reading by the time it covers.

    Weighting by time (not by reading) matters: active periods are read more often, so a
    per-reading average would overstate them and leave budget unspent.
    """
    weight = min(max(hours, 0.0) / ACTIVE_SHARE_MEMORY_HOURS, 1.0)
    return share + weight * ((1.0 if was_active else 0.0) - share)
