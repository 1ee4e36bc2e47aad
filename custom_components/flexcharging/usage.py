"""This month's billable requests per vehicle: counted from the client, kept across restarts."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import storage_key

STORAGE_VERSION = 1
SAVE_DELAY = 30.0  # seconds: counts change with every request; written at most this often


class UsageMeter:
    """Billable requests per vehicle this month (Smartcar bills per vehicle and month)."""

    def __init__(self, hass: HomeAssistant, entry_id: str, name: str = "usage") -> None:
        """Prepare the entry's store (`commands`: the commands sent through another integration)."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry_id, name)
        )
        self.month = ""
        self.counts: dict[str, int] = {}
        self.limited: set[str] = set()  # vehicles Smartcar refused for the plan's limit this month
        # Smart charging's start and stop commands this month (the budget reserves their rate).
        self.smart_commands: dict[str, int] = {}
        self._counted: dict[str, int] = {}  # the client's running totals already added
        # Smartcar's last word on each vehicle's virtual key (paired?, when): kept across
        # restarts, as the key signal alone is only a hint ("a digital key", the owner's phone key
        # too: https://smartcar.com/docs/api-reference/signals/connectivitystatus).
        self.keys: dict[str, tuple[bool, datetime]] = {}

    async def async_load(self, now: datetime) -> None:
        """Read this month's counts (`now` local; a past month's counts are dropped by `roll`)."""
        stored = await self._store.async_load() or {}
        self.month = stored.get("month", month_key(now))
        self.counts = {key: int(value) for key, value in stored.get("usage", {}).items()}
        self.limited = set(stored.get("limited", []))
        with suppress(AttributeError, TypeError, ValueError):
            self.smart_commands = {
                key: int(value) for key, value in stored.get("smart_commands", {}).items()
            }
        for vehicle_id, key in stored.get("keys", {}).items():
            with suppress(KeyError, TypeError, ValueError):
                self.keys[vehicle_id] = (bool(key["paired"]), datetime.fromisoformat(key["at"]))

    def remember_keys(self, keys: dict[str, tuple[bool, datetime]]) -> None:
        """Keep what Smartcar said of the keys; written soon when it changed."""
        if keys != self.keys:
            self.keys = keys
            self.save()

    def get(self, vehicle_id: str) -> int:
        """The vehicle's billable requests this month."""
        return self.counts.get(vehicle_id, 0)

    def count(self, vehicle_id: str, billed: int) -> int:
        """Add what the client billed since the last count; this month's total for the vehicle."""
        new = billed - self._counted.get(vehicle_id, 0)
        self._counted[vehicle_id] = billed
        if new > 0:
            self.counts[vehicle_id] = self.get(vehicle_id) + new
        return self.get(vehicle_id)

    def smart_command_sent(self, vehicle_id: str) -> None:
        """Count one of smart charging's commands to the vehicle."""
        self.smart_commands[vehicle_id] = self.smart_commands.get(vehicle_id, 0) + 1
        self.save()

    def roll(self, now: datetime) -> bool:
        """Start from zero when a new month began (`now` local); whether it did."""
        month = month_key(now)
        if month == self.month:
            return False
        self.month = month
        self.counts = {}
        self.limited = set()
        self.smart_commands = {}
        return True

    def save(self) -> None:
        """Write the counts soon (one write for many requests)."""
        self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_flush(self) -> None:
        """Write the counts now (unload: a reload reads them at once)."""
        await self._store.async_save(self._data())

    def _data(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "usage": self.counts,
            "limited": sorted(self.limited),
            "smart_commands": self.smart_commands,
            "keys": {
                vehicle_id: {"paired": paired, "at": at.isoformat()}
                for vehicle_id, (paired, at) in self.keys.items()
            },
        }


def month_key(moment: datetime) -> str:
    """The month a moment falls in, as stored ("2026-06")."""
    return f"{moment.year:04d}-{moment.month:02d}"
