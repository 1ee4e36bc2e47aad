"""Smart charging's vocabulary: settings, statuses, decisions and the session (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from ..planner import BlockReason, ChargePlan
from .solar import SolarState


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
    SOLAR_CHARGING = "solar_charging"
    WAITING_FOR_SUN = "waiting_for_sun"
    HOUSE_AT_LIMIT = "house_at_limit"  # paused: the site limit leaves the car too little room
    WAITING_FOR_OTHER_CAR = "waiting_for_other_car"  # a shared charger or circuit is taken


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
    START_SOLAR = "start_solar"
    STOP_SOLAR = "stop_solar"
    START_OPPORTUNITY = "start_opportunity"
    STOP_HOUSE_AT_LIMIT = "stop_house_at_limit"
    STOP_FOR_OTHER_CAR = "stop_for_other_car"  # a shared charger or circuit: another car's turn
    WAIT_FOR_OTHER_CAR = "wait_for_other_car"  # it would charge now, but another car has the turn


class Problem(StrEnum):
    """Why the car does not do what the plan says (the watchdog's typed cause)."""

    ASLEEP = "asleep"
    UNREACHABLE = "unreachable"
    NO_KEY = "no_key"
    UNPLUGGED = "unplugged"
    RATE_LIMITED = "rate_limited"
    NO_EFFECT = "no_effect"
    TOO_MANY_COMMANDS = "too_many_commands"  # smart charging's own guard (see policy.py)
    REFUSED = "refused"


TARGET_RANGE = (10, 100)  # the target charge a user can set (percent)
OPPORTUNITY_RANGE = (50, 100)  # the level opportunity charging goes up to (percent)
# Prices a user can set (the price source's currency per kWh; cents or öre need the room).
# "Maximum price" at the top of its range is no maximum.
PRICE_RANGE = (-10000.0, 10000.0)

START_FOR_REASON = {
    BlockReason.MINIMUM: Decision.START_MINIMUM,
    BlockReason.NOT_ENOUGH_TIME: Decision.START_NOT_ENOUGH_TIME,
    BlockReason.OPPORTUNITY: Decision.START_OPPORTUNITY,
}


WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
WEEKDAY_READY_BY = time(7, 0)  # the default before the weekly schedule (Monday to Friday)
WEEKEND_READY_BY = time(9, 0)  # and at weekends


@dataclass(frozen=True, slots=True)
class DaySchedule:
    """One day of the weekly schedule: whether the car leaves, when, and charged to what."""

    depart: bool = True  # False: no departure that day
    ready_by: time = WEEKDAY_READY_BY
    target: int | None = None  # None: the general target ("Target charge")

    def as_dict(self) -> dict[str, Any]:
        """For storage."""
        return {"depart": self.depart, "ready_by": self.ready_by.isoformat(), "target": self.target}

    @classmethod
    def from_dict(cls, data: Any, default: DaySchedule) -> DaySchedule:
        """From storage; anything unreadable takes the default."""
        if not isinstance(data, dict):
            return default
        try:
            target = data.get("target")
            return cls(
                depart=bool(data.get("depart", default.depart)),
                ready_by=time.fromisoformat(data.get("ready_by", default.ready_by.isoformat())),
                target=None if target is None else int(target),
            )
        except TypeError, ValueError:
            return default


def weekly(weekday: time, weekend: time) -> tuple[DaySchedule, ...]:
    """Seven days: `weekday` from Monday to Friday, `weekend` on Saturday and Sunday."""
    return tuple(DaySchedule(ready_by=weekday if day < 5 else weekend) for day in range(7))


DEFAULT_WEEK = weekly(WEEKDAY_READY_BY, WEEKEND_READY_BY)


class DepartureSource(StrEnum):
    """Where a departure comes from."""

    SCHEDULE = "schedule"  # the weekly schedule
    TRIP = "trip"  # a one-off trip the user planned
    CALENDAR = "calendar"  # an event of the calendar chosen in the options
    NONE = "none"  # no departure ahead: charging on the known prices


@dataclass(frozen=True, slots=True)
class Trip:
    """A one-off departure; it beats the weekly schedule until it has passed."""

    at: datetime
    target: int | None = None  # None: the general target

    def as_dict(self) -> dict[str, Any]:
        """For storage."""
        return {"at": self.at.isoformat(), "target": self.target}

    @classmethod
    def from_dict(cls, data: Any) -> Trip | None:
        """From storage; None when unreadable."""
        if not isinstance(data, dict):
            return None
        try:
            at = datetime.fromisoformat(data["at"])
            target = data.get("target")
            if at.tzinfo is None:
                return None
            return cls(at=at, target=None if target is None else int(target))
        except KeyError, TypeError, ValueError:
            return None


@dataclass(frozen=True, slots=True)
class CalendarTrip:
    """A departure from a calendar event (its start); it replaces that day's scheduled one."""

    start: datetime | date  # a date: an all-day event, at that day's ready-by time
    target: int | None  # from the event's text ("90%"); None: the general target
    summary: str


@dataclass(frozen=True, slots=True)
class SmartSettings:
    """A vehicle's smart-charging settings (stored)."""

    managed: bool = False
    days: tuple[DaySchedule, ...] = DEFAULT_WEEK  # Monday first
    target: int = 80
    minimum: int = 20
    trip: Trip | None = None
    # Opportunity charging: above the target up to this level at or below this price (and
    # always at negative prices). Off while the level is at or below the target.
    opportunity_level: int = OPPORTUNITY_RANGE[0]
    opportunity_price: float = 0.0
    opportunity_share: int = 0  # percent: or in the cheapest share of the known time (0: off)
    max_price: float | None = None  # the planned part buys at or below it (None: no maximum)

    def as_dict(self) -> dict[str, Any]:
        """For storage."""
        return {
            "managed": self.managed,
            "days": [day.as_dict() for day in self.days],
            "target": self.target,
            "minimum": self.minimum,
            "trip": self.trip.as_dict() if self.trip else None,
            "opportunity_level": self.opportunity_level,
            "opportunity_price": self.opportunity_price,
            "opportunity_share": self.opportunity_share,
            "max_price": self.max_price,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SmartSettings:
        """From storage; anything missing or unreadable takes its default.

        Settings stored before the weekly schedule have one weekday and one weekend ready-by
        time: they become the schedule's times (every day a departure, the general target).
        """
        settings = cls()
        try:
            stored_days = data.get("days")
            if isinstance(stored_days, list) and len(stored_days) == 7:
                days = tuple(
                    DaySchedule.from_dict(day, default)
                    for day, default in zip(stored_days, DEFAULT_WEEK, strict=True)
                )
            else:
                days = weekly(
                    time.fromisoformat(data.get("ready_by_weekday", WEEKDAY_READY_BY.isoformat())),
                    time.fromisoformat(data.get("ready_by_weekend", WEEKEND_READY_BY.isoformat())),
                )
            return cls(
                managed=bool(data.get("managed", settings.managed)),
                days=days,
                target=int(data.get("target", settings.target)),
                minimum=int(data.get("minimum", settings.minimum)),
                trip=Trip.from_dict(data.get("trip")),
                opportunity_level=int(data.get("opportunity_level", settings.opportunity_level)),
                opportunity_price=float(data.get("opportunity_price", settings.opportunity_price)),
                opportunity_share=int(data.get("opportunity_share", settings.opportunity_share)),
                max_price=_price(data.get("max_price")),
            )
        except TypeError, ValueError:
            return settings

    def with_day(self, weekday: int, **changes: Any) -> SmartSettings:
        """These settings with one day of the schedule changed (0: Monday)."""
        days = list(self.days)
        days[weekday] = replace(days[weekday], **changes)
        return replace(self, days=tuple(days))


@dataclass(frozen=True, slots=True)
class Departure:
    """The next moment the car must be ready, the level it needs then, and where it came from."""

    at: datetime | None  # None: no departure ahead (source NONE)
    target: int
    source: DepartureSource
    weekday: int | None = None  # of a scheduled departure (0: Monday)
    event: str | None = None  # the calendar event's summary


# The detail of a decision whose command was refused: this prefix and the Refusal's value.
REFUSED_PREFIX = "failed: "


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision of the executor."""

    decision: Decision
    at: datetime
    detail: str | None = None  # a code: a refusal, "surplus", "room", another car's name, ...
    kw: float | None = None  # the surplus or the room under the site limit the detail names


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
    accepted_target: int | None = None  # "Accept less": this session's lower target
    recent_commands: tuple[datetime, ...] = ()  # when the last planned commands were sent


@dataclass(frozen=True, slots=True, kw_only=True)
class LearnedSpeed:
    """The charge speed at home, learned from what the car reports while charging."""

    power_kw: float | None = None
    percent_per_hour: float | None = None
    soc_sample: tuple[datetime, float] | None = None  # the last level report while charging
    kw_per_amp: float | None = None  # with a current entity: the power one ampere gives
    kw_per_amp_entity: str | None = None  # the current entity it was learned with


@dataclass(slots=True)
class SmartChargingState:
    """Smart charging's state for one vehicle: what the entities and diagnostics show."""

    settings: SmartSettings = field(default_factory=SmartSettings)
    session: Session = field(default_factory=Session)
    learned: LearnedSpeed = field(default_factory=LearnedSpeed)
    plan: ChargePlan | None = None
    status: SmartStatus = SmartStatus.OFF
    last_decision: DecisionRecord | None = None
    deadline: datetime | None = None  # the next departure's time (None: none ahead)
    departure: Departure | None = None  # the next departure (made with the plan)
    currency: str | None = None
    # The level we worked out, when, and the car's report it started from.
    soc_estimate: tuple[float, datetime, datetime | None] | None = None
    command_error: Exception | None = None  # of the last command that failed
    # The plan cannot reach the target by the ready-by time: the level it can reach instead.
    at_risk: int | None = None
    solar: SolarState | None = None  # with solar surplus charging set up in the options
    house_room_kw: float | None = None  # with a site limit: the room at the last decision
    charging_current: float | None = None  # with a current entity: the current it shows (A)
    waiting_for: str | None = None  # the car that has the shared charger or circuit now

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> SmartChargingState:
        """The state `stored()` kept (a value gone bad takes its default)."""
        hold = Hold.PLAN
        if stored.get("manual"):
            hold = Hold.USER
        elif stored.get("override"):
            hold = Hold.OVERRIDE
        return cls(
            settings=SmartSettings.from_dict(stored.get("settings", {})),
            session=Session(
                hold=hold,
                risk_ignored=stored.get("risk_ignored") is True,
                accepted_target=_percent(stored.get("accepted_target")),
            ),
            learned=LearnedSpeed(
                power_kw=positive(stored.get("power_kw")),
                percent_per_hour=positive(stored.get("learned_percent_per_hour")),
                kw_per_amp=positive(stored.get("kw_per_amp")),
                kw_per_amp_entity=_text(stored.get("kw_per_amp_entity")),
            ),
            # Said before the restart: not said again (nor notified) after it.
            at_risk=_percent(stored.get("at_risk")),
            solar=SolarState.from_stored(stored.get("solar")),
        )

    def stored(self) -> dict[str, Any]:
        """What survives a restart (the session's answers to a plan at risk included)."""
        return {
            "settings": self.settings.as_dict(),
            "override": self.session.hold is Hold.OVERRIDE,
            "manual": self.session.hold is Hold.USER,
            "power_kw": self.learned.power_kw,
            "learned_percent_per_hour": self.learned.percent_per_hour,
            "kw_per_amp": self.learned.kw_per_amp,
            "kw_per_amp_entity": self.learned.kw_per_amp_entity,
            "risk_ignored": self.session.risk_ignored,
            "accepted_target": self.session.accepted_target,
            "at_risk": self.at_risk,
            "solar": self.solar.stored() if self.solar else None,
        }


def positive(value: Any) -> float | None:
    """A positive number as a float; anything else (a stored value gone bad) as None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _text(value: Any) -> str | None:
    """A stored text, or None (none kept, or a stored value gone bad)."""
    return value if isinstance(value, str) and value else None


def _price(value: Any) -> float | None:
    """A stored price, or None (none set, or a stored value gone bad)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _percent(value: Any) -> int | None:
    """A stored percentage, or None (also for a stored value gone bad)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100:
        return value
    return None
