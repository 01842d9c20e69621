"""Wilcoxon signed-rank kernel (kernels/signed_rank.py) against R, scipy and brute force."""

import itertools
import math

import mpmath
import numpy as np
import pytest
import scipy.stats as st

from linkscan.kernels import signed_rank as sr
from linkscan.kernels.pvalues import signed_log10p
from linkscan.kernels.signed_rank import EXACT_MAX, exact_cdf_table, signed_rank_block

from rref import R_DIR, fmt_vec, read_tsv, run_r, vec

R_SCRIPT = R_DIR / "signed_rank_reference.R"
R_TABLE = R_DIR / "signed_rank_reference.tsv"

#: R's uniroot tolerance for the normal-case estimate (wilcox.test's tol.root).
R_TOL_ROOT = 1e-4


# ------------------------------------------------------------------ helpers


def _one(t, n, **kw):
    """The kernel on one feature, as (effect, n, logp) scalars (min_pairs 1 unless given)."""
    kw.setdefault("min_pairs", 1)
    e, c, lp = signed_rank_block(np.asarray(t, dtype=float)[None], np.asarray(n, dtype=float)[None], **kw)
    return e[0], int(c[0]), lp[0]


def _diffs(t, n):
    """The differences over the pairs with both values finite (zeros kept)."""
    ok = np.isfinite(t) & np.isfinite(n)
    return t[ok] - n[ok]


def _stat(d):
    """The kernel's (V, tie sum, ties) for the nonzero differences of d."""
    s = np.sort(d[d != 0.0])
    return sr._signed_rank_stat(s, s.size)


def _walsh(d):
    """All Walsh averages (d_i + d_j) / 2, i <= j, of the nonzero differences of d."""
    s = d[d != 0.0]
    i, j = np.triu_indices(s.size)
    return 0.5 * (s[i] + s[j])


def _expected_exact(d):
    nz = d[d != 0.0]
    return nz.size < EXACT_MAX and nz.size == d.size and np.unique(np.abs(nz)).size == nz.size


def _log_p_normal_mp(d):
    """log of R's normal-approximation two-sided p, independently in mpmath."""
    nz = d[d != 0.0]
    n = nz.size
    r = st.rankdata(np.abs(nz))
    v = r[nz > 0].sum()
    _, t = np.unique(np.abs(nz), return_counts=True)
    tie = float((t.astype(float) ** 3 - t).sum())
    with mpmath.workdps(40):
        z = mpmath.mpf(v) - mpmath.mpf(n * (n + 1)) / 4
        z = z - mpmath.sign(z) / 2
        sigma = mpmath.sqrt(mpmath.mpf(n * (n + 1) * (2 * n + 1)) / 24 - mpmath.mpf(tie) / 48)
        return float(mpmath.log(2 * mpmath.ncdf(-abs(z / sigma))))


def _above(w, mu):
    """R's statistic V - n (n + 1) / 4 at a location mu that is no data value and no
    Walsh average: the Walsh averages above mu minus half their number (Tukey)."""
    return (w > mu).sum() - w.size / 2


def _padded_block(ts, ns):
    """All cases in one block, each padded with missing pairs to the longest."""
    s = max(len(t) for t in ts)
    tumor = np.full((len(ts), s), np.nan)
    normal = np.full((len(ts), s), np.nan)
    for f, (t, n) in enumerate(zip(ts, ns)):
        tumor[f, :len(t)] = t
        normal[f, :len(n)] = n
    return tumor, normal


