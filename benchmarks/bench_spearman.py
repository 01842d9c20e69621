"""Spearman throughput of linkscan's kernel against its peers, on the same data, in one
process, so that every figure is a ratio to a peer measured alongside it.

    .venv/bin/python benchmarks/bench_spearman.py [--features 2000] [--samples 150] [--repeats 3]

Data: one CPTAC-shaped synthetic cohort (storage.synthetic.make_cohort: 40% of features
missing 5-50% of samples, partly in whole TMT plexes), and the same cohort without
missing values. Throughput is unique feature pairs per second (a self-scan of n
features has n (n - 1) / 2), median of ``--repeats`` runs, p-values included for every
method that computes them. scipy runs on a random sample of pairs (it is slow) and is
scaled to pairs/s. The kernel runs single-threaded (one Dask worker's share); pandas
and numpy use what BLAS gives them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import pandas as pd
import scipy.stats

from kernels.spearman import spearman_block
from storage.synthetic import make_cohort


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _scipy_pairs_per_second(values: np.ndarray, n_pairs: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(values), (2, n_pairs))
    start = time.perf_counter()
    for a, b in zip(i, j):
        ok = ~np.isnan(values[a]) & ~np.isnan(values[b])
        scipy.stats.spearmanr(values[a][ok], values[b][ok])
    return n_pairs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    missing = make_cohort(args.features, args.samples, seed=1, absent_fraction=0.0)
    complete = make_cohort(args.features, args.samples, seed=1, absent_fraction=0.0, complete=True)
    pairs = len(missing) * (len(missing) - 1) // 2
    spearman_block(missing.to_numpy()[:20])  # compile outside the timing
    rows = []
    for label, table in (("40% of features with missing values", missing), ("complete", complete)):
        values = table.to_numpy()
        ours = pairs / _median_seconds(lambda: spearman_block(values), args.repeats)
        pandas = pairs / _median_seconds(lambda: table.T.corr(method="spearman"), args.repeats)
        scipy_rate = _scipy_pairs_per_second(values, 2000)
        rows.append((label, ours, pandas, scipy_rate))

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}, scipy {scipy.__version__}")
    print(f"data: {args.features} features x {args.samples} samples, median of {args.repeats} runs")
    print(f"{'data':<38}{'linkscan (p)':>16}{'pandas (no p)':>16}{'scipy/pair (p)':>16}"
          f"{'x pandas':>10}{'x scipy':>10}")
    for label, ours, pandas, scipy_rate in rows:
        print(f"{label:<38}{ours:>16,.0f}{pandas:>16,.0f}{scipy_rate:>16,.0f}"
              f"{ours / pandas:>10.1f}{ours / scipy_rate:>10.0f}")


if __name__ == "__main__":
    main()
