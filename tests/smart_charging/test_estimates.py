"""The pure estimates: the battery level between reports, the charge speed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.flexcharging.smart_charging.estimates import (
    DEFAULT_PERCENT_PER_HOUR,
    charge_speed,
    estimated_soc,
    learn,
    reachable_level,
    target_for,
)
from custom_components.flexcharging.smart_charging.model import (
    LearnedSpeed,
    SmartSettings,
    positive,
)

NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("target", "limit", "expected"),
    [(80, None, 80), (80, 90, 80), (80, 70, 70), (80, 0, 80)],
    ids=["no_limit", "limit_above", "limit_below", "limit_unknown_zero"],
)
def test_target_never_above_the_cars_limit(target: int, limit: int | None, expected: int) -> None:
    """The car stops at its own limit: the target is never above it."""
    assert target_for(SmartSettings(target=target), limit) == expected


@pytest.mark.parametrize(
    ("learned", "capacity", "expected"),
    [
        (LearnedSpeed(), None, (DEFAULT_PERCENT_PER_HOUR, None)),
        (LearnedSpeed(), 75.0, (DEFAULT_PERCENT_PER_HOUR, 75.0)),
        (LearnedSpeed(power_kw=11.0), 55.0, (20.0, 55.0)),
        (LearnedSpeed(percent_per_hour=12.0), None, (12.0, None)),
        (LearnedSpeed(power_kw=6.0, percent_per_hour=12.0), None, (12.0, 50.0)),
        (LearnedSpeed(power_kw=11.0), -1.0, (DEFAULT_PERCENT_PER_HOUR, None)),
    ],
    ids=["default", "default_with_capacity", "power", "learned", "capacity_from_both", "bad"],
)
def test_charge_speed(
    learned: LearnedSpeed, capacity: float | None, expected: tuple[float, float | None]
) -> None:
    """The car's power over its capacity first, then the learned speed, then a slow default."""
    assert charge_speed(learned, capacity) == pytest.approx(expected)


def test_soc_estimate_adds_what_was_charged() -> None:
    """While charging, the level rises at the charge speed since the report (not past the limit)."""
    level, at, based_on = estimated_soc(
        None,
        reported=50.0,
        reported_at=NOW - HOUR,
        charging=True,
        last_command=None,
        percent_per_hour=20.0,
        charge_limit=None,
        now=NOW,
    )
    assert (level, at, based_on) == (70.0, NOW, NOW - HOUR)
    capped = estimated_soc(
        None,
        reported=50.0,
        reported_at=NOW - 3 * HOUR,
        charging=True,
        last_command=None,
        percent_per_hour=20.0,
        charge_limit=80,
        now=NOW,
    )
    assert capped[0] == 80.0


def test_soc_estimate_counts_from_the_start_command() -> None:
    """Charging began with the command, not with the (older) report."""
    level, _, _ = estimated_soc(
        None,
        reported=50.0,
        reported_at=NOW - 2 * HOUR,
        charging=True,
        last_command=NOW - HOUR,
        percent_per_hour=10.0,
        charge_limit=None,
        now=NOW,
    )
    assert level == 60.0


def test_soc_estimate_kept_until_a_newer_report() -> None:
    """An estimate goes on from itself until the car reports a newer level."""
    estimate = (70.0, NOW - HOUR, NOW - 2 * HOUR)
    kept = estimated_soc(
        estimate,
        reported=50.0,
        reported_at=NOW - 2 * HOUR,
        charging=False,
        last_command=None,
        percent_per_hour=10.0,
        charge_limit=None,
        now=NOW,
    )
    assert kept == (70.0, NOW, NOW - 2 * HOUR)
    replaced = estimated_soc(
        estimate,
        reported=64.0,
        reported_at=NOW - HOUR / 2,
        charging=False,
        last_command=None,
        percent_per_hour=10.0,
        charge_limit=None,
        now=NOW,
    )
    assert replaced == (64.0, NOW, NOW - HOUR / 2)


def test_learns_the_speed_from_the_level_rising() -> None:
    """Two reports half an hour apart, 6 % more: 12 %/h; the next one is smoothed in."""
    learned = learn(
        LearnedSpeed(),
        charging=True,
        level=60.0,
        level_at=NOW,
        power_kw=None,
        power_known=False,
    )
    assert learned.soc_sample == (NOW, 60.0)
    learned = learn(
        learned,
        charging=True,
        level=66.0,
        level_at=NOW + HOUR / 2,
        power_kw=None,
        power_known=False,
    )
    assert learned.percent_per_hour == pytest.approx(12.0)
    learned = learn(
        learned, charging=True, level=71.0, level_at=NOW + HOUR, power_kw=None, power_known=False
    )
    assert learned.percent_per_hour == pytest.approx(12.0 + 0.3 * (10.0 - 12.0))


@pytest.mark.parametrize(
    ("power", "known", "expected"),
    [(11.0, True, 11.0), (150.0, True, None), (0.1, True, None), (11.0, False, None)],
    ids=["home_charger", "fast_charger", "idle_noise", "stale"],
)
def test_learns_the_power_of_a_home_charger(
    power: float, known: bool, expected: float | None
) -> None:
    """Only a known home-charger power counts."""
    learned = learn(
        LearnedSpeed(), charging=True, level=None, level_at=None, power_kw=power, power_known=known
    )
    assert learned.power_kw == expected


@pytest.mark.parametrize(
    ("charging", "level"), [(False, 50.0), (True, 95.0)], ids=["not_charging", "nearly_full"]
)
def test_nothing_learned_when_not_charging_or_nearly_full(charging: bool, level: float) -> None:
    """Cars slow down near full, and a car not charging says nothing: the sample is dropped."""
    learned = LearnedSpeed(soc_sample=(NOW - HOUR, 40.0), percent_per_hour=10.0)
    after = learn(
        learned, charging=charging, level=level, level_at=NOW, power_kw=None, power_known=False
    )
    assert after == LearnedSpeed(percent_per_hour=10.0)


def test_short_stretches_teach_nothing() -> None:
    """Reports only minutes apart say little about the speed."""
    learned = LearnedSpeed(soc_sample=(NOW, 60.0))
    after = learn(
        learned,
        charging=True,
        level=61.0,
        level_at=NOW + timedelta(minutes=5),
        power_kw=None,
        power_known=False,
    )
    assert after == learned


@pytest.mark.parametrize(
    ("value", "expected"), [(11, 11.0), (2.5, 2.5), (0, None), (True, None), ("7", None)]
)
def test_positive(value: object, expected: float | None) -> None:
    """Stored numbers gone bad read as unknown."""
    assert positive(value) == expected


@pytest.mark.parametrize(
    ("soc", "hours", "reachable"),
    [(50.0, 1.0, 60), (50.0, 2.55, 75), (95.0, 2.0, 100), (40.0, -1.0, 40)],
    ids=["an_hour", "whole_percent_down", "at_most_full", "deadline_passed"],
)
def test_reachable_level(soc: float, hours: float, reachable: int) -> None:
    """The level charging without a break reaches by the deadline."""
    assert reachable_level(soc, 10.0, NOW, NOW + timedelta(hours=hours)) == reachable
