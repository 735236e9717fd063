"""`whbench estimate`: what a run with the same options would cost, before spending."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

from harness.budget import Budget
from harness.commands.selection import Selection
from harness.config import Config
from harness.engines import connected, engine_class
from harness.errors import EngineError
from harness.pricing import load_catalog
from harness.store import Store


def estimate(
    config: Config, selection: Selection, runs: int | None = None, pricing: Path | None = None
) -> dict[str, Any]:
    """Per engine and workload: dollars for every query x attempts, and what each figure rests
    on. Each engine is asked what a run would record about it (its warehouse size …); one that
    cannot be reached is estimated from its settings, and says so. BigQuery answers with free
    dry runs once its data is loaded; the others from earlier stored runs of the same workload
    and scale, else from the engine's minimum charge."""
    if runs is not None:
        config = dataclasses.replace(config, runs=runs)
    catalog = load_catalog(pricing or config.pricing)
    store = Store(config.store_path, read_only=True) if config.store_path.exists() else None
    estimates = []
    try:
        for task in selection.plan(config):
            estimates.append(_one(config, task, catalog, store))
    finally:
        if store is not None:
            store.close()
    known = [item["dollars"] for item in estimates]
    return {
        "pricing": catalog.source,
        "estimates": estimates,
        "engines": _subtotals(estimates, "engine"),
        "workloads": _subtotals(estimates, "workload"),
        "total": None if None in known else sum(known),
    }


def _one(config: Config, task: Any, catalog: Any, store: Store | None) -> dict[str, Any]:
    guard = Budget(float("inf"), catalog, store)
    with contextlib.ExitStack() as stack:
        try:
            engine = stack.enter_context(connected(task.engine, task.settings))
            facts, notes = engine.describe(), []
            if engine.supports_dry_run:
                engine.prepare_session(task.namespace, "estimate", config.timeout_seconds)
        except EngineError as exc:  # no connection: the settings stand in for what it reports
            engine = engine_class(task.engine)(task.settings)
            facts, notes = vars(task.settings), [f"not connected ({exc}): from the settings"]
        dollars, basis = _queries(guard, engine, task, facts, config.runs)
    return {
        "engine": task.engine,
        "workload": task.workload.name,
        "scale": task.scale,
        "queries": len(task.queries),
        "runs": config.runs,
        "dollars": dollars,
        "from": sorted(basis),
        "notes": [*notes, *engine.notes],
    }


def _queries(guard: Budget, engine: Any, task: Any, facts: dict, runs: int):
    guard.start(task.engine, facts, task.workload.name, task.scale)
    total: float | None = 0.0
    basis = set()
    for query in task.queries:
        each, how = guard.estimate(engine, query.id, query.sql)
        total = None if total is None or each is None else total + each * runs
        basis.add(how)
    return total, basis


def _subtotals(estimates: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    """Estimated dollars per engine or per workload (None when any part is unknown)."""
    totals: dict[str, float | None] = {}
    for item in estimates:
        before = totals.get(item[key], 0.0)
        totals[item[key]] = (
            None if before is None or item["dollars"] is None else before + item["dollars"]
        )
    return totals
