"""A calendar per vehicle: the planned charging blocks, and the charging sessions at home."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .entity import FlexChargingEntityDescription, SmartChargingEntity, async_add_vehicle_entities
from .models import FlexChargingConfigEntry
from .planner import PlannedBlock
from .session_log import sessions_signal
from .sessions import ChargingSession
from .texts import cached_text

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChargingCalendarDescription(FlexChargingEntityDescription, CalendarEntityDescription):
    """The charging calendar (kept in Home Assistant: always available)."""


CHARGING_CALENDAR = ChargingCalendarDescription(
    key="charging_calendar", translation_key="charging_calendar", available_fn=None
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the charging calendar of every vehicle."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: [
            ChargingCalendar(coordinator, vehicle_id, CHARGING_CALENDAR)
        ],
    )


def _block_event(hass: HomeAssistant, block: PlannedBlock, currency: str | None) -> CalendarEvent:
    reason = cached_text(hass, f"reason_{block.reason.value}")
    details = [cached_text(hass, "calendar_reason", reason=reason)]
    if block.energy_kwh is not None:
        details.append(cached_text(hass, "calendar_energy", energy=f"{block.energy_kwh:.1f}"))
    if block.cost is not None:
        cost = f"{block.cost:.2f} {currency or ''}".rstrip()
        details.append(cached_text(hass, "calendar_estimated_cost", cost=cost))
    return CalendarEvent(
        start=block.start,
        end=block.end,
        summary=cached_text(hass, "calendar_planned"),
        description="\n".join(details),
        uid=f"plan-{block.start.isoformat()}",
    )


def _session_event(hass: HomeAssistant, session: ChargingSession) -> CalendarEvent:
    currency = f" {session.currency}" if session.currency else ""
    source = cached_text(hass, f"energy_source_{session.energy_source.value}")
    details = [
        cached_text(hass, "session_energy", energy=f"{session.energy_kwh:.2f}", source=source)
    ]
    if session.soc_start is not None and session.soc_end is not None:
        details.append(
            cached_text(
                hass,
                "session_levels",
                start=f"{session.soc_start:.0f}",
                end=f"{session.soc_end:.0f}",
            )
        )
    if session.cost is not None:
        details.append(cached_text(hass, "session_cost", cost=f"{session.cost:.2f}{currency}"))
    if session.saving is not None:
        details.append(
            cached_text(hass, "session_saving", saving=f"{session.saving:.2f}{currency}")
        )
    return CalendarEvent(
        start=session.started_at,
        end=session.ended_at,
        summary=cached_text(hass, "session_summary", energy=f"{session.energy_kwh:.1f}"),
        description="\n".join(details),
        uid=f"session-{session.started_at.isoformat()}",
    )


class ChargingCalendar(SmartChargingEntity, CalendarEntity):
    """The plan's charging blocks ahead and the sessions behind, for dashboards and automations."""

    entity_description: ChargingCalendarDescription

    def _events(self) -> list[CalendarEvent]:
        smart = self.smart_state
        log = self.coordinator.config_entry.runtime_data.sessions
        events = [_session_event(self.hass, session) for session in log.sessions(self.vehicle_id)]
        if smart.plan is not None:
            events += [
                _block_event(self.hass, block, smart.currency) for block in smart.plan.blocks
            ]
        return sorted(events, key=lambda event: event.start_datetime_local)

    @property
    def event(self) -> CalendarEvent | None:
        """The planned block charging now, or else the next one."""
        smart = self.smart_state
        if smart.plan is None or (block := smart.plan.current_or_next(dt_util.utcnow())) is None:
            return None
        return _block_event(self.hass, block, smart.currency)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The sessions and planned blocks that overlap the range."""
        return [
            event
            for event in self._events()
            if event.end_datetime_local > start_date and event.start_datetime_local < end_date
        ]

    async def async_added_to_hass(self) -> None:
        """Follow the sessions as well as the plan."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                sessions_signal(self.coordinator.config_entry.entry_id, self.vehicle_id),
                self.async_write_ha_state,
            )
        )
