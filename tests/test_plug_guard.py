"""The plug-in guard in Home Assistant: trigger entities start bursts, learned times draw reads.

Driven as a user's home does: an input boolean and a device tracker change state, the car is
plugged in in the emulator, and the reads are counted where Smartcar would bill them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.flexcharging import budget
from custom_components.flexcharging.const import CONF_PLUG_TRIGGERS, storage_key
from custom_components.flexcharging.plug_pattern import (
    BURST_OFFSETS,
    BURSTS_PER_DAY,
    max_window_slots,
)
from emulator import ID4_ID, MODEL_Y_ID
from tests.common import Emulator, connect_fleet, setup_integration
from tests.test_webhook import soc, state_event

ARRIVED = "input_boolean.arrived"
PHONE = "device_tracker.phone"
PLUGGED = "binary_sensor.2024_tesla_model_y_plugged_in"
MANAGED = "switch.2024_tesla_model_y_managed_charging"

type Step = Callable[[timedelta], Awaitable[None]]


@pytest.fixture
def step(hass: HomeAssistant, freezer: FrozenDateTimeFactory, frozen_emulator: Emulator) -> Step:
    """Move Home Assistant and the emulator on, a minute at a time, firing what is due."""

    async def _step(delta: timedelta) -> None:
        end = dt_util.utcnow() + delta
        while (now := dt_util.utcnow()) < end:
            moment = min(now + timedelta(minutes=1), end)
            freezer.move_to(moment)
            frozen_emulator.state.set_time(moment)
            async_fire_time_changed(hass, moment)
            await hass.async_block_till_done(wait_background_tasks=True)

    return _step


@pytest.fixture
async def guarded(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    connected_fleet: Emulator,
    config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """The fleet with the Model Y unplugged, and an input boolean and a tracker as triggers."""
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"arrived": {}}})
    hass.states.async_set(PHONE, "not_home")
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False, "charging": False})
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_PLUG_TRIGGERS: [ARRIVED, PHONE]}
    )
    await setup_integration(hass, config_entry)
    return config_entry


def reads(emulator: Emulator, vehicle_id: str = MODEL_Y_ID) -> int:
    """Billable requests for a vehicle so far."""
    return emulator.state.requests.billable_by_vehicle[vehicle_id]


async def arrive(hass: HomeAssistant) -> None:
    """Turn the arrival input boolean on."""
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": ARRIVED}, blocking=True
    )


async def test_trigger_reads_the_car_until_it_is_plugged_in(
    hass: HomeAssistant, frozen_emulator: Emulator, guarded: MockConfigEntry, step: Step
) -> None:
    """Arrival: a read a minute later, more over the next minutes, none once it reads plugged in."""
    await step(timedelta(minutes=10))
    before = reads(frozen_emulator)
    await arrive(hass)
    await step(timedelta(minutes=1))
    assert reads(frozen_emulator) == before + 1
    await step(timedelta(minutes=1))
    assert reads(frozen_emulator) == before + 2
    assert hass.states.get(PLUGGED).state == "off"
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": True})
    await step(timedelta(minutes=2))  # the burst's read at 4 minutes
    assert hass.states.get(PLUGGED).state == "on"
    assert reads(frozen_emulator) == before + 3
    await step(timedelta(minutes=20))
    assert reads(frozen_emulator) == before + 3  # the burst is over
    assert guarded.runtime_data.plug_guard is not None
    assert guarded.runtime_data.plug_guard.bursts == {}


async def test_a_burst_ends_after_twenty_minutes(
    hass: HomeAssistant, frozen_emulator: Emulator, guarded: MockConfigEntry, step: Step
) -> None:
    """A car that is never plugged in: the burst's reads, then the normal schedule again."""
    before = reads(frozen_emulator)
    await arrive(hass)
    await step(timedelta(minutes=30))
    assert reads(frozen_emulator) == before + len(BURST_OFFSETS)


async def test_plugged_in_cars_and_other_changes_are_left_alone(
    hass: HomeAssistant, frozen_emulator: Emulator, guarded: MockConfigEntry, step: Step
) -> None:
    """A car that reads plugged in again costs one read; leaving home and restarts none."""
    id4 = reads(frozen_emulator, ID4_ID)
    hass.states.async_set(PHONE, "home")
    await step(timedelta(minutes=25))
    model_y = reads(frozen_emulator)
    # The ID.4 was read plugged in before (it may have left since): one read says it still is.
    assert reads(frozen_emulator, ID4_ID) == id4 + 1
    hass.states.async_set(PHONE, "not_home")
    hass.states.async_set(PHONE, "unavailable")
    hass.states.async_set(PHONE, "home")
    hass.states.async_set(PHONE, "work")
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": ARRIVED}, blocking=True
    )
    await step(timedelta(minutes=25))
    assert reads(frozen_emulator) == model_y


