"""The local stand-ins, one per engine, declared next to that engine's tests.

    tests/engines/<engine>/standin.py    STAND_IN = StandIn(...): what stands in for the engine,
                                         the settings that reach it (its server started by a
                                         session fixture in the same module), what it cannot
                                         do (`gaps`), and how to reach a real account
    tests/engines/<engine>/test_<engine>.py   what is the engine's own

The folder's name is the engine's name in `harness.engines.REGISTRY`. Every engine in the
registry must have one: the conformance suite (tests/engines/test_conformance.py), the large
result tests (tests/test_spool_engines.py, tests/test_fetch_paths.py) and the real-account tests
(tests/test_real_accounts.py) are parametrised from the registry through `for_registry()`, and an
engine without a stand-in fails them by name rather than being tested against another engine's.
tests/conftest.py registers every standin.py as a pytest plugin, so their fixtures (the servers)
reach every test.
"""

from __future__ import annotations

import importlib
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import pytest

    from harness.engines.base import Engine

T = TypeVar("T")
ENGINES_DIR = Path(__file__).resolve().parent / "engines"

# What a gap may be about, besides a workload (every query of it) or one query id: the shared
# suites' behaviours, each checked where the comment says.
BEHAVIOURS = {
    "timeout": "the time limit stops a slow query (test_conformance)",
    "cancel": "cancel stops the query in flight (test_conformance)",
    "result cache": "the session turns the result cache off (test_conformance)",
    "read api": "a query's result is read through the Storage Read API (test_fetch_paths)",
}


@dataclass(frozen=True)
class RealAccount:
    """How tests/test_real_accounts.py reaches a real account of the engine, from the
    environment; its tests are skipped, naming the variables, unless `needs` are all set."""

    needs: tuple[str, ...]  # environment variables that must all be set
    reason: str  # the skip message: every variable to set, and how to sign in
    engine: Callable[[Mapping[str, str]], Engine]  # the engine, from os.environ
    namespace: str  # the schema or dataset its test sessions use
    # What four sessions run at once, and the statistics each of those queries must report.
    load_sql: str = "SELECT 42"
    under_load: tuple[str, ...] = ("queued_seconds", "execution_seconds")
    history_days: int = 1  # how far back `workload import-history`'s read looks in the test
    history_current: bool = False  # a query just run is in that history at once


@dataclass(frozen=True)
class StandIn:
    """One engine's local stand-in: a real server speaking the engine's protocol (or the engine
    itself), reached with the real client library."""

    name: str  # the engine's name in harness.engines.REGISTRY (and its folder's)
    what: str  # one line: what stands in for the engine, and how it is started
    # engines.<name> settings that reach it: (the test's request, its tmp_path) -> settings;
    # a server is started by the session fixture the function asks `request` for.
    settings: Callable[[pytest.FixtureRequest, Path], dict[str, Any]]
    slow_sql: str  # runs for minutes there (the time limit and cancel stop it)
    # `{rows}` rows of three columns: n (a whole number), t (text), d (a date).
    rows_sql: str
    large_fetch: str  # how a large result of rows_sql is fetched: "arrow" batches or "rows"
    fetch_words: tuple[str, ...]  # what the engine's describe()["fetch"] names there
    # A large result Arrow would read back otherwise (so it stays on rows); None: no Arrow.
    unarrow_sql: str | None = None
    # What the stand-in cannot do that the engine can: subject (a workload, a query id or one of
    # BEHAVIOURS) -> a fragment of the error or problem the stand-in gives instead. A test of
    # the subject checks the gap is still there, then xfails; once it closes, the test fails.
    gaps: Mapping[str, str] = field(default_factory=dict)
    # The stand-in's own tuning, run after a workload is loaded and before it runs (changes no
    # answer): workload -> statements.
    after_load: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    real: RealAccount | None = None  # how to reach a real account (None: nothing to reach)


