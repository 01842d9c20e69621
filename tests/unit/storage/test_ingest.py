"""storage.inputs ingest, tissues and phenotype_ingest: tables -> cohort store, the summaries, and the real CPTAC COAD proteome."""

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.errors import InputError
from linkscan.storage.inputs.ingest import IngestSummary, ingest
from linkscan.storage.inputs.phenotype_ingest import ingest_phenotypes
from linkscan.storage.inputs.tissues import ingest_tissues, tissue_of


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


@pytest.mark.parametrize("min_samples", [0, -5, 2.5, True])
def test_ingest__min_samples_below_one_is_refused(tmp_path, rng, min_samples):
    """A minimum that every table meets (or no whole number) is a mistake of the caller,
    named as the parameter, before any table is read."""
    import linkscan

    path, _ = _table(tmp_path, rng)
    samples = tmp_path / "samples.tsv"
    samples.write_text("sample\ttissue\n" + "".join(f"s{j}\tTumor\n" for j in range(12)))
    want = rf"min_samples={min_samples!r}: give a whole number of samples >= 1"
    with pytest.raises(InputError, match=want):
        ingest(tmp_path / "store", "C", "o", path, min_samples=min_samples)
    with pytest.raises(InputError, match=want):
        ingest_tissues(tmp_path / "store", "C", "o", path, samples, "tissue", min_samples=min_samples)
    with pytest.raises(InputError, match=want):
        linkscan.ingest(tmp_path / "store", "C", {"o": path}, min_samples=min_samples)
    assert not (tmp_path / "store").exists()


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


# ------------------------------------------------------------------ tumor and normal


def test_ingest__normal_table_beside_tumor(tmp_path, rng):
    tumor, _ = _table(tmp_path, rng, name="tumor.tsv")
    normal, df = _table(tmp_path, rng, n_samples=10, name="normal.tsv")  # ids s0..s9 also name tumors
    ingest(tmp_path / "store", "C", "proteome", tumor)
    summary = ingest(tmp_path / "store", "C", "proteome", normal, tissue="normal")
    assert summary.tissue == "normal" and summary.path.endswith("proteome.normal.zarr")
    assert str(summary).startswith("C/proteome (normal): 6 features x 10 samples")
    store = CohortStore(tmp_path / "store")
    assert store.omics("C") == ["proteome"] and store.tissues("C", "proteome") == ["tumor", "normal"]
    got = store.open("C", "proteome", tissue="normal")
    np.testing.assert_array_equal(got["values"].values, df.sort_index().to_numpy().astype(np.float32))
    assert set(got["sample"].values) <= set(store.open("C", "proteome")["sample"].values)


def _binary_table(path, cells):
    rows = ["gene\t" + "\t".join(f"s{j}" for j in range(10))]
    rows += [f"{g}\t" + "\t".join(c) for g, c in cells.items()]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_ingest__cbt_is_a_binary_omics(tmp_path):
    path = _binary_table(tmp_path / "COAD.cbt", {"TP53": "1010101010", "KRAS": ["0"] * 9 + ["NA"]})
    summary = ingest(tmp_path / "store", "COAD", "mutation", path)
    assert summary.kind == "binary" and str(summary).startswith("COAD/mutation [binary]: 2 features x 10 samples")
    ds = CohortStore(tmp_path / "store").open("COAD", "mutation")
    assert ds.attrs["kind"] == "binary" and ds["feature"].values.tolist() == ["KRAS", "TP53"]
    assert ds["values"].values[1].tolist() == [1, 0] * 5
    proteome, _ = _table(tmp_path, np.random.default_rng(1))
    assert ingest(tmp_path / "store", "COAD", "proteome", proteome).kind == "continuous"


