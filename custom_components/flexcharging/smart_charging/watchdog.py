"""The watchdog's pure rules: when a problem is over, and when a plan falls short.

Pure and deterministic, like the policy whose steps it reads: no Home Assistant, no I/O, no
clock. `alerts.py` acts on what it says (repairs, notifications, events).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..planner import ChargePlan
from .estimates import reachable_level
from .model import Session, SmartStatus
from .policy import RETRY_AFTER, Step

FAILED_STATUSES = (SmartStatus.START_FAILED, SmartStatus.STOP_FAILED)


def problem_solved(step: Step) -> bool:
    """The car does as planned again (or there is no plan to follow): the problem is over."""
    if step.problem is not None or step.status in FAILED_STATUSES:
        return False
    if step.status in (SmartStatus.OFF, SmartStatus.UNPLUGGED, SmartStatus.MANUAL):
        return True
    intent = step.session.intent
    return intent is None or intent.confirmed


# Statuses in which the plan is being carried out, and so can be at risk.
PLANNING_STATUSES = (
    SmartStatus.WAITING,
    SmartStatus.CHARGING,
    SmartStatus.WAITING_FOR_SUN,
    SmartStatus.SOLAR_CHARGING,
    SmartStatus.OVERRIDE,
    SmartStatus.START_FAILED,
    SmartStatus.HOUSE_AT_LIMIT,
    SmartStatus.WAITING_FOR_OTHER_CAR,
)


def plan_at_risk(
    step: Step,
    plan: ChargePlan | None,
    *,
    soc: float | None,
    target: int,
    percent_per_hour: float,
    now: datetime,
    deadline: datetime | None,
) -> int | None:
    """The level reachable by the ready-by time when it is below the target, else None.

    With a maximum price the plan may charge less than the time allows: then its hours count.

    The plan is made afresh from the level the car reported, the learned speed and the prices,
    so a lower report, an interruption, moved prices or a slower charge all show up here; the
    user's "Ignore this time" silences it until the car is unplugged.
    """
    if (
        plan is None
        or plan.reaches_target
        or soc is None
        or deadline is None
        or step.status not in PLANNING_STATUSES
        or step.session.risk_ignored
    ):
        return None
    if plan.capped_hours is not None:
        # The maximum price leaves out the dearer hours: what the cheap ones reach.
        reachable = min(int(soc + percent_per_hour * plan.capped_hours), 100)
    else:
        reachable = reachable_level(soc, percent_per_hour, now, deadline)
    return reachable if reachable < target else None


def ignore_risk(session: Session) -> Session:
    """The user accepts that the plan falls short, for this plug-in session."""
    return replace(session, risk_ignored=True)


def retry_at(session: Session) -> datetime | None:
    """When a command that did not take is due again (None: none is)."""
    intent = session.intent
    if intent is None or intent.last_attempt is None or not intent.attempts or intent.failed:
        return None
    return intent.last_attempt + RETRY_AFTER
