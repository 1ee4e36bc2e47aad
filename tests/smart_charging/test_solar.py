"""The solar surplus controller as tables: readings over time → start/stop wishes and reasons.

Pure: no Home Assistant, no clock; the times are given.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from custom_components.flexcharging.smart_charging.solar import (
    SolarReason,
    SolarSettings,
    SolarState,
    next_check,
    power_kw,
    surplus_kw,
    update,
)

T0 = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
DAY = date(2026, 6, 10)
MINUTE = timedelta(minutes=1)
CAR = 4.0  # kW: start at 3.2 kW of surplus (80 %), stop below 2.0 kW (50 %)
SETTINGS = SolarSettings(start_share=0.8, stop_share=0.5, start_delay=timedelta(minutes=5))


def run(
    readings: list[tuple[int, float | None]],
    *,
    state: SolarState | None = None,
    settings: SolarSettings = SETTINGS,
    today: date = DAY,
    sun_bar_kw: float | None = None,
) -> list[tuple[int, bool, SolarReason]]:
    """Feed (minute, surplus) readings; each minute's wish and reason."""
    state = state or SolarState()
    out = []
    for minute, surplus in readings:
        state = reading(state, settings, minute, surplus, today=today, sun_bar_kw=sun_bar_kw)
        out.append((minute, state.wants, state.reason))
    return out


def reading(
    state: SolarState,
    settings: SolarSettings,
    minute: int,
    surplus: float | None,
    *,
    today: date = DAY,
    sun_bar_kw: float | None = None,
    until_plan: timedelta | None = None,
    plan_charging: bool = False,
) -> SolarState:
    """The controller after a reading of `surplus` at `minute`, the car at CAR kW."""
    return update(
        state,
        settings,
        surplus=surplus,
        car_power_kw=CAR,
        now=T0 + minute * MINUTE,
        today=today,
        until_plan=until_plan,
        sun_bar_kw=sun_bar_kw,
        plan_charging=plan_charging,
    )


def steady(value: float | None, start: int, end: int) -> list[tuple[int, float | None]]:
    """One reading a minute from `start` to `end` (exclusive)."""
    return [(minute, value) for minute in range(start, end)]


# --- readings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "unit", "expected"),
    [
        ("1500", "W", 1.5),
        ("-2300.0", "W", -2.3),
        ("3.1", "kW", 3.1),
        ("0.002", "MW", 2.0),
        ("3.1", "kWh", None),  # energy, not power
        ("3.1", None, None),
        ("unavailable", "W", None),
        ("unknown", "kW", None),
        ("nan", "W", None),
        ("inf", "kW", None),
        (None, "W", None),
    ],
)
def test_power_readings_in_kw(state: str | None, unit: str | None, expected: float | None) -> None:
    """W, kW and MW are read; anything else is no reading."""
    assert power_kw(state, unit) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # A grid meter: export is negative; what the car draws now is added back.
        ({"grid_kw": -3.0}, 3.0),
        ({"grid_kw": 1.0, "car_kw": 4.0}, 3.0),
        ({"grid_kw": 0.5}, -0.5),
        # Production and consumption (the consumption includes the car).
        ({"production_kw": 5.0, "consumption_kw": 1.0}, 4.0),
        ({"production_kw": 5.0, "consumption_kw": 5.0, "car_kw": 4.0}, 4.0),
        # The grid reading wins when both are given.
        ({"grid_kw": -1.0, "production_kw": 5.0, "consumption_kw": 1.0}, 1.0),
        # Production alone (or consumption alone) does not say what is exported.
        ({"production_kw": 5.0}, None),
        ({"consumption_kw": 1.0}, None),
        ({}, None),
    ],
)
def test_surplus_from_the_sensor_combinations(kwargs: dict[str, float], expected: float) -> None:
    """Grid power alone, or production and consumption; production alone is not enough."""
    result = surplus_kw(**kwargs)
    assert result == (pytest.approx(expected) if expected is not None else None)


# --- start and stop ---------------------------------------------------------------------------


def test_starts_once_the_surplus_held_for_the_start_delay() -> None:
    """80 % of the car's power for five minutes starts it; not a minute earlier."""
    result = run(steady(1.0, 0, 3) + steady(3.3, 3, 10))
    assert [wants for _, wants, _ in result] == [False] * 8 + [True] * 2
    assert result[7][2] is SolarReason.WAITING_FOR_SUN
    assert result[8] == (8, True, SolarReason.SURPLUS)  # 3.3 kW since minute 3


