"""Univariate Cox kernel (kernels/cox.py) against R's coxph and an independent reference."""

import math
from pathlib import Path

import mpmath
import numpy as np
import pytest

from linkscan.kernels import cox as kc
from linkscan.kernels.cox import cox_block
from linkscan.kernels.pvalues import signed_log10p

from rref import R_DIR, fmt_vec, read_tsv, run_r, vec

R_SCRIPT = R_DIR / "cox_reference.R"
R_TABLE = R_DIR / "cox_reference.tsv"


# ------------------------------------------------------------------ helpers


def _efron_reference(x, time, event, beta):
    """(loglik, U, I) of Efron's partial likelihood, straight from the definition.

    Deliberately naive (a risk-set mask per event time, the l-th tied death weighting
    the tied deaths by 1 - l / d) so that it shares nothing with the kernel's pass.
    """
    ok = np.isfinite(x) & np.isfinite(time) & np.isfinite(event)
    x, time, event = x[ok], time[ok], event[ok]
    risk = np.exp(beta * x)
    loglik = score = info = 0.0
    for tt in np.unique(time[event == 1]):
        at_risk = time >= tt
        dead = (time == tt) & (event == 1)
        d = int(dead.sum())
        loglik += beta * x[dead].sum()
        score += x[dead].sum()
        for l in range(d):
            w = np.where(dead, 1.0 - l / d, 1.0) * at_risk * risk
            s0, s1, s2 = w.sum(), (w * x).sum(), (w * x * x).sum()
            loglik -= math.log(s0)
            score -= s1 / s0
            info += s2 / s0 - (s1 / s0) ** 2
    return loglik, score, info


def _simulate(rng, n, beta, *, event_rate=0.5, tie_grid=None):
    """x ~ N(0, 1), exponential event times with log hazard ratio beta, independent
    exponential censoring; times rounded up to multiples of tie_grid (ties) if given."""
    x = np.round(rng.normal(size=n), 4)
    t_event = rng.exponential(size=n) / np.exp(beta * x)
    t_cens = rng.exponential(size=n) * event_rate / (1.0 - event_rate)
    time = np.minimum(t_event, t_cens)
    event = (t_event <= t_cens).astype(np.float64)
    time = np.ceil(time / tie_grid) if tie_grid else np.round(time * 1e4, 0) + 1.0
    return x, time, event


def _one(x, time, event, **kw):
    hr, n, logp, conv = cox_block(np.asarray(x, dtype=np.float64)[None], time, event, **kw)
    return hr[0], n[0], logp[0], conv[0]


def _num(text):
    return math.nan if text == "NA" else float(text)


def _check_against_r(rows):
    """Compare cox_block with R's coxph output rows (inputs read from the rows, i.e.
    exactly what R fitted); returns (fits compared, non-converged cases)."""
    fits = nonconv = 0
    for row in rows:
        case = row["case"]
        x, time, event = vec(row["x"]), vec(row["time"]), vec(row["event"])
        # the statistic, not the minimums, is compared here
        hr, n, logp, conv = _one(x, time, event, min_n=2, min_side=0, min_events=1)
        assert n == int(row["n"]), case
        # p: the score test on 1 df. R's summary reports df = 0 and p = 0 where its
        # coefficient is NA (monotone likelihood); its statistic is still the score test
        p_score1 = float(row["p_score1"])
        assert math.exp(logp) == pytest.approx(p_score1, rel=1e-9), case
        if row["df"] == "1":
            assert float(row["p_sctest"]) == p_score1, case
        else:
            assert row["coef"] == "NA" and float(row["p_sctest"]) == 0.0, case
        if row["warning"] == "" and row["coef"] != "NA":
            assert conv, case
            assert hr == pytest.approx(float(row["hr"]), rel=1e-6), case
            # R refitted with eps = 1e-12: agreement far beyond R's default tolerance
            assert math.log(hr) == pytest.approx(float(row["coef_tight"]), rel=1e-9,
                                                 abs=1e-10), case
            fits += 1
        else:  # R did not converge or found an infinite coefficient
            assert not conv and np.isnan(hr), case
            nonconv += 1
    return fits, nonconv


# ------------------------------------------------------------------ against R


