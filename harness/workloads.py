"""Workloads are data: a folder with workload.yaml and Jinja2 templates, rendered per dialect.

    workloads/<name>/workload.yaml          name, data type, tables, queries and their parameters
    workloads/<name>/queries/<id>.sql.j2    one template per query, shared by every dialect
    workloads/<name>/queries/<dialect>/<id>.sql.j2   an override that wins for that dialect
    workloads/<name>/schema.sql.j2, load.sql.j2      optional; workloads/_shared/ has defaults
    workloads/_shared/dialect.sql.j2        the macros, dispatched on the target dialect

Dialect macros are named `<dialect>__<macro>` or `default__<macro>`; a template calls plain
`<macro>(...)` and gets the most specific one, the way dbt's adapter.dispatch does.

A workload of your own data names its tables' files (`data:`) instead of a generator, and may
hold plain SQL files (`queries/<id>.sql`) written in one dialect (`dialect:`), which are
translated with sqlglot for each engine (harness/translate.py). The ids, and the tables' columns,
come from the files when workload.yaml does not list them.
"""

from __future__ import annotations

import collections.abc
import contextlib
import functools
import itertools
import math
import os
import random
import re
import shutil
import threading
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

from harness.answers import DEFAULT_RELATIVE, AnswerRules
from harness.config import TemplateLimits
from harness.engines import dialects
from harness.engines.base import NAMESPACE_PREFIX
from harness.errors import TemplateError, WorkloadError, first_line
from harness.paths import YamlError, bundled, cache_dir, read_text, read_yaml
from harness.scale import YOUR_DATA, Scale
from harness.translate import Untranslatable, strip_statement, translate

DATA_TYPES = ("structured", "semi-structured", "unstructured")
FILES_GENERATOR = "files"  # harness/datagen/files.py: a workload's own files, not generated
SHARED_DIR = "_shared"
MACRO_FILE = "dialect.sql.j2"
_MACRO_NAME = re.compile(r"{%-?\s*macro\s+(\w+)")
# Workload, table, column and query names: plain lower-case identifiers.
NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Query:
    id: str
    title: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """A generator parameter a workload declares (events: gap_minutes, days, seed …)."""

    name: str
    default: int
    min: int
    max: int
    help: str = ""


@dataclass(frozen=True)
class StreamRules:
    """How the workload runs under load (workload.yaml `streams:`): each stream's query order
    (stream s runs orders[s mod len]; without orders, a shuffle seeded by the stream), the
    metric its specification defines (`tpch`), and the least number of streams that metric
    needs at a scale (scale -> streams; the largest listed scale at or below applies)."""

    orders: tuple[tuple[str, ...], ...] = ()
    metric: str | None = None
    min_streams: tuple[tuple[float, int], ...] = ()

    def order(self, stream: int, query_ids: list[str], workload: str) -> list[str]:
        """Stream `stream`'s order of `query_ids` (a chosen subset keeps its relative order)."""
        if self.orders:
            chosen = set(query_ids)
            return [q for q in self.orders[stream % len(self.orders)] if q in chosen]
        if stream == 0:
            return list(query_ids)
        shuffled = list(query_ids)
        random.Random(f"{workload}/stream {stream}").shuffle(shuffled)
        return shuffled

    def least_streams(self, scale: float) -> int | None:
        fitting = [streams for at, streams in self.min_streams if at <= scale]
        return fitting[-1] if fitting else None


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    data_type: str
    description: str
    generator: str
    scale: Scale
    answers: AnswerRules
    declared_tables: tuple[Table, ...] | None  # None: your data, read from its files when used
    queries: tuple[Query, ...]
    path: Path
    options: tuple[Option, ...] = ()
    streams: StreamRules = StreamRules()
    dialect: str | None = None  # the dialect plain-SQL query files are written in
    data: dict[str, str] = field(default_factory=dict)  # your data: table -> file pattern

    @functools.cached_property
    def tables(self) -> tuple[Table, ...]:
        """The tables and their columns: as workload.yaml declares them, or else read from your
        data's files (only when needed, so one workload whose files are not there yet does not
        stop every command)."""
        if self.declared_tables is not None:
            return self.declared_tables
        return tuple(
            Table(name, tuple(Column(c, t) for c, t in columns))
            for name, columns in self.file_columns.items()
        )

    @functools.cached_property
    def file_columns(self) -> dict[str, list[tuple[str, str]]]:
        """Your data's columns per table as its files have them, every file read and checked
        (harness.datagen.files.inspect_tables); a run plans with this, before anything loads."""
        from harness.datagen.files import inspect_tables

        found = inspect_tables(self.path, self.data)
        for table in self.declared_tables or ():
            present = {name for name, _ in found[table.name]}
            if missing := [c.name for c in table.columns if c.name not in present]:
                raise WorkloadError(
                    f"table {table.name}: `tables:` names {', '.join(missing)}, which its files "
                    f"do not have (they have {', '.join(sorted(present))}); fix `tables:`"
                )
        return found

    @functools.cached_property
    def history(self) -> dict[str, dict[str, Any]]:
        """From `workload import-history` (history.yaml): per query, how it ran on the team's
        own warehouse, so the report can set it beside what the benchmark measured."""
        file = self.path / "history.yaml"
        if not file.is_file():
            return {}
        try:
            return dict(read_yaml(read_text(file, "history file", WorkloadError)) or {})
        except (YamlError, TypeError, ValueError):
            raise WorkloadError(f"{file}: cannot read it; fix it or delete it") from None

    @functools.cached_property
    def data_fingerprint(self) -> str:
        """Your data's files, as eight hex digits: taken once, so one run names one data set."""
        from harness.datagen.files import fingerprint

        return fingerprint(self.path, self.data)

    @property
    def your_data(self) -> bool:
        """Whether the tables come from the user's files rather than a generator."""
        return self.generator == FILES_GENERATOR

    @property
    def checksum_decimals(self) -> int:
        return self.answers.decimals

    def answer_folder(self, scale: float) -> Path | None:
        """The folder of expected answers at `scale`, when the workload has them."""
        folder = self.answers.files.get(float(scale))
        return self.path / folder if folder else None

    def query(self, query_id: str) -> Query:
        for query in self.queries:
            if query.id == query_id:
                return query
        known = ", ".join(q.id for q in self.queries)
        raise WorkloadError(f"workload {self.name} has no query {query_id!r}; its queries: {known}")

    def select(self, query_ids: list[str] | None) -> list[Query]:
        return list(self.queries) if not query_ids else [self.query(q) for q in query_ids]

    def check_options(self, given: dict[str, Any] | None) -> dict[str, int]:
        """Every option of this workload with its value: the given ones checked, else defaults."""
        given = dict(given or {})
        known = {option.name: option for option in self.options}
        for name in given:
            if name not in known:
                listed = ", ".join(f"--{o.replace('_', '-')}" for o in known) or "none"
                raise WorkloadError(
                    f"workload {self.name} has no parameter {name!r}; its parameters: {listed}"
                )
        values = {}
        for option in self.options:
            value = given.get(option.name, option.default)
            if isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise WorkloadError(f"{self.name}: {option.name} must be a whole number")
            if not option.min <= value <= option.max:
                raise WorkloadError(
                    f"{self.name}: {option.name} {value} is out of range; choose "
                    f"{option.min} to {option.max} ({option.help})"
                )
            values[option.name] = value
        return values

    def variant(self, scale: float, options: dict[str, int] | None = None) -> str:
        """Names one data set: the scale, plus every option that differs from its default."""
        if self.your_data:  # named by the files, so changed files are loaded afresh
            return f"data_{self.data_fingerprint}"
        options = self.check_options(options)
        changed = [
            f"{o.name}{options[o.name]}" for o in self.options if options[o.name] != o.default
        ]
        return "__".join([f"sf{Scale.label(scale)}", *changed])

    def namespace(
        self, scale: float, options: dict[str, int] | None = None, prefix: str = ""
    ) -> str:
        """The schema/dataset the harness creates for this data set; `prefix` (an engine's
        `dataset_prefix`) goes after the harness's own, so `whbench clean` still knows it."""
        return f"{NAMESPACE_PREFIX}{prefix}{self.name}_{self.variant(scale, options)}"


