"""The commands are plain functions: callable from Python, without Click, returning data."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import stored_rows
from test_compare import attempts

from harness import commands, console
from harness.commands.selection import Selection, parse_parameters
from harness.compare import compare, summary
from harness.config import load_config
from harness.errors import UsageError
from harness.runner import RunSummary
from harness.store import RunListing


def test_run_list_show_export_and_cost_from_python(make_config, workdir):
    config = load_config(make_config(runs=2))
    selection = Selection(workloads=("tpch",), queries=("q01", "q06"))
    (summary,) = commands.run.run(config, selection, quiet=True)
    assert summary.status == "finished" and [q["query_id"] for q in summary.queries] == [
        "q01",
        "q06",
    ]
    (listed,) = commands.results.list_runs(config)
    assert listed.run_id == summary.run_id and listed.attempts == 4
    shown = commands.results.show(config, summary.run_id[:8])
    assert {a.phase for a in shown["attempts"]} == {"lukewarm", "hot"}
    assert set(shown["results"]) == {"q01", "q06"}
    exported = commands.results.export(config, summary.run_id, "csv")
    assert exported.read_text().startswith("engine,")
    priced = commands.cost.cost(config, [summary.run_id])
    assert priced["runs"][0]["total"]["basis"] == "modelled"
    with pytest.raises(UsageError, match="no export format 'xml'"):
        commands.results.export(config, summary.run_id, "xml")


def test_render_and_parameters_from_python(make_config):
    config = load_config(make_config())
    sql = commands.inspect.render(config, "tpch", "q06", dialect="bigquery")
    assert "lineitem" in sql
    assert parse_parameters(["--gap-minutes", "5", "--days=2"]) == {"gap_minutes": "5", "days": "2"}
    with pytest.raises(UsageError, match="needs a value"):
        parse_parameters(["--gap-minutes"])


SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE][+-]\d+")  # what no reader should meet


def test_text_outputs_read_as_people_read_numbers(capsys):
    """The console's main text outputs, given extreme figures (a p-value of 1e-12, a
    microsecond, a billionth of a dollar, scale two million, terabytes): no scientific
    notation anywhere, counts with separators, bytes in binary units, time limits in units."""

    def side(q0: float) -> list:  # q0 takes `q0` seconds, four others a microsecond
        times = {f"q{q}": q0 if q == 0 else 1e-6 for q in range(5)}
        return [
            a for q, t in times.items() for a in attempts(q, [t * (1 + i / 100) for i in range(30)])
        ]

    changes, drift = compare([side(1e-6)], [side(9e-6)])  # q0: p about 1.5e-10
    result = {"base": "b", "new": "n", "warnings": [], **summary(changes, drift)}
    console.comparison(result, as_json=False)
    console.comparison(result, as_json=False, fmt="md")
    big = {"engine": "duckdb", "workload": "events", "scale": 2e6, "run_id": "r"}
    timed = {"query_id": "e01", "status": "ok", "first_run": "cold", "first_seconds": 2e-7}
    timed |= {"hot_seconds": 1e-7, "rows": 12_345_678, "answer": "correct", "checksum": "c"}
    console.run_summaries([RunSummary(**big, status="finished", queries=[timed])], False, True)
    console.estimate(
        {
            "estimates": [{**big, "queries": 12345, "runs": 3, "dollars": 1.2e-9, "from": []}],
            "engines": {"duckdb": 1.2e-9},
            "workloads": {"events": 1.2e-9},
            "total": 1.2e-9,
        },
        as_json=False,
    )
    level = {"level": 4, "ok": 12345, "queries": 12345, "queries_per_second": 1.5e-5}
    level |= {f"{p}_seconds": 2.5e-7 for p in ("p50", "p95", "p99", "max")}
    level |= {"errors": 0, "timeouts": 0, "cost_per_1000_queries": 3e-9}
    tpch = {"label": "TPC-H", "power_at_size": 27137.4, "power_note": None, "throughput": []}
    console.load_levels({"levels": [level], "tpch": tpch}, "under load")
    shown = stored_rows.run(scale=2e6, timeout_seconds=600.0, runs_per_query=12345)
    console.run_details(
        {
            "run": shown,
            "loads": [stored_rows.load(rows=12_345_678, bytes_stored=5e12, seconds=1e-7)],
            "attempts": [stored_rows.attempt(client_seconds=3e-8, rows=12_345_678)],
            "results": {},
            "load": None,
        },
        as_json=False,
    )
    started = datetime(2026, 12, 6, tzinfo=UTC)
    listing = RunListing("r", started, "finished", "duckdb", "events", 2e6, 12345, 0)
    console.runs_list([listing], as_json=False)
    printed = capsys.readouterr().out
    assert not SCIENTIFIC.search(printed), SCIENTIFIC.search(printed)
    for readable in ("< 0.001", "scale 2,000,000", "2,000,000", "12,345", "12,345,678",
                     "4.5 TiB", "600 s", "27,137", "< $0.000001"):  # fmt: skip
        assert readable in printed, readable
    header = "| query | base | new | factor | beyond drift | p (Holm) | can see | verdict |"
    assert header in printed
