"""Benchmark: billable requests and update delays over a simulated month (run by scripts/bench).

Drives the integration inside Home Assistant against the emulator with accelerated time: every
simulated minute the emulator's clock and Home Assistant's clock move on together, the daily
pattern is applied to the cars, and Home Assistant's entity states are sampled. Printed per
schedule and vehicle: billable requests in the month, and the delay between a real change in
the emulator and Home Assistant showing it (median and worst), in simulated minutes. The smart
charging month lets managed charging do the night's charging on a time-of-use tariff instead:
printed are its requests and commands, the charge reached at each departure, and where the
charging fell.

Not part of the test suite (the file name does not start with `test_`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
import os
import random
import statistics
import time
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.flexcharging import budget, plug_guard
from custom_components.flexcharging.const import (
    CONF_OFFPEAK_PRICE,
    CONF_PEAK_PRICE,
    CONF_PLUG_TRIGGERS,
    CONF_PRICE_SOURCE,
    CONF_REQUEST_BUDGET,
    CONF_WEEKDAY_PEAK_END,
    CONF_WEEKDAY_PEAK_START,
    CONF_WEEKEND_PEAK_END,
    CONF_WEEKEND_PEAK_START,
    DOMAIN,
    EVENT_CHARGING_DECISION,
    EVENT_PLAN_AT_RISK,
    PRICE_SOURCE_SCHEDULE,
)
from custom_components.flexcharging.prices import schedule_slots
from custom_components.flexcharging.smart_charging.inputs import schedule_from_options
from emulator import ID4_ID, MODEL_Y_ID, ledger_cost
from emulator.state import EmulatorState
from tests.common import (
    HA_WEBHOOK_ID,
    SMARTCAR_WEBHOOK_ID,
    Emulator,
    entry_data,
)
from tests.fake_tesla import FakeTesla, async_add_fake_tesla, flexcharging_entry

TIME_ZONE = "Europe/Amsterdam"
START = datetime(2026, 6, 1, 0, 0, tzinfo=ZoneInfo(TIME_ZONE))  # a month starts at local midnight
DAYS = int(os.environ.get("BENCH_DAYS", "30"))
STEP = timedelta(minutes=1)
MEASURED = {MODEL_Y_ID: "2024_tesla_model_y", ID4_ID: "2023_volkswagen_id_4"}
KEY_REMOVAL = START + timedelta(days=14, hours=12, minutes=17)
KEY_RESTORED = KEY_REMOVAL + timedelta(days=1)  # the owner follows the repair the next day


@pytest.fixture(autouse=True)
async def enable_event_loop_debug() -> None:
    """Override the test plugin's fixture: no asyncio debug mode in a benchmark.

    The benchmark fast-forwards Home Assistant's clock by whole minutes, so debug mode's slow-
    callback check reports every step as "took 60.000 seconds"; those lines buried the results.
    The test plugin also prints every INFO record to stderr (logging.basicConfig): only errors
    are printed here, the results are the output.
    """
    asyncio.get_running_loop().set_debug(False)
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:
            handler.setLevel(logging.ERROR)


@dataclass
class Watch:
    """A change that happened in the emulator and the entity state that shows it."""

    kind: str
    vehicle_id: str
    entity_id: str
    expected: str
    since: datetime


@dataclass
class Result:
    """What one schedule produced."""

    name: str
    days: int = DAYS
    requests: dict[str, int] = field(default_factory=dict)
    # Billable requests per vehicle and route (where the month's requests went).
    routes: dict[str, dict[str, int]] = field(default_factory=dict)
    delays: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    missed: dict[tuple[str, str], int] = field(default_factory=dict)
    # Smart charging only
    commands: dict[str, int] = field(default_factory=dict)
    departures: dict[str, list[float]] = field(default_factory=dict)  # charge at unplugging
    charged_minutes: dict[tuple[str, bool], int] = field(default_factory=dict)  # (car, peak)
    # The same while the Model Y has no key (commands refused): no guard can stop a start then.
    keyless_minutes: dict[tuple[str, bool], int] = field(default_factory=dict)
    decisions: dict[str, dict[str, int]] = field(default_factory=dict)
    # Per recorded session: (energy, cost) as recorded, and as the emulator's ledger has them.
    sessions: dict[str, list[tuple[float, float, float, float]]] = field(default_factory=dict)
    # A limited plan only: what the emulator billed against it in its (UTC) month, and its 430s
    plan: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    # A vehicle from another integration: (commands, wake-ups) it sent through that integration.
    billed: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The plan-at-risk events: when, and what they said.
    at_risk: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)


# The smart charging month's tariff: off-peak 23:00–07:00 every day.
SMART_OPTIONS = {
    CONF_PRICE_SOURCE: PRICE_SOURCE_SCHEDULE,
    CONF_OFFPEAK_PRICE: 0.10,
    CONF_PEAK_PRICE: 0.30,
    CONF_WEEKDAY_PEAK_START: "07:00:00",
    CONF_WEEKDAY_PEAK_END: "23:00:00",
    CONF_WEEKEND_PEAK_START: "07:00:00",
    CONF_WEEKEND_PEAK_END: "23:00:00",
}
SMART_TARGET = 80


ARRIVED = "input_boolean.arrived_home"  # the arrival trigger entity (an automation would set it)
# A Tesla falls asleep after some idle minutes (not charging, nobody asking); driving, plugging
# in and its wake button wake it.
SLEEP_AFTER = timedelta(minutes=15)


@dataclass
class EmulatedTesla(FakeTesla):
    """tests/fake_tesla.py's car of "another integration", its physics the emulator's Model Y.

    The entities read the emulator's vehicle (`follow`, then `report`: a local integration
    writes every change at once); commands, the charge limit and the wake button change it.
    """

    emulator: EmulatorState | None = None
    vehicle_id: str = MODEL_Y_ID

    def follow(self) -> None:
        """Take the emulator vehicle's current values."""
        assert self.emulator is not None
        vehicle = self.emulator.vehicle(self.vehicle_id)
        self.soc = vehicle.soc
        self.plugged = vehicle.plugged_in
        self.charging = vehicle.charging
        self.asleep = vehicle.asleep
        self.limit = vehicle.charge_limit
        self.power_kw = vehicle.charge_power_kw
        self.home = vehicle.is_at_home

    def command(self, name: str, value: int | None = None) -> None:
        """The command reaches the emulator's vehicle (or not, while it is asleep)."""
        self.follow()
        super().command(name, value)
        self._push()

    def wake(self) -> None:
        """The wake button wakes the emulator's vehicle."""
        super().wake()
        self._push()

    def _push(self) -> None:
        assert self.emulator is not None
        vehicle = self.emulator.vehicle(self.vehicle_id)
        changes = {
            name: new
            for name, new, old in (
                ("charging", self.charging, vehicle.charging),
                ("charge_limit", self.limit, vehicle.charge_limit),
                ("asleep", self.asleep, vehicle.asleep),
            )
            if new != old
        }
        if changes:
            self.emulator.patch_vehicle(self.vehicle_id, changes)
        self.follow()