def workload_roots(extra: list[Path] | None = None) -> list[Path]:
    return [*(extra or []), bundled("workloads")]


def discover(extra: list[Path] | None = None) -> dict[str, Workload]:
    """Every workload in the bundled folder and in `extra` folders (earlier folders win)."""
    found: dict[str, Workload] = {}
    for root in workload_roots(extra):
        if not root.is_dir():
            raise WorkloadError(f"workload folder {root} does not exist; fix workload_dirs")
        for spec in sorted(root.glob("*/workload.yaml")):
            workload = read_workload(spec.parent)
            found.setdefault(workload.name, workload)
    return found


def get_workload(name: str, extra: list[Path] | None = None) -> Workload:
    workloads = discover(extra)
    if name not in workloads:
        known = ", ".join(sorted(workloads)) or "none"
        raise WorkloadError(f"unknown workload {name!r}; available: {known}")
    return workloads[name]


# What workload.yaml may hold: every key read_workload reads, level by level, so that a typo or
# a stray key (an unquoted comma in a `{ }` mapping starts a new one) is an error, not a setting
# silently ignored or a title silently cut. A dict lists a mapping's keys ("*": any name, such as
# a table or an option); a list, a sequence of such items; NAMES, a mapping of names to values
# that must be given (a table's column -> type); ANY, not checked here; None, a plain value.
NAMES, ANY = "names", "any"
_OPTION_KEYS = {"default": None, "min": None, "max": None, "help": None}
WORKLOAD_KEYS: dict[str, Any] = {
    "name": None,
    "title": None,
    "data_type": None,
    "description": None,
    "generator": None,
    "dialect": None,
    "checksum_decimals": None,  # what `answers: decimals` was called before
    "scale": {"default": None, "min": None, "max": None, "unit": None},
    "data": NAMES,
    "tables": {"*": NAMES},
    "queries": [{"id": None, "title": None, "params": ANY}],
    "options": {"*": _OPTION_KEYS},
    "streams": {"orders": ANY, "metric": None, "min_streams": ANY},
    "answers": {
        "decimals": None,
        "relative": None,
        "looser": ANY,
        "files": ANY,
        "source": None,
        "trimmed": None,
    },
}
COMMA_HINT = "an unquoted comma in a { } mapping starts a new key: quote the value"


def check_keys(
    data: Any, schema: Any, text: str, file: Path, error: type[Exception], path: tuple = ()
) -> None:
    """Refuse a key `schema` does not list, or a name given no value, with the file and line.
    The line is looked up only for an error (by composing the text), so a good file costs a
    walk over its keys."""
    if isinstance(schema, dict):
        if not isinstance(data, dict):
            if data is not None:
                _key_error(error, file, text, path, f"{_dotted(path)} must be a mapping")
            return
        for key, value in data.items():
            if key in schema:
                check_keys(value, schema[key], text, file, error, (*path, key))
            elif "*" in schema:
                check_keys(value, schema["*"], text, file, error, (*path, key))
            else:
                import difflib

                known = [k for k in schema if k != "*"]
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else COMMA_HINT
                    if value is None
                    else f"known: {', '.join(known)}"
                )
                where = f" in {_dotted(path)}" if path else ""
                _key_error(error, file, text, (*path, key), f"unknown key {key!r}{where}; {hint}")
    elif isinstance(schema, list) and isinstance(data, list):
        for number, item in enumerate(data):
            check_keys(item, schema[0], text, file, error, (*path, number))
    elif schema == NAMES and isinstance(data, dict):
        for key, value in data.items():
            if value is None:
                _key_error(
                    error,
                    file,
                    text,
                    (*path, key),
                    f"{_dotted((*path, key))} has no value; give one ({COMMA_HINT})",
                )


