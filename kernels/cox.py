r"""Univariate Cox proportional hazards for a block of features against one survival outcome.

The statistic and its p-value are those of STATS.md ("Survival: univariate Cox
proportional hazards"): per feature the model ``Surv(time, event) ~ x`` with Efron ties,
as R's ``coxph`` fits it (survival's ``coxfit6``), the score (log-rank) test at beta = 0
for p, and exp(beta) of the fitted model for the hazard ratio.

Samples are sorted by time once for the whole block; a feature's missing values only
remove samples from that order, so every likelihood evaluation is a single O(s) pass from
the latest time to the earliest that accumulates the risk-set sums
:math:`\sum e^{\beta x}`, :math:`\sum x e^{\beta x}`, :math:`\sum x^2 e^{\beta x}`
and closes one tie group at a time. The whole block runs in one compiled loop (numba,
``nogil``, single-threaded: callers parallelize over blocks), with its scratch space
allocated once per block.
"""

import math

import numpy as np
from numpy.typing import ArrayLike

from linkscan.kernels._args import count_arg, feature_block
from linkscan.kernels._jit import jit
from linkscan.kernels.pvalues import log_norm_sf

_LN2 = math.log(2.0)

#: Newton-Raphson stops when the next step, in units of the feature's mean absolute
#: deviation, is below this (the step is then applied: the error left is ~ its square).
STEP_TOL = 1e-7
#: ... and when the log-likelihood gain it predicts, U^2 / (2 I), is below this relative
#: to |loglik| (R's own criterion is the realized relative change, eps = 1e-9).
LOGLIK_TOL = 1e-9
#: A trial point whose loglik is lower than the current one by more than this (relative)
#: is a failed step and is halved; smaller differences are rounding.
_DECREASE_TOL = 1e-11
#: Information below this fraction of the summed risk-set second moments is zero: x
#: does not vary within any risk set at an event time (no result).
_ZERO_INFO = 1e-12


# --------------------------------------------------------------------------- helpers


@jit(nogil=True, error_model="numpy")
def _select(buf, n, k):
    """k-th smallest (0-based) of buf[:n], partially sorting buf in place (Hoare
    partition with median-of-three, as Numerical Recipes' ``select``). On return
    buf[:k] <= buf[k] <= buf[k+1:n]."""
    lo = 0
    hi = n - 1
    while True:
        if hi <= lo + 1:
            if hi == lo + 1 and buf[hi] < buf[lo]:
                t = buf[lo]
                buf[lo] = buf[hi]
                buf[hi] = t
            return buf[k]
        mid = (lo + hi) >> 1
        t = buf[mid]
        buf[mid] = buf[lo + 1]
        buf[lo + 1] = t
        if buf[lo] > buf[hi]:
            t = buf[lo]
            buf[lo] = buf[hi]
            buf[hi] = t
        if buf[lo + 1] > buf[hi]:
            t = buf[lo + 1]
            buf[lo + 1] = buf[hi]
            buf[hi] = t
        if buf[lo] > buf[lo + 1]:
            t = buf[lo]
            buf[lo] = buf[lo + 1]
            buf[lo + 1] = t
        i = lo + 1
        j = hi
        a = buf[lo + 1]
        while True:
            i += 1
            while buf[i] < a:
                i += 1
            j -= 1
            while buf[j] > a:
                j -= 1
            if j < i:
                break
            t = buf[i]
            buf[i] = buf[j]
            buf[j] = t
        buf[lo + 1] = buf[j]
        buf[j] = a
        if j >= k:
            hi = j - 1
        if j <= k:
            lo = i


@jit(nogil=True, error_model="numpy")
def _median_high_count(xs, n, buf):
    """Number of xs[:n] strictly above their median (R's ``median``: the mean of the two
    middle values for even n). Uses buf[:n] as scratch."""
    for k in range(n):
        buf[k] = xs[k]
    h = n // 2
    upper = _select(buf, n, h)
    if n % 2 == 1:
        med = upper
    else:
        lower = buf[0]
        for k in range(1, h):
            if buf[k] > lower:
                lower = buf[k]
        med = (lower + upper) * 0.5
    above = 0
    for k in range(n):
        if xs[k] > med:
            above += 1
    return above


