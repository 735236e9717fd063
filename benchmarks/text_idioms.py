"""The text workload's tokenising queries on DuckDB: the rendered t06 and t09 against the same
queries written by hand in DuckDB's idiomatic form, and against the form the templates used
before (a CROSS JOIN with unnest(...) in FROM). Same data, same in-memory database, loaded and
run through the harness's own generator, renderer and DuckDB engine; the forms take turns in
every round so a noisy neighbour slows them alike. Every form must give the same rows, and
t06 and t09 must give the generator's known answers.

Target (issue 25): the rendered t06 within 1.3x of the idiomatic form (the median over rounds
of each round's ratio); the script exits 1 when it is not.

    python benchmarks/text_idioms.py                       # 200,000 documents, 5 rounds
    python benchmarks/text_idioms.py --scale 20000 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from harness.datagen import ensure_data
from harness.datagen.text import expected_answers
from harness.engines.duckdb import DuckDBEngine, DuckDBSettings
from harness.workloads import Renderer, get_workload

# What word_rows rendered to on DuckDB before: a lateral join that DuckDB runs ~3x slower.
NEW_WORDS = (
    "(SELECT *, unnest(regexp_split_to_array(lower(body), '[^a-z]+')) AS word FROM documents) AS d"
)
OLD_WORDS = (
    "documents d CROSS JOIN unnest(regexp_split_to_array(lower(d.body), '[^a-z]+')) "
    "AS word_rows(word)"
)

# The same questions as a DuckDB user would write them (the select-list unnest of
# https://duckdb.org/docs/stable/sql/query_syntax/unnest, read 2026-12-06).
IDIOMATIC = {
    "t06": """
        SELECT word, count(*) AS occurrences
        FROM (SELECT unnest(regexp_split_to_array(lower(body), '[^a-z]+')) AS word
              FROM documents)
        WHERE word <> ''
        GROUP BY word
        ORDER BY occurrences DESC, word
        LIMIT {top}""",
    "t09": """
        WITH scored AS (
            SELECT doc_id, channel,
                   sum(CASE WHEN word IN ({positive}) THEN 1
                            WHEN word IN ({negative}) THEN -1 ELSE 0 END) AS score
            FROM (SELECT doc_id, channel,
                         unnest(regexp_split_to_array(lower(body), '[^a-z]+')) AS word
                  FROM documents)
            GROUP BY doc_id, channel)
        SELECT channel, count(*) AS documents, avg(score::DOUBLE) AS mean_score
        FROM scored GROUP BY channel ORDER BY channel""",
}


def listed(words: list[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def forms(renderer: Renderer, query_id: str) -> dict[str, str]:
    rendered = renderer.query(query_id)
    if NEW_WORDS not in rendered:
        sys.exit(
            f"{query_id}: the rendered query no longer holds {NEW_WORDS!r}; update this script"
        )
    params = renderer.workload.query(query_id).params
    idiomatic = IDIOMATIC[query_id].format(
        top=params.get("top"),
        positive=listed(params.get("positive", [])),
        negative=listed(params.get("negative", [])),
    )
    return {
        "rendered": rendered,
        "idiomatic": idiomatic,
        "before": rendered.replace(NEW_WORDS, OLD_WORDS),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=200_000, help="documents")
    parser.add_argument("--runs", type=int, default=5, help="rounds (each form once per round)")
    parser.add_argument("--data-dir", type=Path, default=Path("results/data"))
    parser.add_argument("--max-ratio", type=float, default=1.3)
    args = parser.parse_args()

    workload = get_workload("text")
    data = ensure_data(args.data_dir, workload, args.scale)
    engine = DuckDBEngine(DuckDBSettings(database=":memory:"))
    engine.connect()
    renderer = Renderer(workload, engine.dialect, args.scale)
    namespace = workload.namespace(args.scale)
    for table in workload.tables:
        files = data.table_data(table.name)
        engine.load(namespace, files, renderer.table_statements(table, engine.source_uris(files)))
    engine.prepare_session(namespace, "text_idioms", 600)
    print(
        f"DuckDB {engine.version()}, {args.scale:,} documents ({data.folder}), {args.runs} rounds"
    )

    expected = expected_answers(data.truth, workload)
    failed = False
    for query_id in ("t06", "t09"):
        texts = forms(renderer, query_id)
        seconds: dict[str, list[float]] = {name: [] for name in texts}
        answers: dict[str, list[tuple]] = {}
        for name, sql in texts.items():  # a warm-up round, which also collects the answers
            answers[name] = engine.execute(sql, 600).rows
        for _ in range(args.runs):
            for name, sql in texts.items():
                started = time.perf_counter()
                engine.execute(sql, 600)
                seconds[name].append(time.perf_counter() - started)
        rows = answers["rendered"]
        if any(other != rows for other in answers.values()):
            sys.exit(f"{query_id}: the forms give different answers: {answers}")
        known = expected[query_id]
        got = [[row[c - 1] for c in known.get("columns", range(1, len(row) + 1))] for row in rows]
        if not all(
            all(
                abs(a - b) < 1e-9 if isinstance(a, float) else a == b
                for a, b in zip(x, y, strict=True)
            )
            for x, y in zip(got, known["rows"], strict=True)
        ):
            sys.exit(f"{query_id}: not the generator's known answer: {got} != {known['rows']}")
        median = {name: statistics.median(times) for name, times in seconds.items()}
        for name, times in seconds.items():
            print(
                f"  {query_id} {name:<9} median {median[name]:6.3f} s  "
                f"(min {min(times):.3f}, max {max(times):.3f}; {len(times)} runs)"
            )
        # Each round's own ratio, then their median: a neighbour's load that comes and goes
        # slows both forms of one round alike.
        ratio = statistics.median(
            r / i for r, i in zip(seconds["rendered"], seconds["idiomatic"], strict=True)
        )
        before = statistics.median(
            b / i for b, i in zip(seconds["before"], seconds["idiomatic"], strict=True)
        )
        print(
            f"  {query_id} rendered / idiomatic = {ratio:.2f}x   (before: {before:.2f}x; "
            f"ratio of medians {median['rendered'] / median['idiomatic']:.2f}x, before "
            f"{median['before'] / median['idiomatic']:.2f}x)"
        )
        if query_id == "t06" and ratio > args.max_ratio:
            failed = True
    engine.close()
    if failed:
        sys.exit(f"the rendered t06 is more than {args.max_ratio}x the idiomatic form")


if __name__ == "__main__":
    main()
