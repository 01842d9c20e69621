"""Benjamini-Hochberg q-values (kernels/multitest.py) against R, scipy and tiles."""

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as st

from linkscan.kernels.multitest import (
    BHTable,
    bh_log10_table,
    bh_logq,
    bh_lookup,
    bh_table,
    logp_value_counts,
    merge_value_counts,
)

from rref import R_DIR, fmt_vec, read_tsv, run_r, vec

R_SCRIPT = R_DIR / "multitest_reference.R"
R_TABLE = R_DIR / "multitest_reference.tsv"


# ------------------------------------------------------------------ helpers


def _log(p):
    with np.errstate(divide="ignore"):
        return np.log(p)


def _direct_logq(logp):
    """The BH definition written plainly in log space, O(m^2):
    log q_i = min(0, min over j with p_j >= p_i of log p_j + log m - log r_j),
    r_j = #{k : p_k <= p_j}."""
    vals = [float(v) for v in logp if not math.isnan(v)]
    m = len(vals)
    out = []
    for v in logp:
        if math.isnan(v):
            out.append(math.nan)
            continue
        best = math.inf
        for w in vals:
            if w >= v:
                r = sum(1 for u in vals if u <= w)
                best = min(best, w + math.log(m) - math.log(r))
        out.append(min(best, 0.0))
    return np.array(out)


def _mixed_logp(rng, m, *, frac_signal=0.2, frac_nan=0.1, tie_digits=None):
    p = rng.uniform(size=m)
    sig = rng.random(m) < frac_signal
    p[sig] = 10.0 ** -rng.uniform(0.0, 300.0, size=sig.sum())
    if tie_digits is not None:
        p = np.array([float(f"{a:.{tie_digits}g}") for a in p])
    logp = np.log(p)
    logp[rng.random(m) < frac_nan] = np.nan
    return logp


def _check_against_r(rows):
    checked = 0
    for row in rows:
        p = vec(row["p"])
        q = vec(row["q"])
        got = bh_logq(_log(p))
        assert np.array_equal(np.isnan(got), np.isnan(q)), row["case"]
        ok = ~np.isnan(q)
        np.testing.assert_allclose(np.exp(got[ok]), q[ok], rtol=1e-12, atol=0,
                                   err_msg=row["case"])
        checked += int(ok.sum())
    return checked


# ------------------------------------------------------------------ against R and scipy


def test_bh_logq__matches_stored_r_reference():
    rows = read_tsv(R_TABLE)
    assert len(rows) > 50
    assert _check_against_r(rows) > 5000
    kinds = {r["case"].split("_")[0] for r in rows}
    assert {"mixed", "ties", "na", "ones", "tiny"} <= kinds


@pytest.mark.rlang
def test_bh_logq__matches_live_rscript(rscript, rng, tmp_path):
    cases = []
    for k in range(40):
        m = int(rng.choice([1, 2, 5, 30, 400]))
        logp = _mixed_logp(rng, m, tie_digits=[None, 1, 2][k % 3])
        cases.append((f"live{k}", np.exp(logp)))
    cases.append(("with_ones", np.array([1.0, 0.3, 1.0, np.nan, 1e-5])))
    rows = run_r(rscript, R_SCRIPT, ["case", "p"], [[name, fmt_vec(p)] for name, p in cases], tmp_path)
    assert _check_against_r(rows) > 1000


@pytest.mark.parametrize("tie_digits", [None, 1, 3])
def test_bh_logq__matches_scipy_false_discovery_control(rng, tie_digits):
    for m in (1, 2, 17, 1000, 20000):
        logp = _mixed_logp(rng, m, frac_nan=0.0, tie_digits=tie_digits)
        ref = st.false_discovery_control(np.exp(logp), method="bh")
        np.testing.assert_allclose(np.exp(bh_logq(logp)), ref, rtol=1e-12, atol=0)


# ------------------------------------------------------------------ cases


def test_bh_logq__ties_nan_and_ones():
    p = np.array([0.01, np.nan, 0.04, 0.01, 1.0, 0.04, np.nan, 1.0, 0.5])
    logq = bh_logq(_log(p))
    assert np.isnan(logq[[1, 6]]).all()
    # m = 7 (NaN excluded); 0.01 has rank 2, 0.04 rank 4, 0.5 rank 5, 1 rank 7
    q = np.exp(logq)
    assert q[0] == q[3] == pytest.approx(7 * 0.01 / 2, rel=1e-15)
    assert q[2] == q[5] == pytest.approx(7 * 0.04 / 4, rel=1e-15)
    assert q[8] == pytest.approx(7 * 0.5 / 5, rel=1e-15)
    assert logq[4] == 0.0 and logq[7] == 0.0  # p = 1 gives q = 1
    assert logq[0].tobytes() == logq[3].tobytes()  # ties: the same bytes