async def _add_entity_vehicle(
    hass: HomeAssistant, state: EmulatorState, entry: MockConfigEntry
) -> tuple[EmulatedTesla, MockConfigEntry, str]:
    """The Model Y as a teslemetry-like device, added to FlexCharging as a vehicle of its own.

    Returns the car, FlexCharging's entry for it, and the slug of FlexCharging's entities.
    """
    car = EmulatedTesla(emulator=state)
    car.follow()
    await async_add_fake_tesla(hass, car)
    options = dict(entry.options)
    # No Smartcar account here: set up with the domain, its entry would poll (and be billed
    # for) the same car.
    assert await hass.config_entries.async_remove(entry.entry_id)
    vehicle_entry = flexcharging_entry(car, options)
    vehicle_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(vehicle_entry.entry_id)
    await hass.async_block_till_done()
    plugged = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{car.device_id}_plugged_in"
    )
    assert plugged is not None
    return car, vehicle_entry, plugged.removeprefix("binary_sensor.").removesuffix("_plugged_in")


def _daily_events(day: int, *, arrivals: bool = False) -> list[tuple[datetime, str]]:
    """Leave around 07:30, plug in around 18:00, scheduled charging from around 01:00.

    The minutes vary from day to day (seeded, so every run is the same), so no schedule
    happens to line up with the events. With `arrivals`, the driver also arrives home 1-5
    minutes before plugging in (its own seed: the other events stay the same).
    """
    jitter = random.Random(day)
    base = START + timedelta(days=day)
    plug = base + timedelta(hours=17, minutes=jitter.randint(30, 89))
    events = [
        (base + timedelta(hours=7, minutes=jitter.randint(0, 59)), "unplug"),
        (plug, "plug"),
        (base + timedelta(hours=0, minutes=jitter.randint(45, 104)), "charge"),
    ]
    if arrivals:
        lead = random.Random(f"arrival {day}").randint(1, 5)
        events.append((plug - timedelta(minutes=lead), "arrive"))
    return events


# Issue #14's departures at risk (a week with webhooks): the Model Y stays away on the third
# evening and comes home at 05:40 with a quarter of its battery used, 80 minutes before its 07:00
# ready-by time (a quarter takes 1 h 42 min at its 11 kW: out of reach from the plug-in on); the
# fourth night its wallbox drops to 1.5 kW at 23:40, while it charges (out of reach from then).
AT_RISK = "FlexCharging smart charging, departures at risk (a week, with webhooks)"
AWAY_EVENING = 2
SLOW_NIGHT = 3
SLOW_POWER_KW = 1.5
RISK_DAYS = 7
MODEL_Y, ID4 = "2024 Tesla Model Y", "2023 Volkswagen ID.4"  # as the events name them


