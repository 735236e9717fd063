"""Sensor readings, and trades with quotes: time series with irregular timestamps, late
arrivals and planted gaps.

Generated in plain Python from one seeded `random.Random` (no engine involved, so the truth is
computed independently of every engine it checks), written as Parquet with pyarrow. The same
seed gives the same rows.

Readings. The range (`days`, starting Monday 2026-01-05) is cut into as many slots as readings,
each at most 30 seconds long, and each slot holds exactly one reading at a random millisecond
of it, from one of SENSORS (some report more often than others): timestamps are irregular, and
every minute holds at least one reading. Then the seed story: a pipeline that lost
`gap_minutes` every `gap_every_minutes` (ten minutes every hour, for three months by default).
The lost minutes sit in the middle of each period, from minute (every - gap) // 2 on, so that
each gap has readings on both sides and can be found; every other minute has a reading, so a
query finds exactly the planted gaps and no others. Each reading is received a few seconds after
it was taken, and one in LATE_SHARE hours later (a late arrival): the files are in the order the
readings were received, not taken, so "the last row" is not "the latest reading".

Quotes and trades. Quotes of SYMBOLS at strictly increasing, irregular times (so no two quotes
of a symbol share a time, and "the latest quote at or before" is always one quote), numbered in
a shuffled order (so no query can find the latest quote by its number). Some symbols are listed
days after the range starts, so their early trades come before any quote of theirs and match
none; one trade in TIE_SHARE is at exactly the time of a quote of its symbol, where "at or
before" must pick that very quote.

The truth is every planted gap, and each query's answer computed from the rows as written.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import defaultdict
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from harness.datagen.base import Generated, Progress
from harness.errors import WorkloadError
from harness.workloads import Workload

START = datetime(2026, 1, 5)  # a Monday
MS_PER_MINUTE = 60_000
MAX_SLOT_MS = 30_000  # a slot this long or shorter fits whole inside every minute
SENSORS = [f"sensor-{n:02d}" for n in range(1, 17)]
SENSOR_WEIGHTS = [1 + (n % 4) for n in range(len(SENSORS))]  # some sensors report more often
SYMBOLS = ["ACME", "BOLT", "CRUX", "DYNA", "EPIC", "FLUX", "GRID", "HALO", "IONS", "JADE"]
LISTED_AFTER_DAYS = {"HALO": 1, "IONS": 1.5, "JADE": 2}  # no quotes before then: unmatched trades
LATE_SHARE = 0.02  # readings received hours late
TIE_SHARE = 0.05  # trades at exactly the time of a quote of their symbol


def check(scale: float, options: dict[str, int]) -> None:
    """Refuse what cannot be generated: slots longer than 30 s (a minute could then hold no
    reading, and a gap query would find gaps nobody planted), fewer than two days (the gap-fill
    query reads the second day), or a gap that leaves no minute on each side of it."""
    days, gap, every = options["days"], options["gap_minutes"], options["gap_every_minutes"]
    least = -(-days * 86_400_000 // MAX_SLOT_MS)
    if int(scale) < least:
        raise WorkloadError(
            f"timeseries: scale {int(scale)} is too small for {days} days (a reading at least "
            f"every 30 seconds needs {least}); raise --scale to {least} or more, or lower --days"
        )
    if days < 2:
        raise WorkloadError("timeseries: --days must be 2 or more (ts02 fills the second day)")
    if gap and gap > every - 2:
        raise WorkloadError(
            f"timeseries: --gap-minutes {gap} must be at most --gap-every-minutes minus 2 "
            f"({every - 2}), so that every gap has readings on both sides"
        )


def lost_minute(minute: int, gap: int, every: int) -> bool:
    """Whether the pipeline lost this minute of the range (counted from START)."""
    first = (every - gap) // 2
    return gap > 0 and first <= minute % every < first + gap


def planted_gaps(days: int, gap: int, every: int) -> list[tuple[int, int]]:
    """(first lost minute, minutes lost) of every gap wholly inside the range: a gap cut by the
    range's end has no reading after it, so nothing can tell it from the data ending."""
    if not gap:
        return []
    minutes, first = days * 1440, (every - gap) // 2
    starts = range(first, minutes, every)
    return [(start, gap) for start in starts if start + gap < minutes]


