"""Small inline SVG charts for the report: horizontal grouped bars, a log-log scatter and lines.

Hand-written so the report needs no script library and loads nothing; each chart is a string
of SVG markup with a <title> per mark (shown on hover), text labels, and a colour and a marker
shape per engine, so it reads without colour too.

Each SVG carries its natural size (width and height as well as the viewBox): the page may
shrink a chart to fit a narrow screen but never stretches it, so at 1400 px a 12-unit label
renders at 12 px. Text widths are estimated (CHAR_WIDTH of the font size per character) and
every margin is sized from the text it has to hold, so no label is cut. Numbers read as
everywhere else in the report (harness.units), never in scientific notation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from harness import units
from harness.engines import REGISTRY

# Okabe-Ito colours, which stay apart for the common forms of colour blindness. An engine
# keeps its colour and shape in every chart and every report: the colour at its position in
# the engine registry (duckdb, bigquery, snowflake, redshift, clickhouse, motherduck,
# databricks), ordered so that the default pair, duckdb and clickhouse, is blue and orange.
PALETTE = ("#0072B2", "#CC79A7", "#009E73", "#D55E00", "#E69F00", "#4D4D4D", "#56B4E9")
WIDTH = 900  # natural width: at 1400 px the page shows it at this size, so text is true size
TICK, LABEL, HEADING = 12, 13, 14  # font sizes (px at natural size); 12 is the floor
CHAR_WIDTH = 0.6  # estimated advance of one character, in font sizes (generous for sans-serif)
PAD = 8
INK, MUTED, GRID, AXIS = "#1f2933", "#5b6472", "#e3e7ed", "#8a94a3"
PLOT_HEIGHT = 300
BAR, BAR_GAP, GROUP_GAP = 20, 4, 16

# Axis titles: the formatters carry the unit ("1.5 s", "$0.02", "2.40x") where they can.
AXIS_TITLES = {
    "seconds": "time",
    "USD": "US dollars",
    "x best": "× the fastest engine (1× = fastest on every query)",
    "run": "run started (UTC)",
}
TIME_UNITS = frozenset({"run"})  # x values that are moments (Unix seconds)
REFERENCES = {"x best": 1.0}  # a line where the value means "as good as the best"
# Steps between ticks on a time axis, in seconds, and how their moments read.
TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
TIME_STEPS += (43200, 86400, 172800, 604800, 1209600, 2592000, 7776000, 31536000)


@dataclass(frozen=True)
class Chart:
    """A chart as the report shows it: a caption and its SVG markup, inlined as is."""

    title: str
    svg: str


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def style_index(name: str, position: int) -> int:
    """Which colour and shape a series gets: an engine's registry position, so it keeps them
    from chart to chart; any other series its position in the chart."""
    engines = list(REGISTRY)
    return engines.index(name) if name in engines else position


def formatter(unit: str) -> Callable[[float], str]:
    """How a value in this unit reads: harness.units' formatter for it."""
    return FORMATS.get(unit, units.figure)


FORMATS: dict[str, Callable[[float], str]] = {
    "seconds": units.seconds,
    "USD": units.dollars,
    "x best": units.factor,
    "run": lambda v: units.moment(datetime.fromtimestamp(v, UTC)),
}


