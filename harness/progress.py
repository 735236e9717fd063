"""The progress display of a run: rich's bars on stderr, or nothing under --quiet.

The runner and the load test only add a bar, update it and advance it; `Progress` is that
much of rich's `Progress`, so either display (or a test's own) can stand behind it.
"""

from __future__ import annotations

from typing import Any, Protocol


class Progress(Protocol):
    """What a run asks of its progress display; entered for the length of the run."""

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> Any: ...

    def add_task(self, description: str, *, total: float | None) -> Any: ...

    def update(self, step: Any, *, total: float | None = None, completed: float = 0) -> None: ...

    def advance(self, step: Any, advance: float = 1) -> None: ...


def progress_bars() -> Progress:
    """Progress bars on stderr, so stdout stays clean for the summary and --json."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


class NoProgress:
    """Stands in for rich's Progress under --quiet (and spares importing rich at all)."""

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def update(self, *args: Any, **kwargs: Any) -> None:
        return None

    def advance(self, *args: Any, **kwargs: Any) -> None:
        return None
