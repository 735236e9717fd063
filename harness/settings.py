"""The typed values a setting may hold, apart from the config loader: engines, pricing and
templates read these, and the loader (harness.config) reads the engines, so these sit below
both. A Range is written beside a number field as data; Pattern and TemplateLimits are the
config sections that pricing and templates need without the rest of the config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated


def number_text(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    from harness import units  # only here: every command reads this module, few need this

    return units.number(value)


class Range:
    """The values a number setting may take, written beside its field as data:
    `port: Annotated[int, Range(1, 65535)] = 5439`. Every int and float field is also checked
    to be finite (and an int to fit in 64 bits) whether or not it has a Range. (A plain class,
    not a dataclass: this module is read by every command, and a dataclass costs its start.)"""

    __slots__ = ("high", "low", "low_open")

    def __init__(
        self, low: float | None = None, high: float | None = None, low_open: bool = False
    ) -> None:
        self.low, self.high = low, high
        self.low_open = low_open  # the low end itself is not allowed: a time limit of 0

    def __repr__(self) -> str:
        return f"Range({self.low}, {self.high}, low_open={self.low_open})"

    def problem(self, value: float) -> str | None:
        """What is wrong with `value`, or None when it is in range."""
        low, high = self.low, self.high
        if low is not None and (value <= low if self.low_open else value < low):
            if self.low_open:
                return (
                    "must be a positive number"
                    if low == 0
                    else f"must be more than {number_text(low)}"
                )
            return f"must be at least {number_text(low)}"
        if high is not None and value > high:
            return f"must be at most {number_text(high)}"
        return None


INT64 = Range(-(2**63), 2**63 - 1)  # any int without a Range of its own: what DuckDB can store
RUNS = Range(1, 10_000)  # attempts per query
SECONDS = Range(0, 7 * 24 * 3600, low_open=True)  # a time limit or a duration: at most a week
DOLLARS = Range(0, 1e9, low_open=True)
SCALE = Range(0, 1e12, low_open=True)  # a scale factor or a row count
PORT = Range(1, 65535)
AMOUNT = Range(0, 1e12)  # a non-negative amount: queries a day, GB stored
HOURS = Range(0.01, 24)  # hours of a day
TEMPLATE_SECONDS = Range(0, 3600, low_open=True)
TEMPLATE_MB = Range(0, 1024, low_open=True)
# Command-line options with no config key of their own (harness/options.py reads these too).
ITERATIONS = Range(1, 1_000_000)
RATE = Range(0, 1_000_000, low_open=True)  # queries a second
FACTOR = Range(1, 1_000)  # a slowdown factor
FRACTION = Range(0, 1, low_open=True)
QUERIES = Range(1, 1_000_000)  # how many queries (or runs of one) to keep


@dataclass(frozen=True)
class Pattern:
    """A team's own activity, for the monthly projection (`projection:`)."""

    queries_per_day: Annotated[float, AMOUNT] = 1000
    active_hours: Annotated[float, HOURS] = 8  # queries arrive evenly over these hours of each day
    data_gb: Annotated[float, AMOUNT] | None = None  # stored data; None: what the benchmark stored


@dataclass(frozen=True)
class TemplateLimits:
    """How far one template may go when it is rendered (`templates:`): a workload folder may
    come from someone else, so rendering it is bounded in time and in output."""

    seconds: Annotated[float, TEMPLATE_SECONDS] = 10.0  # per template render
    output_mb: Annotated[float, TEMPLATE_MB] = 16.0  # per rendered query or load script
