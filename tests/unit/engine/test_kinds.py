"""The gene-page scan kinds end to end (tumor vs normal, phenotypes, mutations, survival)
on a real multi-process cluster, against the kernels run directly and against scipy."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.runner import open_client, run_scan
from linkscan.jobs import demo
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.errors import JobError
from linkscan.storage.results.store import ResultStore
from stores import gene_page_store

COHORTS = ("BRCA", "COAD")


@pytest.fixture(scope="module")
def gene_page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gene_page")
    gene_page_store(root, n_features=60, cohorts=COHORTS, seed=2, samples=(70, 90))
    return root


@pytest.fixture(scope="module")
def client():
    with open_client(n_workers=2) as c:
        yield c


def _rows(results: Path) -> pd.DataFrame:
    import fastparquet

    shards = sorted((results / "shards").glob("*.parquet"))
    return pd.concat([fastparquet.ParquetFile(str(p)).to_pandas() for p in shards], ignore_index=True)


def _matrix(store, cohort, tissue="tumor") -> pd.DataFrame:
    ds = CohortStore(store).open(cohort, "proteome", tissue=tissue)
    return pd.DataFrame(ds["values"].to_numpy().astype(np.float64), index=ds["feature"].to_numpy(),
                        columns=ds["sample"].to_numpy())


def test_tumor_normal__wilcoxon_per_cohort_with_meta(gene_page, client):
    from linkscan.kernels.wilcoxon import wilcoxon_block

    results = gene_page / "results" / "tumor_normal"
    run_scan(ScanSpec(store=str(gene_page / "store"), results=str(results), kind="tumor_normal",
                      omics="proteome", tile_size=16), client=client, progress=False)
    rows = _rows(results)
    ids = ResultStore(str(results)).features().feature.to_numpy()
    once = rows[rows.feature < rows.partner]
    assert (ids[once.partner] == "tumor_vs_normal").all() and (once.test == "wilcoxon").all()
    for cohort in COHORTS:
        tumor, normal = _matrix(gene_page / "store", cohort), _matrix(gene_page / "store", cohort, "normal")
        shared = tumor.index.intersection(normal.index)
        values = np.concatenate([tumor.loc[shared].to_numpy(), normal.loc[shared].to_numpy()], axis=1)
        group = np.r_[np.ones(tumor.shape[1], np.int8), np.zeros(normal.shape[1], np.int8)]
        hl, n, logp = wilcoxon_block(values, group, min_x=20, min_y=10, require_nonzero=True)
        direct = pd.DataFrame({"hl": hl, "n": n, "p": np.exp(logp)}, index=shared)
        got = once.assign(id=ids[once.feature]).set_index("id")
        common = got.index[got[f"{cohort}_n"].notna()]
        assert len(common) > 40
        np.testing.assert_array_equal(got.loc[common, f"{cohort}_stat"].to_numpy(),
                                      direct.loc[common, "hl"].to_numpy().astype(np.float32))
        np.testing.assert_array_equal(got.loc[common, f"{cohort}_n"].to_numpy(), direct.loc[common, "n"])
        # the groups' sizes: x = tumor values, y = normal values of each feature
        np.testing.assert_array_equal(got.loc[common, f"{cohort}_nx"].to_numpy(),
                                      tumor.loc[common].notna().sum(axis=1).to_numpy())
        # scipy's two-sided rank-sum p agrees (R: exact only when both groups are below 50
        # and untied, else the normal approximation with continuity correction)
        feature = demo.DEMO_GENE
        x, y = tumor.loc[feature].dropna(), normal.loc[feature].dropna()
        exact = max(len(x), len(y)) < 50 and pd.concat([x, y]).is_unique
        p = scipy.stats.mannwhitneyu(x, y, method="exact" if exact else "asymptotic").pvalue
        assert got.loc[feature, f"{cohort}_slogp"] == pytest.approx(-np.log10(p), rel=1e-5)
    top = ResultStore(str(results)).lookup(demo.DEMO_GENE)
    assert len(top) == 1 and top.partner[0] == "tumor_vs_normal" and top.meta_slogp[0] > 5  # planted
    assert (top.x_group[0], top.y_group[0]) == ("tumor", "normal")
    assert 0 < top.BRCA_nx[0] < top.BRCA_n[0]


def test_phenotype__each_type_gets_its_test(gene_page, client):
    from linkscan.kernels.cox import cox_block
    from linkscan.kernels.groups import jt_block
    from linkscan.kernels.spearman import spearman_block
    from linkscan.kernels.wilcoxon import wilcoxon_block

    results = gene_page / "results" / "phenotype"
    run_scan(ScanSpec(store=str(gene_page / "store"), results=str(results), kind="phenotype",
                      omics="proteome", mutations="mutation", tile_size=32), client=client, progress=False)
    rs = ResultStore(str(results))
    out = rs.lookup(demo.DEMO_GENE)
    tests = dict(zip(out.partner, out.test))
    assert tests["stage"] == "jt" and tests["MSI"] == "wilcoxon" and tests["age"] == "spearman"
    assert tests["OS"] == "cox" and tests["TP53"] == "wilcoxon"
    meta = dict(zip(out.partner, out.meta_slogp))
    assert meta["stage"] > 2 and meta["TP53"] > 2 and meta["OS"] > 2  # planted, all positive

    phen = CohortStore(gene_page / "store").phenotypes("BRCA")
    tumor = _matrix(gene_page / "store", "BRCA")
    x = tumor.loc[[demo.DEMO_GENE]].to_numpy()
    row = out.set_index("partner")
    stage = phen["stage"].align(tumor.columns)
    rho, n, logp = jt_block(x, np.asarray(stage.codes, np.int64))
    assert row.loc["stage", "BRCA_stat"] == np.float32(rho[0]) and row.loc["stage", "BRCA_n"] == n[0]
    age = phen["age"].align(tumor.columns)
    rho, n, logp = spearman_block(x, np.asarray(age.values)[None, :])
    assert row.loc["age", "BRCA_stat"] == np.float32(rho[0, 0])
    ok = ~np.isnan(x[0]) & ~np.isnan(np.asarray(age.values, float))
    assert row.loc["age", "BRCA_slogp"] == pytest.approx(
        np.sign(rho[0, 0]) * -np.log10(scipy.stats.spearmanr(x[0][ok], np.asarray(age.values, float)[ok])[1]), rel=1e-5)
    msi = phen["MSI"].align(tumor.columns)
    assert msi.levels == ("MSI-H", "MSS")  # sorted; STATS.md: x is the first level, MSI-H
    group = np.where(msi.codes == 0, 1, np.where(msi.codes == 1, 0, -1)).astype(np.int8)
    hl, n, logp = wilcoxon_block(x, group, min_x=10, min_y=10, min_total=20)
    assert row.loc["MSI", "BRCA_stat"] == np.float32(hl[0])
    # the sign is named: x = MSI-H (higher values there: effect > 0), with each group's size
    assert (row.loc["MSI", "x_group"], row.loc["MSI", "y_group"]) == ("MSI-H", "MSS")
    assert row.loc["MSI", "BRCA_nx"] == ((group == 1) & ~np.isnan(x[0])).sum()
    assert row.loc["MSI", "BRCA_n"] - row.loc["MSI", "BRCA_nx"] == ((group == 0) & ~np.isnan(x[0])).sum()
    assert (row.loc["TP53", "x_group"], row.loc["TP53", "y_group"]) == ("mutated", "not mutated")
    assert row.loc["age", "x_group"] == "" and pd.isna(row.loc["age", "BRCA_nx"])
    by_msi = rs.lookup("MSI")  # the phenotype's own rows name its groups too
    assert (by_msi.x_group == "MSI-H").all() and (by_msi.y_group == "MSS").all()
    os_ = phen["OS"].align(tumor.columns)
    hr, n, logp, _ = cox_block(x, os_.time, np.where(os_.event < 0, np.nan, os_.event))
    assert row.loc["OS", "BRCA_stat"] == np.float32(hr[0]) and hr[0] > 1
    assert row.loc["OS", "BRCA_slogp"] == np.float32(-logp[0] / np.log(10))
    # lookups by phenotype: the association is written for both of its entities
    by_stage = rs.lookup("stage")
    assert demo.DEMO_GENE in set(by_stage.partner) and (by_stage.test == "jt").all()
    only = rs.lookup(demo.DEMO_GENE, partner="stage")
    assert list(only.partner) == ["stage"]


def test_make_plan__phenotype_errors(gene_page):
    store = str(gene_page / "store")
    with pytest.raises(JobError, match=r"phenotypes 'grade' are in no cohort of the scan; the cohorts have: "):
        make_plan(ScanSpec(store=store, results="x", kind="phenotype", omics="proteome", phenotypes=("grade",)))
    with pytest.raises(JobError, match=r"omics 'mutation' of cohort BRCA is binary, not continuous"):
        make_plan(ScanSpec(store=store, results="x", kind="trans", omics="mutation"))
    with pytest.raises(JobError, match=r"phenotypes and mutations belong to kind = 'phenotype'"):
        ScanSpec(store=store, results="x", kind="trans", omics="proteome", mutations="mutation")


def test_tumor_normal_paired__signed_rank_on_each_participants_pair(gene_page, client):
    from linkscan.kernels.signed_rank import signed_rank_block

    store = gene_page / "store"
    results = gene_page / "results" / "paired"
    run_scan(ScanSpec(store=str(store), results=str(results), kind="tumor_normal", omics="proteome",
                      paired=True, min_pairs=8, tile_size=16), client=client, progress=False)
    rows = _rows(results)
    assert (rows.test == "signed_rank").all()
    ids = ResultStore(str(results)).features().feature.to_numpy()
    got = rows[rows.feature < rows.partner].assign(id=lambda f: ids[f.feature]).set_index("id")
    for cohort in COHORTS:
        tumor, normal = _matrix(store, cohort), _matrix(store, cohort, "normal")
        pairs = sorted(set(tumor.columns) & set(normal.columns))
        shared = tumor.index.intersection(normal.index)
        t, n_ = tumor.loc[shared, pairs].to_numpy(), normal.loc[shared, pairs].to_numpy()
        effect, n, logp = signed_rank_block(t, n_, min_pairs=8)
        ok = n > 0
        assert ok.sum() > 40
        have = got.loc[shared[ok]]
        np.testing.assert_array_equal(have[f"{cohort}_stat"].to_numpy(), effect[ok].astype(np.float32))
        np.testing.assert_array_equal(have[f"{cohort}_n"].to_numpy(), n[ok])
        # scipy's signed-rank p on one feature (exact below 50 pairs without ties or zeros)
        d = (t - n_)[np.flatnonzero(ok)[0]]
        d = d[np.isfinite(d)]
        p = scipy.stats.wilcoxon(d, method="exact").pvalue
        assert abs(have[f"{cohort}_slogp"].iloc[0]) == pytest.approx(-np.log10(p), rel=1e-5)
    with pytest.raises(JobError, match=r"paired = true: cohort BRCA has \d+ participants with both a tumor and a "
                                       r"normal proteome sample, fewer than min_pairs = 500"):
        make_plan(ScanSpec(store=str(store), results=str(results) + "x", kind="tumor_normal", omics="proteome",
                           paired=True, min_pairs=500))
    with pytest.raises(JobError, match="paired = true belongs to kind = 'tumor_normal'"):
        ScanSpec(store=str(store), results="r", omics="proteome", paired=True)
