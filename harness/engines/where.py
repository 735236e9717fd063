"""Where a run ran, from the address the engine's client really talked to (Engine.endpoint),
never from the engine's name: a buyer must see whether a figure is the vendor's service or a
local stand-in before trusting it.

    embedded  in whbench's process on this machine (DuckDB, chDB): no address at all
    service   an address in one of the vendor's own domains (the engine class's
              `service_domains`, each cited from the vendor's documentation where declared)
    local     a loopback address: a local stand-in, or a server on this machine
    other     any other address: a self-hosted server or a private endpoint (a CNAME of the
              team's own, a proxy), not recognised as the vendor's service

Stored with each run as {"kind", "address"} (runs.endpoint); a run stored before whbench
recorded it has None, shown as "not recorded", never guessed.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

KINDS = ("embedded", "service", "local", "other")
NOT_RECORDED = "not recorded (stored before whbench recorded where a run ran)"
# A URL without a port talks to its scheme's default one.
DEFAULT_PORTS = {"http": 80, "https": 443, "grpc": 443}


def address(host: str, port: int | str | None) -> str:
    """ "host:port" (an IPv6 host in brackets, as a URL writes it), or the host alone when
    the port is not known."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return shown if port is None else f"{shown}:{port}"


def url_address(url: str) -> str | None:
    """The "host:port" a URL's client talks to ("http://127.0.0.1:9050" -> "127.0.0.1:9050";
    "https://bigquery.googleapis.com" -> "bigquery.googleapis.com:443"); None when the URL
    names no host."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    if not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:  # a port that is no number: the host alone
        port = None
    return address(parts.hostname, port or DEFAULT_PORTS.get(parts.scheme))


def host_of(endpoint_address: str) -> str:
    """The host of a "host:port" address, lower case, without brackets or a trailing dot."""
    text = endpoint_address.strip()
    if text.startswith("["):  # [::1]:5439
        host = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:  # host:port
        host = text.split(":", 1)[0]
    else:  # a host alone, or a bare IPv6 address
        host = text
    return host.lower().rstrip(".")


def in_domain(host: str, domain: str) -> bool:
    """`host` is `domain` or a name under it: label by label, so
    "snowflakecomputing.com.evil.example" and "evilsnowflakecomputing.com" are not."""
    domain = domain.lower().strip(".")
    return host == domain or host.endswith("." + domain)


def is_loopback(host: str) -> bool:
    """localhost (and names under it, which resolve to loopback: RFC 6761), 127.0.0.0/8, ::1."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def classify(endpoint_address: str | None, service_domains: tuple[str, ...]) -> str:
    """The kind of an address: "embedded" for none, then "service", "local" or "other"."""
    if endpoint_address is None:
        return "embedded"
    host = host_of(endpoint_address)
    if any(in_domain(host, domain) for domain in service_domains):
        return "service"
    return "local" if is_loopback(host) else "other"


def located(endpoint_address: str | None, service_domains: tuple[str, ...]) -> dict[str, Any]:
    """What a run stores: {"kind", "address"} (address None for an embedded engine)."""
    return {"kind": classify(endpoint_address, service_domains), "address": endpoint_address}


def where_kind(endpoint: dict[str, Any] | None) -> str:
    """The stored kind, or "unknown" (not recorded, or not one whbench knows)."""
    kind = endpoint.get("kind") if isinstance(endpoint, dict) else None
    return kind if kind in KINDS else "unknown"


def _service_name(engine: str) -> str:
    from harness.engines import engine_class
    from harness.errors import ConfigError

    try:
        cls = engine_class(engine)
    except ConfigError:  # a run of an engine this whbench no longer has
        return engine
    return cls.service_name or engine


def where_text(engine: str, endpoint: dict[str, Any] | None) -> str:
    """Where a run of `engine` ran, in words for people."""
    if endpoint is None:
        return NOT_RECORDED
    kind = where_kind(endpoint)
    given = endpoint.get("address")
    if kind == "embedded":
        return "on this machine, in whbench's process"
    if kind == "unknown":
        return "unknown: whbench could not read which address the client talked to"
    service = _service_name(engine)
    if kind == "service":
        # The host names the account (xy.snowflakecomputing.com); the port adds nothing.
        return f"the {service} service ({host_of(given)})" if given else f"the {service} service"
    if kind == "local":
        return (
            f"a local endpoint ({given}): a stand-in or a server on this machine, "
            f"not the {service} service"
        )
    return f"another endpoint ({given}), not recognised as the {service} service"
