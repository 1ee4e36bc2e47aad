"""Charging sessions at home: when a plug-in charged, how much, and what it cost.

Pure and deterministic: no Home Assistant, no I/O, no clock.

A session runs from plug-in at home to unplugging. The energy between two reports of the car
comes from, best first: the car's own counter (`charge-energyadded`), the change of its state of
charge times the battery's capacity, or its charge power times the time it charged. The energy
is placed where the car charged: between two reports that both say "charging", over the whole
stretch; where charging started or stopped in between, at the reported power next to the report
that says "charging" (without a power, over the whole stretch). It costs the prices of the slots
it falls in. The saving compares with charging the same energy at once from plug-in, at the
power the car charged with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .planner import PriceSlot

MIN_SESSION_KWH = 0.05  # less is a plug-in that did not charge: not recorded
MAX_PRICE_SLOTS = 3000  # prices kept for a session (a month of quarter hours)
# How far a restarted counter may be from the state of charge's estimate and still be believed.
COUNTER_TOLERANCE_KWH = 1.0
COUNTER_RESOLUTION_KWH = 0.01  # a counter that moved less did not move


class EnergySource(StrEnum):
    """Where a session's energy figure comes from."""

    ENERGY_ADDED = "energy_added"  # the car's counter of energy added
    STATE_OF_CHARGE = "state_of_charge"  # the state of charge's change × the battery capacity
    POWER = "power"  # the charge power × the time charged


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """What the car reported at one moment (None: not known)."""

    at: datetime
    plugged_in: bool | None
    charging: bool | None
    at_home: bool = True
    soc: float | None = None
    energy_added_kwh: float | None = None
    power_kw: float | None = None
    capacity_kwh: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """For storage."""
        return {
            "at": self.at.isoformat(),
            "plugged_in": self.plugged_in,
            "charging": self.charging,
            "at_home": self.at_home,
            "soc": self.soc,
            "energy_added_kwh": self.energy_added_kwh,
            "power_kw": self.power_kw,
            "capacity_kwh": self.capacity_kwh,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """From storage."""
        return cls(**{**data, "at": datetime.fromisoformat(data["at"])})


@dataclass(frozen=True, slots=True, kw_only=True)
class Charge:
    """A stretch of time the car charged in, the energy it added then, and its cost."""

    start: datetime
    end: datetime
    energy_kwh: float
    source: EnergySource
    cost: float | None  # None: a price in the stretch is unknown

    def as_dict(self) -> dict[str, Any]:
        """For storage and responses."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "energy_kwh": self.energy_kwh,
            "source": self.source.value,
            "cost": self.cost,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Charge:
        """From storage."""
        return cls(
            start=datetime.fromisoformat(data["start"]),
            end=datetime.fromisoformat(data["end"]),
            energy_kwh=float(data["energy_kwh"]),
            source=EnergySource(data["source"]),
            cost=data.get("cost"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingSession:
    """One finished charging session at home."""

    started_at: datetime  # plug-in (or when the plugged-in car was first seen)
    ended_at: datetime  # unplugging
    soc_start: float | None
    soc_end: float | None
    energy_kwh: float
    energy_source: EnergySource  # the source of most of the energy
    cost: float | None  # at the prices of the slots charged in; None if one is unknown
    reference_cost: float | None  # the same energy charged at once on plug-in
    currency: str | None
    charges: tuple[Charge, ...] = ()

    @property
    def saving(self) -> float | None:
        """What the session saved against charging at once on plug-in."""
        if self.cost is None or self.reference_cost is None:
            return None
        return self.reference_cost - self.cost

    def as_dict(self) -> dict[str, Any]:
        """For storage, diagnostics and the action's response (JSON types only)."""
        return {
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "soc_start": self.soc_start,
            "soc_end": self.soc_end,
            "energy_kwh": round(self.energy_kwh, 3),
            "energy_source": self.energy_source.value,
            "cost": _rounded(self.cost),
            "reference_cost": _rounded(self.reference_cost),
            "saving": _rounded(self.saving),
            "currency": self.currency,
            "charges": [charge.as_dict() for charge in self.charges],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChargingSession:
        """From storage."""
        return cls(
            started_at=datetime.fromisoformat(data["started_at"]),
            ended_at=datetime.fromisoformat(data["ended_at"]),
            soc_start=data.get("soc_start"),
            soc_end=data.get("soc_end"),
            energy_kwh=float(data["energy_kwh"]),
            energy_source=EnergySource(data["energy_source"]),
            cost=data.get("cost"),
            reference_cost=data.get("reference_cost"),
            currency=data.get("currency"),
            charges=tuple(Charge.from_dict(item) for item in data.get("charges", [])),
        )


@dataclass(slots=True, kw_only=True)
class OpenSession:
    """A session in progress: its start, the car's last report, what it charged so far."""

    started_at: datetime
    soc_start: float | None
    last: Report
    charges: list[Charge] = field(default_factory=list)
    power_kw: float | None = None  # the last power the car reported while charging
    # The prices seen since plug-in (by start): price sensors drop past days.
    prices: dict[datetime, PriceSlot] = field(default_factory=dict)
    currency: str | None = None

    @property
    def energy_kwh(self) -> float:
        """Charged so far."""
        return sum(charge.energy_kwh for charge in self.charges)

    def remember_prices(self, slots: Iterable[PriceSlot], currency: str | None) -> None:
        """Keep the prices from plug-in on (a bounded number: the oldest go first).

        Stretches charged without a known price get their cost when the price is known.
        """
        for slot in slots:
            if slot.end > self.started_at:
                self.prices[slot.start] = slot
        if len(self.prices) > MAX_PRICE_SLOTS:
            for start in sorted(self.prices)[: len(self.prices) - MAX_PRICE_SLOTS]:
                del self.prices[start]
        self.currency = currency or self.currency
        self.charges = [
            replace(
                charge,
                cost=cost_of(charge.start, charge.end, charge.energy_kwh, self.prices.values()),
            )
            if charge.cost is None
            else charge
            for charge in self.charges
        ]

    def as_dict(self) -> dict[str, Any]:
        """For storage (a restart continues the session)."""
        return {
            "started_at": self.started_at.isoformat(),
            "soc_start": self.soc_start,
            "last": self.last.as_dict(),
            "charges": [charge.as_dict() for charge in self.charges],
            "power_kw": self.power_kw,
            "prices": [
                [slot.start.isoformat(), slot.end.isoformat(), slot.price]
                for slot in self.prices.values()
            ],
            "currency": self.currency,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OpenSession:
        """From storage."""
        slots = (
            PriceSlot(datetime.fromisoformat(start), datetime.fromisoformat(end), float(price))
            for start, end, price in data.get("prices", [])
        )
        return cls(
            started_at=datetime.fromisoformat(data["started_at"]),
            soc_start=data.get("soc_start"),
            last=Report.from_dict(data["last"]),
            charges=[Charge.from_dict(item) for item in data.get("charges", [])],
            power_kw=data.get("power_kw"),
            prices={slot.start: slot for slot in slots},
            currency=data.get("currency"),
        )


@dataclass(frozen=True, slots=True)
class Step:
    """What a report did: the session now open, the one it finished, the energy it added."""

    open: OpenSession | None
    finished: ChargingSession | None = None
    added_kwh: float = 0.0


def observe(session: OpenSession | None, report: Report, idle: Report | None = None) -> Step:
    """Account for a new report of the car.

    A plug-in at home opens a session; every later report adds the energy since the one before;
    unplugging (or the car no longer at home) closes it. An older report, or the same one again
    (it arrives by polling and by webhook), is ignored. `idle` is the last report before, outside
    a session: see `open_session`.
    """
    if session is None:
        if report.plugged_in and report.at_home:
            opened = open_session(report, idle)
            return Step(opened, None, opened.energy_kwh)
        return Step(None)
    if is_stale(session, report):
        return Step(session)
    previous, session.last = session.last, report
    if report.charging and report.power_kw:
        session.power_kw = report.power_kw
    added = 0.0
    if (energy := energy_between(previous, report)) is not None and energy[0] > 0:
        kwh, source = energy
        start, end = charging_window(previous, report, kwh)
        cost = cost_of(start, end, kwh, session.prices.values())
        session.charges.append(
            Charge(start=start, end=end, energy_kwh=kwh, source=source, cost=cost)
        )
        added = kwh
    if report.plugged_in is False or not report.at_home:
        return Step(None, finish(session, report), added)
    return Step(session, None, added)


def open_session(report: Report, idle: Report | None) -> OpenSession:
    """A session opened by the first report of a plug-in.

    When the report before it said unplugged (a plug-in seen, not a car found plugged in at
    start-up), what the car's counter shows is this plug-in's if the counter changed since that
    report (it restarted: the car charged before its report came, as a car that starts by itself
    on plug-in does) or, without that report's counter, if the car charges now. Either way the
    charge must show: the state of charge rose since that report or, with either unknown, the
    car charges now. A counter that changed while the state of charge did not rise is a charge
    elsewhere (a fast charge on a trip), not this plug-in's.
    """
    session = OpenSession(started_at=report.at, soc_start=report.soc, last=report)
    counter = report.energy_added_kwh
    if idle is None or idle.plugged_in is not False or not counter or idle.at >= report.at:
        return session
    if idle.energy_added_kwh is not None:
        if abs(counter - idle.energy_added_kwh) < COUNTER_RESOLUTION_KWH:
            return session  # the last session's counter, not restarted yet
    elif not report.charging:
        return session
    if report.soc is not None and idle.soc is not None:
        if report.soc <= idle.soc:
            return session
    elif not report.charging:
        return session
    start, end = charging_window(idle, report, counter)
    session.charges.append(
        Charge(
            start=start, end=end, energy_kwh=counter, source=EnergySource.ENERGY_ADDED, cost=None
        )
    )
    session.started_at = start
    capacity = report.capacity_kwh or idle.capacity_kwh
    if report.soc is not None and capacity:
        session.soc_start = max(0.0, report.soc - counter * 100 / capacity)
    if report.charging and report.power_kw:
        session.power_kw = report.power_kw
    return session


def is_stale(session: OpenSession, report: Report) -> bool:
    """Whether the report says nothing new to the session."""
    return report.at < session.last.at or report == session.last


def energy_between(previous: Report, current: Report) -> tuple[float, EnergySource] | None:
    """The energy the car took between two reports, and where the figure comes from."""
    hours = (current.at - previous.at).total_seconds() / 3600
    by_soc: float | None = None
    capacity = current.capacity_kwh or previous.capacity_kwh
    if previous.soc is not None and current.soc is not None and capacity:
        by_soc = max(0.0, current.soc - previous.soc) * capacity / 100
    before, now = previous.energy_added_kwh, current.energy_added_kwh
    if before is not None and now is not None:
        delta = now - before
        restarted = delta < 0 or (
            # Charging began anew: the counter may have restarted and grown past its old value.
            previous.charging is False
            and by_soc is not None
            and abs(now - by_soc) + COUNTER_TOLERANCE_KWH < abs(delta - by_soc)
        )
        return (now if restarted else delta), EnergySource.ENERGY_ADDED
    if by_soc is not None:
        return by_soc, EnergySource.STATE_OF_CHARGE
    if previous.charging and previous.power_kw:
        return previous.power_kw * hours, EnergySource.POWER
    return None


def charging_window(previous: Report, current: Report, kwh: float) -> tuple[datetime, datetime]:
    """When, between two reports, the car took `kwh`."""
    if previous.charging and current.charging:
        return previous.at, current.at
    if previous.charging and previous.power_kw:  # it stopped in between
        return previous.at, min(current.at, previous.at + _hours(kwh / previous.power_kw))
    if current.charging and current.power_kw:  # it started in between
        return max(previous.at, current.at - _hours(kwh / current.power_kw)), current.at
    return previous.at, current.at


def cost_of(
    start: datetime, end: datetime, kwh: float, prices: Iterable[PriceSlot]
) -> float | None:
    """The cost of `kwh` taken evenly from `start` to `end`; None if a price there is unknown."""
    seconds = (end - start).total_seconds()
    if seconds <= 0:  # two reports of the same moment: the price of that moment
        price = next((slot.price for slot in prices if slot.start <= start < slot.end), None)
        return None if price is None else price * kwh
    covered = 0.0
    cost = 0.0
    for slot in prices:
        overlap = (min(end, slot.end) - max(start, slot.start)).total_seconds()
        if overlap > 0:
            covered += overlap
            cost += slot.price * kwh * overlap / seconds
    if covered < seconds - 1:  # a second's gap is rounding, more is an unknown price
        return None
    return cost


def finish(session: OpenSession, report: Report) -> ChargingSession | None:
    """The finished session (None when it charged nothing)."""
    energy = session.energy_kwh
    if energy < MIN_SESSION_KWH:
        return None
    costs = [charge.cost for charge in session.charges]
    cost = None if None in costs else sum(c for c in costs if c is not None)
    by_source: dict[EnergySource, float] = {}
    for charge in session.charges:
        by_source[charge.source] = by_source.get(charge.source, 0.0) + charge.energy_kwh
    return ChargingSession(
        started_at=session.started_at,
        ended_at=report.at,
        soc_start=session.soc_start,
        soc_end=report.soc,
        energy_kwh=energy,
        energy_source=max(by_source, key=lambda source: by_source[source]),
        cost=cost,
        reference_cost=reference_cost(session),
        currency=session.currency,
        charges=tuple(session.charges),
    )


def reference_cost(session: OpenSession) -> float | None:
    """The cost of charging the session's energy at once from plug-in, without a pause.

    At the power the car last reported while charging; without one, at the average power of the
    stretches it charged in.
    """
    energy = session.energy_kwh
    power = session.power_kw
    if not power:
        hours = sum((c.end - c.start).total_seconds() for c in session.charges) / 3600
        power = energy / hours if hours > 0 else None
    if not power:
        return None
    end = session.started_at + _hours(energy / power)
    return cost_of(session.started_at, end, energy, session.prices.values())


def month_cost(
    sessions: Iterable[ChargingSession],
    session: OpenSession | None,
    month_start: datetime,
    currency: str | None = None,
) -> float:
    """The known cost of what was charged since `month_start` (by when each stretch ended).

    With a `currency`, only the sessions costed in it (or in none known) count: after the price
    source changed its currency, a sum of both would be in neither.
    """
    counted: list[ChargingSession | OpenSession] = [*sessions, *([session] if session else [])]
    counted = [item for item in counted if currency is None or item.currency in (None, currency)]
    charges = [charge for item in counted for charge in item.charges]
    return sum(
        charge.cost for charge in charges if charge.cost is not None and charge.end > month_start
    )


def in_period(
    sessions: Iterable[ChargingSession], start: datetime | None, end: datetime | None
) -> list[ChargingSession]:
    """The sessions that overlap the period (open ends: unbounded)."""
    return [
        session
        for session in sessions
        if (start is None or session.ended_at > start) and (end is None or session.started_at < end)
    ]


def _hours(hours: float) -> timedelta:
    return timedelta(seconds=round(hours * 3600, 3))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