def test_a_dip_restarts_the_start_delay() -> None:
    """A cloud (or the kettle) resets the wait: the surplus must hold without a break."""
    result = run([*steady(3.5, 0, 4), (4, 2.0), *steady(3.5, 5, 11)])
    assert [minute for minute, wants, _ in result if wants] == [10]


def test_stops_after_the_stop_delay_below_the_stop_level() -> None:
    """Between the two levels it keeps charging (hysteresis); below 50 % for 10 min it stops."""
    started = run(steady(4.0, 0, 6))
    assert started[-1][1] is True
    state = _state_after(steady(4.0, 0, 6))
    # 2.5 kW is below the start level, above the stop level: on it goes, for an hour.
    result = run(steady(2.5, 26, 86), state=state)
    assert all(wants for _, wants, _ in result)
    result = run(steady(1.5, 86, 97), state=_state_after(steady(2.5, 26, 86), state))
    assert [wants for _, wants, _ in result] == [True] * 10 + [False]
    assert result[-1][2] is SolarReason.WAITING_FOR_SUN


def test_minimum_on_time_holds_a_fresh_start() -> None:
    """Started at minute 5, the surplus gone at 6: the stop waits for the 20 minutes on."""
    state = _state_after(steady(4.0, 0, 6))
    assert state.changed_at == T0 + 5 * MINUTE
    result = run(steady(0.0, 6, 26), state=state)
    assert result[10][1:] == (True, SolarReason.MINIMUM_ON)  # the stop delay is over at 16
    assert result[-2][1] is True  # minute 24
    assert result[-1][1:] == (False, SolarReason.WAITING_FOR_SUN)  # minute 25: 20 min on


def test_minimum_off_time_holds_a_fresh_stop() -> None:
    """Stopped at minute 25: sun again at once still waits for ten minutes off."""
    state = _state_after(steady(4.0, 0, 6) + steady(0.0, 6, 26))
    assert state.wants is False
    assert state.changed_at == T0 + 25 * MINUTE
    result = run(steady(4.0, 26, 36), state=state)
    assert result[5][1:] == (False, SolarReason.MINIMUM_OFF)  # start delay over at 31
    assert result[-1][1:] == (True, SolarReason.SURPLUS)  # minute 35: ten minutes off


def test_the_daily_budget_reserves_the_stop_of_every_start() -> None:
    """Four commands a day: two start/stop pairs; the third start waits for tomorrow."""
    sunny_cloudy = steady(4.0, 0, 30) + steady(0.0, 30, 60)
    state = _state_after(sunny_cloudy)
    state = _state_after([(m + 60, s) for m, s in sunny_cloudy], state)
    assert state.commands == 4
    assert state.wants is False
    result = run(steady(4.0, 120, 150), state=state)
    assert all(wants is False for _, wants, _ in result)
    assert result[-1][2] is SolarReason.BUDGET_USED
    # The next (local) day the budget is fresh.
    result = run(steady(4.0, 150, 160), state=state, today=DAY + timedelta(days=1))
    assert result[-1][1] is True


def test_a_start_carried_over_midnight_owes_its_stop_to_the_new_day() -> None:
    """Charging at midnight: the new day's budget starts with that stop counted."""
    state = _state_after(steady(4.0, 0, 6))
    state = update(
        state,
        SETTINGS,
        surplus=4.0,
        car_power_kw=CAR,
        now=T0 + 7 * MINUTE,
        today=DAY + timedelta(days=1),
    )
    assert state.wants is True
    assert state.commands == 1


def test_a_budget_too_small_for_a_pair_never_starts() -> None:
    """One command a day cannot start and stop: no start at all."""
    result = run(steady(5.0, 0, 30), settings=replace(SETTINGS, commands_per_day=1))
    assert not any(wants for _, wants, _ in result)
    assert result[-1][2] is SolarReason.BUDGET_USED


def test_no_reading_stops_like_no_sun() -> None:
    """The sensors going unavailable stops charging (after the delay), never starts it."""
    state = _state_after(steady(4.0, 0, 30))
    result = run(steady(None, 30, 41), state=state)
    assert [wants for _, wants, _ in result] == [True] * 10 + [False]
    assert result[-1][2] is SolarReason.NO_READING
    assert run(steady(None, 0, 30))[-1] == (29, False, SolarReason.NO_READING)


def test_the_levels_follow_the_car_power() -> None:
    """An 11 kW car needs 8.8 kW of surplus to start; 4 kW is not enough for it."""
    state = SolarState()
    for minute in range(10):
        state = update(
            state, SETTINGS, surplus=4.0, car_power_kw=11.0, now=T0 + minute * MINUTE, today=DAY
        )
    assert state.wants is False
    assert state.surplus_kw == 4.0


