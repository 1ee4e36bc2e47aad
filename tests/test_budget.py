"""The request-budget planner: pure functions, checked by example and by property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import random
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.flexcharging.budget import (
    ACTIVE_SHARE_MEMORY_HOURS,
    ACTIVE_WEIGHT,
    COMMAND_RESERVE_SHARE,
    COMMANDS_PER_SESSION,
    GUARD_SHARE,
    KEYLESS_TESLA_INTERVAL,
    MAX_INTERVAL,
    MIN_INTERVAL,
    TRIGGER_READS_PER_DAY,
    WEBHOOK_INTERVAL,
    WEBHOOK_OVERDUE,
    PollContext,
    backoff,
    command_reserve,
    commands_reserve,
    exhaustion_at_risk,
    forecast_exhaustion,
    guard_allowance,
    guard_reserve,
    month_end,
    poll_interval,
    small_plan,
    trigger_reserve,
    updated_active_share,
)
from custom_components.flexcharging.const import DEFAULT_REQUEST_BUDGET
from custom_components.flexcharging.plug_pattern import BURST_OFFSETS

MONTH_START = datetime(2026, 6, 1, tzinfo=UTC)
MID_JUNE = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)


def context(**overrides: object) -> PollContext:
    """A vehicle at the default budget, early in its month."""
    values: dict[str, object] = {"budget": DEFAULT_REQUEST_BUDGET, "used": 10, "active": True}
    values.update(overrides)
    return PollContext(**values)  # type: ignore[arg-type]


# --- month_end -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 6, 10, 9, 30, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), datetime(2028, 3, 1, tzinfo=UTC)),
        (datetime(2027, 2, 1, 0, 0, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)),
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
    ],
)
def test_month_end(now: datetime, expected: datetime) -> None:
    """The first instant of the next month, across year ends and leap days."""
    assert month_end(now) == expected


def test_month_end_keeps_the_local_time_zone_across_dst() -> None:
    """In a local zone the month ends at local midnight, whatever DST did within the month."""
    amsterdam = ZoneInfo("Europe/Amsterdam")
    end = month_end(datetime(2026, 3, 15, 12, 0, tzinfo=amsterdam))  # DST starts on 29 March
    assert end == datetime(2026, 4, 1, 0, 0, tzinfo=amsterdam)
    assert end.utcoffset() == timedelta(hours=2)


# --- poll_interval -------------------------------------------------------------------------------


def test_idle_is_read_active_weight_times_less_often() -> None:
    """An idle vehicle waits ACTIVE_WEIGHT times as long as an active one."""
    active = poll_interval(context(active=True), MID_JUNE)
    idle = poll_interval(context(active=False), MID_JUNE)
    assert MIN_INTERVAL < active < idle < MAX_INTERVAL
    assert idle.total_seconds() == pytest.approx(active.total_seconds() * ACTIVE_WEIGHT)


def test_active_interval_spreads_the_remaining_budget() -> None:
    """Iₐ = T·(a + (1−a)/w) / R with R what is left after the command reserve."""
    ctx = context(active_share=0.5, used=25)
    left = DEFAULT_REQUEST_BUDGET * (1 - COMMAND_RESERVE_SHARE) - 25
    remaining = (datetime(2026, 7, 1, tzinfo=UTC) - MID_JUNE).total_seconds()
    expected = remaining * (0.5 + 0.5 / ACTIVE_WEIGHT) / left
    assert poll_interval(ctx, MID_JUNE).total_seconds() == pytest.approx(expected)


def test_a_higher_active_share_reads_active_vehicles_less_often() -> None:
    """The more of its time a vehicle is active, the more active reads it needs to budget for."""
    rarely = poll_interval(context(active_share=0.1), MID_JUNE)
    mostly = poll_interval(context(active_share=0.9), MID_JUNE)
    assert rarely < mostly


def test_active_share_is_clamped() -> None:
    """Shares outside 5–100 % are treated as the bounds."""
    assert poll_interval(context(active_share=-3.0), MID_JUNE) == poll_interval(
        context(active_share=0.05), MID_JUNE
    )
    assert poll_interval(context(active_share=7.0), MID_JUNE) == poll_interval(
        context(active_share=1.0), MID_JUNE
    )


def test_webhooks_flowing_polls_only_as_a_safety_net() -> None:
    """With webhooks flowing a read is a safety net: at least 12 h apart, at most a day."""
    flowing = poll_interval(context(webhooks_flowing=True), MID_JUNE)
    assert flowing == WEBHOOK_INTERVAL
    # Little budget left: stretched beyond 12 h, but never past a day.
    stretched = poll_interval(context(webhooks_flowing=True, used=445), MID_JUNE)
    assert WEBHOOK_INTERVAL < stretched <= timedelta(days=1)
    capped = poll_interval(context(webhooks_flowing=True, used=474), MONTH_START)
    assert capped == timedelta(days=1)


def test_key_missing_waits_for_the_keyless_refresh() -> None:
    """Smartcar refreshes a key-less Tesla every 8 h: reading it more often is wasted, and
    those reads are what see the key come back, so a thin budget does not stretch them."""
    assert poll_interval(context(key_missing=True), MID_JUNE) == KEYLESS_TESLA_INTERVAL
    thin = poll_interval(context(key_missing=True, active=False, used=470), MONTH_START)
    assert thin == KEYLESS_TESLA_INTERVAL
    assert poll_interval(context(active=False, used=470), MONTH_START) == MAX_INTERVAL


@pytest.mark.parametrize("used", [475, 480, 500, 10_000])
def test_budget_spent_reads_once_a_day(used: int) -> None:
    """With nothing left (after the command reserve), one read a day keeps states honest."""
    assert poll_interval(context(used=used), MID_JUNE) == timedelta(days=1)
    assert poll_interval(context(used=used, webhooks_flowing=True), MID_JUNE) == timedelta(days=1)


def test_interval_bounds() -> None:
    """Never more often than every 5 min, never less often than every 12 h (budget left)."""
    huge = context(budget=100_000, used=0)
    assert poll_interval(huge, MID_JUNE) == MIN_INTERVAL
    tiny = context(budget=200, used=185, active=False)
    assert poll_interval(tiny, MONTH_START) == MAX_INTERVAL


def test_last_moments_of_the_month() -> None:
    """A second before the month ends the interval is short, and still at least the minimum."""
    last_second = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert poll_interval(context(), last_second) == MIN_INTERVAL


# --- backoff -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (6, 32), (7, 60), (30, 60)],
)
def test_backoff_doubles_up_to_an_hour(failures: int, minutes: int) -> None:
    """1, 2, 4 … minutes, capped at an hour."""
    assert backoff(failures) == timedelta(minutes=minutes)


@pytest.mark.parametrize("failures", [42, 1000])
def test_backoff_survives_a_long_outage(failures: int) -> None:
    """However long a vehicle keeps failing, the wait stays an hour."""
    assert backoff(failures) == timedelta(hours=1)


@pytest.mark.parametrize(("retry_after", "seconds"), [(120.0, 120), (0.0, 1), (0.2, 1), (1.5, 1.5)])
def test_backoff_honours_retry_after(retry_after: float, seconds: float) -> None:
    """Smartcar's Retry-After wins over the doubling, with a floor of one second."""
    assert backoff(9, retry_after) == timedelta(seconds=seconds)