def grouped_bars(
    groups: Sequence[str],
    series: Sequence[str],
    values: dict[tuple[str, str], float | None],
    unit: str,
    label: str,
    width: int = WIDTH,
) -> str:
    """Horizontal bars: a block per group (a data type, named on the left), a bar per series
    (an engine, named at its bar) with its value at the end. A value that is None reads
    "n/a"; a (group, series) absent from `values` did not run and reads "not run"."""
    fmt = formatter(unit)
    shown = {key: fmt(v) for key, v in values.items() if v is not None}
    ticks = _zero_ticks(max((v for v in values.values() if v is not None), default=0.0))
    tick_texts = [_tick_text(unit, t) for t in ticks]
    left = PAD + _widest(groups, HEADING) + 16 + _widest(series, LABEL) + 8
    value_w = _widest([*shown.values(), "not run"], LABEL) + 6
    right = PAD + max(value_w, _w(tick_texts[-1], TICK) / 2)
    plot_w = max(width - left - right, 240.0)
    width = math.ceil(left + plot_w + right)
    top = ticks[-1]

    def to_x(value: float) -> float:
        return left + plot_w * value / top

    marks, y = [], PAD + 4.0
    for g, group in enumerate(groups):
        block = len(series) * (BAR + BAR_GAP) - BAR_GAP
        if g:
            marks.append(_line(PAD, y - GROUP_GAP / 2, width - PAD, y - GROUP_GAP / 2, GRID))
        marks.append(_text(PAD, y + block / 2 + 5, group, size=HEADING, weight="600"))
        for s, name in enumerate(series):
            middle = y + BAR / 2
            marks.append(_text(left - 8, middle + 4.5, name, anchor="end", size=LABEL))
            value = values.get((group, name))
            if value is None:
                missing = "n/a" if (group, name) in values else "not run"
                marks.append(_text(left + 6, middle + 4.5, missing, size=LABEL, fill=MUTED))
            else:
                end = to_x(value)
                fill = colour(style_index(name, s))
                hover = f"{name} · {group}: {shown[group, name]}"
                marks.append(
                    f'<rect x="{left:.1f}" y="{y:.1f}" width="{end - left:.1f}" height="{BAR}" '
                    f'fill="{fill}"><title>{escape(hover)}</title></rect>'
                )
                marks.append(_text(end + 6, middle + 4.5, shown[group, name], size=LABEL))
            y += BAR + BAR_GAP
        y += GROUP_GAP - BAR_GAP
    axis_y = y - GROUP_GAP + 6
    grid = [_line(to_x(t), PAD, to_x(t), axis_y, GRID) for t in ticks]
    reference = REFERENCES.get(unit)
    if reference is not None and reference <= top:
        grid.append(_line(to_x(reference), PAD, to_x(reference), axis_y, AXIS, dash=True))
    axis = [_line(left, axis_y, left + plot_w, axis_y, AXIS)]
    axis += [
        _text(to_x(t), axis_y + 17, text, anchor="middle", size=TICK, fill=MUTED)
        for t, text in zip(ticks, tick_texts, strict=True)
    ]
    axis.append(_axis_title(width - PAD, axis_y + 36, unit, anchor="end"))
    return _svg(width, axis_y + 44, label, grid + marks + axis)


def scatter_log(
    points: Sequence[tuple[str, str, float, float]],
    x_unit: str,
    y_unit: str,
    label: str,
    width: int = WIDTH,
) -> str:
    """(series, label, x, y) points on log-log axes, each labelled where its label collides
    least; non-positive values cannot be placed."""
    placed = [p for p in points if p[2] > 0 and p[3] > 0]
    if not placed:
        return ""
    names = list(dict.fromkeys(p[0] for p in placed))
    xs, ys = [p[2] for p in placed], [p[3] for p in placed]
    frame, marks = _frame(xs, ys, x_unit, y_unit, names, width, log_x=True, at_data=False)
    fmt_x, fmt_y = formatter(x_unit), formatter(y_unit)
    spots = []
    for name, text, x, y in placed:
        cx, cy = frame.x(x), frame.y(y)
        hover = f"{name} · {text}: {fmt_x(x)}, {fmt_y(y)}"
        marks.append(_marker(style_index(name, names.index(name)), cx, cy, 6, hover))
        spots.append((cx, cy, text))
    marks += _point_labels(spots, frame)
    return _svg(frame.width, frame.height, label, marks)


def lines(
    series: dict[str, list[tuple[float, float, str]]],
    x_unit: str,
    y_unit: str,
    label: str,
    log_x: bool = True,
    width: int = WIDTH,
) -> str:
    """One line per series through (x, y, hover text) points, on a log y axis and a log (or
    linear: moments for x_unit "run") x axis."""
    placed = {k: [p for p in v if p[1] > 0 and (p[0] > 0 or not log_x)] for k, v in series.items()}
    placed = {k: v for k, v in placed.items() if v}
    every = [p for v in placed.values() for p in v]
    if not every:
        return ""
    names = list(placed)
    xs, ys = [p[0] for p in every], [p[1] for p in every]
    # A line drawn exactly over another would vanish: the legend says whose it repeats.
    notes = {
        name: f"{name} (same as {twin})"
        for i, name in enumerate(names)
        for twin in names[:i][::-1]
        if _same_points(placed[name], placed[twin])
    }
    # Few xs on a log axis (scales, stream levels): a tick at each, read as given.
    frame, marks = _frame(xs, ys, x_unit, y_unit, names, width, log_x, log_x, notes)
    fmt_y = formatter(y_unit)
    for s, (name, points) in enumerate(placed.items()):
        index = style_index(name, s)
        path = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y, _ in sorted(points))
        marks.append(
            f'<polyline points="{path}" fill="none" stroke="{colour(index)}" stroke-width="2"/>'
        )
        for x, y, text in points:
            hover = f"{name} · {text}: {fmt_y(y)}"
            marks.append(_marker(index, frame.x(x), frame.y(y), 4.5, hover))
    return _svg(frame.width, frame.height, label, marks)