def test_ingest__binary_table_with_other_values(tmp_path):
    path = _binary_table(tmp_path / "COAD.cbt", {"TP53": "1010101010", "KRAS": ["0"] * 8 + ["0.5", "1"]})
    with pytest.raises(InputError, match=r"COAD.cbt: line 3, column 10 \(sample 's8'\), feature 'KRAS': value '0.5' is not 0 or 1"):
        ingest(tmp_path / "store", "COAD", "mutation", path)
    tsv = _binary_table(tmp_path / "mut.tsv", {"TP53": ["2"] * 10})
    assert ingest(tmp_path / "store", "COAD", "cnv", tsv).kind == "continuous"
    with pytest.raises(InputError, match=r"mut.tsv: line 2, column 2 \(sample 's0'\), feature 'TP53': value '2' is not 0 or 1"):
        ingest(tmp_path / "store", "COAD", "mutation", tsv, kind="binary")
    with pytest.raises(InputError, match=r"invalid kind 'mutation'"):
        ingest(tmp_path / "store", "COAD", "mutation", tsv, kind="mutation")
    assert CohortStore(tmp_path / "store").omics("COAD") == ["cnv"]


def _mixed(tmp_path, rng, tissues, participants=None, n_features=5):
    """A table of samples S1..Sn with the given tissue values, and its sample table."""
    n = len(tissues)
    values = rng.normal(size=(n_features, n)).round(3)
    samples = [f"S{j + 1:03d}" for j in range(n)]
    df = pd.DataFrame(values, index=pd.Index([f"G{i}" for i in range(n_features)], name="gene"), columns=samples)
    table = tmp_path / "proteome.tsv"
    df.to_csv(table, sep="\t", na_rep="NA")
    participants = participants or [f"P{j}" for j in range(n)]
    lines = ["sample_id\tparticipant_id\ttissue_type"] + [f"{s}\t{p}\t{t}" for s, p, t in zip(samples, participants, tissues)]
    sample_table = tmp_path / "samples.tsv"
    sample_table.write_text("\n".join(lines) + "\n")
    return table, sample_table, df


def test_ingest_tissues__split_and_same_participant_in_both(tmp_path, rng):
    tissues = ["Tumor"] * 4 + ["Adjacent_normal", "Enriched_normal", "Myometrium_normal"]
    participants = ["P0", "P1", "P2", "P3", "P0", "P1", "P9"]
    table, sample_table, df = _mixed(tmp_path, rng, tissues, participants)
    summaries = ingest_tissues(tmp_path / "store", "UCEC", "proteome", table, sample_table, "tissue_type",
                               participant_column="participant_id", min_samples=3)
    assert [(s.tissue, s.n_samples) for s in summaries] == [("tumor", 4), ("normal", 3)]
    store = CohortStore(tmp_path / "store")
    tumor, normal = store.open("UCEC", "proteome"), store.open("UCEC", "proteome", tissue="normal")
    assert tumor["sample"].values.tolist() == ["P0", "P1", "P2", "P3"]
    assert normal["sample"].values.tolist() == ["P0", "P1", "P9"]  # P0 and P1: a tumor and its normal
    np.testing.assert_array_equal(normal["values"].values, df[["S005", "S006", "S007"]].to_numpy(np.float32))

    ingest_tissues(tmp_path / "store", "UCEC", "rna", table, sample_table, "tissue_type", min_samples=2,
                   tissue_values={"Myometrium_normal": "exclude"})
    assert store.open("UCEC", "rna", tissue="normal")["sample"].values.tolist() == ["S005", "S006"]


def test_ingest_tissues__unknown_tissue_values(tmp_path, rng):
    table, sample_table, _ = _mixed(tmp_path, rng, ["Tumor", "Metastasis", "Cell line", "Metastasis", "Normal"])
    with pytest.raises(
        InputError,
        match=r"samples.tsv: column 'tissue_type' holds value\(s\) that are neither tumor nor normal: 'Metastasis' "
        r"\(2 samples\), 'Cell line' \(1 sample\); known are Tumor/Tumour/Primary Tumor and any value with the word "
        r"'normal' .*--tissue-value 'Metastasis=tumor' \(or =normal, or =exclude",
    ):
        ingest_tissues(tmp_path / "store", "C", "proteome", table, sample_table, "tissue_type", min_samples=1)
    assert CohortStore(tmp_path / "store").cohorts() == []
    summaries = ingest_tissues(tmp_path / "store", "C", "proteome", table, sample_table, "tissue_type", min_samples=1,
                               tissue_values={"metastasis": "tumor", "Cell line": "exclude"})
    assert [(s.tissue, s.n_samples) for s in summaries] == [("tumor", 3), ("normal", 1)]


