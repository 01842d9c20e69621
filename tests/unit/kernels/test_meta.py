"""Stouffer meta p (kernels/meta.py) against a plain per-pair implementation of STATS.md."""

import math

import mpmath
import numpy as np
import pytest

from linkscan.kernels.meta import stouffer

F32MAX = float(np.finfo(np.float32).max)


def _reference(row, min_cohorts=1):
    """STATS.md's five steps for one association, written plainly in mpmath."""
    vals = [float(v) for v in row if not math.isnan(v)]
    k = len(vals)
    if k < max(min_cohorts, 1):
        return math.nan
    if k == 1:
        return vals[0]
    signs = [1 if v >= 0 else -1 for v in vals]
    s = 1 if sum(signs) >= 0 else -1  # a tie counts as +
    finite = [abs(v) for v in vals if abs(v) < F32MAX]
    # 1 - p/2 for p = 1e-400 needs 400+ digits
    with mpmath.workdps(40 + int(max(finite, default=0.0))):
        z = mpmath.mpf(0)
        for v, si in zip(vals, signs):
            p = mpmath.mpf(0) if abs(v) >= F32MAX else mpmath.power(10, -abs(v))
            q = p / 2 if si == s else 1 - p / 2
            z += mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * q)  # Phi^-1(1 - q)
        z /= mpmath.sqrt(k)
        big_p = mpmath.erfc(z / mpmath.sqrt(2)) / 2  # 1 - Phi(Z)
        if big_p < 0.5:
            p_meta, sign = 2 * big_p, s
        else:
            p_meta, sign = 2 * (1 - big_p), -s
        if p_meta == 0:
            return sign * F32MAX
        return float(sign * -mpmath.log10(p_meta))


def _check(rows, min_cohorts=1):
    width = max(len(r) for r in rows)
    rows = np.array([list(r) + [np.nan] * (width - len(r)) for r in rows], dtype=np.float64)
    got, k = stouffer(rows, min_cohorts=min_cohorts)
    assert got.dtype == np.float64 and got.shape == (rows.shape[0],)
    assert k.dtype == np.int16
    for row, g, kk in zip(rows, got, k):
        assert kk == np.count_nonzero(~np.isnan(row))
        ref = _reference(row, min_cohorts)
        if math.isnan(ref):
            assert math.isnan(g), row
        else:
            assert g == pytest.approx(ref, rel=1e-9, abs=1e-12), row
    return got


def test_stouffer__all_cohorts_agree():
    got = _check([[3.0, 4.0, 5.0], [-2.0, -1.0, -0.5, -7.0], [1.3, 0.2], [0.01, 0.02, 0.03]])
    assert got[0] > 5.0 and got[1] < -5.0


def test_stouffer__split_directions():
    got = _check([
        [3.0, -1.0, 2.0],  # 2 vs 1
        [-3.0, 1.0, -2.0],
        [3.0, -4.0],  # even split: majority + by the tie rule, result points -
        [-3.0, 4.0],  # even split: majority + again
        [2.0, -2.0],  # exact cancellation: Z = 0, p = 1
        [1.0, 2.0, -0.5, -6.0],
        [0.5, 0.5, -8.0],  # majority + but the strong - cohort wins: sign -s
    ])
    assert got[2] < 0 and got[3] > 0
    assert got[4] == 0.0 and not np.signbit(got[4])
    assert got[6] < 0


def test_stouffer__single_cohort_passes_through():
    rows = np.array([[np.nan, -3.25, np.nan], [7.5, np.nan, np.nan], [np.nan, np.nan, F32MAX],
                     [0.0, np.nan, np.nan], [np.nan, np.nan, 1234.5]])
    got, k = stouffer(rows)
    assert got.tobytes() == np.array([-3.25, 7.5, F32MAX, 0.0, 1234.5]).tobytes()
    assert (k == 1).all()


def test_stouffer__nan_cohorts_and_no_cohorts():
    got = _check([[np.nan, 2.0, np.nan, -1.0, 3.0], [np.nan] * 5, [np.nan, np.nan, 0.0, 0.0, np.nan]])
    assert math.isnan(got[1])
    got, k = stouffer(np.empty((0, 3)))
    assert got.shape == (0,) and k.shape == (0,)


def test_stouffer__p_equal_1_counts_as_positive():
    got = _check([[0.0, -0.0, 0.0], [-0.0, -0.0, -1.0], [0.0, -0.5, -0.0]])
    # two cohorts with p = 1 (+) outvote one negative cohort
    got2 = _check([[-0.0, 0.0, -3.0]])
    assert got2[0] < 0  # majority + but the - cohort carries the evidence


def test_stouffer__extreme_p():
    got = _check([
        [320.0, 400.0],
        [320.0, 400.0, -2.0],
        [-320.0, 5.0, 3.0],  # majority +, one huge - cohort
        [400.0, -320.0],  # split, both beyond double range
        [600.0, 2.0, 1.0],
    ])
    assert got[0] > 400.0  # not flattened at 2.2e-16 or 1e-308
    assert got[2] < -60.0  # Z = (-38.2 + 4.6 + 3.1) / sqrt(3)


def test_stouffer__p_zero_cohort():
    got, _ = stouffer(np.array([[F32MAX, 2.0, -1.0], [-F32MAX, -3.0, np.nan],
                                [2.0, 3.0, -F32MAX]]))
    assert got[0] == F32MAX and got[1] == -F32MAX
    assert got[2] == -F32MAX  # majority + but an infinitely strong - cohort
    got, _ = stouffer(np.array([[F32MAX, -F32MAX, 1.0]], dtype=np.float32))
    assert math.isnan(got[0])  # p = 0 both ways: undefined


def test_stouffer__min_cohorts():
    rows = [[2.0, np.nan, np.nan], [2.0, 3.0, np.nan], [2.0, 3.0, -1.0]]
    got = _check(rows, min_cohorts=2)
    assert math.isnan(got[0]) and not math.isnan(got[1])
    got = _check(rows, min_cohorts=3)
    assert math.isnan(got[0]) and math.isnan(got[1]) and not math.isnan(got[2])
    got = _check(rows, min_cohorts=0)  # at least one cohort is always required
    assert not np.isnan(got).any()
    with pytest.raises(ValueError):
        stouffer(np.ones(3))


def test_stouffer__random_rows(rng):
    rows = rng.choice([-1.0, 1.0], size=(60, 5)) * rng.exponential(3.0, size=(60, 5))
    rows[rng.random(rows.shape) < 0.25] = np.nan
    rows[::7, 0] *= 50.0  # some extreme cohorts
    _check(rows)


def test_stouffer__same_bytes_for_any_memory_layout(rng):
    """A tile passes a transposed view; the meta p must not depend on it (10 cohorts:
    numpy's unrolled reduction would sum them in another order)."""
    s = rng.uniform(-30, 30, (500, 10))
    s[rng.random(s.shape) < 0.2] = np.nan
    c_order, _ = stouffer(np.ascontiguousarray(s))
    f_order, _ = stouffer(np.asfortranarray(s))
    view, _ = stouffer(np.ascontiguousarray(s.T).T)
    assert c_order.tobytes() == f_order.tobytes() == view.tobytes()
