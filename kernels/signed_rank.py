"""Wilcoxon signed-rank test of paired tumor and normal samples for every feature of a block.

The statistic, p-value and effect are those of STATS.md ("Paired tumor vs normal:
Wilcoxon signed-rank"), R's ``wilcox.test(x, y, paired = TRUE, conf.int = TRUE)`` on the
pairs where both values are finite: the differences d = tumor - normal, zeros dropped,
the two-sided p exact (R's ``psignrank``) when fewer than 50 differences are nonzero and
there are no ties among |d| and no zeros, otherwise the normal approximation with
continuity correction and tie-corrected variance; the effect is the pseudo-median of
the nonzero differences, the median of their Walsh averages (d_i + d_j) / 2, i <= j.

Per feature the kernel gathers the nonzero differences and sorts them once
(:func:`linkscan.kernels.wilcoxon._sort`). The negative ones, read backwards, and the
positive ones are then two ascending runs of |d|; a single merge of the two gives the
signed-rank statistic V (average ranks for ties, kept as exact doubled integers), the
tie counts and whether there are ties (:func:`_signed_rank_stat`). The sorted
differences also define the sorted upper triangle of Walsh averages, in which the median
is selected in a few O(n) passes without forming the n (n + 1) / 2 averages
(:func:`_walsh_select`). The exact null distribution of V is tabulated once for all
n below 50 (:func:`exact_cdf_table`).
"""

import math

import numpy as np
from numpy.typing import ArrayLike

from linkscan.kernels._args import KERNEL_FLOATS, count_arg, feature_block
from linkscan.kernels._jit import jit
from linkscan.kernels.pvalues import log_norm_sf
from linkscan.kernels.wilcoxon import _quickselect, _sort

#: R's wilcox.test(paired = TRUE) uses the exact distribution when fewer than EXACT_MAX
#: differences are nonzero (and there are no zeros and no ties among |d|).
EXACT_MAX = 50

_LOG2 = math.log(2.0)
_M_LN2 = 0.693147180559945309417232121458  # R's M_LN2
_LCG_MOD = 2147483648  # 2^31: state * multiplier stays below 2^63


# --------------------------------------------------------------------------- exact p