def _dotted(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _key_error(error: type[Exception], file: Path, text: str, path: tuple, problem: str) -> None:
    line = key_line(text, path)
    raise error(f"{file}:{f' line {line}:' if line else ''} {problem}")


def key_line(text: str, path: tuple) -> int | None:
    """The line (1-based) of the key at `path` (mapping keys and list indexes) in a YAML text."""
    import yaml

    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    line = None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if k.value == str(step)]
            if not found:
                return line
            key, node = found[-1]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_workload(folder: Path) -> Workload:
    spec_file = folder / "workload.yaml"
    try:
        text = read_text(spec_file, "workload file", WorkloadError)
        spec = read_yaml(text)
    except YamlError as exc:
        where = f"{spec_file}:{exc.where}"
        raise WorkloadError(
            f"{where}: cannot read workload ({exc}); {exc.hint or 'fix the file'}"
        ) from None
    if not isinstance(spec, dict):
        raise WorkloadError(f"{spec_file}: a workload file is a mapping (name:, data_type: …)")
    check_keys(spec, WORKLOAD_KEYS, text, spec_file, WorkloadError)
    try:
        data_type = spec["data_type"]
        if data_type not in DATA_TYPES:
            raise ValueError(f"data_type must be one of {', '.join(DATA_TYPES)}")
        data = {str(t): str(pattern) for t, pattern in (spec.get("data") or {}).items()}
        if data:
            spec = _your_data(spec, data, folder)
        scale = spec["scale"]
        spec["queries"] = spec.get("queries") or _query_files(folder)
        tables = spec.get("tables") if data else spec["tables"]  # your data: maybe from files
        # Names become schemas, tables, columns and file names, some of them written into SQL
        # unquoted by the engines: only plain lower-case identifiers are allowed.
        for kind, name in [
            ("workload name", spec["name"]),
            *(("table", t) for t in [*(tables or {}), *data]),
            *(("column", c) for columns in (tables or {}).values() for c in columns),
            *(("query id", q["id"]) for q in spec["queries"]),
        ]:
            if not isinstance(name, str) or not NAME.fullmatch(name):
                raise ValueError(f"{kind} {name!r} must be lower-case letters, digits and _")
        if _plain_sql(folder) and not spec.get("dialect"):
            raise ValueError(
                "queries/ holds plain .sql files: say which dialect they are written in "
                f"(dialect: one of {', '.join(dialects())}, or another of sqlglot's)"
            )
        return Workload(
            name=spec["name"],
            title=spec.get("title", spec["name"]),
            data_type=data_type,
            description=spec.get("description", "").strip(),
            generator=spec["generator"],
            scale=Scale(
                float(scale["default"]), float(scale["min"]), float(scale["max"]), scale["unit"]
            ),
            dialect=spec.get("dialect"),
            data=data,
            answers=_answer_rules(spec),
            declared_tables=None
            if tables is None
            else tuple(
                Table(name, tuple(Column(c, t) for c, t in columns.items()))
                for name, columns in tables.items()
            ),
            queries=tuple(
                Query(q["id"], q["title"], dict(q.get("params") or {})) for q in spec["queries"]
            ),
            path=folder,
            options=tuple(
                Option(name, int(o["default"]), int(o["min"]), int(o["max"]), o.get("help", ""))
                for name, o in (spec.get("options") or {}).items()
            ),
            streams=_stream_rules(spec),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise WorkloadError(
            f"{spec_file}: invalid workload definition ({type(exc).__name__}: {exc}); "
            "see README 'Workload format'"
        ) from None


def _your_data(spec: dict[str, Any], data: dict[str, str], folder: Path) -> dict[str, Any]:
    """A workload of the user's files: its generator, scale and (unless given) tables follow."""
    if "generator" in spec:
        raise ValueError("give either `data:` (your files) or `generator:`, not both")
    # Scale 0 stands for "your data": its size is the files', recorded as rows and bytes.
    no_scale = {"default": 0, "min": 0, "max": 0, "unit": YOUR_DATA}
    spec = {**spec, "generator": FILES_GENERATOR, "scale": no_scale}
    if "tables" in spec and sorted(spec["tables"]) != sorted(data):
        raise ValueError("`tables:` must list exactly the tables under `data:`")
    return spec


def _query_files(folder: Path) -> list[dict[str, Any]]:
    """Queries from the files in queries/ when workload.yaml lists none: the id is the file
    name, the title the text of a first-line `--` comment."""
    found: dict[str, dict[str, Any]] = {}
    for file in sorted((folder / "queries").glob("*.sql*")):
        query_id = file.name.removesuffix(".j2").removesuffix(".sql")
        if file.name.endswith((".sql", ".sql.j2")) and query_id not in found:
            first = _first_line(file)
            title = first[2:].strip() if first.startswith("--") else query_id
            found[query_id] = {"id": query_id, "title": title or query_id}
    if not found:
        raise ValueError("no queries: list them under `queries:` or put .sql files in queries/")
    return list(found.values())


def _first_line(file: Path) -> str:
    """The first non-blank line of a query file, from at most its first 64 KiB; "" for what is
    not a regular file (a FIFO would block: reading the query names it as the error)."""
    if not file.is_file():
        return ""
    try:
        with file.open(encoding="utf-8", errors="replace") as text:
            return text.read(64 * 1024).lstrip().split("\n", 1)[0]
    except OSError:
        return ""


def _plain_sql(folder: Path) -> bool:
    return any((folder / "queries").rglob("*.sql"))


def _stream_rules(spec: dict[str, Any]) -> StreamRules:
    streams = spec.get("streams") or {}
    ids = {q["id"] for q in spec["queries"]}
    orders = tuple(tuple(order) for order in streams.get("orders") or ())
    for number, order in enumerate(orders):
        if sorted(order) != sorted(ids):
            raise ValueError(f"streams.orders[{number}] must list every query exactly once")
    return StreamRules(
        orders=orders,
        metric=streams.get("metric"),
        min_streams=tuple(
            sorted((float(at), int(n)) for at, n in (streams.get("min_streams") or {}).items())
        ),
    )


def _answer_rules(spec: dict[str, Any]) -> AnswerRules:
    answers = spec.get("answers") or {}
    return AnswerRules(
        # `checksum_decimals` is what workloads before the answers block called it.
        decimals=int(answers.get("decimals", spec.get("checksum_decimals", 2))),
        relative=float(answers.get("relative", DEFAULT_RELATIVE)),
        looser={
            str(query): {int(c): float(r) for c, r in columns.items()}
            for query, columns in (answers.get("looser") or {}).items()
        },
        files={float(scale): str(f) for scale, f in (answers.get("files") or {}).items()},
        source=str(answers.get("source", "expected answers")),
        trimmed=bool(answers.get("trimmed", False)),
    )


# -- rendering: a sandbox, bounded in time, output and reach ----------------------------------
# A workload folder may come from someone else, so its templates are untrusted input. They
# render in Jinja2's ImmutableSandboxedEnvironment (no attribute starting with _, no internal
# attribute of functions, frames or types, no mutation of lists and dicts), and on top of it:
#
# - sizes: every operator, filter and call that can multiply a string or a list (`*`, `**`,
#   `%`, `+`, `~`, `replace`, `join`, `center(10**9)` …) is checked before it allocates, and
#   every value it makes after: nothing a template holds grows past the output cap;
# - output: a template's output is counted as it streams, and a macro's as it is joined;
# - time: a watchdog thread raises an exception in the rendering thread past the time limit;
# - reach: `include`, `import` and `extends` load only regular files under the workload's
#   folder and workloads/_shared, after resolving links.
#
# The sandbox is what holds: no word is blocklisted.

CACHE_ENTRY_BYTES = 2**20  # a compiled template above this is compiled again each time instead
CACHE_TOTAL_BYTES = 64 * 2**20  # the oldest entries go when the folder holds more than this
# Jinja keys cache entries on template and source, not on Environment options: a change of
# options (trim_blocks, the sandbox, intercepted operators, finalize, the code generator …)
# needs a new folder name here. v1 was the unsandboxed environment.
CACHE_FOLDER = "templates-v2"
# Integers that products and powers may reach, in bits (Python prints at most 4,300 digits):
# multiplying numbers this size is instant, and bigger ones are how `10**10**10` hangs.
_MAX_INT_BITS = 100_000
DEFAULT_LIMITS = TemplateLimits()
# Filters whose extra arguments are values rather than sizes, so a large number there is data.
_VALUE_FILTERS = frozenset(
    {
        "default",
        "d",
        "format",
        "int",
        "float",
        "attr",
        "map",
        "select",
        "reject",
        "selectattr",
        "rejectattr",
        "sum",
        "min",
        "max",
        "replace",
    }
)
# Filters and str methods whose output can be their input times an argument: its strings, and
# (True) its numbers too (`indent(1000)` adds 1,000 characters to every line).
_MULTIPLYING = {
    "replace": False,
    "join": False,
    "wordwrap": False,
    "indent": True,
    "tojson": True,
    "expandtabs": True,
}
# printf-style and str.format width and precision fields.
_PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d+|\*)?(?:\.(\d+|\*))?")
_FORMAT_SPEC = re.compile(r"{[^{}]*:([^{}]*)([{}])")


