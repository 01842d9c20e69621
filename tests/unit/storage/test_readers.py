"""linkscan.storage.inputs.readers: every format round-trips, every validation rule has its message."""

import gzip
import re

import fastparquet
import numpy as np
import pandas as pd
import pytest

from linkscan.errors import InputError
from linkscan.storage.inputs.readers import NA_TOKENS, read_gene_map, read_rows, read_table


def _frame(rng, n_features=7, n_samples=5, missing=0.25) -> pd.DataFrame:
    values = rng.normal(size=(n_features, n_samples)).round(4)
    values[rng.random(values.shape) < missing] = np.nan
    return pd.DataFrame(
        values,
        index=pd.Index([f"G{i}" for i in range(n_features)], name="feature"),
        columns=pd.Index([f"S{j:02d}" for j in range(n_samples)], name="sample"),
    )


def _text(df: pd.DataFrame, sep: str, na: str = "NA") -> str:
    lines = [sep.join(["gene", *df.columns])]
    for feature, row in df.iterrows():
        lines.append(sep.join([feature, *(na if np.isnan(v) else repr(float(v)) for v in row)]))
    return "\n".join(lines) + "\n"


def _write(path, text: str) -> None:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert got.index.tolist() == want.index.tolist()
    assert got.columns.tolist() == want.columns.tolist()
    assert got.dtypes.unique().tolist() == [np.dtype(np.float64)]
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())  # NaN == NaN here


# ------------------------------------------------------------------------ formats


@pytest.mark.parametrize("name", ["t.cct", "t.cbt", "t.tsv", "t.txt", "t.csv", "t.cct.gz", "t.tsv.gz", "t.txt.gz", "t.csv.gz"])
def test_read_table__text_round_trip(tmp_path, rng, name):
    df = _frame(rng)
    path = tmp_path / name
    _write(path, _text(df, "," if ".csv" in name else "\t"))
    got = read_table(path)
    _assert_same(got, df)
    assert got.attrs == {"source": str(path), "n_missing": int(df.isna().sum().sum()), "n_inf_replaced": 0}
    assert got.index.name == "feature" and got.columns.name == "sample"


def test_read_table__cct_missing_spellings(tmp_path):
    path = tmp_path / "p.cct"
    path.write_text("attrib_name\ts1\ts2\ts3\ts4\nA\t1.5\tNA\t\t   NA\nB\tNaN\tnan\t  \t-2e-3\n")
    got = read_table(path)
    want = np.array([[1.5, np.nan, np.nan, np.nan], [np.nan, np.nan, np.nan, -0.002]])
    np.testing.assert_array_equal(got.to_numpy(), want)
    assert got.attrs["n_missing"] == 6
    assert NA_TOKENS == {"", "NA", "NaN", "nan"}


@pytest.mark.parametrize("ids_in", ["index", "column"])
def test_read_table__parquet_round_trip(tmp_path, rng, ids_in):
    df = _frame(rng)
    path = tmp_path / "t.parquet"
    if ids_in == "index":
        fastparquet.write(str(path), df)
    else:
        fastparquet.write(str(path), df.reset_index(), write_index=False)
    _assert_same(read_table(path), df)


def test_read_table__parquet_text_cells(tmp_path):
    df = pd.DataFrame({"gene": ["A", "B"], "s1": ["1.5", "NA"], "s2": [" inf", "2"]})
    path = tmp_path / "t.parquet"
    fastparquet.write(str(path), df, write_index=False)
    got = read_table(path)
    np.testing.assert_array_equal(got.to_numpy(), [[1.5, np.nan], [np.nan, 2.0]])
    assert got.attrs["n_inf_replaced"] == 1


