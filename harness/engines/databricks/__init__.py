"""Databricks SQL, through databricks-sql-connector (Thrift over HTTP to a SQL warehouse).

Auth, first match wins: a Databricks CLI profile (~/.databrickscfg); OAuth machine-to-machine
(a service principal's client id and secret, through databricks-sdk); a personal access token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from harness.engines.base import CursorEngine, EngineSettings, LoadOutcome, TableData
from harness.engines.credentials import (
    AccessToken,
    Credentials,
    NoCredentials,
    OAuthClient,
    Profile,
    Secret,
)
from harness.engines.databricks.billing import DatabricksBilling
from harness.errors import ConfigError
from harness.settings import PORT, Range

# What the billing rules know how to price; the warehouse itself cannot say (see billing.py).
CLOUDS = ("aws", "azure", "gcp")
WAREHOUSE_TYPES = ("serverless", "pro", "classic")
WAREHOUSE_SIZES = (
    "2X-Small",
    "X-Small",
    "Small",
    "Medium",
    "Large",
    "X-Large",
    "2X-Large",
    "3X-Large",
    "4X-Large",
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class DatabricksSettings(EngineSettings):
    server_hostname: str | None = None  # the workspace host, e.g. dbc-1234.cloud.databricks.com
    http_path: str | None = None  # the SQL warehouse's, /sql/1.0/warehouses/<id>
    port: Annotated[int, PORT] = 443
    tls: bool = True  # False only for a local stand-in (plain HTTP)
    access_token: Secret | None = None  # a personal access token, from ${VAR} or ${file:…}
    client_id: str | None = None  # OAuth machine-to-machine: a service principal …
    client_secret: Secret | None = None  # … and its secret
    profile: str | None = None  # a profile in ~/.databrickscfg
    catalog: str | None = None  # None: the workspace default, current_catalog()
    # s3://, gs:// or abfss:// folder the warehouse reads; None: a volume whbench creates
    data_uri: str | None = None
    # Billing facts the warehouse cannot report about itself (billing.py prices them).
    cloud: str = "aws"
    warehouse_type: str = "serverless"
    warehouse_size: str = "Small"
    max_clusters: Annotated[int, Range(1, 40)] = 1
    auto_stop_minutes: Annotated[float, Range(0, 7 * 24 * 60)] = 10
    dbu_price: Annotated[float, Range(0, 1000)] | None = None  # your contract's $/DBU
    vm_dollars_per_hour: Annotated[float, Range(0, 100000)] | None = None  # pro/classic VMs

    def credentials(self) -> Credentials:
        """How to sign in, first match wins: keyless ways before a token."""
        if self.profile:
            return Profile(self.profile, "~/.databrickscfg")
        if self.client_id and self.client_secret:
            return OAuthClient(self.client_id, self.client_secret)
        if self.access_token:
            return AccessToken(self.access_token)
        return NoCredentials()


class DatabricksEngine(CursorEngine[DatabricksSettings]):
    name = "databricks"
    dialect = "databricks"
    driver_module = "databricks.sql"
    driver_package = "databricks-sql-connector"
    extra = "databricks"
    cost_basis = "SQL warehouse uptime in DBUs (plus the cloud VMs for pro and classic)"
    billing = DatabricksBilling
    reports_engine_time = True
    object_stores = ("s3", "gs", "abfss")
    settings_class = DatabricksSettings

    def __init__(self, settings: DatabricksSettings) -> None:
        super().__init__(settings)
        for key, allowed in (
            ("cloud", CLOUDS),
            ("warehouse_type", WAREHOUSE_TYPES),
            ("warehouse_size", WAREHOUSE_SIZES),
        ):
            if getattr(settings, key) not in allowed:
                raise ConfigError(
                    f"engines.databricks.{key}: {getattr(settings, key)!r} is not one of "
                    + ", ".join(allowed)
                )
        if settings.catalog is not None and not _NAME.fullmatch(settings.catalog):
            raise ConfigError(
                f"engines.databricks.catalog: {settings.catalog!r} is not a catalog name"
            )

    def connect(self) -> None:
        raise NotImplementedError

    def version(self) -> str:
        return str(self._scalar("SELECT version()"))

    def use(self, namespace: str) -> None:
        self.statement(f"USE SCHEMA {namespace}")

    def interrupt(self) -> None:
        raise NotImplementedError

    def load(self, namespace: str, data: TableData, statements: Sequence[str]) -> LoadOutcome:
        raise NotImplementedError