_FIX = "fix the template"
_RAISE_OUTPUT = "fix the template, or raise templates.output_mb in the config if it is meant"


class _Refused(Exception):
    """A template went past a limit or out of bounds; the message says which, and the
    renderer adds the file and line."""


class _OutOfTime(BaseException):
    """Raised in the rendering thread by the watchdog. A BaseException, so that no `except
    Exception` in a filter or in Jinja itself (constant folding catches Exception) swallows it."""


class _Watchdog:
    """One daemon thread for the process, raising _OutOfTime in a thread whose render passed its
    deadline. A thread per render would cost about 0.1 ms each (TPC-H renders 30 templates per
    dialect); arming and disarming here is a lock and a dictionary entry.

    A finished render must never get a late exception: the watchdog raises only while the render
    is armed, under the lock, and disarming (under the same lock) withdraws an exception that was
    raised but not yet delivered. An exception delivered while disarming is still inside the
    render's `try`, so it is reported as the timeout it is."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._armed: dict[int, list[Any]] = {}  # token -> [deadline, thread id, fired]
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = math.inf

    def arm(self, seconds: float) -> int:
        # An infinite (or NaN) limit is no limit: the render is watched by nothing.
        deadline = time.monotonic() + seconds if seconds < math.inf else math.inf
        with self._lock:
            token = next(self._tokens)
            self._armed[token] = [deadline, threading.get_ident(), False]
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="whbench-render-watchdog")
                self._thread.daemon = True
                self._thread.start()
            elif deadline < self._wake_at:  # only then: waking the thread costs a switch
                self._lock.notify()
        return token

    def disarm(self, token: int) -> None:
        """Idempotent: the caller repeats it if a timeout cut it short (see Renderer._guard)."""
        with self._lock:
            entry = self._armed.pop(token, None)
            if entry is not None and entry[2]:  # raised, maybe not yet delivered: withdraw it
                _async_raise(entry[1], None)

    def _watch(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                for entry in self._armed.values():
                    if entry[0] <= now:
                        # Raised again a second later while still armed, in case the first one
                        # landed in code that swallowed it (a bare `except:`).
                        entry[0], entry[2] = now + 1.0, True
                        _async_raise(entry[1], _OutOfTime)
                self._wake_at = min((entry[0] for entry in self._armed.values()), default=math.inf)
                self._lock.wait(None if self._wake_at == math.inf else self._wake_at - now)


def _async_raise(thread: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in `thread` when it next runs Python code; None withdraws one that is
    pending. ctypes is imported only here, when a render runs out of time."""
    import ctypes

    target = ctypes.c_ulong(thread)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        target, None if exception is None else ctypes.py_object(exception)
    )


_WATCHDOG = _Watchdog()


_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = (list, tuple, set, frozenset, dict)


def _size(value: Any, budget: int, depth: int = 0) -> int:
    """About how many characters `value` becomes as text: a string its length, a container its
    items' sizes plus one per item (so a list of empty strings still counts). Counting stops once
    over `budget`, so a list holding itself a million times over costs little to measure."""
    kind = type(value)
    if kind is str:
        return len(value)
    if kind is int:
        return value.bit_length() // 3 + 1
    if kind is range:
        return len(value) * 7
    if isinstance(value, _CONTAINERS):
        items = itertools.chain.from_iterable(value.items()) if kind is dict else value
        total = len(value)
        if depth < 20:
            for item in items:
                total += _size(item, budget - total, depth + 1)
                if total > budget:
                    break
        return total
    if isinstance(value, str):  # Markup and other str subclasses
        return len(value)
    return 1