def _at_risk_events(events: list[tuple[datetime, str]]) -> list[tuple[datetime, str]]:
    """The month's events with the away evening and the slow night (AT_RISK)."""
    away = (START + timedelta(days=AWAY_EVENING)).date()
    kept = [(at, kind) for at, kind in events if not (kind == "plug" and at.date() == away)]
    kept += [
        (START + timedelta(days=AWAY_EVENING + 1, hours=5, minutes=40), "plug"),
        (START + timedelta(days=SLOW_NIGHT, hours=23, minutes=40), "slow"),
        (START + timedelta(days=SLOW_NIGHT + 1, hours=9), "normal"),  # after the departure
    ]
    return sorted(kept)


async def _simulate(
    hass: HomeAssistant,
    emulator: Emulator,
    freezer: FrozenDateTimeFactory,
    name: str,
    *,
    deliver_webhooks: bool,
    hass_client_no_auth: Any,
    smart_charging: bool = False,
    plan: int | None = None,
    arrival_trigger: bool = False,
    entity_car: bool = False,
    sleepy: bool = False,
    at_risk: bool = False,
    days: int = DAYS,
) -> Result:
    """The month; with `entity_car` the Model Y is a vehicle from another integration instead.

    With `sleepy` that car falls asleep after SLEEP_AFTER idle and ignores a start then. With
    `at_risk` two of the Model Y's departures cannot be reached (`_at_risk_events`).
    """
    # aiohttp's access log cannot format frozen time: silence it.
    logging.getLogger("aiohttp.access").disabled = True
    state = emulator.state
    await hass.config.async_update(time_zone=TIME_ZONE)
    state.set_speed(0)
    state.set_time(START)
    state.reset()  # the fleet's simulation starts at the emulator's (new) time
    freezer.move_to(START)
    state.connect()
    if not entity_car:  # Smartcar's webhook (its deliveries are billed)
        await state.create_webhook(
            "http://127.0.0.1:9/unreachable",
            webhook_id=SMARTCAR_WEBHOOK_ID,
            verify=False,
            verified=True,
        )
        for vehicle_id in list(state.vehicles):
            state.subscribe(SMARTCAR_WEBHOOK_ID, vehicle_id)
    for vehicle_id in MEASURED:
        state.patch_vehicle(vehicle_id, {"plugged_in": False, "charging": False, "soc": 55.0})
    await state.wait_for_deliveries()

    entry = hass.config_entries.async_entries("flexcharging")[0]
    if arrival_trigger:
        assert await async_setup_component(
            hass, "input_boolean", {"input_boolean": {"arrived_home": {}}}
        )
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_PLUG_TRIGGERS: [ARRIVED]}
        )
    if smart_charging:
        hass.config_entries.async_update_entry(entry, options={**entry.options, **SMART_OPTIONS})
    if plan is not None:
        # Smartcar refuses a vehicle past the plan's calls (430); FlexCharging is told the plan.
        for vehicle_id in state.vehicles:
            state.plans.set(vehicle_id, plan)
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_REQUEST_BUDGET: plan}
        )
    measured = MEASURED
    car: EmulatedTesla | None = None
    ids = {vehicle_id: vehicle_id for vehicle_id in MEASURED}  # emulator's -> FlexCharging's
    if entity_car:
        car, entry, slug = await _add_entity_vehicle(hass, state, entry)
        measured = {MODEL_Y_ID: slug}
        ids = {MODEL_Y_ID: car.device_id}
    else:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    decisions: list[dict[str, Any]] = []
    result = Result(name, days=days)
    if smart_charging:

        def _decided(event: Any) -> None:
            decisions.append(event.data)
            if os.environ.get("BENCH_TRACE"):
                print(event.time_fired.isoformat(), dict(event.data))

        hass.bus.async_listen(EVENT_CHARGING_DECISION, _decided)
        hass.bus.async_listen(
            EVENT_PLAN_AT_RISK,
            lambda event: result.at_risk.append((dt_util.utcnow(), dict(event.data))),
        )
        for slug in measured.values():
            await hass.services.async_call(
                "switch", "turn_on", {"entity_id": f"switch.{slug}_managed_charging"}, blocking=True
            )
        await hass.async_block_till_done(wait_background_tasks=True)
    if deliver_webhooks:
        # The test client freezes Home Assistant's routes: created after the setup.
        client = await hass_client_no_auth()
        webhook = state.webhooks[SMARTCAR_WEBHOOK_ID]
        webhook.callback_uri = str(client.make_url(f"/api/webhook/{HA_WEBHOOK_ID}"))
    state.requests.reset()

    events = sorted(
        [event for day in range(days) for event in _daily_events(day, arrivals=arrival_trigger)]
        # Smartcar's virtual key: a vehicle from another integration has none.
        + ([] if entity_car or at_risk else [(KEY_REMOVAL, "remove_key")])
        + ([] if entity_car or at_risk else [(KEY_RESTORED, "restore_key")])
    )
    if at_risk:
        events = _at_risk_events(events)
    power = state.vehicle(MODEL_Y_ID).charge_power_kw
    watches: list[Watch] = []
    charging_seen: dict[str, bool] = dict.fromkeys(measured, False)
    idle_since = START
    was_asleep = False
    if sleepy and not entity_car:
        # Smartcar wakes the car for a command but answers ASLEEP (fleet.py: wakes_in_time).
        state.patch_vehicle(MODEL_Y_ID, {"wakes_in_time": False})
    now = START
    end = START + timedelta(days=days)
    while now < end:
        now += STEP
        while events and events[0][0] <= now:
            at, kind = events.pop(0)
            if smart_charging and kind == "unplug":
                state.set_time(at)
                for vehicle_id in measured:
                    if state.vehicle(vehicle_id).plugged_in:  # not the first morning
                        result.departures.setdefault(vehicle_id, []).append(
                            state.vehicle(vehicle_id).soc
                        )
            if kind in ("arrive", "unplug") and arrival_trigger:
                # Arriving home turns the trigger on; leaving in the morning turns it off.
                action = "turn_on" if kind == "arrive" else "turn_off"
                await hass.services.async_call(
                    "input_boolean", action, {"entity_id": ARRIVED}, blocking=True
                )
            if kind == "arrive":
                continue
            if kind in ("slow", "normal"):  # the wallbox's power drops, and is back
                state.set_time(at)
                state.patch_vehicle(
                    MODEL_Y_ID, {"charge_power_kw": SLOW_POWER_KW if kind == "slow" else power}
                )
                continue
            if sleepy and kind in ("plug", "unplug"):  # driven: awake
                state.patch_vehicle(MODEL_Y_ID, {"asleep": False})
                idle_since = at
            if not (smart_charging and kind == "charge"):  # smart charging does the charging
                _apply(state, kind, at, watches, measured, auto_start=smart_charging)
        state.set_time(now)
        if sleepy:
            vehicle = state.vehicle(MODEL_Y_ID)
            asleep_before = car.asleep if car is not None else was_asleep
            if vehicle.charging or (asleep_before and not vehicle.asleep):
                idle_since = now  # charging, or woken since the last minute
            elif not vehicle.asleep and now - idle_since >= SLEEP_AFTER:
                state.patch_vehicle(MODEL_Y_ID, {"asleep": True})
            was_asleep = vehicle.asleep
        for vehicle_id, slug in measured.items():
            vehicle = state.vehicle(vehicle_id)
            if charging_seen[vehicle_id] and not vehicle.charging:
                # Stopped at its limit, or by a command before it (smart charging's stop).
                full = vehicle.soc >= vehicle.charge_limit - 0.5
                watches.append(
                    Watch(
                        "charging finished",
                        vehicle_id,
                        f"sensor.{slug}_charging_state",
                        "fully_charged" if full else "not_charging",
                        now,
                    )
                )
            charging_seen[vehicle_id] = vehicle.charging
            if smart_charging and vehicle.charging:
                local = now.astimezone(ZoneInfo(TIME_ZONE))
                key = (vehicle_id, 7 <= local.hour < 23)
                result.charged_minutes[key] = result.charged_minutes.get(key, 0) + 1
                if os.environ.get("BENCH_TRACE") and key[1]:
                    print("charging at peak:", vehicle_id, now.isoformat())
                if KEY_REMOVAL <= now < KEY_RESTORED:
                    result.keyless_minutes[key] = result.keyless_minutes.get(key, 0) + 1
        if deliver_webhooks:
            await state.wait_for_deliveries()
        freezer.move_to(now)
        if car is not None:  # a local integration writes what the car does at once
            car.follow()
            car.report()
        async_fire_time_changed(hass, now)
        # Coordinator refreshes run as background tasks.
        await hass.async_block_till_done(wait_background_tasks=True)
        if os.environ.get("BENCH_TRACE") and now.minute == 0 and not entity_car:
            vehicle = state.vehicle(ID4_ID)
            print(  # trace: BENCH_TRACE=1 scripts/bench
                now.isoformat(),
                vehicle.plugged_in,
                vehicle.charging,
                round(vehicle.soc),
                hass.states.get("sensor.2023_volkswagen_id_4_charging_state").state,
                hass.states.get("binary_sensor.2023_volkswagen_id_4_plugged_in").state,
            )
        for watch in list(watches):
            current = hass.states.get(watch.entity_id)
            if current is not None and current.state == watch.expected:
                key = (watch.vehicle_id, watch.kind)
                minutes = (now - watch.since).total_seconds() / 60
                result.delays.setdefault(key, []).append(minutes)
                watches.remove(watch)
            elif now - watch.since > timedelta(days=1):
                key = (watch.vehicle_id, watch.kind)
                result.missed[key] = result.missed.get(key, 0) + 1
                watches.remove(watch)
    billable = state.requests.billable_by_vehicle
    result.requests = {vehicle_id: int(billable.get(vehicle_id, 0)) for vehicle_id in measured}
    for (vehicle_id, route), count in state.requests.billable_by_vehicle_path.items():
        if vehicle_id in measured:
            result.routes.setdefault(vehicle_id, {})[route] = count
    if plan is not None:
        used = state.plans.as_dict(state.month)
        result.plan = {vehicle_id: used[vehicle_id]["used"] for vehicle_id in MEASURED}
        result.refused = state.requests.by_status["430"]
    for vehicle_id in measured:
        ours = entry.runtime_data.coordinator.data[ids[vehicle_id]]
        name_of = ours.info.display_name  # as the events name it
        mine = [d["decision"] for d in decisions if d["vehicle"] == name_of]
        result.decisions[vehicle_id] = {kind: mine.count(kind) for kind in sorted(set(mine))}
        result.commands[vehicle_id] = sum(
            count
            for kind, count in result.decisions[vehicle_id].items()
            if kind.startswith(("start", "stop", "retry"))
        )
        if entity_car:
            result.billed[vehicle_id] = (ours.commands_sent - ours.wake_ups, ours.wake_ups)
    if smart_charging:
        _check_sessions(state, entry, result, end, ids)
    await hass.config_entries.async_unload(entry.entry_id)
    return result