async def test_bursts_are_bounded(
    hass: HomeAssistant, frozen_emulator: Emulator, guarded: MockConfigEntry, step: Step
) -> None:
    """A flapping trigger starts a few bursts a day; a spent budget starts none."""
    guard = guarded.runtime_data.plug_guard
    assert guard is not None
    for _ in range(BURSTS_PER_DAY):
        await arrive(hass)
        first = guard.bursts[MODEL_Y_ID][0]
        await hass.services.async_call(
            "input_boolean", "turn_off", {"entity_id": ARRIVED}, blocking=True
        )
        await step(timedelta(minutes=1))
    await arrive(hass)
    assert guard.bursts[MODEL_Y_ID][0] > first or MODEL_Y_ID not in guard.bursts
    await step(timedelta(minutes=30))
    assert MODEL_Y_ID not in guard.bursts
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": ARRIVED}, blocking=True
    )
    await arrive(hass)
    assert MODEL_Y_ID not in guard.bursts  # today's bursts are used

    await step(timedelta(days=1))
    coordinator = guarded.runtime_data.coordinator
    coordinator.usage.counts[MODEL_Y_ID] = coordinator.budget - 30  # the reserve is 25
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": ARRIVED}, blocking=True
    )
    await arrive(hass)
    assert MODEL_Y_ID not in guard.bursts


async def test_no_burst_while_webhooks_flow(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    guarded: MockConfigEntry,
    post_webhook: Callable[..., Awaitable[Any]],
    step: Step,
) -> None:
    """With webhooks the plug-in is pushed at once: no reads for it."""
    await post_webhook(state_event(ID4_ID, [soc(70, dt_util.utcnow())]))
    before = reads(frozen_emulator)
    await arrive(hass)
    await step(timedelta(minutes=25))
    assert reads(frozen_emulator) == before


def stored_times(entry: MockConfigEntry, spans: dict[int, list[list[int]]]) -> dict[str, Any]:
    """The plug-time store holding the Model Y's plug-ins (weekday -> [start, end] minutes)."""
    return {
        "version": 1,
        "key": storage_key(entry.entry_id, "plug_times"),
        "data": {"vehicles": {MODEL_Y_ID: {"days": [spans.get(day, []) for day in range(7)]}}},
    }


def local_minutes(moment: datetime) -> int:
    """Minutes since local midnight."""
    local = dt_util.as_local(moment)
    return local.hour * 60 + local.minute


type Learned = Callable[[dict[int, list[list[int]]]], Awaitable[MockConfigEntry]]


@pytest.fixture
def learned(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    credentials: None,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> Learned:
    """Set up with the Model Y unplugged and these plug-ins already learned."""

    async def _setup(spans: dict[int, list[list[int]]]) -> MockConfigEntry:
        await connect_fleet(frozen_emulator)
        hass_storage[storage_key(config_entry.entry_id, "plug_times")] = stored_times(
            config_entry, spans
        )
        frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False, "charging": False})
        await setup_integration(hass, config_entry)
        return config_entry

    return _setup