# --- property: a month of polling stays within the budget ------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    active_share=st.floats(min_value=0.0, max_value=1.0),
    actual_active=st.floats(min_value=0.0, max_value=1.0),
    webhooks_flowing=st.booleans(),
    key_missing=st.booleans(),
    month=st.integers(min_value=1, max_value=12),
    start_day=st.integers(min_value=1, max_value=28),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_a_month_of_polls_stays_within_budget(
    active_share: float,
    *,
    actual_active: float,
    webhooks_flowing: bool,
    key_missing: bool,
    month: int,
    start_day: int,
    seed: int,
) -> None:
    """At the default budget, polling as planned never spends more than the month's allowance.

    The planner's idea of the active share and how active the vehicle really is are drawn
    independently: a wrong estimate must cost accuracy, never money.
    """
    chooser = random.Random(seed)  # noqa: S311
    now = datetime(2026, month, start_day, 7, 0, tzinfo=UTC)
    end = month_end(now)
    used = 0
    while now < end:
        ctx = PollContext(
            budget=DEFAULT_REQUEST_BUDGET,
            used=used,
            active=chooser.random() < actual_active,
            active_share=active_share,
            webhooks_flowing=webhooks_flowing,
            key_missing=key_missing,
        )
        used += 1  # this poll
        now += poll_interval(ctx, now)
    assert used <= DEFAULT_REQUEST_BUDGET * (1 - COMMAND_RESERVE_SHARE) + 31
    assert used <= DEFAULT_REQUEST_BUDGET


# --- the learned active share ------------------------------------------------------------------------


