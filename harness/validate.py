"""`whbench validate`: render every template for every dialect and parse it with sqlglot."""

from __future__ import annotations

from dataclasses import dataclass

from harness.engines import dialects
from harness.errors import WorkloadError, first_line
from harness.workloads import Renderer, Workload


@dataclass(frozen=True)
class Problem:
    workload: str
    dialect: str
    item: str  # a query id or "<table> schema/load"
    message: str


def validate_workload(workload: Workload) -> tuple[int, list[Problem]]:
    """(statements checked, problems) for every query, schema and load in every dialect."""
    import sqlglot  # only validation needs the parser
    from sqlglot import exp

    checked, problems = 0, []

    def parse(dialect: str, item: str, sql: str) -> None:
        nonlocal checked
        checked += 1
        try:
            tree = sqlglot.parse_one(sql, read=dialect)
        except sqlglot.errors.ParseError as exc:
            problems.append(Problem(workload.name, dialect, item, first_line(exc)))
            return
        if isinstance(tree, exp.Command):  # sqlglot's fallback for text it did not understand
            problems.append(Problem(workload.name, dialect, item, "not understood by sqlglot"))

    for dialect in dialects():
        try:
            renderer = Renderer(workload, dialect, workload.scale.default)
            for query in workload.queries:
                parse(dialect, query.id, renderer.query(query.id))
            for table in workload.tables:
                uris = {fmt: [f"data/{table.name}.{fmt}"] for fmt in ("parquet", "ndjson")}
                for statement in renderer.table_statements(table, uris):
                    parse(dialect, f"{table.name} schema/load", statement)
        except WorkloadError as exc:
            problems.append(Problem(workload.name, dialect, "render", str(exc)))
    return checked, problems
