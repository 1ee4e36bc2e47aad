"""The emulator's clock: real time times a speed factor, plus manual jumps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import time


class Clock:
    """An adjustable clock.

    Emulator time runs at ``speed`` times real time from an anchor; ``advance`` and
    ``set`` move the anchor. A speed of 0 freezes the clock, which is what tests want.
    """

    def __init__(
        self,
        *,
        start: datetime | None = None,
        speed: float = 1.0,
        time_source: Callable[[], float] = time.time,
    ) -> None:
        """Create a clock starting at ``start`` (default: now)."""
        if speed < 0:
            raise ValueError("speed must not be negative")
        self._time_source = time_source
        self._speed = speed
        self._anchor_real = time_source()
        self._anchor = _aware(start) if start else datetime.fromtimestamp(self._anchor_real, UTC)

    @property
    def speed(self) -> float:
        """Emulator seconds per real second."""
        return self._speed

    def now(self) -> datetime:
        """Return the current emulator time (UTC)."""
        elapsed = (self._time_source() - self._anchor_real) * self._speed
        return self._anchor + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> datetime:
        """Jump forward (or back, if negative) by ``seconds``; return the new time."""
        self._rebase()
        self._anchor += timedelta(seconds=seconds)
        return self._anchor

    def set(self, when: datetime) -> datetime:
        """Jump to ``when``; return it."""
        self._rebase()
        self._anchor = _aware(when)
        return self._anchor

    def set_speed(self, speed: float) -> None:
        """Change the speed factor from now on."""
        if speed < 0:
            raise ValueError("speed must not be negative")
        self._rebase()
        self._speed = speed

    def as_dict(self) -> dict[str, object]:
        """Describe the clock for the admin API."""
        return {"now": iso(self.now()), "speed": self._speed}

    def _rebase(self) -> None:
        now = self.now()
        self._anchor_real = self._time_source()
        self._anchor = now


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def iso(when: datetime) -> str:
    """Format as ISO-8601 with milliseconds and ``Z``, as Smartcar does."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def epoch_ms(when: datetime) -> int:
    """Return milliseconds since the epoch."""
    return int(when.timestamp() * 1000)


def parse_time(value: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` allowed); naive values are UTC."""
    return _aware(datetime.fromisoformat(value))
