"""Group tests (kernels/groups.py): Jonckheere-Terpstra and one-way ANOVA."""

from fractions import Fraction
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
import scipy.special as sc
import scipy.stats as st

from linkscan.kernels import groups as gr
from linkscan.kernels.groups import anova_block, jt_block
from linkscan.kernels.pvalues import signed_log10p
from linkscan.kernels.spearman import spearman_block

from rref import R_DIR, fmt_vec, read_tsv, run_r, vec

R_SCRIPT = R_DIR / "groups_reference.R"
R_TABLE = R_DIR / "groups_reference.tsv"


# ------------------------------------------------------------------ helpers


def _grouped_block(rng, nf, s, nlev, *, frac_missing=0.3, frac_unlabelled=0.05):
    """Features x samples with a trend over the level codes of varying strength and sign,
    ties in some features, missing values in some, and unlabelled samples (-1)."""
    level = rng.integers(0, nlev, s)
    level[rng.random(s) < frac_unlabelled] = -1
    shift = rng.uniform(-1.0, 1.0, size=(nf, 1))
    x = shift * np.maximum(level, 0)[None, :] + rng.normal(size=(nf, s))
    x[::4] = np.round(x[::4])  # heavy ties
    x[1::6] = np.round(x[1::6], 1)  # light ties
    for f in np.flatnonzero(rng.random(nf) < frac_missing):
        x[f, rng.random(s) < rng.uniform(0.05, 0.4)] = np.nan
    return x, level


def _used(x, level):
    m = np.isfinite(x) & (level >= 0)
    return x[m], level[m]


def _same_bytes(r1, r2):
    return all(np.asarray(u).tobytes() == np.asarray(v).tobytes() for u, v in zip(r1, r2))


def _brute_j(v, g):
    """Textbook J by direct pair counting: level-j values above level-i values (i < j),
    ties 1/2."""
    j = 0.0
    for a in range(len(v)):
        for b in range(len(v)):
            if g[a] < g[b]:
                j += 1.0 if v[b] > v[a] else 0.5 if v[b] == v[a] else 0.0
    return j


def _codes(text):
    return np.array([-1 if v == "NA" else int(float(v)) for v in text.split(",")], dtype=np.int64)


def _fmt_codes(g):
    return ",".join("NA" if a < 0 else str(int(a)) for a in g)


def _num(text):
    return math.nan if text == "NA" else float(text)


def _check_against_r(rows, xs, gs):
    """Compare JT (statistic, z, p, effect) and ANOVA (F, p) with R's output rows;
    returns the number of JT and of ANOVA results checked."""
    n_jt = n_av = 0
    for row, x, g in zip(rows, xs, gs):
        case = row["case"]
        eff, n, logp, jstat, z = gr._jt_block(x[None], g, 2)
        fstat, n_f, logp_f = anova_block(x[None], g, min_n=2)
        if row["z"] == "NA":  # R: no JT result (single level or constant values)
            assert n[0] == 0 and np.isnan(eff[0]) and np.isnan(logp[0]), case
            assert n_f[0] == 0 and np.isnan(fstat[0]) and np.isnan(logp_f[0]), case
            continue
        assert n[0] == int(row["n"]), case
        v, lv = _used(x, g)
        sizes = np.bincount(lv)
        pairs = (sizes.sum() ** 2 - (sizes**2).sum()) / 2
        # SAGx's U counts the other direction: J = sum_{i<j} n_i n_j - U
        assert jstat[0] == pairs - float(row["U"]), case
        assert z[0] == pytest.approx(float(row["z"]), rel=1e-12, abs=1e-13), case
        p = math.exp(logp[0])
        p_jt = float(row["p_jt"])
        if p_jt > 1e-300:
            assert p == pytest.approx(p_jt, rel=1e-9), case
        # SAGx's own 2 * pmin(ps, 1 - ps): the same up to the rounding of 1 - ps
        assert abs(p - float(row["p_sagx"])) <= 1e-9 * p + 5e-16, case
        assert eff[0] == pytest.approx(float(row["rho"]), abs=1e-12), case
        n_jt += 1
        if row["F"] == "NA":  # constant within every level
            assert n_f[0] == 0 and np.isnan(fstat[0]) and np.isnan(logp_f[0]), case
            continue
        assert n_f[0] == int(row["n"]), case
        assert fstat[0] == pytest.approx(float(row["F"]), rel=1e-9), case
        p_f = float(row["p_F"])
        if p_f > 1e-300:
            assert math.exp(logp_f[0]) == pytest.approx(p_f, rel=1e-9), case
        n_av += 1
    return n_jt, n_av


