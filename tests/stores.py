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


def gene_page_store(root: Path, *, n_features: int, cohorts: tuple[str, ...], seed: int,
                    samples: tuple[int, int]) -> tuple[Path, dict]:
    """``root/store`` of :func:`linkscan.jobs.demo.make_gene_page_set`'s tables: tumor and
    normal proteomes, mutations, clinical and survival phenotypes per cohort (as the demo
    ingests them). Returns the store and the written tables' paths per cohort."""
    from linkscan.storage.inputs.phenotype_ingest import ingest_phenotypes

    tables = demo.make_gene_page_set(n_features=n_features, cohorts=cohorts, seed=seed, samples=samples)
    files = demo.write_gene_page_tables(tables, root / "tables")
    store = root / "store"
    for cohort, paths in files.items():
        ingest(store, cohort, "proteome", paths["proteome"])
        ingest(store, cohort, "proteome", paths["proteome_normal"], tissue="normal")
        ingest(store, cohort, "mutation", paths["mutation"])
        ingest_phenotypes(store, cohort, clinical=paths["clinical"], types_file=paths["clinical_types"],
                          levels={"stage": demo.STAGE_LEVELS}, unknown={"stage": demo.STAGE_UNKNOWN},
                          survival=paths["survival"])
    return store, files
