"""jobs.tables: the knowledge base's layout of a lookup, against a direct computation."""

import numpy as np
import pandas as pd
import pytest

from linkscan.errors import JobError
from linkscan.jobs.tables import SHOW, cohorts_of, format_table, kb_table


@pytest.fixture
def rows(rng) -> pd.DataFrame:
    n = 12
    slogp = lambda: np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 5, n)).astype(np.float32)  # noqa: E731
    frame = {"feature": ["MKI67"] * n, "partner": [f"G{i}" for i in range(n)], "partner_gene": "",
             "test": ["spearman"] * n}
    for cohort in ("BRCA", "OV", "UCEC"):
        frame[f"{cohort}_stat"] = rng.uniform(-1, 1, n).astype(np.float32)
        frame[f"{cohort}_n"] = pd.array(rng.integers(10, 90, n), dtype="Int16")
        frame[f"{cohort}_slogp"] = slogp()
        frame[f"{cohort}_log10q"] = -rng.uniform(0, 8, n).astype(np.float32)
    frame.update(meta_slogp=slogp(), meta_log10q=-rng.uniform(0, 8, n).astype(np.float32),
                 n_cohorts=rng.integers(1, 4, n).astype(np.int8))
    return pd.DataFrame(frame)


def test_kb_table__columns_and_values_per_show(rows):
    assert cohorts_of(rows) == ["BRCA", "OV", "UCEC"]
    for show in SHOW:
        table = kb_table(rows, show)
        assert list(table.columns) == ["partner", "meta", "BRCA", "OV", "UCEC"]  # one feature, one test
        assert table["partner"].tolist() == rows["partner"].tolist()
        for cohort in ("BRCA", "OV", "UCEC"):
            s = rows[f"{cohort}_slogp"].to_numpy(np.float64)
            want = {"slogp": s, "p": np.sign(s) * 10.0 ** -np.abs(s), "stat": rows[f"{cohort}_stat"],
                    "q": 10.0 ** rows[f"{cohort}_log10q"].to_numpy(np.float64),
                    "n": rows[f"{cohort}_n"].to_numpy(np.float64, na_value=np.nan)}[show]
            np.testing.assert_allclose(table[cohort].to_numpy(), np.asarray(want, np.float64), rtol=1e-6)
    np.testing.assert_array_equal(kb_table(rows, "n")["meta"], rows["n_cohorts"].to_numpy(np.float64))
    np.testing.assert_array_equal(kb_table(rows, "stat")["meta"], rows["meta_slogp"].to_numpy(np.float64))
    flat = rows.assign(BRCA_slogp=np.float32(0.0))  # p = 1: the signed p is +1, not 0
    assert (kb_table(flat, "p")["BRCA"] == 1.0).all()


def test_kb_table__features_omics_and_tests_only_when_they_vary(rows):
    mixed = rows.assign(feature=["A", "B"] * 6, test=["spearman", "cox"] * 6, partner_omics="phenotype")
    assert list(kb_table(mixed).columns[:3]) == ["feature", "partner", "test"]  # one omics: not shown
    with pytest.raises(JobError, match="show = 'pvalue': use one of slogp, p, stat, q, n"):
        kb_table(rows, "pvalue")


def test_format_table__rounds_blanks_and_fits_the_width(rows):
    table = kb_table(rows)
    text = format_table(table, width=60)
    assert all(len(line) <= 60 for line in text.splitlines())
    first = rows.iloc[0]
    assert f"{first['meta_slogp']:.2f}" in text.splitlines()[1] or np.isnan(first["meta_slogp"])
    assert "nan" not in text.lower() and "<NA>" not in text
    wide = format_table(table, width=200).splitlines()
    assert len(wide) == len(rows) + 1  # one line per association when it fits
    missing = rows.index[rows["OV_slogp"].isna()][0]
    cells = wide[missing + 1]
    assert len(cells.split()) == 1 + 1 + 3 - sum(rows.loc[missing, [f"{c}_slogp" for c in ("meta", "BRCA", "OV", "UCEC")]].isna())
    assert format_table(table.iloc[:0]) == "no associations pass the filters"


def test_kb_table__two_group_tests_name_their_groups_and_sizes(rows):
    groups = rows.assign(x_group=["MSI-H", ""] * 6, y_group=["MSS", ""] * 6,
                         BRCA_nx=pd.array([4, pd.NA] * 6, dtype="Int16"))
    table = kb_table(groups)
    assert table["x vs y"].tolist() == ["MSI-H vs MSS", ""] * 6
    sizes = kb_table(groups, "n")["BRCA"]
    n = rows["BRCA_n"].to_numpy(np.int64, na_value=-1)
    assert sizes[0] == f"4/{n[0] - 4}" and sizes[1] == str(n[1])  # NX/NY, else the samples
    assert "MSI-H vs MSS" in format_table(table, width=200)