def test_cox_block__matches_stored_r_reference():
    rows = read_tsv(R_TABLE)
    fits, nonconv = _check_against_r(rows)
    kinds = {r["case"].split("_")[0] for r in rows}
    assert {"noties", "tiedevents", "tiedcens", "missing", "strong", "null",
            "separation"} <= kinds
    assert fits >= 45 and nonconv >= 5
    p_strong = [float(r["p_score1"]) for r in rows if r["case"].startswith("strong")]
    assert any(1e-23 < p < 1e-19 for p in p_strong)  # the p ~ 1e-20 case is there
    # R's two ways of failing on a monotone likelihood are both covered
    sep = [r for r in rows if r["case"].startswith("separation")]
    assert any(r["coef"] == "NA" and r["df"] == "0" for r in sep)
    assert any(r["warning"].startswith("Ran out of iterations") for r in sep)
    assert any(r["warning"].startswith("Loglik converged before variable") for r in sep)


@pytest.mark.rlang
def test_cox_block__matches_live_rscript(rscript, rng, tmp_path):
    cases = []
    for k in range(36):
        n = int(rng.integers(30, 220))
        beta = float(rng.choice([0.0, rng.uniform(-1.5, 1.5)]))
        kind = k % 6
        grid = {1: 0.1, 2: 0.3}.get(kind)
        x, time, event = _simulate(rng, n, beta, event_rate=rng.uniform(0.3, 0.9),
                                   tie_grid=grid)
        if kind == 2:
            x = np.round(x, 1)  # ties in x too
        elif kind == 3:
            x[rng.random(n) < 0.15] = np.nan
            time[rng.random(n) < 0.05] = np.nan
            event[rng.random(n) < 0.05] = np.nan
        elif kind == 4:
            x = x * 10.0 ** rng.integers(-2, 4) + rng.normal() * 100.0  # hr stays normal
        elif kind == 5 and k % 12 == 5:  # monotone likelihood
            time = np.argsort(np.argsort(-x)).astype(np.float64) + 1.0
        cases.append((f"live{k}", x, time, event))
    rows = run_r(rscript, R_SCRIPT, ["case", "x", "time", "event"],
                 [[name, fmt_vec(x), fmt_vec(time), fmt_vec(event)] for name, x, time, event in cases], tmp_path)
    fits, nonconv = _check_against_r(rows)
    assert fits >= 30 and nonconv >= 3


# ------------------------------------------------------------------ statistic


def test_cox_block__matches_independent_efron_reference(rng):
    # score test from the naive reference, and the fitted beta is a root of its score
    for k in range(30):
        x, time, event = _simulate(rng, int(rng.integers(25, 120)), rng.uniform(-1.2, 1.2),
                                   event_rate=0.6, tie_grid=(None, 0.05, 0.4)[k % 3])
        hr, n, logp, conv = _one(x, time, event)
        _, u0, i0 = _efron_reference(x, time, event, 0.0)
        z = abs(u0) / math.sqrt(i0)
        assert n == x.size and conv
        assert logp == pytest.approx(math.log(math.erfc(z / math.sqrt(2.0))), rel=1e-10)
        beta = math.log(hr)
        _, u_hat, i_hat = _efron_reference(x, time, event, beta)
        assert abs(u_hat / i_hat) < 1e-8 * max(1.0, abs(beta))  # Newton step left ~ 0


def test_cox_block__block_equals_single_features(rng):
    s = 90
    x = rng.normal(size=(40, s))
    _, time, event = _simulate(rng, s, 0.0, tie_grid=0.2)
    x[::4, rng.random(s) < 0.2] = np.nan
    x[5] = np.round(x[5])
    block = cox_block(x, time, event)
    for f in range(x.shape[0]):
        single = cox_block(x[f:f + 1], time, event)
        for a, b in zip(block, single):
            assert a[f].tobytes() == b[0].tobytes()
    assert block[3].all() and (block[1] > 0).all()


def test_cox_block__float32_same_as_float64(rng):
    x = rng.normal(size=(20, 60)).astype(np.float32)
    _, time, event = _simulate(rng, 60, 0.5, tie_grid=0.1)
    r32 = cox_block(x, time, event)
    r64 = cox_block(x.astype(np.float64), time, event)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(r32, r64))


def test_cox_block__sample_order_does_not_matter(rng):
    x, time, event = _simulate(rng, 80, 0.7, tie_grid=0.1)
    perm = rng.permutation(80)
    a = _one(x, time, event)
    b = _one(x[perm], time[perm], event[perm])
    assert a[1] == b[1] and a[3] and b[3]
    assert b[0] == pytest.approx(a[0], rel=1e-12)
    assert b[2] == pytest.approx(a[2], rel=1e-12)