@jit(nogil=True)
def _exact_cdf(nmax):
    """Flat table of lower tails P[V <= q] and offsets (see :func:`exact_cdf_table`)."""
    offs = np.full(nmax, -1, dtype=np.int64)
    size = 0
    for n in range(1, nmax):
        offs[n] = size
        size += (n * (n + 1) // 2) // 2 + 1
    cdf = np.empty(size, dtype=np.float64)
    umax = (nmax - 1) * nmax // 2
    w = np.zeros(umax + 1, dtype=np.float64)
    w[0] = 1.0
    for n in range(1, nmax):
        # w[k] = number of subsets of {1, ..., n} with sum k (R's csignrank): add n
        u = n * (n + 1) // 2
        for k in range(u, n - 1, -1):
            w[k] += w[k - n]
        # R's psignrank: p += csignrank(i, n) * f, f = exp(-n log 2), for i = 0..q
        f = math.exp(-n * _M_LN2)
        acc = 0.0
        o = offs[n]
        for q in range(u // 2 + 1):
            acc += w[q] * f
            cdf[o + q] = acc
    return cdf, offs


_exact_table = None


def exact_cdf_table() -> tuple[np.ndarray, np.ndarray]:
    r"""Lower tails of the exact null distribution of V for all n below 50.

    Returns
    -------
    cdf
        float64 flat array; ``cdf[offs[n] + q]`` is :math:`P[V \le q]` for n nonzero
        differences and :math:`0 \le q \le \lfloor u/2 \rfloor`, :math:`u = n (n+1) / 2`.
        The upper half follows from the symmetry :math:`P[V \ge v] = P[V \le u - v]`.
    offs
        int64 (50,); ``offs[n]`` for 1 <= n <= 49, -1 at 0.

    Notes
    -----
    Under the null each of the ranks 1..n is positive with probability 1/2
    independently, so :math:`P[V = k] = c(n, k) / 2^n` with :math:`c(n, k)` the number
    of subsets of {1, ..., n} summing to k; :math:`c(n, k) = c(n - 1, k) + c(n - 1, k - n)`
    (R's ``csignrank``, counts exact in float64 below :math:`2^{53}`). As R's
    ``psignrank``, the tail is the running sum of :math:`c(n, i) f` with
    :math:`f = \exp(-n \log 2)`. Built once (a few ms, 0.2 MB) and cached for the process.
    """
    global _exact_table
    if _exact_table is None:
        _exact_table = _exact_cdf(EXACT_MAX)
    return _exact_table


@jit(nogil=True)
def _log_p_exact(v, n, cdf, offs):
    """log of R's two-sided exact p for V = v (an integer) and n nonzero differences:
    min(2 p, 1) with p = psignrank(v - 1, n, lower.tail = FALSE) if v > n (n + 1) / 4,
    else psignrank(v, n), following psignrank's branches."""
    u = n * (n + 1) // 2
    iv = int(v)
    o = offs[n]
    if 2 * iv > u:
        x = iv - 1
        if 2 * x <= u:
            p = 1.0 - cdf[o + x]  # psignrank sums the lower tail and complements it
        else:
            p = cdf[o + u - x - 1]  # sum over i < u - x, by symmetry the upper tail
    else:
        p = cdf[o + iv]
    p = 2.0 * p
    if p >= 1.0:
        return 0.0
    return math.log(p)


@jit(nogil=True)
def _log_p_normal(v, n, tie_sum):
    """log of R's two-sided normal-approximation p, in R's order of operations."""
    fn = float(n)
    z = v - fn * (fn + 1.0) / 4.0
    sigma = math.sqrt(fn * (fn + 1.0) * (2.0 * fn + 1.0) / 24.0 - tie_sum / 48.0)
    corr = 0.0
    if z > 0.0:
        corr = 0.5
    elif z < 0.0:
        corr = -0.5
    z = (z - corr) / sigma
    lp = _LOG2 + log_norm_sf(abs(z))
    if lp > 0.0:
        return 0.0
    return lp


# --------------------------------------------------------------------------- statistic


@jit(nogil=True)
def _signed_rank_stat(s, n):
    """V, sum of t^3 - t over the tie groups of |d|, and whether |d| has ties, for the
    nonzero differences s[:n] sorted ascending.

    The negative differences s[:k] read backwards and the positive ones s[k:n] are two
    ascending runs of |d|, merged here; V is the sum of the (average) ranks of the
    positive ones, from the exact integer sum of doubled ranks 2 pos + t + 1 of each tie
    group."""
    k = 0
    while k < n and s[k] < 0.0:
        k += 1
    i = k - 1  # next negative, largest first
    j = k  # next positive
    pos = 0
    r2 = 0.0
    tie_sum = 0.0
    ties = False
    while i >= 0 or j < n:
        if j >= n or (i >= 0 and -s[i] <= s[j]):
            a = -s[i]
        else:
            a = s[j]
        cn = 0
        while i >= 0 and -s[i] == a:
            i -= 1
            cn += 1
        cp = 0
        while j < n and s[j] == a:
            j += 1
            cp += 1
        t = cn + cp
        r2 += float(cp) * float(2 * pos + t + 1)
        if t > 1:
            ties = True
            ft = float(t)
            tie_sum += ft * ft * ft - ft
        pos += t
    return 0.5 * r2, tie_sum, ties


# --------------------------------------------------------------------------- pseudo-median


@jit(nogil=True)
def _walsh(s, i, j):
    """The Walsh average of s[i] and s[j], as R's ``outer(x, x, "+") / 2``."""
    return 0.5 * (s[i] + s[j])


@jit(nogil=True)
def _walsh_select(s, n, k, need_next, lo, hi, clt, cle, buf):
    """The k-th smallest (0-based) of the n (n + 1) / 2 Walsh averages
    (s[i] + s[j]) / 2, i <= j, and, if need_next, the (k + 1)-th (else the k-th again);
    s[:n] sorted ascending; lo, hi, clt, cle hold n, buf 2 n + 32.

    Selection in the implicit upper triangle A[i, j], j >= i, which is non-decreasing
    along rows and columns (also in floating point: rounding is monotonic). Row i keeps
    the candidate columns [lo[i], hi[i]) within [i, n). A pivot value t is counted in
    O(n) by a staircase walk over the full rows (clt[i] / cle[i]: the end of the columns
    of row i below / at most t, at least i; the full-row boundaries are non-increasing
    in i) and the candidates on the wrong side of it are dropped, until t itself settles
    the answer or at most 2 n + 32 candidates remain, which are gathered into buf and
    selected directly (:func:`linkscan.kernels.wilcoxon._quickselect`).

    Pivots (the result does not depend on them, only the time does): first the median
    of s; then regula falsi on the rank between the current lower and upper pivot
    (Illinois variant), aiming between ranks k and k + 1; a candidate drawn by a fixed
    LCG while only one bound is known or when a step dropped nothing (a step function
    of ties).
    """
    kk = k + 1 if need_next else k  # the highest rank needed
    target = k + 1.0 if need_next else k + 0.5  # wanted count of values below a pivot
    for i in range(n):
        lo[i] = i
        hi[i] = n
    below = 0
    total = n * (n + 1) // 2
    gather = 2 * n + 32
    state = 12345
    t_lo = -math.inf  # all values <= t_lo are dropped; f_lo = their count - target
    f_lo = -target
    t_hi = math.inf  # all values >= t_hi are dropped; f_hi = count below it - target
    f_hi = total - target
    side = 0
    prev_total = total
    t = 0.5 * (s[(n - 1) // 2] + s[n // 2])
    while total > gather:
        p = n
        q = n
        big_l = 0  # values < t
        big_e = 0  # values <= t
        for i in range(n):
            while p > 0 and _walsh(s, i, p - 1) >= t:
                p -= 1
            while q > 0 and _walsh(s, i, q - 1) > t:
                q -= 1
            clt[i] = max(p, i)
            cle[i] = max(q, i)
            big_l += clt[i] - i
            big_e += cle[i] - i
        if big_l > kk:
            # every value >= t has rank >= big_l > kk: drop them
            total = 0
            for i in range(n):
                if clt[i] < hi[i]:
                    hi[i] = clt[i]
                total += hi[i] - lo[i]
            t_hi = t
            f_hi = big_l - target
            if side == 1:
                f_lo *= 0.5
            side = 1
        elif big_e <= k:
            # every value <= t has rank < big_e <= k: drop them
            total = 0
            below = 0
            for i in range(n):
                if cle[i] > lo[i]:
                    lo[i] = cle[i]
                total += hi[i] - lo[i]
                below += lo[i] - i
            t_lo = t
            f_lo = big_e - target
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            # big_l <= kk and big_e > k: t takes the ranks [big_l, big_e), which meet
            # {k, kk}; t need not be one of the values (then big_l == big_e == k + 1)
            if big_l <= k:
                a = t
            else:  # big_l == k + 1: the k-th is the largest value below t
                a = -math.inf
                for i in range(n):
                    if clt[i] > i:
                        v = _walsh(s, i, clt[i] - 1)
                        if v > a:
                            a = v
            if not need_next:
                return a, a
            if kk < big_e:
                return a, t
            b = math.inf  # big_e == kk: the (k + 1)-th is the smallest value above t
            for i in range(n):
                if cle[i] < n:
                    v = _walsh(s, i, cle[i])
                    if v < b:
                        b = v
            return a, b
        if total <= gather:
            break
        t = math.nan
        if t_lo > -math.inf and t_hi < math.inf and total < prev_total:
            t = t_lo - f_lo * ((t_hi - t_lo) / (f_hi - f_lo))
            if not (t_lo < t < t_hi):
                t = math.nan
        prev_total = total
        if math.isnan(t):
            state = (state * 1103515245 + 12345) % _LCG_MOD
            r = state % total
            for i in range(n):
                w = hi[i] - lo[i]
                if r < w:
                    t = _walsh(s, i, lo[i] + r)
                    break
                r -= w
    size = 0
    for i in range(n):
        for j in range(lo[i], hi[i]):
            buf[size] = _walsh(s, i, j)
            size += 1
    r = k - below
    _quickselect(buf, size, r)
    a = buf[r]
    if not need_next:
        return a, a
    b = buf[r + 1]
    for i in range(r + 2, size):
        if buf[i] < b:
            b = buf[i]
    return a, b


@jit(nogil=True)
def _pseudo_median(s, n, lo, hi, clt, cle, buf):
    """Median of the Walsh averages of s[:n] (sorted ascending; n >= 1), the mean of the
    two middle ones when their number n (n + 1) / 2 is even; buffers as
    :func:`_walsh_select`."""
    nw = n * (n + 1) // 2
    even = nw % 2 == 0
    k = nw // 2 - 1 if even else nw // 2
    a, b = _walsh_select(s, n, k, even, lo, hi, clt, cle, buf)
    if even:
        return 0.5 * (a + b)
    return a


# --------------------------------------------------------------------------- kernel


@jit(nogil=True)
def _nonzero_differences(tumor, normal, f, out):
    """Copy the nonzero differences tumor - normal (float64) of row f, over the columns
    where both are finite, into out; (pairs with both values, nonzero differences)."""
    pairs = 0
    m = 0
    for c in range(tumor.shape[1]):
        a = np.float64(tumor[f, c])  # float() would keep float32 (then so would a - b)
        b = np.float64(normal[f, c])
        if math.isfinite(a) and math.isfinite(b):
            pairs += 1
            d = a - b
            if d != 0.0:
                out[m] = d
                m += 1
    return pairs, m


@jit(nogil=True)
def _signed_rank_rows(tumor, normal, min_pairs, cdf, offs, effect, nout, logp):
    """Fill effect / nout / logp for every row (see :func:`signed_rank_block`)."""
    nf, s = tumor.shape
    d = np.empty(max(s, 1), dtype=np.float64)
    lo = np.empty(max(s, 1), dtype=np.int64)
    hi = np.empty(max(s, 1), dtype=np.int64)
    clt = np.empty(max(s, 1), dtype=np.int64)
    cle = np.empty(max(s, 1), dtype=np.int64)
    buf = np.empty(2 * s + 32, dtype=np.float64)
    stack = np.empty(128, dtype=np.int64)
    for f in range(nf):
        pairs, m = _nonzero_differences(tumor, normal, f, d)
        if pairs < min_pairs or m == 0:
            continue
        _sort(d, m, stack)
        v, tie_sum, ties = _signed_rank_stat(d, m)
        if m < EXACT_MAX and not ties and m == pairs:
            lp = _log_p_exact(v, m, cdf, offs)
        else:
            lp = _log_p_normal(v, m, tie_sum)
        effect[f] = _pseudo_median(d, m, lo, hi, clt, cle, buf)
        nout[f] = pairs
        logp[f] = lp


# --------------------------------------------------------------------------- driver


def signed_rank_block(tumor: ArrayLike, normal: ArrayLike, *, min_pairs: int = 10
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Wilcoxon signed-rank test of paired tumor and normal values for every feature.

    Parameters
    ----------
    tumor, normal
        (nf, npairs) float32/float64 blocks of the same shape, features x participants:
        column k of both is participant k's tumor and normal sample. NaN and +-inf are
        missing; a pair counts only where both values are finite (integer input is
        converted to float64).
    min_pairs
        Fewest pairs with both values that give a result (>= 1; default 10, STATS.md).

    Returns
    -------
    effect
        float64 (nf,) pseudo-median of the nonzero differences d = tumor - normal (the
        median of their Walsh averages); NaN where no result.
    n
        int32 (nf,) pairs with both values, zero differences included; 0 where no
        result.
    logp
        float64 (nf,) natural log of the two-sided p-value of R's
        ``wilcox.test(tumor, normal, paired = TRUE)``; NaN where no result. Finite however
        small p is (no floor at double.eps).

    Notes
    -----
    A feature gives a result when at least ``min_pairs`` pairs have both values and at
    least one of their differences is nonzero. Zero differences are dropped; with
    :math:`n` the number of nonzero ones and average ranks :math:`r_i` of :math:`|d_i|`,

    .. math:: V = \sum_{d_i > 0} r_i.

    *Exact* (R's choice when :math:`n < 50`, no difference is zero and no two
    :math:`|d_i|` are tied): with the null distribution of V (:func:`exact_cdf_table`),
    :math:`p = \min(2 P[V' \ge V], 1)` if :math:`V > n (n+1) / 4`, else
    :math:`\min(2 P[V' \le V], 1)` (R's ``psignrank(V - 1, n, lower.tail = FALSE)`` and
    ``psignrank(V, n)``, with psignrank's own branches).

    *Normal approximation* otherwise, with continuity correction and tie-corrected
    variance (:math:`t` the sizes of the tie groups of :math:`|d|`):

    .. math:: z = \frac{V - n (n+1) / 4 - \tfrac12 \mathrm{sign}(V - n (n+1) / 4)}
                       {\sqrt{n (n+1) (2n+1) / 24 - \sum (t^3 - t) / 48}}, \qquad
              \log p = \log 2 + \log \Phi(-|z|)

    (R's :math:`2 \min(\Phi(z), 1 - \Phi(z))`, in the same order of operations; the
    tail in log space, :func:`linkscan.kernels.pvalues.log_norm_sf`, so p below 1e-308
    stays finite where R returns 0).

    *Effect*: the median of the Walsh averages :math:`(d_i + d_j) / 2`, :math:`i \le j`,
    of the nonzero differences, the mean of the two middle ones when their number is
    even, computed in float64 as R's ``median(sort(diffs[!lower.tri(diffs)]) / 2)`` with
    ``diffs = outer(d, d, "+")`` (up to the last bit of that mean). This is R's
    ``wilcox.test(conf.int = TRUE)$estimate`` in the exact case; in the normal case R
    returns a ``uniroot`` (tol 1e-4) zero of the standardized statistic as a function of
    the location, which is any point of the step where it is 0, give or take 1e-4.
    The median is selected in the implicit sorted triangle of Walsh averages without
    forming it (:func:`_walsh_select`).

    R's ``wilcox.test`` drops pairs with an NA but ranks +-Inf differences; here, as in
    STATS.md, pairs with a non-finite value are missing. Swapping tumor and normal
    negates the effect and keeps p. Compiled with numba (``nogil``, single-threaded);
    results do not depend on how features are split into blocks.

    Examples
    --------
    >>> tumor = [[1.8, 2.9, 0.4, 3.1, 2.2, 1.7, 2.6, 0.9, 1.4, 2.0]]
    >>> normal = [[1.0, 1.5, 0.9, 1.1, 1.3, 0.2, 1.0, 1.2, 0.1, 0.8]]
    >>> effect, n, logp = signed_rank_block(tumor, normal)
    >>> round(float(effect[0]), 4), int(n[0]), round(float(np.exp(logp[0])), 6)
    (1.15, 10, 0.009766)
    """
    min_pairs = count_arg(min_pairs, "min_pairs", 1)
    tumor = feature_block(tumor, "tumor")
    normal = feature_block(normal, "normal")
    if tumor.shape != normal.shape:
        raise ValueError(f"tumor and normal must have the same shape (features x pairs), "
                         f"got tumor {tumor.shape} and normal {normal.shape}")
    if tumor.dtype != normal.dtype:  # one compiled variant per dtype, not per pair
        tumor = tumor.astype(np.float64)
        normal = normal.astype(np.float64)
    nf = tumor.shape[0]
    effect = np.full(nf, np.nan)
    nout = np.zeros(nf, dtype=np.int32)
    logp = np.full(nf, np.nan)
    if nf == 0 or tumor.shape[1] < min_pairs:
        return effect, nout, logp
    cdf, offs = exact_cdf_table()
    _signed_rank_rows(tumor, normal, min_pairs, cdf, offs, effect, nout, logp)
    return effect, nout, logp
