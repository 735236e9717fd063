"""The budget guard: stop spending before a run crosses --max-cost.

Before each query it adds what has been spent (every attempt so far, failed ones included, at
catalog prices) to an estimate of the query about to run, and refuses the query if that would
cross the limit. The estimate, in order of preference:

1. a free dry run, where the engine has one (the bytes it would process);
2. what the same query cost on its previous attempt in this run;
3. the median cost of the same query in earlier stored runs of this engine, workload and scale;
4. the engine's minimum charge for a run before its first query (a warehouse resume, a
   serverless minimum), from its billing rules; else there is nothing to go on, and the
   estimate is unknown.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from harness.engines import billing_for
from harness.engines.base import Engine
from harness.errors import first_line
from harness.pricing import Billing, Catalog, Cost
from harness.records import Usage
from harness.stats import median
from harness.store import Attempt, Store
from harness.store.rows import StoredAttempt, StoredRun
from harness.units import dollars


def _unstored(cls: type, **known: Any) -> Any:
    """A row the store has not got (yet), as the billing rules read stored ones: what is
    known, the rest None (never 0: unknown)."""
    return cls(**{f.name: None for f in dataclasses.fields(cls)} | known)


def as_stored(attempt: Attempt, run: StoredRun) -> StoredAttempt:
    """An attempt just made, as the store will give it back."""
    fields = {f.name: getattr(attempt, f.name) for f in dataclasses.fields(attempt)}
    del fields["usage"]
    return _unstored(
        StoredAttempt,
        **fields,
        **attempt.usage.as_dict(),
        run_id=run.run_id,
        engine=run.engine,
        workload=run.workload,
        scale=run.scale,
    )


class Budget:
    def __init__(self, limit: float, catalog: Catalog, store: Store | None) -> None:
        self.limit, self.catalog, self.store = limit, catalog, store
        self.spent = 0.0
        self.run: StoredRun | None = None
        self._previous: dict[str, float] = {}
        self._estimate: float | None = None

    def start(
        self, engine_name: str, engine_settings: dict[str, Any], workload: str, scale: float
    ) -> None:
        """A new engine run: its own minimum charge applies before its first query."""
        self.run = _unstored(
            StoredRun,
            run_id="(not started)",
            status="planned",
            started_at=datetime.now(UTC),
            engine=engine_name,
            engine_settings=engine_settings,
            workload=workload,
            scale=scale,
        )
        self._previous = {}
        self._started = False

    @property
    def rules(self) -> Billing:
        """The billing rules of the run under way (`start` first)."""
        if self.run is None:
            raise RuntimeError("Budget.start names the run before anything is estimated")
        return billing_for(self.run, self.catalog)

    def _cost(self, attempt: StoredAttempt) -> Cost:
        return self.rules.marginal(attempt)

    def estimate(self, engine: Engine, query_id: str, sql: str) -> tuple[float | None, str]:
        """(dollars, how it was estimated) for the next attempt of a query; None dollars when
        there is nothing to go on."""
        if engine.supports_dry_run:
            try:
                usage = engine.estimate(sql)
            except Exception as exc:  # fall through to the other rules, and say so
                engine.notes.append(f"dry run of {query_id} failed: {first_line(exc)}")
                usage = None
            if usage is not None:
                guess = self._cost(self._dry_run(query_id, usage))
                if guess.dollars is not None:
                    return guess.dollars, "a dry run"
        if query_id in self._previous:
            return self._previous[query_id], "its previous attempt"
        history = self._history(query_id)
        if history:
            return median(history), f"{len(history)} earlier attempts"
        minimum = None if self._started else self.rules.minimum_charge()
        if minimum is not None and minimum.dollars is not None:
            return minimum.dollars, "the engine's minimum charge (no earlier runs)"
        return None, "nothing to go on (no dry run, no earlier runs)"

    def _dry_run(self, query_id: str, usage: Usage) -> StoredAttempt:
        """A dry run's usage as a successful attempt (its SQL left out, as before: a table
        count from it would change the estimate of a minimum-per-table bill)."""
        assert self.run is not None
        return _unstored(
            StoredAttempt,
            **usage.as_dict(),
            status="ok",
            query_id=query_id,
            run_id=self.run.run_id,
            engine=self.run.engine,
            workload=self.run.workload,
            scale=self.run.scale,
        )

    def before(self, engine: Engine, query_id: str, sql: str) -> str | None:
        """Before a query: None to go ahead (with what is left of the budget handed to the
        engine's own hard limit, where it has one), else why it must not run."""
        self._estimate, how = self.estimate(engine, query_id, sql)
        if not self.allows(self._estimate):
            return (
                f"budget: {dollars(self.spent)} spent of {dollars(self.limit)}, and the next "
                f"query was estimated at {dollars(self._estimate)} (from {how})"
            )
        engine.limit_spend(self.limit - self.spent, self.rules.price_per_byte_billed())
        return None

    def after(self, attempt: Attempt) -> None:
        """After a query: count what it cost (its estimate, when its cost is unknown)."""
        self.add(attempt, self._estimate)

    def allows(self, estimate: float | None) -> bool:
        """Whether the next query fits; one with no estimate is let through (and counted at
        what it then costs)."""
        return self.spent + (estimate or 0.0) <= self.limit

    def add(self, attempt: Attempt, estimate: float | None) -> None:
        assert self.run is not None
        cost = self._cost(as_stored(attempt, self.run))
        # A cost the engine did not report is counted at its estimate, not at zero.
        spent = (estimate or 0.0) if cost.dollars is None else cost.dollars
        self.spent += spent
        self._previous[attempt.query_id] = spent
        self._started = True

    def _history(self, query_id: str) -> list[float]:
        if self.store is None or self.run is None:
            return []
        earlier = self.store.successful_attempts(
            self.run.engine, self.run.workload, self.run.scale, query_id
        )
        costs = [self._cost(attempt).dollars for attempt in earlier]
        return [c for c in costs if c is not None]
