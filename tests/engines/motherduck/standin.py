"""MotherDuck's stand-in: the engine's own code path (MotherDuckEngine, the DuckDB client) on a
local DuckDB file in the test's folder instead of an `md:` database.

What it cannot prove (docs/engines.md, "What the local stand-in cannot prove"): DuckDB 2.0
downloads the `motherduck` extension at first use, and nothing here can download it or reach the
service (PyPI carries `duckdb-extension-motherduck` only for DuckDB 1.5.5). So the `md:`
connection string, the token and sign-in, CREATE DATABASE on the service, hybrid (dual)
execution, the Duckling's own speed and MotherDuck's statistics are not exercised; the SQL, the
loads, the namespaces (schemas of one database), clean, the time limit and cancelling are.
"""

from __future__ import annotations

from standins import RealAccount, StandIn

from engines.duckdb.standin import STAND_IN as DUCKDB


def real_motherduck(env):
    from harness.engines.motherduck import MotherDuckEngine, MotherDuckSettings

    return MotherDuckEngine(
        MotherDuckSettings(
            database=env.get("MOTHERDUCK_DATABASE") or "whbench",
            duckling=env.get("MOTHERDUCK_DUCKLING"),
        )
    )


STAND_IN = StandIn(
    name="motherduck",
    what="MotherDuckEngine on a local DuckDB file (local_stand_in), in process: no md: service",
    settings=lambda request, tmp_path: {
        "local_stand_in": str(tmp_path / "md.duckdb"),
        "duckling": "standard",
    },
    # The DuckDB client's SQL and fetching: DuckDB's own stand-in's.
    slow_sql=DUCKDB.slow_sql,
    rows_sql=DUCKDB.rows_sql,
    large_fetch=DUCKDB.large_fetch,
    fetch_words=DUCKDB.fetch_words,
    unarrow_sql=DUCKDB.unarrow_sql,
    # No gap the suite can name: every difference from the service is below the SQL (above).
    real=RealAccount(
        needs=("MOTHERDUCK_TOKEN",),
        reason="needs a real MotherDuck account: set MOTHERDUCK_TOKEN (an access token; "
        "MOTHERDUCK_DATABASE and MOTHERDUCK_DUCKLING optional), and a machine that can download "
        "DuckDB's motherduck extension",
        engine=real_motherduck,
        namespace="main",  # the database's own schema: nothing to create
    ),
)
