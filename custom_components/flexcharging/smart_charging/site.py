"""The house around the car: a site power limit and the charging current (pure: no I/O, no clock).

Site limit: a maximum import (kW) read against the grid meter (positive = import). The car may
take what the rest of the house leaves: room = limit - (grid - the car's own draw). When the room
falls below what the car needs to charge at all, charging pauses at once (every second over the
limit counts: a main fuse, a capacity tariff); it resumes only after the room stayed above that
power plus a margin for a while (longer after each pause that came soon after a resume), so a
load that comes and goes (an oven, a heat pump) does not cost a stop and a start each time.

Charging current: Smartcar v3 has no current command, but another integration's `number` entity
in A (Teslemetry's or Tesla Fleet's charge current, an ESPHome Tesla BLE, a wallbox) can set it.
With one, the car's power follows the solar surplus and the site's room in whole steps of the
entity, and a site limit lowers the current before it pauses the car. The power one ampere gives
(one or three phases) is learned from the car's reported power at a known current; until then
three phases of 230 V are assumed, which can only under-use the room, never exceed it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import math

from .estimates import LEARN_BELOW_SOC

# IEC 61851-1: the lowest current a charger can signal; entities often allow 0 (Teslemetry).
MIN_CHARGING_AMPS = 6.0
DEFAULT_KW_PER_AMP = 0.69  # three phases of 230 V (a guess on the safe side, see above)
# One phase of 230 V: the guess on the safe side for waiting on the sun, which the fewest
# phases make the least worth it (`solar_forecast.following_bar`).
ONE_PHASE_KW_PER_AMP = 0.23
MIN_LEARN_AMPS = 3.0  # below this the reported power says little about the phases
# Three phases of 250 V: more per ampere is a report from before the car settled, not learned
# (only a higher value replaces the one known, so a wrong one would stay).
MAX_KW_PER_AMP = 0.75
# A higher current is set at most this often (a lower one for the site limit at once): every
# change is a command of the other integration, and the car needs seconds to settle.
RAISE_EVERY = timedelta(seconds=60)
# A car ramps to a new current over seconds: only a power report this long after the change
# tells the power per ampere.
SETTLE = timedelta(seconds=20)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSettings:
    """The maximum import and how the car resumes after a pause."""

    limit_kw: float
    resume_margin_kw: float = 0.5  # room needed above the car's power to resume
    resume_delay: timedelta = timedelta(minutes=5)  # and for this long,
    # doubled for each pause that follows a resume within `streak_within` (up to `max_doublings`
    # times): an evening of loads that come and go costs fewer stops and starts.
    streak_within: timedelta = timedelta(hours=1)
    max_doublings: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteState:
    """The site limit's memory for one vehicle."""

    paused: bool = False  # the car may not charge now: the house leaves too little room
    changed_at: datetime | None = None
    clear_since: datetime | None = None  # while paused: the room suffices since
    room_kw: float | None = None  # the last room seen (None: no reading)
    streak: int = 0  # pauses in a row, each soon after the last resume

    def resume_delay(self, settings: SiteSettings) -> timedelta:
        """How long the room must suffice before this pause ends."""
        doublings = min(max(self.streak - 1, 0), settings.max_doublings)
        return settings.resume_delay * (1 << doublings)


def room_kw(limit_kw: float, grid_kw: float | None, car_draw_kw: float) -> float | None:
    """The power the car may draw without the import exceeding `limit_kw` (None: no reading)."""
    if grid_kw is None:
        return None
    return limit_kw - (grid_kw - car_draw_kw)


def update(
    state: SiteState,
    settings: SiteSettings,
    *,
    grid_kw: float | None,
    car_draw_kw: float,
    need_kw: float,
    now: datetime,
) -> SiteState:
    """The limit after a grid reading (or a timer: the same reading, a later `now`).

    `car_draw_kw`: what the car draws now; `need_kw`: the least power it charges at (its power,
    or with a current entity the minimum current's). Without a reading the decision stands: a
    pause ends only on a reading that shows room.
    """
    room = room_kw(settings.limit_kw, grid_kw, car_draw_kw)
    if room is None:
        return replace(state, room_kw=None)
    if not state.paused:
        if room < need_kw:
            soon = state.changed_at is not None and now - state.changed_at < settings.streak_within
            streak = state.streak + 1 if soon else 1
            if car_draw_kw <= 0:
                # Only kept from starting: the house's loads come and go under an idle car all
                # evening; only a pause that stopped charging lengthens the next wait.
                streak = 0
            return SiteState(paused=True, changed_at=now, room_kw=room, streak=streak)
        return replace(state, room_kw=room)
    clear = room >= need_kw + settings.resume_margin_kw
    clear_since = (state.clear_since or now) if clear else None
    if clear_since is not None and now - clear_since >= state.resume_delay(settings):
        return SiteState(paused=False, changed_at=now, room_kw=room, streak=state.streak)
    return replace(state, room_kw=room, clear_since=clear_since)


# A car the limit just paused draws until its stop is carried out (a Smartcar command takes
# tens of seconds): the other cars' room counts that draw as gone meanwhile, else every car
# pauses for an excess one pause covers. At most this long: a stop accepted without effect then
# leaves the others to pause (the import stays over the limit this long and their stop's time).
LEAVING_FOR = timedelta(seconds=60)