def test_the_default_levels_take_a_partial_surplus() -> None:
    """By default 30 % of the car's power starts it (after two minutes), under 15 % stops it."""
    defaults = SolarSettings()
    result = run(steady(1.2, 0, 3), settings=defaults)
    assert result[-1][1] is True
    state = _state_after(steady(1.2, 0, 6))
    assert state.wants is False  # the table's 80 % would not


def test_with_a_current_entity_the_levels_are_shares_of_the_lowest_current() -> None:
    """With a current entity a tenth of the power at 6 A starts the car; it stops only after
    the sun gave none of that power for 45 minutes (a cloud costs no commands)."""
    defaults = SolarSettings()
    state = SolarState()
    minimum = 1.38  # 6 A on one phase
    for minute in range(3):
        state = update(
            state,
            defaults,
            surplus=0.2,
            car_power_kw=7.4,
            now=T0 + minute * MINUTE,
            today=DAY,
            min_power_kw=minimum,
        )
    assert state.wants is True  # 0.2 kW >= 0.138 kW, for two minutes
    assert run(steady(0.2, 0, 3), settings=defaults)[-1][1] is False  # start/stop: 30 % of 4 kW
    for minute in range(3, 60):
        state = update(
            state,
            defaults,
            surplus=0.1,  # importing 1.28 kW of the car's 1.38 kW: on it goes
            car_power_kw=7.4,
            now=T0 + minute * MINUTE,
            today=DAY,
            min_power_kw=minimum,
        )
    assert state.wants is True
    for minute in range(60, 106):
        state = update(
            state,
            defaults,
            surplus=-0.2,  # the whole of the car's power imported, and a little more
            car_power_kw=7.4,
            now=T0 + minute * MINUTE,
            today=DAY,
            min_power_kw=minimum,
        )
        if minute == 104:
            assert state.wants is True
            assert next_check(state, defaults, current=True) == T0 + 105 * MINUTE
            assert next_check(state, defaults) == T0 + 70 * MINUTE  # start/stop's 10 min
    assert state.wants is False


def test_the_levels_fall_as_the_plan_nears() -> None:
    """Within three hours of the plan's next charging the levels fall towards zero: the energy
    is bought then anyway, so a little sun now is better than none."""

    def wants_after(until_plan: timedelta | None, surplus: float) -> bool:
        state = SolarState()
        for minute in range(6):
            state = reading(state, SETTINGS, minute, surplus, until_plan=until_plan)
        return state.wants

    hour = timedelta(hours=1)
    assert wants_after(None, 2.0) is False  # 80 % of 4 kW is 3.2 kW
    assert wants_after(4 * hour, 2.0) is False
    assert wants_after(2 * hour, 2.0) is False  # two thirds of 3.2 kW: 2.13 kW
    assert wants_after(1.5 * hour, 2.0) is True  # half: 1.6 kW
    assert wants_after(timedelta(0), 0.0) is True  # the plan charges now anyway
    assert wants_after(timedelta(0), -0.1) is False  # but never on import alone


def test_with_a_forecast_the_start_waits_for_the_plans_sunny_hours() -> None:
    """The plan's sunny hours give 3.8 kW: 3.3 kW (above the 3.2 kW level) waits, 3.8 starts;
    a charge the sun began stops under half of 3.8 kW (not only under the usual 0.8 kW)."""
    readings = steady(3.3, 0, 10) + steady(3.8, 10, 16) + steady(2.0, 16, 60)
    out = run(
        [*readings, *steady(1.5, 60, 71)],
        settings=replace(SETTINGS, stop_share=0.2),
        sun_bar_kw=3.8,
    )
    assert out[9] == (9, False, SolarReason.WAITING_FOR_SUN)
    assert [minute for minute, wants, _ in out if wants] == list(range(15, 70))
    assert out[-1] == (70, False, SolarReason.WAITING_FOR_SUN)


def test_with_a_current_entity_the_forecast_holds_the_start_only() -> None:
    """A current entity and a forecast bar of 3 kW: 2 kW waits, 3 kW starts; a surplus under
    half of the bar does not stop it (the current follows it down; only no sun does)."""

    def drive(readings: list[tuple[int, float]], state: SolarState) -> SolarState:
        for minute, surplus in readings:
            state = update(
                state,
                SolarSettings(),
                surplus=surplus,
                car_power_kw=7.4,
                now=T0 + minute * MINUTE,
                today=DAY,
                min_power_kw=1.38,
                sun_bar_kw=3.0,
            )
        return state

    waiting = drive(steady(2.0, 0, 10), SolarState())
    assert waiting.wants is False
    started = drive(steady(3.0, 10, 13), waiting)
    assert started.wants is True
    assert drive(steady(0.5, 13, 120), started).wants is True


