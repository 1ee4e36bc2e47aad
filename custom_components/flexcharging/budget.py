"""The request budget: when to read a vehicle next (pure; no Home Assistant, no I/O).

Smartcar bills every successful vehicle request, commands included, against the plan's monthly
allowance per vehicle (0, 100 or 500 since December 2025). Commands smart charging is expected to
send are reserved first, and without webhooks a share for the plug-in guard (plug_guard.py: its
learned times and its trigger entities' bursts); with a small plan (100 or less) webhooks carry
the data and a read happens only on demand or when a webhook is overdue. Otherwise the poll
scheduler spreads what is left of the month's budget over what is left of the month, spending
it where a change is likely and quickly visible to the user: while the car is plugged in and
not yet full ("active"), a read costs the same but is worth more.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
import math

from .plug_pattern import BURST_OFFSETS

COMMAND_RESERVE_SHARE = 0.05  # kept back for commands and manual refreshes
COMMANDS_PER_SESSION = 2  # smart charging starts and stops a session
SESSIONS_PER_DAY = 1.0  # managed charging: about one session a day
# The month's own command rate is reserved when higher (a site limit's pauses and resumes, a
# shared charger's turns, retries), read over at least this many days: one busy first evening
# (20 pauses and resumes) must not leave the next days a read a day (tests/test_budget.py).
OBSERVED_MIN_DAYS = 10.0
# Managed charging without webhooks, on plans above SMALL_PLAN: this share of the plan is kept
# for the plug-in guard's reads (a car's own start at plug-in costs money until it is seen),
# as reads a day, plus one day's more (guard_reserve).
GUARD_SHARE = 0.3
# With trigger entities, reads a day kept for their bursts: a burst ends at the plug-in, a few
# minutes after the trigger (scripts/bench's arrival month: 2 to 4 reads), and one whole burst
# is always kept on top, so the month's last evenings still have one.
TRIGGER_READS_PER_DAY = 4.0
SMALL_PLAN = 100  # at or below this allowance, webhooks carry the data
WEBHOOK_OVERDUE = timedelta(hours=26)  # small plans: read only after this long without a delivery
FORECAST_MIN_ELAPSED = timedelta(days=2)  # the month's rate means little before this
FORECAST_WARNING = timedelta(days=3)  # warn when the budget runs out this long before month end
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
    managed_charging: bool = False  # smart charging sends start/stop commands
    solar_commands_per_day: int = 0  # with solar surplus charging: its daily command budget
    plug_triggers: bool = False  # trigger entities start bursts of reads (plug_guard.py)
    limit_hit: bool = False  # Smartcar answered VEHICLE_REQUEST_LIMIT this month
    commands_sent: int = 0  # smart charging's start and stop commands this month


def small_plan(allowance: int) -> bool:
    """Whether the plan is too small to poll: webhooks carry the data, reads only on demand."""
    return allowance <= SMALL_PLAN


def command_reserve(context: PollContext, now: datetime) -> float:
    """Requests the poll scheduler leaves alone: for commands and for the plug-in guard."""
    return commands_reserve(context, now) + guard_reserve(context, now)


def commands_reserve(context: PollContext, now: datetime) -> float:
    """Requests kept back for commands: smart charging's sessions and the sun's commands.

    The sun's daily command budget is kept in full (a sunny day spends it), or the month's own
    rate when it is higher; without managed charging only a small share is kept. Without
    webhooks each command costs two requests: the command and the read that confirms it.
    """
    share = context.budget * COMMAND_RESERVE_SHARE
    if not context.managed_charging:
        return share
    expected = SESSIONS_PER_DAY * COMMANDS_PER_SESSION + context.solar_commands_per_day
    elapsed = (now - month_start(now)).total_seconds() / 86400
    commands = max(expected, context.commands_sent / max(elapsed, OBSERVED_MIN_DAYS))
    per_command = 1 if context.webhooks_flowing else 2
    return max(share, _days_left(now) * commands * per_command)


def guard_reads_per_day(context: PollContext, now: datetime) -> float:
    """Reads a day kept for the plug-in guard: managed charging, no webhooks, not a small plan."""
    if not context.managed_charging or context.webhooks_flowing or small_plan(context.budget):
        return 0.0
    days = calendar.monthrange(now.year, now.month)[1]
    return GUARD_SHARE * context.budget / days


def guard_reserve(context: PollContext, now: datetime) -> float:
    """Requests kept for the plug-in guard over the rest of the month: learned times, triggers.

    The learned times' share is kept for today whole (their window is often the evening: a
    share released by the hour would be polled away before it), and for every day left, and
    one day's more: the share is what reading half a window costs (reads stop at the plug-in),
    a late plug-in reads all of it, and the month's last evening must still afford that.
    """
    days = math.ceil(_days_left(now)) + 1
    return guard_reads_per_day(context, now) * days + trigger_reserve(context, now)


def trigger_reserve(context: PollContext, now: datetime) -> float:
    """Requests kept for the trigger entities' bursts (none with webhooks or a small plan)."""
    if not context.plug_triggers or context.webhooks_flowing or small_plan(context.budget):
        return 0.0
    return TRIGGER_READS_PER_DAY * _days_left(now) + len(BURST_OFFSETS)


