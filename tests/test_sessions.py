"""The session accounting (pure): energy, when it was charged, its cost and the saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.flexcharging import sessions
from custom_components.flexcharging.planner import PriceSlot
from custom_components.flexcharging.sessions import (
    ChargingSession,
    EnergySource,
    OpenSession,
    Report,
    observe,
)

T0 = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
# 20:00 .40, 21:00 .40, 22:00 .10, 23:00 .10, 00:00 .20, then .30
PRICES = [
    PriceSlot(T0 + i * HOUR, T0 + (i + 1) * HOUR, price)
    for i, price in enumerate([0.40, 0.40, 0.10, 0.10, 0.20, 0.30, 0.30, 0.30])
]


def at(hours: float) -> datetime:
    """T0 plus some hours."""
    return T0 + timedelta(hours=hours)


def report(hours: float, **values: object) -> Report:
    """A report of a car at home, plugged in, 75 kWh, not charging unless told."""
    fields: dict[str, object] = {
        "plugged_in": True,
        "charging": False,
        "capacity_kwh": 75.0,
        **values,
    }
    return Report(at=at(hours), **fields)  # type: ignore[arg-type]


def run(*reports: Report, prices: list[PriceSlot] = PRICES) -> list[sessions.Step]:
    """Feed the reports one after the other (prices known from the first on)."""
    steps = []
    session: OpenSession | None = None
    for item in reports:
        step = observe(session, item)
        if step.open is not None and session is None:
            step.open.remember_prices(prices, "EUR")
        session = step.open
        steps.append(step)
    return steps


def test_counter_session_cost_and_saving() -> None:
    """Plugged at 20:00, charged 22:00-23:30 at 11 kW (the counter says 16.5 kWh), unplugged."""
    steps = run(
        report(0, soc=50, energy_added_kwh=0.0),
        report(2, soc=50, charging=True, power_kw=11.0, energy_added_kwh=0.0),
        report(3, soc=64.7, charging=True, power_kw=11.0, energy_added_kwh=11.0),
        # Stopped at some moment before this report: at 11 kW, 5.5 kWh took half an hour.
        report(4, soc=72, charging=False, power_kw=0.0, energy_added_kwh=16.5),
        report(9, soc=72, plugged_in=False, energy_added_kwh=16.5),
    )
    assert [step.added_kwh for step in steps] == [0, 0, 11.0, 5.5, 0]
    finished = steps[-1].finished
    assert finished is not None
    assert steps[-1].open is None
    assert finished.started_at == at(0)
    assert finished.ended_at == at(9)
    assert (finished.soc_start, finished.soc_end) == (50, 72)
    assert finished.energy_kwh == pytest.approx(16.5)
    assert finished.energy_source is EnergySource.ENERGY_ADDED
    assert [(c.start, c.end) for c in finished.charges] == [(at(2), at(3)), (at(3), at(3.5))]
    # 16.5 kWh at .10
    assert finished.cost == pytest.approx(1.65)
    # At once from 20:00 at 11 kW: 11 kWh at .40, 5.5 kWh at .40
    assert finished.reference_cost == pytest.approx(6.6)
    assert finished.saving == pytest.approx(4.95)
    assert finished.currency == "EUR"


def test_charging_started_between_reports_is_placed_before_the_report() -> None:
    """Not charging, then charging at 11 kW with 5.5 kWh more: it started half an hour before."""
    steps = run(
        report(0, soc=50, energy_added_kwh=0.0),
        report(3, soc=57.3, charging=True, power_kw=11.0, energy_added_kwh=5.5),
        report(4, plugged_in=False, soc=57.3, energy_added_kwh=5.5),
    )
    finished = steps[-1].finished
    assert finished is not None
    assert [(c.start, c.end) for c in finished.charges] == [(at(2.5), at(3))]
    assert finished.cost == pytest.approx(0.55)


def test_state_of_charge_when_the_car_has_no_counter() -> None:
    """Without `charge-energyadded`: the level's rise times the capacity, said so."""
    steps = run(
        report(0, soc=40),
        report(2, soc=40, charging=True),
        report(4, soc=60, charging=True),
        report(5, soc=60, plugged_in=False),
    )
    finished = steps[-1].finished
    assert finished is not None
    assert finished.energy_kwh == pytest.approx(15.0)
    assert finished.energy_source is EnergySource.STATE_OF_CHARGE
    assert finished.cost == pytest.approx(1.5)  # 22:00-24:00 at .10
    # No power reported: the reference charges at the average power (7.5 kW) from 20:00.
    assert finished.reference_cost == pytest.approx(6.0)


