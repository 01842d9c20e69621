"""Preranked GSEA: linkscan's kernel against gseapy's prerank on the same input.

10,000 ranked genes without ties x 200 random gene sets of 15-500 genes x 1,000
permutations, one thread (gseapy also with 2). Prints seconds per method; the figures
and the machine are in benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_gsea.py            # linkscan only
    .venv/bin/python benchmarks/bench_gsea.py --gseapy   # and gseapy (pip install gseapy)
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from linkscan.kernels.gsea import preranked_gsea


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gseapy", action="store_true", help="time gseapy's prerank too")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = 10_000
    genes = np.array([f"G{i:05d}" for i in range(n)])
    scores = np.sort(rng.normal(size=n) * 3)[::-1]
    sizes = rng.integers(15, 501, size=200)
    sets = {f"S{s:03d}": list(genes[rng.choice(n, k, replace=False)]) for s, k in enumerate(sizes)}
    members = [np.sort(np.searchsorted(genes, g)) for g in sets.values()]
    offsets = np.cumsum([0] + [len(m) for m in members])
    preranked_gsea(scores[:100], [0], [0, 1], permutations=2)  # compiled (or loaded) before timing
    start = time.perf_counter()
    preranked_gsea(scores, np.concatenate(members), offsets, permutations=1000, seed=0)
    print(f"linkscan preranked_gsea: {time.perf_counter() - start:.2f} s ({len(np.unique(sizes))} distinct sizes)")
    if args.gseapy:
        import gseapy

        for threads in (1, 2):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gseapy.prerank(rnk=pd.Series(scores, index=genes), gene_sets=sets, permutation_num=1000, seed=0,
                               threads=threads, outdir=None, no_plot=True, min_size=15, max_size=500)
            print(f"gseapy prerank threads={threads}: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
