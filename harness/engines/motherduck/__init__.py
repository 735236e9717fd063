"""MotherDuck: DuckDB as a service. The same DuckDB client and SQL as the local baseline (this
engine is DuckDBEngine with another connection, namespace and bill), connected to an `md:`
database; the `motherduck` extension that makes `md:` work is downloaded by DuckDB at first use.

How it signs in: a MotherDuck access token, only from the environment (`motherduck_token`, the
variable MotherDuck's docs name, or `MOTHERDUCK_TOKEN`, which whbench also reads) or a `${…}`
reference in the config (`token: ${file:/run/secrets/motherduck}`), typed Secret so it is
masked everywhere. It is passed as the docs show, in the connection's config dictionary
(`duckdb.connect("md:…", config={"motherduck_token": …})`), so it is never part of a connection
string a driver error could quote:
https://motherduck.com/docs/key-tasks/authenticating-and-connecting-to-motherduck/connecting-to-motherduck
(read 2026-12-06). The same page says MotherDuck supports a range of DuckDB client versions: a
client newer than the service's range may be refused.

Each data set is a schema `whb_<workload>_<scale>` in one MotherDuck database (`database`,
created if missing with CREATE DATABASE IF NOT EXISTS); `clean` lists and drops only `whb_`
schemas of that database, never another database of the account (shares included).

Not measurable from here (the tests' stand-in is a local DuckDB file, `local_stand_in`): the
extension download, authentication, hybrid (dual) execution, and MotherDuck's own statistics.
MotherDuck records queries in MD_INFORMATION_SCHEMA.QUERY_HISTORY (Business plan, admin only:
https://motherduck.com/docs/about-motherduck/billing/monitoring-usage/, read 2026-12-06), but the
DuckDB client returns no query id to find a query there by, and the view's columns could not be
read here on 2026-12-06: it is not read, and the usage of a query is unknown (None), never 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated, Any

from harness.engines.base import NAMESPACE_PREFIX, EngineSettings, owned
from harness.engines.credentials import (
    AccessToken,
    Credentials,
    EnvironmentToken,
    Local,
    NoCredentials,
    Secret,
)
from harness.engines.duckdb import TABLE_LAYOUT, DuckDBEngine, _quote
from harness.engines.motherduck.billing import DUCKLINGS, MotherDuckBilling
from harness.errors import ConfigError, EngineError, first_line, register_secret
from harness.settings import Range

# Where the token is read from, in order: the variable MotherDuck's docs name, then its upper case.
TOKEN_VARIABLES = ("motherduck_token", "MOTHERDUCK_TOKEN")


def environment_token() -> tuple[str, str] | None:
    """(variable, token) from the first of TOKEN_VARIABLES that is set, else None."""
    for variable in TOKEN_VARIABLES:
        if value := os.environ.get(variable, "").strip():
            return variable, value
    return None


@dataclass
class MotherDuckSettings(EngineSettings):
    # The MotherDuck database the data sets go in, one schema each (created if missing).
    database: str = "whbench"
    # Unset: read from $motherduck_token or $MOTHERDUCK_TOKEN. Set only through a reference
    # (`${MY_VAR}` or `${file:PATH}`): a token written in the file would be stored in git.
    token: Secret | None = None
    # The account's Duckling size, for the bill (MotherDuck sets it per user, not per query):
    # pulse, standard, jumbo, mega or giga. Unset: the bill is unknown.
    duckling: str | None = None
    # The Duckling's cooldown when set other than its default (Standard and larger).
    cooldown_seconds: Annotated[int, Range(1, 86400)] | None = None
    # Tests only: a local DuckDB file in place of `md:` (the stand-in; see docs/engines.md).
    local_stand_in: str | None = None

    def __post_init__(self) -> None:
        if self.duckling is not None and self.duckling not in DUCKLINGS:
            raise ConfigError(
                f"engines.motherduck.duckling: {self.duckling!r} is no Duckling size; one of "
                f"{', '.join(DUCKLINGS)}"
            )
        if self.duckling == "pulse" and self.cooldown_seconds is not None:
            # https://motherduck.com/docs/about-motherduck/billing/duckling-sizes/ (2026-12-06)
            raise ConfigError(
                "engines.motherduck.cooldown_seconds: a Pulse Duckling's cooldown is not "
                "configurable; leave it out"
            )

    def credentials(self) -> Credentials:
        if self.local_stand_in:
            return Local()
        if self.token:
            return AccessToken(self.token)
        found = environment_token()
        return EnvironmentToken(found[0]) if found else NoCredentials()


class MotherDuckEngine(DuckDBEngine):
    name = "motherduck"
    dialect = "duckdb"
    driver_module = "duckdb"
    driver_package = "duckdb"
    extra = "motherduck"
    cost_basis = "Duckling compute (per second, with its cooldown) and storage per GB-month"
    billing = MotherDuckBilling
    reports_engine_time = False
    reference = False
    on_this_machine = False  # a service, though its client is DuckDB's
    # A service: its Ducklings' memory and local disks cannot be emptied from a client, so the
    # first attempt is lukewarm (make_cold returns None).
    cold_method = None
    checkpoint_after_load = False  # MotherDuck stores the data; nothing local to count
    settings_class = MotherDuckSettings
    export_hint = "COPY <table> TO '<table>.parquet' (FORMAT parquet), one file per table"
    service_name = "MotherDuck"
    # No domain: MotherDuck's docs say to connect with duckdb.connect("md:") and the token
    # (https://motherduck.com/docs/getting-started/connect-query-from-python/installation-
    # authentication/, and DuckDB's https://duckdb.org/docs/2.0/core_extensions/motherduck.html,
    # both read 2026-12-06) but are silent on which host the client then talks to, and the
    # DuckDB connection does not say either. So `where` records the service from the md:
    # connection itself, with no address; never a host guessed.
    service_domains = ()

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._catalog: str | None = None  # the database the session is in

    def where(self) -> dict[str, Any]:
        if self.settings.local_stand_in:  # a DuckDB file, in whbench's process
            return super().where()
        return {"kind": "service", "address": None}  # md: (see service_domains)

    def connect(self) -> None:
        import duckdb

        settings = self.settings
        try:
            if settings.local_stand_in:
                self._con = duckdb.connect(settings.local_stand_in)
            else:
                self._con = duckdb.connect("md:", config={"motherduck_token": self._token()})
                self._con.execute(f"CREATE DATABASE IF NOT EXISTS {_quote(settings.database)}")
                self._con.execute(f"USE {_quote(settings.database)}")
        except duckdb.Error as exc:
            self._con = None
            raise EngineError(_explain_connect_error(exc)) from None
        self._untouched = True
        self._con.execute("SET enable_progress_bar = false")
        (self._catalog,) = self._con.execute("SELECT current_database()").fetchone()

    def _token(self) -> str:
        """The token: the setting (a reference), else the environment; registered as a secret
        first, so no message can show it."""
        token = self.settings.token
        if not token:
            found = environment_token()
            if found is None:
                raise EngineError(
                    "no MotherDuck token: set motherduck_token (or MOTHERDUCK_TOKEN) in the "
                    "environment, or engines.motherduck.token: ${file:PATH}"
                )
            token = found[1]
        register_secret(str(token))
        return str(token)

    def open_session(self) -> MotherDuckEngine:
        other = super().open_session()
        other._catalog = self._catalog
        return other

    def describe(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "database": "local stand-in" if settings.local_stand_in else f"md:{settings.database}",
            "duckling": settings.duckling,
            "cooldown_seconds": settings.cooldown_seconds,
            "tables": TABLE_LAYOUT,  # DuckDB's tables, made as DuckDB's are
            "fetch": self.fetch_path,
        }

    def use(self, namespace: str) -> None:
        self._namespace = namespace
        self._con.execute(f"USE {_quote(self._catalog)}.{_quote(namespace)}")

    def make_cold(self) -> str | None:
        return None  # a service: lukewarm (see cold_method)

    def _stored_bytes(self, namespace: str, table: str) -> int | None:
        # MotherDuck bills storage per database (MD_INFORMATION_SCHEMA.STORAGE_INFO); a table's
        # stored size is not documented as readable: unknown, never a local block count.
        return None

    def existing_tables(self, namespace: str) -> set[str]:
        rows = self._con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?",
            [self._catalog, namespace],
        ).fetchall()
        return {name for (name,) in rows}

    def namespaces(self) -> list[str]:
        """The whb_ schemas of this database only: an account's other databases and shares
        are attached to the same session and never listed."""
        rows = self._con.execute(
            "SELECT DISTINCT schema_name FROM duckdb_schemas() "
            "WHERE database_name = ? AND starts_with(schema_name, ?) ORDER BY 1",
            [self._catalog, NAMESPACE_PREFIX],
        ).fetchall()
        return [name for (name,) in rows]

    def drop(self, namespace: str) -> None:
        self._untouched = False
        schema = owned(namespace)
        catalog = _quote(self._catalog)
        self._con.execute(f"USE {catalog}.main")
        self._con.execute(f"DROP SCHEMA IF EXISTS {catalog}.{_quote(schema)} CASCADE")


def _explain_connect_error(exc: Exception) -> str:
    text = first_line(exc)
    if "motherduck" in text.lower() and "download" in text.lower():
        return (
            "cannot load DuckDB's motherduck extension (DuckDB downloads it at first use; "
            f"this machine could not): {text}"
        )
    return f"cannot connect to MotherDuck: {text}"