# ------------------------------------------------------------------ JT statistic


def test_jt_block__statistic_matches_pair_count(rng):
    x, level = _grouped_block(rng, 40, 60, 4)
    _, n, _, jstat, z = gr._jt_block(x, level, 20)
    checked = 0
    for f in range(x.shape[0]):
        v, g = _used(x[f], level)
        if n[f] == 0:
            continue
        assert jstat[f] == _brute_j(v, g)
        sizes = np.bincount(g).astype(object)
        nn = int(sizes.sum())
        mean = Fraction(nn * nn - int((sizes**2).sum()), 4)
        var = Fraction(nn * nn * (2 * nn + 3) - int((sizes**2 * (2 * sizes + 3)).sum()), 72)
        ref = float(Fraction(jstat[f]) - mean) / math.sqrt(var)
        assert z[f] == pytest.approx(ref, rel=1e-13, abs=1e-15)
        checked += 1
    assert checked > 30


def test_jt_block__effect_matches_scipy_spearmanr(rng):
    x, level = _grouped_block(rng, 200, 80, 5)
    effect, n, logp = jt_block(x, level)
    assert effect.dtype == np.float64 and n.dtype == np.int32 and logp.dtype == np.float64
    checked = 0
    for f in range(x.shape[0]):
        v, g = _used(x[f], level)
        if v.size < 20 or np.ptp(v) == 0:
            assert n[f] == 0 and np.isnan(effect[f]) and np.isnan(logp[f])
            continue
        assert n[f] == v.size
        assert abs(effect[f] - st.spearmanr(v, g).statistic) <= 1e-12
        checked += 1
    assert checked > 150
    # and bit-identical to the Spearman kernel on the level code
    code = np.where(level >= 0, level, np.nan).astype(np.float64)
    rho = spearman_block(x, code[None], min_n=20)[0][:, 0]
    assert rho.tobytes() == effect.tobytes()


def test_jt_block__matches_stored_r_reference():
    rows = read_tsv(R_TABLE)
    assert len(rows) > 300
    n_jt, n_av = _check_against_r(rows, [vec(r["x"]) for r in rows],
                                  [_codes(r["g"]) for r in rows])
    assert n_jt > 300 and n_av > 300
    kinds = {r["case"].split("_")[0] for r in rows}
    assert {"clean", "ties", "na", "unbalanced", "gap", "single", "constant", "within"} <= kinds
    # the reference's tail cancellation is covered: SAGx gives 0 where p is not
    assert any(r["p_sagx"] == "0" and float(r["p_jt"]) > 0 for r in rows)


@pytest.mark.rlang
def test_jt_block__matches_live_rscript(rscript, rng, tmp_path):
    cases = []
    for k in range(120):
        n = int(rng.integers(20, 300))
        nlev = int(rng.integers(2, 7))
        g = rng.integers(0, nlev, n)
        x = rng.uniform(-1.0, 1.0) * g + rng.normal(size=n)
        kind = k % 4
        if kind == 1:
            x = np.round(x * 1.5)
        elif kind == 2:
            x[rng.random(n) < 0.1] = np.nan
            g[rng.random(n) < 0.1] = -1
        elif kind == 3:
            g[g == 1] = 0  # a level code without samples
        cases.append((f"live{k}", x, g))
    rows = run_r(rscript, R_SCRIPT, ["case", "x", "g"],
                 [[name, fmt_vec(x), _fmt_codes(g)] for name, x, g in cases], tmp_path)
    n_jt, n_av = _check_against_r(rows, [c[1] for c in cases], [c[2] for c in cases])
    assert n_jt >= 110 and n_av >= 110


# ------------------------------------------------------------------ ANOVA


