"""Moved to tests/engines/redshift/postgres.py (the Redshift stand-in's PostgreSQL cluster and
protocol shim). This name stays only for benchmarks/fetch_paths.py, which imports it; remove it
once that script imports engines.redshift.postgres (or reads tests/standins.py)."""

from engines.redshift.postgres import (  # noqa: F401
    PostgresCluster,
    RedshiftShim,
    postgres_available,
)
