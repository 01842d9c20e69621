"""Tests of one feature block against one grouping of the samples.

Two kernels, both vectorized over features (one row per feature, one column per sample)
with a single grouping ``level`` shared by all rows:

* :func:`jt_block`: Jonckheere-Terpstra trend test across *ordered* groups (tumor stage,
  grade), STATS.md "Ordered groups: Jonckheere-Terpstra";
* :func:`anova_block`: one-way ANOVA F test across *unordered* groups, STATS.md
  "Unordered groups: one-way ANOVA".

Per feature, the samples used are those with a finite value and a level code >= 0; the
levels are those with at least one used sample (a level without samples for this
feature drops out). Both kernels are numba-compiled (``nogil``, single-threaded), so
that a caller can run blocks in threads.
"""

import math

import numpy as np
from numpy.typing import ArrayLike

from linkscan.kernels._args import count_arg, feature_block
from linkscan.kernels._jit import jit
from linkscan.kernels.pvalues import log_f_sf, log_norm_sf
from linkscan.kernels.spearman import _two_prod

_LN2 = math.log(2.0)
# as linkscan.kernels.spearman: sums of squared doubled ranks stay exact integers in float64
_MAX_SAMPLES = 190_000
# features per chunk of the level-sorted copy of the values that jt_block makes
_CHUNK = 2048


# --------------------------------------------------------------------------- helpers


@jit(nogil=True)
def _gather(row, level, buf, lev):
    """Copy the used samples of one feature (finite value, level >= 0) to buf / lev."""
    n = 0
    for t in range(row.shape[0]):
        g = level[t]
        if g >= 0:
            v = row[t]
            if math.isfinite(v):
                buf[n] = v
                lev[n] = g
                n += 1
    return n


@jit(nogil=True)
def _rank_rho(sxy, sxx, syy):
    """Spearman's rho from exact integer sums of doubled centered ranks.

    The same arithmetic as :func:`linkscan.kernels.spearman._finalize`, so that the JT effect is
    bit-identical to ``spearman_block(values, level)``: |rho| == 1 exactly when
    sxx syy == sxy^2 (decided with error-free products).
    """
    p1, e1 = _two_prod(sxx, syy)
    p2, e2 = _two_prod(sxy, sxy)
    det = (p1 - p2) + (e1 - e2)
    if det <= 0.0:
        return 1.0 if sxy > 0.0 else -1.0
    rho = sxy / math.sqrt(sxx * syy)
    if rho > 1.0:
        return 1.0
    if rho < -1.0:
        return -1.0
    return rho


@jit(nogil=True)
def _fenwick_prefix(tree, g):
    """Sum of the counts of levels 0 .. g - 1."""
    acc = 0
    i = g
    while i > 0:
        acc += tree[i]
        i -= i & -i
    return acc


@jit(nogil=True)
def _fenwick_add(tree, g, nlev):
    i = g + 1
    while i <= nlev:
        tree[i] += 1
        i += i & -i


# --------------------------------------------------------------------------- JT


@jit(nogil=True)
def _gather_columns(values, cols, out):
    """out[f, k] = values[f, cols[k]], non-finite values as NaN (float64)."""
    for f in range(values.shape[0]):
        for k in range(cols.shape[0]):
            v = values[f, cols[k]]
            out[f, k] = v if math.isfinite(v) else math.nan


