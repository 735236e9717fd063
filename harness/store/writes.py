"""What a run writes to the store: its row in `runs` and what it learns about itself, the
queries it ran, each attempt and each query's first answer (journaled first: see journal.py),
its loads and, under load, its levels; and the plan of each `whbench run`, for --resume."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harness.errors import scrub
from harness.records import LoadOutcome, Usage
from harness.store.opening import StoreFile

if TYPE_CHECKING:  # the answers module is needed only by runs and reports, not every command
    from harness.kept_answers import Difference, Stored


@dataclass(frozen=True)
class Attempt:
    """One attempt of one query, as the store keeps it: ok, timeout or error."""

    query_id: str
    attempt: int
    phase: str
    status: str
    started_at: datetime
    client_seconds: float | None = None
    engine_seconds: float | None = None
    rows: int | None = None
    checksum: str | None = None
    engine_query_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
    ended_at: datetime | None = None
    answer: str | None = None  # correct, wrong, unchecked; None when there was no answer
    cold_method: str | None = None
    stream: int | None = None  # under load
    level: int | None = None
    harness_queue_seconds: float | None = None  # open loop
    recall: float | None = None  # an approximate query's recall@k (harness.answers.recall_of)


class StoreWrites(StoreFile):
    def start_run(self, **run: Any) -> None:
        run = {**run, "status": "running", "started_at": _now()}
        for key in ("engine_settings", "workload_options", "config", "load", "endpoint"):
            value = run.get(key)
            # scrub: an engine's settings may hold a value from a ${…} reference (a path, a host)
            run[key] = None if value is None else scrub(json.dumps(value, default=str))
        columns = ", ".join(run)
        self.con.execute(
            f"INSERT INTO runs ({columns}) VALUES ({', '.join('?' * len(run))})", list(run.values())
        )

    def reopen_run(self, run_id: str) -> None:
        """Mark an interrupted or failed run running again, for `whbench run --resume`."""
        self.con.execute(
            "UPDATE runs SET status = 'running', ended_at = NULL, error = NULL WHERE run_id = ?",
            [run_id],
        )

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        self.flush()
        self.con.execute(
            "UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE run_id = ?",
            [status, _now(), error, run_id],
        )

    def record_run_usage(self, run_id: str, usage: dict[str, Any]) -> None:
        """The vendor's billed figures for the run's window, with when they were fetched."""
        usage = {**usage, "fetched_at": _now().isoformat()}
        self.con.execute(
            "UPDATE runs SET run_usage = ? WHERE run_id = ?", [json.dumps(usage), run_id]
        )

    def record_after_run(self, run_id: str, facts: dict[str, Any]) -> None:
        self.con.execute(
            "UPDATE runs SET after_run = ? WHERE run_id = ?", [json.dumps(facts), run_id]
        )

    def record_level(
        self,
        run_id: str,
        level: int,
        status: str,
        started_at: datetime,
        ended_at: datetime,
        scale_out: dict[str, Any] | None = None,
    ) -> None:
        self.flush()  # its attempts first: a finished level has all of them in the tables
        self.con.execute(
            "INSERT INTO levels VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, level, status, started_at, ended_at, scale_out and json.dumps(scale_out)],
        )

    def discard_level(self, run_id: str, level: int) -> int:
        """Remove what an interrupted level left, before it runs again whole: the number of
        attempts removed."""
        self.flush()
        (removed,) = self.con.execute(
            "SELECT count(*) FROM attempts WHERE run_id = ? AND level = ?", [run_id, level]
        ).fetchone()
        self.con.execute("DELETE FROM attempts WHERE run_id = ? AND level = ?", [run_id, level])
        self.con.execute("DELETE FROM levels WHERE run_id = ? AND level = ?", [run_id, level])
        return removed

    def record_result_cache(self, run_id: str, state: str) -> None:
        self.con.execute("UPDATE runs SET result_cache = ? WHERE run_id = ?", [state, run_id])

    def record_round_trip(self, run_id: str, floor: dict[str, Any] | None) -> None:
        """The session's round-trip floor (Engine.measure_round_trip), or NULL when it could
        not be measured: written once per session, before the first query, so straight to the
        table (no journal: nothing is lost that the next session would not measure again)."""
        self.con.execute(
            "UPDATE runs SET round_trip_seconds = ? WHERE run_id = ?",
            [None if floor is None else json.dumps(floor), run_id],
        )

    def record_result(
        self,
        run_id: str,
        query_id: str,
        attempt: int,
        stored: Stored,
        answer: str,
        difference: Difference | None,
    ) -> None:
        """A query's result, once per run (a resumed run keeps the one it has). Journaled like
        an attempt but not synced on its own: record it before its attempt, whose sync covers
        both. It reaches the table with the attempts, saving a commit per query."""
        from harness.kept_answers import difference_json, to_json

        row = {
            "run_id": run_id,
            "query_id": query_id,
            "attempt": attempt,
            "columns": json.dumps(stored.columns),
            "total_rows": stored.total_rows,
            "rest_fingerprint": stored.rest_fingerprint,
            "rows": to_json(stored),
            "answer": answer,
            "difference": difference_json(difference),
        }
        self.journal.append({"result": row}, sync=False)
        self._pending_results.append(row)

    def record_notes(self, run_id: str, notes: list[str]) -> None:
        """What the engine could not do as asked, kept with the run."""
        self.con.execute("UPDATE runs SET notes = ? WHERE run_id = ?", [json.dumps(notes), run_id])

    def record_load(
        self,
        run_id: str,
        table: str,
        status: str,
        outcome: LoadOutcome | None = None,
        error: str | None = None,
    ) -> None:
        self.con.execute(
            "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                table,
                status,
                outcome and outcome.rows,
                outcome and outcome.bytes_stored,
                outcome and outcome.seconds,
                error,
            ],
        )

    def record_queries(self, run_id: str, queries: list[tuple[str, str, bool, str]]) -> None:
        """(query id, title, ordered, sql) of every query of a run, in one statement."""
        if queries:
            values = ", ".join(["(?, ?, ?, ?, ?)"] * len(queries))
            params = [value for query in queries for value in (run_id, *query)]
            self.con.execute(f"INSERT INTO queries VALUES {values}", params)

    def record_history(
        self, run_id: str, engine_query_id: str, seconds: float | None, usage: Usage
    ) -> None:
        """Add what the engine reported about a query after the fact (its history view)."""
        self.flush()
        columns = {"engine_seconds": seconds, **usage.as_dict()}
        assignments = ", ".join(f"{column} = ?" for column in columns)
        self.con.execute(
            f"UPDATE attempts SET {assignments} WHERE run_id = ? AND engine_query_id = ?",
            [*columns.values(), run_id, engine_query_id],
        )

    def record_attempt(self, run_id: str, a: Attempt, sync: bool = True) -> None:
        """Journal an attempt; `sync=False` leaves the fsync to the next one that asks for it
        (a query's attempts, or a batch of attempts under load, are synced once)."""
        row = {
            "run_id": run_id,
            "query_id": a.query_id,
            "attempt": a.attempt,
            "phase": a.phase,
            "status": a.status,
            "started_at": a.started_at,
            "client_seconds": a.client_seconds,
            "engine_seconds": a.engine_seconds,
            "rows": a.rows,
            "checksum": a.checksum,
            "engine_query_id": a.engine_query_id,
            **a.usage.as_dict(),
            "error": a.error,
            "ended_at": a.ended_at,
            "answer": a.answer,
            "cold_method": a.cold_method,
            "stream": a.stream,
            "level": a.level,
            "harness_queue_seconds": a.harness_queue_seconds,
            "recall": a.recall,
        }
        self.journal.append(row, sync=sync)
        self._pending.append(row)

    def record_invocation(self, invocation_id: str, plan: dict[str, Any]) -> None:
        self.con.execute(
            "INSERT INTO invocations VALUES (?, ?, ?)",
            [invocation_id, _now(), json.dumps(plan, default=str)],
        )


def _now() -> datetime:
    return datetime.now(UTC)
