"""The browser test's second way in: a car Home Assistant already has through another integration.

Run by newcomer.py after the Smartcar journey, in the same Home Assistant. The car is the
Teslemetry stand-in (tests/e2e/teslemetry: Teslemetry's entities and unique ids). In the UI the
user adds FlexCharging again, chooses "A vehicle from another integration", picks the car and
confirms the entities FlexCharging proposes. With a time-of-use schedule whose off-peak hours
are now, managed charging on and a target of 75 %, smart charging then carries out a (fast)
night's charge through Teslemetry's charge switch: it starts charging, and stops it at the target.
On the way the house's load rises: with a 14 kW site limit and Teslemetry's Charge current as the
car's current entity, FlexCharging lowers the current to what the room allows. Last, the user
declares that this car and the Smartcar Model Y share the garage's charger.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

from playwright.async_api import expect

if TYPE_CHECKING:
    from newcomer import Run

TARGET = 75
CAR = "Scotty"  # the stand-in's device (tests/fake_tesla.py)
STEP_TIMEOUT_S = 60
GRID = "sensor.grid_power"  # newcomer.py's template sensor
SITE_LIMIT_KW = 14.0
SHARED_NAME = "Garage wallbox"
SHARED_VEHICLES = ("2024 Tesla Model Y", CAR)  # a Smartcar car and the other integration's


async def add_vehicle(run: Run, step_timeout_ms: int) -> str:
    """Add the stand-in Teslemetry car to FlexCharging in the UI; return the new entry's id."""
    created = await run.rest("POST", "/api/config/config_entries/flow", {"handler": "teslemetry"})
    assert created["type"] == "create_entry", created
    await run.wait_for_state(
        await standin_entity(run, "sensor", "charge_state_battery_level"), {"60.0"}
    )
    before = {entry["entry_id"] for entry in await flexcharging_entries(run)}

    await run.start_adding_flexcharging()
    dialog = run.dialog()
    choice = dialog.get_by_text("A vehicle from another integration", exact=True)
    await expect(choice).to_be_visible(timeout=step_timeout_ms)
    await run.shot("other-car-menu")
    await choice.click()
    await expect(dialog.get_by_text("Pick the car's device")).to_be_visible(timeout=step_timeout_ms)
    await dialog.get_by_text("Select a device").first.click()
    option = dialog.get_by_text(CAR, exact=True)
    await expect(option).to_be_visible(timeout=step_timeout_ms)
    await option.click()
    await run.shot("other-car-device")
    await run.submit()
    await expect(dialog.get_by_text(f"{CAR}: the entities FlexCharging uses")).to_be_visible(
        timeout=step_timeout_ms
    )
    await asyncio.sleep(1)
    await run.shot("other-car-entities")
    await run.submit()
    await expect(
        dialog.get_by_role("button", name=re.compile("^(Finish|Skip and finish)$"))
    ).to_be_visible(timeout=step_timeout_ms)
    await run.shot("other-car-added")
    await run.submit()
    added = [entry for entry in await flexcharging_entries(run) if entry["entry_id"] not in before]
    assert len(added) == 1, added
    return str(added[0]["entry_id"])


async def night_charge(run: Run, entry_id: str, ha: str, peak: tuple[int, int]) -> None:
    """A schedule whose off-peak is now, a 75 % target, managed charging on: start, then stop."""
    flow = await run.rest("POST", "/api/config/config_entries/options/flow", {"handler": entry_id})
    step = await run.rest(
        "POST",
        f"/api/config/config_entries/options/flow/{flow['flow_id']}",
        {"price_source": "schedule", "solar_source": "grid"},
    )
    assert step["step_id"] == "rate_schedule", step
    peak_start, peak_end = peak  # hours from now: now is off-peak
    done = await run.rest(
        "POST",
        f"/api/config/config_entries/options/flow/{flow['flow_id']}",
        {
            "offpeak_price": 0.1,
            "peak_price": 0.3,
            "weekday_peak_start": f"{peak_start:02d}:00:00",
            "weekday_peak_end": f"{peak_end:02d}:00:00",
            "weekend_peak_start": f"{peak_start:02d}:00:00",
            "weekend_peak_end": f"{peak_end:02d}:00:00",
        },
    )
    assert done["step_id"] == "solar", done
    current = await standin_entity(run, "number", "charge_state_charge_current_request")
    done = await run.rest(
        "POST",
        f"/api/config/config_entries/options/flow/{flow['flow_id']}",
        {
            "grid_power_entity": GRID,
            "solar_surplus": False,  # the meter serves the site limit only
            "solar_commands_per_day": 4,
            "feed_in_tariff": 0.0,
            "site_limit": SITE_LIMIT_KW,
            "current_entity": current,
        },
    )
    assert done["type"] == "create_entry", done
    await grid_import(run, 1.0)
    ours = await entity_ids(run, entry_id)
    switch = await standin_entity(run, "switch", "charge_state_user_charge_enable_request")
    battery = await standin_entity(run, "sensor", "charge_state_battery_level")
    await run.wait_for_state(ours["managed_charging"], {"off"})  # reloaded with the schedule
    await run.call("number", "set_value", {"entity_id": ours["target_charge"], "value": TARGET})
    await run.call("switch", "turn_on", {"entity_id": ours["managed_charging"]})
    await run.wait_for_state(switch, {"on"})
    await run.wait_for_state(ours["smart_charging_status"], {"charging"})
    # FlexCharging's device of the car (named like Teslemetry's, which it is connected via).
    our_device = f"{ha}/config/devices/device/{await device_of(run, ours['managed_charging'])}"
    await run.goto(our_device)
    await expect(run.page.get_by_text("Managed charging").first).to_be_visible()
    await asyncio.sleep(2)
    await run.shot("other-car-charging")
    # The oven and the heat pump: 8 kW of house leaves 6 kW of the 14 kW limit for the car,
    # 8 A at the three phases FlexCharging assumes until it learned the car.
    await grid_import(run, 8.0 + 11.0)
    await run.wait_for_state(current, {"8"})
    await run.goto(f"{ha}/config/devices/device/{await device_of(run, current)}")
    await expect(run.page.get_by_text("Charge current").first).to_be_visible()
    await asyncio.sleep(2)
    await run.shot("other-car-current")
    run_log(f"{CAR}: current lowered to 8 A under the {SITE_LIMIT_KW} kW site limit")
    await grid_import(run, 1.0 + 5.5)  # the load is gone (the raise waits a minute: unit tests)
    # The car charges half a percent a second: at the target smart charging turns the switch off.
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while (status := await run.state_of(ours["smart_charging_status"])) != "target_reached":
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.5)
    assert await run.state_of(switch) == "off"
    level = float(await run.state_of(battery))
    assert TARGET <= level < TARGET + 3, level  # stopped at the target, not at the car's 90 %
    commands = await run.state_of(ours["commands_sent"])
    await run.goto(our_device)
    activity = run.page.locator("ha-card").filter(has_text="Activity")
    await expect(activity.get_by_text("the target charge is reached").first).to_be_visible(
        timeout=STEP_TIMEOUT_S * 1000
    )
    await asyncio.sleep(1)
    await run.shot("other-car-charged")
    run_log(f"{CAR}: charged to {level:.1f} % through Teslemetry's switch, {commands} commands")


