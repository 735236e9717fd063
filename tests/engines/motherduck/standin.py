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
    slow_sql="SELECT count(*) FROM range(100000000000)",
    rows_sql="SELECT range AS n, 'x' || range AS t, DATE '2020-01-01' + (range % 300)::INT AS d "
    "FROM range({rows})",
    large_fetch="arrow",
    fetch_words=("fetchmany", "to_arrow_reader"),
    unarrow_sql="SELECT range AS n, range::HUGEINT AS h FROM range({rows})",  # HUGEINT
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
