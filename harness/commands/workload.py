"""A workload of the user's own: scaffolded from their files and SQL (`workload init`), or made
from the top queries of a warehouse's history (`workload import-history`)."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from harness.config import Config
from harness.errors import UsageError
from harness.paths import NAME
from harness.workloads import DATA_TYPES, read_workload


def target_folder(config: Config, name: str, into: Path | None) -> Path:
    """Where a new workload goes: --into, else the config's first workload folder."""
    if not NAME.fullmatch(name):
        raise UsageError(f"workload name {name!r} must be lower-case letters, digits and _")
    if into is None:
        if not config.workload_dirs:
            raise UsageError(
                "say where the workload goes: --into DIR, or workload_dirs in the config"
            )
        into = config.workload_dirs[0]
    folder = Path(into) / name
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} already exists and is not empty; choose another name")
    return folder


def init(
    config: Config,
    name: str,
    data: list[str],
    queries: Path | None = None,
    dialect: str | None = None,
    data_type: str = "structured",
    into: Path | None = None,
) -> dict[str, Any]:
    """Write a workload folder for the user's files and SQL: workload.yaml with `data:` and the
    schema read from the files, the SQL files copied into queries/ (or, without any, a row
    count per table to start from); then validate it."""
    from harness.datafiles import inspect_tables
    from harness.validate import validate_workload

    if data_type not in DATA_TYPES:
        raise UsageError(f"--data-type {data_type!r}: choose one of {', '.join(DATA_TYPES)}")
    if queries is not None and not dialect:
        raise UsageError("say which dialect the queries are written in: --dialect NAME")
    folder = target_folder(config, name, into)
    tables = _data_options(data, folder)
    sql_files = _query_files(queries) if queries is not None else {}
    folder.mkdir(parents=True, exist_ok=True)  # the data paths are relative to it
    try:
        schema = inspect_tables(folder, tables)  # every file checked before anything is written
    except BaseException:
        folder.rmdir()
        raise
    spec: dict[str, Any] = {
        "name": name,
        "data_type": data_type,
        "dialect": dialect or "duckdb",
        "data": tables,
        "tables": {table: dict(columns) for table, columns in schema.items()},
    }
    (folder / "queries").mkdir(parents=True, exist_ok=True)
    for query_id, source in sql_files.items():
        shutil.copyfile(source, folder / "queries" / f"{query_id}{_sql_suffix(source)}")
    if not sql_files:
        for table in tables:
            (folder / "queries" / f"count_{table}.sql").write_text(
                f"-- Rows in {table}\nSELECT COUNT(*) AS row_count FROM {table}\n"
            )
    (folder / "workload.yaml").write_text(
        "# Written by `whbench workload init`; edit freely (docs/workloads.md, your own data).\n"
        + yaml.safe_dump(spec, sort_keys=False)
    )
    workload = read_workload(folder)
    checked = validate_workload(workload, config.templates)
    return {
        "workload": name,
        "folder": str(folder),
        "found_by_config": _found(config, folder),
        "tables": {t: len(columns) for t, columns in schema.items()},
        "queries": len(workload.queries),
        "translated": {d: {"ok": ok, "of": of} for d, (ok, of) in checked.queries.items()},
        "untranslatable": checked.untranslatable,
        "problems": [vars(p) for p in checked.problems],
    }


def _found(config: Config, folder: Path) -> bool:
    """Whether `whbench run -w NAME` with this config finds the new workload."""
    return any(Path(d).resolve() == folder.parent.resolve() for d in config.workload_dirs)


def _data_options(data: list[str], folder: Path) -> dict[str, str]:
    """--data TABLE=PATH options as workload.yaml's `data:`: local paths written relative to
    the workload folder, so the folder and its data can move together."""
    from harness.datafiles import is_remote

    if not data:
        raise UsageError("name at least one table's files: --data TABLE=PATH_OR_URI")
    tables: dict[str, str] = {}
    for item in data:
        table, sep, pattern = item.partition("=")
        table = table.strip().lower()
        if not sep or not pattern or not NAME.fullmatch(table):
            raise UsageError(
                f"--data {item!r}: write TABLE=PATH_OR_URI, with a lower-case table name"
            )
        if table in tables:
            raise UsageError(f"--data names table {table} twice; give each table once")
        if not is_remote(pattern):
            pattern = os.path.relpath(Path(pattern).expanduser().absolute(), folder.absolute())
        tables[table] = pattern
    return tables


def _query_files(directory: Path) -> dict[str, Path]:
    """Query id -> SQL file, for every .sql (and .sql.j2) file in `directory`; the id is the
    file's name made a plain identifier ("Revenue by day.sql" -> revenue_by_day)."""
    if not directory.is_dir():
        raise UsageError(f"--queries {directory}: not a folder; give the folder of .sql files")
    found: dict[str, Path] = {}
    for source in sorted(directory.iterdir()):
        if not source.name.endswith((".sql", ".sql.j2")):
            continue
        stem = source.name.removesuffix(".j2").removesuffix(".sql")
        query_id = re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_") or "query"
        if not query_id[0].isalpha():
            query_id = f"q_{query_id}"
        if query_id in found:
            raise UsageError(
                f"{source.name} and {found[query_id].name} both become query {query_id}; rename one"
            )
        found[query_id] = source
    if not found:
        raise UsageError(f"--queries {directory}: no .sql files there")
    return found


def _sql_suffix(source: Path) -> str:
    return ".sql.j2" if source.name.endswith(".sql.j2") else ".sql"


def import_history(
    config: Config,
    engine: str,
    name: str,
    since: str = "7d",
    top: int = 50,
    min_runs: int = 2,
    into: Path | None = None,
) -> dict[str, Any]:
    """Read the engine's recent SELECTs, group them by fingerprint, rank them and write the top
    ones as a workload in the engine's dialect, with their statistics beside them."""
    from harness.engines import connected, engine_class
    from harness.history import group_queries, parse_since, rank, write_workload

    span = parse_since(since)
    folder = target_folder(config, name, into)
    if engine not in config.engines:
        raise UsageError(f"engine {engine} is not configured; add it under `engines:`")
    cls = engine_class(engine)
    started = datetime.now(UTC) - span
    with connected(engine, config.engines[engine]) as connection:
        sql = connection.history_sql(started)
        estimate = connection.estimate(sql) if cls.supports_dry_run else None
        entries = connection.read_history(started, config.timeout_seconds)
    grouped = group_queries(entries, cls.dialect)
    chosen = rank(grouped, top, min_runs)
    if not chosen:
        raise UsageError(
            f"{engine}: of {len(entries)} SELECTs in the last {since}, none ran at least "
            f"{min_runs} times; lower --min-runs or widen --since"
        )
    write_workload(folder, name, engine, cls.dialect, chosen, since, cls.export_hint)
    return {
        "workload": name,
        "folder": str(folder),
        "found_by_config": _found(config, folder),
        "read": len(entries),
        "distinct": len(grouped),
        "kept": len(chosen),
        "history_bytes_estimated": estimate.bytes_scanned if estimate else None,
        "tables": sorted({t for q in chosen for t in q.tables}),
    }
