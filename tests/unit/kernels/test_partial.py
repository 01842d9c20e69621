"""Partial Spearman kernel (kernels/partial.py), checked against pingouin.partial_corr.

pingouin is the reference (R's ppcor, which pingouin is tested against, is not packaged
in Debian): it drops the rows with a missing value among x, y and the covariates (the
pair's overlap), ranks every column there and takes the partial correlation from the
inverse covariance matrix, with a t test on n - 2 - k degrees of freedom.
"""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st

from linkscan.kernels import partial as pk
from linkscan.kernels.partial import partial_spearman_block
from linkscan.kernels.spearman import spearman_block


# ------------------------------------------------------------------ helpers


def _dataset(rng, nx, ny, s, n_numeric, categorical, *, frac_missing=0.4, z_missing=0.05):
    """x (nx, s), y (ny, s) with ties and missing values, related to the covariates;
    z (s, k): n_numeric numeric columns (the first rounded: ties), then, if categorical,
    two one-hot columns of a three-level factor (level 0 the reference); rank_z."""
    cols = []
    for c in range(n_numeric):
        v = rng.normal(size=s)
        cols.append(np.round(v, 1) if c == 0 else v)
    rank_z = [True] * n_numeric
    if categorical:
        level = rng.choice(3, size=s, p=[0.4, 0.35, 0.25]).astype(float)
        cols += [(level == 1).astype(float), (level == 2).astype(float)]
        rank_z += [False, False]
    z = np.column_stack(cols) if cols else np.empty((s, 0))
    for c in range(z.shape[1]):
        z[rng.random(s) < z_missing, c] = np.nan
    if categorical:  # a missing category is missing in every one-hot column
        gone = np.isnan(z[:, -2:]).any(axis=1)
        z[gone, -2:] = np.nan
    drive = np.nan_to_num(z) @ rng.normal(size=z.shape[1]) if z.shape[1] else np.zeros(s)
    shared = rng.normal(size=s)

    def block(nf):
        a = (rng.uniform(0.0, 1.5, size=(nf, 1)) * drive
             + rng.uniform(-1.0, 1.0, size=(nf, 1)) * shared + rng.normal(size=(nf, s)))
        a[::3] = np.round(a[::3] * 2.0)  # heavy ties
        a[1::4] = np.round(a[1::4], 1)  # light ties
        for f in np.flatnonzero(rng.random(nf) < frac_missing):
            a[f, rng.random(s) < rng.uniform(0.05, 0.4)] = np.nan
        return a

    return block(nx), block(ny), z, np.array(rank_z, dtype=bool)


def _same_bits(r1, r2):
    return all(np.asarray(u).tobytes() == np.asarray(v).tobytes() for u, v in zip(r1, r2))


def _ref_t_p(r, df):
    """Two-sided t-test p of a correlation on df degrees of freedom (scipy)."""
    return 2.0 * st.t.sf(abs(r) * math.sqrt(df / (1.0 - r * r)), df)


def _pingouin(xv, yv, z):
    """pingouin's partial Spearman of x and y given the columns of z (a pandas Series)."""
    pg = pytest.importorskip("pingouin")  # in the test extra; only these tests need it
    cov = [f"c{c}" for c in range(z.shape[1])]
    data = pd.DataFrame({"x": xv, "y": yv, **{c: z[:, k] for k, c in enumerate(cov)}})
    return pg.partial_corr(data=data, x="x", y="y", covar=cov, method="spearman").iloc[0]


# ------------------------------------------------------------------ against pingouin


