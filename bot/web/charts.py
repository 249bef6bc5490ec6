"""Server-side SVG chart geometry: no JavaScript, no CDN, readable as a table too.

Functions return plain numbers; templates/_charts.html draws them (autoescaped).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    maximum: int
    # Where the value axis sits (columns: baseline y; horizontal bars: x of bar start)
    origin: float


def columns(points: list[tuple[str, int]], *, width: int = 720, height: int = 220) -> Chart:
    """Vertical columns, e.g. conversations per day (label under every 7th column)."""
    top, bottom, left, right = 10, 30, 40, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum = max([v for _, v in points] + [1])
    slot = plot_w / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = plot_h * value / maximum
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(left + i * slot + slot * 0.1, 1),
                y=round(top + plot_h - h, 1),
                width=round(slot * 0.8, 1),
                height=round(h, 1),
            )
        )
    return Chart(width=width, height=height, bars=bars, maximum=maximum, origin=top + plot_h)


def horizontal(
    points: list[tuple[str, int]], *, width: int = 720, row: int = 28, label_width: int = 200
) -> Chart:
    """Horizontal bars with the label on the left, e.g. tickets per topic."""
    right = 60  # room for the value after the bar
    plot_w = width - label_width - right
    maximum = max([v for _, v in points] + [1])
    bars = [
        Bar(
            label=label,
            value=value,
            x=label_width,
            y=i * row + 4,
            width=round(plot_w * value / maximum, 1),
            height=row - 8,
        )
        for i, (label, value) in enumerate(points)
    ]
    return Chart(
        width=width,
        height=max(len(points), 1) * row,
        bars=bars,
        maximum=maximum,
        origin=label_width,
    )
