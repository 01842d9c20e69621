"""Wilcoxon rank-sum test of two sample groups for every feature of a block.

The statistic, p-value and effect are those of STATS.md ("Two groups: Wilcoxon
rank-sum"): the two-sided p of R's ``wilcox.test(x, y)`` (exact when both groups have
fewer than 50 values and there are no ties, otherwise the normal approximation with
continuity correction and tie-corrected variance) and the Hodges-Lehmann shift x - y.

Per feature the kernel sorts the finite values of each group once (:func:`_sort`). A
single merge of the two sorted groups gives the rank sum of x (average ranks for ties,
kept as exact doubled integers), the tie counts and whether there are ties at all; the
sorted groups also define the sorted matrix of pairwise differences in which the
Hodges-Lehmann median is selected in a few O(n_x + n_y) passes (:func:`_hl_select`),
without forming the n_x n_y differences. The exact null distribution of W is tabulated
once for all group sizes below 50 (:func:`exact_cdf_table`).
"""

import math

import numpy as np
from numpy.typing import ArrayLike

from linkscan.kernels._args import KERNEL_FLOATS, count_arg, feature_block
from linkscan.kernels._jit import jit
from linkscan.kernels.pvalues import log_norm_sf

#: R's wilcox.test uses the exact distribution when n_x < EXACT_MAX and n_y < EXACT_MAX
#: (and there are no ties).
EXACT_MAX = 50

_LOG2 = math.log(2.0)
_LCG_MOD = 2147483648  # 2^31: state * multiplier stays below 2^63


# --------------------------------------------------------------------------- exact p


