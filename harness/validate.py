"""`whbench validate`: render every template for every dialect and parse it with sqlglot; for
plain SQL written in one dialect, whether each query translates for each dialect."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.config import TemplateLimits
from harness.engines import dialects
from harness.errors import WorkloadError, first_line
from harness.translate import Untranslatable
from harness.workloads import Renderer, Workload


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


def validate_workload(workload: Workload, limits: TemplateLimits) -> Validation:
    """Every query, schema and load statement in every dialect, rendered (within the config's
    `templates:` limits) and parsed."""
    import sqlglot  # only validation needs the parser
    from sqlglot import exp

    found = Validation()

    def parses(dialect: str, item: str, sql: str) -> bool:
        found.statements += 1
        try:
            tree = sqlglot.parse_one(sql, read=dialect)
        except sqlglot.errors.ParseError as exc:
            found.problems.append(Problem(workload.name, dialect, item, first_line(exc)))
            return False
        if isinstance(tree, exp.Command):  # sqlglot's fallback for text it did not understand
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