def _check_sessions(
    state: Any, entry: Any, result: Result, end: datetime, ids: dict[str, str]
) -> None:
    """Each recorded session against the emulator's ledger of energy x price (issue #15)."""
    schedule = schedule_from_options(SMART_OPTIONS)
    assert schedule is not None
    slots = [
        (slot.start, slot.end, slot.price)
        for slot in schedule_slots(schedule, START, end + timedelta(days=1), ZoneInfo(TIME_ZONE))
    ]
    for vehicle_id, ours in ids.items():
        ledger = state.vehicle(vehicle_id).ledger
        for session in entry.runtime_data.sessions.sessions(ours):
            truth_kwh, truth_cost = ledger_cost(ledger, slots, session.started_at, session.ended_at)
            result.sessions.setdefault(vehicle_id, []).append(
                (session.energy_kwh, session.cost or 0.0, truth_kwh, truth_cost)
            )


def _apply(
    state: Any,
    kind: str,
    at: datetime,
    watches: list[Watch],
    measured: dict[str, str],
    *,
    auto_start: bool = False,
) -> None:
    state.set_time(at)
    for vehicle_id, slug in measured.items():
        vehicle = state.vehicle(vehicle_id)
        if kind == "unplug":
            state.patch_vehicle(vehicle_id, {"plugged_in": False, "charging": False})
        elif kind == "plug":
            # A day's driving: about a quarter of the battery.
            # With auto_start a Tesla starts charging by itself when plugged in.
            state.patch_vehicle(
                vehicle_id,
                {
                    "soc": max(vehicle.soc - 25.0, 10.0),
                    "plugged_in": True,
                    "charging": auto_start and vehicle.is_tesla,
                },
            )
            watches.append(
                Watch("plugged in", vehicle_id, f"binary_sensor.{slug}_plugged_in", "on", at)
            )
        elif kind == "charge" and vehicle.plugged_in and vehicle.soc < vehicle.charge_limit:
            state.patch_vehicle(vehicle_id, {"charging": True})
            watches.append(
                Watch("charging started", vehicle_id, f"binary_sensor.{slug}_charging", "on", at)
            )
    if kind == "restore_key":
        state.set_key(MODEL_Y_ID, paired=True)
    if kind == "remove_key":
        state.set_key(MODEL_Y_ID, paired=False)
        watches.append(
            Watch(
                "key removed",
                MODEL_Y_ID,
                f"sensor.{MEASURED[MODEL_Y_ID]}_virtual_key",
                "missing",
                at,
            )
        )