def test_anova_block__matches_scipy_f_oneway(rng):
    x, level = _grouped_block(rng, 150, 70, 4)
    fstat, n, logp = anova_block(x, level)
    assert fstat.dtype == np.float64 and n.dtype == np.int32 and logp.dtype == np.float64
    checked = 0
    for f in range(x.shape[0]):
        v, g = _used(x[f], level)
        groups = [v[g == i] for i in np.unique(g)]
        if v.size < 20 or all(np.ptp(a) == 0 for a in groups):
            assert n[f] == 0 and np.isnan(fstat[f]) and np.isnan(logp[f])
            continue
        ref = st.f_oneway(*groups)
        assert n[f] == v.size
        assert fstat[f] == pytest.approx(ref.statistic, rel=1e-9)
        assert math.exp(logp[f]) == pytest.approx(ref.pvalue, rel=1e-9)
        checked += 1
    assert checked > 100
    assert (signed_log10p(fstat, logp)[n > 0] >= 0).all()  # unsigned: sign +


# ------------------------------------------------------------------ edge cases


@pytest.mark.parametrize("kernel", [jt_block, anova_block])
def test_groups__no_result_cases(kernel, rng):
    s = 40
    level = np.repeat([0, 1, 2, 3], 10)
    x = np.vstack([
        np.full(s, 2.5),  # all values tied
        rng.normal(size=s),  # fine
        np.where(level == 1, rng.normal(size=s), np.nan),  # values in a single level
        np.r_[rng.normal(size=19), np.full(s - 19, np.nan)],  # n = 19 < min_n
        np.full(s, np.nan),  # all missing
    ])
    stat, n, logp = kernel(x, level)
    assert list(n) == [0, s, 0, 0, 0]
    assert np.isnan(stat[[0, 2, 3, 4]]).all() and np.isnan(logp[[0, 2, 3, 4]]).all()
    assert np.isfinite(stat[1]) and np.isfinite(logp[1])
    # a phenotype with a single level, or no labels at all
    for lv in (np.zeros(s, dtype=np.int64), np.full(s, -1), np.where(level == 2, 2, -1)):
        stat, n, logp = kernel(x, lv)
        assert (n == 0).all() and np.isnan(stat).all() and np.isnan(logp).all()
    stat, n, logp = kernel(np.empty((0, s)), level)
    assert stat.shape == n.shape == logp.shape == (0,)


def test_groups__constant_within_levels(rng):
    level = np.repeat([0, 1, 2], 10)
    x = np.array([1.0, 5.0, 9.0])[level][None] + 0.0
    # JT: a perfect trend (J at its maximum); ANOVA: SS_W = 0, F undefined -> no result
    effect, n, logp = jt_block(x, level)
    assert n[0] == 30 and effect[0] == 1.0 and np.isfinite(logp[0])
    fstat, n, logp = anova_block(x, level)
    assert n[0] == 0 and np.isnan(fstat[0]) and np.isnan(logp[0])
    x[0, 0] = 1.5  # one value differs: a result again
    fstat, n, logp = anova_block(x, level)
    assert n[0] == 30 and fstat[0] > 1000.0 and np.isfinite(logp[0])


@pytest.mark.parametrize("kernel", [jt_block, anova_block])
def test_groups__min_n(kernel, rng):
    level = np.arange(30) % 3
    x = rng.normal(size=(1, 30)) + level
    x20, x19 = x.copy(), x.copy()
    x20[0, 20:] = np.nan
    x19[0, 19:] = np.nan
    assert kernel(x20, level)[1][0] == 20
    assert kernel(x19, level)[1][0] == 0
    assert kernel(x19, level, min_n=19)[1][0] == 19
    assert kernel(x, level, min_n=31)[1][0] == 0  # fewer samples than min_n
    for bad in (1, 0, 2.5, True, None):
        with pytest.raises(ValueError, match="min_n"):
            kernel(x, level, min_n=bad)


@pytest.mark.parametrize("kernel", [gr._jt_block, anova_block])
def test_groups__missing_and_unlabelled_are_dropped(kernel, rng):
    x, level = _grouped_block(rng, 30, 50, 4, frac_missing=0.5, frac_unlabelled=0.15)
    x[3, :5] = [np.inf, -np.inf, np.inf, np.nan, -np.inf]
    args = (20,) if kernel is gr._jt_block else ()
    full = kernel(x, level, *args)
    for f in range(x.shape[0]):
        keep = np.isfinite(x[f]) & (level >= 0)
        one = kernel(x[f, keep][None], level[keep], *args)
        assert _same_bytes([a[f:f + 1] for a in full], one)


