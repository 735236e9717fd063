"""The engine registry: the one place that maps engine names to their modules.

CLI choices, `whbench engines`, config validation and test parametrisation all derive from
ENGINES; adding an engine means adding its module and one line here.
"""

from __future__ import annotations

import importlib.util

from harness.engines.base import Engine
from harness.engines.bigquery import BigQueryEngine
from harness.engines.duckdb import DuckDBEngine
from harness.engines.redshift import RedshiftEngine
from harness.engines.snowflake import SnowflakeEngine
from harness.errors import ConfigError, EngineError

ENGINES: dict[str, type[Engine]] = {
    engine.name: engine
    for engine in (DuckDBEngine, BigQueryEngine, SnowflakeEngine, RedshiftEngine)
}


def engine_class(name: str) -> type[Engine]:
    try:
        return ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise ConfigError(f"unknown engine {name!r}; known engines: {known}") from None


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
