"""The console's charts: inline SVG drawn on the server, so the pages fetch nothing (no script,
no font, no CDN) and a chart is readable without JavaScript. Each bar carries its label and
value as data attributes, so what a chart shows can be checked against what it was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH = 480
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 180
VALUE_WIDTH = 100
COLOURS = ("#2f6db5", "#d9822b", "#3a9a5b", "#c23b3b", "#7b5ea7", "#5f6b7a")


def bar_chart(
    name: str,
    items: Sequence[tuple[str, float]],
    *,
    shown: Sequence[str] | None = None,
    maximum: float | None = None,
    percent: bool = False,
) -> Markup:
    """Horizontal bars, one per (label, value); `shown` overrides the printed values and
    `maximum` the scale (1.0 for rates)."""
    if not items:
        return Markup(
            f'<svg class="chart empty" data-chart="{escape(name)}" width="0" height="0"></svg>'
        )
    top = maximum if maximum is not None else max((v for _, v in items), default=0) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(items) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg class="chart" data-chart="{escape(name)}" role="img" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" style="max-width:{WIDTH}px" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR_HEIGHT + GAP)
        length = max(0.0, min(1.0, value / top)) * plot if top else 0.0
        text = shown[i] if shown is not None else (f"{value:.0%}" if percent else f"{value:g}")
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT * 0.7:.1f}" text-anchor="end"'
            f' font-size="12">{escape(label)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}"'
            f' height="{BAR_HEIGHT}" fill="{colour}" data-label="{escape(label)}"'
            f' data-value="{value:g}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + BAR_HEIGHT * 0.7:.1f}"'
            f' font-size="12">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


COLUMN_HEIGHT = 140
AXIS_HEIGHT = 18
AXIS_LABELS = 12  # at most this many labels under a series; the others on hover


def column_chart(
    name: str,
    items: Sequence[tuple[str, float]],
    *,
    shown: Sequence[str] | None = None,
    maximum: float | None = None,
) -> Markup:
    """Vertical columns in order, one per (label, value): a series over days or months.
    `shown` and `maximum` as `bar_chart`'s; every label is the column's title."""
    if not items:
        return Markup(
            f'<svg class="chart empty" data-chart="{escape(name)}" width="0" height="0"></svg>'
        )
    top = maximum if maximum is not None else max((v for _, v in items), default=0) or 1
    step = WIDTH / len(items)
    width = max(1.0, step * 0.8)
    every = -(-len(items) // AXIS_LABELS)
    height = COLUMN_HEIGHT + AXIS_HEIGHT
    parts = [
        f'<svg class="chart" data-chart="{escape(name)}" role="img" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" style="max-width:{WIDTH}px" xmlns="http://www.w3.org/2000/svg">'
        f'<line x1="0" y1="{COLUMN_HEIGHT}" x2="{WIDTH}" y2="{COLUMN_HEIGHT}" stroke="#d8dee6"/>'
    ]
    for i, (label, value) in enumerate(items):
        length = max(0.0, min(1.0, value / top)) * COLUMN_HEIGHT if top else 0.0
        x = i * step + (step - width) / 2
        text = shown[i] if shown is not None else f"{value:g}"
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{COLUMN_HEIGHT - length:.1f}" width="{width:.1f}"'
            f' height="{length:.1f}" fill="{COLOURS[0]}" data-label="{escape(label)}"'
            f' data-value="{value:g}"><title>{escape(label)}: {escape(text)}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{height - 4}" text-anchor="middle"'
                f' font-size="10">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
