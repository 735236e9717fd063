"""`whbench validate`: render every template for every dialect and parse it with sqlglot; for
plain SQL written in one dialect, whether each query translates for each dialect."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.engines import dialects
from harness.errors import WorkloadError
from harness.paths import read_text
from harness.settings import TemplateLimits
from harness.translate import SourceSyntaxError, Untranslatable, parse_source, syntax_position
from harness.workloads import Renderer, Workload

# Statements an engine documents that sqlglot does not model (it reads them as a Command, text
# it did not understand): dialect -> their opening words, each with the page that defines it.
# A Command that starts with one of them is the documented statement, not a problem.
UNMODELLED = {
    # https://cloud.google.com/bigquery/docs/vector-index (read 2026-12-06); sqlglot 30.22
    "bigquery": ("CREATE VECTOR INDEX",),
}


@dataclass(frozen=True)
class Problem:
    workload: str
    dialect: str
    item: str  # a query id or "<table> schema/load"
    message: str


@dataclass
class Validation:
    statements: int = 0  # rendered and parsed
    problems: list[Problem] = field(default_factory=list)
    # dialect -> (queries that translate and parse, queries in all)
    queries: dict[str, tuple[int, int]] = field(default_factory=dict)
    # dialect -> query id -> why it cannot be translated: the run skips it there
    untranslatable: dict[str, dict[str, str]] = field(default_factory=dict)


def translated_from(workload: Workload, query_id: str, dialect: str) -> Path | None:
    """The shared plain SQL file a query's SQL for `dialect` is translated from, or None when
    the dialect has its own file or a template (Renderer.query's order: a dialect's own file,
    then a template, then the shared .sql)."""
    queries = workload.path / "queries"
    plain = queries / f"{query_id}.sql"
    own = [
        queries / dialect / f"{query_id}.sql",
        queries / dialect / f"{query_id}.sql.j2",
        queries / f"{query_id}.sql.j2",
    ]
    if not workload.dialect or not plain.is_file() or any(p.is_file() for p in own):
        return None
    return plain


def syntax_error(workload: Workload, query_id: str) -> str | None:
    """The one line naming the file and position where a query's shared plain SQL does not
    parse in the workload's dialect, or None. Said once per query, not once per dialect it
    would have been translated to."""
    plain = workload.path / "queries" / f"{query_id}.sql"
    shared_template = workload.path / "queries" / f"{query_id}.sql.j2"
    if workload.dialect is None or not plain.is_file() or shared_template.is_file():
        return None
    try:
        parse_source(read_text(plain, "query file", WorkloadError), workload.dialect)
    except SourceSyntaxError as exc:
        where = plain.relative_to(workload.path).as_posix()
        return f"{where} does not parse as {workload.dialect} SQL: {exc.position}"
    except Untranslatable:  # not a syntax error: each dialect says why, as before
        return None
    return None


@contextmanager
def _parser_warnings_off() -> Iterator[None]:
    """sqlglot logs a warning when it falls back to a Command; validation says that once, as a
    problem of the query (or not at all for a documented statement), so the log stays quiet."""
    log = logging.getLogger("sqlglot")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _documented(dialect: str, sql: str) -> bool:
    """Whether `sql` is a statement the dialect documents and sqlglot does not model."""
    opening = " ".join(sql.split()[:4]).upper()
    return any(opening.startswith(words) for words in UNMODELLED.get(dialect, ()))


def validate_workload(workload: Workload, limits: TemplateLimits) -> Validation:
    """Every query, schema and load statement in every dialect, rendered (within the config's
    `templates:` limits) and parsed."""
    import sqlglot  # only validation needs the parser
    from sqlglot import exp

    found = Validation()
    broken: dict[str, str] = {}  # query id -> its syntax error, said once
    for query in workload.queries:
        problem = syntax_error(workload, query.id)
        if problem is not None:
            broken[query.id] = problem
            found.problems.append(Problem(workload.name, workload.dialect or "", query.id, problem))

    def parses(dialect: str, item: str, sql: str) -> bool:
        found.statements += 1
        try:
            with _parser_warnings_off():
                tree = sqlglot.parse_one(sql, read=dialect)
        except sqlglot.errors.ParseError as exc:
            found.problems.append(Problem(workload.name, dialect, item, str(syntax_position(exc))))
            return False
        if isinstance(tree, exp.Command) and not _documented(dialect, sql):
            # sqlglot's fallback for text it did not understand
            found.problems.append(
                Problem(workload.name, dialect, item, "not understood by sqlglot")
            )
            return False
        return True

    for dialect in dialects():
        good = 0
        try:
            renderer = Renderer(workload, dialect, workload.scale.default, limits=limits)
            for query in workload.queries:
                if query.id in broken and translated_from(workload, query.id, dialect):
                    continue  # its syntax error is a problem above, said once
                try:
                    sql = renderer.query(query.id)
                except Untranslatable as exc:
                    found.untranslatable.setdefault(dialect, {})[query.id] = str(exc)
                    continue
                good += parses(dialect, query.id, sql)
            for table in workload.tables:
                uris = {fmt: [f"data/{table.name}.{fmt}"] for fmt in ("parquet", "ndjson")}
                for statement in renderer.table_statements(table, uris):
                    parses(dialect, f"{table.name} schema/load", statement)
        except WorkloadError as exc:
            found.problems.append(Problem(workload.name, dialect, "render", str(exc)))
        found.queries[dialect] = (good, len(workload.queries))
    return found
