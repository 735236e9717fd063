"""Capabilities as data: what a query needs, and what each engine can do, per feature.

    workloads/_shared/features.yaml      the vocabulary: feature -> title and data type
    harness/engines/<name>/features.yaml an engine's declaration for every feature:
        feature: native
        feature: {emulated: "how, in words", source: URL}   the dialect macro is a fallback
        feature: {unsupported: "why", source: URL}          the query is not sent

A query names its features in workload.yaml (`features: [asof_join]`). Planning asks
`unsupported_reason` whether the engine lacks one: such a query is recorded as `unsupported`
with the reason, a result of its own (neither a failure nor a silent skip). What an engine
emulates is recorded with each run (`run_record`), so the report reads what was true then.

An engine subclass (MotherDuck of DuckDB) inherits its base class's file unless it has its
own. A feature an engine does not declare is not checked (its queries are sent, and no level
is claimed for it): bundled engines declare every one (tests/test_capabilities.py), so that
only happens for an engine added without a file.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, WorkloadError
from harness.paths import YamlError, bundled, read_text, read_yaml

NATIVE, EMULATED, UNSUPPORTED = "native", "emulated", "unsupported"
LEVELS = (NATIVE, EMULATED, UNSUPPORTED)
VOCABULARY_FILE = "features.yaml"  # in workloads/_shared/
DECLARATIONS_FILE = "features.yaml"  # beside an engine's module


@dataclass(frozen=True)
class Feature:
    name: str
    title: str
    data_type: str


@dataclass(frozen=True)
class Support:
    """One engine's support for one feature: its level, the note that says how (emulated) or
    why not (unsupported), and the vendor page that says so (read 2026-12-06)."""

    level: str  # native | emulated | unsupported
    note: str = ""
    source: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"level": self.level, "note": self.note, "source": self.source}


@dataclass(frozen=True)
class Approximate:
    """workload.yaml `approximate: {k: 10, min_recall: 0.9}` on a query: its answer is scored by
    recall@k against the exact neighbours, and it ranks only at or above min_recall."""

    k: int
    min_recall: float


@functools.cache
def vocabulary() -> dict[str, Feature]:
    """Every feature a query may name, in the file's order (the report's row order)."""
    file = bundled("workloads") / "_shared" / VOCABULARY_FILE
    spec = _read(file, WorkloadError)
    features = {}
    for name, entry in spec.items():
        if not isinstance(entry, dict) or not {"title", "data_type"} <= set(entry):
            raise WorkloadError(f"{file}: feature {name} needs a title and a data_type")
        features[str(name)] = Feature(str(name), str(entry["title"]), str(entry["data_type"]))
    return features


def check_features(names: Any, where: str) -> tuple[str, ...]:
    """A query's `features:` list, each name checked against the vocabulary."""
    if names is None:
        return ()
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise WorkloadError(f"{where}: `features:` is a list of feature names")
    known = vocabulary()
    for name in names:
        if name not in known:
            raise WorkloadError(
                f"{where}: unknown feature {name!r}; known: {', '.join(known)} "
                f"(workloads/_shared/{VOCABULARY_FILE})"
            )
    return tuple(names)


def check_approximate(spec: Any, where: str) -> Approximate | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) != {"k", "min_recall"}:
        raise WorkloadError(f"{where}: `approximate:` is {{k: 10, min_recall: 0.9}}")
    k, min_recall = spec["k"], spec["min_recall"]
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise WorkloadError(f"{where}: approximate k must be a whole number of at least 1")
    if not isinstance(min_recall, int | float) or not 0 <= min_recall <= 1:
        raise WorkloadError(f"{where}: approximate min_recall must be a number from 0 to 1")
    return Approximate(k, float(min_recall))


def declared(engine: type) -> dict[str, Support]:
    """An engine class's declarations: its own features.yaml, else its nearest base class's.
    (Typed `type`, not `type[Engine]`: the engines import this module, not the other way.)"""
    for klass in inspect.getmro(engine):
        module = inspect.getmodule(klass)
        if module is None or not getattr(module, "__file__", None):
            continue
        file = Path(module.__file__).parent / DECLARATIONS_FILE
        if klass.__module__.startswith("harness.engines.") and file.is_file():
            return read_declarations(file)
    return {}


@functools.cache
def read_declarations(file: Path) -> dict[str, Support]:
    """One engine's features.yaml, every entry checked: an unknown feature, an unknown level or
    an emulated/unsupported entry without its note is a one-line ConfigError naming it."""
    spec = _read(file, ConfigError)
    known = vocabulary()
    found: dict[str, Support] = {}
    for name, entry in spec.items():
        if name not in known:
            raise ConfigError(
                f"{file}: unknown feature {name!r}; known: {', '.join(known)} "
                f"(workloads/_shared/{VOCABULARY_FILE})"
            )
        found[str(name)] = _support(entry, f"{file}: {name}")
    return found


def _support(entry: Any, where: str) -> Support:
    if entry == NATIVE:
        return Support(NATIVE)
    if isinstance(entry, dict):
        levels = [level for level in LEVELS if level in entry]
        extra = set(entry) - {*LEVELS, "source"}
        if len(levels) == 1 and not extra:
            level = levels[0]
            note = entry[level]
            if level != NATIVE and not (isinstance(note, str) and note.strip()):
                raise ConfigError(f"{where}: say {'how' if level == EMULATED else 'why'} in words")
            source = entry.get("source")
            return Support(level, note.strip() if isinstance(note, str) else "", source)
    raise ConfigError(
        f"{where}: write `native`, {{emulated: how}} or {{unsupported: why}}, "
        f"each with an optional source: URL"
    )


def unsupported_reason(
    engine_name: str, declarations: dict[str, Support], features: tuple[str, ...]
) -> str | None:
    """Why a query needing `features` is not sent to this engine, or None when it is sent."""
    for name in features:
        support = declarations.get(name)
        if support is not None and support.level == UNSUPPORTED:
            title = vocabulary()[name].title
            return f"{engine_name} does not support {title} ({name}): {support.note}"
    return None


def emulated_features(
    declarations: dict[str, Support], features: tuple[str, ...]
) -> dict[str, str]:
    """The features among `features` the engine emulates, with how."""
    return {
        name: declarations[name].note
        for name in features
        if name in declarations and declarations[name].level == EMULATED
    }


def run_record(declarations: dict[str, Support], features: tuple[str, ...]) -> dict[str, Any]:
    """What a run keeps (in its engine description, `features`): the engine's declaration of
    each feature its queries name, as it was when the run ran."""
    return {
        name: declarations[name].as_json()
        for name in dict.fromkeys(features)
        if name in declarations
    }


def _read(file: Path, error: type[Exception]) -> dict[str, Any]:
    text = read_text(file, "features file", error)
    try:
        spec = read_yaml(text)
    except YamlError as exc:
        raise error(f"{file}:{exc.where}: cannot read it ({exc})") from None
    if not isinstance(spec, dict):
        raise error(f"{file}: a features file is a mapping of feature names")
    return spec