@jit(nogil=True, error_model="numpy")
def _efron_pass(beta, xs, ds, fs, n, xmin, xmax):
    """(loglik, U, I, M2) of the Efron partial likelihood at beta, one reverse pass.

    xs[:n] are the feature's values in ascending time order (centered), ds[:n] the event
    flags, fs[k] is 1 where sample k is the first of its tie group (a different time
    from sample k - 1). Risk scores are exp(beta x - c) with c = max(beta x), which
    leaves loglik, U and I unchanged and cannot overflow. M2 is the summed risk-set
    second moments (scale of I for the zero-information test).
    """
    if beta >= 0.0:
        c = beta * xmax
    else:
        c = beta * xmin
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    loglik = 0.0
    u = 0.0
    info = 0.0
    m2 = 0.0
    k = n - 1
    while k >= 0:
        d = 0
        d0 = 0.0
        d1 = 0.0
        d2 = 0.0
        eta_dead = 0.0
        x_dead = 0.0
        while True:
            xv = xs[k]
            eta = beta * xv - c
            r = math.exp(eta)
            rx = r * xv
            if ds[k]:
                d += 1
                d0 += r
                d1 += rx
                d2 += rx * xv
                eta_dead += eta
                x_dead += xv
            else:
                s0 += r
                s1 += rx
                s2 += rx * xv
            first = fs[k]
            k -= 1
            if first:
                break
        if d == 0:
            continue
        loglik += eta_dead
        u += x_dead
        if d == 1:
            s0 += d0
            s1 += d1
            s2 += d2
            mean = s1 / s0
            sec = s2 / s0
            loglik -= math.log(s0)
            u -= mean
            info += sec - mean * mean
            m2 += sec
        else:
            # Efron: the l-th of the d tied deaths sees the risk set with the tied deaths
            # at weight (l + 1) / d, added in steps of 1 / d as coxfit6 does
            inv = 1.0 / d
            d0 *= inv
            d1 *= inv
            d2 *= inv
            for _ in range(d):
                s0 += d0
                s1 += d1
                s2 += d2
                mean = s1 / s0
                sec = s2 / s0
                loglik -= math.log(s0)
                u -= mean
                info += sec - mean * mean
                m2 += sec
    return loglik, u, info, m2


@jit(nogil=True, error_model="numpy")
def _newton_done(step, beta, u, loglik, scale):
    """Convergence: the next Newton step is tiny in units of x's spread and the
    log-likelihood gain it predicts is tiny relative to the log-likelihood."""
    return (abs(step) * scale <= STEP_TOL * max(1.0, abs(beta) * scale)
            and 0.5 * abs(u * step) <= LOGLIK_TOL * abs(loglik))


@jit(nogil=True, error_model="numpy")
def _fit_one(xs, ds, fs, n, scale, xmin, xmax, max_iter):
    """Score test and Newton-Raphson fit of one feature (xs centered).

    Returns (logp, beta, converged); logp is NaN where the information at beta = 0 is
    zero (no result).
    """
    loglik, u, info, m2 = _efron_pass(0.0, xs, ds, fs, n, xmin, xmax)
    if not (info > _ZERO_INFO * m2):
        return math.nan, math.nan, False
    z = abs(u) / math.sqrt(info)
    logp = _LN2 + log_norm_sf(z)
    beta = 0.0
    step = u / info
    if _newton_done(step, beta, u, loglik, scale):
        return logp, beta + step, True
    for _ in range(max_iter):
        trial = beta + step
        ll_t, u_t, info_t, _m2 = _efron_pass(trial, xs, ds, fs, n, xmin, xmax)
        if not (ll_t >= loglik - _DECREASE_TOL * (abs(loglik) + 1.0)) or not (
                math.isfinite(u_t) and math.isfinite(info_t)):
            step *= 0.5  # overshoot (or underflow): step halving, as coxph
            continue
        beta = trial
        loglik = ll_t
        u = u_t
        info = info_t
        if not info > 0.0:  # the likelihood has flattened out: beta runs to infinity
            return logp, beta, False
        step = u / info
        if _newton_done(step, beta, u, loglik, scale):
            return logp, beta + step, True
    return logp, beta, False


