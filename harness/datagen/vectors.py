"""Vector embeddings around planted clusters, with metadata, and probes whose neighbours are known.

Each item is a cluster centre plus Gaussian noise (numpy, seeded per part: the same seed gives
the same vectors), stored as float32 — what every engine's vector type holds — with a category,
a tenant and a date drawn independently of its cluster. The probes are drawn the same way.

The truth is computed exactly, in float64 from the float32 values the engines load: each probe's
top-k neighbours by cosine distance and by Euclidean (L2) distance, its top-k among the items a
metadata filter keeps, how many items lie within a cosine distance threshold, and each category's
centroid. Engines compute distances in float32 (DuckDB, ClickHouse, Snowflake) or float64
(BigQuery), so two neighbours whose distances differ by float noise could swap places. The
generator therefore keeps only probes whose answers are unambiguous: the k-th and the (k+1)-th
distance differ by at least MARGIN x (1 + the k-th distance), and no item's distance lies within
MARGIN of the threshold. Float32 distances of 768-dimensional vectors are within about 1e-6 of the
exact ones, a hundred times less than the margin; Snowflake documents an error of up to 1e-4 for
its vector functions, half the margin. Candidates that fail are passed over (the
truth records how many), so answers never hinge on a tie.

Items go to Parquet (the embedding a list of float32) and NDJSON (an array of numbers: BigQuery's
ARRAY<FLOAT64> and Redshift's SUPER load that); the data is written and summarised part by part,
so memory stays flat as the scale grows.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from harness import units
from harness.datagen.base import Generated, Progress
from harness.errors import WorkloadError
from harness.workloads import Workload

PART_ROWS = 50_000
CATEGORIES = ["books", "music", "garden", "toys", "sports", "fashion", "food", "travel"]
TENANTS = 20
START = date(2026, 1, 1)
DAYS = 365
NOISE = 0.35  # noise per dimension around a centre whose components are N(0, 1)

# What the queries ask, fixed here so the truth knows the answers; expected_answers gives an
# answer only where the workload's query asks the same (a changed parameter is run unchecked).
K = 10  # neighbours per probe
PROBES = 8  # the probes table; probe 1 is the single-probe queries', all are the batch's
FILTERED_PROBE = 2
FILTER = {"category": "books", "tenant": 3}  # the filtered kNN's metadata predicate
THRESHOLD = 0.5  # cosine distance: inside a probe's cluster ~0.1, between clusters ~1
# The least gap that makes a top-k or a threshold count unambiguous: Snowflake's vector
# functions "have an error margin of up to 1e-4" (https://docs.snowflake.com/en/sql-reference/
# functions-vector, read 2026-12-06), so two distances each off by that much still keep their order.
MARGIN = 2e-4
CANDIDATES = 96  # probes drawn, of which the first PROBES unambiguous ones are kept


def check(scale: float, options: dict[str, int]) -> None:
    if int(scale) < 1000:
        raise WorkloadError(
            f"vectors needs at least 1000 items (scale {units.number(scale)}): fewer leave the "
            f"filtered query fewer than {K} candidates"
        )


def generate(
    workload: Workload,
    scale: float,
    options: dict[str, int],
    out_dir: Path,
    progress: Progress | None = None,
) -> Generated:
    total, dim, seed = int(scale), options["dim"], options["seed"]
    clusters = options["clusters"]
    centres = _normal(seed, 0, (clusters, dim))
    candidates = _probes(seed, centres)
    search = _Search(candidates, dim)
    for folder in ("items", "probes"):
        (out_dir / folder).mkdir()
    files: dict[str, list[str]] = {"items": [], "probes": []}
    parts = max(1, -(-total // PART_ROWS))
    for part in range(parts):
        first, end = part * PART_ROWS, min(total, (part + 1) * PART_ROWS)
        items = _items(seed, part, first, end, centres)
        search.add(items)
        files["items"] += _write(out_dir, f"items/items.{part + 1:04d}", items)
        if progress:
            progress(part + 1, parts)
    chosen = search.unambiguous()
    probes = {
        "probe_id": np.arange(1, PROBES + 1, dtype=np.int32),
        "embedding": candidates[chosen],
    }
    files["probes"] = _write(out_dir, "probes/probes", probes)
    # The index's table holds the same rows (see workload.yaml): it loads the same files.
    files["ann_items"] = list(files["items"])
    return Generated(files, search.truth(chosen, dim, clusters))


def _normal(seed: int, stream: int, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normals from the stream's own generator: parts do not depend on each other."""
    return np.random.default_rng([seed, stream]).standard_normal(shape)


