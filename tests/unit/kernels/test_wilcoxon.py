"""Wilcoxon rank-sum kernel (kernels/wilcoxon.py) against R, scipy and brute force."""

import itertools
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
import scipy.stats as st

from linkscan.kernels import wilcoxon as wx
from linkscan.kernels.pvalues import signed_log10p
from linkscan.kernels.wilcoxon import EXACT_MAX, exact_cdf_table, wilcoxon_block

from rref import R_DIR, fmt_vec, read_tsv, run_r, vec

R_SCRIPT = R_DIR / "wilcoxon_reference.R"
R_TABLE = R_DIR / "wilcoxon_reference.tsv"

#: R's uniroot tolerance for the normal-case estimate (wilcox.test's tol.root).
R_TOL_ROOT = 1e-4


# ------------------------------------------------------------------ helpers


def _one(x, y, **kw):
    """The kernel on one feature: x then y, as (effect, n, logp) scalars."""
    kw.setdefault("min_x", 1)
    kw.setdefault("min_y", 1)
    values = np.r_[x, y][None]
    group = np.r_[np.ones(len(x)), np.zeros(len(y))].astype(np.int8)
    e, n, lp = wilcoxon_block(values, group, **kw)
    return e[0], int(n[0]), lp[0]


def _padded_block(xs, ys):
    """All cases in one block: x values then NaN padding, y values then NaN padding."""
    mx = max(len(x) for x in xs)
    my = max(len(y) for y in ys)
    values = np.full((len(xs), mx + my), np.nan)
    for f, (x, y) in enumerate(zip(xs, ys)):
        values[f, :len(x)] = x
        values[f, mx:mx + len(y)] = y
    group = np.r_[np.ones(mx), np.zeros(my)].astype(np.int8)
    return values, group


def _finite(v):
    return v[np.isfinite(v)]


def _zero_region(x, y):
    """[zl, zr]: where R's continuity-corrected statistic, as a function of the shift d,
    changes sign. With U(d) = #{x_i - y_j > d} + #{x_i - y_j == d} / 2 (non-increasing)
    and K = n_x n_y, the statistic is > 0 where U(d) > K/2 + 1/2, < 0 where
    U(d) < K/2 - 1/2 and 0 in between: zl = sup of the first set, zr = inf of the second
    (the step where it is 0, or, with tied differences, the single jump across 0)."""
    d = np.subtract.outer(x, y).ravel()
    k = d.size
    vals, counts = np.unique(d, return_counts=True)
    below = np.r_[0, np.cumsum(counts)[:-1]]
    u_gap_below = k - below  # U on the open gap just below vals[i]
    u_gap_above = k - below - counts  # U on the open gap just above vals[i]
    pos = vals[u_gap_below > k / 2 + 0.5]
    neg = vals[u_gap_above < k / 2 - 0.5]
    return (pos.max() if pos.size else -np.inf), (neg.min() if neg.size else np.inf)


def _expected_exact(x, y):
    return len(x) < EXACT_MAX and len(y) < EXACT_MAX and np.unique(np.r_[x, y]).size == len(x) + len(y)


def _log_p_normal_mp(x, y):
    """log of R's normal-approximation two-sided p, independently in mpmath."""
    m, n = len(x), len(y)
    ranks = st.rankdata(np.r_[x, y])
    w = ranks[:m].sum() - m * (m + 1) / 2
    _, t = np.unique(np.r_[x, y], return_counts=True)
    tie = float((t.astype(float) ** 3 - t).sum())
    with mpmath.workdps(40):
        z = mpmath.mpf(w) - mpmath.mpf(m * n) / 2
        z = z - mpmath.sign(z) / 2
        sigma = mpmath.sqrt(mpmath.mpf(m * n) / 12 * ((m + n + 1) - mpmath.mpf(tie) / ((m + n) * (m + n - 1))))
        return float(mpmath.log(2 * mpmath.ncdf(-abs(z / sigma))))


