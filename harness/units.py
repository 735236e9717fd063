"""How a quantity reads, wherever whbench shows one (the HTML report, the console): one
formatter per unit, so the same time, amount of money, size or count reads the same in both.

A quantity that was not measured shows as NOT_MEASURED, a dash (money as "unknown"), never
as 0.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from harness.scale import Scale

NOT_MEASURED = "–"


def seconds(value: float | None) -> str:
    """A duration to three significant figures, in milliseconds below a second: "0.146 ms"
    (a round trip), "12.3 ms", "1.5 s", "123 s"; whole seconds from 1,000 s ("3,600 s").
    Three figures because durations span six orders of magnitude here, from a SELECT 1 to a
    query at the time limit, and a fixed number of decimals loses one end or the other."""
    if value is None:
        return NOT_MEASURED
    if _three_figures(value) < 1:
        return f"{_plain(value * 1000)} ms"
    return f"{value:.3g} s" if _three_figures(value) < 1000 else f"{value:,.0f} s"


# Below a millionth of a dollar an amount says nothing a reader acts on (a per-query cost
# that small reads per 1,000 queries, dollars_per_query).
SMALLEST_DOLLARS = 0.000001


def dollars(value: float | None) -> str:
    """Money as people read it: cents for a dollar or more, two significant digits below
    ("$0.0064", "$0.000021"), "< $0.000001" below a millionth; never in scientific notation.
    Unknown is said, never shown as $0."""
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    if abs(value) < SMALLEST_DOLLARS:
        return "< $0.000001"
    sign, value = ("-" if value < 0 else ""), abs(value)
    if value < 1:  # two significant digits, rounded first: 0.000996 is $0.0010
        value = float(f"{value:.2g}")
    if value >= 1:
        return f"{sign}${value:,.2f}"
    digits = max(2, 1 - math.floor(math.log10(value)))  # "$0.050": both digits shown
    return f"{sign}${value:.{digits}f}"


def dollars_per_query(value: float | None) -> str:
    """A per-query cost; tiny ones also per 1,000 queries, where they become readable."""
    text = dollars(value)
    if value is not None and 0 < value < 0.01:
        text += f" ({dollars(value * 1000)} per 1,000)"
    return text


def data_size(value: float | None) -> str:
    """Bytes in binary units: "512 B", "1.5 KiB" … "2.0 TiB"."""
    if value is None:
        return NOT_MEASURED
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TiB"


def moment(value: datetime | None) -> str:
    """When something happened, in UTC to the minute: "2026-12-06 12:30 UTC"."""
    return NOT_MEASURED if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def count(value: int | None) -> str:
    """A count of rows, queries, attempts: "1,234,567"."""
    return NOT_MEASURED if value is None else f"{value:,}"


def factor(value: float | None, decimals: int = 2) -> str:
    """A ratio between two figures, such as a relative time: 1.23 and a multiplication sign
    (`decimals` 3 where a change of a few per cent matters, as in `whbench compare`)."""
    return NOT_MEASURED if value is None else f"{value:,.{decimals}f}×"


def p_value(value: float | None) -> str:
    """A test's p-value: two significant figures, "< 0.001" below that (a smaller p says
    nothing more to a reader, and "3.1e-07" is unreadable)."""
    if value is None:
        return NOT_MEASURED
    if value < 0.001:
        return "< 0.001"
    return f"{value:.2g}" if value < 0.1 else f"{value:.2f}"


def figure(value: float | None) -> str:
    """Any other measured number (queries a second, Power@Size, queries a day) to three
    significant figures, whole from 1,000 ("9,512", never "9.51e+03")."""
    if value is None:
        return NOT_MEASURED
    return _plain(value) if abs(_three_figures(value)) < 1000 else f"{value:,.0f}"


def number(value: float, digits: int = 6) -> str:
    """Any other number a person reads (a setting, a limit, hours, a count that may be
    fractional): what "%.6g" shows, `digits` significant figures without trailing zeros, but
    never in scientific notation: "0.7", "600", "1000", "86,400", "10,000,000", "0.000001".
    Thousands separators from 10,000: a four-digit number reads whole ("SF 1000")."""
    if not math.isfinite(value):
        return str(value)
    shown = float(f"{value:.{digits}g}")  # rounded as %g rounds: 999999.7 is 1,000,000
    if abs(shown) < 1:
        return _plain(value, digits)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(shown))))
    text = f"{shown:,.{decimals}f}" if abs(shown) >= 10_000 else f"{shown:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def scale(value: float) -> str:
    """A scale in a table cell: "0.1", or "your data" for a workload of the user's files."""
    return Scale.named(value).removeprefix("scale ")


def _plain(value: float, figures: int = 3) -> str:
    """Three significant figures (or `figures`), never in scientific notation, for a value
    below 10**figures: 0.0000123 reads as "0.0000123", not "1.23e-05" ("%g" switches below
    0.0001)."""
    text = f"{value:.{figures}g}"
    if "e" not in text:
        return text
    digits = figures - 1 - math.floor(math.log10(abs(float(text))))
    return f"{float(text):.{digits}f}".rstrip("0").rstrip(".")  # as %g: no trailing zeros


def _three_figures(value: float) -> float:
    """The value as it shows to three significant figures: 999.96 is 1,000, so it reads as
    1,000 and not as 1e+03."""
    return float(f"{value:.3g}")
