"""The site power limit and the charging current as tables (pure: the times are given)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.flexcharging.smart_charging.site import (
    DEFAULT_KW_PER_AMP,
    LEAVING_FOR,
    RAISE_EVERY,
    CurrentRange,
    Leaving,
    SiteSettings,
    SiteState,
    current_range,
    going_kw,
    learn_kw_per_amp,
    meter_shows,
    minimum_power,
    next_check,
    room_kw,
    should_set,
    update,
    wanted_current,
)

T0 = datetime(2026, 1, 12, 18, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
LIMIT = SiteSettings(limit_kw=11.0)  # resume: 0.5 kW above the car's power for 5 minutes
CAR = 7.4


def run(
    readings: list[tuple[int, float | None, float]], state: SiteState | None = None
) -> list[tuple[int, bool]]:
    """Feed (second, grid kW, car's draw kW) readings; whether charging is paused after each."""
    state = state or SiteState()
    out = []
    for second, grid, draw in readings:
        state = update(
            state, LIMIT, grid_kw=grid, car_draw_kw=draw, need_kw=CAR, now=T0 + second * SECOND
        )
        out.append((second, state.paused))
    return out


def test_room_is_the_limit_less_the_house_without_the_car() -> None:
    """Importing 9 kW of which the car draws 7.4: the house takes 1.6, the car may take 9.4."""
    assert room_kw(11.0, 9.0, 7.4) == pytest.approx(9.4)
    assert room_kw(11.0, -3.0, 0.0) == pytest.approx(14.0)  # exporting: more room
    assert room_kw(11.0, None, 7.4) is None


def test_pauses_at_once_when_the_house_leaves_too_little_room() -> None:
    """The oven goes on while the car charges: the first reading over the limit pauses."""
    result = run([(0, 9.0, CAR), (10, 12.5, CAR)])
    assert result == [(0, False), (10, True)]


def test_a_start_is_held_back_when_it_would_exceed_the_limit() -> None:
    """Not charging, the house importing 5 kW: a 7.4 kW start would import 12.4 kW."""
    assert run([(0, 5.0, 0.0)]) == [(0, True)]
    assert run([(0, 3.0, 0.0)]) == [(0, False)]  # 3 + 7.4 fits


def test_resumes_after_the_room_held_with_a_margin() -> None:
    """Paused, the car's draw gone: 3.5 kW of house leaves 7.5 kW, under 7.4 + 0.5 — it waits;
    at 3.0 kW (room 8.0) for five minutes it resumes, and a dip restarts the wait."""
    paused = [(0, 12.5, CAR)]
    waiting = [(10 + 10 * i, 3.5, 0.0) for i in range(60)]  # ten minutes at 3.5 kW
    result = run(paused + waiting)
    assert all(p for _, p in result)
    clear = [(700 + 10 * i, 3.0, 0.0) for i in range(20)] + [(900, 4.0, 0.0)]
    clear += [(910 + 10 * i, 3.0, 0.0) for i in range(31)]
    result = run(paused + clear)
    resumed = [second for second, p in result if not p]
    assert resumed[0] == 910 + 300  # five minutes after the dip at 900


def test_a_pause_soon_after_a_resume_waits_twice_as_long() -> None:
    """A heat pump cycling under the car: each pause within an hour of the last resume doubles
    the wait (5, 10, 20, 40 minutes at most); an hour without a pause starts again at 5."""
    state = SiteState()
    waits = []
    second = 0
    for _ in range(6):
        state = update(
            state, LIMIT, grid_kw=12.5, car_draw_kw=CAR, need_kw=CAR, now=T0 + second * SECOND
        )
        paused_at = second
        while state.paused:
            second += 10
            state = update(
                state, LIMIT, grid_kw=2.0, car_draw_kw=0.0, need_kw=CAR, now=T0 + second * SECOND
            )
        waits.append((second - paused_at - 10) // 60)
        second += 600  # ten minutes of charging before the next pause
    assert waits == [5, 10, 20, 40, 40, 40]
    second += 3600
    state = update(
        state, LIMIT, grid_kw=12.5, car_draw_kw=CAR, need_kw=CAR, now=T0 + second * SECOND
    )
    assert state.streak == 1
    assert state.resume_delay(LIMIT) == timedelta(minutes=5)


def test_pauses_of_an_idle_car_do_not_lengthen_the_wait() -> None:
    """The evening's loads come and go under a car that does not charge: it is kept from
    starting each time, but the wait stays five minutes (pauses that stop it charging double
    it)."""
    state = SiteState()
    for hour in range(4):
        second = hour * 900
        state = update(
            state, LIMIT, grid_kw=6.0, car_draw_kw=0.0, need_kw=CAR, now=T0 + second * SECOND
        )
        assert state.paused
        assert state.resume_delay(LIMIT) == timedelta(minutes=5)
        for step in range(1, 32):
            state = update(
                state,
                LIMIT,
                grid_kw=1.0,
                car_draw_kw=0.0,
                need_kw=CAR,
                now=T0 + (second + step * 10) * SECOND,
            )
        assert not state.paused
    state = update(state, LIMIT, grid_kw=12.5, car_draw_kw=CAR, need_kw=CAR, now=T0 + 3600 * SECOND)
    # The first pause that stops it charging waits five minutes too; the next one soon doubles.
    assert (state.paused, state.streak) == (True, 1)
    assert state.resume_delay(LIMIT) == timedelta(minutes=5)


def test_without_a_reading_the_decision_stands() -> None:
    """A meter that drops out neither pauses nor ends a pause."""
    assert run([(0, None, CAR)]) == [(0, False)]
    assert run([(0, 12.5, CAR), *[(10 * i, None, 0.0) for i in range(1, 100)]])[-1] == (990, True)


def test_next_check_when_the_resume_wait_ends() -> None:
    """Meters that report only on change: a timer ends the wait."""
    state = SiteState()
    assert next_check(state, LIMIT) is None
    state = update(state, LIMIT, grid_kw=12.5, car_draw_kw=CAR, need_kw=CAR, now=T0)
    assert next_check(state, LIMIT) is None  # no room yet
    state = update(state, LIMIT, grid_kw=2.0, car_draw_kw=0.0, need_kw=CAR, now=T0 + 60 * SECOND)
    assert next_check(state, LIMIT) == T0 + 360 * SECOND


# --- the charging current ---------------------------------------------------------------------

ONE_PHASE = 0.23
RANGE = CurrentRange(minimum=6, maximum=32)


def test_an_entitys_range_is_raised_to_what_a_charger_can_signal() -> None:
    """Teslemetry's charge current goes from 0 A: 6 A is the least a charger signals."""
    assert current_range(0, 32, 1) == CurrentRange(minimum=6, maximum=32, step=1)
    assert current_range(8, 16, 2) == CurrentRange(minimum=8, maximum=16, step=2)
    assert current_range(0, 5, 0) == CurrentRange(minimum=5, maximum=5, step=1)


@pytest.mark.parametrize(
    ("solar", "room", "expected"),
    [
        (None, None, 32),  # the plan charges: full current
        (2.3, None, 10),  # 2.3 kW of sun: 10 A on one phase
        (2.2, None, 9),  # rounded down: never more than the sun
        (0.5, None, 6),  # below the minimum: the minimum (the controller decides to stop)
        (20.0, None, 32),
        (None, 4.6, 20),  # the site leaves 4.6 kW
        (4.6, 2.3, 10),  # the lower of the two
    ],
)
def test_wanted_current(solar: float | None, room: float | None, expected: float) -> None:
    """The most the sun and the house allow, within the range, in the entity's steps."""
    assert wanted_current(RANGE, ONE_PHASE, solar_kw=solar, room=room) == expected


def test_until_learned_three_phases_are_assumed() -> None:
    """The safe guess: 4.14 kW of sun gives 6 A (a one-phase car then uses a third of it)."""
    assert wanted_current(RANGE, None, solar_kw=4.2) == 6
    assert minimum_power(RANGE, None) == pytest.approx(6 * DEFAULT_KW_PER_AMP)
    assert minimum_power(RANGE, ONE_PHASE) == pytest.approx(1.38)


@pytest.mark.parametrize(
    ("power", "amps", "expected"),
    [(2.3, 10, 0.23), (11.04, 16, 0.69), (None, 10, None), (2.3, None, None), (0.5, 2, None)],
)
def test_learning_the_power_per_ampere(
    power: float | None, amps: float | None, expected: float | None
) -> None:
    """From the car's power at a known current; too low a current says little."""
    learned = learn_kw_per_amp(power, amps)
    assert learned == (pytest.approx(expected) if expected is not None else None)


def test_the_power_per_ampere_learned_only_grows() -> None:
    """A car taking less than its phases give (a cold battery, near full) does not lower what
    was learned: too little per ampere would set too high a current for the site's room."""
    assert learn_kw_per_amp(5.5, 8, known=0.23) == pytest.approx(0.6875)  # a higher one counts
    assert learn_kw_per_amp(3.0, 8, known=0.6875) == pytest.approx(0.6875)  # a lower one not
    assert learn_kw_per_amp(None, 8, known=0.6875) == pytest.approx(0.6875)
    # Near full (90 % and above) nothing is learned.
    assert learn_kw_per_amp(5.5, 8, level=92.0) is None
    assert learn_kw_per_amp(5.5, 8, known=0.23, level=90.0) == pytest.approx(0.23)
    assert learn_kw_per_amp(5.5, 8, level=89.0) == pytest.approx(0.6875)
    # More than three phases give is a report from before the car settled at the current.
    assert learn_kw_per_amp(11.0, 8, known=0.23) == pytest.approx(0.23)


def test_a_higher_current_waits_a_lower_one_for_the_site_does_not() -> None:
    """Raising (and lowering for the sun) at most once a minute; lowering for the site at once."""
    just = T0 - 10 * SECOND
    assert should_set(None, 16, last_set=just, now=T0, urgent=False) is True  # unknown: set
    assert should_set(16, 16, last_set=None, now=T0, urgent=True) is False  # already there
    assert should_set(10, 16, last_set=just, now=T0, urgent=False) is False
    assert should_set(10, 16, last_set=T0 - RAISE_EVERY, now=T0, urgent=False) is True
    assert should_set(16, 10, last_set=just, now=T0, urgent=False) is False
    assert should_set(16, 10, last_set=just, now=T0, urgent=True) is True
    assert should_set(10, 16, last_set=just, now=T0, urgent=True) is False  # raising is not urgent


@pytest.mark.parametrize(
    ("charging", "before_kw", "now_kw", "shown"),
    [
        (True, 1.0, 4.6, True),  # the car's 3.7 kW, nearly all of it already
        (True, 1.0, 2.8, False),  # under half of it: still ramping, or something else
        (True, 1.0, 7.0, False),  # too much: two cars, or the oven came on with it
        (True, -3.0, 0.5, True),  # exporting before: the car took the export and more
        (False, 7.7, 4.0, True),
        (False, 7.7, 7.0, False),
        (False, 7.7, 9.0, False),  # the import rose: not a stop
    ],
)
def test_the_meter_shows_a_start_or_a_stop(
    *, charging: bool, before_kw: float, now_kw: float, shown: bool
) -> None:
    """A command is seen on the grid meter when the import moved by half to one and a half
    times the car's power, in the command's direction."""
    assert meter_shows(charging=charging, before_kw=before_kw, now_kw=now_kw, car_kw=3.7) is shown


def test_a_paused_cars_draw_is_going_until_the_meter_shows_it_or_a_minute_passed() -> None:
    """3.7 kW paused at an import of 8.4 kW: what of it the meter still shows."""
    leaving = Leaving(kw=3.7, grid_kw=8.4, until=T0 + LEAVING_FOR)
    assert going_kw([leaving], 8.4, T0) == pytest.approx(3.7)
    assert going_kw([leaving], 9.4, T0) == pytest.approx(3.7)  # a load rose: the car is there
    assert going_kw([leaving], 6.6, T0 + timedelta(seconds=30)) == pytest.approx(1.9)
    assert going_kw([leaving], 4.0, T0 + timedelta(seconds=30)) == 0.0  # gone, a load too
    assert going_kw([leaving], 8.4, T0 + LEAVING_FOR) == 0.0  # the stop did not come


def test_cars_paused_together_share_the_drop() -> None:
    """Two cars paused at one reading (12.1 kW): one's stop leaves the other's draw going;
    a car paused at another reading is counted on its own."""
    until = T0 + LEAVING_FOR
    together = [Leaving(kw=3.7, grid_kw=12.1, until=until)] * 2
    assert going_kw(together, 12.1, T0) == pytest.approx(7.4)
    assert going_kw(together, 8.4, T0) == pytest.approx(3.7)
    later = Leaving(kw=3.7, grid_kw=15.0, until=until + timedelta(seconds=10))
    assert going_kw([*together, later], 12.1, T0) == pytest.approx(7.4 + 0.8)  # 2.9 of 3.7 gone
