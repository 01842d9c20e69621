"""The gene-page scan kinds on real CPTAC/TCGA data (../shared/data/real), end to end on a
2-process LocalCluster: tumor vs normal (CPTAC UCEC and COAD proteome), cis (UCEC RNA vs
proteome), phenotypes (CPTAC BRCA clinical annotations) and survival (TCGA OV, CPTAC PNNL
proteome). Stored numbers are checked against scipy, against R where Rscript is present,
and against the kernels run directly on the same aligned data.

Scans use a slice of each table's features (the first genes by sorted id, plus named
genes for sanity checks) so that the module runs in well under a minute and a half on
2 cores; every feature of a slice is checked where the direct computation is cheap."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.runner import open_client, run_scan
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.errors import JobError
from linkscan.storage.inputs.ingest import ingest
from linkscan.storage.inputs.phenotype_ingest import ingest_phenotypes
from linkscan.storage.results.store import ResultStore

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

#: BRCA Tumor.Stage labels in stage order ("Stage III", sub-stage not given, between IIB
#: and IIIA); "unknown" (15 tumors) is missing.
BRCA_STAGES = ("Stage IA", "Stage IIA", "Stage IIB", "Stage III", "Stage IIIA", "Stage IIIB", "Stage IIIC")
BRCA_PHENOTYPES = ("Tumor.Stage", "PAM50", "TP53.Mutation.Status", "Age.in.Month")
#: genes scanned in BRCA besides the first ones by sorted id (sanity checks)
BRCA_NAMED = ("ESR1", "FOXA1", "GATA3", "MKI67", "PGR", "TOP2A")
N_TN = 800  # UCEC proteome genes (first by sorted id) of the tumor-vs-normal and cis scans
N_BRCA = 500
N_OV = 1500


# ----------------------------------------------------------------------------- helpers


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", index_col=0)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, sep="\t", na_rep="NA")
    return path


def _as_stored(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as linkscan stores it: float32 values, read back as float64."""
    return frame.astype(np.float32).astype(np.float64)


def _stored(store: Path, cohort: str, omics: str, tissue: str = "tumor") -> pd.DataFrame:
    ds = CohortStore(store).open(cohort, omics, tissue=tissue)
    return pd.DataFrame(ds["values"].to_numpy().astype(np.float64), index=ds["feature"].to_numpy().astype(str),
                        columns=ds["sample"].to_numpy().astype(str))


def _check_stored(store: Path, cohort: str, omics: str, table: pd.DataFrame, tissue: str = "tumor") -> None:
    """What the store holds is the table's values in float32 (same ids, NaN where NA)."""
    got = _stored(store, cohort, omics, tissue)
    want = _as_stored(table).sort_index()
    assert list(got.index) == list(want.index) and list(got.columns) == list(want.columns)
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())


def _rows(results: Path) -> pd.DataFrame:
    """Every stored row, ids decoded (feature_id, partner_id), each pair once (feature < partner)."""
    import fastparquet

    shards = sorted((results / "shards").glob("*.parquet"))
    rows = pd.concat([fastparquet.ParquetFile(str(p)).to_pandas() for p in shards], ignore_index=True)
    ids = ResultStore(str(results)).features().feature.to_numpy()
    once = rows[rows.feature < rows.partner].copy()
    assert len(rows) == 2 * len(once)  # each pair is written for both of its entities
    once["feature_id"], once["partner_id"] = ids[once.feature], ids[once.partner]
    return once


def _p(slogp) -> np.ndarray:
    """p from stored signed -log10 p."""
    return 10.0 ** -np.abs(np.asarray(slogp, dtype=np.float64))


def _r_wilcoxon_exact(x: np.ndarray, y: np.ndarray) -> bool:
    """R's wilcox.test(x, y) chooses the exact p: both groups below 50 values, no ties."""
    both = np.concatenate([x, y])
    return len(x) < 50 and len(y) < 50 and len(np.unique(both)) == len(both)


def _mannwhitney_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided p of R's wilcox.test(x, y): exact, or normal with continuity correction."""
    method = "exact" if _r_wilcoxon_exact(x, y) else "asymptotic"
    return scipy.stats.mannwhitneyu(x, y, method=method, use_continuity=True).pvalue