@jit(nogil=True)
def _jt_kernel(xs, seg, min_n, effect, nout, logp, j2out, zout):
    """JT per feature from level-sorted data.

    xs: (nf, m) the used-label samples grouped by level (level g in columns
    seg[g] .. seg[g + 1] - 1), each group sorted ascending with NaN (missing) last.
    Writes doubled J (exact integer), z, log p and the Spearman effect.
    """
    nf = xs.shape[0]
    nlev = seg.shape[0] - 1
    m = xs.shape[1]
    sv = np.empty(m, dtype=np.float64)
    slev = np.empty(m, dtype=np.int64)
    cnt = np.zeros(nlev, dtype=np.int64)
    pos = np.zeros(nlev, dtype=np.int64)
    end = np.zeros(nlev, dtype=np.int64)
    head = np.zeros(nlev, dtype=np.float64)
    cy = np.zeros(nlev, dtype=np.float64)
    tcnt = np.zeros(nlev, dtype=np.int64)
    tree = np.zeros(nlev + 1, dtype=np.int64)
    for f in range(nf):
        row = xs[f]
        n = 0
        nonempty = 0
        sum_n2 = 0
        sum_v = 0
        for g in range(nlev):
            e = seg[g + 1]
            while e > seg[g] and math.isnan(row[e - 1]):
                e -= 1
            c = e - seg[g]
            cnt[g] = c
            pos[g] = seg[g]
            end[g] = e
            head[g] = row[seg[g]] if c > 0 else math.inf
            n += c
            if c > 0:
                nonempty += 1
                sum_n2 += c * c
                sum_v += c * c * (2 * c + 3)
        if n < min_n or nonempty < 2:
            continue
        # merge the sorted levels (values are finite, so +inf marks an exhausted level)
        for k in range(n):
            best = 0
            bv = head[0]
            for g in range(1, nlev):
                if head[g] < bv:
                    best = g
                    bv = head[g]
            sv[k] = bv
            slev[k] = best
            p = pos[best] + 1
            pos[best] = p
            head[best] = row[p] if p < end[best] else math.inf
        if sv[0] == sv[n - 1]:
            continue  # constant values
        # doubled centered ranks of the level index: 2 * (C_g + (c_g + 1) / 2) - (n + 1)
        syy = 0.0
        below = 0
        for g in range(nlev):
            c = cnt[g]
            cy[g] = float(2 * below + c - n)
            syy += c * cy[g] * cy[g]
            below += c
        tree[:] = 0
        j2 = 0  # 2 J: 2 per (lower level, strictly greater value) pair, 1 per tied pair
        sxx = 0.0
        sxy = 0.0
        start = 0
        for k in range(1, n + 1):
            if k < n and sv[k] == sv[start]:
                continue
            size = k - start
            cx = float(start + k - n)  # doubled centered average rank of this tie group
            part = 0.0
            for t in range(start, k):
                g = slev[t]
                j2 += 2 * _fenwick_prefix(tree, g)
                part += cy[g]
            if size > 1:
                # tied pairs in different levels count 1/2 each (doubled: 1)
                sq = 0
                for t in range(start, k):
                    tcnt[slev[t]] += 1
                for t in range(start, k):
                    c = tcnt[slev[t]]
                    sq += c * c
                    tcnt[slev[t]] = 0
                j2 += (size * size - sq) // 2
            for t in range(start, k):
                _fenwick_add(tree, slev[t], nlev)
            sxx += size * cx * cx
            sxy += cx * part
            start = k
        # z = (J - E) / sd, E = (n^2 - sum n_i^2) / 4,
        # var = (n^2 (2n + 3) - sum n_i^2 (2 n_i + 3)) / 72  =>  z = 3 D / sqrt(2 V)
        # with D = 4 (J - E) = 2 j2 - (n^2 - sum n_i^2) and V = 72 var (integers)
        d = 2 * j2 - (n * n - sum_n2)
        v72 = n * n * (2 * n + 3) - sum_v
        z = 3.0 * float(d) / math.sqrt(2.0 * float(v72))
        lp = _LN2 + log_norm_sf(abs(z))
        effect[f] = _rank_rho(sxy, sxx, syy)
        nout[f] = n
        logp[f] = min(lp, 0.0)
        j2out[f] = j2
        zout[f] = z


# --------------------------------------------------------------------------- ANOVA


@jit(nogil=True)
def _anova_kernel(values, level, nlev, min_n, fout, nout, logp):
    nf, s = values.shape
    buf = np.empty(s, dtype=np.float64)
    lev = np.empty(s, dtype=np.int64)
    cnt = np.zeros(nlev, dtype=np.int64)
    tot = np.zeros(nlev, dtype=np.float64)
    mean = np.zeros(nlev, dtype=np.float64)
    first = np.zeros(nlev, dtype=np.float64)
    for f in range(nf):
        n = _gather(values[f], level, buf, lev)
        if n < min_n:
            continue
        cnt[:] = 0
        tot[:] = 0.0
        within_const = True
        for k in range(n):
            g = lev[k]
            if cnt[g] == 0:
                first[g] = buf[k]
            elif buf[k] != first[g]:
                within_const = False
            cnt[g] += 1
            tot[g] += buf[k]
        groups = 0
        grand = 0.0
        for g in range(nlev):
            if cnt[g] > 0:
                groups += 1
                mean[g] = tot[g] / cnt[g]
                grand += tot[g]
        # constant within every level (all values tied included): SSW = 0, F undefined
        if groups < 2 or n <= groups or within_const:
            continue
        grand /= n
        ssw = 0.0
        for k in range(n):
            r = buf[k] - mean[lev[k]]
            ssw += r * r
        ssb = 0.0
        for g in range(nlev):
            if cnt[g] > 0:
                r = mean[g] - grand
                ssb += cnt[g] * r * r
        df1 = float(groups - 1)
        df2 = float(n - groups)
        fstat = (ssb / df1) / (ssw / df2)
        fout[f] = fstat
        nout[f] = n
        logp[f] = log_f_sf(fstat, df1, df2)