def test_cox_block__hazard_ratio_direction_and_sign(rng):
    # higher x, earlier death: hr > 1 and slogp > 0; x negated: hr inverted, slogp < 0
    x, time, event = _simulate(rng, 150, 1.0)
    hr, _, logp, _ = _one(x, time, event)
    hr_neg, _, logp_neg, _ = _one(-x, time, event)
    assert hr > 1.5 and hr_neg == pytest.approx(1.0 / hr, rel=1e-12)
    assert logp_neg == pytest.approx(logp, rel=1e-12)
    slogp = signed_log10p(np.log([hr, hr_neg]), [logp, logp_neg])
    assert slogp[0] > 2.0 and slogp[1] == pytest.approx(-slogp[0], rel=1e-12)


def test_cox_block__far_tail_below_double_range():
    # x orders deaths almost perfectly over 3000 samples: p far below 1e-308
    r = np.random.default_rng(7)
    n = 3000
    x = r.normal(size=n)
    time = np.argsort(np.argsort(-x + 0.05 * r.normal(size=n))) + 1.0
    event = (r.random(n) < 0.7).astype(np.float64)
    hr, got_n, logp, conv = _one(x, time, event)
    _, u0, i0 = _efron_reference(x, time, event, 0.0)
    z = abs(u0) / math.sqrt(i0)
    with mpmath.workdps(40):
        ref = float(mpmath.log(mpmath.erfc(mpmath.mpf(z) / mpmath.sqrt(2))))
    assert got_n == n and logp < math.log(1e-308) and np.isfinite(logp)
    assert logp == pytest.approx(ref, rel=1e-10)
    assert conv and hr > 1.0


def test_cox_block__infinite_is_missing(rng):
    x, time, event = _simulate(rng, 60, 0.3, tie_grid=0.1)
    ref = _one(np.where(np.arange(60) < 5, np.nan, x), np.where(np.arange(60) == 7, np.nan, time),
               np.where(np.arange(60) == 9, np.nan, event))
    x2 = x.copy()
    x2[:5] = [np.inf, -np.inf, np.nan, np.inf, np.nan]
    time2 = time.copy()
    time2[7] = np.inf
    event2 = event.copy()
    event2[9] = np.nan
    got = _one(x2, time2, event2)
    assert got[1] == 53 and all(np.asarray(a).tobytes() == np.asarray(b).tobytes()
                                for a, b in zip(got, ref))


# ------------------------------------------------------------------ minimums, edge cases


def _no_result(res):
    hr, n, logp, conv = res
    return np.isnan(hr) and n == 0 and np.isnan(logp) and not conv


def test_cox_block__no_events(rng):
    x, time, _ = _simulate(rng, 50, 0.0)
    assert _no_result(_one(x, time, np.zeros(50)))


def test_cox_block__fewer_than_min_events(rng):
    x, time, _ = _simulate(rng, 50, 0.0)
    event = np.zeros(50)
    event[rng.choice(50, 5, replace=False)] = 1.0
    assert not _no_result(_one(x, time, event))  # exactly min_events = 5
    event[np.flatnonzero(event)[0]] = 0.0
    assert _no_result(_one(x, time, event))
    assert not _no_result(_one(x, time, event, min_events=4))


def test_cox_block__fewer_than_min_n(rng):
    x, time, event = _simulate(rng, 40, 0.0, event_rate=0.8)
    x[20:] = np.nan
    assert _one(x, time, event, min_side=5)[1] == 20
    assert _no_result(_one(x, time, event, min_side=5, min_n=21))


def test_cox_block__constant_feature(rng):
    _, time, event = _simulate(rng, 40, 0.0, event_rate=0.8)
    assert _no_result(_one(np.full(40, 2.5), time, event))
    assert _no_result(_one(np.full(40, 2.5), time, event, min_side=0))


def test_cox_block__all_missing(rng):
    _, time, event = _simulate(rng, 40, 0.0)
    assert _no_result(_one(np.full(40, np.nan), time, event))
    x = rng.normal(size=40)
    assert _no_result(_one(x, np.full(40, np.nan), event))
    assert _no_result(_one(x, time, np.full(40, np.nan)))
    empty = cox_block(np.empty((0, 40)), time, event)
    assert all(a.shape == (0,) for a in empty)