@dataclass(frozen=True, slots=True, kw_only=True)
class Leaving:
    """The draw of a car the limit paused while it charged, until the meter shows it gone."""

    kw: float
    grid_kw: float  # the import when the car paused
    until: datetime


def going_kw(leavings: Sequence[Leaving], grid_kw: float, now: datetime) -> float:
    """What the meter (`grid_kw`) still shows of the paused cars' draw.

    The import's drop since a reading is taken as the draw of the cars paused at it (a load
    that rose meanwhile hides part of it: counted as gone, for `LEAVING_FOR` at most).
    """
    paused_together: dict[tuple[float, datetime], float] = defaultdict(float)
    for leaving in leavings:
        if now < leaving.until:  # one reading: the entries under a meter take it microseconds apart
            paused_together[leaving.grid_kw, leaving.until.replace(microsecond=0)] += leaving.kw
    return sum(
        max(kw - max(grid_at - grid_kw, 0.0), 0.0) for (grid_at, _), kw in paused_together.items()
    )


def next_check(state: SiteState, settings: SiteSettings) -> datetime | None:
    """When a pause may end without a new reading (meters may report only on change)."""
    if state.paused and state.clear_since is not None:
        return state.clear_since + state.resume_delay(settings)
    return None


# --- the charging current ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrentRange:
    """The currents the entity accepts (A)."""

    minimum: float = MIN_CHARGING_AMPS
    maximum: float = 16.0
    step: float = 1.0

    def clamp(self, amps: float) -> float:
        """`amps` within the range, on the entity's steps (rounded down)."""
        stepped = math.floor(amps / self.step + 1e-9) * self.step
        return min(max(stepped, self.minimum), self.maximum)


def current_range(minimum: float, maximum: float, step: float) -> CurrentRange:
    """The range of a number entity, raised to the lowest current a charger can signal."""
    low = max(minimum, MIN_CHARGING_AMPS)
    return CurrentRange(minimum=min(low, maximum), maximum=maximum, step=step if step > 0 else 1.0)


def learn_kw_per_amp(
    power_kw: float | None,
    amps: float | None,
    *,
    known: float | None = None,
    level: float | None = None,
) -> float | None:
    """The power one ampere gives, after the car's power at a known current (None: unknown).

    Only more than `known` is learned, and nothing at a battery `level` near full: a car that
    takes less than its phases give (near full, a cold battery) must not leave a value that
    has the site limit set too high a current, now or after a restart (it is stored).
    """
    if power_kw is None or amps is None or amps < MIN_LEARN_AMPS or power_kw <= 0:
        return known
    if (level is not None and level >= LEARN_BELOW_SOC) or power_kw / amps > MAX_KW_PER_AMP:
        return known
    return max(power_kw / amps, known or 0.0)


def wanted_current(
    limits: CurrentRange,
    kw_per_amp: float | None,
    *,
    solar_kw: float | None = None,
    room: float | None = None,
) -> float:
    """The current to charge at: the most the sun and the house allow, within the range.

    `solar_kw`: the surplus the car may use (None: the plan charges, at full current);
    `room`: the site limit's room (None: no limit). Below the minimum the minimum is returned:
    whether to charge at all is the solar controller's and the site limit's decision.
    """
    per_amp = kw_per_amp or DEFAULT_KW_PER_AMP
    power = math.inf
    for cap in (solar_kw, room):
        if cap is not None:
            power = min(power, cap)
    if math.isinf(power):
        return limits.maximum
    return limits.clamp(power / per_amp)


def minimum_power(
    limits: CurrentRange, kw_per_amp: float | None, *, unknown: float = DEFAULT_KW_PER_AMP
) -> float:
    """The car's power at the range's minimum current (`unknown`: kW per A until learned)."""
    return limits.minimum * (kw_per_amp or unknown)


def should_set(
    setting: float | None,
    wanted: float,
    *,
    last_set: datetime | None,
    now: datetime,
    urgent: bool,
) -> bool:
    """Whether to set the entity to `wanted` now (it shows `setting`).

    Lower at once when `urgent` (the site limit); otherwise a change waits `RAISE_EVERY` after
    the last one, so a passing cloud does not send a command a minute.
    """
    if setting is not None and math.isclose(setting, wanted):
        return False
    if setting is None or (urgent and wanted < setting):
        return True
    return last_set is None or now - last_set >= RAISE_EVERY


# A start or stop is seen on the grid meter when the import moved by about the car's power:
# between these shares of it (two cars switched at once, or a load that switched with the car,
# give more or less, and the read after the command is then made as without a meter).
METER_SHOWS_SHARE = (0.5, 1.5)


def meter_shows(*, charging: bool, before_kw: float, now_kw: float, car_kw: float) -> bool:
    """Whether the grid meter shows a car's start (`charging`) or stop since `before_kw`."""
    change = now_kw - before_kw if charging else before_kw - now_kw
    low, high = METER_SHOWS_SHARE
    return low * car_kw <= change <= high * car_kw