def _print(result: Result) -> None:
    print(f"\n== {result.name}")
    for vehicle_id, slug in MEASURED.items():
        if vehicle_id not in result.requests:
            continue  # not in this month
        print(
            f"  {slug}: {result.requests.get(vehicle_id, 0)} billable requests in "
            f"{result.days} days"
        )
        if routes := result.routes.get(vehicle_id):
            print(f"    by route: {dict(sorted(routes.items(), key=lambda item: -item[1]))}")
        if vehicle_id in result.plan:
            print(
                f"    plan: {result.plan[vehicle_id]} calls billed in the emulator's (UTC) month; "
                f"{result.refused} refused with 430 (all vehicles)"
            )
        if departures := result.departures.get(vehicle_id):
            met = sum(1 for soc in departures if soc >= SMART_TARGET - 0.5)
            peak = result.charged_minutes.get((vehicle_id, True), 0)
            off_peak = result.charged_minutes.get((vehicle_id, False), 0)
            print(
                f"    smart charging: {result.commands.get(vehicle_id, 0)} commands; "
                f"target {SMART_TARGET} % met at {met} of {len(departures)} departures "
                f"(lowest {min(departures):.1f} %); charging minutes off-peak {off_peak}, "
                f"peak {peak}"
            )
            print(f"    decisions: {result.decisions.get(vehicle_id, {})}")
        if billed := result.billed.get(vehicle_id):
            print(f"    through the other integration: {billed[0]} commands, {billed[1]} wake-ups")
        if sessions := result.sessions.get(vehicle_id):
            errors = [abs(cost - truth) / truth for _, cost, _, truth in sessions if truth > 0]
            within = sum(1 for error in errors if error <= 0.01)
            recorded = sum(cost for _, cost, _, _ in sessions)
            truth = sum(truth for _, _, _, truth in sessions)
            print(
                f"    sessions: {len(sessions)} recorded, {recorded:.2f} (ledger {truth:.2f}); "
                f"cost within 1 % of the emulator's ledger in {within} of {len(errors)}, "
                f"worst {max(errors, default=0.0):.2%}"
            )
        for kind in ("plugged in", "charging started", "charging finished", "key removed"):
            delays = result.delays.get((vehicle_id, kind))
            missed = result.missed.get((vehicle_id, kind), 0)
            if not delays and not missed:
                continue
            median = statistics.median(delays) if delays else float("nan")
            worst = max(delays) if delays else float("nan")
            print(
                f"    {kind:18} median {median:6.1f} min   worst {worst:6.1f} min"
                f"   ({len(delays or [])} seen, {missed} not within a day)"
            )


