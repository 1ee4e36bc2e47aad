"""Where Smartcar (and Tesla's virtual-key page) live, with a development override."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import os
from urllib.parse import quote

ORIGIN_OVERRIDE_VARIABLE = "FLEXCHARGING_SMARTCAR_ORIGIN"
TESLA_VIRTUAL_KEY_URL = "https://www.tesla.com/_ak/smartcar.com"


@dataclass(frozen=True, slots=True)
class SmartcarUrls:
    """The endpoints the client talks to."""

    connect_authorize: str
    token_endpoint: str
    vehicle_api: str
    management_api: str
    virtual_key: str

    @classmethod
    def production(cls) -> SmartcarUrls:
        """Smartcar's and Tesla's real addresses."""
        return cls(
            connect_authorize="https://connect.smartcar.com/oauth/authorize",
            token_endpoint="https://iam.smartcar.com/oauth2/token",  # noqa: S106 (a URL)
            vehicle_api="https://vehicle.api.smartcar.com/v3",
            management_api="https://management.api.smartcar.com/v3",
            virtual_key=TESLA_VIRTUAL_KEY_URL,
        )

    @classmethod
    def for_origin(cls, origin: str) -> SmartcarUrls:
        """Every endpoint on one origin, with Smartcar's own paths (the emulator)."""
        origin = origin.rstrip("/")
        return cls(
            connect_authorize=f"{origin}/oauth/authorize",
            token_endpoint=f"{origin}/oauth2/token",
            vehicle_api=f"{origin}/v3",
            management_api=f"{origin}/v3",
            virtual_key=f"{origin}/_ak/smartcar.com",
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SmartcarUrls:
        """The emulator's addresses when `FLEXCHARGING_SMARTCAR_ORIGIN` is set, else the real ones."""
        origin = (os.environ if environ is None else environ).get(ORIGIN_OVERRIDE_VARIABLE, "")
        return cls.for_origin(origin) if origin.strip() else cls.production()

    def virtual_key_for(self, vin: str | None = None, link: str | None = None) -> str:
        """The pairing link (`link`, else Tesla's); with a VIN, the Tesla app preselects it."""
        link = link or self.virtual_key
        if not vin or "?" in link:
            return link
        return f"{link}?vin={quote(vin, safe='')}"