def test_ingest_tissues__sample_table_problems(tmp_path, rng):
    table, sample_table, _ = _mixed(tmp_path, rng, ["Tumor", "Tumor", "Normal"])
    sample_table.write_text("sample_id\ttissue_type\nS001\tTumor\nS002\tNA\nS003\tNormal\n")
    with pytest.raises(InputError, match=r"samples.tsv: line 3, column 2 \('tissue_type'\): sample 'S002' has no tissue"):
        ingest_tissues(tmp_path / "store", "C", "o", table, sample_table, "tissue_type", min_samples=1)
    sample_table.write_text("sample_id\ttissue_type\nS001\tTumor\n")
    with pytest.raises(InputError, match=r"2 sample\(s\) of .*proteome.tsv are not in the sample table \('S002', 'S003'\)"):
        ingest_tissues(tmp_path / "store", "C", "o", table, sample_table, "tissue_type", min_samples=1)
    with pytest.raises(InputError, match=r"no column named 'tissue' \(did you mean 'tissue_type'\?\)"):
        ingest_tissues(tmp_path / "store", "C", "o", table, sample_table, "tissue", min_samples=1)
    sample_table.write_text("sample_id\tpid\ttissue_type\nS001\tP1\tTumor\nS002\tP1\tTumor\nS003\tP1\tNormal\n")
    with pytest.raises(InputError, match=r"samples 'S001' and 'S002' are both tumor samples of participant 'P1'"):
        ingest_tissues(tmp_path / "store", "C", "o", table, sample_table, "tissue_type", participant_column="pid",
                       min_samples=1)
    sample_table.write_text("sample_id\ttissue_type\nS001\tTumor\nS002\tTumor\nS003\tNormal\n")
    with pytest.raises(InputError, match=r"proteome.tsv: the table has 1 normal sample column\(s\), fewer than min_samples=2"):
        ingest_tissues(tmp_path / "store", "C", "o", table, sample_table, "tissue_type", min_samples=2)
    assert CohortStore(tmp_path / "store").cohorts() == []  # nothing written, not even the tumors


def test_ingest_tissues__inf_counted_per_tissue(tmp_path):
    table = tmp_path / "t.tsv"
    table.write_text("g\tS1\tS2\tS3\nA\tinf\t1\t2\nB\t3\t-inf\tinf\n")
    samples = tmp_path / "s.tsv"
    samples.write_text("id\ttissue\nS1\tTumor\nS2\tNormal\nS3\tNormal\n")
    tumor, normal = ingest_tissues(tmp_path / "store", "C", "o", table, samples, "tissue", min_samples=1)
    assert (tumor.n_inf_replaced, normal.n_inf_replaced) == (1, 2)


def test_tissue_of__rules():
    assert [tissue_of(v) for v in ["tumor", " Primary_Tumour ", "Solid Tissue Normal", "NORMAL", "normal-adjacent"]] == [
        "tumor", "tumor", "normal", "normal", "normal"]
    assert tissue_of("Recurrent Tumor") is None and tissue_of("abnormality") is None
    with pytest.raises(InputError, match=r"tissue value 'x' maps to 'healthy'; map it to one of tumor, normal, exclude"):
        tissue_of("x", {"x": "healthy"})


# ------------------------------------------------------------------------ phenotypes


_CLINICAL = (
    "sample_id\tAge.in.Month\tTumor.Stage\tPAM50\tTP53/status\tNote\n"
    "s1\t600\tStage IIA\tLumA\t1\tx\n"
    "s2\tunknown\tStage I\tBasal\t0\ty\n"
    "s3\t700\tunknown\tNone\t1\tz\n"
    "s4\t650\tStage IIIA\tLumA\tNA\tw\n"
)


