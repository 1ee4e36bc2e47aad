"""The read that confirms a command, one per vehicle at a time, and what makes it needless.

Each read is billed. After a command FlexCharging reads the car again shortly (Smartcar's signal
store lags behind a command); with webhooks flowing it waits for the delivery that shows the
result instead, and the grid meter can show a smart-charging start or stop too
(`smart_charging/house.py`): then the read is cancelled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

COMMAND_REREAD_DELAY = 20.0  # seconds: Smartcar's signal store lags behind a command
# With webhooks flowing the delivery that follows a command shows its result: the read waits
# this long, and a delivery with the charging state makes it unneeded.
WEBHOOK_REREAD_DELAY = 180.0


class Rereads:
    """The pending confirmation reads of a coordinator's vehicles."""

    def __init__(self, hass: HomeAssistant, read: Callable[[str], Awaitable[object]]) -> None:
        """`read` reads one vehicle."""
        self.hass = hass
        self._read = read
        self._pending: dict[str, tuple[CALLBACK_TYPE, datetime]] = {}

    @callback
    def schedule(self, vehicle_id: str, delay: float) -> None:
        """Read the vehicle in `delay` seconds (replacing a read already pending)."""
        self.cancel(vehicle_id)

        async def _reread(_: datetime) -> None:
            self._pending.pop(vehicle_id, None)
            await self._read(vehicle_id)

        due = dt_util.utcnow() + timedelta(seconds=delay)
        self._pending[vehicle_id] = (async_call_later(self.hass, delay, _reread), due)

    @callback
    def defer(self, vehicle_id: str, delay: float) -> bool:
        """Let a pending read wait at least `delay` seconds from now; False: none is pending."""
        if (pending := self._pending.get(vehicle_id)) is None:
            return False
        if pending[1] < dt_util.utcnow() + timedelta(seconds=delay):
            self.schedule(vehicle_id, delay)
        return True

    @callback
    def cancel(self, vehicle_id: str) -> bool:
        """Forget the pending read (something else showed the result); False: none was."""
        if (pending := self._pending.pop(vehicle_id, None)) is None:
            return False
        pending[0]()
        return True

    @callback
    def cancel_all(self) -> None:
        """Forget every pending read (shutdown)."""
        for vehicle_id in list(self._pending):
            self.cancel(vehicle_id)
