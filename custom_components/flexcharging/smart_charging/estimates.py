"""What smart charging works out from the car's reports: battery level, charge speed.

Pure and deterministic: no Home Assistant, no I/O, no clock (the caller passes `now`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .model import LearnedSpeed, SmartSettings, positive

DEFAULT_PERCENT_PER_HOUR = 10.0  # a slow home charger: plans start early rather than late
MIN_POWER_KW = 0.5  # below this a power reading is idle noise
MAX_HOME_POWER_KW = 22.0  # the most a home (AC) charger delivers; more is a fast charger
LEARN_BELOW_SOC = 90.0  # above this cars slow down: not their usual speed
MIN_LEARN_HOURS = 0.2  # shorter stretches say little about the charge speed
RATE_MEMORY = 0.3  # weight of a new charge-speed observation

# The level worked out, when, and the car's report it started from.
type SocEstimate = tuple[float, datetime, datetime | None]


def target_for(
    settings: SmartSettings, charge_limit: int | None, accepted: int | None = None
) -> int:
    """The target, or the lower one accepted for the session; never above the car's limit."""
    target = settings.target if accepted is None else min(accepted, settings.target)
    return min(target, charge_limit) if charge_limit else target


def charge_speed(learned: LearnedSpeed, capacity_kwh: float | None) -> tuple[float, float | None]:
    """Percent per hour and the battery's capacity (kWh), from the car or learned."""
    capacity = positive(capacity_kwh)
    if learned.power_kw and capacity:
        return learned.power_kw / capacity * 100, capacity
    if learned.percent_per_hour:
        if capacity is None and learned.power_kw:
            capacity = learned.power_kw / learned.percent_per_hour * 100
        return learned.percent_per_hour, capacity
    return DEFAULT_PERCENT_PER_HOUR, capacity


def estimated_soc(
    estimate: SocEstimate | None,
    *,
    reported: float,
    reported_at: datetime | None,
    charging: bool | None,
    last_command: datetime | None,
    percent_per_hour: float,
    charge_limit: int | None,
    now: datetime,
) -> SocEstimate:
    """The battery level now: the car's latest report, or our estimate made since it.

    While charging, what was charged since is added. Reports come every half hour or so: a
    plan made on a stale level would charge past the target, and after a stop at the
    (estimated) target it would start again. Any report newer than the one an estimate
    started from replaces the estimate. Returns the new estimate; its level is the first item.
    """
    since: datetime | None
    if estimate is not None and (
        reported_at is None or (estimate[2] is not None and reported_at <= estimate[2])
    ):
        base, since, based_on = estimate
    else:
        base, since, based_on = reported, reported_at, reported_at
    level = base
    if charging and since is not None:
        if last_command is not None:
            since = max(since, last_command)
        hours = max((now - since).total_seconds() / 3600, 0.0)
        limit = charge_limit or 100
        level = min(base + percent_per_hour * hours, max(float(limit), base))
    return (level, now, based_on)


def learn(
    learned: LearnedSpeed,
    *,
    charging: bool | None,
    level: float | None,
    level_at: datetime | None,
    power_kw: float | None,
    power_known: bool,
) -> LearnedSpeed:
    """Learn the charge power and speed from what the car reports while it charges at home.

    Only home charging counts (fast chargers elsewhere say nothing about home; the caller only
    asks at home), and only below LEARN_BELOW_SOC (cars slow down near full).
    """
    if not charging or (level is not None and level >= LEARN_BELOW_SOC):
        return replace(learned, soc_sample=None)
    if (
        power_kw is not None
        and MIN_POWER_KW <= power_kw <= MAX_HOME_POWER_KW
        and power_known
        and power_kw != learned.power_kw
    ):
        learned = replace(learned, power_kw=power_kw)
    if level is None or level_at is None:
        return learned
    sample = (level_at, level)
    previous = learned.soc_sample
    if previous is None or sample[0] < previous[0]:
        return replace(learned, soc_sample=sample)
    hours = (sample[0] - previous[0]).total_seconds() / 3600
    if hours < MIN_LEARN_HOURS:
        return learned
    if sample[1] > previous[1]:
        observed = (sample[1] - previous[1]) / hours
        old = learned.percent_per_hour
        learned = replace(
            learned,
            percent_per_hour=observed if old is None else old + RATE_MEMORY * (observed - old),
        )
    return replace(learned, soc_sample=sample)


def reachable_level(soc: float, percent_per_hour: float, now: datetime, deadline: datetime) -> int:
    """The whole percent reached by `deadline` charging from now on, without a break."""
    hours = max((deadline - now).total_seconds(), 0.0) / 3600
    return min(int(soc + percent_per_hour * hours), 100)


def opportunity_level(settings: SmartSettings, charge_limit: int | None) -> int:
    """The level opportunity charging goes up to: never above the car's limit.

    The car stops at its own limit by itself; planning past it would hold a block it cannot use.
    At or below the target (the default) there is no opportunity charging.
    """
    return min(settings.opportunity_level, charge_limit or 100)