def test_cox_block__min_side_is_above_median_vs_at_or_below(rng):
    # sides: #(x > median) and #(x <= median), R's median (the reference's split)
    _, time, event = _simulate(rng, 30, 0.0, event_rate=0.7)
    pos = rng.uniform(1.0, 2.0, size=12)
    lower_tied = np.r_[np.zeros(18), pos]  # median 0: 12 above, 18 at or below
    assert _one(lower_tied, time, event)[1] == 30
    few_above = np.r_[np.zeros(21), pos[:9]]  # 9 above the median
    assert _no_result(_one(few_above, time, event))
    assert _one(few_above, time, event, min_side=9)[1] == 30
    upper_tied = np.r_[-pos, np.full(18, 5.0)]  # median 5 = max: nothing above
    assert _no_result(_one(upper_tied, time, event))
    assert _no_result(_one(upper_tied, time, event, min_side=1))
    assert _one(upper_tied, time, event, min_side=0)[1] == 30
    # even n: median between the middle values splits 10 / 10; odd n = 19 gives 9 above
    _, t20, e20 = _simulate(rng, 20, 0.0, event_rate=0.7)
    assert _one(np.arange(20.0), t20, e20)[1] == 20
    assert _no_result(_one(np.r_[np.arange(19.0), np.nan], t20, e20))
    assert _one(np.r_[np.arange(19.0), np.nan], t20, e20, min_side=9)[1] == 19


def test_cox_block__median_count_matches_numpy(rng):
    buf = np.empty(300)
    for _ in range(500):
        n = int(rng.integers(1, 300))
        x = rng.normal(size=n)
        if rng.random() < 0.5:
            x = np.round(x * rng.choice([1, 2, 5]))  # heavy ties
        assert kc._median_high_count(x.copy(), n, buf) == int((x > np.median(x)).sum())


def test_cox_block__zero_information_is_no_result():
    # x varies only among samples censored before the first event: no information
    x = np.r_[np.ones(12), np.zeros(12)]
    time = np.arange(1.0, 25.0)
    event = np.r_[np.zeros(12), np.ones(12)]
    assert _no_result(_one(x, time, event, min_side=10))


def test_cox_block__perfect_separation_does_not_converge(rng):
    x = rng.normal(size=60)
    time = np.argsort(np.argsort(-x)) + 1.0  # the highest x dies first, and so on
    event = (rng.random(60) < 0.6).astype(np.float64)
    hr, n, logp, conv = _one(x, time, event)
    _, u0, i0 = _efron_reference(x, time, event, 0.0)
    assert n == 60 and not conv and np.isnan(hr)
    assert logp == pytest.approx(math.log(math.erfc(abs(u0) / math.sqrt(2.0 * i0))), rel=1e-10)
    # same with every time tied in pairs of a death and a censoring of lower x
    hr, n, logp, conv = _one(x, np.ceil(time / 2.0), np.where(time % 2 == 1, 1.0, 0.0))
    assert n == 60 and not conv and np.isnan(hr) and np.isfinite(logp)


def test_cox_block__max_iter_reached_keeps_p(rng):
    x, time, event = _simulate(rng, 100, 1.0)
    full = _one(x, time, event)
    one = _one(x, time, event, max_iter=1)
    assert full[3] and not one[3] and np.isnan(one[0])
    assert one[1] == full[1] and one[2] == full[2]


def test_cox_block__bad_input():
    x = np.zeros((2, 12))
    t = np.arange(12.0)
    e = np.ones(12)
    with pytest.raises(ValueError, match="event must be 1"):
        cox_block(x, t, np.r_[np.ones(11), 2.0])
    with pytest.raises(ValueError, match="shape"):
        cox_block(x, t[:-1], e)
    with pytest.raises(ValueError, match="2-D"):
        cox_block(np.zeros(12), t, e)
    for kw in ({"min_n": 1}, {"min_side": -1}, {"min_events": 0}, {"max_iter": 0},
               {"min_n": 10.0}, {"min_side": True}):
        with pytest.raises(ValueError):
            cox_block(x, t, e, **kw)
    # bool and integer events are fine
    hr_b = cox_block(x, t, e.astype(bool))
    hr_i = cox_block(x, t, e.astype(np.int64))
    assert all(a.tobytes() == b.tobytes() for a, b in zip(hr_b, hr_i))
