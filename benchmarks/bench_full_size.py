"""The knowledge base's full size, projected by `linkscan bench` from a measured sample.

    .venv/bin/python benchmarks/bench_full_size.py [--dir /tmp/bench-full] [--features 20000]
        [--cohorts 10] [--tiles 3] [--max-workers 64] [--phospho ../shared/data/real/cptac_ucec]

Two scans, each sized from its job file exactly as `linkscan submit` would plan it, with
`linkscan bench JOB.toml` running a sample of its tiles (and their finish) on this
machine, once per keep policy (the projected bytes differ; the pair tests do not):

* **RNA-sized trans scan**: ``--features`` complete features (no missing values, as RNA
  is) x ``--cohorts`` cohorts of 100-200 samples each, the demo generator's modules and
  fillers (:func:`linkscan.jobs.demo.make_pan_cancer` with ``complete=True``);
  ``features`` x ``features`` / 2 pairs per cohort.
* **Phosphosites x kinases** (with ``--phospho``, a CPTAC folder holding
  ``phospho_tumor.tsv.gz``, ``phospho_site_to_gene.tsv`` and ``proteome_tumor.tsv.gz``):
  every phosphosite against the proteins of kinase-named genes (a stand-in for a curated
  kinase list, which the offline machine has no copy of: symbols starting with one of
  :data:`KINASE_PREFIXES`), a trans scan of two omics with ``features_y``.

Memory per worker: `linkscan bench` reports the peak resident memory of its one process
over the sampled tiles and over their finish (a worker's share), and projects the whole
scan's largest BH task (about 14 bytes a test of its p column); `bench_scan.py` measures every
process of a real multi-process scan.
Output: a markdown report on stdout.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
#: Gene symbol prefixes of protein kinases (the kinase scan's stand-in list).
KINASE_PREFIXES = ("CDK", "MAPK", "MAP2K", "MAP3K", "MAP4K", "PRKA", "PRKC", "PRKD", "CAMK", "CSNK", "GSK3",
                   "AKT", "PIK3", "MTOR", "ATM", "ATR", "CHEK", "AURK", "PLK", "NEK", "DYRK", "CLK", "SRPK",
                   "ROCK", "PAK", "STK", "TTK", "BUB1", "WEE1", "EGFR", "ERBB", "FGFR", "PDGFR", "KIT", "MET",
                   "SRC", "ABL", "JAK", "TYK", "SYK", "ZAP70", "LCK", "FYN", "YES1", "BTK", "ITK", "RIPK",
                   "IRAK", "TBK1", "IKBK", "ULK", "MARK", "SIK", "BRSK", "PRKG", "RPS6K", "PDPK1", "SGK",
                   "DAPK", "MYLK", "TLK", "HIPK", "MINK", "TNIK", "LATS", "MST1", "OXSR1", "WNK")
LINKSCAN = [sys.executable, "-m", "linkscan.jobs.cli"]
POLICIES = ({}, {"min_slogp": 6}, {"top": 100})


def _bench(job: Path, tiles: int, max_workers: int) -> str:
    out = subprocess.run([*LINKSCAN, "bench", str(job), "--tiles", str(tiles), "--max-workers", str(max_workers)],
                         capture_output=True, text=True, check=True)
    return out.stdout


def _jobs(folder: Path, name: str, keep_policies, **job) -> list[tuple[str, Path]]:
    from linkscan.jobs.spec import write_job

    return [(str(keep or "all"), write_job(folder / f"{name}-{i}.toml", keep=keep or "all", **job))
            for i, keep in enumerate(keep_policies)]


def rna_sized(folder: Path, n_features: int, n_cohorts: int) -> Path:
    """The complete cohort store of the RNA-sized scan (made once; reused when present)."""
    from linkscan.jobs import demo
    from linkscan.storage.inputs.ingest import ingest

    store = folder / f"rna-{n_features}-{n_cohorts}" / "store"
    if (store.parent / "done").exists():
        return store
    cohorts = demo.CPTAC_COHORTS[:n_cohorts]
    for cohort in cohorts:  # one at a time: a 20,000 x 200 table is 32 MB
        table = demo.make_pan_cancer(n_features=n_features, cohorts=(cohort,), seed=0, complete=True)[cohort]
        path = store.parent / "tables" / f"{cohort}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, sep="\t")
        ingest(store, cohort, "rna", path)
        path.unlink()
    (store.parent / "done").write_text("")
    return store


def phospho_kinase(folder: Path, cptac: Path) -> tuple[Path, list[str]]:
    """A store of one CPTAC cohort's phosphosites (with their genes) and proteome, and the
    kinase-named genes of its proteome."""
    from linkscan.storage.inputs.ingest import ingest

    store = folder / "phospho" / "store"
    proteome = pd.read_csv(cptac / "proteome_tumor.tsv.gz", sep="\t", index_col=0, usecols=[0])
    kinases = sorted(g for g in proteome.index.astype(str) if re.match("|".join(KINASE_PREFIXES), g))
    if not (store.parent / "done").exists():
        genes = pd.read_csv(cptac / "phospho_site_to_gene.tsv", sep="\t", index_col=0)["gene"]
        ingest(store, cptac.name, "phospho", cptac / "phospho_tumor.tsv.gz", gene_map=genes)
        ingest(store, cptac.name, "proteome", cptac / "proteome_tumor.tsv.gz")
        (store.parent / "done").write_text("")
    return store, kinases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-full"))
    parser.add_argument("--features", type=int, default=20_000)
    parser.add_argument("--cohorts", type=int, default=10)
    parser.add_argument("--tiles", type=int, default=3)
    parser.add_argument("--max-workers", type=int, default=64)
    parser.add_argument("--phospho", type=Path, help="a CPTAC folder with phospho and proteome tables")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"### Full-size projections (`{' '.join(['python', 'benchmarks/bench_full_size.py', *(argv or sys.argv[1:])])}`)\n")
    start = time.perf_counter()
    store = rna_sized(args.dir, args.features, args.cohorts)
    print(f"RNA-sized store: {args.features:,} complete features x {args.cohorts} cohorts, made in "
          f"{time.perf_counter() - start:.0f} s\n")
    for keep, job in _jobs(args.dir, "rna", POLICIES, store=str(store), results=str(args.dir / "unused"),
                           omics="rna"):
        print(f"#### RNA-sized trans scan, keep = {keep}\n\n```\n{_bench(job, args.tiles, args.max_workers)}```\n")
    if args.phospho:
        store, kinases = phospho_kinase(args.dir, args.phospho)
        print(f"Phosphosites x {len(kinases)} kinase-named proteins of {args.phospho.name}\n")
        for keep, job in _jobs(args.dir, "phospho", POLICIES, store=str(store), results=str(args.dir / "unused"),
                               omics="phospho", omics_y="proteome", features_y=kinases):
            print(f"#### Phosphosites x kinases, keep = {keep}\n\n```\n{_bench(job, args.tiles, args.max_workers)}```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
