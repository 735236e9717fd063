"""The commands are plain functions: callable from Python, without Click, returning data."""

from __future__ import annotations

import pytest

from harness import commands
from harness.commands.selection import Selection, parse_parameters
from harness.config import load_config
from harness.errors import UsageError


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
