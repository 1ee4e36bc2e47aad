"""Solar surplus charging by start and stop only (pure: no Home Assistant, no I/O, no clock).

Smartcar v3 has no charging-current command, so the car charges at its own power or not at
all, and every start or stop costs two billable requests (the command and a read to confirm
it). The controller therefore starts only when the surplus covers a good share of the car's
power for a while, stops only when it stayed well below that for a while, keeps the car on and
off for a minimum time, and spends at most a daily number of commands (a start is only made when its
stop still fits in the day's budget).

What the surplus is: the power the car could take without importing from the grid, i.e. what
is exported now plus what the car itself draws now. Two sensor combinations give it:
- a grid power sensor (positive = import, negative = export): surplus = -grid + car;
- PV production and house consumption, the consumption including the car (inverters' "load"
  power): surplus = production - consumption + car.
PV production alone does not work: without the house's load the export is unknown.

The minimum charge and the ready-by target come first: the planner buys what the sun did not
cover; this controller only adds charging on top.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
import math
from typing import Any

DEFAULT_CAR_POWER_KW = 3.7  # 16 A on one phase, until the car's power is known or learned
POWER_UNITS = {"W": 0.001, "kW": 1.0, "MW": 1000.0}


class SolarReason(StrEnum):
    """Why the controller wants the car charging on solar surplus, or not."""

    SURPLUS = "surplus"  # charging: the surplus covers the car
    WAITING_FOR_SUN = "waiting_for_sun"  # not charging: too little surplus
    MINIMUM_ON = "minimum_on"  # charging although the surplus fell: not yet on long enough
    MINIMUM_OFF = "minimum_off"  # not charging although there is surplus: off too briefly
    BUDGET_USED = "budget_used"  # not charging: today's solar commands are spent
    NO_READING = "no_reading"  # the power sensors give no number


@dataclass(frozen=True, slots=True, kw_only=True)
class SolarSettings:
    """When to start and stop (shares are of the car's charging power)."""

    # Start when the surplus covers this share of the car's power, stop when it falls below the
    # other: the car's energy is bought anyway when the sun does not give it, so a partial
    # surplus is worth taking (scripts/bench-solar compares these levels).
    start_share: float = 0.3
    stop_share: float = 0.15
    start_delay: timedelta = timedelta(minutes=2)  # the surplus must hold this long to start
    stop_delay: timedelta = timedelta(minutes=10)  # and be missing this long to stop
    min_on: timedelta = timedelta(minutes=20)
    min_off: timedelta = timedelta(minutes=10)
    # With a current entity the car charges at its lowest current when the surplus is small:
    # start at a tenth of that power, and stop once the sun gave none of it for 45 minutes (a
    # passing cloud costs a little import, not a stop and a start of the budget; longer, and
    # the car would charge on into the night at whatever price: scripts/bench-solar).
    current_start_share: float = 0.1
    current_stop_share: float = 0.0
    current_stop_delay: timedelta = timedelta(minutes=45)
    commands_per_day: int = 4  # starts and stops together; each costs two requests
    # Within this time of the plan's next charging both levels fall towards zero: the energy
    # will be bought then anyway, so even a partial surplus now saves some of it.
    ease_over: timedelta = timedelta(hours=3)
    # With a forecast the start waits for a surplus as good as the plan's sunny hours, and a
    # charge the sun began stops when the surplus falls under this share of theirs (cloudy
    # minutes now are not worth the charge the sunnier hours would give): scripts/bench-solar.
    forecast_stop_share: float = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class SolarState:
    """The controller's memory for one vehicle."""

    wants: bool = False  # charging on solar surplus is asked for
    changed_at: datetime | None = None  # when `wants` last changed
    above_since: datetime | None = None  # the surplus is at the start level since
    below_since: datetime | None = None  # the surplus is under the stop level since
    day: date | None = None  # the local day `commands` counts
    commands: int = 0  # solar starts and stops counted today (a start reserves its stop)
    surplus_kw: float | None = None  # the last surplus seen
    bar_kw: float | None = None  # the surplus the sun ahead (forecast or learned) is worth
    reason: SolarReason = SolarReason.WAITING_FOR_SUN
    # Read back after a restart: whether the sun still has the car depends on whether it still
    # charges (it may have been stopped meanwhile), known at the first reading (`resumed`).
    restored: bool = False

    def stored(self) -> dict[str, Any]:
        """What survives a restart: a charge the sun asked for and the day's commands."""
        return {
            "wants": self.wants,
            "changed_at": self.changed_at.isoformat() if self.changed_at else None,
            "day": self.day.isoformat() if self.day else None,
            "commands": self.commands,
        }

    @classmethod
    def from_stored(cls, data: Any) -> SolarState | None:
        """The state `stored()` kept; None when there is none or it is unreadable."""
        if not isinstance(data, dict):
            return None
        try:
            changed = data.get("changed_at")
            changed_at = datetime.fromisoformat(changed) if changed is not None else None
            day = date.fromisoformat(data["day"]) if data.get("day") is not None else None
            commands = data.get("commands", 0)
            if (changed_at is not None and changed_at.tzinfo is None) or not (
                isinstance(commands, int) and commands >= 0
            ):
                return None
            wants = data.get("wants") is True
        except KeyError, TypeError, ValueError:
            return None
        return cls(wants=wants, changed_at=changed_at, day=day, commands=commands, restored=True)

    def resumed(self, *, charging: bool | None, now: datetime) -> SolarState:
        """After a restart, at the first reading: still wanted only while the car charges.

        While its charging is unknown (the first read failed: asleep, rate-limited) it waits for
        a reading that knows. A change stored as later than `now` (a clock set back since) is
        taken as long ago, or the minimum times would hold the car for that long.
        """
        if not self.restored or charging is None:
            return self
        changed_at = self.changed_at if self.changed_at and self.changed_at <= now else None
        return replace(self, restored=False, wants=self.wants and charging, changed_at=changed_at)


def power_kw(state: str | None, unit: str | None) -> float | None:
    """A power sensor's state in kW (W, kW or MW); None when it is not a number in those."""
    if state is None or unit not in POWER_UNITS:
        return None
    try:
        value = float(state)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value * POWER_UNITS[unit]


def surplus_kw(
    *,
    grid_kw: float | None = None,
    production_kw: float | None = None,
    consumption_kw: float | None = None,
    car_kw: float = 0.0,
) -> float | None:
    """The power the car could take without import; `car_kw` is what the car draws now.

    A grid reading wins over production and consumption; None when neither pair is complete.
    """
    if grid_kw is not None:
        return car_kw - grid_kw
    if production_kw is not None and consumption_kw is not None:
        return production_kw - consumption_kw + car_kw
    return None


def update(
    state: SolarState,
    settings: SolarSettings,
    *,
    surplus: float | None,
    car_power_kw: float,
    now: datetime,
    today: date,
    until_plan: timedelta | None = None,
    min_power_kw: float | None = None,
    sun_bar_kw: float | None = None,
    plan_charging: bool = False,
) -> SolarState:
    """The controller after a reading (or a timer: the same reading, a later `now`).

    `until_plan`: how long until the plan charges next (None: it does not). `min_power_kw`:
    with a charging-current entity, the car's power at the lowest current; the levels are then
    shares of it (the car's power follows the surplus above it). `sun_bar_kw`: the surplus the
    forecast gives in the plan's sunny hours ahead; the start waits for a surplus that good.
    `plan_charging`: the plan charges now, so a start or stop of the sun sends no command: a
    start then counts only its stop (it may fall after the plan's block), a stop gives back the
    one its start reserved.
    """
    if state.day != today:
        # A start of yesterday still owes its stop, which counts against today.
        state = replace(state, day=today, commands=1 if state.wants else 0)
    scale = 1.0
    if until_plan is not None and settings.ease_over:
        scale = min(max(until_plan / settings.ease_over, 0.0), 1.0)
    if min_power_kw is None:
        full, start_share, stop_share = car_power_kw, settings.start_share, settings.stop_share
        stop_delay = settings.stop_delay
    else:
        full = min(min_power_kw, car_power_kw)
        start_share, stop_share = settings.current_start_share, settings.current_stop_share
        stop_delay = settings.current_stop_delay
    start_level = start_share * full * scale
    stop_level = stop_share * full * scale
    if sun_bar_kw is not None:
        start_level = max(start_level, sun_bar_kw)
        if min_power_kw is None:  # a current entity's stop already waits for a lasting import
            stop_level = max(stop_level, sun_bar_kw * settings.forecast_stop_share)
    above = surplus is not None and surplus >= start_level
    below = surplus is None or surplus < stop_level
    state = replace(
        state,
        surplus_kw=surplus,
        bar_kw=sun_bar_kw,
        above_since=(state.above_since or now) if above else None,
        below_since=(state.below_since or now) if below else None,
    )
    held = now - state.changed_at if state.changed_at else None
    if state.wants:
        if not (state.below_since and now - state.below_since >= stop_delay):
            return replace(state, reason=SolarReason.SURPLUS)
        if held is not None and held < settings.min_on:
            return replace(state, reason=SolarReason.MINIMUM_ON)
        # The stop was reserved with the start: it is always allowed.
        commands = state.commands - 1 if plan_charging else state.commands
        return replace(
            state,
            wants=False,
            changed_at=now,
            commands=max(commands, 0),
            reason=_idle_reason(surplus),
        )
    if not (state.above_since and now - state.above_since >= settings.start_delay):
        return replace(state, reason=_idle_reason(surplus))
    if held is not None and held < settings.min_off:
        return replace(state, reason=SolarReason.MINIMUM_OFF)
    cost = 1 if plan_charging else 2
    if state.commands + cost > settings.commands_per_day:
        return replace(state, reason=SolarReason.BUDGET_USED)
    return replace(
        state,
        wants=True,
        changed_at=now,
        commands=state.commands + cost,
        reason=SolarReason.SURPLUS,
    )


def _idle_reason(surplus: float | None) -> SolarReason:
    return SolarReason.NO_READING if surplus is None else SolarReason.WAITING_FOR_SUN


def next_check(
    state: SolarState, settings: SolarSettings, *, current: bool = False
) -> datetime | None:
    """When the controller may change its mind without a new reading.

    That is when a delay or a minimum time runs out (some sensors report only on change);
    `current`: with a charging-current entity (its own stop delay).
    """
    moments: list[datetime] = []
    if state.wants and state.below_since:
        delay = settings.current_stop_delay if current else settings.stop_delay
        moments.append(state.below_since + delay)
        if state.changed_at:
            moments.append(state.changed_at + settings.min_on)
    if not state.wants and state.above_since:
        moments.append(state.above_since + settings.start_delay)
        if state.changed_at:
            moments.append(state.changed_at + settings.min_off)
    return max(moments) if moments else None
