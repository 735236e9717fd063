"""The shape of the results store: its tables and the attempt_details view (SCHEMA, always
the newest), and the statements that take a store from each older version to the next
(MIGRATIONS). Raise SCHEMA_VERSION and add its step when a column is added; the typed rows in
rows.py name the same columns.
"""

from __future__ import annotations

SCHEMA_VERSION = 15

ATTEMPT_DETAILS = """
CREATE OR REPLACE VIEW attempt_details AS
    SELECT r.engine, r.workload, r.data_type, r.scale, a.*, q.title, q.ordered, q.sql,
           -- why an attempt's time is left out of times and verdicts: it may be a cache read
           CASE WHEN a.cache_hit THEN 'result cache hit'
                WHEN a.phase IN ('hot', 'load') AND r.result_cache = 'not turned off'
                THEN 'result cache could not be turned off' END AS excluded
    FROM attempts a
    JOIN runs r USING (run_id)
    LEFT JOIN queries q USING (run_id, query_id);
"""

INVOCATIONS = """
CREATE TABLE IF NOT EXISTS invocations (  -- each `whbench run`: its plan, for --resume
    invocation_id VARCHAR,
    started_at TIMESTAMPTZ,
    plan JSON                      -- runs, timeout_seconds, tasks (engine, workload, scale, …)
);
"""

# What takes a store from version N-1 to N. SCHEMA below is always the newest shape.
MIGRATIONS: dict[int, list[str]] = {
    2: ["ALTER TABLE runs ADD COLUMN workload_options JSON"],
    3: ["ALTER TABLE runs ADD COLUMN notes JSON"],
    4: ["ALTER TABLE attempts ADD COLUMN cloud_services_credits DOUBLE"],
    5: [
        *(
            f"ALTER TABLE attempts ADD COLUMN {column} DOUBLE"
            for column in ("queued_seconds", "compile_seconds", "execution_seconds")
        ),
        "ALTER TABLE runs ADD COLUMN run_usage JSON",
    ],
    6: [
        "ALTER TABLE attempts ADD COLUMN ended_at TIMESTAMPTZ",
        "ALTER TABLE runs ADD COLUMN after_run JSON",
    ],
    7: [
        "ALTER TABLE attempts ADD COLUMN answer VARCHAR",
        "ALTER TABLE attempts ADD COLUMN cold_method VARCHAR",
        "ALTER TABLE runs ADD COLUMN result_cache VARCHAR",
        "CREATE TABLE results (run_id VARCHAR, query_id VARCHAR, attempt INTEGER, "
        "columns JSON, total_rows BIGINT, rest_fingerprint VARCHAR, rows JSON, "
        "answer VARCHAR, difference JSON)",
        "DROP VIEW attempt_details",
        ATTEMPT_DETAILS,
    ],
    8: [
        "ALTER TABLE attempts ADD COLUMN stream INTEGER",
        "ALTER TABLE attempts ADD COLUMN level INTEGER",
        "ALTER TABLE attempts ADD COLUMN harness_queue_seconds DOUBLE",
        "ALTER TABLE runs ADD COLUMN load JSON",
        "CREATE TABLE levels (run_id VARCHAR, level INTEGER, status VARCHAR, "
        "started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ)",
        "DROP VIEW attempt_details",
        ATTEMPT_DETAILS,
    ],
    9: ["ALTER TABLE levels ADD COLUMN scale_out JSON"],
    10: [
        "CREATE TABLE kept_rows (digest VARCHAR, rows JSON)",
        "INSERT INTO kept_rows SELECT DISTINCT sha256(rows::VARCHAR), rows FROM results "
        "WHERE rows IS NOT NULL",
        "ALTER TABLE results ADD COLUMN rows_digest VARCHAR",
        "UPDATE results SET rows_digest = sha256(rows::VARCHAR)",
        "ALTER TABLE results DROP COLUMN rows",
    ],
    11: [INVOCATIONS],
    # IF NOT EXISTS: a store taken back to an older version by hand (the tests) may keep it.
    12: ["ALTER TABLE runs ADD COLUMN IF NOT EXISTS round_trip_seconds JSON"],
    13: [
        "ALTER TABLE attempts ADD COLUMN IF NOT EXISTS rows_read BIGINT",
        "ALTER TABLE attempts ADD COLUMN IF NOT EXISTS peak_memory_bytes BIGINT",
        ATTEMPT_DETAILS,  # rebound, so that a.* surely carries the new columns
    ],
    14: [
        "ALTER TABLE attempts ADD COLUMN IF NOT EXISTS recall DOUBLE",
        ATTEMPT_DETAILS,
    ],
    # Runs stored before keep NULL: where they ran was not recorded, and is never guessed.
    15: ["ALTER TABLE runs ADD COLUMN IF NOT EXISTS endpoint JSON"],
}