def _probes(seed: int, centres: np.ndarray) -> np.ndarray:
    """Candidate probes, each near a centre (round robin), as float32 like the items."""
    picked = centres[np.arange(CANDIDATES) % len(centres)]
    noise = _normal(seed, 1, picked.shape)
    return (picked + NOISE * noise).astype(np.float32)


def _items(seed: int, part: int, first: int, end: int, centres: np.ndarray) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 2, part])
    n = end - first
    cluster = rng.integers(0, len(centres), n)
    embedding = (centres[cluster] + NOISE * rng.standard_normal((n, centres.shape[1]))).astype(
        np.float32
    )
    return {
        "id": np.arange(first + 1, end + 1, dtype=np.int64),
        "category": rng.integers(0, len(CATEGORIES), n),
        "tenant": rng.integers(1, TENANTS + 1, n).astype(np.int32),
        "created": rng.integers(0, DAYS, n),
        "embedding": embedding,
    }


def _write(out_dir: Path, stem: str, columns: dict[str, Any]) -> list[str]:
    """Parquet, then NDJSON from it (DuckDB writes JSON fast): the two names, relative."""
    vectors = columns["embedding"]
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    arrays: dict[str, pa.Array] = {}
    for name, values in columns.items():
        if name == "embedding":
            arrays[name] = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]).cast(
                pa.list_(pa.float32())
            )
        elif name == "category":
            arrays[name] = pa.array(np.array(CATEGORIES, dtype=object)[values], type=pa.string())
        elif name == "created":
            days = np.datetime64(START.isoformat()) + values.astype("timedelta64[D]")
            arrays[name] = pa.array(days, type=pa.date32())
        else:
            arrays[name] = pa.array(values)
    parquet, ndjson = f"{stem}.parquet", f"{stem}.ndjson"
    pq.write_table(pa.table(arrays), out_dir / parquet)
    # DuckDB writes a FLOAT as its shortest round-trip text (-1.6097009), which JSON keeps as
    # written; cast to DOUBLE first it would take 17 digits and the file twice the bytes.
    names = ", ".join(
        "json(embedding::VARCHAR) AS embedding" if n == "embedding" else n for n in arrays
    )
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        source = str(out_dir / parquet).replace("'", "''")
        target = str(out_dir / ndjson).replace("'", "''")
        con.execute(
            f"COPY (SELECT {names} FROM read_parquet('{source}')) TO '{target}' (FORMAT json)"
        )
    return [parquet, ndjson]


