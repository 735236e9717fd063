"""Signing in through databricks-sdk: its configuration makes OAuth tokens for a service
principal (machine-to-machine), reads Databricks CLI profiles (~/.databrickscfg), and is the
Files API's client. The connector takes it as a credentials provider; a personal access token
goes to the connector as it is, and to the SDK for the Files API."""

from __future__ import annotations

import logging
from typing import Any

from harness.engines.credentials import AccessToken, Credentials, OAuthClient, Profile
from harness.errors import ConfigError, EngineError, first_line


def sdk_config(credentials: Credentials, host: str | None) -> Any:
    """databricks-sdk's Config for `host` (None: the profile's) and this way of signing in."""
    from databricks.sdk.core import Config

    quiet_logs()
    # The Files API's plain endpoints (/api/2.0/fs/files, /api/2.0/fs/directories), not the
    # SDK's newer multipart client, whose Files API 3.0 is a Beta an admin must turn on.
    common = {"disable_experimental_files_api_client": True}
    try:
        match credentials:
            case Profile(name):
                return Config(profile=name, host=host, **common)
            case OAuthClient(client_id, client_secret):
                return Config(
                    host=host,
                    client_id=client_id,
                    client_secret=client_secret,
                    auth_type="oauth-m2m",
                    **common,
                )
            case AccessToken(token):
                return Config(host=host, token=token, auth_type="pat", **common)
    except Exception as exc:  # ValueError: no such profile, OAuth endpoints unreachable
        raise EngineError(
            f"cannot sign in to Databricks ({first_line(exc)}); check engines.databricks "
            "profile, or client_id and client_secret"
        ) from None
    raise ConfigError(
        "engines.databricks: no way to sign in; set profile, client_id and client_secret, or "
        "access_token"
    )


def quiet_logs() -> None:
    """The connector logs each failed request (and retry) before it raises, and the SDK warns
    when a workspace does not describe itself (/.well-known/databricks-config) before it goes on
    with the settings given; whbench configures no logging, so Python would print them. What
    fails reaches the user as one line; what does not is not an error."""
    for name in ("databricks.sql", "databricks.sdk"):
        log = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
            log.addHandler(logging.NullHandler())
