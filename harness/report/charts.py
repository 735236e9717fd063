"""Small inline SVG charts for the report: grouped bars, a log-log scatter and lines.

Hand-written so the report needs no script library and loads nothing; each chart is a string
of SVG markup with a <title> per mark (shown on hover) and text labels, readable without colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# One colour per engine, in the order engines are listed; chosen to stay apart for the common
# forms of colour blindness (Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44


@dataclass(frozen=True)
class Chart:
    """A chart as the report shows it: a caption and its SVG markup, inlined as is."""

    title: str
    svg: str


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def grouped_bars(
    groups: Sequence[str],
    series: Sequence[str],
    values: dict[tuple[str, str], float | None],
    unit: str,
    label: str,
) -> str:
    """Bars per group (x) and series (colour); a missing value leaves a gap marked "n/a"."""
    known = [v for v in values.values() if v is not None]
    top = _nice_max(max(known, default=1.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(groups), 1)
    bar = slot * 0.8 / max(len(series), 1)
    marks = [_axes_y(top, unit, plot_h)]
    for g, group in enumerate(groups):
        x0 = LEFT + g * slot + slot * 0.1
        marks.append(_text(x0 + slot * 0.4, HEIGHT - BOTTOM + 16, group, anchor="middle"))
        for s, name in enumerate(series):
            value = values.get((group, name))
            x = x0 + s * bar
            if value is None:
                marks.append(_text(x + bar / 2, TOP + plot_h - 4, "n/a", anchor="middle", size=9))
                continue
            h = plot_h * value / top
            title = f"{name} · {group}: {_fmt(value)} {unit}"
            marks.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar * 0.9:.1f}" '
                f'height="{h:.1f}" fill="{colour(s)}"><title>{escape(title)}</title></rect>'
            )
    return _svg(label, marks, _legend(series))


def scatter_log(
    points: Sequence[tuple[str, str, float, float]], x_unit: str, y_unit: str, label: str
) -> str:
    """(series, label, x, y) points on log-log axes; non-positive values cannot be placed."""
    placed = [p for p in points if p[2] > 0 and p[3] > 0]
    if not placed:
        return ""
    series = list(dict.fromkeys(p[0] for p in placed))
    xs, ys = _log_range([p[2] for p in placed]), _log_range([p[3] for p in placed])
    marks = [_log_axes(xs, ys, x_unit, y_unit)]
    for name, text, x, y in placed:
        cx, cy = _log_x(x, xs), _log_y(y, ys)
        title = f"{name} · {text}: {_fmt(x)} {x_unit}, {_fmt(y)} {y_unit}"
        marks.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour(series.index(name))}">'
            f"<title>{escape(title)}</title></circle>"
        )
        marks.append(_text(cx + 7, cy + 4, text, size=10))
    return _svg(label, marks, _legend(series))


def lines(
    series: dict[str, list[tuple[float, float, str]]],
    x_unit: str,
    y_unit: str,
    label: str,
    log_x: bool = True,
) -> str:
    """One line per series through (x, y, hover text) points, on log axes (or linear x)."""
    placed = {k: [p for p in v if p[1] > 0 and (p[0] > 0 or not log_x)] for k, v in series.items()}
    every = [p for v in placed.values() for p in v]
    if not every:
        return ""
    xs = _log_range([p[0] for p in every]) if log_x else _linear_range([p[0] for p in every])
    ys = _log_range([p[1] for p in every])
    to_x = (lambda v: _log_x(v, xs)) if log_x else (lambda v: _linear_x(v, xs))
    marks = [_log_axes(xs, ys, x_unit, y_unit, log_x=log_x)]
    for s, (name, points) in enumerate(placed.items()):
        path = " ".join(f"{to_x(x):.1f},{_log_y(y, ys):.1f}" for x, y, _ in sorted(points))
        marks.append(
            f'<polyline points="{path}" fill="none" stroke="{colour(s)}" stroke-width="2"/>'
        )
        for x, y, text in points:
            marks.append(
                f'<circle cx="{to_x(x):.1f}" cy="{_log_y(y, ys):.1f}" r="3.5" fill="{colour(s)}">'
                f"<title>{escape(f'{name} · {text}: {_fmt(y)} {y_unit}')}</title></circle>"
            )
    return _svg(label, marks, _legend(list(placed)))


# -- pieces ------------------------------------------------------------------------------------
def _svg(label: str, marks: list[str], legend: str) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT + 24}" '
        f'role="img" aria-label="{escape(label)}" class="chart">'
        f"<title>{escape(label)}</title>{''.join(marks)}{legend}</svg>"
    )


def _legend(series: Sequence[str]) -> str:
    items = []
    x = LEFT
    for s, name in enumerate(series):
        items.append(
            f'<rect x="{x}" y="{HEIGHT + 8}" width="10" height="10" fill="{colour(s)}"/>'
            + _text(x + 14, HEIGHT + 17, name, size=11)
        )
        x += 24 + 7 * len(name)
    return "".join(items)


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


def _axes_y(top: float, unit: str, plot_h: float) -> str:
    parts = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#8a94a3"/>'
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e3e7ed"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, _fmt(value), anchor="end", size=10))
    parts.append(_text(12, TOP + 8, unit, size=10))
    return "".join(parts)


def _log_range(values: list[float]) -> tuple[float, float]:
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    return (low, high if high > low else low + 1)


def _linear_range(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    return (low, high if high > low else low + 1)


def _log_x(value: float, xs: tuple[float, float]) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (math.log10(value) - xs[0]) / (xs[1] - xs[0])


def _linear_x(value: float, xs: tuple[float, float]) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (value - xs[0]) / (xs[1] - xs[0])


def _log_y(value: float, ys: tuple[float, float]) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h - plot_h * (math.log10(value) - ys[0]) / (ys[1] - ys[0])


def _log_axes(
    xs: tuple[float, float], ys: tuple[float, float], x_unit: str, y_unit: str, log_x: bool = True
) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#8a94a3"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#8a94a3"/>',
    ]
    for e in range(int(ys[0]), int(ys[1]) + 1):
        y = _log_y(10.0**e, ys)
        parts.append(_text(LEFT - 6, y + 4, _fmt(10.0**e), anchor="end", size=10))
    if log_x:
        for e in range(int(xs[0]), int(xs[1]) + 1):
            x = _log_x(10.0**e, xs)
            parts.append(_text(x, TOP + plot_h + 16, _fmt(10.0**e), anchor="middle", size=10))
    parts.append(_text(WIDTH - RIGHT, TOP + plot_h + 32, x_unit, anchor="end", size=10))
    parts.append(_text(12, TOP + 8, y_unit, size=10))
    return "".join(parts)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.3g}"
    return f"{value:.2g}"
