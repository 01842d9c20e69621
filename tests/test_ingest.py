"""storage.ingest: table -> cohort store, the summary, and the real CPTAC COAD proteome."""

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from storage.cohort_store import CohortStore
from storage.errors import InputError
from storage.ingest import IngestSummary, ingest


def _table(tmp_path, rng, n_features=6, n_samples=12, name="t.tsv") -> tuple:
    values = rng.normal(size=(n_features, n_samples)).round(3)
    values[rng.random(values.shape) < 0.2] = np.nan
    features = [f"G{i}" for i in rng.permutation(n_features)]  # not sorted on purpose
    df = pd.DataFrame(values, index=pd.Index(features, name="gene"), columns=[f"s{j}" for j in range(n_samples)])
    path = tmp_path / name
    df.to_csv(path, sep="," if name.endswith(".csv") else "\t", na_rep="NA")
    return path, df


def test_ingest__writes_sorted_dataset(tmp_path, rng):
    path, df = _table(tmp_path, rng)
    summary = ingest(tmp_path / "store", "COAD", "proteome", path, chunk_features=4)
    ds = CohortStore(tmp_path / "store").open("COAD", "proteome")

    want = df.sort_index()
    assert ds["feature"].values.tolist() == want.index.tolist()
    assert ds["gene"].values.tolist() == want.index.tolist()  # no map: gene = feature id
    assert ds["sample"].values.tolist() == df.columns.tolist()
    np.testing.assert_array_equal(ds["values"].values, want.to_numpy().astype(np.float32))
    assert ds["values"].encoding["chunks"] == (4, 12)
    assert ds.attrs["source"] == str(path.resolve())
    assert summary == IngestSummary(
        cohort="COAD",
        omics="proteome",
        n_features=6,
        n_samples=12,
        n_missing=int(df.isna().sum().sum()),
        n_inf_replaced=0,
        n_all_missing=0,
        path=str(tmp_path / "store" / "COAD" / "proteome.zarr"),
    )


def test_ingest__python_string_order(tmp_path):
    ids = ["b", "B", "a", "_x", "Z1", "é", "a1", "A"]
    path = tmp_path / "t.csv"
    pd.DataFrame({"s1": range(8), "s2": range(8)}, index=pd.Index(ids, name="id")).to_csv(path)
    ingest(tmp_path, "C", "o", path, min_samples=2)
    ds = CohortStore(tmp_path).open("C", "o")
    assert ds["feature"].values.tolist() == sorted(ids) == ["A", "B", "Z1", "_x", "a", "a1", "b", "é"]
    np.testing.assert_array_equal(ds["values"].values[:, 0], [7, 1, 4, 3, 2, 6, 0, 5])


@pytest.mark.parametrize("kind", ["file", "frame", "series"])
def test_ingest__gene_map(tmp_path, rng, kind):
    path, df = _table(tmp_path, rng)
    mapping = {"G0": "TP53", "G2": "EGFR", "G9": "NOT_IN_TABLE"}
    if kind == "file":
        gene_map = tmp_path / "map.tsv"
        gene_map.write_text("feature\tgene\n" + "".join(f"{k}\t{v}\n" for k, v in mapping.items()))
    elif kind == "frame":
        gene_map = pd.DataFrame({"feature": list(mapping), "gene": list(mapping.values())})
    else:
        gene_map = pd.Series(mapping)
    ingest(tmp_path / "store", "C", "o", path, gene_map=gene_map)
    ds = CohortStore(tmp_path / "store").open("C", "o")
    assert ds["gene"].values.tolist() == ["TP53", "G1", "EGFR", "G3", "G4", "G5"]


def test_ingest__too_few_samples(tmp_path, rng):
    path, _ = _table(tmp_path, rng, n_samples=9)
    with pytest.raises(InputError, match=r"t.tsv: the table has 9 sample column\(s\), fewer than min_samples=10"):
        ingest(tmp_path / "store", "C", "o", path)
    assert CohortStore(tmp_path / "store").cohorts() == []
    assert ingest(tmp_path / "store", "C", "o", path, min_samples=9).n_samples == 9


def test_ingest__inf_and_all_missing_counted(tmp_path):
    path = tmp_path / "t.cct"
    rows = ["gene\t" + "\t".join(f"s{j}" for j in range(10))]
    rows.append("A\t" + "\t".join(["inf", "-Inf"] + ["1"] * 8))
    rows.append("B\t" + "\t".join(["NA"] * 9 + ["   NA"]))
    rows.append("C\t" + "\t".join(["2"] * 10))
    path.write_text("\n".join(rows) + "\n")
    summary = ingest(tmp_path / "store", "C", "o", path)
    assert (summary.n_missing, summary.n_inf_replaced, summary.n_all_missing) == (12, 2, 1)
    assert str(summary) == (
        "C/o: 3 features x 10 samples, 40.0% missing, 2 infinite values treated as missing, "
        f"1 features all missing -> {tmp_path / 'store' / 'C' / 'o.zarr'}"
    )
    ds = CohortStore(tmp_path / "store").open("C", "o")
    assert np.isnan(ds["values"].values[1]).all() and ds.attrs["n_inf_replaced"] == 2


