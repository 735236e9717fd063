"""Result checksums that compare answers across engines.

Normalisation, so that the same answer gives the same checksum on every engine:
- numbers (int, float, Decimal) are rounded to `decimals` places (after dropping float noise
  beyond `decimals` + 6 places) and written without trailing zeros or a sign on zero, so 1, 1.0
  and Decimal('1.000') agree and -0.0 equals 0;
- NULL is written as one canonical token, distinct from the text 'NULL';
- dates and timestamps are written in ISO 8601, zoned timestamps in UTC without the zone (as
  engines with naive timestamps hold them); booleans as true/false;
- rows are sorted unless the query orders them, so row order counts only when the SQL asks.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

NULL = "\\N"
NOISE_DIGITS = 6  # digits past the stated precision that are taken as float noise


def normalise_value(value: Any, decimals: int) -> str:
    kind = type(value)
    if kind is str:  # the common cases first: this runs for every value of every result
        return value
    if kind is int:
        return str(value)
    if kind is Decimal:
        return _number_text(value, decimals)
    if kind is float:
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return _number_text(Decimal(repr(value)), decimals)
    if value is None:
        return NULL
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # BigQuery's TIMESTAMP comes back zoned, the others' naive: compare both as UTC.
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (int, float, Decimal)):  # subclasses of the number types
        return _number_text(Decimal(str(value)), decimals)
    return str(value)


def _number_text(value: Decimal, decimals: int) -> str:
    try:
        # Round twice: first past the float noise, then to the stated precision. Once would put
        # 368231.6694999999 (an engine computing in doubles) and 368231.6695 (one computing in
        # decimals) on either side of a rounding boundary.
        denoised = value.quantize(_quantum(decimals + NOISE_DIGITS), ROUND_HALF_EVEN)
        rounded = denoised.quantize(_quantum(decimals), ROUND_HALF_EVEN)
    except InvalidOperation:  # beyond Decimal's default precision: keep it whole
        rounded = value
    text = format(rounded.normalize(), "f")
    return "0" if text == "-0" else text


@functools.cache
def _quantum(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def result_checksum(rows: list[tuple], ordered: bool, decimals: int) -> str:
    """A short hex digest of the normalised rows."""
    lines = ["\x1f".join(normalise_value(v, decimals) for v in row) for row in rows]
    if not ordered:
        lines.sort()
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]