def _clinical_file(tmp_path, text=_CLINICAL, name="clinical.tsv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_ingest_phenotypes__clinical_with_types(tmp_path):
    path = _clinical_file(tmp_path)
    (summary,) = ingest_phenotypes(
        tmp_path / "store", "BRCA", clinical=path,
        types={"Age.in.Month": "CON", "Tumor.Stage": "ORD", "PAM50": "CAT", "TP53/status": "BIN"},
        levels={"Tumor.Stage": "Stage I,Stage IIA,Stage IIB,Stage IIIA"}, unknown={"*": "unknown"},
    )
    assert summary.phenotypes == (("Age.in.Month", "CON"), ("Tumor.Stage", "ORD"), ("PAM50", "CAT"), ("TP53/status", "BIN"))
    assert summary.left_out == ("Note",) and summary.n_samples == 4
    assert str(summary).startswith("BRCA/phenotypes <- clinical.tsv: 4 phenotype(s) (1 CON, 1 ORD, 1 CAT, 1 BIN) for "
                                   "4 samples; 1 column(s) without a type skipped (Note) -> ")
    got = CohortStore(tmp_path / "store").phenotypes("BRCA")
    assert got["Tumor.Stage"].levels == ("Stage I", "Stage IIA", "Stage IIB", "Stage IIIA")
    assert got["Tumor.Stage"].codes.tolist() == [1, 0, -1, 3]
    assert got["TP53/status"].variable == "TP53_status" and got["TP53/status"].codes.tolist() == [1, 0, 1, -1]
    assert got["PAM50"].levels == ("Basal", "LumA", "None") and np.isnan(got["Age.in.Month"].values[1])


def test_ingest_phenotypes__names_must_exist(tmp_path):
    path = _clinical_file(tmp_path)
    with pytest.raises(InputError, match=r"a type given for column 'Tumor.stage', which no clinical table has \(did you "
                                         r"mean 'Tumor.Stage'\?\)"):
        ingest_phenotypes(tmp_path / "store", "C", clinical=path, types={"Tumor.stage": "ORD"})
    with pytest.raises(InputError, match=r"levels are given for column 'PAM50', which has no type; give it one "
                                         r"\(--type 'PAM50=ORD'"):
        ingest_phenotypes(tmp_path / "store", "C", clinical=path, levels={"PAM50": "LumA,LumB"})
    with pytest.raises(InputError, match=r"'sample_id' is the sample id column of a clinical table"):
        ingest_phenotypes(tmp_path / "store", "C", clinical=path, types={"sample_id": "CAT"})
    with pytest.raises(InputError, match=r"types: type 'NUMBER' is not one of"):
        ingest_phenotypes(tmp_path / "store", "C", clinical=path, types={"PAM50": "NUMBER"})
    with pytest.raises(InputError, match=r"no phenotype table given"):
        ingest_phenotypes(tmp_path / "store", "C")
    assert not (tmp_path / "store").exists()


def test_ingest_phenotypes__types_file_may_describe_more(tmp_path):
    types = tmp_path / "types.tsv"
    types.write_text("variable\tlinkedomics_type\tunknown\nPAM50\tCAT\tNA\nTumor.Stage\tORD\tunknown\nOther\tCON\tNA\n")
    (summary,) = ingest_phenotypes(tmp_path / "store", "C", clinical=_clinical_file(tmp_path), types_file=types,
                                   types={"Tumor.Stage": "CAT"})
    assert summary.phenotypes == (("Tumor.Stage", "CAT"), ("PAM50", "CAT"))
    stage = CohortStore(tmp_path / "store").phenotypes("C")["Tumor.Stage"]
    assert stage.levels == ("Stage I", "Stage IIA", "Stage IIIA") and stage.unknown == ("unknown",)


def test_ingest_phenotypes__tsi_type_row(tmp_path):
    tsi = _clinical_file(tmp_path, "case_id\tage\tgrade\tgender\nCAT\tCON\tORD\tBIN\nC1\t50\tG2\tMale\nC2\t61\tG1\tFemale\n"
                                   "C3\t70\tGX\tMale\n", "HS_CLI.tsi")
    (summary,) = ingest_phenotypes(tmp_path / "store", "HNSCC", clinical=tsi, unknown={"grade": "GX"})
    assert summary.phenotypes == (("age", "CON"), ("grade", "ORD"), ("gender", "BIN"))
    grade = CohortStore(tmp_path / "store").phenotypes("HNSCC")["grade"]
    assert grade.levels == ("G1", "G2") and grade.codes.tolist() == [1, 0, -1]


def test_ingest_phenotypes__survival_and_merge(tmp_path):
    store = CohortStore(tmp_path / "store")
    ingest_phenotypes(store.root, "OV", clinical=_clinical_file(tmp_path), types={"PAM50": "CAT"})
    surv = _clinical_file(tmp_path, "patient_id\tos_days\tos_event\tfigo\ns4\t10\t1\tIIIC\ns9\t20\t0\tIV\n", "survival.tsv")
    (summary,) = ingest_phenotypes(store.root, "OV", survival=surv)
    assert summary.events == (("OS", 2, 1),) and summary.left_out == ("figo",)
    assert str(summary).startswith("OV/phenotypes <- survival.tsv: 1 survival endpoint(s) (OS: 2 samples, 1 events) for "
                                   "2 samples; 1 column(s) not used (figo) -> ")
    assert str(summary).endswith("(now 2 phenotypes x 5 samples)")
    got = store.phenotypes("OV")
    assert list(got) == ["OS", "PAM50"]
    assert got["PAM50"].samples.tolist() == ["s1", "s2", "s3", "s4", "s9"] and got["PAM50"].codes[-1] == -1
    assert got["OS"].event.tolist() == [-1, -1, -1, 1, 0]

    ingest_phenotypes(store.root, "OV", clinical=_clinical_file(tmp_path), types={"PAM50": "BIN"}, unknown={"PAM50": "None"})
    assert store.phenotypes("OV")["PAM50"].type == "BIN" and list(store.phenotypes("OV")) == ["OS", "PAM50"]  # replaced
    ingest_phenotypes(store.root, "OV", survival=surv, replace=True)
    assert list(store.phenotypes("OV")) == ["OS"] and store.phenotypes("OV")["OS"].samples.tolist() == ["s4", "s9"]


def test_ingest_phenotypes__failure_keeps_the_stored_ones(tmp_path):
    store = CohortStore(tmp_path / "store")
    ingest_phenotypes(store.root, "C", clinical=_clinical_file(tmp_path), types={"PAM50": "CAT"})
    bad = _clinical_file(tmp_path, "id\tOS_days\tOS_event\na\t-3\t1\n", "survival.tsv")
    with pytest.raises(InputError, match=r"survival.tsv: line 2, column 2 \('OS_days'\), sample 'a': survival time '-3'"):
        ingest_phenotypes(store.root, "C", survival=bad, replace=True)
    assert list(store.phenotypes("C")) == ["PAM50"]
    with pytest.raises(InputError, match=r"phenotype 'PAM50' comes from both .*clinical.tsv and .*other.tsv"):
        ingest_phenotypes(store.root, "C", clinical=[_clinical_file(tmp_path), _clinical_file(tmp_path, name="other.tsv")],
                          types={"PAM50": "CAT"})


def test_ingest_phenotypes__notes_for_untestable_bin(tmp_path):
    path = _clinical_file(tmp_path, "id\tHPV\tAlcohol\ns1\tNO\ta\ns2\tNO\tb\ns3\tNO\tc\n")
    (summary,) = ingest_phenotypes(tmp_path / "store", "C", clinical=path, types={"HPV": "BIN", "Alcohol": "BIN"})
    assert summary.notes == (
        "BIN 'HPV' has a single label 'NO', so its tests give no result",
        "BIN 'Alcohol' has 3 labels, its tests need exactly 2 and give no result (declare the others missing with "
        "--unknown, or type it CAT)",
    )


# ------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_ingest__real_ucec_proteome_tumor_and_normal(tmp_path, real_data):
    folder = real_data / "cptac_ucec"
    tumor = ingest(tmp_path / "store", "UCEC", "proteome", folder / "proteome_tumor.tsv.gz")
    normal = ingest(tmp_path / "store", "UCEC", "proteome", folder / "proteome_normal.tsv.gz", tissue="normal")
    assert (tumor.n_features, tumor.n_samples, normal.n_samples) == (10999, 104, 49)
    store = CohortStore(tmp_path / "store")
    assert store.omics("UCEC") == ["proteome"] and store.tissues("UCEC", "proteome") == ["tumor", "normal"]
    t, n = store.open("UCEC", "proteome"), store.open("UCEC", "proteome", tissue="normal")
    shared = sorted(set(t["sample"].values) & set(n["sample"].values))
    assert len(shared) == 30  # the README's 30 tumor/normal pairs, same participant id in both
    ref = pd.read_csv(folder / "proteome_normal.tsv.gz", sep="\t", index_col=0, keep_default_na=False, na_values=["NA", ""])
    want = np.float32(ref.loc["TP53", shared[0]])
    got = float(n["values"].sel(feature="TP53", sample=shared[0]).values)
    assert got == want or (np.isnan(got) and np.isnan(want))


@pytest.mark.realdata
def test_ingest__real_coad_mutations_binary(tmp_path, real_data):
    summary = ingest(tmp_path / "store", "COAD", "mutation", real_data / "cptac_coad" / "mutation_gene_binary.tsv.gz",
                     kind="binary")
    assert (summary.n_features, summary.n_samples, summary.kind) == (15174, 106, "binary")
    ds = CohortStore(tmp_path / "store").open("COAD", "mutation")
    assert ds.attrs["kind"] == "binary"
    tp53 = ds["values"].sel(feature="TP53").values
    assert set(np.unique(tp53).tolist()) == {0.0, 1.0} and tp53.sum() > 30


@pytest.mark.realdata
def test_ingest_phenotypes__real_brca_clinical(tmp_path, real_data):
    (summary,) = ingest_phenotypes(
        tmp_path / "store", "BRCA", clinical=real_data / "cptac_brca" / "clinical.tsv",
        types={"Tumor.Stage": "ORD", "PAM50": "CAT", "TP53.Mutation.Status": "BIN", "Age.in.Month": "CON"},
        unknown={"Tumor.Stage": "unknown", "Age.in.Month": "unknown"},
    )
    assert summary.n_samples == 122 and len(summary.left_out) == 50
    got = CohortStore(tmp_path / "store").phenotypes("BRCA")
    stage = got["Tumor.Stage"]
    assert stage.type == "ORD" and stage.level_order == "sorted" and stage.n == 122 - 15
    assert stage.levels == ("Stage IA", "Stage IIA", "Stage IIB", "Stage III", "Stage IIIA", "Stage IIIB", "Stage IIIC")
    assert stage.counts()["Stage IIA"] == 50
    assert got["PAM50"].counts() == {"Basal": 29, "Her2": 14, "LumA": 57, "LumB": 17, "Normal-like": 5}
    assert got["TP53.Mutation.Status"].levels == ("0", "1") and got["TP53.Mutation.Status"].counts() == {"0": 70, "1": 52}
    age = got["Age.in.Month"]
    assert age.type == "CON" and age.n == 122 - 17 and age.values.dtype == np.float64
    assert age.samples[0] == "11BR047"


@pytest.mark.realdata
def test_ingest_phenotypes__real_tcga_ov_survival(tmp_path, real_data):
    (summary,) = ingest_phenotypes(tmp_path / "store", "OV", survival=real_data / "tcga_ov_cptac_pnnl" / "survival.tsv")
    assert summary.events == (("OS", 565, 335),) and summary.left_out == ()
    os_ = CohortStore(tmp_path / "store").phenotypes("OV")["OS"]
    assert os_.type == "SURV" and os_.unit == "days" and os_.columns == ("os_days", "os_event")
    assert (os_.time[0], os_.event[0]) == (420.0, 0) and os_.samples[0] == "TCGA-3P-A9WA"