@pytest.mark.parametrize("s, n_numeric, categorical", [
    (14, 1, False),  # overlaps around the minimum n = 11
    (16, 2, False),
    (18, 1, True),   # k = 3 with the factor
    (40, 3, False),
    (60, 2, True),
    (150, 3, True),
])
def test_partial_spearman_block__matches_pingouin(rng, s, n_numeric, categorical):
    x, y, z, rank_z = _dataset(rng, 12, 10, s, n_numeric, categorical)
    r8, n8, lp8 = partial_spearman_block(x, y, z, rank_z=rank_z)
    r1, n1, lp1 = partial_spearman_block(x, y, z, rank_z=rank_z, min_df=1)
    # the minimum only removes results: where df >= 8 the same bits as with min_df = 1
    kept = n8 > 0
    assert _same_bits((r8[kept], n8[kept], lp8[kept]), (r1[kept], n1[kept], lp1[kept]))
    k_all = z.shape[1]
    z_ok = np.isfinite(z).all(axis=1)
    compared = at_minimum = 0
    max_dr = max_dp = 0.0
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            ov = z_ok & np.isfinite(x[i]) & np.isfinite(y[j])
            n = int(ov.sum())
            df = n - 2 - k_all
            if categorical:
                lv = z[ov, -2:]
                # a level absent from the overlap: k < k_all (test_..._constant_one_hot)
                if df < 1 or lv[:, 0].min() == lv[:, 0].max() or lv[:, 1].min() == lv[:, 1].max() \
                        or not (lv.sum(axis=1) == 0).any():
                    continue
            if df < 1:
                assert n1[i, j] == 0 and n8[i, j] == 0
                continue
            ref = _pingouin(x[i], y[j], z)
            assert ref["n"] == n
            if np.isnan(ref["r"]):  # x or y constant on the overlap
                assert n1[i, j] == 0 and np.isnan(r1[i, j]) and np.isnan(lp1[i, j])
                continue
            # pingouin's own convention: a t test on n - 2 - k degrees of freedom
            assert ref["p_val"] == pytest.approx(_ref_t_p(ref["r"], df), rel=1e-12)
            assert n1[i, j] == n
            dr = abs(r1[i, j] - ref["r"])
            dp = abs(math.exp(lp1[i, j]) / ref["p_val"] - 1.0)
            assert dr <= 1e-9, (i, j)
            assert dp <= 1e-9, (i, j)
            max_dr, max_dp = max(max_dr, dr), max(max_dp, dp)
            assert (n8[i, j] > 0) == (df >= 8)
            at_minimum += df == 8
            compared += 1
    print(f"s={s} k={k_all}: {compared} pairs, max |dr| {max_dr:.2e}, max rel dp {max_dp:.2e}")
    assert compared >= 60
    if s <= 18:
        assert at_minimum > 0  # the boundary df = 8 is among the compared pairs


def test_partial_spearman_block__one_hot_ranked_or_not_same_span(rng):
    """pingouin ranks the one-hot columns too: ranking a 0/1 column on the overlap maps
    it to two other values, the same span with the intercept."""
    x, y, z, rank_z = _dataset(rng, 15, 12, 50, 2, True)
    a = partial_spearman_block(x, y, z, rank_z=rank_z)
    b = partial_spearman_block(x, y, z)  # every column ranked
    assert np.array_equal(a[1], b[1]) and (a[1] > 0).sum() > 100
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(a[2], b[2], rtol=1e-10)


def test_partial_spearman_block__large_effects_match_pingouin(rng):
    """Far tails (p down to ~1e-42) and strong negative and positive partial effects."""
    s = 120
    z = rng.normal(size=(s, 2))
    base = rng.normal(size=s)
    x = np.stack([base + w * rng.normal(size=s) + z[:, 0] for w in (0.05, 0.2, 0.6)])
    y = np.stack([base + 0.1 * rng.normal(size=s) - z[:, 1], -base + 0.3 * rng.normal(size=s)])
    x[1, :7] = np.nan
    r, n, lp = partial_spearman_block(x, y, z)
    for i in range(3):
        for j in range(2):
            ref = _pingouin(x[i], y[j], z)
            assert n[i, j] == ref["n"]
            assert abs(r[i, j] - ref["r"]) <= 1e-9
            assert math.exp(lp[i, j]) == pytest.approx(ref["p_val"], rel=1e-9)
    assert lp.min() < math.log(1e-40)


# ------------------------------------------------------------------ k = 0


@pytest.mark.parametrize("self_scan", [False, True])
def test_partial_spearman_block__without_covariates_is_spearman(rng, self_scan):
    x, y, _, _ = _dataset(rng, 40, 30, 35, 0, False)
    y[3] = 2.0  # constant
    x[5, 9:] = np.nan  # overlap of 9: below the minimum (n = 10, df = 8)
    if self_scan:
        y = None
    r, n, lp = partial_spearman_block(x, y, np.empty((35, 0)))
    rho, n_sp, lp_sp = spearman_block(x, y, min_n=10, p_mode="t")
    assert np.array_equal(n, n_sp) and (n > 0).sum() > 500 and (n == 0).sum() > 10
    assert np.array_equal(np.isnan(r), np.isnan(rho))
    ok = n > 0
    np.testing.assert_allclose(r[ok], rho[ok], rtol=0, atol=1e-12)
    np.testing.assert_allclose(lp[ok], lp_sp[ok], rtol=1e-12, atol=0)


