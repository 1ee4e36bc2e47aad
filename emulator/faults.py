"""Injected faults and request counting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any
import uuid

# Faults answered instead of a /v3 request.
ERROR_KINDS = frozenset(
    {
        "http_401",
        "http_403",
        "http_429",
        "http_429_app",
        "http_430",
        "http_409_asleep",
        "http_409_unreachable",
        "http_500",
        "http_502",
        "http_504",
        "http_404_path",  # what a path Smartcar does not have gets (e.g. a subscription call)
    }
)
# Faults that change how a /v3 request is answered.
RESPONSE_KINDS = frozenset({"timeout", "malformed_json", "wrong_types"})
COMMAND_KINDS = frozenset({"command_202", "command_202_failure"})
SIGNALS_KINDS = frozenset({"virtual_key_request"})
TOKEN_KINDS = frozenset({"token_invalid_client"})
DELIVERY_KINDS = frozenset({"bad_signature"})
FAULT_KINDS = (
    ERROR_KINDS | RESPONSE_KINDS | COMMAND_KINDS | SIGNALS_KINDS | TOKEN_KINDS | DELIVERY_KINDS
)


@dataclass(slots=True)
class Fault:
    """One injected fault; ``count`` -1 means until cleared."""

    id: str
    kind: str
    vehicle_id: str | None = None
    path: str | None = None
    count: int = 1
    retry_after: int | None = None
    delay: float | None = None
    variant: str | None = None
    hits: int = 0

    def matches(self, *, path: str, vehicle_id: str | None) -> bool:
        """Whether this fault applies to a request for ``path``/``vehicle_id``."""
        if self.vehicle_id is not None and self.vehicle_id != vehicle_id:
            return False
        return self.path is None or self.path in path

    def as_dict(self) -> dict[str, Any]:
        """Describe the fault for the admin API."""
        return asdict(self)


class FaultBook:
    """The active faults, consumed in the order they were added."""

    def __init__(self) -> None:
        """Start with no faults."""
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str,
        *,
        vehicle_id: str | None = None,
        path: str | None = None,
        count: int = 1,
        retry_after: int | None = None,
        delay: float | None = None,
        variant: str | None = None,
    ) -> Fault:
        """Add a fault; raise ``ValueError`` for an unknown kind or bad count."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        if count == 0 or count < -1:
            raise ValueError("count must be positive, or -1 for 'until cleared'")
        fault = Fault(
            id=uuid.uuid4().hex[:12],
            kind=kind,
            vehicle_id=vehicle_id,
            path=path,
            count=count,
            retry_after=retry_after,
            delay=delay,
            variant=variant,
        )
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def take(self, kinds: Collection[str], *, path: str, vehicle_id: str | None) -> Fault | None:
        """Consume and return the first matching fault of one of ``kinds``."""
        for fault in self._faults:
            if fault.kind in kinds and fault.matches(path=path, vehicle_id=vehicle_id):
                fault.hits += 1
                if fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                return fault
        return None

    def as_list(self) -> list[dict[str, Any]]:
        """Describe the active faults."""
        return [fault.as_dict() for fault in self._faults]


class RequestCounter:
    """Counts requests per route and per vehicle, and the billable ones separately."""

    total: int
    billable: int
    by_path: Counter[str]
    by_vehicle: Counter[str]
    by_status: Counter[str]
    billable_by_path: Counter[str]
    billable_by_vehicle: Counter[str]
    billable_by_vehicle_path: Counter[tuple[str, str]]

    def __init__(self) -> None:
        """Start from zero."""
        self.reset()

    def reset(self) -> None:
        """Start counting from zero again."""
        self.total = 0
        self.billable = 0
        self.by_path = Counter()
        self.by_vehicle = Counter()
        self.by_status = Counter()
        self.billable_by_path = Counter()
        self.billable_by_vehicle = Counter()
        self.billable_by_vehicle_path = Counter()

    def record(self, route: str, vehicle_id: str | None, status: int, *, billable: bool) -> None:
        """Count one answered request; ``billable`` applies only to 2xx answers."""
        self.total += 1
        self.by_path[route] += 1
        self.by_status[str(status)] += 1
        if vehicle_id:
            self.by_vehicle[vehicle_id] += 1
        if billable and 200 <= status < 300:
            self.billable += 1
            self.billable_by_path[route] += 1
            if vehicle_id:
                self.billable_by_vehicle[vehicle_id] += 1
                self.billable_by_vehicle_path[(vehicle_id, route)] += 1

    def as_dict(self) -> dict[str, Any]:
        """Describe the counts for the admin API."""
        return {
            "total": self.total,
            "by_path": dict(self.by_path),
            "by_vehicle": dict(self.by_vehicle),
            "by_status": dict(self.by_status),
            "billable": {
                "total": self.billable,
                "by_path": dict(self.billable_by_path),
                "by_vehicle": dict(self.billable_by_vehicle),
            },
        }


class PlanLimits:
    """Per-vehicle monthly allowances of billable requests (Smartcar's plans), and their use.

    Smartcar bills each successful vehicle request, commands included, against the plan's calls
    per vehicle per month (0, 100 or 500 on the plans since December 2025, as users report in
    https://github.com/wbyoung/smartcar/issues/49). Past it every billable request answers 430
    BILLING / VEHICLE_REQUEST_LIMIT (https://smartcar.com/docs/help/api-limits,
    https://smartcar.com/docs/errors/api-errors/billing-errors).
    A vehicle without a limit is not limited (the emulator's default).
    """

    def __init__(self) -> None:
        """No limits, nothing used."""
        self.limits: dict[str, int] = {}
        self.used: Counter[tuple[str, str]] = Counter()  # (vehicle, "YYYY-MM") -> billed

    def reset(self) -> None:
        """Forget the limits and their use."""
        self.limits.clear()
        self.used.clear()

    def set(self, vehicle_id: str, limit: int | None) -> None:
        """Give the vehicle a monthly allowance (None: unlimited)."""
        if limit is None:
            self.limits.pop(vehicle_id, None)
        else:
            self.limits[vehicle_id] = limit

    def exhausted(self, vehicle_id: str, month: str) -> bool:
        """Whether the vehicle's allowance for the month is used up."""
        limit = self.limits.get(vehicle_id)
        return limit is not None and self.used[vehicle_id, month] >= limit

    def bill(self, vehicle_id: str, month: str) -> None:
        """Count one billed request."""
        self.used[vehicle_id, month] += 1

    def as_dict(self, month: str) -> dict[str, Any]:
        """Each limited vehicle's allowance and this month's use."""
        return {
            vehicle_id: {"limit": limit, "used": self.used[vehicle_id, month]}
            for vehicle_id, limit in self.limits.items()
        }