def test_active_share_learns_by_time_not_by_reading() -> None:
    """Each reading moves the share by the time it covers, over a memory of about three days."""
    assert updated_active_share(0.5, was_active=True, hours=0.0) == 0.5
    assert updated_active_share(0.5, was_active=True, hours=36.0) == pytest.approx(0.75)
    assert updated_active_share(0.5, was_active=False, hours=36.0) == pytest.approx(0.25)
    # A reading covering more than the memory replaces the share outright.
    assert updated_active_share(0.2, was_active=True, hours=1000.0) == 1.0
    # A clock that went backwards changes nothing.
    assert updated_active_share(0.3, was_active=True, hours=-5.0) == 0.3
    # Many short active readings weigh no more than one long one of the same total time.
    share = 0.5
    for _ in range(12):
        share = updated_active_share(share, was_active=True, hours=1.0)
    assert share == pytest.approx(1 - 0.5 * (1 - 1 / ACTIVE_SHARE_MEMORY_HOURS) ** 12)


# --- the plan's allowance ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowance", "small"), [(0, True), (100, True), (101, False), (500, False)]
)
def test_small_plans_leave_the_data_to_webhooks(allowance: int, *, small: bool) -> None:
    """0 and 100 calls a month are too few to poll (Smartcar's plans since December 2025)."""
    assert small_plan(allowance) is small


def test_small_plan_with_webhooks_reads_only_when_a_delivery_is_overdue() -> None:
    """With 100 calls and webhooks flowing, a read waits until no delivery came for 26 h."""
    wait = poll_interval(context(budget=100, used=0, webhooks_flowing=True), MID_JUNE)
    assert wait == WEBHOOK_OVERDUE
    # The same plan without webhooks spreads what it has (more than 12 h apart when idle).
    idle = poll_interval(context(budget=100, used=80, active=False), MID_JUNE)
    assert idle > MAX_INTERVAL


@pytest.mark.parametrize("used", [0, 3])
def test_zero_plan_never_polls(used: int) -> None:
    """A plan without calls: no read is scheduled before the month rolls over."""
    wait = poll_interval(context(budget=0, used=used), MID_JUNE)
    assert wait == month_end(MID_JUNE) - MID_JUNE


def test_small_plan_spent_keeps_the_rest_for_commands() -> None:
    """A small plan whose reads are spent waits for the next month (no daily read)."""
    ctx = context(budget=100, used=60, managed_charging=True, webhooks_flowing=True)
    assert poll_interval(ctx, MID_JUNE) == month_end(MID_JUNE) - MID_JUNE


def test_limit_hit_stops_reads_until_the_month_rolls_over() -> None:
    """After VEHICLE_REQUEST_LIMIT nothing is read until the next month, whatever is left."""
    ctx = context(budget=DEFAULT_REQUEST_BUDGET, used=10, limit_hit=True)
    assert poll_interval(ctx, MID_JUNE) == month_end(MID_JUNE) - MID_JUNE


def test_managed_charging_reserves_two_commands_a_day() -> None:
    """Smart charging starts and stops about one session a day: 2 commands per remaining day,
    each followed by a read to confirm it unless webhooks show the result."""
    days_left = (month_end(MID_JUNE) - MID_JUNE).total_seconds() / 86400
    managed = context(budget=100, managed_charging=True)
    assert command_reserve(managed, MID_JUNE) == pytest.approx(4 * days_left)
    pushed = context(budget=100, managed_charging=True, webhooks_flowing=True)
    assert command_reserve(pushed, MID_JUNE) == pytest.approx(2 * days_left)
    # Without managed charging only the small share for manual commands is kept back.
    assert command_reserve(context(budget=100), MID_JUNE) == pytest.approx(5.0)
    # Reserving commands makes reads rarer.
    assert poll_interval(managed, MID_JUNE) > poll_interval(context(budget=100), MID_JUNE)


def test_solar_commands_are_reserved_too() -> None:
    """Solar surplus charging with 4 commands a day: 6 commands per remaining day are kept, 12
    requests with their confirming reads."""
    days_left = (month_end(MID_JUNE) - MID_JUNE).total_seconds() / 86400
    solar = context(budget=500, managed_charging=True, solar_commands_per_day=4)
    assert commands_reserve(solar, MID_JUNE) == pytest.approx(12 * days_left)
    unmanaged = context(budget=500, solar_commands_per_day=4)
    assert commands_reserve(unmanaged, MID_JUNE) == pytest.approx(25.0)  # the 5 % share


