"""``linkscan demo``: the demo set end to end, as a user runs linkscan on real cohorts.

:func:`run_demo` generates the gene-page set (:func:`linkscan.jobs.demo.make_gene_page_set`),
writes it as LinkedOmics tables, ingests them into a cohort store, writes one job file
per scan of :data:`DEMO_SCANS`, runs the scans on one LocalCluster and prints
:data:`~linkscan.jobs.demo.DEMO_GENE`'s strongest partners in each. This module loads
Dask; the generator alone is :mod:`linkscan.jobs.demo`.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TextIO

from linkscan.engine.runner import open_client, run_scan
from linkscan.jobs.api import lookups
from linkscan.jobs.cli import print_rows
from linkscan.jobs.demo import (
    CPTAC_COHORTS,
    DEMO_GENE,
    STAGE_LEVELS,
    STAGE_UNKNOWN,
    make_gene_page_set,
    write_demo_gmt,
    write_gene_page_tables,
)
from linkscan.jobs.spec import read_job, write_job
from linkscan.storage.inputs.ingest import ingest
from linkscan.storage.inputs.phenotype_ingest import ingest_phenotypes

__all__ = ["DEMO_SCANS", "run_demo"]

#: The demo's scans: name -> job file fields.
DEMO_SCANS = {
    "trans": {"kind": "trans", "omics": "proteome"},
    "tumor_normal": {"kind": "tumor_normal", "omics": "proteome"},
    "phenotype": {"kind": "phenotype", "omics": "proteome", "mutations": "mutation"},
    "cis": {"kind": "cis", "omics": "rna", "omics_y": "proteome"},
}


def run_demo(
    folder: str | os.PathLike[str],
    *,
    features: int = 2000,
    seed: int = 0,
    workers: int = 0,
    tile_size: int = 500,
    out: TextIO | None = None,
) -> None:
    """Generate the demo set, ingest it, run the four scans and look the demo gene up.

    Parameters
    ----------
    folder
        Working folder, created when missing. The demo owns it: ``tables/`` (the
        generated tables, one folder per cohort), ``store/`` (the cohort store),
        ``jobs/`` (one job file per scan) and ``results/`` (one result store per scan,
        removed first, as new inputs make earlier results stale).
    features
        Proteins per cohort (``n_features`` of :func:`linkscan.jobs.demo.make_gene_page_set`).
    seed
        Seed of the generated set.
    workers
        LocalCluster workers, also written into the job files; 0 for one per core.
    tile_size
        Features per block of each scan.
    out
        Stream for the step lines and the lookup tables; None for standard output at
        the time of the call. Each scan's progress bar goes to standard error.

    Raises
    ------
    LinkscanError
        As the ingest, the scans and the lookups raise it.
    """
    out = sys.stdout if out is None else out
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    print(f"[1/4] generating {len(CPTAC_COHORTS)} CPTAC-shaped cohorts x {features} "
          f"proteins (seed {seed}): tumor and normal proteomes, RNA, mutations, clinical, survival", file=out)
    tables = make_gene_page_set(n_features=features, seed=seed)
    files = write_gene_page_tables(tables, root / "tables")
    write_demo_gmt(root, n_features=features)  # the modules as gene sets, for `linkscan gsea`
    print(f"[2/4] ingesting {root / 'tables'} into the cohort store {root / 'store'}", file=out)
    store = root / "store"
    for cohort, paths in files.items():
        ingest(store, cohort, "proteome", paths["proteome"])
        ingest(store, cohort, "proteome", paths["proteome_normal"], tissue="normal")
        ingest(store, cohort, "rna", paths["rna"])
        ingest(store, cohort, "mutation", paths["mutation"])
        ingest_phenotypes(store, cohort, clinical=paths["clinical"], types_file=paths["clinical_types"],
                          levels={"stage": STAGE_LEVELS},
                          unknown={"stage": STAGE_UNKNOWN}, survival=paths["survival"])
        print(f"    {cohort}: proteome (tumor, normal), rna, mutation, clinical and survival", file=out)
    # The demo owns its folder: new inputs make earlier results stale, so start over.
    shutil.rmtree(root / "results", ignore_errors=True)
    print(f"[3/4] scans on a LocalCluster, one job file each in {root / 'jobs'}", file=out)
    (root / "jobs").mkdir(exist_ok=True)
    with open_client(n_workers=workers or None) as client:
        for name, fields in DEMO_SCANS.items():
            job = write_job(root / "jobs" / f"{name}.toml", store="../store", results=f"../results/{name}",
                            tile_size=tile_size, n_workers=workers, **fields)
            print(f"    linkscan submit {job}", file=out)
            print("    ", run_scan(read_job(job).scan, client=client), file=out)
    print(f"[4/4] linkscan query {DEMO_GENE} --results {root / 'results'} --top 5", file=out)
    for kind, rows in lookups(DEMO_GENE, root / "results", top=5):
        print(f"== {kind}", file=out)
        print_rows(rows, "table", out)
    results, gmt = root / "results", root / "gene_sets.gmt"
    print(f"\nThe gene page of {DEMO_GENE} (needs the serve extra: pip install \"linkscan[serve]\"):\n"
          f"    linkscan serve {results} --gmt {gmt}\n"
          f"    then open http://127.0.0.1:8000/gene/{DEMO_GENE}\n"
          f"or as one offline file:\n"
          f"    linkscan report {DEMO_GENE} --results {results} --gmt {gmt} -o {DEMO_GENE}.html", file=out)
