"""A local Spark Thrift Server (HiveThriftServer2, HTTP transport): the SQL engine behind the
Databricks stand-in. Spark comes from PyPI's pyspark 4.3.0 in a virtualenv of its own
(`.venv-spark` at the repository's root, made by `make test`): the installed `pyspark` package
folder is a SPARK_HOME, with `bin/spark-submit` and `jars/` (spark-hive-thriftserver included).

It runs in a folder of its own (the metastore's Derby database, the warehouse's tables and the
server's log all stay there), as a process group of its own, so that stopping it stops the JVM
that spark-submit starts, too.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from standins import free_port

REPO = Path(__file__).resolve().parents[3]
SPARK_VENV = REPO / ".venv-spark"
START_SECONDS = 180  # about 19 s on an idle two-core machine; a shared one can be much slower
LOG_TAIL_LINES = 30
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class SparkMissing(RuntimeError):
    """Java or .venv-spark is not there: the stand-in cannot start (the fixture skips)."""


def spark_home() -> Path:
    """The pyspark package folder in .venv-spark (a SPARK_HOME)."""
    found = sorted(SPARK_VENV.glob("lib/python3*/site-packages/pyspark/bin/spark-submit"))
    if not found:
        raise SparkMissing(
            f"{SPARK_VENV.name} with pyspark 4.3.0 is missing: run `make .venv-spark` "
            "(or `make test`, which makes it)"
        )
    return found[0].parents[1]


def java_missing() -> str | None:
    """Why Java cannot run Spark here, or None."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return (
            "Java is missing: Spark needs a JDK 17 or 21 (apt-get install openjdk-17-jre-headless)"
        )
    return None


def submit_command(home: Path, folder: Path, port: int) -> list[str]:
    """spark-submit for HiveThriftServer2 on `port`, speaking Thrift over HTTP on /cliservice
    (the transport Databricks SQL warehouses use), with everything it writes inside `folder`."""
    conf = {
        # The HTTP transport, on 127.0.0.1 only.
        "spark.hadoop.hive.server2.transport.mode": "http",
        "spark.hadoop.hive.server2.thrift.http.port": str(port),
        "spark.hadoop.hive.server2.thrift.http.path": "cliservice",
        "spark.hadoop.hive.server2.thrift.bind.host": "127.0.0.1",
        "spark.ui.enabled": "false",
        # Tables and the metastore (Derby, embedded) inside the temporary folder.
        "spark.sql.warehouse.dir": str(folder / "spark-warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={folder / 'metastore_db'};create=true"
        ),
        # Databricks' system default session time zone is UTC
        # (https://docs.databricks.com/aws/en/sql/language-manual/parameters/timezone, read
        # 2026-12-06); Spark's is the machine's, which would make zoned answers depend on it.
        "spark.sql.session.timeZone": "UTC",
        # Tuning for the tests' small data (TPC-H at scale 0.01); it changes no answer: fewer
        # shuffle partitions than the default 200 (each one a task), no adaptive re-planning pass.
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.sql.adaptive.enabled": "false",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder}",
    }
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "--master",
        "local[2]",
        "--driver-memory",
        "1g",
        "--name",
        "whbench-databricks-standin",
    ]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    return [*command, "spark-internal"]


def log_tail(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(the log is empty)"


def wait_until_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    """The Thrift server's HTTP port opens only once the session manager is up (the last step
    of its start): until then, wait; a process that exits, or never listens, fails with the
    log's last lines."""
    import socket

    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the Spark Thrift Server exited with {process.returncode} while starting; "
                f"the end of {log}:\n{log_tail(log)}"
            )
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise RuntimeError(
        f"the Spark Thrift Server did not listen on port {port} within {START_SECONDS} s; "
        f"the end of {log}:\n{log_tail(log)}"
    )


def die_with_parent() -> None:
    """In the child, before Spark starts: the kernel kills it when the test process dies (a
    killed pytest runs no fixture teardown, and an orphaned Spark holds a GiB). spark-submit
    execs the JVM in this same process, which keeps the setting (Linux: PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def stop(process: subprocess.Popen) -> None:
    """Stop the whole process group (spark-submit's shell and the JVM under it)."""
    if process.poll() is not None:
        return
    for sig, seconds in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=seconds)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def thrift_server(folder: Path) -> Iterator[int]:
    """A Spark Thrift Server working in `folder`, up until the block ends: its HTTP port."""
    if why := java_missing():
        raise SparkMissing(why)
    home = spark_home()
    port = free_port()
    log = folder / "spark-thriftserver.log"
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(folder)}
    env.pop("PYSPARK_PYTHON", None)
    with log.open("w") as out:
        process = subprocess.Popen(
            submit_command(home, folder, port),
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the JVM too
            preexec_fn=die_with_parent,
        )
    try:
        wait_until_listening(port, process, log)
        yield port
    finally:
        stop(process)
