"""Plain SQL written in one dialect, translated with sqlglot to the dialect an engine speaks.

A query is translated whole or not at all: when sqlglot cannot parse it, cannot express part of
it in the target dialect, or writes something the target's parser then rejects, the query is
`Untranslatable` for that engine, with the reason, and the runner records it as skipped rather
than sending half-translated SQL.

"Translates and parses" is not "valid": sqlglot parses a function it does not know as an
anonymous call, and writes a function it models under its generic name in every dialect, whether
or not that dialect has it. A translation that calls a function the target may not have is
therefore *unverified* and also `Untranslatable`, the reason naming the function (the rule is in
`unverified_functions`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.errors import WorkloadError, first_line

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.errors import ParseError


class Untranslatable(WorkloadError):
    """A query that cannot be written in a target dialect; the message says why."""


class SourceSyntaxError(Untranslatable):
    """The query does not parse in the dialect it is written in: one error, wherever it was to
    be sent, with the line and column sqlglot reports (lines counted in the text as given)."""

    def __init__(self, source: str, position: SyntaxPosition) -> None:
        super().__init__(f"it does not parse as {source} SQL: {position}")
        self.position = position


@dataclass(frozen=True)
class SyntaxPosition:
    """Where sqlglot stopped in a statement, and why, in words a user can act on."""

    line: int | None
    column: int | None
    description: str

    def __str__(self) -> str:
        if self.line is None:
            return self.description
        return f"line {self.line}, column {self.column}: {self.description}"


# sqlglot's descriptions quote its token objects whole ("<Token token_type: TokenType.WHERE,
# text: WHERE, line: 2, ...>"); the user wrote only the text.
_TOKEN = re.compile(r"<Token token_type: [^,]*, text: (.*?), line: \d+, col: \d+[^>]*>")


def syntax_position(exc: ParseError) -> SyntaxPosition:
    """The first error of a ParseError as line, column and a description without sqlglot's
    token dumps or its highlighted excerpt (the message's later lines)."""
    errors = getattr(exc, "errors", None) or []
    if not errors:
        return SyntaxPosition(None, None, first_line(exc))
    first = errors[0]
    description = _TOKEN.sub(lambda m: repr(m.group(1)), str(first.get("description") or ""))
    line, column = first.get("line"), first.get("col")
    # sqlglot's column is where the offending token ends; an editor wants where it starts
    highlight = str(first.get("highlight") or "")
    if isinstance(column, int) and highlight and "\n" not in highlight and column >= len(highlight):
        column = column - len(highlight) + 1
    return SyntaxPosition(line, column, description or "syntax error")


def parse_source(sql: str, source: str) -> exp.Expr:
    """`sql` (one statement, or one followed by a semicolon) parsed in `source`'s dialect.
    Raises SourceSyntaxError with the position when sqlglot cannot parse it, Untranslatable when
    it holds several statements or one sqlglot only keeps as an opaque command."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    # Only the end is trimmed, so sqlglot's line numbers are the file's.
    text = sql.rstrip().rstrip(";")
    try:
        statements = [tree for tree in sqlglot.parse(text, read=source) if tree is not None]
    except ParseError as exc:
        raise SourceSyntaxError(source, syntax_position(exc)) from None
    except Exception as exc:  # sqlglot's own failure (an IndexError on odd arguments): not sendable
        raise Untranslatable(
            f"sqlglot failed to read this {source} statement ({type(exc).__name__}: "
            f"{first_line(exc)})"
        ) from None
    if len(statements) != 1:
        raise Untranslatable(f"the file holds {len(statements)} statements, not one")
    tree = statements[0]
    if isinstance(tree, exp.Command):  # sqlglot's fallback for text it did not understand
        raise Untranslatable(f"sqlglot does not understand this {source} statement")
    return tree


def strip_statement(sql: str) -> str:
    """The statement without surrounding blanks and a final semicolon."""
    return sql.strip().rstrip(";").rstrip()


def _absent_functions() -> dict[str, dict[type, str]]:
    """Functions sqlglot models, and so parses as typed nodes in every dialect and writes under
    their generic name where the dialect has no rule of its own, that the dialect does not have.
    sqlglot holds no per-dialect list of functions, so an Anonymous node cannot reveal these:
    `SELECT MEDIAN(x)` parses as exp.Median in BigQuery too. Each entry is a function the
    vendor's function lists do not name: Google Cloud, "Aggregate functions" and "Approximate
    aggregate functions" (cloud.google.com/bigquery/docs/reference/standard-sql/
    aggregate_functions and approximate_aggregate_functions, read 2026-12-06): BigQuery's
    approximate quantile is APPROX_QUANTILES(x, n)[OFFSET(k)], its exact median the window
    function PERCENTILE_CONT(x, 0.5) OVER (). Known incomplete: it grows as users meet more.
    """
    from sqlglot import exp

    return {
        "bigquery": {
            exp.Median: "MEDIAN",
            exp.ApproxQuantile: "APPROX_QUANTILE",
            exp.Mode: "MODE",
            exp.Kurtosis: "KURTOSIS",
            exp.HashAgg: "HASH_AGG",
        },
    }


def _function_name(node: exp.Func) -> str:
    from sqlglot import exp

    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).upper()


def unverified_functions(
    source_tree: exp.Expr, target_tree: exp.Expr, source: str, target: str
) -> list[str]:
    """Why the translation (`target_tree`, the translated SQL parsed again in `target`'s
    dialect) is unverified, one reason per function; empty when sqlglot vouches for every call.

    The rule, for a query translated from one dialect to another, looks at every function call
    in the translation:
    - An anonymous call (a name sqlglot does not model in the target) that the user also wrote
      as an anonymous call in the source is a user-defined function or an engine function
      sqlglot does not model in either dialect. sqlglot passed it through without knowing
      whether the target has it, so it is unverified (a query that needs it there is written
      by hand in `queries/<target>/`). A same-dialect query is not checked: it runs as written.
    - An anonymous call under the generic name of a function sqlglot knew in the source
      (exp.Median is MEDIAN) is that function carried across unmapped: sqlglot had no rule for
      the target and its own target parser does not know the name. Unverified: "MEDIAN has no
      <target> equivalent that sqlglot knows".
    - An anonymous call under any other name is one the target's generator wrote on purpose
      (Snowflake ARRAY_CONTAINS is DuckDB LIST_COUNT, though sqlglot's DuckDB parser does not
      model LIST_COUNT): sqlglot's mapping, trusted like every other.
    - A typed function the target is known not to have (`_absent_functions`: sqlglot models it
      everywhere and writes it under its generic name, e.g. MEDIAN for BigQuery) is unverified
      as in the second case. An Anonymous check alone cannot see these.
    """
    from sqlglot import exp

    written = {_function_name(n) for n in source_tree.find_all(exp.Anonymous)}
    generic = {
        _function_name(n)
        for n in source_tree.find_all(exp.Func)
        if not isinstance(n, exp.Anonymous)
    }
    absent = _absent_functions().get(target, {})
    reasons: dict[str, str] = {}  # by name: a function called twice is named once
    for node in target_tree.find_all(exp.Func):
        name = _function_name(node)
        if isinstance(node, exp.Anonymous) and name in written:
            reasons[name] = (
                f"{name} is a function sqlglot knows in neither {source} nor {target} (a "
                f"user-defined function, or one sqlglot does not model), so nothing says "
                f"{target} has it; write the query for {target} in queries/{target}/ if it does"
            )
        elif isinstance(node, exp.Anonymous) and name in generic:
            reasons[name] = f"{name} has no {target} equivalent that sqlglot knows"
        elif type(node) in absent:
            name = absent[type(node)]
            reasons[name] = f"{name} has no {target} equivalent that sqlglot knows"
    return list(reasons.values())


def translate(sql: str, source: str, target: str) -> str:
    """`sql` (one statement in `source`'s dialect) as `target`'s dialect. The same dialect gets
    the text as written: nothing is gained by a round trip through the parser, and the query
    then runs exactly as the user would run it by hand. Raises Untranslatable (SourceSyntaxError
    for a syntax error) when it cannot be written there or the result is unverified."""
    if source == target:
        return strip_statement(sql)
    import sqlglot  # only workloads of plain SQL need the parser
    from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

    for dialect in (source, target):
        try:
            sqlglot.Dialect.get_or_raise(dialect)
        except ValueError:
            raise WorkloadError(
                f"sqlglot knows no dialect {dialect!r}; fix `dialect:` in workload.yaml"
            ) from None
    tree = parse_source(sql, source)
    try:
        translated = tree.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise Untranslatable(first_line(exc)) from None
    except Exception as exc:  # sqlglot's own failure on a rare construct: still not sendable
        raise Untranslatable(f"sqlglot failed ({type(exc).__name__}: {first_line(exc)})") from None
    try:
        again = sqlglot.parse_one(translated, read=target)
    except ParseError as exc:
        raise Untranslatable(f"the translation does not parse: {syntax_position(exc)}") from None
    except Exception as exc:  # sqlglot failing on its own output: nothing vouches for it
        raise Untranslatable(
            f"sqlglot cannot read its own {target} translation ({type(exc).__name__}: "
            f"{first_line(exc)})"
        ) from None
    reasons = unverified_functions(tree, again, source, target)
    if reasons:
        raise Untranslatable("unverified: " + "; ".join(reasons))
    return translated