@jit(nogil=True, error_model="numpy")
def _cox_kernel(values, order, dead, gid, min_n, min_side, min_events, max_iter,
                hr, nout, logp, conv):
    """All features of values (nf, s): order lists the samples with finite time and event
    by ascending time, dead and gid give each one's event flag and time-group id."""
    nf = values.shape[0]
    m = order.shape[0]
    xs = np.empty(m, dtype=np.float64)
    buf = np.empty(m, dtype=np.float64)
    ds = np.empty(m, dtype=np.uint8)
    fs = np.empty(m, dtype=np.uint8)
    for f in range(nf):
        n = 0
        events = 0
        prev = -1
        total = 0.0
        for k in range(m):
            v = np.float64(values[f, order[k]])
            if math.isfinite(v):
                xs[n] = v
                ds[n] = dead[k]
                events += dead[k]
                g = gid[k]
                fs[n] = 1 if g != prev else 0
                prev = g
                total += v
                n += 1
        if n < min_n or events < min_events or n == 0:
            continue
        above = _median_high_count(xs, n, buf)
        if above < min_side or n - above < min_side:
            continue
        mean = total / n
        xmin = math.inf
        xmax = -math.inf
        mad = 0.0
        for k in range(n):
            xv = xs[k] - mean
            xs[k] = xv
            mad += abs(xv)
            if xv < xmin:
                xmin = xv
            if xv > xmax:
                xmax = xv
        if not xmax > xmin:  # constant
            continue
        scale = mad / n
        lp, beta, ok = _fit_one(xs, ds, fs, n, scale, xmin, xmax, max_iter)
        if math.isnan(lp):
            continue
        nout[f] = n
        logp[f] = lp
        conv[f] = ok
        if ok:
            hr[f] = math.exp(beta)


# --------------------------------------------------------------------------- driver


