"""Cohort stores the tests scan: the demo generator's proteomes, ingested as a user would."""

from pathlib import Path

from linkscan.jobs import demo
from linkscan.storage.inputs.ingest import ingest


def proteome_store(root: Path, *, n_features: int, cohorts: tuple[str, ...], seed: int,
                   samples: tuple[int, int]) -> Path:
    """``root/store``: one proteome per cohort of :func:`linkscan.jobs.demo.make_pan_cancer`
    (written as tables under ``root/tables``, then ingested)."""
    tables = demo.make_pan_cancer(n_features=n_features, cohorts=cohorts, seed=seed, samples=samples)
    for cohort, path in demo.write_tables(tables, root / "tables").items():
        ingest(root / "store", cohort, "proteome", path)
    return root / "store"