# -- axes --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    low: float  # ends of the axis, as plotted (log10 of the value on a log axis)
    high: float
    log: bool
    ticks: list[float]  # values
    texts: list[str]

    def fraction(self, value: float) -> float:
        plotted = math.log10(value) if self.log else value
        return (plotted - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class Frame:
    """Where the plot sits in the SVG, and its two axes."""

    left: float
    top: float
    plot_w: float
    plot_h: float
    width: int
    height: float
    xs: Axis
    ys: Axis

    def x(self, value: float) -> float:
        return self.left + self.plot_w * self.xs.fraction(value)

    def y(self, value: float) -> float:
        return self.top + self.plot_h - self.plot_h * self.ys.fraction(value)


def _frame(
    xs: list[float],
    ys: list[float],
    x_unit: str,
    y_unit: str,
    names: list[str],
    width: int,
    log_x: bool,
    at_data: bool,
    notes: dict[str, str] | None = None,
) -> tuple[Frame, list[str]]:
    """Axes, grid, legend and axis titles around a plot of these values; the plot's Frame
    and the marks drawn so far."""
    y_axis = _log_axis(ys, y_unit, PLOT_HEIGHT // (TICK * 2))
    probe = _x_axis(xs, x_unit, log_x, at_data, width)  # tick texts first: they size the margins
    widest_x = max((_w(t, TICK) for t in probe.texts), default=0.0)
    left = max(PAD + _widest(y_axis.texts, TICK) + 10, PAD + widest_x / 2)
    right = max(PAD + widest_x / 2, 24.0)
    legend, legend_h = _legend(names, width, notes or {})
    top = legend_h + PAD + 24  # room for the y axis title
    plot_w = width - left - right
    x_axis = _x_axis(xs, x_unit, log_x, at_data, plot_w)
    height = top + PLOT_HEIGHT + 46
    frame = Frame(left, top, plot_w, PLOT_HEIGHT, width, height, x_axis, y_axis)
    bottom = top + PLOT_HEIGHT
    marks = [legend]
    for t, text in zip(y_axis.ticks, y_axis.texts, strict=True):
        y = frame.y(t)
        marks.append(_line(left, y, left + plot_w, y, GRID))
        marks.append(_text(left - 8, y + 4, text, anchor="end", size=TICK, fill=MUTED))
    for t, text in zip(x_axis.ticks, x_axis.texts, strict=True):
        x = frame.x(t)
        marks.append(_line(x, top, x, bottom, GRID))
        marks.append(_text(x, bottom + 18, text, anchor="middle", size=TICK, fill=MUTED))
    marks.append(_line(left, bottom, left + plot_w, bottom, AXIS))
    marks.append(_line(left, top, left, bottom, AXIS))
    marks.append(_axis_title(PAD, top - 12, y_unit))
    marks.append(_axis_title(width - PAD, bottom + 38, x_unit, anchor="end"))
    return frame, marks


def _x_axis(values: list[float], unit: str, log: bool, at_data: bool, plot_w: float) -> Axis:
    room = max(int(plot_w // 90), 2)
    if not log:
        axis = _time_axis(values, room) if unit in TIME_UNITS else _linear_axis(values, unit, room)
    elif at_data and len(set(values)) <= 8:
        axis = _data_axis(values, unit)
    else:
        axis = _log_axis(values, unit, room)
    return _thin(axis, plot_w)


def _log_axis(values: list[float], unit: str, room: int) -> Axis:
    """A log axis from a 1-2-5 (or power of ten, for a wide span) tick at or below the
    lowest value to one at or above the highest."""
    low, high = min(values), max(values)
    span = math.log10(high) - math.log10(low)
    mantissas = (1, 2, 5) if span <= 2 else (1,)
    first, last = math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1
    steps = [m * 10.0**e for e in range(first, last + 1) for m in mantissas]
    # A step of air at either end when a value falls on (or just inside) a tick, so no
    # marker sits on the axis line.
    below = max(i for i, c in enumerate(steps) if c < low / 1.04)
    above = min(i for i, c in enumerate(steps) if c > high * 1.04)
    ticks = steps[below : above + 1]
    while len(ticks) > room:
        ticks = ticks[::2]
    texts = [_tick_text(unit, t) for t in ticks]
    return Axis(math.log10(steps[below]), math.log10(steps[above]), True, ticks, texts)


def _data_axis(values: list[float], unit: str) -> Axis:
    ticks = sorted(set(values))
    low, high = math.log10(ticks[0]), math.log10(ticks[-1])
    pad = (high - low) * 0.06 or 0.3
    texts = [_tick_text(unit, t) for t in ticks]
    return Axis(low - pad, high + pad, True, ticks, texts)


def _linear_axis(values: list[float], unit: str, room: int) -> Axis:
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    step = _nice_step((high - low) / room)
    ticks = [t * step for t in range(math.ceil(low / step), math.floor(high / step) + 1)]
    return Axis(low, high, False, ticks, [_tick_text(unit, t) for t in ticks])


def _time_axis(values: list[float], room: int) -> Axis:
    """Moments: ticks on round minutes, hours or days, read as "12-06 12:30"."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or 60.0
    low, high = low - pad, high + pad
    step = next((s for s in TIME_STEPS if (high - low) / s <= room), TIME_STEPS[-1])
    ticks = [float(t * step) for t in range(math.ceil(low / step), math.floor(high / step) + 1)]
    shape = "%H:%M:%S" if step < 60 else "%m-%d %H:%M" if step < 86400 else "%Y-%m-%d"
    texts = [datetime.fromtimestamp(t, UTC).strftime(shape) for t in ticks]
    return Axis(low, high, False, ticks, texts)


def _thin(axis: Axis, plot_w: float) -> Axis:
    """Drop x ticks whose labels would run into the one before."""
    kept: list[int] = []
    for i, text in enumerate(axis.texts):
        x = plot_w * axis.fraction(axis.ticks[i])
        if kept:
            j = kept[-1]
            previous = plot_w * axis.fraction(axis.ticks[j]) + _w(axis.texts[j], TICK) / 2
            if x - _w(text, TICK) / 2 < previous + 10:
                continue
        kept.append(i)
    return Axis(
        axis.low, axis.high, axis.log, [axis.ticks[i] for i in kept], [axis.texts[i] for i in kept]
    )


def _zero_ticks(high: float) -> list[float]:
    """Ticks from 0 to a round value at or above `high`, about four steps."""
    if high <= 0:
        return [0.0, 1.0]
    step = _nice_step(high / 4)
    return [i * step for i in range(math.ceil(high / step - 1e-9) + 1)]


def _nice_step(raw: float) -> float:
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if raw <= m * power * (1 + 1e-9))


def _tick_text(unit: str, value: float) -> str:
    """A value as a tick reads: its formatter's text without trailing zeros ("$0.0002", not
    "$0.00020"; "1x", not "1.00x"), since a tick is a round number."""
    return re.sub(r"\.(\d*?)0+(?!\d)", lambda m: f".{m[1]}" if m[1] else "", formatter(unit)(value))


# -- pieces ------------------------------------------------------------------------------------
def _svg(width: float, height: float, label: str, marks: list[str]) -> str:
    w, h = math.ceil(width), math.ceil(height)
    return (
        f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="{escape(label)}" class="chart" font-family="system-ui, sans-serif">'
        f"<title>{escape(label)}</title>{''.join(marks)}</svg>"
    )


def _legend(names: Sequence[str], width: float, notes: dict[str, str]) -> tuple[str, float]:
    """A marker and a name (or its note) per series, wrapped onto as many rows as the width
    needs."""
    items, x, y = [], float(PAD), PAD + 10.0
    for s, name in enumerate(names):
        text = notes.get(name, name)
        size = 22 + _w(text, LABEL)
        if x > PAD and x + size > width - PAD:
            x, y = float(PAD), y + 22
        items.append(_marker(style_index(name, s), x + 6, y, 5.5))
        items.append(_text(x + 16, y + 4.5, text, size=LABEL))
        x += size + 18
    return "".join(items), (y + 12 if names else 0.0)


def _point_labels(spots: list[tuple[float, float, str]], frame: Frame) -> list[str]:
    """Each point's label beside it, on the side where it overlaps least what is already
    drawn (markers and earlier labels), inside the chart; a label pushed further away gets
    a thin line back to its point."""
    taken = [(cx - 7, cy - 7, cx + 7, cy + 7) for cx, cy, _ in spots]
    left, right = frame.left + 2, frame.width - 2.0  # inside the plot, off the axes' labels
    top, bottom = frame.top - 4, frame.top + frame.plot_h - 2
    marks = []
    for cx, cy, text in sorted(spots, key=lambda s: (s[0], s[1])):
        w, h = _w(text, LABEL), float(LABEL)
        best: tuple[float, int, tuple[float, float, float, float]] | None = None
        for order, (gap, ux, uy) in enumerate(_SIDES):
            x0 = cx + gap if ux > 0 else cx - gap - w if ux < 0 else cx - w / 2
            y0 = cy - h / 2 if uy == 0 else cy - gap * 0.7 - h if uy < 0 else cy + gap * 0.7
            box = (x0, y0, x0 + w, y0 + h)
            if not (left <= box[0] and box[2] <= right and top <= box[1] and box[3] <= bottom):
                continue
            clash = sum(_overlap(box, other) for other in taken)
            if best is None or clash < best[0]:
                best = (clash, order, box)
            if clash == 0:
                break
        if best is None or best[0] > 0.3 * w * h:
            continue  # nowhere it can be read: its marker's hover text names it
        _, order, box = best
        taken.append(box)
        if _SIDES[order][0] > 10:
            near_x = min(max(cx, box[0]), box[2])
            near_y = min(max(cy, box[1]), box[3])
            marks.append(_line(cx, cy, near_x, near_y, AXIS))
        marks.append(_text(box[0], box[1] + h * 0.8, text, size=LABEL))
    return marks


# Where a point's label may go, in order of preference: (gap from the point, side in x, in y).
_SIDES = [
    (gap, ux, uy)
    for gap in (9, 26)
    for ux, uy in ((1, 0), (0, -1), (0, 1), (-1, 0), (1, -1), (1, 1), (-1, -1), (-1, 1))
]


def _same_points(a: list[tuple[float, float, str]], b: list[tuple[float, float, str]]) -> bool:
    """The same xs and, within half a percent, the same ys: one line hides the other."""
    if len(a) != len(b):
        return False
    pairs = zip(sorted(a), sorted(b), strict=True)
    return all(p[0] == q[0] and abs(p[1] - q[1]) <= 0.005 * max(p[1], q[1]) for p, q in pairs)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _marker(index: int, cx: float, cy: float, r: float, hover: str = "") -> str:
    """A series' marker: its colour and its shape (circle, square, triangle, diamond, ...)."""
    title = f"<title>{escape(hover)}</title>" if hover else ""
    fill = colour(index)
    sides, turn = _SHAPES[index % len(_SHAPES)]
    if sides == 0:
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}">{title}</circle>'
    radius = r * 1.3
    corners = " ".join(
        f"{cx + radius * math.cos(math.radians(turn + 360 * k / sides)):.1f},"
        f"{cy + radius * math.sin(math.radians(turn + 360 * k / sides)):.1f}"
        for k in range(sides)
    )
    return f'<polygon points="{corners}" fill="{fill}">{title}</polygon>'


# (corners, first corner's angle): circle, square, triangle up, diamond, triangle down,
# pentagon, hexagon.
_SHAPES = ((0, 0), (4, 45), (3, -90), (4, 0), (3, 90), (5, -90), (6, 0))


def _axis_title(x: float, y: float, unit: str, anchor: str = "start") -> str:
    return _text(x, y, AXIS_TITLES.get(unit, unit), anchor=anchor, size=LABEL, fill=MUTED)


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, dash: bool = False) -> str:
    dashes = ' stroke-dasharray="4 3"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}"{dashes}/>'
    )


def _text(
    x: float,
    y: float,
    text: str,
    anchor: str = "start",
    size: int = LABEL,
    fill: str = INK,
    weight: str | None = None,
) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}"{bold}>{escape(text)}</text>'
    )


def _w(text: str, size: int) -> float:
    """Estimated width of a text at this font size."""
    return len(text) * size * CHAR_WIDTH


def _widest(texts: Sequence[str], size: int) -> float:
    return max((_w(t, size) for t in texts), default=0.0)