async def grid_import(run: Run, kw: float) -> None:
    """The e2e's template grid power sensor (input_number.grid_power, W) reads `kw` imported."""
    await run.call(
        "input_number", "set_value", {"entity_id": "input_number.grid_power", "value": kw * 1000}
    )


async def device_of(run: Run, entity_id: str) -> str:
    """The device of an entity."""
    (entries,) = await run.ws({"type": "config/entity_registry/list"})
    return str(next(e["device_id"] for e in entries if e["entity_id"] == entity_id))


def run_log(message: str) -> None:
    print(f"[e2e {time.strftime('%H:%M:%S')}] {message}", flush=True)


async def flexcharging_entries(run: Run) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await run.rest(
        "GET", "/api/config/config_entries/entry?domain=flexcharging"
    )
    return result


async def entity_ids(run: Run, entry_id: str) -> dict[str, str]:
    """FlexCharging's entities of the entry, by translation key."""
    (entries,) = await run.ws({"type": "config/entity_registry/list"})
    return {
        entity["translation_key"]: entity["entity_id"]
        for entity in entries
        if entity["config_entry_id"] == entry_id and entity["translation_key"]
    }


async def share_charger(run: Run, step_timeout_ms: int) -> None:
    """Declare in the UI that the Smartcar Model Y and the stand-in share the garage's charger."""
    before = {entry["entry_id"] for entry in await flexcharging_entries(run)}
    await run.start_adding_flexcharging()
    dialog = run.dialog()
    choice = dialog.get_by_text("A charger or circuit shared by several cars", exact=True)
    await expect(choice).to_be_visible(timeout=step_timeout_ms)
    await choice.click()
    await expect(dialog.get_by_text("For example, the garage wallbox.")).to_be_visible(
        timeout=step_timeout_ms
    )
    await dialog.get_by_role("textbox", name=re.compile(r"^Name\*?$")).fill(SHARED_NAME)
    for vehicle in SHARED_VEHICLES:
        await dialog.get_by_text(re.compile("Select a device|Add device")).last.click()
        option = dialog.get_by_text(vehicle, exact=True).last
        await expect(option).to_be_visible(timeout=step_timeout_ms)
        await option.click()
    await asyncio.sleep(1)
    await run.shot("shared-charger")
    await run.submit()
    await expect(dialog.get_by_role("button", name=re.compile("^Finish$"))).to_be_visible(
        timeout=step_timeout_ms
    )
    await run.submit()
    added = [entry for entry in await flexcharging_entries(run) if entry["entry_id"] not in before]
    assert len(added) == 1, added
    assert (added[0]["title"], added[0]["state"]) == (SHARED_NAME, "loaded"), added
    run_log(f"{SHARED_NAME}: shared by {' and '.join(SHARED_VEHICLES)}")


async def standin_entity(run: Run, domain: str, key: str) -> str:
    """The stand-in's entity of a Teslemetry unique-id key."""
    (entries,) = await run.ws({"type": "config/entity_registry/list"})
    return next(
        entity["entity_id"]
        for entity in entries
        if entity["platform"] == "teslemetry"
        and entity["entity_id"].startswith(f"{domain}.")
        and entity["unique_id"].endswith(f"-{key}")
    )
