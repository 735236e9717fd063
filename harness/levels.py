"""What each level of a run under load measured, from its stored rows: throughput, latency
percentiles, errors, the engine's own split of time, the level's cost, and TPC-H's own metrics.

Pure functions over what the store returns (StoredRun, StoredAttempt, StoredLevel), shared by
the runner's summary, `whbench results show` and the report; the thread executor that measures
the levels is harness/load.py, and nothing here imports it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from harness import units
from harness.stats import geometric_mean, percentile

if TYPE_CHECKING:
    from harness.pricing import Catalog
    from harness.store.rows import StoredAttempt, StoredLevel, StoredRun
    from harness.workloads import Workload

TPCH_SPEC = "TPC-H 3.0.1, https://www.tpc.org/tpc_documents_current_versions/pdf/tpc-h_v3.0.1.pdf"
NOT_COMPARABLE = "QphH@Size without refresh functions — not comparable to published TPC-H results"


def summary(
    run: StoredRun,
    attempts: list[StoredAttempt],
    levels: list[StoredLevel],
    workload: Workload | None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Per finished level: throughput, latency percentiles, errors, the engine's own split of
    time and the level's cost; and the workload's own metric (TPC-H: QphH@Size)."""
    by_level: dict[int, list[StoredAttempt]] = {}
    for attempt in attempts:
        if attempt.level is not None:
            by_level.setdefault(attempt.level, []).append(attempt)
    measured = [
        level_figures(level, by_level.get(level.level, []), run, catalog)
        for level in levels
        if level.status == "finished"
    ]
    found: dict[str, Any] = {"plan": run.load, "levels": measured}
    if workload is not None and workload.streams.metric == "tpch":
        found["tpch"] = tpch_metrics(measured, by_level, run.scale, workload)
    return found


def level_figures(
    level: StoredLevel, attempts: list[StoredAttempt], run: StoredRun, catalog: Catalog | None
) -> dict[str, Any]:
    """One level's figures from its attempts; its cost only with a `catalog`."""
    ok = [a for a in attempts if a.status == "ok"]
    # The level's measurement interval, like TPC-H's Ts: from the first query's start to the
    # last one's end, so a reader can recompute it from the exported attempts.
    starts = [a.started_at for a in attempts]
    ends = [a.ended_at or a.started_at for a in attempts]
    seconds = (max(ends) - min(starts)).total_seconds() if attempts else 0.0
    latencies = [a.client_seconds + (a.harness_queue_seconds or 0.0) for a in ok]
    waits = [a.harness_queue_seconds for a in ok if a.harness_queue_seconds is not None]

    figures: dict[str, Any] = {
        "level": level.level,
        "streams": len({a.stream for a in attempts}),
        "queries": len(attempts),
        "ok": len(ok),
        "errors": sum(a.status == "error" for a in attempts),
        "timeouts": sum(a.status == "timeout" for a in attempts),
        "wrong": sum(a.answer == "wrong" for a in ok),
        "seconds": seconds,
        "queries_per_second": len(ok) / seconds if seconds > 0 else None,
        "queries_per_hour": len(ok) * 3600 / seconds if seconds > 0 else None,
    }
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        figures[f"{name}_seconds"] = percentile(latencies, fraction) if latencies else None
    figures["max_seconds"] = max(latencies) if latencies else None
    figures["harness_queue_p95_seconds"] = percentile(waits, 0.95) if waits else None
    # The engine's own split of a query's time, where it reports one (None where it does not).
    figures["engine_queued_seconds_mean"] = _mean_of_reported([a.queued_seconds for a in ok])
    figures["engine_execution_seconds_mean"] = _mean_of_reported([a.execution_seconds for a in ok])
    # Where the engine reports slot time (BigQuery), the slots the level used on average.
    slot_ms = [a.slot_ms for a in ok if a.slot_ms is not None]
    figures["average_slots"] = sum(slot_ms) / (seconds * 1000) if slot_ms and seconds else None
    figures["scale_out"] = level.scale_out  # None: the engine reports none (unknown)
    figures["cost"] = figures["cost_per_1000_queries"] = None
    if catalog is not None:
        from harness.engines import billing_for
        from harness.pricing import Priced

        # The level as if it ran alone, modelled by the engine's own rules (a vendor's billed
        # figures cover the whole run, not one level).
        rules = billing_for(dataclasses.replace(run, run_usage=None), catalog)
        priced = rules.run_bill(attempts)
        # Scale-out the engine reported for the level (Redshift concurrency scaling) is billed
        # beside the base capacity.
        if (scaled := rules.scale_out_bill(level.scale_out)) is not None:
            priced = Priced(priced.cost + scaled.cost, priced.explain + scaled.explain)
        figures["cost"] = {"dollars": priced.cost.dollars, "basis": priced.cost.basis}
        if priced.cost.dollars is not None and ok:
            figures["cost_per_1000_queries"] = priced.cost.dollars / len(ok) * 1000
        figures["cost_explain"] = priced.explain
    return figures


