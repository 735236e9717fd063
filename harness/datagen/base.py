"""What a generator returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Generated:
    files: dict[str, list[str]]  # table -> data files, relative to the output folder
    truth: dict[str, Any] = field(default_factory=dict)  # what the generator put in
