"""What each engine does natively, per data type: the report's capability matrix, and the words
the verdicts add when a win rests on an emulation or an engine could not run some queries.

The matrix reads each engine's declarations (harness/engines/<name>/features.yaml, through
harness.capabilities) as this whbench version has them: features as rows grouped by data type,
engines as columns, each cell native, emulated or unsupported with its note and source. The
verdicts read what each run recorded when it ran (its engine description's `features`), so an
old run is judged by what was true then.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.capabilities import EMULATED, UNSUPPORTED, Support, vocabulary
from harness.engines import REGISTRY, engine_class
from harness.report.order import engine_order, type_order
from harness.report.queries import QueryTable


@dataclass(frozen=True)
class CapabilityRow:
    feature: str
    title: str
    cells: dict[str, Support]  # engine -> its declaration


@dataclass(frozen=True)
class CapabilityGroup:
    data_type: str
    rows: list[CapabilityRow]


@dataclass(frozen=True)
class CapabilityMatrix:
    engines: list[str]  # every registered engine: a capability holds whether or not it ran
    groups: list[CapabilityGroup]


def capability_matrix() -> CapabilityMatrix:
    """Every feature of the vocabulary on every registered engine, grouped by data type."""
    engines = engine_order(REGISTRY)
    declared = {engine: engine_class(engine).features() for engine in engines}
    features = sorted(vocabulary().values(), key=lambda f: type_order(f.data_type))
    groups: dict[str, list[CapabilityRow]] = {}
    for feature in features:  # sorted() is stable: the vocabulary's order within a type
        cells = {e: declared[e][feature.name] for e in engines if feature.name in declared[e]}
        groups.setdefault(feature.data_type, []).append(
            CapabilityRow(feature.name, feature.title, cells)
        )
    return CapabilityMatrix(engines, [CapabilityGroup(t, rows) for t, rows in groups.items()])


def capability_verdicts(tables: list[QueryTable], winners: list[str]) -> list[str]:
    """Sentences for a data type's verdicts: which winning engine's runs rested on an emulated
    feature (and how it was emulated), and which queries each engine could not run because it
    lacks a feature — a result of its own, not a failure, and not in the scores."""
    sentences = []
    for engine in dict.fromkeys(winners):
        emulated = {}
        for table in tables:
            run = table.runs.get(engine)
            recorded = ((run.engine_settings or {}).get("features") or {}) if run else {}
            for name, support in recorded.items():
                if support.get("level") == EMULATED:
                    emulated[name] = support.get("note") or ""
        if emulated:
            how = "; ".join(f"{name}: {note}" for name, note in sorted(emulated.items()))
            sentences.append(
                f"{engine}'s win rests partly on emulation, not a native feature ({how})."
            )
    unsupported: dict[str, list[str]] = {}
    for table in tables:
        for (query_id, engine), cell in sorted(table.cells.items()):
            if cell.status == UNSUPPORTED:
                unsupported.setdefault(engine, []).append(f"{table.workload} {query_id}")
    for engine, queries in sorted(unsupported.items()):
        # a winner's pass and bill leave these queries out: the others ran more work
        caveat = (
            f" — {engine}'s pass and bill leave them out, so its win here is over less work"
            if engine in winners
            else ""
        )
        sentences.append(
            f"Unsupported on {engine} (it lacks a feature they need; not failures, not "
            f"scored): {', '.join(queries)}{caveat}."
        )
    return sentences