# ------------------------------------------------------------------ determinism


@pytest.mark.parametrize("categorical", [False, True])
def test_partial_spearman_block__path_and_split_independent(rng, categorical):
    """Every pair the same bits whichever path computes it (complete-feature dot
    product or per-pair overlap), row by row, in column blocks, and transposed."""
    x, y, z, rank_z = _dataset(rng, 30, 25, 45, 2, categorical, frac_missing=0.4)
    whole = partial_spearman_block(x, y, z, rank_z=rank_z)
    z_ok = np.isfinite(z).all(axis=1)
    cx = np.isfinite(x[:, z_ok]).all(axis=1)
    cy = np.isfinite(y[:, z_ok]).all(axis=1)
    assert cx.sum() > 5 and (~cx).sum() > 5 and cy.sum() > 5 and (~cy).sum() > 5
    assert (whole[1] > 0).sum() > 500
    forced = pk._partial_spearman_block(x, y, z, rank_z, 8, True)
    assert _same_bits(whole, forced)
    rows = [partial_spearman_block(x[i:i + 1], y, z, rank_z=rank_z) for i in range(x.shape[0])]
    assert _same_bits(whole, [np.concatenate([p[t] for p in rows]) for t in range(3)])
    parts = [partial_spearman_block(x, y[a:b], z, rank_z=rank_z) for a, b in ((0, 7), (7, 25))]
    assert _same_bits(whole, [np.concatenate([p[t] for p in parts], axis=1) for t in range(3)])
    swapped = partial_spearman_block(y, x, z, rank_z=rank_z)
    assert _same_bits(whole, [a.T for a in swapped])
    # self-scan: exactly symmetric, the same bits as x against itself and as each block
    both = np.concatenate([x, y])
    self_ = partial_spearman_block(both, None, z, rank_z=rank_z)
    assert _same_bits(self_, partial_spearman_block(both, both, z, rank_z=rank_z))
    assert _same_bits(self_, pk._partial_spearman_block(both, None, z, rank_z, 8, True))
    assert _same_bits(self_, [a.T for a in self_])
    assert _same_bits([a[:30, 30:] for a in self_], whole)


def test_partial_spearman_block__extra_missing_sample_does_not_change_a_complete_pair(rng):
    """(a, b) complete: the dot-product path. Add a sample where a is missing: the same
    overlap, now computed on its own; the result must be bit-identical."""
    s = 60
    x, y, z, rank_z = _dataset(rng, 4, 5, s, 2, True, frac_missing=0.0, z_missing=0.0)
    before = partial_spearman_block(x, y, z, rank_z=rank_z)
    x2 = np.column_stack([x[:, :20], np.full((4, 1), np.nan), x[:, 20:]])
    x2[1:, 20] = 0.3
    y2 = np.column_stack([y[:, :20], rng.normal(size=(5, 1)), y[:, 20:]])
    z2 = np.vstack([z[:20], [[0.5, -1.0, 0.0, 1.0]], z[20:]])
    after = partial_spearman_block(x2, y2, z2, rank_z=rank_z)
    assert (before[1] == s).all()
    assert _same_bits([a[0] for a in before], [a[0] for a in after])
    assert (after[1][1:] == s + 1).all()


def test_partial_spearman_block__missing_covariate_drops_the_sample(rng):
    x, y, z, rank_z = _dataset(rng, 8, 6, 40, 2, False, z_missing=0.0)
    z_miss = z.copy()
    z_miss[[3, 17], 1] = np.nan
    z_miss[25, 0] = np.inf
    keep = np.ones(40, dtype=bool)
    keep[[3, 17, 25]] = False
    x_inf = x.copy()
    x_inf[2, 5] = np.inf  # infinite values are missing too
    x_nan = x.copy()
    x_nan[2, 5] = np.nan
    got = partial_spearman_block(x_inf, y, z_miss, rank_z=rank_z)
    assert _same_bits(got, partial_spearman_block(x_nan[:, keep], y[:, keep], z[keep]))
    assert got[1].max() <= 37