class MissingStandIn(LookupError):
    """An engine in harness.engines.REGISTRY with no stand-in (or the other way round)."""


def declared() -> list[str]:
    """Engine names with a declaration, by folder: tests/engines/<name>/standin.py."""
    return sorted(p.parent.name for p in ENGINES_DIR.glob("*/standin.py"))


# tests/conftest.py's pytest_plugins: each declaration's fixtures (its server) reach every test.
PLUGINS = [f"engines.{name}.standin" for name in declared()]


def stand_ins() -> dict[str, StandIn]:
    """Every declared stand-in, by engine name."""
    found = {}
    for name in declared():
        stand_in = getattr(importlib.import_module(f"engines.{name}.standin"), "STAND_IN", None)
        if not isinstance(stand_in, StandIn) or stand_in.name != name:
            raise MissingStandIn(
                f"tests/engines/{name}/standin.py must declare STAND_IN = StandIn(name={name!r}, "
                "...) (see tests/standins.py)"
            )
        found[name] = stand_in
    return found


def lookup(engine: str) -> StandIn:
    """`engine`'s stand-in; an engine without one is an error naming it, never another
    engine's stand-in."""
    from harness.engines import REGISTRY

    found = stand_ins()
    if engine in found:
        return found[engine]
    where = "is in harness.engines.REGISTRY" if engine in REGISTRY else "is not a registered engine"
    raise MissingStandIn(
        f"engine {engine!r} {where} but has no stand-in in tests/engines/{engine}/standin.py: "
        "declare one (STAND_IN = StandIn(...), see tests/standins.py)"
    )


def for_registry() -> dict[str, StandIn]:
    """The stand-in of every engine in harness.engines.REGISTRY, in registry order: what the
    shared suites are parametrised over. Fails naming the first engine without one, or a
    stand-in whose engine is not registered."""
    from harness.engines import REGISTRY

    found = {engine: lookup(engine) for engine in REGISTRY}
    if stale := sorted(set(stand_ins()) - set(REGISTRY)):
        raise MissingStandIn(
            f"tests/engines/{stale[0]}/standin.py declares a stand-in for {stale[0]!r}, which is "
            "not in harness.engines.REGISTRY: register the engine or remove the folder"
        )
    return found


def at_collection(collect: Callable[[], T]) -> T:
    """`collect()` at a test module's collection (or in a fixture): a MissingStandIn fails it
    with its message alone."""
    import pytest

    try:
        return collect()
    except MissingStandIn as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)  # outside the handler: no chained traceback


def collected() -> dict[str, StandIn]:
    """for_registry(), for a test module's parametrisation."""
    return at_collection(for_registry)


def check_gaps(stand_in: StandIn, subjects: set[str]) -> None:
    """A gap about nothing known (a typo) would never be checked: refuse it by name."""
    for subject in stand_in.gaps:
        if subject not in subjects and subject not in BEHAVIOURS:
            raise MissingStandIn(
                f"tests/engines/{stand_in.name}/standin.py: gap {subject!r} is no workload, "
                f"query id or behaviour ({', '.join(BEHAVIOURS)})"
            )


def expect(stand_in: StandIn, subject: str, problem: str | None) -> None:
    """No problem; or, where the stand-in has a known gap for `subject`, exactly that problem
    (then the test xfails, naming the gap)."""
    import pytest

    known = stand_in.gaps.get(subject)
    if known is None:
        assert problem is None, problem
        return
    assert problem is not None, (
        f"the stand-in gap {known!r} is closed: remove {subject!r} from the gaps in "
        f"tests/engines/{stand_in.name}/standin.py"
    )
    assert known in problem, (known, problem)
    pytest.xfail(f"stand-in gap: {known}")


# -- starting a server -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stand-in server exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"stand-in server did not listen on port {port} within {seconds} s")


@contextmanager
def server(command: list[str], port: int, log: Path, **popen):
    """A stand-in server process, up once it listens on `port`, stopped afterwards."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        wait_for_port(port, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)