async def test_learned_times_draw_reads_and_learn_again(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    learned: Learned,
    hass_storage: dict[str, Any],
    step: Step,
) -> None:
    """A managed car unplugged: read every few minutes where it was plugged in before, not else.

    Its new plug-in is learned from the frequent reads and written (delayed) to the store.
    """
    now = dt_util.utcnow()
    weekday = dt_util.as_local(now).weekday()
    usual = local_minutes(now + timedelta(minutes=30))  # it used to be plugged in half an hour on
    entry = await learned({weekday: [[usual, usual + 5]]})
    await hass.services.async_call("switch", "turn_on", {"entity_id": MANAGED}, blocking=True)
    guard = entry.runtime_data.plug_guard
    assert guard is not None
    assert guard.window_interval(MODEL_Y_ID, now) == timedelta(minutes=5)

    before = reads(frozen_emulator)
    await step(timedelta(minutes=10))  # before the window (it starts a slot early)
    assert reads(frozen_emulator) == before
    await step(timedelta(minutes=30))  # inside it: every five minutes
    inside = reads(frozen_emulator) - before
    assert 4 <= inside <= 7
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": False})
    plugged_at = dt_util.utcnow()
    await step(timedelta(minutes=5))
    assert hass.states.get(PLUGGED).state == "on"
    seen = entry.runtime_data.coordinator.data[MODEL_Y_ID].last_success
    assert seen is not None
    assert seen - plugged_at <= timedelta(minutes=5)

    await step(timedelta(seconds=61))  # the delayed save
    key = storage_key(entry.entry_id, "plug_times")
    learned_now = hass_storage[key]["data"]["vehicles"][MODEL_Y_ID]["days"][weekday]
    assert learned_now[0] == [usual, usual + 5]
    start, end = learned_now[1]
    assert local_minutes(plugged_at) - 5 <= start <= local_minutes(plugged_at)
    # It ends when the car says it changed (its timestamp), or at the latest when it was seen.
    assert local_minutes(plugged_at) <= end <= local_minutes(seen)


async def test_before_any_plug_in_the_evening_is_guarded(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    freezer: FrozenDateTimeFactory,
    learned: Learned,
    step: Step,
) -> None:
    """A managed car with nothing learned yet: read often in the evening, when it may come home."""
    entry = await learned({})
    await hass.services.async_call("switch", "turn_on", {"entity_id": MANAGED}, blocking=True)
    guard = entry.runtime_data.plug_guard
    assert guard is not None
    now = dt_util.utcnow()
    interval = guard.window_interval(MODEL_Y_ID, now)
    assert interval is not None
    diagnostics = guard.diagnostics(MODEL_Y_ID)
    assert diagnostics["window_from"] == "evening guess"
    first = diagnostics["next_guard_read"]
    local = dt_util.as_local(first)
    assert 16 <= local.hour + local.minute / 60 <= 18  # the evening's likeliest hours
    assert first - now < timedelta(days=1)

    freezer.move_to(first - timedelta(minutes=1))  # the day until then: the poll scheduler's
    frozen_emulator.state.set_time(dt_util.utcnow())
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    before = reads(frozen_emulator)
    await step(timedelta(minutes=31))
    assert reads(frozen_emulator) - before >= 30 // (interval.total_seconds() / 60)


async def test_the_months_last_window_is_not_cut_by_its_own_reads(
    hass: HomeAssistant, frozen_emulator: Emulator, learned: Learned
) -> None:
    """The month's last evening with a few requests left: the window is sized at the day's
    first look and keeps its reads as they are spent (it once shrank with each read, cutting off
    its later slots), until the month has nothing left for it."""
    entry = await learned({})
    await hass.services.async_call("switch", "turn_on", {"entity_id": MANAGED}, blocking=True)
    guard = entry.runtime_data.plug_guard
    assert guard is not None
    usage = entry.runtime_data.coordinator.usage
    last_day = dt_util.as_local(dt_util.utcnow()).replace(day=30, hour=12, minute=0)
    context = guard._context(MODEL_Y_ID)
    reserved = budget.commands_reserve(context, last_day)
    usage.counts[MODEL_Y_ID] = int(context.budget - reserved - 6)  # 6 requests left for it
    pattern = guard.pattern(MODEL_Y_ID)

    def window_minutes(now: datetime) -> int:
        """Today's window, as the guard sizes it for the reads it may spend."""
        slots = max_window_slots(guard._per_day(MODEL_Y_ID, now))
        return pattern.window_minutes(now.weekday(), slots)

    assert guard._per_day(MODEL_Y_ID, last_day) == 5.0
    assert window_minutes(last_day) == 150  # 10 slots, read every 15 minutes
    usage.counts[MODEL_Y_ID] += 4  # the window's first reads
    assert window_minutes(last_day + timedelta(hours=5)) == 150
    assert guard.window_interval(MODEL_Y_ID, last_day) == timedelta(minutes=15)
    usage.counts[MODEL_Y_ID] += 2  # nothing left
    assert guard.window_interval(MODEL_Y_ID, last_day + timedelta(hours=6)) is None
    usage.counts[MODEL_Y_ID] -= 6
    assert guard.window_interval(MODEL_Y_ID, last_day) is not None
    # Webhooks start flowing that day: the guard stops at once, its day's size forgotten.
    entry.runtime_data.coordinator.last_webhook = dt_util.utcnow()
    assert guard.window_interval(MODEL_Y_ID, last_day) is None


