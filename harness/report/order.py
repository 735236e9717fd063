"""The order the report lists things in, shared by its sections: the baseline engine first
(answers are checked against it), then the others by name; data types as DATA_TYPES lists
them (structured, semi-structured, unstructured, vector embeddings, time series)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from harness.engines import engine_class
from harness.workloads import DATA_TYPES

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def engine_order(engines: Iterable[str]) -> list[str]:
    """The baseline engine first, then the others by name; each once."""
    return sorted(set(engines), key=lambda e: (not engine_class(e).reference, e))


def type_order(data_type: str | None) -> int:
    return DATA_TYPES.index(data_type) if data_type in DATA_TYPES else len(DATA_TYPES)


def group_by(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """Items by key, in the order each key is first seen, each group in the items' order."""
    grouped: dict[K, list[T]] = defaultdict(list)
    for item in items:
        grouped[key(item)].append(item)
    return dict(grouped)
