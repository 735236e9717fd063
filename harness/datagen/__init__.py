"""Deterministic data generators, cached by workload and scale.

Each generator writes one workload's tables into a fresh folder and returns the files per
table. `ensure_data` keeps a cache: a folder is complete once its manifest.json exists (the
manifest is written last, and the folder is moved into place whole), so an interrupted
generation is never mistaken for data.
"""

from __future__ import annotations

import importlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.datagen.base import Progress
from harness.engines.base import TableData
from harness.errors import HarnessError, WorkloadError
from harness.workloads import Workload

# generator name in workload.yaml -> its module, imported when used. The module has
# generate(workload, scale, options, out_dir, progress) -> Generated; where some scales or
# options cannot be generated, check(scale, options), which raises WorkloadError (called when a
# run is planned, so a bad choice stops it before anything runs); and, where the generator
# knows what queries must return, expected_answers(truth, workload) -> query id -> rows.
GENERATORS = {
    "tpch": "harness.datagen.tpch",
    "events": "harness.datagen.events",
    "text": "harness.datagen.text",
    "timeseries": "harness.datagen.timeseries",
    "vectors": "harness.datagen.vectors",
    "files": "harness.datagen.files",  # your own data (workload.yaml `data:`)
}


def generator_module(name: str) -> ModuleType | None:
    return importlib.import_module(GENERATORS[name]) if name in GENERATORS else None


def check_generation(workload: Workload, scale: float, options: dict[str, int]) -> None:
    """Refuse now what the workload's generator would refuse when it runs (a scale too small
    for its options, …): WorkloadError, exit 2, before anything is generated, loaded or run."""
    module = generator_module(workload.generator)
    check = getattr(module, "check", None)
    if check is not None:
        check(scale, options)


def known_answers(name: str) -> Callable[[dict, Workload], dict[str, dict]] | None:
    """The generator's expected_answers, where it has one."""
    module = generator_module(name)
    return getattr(module, "expected_answers", None)


MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DataSet:
    folder: Path
    files: dict[str, list[Path]]  # table -> data files
    manifest: dict
    generated_seconds: float | None  # None when it came from the cache

    @property
    def truth(self) -> dict[str, Any]:
        """What the generator recorded it put in, for checking answers against."""
        return self.manifest.get("truth", {})

    def expected_answers(self, workload: Workload) -> dict[str, dict]:
        """Query id -> the rows the generator's truth says it must return, where it knows."""
        known = known_answers(self.manifest.get("generator", ""))
        return known(self.truth, workload) if known else {}

    def table_data(self, table: str) -> TableData:
        """The table's files, named by the data set ("tpch/sf1") for object storage."""
        try:
            files = self.files[table]
        except KeyError:
            raise WorkloadError(
                f"generated data in {self.folder} has no files for table {table!r}; "
                "delete that folder and generate again"
            ) from None
        return TableData(f"{self.folder.parent.name}/{self.folder.name}", table, tuple(files))


def data_folder(
    data_dir: Path, workload: Workload, scale: float, options: dict[str, int] | None = None
) -> Path:
    return data_dir / workload.name / workload.variant(scale, options)


def ensure_data(
    data_dir: Path,
    workload: Workload,
    scale: float,
    options: dict[str, int] | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> DataSet:
    options = workload.check_options(options)
    folder = data_folder(data_dir, workload, scale, options)
    if (folder / MANIFEST).exists() and not force:
        return _read(folder, None)
    module = generator_module(workload.generator)
    if module is None:
        raise WorkloadError(
            f"workload {workload.name}: unknown generator {workload.generator!r}; "
            f"known: {', '.join(sorted(GENERATORS))}"
        )
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as exc:
        raise HarnessError(
            f"cannot write generated data under {data_dir}: {exc.strerror}; "
            "set data_dir in the config to a writable folder"
        ) from None
    try:
        started = time.perf_counter()
        generated = module.generate(workload, scale, options, staging, progress)
        seconds = time.perf_counter() - started
        manifest = {
            "workload": workload.name,
            "scale": scale,
            "options": options,
            "generator": workload.generator,
            "files": generated.files,
            "truth": generated.truth,
            "seconds": round(seconds, 3),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _read(folder, seconds)


def _read(folder: Path, seconds: float | None) -> DataSet:
    manifest = json.loads((folder / MANIFEST).read_text())
    files = {table: [folder / f for f in names] for table, names in manifest["files"].items()}
    missing = [f for paths in files.values() for f in paths if not f.exists()]
    if missing:
        raise WorkloadError(
            f"generated data file {missing[0]} is missing; delete {folder} and generate again"
        )
    return DataSet(folder, files, manifest, seconds)
