"""Smart charging's vocabulary: settings, statuses, decisions and the session (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from ..planner import BlockReason, ChargePlan


class SmartStatus(StrEnum):
    """What smart charging is doing for a vehicle."""

    OFF = "off"
    UNPLUGGED = "unplugged"
    AWAY = "away"
    NO_DATA = "no_data"
    WAITING = "waiting"
    CHARGING = "charging"
    OVERRIDE = "override"
    MANUAL = "manual"
    TARGET_REACHED = "target_reached"
    START_FAILED = "start_failed"
    STOP_FAILED = "stop_failed"


class Decision(StrEnum):
    """What the executor did last, and why."""

    START_PLAN = "start_plan"
    START_MINIMUM = "start_minimum"
    START_NOT_ENOUGH_TIME = "start_not_enough_time"
    START_OVERRIDE = "start_override"
    RETRY_START = "retry_start"
    STOP_PLAN = "stop_plan"
    STOP_AUTO_START = "stop_auto_start"
    STOP_TARGET = "stop_target"
    RETRY_STOP = "retry_stop"
    USER_TOOK_OVER = "user_took_over"
    START_FAILED = "start_failed"
    STOP_FAILED = "stop_failed"
    TARGET_REACHED = "target_reached"


class Problem(StrEnum):
    """Why the car does not do what the plan says (the watchdog's typed cause)."""

    ASLEEP = "asleep"
    UNREACHABLE = "unreachable"
    NO_KEY = "no_key"
    UNPLUGGED = "unplugged"
    RATE_LIMITED = "rate_limited"
    NOT_AT_HOME = "not_at_home"
    NO_EFFECT = "no_effect"
    REFUSED = "refused"


START_FOR_REASON = {
    BlockReason.MINIMUM: Decision.START_MINIMUM,
    BlockReason.NOT_ENOUGH_TIME: Decision.START_NOT_ENOUGH_TIME,
}


@dataclass(frozen=True, slots=True)
class SmartSettings:
    """A vehicle's smart-charging settings (stored)."""

    managed: bool = False
    ready_by_weekday: time = time(7, 0)
    ready_by_weekend: time = time(9, 0)
    target: int = 80
    minimum: int = 20

    def as_dict(self) -> dict[str, Any]:
        """For storage."""
        return {
            "managed": self.managed,
            "ready_by_weekday": self.ready_by_weekday.isoformat(),
            "ready_by_weekend": self.ready_by_weekend.isoformat(),
            "target": self.target,
            "minimum": self.minimum,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SmartSettings:
        """From storage; anything missing or unreadable takes its default."""
        settings = cls()
        try:
            return cls(
                managed=bool(data.get("managed", settings.managed)),
                ready_by_weekday=time.fromisoformat(
                    data.get("ready_by_weekday", settings.ready_by_weekday.isoformat())
                ),
                ready_by_weekend=time.fromisoformat(
                    data.get("ready_by_weekend", settings.ready_by_weekend.isoformat())
                ),
                target=int(data.get("target", settings.target)),
                minimum=int(data.get("minimum", settings.minimum)),
            )
        except TypeError, ValueError:
            return settings


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision of the executor."""

    decision: Decision
    at: datetime
    detail: str | None = None


class Hold(StrEnum):
    """Who decides whether the car charges, until it is unplugged."""

    PLAN = "plan"  # the plan (smart charging is in charge)
    OVERRIDE = "override"  # "Start charging now": charge to the target, whatever the plan
    USER = "user"  # the user started or stopped charging: hands off


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    """What the executor wants the car to do, how often it said so, and what came of it."""

    charge: bool
    attempts: int = 0
    last_attempt: datetime | None = None
    confirmed: bool = False  # the car itself reported doing it
    failed: bool = False  # given up: the commands had no effect (or were refused)


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One plug-in session of a vehicle, as smart charging sees it."""

    plugged: bool | None = None  # None: not looked at yet (start-up)
    plugged_at: datetime | None = None  # when this session's plug-in was seen (None: found)
    hold: Hold = Hold.PLAN
    first_reading: bool = True  # of the session, or since management was turned on
    target_reached: bool = False  # in this session
    intent: Intent | None = None
    risk_ignored: bool = False  # "Ignore this time": no plan-at-risk warning this session


@dataclass(frozen=True, slots=True, kw_only=True)
class LearnedSpeed:
    """The charge speed at home, learned from what the car reports while charging."""

    power_kw: float | None = None
    percent_per_hour: float | None = None
    soc_sample: tuple[datetime, float] | None = None  # the last level report while charging


@dataclass(slots=True)
class SmartChargingState:
    """Smart charging's state for one vehicle: what the entities and diagnostics show."""

    settings: SmartSettings = field(default_factory=SmartSettings)
    session: Session = field(default_factory=Session)
    learned: LearnedSpeed = field(default_factory=LearnedSpeed)
    plan: ChargePlan | None = None
    status: SmartStatus = SmartStatus.OFF
    last_decision: DecisionRecord | None = None
    deadline: datetime | None = None
    currency: str | None = None
    # The level we worked out, when, and the car's report it started from.
    soc_estimate: tuple[float, datetime, datetime | None] | None = None
    command_error: Exception | None = None  # of the last command that failed
    # The plan cannot reach the target by the ready-by time: the level it can reach instead.
    at_risk: int | None = None

    def stored(self) -> dict[str, Any]:
        """What survives a restart."""
        return {
            "settings": self.settings.as_dict(),
            "override": self.session.hold is Hold.OVERRIDE,
            "manual": self.session.hold is Hold.USER,
            "power_kw": self.learned.power_kw,
            "learned_percent_per_hour": self.learned.percent_per_hour,
        }
