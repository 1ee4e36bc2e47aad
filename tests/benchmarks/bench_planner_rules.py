"""Benchmark: the planner's price thresholds and day-by-day targets against a reference optimum.

Run by scripts/bench-planner after the main planner benchmark, on the same 44 price horizons
(48 hours each: today and tomorrow; negative-price, flat, solar and windy days, both 2026
daylight-saving nights, hourly and 15-minute prices). Each horizon gets sessions of four kinds:

- **day targets**: a weekly schedule with a ready-by time and a target of its own per day (and a
  day without departure); the departure and its target come from `departures.next_departure`,
  the code the manager uses, and are checked against the schedule the session was built from;
- **opportunity**: beyond the target up to a level (85–100 %) at or below a price threshold,
  and always at negative prices;
- **cheapest share**: opportunity charging in the cheapest 10–40 % of the known time;
- **maximum price**: the planned part buys only at or below a maximum, which on some sessions
  leaves too few hours (the plan must then say that the target is not reached).

The rules (those of `planner.plan_charging`, written out here independently):
1. the minimum is charged at once from plug-in, whatever the price;
2. the rest of the way to the target is bought in the cheapest time before the departure
   whose price is at or below the maximum (all of that time when it is too little);
3. only when the target is reached: up to the opportunity level, in the cheapest of the time
   left whose price is negative, at or below the threshold, or within the cheapest share of the
   known time (never above the maximum).

The reference applies them on a 1-minute grid (every price slot and every time here lies on a
whole minute, so the grid is exact; the last minute of an amount may be used in part): sort the
minutes by price, take the cheapest. The planner's cost must be within 0.1 % of it (or 0.001 in
the price's currency where the cost is near zero or negative), with the same energy, and it must
report a reachable target as reached and an unreachable one as not reached.

Usage: python -m tests.benchmarks.bench_planner_rules (or scripts/bench-planner, which runs both).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import random
import sys
from time import perf_counter

import numpy as np

from custom_components.flexcharging.planner import ChargeRequest, plan_charging
from custom_components.flexcharging.smart_charging.departures import next_departure
from custom_components.flexcharging.smart_charging.model import DaySchedule, SmartSettings

from .bench_planner import TZ, PriceDay, build_days, heading, table

SEED = 20261205
SESSIONS_PER_KIND = 2
MAX_REL_GAP = 0.001  # 0.1 %
ABS_TOLERANCE = 0.001  # in the price's currency, for costs near zero or negative
ENERGY_TOLERANCE_H = 2 / 3600  # the planner puts block edges on whole seconds
KINDS = ("day targets", "opportunity", "cheapest share", "maximum price")


@dataclass(slots=True)
class Case:
    """One session: the request the planner gets, and what the reference needs besides."""

    kind: str
    day: PriceDay
    request: ChargeRequest
    kw: float
    expected_departure: datetime | None = None  # day targets: what the schedule says
    expected_target: int | None = None


@dataclass(slots=True)
class Reference:
    """The reference's plan: cost, hours charged and whether the target is reached."""

    cost: float
    hours: float
    reaches: bool
    opportunity_hours: float


@dataclass(slots=True)
class Outcome:
    """One case's comparison."""

    case: Case
    reference: Reference
    cost: float
    hours: float
    reaches: bool
    problems: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float:
        return self.cost - self.reference.cost


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=TZ).astimezone(UTC)


def _percentile(day: PriceDay, share: float) -> float:
    prices = sorted(slot.price for slot in day.slots)
    return prices[int(share * (len(prices) - 1))]


