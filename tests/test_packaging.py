"""Workloads and configs must be found from an installed wheel, not only from the checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from harness.engines import REGISTRY, dialects

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_workloads_and_configs_and_finds_them(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("warehouse_bench-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "harness/_data/workloads/tpch/workload.yaml" in names
    assert "harness/_data/workloads/_shared/dialect.sql.j2" in names
    assert "harness/_data/workloads/_shared/features.yaml" in names
    assert "harness/_data/configs/default.yaml" in names
    assert "harness/report/templates/report.html.j2" in names
    assert "harness/_data/workloads/tpch/answers/sf1/q01.csv" in names
    assert "harness/_data/workloads/shop/data/events.ndjson" in names  # a shipped sample
    for engine in REGISTRY:  # each engine's own prices and features
        assert f"harness/engines/{engine}/pricing.yaml" in names
        if engine != "motherduck":  # it inherits DuckDB's features
            assert f"harness/engines/{engine}/features.yaml" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # Run from the unpacked wheel, outside the checkout: it must use its own bundled files.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from harness.paths import bundled; from harness.cli import main; "
            "print(bundled('workloads')); main()",
            "validate",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(site / "harness" / "_data" / "workloads")
    assert f"tpch: {len(dialects()) * (22 + 2 * 8) + 2 * 8} statements" in result.stdout