class _Search:
    """Exact neighbours of every candidate probe, kept part by part: for each candidate the
    K + 1 nearest items by cosine and by L2 distance (all items, and those FILTER keeps), how
    many items lie within THRESHOLD, and the closest any item comes to THRESHOLD; and the sum
    of the embeddings per category, for the centroids."""

    def __init__(self, candidates: np.ndarray, dim: int) -> None:
        self.probes = candidates.astype(np.float64)
        self.unit_probes = self.probes / np.linalg.norm(self.probes, axis=1, keepdims=True)
        # name -> (distances, ids), each candidates x (at most K + 1), nearest first
        self.nearest: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.within = np.zeros(len(candidates), dtype=np.int64)
        self.closest_to_threshold = np.full(len(candidates), np.inf)
        self.sums = np.zeros((len(CATEGORIES), dim))
        self.counts = np.zeros(len(CATEGORIES), dtype=np.int64)

    def add(self, items: dict[str, Any]) -> None:
        vectors = items["embedding"].astype(np.float64)
        ids = items["id"]
        norms = np.linalg.norm(vectors, axis=1)
        cosine = 1.0 - (self.unit_probes @ vectors.T) / norms
        squares = (self.probes**2).sum(axis=1)[:, None] - 2 * self.probes @ vectors.T + norms**2
        l2 = np.sqrt(np.maximum(squares, 0.0))
        kept = (items["category"] == CATEGORIES.index(FILTER["category"])) & (
            items["tenant"] == FILTER["tenant"]
        )
        self._keep("cosine", cosine, ids)
        self._keep("l2", l2, ids)
        self._keep("filtered", cosine[:, kept], ids[kept])
        self.within += (cosine < THRESHOLD).sum(axis=1)
        self.closest_to_threshold = np.minimum(
            self.closest_to_threshold, np.abs(cosine - THRESHOLD).min(axis=1)
        )
        np.add.at(self.sums, items["category"], vectors)
        self.counts += np.bincount(items["category"], minlength=len(CATEGORIES))

    def _keep(self, name: str, distances: np.ndarray, ids: np.ndarray) -> None:
        """This part's K + 1 nearest per candidate, merged with those kept so far."""
        ids = np.broadcast_to(ids, distances.shape)
        if name in self.nearest:
            before_d, before_i = self.nearest[name]
            distances = np.concatenate([before_d, distances], axis=1)
            ids = np.concatenate([before_i, ids], axis=1)
        order = np.argsort(distances, axis=1, kind="stable")[:, : K + 1]
        rows = np.arange(len(distances))[:, None]
        self.nearest[name] = (distances[rows, order], ids[rows, order])

    def _gap_ok(self, name: str, candidate: int) -> bool:
        distances = self.nearest[name][0][candidate]
        if len(distances) <= K:
            return True  # every item is in the answer: no boundary to be unsure of
        return distances[K] - distances[K - 1] >= MARGIN * (1 + distances[K - 1])

    def unambiguous(self) -> np.ndarray:
        """The first PROBES candidates whose every answer is clear of float noise."""
        good = [
            c
            for c in range(len(self.probes))
            if all(self._gap_ok(name, c) for name in ("cosine", "l2", "filtered"))
            and self.closest_to_threshold[c] >= MARGIN
        ]
        if len(good) < PROBES:
            raise WorkloadError(
                f"vectors: only {len(good)} of {len(self.probes)} candidate probes have "
                f"neighbours more than {units.number(MARGIN)} apart at the k-th place; more "
                "--clusters (fewer items around each) or another --seed"
            )
        return np.array(good[:PROBES])

    def truth(self, chosen: np.ndarray, dim: int, clusters: int) -> dict[str, Any]:
        def top(name: str, candidate: int) -> list[list]:
            distances, ids = self.nearest[name]
            return [
                [int(i), float(d)]
                for d, i in zip(distances[candidate][:K], ids[candidate][:K], strict=True)
            ]

        probes = {str(n + 1): int(c) for n, c in enumerate(chosen)}
        means = self.sums / np.maximum(self.counts, 1)[:, None]
        gaps = [
            float(self.nearest[name][0][c][K] - self.nearest[name][0][c][K - 1])
            for name in self.nearest
            for c in chosen
            if len(self.nearest[name][0][c]) > K
        ]
        return {
            "dim": dim,
            "clusters": clusters,
            "k": K,
            "threshold": THRESHOLD,
            "filter": FILTER,
            "margin": MARGIN,
            "smallest_gap": min(gaps) if gaps else None,
            "candidates_passed_over": int(chosen[-1]) + 1 - PROBES,
            "cosine_top": {p: top("cosine", c) for p, c in probes.items()},
            "l2_top": {p: top("l2", c) for p, c in probes.items()},
            "filtered_top": {p: top("filtered", c) for p, c in probes.items()},
            "within_threshold": {p: int(self.within[c]) for p, c in probes.items()},
            "centroids": {
                category: {"items": int(self.counts[n]), "mean": [float(v) for v in means[n]]}
                for n, category in enumerate(CATEGORIES)
            },
        }


def expected_answers(truth: dict[str, Any], workload: Workload) -> dict[str, dict[str, Any]]:
    """Query id -> {"rows": …} the truth gives, for queries that ask what it knows (the
    workload's parameters equal to the generator's constants); the approximate query's exact
    neighbours with its `approximate` rule, so its answer is scored by recall@k."""
    if not truth:
        return {}
    answers: dict[str, dict[str, Any]] = {}
    known = {q.id: q for q in workload.queries}

    def asks(query_id: str, **params: Any) -> bool:
        query = known.get(query_id)
        return query is not None and all(query.params.get(k) == v for k, v in params.items())

    probe, k = 1, truth["k"]
    if asks("v01", probe=probe, k=k):
        answers["v01"] = {"rows": truth["cosine_top"][str(probe)]}
    if asks("v02", probe=probe, k=k):
        answers["v02"] = {"rows": truth["l2_top"][str(probe)]}
    if asks("v03", probes=PROBES, k=k):
        answers["v03"] = {
            "rows": [[int(p), *row] for p, rows in truth["cosine_top"].items() for row in rows]
        }
    if asks("v04", probe=FILTERED_PROBE, k=k, **truth["filter"]):
        answers["v04"] = {"rows": truth["filtered_top"][str(FILTERED_PROBE)]}
    if asks("v05", probe=probe, max_distance=truth["threshold"]):
        answers["v05"] = {"rows": [[truth["within_threshold"][str(probe)]]]}
    if asks("v06"):
        answers["v06"] = {
            "rows": [
                [category, c["items"], position + 1, mean]
                for category, c in sorted(truth["centroids"].items())  # ORDER BY category
                for position, mean in enumerate(c["mean"])
            ]
        }
    approximate = known["v07"].approximate if "v07" in known else None
    if asks("v07", probe=probe) and approximate is not None and approximate.k == k:
        answers["v07"] = {
            "rows": [[row[0]] for row in truth["cosine_top"][str(probe)]],
            "approximate": approximate,
        }
    return answers
