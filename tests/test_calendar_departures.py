"""A calendar as a source of departures: chosen in the options, read with `calendar.get_events`.

The calendar is a real Home Assistant calendar entity (a test platform) whose events the tests
change. Frozen at Wednesday 02:30 US/Pacific (09:30 UTC); the schedule's next departure is
Wednesday 07:00 (14:00 UTC). The smart-charging fixtures are shared by the conftest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    setup_test_component_platform,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.flexcharging.const import (
    CONF_CALENDAR_ENTITY,
    CONF_CALENDAR_KEYWORD,
    CONF_PRICE_SOURCE,
    CONF_READ_LOCATION,
    CONF_REQUEST_BUDGET,
    DEFAULT_REQUEST_BUDGET,
    PRICE_SOURCE_NONE,
)
from custom_components.flexcharging.smart_charging import SmartChargingManager
from custom_components.flexcharging.smart_charging.model import Trip
from emulator import MODEL_Y_ID
from tests.common import setup_integration
from tests.test_smart_charging import STATUS, Advance, manage, state_of
from tests.test_trips import NEXT_DEPARTURE, SCHEDULED

CALENDAR = "calendar.family"
WEDNESDAY_0500 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 05:00 local


class FamilyCalendar(CalendarEntity):
    """A calendar whose events the test sets."""

    _attr_name = "Family"

    def __init__(self) -> None:
        """No events yet."""
        self.events: list[CalendarEvent] = []

    @property
    def event(self) -> CalendarEvent | None:
        """The next event."""
        return self.events[0] if self.events else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The events in the window (as a calendar integration answers)."""
        return [
            event
            for event in self.events
            if event.start_datetime_local < end_date and event.end_datetime_local > start_date
        ]


def event(summary: str, start: datetime | date, description: str | None = None) -> CalendarEvent:
    """An hour-long (or all-day) event."""
    end = start + (timedelta(hours=1) if isinstance(start, datetime) else timedelta(days=1))
    return CalendarEvent(start=start, end=end, summary=summary, description=description)


@pytest.fixture
async def calendar(hass: HomeAssistant) -> AsyncIterator[FamilyCalendar]:
    """The family calendar, loaded (and removed at the end, with its timers).

    Asked for before FlexCharging is set up: its own calendar platform would load the calendar
    component first, and the test platform would then never be set up.
    """
    entity = FamilyCalendar()
    setup_test_component_platform(hass, "calendar", [entity])
    assert await async_setup_component(hass, "calendar", {"calendar": {"platform": "test"}})
    await hass.async_block_till_done()
    yield entity
    await entity.async_remove()


@pytest.fixture
def with_calendar(
    hass: HomeAssistant, smart_entry: MockConfigEntry, calendar: FamilyCalendar
) -> MockConfigEntry:
    """The smart-charging entry with the family calendar and the keyword "trip" chosen."""
    options = {**smart_entry.options, CONF_CALENDAR_ENTITY: CALENDAR, CONF_CALENDAR_KEYWORD: "trip"}
    hass.config_entries.async_update_entry(smart_entry, options=options)
    return smart_entry


def next_departure(hass: HomeAssistant) -> dict[str, Any]:
    """The Next departure's state and attributes."""
    state = hass.states.get(NEXT_DEPARTURE)
    assert state is not None
    return {"at": state.state, **state.attributes}


@pytest.mark.usefixtures("credentials", "frozen_emulator", "connected_fleet")
async def test_calendar_events_are_departures(
    hass: HomeAssistant,
    calendar: FamilyCalendar,
    with_calendar: MockConfigEntry,
    advance: Advance,
    hass_client: Any,
) -> None:
    """A matching event replaces its day's departure, with the target its text names."""
    calendar.events = [
        event("Dentist", dt_util.as_local(WEDNESDAY_0500 - timedelta(hours=1))),
        event("Trip to Berlin", dt_util.as_local(WEDNESDAY_0500), "Charge to 95 %"),
    ]
    await setup_integration(hass, with_calendar)
    await hass.async_block_till_done(wait_background_tasks=True)
    await manage(hass, target=75)

    shown = next_departure(hass)
    assert (shown["at"], shown["source"], shown["target"], shown["event"]) == (
        WEDNESDAY_0500.isoformat(),
        "calendar",
        95,
        "Trip to Berlin",
    )
    manager: SmartChargingManager = with_calendar.runtime_data.smart_charging
    departure = manager.vehicle(MODEL_Y_ID).departure
    assert departure is not None
    assert departure.target == 95
    assert state_of(hass, STATUS) in ("waiting", "charging")
    ready_by = hass.states.get(STATUS)
    assert ready_by is not None
    assert ready_by.attributes["ready_by"] == WEDNESDAY_0500
    # Diagnostics say where the departure came from, without the event's title.
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, with_calendar)
    model_y = next(
        vehicle for vehicle in diagnostics["vehicles"] if vehicle["info"]["model"] == "Model Y"
    )["smart_charging"]
    assert model_y["departure"]["source"] == "calendar"
    assert model_y["departure"]["target"] == 95
    assert model_y["departure"]["event"] == "**REDACTED**"

    # The trip is cancelled: at the next read (a quarter of an hour) the schedule is back.
    calendar.events = calendar.events[:1]
    await advance(timedelta(minutes=15))
    assert next_departure(hass)["source"] == "schedule"
    assert next_departure(hass)["at"] == SCHEDULED