def test_power_when_nothing_else_is_known() -> None:
    """Neither a counter nor a capacity: the power times the time charged."""
    steps = run(
        report(2, capacity_kwh=None, charging=True, power_kw=7.0),
        report(3, capacity_kwh=None, charging=True, power_kw=7.0),
        report(3.5, capacity_kwh=None, plugged_in=False),
    )
    finished = steps[-1].finished
    assert finished is not None
    assert finished.energy_kwh == pytest.approx(10.5)
    assert finished.energy_source is EnergySource.POWER
    assert finished.cost == pytest.approx(1.05)


def test_a_restarted_counter_counts_from_zero() -> None:
    """The car's counter fell: a new charge of the car's own; what it says now is new energy."""
    steps = run(
        report(2, soc=50, charging=True, power_kw=11.0, energy_added_kwh=4.0),
        report(3, soc=64.7, charging=True, power_kw=11.0, energy_added_kwh=15.0),
        report(3.5, soc=64.7, power_kw=0.0, energy_added_kwh=15.0),
        report(4.5, soc=72, charging=True, power_kw=11.0, energy_added_kwh=5.5),
        report(5, soc=72, plugged_in=False, energy_added_kwh=5.5),
    )
    assert [step.added_kwh for step in steps] == [0, 11.0, 0, 5.5, 0]


def test_a_counter_that_restarted_and_grew_past_its_old_value() -> None:
    """Charging began anew and the counter is above its old value: the level decides."""
    steps = run(
        report(2, soc=50, charging=True, power_kw=11.0, energy_added_kwh=0.0),
        report(2.5, soc=57.3, charging=False, power_kw=0.0, energy_added_kwh=5.5),
        # 11 kWh more by the level: the counter restarted and counts 11, not 11 - 5.5.
        report(4, soc=72, charging=True, power_kw=11.0, energy_added_kwh=11.0),
    )
    assert steps[-1].added_kwh == pytest.approx(11.0)


def test_unknown_prices_leave_cost_and_saving_unknown() -> None:
    """Charged when no price is known: the energy counts, the cost is unknown."""
    steps = run(
        report(20, soc=50, charging=True, power_kw=11.0, energy_added_kwh=0.0),
        report(21, soc=64.7, charging=True, power_kw=11.0, energy_added_kwh=11.0),
        report(22, plugged_in=False, energy_added_kwh=11.0),
    )
    finished = steps[-1].finished
    assert finished is not None
    assert finished.energy_kwh == pytest.approx(11.0)
    assert finished.cost is None
    assert finished.reference_cost is None
    assert finished.saving is None


def test_sessions_only_at_home_and_only_when_charged() -> None:
    """A plug-in away is no session; a plug-in that never charged is not recorded."""
    assert observe(None, report(0, at_home=False)).open is None
    assert observe(None, report(0, plugged_in=False)).open is None
    steps = run(report(0, soc=50), report(1, soc=50), report(2, soc=50, plugged_in=False))
    assert steps[-1].open is None
    assert steps[-1].finished is None
    # Driving off while the car says plugged in (stale): the session ends when away.
    steps = run(
        report(2, soc=50, charging=True, power_kw=11.0),
        report(3, soc=64.7, at_home=False),
    )
    assert steps[-1].finished is not None


