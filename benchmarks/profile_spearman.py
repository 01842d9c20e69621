"""Where the Spearman kernel's time goes, per pair and per path.

    .venv/bin/python benchmarks/profile_spearman.py [--features 1000] [--samples 150]

On one CPTAC-shaped synthetic cohort (linkscan.jobs.demo.make_cohort: 40% of features
miss 5-50% of samples), times each of the kernel's paths on its own, single-threaded,
best of 5 runs, and prints ns per pair:

* complete x complete: the exact integer rank product (BLAS matrix product);
* one complete tie-free feature x one incomplete: one pass with a running count
  (``_pair_one_complete``);
* both incomplete: re-rank on the overlap (``_pair_missing``);
* rho and p of a pair through the p table, warm (``_finalize`` via
  ``_finalize_complete``), and a p computed from scratch (``_t_logp``);
* the whole ``spearman_block`` call, for the pairs/s it adds up to.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from linkscan.kernels import spearman as sp
from linkscan.jobs.demo import make_cohort


def _best(fn, repeats: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@numba.njit
def _one_complete(inc, com, d_inc, o_com):
    acc = 0
    for i in inc:
        for j in com:
            acc += sp._pair_one_complete(o_com[j], d_inc[i])
    return acc


@numba.njit
def _both_incomplete(inc, o, g, m, tf, fin, min_n):
    s = fin.shape[1]
    idx = np.empty(s + 1, dtype=np.int32)
    grp = np.empty(s + 1, dtype=np.int32)
    rx = np.zeros(s, dtype=np.int64)
    acc = 0.0
    for a in range(inc.shape[0]):
        i = inc[a]
        for b in range(a + 1, inc.shape[0]):
            j = inc[b]
            acc += sp._pair_missing(o[i], g[i], m[i], tf[i], fin[i], o[j], g[j], m[j], tf[j], fin[j], min_n,
                                    idx, grp, rx)[0]
    return acc


@numba.njit
def _fresh_p(sxy, n, lbeta_tab):
    acc = 0.0
    sxx = (n**3 - n) / 3.0
    prod = sxx * sxx
    for k in range(sxy.shape[0]):
        acc += sp._t_logp(n, sxy[k], prod - sxy[k] * sxy[k], prod, lbeta_tab)
    return acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=150)
    args = parser.parse_args()

    x = make_cohort(args.features, args.samples, seed=1, absent_fraction=0.0).to_numpy()
    o, g, m, tf, fin, complete, dr, sdd = sp._prepare(x)
    inc = np.flatnonzero(~complete)
    com = np.flatnonzero(complete & tf)
    print(f"{args.features} features x {args.samples} samples: {complete.mean():.0%} complete, "
          f"incomplete ones have {m[inc].mean():.0f} values on average")

    rows, ranks, sxx, ties = sp._complete_part(o, g, complete)
    t = _best(lambda: ranks @ ranks.T)
    n_cc = len(rows) * len(rows)
    print(f"complete x complete, rank product:        {t / n_cc * 1e9:7.0f} ns/pair ({n_cc:,} pairs)")

    t = _best(lambda: _one_complete(inc, com, dr, o))
    n_oc = len(inc) * len(com)
    print(f"one complete x one incomplete, one pass:  {t / n_oc * 1e9:7.0f} ns/pair ({n_oc:,} pairs)")

    t = _best(lambda: _both_incomplete(inc, o, g, m, tf, fin, 10))
    n_ii = len(inc) * (len(inc) - 1) // 2
    print(f"both incomplete, re-ranked on overlap:    {t / n_ii * 1e9:7.0f} ns/pair ({n_ii:,} pairs)")

    sxy = ranks @ ranks.T
    lbeta = sp._lbeta_table(args.samples)
    table = sp._get_exact_table()
    ptab, poff = sp._p_table()
    out = [np.full((len(rows), len(rows)), np.nan), np.zeros((len(rows), len(rows)), np.int32),
           np.full((len(rows), len(rows)), np.nan)]

    def finalize():
        sp._finalize_complete(sxy, np.arange(len(rows)), np.arange(len(rows)), sxx, sxx, ties, ties,
                              args.samples, False, 0, table, lbeta, ptab, poff, *out)

    t = _best(finalize)
    print(f"rho and p via the p table (warm):         {t / n_cc * 1e9:7.0f} ns/pair")
    sample = np.ascontiguousarray(sxy[np.triu_indices(len(rows), 1)][:200_000])
    t = _best(lambda: _fresh_p(sample, args.samples, lbeta))
    print(f"p computed from scratch (table miss):     {t / len(sample) * 1e9:7.0f} ns/pair")

    pairs = args.features * (args.features - 1) // 2
    t = _best(lambda: sp.spearman_block(x), repeats=3)
    print(f"spearman_block, whole self-scan:          {t / pairs * 1e9:7.0f} ns/pair = {pairs / t:,.0f} pairs/s")


if __name__ == "__main__":
    main()