def test_bh_logq__tiny_p_matches_direct_log_computation(rng):
    logp = np.array([-1000.0, -1000.0, -2000.0, -745.0, -1e-3, np.nan, -3.0, -999.0,
                     -np.inf, 0.0])
    got = bh_logq(logp)
    ref = _direct_logq(logp)
    assert np.isnan(got[5])
    assert got[8] == -np.inf and ref[8] == -np.inf  # p = 0 stays 0
    ok = np.isfinite(ref)
    np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-12, atol=0)
    assert got[0] == pytest.approx(-1000.0 + math.log(9 / 4), rel=1e-15)
    # a random mixture far below 1e-308
    logp = -rng.exponential(800.0, size=300)
    logp[::7] = logp[::7].round()  # ties
    np.testing.assert_allclose(bh_logq(logp), _direct_logq(logp), rtol=1e-12, atol=0)


def test_bh_logq__empty_and_all_nan():
    assert bh_logq(np.zeros(0)).shape == (0,)
    out = bh_logq(np.full(4, np.nan))
    assert out.shape == (4,) and np.isnan(out).all()
    assert bh_logq(np.array([-2.0]))[0] == -2.0  # m = 1: q = p


# ------------------------------------------------------------------ tiles


def test_bh_logq__tiles_give_the_same_bytes(rng):
    m = 100_000
    logp = _mixed_logp(rng, m, frac_nan=0.05)
    logp[rng.integers(0, m, 2000)] = logp[rng.integers(0, m, 2000)]  # exact ties
    logp[rng.integers(0, m, 50)] = 0.0  # p = 1
    logp[rng.integers(0, m, 10)] = -np.inf  # p = 0
    whole = bh_logq(logp)
    # 37 random chunks, visited in a random order
    cuts = np.sort(rng.choice(np.arange(1, m), size=36, replace=False))
    chunks = np.split(logp, cuts)
    assert len(chunks) == 37
    visit = rng.permutation(37)
    # route 1: gather all values, sort once, map every chunk back
    gathered = np.concatenate([chunks[i][~np.isnan(chunks[i])] for i in visit])
    table = bh_table(np.sort(gathered))
    assert table.m == int((~np.isnan(logp)).sum())
    tiled = np.concatenate([bh_lookup(table, c) for c in chunks])
    assert tiled.tobytes() == whole.tobytes()
    # route 2: each chunk ships its distinct values and counts
    merged = merge_value_counts(logp_value_counts(chunks[i]) for i in visit)
    table2 = bh_table(*merged)
    assert isinstance(table2, BHTable)
    assert table2.logp.tobytes() == table.logp.tobytes()
    assert table2.logq.tobytes() == table.logq.tobytes() and table2.m == table.m
    tiled2 = np.concatenate([bh_lookup(table2, c) for c in chunks])
    assert tiled2.tobytes() == whole.tobytes()
    # 2-D tiles map back in their own shape
    block = chunks[visit[0]][: 6 * (len(chunks[visit[0]]) // 6)].reshape(6, -1)
    assert bh_lookup(table, block).shape == block.shape


@pytest.mark.parametrize("step", [1, 2, 7, 1000, 1 << 22])
def test_bh_log10_table__same_bits_as_bh_table_in_any_steps(rng, step):
    """The finish's in-place table of float32 -log10 p against bh_table of the natural
    logs (the route it replaced): the same values and the same float32 log10 q, whatever
    the step, with ties that straddle steps, p = 1 (0), p = 0 (the float32 max) and runs
    longer than a step."""
    x = (rng.standard_exponential(20_000) / math.log(10)).astype(np.float32)
    x[rng.integers(0, x.size, 4000)] = x[rng.integers(0, x.size, 4000)]
    x[:30] = 0.0
    x[30:35] = np.finfo(np.float32).max
    x[35:60] = x[100]
    values, counts = np.unique(x, return_counts=True)
    expected = bh_table(-values[::-1].astype(np.float64) * math.log(10.0), counts[::-1])
    got_values, log10q = bh_log10_table(x.copy(), step)
    assert got_values.tobytes() == values.tobytes()
    assert log10q.tobytes() == (expected.logq[::-1] / math.log(10.0)).astype(np.float32).tobytes()
    # and against the plain definition on a small sample
    small = x[rng.choice(x.size, 300, replace=False)]
    small_values, small_q = bh_log10_table(small.copy(), step)
    direct = np.asarray(_direct_logq(-small.astype(np.float64) * math.log(10.0))) / math.log(10.0)
    at = np.searchsorted(small_values, small)
    np.testing.assert_allclose(small_q[at], direct, rtol=1e-6, atol=1e-7)


def test_bh_log10_table__edges_and_errors():
    values, log10q = bh_log10_table(np.zeros(0, dtype=np.float32))
    assert values.size == 0 and log10q.size == 0
    values, log10q = bh_log10_table(np.full(5, 2.0, dtype=np.float32), step=2)  # one value, 5 tests
    assert values.tolist() == [2.0] and log10q.tolist() == [np.float32(-2.0)]
    for bad, match in [(np.array([1.0, np.nan], np.float32), "without NaN"),
                       (np.array([-1.0, 2.0], np.float32), ">= 0"),
                       (np.array([1.0, 2.0]), "float32")]:
        with pytest.raises(ValueError, match=match):
            bh_log10_table(bad)


def test_logp_value_counts__cases():
    values, counts = logp_value_counts(np.array([[-1.0, np.nan, -3.0], [-1.0, 0.0, -3.0]]))
    assert values.tolist() == [-3.0, -1.0, 0.0] and counts.tolist() == [2, 2, 1]
    assert counts.dtype == np.int64
    values, counts = merge_value_counts([(values, counts), logp_value_counts([-2.0, -1.0]),
                                         logp_value_counts([np.nan])])
    assert values.tolist() == [-3.0, -2.0, -1.0, 0.0] and counts.tolist() == [2, 1, 3, 1]
    values, counts = merge_value_counts([])
    assert values.size == 0 and counts.size == 0
    assert bh_table(values, counts).m == 0


def test_bh_table__input_errors():
    with pytest.raises(ValueError, match="<= 0"):
        bh_logq(np.array([-1.0, 0.5]))
    with pytest.raises(ValueError, match="1-D"):
        bh_logq(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="sorted ascending"):
        bh_table(np.array([-1.0, -2.0]))
    with pytest.raises(ValueError, match="NaN"):
        bh_table(np.array([-2.0, np.nan]))
    with pytest.raises(ValueError, match="strictly increasing"):
        bh_table(np.array([-2.0, -2.0]), np.array([1, 1]))
    with pytest.raises(ValueError, match="positive integers"):
        bh_table(np.array([-2.0, -1.0]), np.array([1, 0]))
    table = bh_table(np.array([-3.0, -2.0, -2.0]))
    with pytest.raises(ValueError, match="not in the BH table"):
        bh_lookup(table, np.array([-2.0, -2.5]))
    with pytest.raises(ValueError, match="not in the BH table"):
        bh_lookup(table, np.array([-1.0]))


@pytest.mark.parametrize("m, k", [(1, 5), (10, 100), (1000, 10), (100_000, 3000)])
def test_merge_positions__equals_searchsorted_with_membership(m, k):
    """The finish's q lookup: positions of sorted needles in a sorted table, -1 when
    absent (NaN included), for tables far larger and far smaller than the needles."""
    from linkscan.kernels.multitest import merge_positions

    rng = np.random.default_rng(m + k)
    table = np.unique(rng.integers(0, 10 * m, m).astype(np.float32))
    needles = np.sort(np.concatenate([rng.choice(table, k), rng.integers(0, 10 * m, k).astype(np.float32),
                                      [np.nan]]).astype(np.float32))
    idx = np.searchsorted(table, needles)
    inside = idx < len(table)
    inside[inside] = table[idx[inside]] == needles[inside]
    got = merge_positions(table, needles)
    assert (got == np.where(inside, idx, -1)).all() and (got >= 0).sum() >= k


def test_argsort_nonnegative_f32__equals_numpy_stable():
    from linkscan.kernels.multitest import argsort_nonnegative_f32

    rng = np.random.default_rng(7)
    x = np.abs(rng.standard_cauchy(100_000)).astype(np.float32)
    x[rng.integers(0, x.size, 2000)] = np.nan
    x[rng.integers(0, x.size, 2000)] = 0.0
    x[rng.integers(0, x.size, 500)] = np.inf
    x[rng.integers(0, x.size, 3000)] = x[:3000]  # repeats: stability matters
    x[5] = np.finfo(np.float32).tiny / 2  # a subnormal
    got = argsort_nonnegative_f32(x)
    assert np.array_equal(got, np.argsort(x, kind="stable"))
    assert argsort_nonnegative_f32(np.empty(0, np.float32)).size == 0