def _check_against_r(rows, xs, ys):
    """Compare the kernel with R's wilcox.test rows (one block call and per case).

    Returns (cases checked, largest |R's estimate - HL| in the normal case, the same
    in units of the zero step's half width)."""
    values, group = _padded_block(xs, ys)
    eff_b, n_b, lp_b = wilcoxon_block(values, group, min_x=1, min_y=1)
    checked = 0
    worst = 0.0
    for f, (row, x, y) in enumerate(zip(rows, xs, ys)):
        case = row["case"]
        xf, yf = _finite(x), _finite(y)
        e, n, lp = _one(x, y)
        assert (e, n, lp) == (eff_b[f], n_b[f], lp_b[f]) or np.isnan(e) and np.isnan(eff_b[f]), case
        assert int(row["n_x"]) == xf.size and int(row["n_y"]) == yf.size, case
        if row["p"] == "NA":  # R gives no p: all values tied
            assert np.isnan(e) and n == 0 and np.isnan(lp), case
            continue
        assert n == xf.size + yf.size, case
        exact = row["exact"] == "TRUE"
        assert exact == _expected_exact(xf, yf), case
        p = float(row["p"])
        if p > 0.0:
            assert math.exp(lp) == pytest.approx(p, rel=1e-9), case
        else:  # R's pnorm underflows; the kernel keeps the tail
            assert np.isfinite(lp) and lp < math.log(1e-300), case
            assert lp == pytest.approx(_log_p_normal_mp(xf, yf), rel=1e-12), case
        hl = float(row["hl"])
        scale = max(1.0, np.abs(np.r_[xf, yf]).max())
        assert e == pytest.approx(hl, rel=1e-6, abs=1e-14 * scale), case
        est = float(row["estimate"])
        if exact:
            assert e == pytest.approx(est, rel=1e-6, abs=1e-14 * scale), case
        else:
            # R's estimate is a uniroot() point of the step where its statistic is 0
            zl, zr = _zero_region(xf, yf)
            tol = R_TOL_ROOT + 1e-12 * scale
            assert zl - tol <= est <= zr + tol, (case, zl, est, zr)
            assert zl <= e <= zr, case
            worst = max(worst, abs(est - e))
        checked += 1
    return checked, worst


# ------------------------------------------------------------------ against R


def test_wilcoxon_block__matches_stored_r_reference():
    rows = read_tsv(R_TABLE)
    assert len(rows) > 120
    xs = [vec(r["x"]) for r in rows]
    ys = [vec(r["y"]) for r in rows]
    checked, worst = _check_against_r(rows, xs, ys)
    assert checked == len(rows) - 1
    kinds = {r["case"].split("_")[0] for r in rows}
    assert {"exact", "normal", "ties", "missing", "unequal", "extreme", "coarse", "tied"} <= kinds
    assert sum(r["exact"] == "TRUE" for r in rows) > 40
    assert sum(r["exact"] == "FALSE" for r in rows) > 60
    # R's normal-case estimate is not the median of the differences: with coarse data it
    # can be far off (up to half of the step where its statistic is 0)
    assert worst > 1e-2
    ps = [float(r["p"]) for r in rows if r["p"] != "NA"]
    assert min(p for p in ps if p > 0) < 1e-98 and 0.0 in ps


def test_wilcoxon_block__extreme_separation_exact_p():
    # 49 vs 49 with every x above every y: p = 2 / C(98, 49), the smallest exact p
    e, n, lp = _one(np.arange(50.0, 99.0), np.arange(1.0, 50.0))
    assert n == 98 and e == 49.0
    assert lp == pytest.approx(math.log(2.0) - math.log(math.comb(98, 49)), rel=1e-13)


