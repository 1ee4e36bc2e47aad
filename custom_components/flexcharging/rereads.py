"""The read that confirms a command, one per vehicle at a time, and what makes it needless.

Each read is billed. After a command FlexCharging reads the car again shortly (Smartcar's signal
store lags behind a command); with webhooks flowing it waits for the delivery that shows the
result instead, and the grid meter can show a smart-charging start or stop too
(`smart_charging/house.py`): then the read is cancelled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from itertools import count

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
        # Per vehicle: how to cancel the pending read, when it is due, and its number (a later
        # command's read is another one, which a witness of the earlier command must not cancel).
        self._pending: dict[str, tuple[CALLBACK_TYPE, datetime, int]] = {}
        self._numbers = count(1)

    @callback
    def schedule(self, vehicle_id: str, delay: float) -> int:
        """Read the vehicle in `delay` seconds (replacing a read already pending); its number."""
        self.cancel(vehicle_id)

        async def _reread(_: datetime) -> None:
            self._pending.pop(vehicle_id, None)
            await self._read(vehicle_id)

        due = dt_util.utcnow() + timedelta(seconds=delay)
        number = next(self._numbers)
        self._pending[vehicle_id] = (async_call_later(self.hass, delay, _reread), due, number)
        return number

    @callback
    def defer(self, vehicle_id: str, delay: float) -> int | None:
        """Let the pending read wait at least `delay` seconds from now; its number.

        None: no read is pending.
        """
        if (pending := self._pending.get(vehicle_id)) is None:
            return None
        if pending[1] < dt_util.utcnow() + timedelta(seconds=delay):
            return self.schedule(vehicle_id, delay)
        return pending[2]

    @callback
    def cancel(self, vehicle_id: str, number: int | None = None) -> bool:
        """Forget the pending read (something else showed the result).

        False: none was pending, or not the one `number` names.
        """
        pending = self._pending.get(vehicle_id)
        if pending is None or (number is not None and pending[2] != number):
            return False
        del self._pending[vehicle_id]
        pending[0]()
        return True

    @callback
    def cancel_all(self) -> None:
        """Forget every pending read (shutdown)."""
        for vehicle_id in list(self._pending):
            self.cancel(vehicle_id)