def guard_spendable(context: PollContext, now: datetime) -> float:
    """Requests the learned times may still spend this month."""
    return (
        context.budget
        - context.used
        - commands_reserve(context, now)
        - trigger_reserve(context, now)
    )


def guard_allowance(context: PollContext, now: datetime) -> float:
    """Reads a day the learned times may spend: their share, while the month's requests last."""
    spendable = guard_spendable(context, now)
    return max(min(guard_reads_per_day(context, now), spendable / max(_days_left(now), 1.0)), 0.0)


def _days_left(now: datetime) -> float:
    return (month_end(now) - now).total_seconds() / 86400


def month_end(now: datetime) -> datetime:
    """The first instant of the next month, in `now`'s time zone."""
    days = calendar.monthrange(now.year, now.month)[1]
    return month_start(now) + timedelta(days=days)


def poll_interval(context: PollContext, now: datetime) -> timedelta:
    """How long to wait before reading the vehicle again.

    Polls needed over the rest of the month: T·(a/Iₐ + (1−a)/Iᵢ) with Iᵢ = w·Iₐ, which must not
    exceed the requests left R. Solving gives Iₐ = T·(a + (1−a)/w) / R.
    """
    remaining_time = (month_end(now) - now).total_seconds()
    if context.limit_hit:
        # Smartcar refuses every request until the month rolls over: do not ask.
        return month_end(now) - now
    left = context.budget - command_reserve(context, now) - context.used
    small = small_plan(context.budget)
    if left < 1:
        if small:
            # What is left belongs to commands and the user's own refreshes.
            return month_end(now) - now
        # Budget spent: one read a day keeps the key state and availability honest.
        return timedelta(days=1)
    if small and context.webhooks_flowing:
        # Deliveries carry the data; the next one moves this read further out.
        return max(WEBHOOK_OVERDUE, timedelta(seconds=remaining_time / left))
    if context.webhooks_flowing:
        interval = max(WEBHOOK_INTERVAL, timedelta(seconds=remaining_time / left))
        return min(interval, timedelta(days=1))
    share = min(max(context.active_share, 0.05), 1.0)
    active_seconds = remaining_time * (share + (1 - share) / ACTIVE_WEIGHT) / left
    seconds = active_seconds if context.active else active_seconds * ACTIVE_WEIGHT
    # A small plan stretches the longest wait: a read every 12 h would spend more than it has.
    longest = MAX_INTERVAL
    if small:
        longest = max(MAX_INTERVAL, timedelta(seconds=remaining_time / left))
    if context.key_missing:
        # Smartcar serves a key-less Tesla once every 8 h: those reads are what see the key
        # come back (nothing can be charged meanwhile), so they are made even on a thin budget.
        return KEYLESS_TESLA_INTERVAL
    return min(max(timedelta(seconds=seconds), MIN_INTERVAL), longest)


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


def month_start(now: datetime) -> datetime:
    """The first instant of `now`'s month, in `now`'s time zone."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def forecast_exhaustion(budget: int, used: int, now: datetime) -> datetime | None:
    """When this month's budget runs out at the month's rate so far; None if it lasts the month.

    Not before two days of the month have passed: the first reads of a setup would dominate.
    """
    elapsed = now - month_start(now)
    if elapsed < FORECAST_MIN_ELAPSED or used <= 0 or budget <= 0:
        return None  # too early, nothing spent, or a plan without calls (nothing to run out)
    if used >= budget:
        return now
    rate = used / elapsed.total_seconds()
    exhausted = now + timedelta(seconds=(budget - used) / rate)
    return exhausted if exhausted < month_end(now) else None


def exhaustion_at_risk(exhausted: datetime | None, now: datetime) -> bool:
    """Whether the budget runs out early enough in the month to warn the user now."""
    return exhausted is not None and month_end(now) - exhausted > FORECAST_WARNING