def test_partial_spearman_block__float32_same_as_float64(rng):
    x, y, z, rank_z = _dataset(rng, 10, 8, 40, 2, True)
    x32 = x.astype(np.float32)
    assert _same_bits(partial_spearman_block(x32, y, z, rank_z=rank_z),
                      partial_spearman_block(x32.astype(np.float64), y, z, rank_z=rank_z))


def test_partial_spearman_block__sample_order_invariant(rng):
    x, y, z, rank_z = _dataset(rng, 15, 12, 50, 3, True)
    perm = rng.permutation(50)
    a = partial_spearman_block(x, y, z, rank_z=rank_z)
    b = partial_spearman_block(x[:, perm], y[:, perm], z[perm], rank_z=rank_z)
    assert np.array_equal(a[1], b[1]) and (a[1] > 0).sum() > 100
    ok = a[1] > 0
    np.testing.assert_allclose(a[0][ok], b[0][ok], rtol=0, atol=1e-13)
    np.testing.assert_allclose(a[2][ok], b[2][ok], rtol=1e-11)


# ------------------------------------------------------------------ properties


@pytest.mark.parametrize("rank_it", [True, False])
def test_partial_spearman_block__covariate_equal_to_x_ranks_gives_no_result(rng, rank_it):
    s = 40
    x = rng.normal(size=(3, s))
    x[1] = np.round(x[1])  # ties
    y = rng.normal(size=(4, s))
    z = np.column_stack([st.rankdata(x[1]), rng.normal(size=s)])
    r, n, lp = partial_spearman_block(x, y, z, rank_z=[rank_it, True])
    assert (n[1] == 0).all() and np.isnan(r[1]).all() and np.isnan(lp[1]).all()
    assert (n[[0, 2]] == s).all() and np.isfinite(lp[[0, 2]]).all()
    # on an overlap it is still x's ranks up to order: ranked there, again no result
    y[:, :6] = np.nan
    r, n, lp = partial_spearman_block(x, y, z, rank_z=[True, True])
    assert (n[1] == 0).all() and (n[[0, 2]] == s - 6).all()


def test_partial_spearman_block__min_df_boundary(rng):
    s = 20
    x = rng.normal(size=(2, s))
    y = rng.normal(size=(2, s))
    x[1, :3] = np.nan  # overlap 17 for row 1
    z = rng.normal(size=(s, 3))
    for min_df, expect in ((15, [s, 0]), (12, [s, s - 3]), (13, [s, 0]), (16, [0, 0])):
        n = partial_spearman_block(x, y, z, min_df=min_df)[1]
        assert (n == np.array(expect)[:, None]).all(), min_df
    # a covariate linearly dependent on the others (and the intercept) is not counted
    # (columns used as they are: ranks would not be linear combinations)
    z_dep = np.column_stack([z, 2.0 * z[:, 0] - z[:, 2] + 1.0])
    r, n, lp = partial_spearman_block(x, y, z_dep, rank_z=[False] * 4, min_df=15)
    assert (n[0] == s).all()
    r3 = partial_spearman_block(x, y, z, rank_z=[False] * 3, min_df=15)[0]
    np.testing.assert_allclose(r, r3, rtol=0, atol=1e-12)
    ref_p = [_ref_t_p(r[0, j], s - 5) for j in range(2)]
    np.testing.assert_allclose(np.exp(lp[0]), ref_p, rtol=1e-10)


