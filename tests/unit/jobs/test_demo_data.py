"""Tests of jobs/demo/ (proteome.py, gene_page.py): the CPTAC-shaped synthetic pan-cancer generator."""

import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu, rankdata

from linkscan.errors import LinkscanError
from linkscan.jobs.demo import (
    CIS_RHO_RANGE,
    CLINICAL_TYPES,
    CPTAC_COHORTS,
    DEMO_GENE,
    FILLER_PREFIX,
    GENE_PAGE_FILES,
    MIN_NORMALS,
    MODULES,
    MSI_LABELS,
    MUTATION_DRIVER,
    MUTATION_FREQUENCIES,
    NORMAL_SHARE_RANGE,
    STAGE_LEVELS,
    STAGE_UNKNOWN,
    CohortTables,
    Module,
    make_cohort,
    make_gene_page_set,
    make_pan_cancer,
    write_gene_page_tables,
    write_tables,
)

N_FEATURES = 400  # all 112 module genes and 288 fillers
MODULE_GENES = [g for m in MODULES for g in m.genes]


@pytest.fixture(scope="module")
def pan() -> dict[str, pd.DataFrame]:
    return make_pan_cancer(n_features=N_FEATURES, seed=0)


def _spearman(table: pd.DataFrame, rows: list[str]) -> np.ndarray:
    """Pairwise-complete Spearman matrix of the given rows (pandas re-ranks each overlap)."""
    return table.loc[rows].T.corr(method="spearman").to_numpy()


def _spearman_to(table: pd.DataFrame, gene: str) -> pd.Series:
    """Pairwise-complete Spearman of every row with one row: rank both within each overlap."""
    return _rowwise_spearman(table, np.broadcast_to(table.loc[gene].to_numpy(), table.shape))


def _rowwise_spearman(table: pd.DataFrame, other: np.ndarray) -> pd.Series:
    """Pairwise-complete Spearman of each row of table with the same row of other."""
    x, y = table.to_numpy(), other
    both = ~np.isnan(x) & ~np.isnan(y)
    rx, ry = (rankdata(np.where(both, v, np.nan), axis=1, nan_policy="omit") for v in (x, y))
    rx, ry = (r - np.nanmean(r, axis=1, keepdims=True) for r in (rx, ry))
    rho = np.nansum(rx * ry, axis=1) / np.sqrt(np.nansum(rx**2, axis=1) * np.nansum(ry**2, axis=1))
    return pd.Series(rho, index=table.index)


def _upper(matrix: np.ndarray) -> np.ndarray:
    return matrix[np.triu_indices_from(matrix, k=1)]