SMART = "FlexCharging smart charging (off-peak 23:00-07:00)"
PLAN_100 = f"{SMART}, 100-call plan, with webhooks"
NO_GUARD = f"{SMART}, polling only, no plug-in guard (as before issue #14)"
POLLING = f"{SMART}, polling only"
ARRIVAL = f"{SMART}, polling only, arrival trigger"
WEBHOOKS = f"{SMART}, with webhooks"
ENTITIES = f"{SMART}, vehicle from another integration"
ENTITIES_ASLEEP = f"{ENTITIES}, asleep when idle"
SMARTCAR_ASLEEP = f"{WEBHOOKS}, asleep when idle"
SCHEDULES: dict[str, tuple[Callable[..., timedelta] | None, bool]] = {
    "FlexCharging budget planner, polling only": (None, False),
    "FlexCharging budget planner, with webhooks": (None, True),
    NO_GUARD: (None, False),
    POLLING: (None, False),
    ARRIVAL: (None, False),
    WEBHOOKS: (None, True),
    ENTITIES: (None, False),
    ENTITIES_ASLEEP: (None, False),
    SMARTCAR_ASLEEP: (None, True),
    PLAN_100: (None, True),
    "Fixed 30-minute polling (Smartcar's recommendation)": (
        lambda context, now: timedelta(minutes=30),
        False,
    ),
    "Fixed 6-hour polling (wbyoung/smartcar's default)": (
        lambda context, now: timedelta(hours=6),
        False,
    ),
}


