"""Scans shaped like real studies, on CPTAC data (../shared/data/real): MKI67's protein
against every mutated gene in UCEC, the paper's excluded cases filtered out, with and
without adjustment for MSI status; and COAD's paired tumor vs normal proteome. Stored
numbers are checked against scipy, pingouin and (where Rscript is present) R."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from linkscan.engine.plan import ScanSpec
from linkscan.engine.runner import open_client, run_scan
from linkscan.storage.inputs.ingest import ingest
from linkscan.storage.inputs.phenotype_ingest import ingest_phenotypes
from linkscan.storage.results.store import ResultStore
from rref import R_DIR, fmt_vec, run_r

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
#: UCEC genes whose mutation goes with higher MKI67 only through hypermutation (MSI-H):
#: among MKI67's strongest unadjusted mutation hits, all weaker once MSI is adjusted for.
HYPERMUTATION_HITS = ("DNAH3", "ZNF292", "PHF2", "MUC16", "MED12L")

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real CPTAC data not found at {REAL} (it ships beside the repository, not in it)")
    return REAL


@pytest.fixture(scope="module")
def client(real):
    with open_client(n_workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def ucec(real, tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("study") / "store"
    ucec = real / "cptac_ucec"
    ingest(store, "UCEC", "proteome", ucec / "proteome_tumor.tsv.gz")
    ingest(store, "UCEC", "mutation", ucec / "mutation_gene_binary.tsv.gz", kind="binary")
    ingest_phenotypes(store, "UCEC", clinical=ucec / "clinical_tumor.tsv",
                      types={"MSI_status": "BIN", "Case_excluded": "BIN"})
    return store


def _scan(store: Path, results: Path, client, **options) -> pd.DataFrame:
    run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome", kind="phenotype",
                      features=("MKI67",), mutations="mutation", where="Case_excluded != 'Yes'", **options),
             client=client, progress=False)
    return ResultStore(str(results)).lookup("MKI67").set_index("partner")


def test_ucec_mki67_vs_mutations__msi_adjustment_removes_the_hypermutation_hits(real, ucec, client, tmp_path):
    plain = _scan(ucec, tmp_path / "plain", client, phenotypes=("MSI_status",))
    adjusted = _scan(ucec, tmp_path / "msi", client, covariates=("MSI_status",))
    manifest = ResultStore(str(tmp_path / "msi")).manifest()
    assert manifest["samples"]["UCEC"] == 95  # 104 tumors, 9 excluded in the paper
    assert manifest["scan"]["covariates"] == ["MSI_status"] and manifest["scan"]["features"] == ["MKI67"]
    assert (plain.test == "wilcoxon").all() and (adjusted.test == "partial_spearman").all()
    # unadjusted: the hypermutation genes are among MKI67's strongest mutation hits...
    strongest = plain.drop(index="MSI_status")["UCEC_slogp"].abs().sort_values(ascending=False)
    assert set(HYPERMUTATION_HITS) <= set(strongest.index[:8])
    assert plain.loc["MSI_status", "UCEC_slogp"] > 2  # MSI-H tumors proliferate more
    # ...and each is weaker adjusted for MSI, while TP53 (mutated in the MSS serous-like
    # tumors) becomes the strongest, and PTEN's negative association shows
    for gene in HYPERMUTATION_HITS:
        assert abs(adjusted.loc[gene, "UCEC_slogp"]) < abs(plain.loc[gene, "UCEC_slogp"]) - 0.5
    order = adjusted["UCEC_slogp"].abs().sort_values(ascending=False).index
    assert order[0] == "TP53" and adjusted.loc["TP53", "UCEC_slogp"] > 4 > plain.loc["TP53", "UCEC_slogp"]
    assert adjusted.loc["PTEN", "UCEC_slogp"] < -2
    # the numbers: the unadjusted test is scipy's rank-sum, the adjusted one pingouin's
    proteome = pd.read_csv(real / "cptac_ucec" / "proteome_tumor.tsv.gz", sep="\t", index_col=0)
    mutation = pd.read_csv(real / "cptac_ucec" / "mutation_gene_binary.tsv.gz", sep="\t", index_col=0)
    clinical = pd.read_csv(real / "cptac_ucec" / "clinical_tumor.tsv", sep="\t", index_col=0)
    kept = clinical.index[clinical["Case_excluded"] != "Yes"].intersection(proteome.columns)
    frame = pd.DataFrame({"mki67": proteome.loc["MKI67", kept], "tp53": mutation.loc["TP53", kept],
                          "dnah3": mutation.loc["DNAH3", kept],
                          "msi": (clinical.loc[kept, "MSI_status"] == "MSS").astype(float)}).dropna()
    p = scipy.stats.mannwhitneyu(frame.mki67[frame.dnah3 == 1], frame.mki67[frame.dnah3 == 0]).pvalue
    assert plain.loc["DNAH3", "UCEC_slogp"] == pytest.approx(-np.log10(p), rel=1e-5)
    assert (plain.loc["DNAH3", "UCEC_nx"], plain.loc["DNAH3", "x_group"]) == ((frame.dnah3 == 1).sum(), "mutated")
    pingouin = pytest.importorskip("pingouin")
    ref = pingouin.partial_corr(frame, "mki67", "tp53", covar=["msi"], method="spearman")
    assert adjusted.loc["TP53", "UCEC_stat"] == pytest.approx(ref["r"].iloc[0], rel=1e-6)
    assert adjusted.loc["TP53", "UCEC_slogp"] == pytest.approx(-np.log10(ref["p_val"].iloc[0]), rel=1e-5)


def test_coad_paired_tumor_vs_normal__signed_rank_as_r(real, client, tmp_path, request):
    coad = real / "cptac_coad"
    tumor = pd.read_csv(coad / "proteome_tumor.tsv.gz", sep="\t", index_col=0).sort_index().iloc[:300]
    normal = pd.read_csv(coad / "proteome_normal.tsv.gz", sep="\t", index_col=0)
    normal = normal.rename(columns=lambda s: s.removesuffix("N")).reindex(tumor.index)  # 01CO005N -> 01CO005
    pairs = tumor.columns.intersection(normal.columns)
    assert len(pairs) == 96
    for name, table, tissue in (("tumor", tumor, "tumor"), ("normal", normal, "normal")):
        table.to_csv(tmp_path / f"{name}.tsv", sep="\t")
        ingest(tmp_path / "store", "COAD", "proteome", tmp_path / f"{name}.tsv", tissue=tissue)
    run_scan(ScanSpec(store=str(tmp_path / "store"), results=str(tmp_path / "r"), omics="proteome",
                      kind="tumor_normal", paired=True, tile_size=128), client=client, progress=False)
    store = ResultStore(str(tmp_path / "r"))
    tumor, normal = (t.astype(np.float32).astype(np.float64) for t in (tumor, normal))  # as stored
    found = {g: store.lookup(g) for g in tumor.index[:40]}
    rows = {g: f.iloc[0] for g, f in found.items() if len(f)}
    checked = 0
    for gene, row in rows.items():
        d = (tumor.loc[gene, pairs] - normal.loc[gene, pairs]).dropna()
        if len(d) < 10 or not (d != 0).any():
            continue
        exact = len(d) < 50 and len(np.unique(np.abs(d))) == len(d) and (d != 0).all()
        p = scipy.stats.wilcoxon(d, method="exact" if exact else "approx", correction=not exact).pvalue
        assert row["COAD_n"] == len(d) and row["test"] == "signed_rank"
        assert abs(row["COAD_slogp"]) == pytest.approx(-np.log10(p), rel=1e-4)
        checked += 1
    assert checked >= 30
    # R's wilcox.test(paired = TRUE), live, where Rscript is present
    rscript = request.getfixturevalue("rscript")
    genes = list(rows)[:12]
    out = run_r(rscript, R_DIR / "signed_rank_reference.R", ["case", "tumor", "normal"],
                [[g, fmt_vec(tumor.loc[g, pairs].to_numpy(float)), fmt_vec(normal.loc[g, pairs].to_numpy(float))]
                 for g in genes], tmp_path)
    for r in out:
        if r["p"] != "NA":
            assert abs(rows[r["case"]]["COAD_slogp"]) == pytest.approx(-np.log10(float(r["p"])), rel=1e-5)
            assert rows[r["case"]]["COAD_stat"] == pytest.approx(float(r["walsh"]), rel=1e-6)