def cox_block(values: ArrayLike, time: ArrayLike, event: ArrayLike, *, min_n: int = 10,
              min_side: int = 10, min_events: int = 5, max_iter: int = 30,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Univariate Cox model ``Surv(time, event) ~ x`` for every feature of a block.

    Parameters
    ----------
    values
        (nf, s) float32/float64 block, features x samples; NaN and +-inf are missing.
    time
        (s,) follow-up times; NaN (or +-inf) is unknown.
    event
        (s,) 1 for an event (death, relapse), 0 for censored, NaN for unknown; bool and
        integer arrays are accepted. Any other value is an error.
    min_n
        Fewest usable samples (finite x, time and event) for a result; >= 2.
    min_side
        Fewest usable samples on each side of the median of x: both
        ``#(x <= median)`` and ``#(x > median)`` must reach it (see Notes); >= 0.
    min_events
        Fewest events among the usable samples; >= 1.
    max_iter
        Most likelihood evaluations of the Newton-Raphson fit (halved steps count);
        >= 1.

    Returns
    -------
    hr
        float64 (nf,) hazard ratio :math:`e^{\hat\beta}` per unit of x; NaN where there
        is no result or the fit did not converge (0 or inf only if
        :math:`|\hat\beta| > 709`, i.e. for x on a minute scale). :math:`\mathrm{sign}(\hat\beta) =
        \mathrm{sign}(\log \mathrm{hr})` is the sign stored with p.
    n
        int32 (nf,) samples used; 0 where there is no result.
    logp
        float64 (nf,) natural log of the two-sided score (log-rank) test p at
        :math:`\beta = 0`, R's ``summary(coxph(...))$sctest``; NaN where there is no
        result. Finite far below 1e-308.
    converged
        bool (nf,) True where Newton-Raphson converged; False where it did not (hr is then
        NaN and logp is kept, STATS.md) and where there is no result.

    Notes
    -----
    Per feature the samples with finite x, time and event are used (n of them). No
    result when n < ``min_n``, there are fewer than ``min_events`` events, x is constant,
    fewer than ``min_side`` values are above the median of x or fewer than ``min_side``
    are at or below it, or the information at :math:`\beta = 0` is zero (x does not vary
    within the risk set of any event). The median split is the reference's
    (LinkedOmicsKB ``calc_surv``: ``group <- x > median(x)``, each group >= 10), with
    R's median (mean of the two middle values for even n). It counts ties at the median
    on the low side, so a feature whose lower half is one repeated value (e.g. many
    zeros) still gets a result when enough values lie above it.

    With distinct event times :math:`t_j`, :math:`D_j` the :math:`d_j` samples with an
    event at :math:`t_j` and :math:`R_j` those with time :math:`\ge t_j`, Efron's
    partial log-likelihood is

    .. math:: \ell(\beta) = \sum_j \Big[ \beta \sum_{i \in D_j} x_i
              - \sum_{l=0}^{d_j - 1} \log S^{(0)}_{jl}(\beta) \Big], \qquad
              S^{(r)}_{jl} = \sum_{k \in R_j} w_{jlk}\, x_k^r e^{\beta x_k},

    with :math:`w_{jlk} = 1 - l / d_j` for :math:`k \in D_j` and 1 otherwise. Its score
    and information are

    .. math:: U(\beta) = \sum_j \Big[ \sum_{i \in D_j} x_i - \sum_l
              \frac{S^{(1)}_{jl}}{S^{(0)}_{jl}} \Big], \qquad
              I(\beta) = \sum_j \sum_l \Big[ \frac{S^{(2)}_{jl}}{S^{(0)}_{jl}}
              - \Big(\frac{S^{(1)}_{jl}}{S^{(0)}_{jl}}\Big)^2 \Big],

    exactly the sums of survival's ``coxfit6`` (x centered at its mean first, as there).
    p is the score test :math:`\chi^2 = U(0)^2 / I(0)` on 1 df, computed as
    :math:`\log p = \log 2 + \log(1 - \Phi(|U(0)| / \sqrt{I(0)}))`.

    :math:`\hat\beta` maximizes :math:`\ell` by Newton-Raphson from 0,
    :math:`\beta \leftarrow \beta + U / I`, halving a step whose log-likelihood is lower
    (as ``coxph``). It has converged when the next step is below ``STEP_TOL`` times
    max(1, :math:`|\beta| s`) in units of the mean absolute deviation s of x and the
    log-likelihood gain it predicts, :math:`U^2 / (2I)`, is below ``LOGLIK_TOL`` times
    :math:`|\ell|`; that step is then taken (the error left is of the order of its
    square, far below R's own). When the likelihood is monotone (an event ordering that
    x separates, so :math:`\hat\beta = \pm\infty`) every step has about the same length,
    the fit does not converge within ``max_iter`` and hr is NaN; R then either stops
    with a huge coefficient and the warning "Ran out of iterations and did not
    converge", or returns coef NA with ``sctest`` df 0 and p 0. Its score statistic is
    still the correct one, and logp is the p of that statistic on 1 df.

    Samples are sorted by time once; each likelihood evaluation is one O(n) pass over a
    feature (risk scores :math:`e^{\beta x - c}` with :math:`c = \max \beta x`, so no
    overflow). The block is one compiled loop, nogil, without per-feature allocation.
    """
    min_n = count_arg(min_n, "min_n", 2)
    min_side = count_arg(min_side, "min_side", 0)
    min_events = count_arg(min_events, "min_events", 1)
    max_iter = count_arg(max_iter, "max_iter", 1)
    x = feature_block(values)
    nf, s = x.shape
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event, dtype=np.float64)
    if t.shape != (s,) or e.shape != (s,):
        raise ValueError(f"time and event must have shape ({s},), got {t.shape} and {e.shape}")
    fin_e = np.isfinite(e)
    if np.any((e[fin_e] != 0.0) & (e[fin_e] != 1.0)):
        bad = np.unique(e[fin_e & (e != 0.0) & (e != 1.0)])[:5]
        raise ValueError(f"event must be 1 (event), 0 (censored) or NaN, got {bad.tolist()}")
    hr = np.full(nf, np.nan)
    nout = np.zeros(nf, dtype=np.int32)
    logp = np.full(nf, np.nan)
    conv = np.zeros(nf, dtype=np.bool_)
    usable = np.flatnonzero(np.isfinite(t) & fin_e)
    if nf == 0 or usable.size < max(min_n, 1):
        return hr, nout, logp, conv
    order = usable[np.argsort(t[usable], kind="stable")]
    ts = t[order]
    newgrp = np.ones(order.size, dtype=bool)
    newgrp[1:] = ts[1:] != ts[:-1]
    gid = np.cumsum(newgrp, dtype=np.int64)
    dead = e[order].astype(np.uint8)
    _cox_kernel(x, order.astype(np.int64), dead, gid, min_n, min_side, min_events,
                max_iter, hr, nout, logp, conv)
    return hr, nout, logp, conv