@pytest.mark.timeout(900)  # a simulated month takes minutes, not the suite's 120 s
@pytest.mark.parametrize("name", list(SCHEDULES))
async def test_month(
    hass: HomeAssistant,
    credentials: None,
    emulator: Emulator,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: Any,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    """One schedule over a simulated month."""
    interval, webhooks = SCHEDULES[name]
    if interval is not None:
        monkeypatch.setattr(budget, "poll_interval", interval)
    if name == NO_GUARD:
        # As before #14: no guard, and none of the plan kept for it.
        monkeypatch.setattr(plug_guard.PlugGuard, "async_start", lambda self: None)
        monkeypatch.setattr(budget, "GUARD_SHARE", 0.0)
    started = os.times().elapsed  # freezegun leaves this clock alone
    result = await _simulate(
        hass,
        emulator,
        freezer,
        name,
        deliver_webhooks=webhooks,
        hass_client_no_auth=hass_client_no_auth,
        smart_charging="smart charging" in name,
        plan=100 if name == PLAN_100 else None,
        arrival_trigger=name == ARRIVAL,
        entity_car=name in (ENTITIES, ENTITIES_ASLEEP),
        sleepy=name in (ENTITIES_ASLEEP, SMARTCAR_ASLEEP),
    )
    _print(result)
    SMART_RESULTS[name] = result
    if name == PLAN_100 and DAYS >= 28:
        # Issue #20: a full month of smart charging inside the 100 calls, none refused.
        assert result.refused == 0
        assert all(used <= 100 for used in result.plan.values())
    print(f"  (simulated in {os.times().elapsed - started:.0f} s)")


@pytest.mark.timeout(900)
async def test_departures_at_risk(
    hass: HomeAssistant,
    credentials: None,
    emulator: Emulator,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: Any,
) -> None:
    """Issue #14: each departure out of reach is told at the plug-in when it was out of reach
    from the start, else at least an hour before its ready-by time; every other one is met
    (and none is told about)."""
    result = await _simulate(
        hass,
        emulator,
        freezer,
        AT_RISK,
        deliver_webhooks=True,
        hass_client_no_auth=hass_client_no_auth,
        smart_charging=True,
        at_risk=True,
        days=RISK_DAYS,
    )
    _print(result)
    zone = ZoneInfo(TIME_ZONE)
    away_plug = START + timedelta(days=AWAY_EVENING + 1, hours=5, minutes=40)
    slow_from = START + timedelta(days=SLOW_NIGHT, hours=23, minutes=40)
    ready_by = {
        "away": away_plug.replace(hour=7, minute=0),
        "slow": (slow_from + timedelta(days=1)).replace(hour=7, minute=0),
    }
    told: dict[tuple[str, str], datetime] = {}
    print("  plan at risk:")
    for at, data in result.at_risk:
        local = at.astimezone(zone)
        print(
            f"    {local:%a %H:%M} {data['vehicle']}: reaches {data['reachable']} % of "
            f"{data['target']} % by {datetime.fromisoformat(data['ready_by']).astimezone(zone):%H:%M}"
        )
        told.setdefault((data["vehicle"], "away" if local < slow_from else "slow"), local)
    # Both cars stay away that evening; only the Model Y's wallbox slows down.
    assert set(told) == {(MODEL_Y, "away"), (MODEL_Y, "slow"), (ID4, "away")}, told
    for (vehicle, case), at in sorted(told.items()):
        if case == "away":
            after = (at - away_plug).total_seconds() / 60
            print(
                f"  {vehicle}, away evening: plugged in {away_plug:%a %H:%M}, told {after:.0f}"
                " min later (at the plug-in: within 5 min; the simulation steps by the minute)"
            )
            # Home Assistant's clock reaches a minute after the emulator's changes: -1 is "at once".
            assert -1 <= after <= 5
        else:
            before = (ready_by["slow"] - at).total_seconds() / 60
            print(
                f"  {vehicle}, slow night: {SLOW_POWER_KW} kW from {slow_from:%a %H:%M}, told "
                f"{before:.0f} min before its ready-by time (at least 60)"
            )
            assert before >= 60
    # Every other departure is met; those out of reach are not.
    assert len([level for level in result.departures[MODEL_Y_ID] if level < SMART_TARGET]) == 2
    assert len([level for level in result.departures[ID4_ID] if level < SMART_TARGET]) == 1


# Issue #14's targets for the Model Y (a car that starts charging by itself at plug-in): charging
# off-peak, and billable requests in the month. "Before" is README's table from before #14.
SMART_RESULTS: dict[str, Result] = {}
TARGETS: dict[str, tuple[str, float, int]] = {
    NO_GUARD: ("polling only, no plug-in guard", 0.0, 500),
    POLLING: ("polling only, learned plug-in times", 90.0, 500),
    ARRIVAL: ("polling only, arrival trigger", 97.0, 500),
    WEBHOOKS: ("with webhooks", 99.0, 100),
}
BEFORE = {NO_GUARD: "36 %, 473", POLLING: "36 %, 473", ARRIVAL: "-", WEBHOOKS: "96 %, 119"}


def _off_peak_share(result: Result, vehicle_id: str, *, with_keyless: bool = True) -> float:
    minutes = {
        peak: result.charged_minutes.get((vehicle_id, peak), 0)
        - (0 if with_keyless else result.keyless_minutes.get((vehicle_id, peak), 0))
        for peak in (True, False)
    }
    return 100.0 * minutes[False] / max(minutes[True] + minutes[False], 1)


def _best_share(result: Result) -> float:
    """The most off-peak share the month allows: all but the keyless day's peak minutes."""
    keyless = result.keyless_minutes.get((MODEL_Y_ID, True), 0)
    total = sum(result.charged_minutes.get((MODEL_Y_ID, peak), 0) for peak in (True, False))
    return 100.0 * (total - keyless) / max(total, 1)


# Issue #19: the Model Y as a vehicle from another integration, next to Smartcar with webhooks.
BACKENDS = {
    WEBHOOKS: "Smartcar, with webhooks",
    SMARTCAR_ASLEEP: "Smartcar, with webhooks, asleep when idle",
    ENTITIES: "another integration",
    ENTITIES_ASLEEP: "another integration, asleep when idle",
}


def test_smart_charging_summary() -> None:
    """The smart charging months above, side by side with issue #14's targets (run them first).

    "w/o keyless" leaves out the day the Model Y has no key: Smartcar refuses commands then, so
    its own start at that evening's plug-in runs at peak price whatever reads see it (the
    watchdog reports it). The targets are checked on the minutes FlexCharging can act on ("w/o
    keyless"); "best" is the most the month can reach with the keyless day counted (every
    minute it could act on off-peak): the before-#14 figures counted that day, so a target above
    "best" cannot be met by any guard.
    """
    print("\n== Issue #14: Tesla Model Y (starts charging by itself at plug-in), smart charging")
    print(
        f"  {'month':40} {'before #14':>12} {'off-peak':>9} {'best':>6} {'w/o keyless':>12} "
        f"{'target':>7} {'requests':>9} {'limit':>6}  met at departure"
    )
    for name, (label, target, limit) in TARGETS.items():
        if (result := SMART_RESULTS.get(name)) is None:
            print(f"  {label:40} (not run)")
            continue
        share = _off_peak_share(result, MODEL_Y_ID)
        keyed = _off_peak_share(result, MODEL_Y_ID, with_keyless=False)
        requests = result.requests.get(MODEL_Y_ID, 0)
        departures = result.departures.get(MODEL_Y_ID, [])
        met = sum(1 for soc in departures if soc >= SMART_TARGET - 0.5)
        verdict = (
            "" if target == 0 else (" ok" if keyed >= target and requests <= limit else " MISSED")
        )
        print(
            f"  {label:40} {BEFORE[name]:>12} {share:8.1f}% {_best_share(result):5.1f}% "
            f"{keyed:11.1f}% {target:6.0f}% {requests:9d} {limit:6d}  "
            f"{met} of {len(departures)}{verdict}"
        )
    print(
        "\n== Issue #19: the same Model Y through Smartcar and as a vehicle from another integration"
    )
    print(
        f"  {'month':40} {'off-peak':>9} {'w/o keyless':>12} {'met':>9} {'commands':>9} "
        f"{'requests':>9}  billed by the other integration"
    )
    for name, label in BACKENDS.items():
        if (result := SMART_RESULTS.get(name)) is None:
            print(f"  {label:40} (not run)")
            continue
        departures = result.departures.get(MODEL_Y_ID, [])
        met = sum(1 for soc in departures if soc >= SMART_TARGET - 0.5)
        billed = result.billed.get(MODEL_Y_ID)
        print(
            f"  {label:40} {_off_peak_share(result, MODEL_Y_ID):8.1f}% "
            f"{_off_peak_share(result, MODEL_Y_ID, with_keyless=False):11.1f}% "
            f"{f'{met} of {len(departures)}':>9} {result.commands.get(MODEL_Y_ID, 0):9d} "
            f"{result.requests.get(MODEL_Y_ID, 0):9d}  "
            + (f"{billed[0]} commands, {billed[1]} wake-ups" if billed else "-")
        )


@pytest.mark.parametrize("count", [1, 10, 50])
async def test_setup_and_update_time(
    hass: HomeAssistant,
    credentials: None,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
) -> None:
    """Setup of an account with `count` vehicles, and one update cycle reading all of them."""
    state = emulator.state
    user_id = f"00000000-0000-4000-8000-{count:012d}"
    state.add_user(
        user_id=user_id,
        vehicles=[
            {
                "id": f"b{count:03d}0000-0000-4000-8000-{index:012d}",
                "make": "VOLKSWAGEN",
                "model": "ID.4",
                "year": 2023,
                "vin": f"WVGZZZE2ZPP{index:06d}",
            }
            for index in range(count)
        ],
    )
    state.connect(user_id=user_id)
    await state.create_webhook(
        "http://127.0.0.1:9/unreachable",
        webhook_id=SMARTCAR_WEBHOOK_ID,
        verify=False,
        verified=True,
    )
    for vehicle_id in [v.id for v in state.vehicles.values() if v.user_id == user_id]:
        state.subscribe(SMARTCAR_WEBHOOK_ID, vehicle_id, user_id)
    entry = MockConfigEntry(
        domain="flexcharging", unique_id=user_id, data=entry_data(user_id=user_id)
    )
    entry.add_to_hass(hass)
    started = time.perf_counter()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    setup_seconds = time.perf_counter() - started
    coordinator = entry.runtime_data.coordinator
    for vehicle in coordinator.data.values():
        vehicle.next_poll = None
    started = time.perf_counter()
    await coordinator.async_refresh()
    update_seconds = time.perf_counter() - started
    assert len(coordinator.data) == count
    assert all(vehicle.available for vehicle in coordinator.data.values())
    print(
        f"\n== {count} vehicles: setup {setup_seconds * 1000:.0f} ms, "
        f"one update cycle (all {count} read) {update_seconds * 1000:.0f} ms"
    )


async def test_webhook_latency(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    connected_fleet: Emulator,
    hass_client_no_auth: Any,
) -> None:
    """Real time from a change in the emulator to Home Assistant's state, through the webhook."""
    state = connected_fleet.state
    client = await hass_client_no_auth()
    state.webhooks[SMARTCAR_WEBHOOK_ID].callback_uri = str(
        client.make_url(f"/api/webhook/{HA_WEBHOOK_ID}")
    )
    entity_id = f"binary_sensor.{MEASURED[ID4_ID]}_plugged_in"
    latencies = []
    for round_number in range(20):
        plugged = round_number % 2 == 0
        started = time.perf_counter()
        state.patch_vehicle(ID4_ID, {"plugged_in": plugged, "charging": False})
        expected = "on" if plugged else "off"
        while hass.states.get(entity_id).state != expected:
            await asyncio.sleep(0.001)
            assert time.perf_counter() - started < 10
        latencies.append(time.perf_counter() - started)
    print(
        f"\n== Webhook delivery to entity state (real time, 20 changes): median "
        f"{statistics.median(latencies) * 1000:.0f} ms, worst {max(latencies) * 1000:.0f} ms"
    )