def build_cases(days: Sequence[PriceDay]) -> list[Case]:
    """Sessions of each kind on every horizon, plugged in on the evening of its first day."""
    cases: list[Case] = []
    for index, day in enumerate(days):
        rng = random.Random(SEED * 100 + index)
        tomorrow = day.today + timedelta(days=1)
        for kind in KINDS:
            for _ in range(SESSIONS_PER_KIND):
                plug_in = _local(day.today, time(rng.randint(16, 22), rng.randint(0, 59)))
                kw = rng.choice((3.7, 7.4, 11.0))
                capacity = rng.choice((60.0, 77.0, 100.0))
                soc = round(rng.uniform(15, 60), 1)
                minimum = rng.choice((0.0, 20.0, 30.0))
                departure = _local(tomorrow, time(rng.randint(5, 9), 15 * rng.randint(0, 3)))
                base = {
                    "now": plug_in,
                    "deadline": departure,
                    "soc": soc,
                    "target": 80.0,
                    "minimum": minimum,
                    "percent_per_hour": kw / capacity * 100,
                    "capacity_kwh": capacity,
                }
                case = Case(kind, day, ChargeRequest(**base), kw)
                if kind == "day targets":
                    case = _day_targets(case, rng, tomorrow)
                elif kind == "opportunity":
                    case.request = ChargeRequest(
                        **base,
                        opportunity_level=float(rng.choice((85, 90, 100))),
                        opportunity_price=_percentile(day, rng.uniform(0.05, 0.3)),
                    )
                elif kind == "cheapest share":
                    case.request = ChargeRequest(
                        **base,
                        opportunity_level=float(rng.choice((90, 100))),
                        opportunity_share=rng.choice((0.1, 0.25, 0.4)),
                    )
                else:
                    case.request = ChargeRequest(
                        **base, max_price=_percentile(day, rng.uniform(0.1, 0.6))
                    )
                cases.append(case)
    return cases


def _day_targets(case: Case, rng: random.Random, tomorrow: date) -> Case:
    """A weekly schedule whose every day differs; tomorrow's departure may be in the evening."""
    days = [
        DaySchedule(
            depart=True,
            ready_by=time(rng.randint(5, 9), 15 * rng.randint(0, 3)),
            target=rng.choice((None, 60, 70, 90, 100)),
        )
        for _ in range(7)
    ]
    leave = time(rng.choice((6, 7, 12, 18, 21)), 15 * rng.randint(0, 3))
    target = rng.choice((65, 75, 85, 95, 100))
    days[tomorrow.weekday()] = DaySchedule(depart=True, ready_by=leave, target=target)
    # No departure the rest of the plug-in evening: a late ready-by on the plug-in day is off.
    days[case.day.today.weekday()] = DaySchedule(depart=False)
    settings = SmartSettings(days=tuple(days), target=80)
    departure = next_departure(settings, case.request.now, TZ)
    assert departure.at is not None
    case.request = ChargeRequest(
        now=case.request.now,
        deadline=departure.at,
        soc=case.request.soc,
        target=float(departure.target),
        minimum=min(case.request.minimum, float(departure.target)),
        percent_per_hour=case.request.percent_per_hour,
        capacity_kwh=case.request.capacity_kwh,
    )
    case.expected_departure = _local(tomorrow, leave)
    case.expected_target = target
    return case


def reference(case: Case) -> Reference:
    """The rules above on a 1-minute grid."""
    request = case.request
    rate = request.percent_per_hour
    now, deadline = request.now, request.deadline
    minutes = round((deadline - now).total_seconds() / 60)
    starts = [slot.start for slot in case.day.slots]
    prices = np.empty(minutes)
    for minute in range(minutes):  # the horizon's slots follow each other without gaps
        moment = now + timedelta(minutes=minute)
        prices[minute] = case.day.slots[bisect.bisect_right(starts, moment) - 1].price
    free = np.ones(minutes)  # the part of each minute not yet charged in
    cost = 0.0

    def take(order: Sequence[int], amount: float) -> float:
        """Charge `amount` minutes in `order`; return the minutes charged."""
        nonlocal cost
        left = amount
        for minute in order:
            if left <= 1e-12:
                break
            used = min(free[minute], left)
            if used <= 0:
                continue
            free[minute] -= used
            cost += prices[minute] * used / 60 * case.kw
            left -= used
        return amount - left

    needed = max(request.target - request.soc, 0.0) / rate * 60
    forced = min(max(min(request.minimum, request.target) - request.soc, 0.0) / rate * 60, needed)
    charged = take(range(minutes), forced)
    by_price = sorted(range(minutes), key=lambda minute: (prices[minute], minute))
    affordable = [
        m for m in by_price if request.max_price is None or prices[m] <= request.max_price
    ]
    rest = needed - forced
    charged += take(affordable, rest)
    reaches = charged >= needed - 1e-6
    opportunity = 0.0
    if reaches and request.opportunity_level is not None:
        extra = max(request.opportunity_level - max(request.soc, request.target), 0.0) / rate * 60
        bound = _share_bound(prices, request.opportunity_share)
        thresholds = [v for v in (request.opportunity_price, bound) if v is not None]
        cheap = [
            m
            for m in affordable
            if prices[m] < 0 or any(prices[m] <= threshold for threshold in thresholds)
        ]
        opportunity = take(cheap, extra)
        charged += opportunity
    return Reference(cost, charged / 60, reaches, opportunity / 60)


