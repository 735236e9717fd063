"""The report's SVG charts, checked as a reader at 1400 px would see them: numbers as people
read them (never scientific notation), text of at least 12 px at natural size, nothing cut at
the edges, value labels on bars, and no chart that compares one engine with itself.

Pure and fast: charts are drawn from figures given here, no run, no browser. Text widths are
estimated the way a sans-serif font sets them (0.6 of the font size per character)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import MISSING, fields
from datetime import UTC, datetime

import pytest

from harness.pricing import Cost
from harness.report.charts import grouped_bars, lines, scatter_log
from harness.report.matrix import MatrixCell, MatrixRow
from harness.report.matrix_charts import matrix_charts
from harness.units import dollars

SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE][+-]\d+")
ENGINES = ["duckdb", "clickhouse", "snowflake", "bigquery", "redshift", "databricks", "motherduck"]
DATA_TYPES = ["structured", "semi-structured", "unstructured", "vector embeddings"]


def texts(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter("text"))


def size_of(svg: str) -> tuple[float, float]:
    root = ET.fromstring(svg)
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    assert float(root.get("width")) == width and float(root.get("height")) == height
    assert root.get("class") == "chart"
    return width, height


def box(text: ET.Element) -> tuple[float, float, float, float]:
    """Where a <text> is drawn, estimated: left, top, right, bottom."""
    size, x, y = float(text.get("font-size")), float(text.get("x")), float(text.get("y"))
    width = 0.6 * size * len(text.text or "")
    shift = {"start": 0.0, "middle": width / 2, "end": width}[text.get("text-anchor")]
    return x - shift, y - 0.8 * size, x - shift + width, y + 0.25 * size


def tiny_bills() -> str:
    values = {
        (d, e): 0.000025 * (i + 1) * (j + 1)
        for i, d in enumerate(DATA_TYPES)
        for j, e in enumerate(ENGINES)
    }
    values["unstructured", "bigquery"] = None  # priced, but its usage was not measured
    del values["vector embeddings", "redshift"]  # did not run
    return grouped_bars(DATA_TYPES, ENGINES, values, "USD", "run bill")


def awkward_charts() -> dict[str, str]:
    """A chart of each kind, fed the figures that once read as "2.5e-05", "1e+03" or were cut."""
    started = datetime(2026, 12, 5, 9, 10, tzinfo=UTC).timestamp()
    return {
        "tiny bills": tiny_bills(),
        "relative": grouped_bars(
            DATA_TYPES[:2],
            ENGINES[:2],
            {(d, e): 1 + 36.5 * j for d in DATA_TYPES for j, e in enumerate(ENGINES[:2])},
            "x best",
            "relative hot",
        ),
        "scatter": scatter_log(
            [
                (e, d, 0.0001 * 10 ** (j + i), 0.00002 * (j + 1))
                for i, d in enumerate(DATA_TYPES)
                for j, e in enumerate(ENGINES[:3])
            ],
            "seconds",
            "USD",
            "time against bill",
        ),
        "huge counts": lines(
            {
                e: [(lv, 3e11 * lv * (j + 1), f"{lv} streams") for lv in (1, 2, 4, 8, 16, 32, 64)]
                for j, e in enumerate(ENGINES)
            },
            "concurrent sessions",
            "queries/s",
            "throughput",
        ),
        "big scales": lines(
            {"duckdb": [(s, s / 1e5, f"scale {s:,}") for s in (25_000, 2_000_000, 10_000_000)]},
            "scale",
            "seconds",
            "by scale",
        ),
        "tiny dollars by scale": lines(
            {"duckdb": [(0.01, 0.0000031, "0.01"), (0.02, 0.0000072, "0.02")]},
            "scale",
            "USD",
            "by scale",
        ),
        "trend": lines(
            {"duckdb": [(started + h * 3600, 2.0 + h, "run") for h in range(0, 40, 7)]},
            "run",
            "seconds",
            "trend",
            log_x=False,
        ),
    }


@pytest.mark.parametrize("name", list(awkward_charts()))
def test_a_chart_reads_at_natural_size_with_nothing_cut(name):
    svg = awkward_charts()[name]
    width, height = size_of(svg)
    assert 860 <= width <= 960  # shown at this width at 1400 px: its text at true size
    assert not SCIENTIFIC.search(svg), SCIENTIFIC.search(svg)
    for text in texts(svg):
        assert float(text.get("font-size")) >= 12, text.text
        left, top, right, bottom = box(text)
        assert left >= 0 and right <= width and top >= 0 and bottom <= height, text.text


def test_bars_carry_their_values_and_say_what_is_missing():
    svg = tiny_bills()
    shown = [t.text for t in texts(svg)]
    assert "$0.000025" in shown and "$0.00070" in shown  # two significant digits, no exponent
    assert shown.count("n/a") == 1 and shown.count("not run") == 1
    bars = ET.fromstring(svg).findall("rect")
    assert len(bars) == len(DATA_TYPES) * len(ENGINES) - 2
    # A data type's name and the engines' names end left of where the bars start.
    start = min(float(b.get("x")) for b in bars)
    for text in texts(svg):
        if text.text in DATA_TYPES or text.text in ENGINES:
            assert box(text)[2] <= start, text.text


def test_tiny_dollars_keep_two_significant_digits():
    assert dollars(0.000025) == "$0.000025"
    assert dollars(0.0063) == "$0.0063"  # harness.units above $0.0001
    assert dollars(0) == "$0"


def test_a_long_legend_wraps_inside_the_chart():
    names = [f"{e} on a private endpoint" for e in ENGINES]
    svg = lines(
        {n: [(1, 1.0 + j, "1"), (2, 2.0 + j, "2")] for j, n in enumerate(names)},
        "concurrent sessions",
        "seconds",
        "many",
    )
    width, _ = size_of(svg)
    legend = [t for t in texts(svg) if t.text in names]
    assert len(legend) == len(names) and len({t.get("y") for t in legend}) >= 2
    assert all(box(t)[2] <= width for t in legend)


def test_ticks_read_as_people_read_numbers():
    ticks = [t.text for t in texts(awkward_charts()["big scales"])]
    assert "10,000,000" in ticks and "2,000,000" in ticks  # once "10,000,0", cut
    trend = [t.text for t in texts(awkward_charts()["trend"])]
    assert any(re.fullmatch(r"\d\d-\d\d \d\d:\d\d", t) for t in trend)
    assert not any(re.fullmatch(r"[\d,.]{7,}", t) for t in trend)  # no Unix seconds
    money = [t.text for t in texts(awkward_charts()["tiny dollars by scale"])]
    assert "$0.00001" in money or "$0.000005" in money


def test_point_labels_do_not_collide():
    # Six points close together, as engines of similar speed and price make them.
    points = [
        (e, d, 0.08 + 0.004 * i + 0.002 * j, 0.0063 + 0.0001 * j)
        for i, d in enumerate(DATA_TYPES[:3])
        for j, e in enumerate(ENGINES[:2])
    ]
    svg = scatter_log(points, "seconds", "USD", "time against bill")
    labels = [box(t) for t in texts(svg) if t.text in DATA_TYPES]
    assert len(labels) == len(points)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            overlap_w = min(a[2], b[2]) - max(a[0], b[0])
            overlap_h = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_w <= 0 or overlap_h <= 0, (a, b)


def cell(hot: float | None, dollars: float | None, first: float | None = None) -> MatrixCell:
    return MatrixCell(
        first=hot if first is None else first,
        first_kind="lukewarm",
        hot=hot,
        wrong=0,
        seconds=None if hot is None else 2.0 * hot,
        round_trip=None,
        cost=Cost(dollars, "modelled" if dollars is not None else "unknown"),
        marginal=Cost(dollars, "modelled" if dollars is not None else "unknown"),
        value=None,
    )


def row(data_type: str, cells: dict[str, MatrixCell]) -> MatrixRow:
    """A matrix row with these cells (the row's other fields empty: the charts do not read them)."""
    required = {
        f.name: []
        for f in fields(MatrixRow)
        if f.default is MISSING and f.default_factory is MISSING
    }
    return MatrixRow(**required | {"data_type": data_type, "workloads": [], "cells": cells})


def test_one_engine_has_nothing_to_compare():
    rows = [row(d, {"duckdb": cell(1.0, 0.01)}) for d in DATA_TYPES]
    assert matrix_charts(rows, ["duckdb", "clickhouse"]) == []


def test_matrix_charts_say_n_a_only_when_a_figure_is_unknown():
    known = [row(d, {"duckdb": cell(1.0, 0.01), "clickhouse": cell(1.6, 0.02)}) for d in DATA_TYPES]
    charts = matrix_charts(known, ["duckdb", "clickhouse"])
    titles = [c.title for c in charts]
    assert not any("n/a" in t for t in titles)
    assert any(t.startswith("Hot time") for t in titles)
    assert not any(t.startswith("First-run") for t in titles)  # the same picture as hot
    assert any(t.startswith("Run bill") for t in titles) and any("against" in t for t in titles)
    for chart in charts:
        assert not SCIENTIFIC.search(chart.svg)

    unknown = [
        *known[:3],
        row(
            "vector embeddings",
            {"duckdb": cell(1.0, 0.01), "clickhouse": cell(1.3, None, first=4.0)},
        ),
    ]
    titles = [c.title for c in matrix_charts(unknown, ["duckdb", "clickhouse"])]
    assert [t for t in titles if "n/a" in t] == [
        "Run bill by data type (lower is better) (n/a: cost unknown)"
    ]
    assert any(t.startswith("First-run") for t in titles)  # 4x on first runs, 1.3x hot


def test_a_line_hidden_under_another_is_named_in_the_legend():
    points = [(1, 0.29, "1 stream"), (2, 0.145, "2 streams"), (4, 0.0727, "4 streams")]
    svg = lines({"clickhouse": points, "duckdb": points}, "concurrent sessions", "USD", "cost")
    assert "duckdb (same as clickhouse)" in [t.text for t in texts(svg)]