def _hodges_lehmann(x: np.ndarray, y: np.ndarray) -> np.float32:
    return np.float32(np.median(np.subtract.outer(x, y)))


def _run_r(rscript: str, script: str, tmp: Path) -> pd.DataFrame:
    path = tmp / "script.R"
    path.write_text(script)
    done = subprocess.run([rscript, "--vanilla", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(tmp / "r_out.tsv", sep="\t", index_col=0)


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real CPTAC/TCGA data not found at {REAL} (it ships beside the repository, not in it)")
    return REAL


@pytest.fixture(scope="module")
def client(real):
    """One 2-worker LocalCluster for the module (processes, one thread each)."""
    with open_client(n_workers=2) as c:
        assert len(c.nthreads()) == 2
        yield c


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("real_kinds") / "store"


@pytest.fixture(scope="module")
def ucec(real, store) -> dict[str, pd.DataFrame]:
    """UCEC proteome tumor (104) and normal (49) and RNA tumor (101): the first N_TN
    proteome genes by sorted id, and the RNA genes sorting up to the last of them."""
    tables = store.parent / "ucec"
    tables.mkdir()
    tumor = _read(real / "cptac_ucec" / "proteome_tumor.tsv.gz").sort_index().iloc[:N_TN]
    normal = _read(real / "cptac_ucec" / "proteome_normal.tsv.gz").loc[tumor.index]
    rna = _read(real / "cptac_ucec" / "rna_tumor.tsv.gz").sort_index()
    rna = rna.loc[rna.index <= tumor.index[-1]]
    ingest(store, "UCEC", "proteome", _write(tumor, tables / "proteome_tumor.tsv"))
    ingest(store, "UCEC", "proteome", _write(normal, tables / "proteome_normal.tsv"), tissue="normal")
    ingest(store, "UCEC", "rna", _write(rna, tables / "rna_tumor.tsv"))
    return {"tumor": tumor, "normal": normal, "rna": rna}


@pytest.fixture(scope="module")
def coad(real, store, ucec) -> dict[str, pd.DataFrame]:
    """COAD proteome tumor (97) and normal (100), the genes sorting up to UCEC's last one:
    a second cohort whose gene set differs (nulls in the other cohort's columns)."""
    tables = store.parent / "coad"
    tables.mkdir()
    tumor = _read(real / "cptac_coad" / "proteome_tumor.tsv.gz").sort_index()
    tumor = tumor.loc[tumor.index <= ucec["tumor"].index[-1]]
    normal = _read(real / "cptac_coad" / "proteome_normal.tsv.gz").loc[tumor.index]
    ingest(store, "COAD", "proteome", _write(tumor, tables / "proteome_tumor.tsv"))
    ingest(store, "COAD", "proteome", _write(normal, tables / "proteome_normal.tsv"), tissue="normal")
    return {"tumor": tumor, "normal": normal}


@pytest.fixture(scope="module")
def tumor_normal(store, ucec, coad, client) -> Path:
    results = store.parent / "results_tumor_normal"
    run_scan(ScanSpec(store=str(store), results=str(results), kind="tumor_normal", omics="proteome",
                      cohorts=("UCEC", "COAD"), tile_size=256), client=client, progress=False)
    return results


@pytest.fixture(scope="module")
def brca(real, store, client) -> dict:
    """BRCA proteome (122 tumors; the first N_BRCA genes and BRCA_NAMED) with the four
    clinical columns, scanned as phenotypes."""
    tables = store.parent / "brca"
    tables.mkdir()
    full = _read(real / "cptac_brca" / "proteome_tumor.tsv.gz").sort_index()
    proteome = full.loc[sorted(set(full.index[:N_BRCA]) | set(BRCA_NAMED))]
    ingest(store, "BRCA", "proteome", _write(proteome, tables / "proteome_tumor.tsv"))
    ingest_phenotypes(store, "BRCA", clinical=real / "cptac_brca" / "clinical.tsv",
                      types={"Tumor.Stage": "ORD", "PAM50": "CAT", "TP53.Mutation.Status": "BIN",
                             "Age.in.Month": "CON"},
                      levels={"Tumor.Stage": BRCA_STAGES},
                      unknown={"Tumor.Stage": ["unknown"], "Age.in.Month": ["unknown"]})
    results = store.parent / "results_brca"
    run_scan(ScanSpec(store=str(store), results=str(results), kind="phenotype", omics="proteome",
                      cohorts=("BRCA",), phenotypes=BRCA_PHENOTYPES, tile_size=128),
             client=client, progress=False)
    clinical = pd.read_csv(real / "cptac_brca" / "clinical.tsv", sep="\t", index_col=0,
                           keep_default_na=False, na_values=["NA", ""])
    return {"proteome": proteome, "clinical": clinical, "results": results}


@pytest.fixture(scope="module")
def ov(real, store, client) -> dict:
    """TCGA OV PNNL proteome (83 tumors, imputed: no NA; the first N_OV genes) with OS."""
    tables = store.parent / "ov"
    tables.mkdir()
    proteome = _read(real / "tcga_ov_cptac_pnnl" / "proteome_tumor_imputed.tsv.gz").sort_index().iloc[:N_OV]
    ingest(store, "OV", "proteome", _write(proteome, tables / "proteome_tumor.tsv"))
    ingest_phenotypes(store, "OV", survival=real / "tcga_ov_cptac_pnnl" / "survival.tsv")  # os_days/os_event: OS
    results = store.parent / "results_ov"
    run_scan(ScanSpec(store=str(store), results=str(results), kind="phenotype", omics="proteome",
                      cohorts=("OV",), tile_size=512), client=client, progress=False)
    survival = pd.read_csv(real / "tcga_ov_cptac_pnnl" / "survival.tsv", sep="\t", index_col=0)
    return {"proteome": proteome, "survival": survival.loc[proteome.columns], "results": results}


# ------------------------------------------------------------------------ tumor_normal


def test_tumor_normal__real_ucec_coad_wilcoxon_equals_scipy(store, ucec, coad, tumor_normal):
    """Every feature of both cohorts: HL shift (tumor - normal), n and p against a direct
    computation on its non-missing values (R's exact/normal rule, via scipy); features
    below the minimums (20 tumor, 10 normal values) have nulls."""
    for cohort, data in (("UCEC", ucec), ("COAD", coad)):
        _check_stored(store, cohort, "proteome", data["tumor"])
        _check_stored(store, cohort, "proteome", data["normal"], tissue="normal")
    rows = _rows(tumor_normal).set_index("feature_id")
    assert (rows.partner_id == "tumor_vs_normal").all() and (rows.test == "wilcoxon").all()
    assert list(ResultStore(str(tumor_normal)).features().feature.iloc[-1:]) == ["tumor_vs_normal"]

    for cohort, data in (("UCEC", ucec), ("COAD", coad)):
        tumor, normal = _as_stored(data["tumor"]), _as_stored(data["normal"])
        n_t, n_n = tumor.notna().sum(axis=1), normal.notna().sum(axis=1)
        ok = (n_t >= 20) & (n_n >= 10)
        assert (~ok).sum() >= 5  # real features below the minimums are part of the check
        got = rows.reindex(tumor.index)
        has = got[f"{cohort}_n"].notna()
        assert has.equals(ok.rename(has.name)), f"{cohort}: results for features below the minimums or missing"
        assert got.loc[~ok, f"{cohort}_stat"].isna().all() and got.loc[~ok, f"{cohort}_slogp"].isna().all()
        exact = 0
        for feature in tumor.index[ok]:
            x, y = tumor.loc[feature].dropna().to_numpy(), normal.loc[feature].dropna().to_numpy()
            row = got.loc[feature]
            assert row[f"{cohort}_n"] == len(x) + len(y), feature
            hl = _hodges_lehmann(x, y)
            assert row[f"{cohort}_stat"] == hl, feature
            p = _mannwhitney_p(x, y)
            assert _p(row[f"{cohort}_slogp"]) == pytest.approx(p, rel=1e-5), feature
            if row[f"{cohort}_slogp"] != 0:  # p = 1 (slogp 0) has no sign
                assert np.sign(row[f"{cohort}_slogp"]) == (1.0 if hl >= 0 else -1.0), feature
            exact += _r_wilcoxon_exact(x, y)
        if cohort == "UCEC":
            assert exact >= 5  # features with < 50 tumor values and no ties: R's exact p
    # genes of one cohort only: null in the other's columns, meta p from one cohort
    only_ucec = ucec["tumor"].index.difference(coad["tumor"].index)
    assert len(only_ucec) > 50
    one = rows.loc[rows.index.intersection(only_ucec)]
    assert one.COAD_n.isna().all() and one.COAD_stat.isna().all() and (one.n_cohorts == 1).all()
    np.testing.assert_array_equal(one.meta_slogp.to_numpy(), one.UCEC_slogp.to_numpy())
    both = rows[rows.UCEC_n.notna() & rows.COAD_n.notna()]
    assert len(both) > 400 and (both.n_cohorts == 2).all()


@pytest.mark.rlang
def test_tumor_normal__real_ucec_matches_r_wilcox_test(ucec, tumor_normal, rscript, tmp_path):
    """Five UCEC features against R's wilcox.test(x, y, conf.int = TRUE): p (both exact and
    normal cases), and the estimate where R's is the exact Hodges-Lehmann median."""
    tumor, normal = _as_stored(ucec["tumor"]), _as_stored(ucec["normal"])
    rows = _rows(tumor_normal).set_index("feature_id")
    tested = rows.index[rows.UCEC_n.notna()]
    exact = [f for f in tested
             if _r_wilcoxon_exact(tumor.loc[f].dropna().to_numpy(), normal.loc[f].dropna().to_numpy())]
    normal_case = [f for f in tested if f not in set(exact)]
    strongest = rows.loc[normal_case, "UCEC_slogp"].abs().sort_values().index[-1]
    features = exact[:2] + [normal_case[0], normal_case[len(normal_case) // 2], strongest]
    long = pd.concat([
        pd.DataFrame({"feature": f, "group": g, "value": frame.loc[f].dropna().to_numpy()})
        for f in features for g, frame in (("x", tumor), ("y", normal))
    ])
    long.to_csv(tmp_path / "data.tsv", sep="\t", index=False, float_format="%.17g")
    script = f"""
d <- read.delim("{tmp_path / 'data.tsv'}")
out <- do.call(rbind, lapply(unique(d$feature), function(f) {{
  x <- d$value[d$feature == f & d$group == "x"]; y <- d$value[d$feature == f & d$group == "y"]
  w <- suppressWarnings(wilcox.test(x, y, conf.int = TRUE))
  data.frame(feature = f, p = sprintf("%.17g", w$p.value), estimate = sprintf("%.17g", w$estimate))
}}))
write.table(out, "{tmp_path / 'r_out.tsv'}", sep = "\\t", quote = FALSE, row.names = FALSE)
"""
    r = _run_r(rscript, script, tmp_path)
    assert list(r.index) == features
    for f in features:
        assert _p(rows.loc[f, "UCEC_slogp"]) == pytest.approx(r.loc[f, "p"], rel=1e-5), f
    for f in exact[:2]:
        assert rows.loc[f, "UCEC_stat"] == np.float32(r.loc[f, "estimate"]), f
    assert _p(rows.loc[strongest, "UCEC_slogp"]) < 1e-10  # a real tumor-normal difference


def test_tumor_normal__real_brca_without_normals_is_refused(store, ucec, coad, brca):
    with pytest.raises(JobError, match=r"cohorts BRCA have no 'proteome' tumor and normal data in the store .*"
                                       r"\(it has 'proteome' tumor and normal for: COAD, UCEC\)"):
        make_plan(ScanSpec(store=str(store), results=str(store.parent / "never"), kind="tumor_normal",
                           omics="proteome", cohorts=("BRCA",)))


def test_tumor_normal__real_ucec_normal_table_with_extra_features(real, ucec, client, tmp_path):
    """A normal table holding genes the tumor table lacks: each gene must still be tested
    against its own normal values."""
    tumor = ucec["tumor"].iloc[:40:2]
    normal = ucec["normal"].iloc[:40]
    ingest(tmp_path / "store", "UCEC", "proteome", _write(tumor, tmp_path / "t.tsv"))
    ingest(tmp_path / "store", "UCEC", "proteome", _write(normal, tmp_path / "n.tsv"), tissue="normal")
    run_scan(ScanSpec(store=str(tmp_path / "store"), results=str(tmp_path / "res"), kind="tumor_normal",
                      omics="proteome"), client=client, progress=False)
    rows = _rows(tmp_path / "res").set_index("feature_id")
    t, n = _as_stored(tumor), _as_stored(normal)
    for f in rows.index:
        x, y = t.loc[f].dropna().to_numpy(), n.loc[f].dropna().to_numpy()
        assert (rows.loc[f, "UCEC_n"], rows.loc[f, "UCEC_stat"]) == (len(x) + len(y), _hodges_lehmann(x, y)), f


# --------------------------------------------------------------------------------- cis


def test_cis__real_ucec_rna_vs_proteome_equals_scipy(store, ucec, client):
    """RNA (101 tumors) against the protein of the same gene (104 tumors), matched by
    sample id: every pair shares its gene, n counts the shared samples with both values,
    rho and p equal scipy on that overlap; mRNA-protein correlation is clearly positive."""
    _check_stored(store, "UCEC", "rna", ucec["rna"])
    results = store.parent / "results_cis"
    run_scan(ScanSpec(store=str(store), results=str(results), kind="cis", omics="rna", omics_y="proteome",
                      cohorts=("UCEC",), tile_size=256), client=client, progress=False)
    rows = _rows(results)
    features = ResultStore(str(results)).features().set_index("feature")
    assert (rows.feature < (features.omics == "rna").sum()).all()  # the rna side first
    genes = features.gene
    assert (genes.loc[rows.feature_id].to_numpy() == genes.loc[rows.partner_id].to_numpy()).all()

    rna, prot = _as_stored(ucec["rna"]), _as_stored(ucec["tumor"])
    shared = [s for s in rna.columns if s in set(prot.columns)]
    assert len(shared) == 101 and prot.shape[1] == 104
    common = rna.index.intersection(prot.index)
    assert len(common) == N_TN and len(rna) > len(common) + 500  # many RNA genes have no protein here
    want = {}
    for gene in common:
        x, y = rna.loc[gene, shared], prot.loc[gene, shared]
        ok = x.notna() & y.notna()
        if ok.sum() >= 10 and x[ok].nunique() > 1 and y[ok].nunique() > 1:
            want[gene] = (x[ok].to_numpy(), y[ok].to_numpy())
    assert len(want) < len(common)  # constant RNA rows (e.g. all 0) and sparse proteins give no result
    got = rows.set_index("feature_id")
    assert sorted(got.index) == sorted(want) and (got.partner_id == got.index).all()
    for gene, (x, y) in want.items():
        rho, p = scipy.stats.spearmanr(x, y)
        row = got.loc[gene]
        assert row.UCEC_n == len(x), gene
        assert row.UCEC_stat == pytest.approx(rho, abs=1e-6), gene
        assert row.UCEC_slogp == pytest.approx(np.sign(rho) * -np.log10(p), rel=1e-5), gene
    assert got.UCEC_n.min() < 101 <= got.UCEC_n.max()  # missing protein values shrink the overlap
    assert got.UCEC_stat.median() > 0.3 and (got.UCEC_stat > 0).mean() > 0.85


# --------------------------------------------------------------------------- phenotype


def test_phenotype__real_brca_phenotypes_are_stored_as_declared(store, brca):
    phen = CohortStore(store).phenotypes("BRCA")
    stage = phen["Tumor.Stage"]
    assert stage.type == "ORD" and stage.levels == BRCA_STAGES
    assert stage.counts() == {"Stage IA": 4, "Stage IIA": 50, "Stage IIB": 20, "Stage III": 4, "Stage IIIA": 22,
                              "Stage IIIB": 3, "Stage IIIC": 4} and stage.n == 122 - 15  # 15 unknown
    pam50 = phen["PAM50"]
    assert pam50.type == "CAT" and pam50.counts() == {"Basal": 29, "Her2": 14, "LumA": 57, "LumB": 17,
                                                       "Normal-like": 5}
    tp53 = phen["TP53.Mutation.Status"]
    assert tp53.type == "BIN" and tp53.levels == ("0", "1") and tp53.counts() == {"0": 70, "1": 52}
    age = phen["Age.in.Month"]
    assert age.type == "CON" and age.n == 122 - 17  # 17 unknown
    assert 12 * 30 < np.nanmin(age.values) < np.nanmax(age.values) < 12 * 100  # months


def test_phenotype__real_brca_each_test_equals_direct_computation(store, brca):
    """Every feature x phenotype: the stored test and numbers equal scipy (Spearman, ANOVA,
    Wilcoxon with x = TP53 mutated) and a direct JT count, and the JT numbers equal
    linkscan.kernels.groups.jt_block on the aligned data."""
    from linkscan.kernels.groups import jt_block

    rows = _rows(brca["results"])
    tests = rows.groupby("partner_id", observed=True).test.unique()
    assert {k: list(v) for k, v in tests.items()} == {
        "Tumor.Stage": ["jt"], "PAM50": ["anova"], "TP53.Mutation.Status": ["wilcoxon"], "Age.in.Month": ["spearman"]}
    got = rows.set_index(["feature_id", "partner_id"])
    proteome = _as_stored(brca["proteome"])
    _check_stored(store, "BRCA", "proteome", brca["proteome"])
    phen = {name: p.align(proteome.columns) for name, p in CohortStore(store).phenotypes("BRCA").items()}
    clinical = brca["clinical"].loc[proteome.columns]
    age, stage = phen["Age.in.Month"].values, phen["Tumor.Stage"].codes.astype(np.int64)
    pam50, tp53 = phen["PAM50"].codes, phen["TP53.Mutation.Status"].codes
    # the aligned codes are the clinical table's labels
    assert (np.asarray(phen["PAM50"].levels)[pam50] == clinical.PAM50.to_numpy()).all()
    assert ((tp53 == 1) == (clinical["TP53.Mutation.Status"] == 1).to_numpy()).all()
    known = stage >= 0
    assert (np.asarray(BRCA_STAGES)[stage[known]] == clinical["Tumor.Stage"].to_numpy()[known]).all()

    jt_rho, jt_n, jt_logp = jt_block(proteome.to_numpy(), stage)
    counted = {"spearman": 0, "anova": 0, "wilcoxon": 0, "jt": 0}
    for i, feature in enumerate(proteome.index):
        v = proteome.loc[feature].to_numpy()
        fin = ~np.isnan(v)
        # Age.in.Month: Spearman on the pairwise-complete overlap
        ok = fin & ~np.isnan(age)
        key = (feature, "Age.in.Month")
        if ok.sum() >= 10 and np.ptp(v[ok]) > 0:
            rho, p = scipy.stats.spearmanr(v[ok], age[ok])
            assert got.loc[key, "BRCA_n"] == ok.sum() and got.loc[key, "BRCA_stat"] == pytest.approx(rho, abs=1e-6)
            assert got.loc[key, "BRCA_slogp"] == pytest.approx(np.sign(rho) * -np.log10(p), rel=1e-5), key
            counted["spearman"] += 1
        else:
            assert key not in got.index or pd.isna(got.loc[key, "BRCA_n"])
        # PAM50: one-way ANOVA, p unsigned
        ok = fin & (pam50 >= 0)
        key = (feature, "PAM50")
        groups = [v[ok & (pam50 == k)] for k in range(5) if (ok & (pam50 == k)).any()]
        if ok.sum() >= 20 and len(groups) >= 2 and np.ptp(v[ok]) > 0:
            f, p = scipy.stats.f_oneway(*groups)
            assert got.loc[key, "BRCA_n"] == ok.sum() and got.loc[key, "BRCA_stat"] == pytest.approx(f, rel=1e-5)
            assert got.loc[key, "BRCA_slogp"] == pytest.approx(-np.log10(p), rel=1e-5), key  # sign +
            counted["anova"] += 1
        # TP53.Mutation.Status: Wilcoxon, x = mutated (coded 1), y = wild type
        x, y = v[fin & (tp53 == 1)], v[fin & (tp53 == 0)]
        key = (feature, "TP53.Mutation.Status")
        if len(x) >= 10 and len(y) >= 10 and len(x) + len(y) >= 20 and np.ptp(np.r_[x, y]) > 0:
            hl = _hodges_lehmann(x, y)
            assert got.loc[key, "BRCA_n"] == len(x) + len(y) and got.loc[key, "BRCA_stat"] == hl, key
            assert _p(got.loc[key, "BRCA_slogp"]) == pytest.approx(_mannwhitney_p(x, y), rel=1e-5), key
            if got.loc[key, "BRCA_slogp"] != 0:  # p = 1 (slogp 0) has no sign
                assert np.sign(got.loc[key, "BRCA_slogp"]) == (1.0 if hl >= 0 else -1.0), key
            counted["wilcoxon"] += 1
        # Tumor.Stage: JT, the kernel run directly ...
        key = (feature, "Tumor.Stage")
        if jt_n[i] > 0:
            assert got.loc[key, "BRCA_stat"] == np.float32(jt_rho[i]) and got.loc[key, "BRCA_n"] == jt_n[i], key
            assert got.loc[key, "BRCA_slogp"] == np.float32(np.sign(jt_rho[i]) * -jt_logp[i] / np.log(10)), key
            counted["jt"] += 1
        else:
            assert key not in got.index or pd.isna(got.loc[key, "BRCA_n"])
    assert min(counted.values()) > 450, counted
    # and nothing else has a result
    stored = got.BRCA_n.notna().groupby(level="partner_id").sum().to_dict()
    assert stored == {"Age.in.Month": counted["spearman"], "PAM50": counted["anova"],
                      "TP53.Mutation.Status": counted["wilcoxon"], "Tumor.Stage": counted["jt"]}

    # ... and J counted by hand for a sample (STATS.md: no tie correction, normal approximation)
    for feature in proteome.index[::25]:
        v = proteome.loc[feature].to_numpy()
        ok = ~np.isnan(v) & (stage >= 0)
        vals, lev = v[ok], stage[ok]
        j = sum(((vals[lev == b][None, :] > vals[lev == a][:, None]).sum()
                 + 0.5 * (vals[lev == b][None, :] == vals[lev == a][:, None]).sum())
                for a in range(len(BRCA_STAGES)) for b in range(a + 1, len(BRCA_STAGES)))
        n_i = np.bincount(lev, minlength=len(BRCA_STAGES)).astype(float)
        big_n = n_i.sum()
        mean = (big_n ** 2 - (n_i ** 2).sum()) / 4
        var = (big_n ** 2 * (2 * big_n + 3) - (n_i ** 2 * (2 * n_i + 3)).sum()) / 72
        p = 2 * scipy.stats.norm.sf(abs(j - mean) / np.sqrt(var))
        rho = scipy.stats.spearmanr(vals, lev)[0]
        row = got.loc[(feature, "Tumor.Stage")]
        assert row.BRCA_stat == pytest.approx(rho, abs=1e-6) and row.BRCA_n == ok.sum()
        assert row.BRCA_slogp == pytest.approx(np.sign(rho) * -np.log10(p), rel=1e-5), feature


def test_phenotype__real_brca_known_biology(brca):
    """ESR1 separates the PAM50 subtypes; luminal proteins are lower and proliferation
    proteins higher in TP53-mutated tumors (HL = mutated - wild type)."""
    got = _rows(brca["results"]).set_index(["feature_id", "partner_id"])
    assert got.loc[("ESR1", "PAM50"), "BRCA_slogp"] > 15  # ANOVA p ~ 1e-18
    for gene in ("ESR1", "FOXA1", "GATA3"):
        row = got.loc[(gene, "TP53.Mutation.Status")]
        assert row.BRCA_stat < -1.5 and row.BRCA_slogp < -5, gene
    for gene in ("MKI67", "TOP2A"):
        row = got.loc[(gene, "TP53.Mutation.Status")]
        assert row.BRCA_stat > 1.5 and row.BRCA_slogp > 5, gene


# ---------------------------------------------------------------------------- survival


def _ov_cox_rows(ov) -> pd.DataFrame:
    rows = _rows(ov["results"])
    assert (rows.partner_id == "OS").all() and (rows.test == "cox").all()
    return rows.set_index("feature_id")


def test_phenotype__real_ov_cox_equals_kernel(store, ov):
    """Every feature: stored HR, n and slogp equal linkscan.kernels.cox.cox_block on the aligned
    data (float32), slogp is signed by log HR, and the aligned survival is the table's."""
    from linkscan.kernels.cox import cox_block

    _check_stored(store, "OV", "proteome", ov["proteome"])
    os_ = CohortStore(store).phenotypes("OV")["OS"]
    assert os_.type == "SURV" and os_.n == 565 and os_.counts() == {"event": 335, "censored": 230}
    aligned = os_.align(ov["proteome"].columns)
    np.testing.assert_array_equal(aligned.time, ov["survival"].os_days.to_numpy(np.float64))
    np.testing.assert_array_equal(aligned.event, ov["survival"].os_event.to_numpy())
    assert aligned.counts() == {"event": 64, "censored": 19}

    rows = _ov_cox_rows(ov)
    values = _as_stored(ov["proteome"])
    hr, n, logp, converged = cox_block(values.to_numpy(), aligned.time, aligned.event.astype(np.float64))
    result = n > 0
    assert result.all()  # imputed: every gene has all 83 tumors, 64 events
    assert sorted(rows.index) == sorted(values.index[result]) and converged[result].all()
    got = rows.loc[values.index[result]]
    np.testing.assert_array_equal(got.OV_stat.to_numpy(), hr[result].astype(np.float32))
    np.testing.assert_array_equal(got.OV_n.to_numpy(), n[result])
    assert (got.OV_n == 83).all()
    np.testing.assert_array_equal(got.OV_slogp.to_numpy(),
                                  (np.sign(np.log(hr[result])) * -logp[result] / np.log(10)).astype(np.float32))
    assert (np.sign(got.OV_slogp) == np.sign(np.log(got.OV_stat.astype(np.float64)))).all()
    assert (got.OV_stat > 1).any() and (got.OV_stat < 1).any()


@pytest.mark.rlang
def test_phenotype__real_ov_cox_matches_r_coxph(ov, rscript, tmp_path):
    """A sample of features against R's coxph(Surv(time, event) ~ x, ties = "efron"):
    the score-test p (summary()$sctest) and exp(coef)."""
    rows = _ov_cox_rows(ov)
    strongest = list(rows.OV_slogp.abs().sort_values().index[-4:])
    features = strongest + list(rows.index[::150])
    values = _as_stored(ov["proteome"]).loc[features].T
    data = pd.concat([ov["survival"].rename(columns={"os_days": "time", "os_event": "event"}),
                      values.set_axis([f"f{i}" for i in range(len(features))], axis=1)], axis=1)
    data.to_csv(tmp_path / "data.tsv", sep="\t", index=False, float_format="%.17g")
    script = f"""
suppressPackageStartupMessages(library(survival))
d <- read.delim("{tmp_path / 'data.tsv'}")
out <- do.call(rbind, lapply(grep("^f", names(d), value = TRUE), function(f) {{
  fit <- coxph(Surv(d$time, d$event) ~ d[[f]], ties = "efron")
  s <- summary(fit)
  data.frame(f = f, hr = sprintf("%.17g", exp(coef(fit))[[1]]), p = sprintf("%.17g", s$sctest[["pvalue"]]))
}}))
write.table(out, "{tmp_path / 'r_out.tsv'}", sep = "\\t", quote = FALSE, row.names = FALSE)
"""
    r = _run_r(rscript, script, tmp_path)
    assert len(r) == len(features)
    for i, feature in enumerate(features):
        row, ref = rows.loc[feature], r.loc[f"f{i}"]
        assert _p(row.OV_slogp) == pytest.approx(ref.p, rel=1e-6), feature
        assert row.OV_stat == pytest.approx(ref.hr, rel=1e-5), feature
    assert _p(rows.loc[strongest[-1], "OV_slogp"]) < 0.01
