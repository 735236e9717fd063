"""What each `whbench` command does, as plain functions: callable from Python, tested without
Click. They take the config and what the user chose, and return data; `harness/console.py`
prints it and `harness/cli.py` only parses options.

    selection.py  which engines, workloads, scales and queries (the options run, load,
                  estimate and generate share), planned into tasks
    run.py        generate, load, run, resume
    estimate.py   what a run would cost before it runs
    cost.py       the bills of stored runs, and a month of the user's pattern
    results.py    list, show, export, compare, report; clean (what whbench created)
    inspect.py    engines, render, validate
"""

from __future__ import annotations

import importlib
from types import ModuleType


def __getattr__(name: str) -> ModuleType:
    """`commands.run`, `commands.cost` …: each imported when first used, so a command loads
    only its own module and what that needs."""
    return importlib.import_module(f"{__name__}.{name}")