def _widths(text: str, printf: bool) -> list[int | None]:
    """The widths and precisions in a format string (None for one taken from the arguments)."""
    if printf:
        found = [group for match in _PRINTF_FIELD.finditer(text) for group in match.groups()]
    else:  # a spec that opens a brace (`{:>{}}`) takes its width from the arguments
        found = []
        for spec, end in _FORMAT_SPEC.findall(text):
            found += [*re.findall(r"\d+", spec), *(["{"] if end == "{" else [])]
    return [None if w in ("*", "{") else int(w) for w in found if w]


class _Guard:
    """The size checks, for one output limit (in characters). One per limit in the process,
    with the filters wrapped once: wrapping Jinja's 50 filters per Renderer would cost more
    than rendering a query."""

    def __init__(self, limit: int, loop_type: type) -> None:
        self.limit = limit
        self.loop_type = loop_type  # Jinja's LoopContext: an iterator that must stay one

    def over(self, size: int, what: str) -> _Refused:
        return _Refused(
            f"{what} would be about {size:,} characters, over the output limit of "
            f"{self.limit / 2**20:g} MB; {_RAISE_OUTPUT}"
        )

    def check(self, value: Any, what: str) -> Any:
        """`value`, if it is within the limit."""
        if type(value) in _SCALARS:
            if type(value) is str and len(value) > self.limit:
                raise self.over(len(value), what)
            return value
        if (size := _size(value, self.limit)) > self.limit:
            raise self.over(size, what)
        return value

    def materialised(self, value: Any) -> Any:
        """A generator's items as a list, so they can be measured before a filter joins them."""
        if type(value) in _SCALARS or isinstance(value, _CONTAINERS):
            return value
        if isinstance(value, collections.abc.Iterator) and not isinstance(value, self.loop_type):
            return list(value)
        return value

    def binop(self, operator: str, left: Any, right: Any) -> None:
        """Refuses `'x' * 10**9`, `10 ** 10**10`, `'%999999999d' % 1` before they allocate."""
        if operator == "*":
            if type(left) is int and type(right) is not int:
                left, right = right, left
            if type(right) is not int:
                return
            if type(left) is int:
                if left.bit_length() + right.bit_length() > _MAX_INT_BITS:
                    raise _Refused(f"a product of numbers too large to compute; {_FIX}")
            elif (
                isinstance(left, (str, list, tuple))
                and (size := _size(left, self.limit) * max(right, 0)) > self.limit
            ):
                raise self.over(size, "a `*` repetition")
        elif operator == "**":
            if (
                type(left) is int
                and type(right) is int
                and abs(left) > 1
                and left.bit_length() * right > _MAX_INT_BITS
            ):
                raise _Refused(f"{left} ** {right} is a number too large to compute; {_FIX}")
        elif operator == "%" and isinstance(left, str):
            self.format_args(left, right if isinstance(right, tuple) else (right,), True)

    def format_args(self, text: str, args: Any, printf: bool) -> None:
        """Refuses a format string whose widths (`%999999999d`, `{:>999999999}`) or arguments
        would make it too long."""
        given = list(args.values()) if isinstance(args, dict) else list(args)
        widths = _widths(text, printf)
        if None in widths:  # `%*d`, `{:{}}`: the widths are among the arguments
            widths += [a for a in given if type(a) is int]
        size = len(text) + sum(_size(a, self.limit) for a in given)
        size += max((w for w in widths if w is not None), default=0)
        if size > self.limit:
            raise self.over(size, "a formatted string")

    def arguments(
        self,
        what: str,
        value: Any,
        args: Any,
        kwargs: dict[str, Any],
        sizes: bool,
        multiplies: bool | None,
    ) -> None:
        """Refuses a size argument past the limit (`center(10**9)`), and an operation that
        multiplies (`replace`, `join`, `indent` …) whose result could pass it. `multiplies`:
        None, it does not; False, by its string arguments; True, by its numbers too."""
        factor = 1
        for arg in itertools.chain(args, kwargs.values()):
            if type(arg) is int:
                if sizes and abs(arg) > self.limit:
                    raise _Refused(
                        f"{what} was given {arg:,}, over the output limit of "
                        f"{self.limit / 2**20:g} MB; {_RAISE_OUTPUT}"
                    )
                if multiplies:
                    factor += max(arg, 0)
            elif multiplies is not None:
                factor += _size(arg, self.limit)
        if (
            multiplies is not None
            and factor > 1
            and (size := (_size(value, self.limit) + 1) * factor) > self.limit
        ):
            raise self.over(size, f"{what}'s result")

    def filter(self, name: str, func: Any) -> Any:
        """`func` with its arguments and result checked."""
        skip = 1 if getattr(func, "jinja_pass_arg", None) else 0  # context/environment first
        sizes = name not in _VALUE_FILTERS
        multiplies = _MULTIPLYING.get(name)
        formats = name == "format"
        what = f"the {name} filter"

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if len(args) > skip:
                value = self.materialised(args[skip])
                if value is not args[skip]:
                    args = (*args[:skip], value, *args[skip + 1 :])
                if formats and isinstance(value, str):
                    self.format_args(value, args[skip + 1 :] or kwargs, True)
                if len(args) > skip + 1 or kwargs:
                    self.arguments(what, value, args[skip + 1 :], kwargs, sizes, multiplies)
            return self.check(func(*args, **kwargs), f"{what}'s result")

        return guarded


_GUARDS: dict[int, tuple[_Guard, dict[str, Any]]] = {}
_CLASSES: tuple[type, type] | None = None


