"""A local Redshift stand-in for the tests: a throwaway PostgreSQL cluster, reached through a
small protocol shim, so the real redshift_connector can talk to it.

redshift_connector 2.x sends startup parameters PostgreSQL rejects and cannot parse Debian's
server_version ("15.18 (Debian 15.18-0+deb12u1)"). The shim drops those parameters from the
startup message and reports the version as plain "15.18"; after start-up it relays bytes
unchanged. Everything else (SQL, DDL, errors, cancellation) is PostgreSQL's own.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
from pathlib import Path

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
REJECTED = {
    b"client_protocol_version",
    b"driver_version",
    b"os_version",
    b"driver_discovery_version",
}


def postgres_available() -> bool:
    return (POSTGRES_BIN / "initdb").exists()


class PostgresCluster:
    """initdb + pg_ctl as the postgres user (PostgreSQL refuses to run as root)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="whbench-pg-"))
        shutil.chown(self.folder, "postgres")

    def _as_postgres(self, *command: str) -> None:
        runner = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        subprocess.run([*runner, *command], check=True, capture_output=True, cwd="/")

    def start(self) -> None:
        data = self.folder / "data"
        self._as_postgres(
            str(POSTGRES_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "bench",
            "--auth=trust",
            "-E",
            "UTF8",
        )
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            str(POSTGRES_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        try:
            self._as_postgres(
                str(POSTGRES_BIN / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "stop",
            )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class RedshiftShim:
    """Listens on its own port and forwards each connection to PostgreSQL, mending start-up."""

    def __init__(self, postgres_port: int) -> None:
        self.postgres_port = postgres_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.postgres_port))
        for s in (client, upstream):  # small protocol messages must not wait for Nagle
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            upstream.sendall(_mend_startup(_read_startup(client)))
            threading.Thread(target=_relay, args=(client, upstream), daemon=True).start()
            _relay_mending_versions(upstream, client)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                s.close()


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def _read_startup(sock: socket.socket) -> bytes:
    (length,) = struct.unpack("!i", _read_exactly(sock, 4))
    return struct.pack("!i", length) + _read_exactly(sock, length - 4)


def _mend_startup(message: bytes) -> bytes:
    protocol, body = message[4:8], message[8:]
    fields = body.rstrip(b"\0").split(b"\0")
    pairs = [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]
    kept = b"".join(k + b"\0" + v + b"\0" for k, v in pairs if k not in REJECTED) + b"\0"
    return struct.pack("!i", 8 + len(kept)) + protocol + kept


def _relay(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        target.close()


def _relay_mending_versions(server: socket.socket, client: socket.socket) -> None:
    """Relay server messages, rewriting ParameterStatus server_version, until ReadyForQuery;
    then relay raw bytes."""
    while True:
        kind = _read_exactly(server, 1)
        (length,) = struct.unpack("!i", _read_exactly(server, 4))
        payload = _read_exactly(server, length - 4)
        if kind == b"S" and payload.startswith(b"server_version\0"):
            version = payload.split(b"\0")[1].split(b" ")[0]
            payload = b"server_version\0" + version + b"\0"
        client.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)
        if kind == b"Z":
            break
    _relay(server, client)