def _check_against_r(rows, ts, ns):
    """Compare the kernel with R's wilcox.test(paired = TRUE) rows (one block call and
    per case). Returns (cases checked, largest |R's estimate - Walsh median| in the
    normal case)."""
    tumor, normal = _padded_block(ts, ns)
    eff_b, n_b, lp_b = signed_rank_block(tumor, normal, min_pairs=1)
    checked = 0
    worst = 0.0
    for f, (row, t, n) in enumerate(zip(rows, ts, ns)):
        case = row["case"]
        d = _diffs(t, n)
        e, c, lp = _one(t, n)
        assert (e, c, lp) == (eff_b[f], n_b[f], lp_b[f]) or np.isnan(e) and np.isnan(eff_b[f]), case
        assert int(row["n_pairs"]) == d.size and int(row["n_nonzero"]) == np.count_nonzero(d), case
        if row["p"] == "NA":  # no nonzero difference: R gives no p
            assert np.count_nonzero(d) == 0, case
            assert np.isnan(e) and c == 0 and np.isnan(lp), case
            continue
        assert c == d.size, case
        exact = row["exact"] == "TRUE"
        assert exact == _expected_exact(d), case
        v, tie_sum, ties = _stat(d)
        assert v == float(row["V"]), case
        nz = d[d != 0.0]
        assert ties == (tie_sum > 0) == (np.unique(np.abs(nz)).size < nz.size), case
        p = float(row["p"])
        if p > 0.0:
            assert math.exp(lp) == pytest.approx(p, rel=1e-12), case
            if p < 1e-10:
                assert lp == pytest.approx(math.log(p), rel=1e-13), case
        else:  # R's pnorm underflows; the kernel keeps the tail
            assert np.isfinite(lp) and lp < math.log(1e-300), case
            assert lp == pytest.approx(_log_p_normal_mp(d), rel=1e-12), case
        scale = max(1.0, np.abs(d).max())
        assert e == pytest.approx(float(row["walsh"]), rel=1e-12, abs=1e-15 * scale), case
        est = row["estimate"]
        if exact:
            assert e == pytest.approx(float(est), rel=1e-12, abs=1e-15 * scale), case
        elif est != "NA":
            # R's estimate is a uniroot() point of the step where its statistic is 0
            est = float(est)
            w = _walsh(d)
            tol = 1.5 * R_TOL_ROOT + 1e-12 * scale
            assert _above(w, est - tol) >= -0.5 and _above(w, est + tol) <= 0.5, case
            worst = max(worst, abs(est - e))
        checked += 1
    return checked, worst


# ------------------------------------------------------------------ against R


def test_signed_rank_block__matches_stored_r_reference():
    rows = read_tsv(R_TABLE)
    assert len(rows) > 130
    ts = [vec(r["tumor"]) for r in rows]
    ns = [vec(r["normal"]) for r in rows]
    checked, worst = _check_against_r(rows, ts, ns)
    assert checked == len(rows) - 3  # allzero_n15, allzero_n60, missing_all
    kinds = {r["case"].split("_")[0] for r in rows}
    assert {"exact", "normal", "ties", "zeros", "allzero", "missing", "extreme", "centre",
            "boundary10", "boundary50", "coarse"} <= kinds
    assert sum(r["exact"] == "TRUE" for r in rows) > 60
    assert sum(r["exact"] == "FALSE" for r in rows) > 60
    # R's normal-case estimate is not the Walsh median: with coarse data it is off by
    # up to the width of the step where its statistic is 0
    assert worst > 1e-3
    ps = [float(r["p"]) for r in rows if r["p"] != "NA"]
    assert min(p for p in ps if p > 0) < 1e-160 and 0.0 in ps and 1.0 in ps


def test_signed_rank_block__stored_r_boundaries():
    rows = {r["case"]: r for r in read_tsv(R_TABLE)}
    # 49 nonzero differences are exact, 50 are not, nor 49 nonzero among 50 pairs; 52
    # pairs with 3 missing are 49: exact again
    for s in ("+0.0", "+0.5"):
        assert rows[f"boundary50_n49_shift{s}"]["exact"] == "TRUE"
        assert rows[f"boundary50_n50_shift{s}"]["exact"] == "FALSE"
        assert rows[f"boundary50_n50_zero_shift{s}"]["exact"] == "FALSE"
        assert rows[f"boundary50_n52_missing_shift{s}"]["exact"] == "TRUE"
    # the default minimum of 10 pairs with both values
    for case, expected in [("boundary10_n9", 0), ("boundary10_n10", 10), ("boundary10_n11", 11),
                           ("boundary10_missing_n12", 10), ("boundary10_zero_n10", 10)]:
        t, n = vec(rows[case]["tumor"]), vec(rows[case]["normal"])
        e, c, lp = _one(t, n, min_pairs=10)
        assert c == expected, case
        assert np.isnan(lp) == (expected == 0), case
        if expected:
            assert math.exp(lp) == pytest.approx(float(rows[case]["p"]), rel=1e-12), case
    # the smallest exact p: every one of 49 differences positive, p = 2 / 2^49
    e, c, lp = _one(vec(rows["extreme_exact_n49_up"]["tumor"]), vec(rows["extreme_exact_n49_up"]["normal"]))
    assert lp == pytest.approx(-48.0 * math.log(2.0), rel=1e-14) and e == 25.5