def _jinja_classes() -> tuple[type, type]:
    """The sandboxed Environment and the loader, defined on first use (Jinja is imported only
    to render)."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    import jinja2
    import jinja2.compiler
    import jinja2.runtime
    import jinja2.sandbox
    import jinja2.utils

    class CodeGenerator(jinja2.compiler.CodeGenerator):
        @jinja2.compiler.optimizeconst
        def visit_Concat(self, node: Any, frame: Any) -> None:
            # `a ~ b ~ …` joins its parts in one go: they are measured first (sized()).
            if frame.eval_ctx.volatile:
                join = "(markup_join if context.eval_ctx.volatile else str_join)"
            else:
                join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
            self.write(f"{join}(environment.sized((")
            for part in node.nodes:
                self.visit(part, frame)
                self.write(", ")
            self.write(")))")

    # Calls that build values from their arguments, where a large number is data.
    data_calls = {
        id(c)
        for c in (
            dict,
            jinja2.utils.Namespace,
            jinja2.utils.Cycler,
            jinja2.utils.Joiner,
            jinja2.sandbox.safe_range,  # the sandbox's own range: at most 100,000 items
        )
    }
    macro_type = jinja2.runtime.Macro
    plain_types = frozenset({str, int, float, Table, Column, Query})

    class Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
        code_generator_class = CodeGenerator
        # Intercepting these also keeps Jinja from folding `'x' * 10**9` into a constant when it
        # compiles, which would put a 1 GB constant into the compiled-template cache.
        intercepted_binops = frozenset({"*", "**", "%", "+"})

        def __init__(self, limit: int, **options: Any) -> None:
            super().__init__(finalize=self.finalized, **options)
            if limit not in _GUARDS:
                guard = _Guard(limit, jinja2.runtime.LoopContext)
                _GUARDS[limit] = guard, {n: guard.filter(n, f) for n, f in self.filters.items()}
            self.guard, filters = _GUARDS[limit]
            self.filters = dict(filters)

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            # The sandbox's own rule, answered at once for what templates read most (a table's
            # columns, a column's name, str methods): an immutable type with no internal
            # attributes, where only a name starting with _ is unsafe.
            if type(obj) in plain_types:
                return not attr.startswith("_")
            return super().is_safe_attribute(obj, attr, value)

        def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
            # Refused at once, rather than as an undefined value that fails only when used:
            # `cycler|attr('__init__')|attr('__globals__')` would otherwise end as a puzzling
            # "undefined" error about the last step, not the unsafe first one.
            raise jinja2.sandbox.SecurityError(
                f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
            )

        def finalized(self, value: Any) -> Any:
            """Every `{{ … }}` value, before it becomes text."""
            return value if type(value) is str else self.guard.check(value, "a printed value")

        def sized(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
            return self.guard.check(parts, "a `~` concatenation")

        def concat(self, parts: Any) -> str:  # type: ignore[override]
            """Joins a macro's, a call block's or a `{% set %}` block's output."""
            parts = parts if type(parts) is list else list(parts)
            if (size := sum(map(len, parts))) > self.guard.limit:
                raise self.guard.over(size, "a macro's or block's output")
            return "".join(parts)

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            self.guard.binop(operator, left, right)
            return self.guard.check(
                self.binop_table[operator](left, right), f"the {operator} result"
            )

        def wrap_str_format(self, value: Any) -> Any:
            wrapper = super().wrap_str_format(value)
            if wrapper is None:
                return None
            text, guard = value.__self__, self.guard

            def checked(*args: Any, **kwargs: Any) -> str:
                given = [*args, *kwargs.values()]
                if value.__name__ == "format_map" and args and isinstance(args[0], dict):
                    given = [*args[0].values()]
                guard.format_args(text, given, False)
                return guard.check(wrapper(*args, **kwargs), "a formatted string")

            checked.whbench_checked = True  # type: ignore[attr-defined]  # numbers are data here
            return checked

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            guard = __self.guard
            if type(__obj) is macro_type or getattr(__obj, "whbench_macro", False):
                # A macro's output is bounded where it is joined; its arguments are measured.
                for arg in args:
                    if type(arg) is not str or len(arg) > guard.limit:
                        guard.check(arg, "a macro argument")
                for arg in kwargs.values():
                    guard.check(arg, "a macro argument")
                return super().call(__context, __obj, *args, **kwargs)
            if id(__obj) in data_calls or getattr(__obj, "whbench_checked", False):
                return guard.check(super().call(__context, __obj, *args, **kwargs), "a value")
            args = tuple(guard.materialised(a) for a in args)
            name = getattr(__obj, "__name__", "a function")
            owner = getattr(__obj, "__self__", None)
            if isinstance(owner, types.ModuleType):  # a builtin function, not a method
                owner = None
            multiplies = _MULTIPLYING.get(name) if owner is not None else None
            guard.arguments(f"{name}()", owner, args, kwargs, True, multiplies)
            return guard.check(super().call(__context, __obj, *args, **kwargs), f"{name}()")

    class Loader(jinja2.BaseLoader):
        """Templates only from the workload's folder and workloads/_shared: a name that is
        absolute or has `..`, or a file that resolves (through links) outside them, is refused;
        so is anything but a regular UTF-8 file under the size limit (a FIFO would hang)."""

        def __init__(self, roots: list[Path], max_bytes: int) -> None:
            self.roots = [str(root) for root in roots]
            self.real_roots = tuple(os.path.realpath(root) + os.sep for root in roots)
            self.max_bytes = max_bytes
            self.real_folders: dict[str, str] = {}  # folder -> its real path

        def real_path(self, filename: str) -> str:
            """Where `filename` really is, resolving its folder once per Renderer."""
            folder, base = os.path.split(filename)
            if folder not in self.real_folders:
                self.real_folders[folder] = os.path.realpath(folder)
            real = os.path.join(self.real_folders[folder], base)
            return os.path.realpath(real) if os.path.islink(real) else real

        def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
            pieces = template.split("/")
            if (
                os.path.isabs(template)
                or "\\" in template
                or "\0" in template
                or any(p in ("", ".", "..") for p in pieces)
            ):
                raise _Refused(
                    f"template name {template!r} reaches outside the workload; name a template "
                    "in the workload's folder or in workloads/_shared"
                )
            for root in self.roots:
                filename = os.path.join(root, *pieces)
                try:
                    stat = os.stat(filename)
                except OSError:
                    continue
                real = self.real_path(filename)
                if not real.startswith(self.real_roots):
                    raise _Refused(
                        f"template {template!r} is a link to {real}, outside the workload's "
                        "folder and workloads/_shared; copy the file in instead"
                    )
                if not S_ISREG(stat.st_mode):
                    raise _Refused(f"template {template!r} is not a regular file; make it one")
                if stat.st_size > self.max_bytes:
                    raise _Refused(
                        f"template {template!r} is {stat.st_size:,} bytes, over the output "
                        f"limit of {self.max_bytes / 2**20:g} MB; {_RAISE_OUTPUT}"
                    )
                try:
                    with open(filename, encoding="utf-8") as file:
                        source = file.read()
                except UnicodeDecodeError:
                    raise _Refused(
                        f"template {template!r} is not UTF-8 text; save it as UTF-8"
                    ) from None
                return source, os.path.normpath(filename), lambda: True
            raise jinja2.TemplateNotFound(template)

    _CLASSES = (Sandbox, Loader)
    return _CLASSES


