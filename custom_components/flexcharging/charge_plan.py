"""What the planner is asked and what it answers: the prices, the request, the plan (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class PriceSlot:
    """The price of energy (per kWh) from `start` to `end`.

    `cost_known` False: the price only ranks the time (a forecast's sun where the grid's price
    is unknown); a plan charging then has an unknown cost, and no price limit applies to it.
    """

    start: datetime
    end: datetime
    price: float
    cost_known: bool = True


class BlockReason(StrEnum):
    """Why a block is in the plan."""

    MINIMUM = "minimum"  # up to the minimum charge, at once
    CHEAPEST = "cheapest"  # among the cheapest known prices
    UNKNOWN_PRICE = "unknown_price"  # the known prices could not hold the charge
    NOT_ENOUGH_TIME = "not_enough_time"  # the deadline is too near: charging at once
    OPPORTUNITY = "opportunity"  # above the target: the price is at or below the threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeRequest:
    """What the planner needs to know."""

    now: datetime
    deadline: datetime
    soc: float  # percent
    target: float  # percent
    minimum: float = 0.0  # percent, charged at once whatever the price
    percent_per_hour: float  # charge speed
    capacity_kwh: float | None = None  # for energy and cost; None: they are not estimated
    # Among equal (or unknown) prices the latest time first: what is left for the plan when
    # the deadline nears is what solar surplus charging did not cover.
    latest_first: bool = False
    max_price: float | None = None  # the target's time (beyond the minimum) costs no more
    opportunity_level: float | None = None  # percent: charge above the target up to this...
    opportunity_price: float | None = None  # ...at or below this price (negative: always)
    opportunity_share: float = 0.0  # ...or in this share (0–1) of the cheapest known time
    level_now: float | None = None  # the level when `soc` stands for it (the target held)
    # Times the car cannot charge: a shared charger or circuit is taken by another car then.
    busy: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedBlock:
    """One stretch of uninterrupted charging."""

    start: datetime
    end: datetime
    reason: BlockReason
    energy_kwh: float | None  # None without the battery's capacity
    cost: float | None  # None when the energy or a price is unknown


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargePlan:
    """The blocks to charge in, and what they are expected to cost."""

    blocks: tuple[PlannedBlock, ...]
    needed_hours: float
    reaches_target: bool  # by the deadline
    cost: float | None  # of the whole plan; None if any part is unknown
    reference_cost: float | None  # charging at once, continuously (as on plug-in)
    # With a maximum price, or a shared charger, that leaves too little time before the
    # deadline: the hours charged toward the target by then.
    capped_hours: float | None = None
    # What opportunity charging adds to the cost: energy beyond the target, which charging at
    # once would not buy, so it is left out of the savings.
    opportunity_cost: float | None = 0.0

    @property
    def savings(self) -> float | None:
        """What the plan saves against charging at once (to the target, both)."""
        if self.cost is None or self.reference_cost is None or self.opportunity_cost is None:
            return None
        return self.reference_cost - (self.cost - self.opportunity_cost)

    def charging_at(self, moment: datetime) -> bool:
        """Whether the plan charges at `moment`."""
        return any(block.start <= moment < block.end for block in self.blocks)

    def current_or_next(self, moment: datetime) -> PlannedBlock | None:
        """The block charging at `moment`, or else the next one."""
        return next((block for block in self.blocks if block.end > moment), None)

    def boundaries_after(self, moment: datetime) -> list[datetime]:
        """Every block start and end after `moment`, in order."""
        points = {edge for block in self.blocks for edge in (block.start, block.end)}
        return sorted(point for point in points if point > moment)


EMPTY_PLAN = ChargePlan(
    blocks=(), needed_hours=0.0, reaches_target=True, cost=0.0, reference_cost=0.0
)