def _missing_runs(row: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of consecutive missing samples."""
    padded = np.concatenate([[False], row, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2])]


# -- determinism ---------------------------------------------------------------------------


def test_make_pan_cancer__same_arguments_same_tables(pan):
    again = make_pan_cancer(n_features=N_FEATURES, seed=0)
    assert list(again) == list(CPTAC_COHORTS)
    for name in CPTAC_COHORTS:
        pd.testing.assert_frame_equal(again[name], pan[name], check_exact=True)


def test_make_pan_cancer__cohort_independent_of_other_cohorts(pan):
    alone = make_pan_cancer(n_features=N_FEATURES, seed=0, cohorts=("LUAD",))
    pair = make_pan_cancer(n_features=N_FEATURES, seed=0, cohorts=("UCEC", "LUAD"))
    pd.testing.assert_frame_equal(alone["LUAD"], pan["LUAD"], check_exact=True)
    pd.testing.assert_frame_equal(pair["LUAD"], pan["LUAD"], check_exact=True)
    pd.testing.assert_frame_equal(pair["UCEC"], pan["UCEC"], check_exact=True)


def test_make_pan_cancer__seed_changes_values(pan):
    other = make_pan_cancer(n_features=N_FEATURES, seed=1, cohorts=("BRCA",))["BRCA"]
    assert not other.equals(pan["BRCA"])


def test_make_cohort__same_seed_same_table():
    a = make_cohort(150, 60, seed=7)
    b = make_cohort(150, 60, seed=np.random.SeedSequence(7))
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not a.equals(make_cohort(150, 60, seed=8))


# -- shapes and ids ------------------------------------------------------------------------


def test_make_pan_cancer__shapes_and_sample_ranges(pan):
    n_samples = [t.shape[1] for t in pan.values()]
    assert all(80 <= n <= 200 for n in n_samples)
    assert len(set(n_samples)) > 3  # drawn per cohort, not one size for all
    small = make_pan_cancer(n_features=120, seed=3, samples=(30, 31), cohorts=("GBM", "OV", "X1"))
    assert all(t.shape[1] in (30, 31) for t in small.values())
    for table in pan.values():
        assert table.dtypes.eq(np.float64).all()
        assert N_FEATURES - 12 <= table.shape[0] <= N_FEATURES


def test_make_pan_cancer__ids_unique_and_cptac_like(pan):
    all_samples = [s for t in pan.values() for s in t.columns]
    assert len(set(all_samples)) == len(all_samples)
    assert all(re.fullmatch(r"C3[LN]-\d{5}", s) for s in all_samples)
    for table in pan.values():
        assert table.index.is_unique
        numbers = [int(s[4:]) for s in table.columns]
        assert numbers == sorted(numbers)  # plexes are runs of consecutive columns
    big = make_cohort(20, 1200, seed=0, cohort="BRCA", complete=True)
    assert big.columns.is_unique and not set(big.columns) & set(pan["BRCA"].columns)


def test_make_pan_cancer__shared_feature_list(pan):
    full = MODULE_GENES + [f"{FILLER_PREFIX}{k:05d}" for k in range(1, N_FEATURES - len(MODULE_GENES) + 1)]
    for table in pan.values():
        present = set(table.index)
        assert present <= set(full)
        assert list(table.index) == [f for f in full if f in present]  # shared order


def test_make_cohort__prefix_of_modules_when_few_features():
    table = make_cohort(30, 40, seed=0, complete=True)
    assert list(table.index) == MODULE_GENES[:30]
    assert table.index[0] == DEMO_GENE
    more = make_cohort(len(MODULE_GENES) + 3, 40, seed=0, complete=True)
    assert list(more.index[-3:]) == ["LSP00001", "LSP00002", "LSP00003"]


def test_make_cohort__given_feature_names():
    names = ["TOP2A", "A1BG", "MKI67", "A2M"] + [f"G{k}" for k in range(46)]
    table = make_cohort(50, 100, seed=2, feature_names=names, complete=True)
    assert list(table.index) == names
    # The module genes among the names are planted; others are not.
    assert table.loc["TOP2A"].corr(table.loc["MKI67"], method="spearman") > 0.4
    with pytest.raises(LinkscanError, match="unique ids"):
        make_cohort(3, 20, seed=0, feature_names=["A", "A", "B"])


# -- values --------------------------------------------------------------------------------


def test_make_pan_cancer__log2_ratio_scale(pan):
    table = pan["COAD"]
    means = table.mean(axis=1)
    sds = table.std(axis=1)
    assert abs(means.median()) < 0.3
    assert 0.8 < sds.median() < 1.3
    assert sds.quantile(0.9) / sds.quantile(0.1) > 1.3  # feature-specific scales


def test_make_pan_cancer__ties_in_a_few_percent_of_features(pan):
    for table in pan.values():
        tied = table.apply(lambda row: row.dropna().duplicated().any(), axis=1)
        assert tied.sum() == round(0.03 * table.shape[0])  # only the rounded ones tie
        assert (table[tied] * 10 - (table[tied] * 10).round()).abs().max(axis=None) < 1e-9


def test_make_pan_cancer__module_mates_correlate(pan):
    medians = pd.DataFrame(
        {m.name: [np.median(_upper(_spearman(t, list(m.genes)))) for t in pan.values()] for m in MODULES},
        index=list(pan),
    )
    assert (medians > 0.5).to_numpy().mean() >= 0.8
    assert ((medians > 0.5).sum(axis=0) >= 6).all()  # each module in most cohorts
    # Heterogeneity: a module absent or reversed somewhere, and strengths that differ.
    assert (medians < 0.2).to_numpy().any()
    assert (medians.max(axis=0) - medians[medians > 0.2].min(axis=0) > 0.1).all()


def test_make_cohort__reversed_module_anticorrelates_halves():
    # Some seed reverses a module; its mates then split into two anti-correlated halves.
    found = False
    for seed in range(40):
        table = make_cohort(len(MODULE_GENES), 150, seed=seed, complete=True)
        for module in MODULES:
            rho = _upper(_spearman(table, list(module.genes)))
            if (rho < -0.4).mean() > 0.3:
                found = True
                assert (rho > 0.4).mean() > 0.3
    assert found


def test_make_pan_cancer__filler_pairs_uncorrelated(pan):
    # Under independence |rho| * sqrt(n - 1) has mean sqrt(2 / pi) = 0.80 whatever the overlap n.
    for name, gene in [("BRCA", None), ("OV", DEMO_GENE)]:
        table = pan[name]
        fillers = [f for f in table.index if f.startswith(FILLER_PREFIX)][:120]
        rows = fillers if gene is None else [gene, *fillers[:60]]
        observed = table.loc[rows].notna().to_numpy(dtype=float)
        rho, overlap = _spearman(table, rows), observed @ observed.T
        pairs = np.triu_indices(len(rows), k=1) if gene is None else (np.zeros(60, int), np.arange(1, 61))
        scaled = np.abs(rho[pairs]) * np.sqrt(overlap[pairs] - 1)
        assert scaled.mean() < 1.1, name
        assert abs(rho[pairs].mean()) < 0.03, name


def test_make_pan_cancer__demo_gene_partners_are_module_mates(pan):
    rho = pd.concat([_spearman_to(t, DEMO_GENE) for t in pan.values()], axis=1)
    top = rho.mean(axis=1).drop(DEMO_GENE).nlargest(10)
    module = next(m for m in MODULES if DEMO_GENE in m.genes)
    assert set(top.index) <= set(module.genes)
    assert top.min() > 0.4


# -- missingness ---------------------------------------------------------------------------


def test_make_pan_cancer__missingness_bands(pan):
    for name, table in pan.items():
        share = table.isna().mean(axis=1)
        assert (share == 0).mean() == pytest.approx(0.6, abs=0.01), name
        incomplete = share[share > 0]
        assert incomplete.min() >= 0.05 and incomplete.max() <= 0.5
        assert incomplete.quantile(0.2) < 0.2 and incomplete.quantile(0.8) > 0.35  # spread


def test_make_pan_cancer__whole_plex_blocks(pan):
    for name, table in pan.items():
        mask = table.isna().to_numpy()
        rows = mask[mask.any(axis=1)]
        # A plex-missing feature misses only runs of whole plexes (10-11 samples each).
        by_plex = [all(length >= 10 for _, length in _missing_runs(row)) for row in rows]
        assert 0.15 < np.mean(by_plex) < 0.45, name
        # Runs start on one grid of plex boundaries: round(n / 10.5) plexes, sizes as even as possible.
        n = table.shape[1]
        n_plex = round(n / 10.5)
        starts = sorted({s for row, plexed in zip(rows, by_plex) if plexed for s, _ in _missing_runs(row)})
        assert set(np.diff(starts)) <= {n // n_plex, -(-n // n_plex)}, name


def test_make_pan_cancer__rows_never_all_missing_and_absent_differ(pan):
    absent = {}
    for name, table in pan.items():
        assert not table.isna().all(axis=1).any()
        assert set(MODULE_GENES) <= set(table.index)  # planted genes are always measured
        fillers = N_FEATURES - len(MODULE_GENES)
        absent[name] = {f"{FILLER_PREFIX}{k:05d}" for k in range(1, fillers + 1)} - set(table.index)
        assert len(absent[name]) == round(0.03 * fillers)
    assert len(set(map(frozenset, absent.values()))) > 1
    none = make_pan_cancer(n_features=N_FEATURES, cohorts=("BRCA",), absent_fraction=0.0)["BRCA"]
    assert none.shape[0] == N_FEATURES


def test_make_cohort__missing_more_often_at_low_values():
    full = make_cohort(300, 150, seed=4, complete=True)
    gaps = make_cohort(300, 150, seed=4)
    assert not full.isna().any(axis=None) and full.shape[0] == 300
    observed = gaps.notna()
    pd.testing.assert_frame_equal(full.loc[gaps.index].where(observed), gaps, check_exact=True)
    incomplete = gaps.index[gaps.isna().any(axis=1)]
    values = full.loc[incomplete]
    z = values.sub(values.mean(axis=1), axis=0).div(values.std(axis=1), axis=0)
    missing = gaps.loc[incomplete].isna()
    assert z[missing].mean(axis=None) < -0.3
    assert z[~missing].mean(axis=None) > 0.0


@pytest.mark.parametrize("fraction", [0.0, 0.25, 1.0])
def test_make_cohort__missing_fraction_features(fraction):
    table = make_cohort(200, 90, seed=5, missing_fraction_features=fraction)
    assert table.isna().any(axis=1).mean() == pytest.approx(fraction, abs=0.01)


# -- write_tables --------------------------------------------------------------------------


def test_write_tables__cct_round_trip(tmp_path):
    tables = make_pan_cancer(n_features=150, cohorts=("BRCA", "PDAC"), samples=(40, 50))
    paths = write_tables(tables, tmp_path / "out")
    assert paths == {"BRCA": tmp_path / "out" / "BRCA.cct", "PDAC": tmp_path / "out" / "PDAC.cct"}
    for name, path in paths.items():
        header, first = path.read_text().splitlines()[:2]
        assert header.split("\t")[0] == "attrib_name"
        assert header.split("\t")[1:] == list(tables[name].columns)
        back = pd.read_csv(path, sep="\t", index_col=0)
        pd.testing.assert_frame_equal(back.rename_axis(None), tables[name], check_exact=True)
    assert "\tNA" in paths["BRCA"].read_text()


def test_write_tables__unknown_format(tmp_path):
    with pytest.raises(LinkscanError, match="fmt must be 'cct'"):
        write_tables({"BRCA": make_cohort(5, 12, seed=0)}, tmp_path, fmt="parquet")


# -- argument checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cohorts": ("BRCA", "BRCA")}, "unique"),
        ({"samples": (50, 40)}, "samples must be a range"),
        ({"seed": -1}, "non-negative integer"),
        ({"missing_fraction_features": 1.5}, "missing_fraction_features must lie in"),
        ({"n_features": 0}, "must be positive"),
    ],
)
def test_make_pan_cancer__invalid_arguments(kwargs, match):
    with pytest.raises(LinkscanError, match=match):
        make_pan_cancer(**{"n_features": 20, "cohorts": ("BRCA",), **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": -3}, "non-negative integer"),
        ({"seed": 1.5}, "non-negative integer"),
        ({"n_samples": 0}, "must be positive"),
        ({"tie_fraction": -0.1}, "tie_fraction must lie in"),
    ],
)
def test_make_cohort__invalid_arguments(kwargs, match):
    with pytest.raises(LinkscanError, match=match):
        make_cohort(**{"n_features": 20, "n_samples": 30, "seed": 0, **kwargs})


def test_module__validated_when_built():
    with pytest.raises(LinkscanError, match="strength"):
        Module("m", ("A", "B"), 1.0)
    with pytest.raises(LinkscanError, match="twice"):
        Module("m", ("A", "A"), 0.5)
    assert {len(m.genes) for m in MODULES} <= set(range(10, 31)) and DEMO_GENE in MODULES[0].genes


# -- make_gene_page_set --------------------------------------------------------------------

IFN_GENE = "STAT1"  # an interferon module member


@pytest.fixture(scope="module")
def page() -> dict[str, CohortTables]:
    return make_gene_page_set(n_features=N_FEATURES, seed=0)


def _frames(tables: CohortTables) -> dict[str, pd.DataFrame]:
    return {f: getattr(tables, f) for f in ("proteome", "proteome_normal", "rna", "mutation", "clinical", "survival")}


def _stage_index(clinical: pd.DataFrame) -> pd.Series:
    """0..3 for STAGE_LEVELS; unknown labels and NA are NaN."""
    return clinical["stage"].map({label: float(i) for i, label in enumerate(STAGE_LEVELS)})


def _cox_score_z(x: pd.Series, survival: pd.DataFrame) -> float:
    """Score test z of a univariate Cox model at beta = 0 (Breslow ties): > 0 when high x dies sooner."""
    keep = x.notna().to_numpy()
    x, time, event = x.to_numpy()[keep], survival["OS_days"].to_numpy()[keep], survival["OS_event"].to_numpy()[keep]
    at_risk = time[None, :] >= time[:, None]  # row i: the risk set at time i
    n_risk = at_risk.sum(axis=1)
    mean, mean_sq = at_risk @ x / n_risk, at_risk @ x**2 / n_risk
    died = event == 1
    return float(np.sum(x[died] - mean[died]) / np.sqrt(np.sum(mean_sq[died] - mean[died] ** 2)))


def _one_decimal(table: pd.DataFrame) -> pd.Series:
    """Whether each row holds only values with one decimal (the rounded, tied features)."""
    return ((table * 10).round() == table * 10).sum(axis=1) == table.notna().sum(axis=1)


def _two_groups_p(values: pd.Series, group: pd.Series, first: object) -> tuple[float, float]:
    """(median of group `first` - median of the rest, two-sided rank-sum p)."""
    a, b = values[group == first].dropna(), values[group.notna() & (group != first)].dropna()
    return float(a.median() - b.median()), float(mannwhitneyu(a, b).pvalue)


def test_make_gene_page_set__same_arguments_same_tables(page):
    again = make_gene_page_set(n_features=N_FEATURES, seed=0, cohorts=("UCEC", "LUAD"))
    for name in ("UCEC", "LUAD"):  # also: a cohort does not depend on the others requested
        for field, frame in _frames(page[name]).items():
            pd.testing.assert_frame_equal(_frames(again[name])[field], frame, check_exact=True, obj=field)
    other = make_gene_page_set(n_features=N_FEATURES, seed=1, cohorts=("LUAD",))["LUAD"]
    for field, frame in _frames(other).items():
        assert not frame.equals(_frames(page["LUAD"])[field]), field


def test_make_gene_page_set__proteome_is_make_pan_cancer(page):
    pan_tables = make_pan_cancer(n_features=N_FEATURES, seed=0)
    for name in CPTAC_COHORTS:
        pd.testing.assert_frame_equal(page[name].proteome, pan_tables[name], check_exact=True)
    kwargs = {"n_features": 150, "cohorts": ("GBM", "X1"), "samples": (30, 40), "seed": 5, "complete": True}
    for name, tables in make_gene_page_set(**kwargs).items():
        pd.testing.assert_frame_equal(tables.proteome, make_pan_cancer(**kwargs)[name], check_exact=True)
        assert not tables.proteome_normal.isna().any(axis=None)


def test_make_gene_page_set__shapes_and_ids(page):
    every_id = []
    for name, t in page.items():
        tumors = t.proteome.columns
        normals = t.proteome_normal.columns
        n_tumor, n_normal = len(tumors), len(normals)
        lo, hi = NORMAL_SHARE_RANGE
        assert max(MIN_NORMALS, round(lo * n_tumor)) <= n_normal <= round(hi * n_tumor), name
        assert normals.is_unique and all(re.fullmatch(r"C3[LN]-\d{5}", s) for s in normals)
        assert [int(s[4:]) for s in normals] == sorted(int(s[4:]) for s in normals)
        assert {s[4:6] for s in normals} == {tumors[0][4:6]}  # the cohort's block
        paired = set(normals) & set(tumors)
        assert 0.4 * n_normal <= len(paired) < n_normal, name  # paired normals, and unpaired ones
        every_id += list(tumors) + [s for s in normals if s not in paired]
        assert t.proteome_normal.index.equals(t.proteome.index)
        assert list(t.rna.index) == list(make_cohort(N_FEATURES, 12, seed=0, complete=True).index)  # all features
        for frame in (t.rna, t.mutation):
            assert frame.columns.equals(tumors)
        for frame in (t.clinical, t.survival):
            assert frame.index.equals(tumors)
        assert list(t.mutation.index) == list(MUTATION_FREQUENCIES)
        assert list(t.clinical.columns) == list(CLINICAL_TYPES) and t.clinical_types == dict(CLINICAL_TYPES)
        assert t.stage_levels == STAGE_LEVELS
    assert len(set(every_id)) == len(every_id)  # unpaired normals clash with no tumor of any cohort


def test_make_gene_page_set__normal_missingness_like_tumors(page):
    for name, t in page.items():
        tumor, normal = t.proteome, t.proteome_normal
        # The same incomplete features (each misses 5-50 % of the normals) and tied ones.
        pd.testing.assert_series_equal(normal.isna().any(axis=1), tumor.isna().any(axis=1), obj=name)
        share = normal.isna().mean(axis=1)
        assert share.max() <= 0.5 and share[share > 0].min() >= 0.05 - 1e-12
        tied = _one_decimal(tumor)
        assert tied.sum() == round(0.03 * len(tied)), name  # one decimal only in the rounded features
        pd.testing.assert_series_equal(_one_decimal(normal), tied)


def test_make_gene_page_set__value_kinds(page):
    for name, t in page.items():
        assert not t.rna.isna().any(axis=None) and 0.0 <= t.rna.min(axis=None) and t.rna.max(axis=None) <= 15.0
        assert t.rna.dtypes.eq(np.float64).all() and t.proteome_normal.dtypes.eq(np.float64).all()
        frequency = t.mutation.mean(axis=1)
        assert t.mutation.dtypes.eq(np.int64).all() and set(np.unique(t.mutation)) <= {0, 1}
        assert 0.15 <= frequency[MUTATION_DRIVER] <= 0.6 and frequency.max() <= 0.6, name
        survival = t.survival
        assert survival["OS_days"].min() >= 1 and set(survival["OS_event"]) == {0, 1}
        assert 0.25 <= survival["OS_event"].mean() <= 0.55, name
        stage = t.clinical["stage"]
        assert set(stage.dropna()) <= set(STAGE_LEVELS) | set(STAGE_UNKNOWN)
        assert stage.isin(STAGE_UNKNOWN).sum() >= 1 and set(STAGE_LEVELS) <= set(stage)
        assert set(t.clinical["MSI"].dropna()) == set(MSI_LABELS)
        age = t.clinical["age"].dropna()
        assert age.between(25, 90).all() and (age == age.round()).all()
        assert (t.clinical.isna().sum() >= 1).all()  # a few NA in each column
        assert (t.clinical.isna().mean() <= 0.05).all()
    events = pd.concat([t.survival["OS_event"] for t in page.values()])
    assert 0.3 <= events.mean() <= 0.5
    # Unknown stage labels would sort after the known ones, whose sorted order is the declared one.
    assert sorted(STAGE_LEVELS) == list(STAGE_LEVELS)
    assert all(sorted([*STAGE_LEVELS, u])[-1] == u for u in STAGE_UNKNOWN)


# -- planted effects (the constants' docstrings give their sizes) ---------------------------


def test_make_gene_page_set__proliferation_higher_in_tumors(page):
    passed = 0
    for t in page.values():
        tumor, normal = t.proteome.loc[DEMO_GENE].dropna(), t.proteome_normal.loc[DEMO_GENE].dropna()
        passed += tumor.median() > normal.median() and mannwhitneyu(tumor, normal).pvalue < 1e-3
    assert passed >= 8
    # Nothing else is planted: fillers show no tumor-normal difference.
    filler_p = []
    for t in (page["BRCA"], page["OV"]):
        fillers = t.proteome.index.str.startswith(FILLER_PREFIX)
        tumor, normal = t.proteome.loc[fillers].to_numpy(), t.proteome_normal.loc[fillers].to_numpy()
        filler_p.append(mannwhitneyu(tumor, normal, axis=1, nan_policy="omit").pvalue)
    assert np.mean(np.concatenate(filler_p) < 0.05) < 0.09


def test_make_gene_page_set__stage_rises_with_proliferation(page):
    rho = [t.proteome.loc[DEMO_GENE].corr(_stage_index(t.clinical), method="spearman") for t in page.values()]
    assert sum(r > 0.2 for r in rho) >= 8
    null = [t.proteome.loc[DEMO_GENE].corr(t.clinical["age"], method="spearman") for t in page.values()]
    assert abs(np.mean(null)) < 0.1 and np.mean(rho) > 0.25  # age is a null column


def test_make_gene_page_set__driver_mutation_carriers_higher(page):
    driver = [_two_groups_p(t.proteome.loc[DEMO_GENE], t.mutation.loc[MUTATION_DRIVER], 1) for t in page.values()]
    assert sum(shift > 0 and p < 0.01 for shift, p in driver) >= 8
    others = [_two_groups_p(t.proteome.loc[DEMO_GENE], t.mutation.loc["KRAS"], 1)[0] for t in page.values()]
    assert abs(np.mean(others)) < 0.3


def test_make_gene_page_set__msi_goes_with_interferon(page):
    ifn = [_two_groups_p(t.proteome.loc[IFN_GENE], t.clinical["MSI"], MSI_LABELS[0]) for t in page.values()]
    assert sum(shift > 0 and p < 0.01 for shift, p in ifn) >= 8
    prolif = [_two_groups_p(t.proteome.loc[DEMO_GENE], t.clinical["MSI"], MSI_LABELS[0])[1] for t in page.values()]
    assert sum(p < 0.01 for p in prolif) <= 1


def test_make_gene_page_set__hazard_rises_with_proliferation(page):
    z = [_cox_score_z(t.proteome.loc[DEMO_GENE], t.survival) for t in page.values()]
    assert sum(v > 2.0 for v in z) >= 8  # two-sided p < 0.05 with HR > 1
    null = [_cox_score_z(t.clinical["age"], t.survival) for t in page.values()]
    assert np.mean(np.abs(null)) < 1.2


def test_make_gene_page_set__rna_follows_protein_per_gene(page):
    module = next(m for m in MODULES if DEMO_GENE in m.genes)
    lo, hi = CIS_RHO_RANGE
    mates = []
    for name, t in page.items():
        rna = t.rna.loc[t.proteome.index]
        cis = _rowwise_spearman(t.proteome, rna.to_numpy())
        assert cis[list(module.genes)].median() > 0.3 and (cis[list(module.genes)] > 0.2).mean() > 0.8, name
        assert lo < cis.median() < hi, name
        mates.append(rna.loc[list(module.genes)].T.corr(method="spearman").loc[DEMO_GENE].drop(DEMO_GENE).median())
    # RNA carries the modules, weakly: mates correlate about rho_i rho_j lambda_i lambda_j, ~0.2.
    assert 0.1 < np.median(mates) < 0.3


# -- write_gene_page_tables ----------------------------------------------------------------


def test_write_gene_page_tables__round_trip(tmp_path):
    tables = make_gene_page_set(n_features=150, cohorts=("BRCA", "OV"), samples=(40, 50))
    paths = write_gene_page_tables(tables, tmp_path / "out")
    assert list(paths) == ["BRCA", "OV"]
    for name, files in paths.items():
        assert files == {f: tmp_path / "out" / name / file for f, file in GENE_PAGE_FILES.items()}
        for field, frame in _frames(tables[name]).items():
            back = pd.read_csv(files[field], sep="\t", index_col=0)
            pd.testing.assert_frame_equal(back.rename_axis(None), frame, check_exact=True, obj=field)
        types = pd.read_csv(files["clinical_types"], sep="\t", index_col=0)
        assert types.index.name == "variable" and types["type"].to_dict() == tables[name].clinical_types
        text = {f: files[f].read_text().splitlines()[0].split("\t")[0] for f in ("mutation", "clinical", "survival")}
        assert text == {"mutation": "attrib_name", "clinical": "sample_id", "survival": "sample_id"}
        assert set(files["mutation"].read_text().split("\n")[1].split("\t")[1:]) <= {"0", "1"}
    assert "\tNA" in paths["BRCA"]["clinical"].read_text()
    with pytest.raises(LinkscanError, match="cannot be file names"):
        write_gene_page_tables({"a/b": tables["BRCA"]}, tmp_path)


def test_cohort_tables__validated_when_built(page):
    t = page["OV"]
    fields = {f: getattr(t, f) for f in CohortTables.__dataclass_fields__}
    with pytest.raises(LinkscanError, match="survival: rows must be the proteome's tumor samples"):
        CohortTables(**{**fields, "survival": t.survival.iloc[::-1]})
    with pytest.raises(LinkscanError, match="clinical_types must give a type"):
        CohortTables(**{**fields, "clinical_types": {"stage": "ORD"}})