@pytest.mark.parametrize("kernel", [gr._jt_block, anova_block])
def test_groups__empty_level_drops_out(kernel, rng):
    # codes 0, 2, 5 used out of 0..5: the same as codes 0, 1, 2 (order kept)
    x, level = _grouped_block(rng, 25, 45, 3)
    sparse = np.array([0, 2, 5])[np.maximum(level, 0)]
    sparse[level < 0] = -1
    args = (20,) if kernel is gr._jt_block else ()
    assert _same_bytes(kernel(x, sparse, *args), kernel(x, level, *args))


@pytest.mark.parametrize("kernel", [gr._jt_block, anova_block])
def test_groups__block_split_and_dtype_invariant(kernel, rng, monkeypatch):
    x, level = _grouped_block(rng, 90, 60, 4)
    x = x.astype(np.float32)
    args = (20,) if kernel is gr._jt_block else ()
    full = kernel(x, level, *args)
    parts = [kernel(x[a:b], level, *args) for a, b in ((0, 1), (1, 40), (40, 90))]
    assert _same_bytes(full, [np.concatenate(p) for p in zip(*parts)])
    assert _same_bytes(full, kernel(x.astype(np.float64), level.astype(np.int8), *args))
    half = x.astype(np.float16)  # numba has no float16: converted to float64
    assert _same_bytes(kernel(half, level, *args), kernel(half.astype(np.float64), level, *args))
    monkeypatch.setattr(gr, "_CHUNK", 7)  # jt_block's internal chunks of features
    assert _same_bytes(full, kernel(x, level, *args))


def test_groups__input_validation(rng):
    x = rng.normal(size=(2, 30))
    level = np.arange(30) % 3
    for kernel in (jt_block, anova_block):
        with pytest.raises(ValueError, match="2-D"):
            kernel(x[0], level)
        with pytest.raises(ValueError, match="one code per sample"):
            kernel(x, level[:-1])
        with pytest.raises(ValueError, match="integer codes"):
            kernel(x, level.astype(np.float64))
        with pytest.raises(ValueError, match="integer codes"):
            kernel(x, level > 0)
        with pytest.raises(ValueError, match=">= -1"):
            kernel(x, level - 2)


def test_jt_block__extreme_separation_stays_finite():
    # two perfectly separated levels of 2000: z is about 51, p about 1e-560
    n_i = 2000
    level = np.repeat([0, 1], n_i)
    x = np.arange(2.0 * n_i)[None]
    effect, n, logp = jt_block(x, level)
    nn = 2 * n_i
    mean = Fraction(nn * nn - 2 * n_i * n_i, 4)
    var = Fraction(nn * nn * (2 * nn + 3) - 2 * n_i * n_i * (2 * n_i + 3), 72)
    z = float(Fraction(n_i * n_i) - mean) / math.sqrt(var)
    ref = math.log(2.0) + sc.log_ndtr(-z)
    assert z > 50 and ref < math.log(1e-300)
    assert np.isfinite(logp[0]) and logp[0] == pytest.approx(ref, rel=1e-12)
    assert effect[0] > 0.86
    _, _, logp_rev = jt_block(-x, level)  # decreasing: same p
    assert logp_rev[0] == logp[0]


def test_anova_block__extreme_separation_stays_finite(rng):
    level = np.repeat([0, 1, 2], 50)
    x = (np.array([0.0, 10.0, 20.0])[level] + 0.01 * rng.normal(size=150))[None]
    fstat, n, logp = anova_block(x, level)
    assert np.isfinite(logp[0]) and logp[0] < math.log(1e-300)
    with mpmath.workdps(50):
        v = [mpmath.mpf(float(a)) for a in x[0]]
        means = [mpmath.fsum(v[k] for k in range(150) if level[k] == g) / 50 for g in range(3)]
        grand = mpmath.fsum(v) / 150
        ssw = mpmath.fsum((v[k] - means[level[k]]) ** 2 for k in range(150))
        ssb = 50 * mpmath.fsum((m - grand) ** 2 for m in means)
        ref_f = (ssb / 2) / (ssw / 147)
        ref = mpmath.log(mpmath.betainc(mpmath.mpf(147) / 2, 1, 0, ssw / (ssw + ssb),
                                        regularized=True))
    assert fstat[0] == pytest.approx(float(ref_f), rel=1e-10)
    assert logp[0] == pytest.approx(float(ref), rel=1e-10)