def test_old_reports_are_ignored() -> None:
    """The same report twice (poll and webhook), or an older one, adds nothing."""
    steps = run(
        report(2, soc=50, charging=True, power_kw=11.0, energy_added_kwh=0.0),
        report(3, soc=64.7, charging=True, power_kw=11.0, energy_added_kwh=11.0),
        report(3, soc=64.7, charging=True, power_kw=11.0, energy_added_kwh=11.0),
        report(2.5, soc=60, charging=True, power_kw=11.0, energy_added_kwh=5.0),
    )
    assert [step.added_kwh for step in steps] == [0, 11.0, 0, 0]
    assert steps[-1].open is not None
    assert steps[-1].open.energy_kwh == pytest.approx(11.0)
    # Unplugged within the same second as the last report: still the end of the session.
    step = observe(steps[-1].open, report(3, soc=64.7, plugged_in=False, energy_added_kwh=11.0))
    assert step.finished is not None
    assert step.finished.ended_at == at(3)


def test_storage_round_trip() -> None:
    """Open and finished sessions survive a restart as they were."""
    steps = run(
        report(0, soc=50, energy_added_kwh=0.0),
        report(2, soc=50, charging=True, power_kw=11.0, energy_added_kwh=0.0),
        report(3, soc=64.7, charging=True, power_kw=11.0, energy_added_kwh=11.0),
    )
    session = steps[-1].open
    assert session is not None
    restored = OpenSession.from_dict(session.as_dict())
    assert restored == session
    step = observe(restored, report(4, soc=64.7, plugged_in=False, energy_added_kwh=11.0))
    assert step.finished is not None
    assert ChargingSession.from_dict(step.finished.as_dict()) == step.finished


def test_remembered_prices_are_bounded() -> None:
    """Prices before plug-in are not kept; past the bound the oldest go."""
    session = OpenSession(started_at=at(2), soc_start=None, last=report(2))
    session.remember_prices(PRICES, None)
    assert min(session.prices) == at(2)
    quarter = timedelta(minutes=15)
    many = [
        PriceSlot(at(2) + i * quarter, at(2) + (i + 1) * quarter, 0.1)
        for i in range(sessions.MAX_PRICE_SLOTS + 10)
    ]
    session.remember_prices(many, "EUR")
    assert len(session.prices) == sessions.MAX_PRICE_SLOTS
    assert min(session.prices) == at(2) + 10 * quarter
    assert session.currency == "EUR"
    session.remember_prices([], None)
    assert session.currency == "EUR"


def test_month_cost_and_periods() -> None:
    """The month's cost counts the stretches charged in it, the open session's too."""
    first = run(
        report(2, soc=50, charging=True, power_kw=11.0, energy_added_kwh=0.0),
        report(3, soc=64.7, charging=True, power_kw=11.0, energy_added_kwh=11.0),
        report(4, soc=64.7, plugged_in=False, energy_added_kwh=11.0),
    )[-1].finished
    assert first is not None
    second = run(
        report(4, soc=50, charging=True, power_kw=11.0, energy_added_kwh=0.0),
        report(5, soc=64.7, charging=True, power_kw=11.0, energy_added_kwh=11.0),
    )[-1].open
    assert second is not None
    assert sessions.month_cost([first], second, at(0)) == pytest.approx(1.1 + 2.2)
    assert sessions.month_cost([first], second, at(3.5)) == pytest.approx(2.2)
    assert sessions.month_cost([first], None, at(3.5)) == 0
    # Costed in another currency (the price source changed): not added to this one's total.
    assert first.currency == second.currency == "EUR"
    assert sessions.month_cost([first], second, at(0), "EUR") == pytest.approx(1.1 + 2.2)
    second.currency = "SEK"
    assert sessions.month_cost([first], second, at(0), "EUR") == pytest.approx(1.1)
    assert sessions.month_cost([first], second, at(0), "SEK") == pytest.approx(2.2)
    second.currency = None  # no price known yet: counted
    assert sessions.month_cost([first], second, at(0), "EUR") == pytest.approx(1.1 + 2.2)
    assert sessions.in_period([first], None, None) == [first]
    assert sessions.in_period([first], at(3.9), at(5)) == [first]
    assert sessions.in_period([first], at(4), None) == []
    assert sessions.in_period([first], None, at(2)) == []


