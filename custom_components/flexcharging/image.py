"""A QR code of the virtual-key link, for Teslas that need the key (usable on a dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
import io

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util
import qrcode
from qrcode.image.pil import PilImage

from .coordinator import FlexChargingCoordinator
from .entity import FlexChargingEntity, FlexChargingEntityDescription, async_add_vehicle_entities
from .models import FlexChargingConfigEntry
from .pairing import pairing_link

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class FlexChargingImageDescription(FlexChargingEntityDescription, ImageEntityDescription):
    """An image."""


VIRTUAL_KEY_QR = FlexChargingImageDescription(
    key="virtual_key_qr_code",
    translation_key="virtual_key_qr_code",
    entity_category=EntityCategory.DIAGNOSTIC,
    available_fn=None,  # the link needs no reading: shown while the vehicle is on the account
)


def render_qr_png(data: str) -> bytes:
    """A PNG of `data` as a QR code (quartile error correction, as the flow shows it)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=8, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    image = code.make_image(image_factory=PilImage, fill_color="black", back_color="white")
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a QR code image for every vehicle that needs the virtual key."""
    async_add_vehicle_entities(
        entry,
        async_add_entities,
        lambda coordinator, vehicle_id: (
            [VirtualKeyQrCode(hass, coordinator, vehicle_id)]
            if isinstance(coordinator, FlexChargingCoordinator)
            and coordinator.data[vehicle_id].info.needs_virtual_key
            else []
        ),
    )


class VirtualKeyQrCode(FlexChargingEntity, ImageEntity):
    """Scan it with the phone that is the car's key to add the smartcar.com virtual key."""

    _attr_content_type = "image/png"
    entity_description: FlexChargingImageDescription

    def __init__(
        self, hass: HomeAssistant, coordinator: FlexChargingCoordinator, vehicle_id: str
    ) -> None:
        """Create the image entity."""
        FlexChargingEntity.__init__(self, coordinator, vehicle_id, VIRTUAL_KEY_QR)
        ImageEntity.__init__(self, hass)
        assert isinstance(coordinator, FlexChargingCoordinator)  # only Smartcar vehicles have it
        self._smartcar = coordinator.client
        self._link: str | None = None
        self._png: bytes | None = None
        self._attr_image_last_updated = dt_util.utcnow()

    @property
    def link(self) -> str:
        """The virtual-key link of this vehicle."""
        vehicle = self.vehicle
        return pairing_link(self._smartcar, vehicle.key_link, vehicle.state.vin.value)

    @property
    def extra_state_attributes(self) -> dict[str, str]:
        """The link itself, for a Markdown card."""
        return {"url": self.link}

    async def async_image(self) -> bytes | None:
        """The QR code, rendered once per link."""
        link = self.link
        if link != self._link or self._png is None:
            self._png = await self.hass.async_add_executor_job(render_qr_png, link)
            self._link = link
        return self._png

    def _handle_coordinator_update(self) -> None:
        """A new link (the VIN became known) is a new image."""
        if self._link is not None and self.link != self._link:
            self._attr_image_last_updated = dt_util.utcnow()
        super()._handle_coordinator_update()
