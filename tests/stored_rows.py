"""Stored rows for tests, as the results store gives them back: `attempt(**fields)`,
`run(**fields)`, `load(**fields)` fill every field a test does not name with a plain default,
and anything the store may leave unknown with None, so a test names only what it is about.

`started_at` defaults to None on purpose: an attempt without a start never held the engine
(`pricing.attempt_span`), which is what most billing tests that do not time attempts mean.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.store.rows import StoredAttempt, StoredLoad, StoredRun


def _row(cls: type, defaults: dict[str, Any], fields: dict[str, Any]) -> Any:
    unknown = set(fields) - {f.name for f in dataclasses.fields(cls)}
    if unknown:  # a misspelt field would otherwise pass as a default
        raise TypeError(f"{cls.__name__} has no field {sorted(unknown)}")
    blank = {f.name: None for f in dataclasses.fields(cls)}
    return cls(**(blank | defaults | fields))


def attempt(**fields: Any) -> StoredAttempt:
    """A successful hot attempt of q01 in a DuckDB TPC-H run at scale 1, unless told."""
    defaults = {
        "engine": "duckdb",
        "workload": "tpch",
        "data_type": "structured",
        "scale": 1.0,
        "run_id": "run",
        "query_id": "q01",
        "attempt": 1,
        "phase": "hot",
        "status": "ok",
    }
    return _row(StoredAttempt, defaults, fields)


def run(**fields: Any) -> StoredRun:
    """A finished DuckDB TPC-H run at scale 1 with no settings recorded, unless told."""
    defaults = {
        "run_id": "run",
        "status": "finished",
        "engine": "duckdb",
        "workload": "tpch",
        "scale": 1.0,
    }
    return _row(StoredRun, defaults, fields)


def load(**fields: Any) -> StoredLoad:
    """A table loaded by the run, its size and time unknown unless told."""
    return _row(StoredLoad, {"run_id": "run", "table_name": "t", "status": "loaded"}, fields)