@pytest.mark.rlang
def test_wilcoxon_block__matches_live_rscript(rscript, rng, tmp_path):
    cases = []
    for k in range(90):
        kind = k % 6
        if kind == 0:  # exact sizes
            m, n = (int(v) for v in rng.integers(2, 50, 2))
        elif kind == 5:  # around the switch at 50
            m, n = int(rng.integers(45, 56)), int(rng.integers(40, 56))
        else:
            m, n = int(rng.integers(2, 300)), int(rng.integers(2, 120))
        shift = rng.choice([0.0, 0.3, -1.0, 3.0])
        x = rng.normal(size=m) + shift
        y = rng.normal(size=n) * rng.uniform(0.5, 2.0)
        if kind == 1:  # ties
            x, y = np.round(x, 1), np.round(y, 1)
        elif kind == 2:  # missing and infinite
            x[rng.random(m) < 0.15] = np.nan
            y[rng.random(n) < 0.1] = np.nan
            x[rng.integers(0, m)] = np.inf
            y[rng.integers(0, n)] = -np.inf
        elif kind == 3:  # zero-inflated
            x[rng.random(m) < 0.4] = 0.0
            y[rng.random(n) < 0.6] = 0.0
        if np.isfinite(x).sum() == 0 or np.isfinite(y).sum() == 0:
            continue
        cases.append((f"live{k}", x, y))
    rows = run_r(rscript, R_SCRIPT, ["case", "x", "y"],
                 [[name, fmt_vec(x), fmt_vec(y)] for name, x, y in cases], tmp_path)
    checked, _ = _check_against_r(rows, [c[1] for c in cases], [c[2] for c in cases])
    assert checked >= 80
    assert sum(r["exact"] == "TRUE" for r in rows) >= 10


# ------------------------------------------------------------------ against scipy


def test_wilcoxon_block__matches_scipy_mannwhitneyu():
    rows = read_tsv(R_TABLE)
    n_exact = n_normal = 0
    for row in rows:
        x, y = _finite(vec(row["x"])), _finite(vec(row["y"]))
        e, n, lp = _one(x, y)
        if n == 0 or row["p"] in ("NA", "0"):
            continue
        if _expected_exact(x, y):
            ref = st.mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue
            n_exact += 1
        else:
            ref = st.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic",
                                  use_continuity=True).pvalue
            n_normal += 1
        assert math.exp(lp) == pytest.approx(ref, rel=1e-9), row["case"]
    assert n_exact > 40 and n_normal > 60


def test_wilcoxon_block__matches_scipy_on_random_block(rng):
    nf, sx, sy = 300, 56, 40  # x has about 48 finite values: exact and normal cases
    values = rng.normal(size=(nf, sx + sy))
    values[:, :sx] += rng.normal(size=(nf, 1))
    values[::3] = np.round(values[::3])  # ties
    values[rng.random(values.shape) < 0.15] = np.nan
    group = np.r_[np.ones(sx), np.zeros(sy)].astype(np.int8)
    perm = rng.permutation(sx + sy)  # samples in any order
    effect, n, logp = wilcoxon_block(values[:, perm], group[perm], min_x=20, min_y=10)
    exact_seen = normal_seen = 0
    for f in range(nf):
        x, y = _finite(values[f, :sx]), _finite(values[f, sx:])
        assert n[f] == x.size + y.size
        assert effect[f] == np.median(np.subtract.outer(x, y))
        if _expected_exact(x, y):
            ref = st.mannwhitneyu(x, y, method="exact").pvalue
            exact_seen += 1
        else:
            ref = st.mannwhitneyu(x, y, method="asymptotic", use_continuity=True).pvalue
            normal_seen += 1
        assert math.exp(logp[f]) == pytest.approx(ref, rel=1e-9)
    assert exact_seen > 50 and normal_seen > 50


# ------------------------------------------------------------------ exact distribution


