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

import functools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness import sandbox
from harness.answers import DEFAULT_RELATIVE, AnswerRules
from harness.capabilities import Approximate, check_approximate, check_features
from harness.engines import dialects
from harness.engines.base import NAMESPACE_PREFIX
from harness.errors import TemplateError, WorkloadError
from harness.paths import (
    ANY,
    NAME,
    NAMES,
    YamlError,
    bundled,
    check_keys,
    read_text,
    read_yaml,
)
from harness.scale import YOUR_DATA, Scale
from harness.settings import TemplateLimits
from harness.translate import Untranslatable, strip_statement, translate

DATA_TYPES = ("structured", "semi-structured", "unstructured", "vector embeddings", "time series")
FILES_GENERATOR = "files"  # harness/datagen/files.py: a workload's own files, not generated
SHARED_DIR = "_shared"
MACRO_FILE = "dialect.sql.j2"
_MACRO_NAME = re.compile(r"{%-?\s*macro\s+(\w+)")
T = TypeVar("T")


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
    features: tuple[str, ...] = ()  # what it exercises (workloads/_shared/features.yaml)
    approximate: Approximate | None = None  # scored by recall@k, not by equality
    same_answer_as: str | None = None  # another form of that query: its known answer holds


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
        (harness.datafiles.inspect_tables); a run plans with this, before anything loads."""
        from harness.datafiles import inspect_tables

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
        from harness.datafiles import fingerprint

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
_OPTION_KEYS = {"default": None, "min": None, "max": None, "help": None}
_QUERY_KEYS = dict.fromkeys(("id", "title", "features", "approximate", "same_answer_as"))
_QUERY_KEYS["params"] = ANY
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
    "queries": [_QUERY_KEYS],
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
            queries=tuple(_query(q, spec_file, spec["queries"]) for q in spec["queries"]),
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
            "see docs/workloads.md"
        ) from None


def _query(q: dict[str, Any], spec_file: Path, queries: list[dict[str, Any]]) -> Query:
    where = f"{spec_file}: query {q['id']}"
    features = check_features(q.get("features"), where)
    approximate = check_approximate(q.get("approximate"), where)
    if (mirrored := q.get("same_answer_as")) not in (None, *(other["id"] for other in queries)):
        raise WorkloadError(f"{where}: same_answer_as names no query of this workload")
    params = dict(q.get("params") or {})
    return Query(q["id"], q["title"], params, features, approximate, mirrored)


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


class Renderer:
    """Renders one workload's templates for one dialect, in a sandbox, within `limits`."""

    def __init__(
        self,
        workload: Workload,
        dialect: str,
        scale: float,
        options: dict[str, int] | None = None,
        limits: TemplateLimits | None = None,  # None: the defaults
    ) -> None:
        self.workload, self.dialect, self.scale = workload, dialect, scale
        self.limits = limits = limits or TemplateLimits()
        self.env = sandbox.environment(
            [workload.path, bundled("workloads") / SHARED_DIR], limits, (Table, Column, Query)
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
            return sandbox.render(template, context, self.limits)

        return self._guard(str(self.workload.path / name), render).strip()

    def _guard(self, name: str, action: Callable[[], T]) -> T:
        return sandbox.guard(name, self.dialect, self.limits, action)


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
