"""The engine registry: the one place that maps engine names to their packages.

CLI choices, `whbench engines`, config validation, the dialects and test parametrisation all
derive from it; adding an engine means adding its package and one line here. A package is
imported only when its engine is used, so a command pays only for the engines it touches.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from harness.errors import ConfigError, EngineError

if TYPE_CHECKING:
    from harness.engines.base import Engine, EngineSettings
    from harness.pricing import Billing, Catalog
    from harness.store.rows import StoredRun

# name -> "package:EngineClass"
REGISTRY = {
    "duckdb": "harness.engines.duckdb:DuckDBEngine",
    "bigquery": "harness.engines.bigquery:BigQueryEngine",
    "snowflake": "harness.engines.snowflake:SnowflakeEngine",
    "redshift": "harness.engines.redshift:RedshiftEngine",
    "clickhouse": "harness.engines.clickhouse:ClickHouseEngine",
    "motherduck": "harness.engines.motherduck:MotherDuckEngine",
    "databricks": "harness.engines.databricks:DatabricksEngine",
}


@functools.cache
def engine_class(name: str) -> type[Engine]:
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(f"unknown engine {name!r}; known engines: {known}")
    module, _, attribute = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def billing_for(run: StoredRun, catalog: Catalog) -> Billing:
    """The billing rules of a stored run's engine, bound to its settings and the catalog:
    `.marginal(attempt)`, `.price_run(attempts, loads)`, `.project_month(…)` and the rest."""
    cls = engine_class(run.engine)
    return cls.billing(catalog, cls.name, run)


def all_engines() -> dict[str, type[Engine]]:
    """Every registered engine class, by name (imports every engine package)."""
    return {name: engine_class(name) for name in REGISTRY}


@functools.cache
def dialects() -> tuple[str, ...]:
    """Every dialect an engine speaks, in registry order."""
    return tuple(dict.fromkeys(cls.dialect for cls in all_engines().values()))


def driver_version(engine: type[Engine]) -> str | None:
    """The installed version of the engine's client library, or None when it is missing."""
    if not driver_installed(engine):
        return None
    import importlib.metadata  # 25 ms, and only `whbench engines` asks

    try:
        return importlib.metadata.version(engine.driver_package)
    except importlib.metadata.PackageNotFoundError:
        return "installed"


def driver_installed(engine: type[Engine]) -> bool:
    try:
        return importlib.util.find_spec(engine.driver_module) is not None
    except ModuleNotFoundError:  # the parent package ("snowflake" of snowflake.connector) is absent
        return False


def require_driver(engine: type[Engine]) -> None:
    """Fail with the pip command to run when an engine's client library is missing."""
    if not driver_installed(engine):
        raise EngineError(
            f"the {engine.name} driver ({engine.driver_module}) is not installed; run: "
            f"pip install 'warehouse-bench[{engine.extra}]'"
        )


@contextmanager
def connected(name: str, settings: EngineSettings | None = None) -> Iterator[Engine]:
    """Engine `name` with its settings (its defaults when None), connected for the length of
    the block and closed after, however the block ends."""
    cls = engine_class(name)
    require_driver(cls)
    engine = cls(settings or cls.settings_class())
    engine.connect()
    try:
        yield engine
    finally:
        engine.close()