def _template_cache() -> Any:
    """Compiled templates on disk, keyed by file and source checksum, so a run does not pay
    for compiling every template again (about 0.1 s for TPC-H). Bounded: an entry over
    CACHE_ENTRY_BYTES is not written, and after a write the oldest entries go while the folder
    holds over CACHE_TOTAL_BYTES. A cache that cannot be written is only slower; None when there
    is nowhere to keep one."""
    import jinja2

    class TemplateCache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError):
                if os.stat(self._get_cache_filename(bucket)).st_size <= CACHE_ENTRY_BYTES:
                    super().load_bytecode(bucket)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            data = bucket.bytecode_to_string()
            if len(data) > CACHE_ENTRY_BYTES:
                return
            name = self._get_cache_filename(bucket)
            partial = f"{name}.{os.getpid()}.partial"
            try:
                with open(partial, "wb") as file:
                    file.write(data)
                os.replace(partial, name)  # whole or not at all, for a reader in another process
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(partial)
                return
            global _WRITTEN
            _WRITTEN += len(data)
            if _WRITTEN >= 0:  # the first write of the process, then every eighth of the total
                _WRITTEN = -CACHE_TOTAL_BYTES // 8
                _prune(Path(self.directory))

    directory = cache_dir() / CACHE_FOLDER
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return TemplateCache(str(directory))


_WRITTEN = 0  # bytes this process wrote to the template cache since it last pruned it, less 1/8


def _prune(directory: Path, total: int = CACHE_TOTAL_BYTES) -> None:
    """The oldest entries removed until the folder holds at most three quarters of `total`
    (so a full folder is not pruned on every write), and earlier versions' folders removed."""
    entries = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            with contextlib.suppress(OSError):
                stat = entry.stat(follow_symlinks=False)
                entries.append((stat.st_mtime, stat.st_size, entry.path))
    held = sum(size for _, size, _ in entries)
    if held > total:
        for _, size, path in sorted(entries):
            with contextlib.suppress(OSError):
                os.unlink(path)
                held -= size
            if held <= total * 3 // 4:
                break
    for old in directory.parent.glob("templates-v*"):
        if old.name != directory.name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