@pytest.mark.usefixtures("credentials", "frozen_emulator", "connected_fleet")
async def test_all_day_trip_in_days_and_a_manual_trip_beats_it(
    hass: HomeAssistant,
    calendar: FamilyCalendar,
    with_calendar: MockConfigEntry,
) -> None:
    """An all-day trip is at its day's ready-by time; a manual trip still beats the calendar."""
    calendar.events = [event("TRIP: lake", date(2026, 6, 10))]  # today, all day
    await setup_integration(hass, with_calendar)
    await hass.async_block_till_done(wait_background_tasks=True)
    # Today's 07:00 is the event's (general target), not the schedule's.
    assert next_departure(hass)["source"] == "calendar"
    assert next_departure(hass)["at"] == SCHEDULED
    assert next_departure(hass)["target"] == 80

    manager: SmartChargingManager = with_calendar.runtime_data.smart_charging
    await manager.async_update_settings(
        MODEL_Y_ID,
        trip=Trip(at=datetime(2026, 6, 11, 12, 0, tzinfo=UTC)),
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert next_departure(hass)["source"] == "trip"


@pytest.mark.usefixtures("credentials", "frozen_emulator", "connected_fleet")
async def test_a_calendar_that_cannot_be_read_leaves_the_schedule(
    hass: HomeAssistant, smart_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A chosen calendar that is gone: the weekly schedule still plans, and the log says so."""
    options = {**smart_entry.options, CONF_CALENDAR_ENTITY: CALENDAR, CONF_CALENDAR_KEYWORD: ""}
    hass.config_entries.async_update_entry(smart_entry, options=options)
    await setup_integration(hass, smart_entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert next_departure(hass)["source"] == "schedule"
    assert "Could not read the departures in calendar.family" in caplog.text


async def test_options_choose_the_calendar(
    hass: HomeAssistant, calendar: FamilyCalendar, init_integration: MockConfigEntry
) -> None:
    """The options take a calendar and a keyword (trimmed); no calendar, no keyword kept."""
    general = {
        CONF_REQUEST_BUDGET: str(DEFAULT_REQUEST_BUDGET),
        CONF_READ_LOCATION: False,
        CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
    }
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**general, CONF_CALENDAR_ENTITY: CALENDAR, CONF_CALENDAR_KEYWORD: " Trip "},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert init_integration.options[CONF_CALENDAR_ENTITY] == CALENDAR
    assert init_integration.options[CONF_CALENDAR_KEYWORD] == "Trip"

    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**general, CONF_CALENDAR_KEYWORD: "Trip"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert CONF_CALENDAR_ENTITY not in init_integration.options
    assert CONF_CALENDAR_KEYWORD not in init_integration.options


async def test_options_refuse_our_own_calendar(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The Charging calendar is the plan: as a departure source the plan would feed itself."""
    own = "calendar.2024_tesla_model_y_charging"
    assert hass.states.get(own) is not None
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    with pytest.raises(InvalidData, match="calendar_entity"):  # the selector leaves it out
        await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                CONF_REQUEST_BUDGET: str(DEFAULT_REQUEST_BUDGET),
                CONF_READ_LOCATION: False,
                CONF_PRICE_SOURCE: PRICE_SOURCE_NONE,
                CONF_CALENDAR_ENTITY: own,
            },
        )
    assert CONF_CALENDAR_ENTITY not in init_integration.options