def test_ingest__reingest_replaces_and_bad_table_keeps_old(tmp_path, rng):
    store = CohortStore(tmp_path / "store")
    first, _ = _table(tmp_path, rng, n_features=6, name="a.tsv")
    second, df2 = _table(tmp_path, rng, n_features=3, name="b.csv")
    ingest(store.root, "C", "o", first)
    ingest(store.root, "C", "o", second)
    np.testing.assert_array_equal(store.open("C", "o")["values"].values, df2.sort_index().to_numpy().astype(np.float32))

    bad = tmp_path / "bad.tsv"
    bad.write_text("g\t" + "\t".join(f"s{j}" for j in range(10)) + "\nA\t" + "\t".join(["x"] * 10) + "\n")
    with pytest.raises(InputError, match=r"bad.tsv: line 2, column 2 \(sample 's0'\)"):
        ingest(store.root, "C", "o", bad)
    assert store.open("C", "o").sizes["feature"] == 3


def test_ingest__float32_overflow(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("g\ts1\ts2\nA\t1\t1e39\n")
    with pytest.raises(InputError, match=r"t.tsv: feature 'A', sample 's2': 1e\+39 is beyond the float32 range"):
        ingest(tmp_path / "store", "C", "o", path, min_samples=2)


@pytest.mark.parametrize(("cohort", "omics", "what"), [("CO/AD", "p", "cohort"), ("C", ".p", "omics"), ("C", "", "omics")])
def test_ingest__bad_names(tmp_path, cohort, omics, what):
    # checked before the table is read, so the missing table is not the error
    with pytest.raises(InputError, match=rf"invalid {what} name"):
        ingest(tmp_path / "store", cohort, omics, tmp_path / "absent.tsv")


def test_ingest_summary__frozen_validated_pickled():
    s = IngestSummary("C", "o", 10, 20, 50, 3, 1, "store/C/o.zarr")
    assert pickle.loads(pickle.dumps(s)) == s
    assert s.missing_fraction == 0.25
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.n_missing = 1
    with pytest.raises(ValueError, match="n_samples must be a non-negative int"):
        IngestSummary("C", "o", 10, -1, 0, 0, 0, "p")
    with pytest.raises(ValueError, match="inconsistent"):
        IngestSummary("C", "o", 1, 1, 2, 0, 0, "p")


@pytest.mark.realdata
def test_ingest__real_coad_proteome(tmp_path, real_data):
    table = real_data / "cptac_coad" / "proteome_tumor.tsv.gz"
    manifest = pd.read_csv(real_data / "MANIFEST.tsv", sep="\t", index_col=0)
    expected = manifest.loc["cptac_coad/proteome_tumor.tsv.gz"]

    summary = ingest(tmp_path / "store", "COAD", "proteome", table)

    assert (summary.n_features, summary.n_samples) == (expected["rows"], expected["cols"]) == (8067, 97)
    assert summary.missing_fraction == pytest.approx(expected["missing_fraction"], abs=5e-5)  # MANIFEST: 4 digits
    assert summary.n_inf_replaced == 0
    assert str(summary).startswith("COAD/proteome: 8067 features x 97 samples, 19.3% missing, 0 infinite")

    ref = pd.read_csv(table, sep="\t", index_col=0, keep_default_na=False, na_values=["NA", ""])
    ds = CohortStore(tmp_path / "store").open("COAD", "proteome")
    assert ds["feature"].values.tolist() == sorted(ref.index)
    assert ds["sample"].values.tolist() == ref.columns.tolist()
    assert summary.n_all_missing == int(ref.isna().all(axis=1).sum())
    for gene, sample in [("A1BG", "01CO005"), ("TP53", "05CO002"), (max(ref.index), ref.columns[-1])]:
        got = float(ds["values"].sel(feature=gene, sample=sample).values)
        want = np.float32(ref.loc[gene, sample])
        assert got == want or (np.isnan(got) and np.isnan(want))
    rows = slice(4000, 4100)
    np.testing.assert_array_equal(
        ds["values"].isel(feature=rows).values,
        ref.loc[ds["feature"].values[rows].tolist()].to_numpy(dtype=np.float32),
    )
