"""Spearman kernel (kernels/spearman.py) and shared p-value helpers (kernels/pvalues.py)."""

import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
import scipy.special as sc
import scipy.stats as st

from linkscan.kernels import spearman as sp
from linkscan.kernels.pvalues import (
    SLOGP_MAX,
    log_beta,
    log_betainc,
    log_f_sf,
    log_norm_sf,
    log_t_two_sided,
    pnorm_tail,
    signed_log10p,
)
from linkscan.kernels.spearman import LOG_P_FLOOR, P_FLOOR, spearman_block

from rref import R_DIR, fmt_vec, read_tsv, run_r, vec

R_SCRIPT = R_DIR / "spearman_reference.R"
R_TABLE = R_DIR / "spearman_reference.tsv"


# ------------------------------------------------------------------ helpers


def _mixed_block(rng, nf, s, *, base=None, frac_missing=0.4, with_ties=True):
    """Features x samples with ties (rounded features), missing values and correlation."""
    if base is None:
        x = rng.normal(size=(nf, s))
    else:  # correlated with rows of base, over a range of strengths
        w = rng.uniform(-1.0, 1.0, size=(nf, 1))
        x = w * base[rng.integers(0, base.shape[0], nf)] + rng.normal(size=(nf, s)) * 0.6
    if with_ties:
        x[::3] = np.round(x[::3] * 2.0)  # heavy ties
        x[1::5] = np.round(x[1::5], 1)  # light ties
    miss = rng.random(nf) < frac_missing
    for f in np.flatnonzero(miss):
        x[f, rng.random(s) < rng.uniform(0.05, 0.5)] = np.nan
    return x


def _overlap(a, b):
    m = np.isfinite(a) & np.isfinite(b)
    return a[m], b[m]


def _same_bytes(r1, r2):
    return all(np.asarray(u).tobytes() == np.asarray(v).tobytes() for u, v in zip(r1, r2))


def _check_against_r(rows, xs, ys):
    """Compare mode r and mode t with R's cor.test output rows; returns cases checked."""
    checked = 0
    for row, x, y in zip(rows, xs, ys):
        rho, n, lp_r = spearman_block(x[None], y[None], min_n=3, p_mode="r")
        _, _, lp_t = spearman_block(x[None], y[None], min_n=3, p_mode="t")
        case = row["case"]
        if row["p_r"] == "NA":  # R gives no result: constant on the overlap
            assert n[0, 0] == 0 and np.isnan(rho[0, 0]) and np.isnan(lp_r[0, 0]), case
            continue
        assert n[0, 0] == int(row["n"]), case
        assert rho[0, 0] == pytest.approx(float(row["rho"]), abs=1e-12), case
        p_r = float(row["p_r"])
        # The reference replaces R's 0 (and only that) by 2.2e-16. |rho| = 1 exactly (with
        # ties: the t approximation) is p = 0; R's rounding of rho leaves it 0 or a tiny p.
        if p_r == 0.0 or (abs(rho[0, 0]) == 1.0 and p_r < 1e-15):
            assert lp_r[0, 0] == LOG_P_FLOOR, case
        else:
            assert math.exp(lp_r[0, 0]) == pytest.approx(p_r, rel=1e-9), case
            assert lp_r[0, 0] != LOG_P_FLOOR, case
        p_t = float(row["p_t"])
        if abs(rho[0, 0]) == 1.0:  # exact here; R's rounding leaves a tiny p
            assert lp_t[0, 0] == -np.inf and p_t < 1e-8, case
        elif p_t > 1e-300:
            assert math.exp(lp_t[0, 0]) == pytest.approx(p_t, rel=1e-9), case
        checked += 1
    return checked


# ------------------------------------------------------------------ statistic


