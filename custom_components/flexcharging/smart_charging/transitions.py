"""The session's transitions: what plugging in, unplugging and the user's actions change (pure).

The policy (`policy.py`) applies them; no Home Assistant, no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .model import TARGET_RANGE, Hold, Session


def plugged_in(session: Session, now: datetime) -> Session:
    """Seen being plugged in: a new session (the user's hold and the override end)."""
    return Session(plugged=True, plugged_at=now)


def found_plugged_in(session: Session) -> Session:
    """Found plugged in (at start-up, or on enabling): the session and its hold go on."""
    return replace(session, plugged=True, plugged_at=None, first_reading=True, intent=None)


def unplugged(session: Session) -> Session:
    """Unplugged: the session, its override, the user's hold and its answers to a risk end."""
    if not session.plugged:
        return replace(session, plugged=False)
    return replace(
        session,
        plugged=False,
        hold=Hold.PLAN,
        intent=None,
        risk_ignored=False,
        accepted_target=None,
    )


def user_took_over(session: Session) -> Session:
    """The user started or stopped charging: hands off until the car is unplugged."""
    return replace(session, hold=Hold.USER)


def start_now(session: Session) -> Session:
    """The user pressed Start charging now: charge to the target whatever the plan.

    The press is a new request: it is sent at once (and retried once), even when the
    executor gave up on the plan's start before.
    """
    return replace(session, hold=Hold.OVERRIDE, intent=None)


def settings_changed(session: Session, *, enabling: bool, new_target: bool = False) -> Session:
    """New settings: the target may be new; on enabling take charge of what the car does now.

    A target set (or management turned on) replaces a lower one accepted for the session.
    """
    accepted = None if enabling or new_target else session.accepted_target
    if enabling:
        return replace(
            session,
            target_reached=False,
            first_reading=True,
            hold=Hold.PLAN,
            intent=None,
            accepted_target=accepted,
        )
    return replace(session, target_reached=False, accepted_target=accepted)


def accept_less(session: Session, reachable: int) -> Session:
    """Accept less: this session's target is what can be reached (within the target's range)."""
    low, high = TARGET_RANGE
    return replace(session, accepted_target=min(max(reachable, low), high))