@pytest.mark.rlang
def test_signed_rank_block__matches_live_rscript(rscript, rng, tmp_path):
    cases = []
    for k in range(80):
        kind = k % 5
        if kind == 0:  # exact sizes
            m = int(rng.integers(1, 50))
        elif kind == 4:  # around the switch at 50
            m = int(rng.integers(45, 56))
        else:
            m = int(rng.integers(2, 250))
        base = rng.normal(size=m) * rng.uniform(0.5, 3.0)
        t = base + rng.normal(size=m) + rng.choice([0.0, 0.3, -1.0, 3.0])
        n = base + rng.normal(size=m) * 0.3
        if kind == 1:  # ties and zeros
            t, n = np.round(t), np.round(n)
        elif kind == 2:  # missing and infinite values
            t[rng.random(m) < 0.15] = np.nan
            n[rng.random(m) < 0.1] = np.nan
            t[rng.integers(0, m)] = np.inf
            n[rng.integers(0, m)] = -np.inf
        elif kind == 3:  # some pairs equal
            same = rng.random(m) < 0.2
            n[same] = t[same]
        cases.append((f"live{k}", t, n))
    rows = run_r(rscript, R_SCRIPT, ["case", "tumor", "normal"],
                 [[name, fmt_vec(t), fmt_vec(n)] for name, t, n in cases], tmp_path)
    checked, _ = _check_against_r(rows, [c[1] for c in cases], [c[2] for c in cases])
    assert checked >= 75
    assert sum(r["exact"] == "TRUE" for r in rows) >= 15
    assert sum(r["exact"] == "FALSE" for r in rows) >= 30


# ------------------------------------------------------------------ against scipy


def test_signed_rank_block__matches_scipy_on_stored_cases():
    n_exact = n_normal = 0
    for row in read_tsv(R_TABLE):
        d = _diffs(vec(row["tumor"]), vec(row["normal"]))
        if row["p"] in ("NA", "0"):
            continue
        e, c, lp = _one(vec(row["tumor"]), vec(row["normal"]))
        if _expected_exact(d):
            ref = st.wilcoxon(d, zero_method="wilcox", correction=True, method="exact").pvalue
            n_exact += 1
        else:
            ref = st.wilcoxon(d, zero_method="wilcox", correction=True, method="asymptotic").pvalue
            n_normal += 1
        assert math.exp(lp) == pytest.approx(ref, rel=1e-10), row["case"]
    assert n_exact > 60 and n_normal > 60


def test_signed_rank_block__matches_scipy_on_random_block(rng):
    nf, s = 200, 58  # about 49 pairs with both values: exact and normal cases
    base = rng.normal(size=(nf, s))
    tumor = base + rng.normal(size=(nf, s)) + rng.normal(size=(nf, 1))
    normal = base + 0.5 * rng.normal(size=(nf, s))
    tumor[::4] = np.round(tumor[::4])  # ties and zeros
    normal[::4] = np.round(normal[::4])
    tumor[rng.random(tumor.shape) < 0.08] = np.nan
    normal[rng.random(normal.shape) < 0.08] = np.nan
    perm = rng.permutation(s)  # participants in any order
    effect, n, logp = signed_rank_block(tumor[:, perm], normal[:, perm])
    exact_seen = normal_seen = 0
    for f in range(nf):
        d = _diffs(tumor[f], normal[f])
        assert n[f] == d.size
        assert effect[f] == np.median(_walsh(d))
        if _expected_exact(d):
            method = "exact"
            exact_seen += 1
        else:
            method = "asymptotic"
            normal_seen += 1
        ref = st.wilcoxon(d, zero_method="wilcox", correction=True, method=method).pvalue
        assert math.exp(logp[f]) == pytest.approx(ref, rel=1e-10)
    assert exact_seen > 60 and normal_seen > 60


