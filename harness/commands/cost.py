"""`whbench cost` (the bills of stored runs) and `whbench project` (a month of the user's own
pattern, from measured runs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from harness.config import Config
from harness.engines import billing_for, connected
from harness.errors import UsageError
from harness.pricing import FREE, Catalog, load_catalog, stored_bytes
from harness.runner import fetch_billed_usage
from harness.store import Store, open_store


def cost(
    config: Config, run_ids: list[str], refresh: bool = False, pricing: Path | None = None
) -> dict[str, Any]:
    """Price stored runs again, nothing run again: per run the bill, marginal, loading and
    storage; per engine the run bills added up. With `refresh`, first ask each run's engine
    (as configured now) for the vendor's billed figures of the run's window."""
    catalog = load_catalog(pricing or config.pricing)
    runs, notes = [], []
    per_engine: dict[str, Any] = {}
    with open_store(config.store_path, read_only=not refresh) as store:
        ids = [store.resolve_run(run_id) for run_id in run_ids]
        if refresh:
            notes = _refresh(config, store, ids, catalog)
        for run_id in ids:
            run = store.run(run_id)
            rules = billing_for(run, catalog)
            priced = rules.price_run(store.attempts(run_id), store.loads(run_id))
            per_engine[run.engine] = per_engine.get(run.engine, FREE) + priced.total
            runs.append(
                {
                    "run_id": run_id,
                    "engine": run.engine,
                    "workload": run.workload,
                    "scale": run.scale,
                    **priced.as_json(),
                }
            )
    return {
        "pricing": catalog.source,
        "runs": runs,
        "engines": {engine: vars(total) for engine, total in sorted(per_engine.items())},
        "notes": notes,
    }


def _refresh(config: Config, store: Store, run_ids: list[str], catalog: Catalog) -> list:
    """(engine, note) for what each engine could not fetch."""
    notes = []
    for run_id in run_ids:
        name = store.run(run_id).engine
        with connected(name, config.engines.get(name)) as engine:
            fetch_billed_usage(store, run_id, engine, catalog)
        notes += [(name, note) for note in engine.notes]
    return notes


def project(
    config: Config,
    run_ids: list[str],
    pricing: Path | None = None,
    **pattern: float | None,
) -> dict[str, Any]:
    """A month per run (the given runs, else the latest of each engine and workload) for the
    config's `projection:` pattern with `pattern` (queries_per_day, active_hours, data_gb)
    over it."""
    chosen = dataclasses.replace(
        config.projection, **{k: v for k, v in pattern.items() if v is not None}
    )
    catalog = load_catalog(pricing or config.pricing)
    months = []
    with open_store(config.store_path, read_only=True) as store:
        ids = [store.resolve_run(r) for r in run_ids] or store.latest_run_ids()
        if not ids:
            raise UsageError(f"no runs in {store.path}; run `whbench run` first")
        for run_id in ids:
            run = store.run(run_id)
            month = billing_for(run, catalog).project_month(
                store.attempts(run_id), chosen, stored_bytes(store.loads(run_id))
            )
            months.append(
                {
                    "run_id": run_id,
                    "engine": run.engine,
                    "workload": run.workload,
                    "scale": run.scale,
                    **vars(month.cost),
                    "explain": month.explain,
                }
            )
    return {"pricing": catalog.source, "pattern": vars(chosen), "months": months}
