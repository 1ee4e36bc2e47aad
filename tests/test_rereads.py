"""The reads that confirm a command (`rereads.py`): scheduled, deferred, cancelled."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant

from custom_components.flexcharging.rereads import Rereads
from tests.test_smart_charging import Advance


async def test_a_read_deferred_cancelled_or_made(
    hass: HomeAssistant, advance_time: Advance
) -> None:
    """A read waits its delay; deferring moves it later, never sooner; a cancelled one is not
    made; shutdown forgets them all."""
    made: list[str] = []

    async def read(vehicle_id: str) -> None:
        made.append(vehicle_id)

    rereads = Rereads(hass, read)
    assert rereads.defer("car", 90) is None  # nothing pending
    first = rereads.schedule("car", 20)
    deferred = rereads.defer("car", 90)
    assert deferred is not None
    assert deferred != first  # a new read
    await advance_time(timedelta(seconds=30))
    assert made == []  # not at 20 s: deferred to 90 s
    assert rereads.defer("car", 10) == deferred  # due in 60 s: stays
    await advance_time(timedelta(seconds=61))
    assert made == ["car"]
    assert rereads.cancel("car") is False  # it was made

    earlier = rereads.schedule("car", 20)
    rereads.schedule("car", 20)  # a later command's read replaces it
    rereads.schedule("other", 20)
    assert rereads.cancel("car", earlier) is False  # not the earlier command's to cancel
    assert rereads.cancel("car") is True
    rereads.cancel_all()
    await advance_time(timedelta(seconds=30))
    assert made == ["car"]