class Renderer:
    """Renders one workload's templates for one dialect, in a sandbox, within `limits`."""

    def __init__(
        self,
        workload: Workload,
        dialect: str,
        scale: float,
        options: dict[str, int] | None = None,
        limits: TemplateLimits = DEFAULT_LIMITS,
    ) -> None:
        import jinja2

        self.workload, self.dialect, self.scale, self.limits = workload, dialect, scale, limits
        if not 0 < limits.output_mb < math.inf:
            raise TemplateError(
                f"templates.output_mb {limits.output_mb} must be a positive number of MB"
            )
        self.max_chars = max(1, int(limits.output_mb * 2**20))
        shared = bundled("workloads") / SHARED_DIR
        sandbox, loader = _jinja_classes()
        self.env = sandbox(
            self.max_chars,
            loader=loader([workload.path, shared], self.max_chars),
            bytecode_cache=_template_cache(),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
            auto_reload=False,  # one Renderer renders each file once: no need to stat it again
        )
        self.env.globals.update(
            dialect=dialect,
            scale=scale,
            workload=workload.name,
            options=workload.check_options(options),
        )
        self._dispatched_macros()

    def _dispatched_macros(self) -> dict[str, Any]:
        """One global per macro name, calling the dialect's version or else the default.

        The globals are dispatchers that look the macro up when called, so macros can call
        each other through the same names (a module's macros see only the globals that existed
        when it was made).
        """
        source, _, _ = self._guard(
            MACRO_FILE, lambda: self.env.loader.get_source(self.env, MACRO_FILE)
        )
        # Read the names off the source rather than parsing it: the compiled template comes
        # from the bytecode cache, and parsing would cost as much as compiling.
        names = {name.partition("__") for name in _MACRO_NAME.findall(source)}
        chosen: dict[str, str] = {}
        for prefix, sep, name in sorted(names, key=lambda n: n[0] != "default"):
            if sep and prefix in ("default", self.dialect):
                chosen[name] = f"{prefix}__{name}"
        module: list[Any] = []

        def dispatcher(macro: str):
            def dispatch(*args: Any, **kwargs: Any) -> Any:
                return getattr(module[0], macro)(*args, **kwargs)

            dispatch.whbench_macro = True  # type: ignore[attr-defined]  # measured as a macro
            return dispatch

        dispatchers = {name: dispatcher(macro) for name, macro in chosen.items()}
        self.env.globals.update(dispatchers)
        module.append(
            self._guard(MACRO_FILE, lambda: self.env.get_template(MACRO_FILE).make_module())
        )
        return dispatchers

    def query(self, query_id: str) -> str:
        """The query's SQL for this dialect: from the dialect's own file, else the shared
        template, else the shared plain SQL file translated from the workload's dialect.
        Raises Untranslatable (with the reason) when the translation cannot be made."""
        query = self.workload.query(query_id)
        queries = self.workload.path / "queries"
        override = queries / self.dialect / f"{query.id}.sql"
        if override.is_file():
            return strip_statement(read_text(override, "query file", WorkloadError))
        plain = queries / f"{query.id}.sql"
        templates = [queries / self.dialect / f"{query.id}.sql.j2", queries / f"{query.id}.sql.j2"]
        if plain.is_file() and not any(t.is_file() for t in templates):
            text = read_text(plain, "query file", WorkloadError)
            try:
                return translate(text, self.workload.dialect or self.dialect, self.dialect)
            except Untranslatable as exc:
                raise Untranslatable(
                    f"{query.id} cannot be translated to {self.dialect}: {exc}"
                ) from None
        return self._render(f"queries/{query.id}.sql.j2", query.params)

    def table_statements(self, table: Table, uris: dict[str, list[str]]) -> list[str]:
        """The schema and load statements for one table, in order. `uris` maps a file format
        ("parquet", "ndjson") to the table's files in it, as the engine reads them."""
        context = {"table": table, "uris": uris}
        return [
            statement
            for name in ("schema.sql.j2", "load.sql.j2")
            for statement in split_statements(self._render(name, context))
        ]

    def _render(self, name: str, context: dict[str, Any]) -> str:
        import jinja2

        directory, _, base = name.rpartition("/")
        candidates = [
            f"{directory}/{self.dialect}/{base}" if directory else f"{self.dialect}/{base}",
            name,
        ]

        def render() -> str:
            try:
                template = self.env.select_template(candidates)
            except jinja2.TemplatesNotFound:
                raise TemplateError(
                    f"workload {self.workload.name}: template file {name} not found in "
                    f"{self.workload.path}; create it"
                ) from None
            return self._stream(template, context)

        return self._guard(str(self.workload.path / name), render).strip()

    def _stream(self, template: Any, context: dict[str, Any]) -> str:
        """The template's output, counted as it streams and stopped once over the cap."""
        parts, size = [], 0
        stream = template.generate(context)
        for part in stream:
            size += len(part)
            if size > self.max_chars:
                where = _suspended_at(stream) or template.filename
                stream.close()
                raise TemplateError(
                    f"{where}: the output passed {self.limits.output_mb:g} MB "
                    "(templates.output_mb in the config); fix the template, or raise the limit "
                    "if it is meant"
                )
            parts.append(part)
        return "".join(parts)

    def _guard(self, name: str, action):
        """Run a Jinja action within the time limit, turning its errors into one line naming
        file, line and cause."""
        import jinja2
        import jinja2.sandbox

        token = _WATCHDOG.arm(self.limits.seconds)
        try:
            try:
                return action()
            finally:
                _WATCHDOG.disarm(token)
        except _OutOfTime as exc:
            # The timeout may have landed inside disarm(), before it took the render off the
            # watch: disarm until it has, or the watchdog would raise again later, elsewhere.
            while True:
                try:
                    _WATCHDOG.disarm(token)
                    break
                except _OutOfTime:
                    continue
            raise TemplateError(
                f"{_template_frame(exc, name)}: rendering took over {self.limits.seconds:g} s "
                "(templates.seconds in the config); fix the template, or raise the limit if it "
                "is meant"
            ) from None
        except TemplateError:
            raise
        except jinja2.TemplateSyntaxError as exc:
            where = f"{exc.filename or name}:{exc.lineno}"
            raise TemplateError(f"{where}: template syntax error: {exc.message}") from None
        except jinja2.sandbox.SecurityError as exc:
            raise TemplateError(
                f"{_template_frame(exc, name)}: refused by the template sandbox: "
                f"{str(exc.message).rstrip('.')}; "
                "a workload's templates cannot reach Python's internals"
            ) from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(
                f"{_template_frame(exc, name)}: {exc.message} when rendering for {self.dialect}; "
                "fix the template, or give the variable in the query's params in workload.yaml"
            ) from None
        except _Refused as exc:
            raise TemplateError(f"{_template_frame(exc, name)}: {exc}") from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(
                f"{_template_frame(exc, name)}: template {exc.name!r} not found in the "
                "workload's folder or workloads/_shared; fix the name or create it"
            ) from None
        except RecursionError as exc:
            raise TemplateError(
                f"{_template_frame(exc, name)}: templates nest or recurse too deeply; "
                "fix the template"
            ) from None
        except (Exception, MemoryError) as exc:  # whatever a template's expression raised
            raise TemplateError(
                f"{_template_frame(exc, name)}: {type(exc).__name__}: {first_line(exc)} when "
                f"rendering for {self.dialect}; fix the template"
            ) from None


def _template_frame(exc: BaseException, fallback: str) -> str:
    """file:line of the innermost template frame in a traceback: a frame Jinja rewrote (named
    after the template file), or a frame of compiled template code, mapped to its line."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        found = _frame_location(tb.tb_frame, tb.tb_lineno) or found
        tb = tb.tb_next
    return found or fallback


def _frame_location(frame: Any, line: int) -> str | None:
    template = frame.f_globals.get("__jinja_template__")
    if template is not None:
        return f"{template.filename}:{template.get_corresponding_lineno(line)}"
    if frame.f_code.co_filename.endswith(".j2"):
        return f"{frame.f_code.co_filename}:{line}"
    return None


def _suspended_at(stream: Any) -> str | None:
    """file:line where a template's output generator is suspended (the innermost one)."""
    found = None
    while stream is not None and getattr(stream, "gi_frame", None) is not None:
        found = _frame_location(stream.gi_frame, stream.gi_frame.f_lineno) or found
        stream = stream.gi_yieldfrom
    return found


_STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")


def split_statements(text: str) -> list[str]:
    return [s.strip() for s in _STATEMENT_END.split(text) if s.strip()]


def sql_orders_rows(sql: str) -> bool:
    """Whether the outermost SELECT has ORDER BY, so row order is part of the answer.

    A cheap scan of the text at parenthesis depth 0, so the run path needs no SQL parser.
    """
    depth = 0
    for token in re.finditer(r"\(|\)|'(?:[^']|'')*'|--[^\n]*|\border\s+by\b", sql, re.I):
        text = token.group(0)
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif depth == 0 and text[0] not in "'-":
            return True
    return False