def test_read_table__quoted_csv(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('"","s1","s2"\n"A",1,"NA"\n"B",2,3\n')  # as R's write.csv writes it
    got = read_table(path)
    assert got.index.tolist() == ["A", "B"] and got.columns.tolist() == ["s1", "s2"]
    np.testing.assert_array_equal(got.to_numpy(), [[1, np.nan], [2, 3]])


def test_read_table__ids_stripped_bom_and_blank_lines(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_bytes("\ufeffgene\t s1 \ts2\n\n  A \t1\t2\n\t\n".encode())
    got = read_table(path)
    assert got.index.tolist() == ["A"] and got.columns.tolist() == ["s1", "s2"]


def test_read_table__values_match_pandas(tmp_path, rng):
    df = pd.DataFrame(rng.normal(size=(50, 12)) * 10.0 ** rng.integers(-8, 8, size=(50, 12)))
    df.index = [f"F{i}" for i in range(50)]
    df.columns = [f"s{j}" for j in range(12)]
    path = tmp_path / "t.tsv"
    df.to_csv(path, sep="\t")
    _assert_same(read_table(path), pd.read_csv(path, sep="\t", index_col=0))


# ------------------------------------------------------------------ missing values


def test_read_table__inf_is_missing_and_counted(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("g\ts1\ts2\ts3\nA\tinf\t-inf\tInf\nB\t-Infinity\t1e400\t3\nC\tNA\t1\t2\n")
    got = read_table(path)
    assert got.attrs["n_inf_replaced"] == 5
    assert got.attrs["n_missing"] == 6
    assert np.isnan(got.loc["A"]).all() and got.loc["B", "s3"] == 3.0


def test_read_table__none_is_not_missing(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("g\ts1\ts2\nA\t1\tNone\n")
    with pytest.raises(InputError, match=r"line 2, column 3 \(sample 's2'\), feature 'A': cannot read 'None' as a number"):
        read_table(path)


def test_read_table__other_nan_spellings_rejected(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("g\ts1\ts2\nA\t1\t-nan\n")
    with pytest.raises(InputError, match=r"cannot read '-nan' as a number"):
        read_table(path)


# ---------------------------------------------------------------------- validation


def test_read_table__non_numeric_cell(tmp_path):
    path = tmp_path / "bad.cct"
    path.write_text("gene\ts1\ts2\ts3\nA\t1\t2\t3\n\nB\t4\t5,5\t6\nC\tx\t1\t1\n")
    with pytest.raises(InputError) as info:
        read_table(path)
    message = str(info.value)
    # the file, the line as an editor counts it (the blank line 3 counts), column, sample, text
    assert re.search(
        re.escape(str(path)) + r": line 4, column 3 \(sample 's2'\), feature 'B': cannot read '5,5' as a number "
        r"\(and 1 more non-numeric cells\); write a number",
        message,
    ), message


def test_read_table__non_numeric_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    fastparquet.write(str(path), pd.DataFrame({"id": ["A", "B"], "s1": ["1", "oops"]}), write_index=False)
    with pytest.raises(InputError, match=r"t.parquet: row 2, column 's1', feature 'B': cannot read 'oops'"):
        read_table(path)


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_read_table__duplicate_feature_ids(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    df = pd.DataFrame({"gene": ["A", "B", "A ", "B"], "s1": [1.0, 2.0, 3.0, 4.0]})
    if suffix == ".tsv":
        df.to_csv(path, sep="\t", index=False)
        where = "line 2 and line 4"
    else:
        fastparquet.write(str(path), df, write_index=False)
        where = "row 1 and row 3"
    with pytest.raises(InputError, match=rf"feature id 'A' appears on {where} \(2 repeated rows in all\); .*unique"):
        read_table(path)


def test_read_table__duplicate_sample_ids(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("gene,s1,s2,s1\nA,1,2,3\n")
    with pytest.raises(InputError, match=r"t.csv: line 1: sample id 's1' appears in column 2 and column 4"):
        read_table(path)


def test_read_table__empty_ids(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("gene\ts1\t\nA\t1\t2\n")
    with pytest.raises(InputError, match=r"line 1, column 3: the sample id is empty \(a trailing delimiter"):
        read_table(path)
    path.write_text("gene\ts1\ts2\nA\t1\t2\n  \t3\t4\n")
    with pytest.raises(InputError, match=r"line 3: the feature id \(first column\) is empty"):
        read_table(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"the file is empty"),
        ("\n\n", r"the file is empty"),
        ("gene\ts1\ts2\n", r"no features \(no data rows after the header on line 1\)"),
        ("gene\nA\nB\n", r"no sample columns"),
    ],
)
def test_read_table__empty_table(tmp_path, text, match):
    path = tmp_path / "t.tsv"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        read_table(path)


def test_read_table__empty_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    fastparquet.write(str(path), pd.DataFrame({"gene": pd.Series([], dtype=object), "s1": pd.Series([], dtype=float)}), write_index=False)
    with pytest.raises(InputError, match=r"no features \(zero rows\)"):
        read_table(path)
    fastparquet.write(str(path), pd.DataFrame({"gene": ["A"]}), write_index=False)
    with pytest.raises(InputError, match=r"no sample columns"):
        read_table(path)


def test_read_table__wrong_delimiter(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("gene,s1,s2\nA,1,2\n")
    with pytest.raises(InputError, match=r"t.tsv: line 1 .*looks comma-separated .*rename it to \.csv"):
        read_table(path)
    path = tmp_path / "t.csv"
    path.write_text("gene\ts1\ts2\nA\t1\t2\n")
    with pytest.raises(InputError, match=r"looks tab-separated .*rename it to \.tsv"):
        read_table(path)


def test_read_table__ragged_rows(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("gene\ts1\ts2\nA\t1\t2\nB\t3\n")
    with pytest.raises(InputError, match=r"line 3 has 2 fields but the header \(line 1\) has 3"):
        read_table(path)
    path.write_text("s1\ts2\nA\t1\t2\n")  # R's write.table header: no cell for the ids
    with pytest.raises(InputError, match=r"line 2 has 3 fields .*add one"):
        read_table(path)


def test_read_table__truncated_gzip(tmp_path, rng):
    data = gzip.compress(_text(_frame(rng, n_features=2000), "\t").encode())
    path = tmp_path / "t.tsv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"t.tsv.gz: the gzip data is truncated or corrupt after line \d+ .*gzip -t"):
        read_table(path)
    path.write_bytes(b"gene\ts1\nA\t1\n")  # named .gz, but plain text
    with pytest.raises(InputError, match=r"truncated or corrupt"):
        read_table(path)


def test_read_table__compressed_without_gz_suffix(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_bytes(gzip.compress(b"gene\ts1\nA\t1\n"))
    with pytest.raises(InputError, match=r"line 1 is not UTF-8 text: byte 0x8B at character 2 .*name it \*\.gz"):
        read_table(path)


def test_read_table__unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"cannot tell the format from the name; .*\.cct, .*\.parquet"):
        read_table(tmp_path / "t.xlsx")
    with pytest.raises(InputError, match=r"no such file"):
        read_table(tmp_path / "absent.tsv")


def test_read_table__corrupt_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"cannot be read as Parquet"):
        read_table(path)


# ------------------------------------------------------------------------ gene map


def test_read_gene_map__named_gene_column(tmp_path):
    path = tmp_path / "map.tsv"
    path.write_text("site\tuniprot\tgene\nA_S1\tP1\tA\nB_T2\tP2\t NA \nC_Y3\tP3\t C \n")
    got = read_gene_map(path)
    assert got.to_dict() == {"A_S1": "A", "C_Y3": "C"}
    path.write_text("gene\tsymbol\tGene\nx\tX\tY\n")  # the id column's own name does not count
    assert read_gene_map(path).to_dict() == {"x": "Y"}


def test_read_gene_map__second_column_gz(tmp_path):
    path = tmp_path / "map.csv.gz"
    path.write_bytes(gzip.compress(b"feature,symbol\nx,X\ny,Y\n"))
    assert read_gene_map(path).to_dict() == {"x": "X", "y": "Y"}


def test_read_gene_map__frames(tmp_path):
    df = pd.DataFrame({"feature": ["a", "b"], "gene": ["A", None]})
    assert read_gene_map(df).to_dict() == {"a": "A"}
    assert read_gene_map(pd.Series({"a": "A", "b": "B"})).to_dict() == {"a": "A", "b": "B"}


def test_read_gene_map__errors(tmp_path):
    path = tmp_path / "map.tsv"
    path.write_text("feature\tgene\na\tA\nb\tB\na\tC\n")
    with pytest.raises(InputError, match=r"feature id 'a' appears on line 2 and line 4"):
        read_gene_map(path)
    path.write_text("feature,gene\na,A\n")
    with pytest.raises(InputError, match=r"1 column\(s\) \(it looks comma-separated: name it \.csv\)"):
        read_gene_map(path)


# ------------------------------------------------------------------ binary tables


@pytest.mark.parametrize("name", ["m.cbt", "m.cbt.gz", "m.tsv"])
def test_read_table__binary_round_trip(tmp_path, name):
    path = tmp_path / name
    _write(path, "gene\ts1\ts2\ts3\nTP53\t1\t0\tNA\nKRAS\t0\t1.0\t\n")
    got = read_table(path, binary=True)
    np.testing.assert_array_equal(got.to_numpy(), [[1, 0, np.nan], [0, 1, np.nan]])


def test_read_table__binary_value_not_0_or_1(tmp_path):
    path = tmp_path / "COAD.cbt"
    path.write_text("gene\ts1\ts2\ts3\nTP53\t1\t0\tNA\n\nKRAS\t0\t2\t1\nAPC\t0.5\t1\t-1\n")
    with pytest.raises(
        InputError,
        match=r"COAD.cbt: line 4, column 3 \(sample 's2'\), feature 'KRAS': value '2' is not 0 or 1 "
        r"\(and 2 more such cells\); a binary table \(.cbt, mutations\) holds 1 \(mutated\), 0 \(not mutated\) or NA",
    ):
        read_table(path, binary=True)
    assert read_table(path).loc["KRAS", "s2"] == 2.0  # a continuous read takes it


def test_read_table__binary_inf_is_an_error(tmp_path):
    path = tmp_path / "m.cbt"
    path.write_text("gene\ts1\nA\tinf\n")
    with pytest.raises(InputError, match=r"line 2, column 2 \(sample 's1'\), feature 'A': value 'inf' is not 0 or 1"):
        read_table(path, binary=True)


def test_read_table__binary_parquet(tmp_path):
    path = tmp_path / "m.parquet"
    fastparquet.write(str(path), pd.DataFrame({"gene": ["A", "B"], "s1": [0.0, 1.0], "s2": [1.0, 3.0]}), write_index=False)
    with pytest.raises(InputError, match=r"m.parquet: row 2, column 's2', feature 'B': value '3.0' is not 0 or 1"):
        read_table(path, binary=True)
    fastparquet.write(str(path), pd.DataFrame({"gene": ["A"], "s1": ["1"], "s2": ["x2"]}), write_index=False)
    with pytest.raises(InputError, match=r"cannot read 'x2' as a number"):
        read_table(path, binary=True)


def test_read_table__inf_by_sample(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("g\ts1\ts2\ts3\nA\tinf\t1\t-inf\nB\tinf\t2\t3\n")
    got = read_table(path, inf_by_sample=True)
    assert got.attrs["n_inf_by_sample"] == [2, 0, 1] and got.attrs["n_inf_replaced"] == 3
    assert "n_inf_by_sample" not in read_table(path).attrs


# ---------------------------------------------------------------------- row tables


def test_read_rows__cells_stripped_quotes_and_lines(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('"",Age,Stage\n\n"s1", 60 ,"Stage I, A"\ns2,NA,None\n')
    table = read_rows(path, "clinical table")
    assert table.header == ("", "Age", "Stage")
    assert table.rows == [["s1", "60", "Stage I, A"], ["s2", "NA", "None"]]
    assert table.lines == [3, 4] and table.column("Stage") == 2


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"the clinical table is empty"),
        ("id\tAge\n", r"has no rows after the header \(line 1\)"),
        ("id,Age\ns1,3\n", r"looks comma-separated .* rename it to \.csv"),
        ("id\n", r"has a single column"),
        ("id\tAge\tAge\ns1\t1\t2\n", r"line 1: column name 'Age' appears in column 2 and column 3"),
        ("id\tAge\t\ns1\t1\t2\n", r"line 1, column 3: the column name is empty \(a trailing delimiter"),
        ("id\tAge\ns1\t1\ns2\n", r"line 3 has 1 fields but the header \(line 1\) has 2"),
    ],
)
def test_read_rows__errors(tmp_path, text, match):
    path = tmp_path / "c.tsv"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        read_rows(path, "clinical table")


def test_read_rows__suffixes_and_missing_column(tmp_path):
    path = tmp_path / "c.tsi.gz"
    path.write_bytes(gzip.compress(b"id\tStage\ns1\tI\n"))
    table = read_rows(path)
    with pytest.raises(InputError, match=r"no column named 'stage' \(did you mean 'Stage'\?\); the columns are 'id', 'Stage'"):
        table.column("stage")
    with pytest.raises(InputError, match=r"cannot tell the format from the name; .*\.tsi"):
        read_rows(tmp_path / "c.cct")
