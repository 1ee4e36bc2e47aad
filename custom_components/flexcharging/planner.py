"""The charge planner: the cheapest charging time that reaches the target by the deadline.

Pure and deterministic: no Home Assistant, no I/O, no clock. Times are timezone-aware; the plan
is in UTC.

The car charges at a constant speed, so the cost of charging during a stretch of time is its
price times its length. Choosing the cheapest total time is then a fractional knapsack: take the
cheapest stretches until the needed time is filled (only the last one partly). That is exactly
the optimum of the linear programme, ties broken by the earlier start.

Rules on top of the optimum, in this order:
- the time needed to reach the minimum charge is taken at once, whatever the price;
- if the time to the deadline cannot hold the charge, the car charges at once, continuously;
- with a maximum price, the target's time (beyond the minimum) is taken only where the price is at
  or below it (or unknown); when that cannot hold the charge the plan falls short (`capped_hours`);
- time with an unknown price (gaps, or beyond the last known price) is used only when the known
  prices cannot hold the charge, earliest first; the plan is made again when prices arrive;
- among stretches of the marginal price (any of them costs the same) those next to chosen time
  go first, and a partly used stretch is placed next to a chosen neighbour: fewer blocks, and
  each block needs one start and one stop;
- time when a shared charger or circuit is taken by another car (`busy`) is not there at all:
  every rule above works on the time left.

Opportunity charging comes on top: above the target, up to its own level, in the time left
before the deadline whose price is at or below its threshold (always when negative), or among
the cheapest share of the known time until the deadline (for prices without a meaningful level:
an index, a forecast), cheapest first. Taking the target's cheapest time first and then the cheapest cheap time left is optimal:
any cheap stretch the target did not take costs at least as much as every one it took.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from .charge_plan import (
    EMPTY_PLAN,
    BlockReason,
    ChargePlan,
    ChargeRequest,
    PlannedBlock,
    PriceSlot,
)

__all__ = [
    "EMPTY_PLAN",
    "BlockReason",
    "ChargePlan",
    "ChargeRequest",
    "PlannedBlock",
    "PriceSlot",
    "plan_charging",
]

_EPSILON_HOURS = 1 / 3600  # one second: shorter charging is no charging


@dataclass(frozen=True, slots=True)
class _Piece:
    """A stretch of time with one price (None: unknown)."""

    start: datetime
    end: datetime
    price: float | None  # what ranks the piece
    cost_known: bool = True

    @property
    def known(self) -> float | None:
        """The price, if it is what the energy costs (not only a rank)."""
        return self.price if self.cost_known else None

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def plan_charging(request: ChargeRequest, prices: Iterable[PriceSlot]) -> ChargePlan:
    """Plan the cheapest charging that reaches the target by the deadline."""
    rate = request.percent_per_hour
    if rate <= 0:
        raise ValueError("the charge speed must be positive")
    needed = max(request.target - request.soc, 0.0) / rate
    extra = _opportunity_hours(request)
    if needed < _EPSILON_HOURS and extra < _EPSILON_HOURS:
        return EMPTY_PLAN
    # UTC throughout: arithmetic on two times of one local zone is wall-clock arithmetic, wrong
    # on the days the clocks change.
    slots = _clean(
        replace(slot, start=slot.start.astimezone(UTC), end=slot.end.astimezone(UTC))
        for slot in prices
    )
    now = request.now.astimezone(UTC)
    deadline = request.deadline.astimezone(UTC)
    busy = [
        _Piece(max(start.astimezone(UTC), now), end.astimezone(UTC), None)
        for start, end in request.busy
        if end > now
    ]
    # Long enough to hold the charge around the time others take.
    horizon_end = max(deadline, now + _hours(needed)) + sum(
        (piece.end - piece.start for piece in busy), timedelta()
    )
    timeline = _without(_timeline(slots, now, horizon_end), busy)
    reference = _cost_of(_take_from_start(timeline, needed), request)

    forced_hours = min(max(min(request.minimum, request.target) - request.soc, 0.0) / rate, needed)
    forced = _take_from_start(timeline, forced_hours)
    flexible_from = forced[-1].end if busy and forced else now + _hours(forced_hours)
    window = [
        piece for piece in _clip(timeline, flexible_from, deadline) if piece.hours >= _EPSILON_HOURS
    ]
    rest = needed - forced_hours
    available = sum(piece.hours for piece in window)

    chosen: list[tuple[_Piece, BlockReason]] = [(piece, BlockReason.MINIMUM) for piece in forced]
    capped: float | None = None
    opportunity_cost: float | None = 0.0
    if rest < _EPSILON_HOURS:
        reaches = flexible_from <= deadline
    elif available < rest - 1e-9 and request.max_price is None:
        # Not enough time: charge at once, continuously, until the target.
        late = _take_from_start(_clip(timeline, flexible_from, horizon_end), rest)
        chosen += [(piece, BlockReason.NOT_ENOUGH_TIME) for piece in late]
        reaches = False
        if busy:
            # Charging at once reaches less than the time to the deadline says.
            capped = forced_hours + available
    else:
        affordable = [piece for piece in window if _affordable(piece, request.max_price)]
        picked = _cheapest(affordable, rest, latest_first=request.latest_first)
        chosen += picked
        got = sum(piece.hours for piece, _ in picked)
        reaches = got >= rest - _EPSILON_HOURS
        if not reaches:
            capped = forced_hours + got
    if extra >= _EPSILON_HOURS and reaches:
        bound = _share_bound(_clip(timeline, now, deadline), request.opportunity_share)
        cheap = [
            piece
            for piece in _without(window, [piece for piece, _ in chosen])
            if _cheap(piece, request, bound)
        ]
        opportunity = [piece for piece, _ in _cheapest(cheap, extra)]
        chosen += [(piece, BlockReason.OPPORTUNITY) for piece in opportunity]
        opportunity_cost = _cost_of(opportunity, request)
    blocks = _blocks(chosen, request)
    cost = _sum_or_none(block.cost for block in blocks)
    return ChargePlan(
        blocks=blocks,
        needed_hours=needed,
        reaches_target=reaches,
        cost=cost,
        reference_cost=reference,
        capped_hours=capped,
        opportunity_cost=opportunity_cost,
    )


def _opportunity_hours(request: ChargeRequest) -> float:
    """The hours of opportunity charging from the target (or the level above it) to its level."""
    if request.opportunity_level is None:
        return 0.0
    level = max(request.soc if request.level_now is None else request.level_now, request.target)
    return max(request.opportunity_level - level, 0.0) / request.percent_per_hour


def _affordable(piece: _Piece, max_price: float | None) -> bool:
    """Within the maximum price; an unknown price may be (the plan is made again with it)."""
    return max_price is None or piece.known is None or piece.known <= max_price


def _cheap(piece: _Piece, request: ChargeRequest, bound: float | None) -> bool:
    """A known price for opportunity charging: negative, or at or below a threshold."""
    price = piece.known
    if price is None or not _affordable(piece, request.max_price):
        return False
    thresholds = [value for value in (request.opportunity_price, bound) if value is not None]
    return price < 0 or any(price <= value for value in thresholds)


def _share_bound(pieces: Sequence[_Piece], share: float) -> float | None:
    """The price that bounds the cheapest `share` of the known time (None: no share)."""
    known = sorted((piece for piece in pieces if piece.known is not None), key=_price)
    wanted = share * sum(piece.hours for piece in known)
    if wanted < _EPSILON_HOURS:
        return None
    bound = None
    for piece in known:
        bound = piece.price
        wanted -= piece.hours
        if wanted < _EPSILON_HOURS:
            break
    return bound


def _price(piece: _Piece) -> float:
    return piece.price or 0.0


def _without(pieces: Sequence[_Piece], taken: Sequence[_Piece]) -> list[_Piece]:
    """The parts of `pieces` that no piece of `taken` covers."""
    left: list[_Piece] = []
    for piece in pieces:
        cursor = piece.start
        for used in sorted(taken, key=lambda used: used.start):
            if used.end <= cursor or used.start >= piece.end:
                continue
            if used.start > cursor:
                left.append(replace(piece, start=cursor, end=used.start))
            cursor = max(cursor, used.end)
        if piece.end > cursor:
            left.append(replace(piece, start=cursor))
    return [piece for piece in left if piece.hours >= _EPSILON_HOURS]


def _hours(hours: float) -> timedelta:
    return timedelta(seconds=round(hours * 3600))


def _clean(prices: Iterable[PriceSlot]) -> list[PriceSlot]:
    """Sorted, without empty slots; where slots overlap, the earlier-starting one is cut short."""
    ordered = sorted((slot for slot in prices if slot.end > slot.start), key=lambda s: s.start)
    cleaned: list[PriceSlot] = []
    for slot in ordered:
        if cleaned and slot.start < cleaned[-1].end:
            previous = cleaned[-1]
            if slot.start <= previous.start:
                continue  # same start: the first one wins
            cleaned[-1] = replace(previous, end=slot.start)
        cleaned.append(slot)
    return cleaned


def _timeline(slots: Sequence[PriceSlot], start: datetime, end: datetime) -> list[_Piece]:
    """[start, end) cut into pieces of one price each; gaps get an unknown price."""
    pieces: list[_Piece] = []
    cursor = start
    for slot in slots:
        if slot.end <= cursor:
            continue
        if slot.start >= end:
            break
        if slot.start > cursor:
            pieces.append(_Piece(cursor, slot.start, None))
            cursor = slot.start
        piece_end = min(slot.end, end)
        pieces.append(_Piece(cursor, piece_end, slot.price, slot.cost_known))
        cursor = piece_end
    if cursor < end:
        pieces.append(_Piece(cursor, end, None))
    return pieces


def _clip(pieces: Sequence[_Piece], start: datetime, end: datetime) -> list[_Piece]:
    clipped = []
    for piece in pieces:
        piece_start, piece_end = max(piece.start, start), min(piece.end, end)
        if piece_end > piece_start:
            clipped.append(replace(piece, start=piece_start, end=piece_end))
    return clipped


def _take_from_start(pieces: Sequence[_Piece], hours: float) -> list[_Piece]:
    """The first `hours` of the pieces."""
    taken: list[_Piece] = []
    left = hours
    for piece in pieces:
        if left < _EPSILON_HOURS:
            break
        if piece.hours <= left:
            taken.append(piece)
            left -= piece.hours
        else:
            taken.append(replace(piece, end=piece.start + _hours(left)))
            left = 0.0
    return taken


def _cheapest(
    window: Sequence[_Piece], hours: float, *, latest_first: bool = False
) -> list[tuple[_Piece, BlockReason]]:
    """The cheapest `hours` of the window: known prices first, then unknown ones, earliest.

    With `latest_first`, ties and unknown prices go latest first instead.
    """

    # Sorted by price, then start: taking whole prices in that order is the optimum; only the
    # last (marginal) price needs a choice.
    def key(i: int) -> tuple[bool, float]:
        return (window[i].price is None, window[i].price or 0.0)

    def touches(i: int) -> int:
        before = i > 0 and i - 1 in full and window[i - 1].end == window[i].start
        after = i + 1 < len(window) and i + 1 in full and window[i + 1].start == window[i].end
        return int(before) + int(after)

    sign = -1 if latest_first else 1
    order = sorted(range(len(window)), key=lambda i: (*key(i), sign * window[i].start.timestamp()))
    full: set[int] = set()
    partial: tuple[int, float] | None = None
    left = hours
    position = 0
    while left >= _EPSILON_HOURS and position < len(order):
        # One price at a time: all of it if it fits, else as much as needed.
        group_end = position
        while group_end < len(order) and key(order[group_end]) == key(order[position]):
            group_end += 1
        group = order[position:group_end]
        position = group_end
        if sum(window[i].hours for i in group) <= left + _EPSILON_HOURS:
            full.update(group)
            left -= sum(window[i].hours for i in group)
            continue
        # The marginal price: any choice costs the same, so take what touches chosen time
        # first (fewer blocks, fewer commands); unknown prices stay earliest first.
        remaining = list(group)
        while left >= _EPSILON_HOURS:
            index = remaining[0]
            if window[index].price is not None:
                index = max(remaining, key=lambda i: (touches(i), -remaining.index(i)))
            remaining.remove(index)
            if window[index].hours <= left + _EPSILON_HOURS:
                full.add(index)
                left -= window[index].hours
            else:
                partial = (index, left)
                left = 0.0
    chosen = [window[index] for index in sorted(full)]
    if partial is not None:
        index, part = partial
        piece = window[index]
        follows_chosen = index > 0 and index - 1 in full and window[index - 1].end == piece.start
        precedes_chosen = (
            index + 1 < len(window) and index + 1 in full and window[index + 1].start == piece.end
        )
        if (precedes_chosen or latest_first) and not follows_chosen:
            chosen.append(replace(piece, start=piece.end - _hours(part)))
        else:
            chosen.append(replace(piece, end=piece.start + _hours(part)))
    chosen.sort(key=lambda piece: piece.start)
    return [
        (piece, BlockReason.CHEAPEST if piece.price is not None else BlockReason.UNKNOWN_PRICE)
        for piece in chosen
    ]


def _blocks(
    chosen: Sequence[tuple[_Piece, BlockReason]], request: ChargeRequest
) -> tuple[PlannedBlock, ...]:
    """Merge touching pieces into blocks; a block takes the reason of its first piece."""
    blocks: list[PlannedBlock] = []
    group: list[_Piece] = []
    group_reason = BlockReason.CHEAPEST

    def close() -> None:
        if group:
            blocks.append(
                PlannedBlock(
                    start=group[0].start,
                    end=group[-1].end,
                    reason=group_reason,
                    energy_kwh=_energy(sum(piece.hours for piece in group), request),
                    cost=_cost_of(group, request),
                )
            )

    for piece, reason in sorted(chosen, key=lambda item: item[0].start):
        if group and piece.start != group[-1].end:
            close()
            group = []
        if not group:
            group_reason = reason
        group.append(piece)
    close()
    return tuple(blocks)


def _energy(hours: float, request: ChargeRequest) -> float | None:
    if request.capacity_kwh is None:
        return None
    return hours * request.percent_per_hour / 100 * request.capacity_kwh


def _cost_of(pieces: Sequence[_Piece], request: ChargeRequest) -> float | None:
    costs = []
    for piece in pieces:
        energy = _energy(piece.hours, request)
        costs.append(None if energy is None or piece.known is None else energy * piece.known)
    return _sum_or_none(costs)


def _sum_or_none(values: Iterable[float | None]) -> float | None:
    total = 0.0
    for value in values:
        if value is None:
            return None
        total += value
    return total