SCHEMA = (
    """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    invocation_id VARCHAR,         -- runs started by the same `whbench run`
    status VARCHAR,                -- running, finished, failed, interrupted
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    harness_version VARCHAR,
    git_commit VARCHAR,
    host VARCHAR,
    engine VARCHAR,
    engine_version VARCHAR,
    engine_settings JSON,          -- threads, warehouse size … as the engine reported them
    workload VARCHAR,
    data_type VARCHAR,
    scale DOUBLE,
    workload_options JSON,         -- generator parameters, e.g. {"gap_minutes": 5}
    namespace VARCHAR,
    runs_per_query INTEGER,
    timeout_seconds DOUBLE,
    checksum_decimals INTEGER,
    config JSON,                   -- as written, secrets removed
    error VARCHAR,
    notes JSON,                    -- what the engine could not do as asked
    run_usage JSON,                -- the vendor's billed figures for the run's window, fetched
    after_run JSON,                -- what the engine did after the last query (a suspend …)
    result_cache VARCHAR,          -- off, not turned off (the engine refused), none (has none)
    load JSON,                     -- under load: levels, iterations or duration, arrival rate
    round_trip_seconds JSON,       -- the session's floor: SELECT 1 x n, {min, median, n, sql};
                                   -- NULL where it was not measured (never 0)
    endpoint JSON                  -- where it ran: {kind, address} (harness/engines/where.py);
                                   -- NULL for a run stored before whbench recorded it
);
CREATE TABLE loads (
    run_id VARCHAR,
    table_name VARCHAR,
    status VARCHAR,                -- loaded, reused, error
    rows BIGINT,
    bytes_stored BIGINT,
    seconds DOUBLE,
    error VARCHAR
);
CREATE TABLE queries (
    run_id VARCHAR,
    query_id VARCHAR,
    title VARCHAR,
    ordered BOOLEAN,               -- row order is part of the answer
    sql VARCHAR                    -- exactly what the engine received
);
CREATE TABLE attempts (
    run_id VARCHAR,
    query_id VARCHAR,
    attempt INTEGER,               -- 1 is the first run of the query
    phase VARCHAR,                 -- cold, lukewarm (first, caches not emptied), hot
    status VARCHAR,                -- ok, error, timeout, skipped, unsupported (a feature the
                                   -- engine lacks: never sent)
    started_at TIMESTAMPTZ,
    client_seconds DOUBLE,         -- full round trip including fetching every row
    engine_seconds DOUBLE,         -- the engine's own elapsed time, where it reports one
    rows BIGINT,
    checksum VARCHAR,
    engine_query_id VARCHAR,
    bytes_scanned BIGINT,
    bytes_billed BIGINT,
    slot_ms BIGINT,
    warehouse_seconds DOUBLE,
    rpu_seconds DOUBLE,
    cache_hit BOOLEAN,
    error VARCHAR,
    cloud_services_credits DOUBLE, -- Snowflake: billed only beyond 10% of warehouse credits
    queued_seconds DOUBLE,         -- the engine's own breakdown of its time, where it gives one
    compile_seconds DOUBLE,
    execution_seconds DOUBLE,
    ended_at TIMESTAMPTZ,          -- with started_at: when the attempt held the engine
    answer VARCHAR,                -- correct, wrong, unchecked (no known answer)
    cold_method VARCHAR,           -- how a cold attempt was made cold
    stream INTEGER,                -- under load: the stream (its own session) that ran it
    level INTEGER,                 -- under load: how many streams ran at once
    harness_queue_seconds DOUBLE,  -- open loop: waited in the harness's queue before it started
    rows_read BIGINT,              -- rows the engine read to answer, where it reports them
    peak_memory_bytes BIGINT,      -- the most memory the query held at once, where reported
    recall DOUBLE                  -- an approximate query's recall@k against the exact
                                   -- neighbours, in [0, 1]; NULL for every other query
);
CREATE TABLE levels (              -- under load: each concurrency level, measured whole or not
    run_id VARCHAR,
    level INTEGER,
    status VARCHAR,                -- finished, interrupted
    started_at TIMESTAMPTZ,        -- when its streams were released, all at once
    ended_at TIMESTAMPTZ,          -- when the last one finished
    scale_out JSON                 -- compute the engine added in the level, as it reports it
);
CREATE TABLE results (             -- each query's result, once per run: its first answer
    run_id VARCHAR,
    query_id VARCHAR,
    attempt INTEGER,
    columns JSON,                  -- names, as the engine gave them (lower case)
    total_rows BIGINT,
    rest_fingerprint VARCHAR,      -- of the rows beyond the kept ones, when capped
    rows_digest VARCHAR,           -- its kept rows: kept_rows.digest
    answer VARCHAR,                -- against the known answer: correct, wrong, unchecked
    difference JSON                -- when wrong: the rule that failed and the rows that differ
);
-- The first rows of each distinct answer (harness.kept_answers.KEPT_ROWS), types tagged, stored
-- once however many runs gave it: a run that repeats its answers adds nothing here. (Appending
-- to a table makes DuckDB's checkpoint rewrite that table's last row group, so with the rows
-- inline every run paid for rewriting every earlier run's answers.)
CREATE TABLE kept_rows (
    digest VARCHAR,                -- sha256 of the rows as JSON text
    rows JSON
);
"""
    + INVOCATIONS
    + ATTEMPT_DETAILS
)

RUN_JSON_COLUMNS = (
    "load",
    "engine_settings",
    "workload_options",
    "config",
    "notes",
    "run_usage",
    "after_run",
    "round_trip_seconds",
    "endpoint",
)