def test_spearman_block__matches_scipy_on_overlap(rng):
    s = 60
    x = _mixed_block(rng, 40, s)
    y = _mixed_block(rng, 30, s, base=np.nan_to_num(x))
    y[7, :] = 3.0  # constant
    y[8, :8] = rng.normal(size=8)  # overlap below min_n
    y[8, 8:] = np.nan
    complete_x = sp._prepare(x)[5]
    complete_y = sp._prepare(y)[5]
    both = complete_x[:, None] & complete_y[None, :]
    assert both.sum() > 100 and (~both).sum() > 100  # both paths are exercised
    rho, n, logp = spearman_block(x, y)
    assert rho.dtype == np.float64 and n.dtype == np.int32 and logp.dtype == np.float64
    results = 0
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            a, b = _overlap(x[i], y[j])
            if a.size < 10 or np.ptp(a) == 0 or np.ptp(b) == 0:
                assert np.isnan(rho[i, j]) and n[i, j] == 0 and np.isnan(logp[i, j])
                continue
            ref = st.spearmanr(a, b)
            assert n[i, j] == a.size
            assert abs(rho[i, j] - ref.statistic) <= 1e-12
            if ref.pvalue > 1e-300:
                assert math.exp(logp[i, j]) == pytest.approx(ref.pvalue, rel=1e-9)
            results += 1
    assert results > 1000


def test_spearman_block__self_scan_matches_explicit_y(rng):
    x = _mixed_block(rng, 50, 40)
    assert _same_bytes(spearman_block(x), spearman_block(x, x))
    assert _same_bytes(spearman_block(x, p_mode="r"), spearman_block(x, x, p_mode="r"))


def test_spearman_block__float32_same_as_float64(rng):
    x = _mixed_block(rng, 30, 50).astype(np.float32)
    assert _same_bytes(spearman_block(x), spearman_block(x.astype(np.float64)))


def test_spearman_block__infinite_is_missing(rng):
    x = rng.normal(size=(3, 30))
    x_inf = x.copy()
    x_inf[0, :4] = [np.inf, -np.inf, np.nan, np.inf]
    x_nan = x.copy()
    x_nan[0, :4] = np.nan
    assert _same_bytes(spearman_block(x_inf), spearman_block(x_nan))


# ------------------------------------------------------------------ determinism


@pytest.mark.parametrize("p_mode", ["t", "r"])
def test_spearman_block__path_independent(rng, p_mode):
    x = _mixed_block(rng, 60, 45)
    y = _mixed_block(rng, 40, 45, base=np.nan_to_num(x))
    for args in ((x, None), (x, y)):
        fast = sp._spearman_block(*args, 10, p_mode, False)
        forced = sp._spearman_block(*args, 10, p_mode, True)
        assert _same_bytes(fast, forced)