@jit(nogil=True)
def _exact_cdf(nmax):
    """Flat table of lower tails P[W <= q] and offsets (see :func:`exact_cdf_table`)."""
    kmax = (nmax - 1) * (nmax - 1)
    offs = np.full((nmax, nmax), -1, dtype=np.int64)
    size = 0
    for n in range(1, nmax):
        for m in range(1, n + 1):
            offs[m, n] = size
            size += (m * n) // 2 + 1
    cdf = np.empty(size, dtype=np.float64)
    # prev[m, k] = number of arrangements of m x's and n - 1 y's with W = k, where W
    # counts the (x, y) pairs with x > y; cur[m, k] the same with n y's. Recursion on
    # the largest value: an x (adds n to W) or a y.
    prev = np.zeros((nmax, kmax + 1), dtype=np.float64)
    cur = np.zeros((nmax, kmax + 1), dtype=np.float64)
    for m in range(nmax):
        prev[m, 0] = 1.0
    for n in range(1, nmax):
        cur[:, :] = 0.0
        cur[0, 0] = 1.0
        for m in range(1, nmax):
            for k in range(m * n + 1):
                v = prev[m, k]
                if k >= n:
                    v += cur[m - 1, k - n]
                cur[m, k] = v
        for m in range(1, n + 1):
            total = 0.0
            for k in range(m * n + 1):
                total += cur[m, k]
            acc = 0.0
            o = offs[m, n]
            for q in range((m * n) // 2 + 1):
                acc += cur[m, q] / total  # R's pwilcox sums cwilcox(i) / choose(m + n, n)
                cdf[o + q] = acc
        prev, cur = cur, prev
    return cdf, offs


_exact_table = None


def exact_cdf_table() -> tuple[np.ndarray, np.ndarray]:
    r"""Lower tails of the exact null distribution of W for all group sizes below 50.

    Returns
    -------
    cdf
        float64 flat array; ``cdf[offs[a, b] + q]`` is :math:`P[W \le q]` for groups of
        sizes a <= b (either order: the distribution is symmetric in the two sizes) and
        :math:`0 \le q \le \lfloor ab/2 \rfloor`. The upper half follows from the symmetry
        :math:`P[W \ge w] = P[W \le ab - w]`.
    offs
        int64 (50, 50); ``offs[a, b]`` for 1 <= a <= b <= 49, -1 elsewhere.

    Notes
    -----
    W is the Mann-Whitney count of pairs :math:`x_i > y_j`. The number of arrangements
    :math:`c(m, n, k)` of m x's and n y's with W = k satisfies
    :math:`c(m, n, k) = c(m - 1, n, k - n) + c(m, n - 1, k)` (the largest value is an x or
    a y), R's ``cwilcox``; counts are kept in float64 as R does (they reach
    :math:`\binom{98}{49} \approx 2.5 \cdot 10^{28}`) and, as in R's ``pwilcox``, the
    tail is the sum of :math:`c(m, n, i) / \binom{m+n}{n}`. Built once (a few ms, 3 MB)
    and cached for the process.
    """
    global _exact_table
    if _exact_table is None:
        _exact_table = _exact_cdf(EXACT_MAX)
    return _exact_table


@jit(nogil=True)
def _log_p_exact(w, m, n, cdf, offs):
    """log of R's two-sided exact p: min(2 P[W' <= w] or 2 P[W' >= w], 1), w integer."""
    mn = m * n
    iw = int(w)
    if 2 * iw > mn:
        q = mn - iw  # P[W' >= w] = P[W' <= mn - w]
    else:
        q = iw
    a = min(m, n)
    b = max(m, n)
    p = 2.0 * cdf[offs[a, b] + q]
    if p >= 1.0:
        return 0.0
    return math.log(p)


@jit(nogil=True)
def _log_p_normal(w, m, n, tie_sum):
    """log of R's two-sided normal-approximation p, in R's order of operations."""
    fm = float(m)
    fn = float(n)
    z = w - fm * fn / 2.0
    corr = 0.0
    if z > 0.0:
        corr = 0.5
    elif z < 0.0:
        corr = -0.5
    sigma = math.sqrt((fm * fn / 12.0)
                      * ((fm + fn + 1.0) - tie_sum / ((fm + fn) * (fm + fn - 1.0))))
    z = (z - corr) / sigma
    lp = _LOG2 + log_norm_sf(abs(z))
    if lp > 0.0:
        return 0.0
    return lp


# --------------------------------------------------------------------------- HL median


@jit(nogil=True)
def _quickselect(buf, size, r):
    """Rearrange buf[:size] so that buf[r] is its r-th smallest (0-based), with values
    <= it before and values >= it after (three-way partition: many equal values, as
    from tied data, cost nothing extra)."""
    left = 0
    right = size - 1
    while right > left:
        a = buf[left]
        b = buf[(left + right) >> 1]
        c = buf[right]
        if (a <= b) == (b <= c):
            pivot = b
        elif (b <= a) == (a <= c):
            pivot = a
        else:
            pivot = c
        lt = left
        i = left
        gt = right
        while i <= gt:
            v = buf[i]
            if v < pivot:
                buf[i] = buf[lt]
                buf[lt] = v
                lt += 1
                i += 1
            elif v > pivot:
                buf[i] = buf[gt]
                buf[gt] = v
                gt -= 1
            else:
                i += 1
        # buf[left:lt] < pivot, buf[lt:gt + 1] == pivot, buf[gt + 1:right + 1] > pivot
        if r < lt:
            right = lt - 1
        elif r > gt:
            left = gt + 1
        else:
            return


@jit(nogil=True)
def _hl_select(xs, m, ys, n, k, need_next, lo, hi, clt, cle, buf):
    """The k-th smallest (0-based) of the m n differences xs[i] - ys[j] and, if
    need_next, the (k + 1)-th (else the k-th again); xs[:m] and ys[:n] sorted ascending.

    Selection in the implicit sorted matrix D[i, j] = xs[i] - ys[n - 1 - j], which is
    non-decreasing along rows and columns (also in floating point: rounding is
    monotonic). Row i keeps the candidate columns [lo[i], hi[i]). A pivot value t is
    counted in O(m + n) by a staircase walk (clt[i] / cle[i]: columns of row i below /
    at most t; both non-increasing in i) and the candidates on the wrong side of it are
    dropped, until t itself settles the answer or at most m + n + 32 candidates remain,
    which are gathered into buf and selected directly (:func:`_quickselect`).

    Pivots (the result does not depend on them, only the time does): first the
    difference of the group medians; then regula falsi on the rank between the current
    lower and upper pivot (Illinois variant), aiming between ranks k and k + 1; a
    candidate drawn by a fixed LCG while only one bound is known or when a step dropped
    nothing (a step function of ties). Typically 3 to 4 walks for continuous data.
    """
    kk = k + 1 if need_next else k  # the highest rank needed
    target = k + 1.0 if need_next else k + 0.5  # wanted count of values below a pivot
    for i in range(m):
        lo[i] = 0
        hi[i] = n
    below = 0
    total = m * n
    gather = m + n + 32
    state = 12345
    t_lo = -math.inf  # all values <= t_lo are dropped; f_lo = their count - target
    f_lo = -target
    t_hi = math.inf  # all values >= t_hi are dropped; f_hi = count below it - target
    f_hi = total - target
    side = 0
    prev_total = total
    t = 0.5 * (xs[(m - 1) // 2] + xs[m // 2]) - 0.5 * (ys[(n - 1) // 2] + ys[n // 2])
    while total > gather:
        p = n
        q = n
        big_l = 0  # values < t
        big_e = 0  # values <= t
        for i in range(m):
            xi = xs[i]
            while p > 0 and xi - ys[n - p] >= t:
                p -= 1
            while q > 0 and xi - ys[n - q] > t:
                q -= 1
            clt[i] = p
            cle[i] = q
            big_l += p
            big_e += q
        if big_l > kk:
            # every value >= t has rank >= big_l > kk: drop them
            total = 0
            for i in range(m):
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
            for i in range(m):
                if cle[i] > lo[i]:
                    lo[i] = cle[i]
                total += hi[i] - lo[i]
                below += lo[i]
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
                for i in range(m):
                    if clt[i] > 0:
                        v = xs[i] - ys[n - clt[i]]
                        if v > a:
                            a = v
            if not need_next:
                return a, a
            if kk < big_e:
                return a, t
            b = math.inf  # big_e == kk: the (k + 1)-th is the smallest value above t
            for i in range(m):
                if cle[i] < n:
                    v = xs[i] - ys[n - 1 - cle[i]]
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
            for i in range(m):
                w = hi[i] - lo[i]
                if r < w:
                    t = xs[i] - ys[n - 1 - (lo[i] + r)]
                    break
                r -= w
    size = 0
    for i in range(m):
        xi = xs[i]
        for j in range(lo[i], hi[i]):
            buf[size] = xi - ys[n - 1 - j]
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
def _hl_median(xs, m, ys, n, lo, hi, clt, cle, buf):
    """Median of the m n differences xs[i] - ys[j] (mean of the two middle ones when
    m n is even); xs[:m], ys[:n] sorted ascending; buf holds at least m + n + 32."""
    mn = m * n
    even = mn % 2 == 0
    k = mn // 2 - 1 if even else mn // 2
    a, b = _hl_select(xs, m, ys, n, k, even, lo, hi, clt, cle, buf)
    if even:
        return 0.5 * (a + b)
    return a


# --------------------------------------------------------------------------- kernel


@jit(nogil=True)
def _sort(a, n, stack):
    """Sort a[:n] (finite values) ascending in place.

    Quicksort with a branch-free partition (about twice numba's ``ndarray.sort`` on
    100 random values), median-of-three pivots, insertion sort below 16 values, and a
    second pass that gathers the values equal to the pivot when few are below it, so
    that heavily tied data (rounded values, many zeros) stays O(n log n). The smaller
    side is done first, so ``stack`` (int64) needs 2 * 64 entries for any n.
    """
    top = 0
    lo = 0
    hi = n - 1
    while True:
        if hi - lo < 16:
            for i in range(lo + 1, hi + 1):
                v = a[i]
                j = i - 1
                while j >= lo and a[j] > v:
                    a[j + 1] = a[j]
                    j -= 1
                a[j + 1] = v
            if top == 0:
                return
            top -= 2
            lo = stack[top]
            hi = stack[top + 1]
            continue
        mid = (lo + hi) >> 1
        x = a[lo]
        y = a[mid]
        z = a[hi]
        if (x <= y) == (y <= z):
            a[mid] = z
            a[hi] = y
        elif (y <= x) == (x <= z):
            a[lo] = z
            a[hi] = x
        pivot = a[hi]
        s = lo
        for i in range(lo, hi):
            v = a[i]
            a[i] = a[s]
            a[s] = v
            s += v < pivot
        a[hi] = a[s]
        a[s] = pivot
        # a[lo:s] < pivot, a[s] == pivot, a[s + 1:hi + 1] >= pivot
        e = s + 1
        if 8 * (s - lo) < hi - lo:
            for i in range(s + 1, hi + 1):
                v = a[i]
                a[i] = a[e]
                a[e] = v
                e += v <= pivot
        # a[lo:s] < pivot, a[s:e] == pivot, a[e:hi + 1] > pivot
        if s - lo < hi - e + 1:
            stack[top] = e
            stack[top + 1] = hi
            top += 2
            hi = s - 1
        else:
            stack[top] = lo
            stack[top + 1] = s - 1
            top += 2
            lo = e


@jit(nogil=True)
def _rank_sum(xs, m, ys, n):
    """Merge the sorted groups: (W, sum of t^3 - t over tie groups, any ties).

    W = sum of the (average) ranks of x in the combined sample - m (m + 1) / 2, from the
    exact integer sum of doubled ranks 2 pos + t + 1 of each tie group."""
    i = 0
    j = 0
    pos = 0
    r2 = 0.0
    tie_sum = 0.0
    ties = False
    while i < m or j < n:
        if j >= n or (i < m and xs[i] <= ys[j]):
            v = xs[i]
        else:
            v = ys[j]
        cx = 0
        while i < m and xs[i] == v:
            i += 1
            cx += 1
        cy = 0
        while j < n and ys[j] == v:
            j += 1
            cy += 1
        t = cx + cy
        r2 += float(cx) * float(2 * pos + t + 1)
        if t > 1:
            ties = True
            ft = float(t)
            tie_sum += ft * ft * ft - ft
        pos += t
    w = 0.5 * (r2 - float(m) * float(m + 1))
    return w, tie_sum, ties


@jit(nogil=True)
def _finite_values(values, f, idx, out):
    """Copy the finite values of row f at columns idx into out (as float64); their count.
    (A function's result is typed int64, not a literal, which keeps numba from compiling
    the callees of the kernel once more for a literal 0.)"""
    m = 0
    for a in range(idx.shape[0]):
        v = float(values[f, idx[a]])
        if math.isfinite(v):
            out[m] = v
            m += 1
    return m


@jit(nogil=True)
def _wilcoxon_rows(values, xi, yi, min_x, min_y, min_total, require_nonzero, cdf, offs,
                   effect, nout, logp):
    """Fill effect / nout / logp for every row of values (see :func:`wilcoxon_block`)."""
    nf = values.shape[0]
    sx = xi.shape[0]
    sy = yi.shape[0]
    xs = np.empty(max(sx, 1), dtype=np.float64)
    ys = np.empty(max(sy, 1), dtype=np.float64)
    lo = np.empty(max(sx, 1), dtype=np.int64)
    hi = np.empty(max(sx, 1), dtype=np.int64)
    clt = np.empty(max(sx, 1), dtype=np.int64)
    cle = np.empty(max(sx, 1), dtype=np.int64)
    buf = np.empty(sx + sy + 32, dtype=np.float64)
    stack = np.empty(128, dtype=np.int64)
    for f in range(nf):
        m = _finite_values(values, f, xi, xs)
        n = _finite_values(values, f, yi, ys)
        if m < min_x or n < min_y or m + n < min_total:
            continue
        _sort(xs, m, stack)
        _sort(ys, n, stack)
        if min(xs[0], ys[0]) == max(xs[m - 1], ys[n - 1]):
            continue  # all values tied
        if require_nonzero and ((xs[0] == 0.0 and xs[m - 1] == 0.0)
                                or (ys[0] == 0.0 and ys[n - 1] == 0.0)):
            continue  # a group is all zero
        w, tie_sum, ties = _rank_sum(xs, m, ys, n)
        if m < EXACT_MAX and n < EXACT_MAX and not ties:
            lp = _log_p_exact(w, m, n, cdf, offs)
        else:
            lp = _log_p_normal(w, m, n, tie_sum)
        effect[f] = _hl_median(xs, m, ys, n, lo, hi, clt, cle, buf)
        nout[f] = m + n
        logp[f] = lp


# --------------------------------------------------------------------------- driver


def wilcoxon_block(values: ArrayLike, group: ArrayLike, *, min_x: int = 20, min_y: int = 10,
                   min_total: int = 0, require_nonzero: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Wilcoxon rank-sum test of group x against group y for every feature.

    Parameters
    ----------
    values
        (nf, s) float32/float64 block, features x samples; NaN and +-inf are missing and
        are dropped per feature (integer input is converted to float64).
    group
        (s,) integer codes (int8): 1 = group x (tumor, mutated, first level), 0 = group y,
        -1 = sample not in this test. Any other code is an error.
    min_x, min_y
        Fewest finite x / y values that give a result (>= 1; defaults: the tumor-vs-normal
        rule, >= 20 tumor and >= 10 normal).
    min_total
        Fewest finite values in x and y together (>= 0; e.g. 20 for a binary phenotype).
    require_nonzero
        If true, no result when all finite values of x, or all finite values of y, are
        zero (the tumor-vs-normal rule "not all zero", applied per group as the reference
        does: ``!all(t_row == 0) && !all(n_row == 0)``).

    Returns
    -------
    effect
        float64 (nf,) Hodges-Lehmann estimate of the shift x - y; NaN where no result.
    n
        int32 (nf,) values used, :math:`n_x + n_y`; 0 where no result.
    logp
        float64 (nf,) natural log of the two-sided p-value of R's ``wilcox.test(x, y)``;
        NaN where no result. Finite however small p is (no floor at double.eps).

    Notes
    -----
    A feature gives a result when :math:`n_x \ge` ``min_x``, :math:`n_y \ge` ``min_y``,
    :math:`n_x + n_y \ge` ``min_total``, its values are not all identical and (with
    ``require_nonzero``) neither group is all zero.

    With average ranks in the combined sample (:math:`N = n_x + n_y`),

    .. math:: W = \sum_{i \in x} \mathrm{rank}_i - \frac{n_x (n_x + 1)}{2}
              = \#\{x_i > y_j\} + \tfrac12 \#\{x_i = y_j\}.

    *Exact* (R's choice when :math:`n_x < 50`, :math:`n_y < 50` and no value is tied):
    with the null distribution of W (:func:`exact_cdf_table`),
    :math:`p = \min(2 P[W' \ge W], 1)` if :math:`W > n_x n_y / 2`, else
    :math:`\min(2 P[W' \le W], 1)` (R's ``pwilcox(W - 1, lower.tail = FALSE)`` and
    ``pwilcox(W)``).

    *Normal approximation* otherwise, with continuity correction and tie-corrected
    variance (:math:`t` the sizes of the tie groups):

    .. math:: z = \frac{W - n_x n_y / 2 - \tfrac12 \mathrm{sign}(W - n_x n_y / 2)}
                       {\sqrt{\frac{n_x n_y}{12}\left((N + 1)
                        - \frac{\sum (t^3 - t)}{N (N - 1)}\right)}}, \qquad
              \log p = \log 2 + \log \Phi(-|z|)

    (R's :math:`2 \min(\Phi(z), 1 - \Phi(z))`, in the same order of operations; the
    tail in log space, :func:`linkscan.kernels.pvalues.log_norm_sf`, so p below 1e-308 stays
    finite where R returns 0).

    *Effect*: :math:`\mathrm{median}_{i,j}(x_i - y_j)`, the mean of the two middle
    differences when :math:`n_x n_y` is even, computed in float64 exactly as R's
    ``median(outer(x, y, "-"))`` (up to the last bit of that mean). R's
    ``wilcox.test(conf.int = TRUE)$estimate`` is this value in the exact case only; in the
    normal case R returns a ``uniroot`` (tol 1e-4) zero of the standardized statistic as
    a function of the shift, which is any point of the step where it is 0 (with the
    continuity correction: between the two middle differences, or between the
    neighbours of the middle one for odd :math:`n_x n_y`) give or take 1e-4.
    The median is selected in the implicit sorted matrix of differences without forming
    it (:func:`_hl_select`); the signed storage value is made elsewhere with
    :func:`linkscan.kernels.pvalues.signed_log10p`, an effect of exactly 0 counting as positive.

    Compiled with numba (``nogil``, single-threaded; call from several threads on
    different blocks to use several cores). Results do not depend on how features are
    split into blocks.
    """
    min_x = count_arg(min_x, "min_x", 1)
    min_y = count_arg(min_y, "min_y", 1)
    min_total = count_arg(min_total, "min_total", 0)
    # long double is kept as before (the compiled kernel then rejects it)
    values = feature_block(values, keep=(*KERNEL_FLOATS, np.longdouble))
    group = np.asarray(group)
    if group.shape != (values.shape[1],):
        raise ValueError(f"group must have shape ({values.shape[1]},), got {group.shape}")
    if not np.issubdtype(group.dtype, np.integer):
        raise ValueError(f"group must be integer codes 1 / 0 / -1, got dtype {group.dtype}")
    bad = (group != 1) & (group != 0) & (group != -1)
    if bad.any():
        raise ValueError(f"group codes must be 1 (x), 0 (y) or -1 (excluded), got "
                         f"{np.unique(group[bad]).tolist()}")
    nf = values.shape[0]
    effect = np.full(nf, np.nan)
    nout = np.zeros(nf, dtype=np.int32)
    logp = np.full(nf, np.nan)
    xi = np.flatnonzero(group == 1).astype(np.int64)
    yi = np.flatnonzero(group == 0).astype(np.int64)
    if nf == 0 or xi.size < min_x or yi.size < min_y or xi.size + yi.size < min_total:
        return effect, nout, logp
    cdf, offs = exact_cdf_table()
    _wilcoxon_rows(values, xi, yi, min_x, min_y, min_total, bool(require_nonzero), cdf,
                   offs, effect, nout, logp)
    return effect, nout, logp
