"""`whbench report --format md`: the first screen and the per-data-type table as GitHub
Markdown, from a report built on a store written directly (no engine runs: fast)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from markdown_it import MarkdownIt

from harness import units
from harness.engines import all_engines
from harness.pricing import load_catalog
from harness.report import model
from harness.report.markdown import cell, summary_markdown, table
from harness.store import Attempt, open_store
from harness.workloads import DATA_TYPES

SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE][+-]\d+")


def built(path, engines: dict[str, list[float]], workload="tpch", scale=1.0):
    """A report of one run per engine: query qN takes the Nth time on every attempt,
    slightly apart between the three hot attempts."""
    with open_store(path) as store:
        for engine, times in engines.items():
            run_id = f"run-{engine}-{workload}"
            store.start_run(
                run_id=run_id,
                engine=engine,
                workload=workload,
                data_type="structured" if workload == "tpch" else "semi-structured",
                scale=scale,
                timeout_seconds=600.0,
                runs_per_query=4,
                checksum_decimals=2,
                engine_settings={},
                config={},
                endpoint={"kind": "embedded", "address": None},
            )
            for n, seconds in enumerate(times, start=1):
                for attempt in range(1, 5):
                    store.record_attempt(
                        run_id,
                        Attempt(
                            f"q{n:02d}",
                            attempt,
                            "lukewarm" if attempt == 1 else "hot",
                            "ok",
                            datetime.now(UTC),
                            client_seconds=seconds * (1 + 0.01 * attempt),
                            rows=1,
                            answer="unchecked",
                        ),
                    )
            store.finish_run(run_id, "finished")
        runs = store.runs([r.run_id for r in store.list_runs()])
        return model.build(store, runs, load_catalog())


def tables(markdown: str) -> list[list[list[str]]]:
    """Each table as GitHub renders it: rows of cell texts (header first)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    found: list[list[list[str]]] = []
    row: list[str] | None = None
    for token in tokens:
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_close":
            found[-1].append(row)
            row = None
    return found


def test_two_engines_first_screen_and_table(tmp_path):
    report = built(
        tmp_path / "r.duckdb",
        {"duckdb": [0.1, 0.2, 0.3, 0.4], "clickhouse": [0.3, 0.5, 0.9, 1.1]},
        scale=2_000_000,
    )
    text = summary_markdown(report)
    assert text.startswith("## Which warehouse for which data\n")
    measured = [line for line in text.splitlines() if line.startswith("- **")]
    assert [line.split("**")[1] for line in measured] == ["duckdb", "clickhouse"]
    assert all("on this machine" in line and "2,000,000" in line for line in measured)
    not_run = sorted(set(all_engines()) - {"duckdb", "clickhouse"})
    assert f"Not run: {', '.join(not_run)}." in text
    (verdict,) = report.first_screen.verdicts
    assert f"- {verdict.sentence}" in text and "duckdb fastest" in verdict.sentence
    assert "nothing to compare" not in text
    (grid,) = tables(text)
    assert grid[0] == ["data type", "measure", "duckdb", "clickhouse"]
    assert all(len(row) == 4 for row in grid)  # no cell broke the table
    by_measure = {row[1]: row[2:] for row in grid[1:]}
    assert by_measure["hot time, relative"][0] == "1.00×"
    assert float(by_measure["hot time, relative"][1].rstrip("×")) > 2
    (row,) = report.matrix.rows
    passes = [row.cells[e].seconds for e in ("duckdb", "clickhouse")]
    assert 1.0 < passes[0] < 1.1 and 2.8 < passes[1] < 2.9  # each query once
    assert by_measure["one pass"] == [units.seconds(s) for s in passes]  # "1.02 s", not 1.0248
    assert "**fastest**" in by_measure["verdicts"][0]
    assert not SCIENTIFIC.search(text)


def test_a_single_engine_says_once_there_is_nothing_to_compare(tmp_path):
    report = built(tmp_path / "r.duckdb", {"duckdb": [0.001, 0.002]})
    text = summary_markdown(report)
    assert text.count("nothing to compare it with") == 1
    assert f"> {report.first_screen.nothing_to_compare}" in text
    others = [t for t in DATA_TYPES if t != "structured"]
    assert f"Data types not measured: {', '.join(others)}." in text
    (grid,) = tables(text)
    assert grid[0] == ["data type", "measure", "duckdb"]


def test_a_pipe_or_a_line_break_in_a_cell_stays_in_its_cell():
    assert cell("a | b\nc") == "a \\| b c"
    (grid,) = tables(table(["x", "y"], [["1|2", "three\nlines\nhere"]]))
    assert grid == [["x", "y"], ["1|2", "three lines here"]]
