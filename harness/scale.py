"""A workload's scale: its range and unit, and how a scale is written for people and in names.

A module of its own because `whbench results` and the console show scales without needing the
rest of the workloads module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.errors import WorkloadError

YOUR_DATA = "your data"  # the scale unit of a workload of the user's files: it has no scale


@dataclass(frozen=True)
class Scale:
    """A workload's scale: the default, the range a user may choose, and its unit."""

    default: float
    min: float
    max: float
    unit: str

    def check(self, value: float, workload: str) -> float:
        if not isinstance(value, (int, float)) or math.isnan(value):
            raise WorkloadError(f"{workload}: scale must be a number, got {value!r}")
        if self.unit == YOUR_DATA and value != self.default:
            raise WorkloadError(f"{workload} is your own data and has no scale; leave out --scale")
        if not self.min <= value <= self.max:
            raise WorkloadError(
                f"{workload}: scale {self.readable(value)} is out of range; choose a "
                f"{self.unit} from {self.readable(self.min)} to {self.readable(self.max)}"
            )
        return float(value)

    @staticmethod
    def text(value: float) -> str:
        """A scale as a program reads it (tpchgen-cli's argument, folder and namespace names
        through `label`): 2000000.0 -> '2000000', 0.01 -> '0.01'. No separators: a comma
        would end up in a file name or a command line."""
        return str(int(value)) if float(value).is_integer() else repr(float(value))

    @staticmethod
    def readable(value: float) -> str:
        """A scale as people read it: 2000000.0 -> '2,000,000', 0.01 -> '0.01', never in
        scientific notation (repr gives '1e-05')."""
        value = float(value)
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.12f}".rstrip("0").rstrip(".")

    @staticmethod
    def named(value: float) -> str:
        """'scale 0.1', 'scale 2,000,000', or 'your data' for a workload of the user's files
        (scale 0). For people only: names of folders and namespaces use `label`."""
        return YOUR_DATA if value == 0 else f"scale {Scale.readable(value)}"

    @staticmethod
    def label(value: float) -> str:
        """A scale as it appears in folder and namespace names: 0.01 -> '0_01', 1.0 -> '1'."""
        return Scale.text(value).replace(".", "_")
