"""Cars sharing a charger or a circuit: who charges when (pure).

A shared *charger* charges one car at a time; a shared *circuit* carries up to a power limit
(start and stop only: each car draws its own charging power, and one car alone always fits).

The cars plugged in at home (each car's own plug signal) are ranked by `rank`: a car charging
that smart charging does not decide for (the user's, or one not managed) first, then "Start
charging now", then a car below its minimum, then the earliest departure, then the greater need
(a car already charging does not go first for that: its charging is the arbiter's own doing, and
ranking on it swapped the cars at every decision). The plans are made in that order, each
around the time the cars ahead of it take (`busy_times`): the earlier and needier departure is
served first, and a target the shared time cannot reach shows as a plan at risk. At each
decision a car waits while the cars ahead of it charge or want to, or while another car still
charges (`waiting_for`): break before make, so the limit holds even while commands take effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
import math

from ..planner import ChargePlan
from .policy import Step

_EPSILON_KW = 1e-6


class SharedMode(StrEnum):
    """What the cars share."""

    CHARGER = "charger"  # one car at a time
    CIRCUIT = "circuit"  # up to a power limit


@dataclass(frozen=True, slots=True)
class SharedLimit:
    """The shared charger's or circuit's limit."""

    mode: SharedMode
    limit_kw: float | None = None  # a circuit's (kW)

    def draw(self, power_kw: float | None) -> float:
        """What a car charging takes of the limit: on a charger, all of it.

        A circuit: its charging power, or all of the limit when that is not known; one car
        alone always fits (the circuit is for at least one car).
        """
        if self.mode is SharedMode.CHARGER or self.limit_kw is None:
            return 1.0
        if power_kw is None:
            return self.limit_kw
        return min(power_kw, self.limit_kw)

    def fits(self, load_kw: float, power_kw: float | None) -> bool:
        """Whether a car can charge on top of `load_kw`."""
        if load_kw <= _EPSILON_KW:
            return True
        capacity = (
            1.0 if self.mode is SharedMode.CHARGER or self.limit_kw is None else self.limit_kw
        )
        return load_kw + self.draw(power_kw) <= capacity + _EPSILON_KW


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A car of the group, as the arbiter sees it now."""

    key: str
    name: str
    plugged: bool  # plugged in at home, by the car's own plug signal
    charging: bool  # the car says it charges
    controlled: bool  # smart charging decides for it (managed, not held by the user)
    override: bool = False  # "Start charging now"
    below_minimum: bool = False
    departure: datetime | None = None  # None: no departure ahead
    need_hours: float = 0.0  # of charging to its target
    power_kw: float | None = None  # its charging power (None: not known)


@dataclass(frozen=True, slots=True)
class Busy:
    """A stretch in which the shared charger or circuit has no room for the car."""

    start: datetime
    end: datetime
    holder: str  # the car that takes it (the first of them)


@dataclass(frozen=True, slots=True)
class Load:
    """When a car ahead charges, and with what power."""

    name: str
    power_kw: float | None
    spans: tuple[tuple[datetime, datetime], ...]


@dataclass(frozen=True, slots=True)
class Occupant:
    """Another car of the group at the moment of a decision."""

    name: str
    power_kw: float | None
    ahead: bool  # ranked before the car deciding (it has decided already)
    wants: bool  # ahead: it charges now or waits to
    charging: bool  # the car says it charges


def rank(members: Sequence[Member]) -> list[Member]:
    """The cars that use the charger, first served first (see the module's text).

    A car not plugged in, or not charging and not smart-charged, takes no part.
    """
    taking_part = [m for m in members if m.plugged and (m.controlled or m.charging)]
    return sorted(taking_part, key=_priority)


def _priority(member: Member) -> tuple[bool, bool, bool, float, float, str]:
    # Not whether a car charges now: that follows the arbiter's own last decision (a command's
    # echo), and ranking on it made the two cars swap places and start and stop in turn.
    departure = member.departure.timestamp() if member.departure else math.inf
    return (
        member.controlled,
        not member.override,
        not member.below_minimum,
        departure,
        -member.need_hours,
        member.key,
    )


def load_of(member: Member, plan: ChargePlan | None, now: datetime) -> Load:
    """When the car will charge: "Start charging now" at once until its target, else its plan."""
    spans: tuple[tuple[datetime, datetime], ...]
    if member.override:
        spans = ((now, now + timedelta(hours=member.need_hours)),) if member.need_hours else ()
    elif member.controlled and plan is not None:
        spans = tuple((block.start, block.end) for block in plan.blocks)
    else:
        spans = ()  # nothing planned (when the user's charging ends is not known)
    return Load(member.name, member.power_kw, spans)


def busy_times(
    limit: SharedLimit, power_kw: float | None, ahead: Sequence[Load], now: datetime
) -> tuple[Busy, ...]:
    """The stretches from `now` in which the cars ahead leave no room for this car."""
    edges = sorted(
        {now} | {edge for load in ahead for span in load.spans for edge in span if edge > now}
    )
    busy: list[Busy] = []
    for start, end in pairwise(edges):
        active = [load for load in ahead if any(s <= start and end <= e for s, e in load.spans)]
        taken = sum(limit.draw(load.power_kw) for load in active)
        if not active or limit.fits(taken, power_kw):
            continue
        holder = active[0].name
        if busy and busy[-1].end == start and busy[-1].holder == holder:
            busy[-1] = Busy(busy[-1].start, end, holder)
        else:
            busy.append(Busy(start, end, holder))
    return tuple(busy)


def waiting_for(limit: SharedLimit, member: Member, others: Sequence[Occupant]) -> str | None:
    """The car this one waits for now (None: there is room for it).

    The cars ahead count while they charge or want to; a car behind counts while it still
    charges and this one does not (it stops first: the cars ahead come before it).
    """
    counted = [
        other
        for other in others
        if (other.ahead and (other.wants or other.charging))
        or (not member.charging and other.charging)
    ]
    taken = sum(limit.draw(other.power_kw) for other in counted)
    if counted and not limit.fits(taken, member.power_kw):
        return counted[0].name
    return None


def holder_at(busy: Sequence[Busy], now: datetime) -> str | None:
    """The car that takes the charger at `now` (None: there is room)."""
    return next((stretch.holder for stretch in busy if stretch.start <= now < stretch.end), None)


def wants_charge(step: Step) -> bool:
    """Whether a car's decision is to charge now, or to charge once the others make room."""
    intent = step.session.intent
    return step.held_back or (intent is not None and intent.charge and not intent.failed)