def test_cost_of_an_empty_stretch_is_unknown() -> None:
    """A stretch without length costs the price of its moment."""
    assert sessions.cost_of(at(1), at(1), 1.0, PRICES) == pytest.approx(0.40)
    assert sessions.cost_of(at(10), at(10), 1.0, PRICES) is None
    assert (
        sessions.reference_cost(OpenSession(started_at=at(0), soc_start=None, last=report(0)))
        is None
    )


def test_charging_before_the_first_report_of_a_plug_in() -> None:
    """Seen unplugged, then plugged in and charging with 22 kWh on the counter: it is counted."""
    idle = report(0, plugged_in=False, soc=40, energy_added_kwh=5.0)
    first = report(3, soc=69.3, charging=True, power_kw=11.0, energy_added_kwh=22.0)
    step = observe(None, first, idle)
    assert step.open is not None
    assert step.added_kwh == pytest.approx(22.0)
    charge = step.open.charges[0]
    assert (charge.start, charge.end) == (at(1), at(3))
    assert charge.cost is None  # no prices yet
    assert step.open.started_at == at(1)
    assert step.open.soc_start == pytest.approx(40.0, abs=0.1)
    step.open.remember_prices(PRICES, "EUR")
    assert step.open.charges[0].cost == pytest.approx(11 * 0.40 + 11 * 0.10)
    finished = observe(step.open, report(4, plugged_in=False, soc=69.3, energy_added_kwh=22.0))
    assert finished.finished is not None
    # It started charging on plug-in: that is the reference, nothing saved.
    assert finished.finished.reference_cost == pytest.approx(5.5)
    assert finished.finished.saving == pytest.approx(0)


def test_no_charging_before_the_first_report_unless_shown() -> None:
    """Found plugged in, or the last session's counter not restarted yet: not counted."""
    first = report(3, soc=69.3, charging=True, power_kw=11.0, energy_added_kwh=22.0)
    assert observe(None, first).added_kwh == 0  # found plugged in (start-up)
    idle = report(0, plugged_in=False, soc=50, energy_added_kwh=22.0)
    # The counter as it was when unplugged: the last session's.
    assert observe(None, first, idle).added_kwh == 0
    # Without the earlier counter, only a car that charges now shows this plug-in's energy.
    idle = report(0, plugged_in=False, soc=50)
    assert observe(None, report(3, soc=69.3, energy_added_kwh=22.0), idle).added_kwh == 0
    assert observe(None, first, idle).added_kwh == pytest.approx(22.0)


def test_a_charge_away_from_home_is_not_this_plug_ins() -> None:
    """The counter changed but the state of charge fell: a charge on a trip, not counted."""
    idle = report(0, plugged_in=False, soc=80, energy_added_kwh=30.0)
    first = report(20, soc=55, energy_added_kwh=40.0)
    step = observe(None, first, idle)
    assert step.open is not None
    assert step.added_kwh == 0
    assert step.open.charges == []
    assert step.open.started_at == at(20)
    assert step.open.soc_start == 55
    # Charging now does not make the trip's energy this plug-in's either: the charge shows
    # in the state of charge, and it fell.
    assert (
        observe(None, report(20, soc=55, charging=True, energy_added_kwh=40.0), idle).added_kwh == 0
    )
    # Without a state of charge on either side, only a car that charges now counts it.
    idle = report(0, plugged_in=False, energy_added_kwh=30.0)
    assert observe(None, report(20, energy_added_kwh=40.0), idle).added_kwh == 0
    charging = report(20, charging=True, power_kw=11.0, energy_added_kwh=40.0)
    assert observe(None, charging, idle).added_kwh == pytest.approx(40.0)