def test_managed_charging_without_webhooks_keeps_reads_for_the_plug_in_guard() -> None:
    """500 calls, managed, no webhooks: 30 % of the plan (5 reads a day in June) is not polled."""
    managed = context(managed_charging=True)
    # Today is kept whole, and one day more (a late plug-in reads the whole window): 22 days
    # (20.6 left).
    assert guard_reserve(managed, MID_JUNE) == pytest.approx(GUARD_SHARE * 500 / 30 * 22)
    last_evening = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)
    assert guard_reserve(managed, last_evening) == pytest.approx(10.0)
    assert command_reserve(managed, MID_JUNE) == pytest.approx(
        commands_reserve(managed, MID_JUNE) + guard_reserve(managed, MID_JUNE)
    )
    assert guard_allowance(managed, MID_JUNE) == pytest.approx(5.0)
    # None with webhooks (the plug-in is pushed), on a small plan, or without managed charging.
    assert guard_reserve(context(managed_charging=True, webhooks_flowing=True), MID_JUNE) == 0
    assert guard_reserve(context(budget=100, managed_charging=True), MID_JUNE) == 0
    assert guard_reserve(context(), MID_JUNE) == 0
    assert guard_allowance(context(), MID_JUNE) == 0


def test_trigger_entities_keep_reads_for_their_bursts() -> None:
    """Trigger entities: 4 reads a day and one whole burst (8) kept, managed or not, so the last
    evening of the month can still afford a burst; the learned times' allowance is not cut."""
    days_left = (month_end(MID_JUNE) - MID_JUNE).total_seconds() / 86400
    triggered = context(managed_charging=True, plug_triggers=True)
    assert trigger_reserve(triggered, MID_JUNE) == pytest.approx(
        TRIGGER_READS_PER_DAY * days_left + len(BURST_OFFSETS)
    )
    assert guard_reserve(triggered, MID_JUNE) == pytest.approx(
        guard_reserve(context(managed_charging=True), MID_JUNE) + 4 * days_left + 8
    )
    assert guard_allowance(triggered, MID_JUNE) == pytest.approx(5.0)
    last_evening = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)
    assert trigger_reserve(context(plug_triggers=True), last_evening) == pytest.approx(9.0)
    # Bursts are for cars without webhooks on a plan large enough to poll.
    assert trigger_reserve(context(plug_triggers=True, webhooks_flowing=True), MID_JUNE) == 0
    assert trigger_reserve(context(budget=100, plug_triggers=True), MID_JUNE) == 0
    assert trigger_reserve(context(), MID_JUNE) == 0


def test_guard_allowance_ends_with_the_months_requests() -> None:
    """Near the limit the guard gets only what is left after the commands, then nothing."""
    late = datetime(2026, 6, 28, 0, 0, tzinfo=UTC)  # 3 days left: 25 kept for commands (5 %)
    assert guard_allowance(context(used=470, managed_charging=True), late) == pytest.approx(5 / 3)
    assert guard_allowance(context(used=480, managed_charging=True), late) == 0


