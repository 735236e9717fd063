"""What is done with stored runs: list, show, export, compare, report; and `clean`, which
drops what whbench created in an engine."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import units
from harness.config import Config, redact
from harness.engines import connected
from harness.errors import UsageError
from harness.store import EXPORT_FORMATS, RunListing, Store, open_store

if TYPE_CHECKING:
    from harness.report.model import Report


def list_runs(config: Config) -> list[RunListing]:
    with open_store(config.store_path, read_only=True) as store:
        return store.list_runs()


def show(config: Config, run: str) -> dict[str, Any]:
    """One run: provenance, loads, every attempt and each query's kept answer; under load,
    what each level measured."""
    with open_store(config.store_path, read_only=True) as store:
        run_id = store.resolve_run(run)
        shown = store.run(run_id)
        # A run stored by an older whbench may hold a ${VAR:-default}'s default as written.
        shown = dataclasses.replace(shown, config=shown.config and redact(shown.config))
        found = {
            "run": shown,
            "loads": store.loads(run_id),
            "attempts": store.attempts(run_id),
            "results": store.results(run_id),
            "load": None,
        }
        if shown.load:
            from harness.levels import summary
            from harness.pricing import load_catalog
            from harness.workloads import discover

            found["load"] = summary(
                shown,
                found["attempts"],
                store.levels(run_id),
                discover(config.workload_dirs).get(shown.workload),
                load_catalog(config.pricing),
            )
        return found


def export(config: Config, run: str, fmt: str = "json", output: Path | None = None) -> Path:
    """One run's attempts as a file (`output` - : to stdout); the path written."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"no export format {fmt!r}; choose {', '.join(sorted(EXPORT_FORMATS))}")
    if str(output) == "-" and fmt == "parquet" and sys.stdout.isatty():
        raise UsageError("Parquet is binary: redirect it (-o - > run.parquet) or give -o FILE")
    with open_store(config.store_path, read_only=True) as store:
        run_id = store.resolve_run(run)
        destination = output or config.results_dir / f"{run_id}.{fmt}"
        store.export(run_id, fmt, destination)
    return destination


def compare(
    config: Config,
    runs: list[str],
    baseline: Path | None = None,
    threshold: float | None = None,
    alpha: float | None = None,
    workload_threshold: float | None = None,
    interleaved: bool = False,
) -> dict[str, Any]:
    """Two runs (or --baseline FILE and a run; either side may be several runs,
    comma-separated, of processes run in turn) query by query, beyond the drift common to every
    query; `regressed` when a query got significantly slower or failed, or the whole workload
    did; `warnings` for what makes the comparison weak."""
    from harness import compare as comparing

    if len(runs) != (1 if baseline else 2):
        raise UsageError(
            "with --baseline, give only the NEW run id"
            if baseline
            else "give BASE and NEW run ids, or --baseline FILE and the NEW run id"
        )
    threshold = threshold or comparing.THRESHOLD
    alpha = alpha or comparing.ALPHA
    workload_threshold = workload_threshold or comparing.WORKLOAD_THRESHOLD
    store = Store(config.store_path, read_only=True) if config.store_path.exists() else None
    try:
        base_name, base = comparing.side_of(store, str(baseline) if baseline else runs[0])
        new_name, new = comparing.side_of(store, runs[-1])
    finally:
        if store is not None:
            store.close()
    changes, drift = comparing.compare(base, new, threshold, alpha, interleaved)
    result = {
        "base": base_name,
        "new": new_name,
        **comparing.summary(changes, drift, threshold, alpha, workload_threshold),
    }
    warnings = []
    # Workloads and scales are checked before comparing (compare.check_comparable): only the
    # engine can still differ, which is a comparison someone may mean, so it is only told.
    engines = [sorted({str(a.engine) for run in side for a in run}) for side in (base, new)]
    if engines[0] != engines[1]:
        warnings.append(f"the two sides ran different engines: {engines[0]} against {engines[1]}")
    if min(len(base), len(new)) == 1 and not interleaved:
        warnings.append(
            "one run a side cannot tell a query's change from how far it moves between "
            "processes, so only large changes are named (see the noise floor): for a gate, run "
            "each side 3 times in turn and compare BASE1,BASE2,BASE3 NEW1,NEW2,NEW3"
        )
    if result["too_few_attempts"]:
        warnings.append(
            f"with so few attempts no query's change can reach p < {units.figure(alpha)} over "
            f"{len([c for c in changes if c.factor is not None])} queries; "
            "run with --runs 10 or more on both sides"
        )
    elif result["can_see"] is not None and result["can_see"] > threshold:
        warnings.append(
            f"with the noise measured, this comparison can see changes above "
            f"{units.factor(result['can_see'])} only (typical query), more than the threshold "
            f"{units.factor(threshold)}: run more attempts (--runs)"
            + ("" if interleaved else " or compare interleaved")
        )
    return {**result, "warnings": warnings}


REPORT_FORMATS = ("html", "md")  # the page, or its Markdown summary


@dataclasses.dataclass(frozen=True)
class Written:
    """A report written: where, and what it says (for the terminal to repeat its verdicts)."""

    path: Path
    report: Report


def report_after_run(config: Config, pricing: Path | None = None) -> Written | None:
    """After `whbench run`: the HTML report of the latest runs in the store, as `whbench
    report` writes it; None when no run there has results (every engine failed before its
    first query: the run's own error says why, and a report would have nothing to show)."""
    with open_store(config.store_path, read_only=True) as store:
        if not store.latest_run_ids():
            return None
    return report(config, [], pricing=pricing)


def report(
    config: Config,
    run_ids: list[str],
    output: Path | None = None,
    pricing: Path | None = None,
    fmt: str = "html",
) -> Written:
    """The report of the given runs (default: the latest of each engine, workload and scale)
    as the HTML page or (`fmt` md) its Markdown summary; `output` - for stdout."""
    from harness.pricing import load_catalog
    from harness.report.render import report_of, write
    from harness.workloads import discover

    if fmt not in REPORT_FORMATS:
        raise UsageError(f"no report format {fmt!r}; choose {' or '.join(REPORT_FORMATS)}")
    with open_store(config.store_path, read_only=True) as store:
        built = report_of(
            store,
            run_ids,
            load_catalog(pricing or config.pricing),
            config.projection,
            discover(config.workload_dirs),
        )
    path = write(built, output or config.results_dir / f"report.{fmt}", fmt)
    return Written(path, built)


def clean(config: Config, engine_name: str, run: str | None = None, drop: bool = False) -> list:
    """The namespaces whbench created in an engine (only the one `run` used, when given),
    dropped when `drop`. Nothing without the harness prefix is ever listed or dropped."""
    namespace = None
    if run:
        with open_store(config.store_path, read_only=True) as store:
            namespace = store.run(store.resolve_run(run)).namespace
    with connected(engine_name, config.engines.get(engine_name)) as engine:
        found = [n for n in engine.namespaces() if namespace in (None, n)]
        if drop:
            for name in found:
                engine.drop(name)
    return found
