"""Draw the brand images in custom_components/flexcharging/brand/ (run once; images are committed)."""

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = Path(__file__).resolve().parents[2] / "custom_components" / "flexcharging" / "brand"
GREEN = (22, 163, 74, 255)
WHITE = (255, 255, 255, 255)
DARK_BG = (17, 24, 39, 255)


def icon(size: int, background: tuple[int, int, int, int]) -> Image.Image:
    """A rounded square with a lightning bolt."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=background)
    s = size / 256
    bolt = [(150, 28), (70, 142), (124, 142), (100, 228), (188, 104), (132, 104), (150, 28)]
    draw.polygon([(x * s, y * s) for x, y in bolt], fill=WHITE if background == GREEN else GREEN)
    return image


def logo(height: int, background: tuple[int, int, int, int]) -> Image.Image:
    """The icon followed by a charge bar, for wide placements."""
    width = height * 3
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste(icon(height, background), (0, 0))
    draw = ImageDraw.Draw(image)
    pad = height // 4
    left = height + pad
    draw.rounded_rectangle(
        (left, pad, width - pad, height - pad),
        radius=height // 8,
        outline=GREEN,
        width=height // 16,
    )
    draw.rounded_rectangle(
        (
            left + height // 10,
            pad + height // 10,
            left + (width - left) * 0.6,
            height - pad - height // 10,
        ),
        radius=height // 16,
        fill=GREEN,
    )
    return image


def main() -> None:
    """Write every size."""
    BRAND.mkdir(parents=True, exist_ok=True)
    icon(256, GREEN).save(BRAND / "icon.png")
    icon(512, GREEN).save(BRAND / "icon@2x.png")
    icon(256, DARK_BG).save(BRAND / "dark_icon.png")
    icon(512, DARK_BG).save(BRAND / "dark_icon@2x.png")
    logo(128, GREEN).save(BRAND / "logo.png")
    logo(256, GREEN).save(BRAND / "logo@2x.png")


if __name__ == "__main__":
    main()
