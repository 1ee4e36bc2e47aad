"""The virtual-key QR code image, for Teslas that need the key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from http import HTTPStatus
import random
from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.flexcharging import image
from custom_components.flexcharging.api import TESLA_VIRTUAL_KEY_URL, SmartcarUrls
from tests.common import Emulator

MODEL_Y_QR = "image.2024_tesla_model_y_virtual_key_qr_code"
MODEL_3_QR = "image.2023_tesla_model_3_virtual_key_qr_code"


@pytest.fixture
def tesla_key_link(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's API, but Tesla's real virtual-key link (no random port in snapshots)."""
    for_origin = SmartcarUrls.for_origin

    def _for_origin(cls: type[SmartcarUrls], origin: str) -> SmartcarUrls:
        return replace(for_origin(origin), virtual_key=TESLA_VIRTUAL_KEY_URL)

    monkeypatch.setattr(SmartcarUrls, "for_origin", classmethod(_for_origin))


@pytest.mark.usefixtures("tesla_key_link")
async def test_images(
    hass: HomeAssistant,
    frozen_emulator: Emulator,
    setup_platform: Callable[[str], Awaitable[MockConfigEntry]],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A QR code for the Model 3 and Model Y only (the 2019 Model S and the ID.4 need no key)."""
    with patch("homeassistant.components.image._RND", random.Random(1)):  # noqa: S311
        entry = await setup_platform(Platform.IMAGE)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
    assert hass.states.get(MODEL_Y_QR).attributes["url"] == (
        "https://www.tesla.com/_ak/smartcar.com?vin=7SAYGDEE5RF000002"
    )


async def test_image_is_the_link_as_a_qr_code(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client: Callable[[], Awaitable[object]],
) -> None:
    """The dashboard fetches a PNG of the link (rendered once, however often it is fetched)."""
    state = hass.states.get(MODEL_3_QR)
    link = state.attributes["url"]
    assert link.endswith("/_ak/smartcar.com?vin=5YJ3E1EA7PF000001")
    client = await hass_client()
    with patch.object(image, "render_qr_png", wraps=image.render_qr_png) as render:
        first = await client.get(state.attributes["entity_picture"])
        second = await client.get(state.attributes["entity_picture"])
    assert first.status == HTTPStatus.OK
    assert first.content_type == "image/png"
    body = await first.read()
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    assert body == image.render_qr_png(link)
    assert await second.read() == body
    render.assert_called_once_with(link)