def test_spearman_block__p_table_cold_and_warm_give_the_same_bits(rng, monkeypatch):
    """The p table returns what the computation returned: the same bits from a cold
    table, a warm one (every tie-free pair a hit) and the forced per-pair path, for
    tie-free data that takes every path (complete, one complete, both incomplete) and
    many overlap sizes; the stored entries are the p-values of their (n, S)."""
    x = _mixed_block(rng, 80, 70, with_ties=False)
    y = _mixed_block(rng, 60, 70, base=np.nan_to_num(x), with_ties=False)
    monkeypatch.setattr(sp, "_table", None)
    cold = spearman_block(x, y)
    ptab, poff = sp._table
    assert np.count_nonzero(ptab) > 1000  # it was used
    warm = spearman_block(x, y)
    forced = sp._spearman_block(x, y, 10, "t", True)
    assert _same_bytes(cold, warm) and _same_bytes(cold, forced)
    assert len(np.unique(cold[1][cold[1] > 0])) > 15  # many n: many table rows
    for i, j in [(0, 0), (5, 7), (33, 2), (79, 59)]:
        a, b = _overlap(x[i], y[j])
        ref = st.spearmanr(a, b)
        assert math.exp(warm[2][i, j]) == pytest.approx(ref.pvalue, rel=1e-9)
        n = a.size
        s_stat = np.sum((st.rankdata(a) - st.rankdata(b)) ** 2)  # S, even
        assert ptab[poff[n] + int(s_stat) // 2] == warm[2][i, j]


def test_spearman_block__one_complete_path_equals_scipy(rng):
    """Pairs of one complete tie-free feature and one incomplete (with or without ties)."""
    s = 50
    complete = rng.normal(size=(6, s))
    incomplete = _mixed_block(rng, 30, s, frac_missing=1.0)
    assert sp._prepare(complete)[5].all() and not sp._prepare(incomplete)[5].any()
    for x, y in ((complete, incomplete), (incomplete, complete)):
        rho, n, logp = spearman_block(x, y)
        for i in range(x.shape[0]):
            for j in range(y.shape[0]):
                a, b = _overlap(x[i], y[j])
                if a.size < 10 or np.ptp(a) == 0:
                    assert n[i, j] == 0
                    continue
                ref = st.spearmanr(a, b)
                assert n[i, j] == a.size and abs(rho[i, j] - ref.statistic) <= 1e-12
                assert math.exp(logp[i, j]) == pytest.approx(ref.pvalue, rel=1e-9)
        assert _same_bytes((rho, n, logp), sp._spearman_block(x, y, 10, "t", True))


def test_spearman_block__extra_missing_sample_does_not_change_a_complete_pair(rng):
    # (a, b) complete: complete path. Add a sample where a is missing: same overlap, but
    # the pair now takes the missing path; the result must be bit-identical.
    s = 80
    base = rng.normal(size=s)
    a = np.round(base + rng.normal(size=s) * 0.3, 1)
    b = np.round(base + rng.normal(size=s) * 0.5, 1)
    ref = spearman_block(a[None], b[None])
    assert sp._prepare(a[None])[5][0] and sp._prepare(b[None])[5][0]
    a2 = np.append(a, np.nan)
    b2 = np.append(b, 1.5)
    assert not sp._prepare(a2[None])[5][0]
    assert _same_bytes(spearman_block(a2[None], b2[None]), ref)
    # and a third, unrelated feature with missing values changes nothing either
    c = rng.normal(size=s)
    c[::7] = np.nan
    r3 = spearman_block(np.vstack([a, c]), b[None])
    assert _same_bytes([u[:1] for u in r3], ref)


@pytest.mark.parametrize("p_mode", ["t", "r"])
def test_spearman_block__block_split_invariant_and_symmetric(rng, p_mode):
    x = _mixed_block(rng, 300, 50)
    x[5] = x[17]  # an exact |rho| = 1 pair
    full = spearman_block(x, p_mode=p_mode)
    cuts = [0, 75, 150, 225, 300]
    stitched = [np.empty_like(a) for a in full]
    for bi in range(4):
        for bj in range(4):
            si = slice(cuts[bi], cuts[bi + 1])
            sj = slice(cuts[bj], cuts[bj + 1])
            part = spearman_block(x[si], None if bi == bj else x[sj], p_mode=p_mode)
            for out, p in zip(stitched, part):
                out[si, sj] = p
    assert _same_bytes(full, stitched)
    for a in full:
        assert a.tobytes() == np.ascontiguousarray(a.T).tobytes()


# ------------------------------------------------------------------ edge cases


def test_spearman_block__min_n(rng):
    x = rng.normal(size=(1, 20))
    y = x + rng.normal(size=(1, 20))
    y9 = y.copy()
    y9[0, 9:] = np.nan  # overlap 9
    y10 = y.copy()
    y10[0, 10:] = np.nan  # overlap 10
    assert spearman_block(x, y9)[1][0, 0] == 0
    assert np.isnan(spearman_block(x, y9)[0][0, 0])
    assert spearman_block(x, y10)[1][0, 0] == 10
    assert spearman_block(x, y9, min_n=9)[1][0, 0] == 9
    assert spearman_block(x, y, min_n=21)[1][0, 0] == 0  # fewer samples than min_n
    for bad in (2, 0, 3.5, True):
        with pytest.raises(ValueError):
            spearman_block(x, y, min_n=bad)
    with pytest.raises(ValueError):
        spearman_block(x, y, p_mode="exact")
    with pytest.raises(ValueError):
        spearman_block(x, y[:, :10])


def test_spearman_block__constant_on_overlap(rng):
    x = np.r_[np.ones(15), rng.normal(size=5)][None]  # constant where y exists
    y = np.r_[rng.normal(size=15), np.full(5, np.nan)][None]
    rho, n, logp = spearman_block(x, y)
    assert np.isnan(rho[0, 0]) and n[0, 0] == 0 and np.isnan(logp[0, 0])
    rho, n, logp = spearman_block(np.ones((2, 12)), rng.normal(size=(1, 12)))
    assert np.isnan(rho).all() and (n == 0).all() and np.isnan(logp).all()


def test_spearman_block__all_missing(rng):
    x = rng.normal(size=(3, 25))
    x[1] = np.nan
    rho, n, logp = spearman_block(x)
    assert np.isnan(rho[1]).all() and np.isnan(rho[:, 1]).all()
    assert (n[1] == 0).all() and np.isnan(logp[:, 1]).all()
    assert n[0, 2] == 25
    rho, n, logp = spearman_block(np.empty((0, 25)), x)
    assert rho.shape == (0, 3) and n.shape == (0, 3) and logp.shape == (0, 3)


@pytest.mark.parametrize("force", [False, True])
def test_spearman_block__perfect_correlation(rng, force):
    a = rng.normal(size=30)
    t = np.round(a)  # ties
    x = np.vstack([a, t])
    y = np.vstack([2 * a + 1, -a, -3 * t])
    rho, n, logp = sp._spearman_block(x, y, 10, "t", force)
    assert rho[0, 0] == 1.0 and rho[0, 1] == -1.0 and rho[1, 2] == -1.0
    assert logp[0, 0] == -np.inf and logp[0, 1] == -np.inf and logp[1, 2] == -np.inf
    slogp = signed_log10p(rho, logp)
    assert slogp[0, 0] == SLOGP_MAX and slogp[0, 1] == -SLOGP_MAX
    assert slogp[0, 0] == np.finfo(np.float32).max
    # mode r: AS 89 (no ties) and t (ties) both end at R's 0, which the reference floors
    _, _, logp_r = sp._spearman_block(x, y, 10, "r", force)
    assert logp_r[0, 0] == LOG_P_FLOOR and logp_r[1, 2] == LOG_P_FLOOR


@pytest.mark.parametrize("force", [False, True])
def test_spearman_block__mode_r_floors_only_where_r_returns_zero(force):
    """R: cor.test(rep(0:14, each = 2), 0:29, method = "spearman")$p.value is 3.18e-36
    (ties: the t approximation), not 0: the reference (LinkedOmicsKB's source_func.R)
    leaves it as it is, and so does mode r."""
    x = np.repeat(np.arange(15.0), 2)[None]
    y = np.arange(30.0)[None]
    rho, n, logp = sp._spearman_block(x, y, 10, "r", force)
    assert logp[0, 0] != LOG_P_FLOOR
    assert math.exp(logp[0, 0]) == pytest.approx(3.1765e-36, rel=1e-4)


def _swapped_pair(n, dist, swaps):
    """x = 1..n, y = x with `swaps` disjoint transpositions of elements `dist` apart:
    sum d^2 = 2 dist^2 swaps, rho = 1 - 12 dist^2 swaps / (n^3 - n)."""
    assert 2 * dist * swaps <= n
    x = np.arange(1.0, n + 1)
    y = x.copy()
    for m in range(swaps):
        i = 2 * dist * m
        y[i], y[i + dist] = y[i + dist], y[i]
    return x, y


def _log_p_t_mpmath(n, d2):
    with mpmath.workdps(60):
        r = 1 - mpmath.mpf(6 * d2) / (n**3 - n)
        return r, mpmath.log(mpmath.betainc((n - 2) / mpmath.mpf(2), 0.5, 0, 1 - r * r,
                                            regularized=True))


@pytest.mark.parametrize("n, swaps", [(200, 110), (200, 400), (500, 1300), (1000, 80000)])
def test_spearman_block__far_tail(n, swaps):
    x = np.arange(1.0, n + 1)
    y = x.copy()
    for i in np.random.default_rng(n).integers(0, n - 1, size=swaps):  # adjacent swaps
        y[i], y[i + 1] = y[i + 1], y[i]
    rho, _, logp = spearman_block(x[None], y[None])
    r, ref = _log_p_t_mpmath(n, int(((x - y) ** 2).sum()))
    assert rho[0, 0] == pytest.approx(float(r), abs=1e-15)
    assert np.isfinite(logp[0, 0])
    assert logp[0, 0] == pytest.approx(float(ref), rel=1e-12)


@pytest.mark.parametrize("n, dist, swaps", [(200, 8, 10), (500, 45, 5)])
def test_spearman_block__far_tail_rho_0999(n, dist, swaps):
    # rho = 0.999: at n = 200 p is about 1e-266, at n = 500 far below 1e-308
    x, y = _swapped_pair(n, dist, swaps)
    rho, _, logp = spearman_block(x[None], y[None])
    r, ref = _log_p_t_mpmath(n, 2 * dist**2 * swaps)
    assert rho[0, 0] == pytest.approx(0.999, abs=2e-4)
    assert rho[0, 0] == pytest.approx(float(r), abs=1e-15)
    assert np.isfinite(logp[0, 0]) and logp[0, 0] < math.log(1e-250)
    assert logp[0, 0] == pytest.approx(float(ref), rel=1e-12)
    assert signed_log10p(rho, logp)[0, 0] == pytest.approx(-float(ref) / math.log(10), rel=1e-12)


def test_spearman_block__far_tail_continuous_up_to_rho_1():
    # rho = 1 - 12 m / (n^3 - n) for m = 1..n/2 adjacent swaps: the t tail must stay
    # finite and rise smoothly as rho approaches 1 (no cancellation in 1 - rho^2)
    n = 300
    logps = []
    for m in range(1, n // 2 + 1):
        x, y = _swapped_pair(n, 1, m)
        logps.append(spearman_block(x[None], y[None])[2][0, 0])
    logps = np.array(logps)
    assert np.isfinite(logps).all()
    assert np.all(np.diff(logps) > 0)
    for m in (1, 7, 150):
        assert logps[m - 1] == pytest.approx(float(_log_p_t_mpmath(n, 2 * m)[1]), rel=1e-12)


# ------------------------------------------------------------------ mode r vs R


def test_spearman_block__mode_r_matches_stored_r_reference():
    rows = read_tsv(R_TABLE)
    assert len(rows) > 500
    xs = [vec(r["x"]) for r in rows]
    ys = [vec(r["y"]) for r in rows]
    checked = _check_against_r(rows, xs, ys)
    assert checked > 500
    kinds = {r["case"].split("_")[0] for r in rows}
    assert {"clean", "ties", "na", "large", "const"} <= kinds


@pytest.mark.rlang
def test_spearman_block__mode_r_matches_live_rscript(rscript, rng, tmp_path):
    cases = []
    for k in range(160):
        n = int(rng.choice([rng.integers(5, 12), rng.integers(12, 200), rng.integers(200, 1400)],
                           p=[0.15, 0.65, 0.2]))
        rho = rng.uniform(-0.97, 0.97)
        x = rng.normal(size=n)
        y = rho * x + math.sqrt(1.0 - rho * rho) * rng.normal(size=n)
        kind = k % 4
        if kind == 1:
            y = np.round(y * 2.0)
        elif kind == 2:
            x[rng.random(n) < 0.15] = np.nan
            y[rng.random(n) < 0.1] = np.nan
        cases.append((f"live{k}", x, y))
    rows = run_r(rscript, R_SCRIPT, ["case", "x", "y"],
                 [[name, fmt_vec(x), fmt_vec(y)] for name, x, y in cases], tmp_path)
    checked = _check_against_r(rows, [c[1] for c in cases], [c[2] for c in cases])
    assert checked >= 150
    zero = sum(float(r["p_r"]) == 0.0 for r in rows if r["p_r"] != "NA")
    tiny = sum(0.0 < float(r["p_r"]) < P_FLOOR for r in rows if r["p_r"] != "NA")
    assert zero > 10 and tiny > 10  # both sides of the floor are covered: R's 0, and p below 2.2e-16


def test_spearman_block__exact_permutation_table():
    table = sp._get_exact_table()
    for n in range(2, 10):
        assert table[n].sum() == math.factorial(n)
        assert table[n, (n**3 - n) // 3] == 1  # only the reversal has the largest S
        assert table[n, 1::2].sum() == 0  # S = sum d^2 is always even


# ------------------------------------------------------------------ pvalues.py


def test_log_betainc__matches_mpmath_and_scipy():
    r = np.random.default_rng(3)
    for _ in range(300):
        a = float(np.exp(r.uniform(math.log(0.5), math.log(2000.0))))
        b = float(r.choice([0.5, 1.0, 3.0, np.exp(r.uniform(math.log(0.5), math.log(2000.0)))]))
        x = float(r.uniform() ** r.choice([1, 4, 20]))
        got = log_betainc(a, b, x)
        ref = sc.betainc(a, b, x)
        if ref > 1e-290:
            assert math.exp(got) == pytest.approx(ref, rel=1e-11, abs=1e-300)
    with mpmath.workdps(50):
        for a, b, x in [(99.0, 0.5, 0.002), (249.0, 0.5, 0.001), (5000.0, 0.5, 0.3),
                        (0.5, 900.0, 0.9), (40.0, 60.0, 0.4)]:
            ref = float(mpmath.log(mpmath.betainc(a, b, 0, x, regularized=True)))
            assert log_betainc(a, b, x) == pytest.approx(ref, rel=1e-12, abs=1e-15)
    assert log_betainc(3.0, 2.0, 0.0) == -np.inf
    assert log_betainc(3.0, 2.0, 1.0) == 0.0
    assert np.isnan(log_betainc(-1.0, 2.0, 0.5))


def test_log_beta__matches_mpmath():
    with mpmath.workdps(40):
        for a, b in [(0.5, 0.5), (3.0, 7.0), (14.9, 0.5), (15.0, 0.5), (99.0, 0.5),
                     (1e5, 0.5), (400.0, 300.0), (2.0, 1e6)]:
            ref = float(mpmath.log(mpmath.beta(a, b)))
            assert log_beta(a, b) == pytest.approx(ref, rel=1e-14, abs=1e-14)


def test_log_t_two_sided__matches_scipy():
    for t in (-40.0, -3.0, -0.2, 0.0, 1.0, 5.0, 12.0):
        for df in (1.0, 3.0, 28.0, 148.0, 1500.0):
            ref = 2.0 * sc.stdtr(df, -abs(t))
            if ref > 1e-290:
                assert math.exp(log_t_two_sided(t, df)) == pytest.approx(ref, rel=1e-11)
    assert log_t_two_sided(np.inf, 10.0) == -np.inf


def test_log_f_sf__matches_scipy():
    for f in (0.0, 0.3, 1.0, 4.0, 30.0, 400.0):
        for d1, d2 in ((1.0, 10.0), (3.0, 50.0), (12.0, 300.0)):
            ref = sc.fdtrc(d1, d2, f)
            if ref > 1e-290:
                assert math.exp(log_f_sf(f, d1, d2)) == pytest.approx(ref, rel=1e-11)
    assert log_f_sf(np.inf, 2.0, 3.0) == -np.inf


def test_log_norm_sf__matches_scipy():
    for z in np.r_[np.linspace(-12.0, 60.0, 145), 36.9, 37.0, 37.1, 500.0]:
        ref = sc.log_ndtr(-z)
        assert log_norm_sf(z) == pytest.approx(ref, rel=1e-13, abs=1e-300)
    assert log_norm_sf(np.inf) == -np.inf and log_norm_sf(-np.inf) == 0.0


def test_pnorm_tail__matches_mpmath():
    with mpmath.workdps(30):
        for z in np.linspace(-37.5, 37.5, 301):
            ref = float(mpmath.ncdf(z))
            assert pnorm_tail(z, True) == pytest.approx(ref, rel=1e-14)
            assert pnorm_tail(-z, False) == pytest.approx(ref, rel=1e-14)
    assert pnorm_tail(-38.0, True) == 0.0 and pnorm_tail(38.0, False) == 0.0  # as R
    assert pnorm_tail(0.0, True) == 0.5 and pnorm_tail(40.0, True) == 1.0


def test_signed_log10p__cases():
    effect = np.array([0.5, -0.5, 0.0, -0.2, np.nan, 0.3, -0.3, 0.1, -1.0])
    logp = np.array([math.log(1e-5), math.log(1e-5), math.log(0.01), 0.0, -1.0,
                     -np.inf, -np.inf, np.nan, -2000.0])
    out = signed_log10p(effect, logp)
    assert out.dtype == np.float64
    assert out[0] == pytest.approx(5.0) and out[1] == pytest.approx(-5.0)
    assert out[2] == pytest.approx(2.0)  # effect 0 counts as +
    assert out[3] == 0.0 and not np.signbit(out[3])  # p == 1: +0
    assert np.isnan(out[4]) and np.isnan(out[7])
    assert out[5] == np.finfo(np.float32).max and out[6] == -np.finfo(np.float32).max
    assert out[8] == pytest.approx(-2000.0 / math.log(10.0))  # p = e^-2000 stays finite