def _share_bound(prices: np.ndarray, share: float) -> float | None:
    """The price below which the cheapest `share` of the minutes lie (None: no share)."""
    if share <= 0:
        return None
    ordered = np.sort(prices)
    wanted = share * len(ordered)
    return float(ordered[min(int(np.ceil(wanted - 1e-9)) - 1, len(ordered) - 1)])


def run(case: Case) -> Outcome:
    """Plan, compare with the reference, list what does not match."""
    plan = plan_charging(case.request, case.day.slots)
    ref = reference(case)
    hours = sum((block.end - block.start).total_seconds() for block in plan.blocks) / 3600
    outcome = Outcome(case, ref, plan.cost or 0.0, hours, plan.reaches_target)
    if case.expected_departure is not None and (
        case.request.deadline != case.expected_departure
        or case.request.target != case.expected_target
    ):
        outcome.problems.append(
            f"departure {case.request.deadline} {case.request.target}% is not the schedule's "
            f"{case.expected_departure} {case.expected_target}%"
        )
    if ref.reaches != plan.reaches_target:
        outcome.problems.append(f"reaches {plan.reaches_target}, reference {ref.reaches}")
    if not ref.reaches and case.request.max_price is None:
        return outcome  # too little time: the planner charges at once, past the departure
    if abs(hours - ref.hours) > ENERGY_TOLERANCE_H * max(len(plan.blocks), 1):
        outcome.problems.append(f"charges {hours:.4f} h, reference {ref.hours:.4f} h")
    if abs(outcome.gap) > max(MAX_REL_GAP * abs(ref.cost), ABS_TOLERANCE):
        outcome.problems.append(f"costs {outcome.cost:.4f}, reference {ref.cost:.4f}")
    return outcome


def main() -> int:
    started = perf_counter()
    heading("Price thresholds and day-by-day targets against the reference (1-minute grid)")
    days = build_days()
    outcomes = [run(case) for case in build_cases(days)]
    rows = []
    for kind in KINDS:
        mine = [o for o in outcomes if o.case.kind == kind]
        compared = [o for o in mine if o.reference.reaches or o.case.request.max_price is not None]
        unreachable = sum(1 for o in mine if not o.reference.reaches)
        worst = max(
            (abs(o.gap) / max(abs(o.reference.cost), ABS_TOLERANCE) for o in compared),
            default=0.0,
        )
        rows.append(
            [
                kind,
                len(mine),
                f"{sum(o.reference.cost for o in compared):.2f}",
                f"{sum(o.cost for o in compared):.2f}",
                f"{worst * 100:.4f} %",
                f"{sum(o.reference.opportunity_hours * o.case.kw for o in mine):.1f}",
                unreachable,
                sum(1 for o in mine if o.problems),
            ]
        )
    table(
        [
            "Sessions",
            "n",
            "Reference cost",
            "Planner cost",
            "Largest gap",
            "Opportunity kWh",
            "Target unreachable",
            "Mismatches",
        ],
        rows,
    )
    negative = [o for o in outcomes if any(slot.price < 0 for slot in o.case.day.slots)]
    print(
        f"{len(outcomes)} sessions on {len(days)} horizons ({len(negative)} on horizons with "
        "negative prices); a reachable target counts as met, an unreachable one must be "
        "reported as not reached."
    )
    for outcome in outcomes:
        for problem in outcome.problems:
            print(f"  {outcome.case.day.name} {outcome.case.kind}: {problem}")
    passed = not any(o.problems for o in outcomes)
    print(f"run time {perf_counter() - started:.1f} s")
    print(
        f"{'PASS' if passed else 'FAIL'}: thresholds and day targets within 0.1 % of the "
        "reference, targets reported truthfully"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
