"""What readers get back from the store: typed rows (rows.py) from named methods, so that no
SQL on the store lives outside this package, and a renamed column breaks here, not in a
string lookup somewhere else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.store.opening import StoreFile
from harness.store.output import output_file
from harness.store.rows import (
    LoadedTable,
    PassTime,
    RunListing,
    StoredAttempt,
    StoredLevel,
    StoredLoad,
    StoredResult,
    StoredRun,
    from_record,
)
from harness.store.schema import RUN_JSON_COLUMNS

EXPORT_FORMATS = {
    "json": "FORMAT json, ARRAY true",
    "csv": "FORMAT csv, HEADER true",
    "parquet": "FORMAT parquet",
}


class StoreReads(StoreFile):
    def levels(self, run_id: str) -> list[StoredLevel]:
        levels = self._rows(
            "SELECT * FROM levels WHERE run_id = ? ORDER BY started_at, level", [run_id]
        )
        for level in levels:
            level["scale_out"] = json.loads(level["scale_out"]) if level["scale_out"] else None
        return [from_record(StoredLevel, level) for level in levels]

    def results(self, run_id: str, with_rows: bool = True) -> dict[str, StoredResult]:
        """Query id -> its stored result, rows decoded (or left out: decoding a 10,000-row
        answer is the slow part)."""
        from harness.kept_answers import difference_from_json, from_json

        found = {}
        sql = "SELECT r.* EXCLUDE (rows_digest) FROM results r WHERE run_id = ?"
        if with_rows:
            sql = (
                "SELECT r.* EXCLUDE (rows_digest), k.rows FROM results r "
                "LEFT JOIN kept_rows k ON k.digest = r.rows_digest WHERE run_id = ?"
            )
        for row in self._rows(sql, [run_id]):
            if with_rows:
                row["rows"] = from_json(row["rows"])
            row["columns"] = json.loads(row["columns"])
            row["difference"] = (
                difference_from_json(row["difference"]) if row["difference"] else None
            )
            found[row["query_id"]] = from_record(StoredResult, row)
        return found

    def _rows(self, sql: str, params: list | None = None) -> list[dict[str, Any]]:
        """Rows by column name, after moving in what is journaled (a reader sees every
        attempt so far)."""
        self.flush()
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def list_runs(self) -> list[RunListing]:
        rows = self._rows(
            """SELECT r.run_id, r.started_at, r.status, r.engine, r.workload, r.scale,
                      count(a.attempt) AS attempts,
                      -- unsupported: the engine lacks a feature the query needs, a result
                      count(*) FILTER (WHERE a.status NOT IN ('ok', 'unsupported')
                                       AND a.attempt IS NOT NULL) AS failed
               FROM runs r LEFT JOIN attempts a USING (run_id)
               GROUP BY ALL ORDER BY r.started_at, r.run_id"""
        )
        return [from_record(RunListing, row) for row in rows]

    def resolve_run(self, run: str) -> str:
        """A run id from a full id or an unambiguous prefix."""
        matches = [
            r
            for (r,) in self.con.execute(
                "SELECT run_id FROM runs WHERE starts_with(run_id, ?) ORDER BY run_id", [run]
            ).fetchall()
        ]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UsageError(f"no run {run!r} in {self.path}; see `whbench results list`")
        raise UsageError(f"run {run!r} is ambiguous ({', '.join(matches[:4])} …); give more of it")

    def run(self, run_id: str) -> StoredRun:
        return self.runs([run_id])[0]

    def runs(self, run_ids: list[str]) -> list[StoredRun]:
        """Runs by id, in engine order, their JSON columns decoded."""
        marks = ", ".join("?" * len(run_ids))
        runs = self._rows(f"SELECT * FROM runs WHERE run_id IN ({marks}) ORDER BY engine", run_ids)
        for run in runs:
            for column in RUN_JSON_COLUMNS:
                run[column] = json.loads(run[column]) if run[column] is not None else None
        return [from_record(StoredRun, run) for run in runs]

    def attempts(self, run_id: str) -> list[StoredAttempt]:
        rows = self._rows(
            "SELECT * FROM attempt_details WHERE run_id = ? ORDER BY query_id, attempt", [run_id]
        )
        return [from_record(StoredAttempt, row) for row in rows]

    def attempts_of(self, run_ids: list[str]) -> list[StoredAttempt]:
        """The attempts of several runs, in attempt order (first attempts first)."""
        if not run_ids:
            return []
        marks = ", ".join("?" * len(run_ids))
        rows = self._rows(
            f"SELECT * FROM attempt_details WHERE run_id IN ({marks}) ORDER BY attempt", run_ids
        )
        return [from_record(StoredAttempt, row) for row in rows]

    def successful_attempts(
        self, engine: str, workload: str, scale: float, query_id: str
    ) -> list[StoredAttempt]:
        """Every successful attempt of a query in the stored runs of an engine, workload and
        scale (the budget guard's history)."""
        rows = self._rows(
            """SELECT * FROM attempt_details
               WHERE engine = ? AND workload = ? AND scale = ? AND query_id = ?
                 AND status = 'ok'""",
            [engine, workload, scale, query_id],
        )
        return [from_record(StoredAttempt, row) for row in rows]

    def engine_query_ids(self, run_id: str) -> list[str]:
        """The engine's own ids of a run's attempts (those it gave one), to look up its query
        history once for the whole run."""
        return [
            row["engine_query_id"]
            for row in self._rows(
                "SELECT engine_query_id FROM attempts WHERE run_id = ? "
                "AND engine_query_id IS NOT NULL",
                [run_id],
            )
        ]

    def attempt_numbers(self, run_id: str) -> dict[str, int]:
        """Query id -> the highest attempt number a run has of it (a resumed run under load
        numbers its next attempts from there)."""
        return {
            row["query_id"]: row["n"]
            for row in self._rows(
                "SELECT query_id, max(attempt) AS n FROM attempts WHERE run_id = ? GROUP BY 1",
                [run_id],
            )
        }

    def latest_run_ids(self) -> list[str]:
        """The newest run of each engine, workload and scale that recorded any attempt, and
        apart from it the newest run under load (`--streams`) of each."""
        return [
            row["run_id"]
            for row in self._rows(
                """SELECT arg_max(run_id, started_at) AS run_id FROM runs
                   WHERE run_id IN (SELECT run_id FROM attempts)
                   GROUP BY engine, workload, scale, coalesce(load, 'null') = 'null' ORDER BY 1"""
            )
        ]

    def latest_loads(self) -> list[LoadedTable]:
        """Every real load (status 'loaded') with its run's engine, workload, scale and
        namespace, oldest run first: the last one of a table is its latest."""
        rows = self._rows(
            """SELECT r.engine, r.workload, r.scale, r.namespace, l.table_name, l.rows,
                      l.bytes_stored, l.seconds, r.started_at
               FROM loads l JOIN runs r USING (run_id) WHERE l.status = 'loaded'
               ORDER BY r.started_at"""
        )
        return [from_record(LoadedTable, row) for row in rows]

    def pass_times(self, workload: str, scale: float) -> list[PassTime]:
        """Every stored run of a workload and scale, oldest first: the sum over its queries of
        each query's median successful time, and how many queries that covers. Computed here,
        since a long history holds many attempts: DuckDB's median is stats.median (the mean
        of the two middle values for an even count)."""
        rows = self._rows(
            """WITH per_query AS (
                   SELECT r.run_id, r.engine, r.started_at, a.query_id,
                          median(a.client_seconds) AS seconds
                   FROM attempt_details a JOIN runs r USING (run_id)
                   WHERE r.workload = ? AND r.scale = ? AND a.status = 'ok'
                     AND a.excluded IS NULL
                   GROUP BY ALL)
               SELECT engine, run_id, started_at, sum(seconds) AS seconds, count(*) AS queries
               FROM per_query GROUP BY ALL ORDER BY started_at""",
            [workload, scale],
        )
        return [from_record(PassTime, row) for row in rows]

    def query_sql(self, run_id: str) -> dict[str, str]:
        """Query id -> exactly the SQL the engine received in a run."""
        return {
            row["query_id"]: row["sql"]
            for row in self._rows("SELECT query_id, sql FROM queries WHERE run_id = ?", [run_id])
        }

    def query_ids(self, run_id: str) -> list[str]:
        return [
            r["query_id"]
            for r in self._rows(
                "SELECT query_id FROM queries WHERE run_id = ? ORDER BY query_id", [run_id]
            )
        ]

    def attempted(self, run_id: str) -> set[tuple[str, int]]:
        """(query id, attempt) of every attempt a run has."""
        rows = self._rows("SELECT query_id, attempt FROM attempts WHERE run_id = ?", [run_id])
        return {(r["query_id"], r["attempt"]) for r in rows}

    def loads(self, run_id: str) -> list[StoredLoad]:
        rows = self._rows("SELECT * FROM loads WHERE run_id = ? ORDER BY table_name", [run_id])
        return [from_record(StoredLoad, row) for row in rows]

    def export(self, run_id: str, fmt: str, destination: Path) -> None:
        """The run's attempts as a file (`destination` a regular file, or - for stdout)."""
        options = EXPORT_FORMATS[fmt]
        query = (
            f"SELECT * FROM attempt_details WHERE run_id = '{_literal(run_id)}' "
            "ORDER BY query_id, attempt"
        )
        with output_file(destination, "export") as partial:
            # the raw connection: a full disk here is the export's, not the store's
            self.con.raw.execute(f"COPY ({query}) TO '{_literal(str(partial))}' ({options})")

    def invocation(self, invocation_id: str | None) -> dict[str, Any] | None:
        """The plan of a `whbench run` (None for one made before plans were kept)."""
        if invocation_id is None:
            return None
        row = self.con.execute(
            "SELECT plan FROM invocations WHERE invocation_id = ?", [invocation_id]
        ).fetchone()
        return json.loads(row[0]) if row else None

    def runs_of_invocation(self, invocation_id: str) -> list[StoredRun]:
        """Every run a `whbench run` (and its resumptions) started, oldest first."""
        ids = [
            r["run_id"]
            for r in self._rows(
                "SELECT run_id FROM runs WHERE invocation_id = ? ORDER BY started_at, run_id",
                [invocation_id],
            )
        ]
        found = {run.run_id: run for run in self.runs(ids)} if ids else {}
        return [found[run_id] for run_id in ids]


def _literal(text: str) -> str:
    return text.replace("'", "''")