async def test_a_plugged_in_read_from_before_the_window_is_checked(
    hass: HomeAssistant, frozen_emulator: Emulator, learned: Learned, step: Step
) -> None:
    """Read plugged in this morning, unplugged unseen: the window reads it and sees it away.

    Once a read in the window shows it plugged in, the rest of that window costs nothing.
    """
    now = dt_util.utcnow()
    weekday = dt_util.as_local(now).weekday()
    usual = local_minutes(now + timedelta(minutes=60))
    entry = await learned({weekday: [[usual, usual + 5]]})
    await hass.services.async_call("switch", "turn_on", {"entity_id": MANAGED}, blocking=True)
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": False})
    await entry.runtime_data.coordinator.async_refresh_vehicle(MODEL_Y_ID)
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False, "charging": False})
    assert hass.states.get(PLUGGED).state == "on"  # what Home Assistant last read
    before = reads(frozen_emulator)
    await step(timedelta(minutes=50))  # into the window, which starts a slot early
    assert hass.states.get(PLUGGED).state == "off"
    assert reads(frozen_emulator) > before
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": False})
    await step(timedelta(minutes=10))
    assert hass.states.get(PLUGGED).state == "on"
    after = reads(frozen_emulator)
    await step(timedelta(minutes=20))
    assert reads(frozen_emulator) - after <= 1  # smart charging's own re-read at most


async def test_unmanaged_cars_are_not_guarded_by_learned_times(
    hass: HomeAssistant, frozen_emulator: Emulator, learned: Learned, step: Step
) -> None:
    """Learned times cost reads only where smart charging acts on them."""
    usual = local_minutes(dt_util.utcnow() + timedelta(minutes=30))
    await learned({day: [[usual, usual + 5]] for day in range(7)})
    before = reads(frozen_emulator)
    await step(timedelta(hours=1))
    assert reads(frozen_emulator) == before


async def test_a_plug_in_without_a_pattern_is_learned(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    guarded: MockConfigEntry,
    hass_storage: dict[str, Any],
    step: Step,
) -> None:
    """The first plug-in seen: between the last read unplugged and the first plugged in."""
    first_read = guarded.runtime_data.coordinator.data[MODEL_Y_ID].last_success
    assert first_read is not None
    await step(timedelta(minutes=40))
    frozen_emulator.state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": False})
    await arrive(hass)
    await step(timedelta(minutes=2))
    assert hass.states.get(PLUGGED).state == "on"
    await guarded.runtime_data.plug_guard.async_unload()  # type: ignore[union-attr]
    days = hass_storage[storage_key(guarded.entry_id, "plug_times")]["data"]["vehicles"][
        MODEL_Y_ID
    ]["days"]
    weekday = dt_util.as_local(dt_util.utcnow()).weekday()
    assert days[weekday] == [[local_minutes(first_read), local_minutes(dt_util.utcnow()) - 1]]


async def test_a_plug_in_between_two_plugged_in_reads_is_learned(
    hass: HomeAssistant, frozen_emulator: Emulator, guarded: MockConfigEntry, step: Step
) -> None:
    """Plugged in at both reads but the battery fell: it was driven and plugged in again."""
    guard = guarded.runtime_data.plug_guard
    assert guard is not None
    coordinator = guarded.runtime_data.coordinator
    state = frozen_emulator.state
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": False, "soc": 62.0})
    await coordinator.async_refresh_vehicle(MODEL_Y_ID)
    assert guard.pattern(MODEL_Y_ID).count() == 1  # seen unplugged, then plugged in
    await step(timedelta(hours=3))
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False, "charging": False})
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": False, "soc": 61.0})
    await coordinator.async_refresh_vehicle(MODEL_Y_ID)
    assert guard.pattern(MODEL_Y_ID).count() == 1  # a point less: idle drain, not a drive
    await step(timedelta(hours=3))
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": False, "charging": False})
    state.patch_vehicle(MODEL_Y_ID, {"plugged_in": True, "charging": False, "soc": 50.0})
    await arrive(hass)
    await step(timedelta(minutes=1))
    assert guard.pattern(MODEL_Y_ID).count() == 2
    assert MODEL_Y_ID not in guard.bursts  # the burst's first read showed it plugged in
