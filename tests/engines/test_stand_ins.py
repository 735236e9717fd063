"""The stand-in registry (tests/standins.py) holds the suites to harness.engines.REGISTRY: an
engine registered without a stand-in, or a bundled workload without a conformance data set,
fails the conformance suite by name; nothing is tested against another engine's stand-in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import standins

from engines.test_conformance import CONFORMANCE, conformance_workloads
from harness.engines import REGISTRY
from harness.workloads import discover

TESTS = Path(__file__).resolve().parent.parent
FIFTH = "fifth_fake"  # an engine nobody will add: the message must name it
MISSING = (
    f"engine '{FIFTH}' is in harness.engines.REGISTRY but has no stand-in in "
    f"tests/engines/{FIFTH}/standin.py: declare one"
)


def test_every_registered_engine_has_its_stand_in_and_every_stand_in_its_engine():
    assert list(standins.for_registry()) == list(REGISTRY)
    for name, stand_in in standins.stand_ins().items():
        assert stand_in.name == name and stand_in.what
        assert Path(TESTS / "engines" / name / f"test_{name}.py").is_file()


def test_an_engine_registered_without_a_stand_in_is_named(monkeypatch, stand_in):
    monkeypatch.setitem(REGISTRY, FIFTH, "harness.engines.duckdb:DuckDBEngine")
    with pytest.raises(standins.MissingStandIn, match=re.escape(MISSING)):
        standins.for_registry()
    # The fixture the engine tests ask for settings fails the same way: never another
    # engine's stand-in.
    with pytest.raises(pytest.fail.Exception, match=re.escape(MISSING)):
        stand_in(FIFTH)


def test_the_conformance_suite_fails_to_collect_naming_an_engine_without_a_stand_in(tmp_path):
    """The suite as a user runs it, with a fifth engine registered by a plugin (as one line in
    REGISTRY would): collection fails, naming it; nothing is started."""
    plugin = tmp_path / "fifth_engine_plugin.py"
    plugin.write_text(
        "import harness.engines\n\n"
        f"harness.engines.REGISTRY[{FIFTH!r}] = 'harness.engines.duckdb:DuckDBEngine'\n"
    )
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"),
            *("-p", "fifth_engine_plugin", str(TESTS / "engines" / "test_conformance.py")),
        ],
        capture_output=True,
        text=True,
        cwd=TESTS.parent,
        env={**os.environ, "PYTHONPATH": path},
        timeout=60,
    )
    assert done.returncode != 0, done.stdout
    assert MISSING in done.stdout, done.stdout + done.stderr
    assert "Traceback" not in done.stdout and "During handling" not in done.stdout  # alone


def test_a_bundled_workload_without_a_conformance_data_set_is_named():
    bundled = discover()
    assert conformance_workloads(bundled, CONFORMANCE) == bundled
    partial = {name: options for name, options in CONFORMANCE.items() if name != "text"}
    with pytest.raises(standins.MissingStandIn, match=r"workload 'text' is bundled .* CONFORMANCE"):
        conformance_workloads(bundled, partial)
    with pytest.raises(
        standins.MissingStandIn, match="names workload 'nope', which is not bundled"
    ):
        conformance_workloads(bundled, {**CONFORMANCE, "nope": {}})


def test_a_gap_about_nothing_known_is_refused():
    duckdb = standins.stand_ins()["duckdb"]
    typo = standins.StandIn(**{**duckdb.__dict__, "gaps": {"t6": "x"}})
    with pytest.raises(standins.MissingStandIn, match="gap 't6' is no workload, query id"):
        standins.check_gaps(typo, {"text", "t06"})
    standins.check_gaps(typo, {"t6"})