def _mean_of_reported(values: list[float | None]) -> float | None:
    """The mean of the values an engine reported; None when it reported none."""
    reported = [value for value in values if value is not None]
    return sum(reported) / len(reported) if reported else None


def tpch_metrics(
    levels: list[dict[str, Any]],
    by_level: dict[int, list[StoredAttempt]],
    scale: float,
    workload: Workload,
) -> dict[str, Any]:
    """Power@Size, Throughput@Size and QphH@Size as TPC-H 3.0.1 clause 5.4 defines them, without
    the refresh functions (this harness does not generate refresh sets), from `levels` (each
    level's figures, as `level_figures` gives them) and the attempts of each level:

    - Power@Size = 3600 x SF / geometric mean of the power test's 22 query times (clause
      5.4.1; with RF1/RF2 the mean would be over 24 timings). Times below 1/1000 of the longest
      are raised to it, the spec's guard against one trivial query dominating the mean (its
      sub-clause number could not be checked here: the specification PDF was not reachable).
    - Throughput@Size = S x 22 x 3600 / Ts x SF (clause 5.4.2), Ts the throughput test's
      elapsed seconds; with `--iterations K`, the queries completed stand for S x 22.
    - QphH@Size = sqrt(Power@Size x Throughput@Size) (clause 5.4.3).
    """
    found: dict[str, Any] = {"label": NOT_COMPARABLE, "source": TPCH_SPEC, "scale": scale}
    least = workload.streams.least_streams(scale)
    power_attempts = [a for a in by_level.get(1, []) if a.stream == 0]
    first_pass: dict[str, StoredAttempt] = {}
    for attempt in sorted(power_attempts, key=lambda a: a.started_at):
        first_pass.setdefault(attempt.query_id, attempt)
    total = len(workload.queries)
    power = None
    if len(first_pass) < total:
        found["power_note"] = f"the power test ran {len(first_pass)} of {total} queries"
    elif failed := [q for q, a in first_pass.items() if a.status != "ok"]:
        found["power_note"] = f"not computed: {', '.join(sorted(failed))} failed in the power test"
    else:
        times = [a.client_seconds for a in first_pass.values()]
        floor = max(times) / 1000
        power = 3600 * scale / geometric_mean(max(t, floor) for t in times)
    found["power_at_size"] = power
    throughput = []
    for figures in levels:
        if figures["level"] < 2:
            continue
        entry: dict[str, Any] = {"streams": figures["level"], "seconds": figures["seconds"]}
        complete = figures["ok"] == figures["queries"] and figures["queries"] > 0
        value = figures["ok"] * 3600 / figures["seconds"] * scale if complete else None
        entry["throughput_at_size"] = value
        entry["qphh_at_size"] = math.sqrt(power * value) if power and value else None
        if not complete:
            entry["note"] = "not computed: some queries failed or timed out"
        if least is None:
            entry["streams_check"] = (
                f"SF {units.number(scale)} is below TPC-H's smallest scale factor (1): no "
                "minimum applies"
            )
        elif figures["level"] < least:
            entry["streams_check"] = (
                f"{figures['level']} streams is below clause 5.3.4's minimum of {least} at SF "
                f"{units.number(scale)}"
            )
        else:
            entry["streams_check"] = f"meets clause 5.3.4's minimum of {least} streams"
        throughput.append(entry)
    found["throughput"] = throughput
    return found