# --- when to look again -----------------------------------------------------------------------


def test_next_check_is_when_a_delay_or_minimum_time_ends() -> None:
    """No timer while nothing is pending; else the later of the delay and the minimum time."""
    assert next_check(SolarState(), SETTINGS) is None
    waiting = _state_after(steady(4.0, 0, 2))
    assert next_check(waiting, SETTINGS) == T0 + 5 * MINUTE
    started = _state_after(steady(4.0, 0, 6))
    assert next_check(started, SETTINGS) is None  # the surplus holds: nothing pending
    fading = _state_after([(6, 0.0)], started)
    # The stop delay ends at 16, the minimum time on at 25: 25.
    assert next_check(fading, SETTINGS) == T0 + 25 * MINUTE
    stopped = _state_after(steady(0.0, 7, 26), fading)
    again = _state_after([(26, 4.0)], stopped)
    # The start delay ends at 31, the minimum time off at 35: 35.
    assert next_check(again, SETTINGS) == T0 + 35 * MINUTE


def _state_after(
    readings: list[tuple[int, float | None]], state: SolarState | None = None
) -> SolarState:
    state = state or SolarState()
    for minute, surplus in readings:
        state = reading(state, SETTINGS, minute, surplus)
    return state


def test_the_state_kept_across_a_restart() -> None:
    """A charge the sun asked for and the day's commands are read back; the wish holds only
    while the car still charges; anything unreadable is no state."""
    state = replace(SolarState(), wants=True, changed_at=T0, day=DAY, commands=2, surplus_kw=3.0)
    restored = SolarState.from_stored(state.stored())
    assert restored == SolarState(wants=True, changed_at=T0, day=DAY, commands=2, restored=True)
    later = T0 + MINUTE
    assert restored.resumed(charging=True, now=later) == replace(restored, restored=False)
    assert restored.resumed(charging=False, now=later) == replace(
        restored, restored=False, wants=False
    )
    assert restored.resumed(charging=None, now=later) is restored  # unknown: wait for a reading
    assert state.resumed(charging=False, now=later) is state  # not restored: the controller's own
    # Stored as changed later than now (the clock was ahead): not held on by the minimum time.
    ahead = SolarState.from_stored(replace(state, changed_at=T0 + timedelta(days=30)).stored())
    assert ahead is not None
    resumed = ahead.resumed(charging=True, now=T0)
    assert (resumed.wants, resumed.changed_at) == (True, None)
    stopped = reading(resumed, SETTINGS, 30, -2.0)
    stopped = reading(stopped, SETTINGS, 41, -2.0)
    assert not stopped.wants
    assert SolarState.from_stored(SolarState().stored()) == SolarState(restored=True)
    for bad in (
        None,
        [],
        {"changed_at": "yesterday"},
        {"changed_at": "2026-06-10T10:00:00"},  # no time zone
        {"day": 20260610},
        {"commands": -1},
        {"commands": "2"},
    ):
        assert SolarState.from_stored(bad) is None, bad


def test_while_the_plan_charges_a_start_counts_only_its_stop() -> None:
    """The plan's block charges at noon while the sun comes and goes: the sun's start and stop
    send nothing then, so they cost nothing of the day's two commands; a start before the
    block ends costs its stop only, which the sun sends after the block."""
    settings = replace(SETTINGS, commands_per_day=2)
    state = SolarState()
    seen = []
    for minute, surplus, plan in [
        *[(m, 5.0, True) for m in range(30)],  # sun during the block: wanted
        *[(m, 0.5, True) for m in range(30, 70)],  # a cloud during the block: no longer
        *[(m, 5.0, True) for m in range(70, 90)],  # sun again, the block ends at 90
        *[(m, 5.0, False) for m in range(90, 120)],  # the sun goes on charging
        *[(m, 0.5, False) for m in range(120, 150)],  # a cloud: the sun's stop (sent)
        *[(m, 5.0, False) for m in range(150, 180)],  # sun: a start and its stop would be 3
    ]:
        state = reading(state, settings, minute, surplus, plan_charging=plan)
        seen.append((minute, state.wants, state.commands))
    assert seen[29] == (29, True, 1)
    assert seen[69] == (69, False, 0)
    assert seen[119] == (119, True, 1)
    assert seen[149] == (149, False, 1)
    assert seen[179] == (179, False, 1)
    assert state.reason is SolarReason.BUDGET_USED
