"""The job's sample filters (`where`, `exclude_samples`): a filtered scan equals the
kernels run on the kept samples only, the normals of dropped participants go too, and
the manifest records the filters and what they kept."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.runner import open_client, run_scan
from linkscan.errors import JobError
from linkscan.jobs.spec import read_job, write_job
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.storage.results.store import ResultStore
from stores import gene_page_store

COHORTS = ("BRCA", "COAD")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("filters")
    gene_page_store(root, n_features=30, cohorts=COHORTS, seed=4, samples=(70, 90))
    return root


@pytest.fixture(scope="module")
def client():
    with open_client(n_workers=2) as c:
        yield c


def _matrix(store: Path, cohort: str, tissue: str = "tumor") -> pd.DataFrame:
    ds = CohortStore(store).open(cohort, "proteome", tissue=tissue)
    return pd.DataFrame(ds["values"].to_numpy().astype(np.float64), index=ds["feature"].to_numpy().astype(str),
                        columns=ds["sample"].to_numpy().astype(str))


def _lookup(results: Path, gene: str) -> pd.DataFrame:
    return ResultStore(str(results)).lookup(gene).set_index("partner")


def test_trans__where_and_exclude_equal_the_kernel_on_the_kept_samples(root, client):
    from linkscan.kernels.spearman import spearman_block

    store, results = root / "store", root / "trans"
    drop = ["C3L-00017", "C3L-00025"]
    spec = ScanSpec(store=str(store), results=str(results), omics="proteome", tile_size=8,
                    where="age >= 50 and stage in ['Stage I', 'Stage II']", exclude_samples=tuple(drop))
    run_scan(spec, client=client, progress=False)
    manifest = ResultStore(str(results)).manifest()
    assert manifest["scan"]["where"] == "age >= 50 and stage in ['Stage I', 'Stage II']"
    assert manifest["scan"]["exclude_samples"] == sorted(drop)
    rows = _lookup(results, "MKI67")
    for cohort in COHORTS:
        tumor = _matrix(store, cohort)
        phen = CohortStore(store).phenotypes(cohort)
        age = np.asarray(phen["age"].align(tumor.columns).values)
        stage = phen["stage"].align(tumor.columns).codes
        keep = (age >= 50) & np.isin(stage, [0, 1]) & ~tumor.columns.isin(drop)
        assert 10 < keep.sum() < len(keep) and manifest["samples"][cohort] == keep.sum()
        kept = tumor.loc[:, keep]
        rho, n, _ = spearman_block(kept.loc[["MKI67"]].to_numpy(), kept.to_numpy())
        expect = pd.Series(rho[0], index=kept.index).drop("MKI67")
        got = rows[f"{cohort}_stat"].reindex(expect.index)
        np.testing.assert_array_equal(got.to_numpy(np.float32), expect.to_numpy().astype(np.float32))
        assert set(rows[f"{cohort}_n"].dropna()) <= set(range(10, keep.sum() + 1))


def test_tumor_normal__a_dropped_participant_takes_its_normal_along(root, client):
    from linkscan.kernels.wilcoxon import wilcoxon_block

    store, results = root / "store", root / "tn"
    tumor, normal = _matrix(store, "BRCA"), _matrix(store, "BRCA", "normal")
    shared = sorted(set(tumor.columns) & set(normal.columns))
    assert len(shared) >= 4
    where = "age < 80 and not (`age` > 1000)"
    phen = CohortStore(store).phenotypes("BRCA")
    old = ~(np.asarray(phen["age"].align(tumor.columns).values) < 80)  # dropped by where (a missing age too)
    excluded = (shared[0],)
    run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome", kind="tumor_normal",
                      where=where, exclude_samples=excluded, cohorts=("BRCA",), tile_size=8),
             client=client, progress=False)
    gone = set(tumor.columns[old]) | set(excluded)
    t = tumor.loc[:, ~tumor.columns.isin(gone)]
    nm = normal.loc[:, ~normal.columns.isin(gone)]
    assert nm.shape[1] < normal.shape[1]
    values = np.concatenate([t.loc[["MKI67"]].to_numpy(), nm.loc[["MKI67"]].to_numpy()], axis=1)
    group = np.r_[np.ones(t.shape[1]), np.zeros(nm.shape[1])].astype(np.int8)
    hl, n, _ = wilcoxon_block(values, group, min_x=20, min_y=10, require_nonzero=True)
    row = _lookup(results, "MKI67").loc["tumor_vs_normal"]
    assert row["BRCA_n"] == n[0] and row["BRCA_stat"] == np.float32(hl[0])
    assert row["BRCA_nx"] == t.loc["MKI67"].notna().sum()


def test_phenotype__mutation_groups_counted_on_the_kept_samples(root, client):
    store, results = root / "store", root / "phen"
    run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome", kind="phenotype",
                      mutations="mutation", phenotypes=("age",), where="MSI == 'MSS'", tile_size=16),
             client=client, progress=False)
    rows = _lookup(results, "MKI67")
    manifest = ResultStore(str(results)).manifest()
    assert "age" in rows.index
    for cohort in COHORTS:
        phen = CohortStore(store).phenotypes(cohort)
        tumor = _matrix(store, cohort)
        msi = phen["MSI"].align(tumor.columns)
        assert manifest["samples"][cohort] == (np.asarray(msi.codes) == 1).sum()
        assert rows[f"{cohort}_n"].max() <= manifest["samples"][cohort]


def test_job_file__filters_read_and_errors_named(root, tmp_path):
    ids = tmp_path / "exclude.txt"
    ids.write_text("# excluded cases\nC3L-00017\n\nC3L-00025  # QC\n", encoding="utf-8")
    job = read_job(write_job(tmp_path / "job.toml", store=str(root / "store"), results="r", omics="proteome",
                             exclude_samples="exclude.txt", where="age >= 50"))
    assert job.scan.exclude_samples == ("C3L-00017", "C3L-00025") and job.scan.where == "age >= 50"
    with pytest.raises(JobError, match=r"where = \"age >=\": expected a number or a quoted string at character 7"):
        ScanSpec(store="s", results="r", omics="proteome", where="age >=")
    spec = dict(store=str(root / "store"), results=str(tmp_path / "r"), omics="proteome")
    with pytest.raises(JobError, match=r"cohort BRCA has no phenotype column 'agee' \(did you mean age"):
        make_plan(ScanSpec(**spec, where="agee > 3"))
    with pytest.raises(JobError, match=r"cohort BRCA: the sample filters leave none of its \d+ samples"):
        make_plan(ScanSpec(**spec, where="age > 1000"))
    with pytest.raises(JobError, match=r"exclude_samples: none of its 1 ids is a sample of the scan"):
        make_plan(ScanSpec(**spec, exclude_samples=("TCGA-XX",)))