# --------------------------------------------------------------------------- drivers


def _check(values, level, min_n):
    """Validated (values 2-D float, level int64 (s,), number of level codes)."""
    count_arg(min_n, "min_n", 2)
    values = feature_block(values)
    level = np.asarray(level)
    if level.ndim != 1 or level.shape[0] != values.shape[1]:
        raise ValueError(f"level must be 1-D with one code per sample ({values.shape[1]}), "
                         f"got shape {level.shape}")
    if level.dtype == np.bool_ or not np.issubdtype(level.dtype, np.integer):
        raise ValueError(f"level must hold integer codes (-1 = missing), got dtype {level.dtype}")
    level = level.astype(np.int64)
    if level.size and level.min() < -1:
        raise ValueError(f"level codes must be >= -1 (-1 = missing), got {level.min()}")
    if values.shape[1] > _MAX_SAMPLES:
        raise ValueError(f"{values.shape[1]} samples: at most {_MAX_SAMPLES} are supported")
    nlev = int(level.max()) + 1 if level.size else 0
    return values, level, max(nlev, 0)


def _jt_block(values, level, min_n):
    values, level, nlev = _check(values, level, min_n)
    nf = values.shape[0]
    effect = np.full(nf, np.nan)
    nout = np.zeros(nf, dtype=np.int32)
    logp = np.full(nf, np.nan)
    j2 = np.zeros(nf, dtype=np.int64)
    z = np.full(nf, np.nan)
    if nf == 0 or nlev < 2 or values.shape[1] < min_n:
        return effect, nout, logp, j2 / 2.0, z
    # Samples grouped by level once (the grouping is shared by all features); per
    # feature each level's values are sorted by numpy, which releases the GIL, and the
    # kernel merges the levels. For 10,000 x 150 values numba's np.argsort took 70 ms,
    # numpy's sort of the level segments 7-12 ms.
    cols = np.argsort(level, kind="stable")
    cols = cols[level[cols] >= 0]
    seg = np.searchsorted(level[cols], np.arange(nlev + 1)).astype(np.int64)
    buf = np.empty((min(nf, _CHUNK), cols.size), dtype=np.float64)
    for a in range(0, nf, _CHUNK):
        b = min(a + _CHUNK, nf)
        xs = buf[: b - a]
        _gather_columns(values[a:b], cols, xs)
        for g in range(nlev):
            if seg[g + 1] - seg[g] > 1:
                xs[:, seg[g]:seg[g + 1]].sort(axis=1)  # NaN last
        _jt_kernel(xs, seg, min_n, effect[a:b], nout[a:b], logp[a:b], j2[a:b], z[a:b])
    return effect, nout, logp, j2 / 2.0, z


