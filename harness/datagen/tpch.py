"""TPC-H tables from tpchgen-cli, as Parquet.

tpchgen-cli reproduces the official dbgen data, so the specification's answer set applies.
Scale factors above 10 are split into parts of SF 10 each, so warehouses load files in parallel.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

from harness.datagen.base import Generated, Progress
from harness.errors import HarnessError
from harness.scale import Scale
from harness.workloads import Workload

ROWS_PER_PART_SCALE = 10  # SF 10 lineitem is about 2 GB of Parquet: split above that


def generate(
    workload: Workload,
    scale: float,
    options: dict[str, int],
    out_dir: Path,
    progress: Progress | None = None,  # tpchgen-cli reports none
) -> Generated:
    # Beside the running interpreter first: a virtualenv's bin/ need not be on PATH.
    beside = Path(sys.executable).parent / "tpchgen-cli"
    executable = str(beside) if beside.exists() else shutil.which("tpchgen-cli")
    if executable is None:
        raise HarnessError("tpchgen-cli is not on PATH; run: pip install tpchgen-cli")
    parts = max(1, math.ceil(scale / ROWS_PER_PART_SCALE))
    command = [
        executable,
        "parquet",
        "--scale-factor",
        Scale.text(scale),
        "--output-dir",
        str(out_dir),
    ]
    if parts > 1:
        command += ["--parts", str(parts)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise HarnessError(f"tpchgen-cli failed at scale {Scale.text(scale)}: {detail}")
    files = {}
    for table in workload.tables:
        found = sorted(out_dir.glob(f"{table.name}.parquet")) or sorted(
            out_dir.glob(f"{table.name}/{table.name}.*.parquet")
        )
        if not found:
            raise HarnessError(f"tpchgen-cli wrote no file for table {table.name} in {out_dir}")
        files[table.name] = [str(f.relative_to(out_dir)) for f in found]
    # The truth for TPC-H is the specification's answer set, checked in the tests.
    return Generated(files)
