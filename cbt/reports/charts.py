"""Bar-chart geometry for inline SVG. PURE: labels come in already translated, numbers come out placed.

The template draws what this computes (``reports/_chart.html``); the page shows the same numbers in a
table beside the chart, so the chart is never the only way to read them. No JavaScript is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    #: Where the value and the label are written.
    value_x: float
    value_y: float
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    #: Horizontal grid lines: (y, value) for columns, (x, value) for rows.
    ticks: list[tuple[float, int]]
    horizontal: bool


def _ticks(maximum: int) -> list[int]:
    if maximum <= 0:
        return [0]
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        step = candidate
        if maximum / candidate <= 5:
            break
    return list(range(0, maximum + step, step))


def columns(items: Sequence[tuple[str, int]], width: int = 640, height: int = 260) -> Chart:
    """Vertical columns, one per item (months over time)."""
    left, right, top, bottom = 40, 10, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _ticks(max((v for _l, v in items), default=0))
    top_value = ticks[-1] or 1
    slot = plot_w / max(len(items), 1)
    bar_w = max(min(slot * 0.7, 48), 2)
    bars = []
    for i, (label, value) in enumerate(items):
        h = plot_h * value / top_value
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        bars.append(Bar(label, value, round(x, 1), round(y, 1), round(bar_w, 1), round(h, 1),
                        round(x + bar_w / 2, 1), round(y - 4, 1), round(x + bar_w / 2, 1), height - bottom + 16))
    grid = [(round(top + plot_h - plot_h * t / top_value, 1), t) for t in ticks]
    return Chart(width, height, bars, grid, horizontal=False)


def rows(items: Sequence[tuple[str, int]], width: int = 640, row_height: int = 28) -> Chart:
    """Horizontal bars, one per item (completions by site); long labels get their own line above the bar."""
    left, right, top = 10, 50, 10
    plot_w = width - left - right
    ticks = _ticks(max((v for _l, v in items), default=0))
    top_value = ticks[-1] or 1
    bars = []
    for i, (label, value) in enumerate(items):
        y = top + i * row_height * 2 + row_height
        w = plot_w * value / top_value
        bars.append(Bar(label, value, left, y, round(w, 1), row_height - 8,
                        round(left + w + 6, 1), y + row_height / 2, left, y - 6))
    height = top + len(items) * row_height * 2 + 10
    grid = [(round(left + plot_w * t / top_value, 1), t) for t in ticks]
    return Chart(width, max(height, 60), bars, grid, horizontal=True)
