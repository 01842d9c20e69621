"""Scans of chosen features (`features`, `features_y`): each pair is the full scan's pair,
bit for bit; only the listed pairs are scanned, each once; the plan counts exactly the
tests run; and the q-values are BH over the restricted scan's tests."""

from pathlib import Path

import fastparquet
import numpy as np
import pandas as pd
import pytest

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.runner import open_client, run_scan
from linkscan.errors import JobError
from linkscan.kernels.multitest import bh_logq
from linkscan.storage.inputs.ingest import ingest
from linkscan.storage.results.store import ResultStore
from stores import proteome_store

COHORTS = ("BRCA", "OV")
RESULT = ["BRCA_stat", "BRCA_n", "BRCA_slogp", "OV_stat", "OV_n", "OV_slogp", "meta_slogp", "n_cohorts"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lists")
    store = proteome_store(root, n_features=60, cohorts=COHORTS, seed=5, samples=(40, 60))
    # a second omics for two-omics scans: each cohort's proteome table plus noise
    for cohort in COHORTS:
        table = pd.read_csv(next((root / "tables").glob(f"{cohort}*")), sep="\t", index_col=0)
        noisy = table + np.random.default_rng(1).normal(0, 0.5, table.shape)
        noisy.index = [f"{gene}.{k}" for gene in table.index for k in (1,)]  # transcript-like ids
        noisy.to_csv(root / f"{cohort}_rna.tsv", sep="\t")
        genes = pd.Series(table.index.to_numpy(), index=noisy.index)
        ingest(store, cohort, "rna", root / f"{cohort}_rna.tsv", gene_map=genes)
    return store


@pytest.fixture(scope="module")
def client():
    with open_client(n_workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def full(store, client, tmp_path_factory) -> pd.DataFrame:
    return _scan(store, tmp_path_factory.mktemp("full"), client)


def _scan(store: Path, results: Path, client, **options) -> pd.DataFrame:
    """Every stored row of a finished scan, indexed by (feature, partner) as omics:id;
    checks that the plan counted exactly the cohort-pair tests of the rows' pairs."""
    spec = ScanSpec(store=str(store), results=str(results), omics="proteome", tile_size=16, **options)
    run_scan(spec, client=client, progress=False)
    ids = ResultStore(str(results)).features()
    rows = pd.concat([fastparquet.ParquetFile(str(p)).to_pandas() for p in sorted((results / "shards").glob("*"))],
                     ignore_index=True)
    label = (ids["omics"].astype(str) + ":" + ids["feature"].astype(str)).to_numpy()
    rows.index = pd.MultiIndex.from_arrays([label[rows.feature], label[rows.partner]])
    return rows.drop(columns=["feature", "partner"]).sort_index()


def _ids(rows: pd.DataFrame, omics: str = "proteome") -> list[str]:
    return sorted({f.split(":")[1] for f in rows.index.get_level_values(0) if f.startswith(omics + ":")})


def test_list_against_all__the_full_scans_pairs_bit_for_bit(store, client, full, tmp_path):
    ids = _ids(full)
    chosen = [ids[3], ids[40], ids[41]]
    rows = _scan(store, tmp_path / "r", client, features=chosen)
    keep = [a.split(":")[1] in chosen or b.split(":")[1] in chosen for a, b in full.index]
    expect = full[keep]
    assert rows.index.equals(expect.index)  # each pair once (as two rows), no self pair
    pd.testing.assert_frame_equal(rows[RESULT], expect[RESULT])
    # q: BH over the restricted scan's tests (one row per pair), not the full scan's q
    once = rows[[a < b for a, b in rows.index]]
    for column in ("BRCA", "meta"):
        slogp = once[f"{column}_slogp"].to_numpy(np.float64)
        expected = bh_logq(-np.abs(slogp) * np.log(10)) / np.log(10)
        np.testing.assert_allclose(once[f"{column}_log10q"], expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(once["meta_log10q"], expect.loc[once.index, "meta_log10q"])


def test_two_lists_of_one_omics__each_pair_once(store, client, full, tmp_path):
    ids = _ids(full)
    xs, ys = ids[:5], ids[3:12]  # overlapping: ids[3], ids[4] are in both
    rows = _scan(store, tmp_path / "r", client, features=xs, features_y=ys)
    pairs = {frozenset((a, b)) for a in xs for b in ys if a != b}
    got = {frozenset((a.split(":")[1], b.split(":")[1])) for a, b in rows.index}
    assert got == pairs and len(rows) == 2 * len(pairs)
    expect = full.loc[rows.index]
    pd.testing.assert_frame_equal(rows[RESULT], expect[RESULT])
    plan = make_plan(ScanSpec(store=str(store), results=str(tmp_path / "r"), omics="proteome", tile_size=4,
                              features=xs, features_y=ys))
    assert sum(plan.manifest["tile_pairs"].values()) == len(pairs) * len(COHORTS)


def test_two_omics__gene_symbol_selects_its_features(store, client, tmp_path):
    whole = _scan(store, tmp_path / "whole", client, omics_y="rna")
    ids = _ids(whole)
    gene = ids[7]  # the proteome's ids are gene symbols; the rna's are GENE.1, of gene GENE
    rows = _scan(store, tmp_path / "r", client, omics_y="rna", features=[gene.lower()], features_y=ids[:20])
    assert {a for a, _ in rows.index if a.startswith("proteome:")} == {f"proteome:{gene}"}
    assert {b for a, b in rows.index if a.startswith("proteome:")} == {f"rna:{i}.1" for i in ids[:20]}
    pd.testing.assert_frame_equal(rows[RESULT], whole.loc[rows.index, RESULT])


def test_unknown_names__listed_with_close_matches(store, full, tmp_path):
    ids = _ids(full)
    wrong = ids[2][:-1] + ("X" if ids[2][-1] != "X" else "Y")
    with pytest.raises(JobError, match=rf"features: 2 of 3 names are neither .* '{wrong}' \(did you mean "
                                       rf"{ids[2]}.*'NOPE_NOT_A_GENE'"):
        make_plan(ScanSpec(store=str(store), results=str(tmp_path / "r"), omics="proteome",
                           features=[ids[0], wrong, "NOPE_NOT_A_GENE"]))
    with pytest.raises(JobError, match="features_y restricts a partner omics; kind = 'tumor_normal'"):
        ScanSpec(store=str(store), results=str(tmp_path / "r"), omics="proteome", kind="tumor_normal",
                 features_y=["A"])