@settings(max_examples=40, deadline=None)
@given(
    month=st.integers(min_value=1, max_value=12),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_reads_commands_and_guard_reads_fit_the_plan(*, month: int, seed: int) -> None:
    """500 calls, no webhooks: polls, two commands a day and the guard's reads fit the plan."""
    chooser = random.Random(seed)  # noqa: S311
    now = datetime(2026, month, 1, 0, 0, tzinfo=UTC)
    end = month_end(now)
    used = 0
    next_day = now
    while now < end:
        ctx = PollContext(
            budget=500, used=used, active=chooser.random() < 0.3, managed_charging=True
        )
        wait = poll_interval(ctx, now)
        while next_day < min(now + wait, end):
            # The day's commands, and the guard spending all it is allowed.
            day = PollContext(budget=500, used=used, active=False, managed_charging=True)
            used += COMMANDS_PER_SESSION + int(guard_allowance(day, next_day))
            next_day += timedelta(days=1)
        now += wait
        if now < end:
            used += 1  # this read
    assert used <= 500


@settings(max_examples=40, deadline=None)
@given(
    allowance=st.sampled_from([100, 150, 500]),
    webhooks_flowing=st.booleans(),
    month=st.integers(min_value=1, max_value=12),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_reads_and_smart_charging_commands_fit_the_plan(
    allowance: int, *, webhooks_flowing: bool, month: int, seed: int
) -> None:
    """A month of reads plus a start and a stop every day stays inside the plan's allowance."""
    chooser = random.Random(seed)  # noqa: S311
    now = datetime(2026, month, 1, 0, 0, tzinfo=UTC)
    end = month_end(now)
    used = 0
    next_command = now + timedelta(hours=chooser.uniform(0, 24))
    while now < end:
        ctx = PollContext(
            budget=allowance,
            used=used,
            active=chooser.random() < 0.3,
            webhooks_flowing=webhooks_flowing,
            managed_charging=True,
        )
        wait = poll_interval(ctx, now)
        while next_command < min(now + wait, end):
            used += COMMANDS_PER_SESSION
            next_command += timedelta(days=1)
        now += wait
        if now < end:
            used += 1  # this read
    assert used <= allowance


@settings(max_examples=60, deadline=None)
@given(
    webhooks_flowing=st.booleans(),
    month=st.integers(min_value=1, max_value=12),
    per_day=st.integers(min_value=3, max_value=6),
)
def test_commands_beyond_the_expected_ones_fit_the_plan(
    *, webhooks_flowing: bool, month: int, per_day: int
) -> None:
    """A site limit that pauses and resumes the car, a shared charger's turns: more commands
    a day than a session's two. The month's own rate is reserved, so reads leave them room
    (each command without webhooks also costs the read that confirms it)."""
    allowance = 500
    now = datetime(2026, month, 1, 0, 0, tzinfo=UTC)
    end = month_end(now)
    used = sent = 0
    per_command = 1 if webhooks_flowing else 2
    next_command = now + timedelta(hours=1)
    while now < end:
        ctx = PollContext(
            budget=allowance,
            used=used,
            active=True,
            webhooks_flowing=webhooks_flowing,
            managed_charging=True,
            commands_sent=sent,
        )
        wait = poll_interval(ctx, now)
        while next_command < min(now + wait, end):
            used += per_command
            sent += 1
            next_command += timedelta(days=1) / per_day
        now += wait
        if now < end:
            used += 1  # this read
    assert used <= allowance


def test_a_busy_first_evening_does_not_starve_the_next_days() -> None:
    """20 commands on the 1st (a site limit's evening), two a day after: reads on the 2nd to
    the 5th stay near what they were without that evening (a plugged-in car, no webhooks)."""

    def reads_per_day(burst: int) -> list[int]:
        now = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
        used, sent, reads = 2 * burst, burst, [0] * 7
        while now.day < 6:
            ctx = context(used=used, managed_charging=True, commands_sent=sent)
            now += poll_interval(ctx, now)
            reads[now.day] += 1
            used += 1
            if now.hour >= 20 and sent < burst + 2 * (now.day - 1):  # the day's start and stop
                used, sent = used + 2, sent + 1
        return reads[2:6]

    quiet, busy = reads_per_day(0), reads_per_day(20)
    assert all(b >= 0.7 * q for q, b in zip(quiet, busy, strict=True)), (quiet, busy)


# --- foresight ---------------------------------------------------------------------------------------


def test_forecast_at_the_current_rate() -> None:
    """40 requests in 10 days of a 100-request month: the budget runs out on day 25."""
    now = datetime(2026, 6, 11, 0, 0, tzinfo=UTC)
    exhausted = forecast_exhaustion(100, 40, now)
    assert exhausted == datetime(2026, 6, 26, 0, 0, tzinfo=UTC)
    assert exhaustion_at_risk(exhausted, now)


def test_forecast_quiet_when_the_budget_lasts() -> None:
    """At a rate that lasts the month there is no forecast and no risk."""
    now = datetime(2026, 6, 11, 0, 0, tzinfo=UTC)
    assert forecast_exhaustion(500, 40, now) is None
    assert not exhaustion_at_risk(None, now)


def test_forecast_waits_for_two_days_of_data() -> None:
    """The setup's first reads say little about the month: no forecast in its first two days."""
    assert forecast_exhaustion(100, 30, datetime(2026, 6, 2, 12, 0, tzinfo=UTC)) is None
    assert forecast_exhaustion(100, 0, datetime(2026, 6, 20, tzinfo=UTC)) is None
    # A plan without calls has nothing to run out (the user's refreshes are refused anyway).
    assert forecast_exhaustion(0, 3, datetime(2026, 6, 20, tzinfo=UTC)) is None


def test_forecast_late_exhaustion_is_no_risk() -> None:
    """Running out in the last three days is not worth a repair issue."""
    now = datetime(2026, 6, 15, 0, 0, tzinfo=UTC)
    exhausted = forecast_exhaustion(100, 50, now)  # 50 in 14 days: the rest lasts 14 more
    assert exhausted == datetime(2026, 6, 29, 0, 0, tzinfo=UTC)
    assert not exhaustion_at_risk(exhausted, now)
    assert forecast_exhaustion(100, 100, now) == now