def generate(
    workload: Workload,
    scale: float,
    options: dict[str, int],
    out_dir: Path,
    progress: Progress | None = None,
) -> Generated:
    check(scale, options)
    days, seed = options["days"], options["seed"]
    gap, every = options["gap_minutes"], options["gap_every_minutes"]
    rng = random.Random(seed)
    readings = _readings(rng, int(scale), days, gap, every)
    if progress:
        progress(1, 3)
    quotes = _quotes(rng, int(scale) // 4, days)
    trades = _trades(rng, int(scale) // 8, days, quotes)
    if progress:
        progress(2, 3)
    gaps = planted_gaps(days, gap, every)
    files = {}
    for name, table in [
        ("readings", _readings_table(readings)),
        ("quotes", _quotes_table(quotes)),
        ("trades", _trades_table(trades)),
    ]:
        (out_dir / name).mkdir()
        path = f"{name}/{name}.parquet"
        pq.write_table(table, out_dir / path)
        files[name] = [path]
    if progress:
        progress(3, 3)
    truth = {
        "days": days,
        "gap_minutes": gap,
        "gap_every_minutes": every,
        "readings": len(readings),
        "late_readings": sum(1 for r in readings if r[2] - r[1] > 3_600_000),
        "quotes": len(quotes),
        "trades": len(trades),
        "planted_gaps": [[_iso(start * MS_PER_MINUTE), length] for start, length in gaps],
        "answers": _answers(workload, readings, quotes, trades, gaps),
        # the parameters the answers were computed with: a workload whose parameters changed
        # since the data was generated gets no stale answer for that query
        "answer_params": {q.id: q.params for q in workload.queries},
    }
    return Generated(files, truth)


# -- the rows ----------------------------------------------------------------------------------
# Times are whole milliseconds since START. A reading: (sensor, taken, received, value); a quote:
# (quote_id, symbol, time, bid, ask); a trade: (trade_id, symbol, time, price, quantity).


def _readings(rng: random.Random, total: int, days: int, gap: int, every: int) -> list[tuple]:
    span = days * 86_400_000
    # each sensor's level, daily swing and phase: a smooth daily curve plus noise
    sensors = [
        (rng.uniform(10, 90), rng.uniform(1, 10), rng.uniform(0, 2 * math.pi)) for _ in SENSORS
    ]
    cumulative = list(itertools.accumulate(SENSOR_WEIGHTS))
    rows = []
    for slot in range(total):
        start, end = slot * span // total, (slot + 1) * span // total
        taken = start + int(rng.random() * (end - start))
        s = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
        delay = 200 + int(rng.random() * 5_000)
        if rng.random() < LATE_SHARE:
            delay += 3_600_000 + int(rng.random() * 5 * 3_600_000)
        if lost_minute(taken // MS_PER_MINUTE, gap, every):
            continue
        base, amplitude, phase = sensors[s]
        day_angle = 2 * math.pi * (taken % 86_400_000) / 86_400_000
        value = round(base + amplitude * math.sin(day_angle + phase) + rng.gauss(0, 0.5), 3)
        rows.append((SENSORS[s], taken, taken + delay, value))
    rows.sort(key=lambda r: (r[2], r[0]))  # in the order they arrived
    return rows


def _quotes(rng: random.Random, total: int, days: int) -> list[tuple]:
    span = days * 86_400_000
    mids = {symbol: 2_000 + int(rng.random() * 30_000) for symbol in SYMBOLS}  # cents
    listed = {s: int(d * 86_400_000) for s, d in LISTED_AFTER_DAYS.items()}
    rows = []
    for slot in range(total):
        start, end = slot * span // total, (slot + 1) * span // total
        time = start + int(rng.random() * (end - start))
        symbol = SYMBOLS[int(rng.random() * len(SYMBOLS))]
        if time < listed.get(symbol, 0):
            continue  # not listed yet: no quotes
        mids[symbol] = max(100, mids[symbol] + int(rng.gauss(0, 8)))
        half_spread = 1 + int(rng.random() * 4)
        rows.append([symbol, time, mids[symbol] - half_spread, mids[symbol] + half_spread])
    numbers = list(range(1, len(rows) + 1))
    rng.shuffle(numbers)
    return [
        (n, symbol, t, bid / 100, ask / 100)
        for n, (symbol, t, bid, ask) in zip(numbers, rows, strict=True)
    ]


def _trades(rng: random.Random, total: int, days: int, quotes: list[tuple]) -> list[tuple]:
    span = days * 86_400_000
    # each symbol's quote times and mids in time order: a trade is priced near the last quote
    times: dict[str, list[int]] = defaultdict(list)
    latest: dict[str, list[float]] = defaultdict(list)
    for _, symbol, time, bid, ask in sorted(quotes, key=lambda q: q[2]):
        times[symbol].append(time)
        latest[symbol].append((bid + ask) / 2)
    rows = []
    for trade_id in range(1, total + 1):
        slot = trade_id - 1
        if rng.random() < TIE_SHARE:  # at exactly a quote's time
            _, symbol, time, bid, ask = quotes[int(rng.random() * len(quotes))]
            mid = (bid + ask) / 2
        else:
            start, end = slot * span // total, (slot + 1) * span // total
            time = start + int(rng.random() * (end - start))
            symbol = SYMBOLS[int(rng.random() * len(SYMBOLS))]
            at = bisect.bisect_right(times.get(symbol, []), time) - 1
            mid = latest[symbol][at] if at >= 0 else 20 + rng.random() * 300
        price = round(mid + rng.gauss(0, 0.05), 2)
        rows.append((trade_id, symbol, time, price, 1 + int(rng.random() * 500)))
    return rows


def _timestamps(ms: list[int]) -> pa.Array:
    start_us = int((START - datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    return pa.array([start_us + m * 1_000 for m in ms], pa.timestamp("us"))


def _readings_table(rows: list[tuple]) -> pa.Table:
    return pa.table(
        {
            "sensor_id": pa.array([r[0] for r in rows], pa.string()),
            "reading_time": _timestamps([r[1] for r in rows]),
            "received_time": _timestamps([r[2] for r in rows]),
            "value": pa.array([r[3] for r in rows], pa.float64()),
        }
    )


def _quotes_table(rows: list[tuple]) -> pa.Table:
    return pa.table(
        {
            "quote_id": pa.array([r[0] for r in rows], pa.int64()),
            "symbol": pa.array([r[1] for r in rows], pa.string()),
            "quote_time": _timestamps([r[2] for r in rows]),
            "bid": pa.array([r[3] for r in rows], pa.float64()),
            "ask": pa.array([r[4] for r in rows], pa.float64()),
        }
    )


def _trades_table(rows: list[tuple]) -> pa.Table:
    return pa.table(
        {
            "trade_id": pa.array([r[0] for r in rows], pa.int64()),
            "symbol": pa.array([r[1] for r in rows], pa.string()),
            "trade_time": _timestamps([r[2] for r in rows]),
            "price": pa.array([r[3] for r in rows], pa.float64()),
            "quantity": pa.array([r[4] for r in rows], pa.int64()),
        }
    )


def _iso(ms: int) -> str:
    return (START + timedelta(milliseconds=ms)).isoformat(sep=" ", timespec="milliseconds")


# -- the answers -------------------------------------------------------------------------------
# Computed here from the rows as written, in plain Python, with the semantics each query states
# (its comment says them too): the queries must arrive at the same rows on every engine.


def _answers(
    workload: Workload,
    readings: list[tuple],
    quotes: list[tuple],
    trades: list[tuple],
    planted: list[tuple[int, int]],
) -> dict[str, list[list]]:
    by_sensor: dict[str, list[tuple]] = defaultdict(list)
    for sensor, taken, _received, value in sorted(readings, key=lambda r: (r[0], r[1])):
        by_sensor[sensor].append((taken, value))
    params = {q.id: q.params for q in workload.queries}
    return {
        "ts01": _asof(quotes, trades),
        "ts02": _filled_buckets(readings, params.get("ts02", {})),
        "ts03": _moving(by_sensor, params.get("ts03", {})),
        "ts04": [[s, _iso(rows[-1][0]), rows[-1][1]] for s, rows in sorted(by_sensor.items())],
        "ts05": _percentiles(readings, params.get("ts05", {})),
        "ts06": [[_iso(start * MS_PER_MINUTE), length] for start, length in planted],
        "ts07": _sessions(by_sensor, params.get("ts07", {})),
    }


def _asof(quotes: list[tuple], trades: list[tuple]) -> list[list]:
    """Per symbol: trades, trades with no quote at or before them, trades at exactly their
    quote's time, the sum of the matched quote numbers, and the slippage sum of
    (price - (bid + ask) / 2) * quantity over matched trades."""
    by_symbol: dict[str, list[tuple]] = defaultdict(list)
    for quote in sorted(quotes, key=lambda q: q[2]):
        by_symbol[quote[1]].append(quote)
    times = {symbol: [q[2] for q in rows] for symbol, rows in by_symbol.items()}
    out: dict[str, list] = {}
    for _trade_id, symbol, time, price, quantity in trades:
        row = out.setdefault(symbol, [symbol, 0, 0, 0, 0, 0.0])
        row[1] += 1
        at = bisect.bisect_right(times.get(symbol, []), time) - 1  # the last at or before
        if at < 0:
            row[2] += 1
            continue
        quote_id, _, quote_time, bid, ask = by_symbol[symbol][at]
        row[3] += quote_time == time
        row[4] += quote_id
        row[5] += (price - (bid + ask) / 2) * quantity
    # SUM over no matched trade is NULL: a symbol whose every trade came before its listing
    return [row if row[1] > row[2] else [*row[:4], None, None] for _, row in sorted(out.items())]


def _filled_buckets(readings: list[tuple], params: dict[str, Any]) -> list[list]:
    """Every bucket of the window, empty ones included: its start, readings, mean value (None
    when empty) and the last mean so far carried forward (None before the first)."""
    first = _ms(params["from"])
    width = params["bucket_minutes"] * MS_PER_MINUTE
    buckets = (_ms(params["to"]) - first) // width
    sums, counts = [0.0] * buckets, [0] * buckets
    for _sensor, taken, _received, value in sorted(readings, key=lambda r: r[1]):
        if first <= taken < first + buckets * width:
            b = (taken - first) // width
            sums[b] += value
            counts[b] += 1
    rows, carried = [], None
    for b in range(buckets):
        mean = sums[b] / counts[b] if counts[b] else None
        carried = mean if mean is not None else carried
        rows.append([_iso(first + b * width), counts[b], mean, carried])
    return rows


def _moving(by_sensor: dict[str, list[tuple]], params: dict[str, Any]) -> list[list]:
    """Per sensor: readings, the highest and lowest moving average over its last `readings`
    readings, and the fastest rise per minute between two consecutive readings."""
    n = params["readings"]
    rows = []
    for sensor, series in sorted(by_sensor.items()):
        values = [v for _, v in series]
        averages = [
            sum(values[max(0, i - n + 1) : i + 1]) / len(values[max(0, i - n + 1) : i + 1])
            for i in range(len(values))
        ]
        rates = [
            (series[i][1] - series[i - 1][1]) * 60_000 / (series[i][0] - series[i - 1][0])
            for i in range(1, len(series))
        ]
        rows.append([sensor, len(series), max(averages), min(averages), max(rates, default=None)])
    return rows


def _percentiles(readings: list[tuple], params: dict[str, Any]) -> list[list]:
    """Per day: readings, and the discrete (nearest-rank) percentiles: the smallest value whose
    cumulative share of the day's readings is at least p, i.e. the ceil(p * n)-th smallest."""
    by_day: dict[int, list[float]] = defaultdict(list)
    for _sensor, taken, _received, value in readings:
        by_day[taken // 86_400_000].append(value)
    rows = []
    for day, values in sorted(by_day.items()):
        values.sort()
        ranks = [max(1, math.ceil(Fraction(str(p)) * len(values))) for p in params["levels"]]
        rows.append(
            [
                (START + timedelta(days=day)).date().isoformat(),
                len(values),
                *(values[rank - 1] for rank in ranks),
            ]
        )
    return rows


def _sessions(by_sensor: dict[str, list[tuple]], params: dict[str, Any]) -> list[list]:
    """Per sensor: sessions (a new one after more than `idle_minutes` without a reading),
    readings, and the longest session from its first to its last reading, in milliseconds."""
    idle = params["idle_minutes"] * MS_PER_MINUTE
    rows = []
    for sensor, series in sorted(by_sensor.items()):
        sessions, longest, began = 0, 0, None
        for i, (taken, _) in enumerate(series):
            if i == 0 or taken - series[i - 1][0] > idle:
                sessions, began = sessions + 1, taken
            longest = max(longest, taken - began)
        rows.append([sensor, sessions, len(series), longest])
    return rows


def _ms(iso: str) -> int:
    return int((datetime.fromisoformat(iso) - START).total_seconds() * 1000)


def expected_answers(truth: dict[str, Any], workload: Workload) -> dict[str, dict[str, Any]]:
    """Query id -> {"rows": [...]}: each query's whole answer, from the generator's truth, where
    the query's parameters are still those the answer was computed with."""
    used = truth.get("answer_params", {})
    current = {q.id: q.params for q in workload.queries}
    return {
        query_id: {"rows": rows}
        for query_id, rows in truth.get("answers", {}).items()
        if query_id in current and used.get(query_id) == current[query_id]
    }