def test_exact_cdf_table__matches_enumeration():
    cdf, offs = exact_cdf_table()
    assert cdf.dtype == np.float64 and offs.shape == (EXACT_MAX, EXACT_MAX)
    for m in range(1, 8):
        for n in range(1, 8):
            counts = np.zeros(m * n + 1)
            for xpos in itertools.combinations(range(m + n), m):
                # W = number of (x, y) pairs with x above y
                counts[sum(p - i for i, p in enumerate(xpos))] += 1
            ref = np.cumsum(counts) / math.comb(m + n, m)
            a, b = min(m, n), max(m, n)
            got = cdf[offs[a, b]:offs[a, b] + m * n // 2 + 1]
            np.testing.assert_allclose(got, ref[:m * n // 2 + 1], rtol=1e-14)


def test_exact_cdf_table__large_sizes():
    cdf, offs = exact_cdf_table()
    for m, n in [(49, 49), (20, 49), (1, 49), (33, 17)]:
        a, b = min(m, n), max(m, n)
        tail = cdf[offs[a, b]:offs[a, b] + a * b // 2 + 1]
        assert tail[0] == pytest.approx(1.0 / math.comb(m + n, m), rel=1e-13)
        assert np.all(np.diff(tail) > 0)
        # symmetry: P[W <= mn/2] + P[W <= mn/2 - 1] = 1 (mn even) or 2 P[W <= (mn-1)/2] = 1
        if a * b % 2 == 0:
            assert tail[-1] + tail[-2] == pytest.approx(1.0, rel=1e-13)
        else:
            assert 2 * tail[-1] == pytest.approx(1.0, rel=1e-13)
    assert offs[0].max() == -1 and offs[5, 3] == -1


# ------------------------------------------------------------------ Hodges-Lehmann


@pytest.mark.parametrize("kind", ["continuous", "ties", "zeros", "scales"])
def test_wilcoxon_block__hl_is_median_of_differences(rng, kind):
    for trial in range(150):
        m = int(rng.integers(1, 160))
        n = int(rng.integers(1, 110))
        x = rng.normal(size=m) + rng.normal()
        y = rng.normal(size=n) * rng.uniform(0.2, 3.0)
        if kind == "ties":
            x, y = np.round(x * 2), np.round(y * 2)
        elif kind == "zeros":
            x[rng.random(m) < 0.6] = 0.0
            y[rng.random(n) < 0.6] = -0.0
        elif kind == "scales":
            x = x * 10.0 ** rng.integers(-6, 7, size=m)
            y = y * 10.0 ** rng.integers(-6, 7, size=n)
        e, cnt, lp = _one(x, y)
        if np.unique(np.r_[x, y]).size == 1:
            assert cnt == 0
            continue
        assert e == np.median(np.subtract.outer(x, y)), (kind, trial, m, n)


def test_wilcoxon_block__hl_large_groups(rng):
    x = rng.standard_t(3, size=(3, 700))
    y = rng.standard_t(3, size=(3, 450)) - 0.2
    values = np.hstack([x, y])
    group = np.r_[np.ones(700), np.zeros(450)].astype(np.int8)
    effect, n, _ = wilcoxon_block(values, group)
    for f in range(3):
        assert effect[f] == np.median(np.subtract.outer(x[f], y[f]))
        assert n[f] == 1150


def test_quickselect__ranks(rng):
    for size in (1, 2, 3, 10, 57, 300):
        for data in (rng.normal(size=size), np.round(rng.normal(size=size)), np.zeros(size)):
            ref = np.sort(data)
            for r in {0, size // 2, size - 1}:
                buf = data.copy()
                wx._quickselect(buf, size, r)
                assert buf[r] == ref[r]
                assert np.all(buf[:r] <= buf[r]) and np.all(buf[r + 1:] >= buf[r])


def test_sort__matches_numpy(rng):
    stack = np.empty(128, dtype=np.int64)
    for size in (0, 1, 2, 15, 16, 17, 100, 1000):
        for data in (rng.normal(size=size), np.round(rng.normal(size=size)),
                     np.zeros(size), np.arange(size, dtype=float),
                     np.arange(size, 0, -1, dtype=float),
                     np.where(rng.random(size) < 0.8, 0.0, rng.normal(size=size))):
            a = data.copy()
            wx._sort(a, size, stack)
            assert np.array_equal(a, np.sort(data))


# ------------------------------------------------------------------ far tail


def test_wilcoxon_block__far_tail_beyond_double():
    # 1500 vs 1500, separated: z is about 47, p far below 1e-308 (R returns 0)
    x = np.arange(1501.0, 3001.0)
    y = np.arange(1.0, 1501.0)
    e, n, lp = _one(x, y)
    assert e == 1500.0 and n == 3000
    ref = _log_p_normal_mp(x, y)
    assert ref < -1000.0
    assert lp == pytest.approx(ref, rel=1e-12)
    assert signed_log10p(e, lp) == pytest.approx(-ref / math.log(10.0), rel=1e-12)
    e2, _, lp2 = _one(y, x)
    assert e2 == -1500.0 and lp2 == lp
    assert signed_log10p(e2, lp2) < -400.0


def test_wilcoxon_block__normal_p_matches_log_ndtr(rng):
    for _ in range(40):
        m, n = int(rng.integers(50, 400)), int(rng.integers(10, 200))
        x = np.round(rng.normal(size=m) + rng.uniform(-3, 3), 1)
        y = np.round(rng.normal(size=n), 1)
        _, _, lp = _one(x, y)
        assert lp == pytest.approx(_log_p_normal_mp(x, y), rel=1e-11, abs=1e-15)


def test_wilcoxon_block__zero_effect_counts_positive():
    x = np.arange(1.0, 21.0)
    e, n, lp = _one(x, x.copy())
    assert e == 0.0 and n == 40 and lp == 0.0
    s = signed_log10p(e, lp)
    assert s == 0.0 and not np.signbit(s)
    # symmetric without ties: the exact p is also capped at 1
    e, _, lp = _one(np.array([1.0, 4.0]), np.array([2.0, 3.0]))
    assert e == 0.0 and lp == 0.0


# ------------------------------------------------------------------ minimum sizes, edge cases


def test_wilcoxon_block__minimum_sizes(rng):
    values = rng.normal(size=(1, 30 + 10))
    group = np.r_[np.ones(30), np.zeros(10)].astype(np.int8)
    assert wilcoxon_block(values, group)[1][0] == 40  # defaults 20 / 10
    v = values.copy()
    v[0, 19:30] = np.nan  # 19 x values
    e, n, lp = wilcoxon_block(v, group)
    assert np.isnan(e[0]) and n[0] == 0 and np.isnan(lp[0])
    assert wilcoxon_block(v, group, min_x=19)[1][0] == 29
    v = values.copy()
    v[0, 39] = np.inf  # 9 finite y values
    assert wilcoxon_block(v, group)[1][0] == 0
    assert wilcoxon_block(v, group, min_y=9)[1][0] == 39
    assert wilcoxon_block(values, group, min_total=41)[1][0] == 0
    assert wilcoxon_block(values, group, min_total=40)[1][0] == 40
    # fewer samples in a group than its minimum: nothing to do
    assert wilcoxon_block(values, group, min_x=31)[1][0] == 0
    for bad in ({"min_x": 0}, {"min_y": 0}, {"min_x": 2.5}, {"min_y": True},
                {"min_total": -1}, {"min_x": None}):
        with pytest.raises(ValueError):
            wilcoxon_block(values, group, **bad)


def test_wilcoxon_block__no_result_cases(rng):
    s = 45
    group = np.r_[np.ones(25), np.zeros(20)].astype(np.int8)
    values = rng.normal(size=(6, s))
    values[0] = 2.5  # constant feature
    values[1] = np.nan  # all missing
    values[2, :] = 1.0  # all tied but a missing y value
    values[2, -1] = np.nan
    values[3, 25:] = np.nan  # group y empty on this feature
    values[4, :25] = np.inf  # group x only infinite
    e, n, lp = wilcoxon_block(values, group, min_x=1, min_y=1)
    assert np.isnan(e[:5]).all() and (n[:5] == 0).all() and np.isnan(lp[:5]).all()
    assert n[5] == 45 and np.isfinite(e[5]) and np.isfinite(lp[5])


def test_wilcoxon_block__empty_group(rng):
    values = rng.normal(size=(4, 30))
    e, n, lp = wilcoxon_block(values, np.ones(30, dtype=np.int8), min_x=1, min_y=1)
    assert np.isnan(e).all() and (n == 0).all() and np.isnan(lp).all()
    e, n, lp = wilcoxon_block(values, np.full(30, -1, dtype=np.int8), min_x=1, min_y=1)
    assert (n == 0).all()
    e, n, lp = wilcoxon_block(np.empty((0, 30)), np.r_[np.ones(15), np.zeros(15)].astype(np.int8))
    assert e.shape == (0,) and n.shape == (0,) and lp.shape == (0,)
    assert e.dtype == np.float64 and n.dtype == np.int32 and lp.dtype == np.float64


def test_wilcoxon_block__require_nonzero(rng):
    group = np.r_[np.ones(25), np.zeros(15)].astype(np.int8)
    values = np.abs(rng.normal(size=(4, 40)))
    values[0, :25] = 0.0  # all x zero
    values[1, 25:] = 0.0  # all y zero
    values[1, 30] = np.nan
    values[2, :20] = 0.0  # mostly zero, but not all
    values[2, 27] = -0.0
    values[3] = 0.0  # everything zero: tied, no result either way
    e, n, lp = wilcoxon_block(values, group)
    assert (n[:3] == [40, 39, 40]).all() and n[3] == 0
    e2, n2, lp2 = wilcoxon_block(values, group, require_nonzero=True)
    assert (n2 == [0, 0, 40, 0]).all()
    assert np.isnan(e2[:2]).all() and np.isnan(lp2[:2]).all()
    assert e2[2] == e[2] and lp2[2] == lp[2]


def test_wilcoxon_block__excluded_samples_ignored(rng):
    s = 90
    values = rng.normal(size=(20, s))
    values[rng.random(values.shape) < 0.1] = np.nan
    group = rng.choice(np.array([1, 0, -1], dtype=np.int8), size=s, p=[0.5, 0.3, 0.2])
    keep = group >= 0
    full = wilcoxon_block(values, group, min_x=5, min_y=5)
    sub = wilcoxon_block(values[:, keep], group[keep], min_x=5, min_y=5)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(full, sub))
    # and changing the excluded values changes nothing
    v2 = values.copy()
    v2[:, ~keep] = 1e9
    again = wilcoxon_block(v2, group, min_x=5, min_y=5)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(full, again))


def test_wilcoxon_block__dtypes_and_block_split(rng):
    group = np.r_[np.ones(40), np.zeros(25)].astype(np.int8)
    values = rng.normal(size=(60, 65)).astype(np.float32)
    values[rng.random(values.shape) < 0.1] = np.nan
    values[5, 3] = np.inf
    r32 = wilcoxon_block(values, group)
    r64 = wilcoxon_block(values.astype(np.float64), group)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(r32, r64))
    parts = [wilcoxon_block(values[i:i + 7], group) for i in range(0, 60, 7)]
    for k in range(3):
        assert np.concatenate([p[k] for p in parts]).tobytes() == r32[k].tobytes()
    # Fortran order, integer values and other integer group dtypes work the same
    assert all(a.tobytes() == b.tobytes() for a, b in
               zip(wilcoxon_block(np.asfortranarray(values), group.astype(np.int64)), r32))
    ints = rng.integers(0, 5, size=(10, 65))
    ri = wilcoxon_block(ints, group)
    rf = wilcoxon_block(ints.astype(np.float64), group)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(ri, rf))


def test_wilcoxon_block__input_validation(rng):
    values = rng.normal(size=(3, 10))
    group = np.r_[np.ones(5), np.zeros(5)].astype(np.int8)
    with pytest.raises(ValueError):
        wilcoxon_block(values[0], group)
    with pytest.raises(ValueError):
        wilcoxon_block(values, group[:9])
    with pytest.raises(ValueError):
        wilcoxon_block(values, np.r_[group[:9], 2].astype(np.int8))
    with pytest.raises(ValueError):
        wilcoxon_block(values, group.astype(np.float64))