# ------------------------------------------------------------------ exact distribution


def _enumerated_counts(n):
    """Number of sign patterns of the ranks 1..n with each V, by enumeration."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    for signs in itertools.product((0, 1), repeat=n):
        counts[sum(r for r, s in zip(range(1, n + 1), signs) if s)] += 1
    return counts


def test_exact_cdf_table__matches_enumeration():
    cdf, offs = exact_cdf_table()
    assert cdf.dtype == np.float64 and offs.shape == (EXACT_MAX,) and offs[0] == -1
    for n in range(1, 13):
        counts = _enumerated_counts(n)
        u = n * (n + 1) // 2
        ref = np.cumsum(counts)[:u // 2 + 1] / 2.0 ** n
        np.testing.assert_allclose(cdf[offs[n]:offs[n] + u // 2 + 1], ref, rtol=1e-14)


def test_exact_p__matches_brute_force(rng):
    for trial in range(60):
        n = int(rng.integers(1, 13))
        counts = _enumerated_counts(n)
        d = rng.permutation(np.arange(1, n + 1) + rng.uniform(0, 0.5, n)) * rng.choice([-1, 1], n)
        e, c, lp = _one(d, np.zeros(n))
        v = float(np.arange(1, n + 1)[np.argsort(np.argsort(np.abs(d)))][d > 0].sum())
        assert _stat(d)[0] == v
        upper = counts[int(v):].sum() / 2.0 ** n
        lower = counts[:int(v) + 1].sum() / 2.0 ** n
        assert math.exp(lp) == pytest.approx(min(1.0, 2 * min(upper, lower)), rel=1e-13), (n, v)


def test_exact_cdf_table__large_n():
    cdf, offs = exact_cdf_table()
    for n in (49, 30, 17, 1):
        u = n * (n + 1) // 2
        tail = cdf[offs[n]:offs[n] + u // 2 + 1]
        assert tail[0] == pytest.approx(2.0 ** -n, rel=1e-14)
        assert np.all(np.diff(tail) > 0)
        # symmetry: P[V <= u/2] + P[V <= u/2 - 1] = 1 (u even), 2 P[V <= (u-1)/2] = 1 (u odd)
        if u % 2 == 0:
            assert tail[-1] + tail[-2] == pytest.approx(1.0, rel=1e-13)
        else:
            assert 2 * tail[-1] == pytest.approx(1.0, rel=1e-13)


# ------------------------------------------------------------------ pseudo-median


@pytest.mark.parametrize("kind", ["continuous", "ties", "zeros", "scales"])
def test_signed_rank_block__effect_is_walsh_median(rng, kind):
    for trial in range(120):
        m = int(rng.integers(1, 260))
        t = rng.normal(size=m) + rng.normal()
        n = rng.normal(size=m) * rng.uniform(0.2, 3.0)
        if kind == "ties":
            t, n = np.round(t * 2), np.round(n * 2)
        elif kind == "zeros":
            same = rng.random(m) < 0.6
            n[same] = t[same]
        elif kind == "scales":
            t = t * 10.0 ** rng.integers(-6, 7, size=m)
        e, c, lp = _one(t, n)
        d = t - n
        if not np.any(d != 0):
            assert c == 0
            continue
        assert e == np.median(_walsh(d)), (kind, trial, m)


def test_walsh_select__every_rank(rng):
    for n in (1, 2, 3, 7, 40, 130):
        for s in (np.sort(rng.normal(size=n)), np.sort(np.round(rng.normal(size=n))),
                  np.sort(np.where(rng.random(n) < 0.5, 1.0, -2.0))):
            ref = np.sort(0.5 * np.add.outer(s, s)[np.triu_indices(n)])
            work = [np.empty(n, dtype=np.int64) for _ in range(4)]
            buf = np.empty(2 * n + 32)
            ranks = range(ref.size) if ref.size < 200 else rng.integers(0, ref.size - 1, 60)
            for k in ranks:
                a, b = sr._walsh_select(s, n, int(k), bool(k + 1 < ref.size), *work, buf)
                assert a == ref[k]
                assert b == (ref[k + 1] if k + 1 < ref.size else ref[k])


def test_signed_rank_block__effect_large_n(rng):
    t = rng.standard_t(3, size=(3, 1500))
    n = rng.standard_t(3, size=(3, 1500)) - 0.2
    n[1, :700] = t[1, :700]  # many zeros
    effect, c, _ = signed_rank_block(t, n)
    for f in range(3):
        assert effect[f] == np.median(_walsh(t[f] - n[f]))
        assert c[f] == 1500


# ------------------------------------------------------------------ far tail


def test_signed_rank_block__far_tail_beyond_double():
    # 3000 positive differences: z is about 47, p far below 1e-308 (R returns 0)
    t = np.arange(1.0, 3001.0)
    e, c, lp = _one(t, np.zeros(3000))
    assert e == 1500.5 and c == 3000
    ref = _log_p_normal_mp(t)
    assert ref < -1000.0
    assert lp == pytest.approx(ref, rel=1e-12)
    assert signed_log10p(e, lp) == pytest.approx(-ref / math.log(10.0), rel=1e-12)
    e2, _, lp2 = _one(np.zeros(3000), t)
    assert e2 == -1500.5 and lp2 == lp
    assert signed_log10p(e2, lp2) < -480.0


def test_signed_rank_block__sixty_positive_pairs():
    # all 60 differences positive: normal approximation, V = 1830, p as R's 1.67e-11
    e, c, lp = _one(np.arange(1.0, 61.0) + 0.25, np.full(60, 0.25))
    assert c == 60 and e == 30.5
    assert math.exp(lp) == pytest.approx(1.6713285696526445e-11, rel=1e-12)
    assert lp == pytest.approx(_log_p_normal_mp(np.arange(1.0, 61.0)), rel=1e-13)


def test_signed_rank_block__p_one_at_the_centre():
    # V exactly at n (n + 1) / 4: z = 0 (normal) or 2 P > 1 (exact); p capped at 1
    e, c, lp = _one(np.array([1.0, -2.0, -3.0, 4.0]), np.zeros(4))
    assert lp == 0.0 and e == 0.0 and c == 4
    e, c, lp = _one(np.array([1.0, 1.0, -1.0, -1.0, 2.0, -2.0]), np.zeros(6))
    assert lp == 0.0 and e == 0.0


# ------------------------------------------------------------------ properties


def test_signed_rank_block__swap_negates_effect_keeps_p(rng):
    nf, s = 150, 70
    base = rng.normal(size=(nf, s))
    tumor = base + rng.normal(size=(nf, s)) * 0.5 + rng.normal(size=(nf, 1))
    normal = base.copy()
    tumor[::3] = np.round(tumor[::3], 1)
    normal[::3] = np.round(normal[::3], 1)
    tumor[rng.random(tumor.shape) < 0.3] = np.nan  # sizes on both sides of 50
    e1, n1, lp1 = signed_rank_block(tumor, normal)
    e2, n2, lp2 = signed_rank_block(normal, tumor)
    assert np.array_equal(n1, n2) and (n1 > 0).all()
    assert np.array_equal(e2, -e1)
    # R's psignrank takes the two tails along different branches near the centre
    np.testing.assert_allclose(lp2, lp1, rtol=1e-13, atol=1e-15)
    assert np.any(e1 > 0) and np.any(e1 < 0) and np.any(lp1 < -5)


def test_signed_rank_block__independent_of_block_split(rng):
    nf, s = 60, 64
    tumor = rng.normal(size=(nf, s)).astype(np.float32) + 0.3
    normal = rng.normal(size=(nf, s)).astype(np.float32)
    tumor[rng.random(tumor.shape) < 0.2] = np.nan
    normal[::5] = tumor[::5]  # no nonzero difference: no result
    normal[6, 3] = np.inf
    normal[1::7, :20] = tumor[1::7, :20]
    whole = signed_rank_block(tumor, normal)
    for f in range(nf):
        row = signed_rank_block(tumor[f:f + 1], normal[f:f + 1])
        assert all(a[f:f + 1].tobytes() == b.tobytes() for a, b in zip(whole, row)), f
    parts = [signed_rank_block(tumor[i:i + 7], normal[i:i + 7]) for i in range(0, nf, 7)]
    for k in range(3):
        assert np.concatenate([p[k] for p in parts]).tobytes() == whole[k].tobytes()
    # float32 is the float64 of the same values; other layouts and mixed dtypes alike
    r64 = signed_rank_block(tumor.astype(np.float64), normal.astype(np.float64))
    mixed = signed_rank_block(np.asfortranarray(tumor), normal.astype(np.float64))
    assert all(a.tobytes() == b.tobytes() == c.tobytes() for a, b, c in zip(whole, r64, mixed))
    assert (whole[1][::5] == 0).all() and (whole[1][1::5] > 0).all()
    assert whole[0].dtype == np.float64 and whole[1].dtype == np.int32 and whole[2].dtype == np.float64


def test_signed_rank_block__min_pairs(rng):
    t = rng.normal(size=(1, 12)) + 1.0
    n = rng.normal(size=(1, 12))
    assert signed_rank_block(t, n)[1][0] == 12  # default 10
    t2 = t.copy()
    t2[0, :3] = np.nan  # 9 pairs with both values
    e, c, lp = signed_rank_block(t2, n)
    assert np.isnan(e[0]) and c[0] == 0 and np.isnan(lp[0])
    assert signed_rank_block(t2, n, min_pairs=9)[1][0] == 9
    n2 = n.copy()
    n2[0, 3:5] = -np.inf  # a missing normal value removes the pair too
    assert signed_rank_block(t2, n2, min_pairs=8)[1][0] == 0
    assert signed_rank_block(t2, n2, min_pairs=7)[1][0] == 7
    assert signed_rank_block(t, n, min_pairs=12)[1][0] == 12
    assert signed_rank_block(t, n, min_pairs=13)[1][0] == 0  # more than the columns
    # a zero difference counts as a pair but needs a nonzero one beside it
    z = t.copy()
    z[0, :11] = n[0, :11]
    e, c, lp = signed_rank_block(z, n)
    assert c[0] == 12 and e[0] == z[0, 11] - n[0, 11] and lp[0] == 0.0
    z[0, 11] = n[0, 11]
    e, c, lp = signed_rank_block(z, n)
    assert c[0] == 0 and np.isnan(e[0]) and np.isnan(lp[0])


def test_signed_rank_block__empty_inputs():
    e, n, lp = signed_rank_block(np.empty((0, 30)), np.empty((0, 30)))
    assert e.shape == n.shape == lp.shape == (0,)
    assert e.dtype == np.float64 and n.dtype == np.int32 and lp.dtype == np.float64
    e, n, lp = signed_rank_block(np.full((2, 15), np.nan), np.ones((2, 15)))
    assert (n == 0).all() and np.isnan(e).all() and np.isnan(lp).all()


def test_signed_rank_block__input_validation(rng):
    t = rng.normal(size=(3, 10))
    with pytest.raises(ValueError, match=r"tumor \(3, 10\) and normal \(3, 9\)"):
        signed_rank_block(t, t[:, :9])
    with pytest.raises(ValueError, match=r"tumor \(2, 10\) and normal \(3, 10\)"):
        signed_rank_block(t[:2], t)
    with pytest.raises(ValueError, match="tumor must be 2-D"):
        signed_rank_block(t[0], t[0])
    with pytest.raises(ValueError, match="normal must be 2-D"):
        signed_rank_block(t, t[None])
    for bad in (0, -1, 2.5, 10.0, True, None, "10"):
        with pytest.raises(ValueError, match="min_pairs"):
            signed_rank_block(t, t, min_pairs=bad)
