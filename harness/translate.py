"""Plain SQL written in one dialect, translated with sqlglot to the dialect an engine speaks.

A query is translated whole or not at all: when sqlglot cannot parse it, cannot express part of
it in the target dialect, or writes something the target's parser then rejects, the query is
`Untranslatable` for that engine, with the reason, and the runner records it as skipped rather
than sending half-translated SQL.
"""

from __future__ import annotations

from harness.errors import WorkloadError, first_line


class Untranslatable(WorkloadError):
    """A query that cannot be written in a target dialect; the message says why."""


def strip_statement(sql: str) -> str:
    """The statement without surrounding blanks and a final semicolon."""
    return sql.strip().rstrip(";").rstrip()


def translate(sql: str, source: str, target: str) -> str:
    """`sql` (one statement in `source`'s dialect) as `target`'s dialect. The same dialect gets
    the text as written: nothing is gained by a round trip through the parser, and the query
    then runs exactly as the user would run it by hand."""
    sql = strip_statement(sql)
    if source == target:
        return sql
    import sqlglot  # only workloads of plain SQL need the parser
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

    for dialect in (source, target):
        try:
            sqlglot.Dialect.get_or_raise(dialect)
        except ValueError:
            raise WorkloadError(
                f"sqlglot knows no dialect {dialect!r}; fix `dialect:` in workload.yaml"
            ) from None
    try:
        statements = [tree for tree in sqlglot.parse(sql, read=source) if tree is not None]
    except ParseError as exc:
        raise Untranslatable(f"it does not parse as {source} SQL: {first_line(exc)}") from None
    if len(statements) != 1:
        raise Untranslatable(f"the file holds {len(statements)} statements, not one")
    tree = statements[0]
    if isinstance(tree, exp.Command):  # sqlglot's fallback for text it did not understand
        raise Untranslatable(f"sqlglot does not understand this {source} statement")
    try:
        translated = tree.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise Untranslatable(first_line(exc)) from None
    except Exception as exc:  # sqlglot's own failure on a rare construct: still not sendable
        raise Untranslatable(f"sqlglot failed ({type(exc).__name__}: {first_line(exc)})") from None
    try:
        sqlglot.parse_one(translated, read=target)
    except ParseError as exc:
        raise Untranslatable(f"the translation does not parse: {first_line(exc)}") from None
    return translated