def test_partial_spearman_block__constant_one_hot_column_is_not_counted(rng):
    """A level present only where x is missing: its one-hot column is constant on the
    pair's overlap. It changes nothing (the same bits as without the column) but k."""
    s = 40
    x = rng.normal(size=(2, s))
    y = rng.normal(size=(3, s)) + x[0]
    level = np.tile([0.0, 1.0, 2.0, 1.0, 0.0], 8)
    level[:4] = 3.0  # level 3 only on samples 0-3
    x[0, :4] = np.nan
    num = rng.normal(size=s)
    onehot = np.column_stack([level == v for v in (1.0, 2.0, 3.0)]).astype(float)
    z = np.column_stack([num, onehot])
    rank_z = [True, False, False, False]
    r, n, lp = partial_spearman_block(x, y, z, rank_z=rank_z)
    r3, n3, lp3 = partial_spearman_block(x, y, z[:, :3], rank_z=rank_z[:3])
    assert _same_bits((r[0], n[0], lp[0]), (r3[0], n3[0], lp3[0]))
    assert (n[0] == s - 4).all()
    for j in range(3):
        # k = 3 on the overlap: the t test on n - 5 degrees of freedom, as pingouin
        # computes it without the column
        assert math.exp(lp[0, j]) == pytest.approx(_ref_t_p(r[0, j], s - 4 - 5), rel=1e-10)
        ref = _pingouin(x[0], y[j], z[:, :3])
        assert abs(r[0, j] - ref["r"]) <= 1e-12
        assert math.exp(lp[0, j]) == pytest.approx(ref["p_val"], rel=1e-10)
    # for x[1] (complete) level 3 is there: k = 4, and the column matters
    assert (n[1] == s).all()
    assert math.exp(lp[1, 0]) == pytest.approx(_ref_t_p(r[1, 0], s - 6), rel=1e-10)
    assert abs(r[1, 0] - _pingouin(x[1], y[0], z)["r"]) <= 1e-12
    # a complete one-hot set (no reference level left out): the last column is the
    # intercept minus the others, not counted; the same as leaving level 0 out
    full = np.column_stack([num, level == 0.0, onehot]).astype(float)
    rf, nf, lpf = partial_spearman_block(x, y, full, rank_z=[True] + [False] * 4)
    assert np.array_equal(nf, n)
    np.testing.assert_allclose(rf, r, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lpf, lp, rtol=1e-11)


def test_partial_spearman_block__perfect_correlation():
    s = 30
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1, s))
    z = rng.normal(size=(s, 2))
    y = np.concatenate([np.exp(x), -x ** 3])  # monotone in x: identical residuals
    r, n, lp = partial_spearman_block(x, y, z)
    assert r.tolist() == [[1.0, -1.0]] and (n == s).all() and (lp == -np.inf).all()
    r, n, lp = partial_spearman_block(np.concatenate([x, y]), None, z)
    assert (np.diag(r) == 1.0).all() and (np.diag(lp) == -np.inf).all()


def test_partial_spearman_block__constant_and_all_missing():
    s = 25
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, s))
    x[1] = 4.0
    x[2, 1:] = np.nan
    y = rng.normal(size=(2, s))
    z = rng.normal(size=(s, 1))
    r, n, lp = partial_spearman_block(x, y, z)
    assert (n[1:] == 0).all() and np.isnan(r[1:]).all() and np.isnan(lp[1:]).all()
    assert (n[0] == s).all()
    # too few samples for any result, and empty blocks
    r, n, lp = partial_spearman_block(x[:, :10], y[:, :10], z[:10])
    assert (n == 0).all() and np.isnan(r).all()
    r, n, lp = partial_spearman_block(np.empty((0, s)), y, z)
    assert r.shape == (0, 2) and n.dtype == np.int32


# ------------------------------------------------------------------ arguments


def test_partial_spearman_block__bad_arguments():
    x = np.zeros((2, 20))
    z = np.zeros((20, 2))
    with pytest.raises(ValueError, match="z must be 2-D .* one row per sample of x \\(20\\)"):
        partial_spearman_block(x, None, np.zeros((19, 2)))
    with pytest.raises(ValueError, match="z must be 2-D"):
        partial_spearman_block(x, None, np.zeros(20))
    with pytest.raises(ValueError, match="rank_z must be 2 booleans"):
        partial_spearman_block(x, None, z, rank_z=[True])
    with pytest.raises(ValueError, match="rank_z must be 2 booleans"):
        partial_spearman_block(x, None, z, rank_z=[1, 0])
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="min_df must be an integer >= 1"):
            partial_spearman_block(x, None, z, min_df=bad)
    with pytest.raises(ValueError, match="x and y must have the same samples"):
        partial_spearman_block(x, np.zeros((2, 21)), z)
    with pytest.raises(ValueError, match="x must be 2-D"):
        partial_spearman_block(np.zeros(20), None, z)
