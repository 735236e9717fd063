"""One attempt of one query: executed on an engine, timed, and its answer judged. The
runner's attempts and the streams under load (harness/load.py) both go through `measure`;
it knows only the planned query (harness/plan.py), the engine and the store's Attempt."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harness.answers import Expected, Shape, Tolerance, check, recall_of, shape_of
from harness.checksum import result_checksum
from harness.engines.base import Engine, QueryCancelled, QueryTimeout
from harness.errors import HarnessError, first_line
from harness.kept_answers import Difference, keep
from harness.store import Attempt

if TYPE_CHECKING:
    from harness.plan import PlannedQuery
    from harness.workloads import Workload


def measure(
    engine: Engine, query: PlannedQuery, timeout_seconds: float, judge: Judge, **base: Any
) -> Attempt:
    """Run `query` once: an attempt with `base`'s fields (query id, number, phase …), `ok` with
    its time, rows and judged answer, or `timeout` / `error` with the message. QueryCancelled
    (Ctrl-C) propagates: a cut-short attempt is no measurement."""
    started_at = datetime.now(UTC)
    try:
        result = engine.execute(query.sql, timeout_seconds, query.id)
    except QueryTimeout as exc:
        return Attempt(
            **base, started_at=started_at, status="timeout", error=str(exc), ended_at=_now()
        )
    except (QueryCancelled, KeyboardInterrupt, HarnessError):
        raise
    except Exception as exc:  # the engine rejected the query: record it and go on
        error = f"{type(exc).__name__}: {first_line(exc)}"
        return Attempt(**base, started_at=started_at, status="error", error=error, ended_at=_now())
    ended_at = _now()
    checksum, answer = judge.of(result.rows, result.columns)
    return Attempt(
        **base,
        started_at=started_at,
        ended_at=ended_at,
        status="ok",
        client_seconds=result.client_seconds,
        engine_seconds=result.engine_seconds,
        rows=len(result.rows),
        checksum=checksum,
        engine_query_id=result.engine_query_id,
        usage=result.usage,
        answer=answer,
        recall=judge.recall,
    )


def _now() -> datetime:
    return datetime.now(UTC)


class Judge:
    """One query's answers within a run: each attempt's fingerprint and its check against the
    known answer, and the first answer, to keep. Hot attempts usually return exactly the rows
    of the attempt before; comparing rows is far cheaper than fingerprinting and checking them
    again."""

    def __init__(
        self, query: PlannedQuery, decimals: int, tolerance: Tolerance, expected: Expected | None
    ) -> None:
        self.query, self.decimals, self.tolerance = query, decimals, tolerance
        self.expected = expected
        self.kept = False
        self._rows: list[tuple] | None = None
        self._columns: tuple[str, ...] = ()
        self._checksum, self._answer = "", "unchecked"
        self._difference: Difference | None = None
        self._parsed: Shape | None = None
        self.recall: float | None = None  # the latest answer's recall@k (approximate queries)

    @classmethod
    def for_query(
        cls, query: PlannedQuery, workload: Workload, expected: dict[str, Expected]
    ) -> Judge:
        """The judge of `query` by its workload's rules (decimals, tolerance), against its
        known answer among `expected`, where it has one."""
        return cls(
            query,
            workload.checksum_decimals,
            workload.answers.tolerance(query.id),
            expected.get(query.id),
        )

    def of(self, rows: list[tuple], columns: tuple[str, ...]) -> tuple[str, str]:
        """(fingerprint, answer: correct, wrong or unchecked) of one attempt's rows."""
        if rows != self._rows:
            self._rows, self._columns = rows, columns
            self._checksum = result_checksum(rows, self.query.ordered, self.decimals)
            self._difference = None
            self._answer = "unchecked"
            self.recall = recall_of(self.expected, rows)
            if self.expected is not None:
                self._difference = check(self.expected, rows, self._shape, self.tolerance)
                self._answer = "wrong" if self._difference else "correct"
        return self._checksum, self._answer

    def _shape(self) -> Shape:
        """The query's ORDER BY keys and LIMIT, read with sqlglot: only when an answer has to be
        compared beyond plain equality, so most runs never load the parser."""
        if self._parsed is None:
            ordered = self.query.ordered
            self._parsed = shape_of(self.query.sql, self.query.dialect) if ordered else Shape()
        return self._parsed

    def to_keep(self) -> tuple:
        """The latest answer as the store keeps it, with its check: for `record_result`."""
        self.kept = True
        stored = keep(self._rows or [], self.query.ordered, self.decimals, self._columns)
        return stored, self._answer, self._difference
