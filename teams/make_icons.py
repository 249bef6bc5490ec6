"""Draw the Teams app icons once (the PNGs are committed): `python teams/make_icons.py`.

color.png: 192x192, full colour. outline.png: 32x32, white on transparent (Teams'
requirement for the app bar). A speech bubble with an "R".
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
BLUE = (0, 70, 127, 255)
WHITE = (255, 255, 255, 255)


def bubble(draw: ImageDraw.ImageDraw, size: int, colour, width: int | None = None) -> None:
    """A rounded speech bubble with a tail at the bottom left, filling most of `size`."""
    m = size * 0.12
    box = (m, m, size - m, size - m * 2.2)
    radius = size * 0.18
    tail = [(size * 0.26, box[3] - 1), (size * 0.22, size - m * 0.9), (size * 0.44, box[3] - 1)]
    if width is None:
        draw.rounded_rectangle(box, radius=radius, fill=colour)
        draw.polygon(tail, fill=colour)
    else:
        draw.rounded_rectangle(box, radius=radius, outline=colour, width=width)
        draw.line(tail, fill=colour, width=width)


def letter(draw: ImageDraw.ImageDraw, size: int, colour) -> None:
    font = ImageFont.load_default(size=int(size * 0.42))
    centre = (size / 2, size * 0.12 + (size * (1 - 0.12 - 0.264)) / 2 - size * 0.02)
    draw.text(centre, "R", fill=colour, font=font, anchor="mm")


def colour_icon() -> Image.Image:
    image = Image.new("RGBA", (192, 192), BLUE)
    draw = ImageDraw.Draw(image)
    bubble(draw, 192, WHITE)
    letter(draw, 192, BLUE)
    return image


def outline_icon() -> Image.Image:
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    bubble(draw, 32, WHITE, width=2)
    letter(draw, 32, WHITE)
    return image


if __name__ == "__main__":
    colour_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)
    print("wrote teams/color.png and teams/outline.png")