def jt_block(values: ArrayLike, level: ArrayLike, *,
             min_n: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Jonckheere-Terpstra trend test of every feature across ordered groups.

    Parameters
    ----------
    values
        (nf, s) float block, features x samples; NaN and +-inf are missing.
    level
        (s,) integer level codes 0 .. L-1 in the declared order of the groups (stage I
        = 0, II = 1, ...); -1 marks a missing or unknown label.
    min_n
        Fewest used samples (finite value and a level) that give a result; >= 2.

    Returns
    -------
    effect
        float64 (nf,) Spearman correlation between the values and the level code on the
        used samples (average ranks for ties): the sign of the trend.
    n
        int32 (nf,) number of used samples; 0 where there is no result.
    logp
        float64 (nf,) natural log of the two-sided normal-approximation p-value; finite
        far below 1e-308. NaN where there is no result.

    Notes
    -----
    With :math:`n_i` used samples in level i (levels without samples drop out) and
    :math:`N = \sum_i n_i`,

    .. math::

        J = \sum_{i < j} \sum_{a \in i} \sum_{b \in j}
            \left([x_b > x_a] + \tfrac12 [x_b = x_a]\right), \qquad
        E(J) = \frac{N^2 - \sum_i n_i^2}{4}, \qquad
        \mathrm{Var}(J) = \frac{N^2 (2N + 3) - \sum_i n_i^2 (2 n_i + 3)}{72},

    :math:`z = (J - E(J)) / \sqrt{\mathrm{Var}(J)}` and :math:`p = 2\,(1 - \Phi(|z|))`,
    without continuity correction and with the variance *not* corrected for ties. This
    is the default of SAGx's ``JT.test`` (``ties = FALSE``), which the reference
    (LinkedOmicsKB, ``source_func.R``) copies and calls with ``alternative =
    "two-sided"``: SAGx sums Mann-Whitney rank sums of the *lower* level against the
    higher one, i.e. :math:`\sum_{i<j} n_i n_j - J`, whose deviation from E(J) is the
    negative of J's, so the two-sided p is the same. Ties count 1/2 there (average
    ranks), as here. SAGx forms the two-sided p as ``2 * pmin(ps, 1 - ps)``, which loses
    the tail to cancellation when the trend is increasing (p below about 1e-16 becomes
    0, then 2.2e-16 in the reference); here :math:`\log p = \log 2 +
    \log(1 - \Phi(|z|))` is computed directly (:func:`linkscan.kernels.pvalues.log_norm_sf`).

    J is counted exactly (as 2J, an integer) per feature by sorting each level's values
    (:math:`O(N \log N)`), merging the L sorted levels (:math:`O(N L)`), and walking the
    merged values in tie groups with a Fenwick tree of the level counts of the smaller
    values seen so far (:math:`O(N \log L)`). Values are copied in chunks of 2048
    features.

    No result when fewer than ``min_n`` samples are used, fewer than 2 levels have
    samples, or the used values are all equal (as the reference, which requires
    ``var > 0``).
    """
    return _jt_block(values, level, min_n)[:3]


def anova_block(values: ArrayLike, level: ArrayLike, *,
                min_n: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""One-way ANOVA F test of every feature across unordered groups.

    Parameters
    ----------
    values
        (nf, s) float block, features x samples; NaN and +-inf are missing.
    level
        (s,) integer group codes 0 .. L-1 (order irrelevant); -1 marks a missing label.
    min_n
        Fewest used samples (finite value and a group) that give a result; >= 2.

    Returns
    -------
    F
        float64 (nf,) the F statistic (the effect; the p-value is unsigned, and F >= 0
        gives sign + in ``signed_log10p``). NaN where there is no result.
    n
        int32 (nf,) number of used samples; 0 where there is no result.
    logp
        float64 (nf,) natural log of :math:`P(F_{k-1, N-k} > F)`, as R's
        ``anova(lm(x ~ factor(g)))``; finite far below 1e-308. NaN where there is no
        result.

    Notes
    -----
    Over the k groups with used samples (group i: :math:`n_i` values, mean
    :math:`\bar x_i`; grand mean :math:`\bar x`, :math:`N = \sum_i n_i`):

    .. math::

        F = \frac{SS_B / (k - 1)}{SS_W / (N - k)}, \qquad
        SS_B = \sum_i n_i (\bar x_i - \bar x)^2, \qquad
        SS_W = \sum_i \sum_{a \in i} (x_a - \bar x_i)^2,

    computed in two passes (means first), and
    :math:`\log p = \log I_{SS_W / (SS_W + SS_B)}((N - k) / 2, (k - 1) / 2)` by
    :func:`linkscan.kernels.pvalues.log_f_sf`.

    No result when fewer than ``min_n`` samples are used, fewer than 2 groups have
    samples, or the values are constant within every group (tested exactly, which
    includes all values equal): then :math:`SS_W = 0` and F is undefined (R's ``lm``
    returns an F made of rounding noise there). With :math:`SS_W > 0`, N > k holds.
    """
    values, level, nlev = _check(values, level, min_n)
    nf = values.shape[0]
    fstat = np.full(nf, np.nan)
    nout = np.zeros(nf, dtype=np.int32)
    logp = np.full(nf, np.nan)
    if nf and nlev >= 2 and values.shape[1] >= min_n:
        _anova_kernel(values, level, nlev, min_n, fstat, nout, logp)
    return fstat, nout, logp
