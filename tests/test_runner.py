"""The runner's bookkeeping, in process: what an engine reports after the fact reaches the
attempts it belongs to. The engine is DuckDB with a history it does not really have, because
the stand-ins for the engines that do have one cannot provide it (see docs/engines.md)."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from harness import engines as engines_module
from harness import plan as plan_module
from harness.config import load_config
from harness.engines.base import QueryResult, Usage
from harness.engines.duckdb import DuckDBEngine
from harness.plan import plan
from harness.runner import Runner
from harness.store import open_store


class DuckDBWithHistory(DuckDBEngine):
    """Gives each query an id and reports, in one batch, an engine time and bytes for it."""

    history_lookups: ClassVar[list[list[str]]] = []  # one entry per look-up, across instances

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.executed: list[str] = []

    def execute(self, sql, timeout_seconds, query_label=None) -> QueryResult:
        result = super().execute(sql, timeout_seconds, query_label)
        self.executed.append(f"{query_label}-{len(self.executed)}")
        return replace(result, engine_query_id=self.executed[-1])

    def query_history(self, query_ids):
        self.history_lookups.append(list(query_ids))
        return {
            query_id: (0.25, Usage(bytes_scanned=1000 + number))
            for number, query_id in enumerate(query_ids)
        }


def test_engine_history_is_looked_up_once_and_lands_on_its_attempts(make_config, monkeypatch):
    # dialects() is cached: first computed under the patch below, it would know only this
    # stand-in's dialect for every later test. Compute it from the real engines first.
    engines_module.dialects()
    monkeypatch.setattr(plan_module, "engine_class", lambda name: DuckDBWithHistory)
    monkeypatch.setattr(engines_module, "engine_class", lambda name: DuckDBWithHistory)
    config = load_config(
        make_config(workloads={"tpch": {"scale": 0.01, "queries": ["q01", "q06"]}})
    )
    tasks = plan(config)
    with open_store(config.store_path) as store:
        (summary,) = Runner(config, store, quiet=True).run(tasks)
        attempts = store.attempts(summary.run_id)
    assert summary.status == "finished"
    assert len(DuckDBWithHistory.history_lookups) == 1  # one batched look-up for the workload
    assert len(DuckDBWithHistory.history_lookups[0]) == 4
    assert [(a.query_id, a.engine_seconds) for a in attempts] == [
        ("q01", 0.25),
        ("q01", 0.25),
        ("q06", 0.25),
        ("q06", 0.25),
    ]
    assert sorted(a.bytes_scanned for a in attempts) == [1000, 1001, 1002, 1003]
