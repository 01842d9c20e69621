"""Covariate-adjusted scans: every Spearman-based test becomes the partial Spearman test
of kernels/partial.py on the cohort's covariates, through every scan path, equal to the
kernel run directly and to pingouin's partial_corr on one pair."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkscan.engine.covariates import design
from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.runner import open_client, run_scan
from linkscan.errors import JobError
from linkscan.kernels.partial import partial_spearman_block
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.storage.results.store import ResultStore
from stores import gene_page_store

COHORTS = ("BRCA", "COAD")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("covariates")
    gene_page_store(root, n_features=30, cohorts=COHORTS, seed=6, samples=(70, 90))
    return root


@pytest.fixture(scope="module")
def client():
    with open_client(n_workers=2) as c:
        yield c


def _matrix(store: Path, cohort: str) -> pd.DataFrame:
    ds = CohortStore(store).open(cohort, "proteome")
    return pd.DataFrame(ds["values"].to_numpy().astype(np.float64), index=ds["feature"].to_numpy().astype(str),
                        columns=ds["sample"].to_numpy().astype(str))


def test_trans__partial_spearman_equals_the_kernel_and_pingouin(root, client):
    store, results = root / "store", root / "trans"
    run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome", covariates=("age", "MSI"),
                      tile_size=8), client=client, progress=False)
    rows = ResultStore(str(results)).lookup("MKI67").set_index("partner")
    assert (rows.test == "partial_spearman").all()
    for cohort in COHORTS:
        tumor = _matrix(store, cohort)
        cov = design(CohortStore(store).phenotypes(cohort), ("age", "MSI"), tumor.columns.to_numpy(), cohort)
        r, n, logp = partial_spearman_block(tumor.loc[["MKI67"]].to_numpy(), tumor.to_numpy(), cov.z,
                                            rank_z=cov.rank, min_df=8)
        expect = pd.Series(r[0], index=tumor.index).drop("MKI67").dropna()
        got = rows[f"{cohort}_stat"].reindex(expect.index)
        np.testing.assert_array_equal(got.to_numpy(np.float32), expect.to_numpy().astype(np.float32))
    # one pair through pingouin (the established implementation), from the stored result
    pingouin = pytest.importorskip("pingouin")
    partner = rows["BRCA_slogp"].abs().idxmax()
    tumor = _matrix(store, "BRCA")
    phen = CohortStore(store).phenotypes("BRCA")
    frame = pd.DataFrame({"x": tumor.loc["MKI67"], "y": tumor.loc[partner],
                          "age": phen["age"].align(tumor.columns).values,
                          "msi": np.where(phen["MSI"].align(tumor.columns).codes < 0, np.nan,
                                          phen["MSI"].align(tumor.columns).codes)}).dropna()
    ref = pingouin.partial_corr(frame, "x", "y", covar=["age", "msi"], method="spearman")
    assert rows.loc[partner, "BRCA_stat"] == pytest.approx(ref["r"].iloc[0], rel=1e-6)
    assert abs(rows.loc[partner, "BRCA_slogp"]) == pytest.approx(-np.log10(ref["p_val"].iloc[0]), rel=1e-5)
    assert rows.loc[partner, "BRCA_n"] == len(frame)


def test_phenotype__binary_and_mutations_against_their_group_indicator(root, client):
    store, results = root / "store", root / "phen"
    run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome", kind="phenotype",
                      phenotypes=("MSI", "stage"), mutations="mutation", covariates=("age",), tile_size=16),
             client=client, progress=False)
    rows = ResultStore(str(results)).lookup("MKI67").set_index("partner")
    assert (rows.test == "partial_spearman").all() and {"MSI", "stage", "TP53"} <= set(rows.index)
    tumor = _matrix(store, "BRCA")
    phen = CohortStore(store).phenotypes("BRCA")
    cov = design(phen, ("age",), tumor.columns.to_numpy(), "BRCA")
    msi = np.asarray(phen["MSI"].align(tumor.columns).codes)
    indicator = np.where(msi < 0, np.nan, msi == 0).astype(np.float64)  # x = MSI-H, the first level
    r, n, _ = partial_spearman_block(tumor.loc[["MKI67"]].to_numpy(), indicator[None, :], cov.z, rank_z=cov.rank)
    assert rows.loc["MSI", "BRCA_stat"] == np.float32(r[0, 0]) and rows.loc["MSI", "BRCA_n"] == n[0, 0]
    used = cov.complete & np.isfinite(indicator) & np.isfinite(tumor.loc["MKI67"].to_numpy())
    assert rows.loc["MSI", "BRCA_nx"] == (used & (indicator == 1)).sum()
    stage = np.asarray(phen["stage"].align(tumor.columns).codes, dtype=np.float64)
    r, n, _ = partial_spearman_block(tumor.loc[["MKI67"]].to_numpy(), np.where(stage < 0, np.nan, stage)[None, :],
                                     cov.z, rank_z=cov.rank)
    assert rows.loc["stage", "BRCA_stat"] == np.float32(r[0, 0])


def test_covariates__refusals_name_the_fix(root, tmp_path):
    spec = dict(store=str(root / "store"), results=str(tmp_path / "r"), omics="proteome")
    with pytest.raises(JobError, match=r"the phenotypes OS \(SURV\) are tested by ANOVA or Cox"):
        make_plan(ScanSpec(**spec, kind="phenotype", covariates=("age",)))
    with pytest.raises(JobError, match=r"phenotypes 'age' are also covariates"):
        make_plan(ScanSpec(**spec, kind="phenotype", phenotypes=("age",), covariates=("age",)))
    with pytest.raises(JobError, match=r"covariates: cohort BRCA has no phenotype 'purity'"):
        make_plan(ScanSpec(**spec, covariates=("purity",)))
    with pytest.raises(JobError, match=r"covariates: 'OS' is a survival endpoint"):
        make_plan(ScanSpec(**spec, covariates=("OS",)))
    with pytest.raises(JobError, match=r"a tumor_normal scan has none"):
        ScanSpec(**spec, kind="tumor_normal", covariates=("age",))
    with pytest.raises(JobError, match=r'covariates and p_mode = "r" do not go together'):
        ScanSpec(**spec, covariates=("age",), p_mode="r")
