"""Covariate-adjusted (partial) Spearman correlation for all pairs of two feature blocks.

The statistic and its p-value are those of STATS.md ("Partial Spearman"): pingouin's
``partial_corr(method="spearman")`` and R ppcor's ``pcor.test(method="spearman")``,
computed pair by pair on each pair's complete overlap (pairwise-complete, exact per
pair). Per pair, on the overlap O (the n samples where x, y and every covariate are
finite):

1. x and y are ranked on O (average ranks for ties) as doubled centered ranks
   ``c = 2 * rank - (n + 1)`` (integers; the scale does not matter for r);
2. each covariate column is taken on O: numeric columns (``rank_z`` True) ranked on O
   the same way, the others (one-hot 0/1 columns of a categorical covariate) as they
   are, then centered (the intercept) and orthonormalised by modified Gram-Schmidt
   with re-orthogonalisation (:func:`_basis`); a column constant on O, or whose part
   outside the span of the intercept and the columns before it is at most
   :data:`REL_TOL` times its centered norm, is dropped. k is the number of columns
   kept: the numerical rank of the centered covariate matrix on O;
3. the two rank vectors are residualised on [intercept, kept columns] (two projection
   passes, :func:`_project_out`) and r is Pearson's r of the residual vectors e_x, e_y
   (centered: r = sum(e_x e_y) / sqrt(sum(e_x^2) sum(e_y^2))).

Ranking a one-hot column on O would only map 0/1 to two other values: the span with
the intercept is the same, which is why pingouin (which ranks every column) agrees.

Paths. Features finite on every covariate-complete sample ("complete") are ranked and
residualised once on all those samples, and a complete x complete pair needs only the
dot product of the two stored residual vectors (:func:`_complete_pairs`). Every other
pair is computed on its own overlap (:func:`_pair`); consecutive pairs sharing an
overlap (an incomplete feature against the complete ones) reuse its covariate basis
and the fixed feature's residual, which are the very values a recomputation would
give. Both paths run the same compiled routines (ranks, basis, projection, and one
sequential dot product, no BLAS) on the same overlap in the same sample order, so a
pair's result is bit-identical whichever path computed it and however features are
split into blocks; swapping x and y transposes the result exactly.
"""

import math

import numpy as np
from numpy.typing import ArrayLike

from linkscan.kernels._args import count_arg, feature_block
from linkscan.kernels._jit import jit
from linkscan.kernels.pvalues import log_beta, log_betainc_core
from linkscan.kernels.spearman import _rho_det

#: Relative tolerance on norms. A covariate column whose part outside the span of the
#: intercept and the columns kept before it has a norm <= REL_TOL times its centered
#: norm is linearly dependent (not counted in k); a residual vector whose norm is <=
#: REL_TOL times its centered rank vector's norm (residual sum of squares <= REL_TOL^2
#: times the rank sum of squares) is constant: the pair has no result. Rounding leaves
#: about 1e-15 of the norm where the exact value is 0 (ranks are small integers and the
#: basis is orthonormal to working precision), so 1e-10 separates the two with a wide
#: margin; a genuine R^2 above 1 - 1e-20 is beyond what a double can resolve anyway.
REL_TOL = 1e-10
_REL_TOL2 = REL_TOL * REL_TOL


# --------------------------------------------------------------------------- compiled


@jit(nogil=True)
def _dot(a, b, n):
    """sum(a[:n] * b[:n]), summed in index order (the one dot product of the module)."""
    acc = 0.0
    for t in range(n):
        acc += a[t] * b[t]
    return acc


@jit(nogil=True)
def _overlap(fin_a, fin_b, pos, idx):
    """The overlap of two finite masks (uint8 over samples): pos[t] = position of sample
    t in it (-1 outside), idx[:n] = its samples in increasing order. Returns n."""
    n = 0
    for t in range(fin_a.shape[0]):
        if fin_a[t] and fin_b[t]:
            pos[t] = n
            idx[n] = t
            n += 1
        else:
            pos[t] = -1
    return n


@jit(nogil=True)
def _rank_on(order, gid, m, pos, kp, kg, out):
    """Doubled centered average ranks ``c = 2 rank - (n + 1)`` of one feature on the
    overlap (samples with pos >= 0) into out[:n], at each sample's overlap position.

    order/gid: the feature's finite samples in sorted order and their tie-group ids
    (first m used; the overlap must lie within them). kp/kg: int64 scratch. Returns the
    sum of c^2 (an exact integer; 0 when the feature is constant on the overlap).
    """
    n = 0
    for a in range(m):
        p = pos[order[a]]
        if p >= 0:
            kp[n] = p
            kg[n] = gid[a]
            n += 1
    ss = 0.0
    start = 0
    for a in range(1, n + 1):
        if a == n or kg[a] != kg[start]:
            # 0-based sorted positions start .. a-1 share the average rank (start + 1 + a) / 2
            c = float(start + a - n)
            for b in range(start, a):
                out[kp[b]] = c
            ss += (a - start) * c * c
            start = a
    return ss


@jit(nogil=True)
def _project_out(v, n, q, k):
    """Residual of v[:n] on [intercept, q[0], ..., q[k-1]] (orthonormal, centered), in
    place: subtract the mean, then Gram-Schmidt against each q; two passes, so that the
    residual is orthogonal to the basis to working precision even when it is small."""
    for _ in range(2):
        acc = 0.0
        for t in range(n):
            acc += v[t]
        if acc != 0.0:  # exactly 0 for centered ranks: they stay exact integers
            mu = acc / n
            for t in range(n):
                v[t] -= mu
        for l in range(k):
            ql = q[l]
            d = _dot(ql, v, n)
            for t in range(n):
                v[t] -= d * ql[t]


@jit(nogil=True)
def _basis(zorder, zgid, zval, rank_z, pos, idx, n, kp, kg, q):
    """Orthonormal basis q[:k, :n] of the covariate columns on the overlap, orthogonal to
    the intercept; returns k, the number of columns kept (see :data:`REL_TOL`).

    zorder/zgid: per column, the sorted order and tie-group ids over all samples (every
    covariate is finite on them); zval: (columns, samples) values; rank_z: rank the
    column on the overlap (numeric) or take it as it is (one-hot).
    """
    k = 0
    for l in range(zval.shape[0]):
        w = q[k]
        if rank_z[l]:
            ss0 = _rank_on(zorder[l], zgid[l], zorder.shape[1], pos, kp, kg, w)
            if ss0 == 0.0:
                continue
        else:
            zl = zval[l]
            lo = zl[idx[0]]
            hi = lo
            acc = 0.0
            for a in range(n):
                v = zl[idx[a]]
                w[a] = v
                acc += v
                lo = min(lo, v)
                hi = max(hi, v)
            if lo == hi:  # constant on the overlap (exact test: no rounding involved)
                continue
            mu = acc / n
            for a in range(n):
                w[a] -= mu
            ss0 = _dot(w, w, n)
        _project_out(w, n, q, k)
        ss = _dot(w, w, n)
        if ss <= _REL_TOL2 * ss0:
            continue
        inv = 1.0 / math.sqrt(ss)
        for a in range(n):
            w[a] *= inv
        k += 1
    return k


@jit(nogil=True)
def _residual(order, gid, m, pos, kp, kg, q, k, n, e):
    """Residual e[:n] of one feature's doubled centered ranks on the overlap after the
    intercept and q[:k]; returns its sum of squares, or 0.0 when the ranks are constant
    on the overlap or the residual is (norm <= :data:`REL_TOL` times the ranks')."""
    ss0 = _rank_on(order, gid, m, pos, kp, kg, e)
    if ss0 == 0.0:
        return 0.0
    _project_out(e, n, q, k)
    ss = _dot(e, e, n)
    if ss <= _REL_TOL2 * ss0:
        return 0.0
    return ss


@jit(nogil=True)
def _finish(sxy, sxx, syy, df, lbeta_tab):
    """(r, logp) from the residual sums; log p = log I_{1 - r^2}(df / 2, 1 / 2), the
    two-sided t test of t = r sqrt(df / (1 - r^2)); -inf at |r| = 1. The two sums of
    squares are taken in a fixed order, so (x, y) and (y, x) give the same bits."""
    a = min(sxx, syy)
    b = max(sxx, syy)
    prod = a * b
    r, det = _rho_det(sxy, a, b, prod)
    if det == 0.0:
        return r, -math.inf
    return r, log_betainc_core(0.5 * df, 0.5, det / prod, (sxy * sxy) / prod, lbeta_tab[df])


@jit(nogil=True)
def _complete_residuals(order, gid, rows, zorder, zgid, zval, rank_z, e, ss):
    """Residuals e[a] (and sums of squares ss[a]) of the complete features ``rows`` on
    all samples; returns k on all samples."""
    s = order.shape[1]
    pos = np.arange(s)
    idx = np.arange(s)
    kp = np.empty(s, dtype=np.int64)
    kg = np.empty(s, dtype=np.int64)
    q = np.empty((max(zval.shape[0], 1), s))
    k = _basis(zorder, zgid, zval, rank_z, pos, idx, s, kp, kg, q)
    for a in range(rows.shape[0]):
        f = rows[a]
        ss[a] = _residual(order[f], gid[f], s, pos, kp, kg, q, k, s, e[a])
    return k


@jit(nogil=True)
def _complete_pairs(ex, ssx, rows_x, ey, ssy, rows_y, s, df, self_scan, lbeta_tab, r,
                    nout, logp):
    """Complete x complete pairs: one dot product of stored residuals per pair."""
    for a in range(rows_x.shape[0]):
        if ssx[a] == 0.0:
            continue
        for b in range(a if self_scan else 0, rows_y.shape[0]):
            if ssy[b] == 0.0:
                continue
            rr, lp = _finish(_dot(ex[a], ey[b], s), ssx[a], ssy[b], df, lbeta_tab)
            _store(r, nout, logp, rows_x[a], rows_y[b], rr, s, lp, self_scan)


@jit(nogil=True)
def _store(r, nout, logp, i, j, rr, n, lp, both):
    """A pair's result at (i, j), and at (j, i) too when ``both`` (a self-scan)."""
    r[i, j] = rr
    nout[i, j] = n
    logp[i, j] = lp
    if both:
        r[j, i] = rr
        nout[j, i] = n
        logp[j, i] = lp


@jit(nogil=True)
def _pair(oa, ga, ma, fa, ida, ob, gb, mb, fb, zorder, zgid, zval, rank_z, min_df,
          lbeta_tab, pos, idx, kp, kg, q, ea, eb, cidx, state, ssa_cache):
    """(r, n, logp) of the pair (a, b) on its overlap; n = 0 when there is no result.

    a is the side held fixed by the caller's inner loop (id ``ida``): when the overlap
    is the one of the previous call, its covariate basis (q, k = state[1]) is reused,
    and so is a's residual (ea, ssa_cache[0]) if it was a's (state[2] == ida); both are
    what a recomputation would give, bit for bit. state[0]: cached overlap size (-1:
    none).
    """
    n = _overlap(fa, fb, pos, idx)
    if n - 2 < min_df:
        return math.nan, 0, math.nan
    same = n == state[0]
    if same:
        for t in range(n):
            if idx[t] != cidx[t]:
                same = False
                break
    if not same:
        state[1] = _basis(zorder, zgid, zval, rank_z, pos, idx, n, kp, kg, q)
        for t in range(n):
            cidx[t] = idx[t]
        state[0] = n
        state[2] = -1
    k = state[1]
    df = n - 2 - k
    if df < min_df:
        return math.nan, 0, math.nan
    if state[2] != ida:
        ssa_cache[0] = _residual(oa, ga, ma, pos, kp, kg, q, k, n, ea)
        state[2] = ida
    ssa = ssa_cache[0]
    if ssa == 0.0:
        return math.nan, 0, math.nan
    ssb = _residual(ob, gb, mb, pos, kp, kg, q, k, n, eb)
    if ssb == 0.0:
        return math.nan, 0, math.nan
    rr, lp = _finish(_dot(ea, eb, n), ssa, ssb, df, lbeta_tab)
    return rr, n, lp


@jit(nogil=True)
def _scan_pairs(oa, ga, ma, fa, rows_a, ob, gb, mb, fb, rows_b, tri, swap, zorder, zgid,
                zval, rank_z, min_df, lbeta_tab, skip_a, skip_b, r, nout, logp):
    """Pairs (rows_a[u], rows_b[v]) on their own overlaps, a fixed in the inner loop;
    with ``tri`` only v >= u (a self-scan, rows_b == rows_a), mirrored. Pairs where both
    skip flags are set are left out (they belong to the complete path). ``swap``: side a
    is y (results go to [b, a])."""
    s = fa.shape[1]
    pos = np.empty(s, dtype=np.int64)
    idx = np.empty(s, dtype=np.int64)
    kp = np.empty(s, dtype=np.int64)
    kg = np.empty(s, dtype=np.int64)
    q = np.empty((max(zval.shape[0], 1), s))
    ea = np.empty(s)
    eb = np.empty(s)
    cidx = np.empty(s, dtype=np.int64)
    state = np.array([-1, 0, -1], dtype=np.int64)
    ssa_cache = np.zeros(1)
    for u in range(rows_a.shape[0]):
        i = rows_a[u]
        for v in range(u if tri else 0, rows_b.shape[0]):
            j = rows_b[v]
            if skip_a[i] and skip_b[j]:
                continue
            rr, n, lp = _pair(oa[i], ga[i], ma[i], fa[i], i, ob[j], gb[j], mb[j], fb[j],
                              zorder, zgid, zval, rank_z, min_df, lbeta_tab, pos, idx, kp,
                              kg, q, ea, eb, cidx, state, ssa_cache)
            if n == 0:
                continue
            x, y = (j, i) if swap else (i, j)
            _store(r, nout, logp, x, y, rr, n, lp, tri)


# --------------------------------------------------------------------------- driver


def _prepare(a: np.ndarray):
    """Per row: sorted order of the finite values (int64; NaN last), tie-group ids,
    number of finite values, finite mask (uint8), complete flag."""
    fin = np.isfinite(a)
    vals = np.where(fin, a, np.nan)
    order = np.argsort(vals, axis=1, kind="stable")
    sv = np.take_along_axis(vals, order, axis=1)
    newgrp = np.ones(a.shape, dtype=bool)
    newgrp[:, 1:] = sv[:, 1:] != sv[:, :-1]
    gid = np.cumsum(newgrp, axis=1, dtype=np.int64)
    m = fin.sum(axis=1).astype(np.int64)
    complete = m == a.shape[1]
    return (np.ascontiguousarray(order, dtype=np.int64), gid, m,
            np.ascontiguousarray(fin.view(np.uint8)), complete)


def _lbeta_table(s: int) -> np.ndarray:
    tab = np.full(s + 1, np.nan)
    for df in range(1, s + 1):
        tab[df] = log_beta(0.5 * df, 0.5)
    return tab


def _partial_spearman_block(x, y, z, rank_z, min_df, force_pairwise: bool):
    min_df = count_arg(min_df, "min_df", 1)
    x = feature_block(x, "x")
    self_scan = y is None
    y = x if self_scan else feature_block(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same samples: {x.shape[1]} != {y.shape[1]}")
    nx, s = x.shape
    ny = y.shape[0]
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] != s:
        raise ValueError(f"z must be 2-D (samples x covariates) with one row per sample of x "
                         f"({s}), got shape {z.shape}")
    kz = z.shape[1]
    if rank_z is None:
        rank_z = np.ones(kz, dtype=np.bool_)
    else:
        rank_z = np.asarray(rank_z)
        if rank_z.dtype != np.bool_ or rank_z.shape != (kz,):
            raise ValueError(f"rank_z must be {kz} booleans (one per column of z), got "
                             f"{rank_z.dtype} of shape {rank_z.shape}")
    r = np.full((nx, ny), np.nan)
    nout = np.zeros((nx, ny), dtype=np.int32)
    logp = np.full((nx, ny), np.nan)
    # samples with a missing covariate are out of every pair
    keep = np.isfinite(z).all(axis=1)
    sk = int(keep.sum())
    if nx == 0 or ny == 0 or sk - 2 < min_df:
        return r, nout, logp
    zk = np.ascontiguousarray(z[keep].T)  # (covariates, samples)
    zorder, zgid = _prepare(zk)[:2]
    rank_z = np.ascontiguousarray(rank_z, dtype=np.bool_)
    px = _prepare(x[:, keep])
    py = px if self_scan else _prepare(y[:, keep])
    lbeta_tab = _lbeta_table(sk)
    # complete: finite on every covariate-complete sample (none when forced pairwise)
    cx = px[4] & (not force_pairwise)
    cy = py[4] & (not force_pairwise)
    rows_cx = np.flatnonzero(cx)
    rows_cy = rows_cx if self_scan else np.flatnonzero(cy)
    if rows_cx.size and rows_cy.size:
        ex = np.empty((rows_cx.size, sk))
        ssx = np.empty(rows_cx.size)
        k = _complete_residuals(px[0], px[1], rows_cx, zorder, zgid, zk, rank_z, ex, ssx)
        if self_scan:
            ey, ssy = ex, ssx
        else:
            ey = np.empty((rows_cy.size, sk))
            ssy = np.empty(rows_cy.size)
            _complete_residuals(py[0], py[1], rows_cy, zorder, zgid, zk, rank_z, ey, ssy)
        if sk - 2 - k >= min_df:
            _complete_pairs(ex, ssx, rows_cx, ey, ssy, rows_cy, sk, sk - 2 - k, self_scan,
                            lbeta_tab, r, nout, logp)
    # Every other pair on its own overlap, with an incomplete feature held fixed (side a)
    # in the inner loop, so that its pairs with the complete features share one overlap
    # (one basis, one residual of the fixed feature).
    zargs = (zorder, zgid, zk, rank_z, min_df, lbeta_tab)
    out = (r, nout, logp)
    if self_scan:
        rows = np.concatenate([np.flatnonzero(~cx), rows_cx])  # incomplete first
        _scan_pairs(*px[:4], rows, *px[:4], rows, True, False, *zargs, cx, cx, *out)
    else:
        _scan_pairs(*px[:4], np.flatnonzero(~cx), *py[:4], np.arange(ny), False, False,
                    *zargs, cx, cy, *out)
        # complete x with incomplete y: y is side a, results go to [x, y]
        _scan_pairs(*py[:4], np.flatnonzero(~cy), *px[:4], rows_cx, False, True, *zargs,
                    cy, cx, *out)
    return r, nout, logp


def partial_spearman_block(x: ArrayLike, y: ArrayLike | None, z: ArrayLike, *,
                           rank_z: ArrayLike | None = None,
                           min_df: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Covariate-adjusted (partial) Spearman correlation of every x feature with every y
    feature, pairwise-complete.

    Parameters
    ----------
    x
        (nx, s) float32/float64 block, features x samples; NaN and +-inf are missing.
    y
        (ny, s) block over the same samples, or None for the self-scan y = x.
    z
        (s, kz) float64 covariates, one row per sample; NaN (or +-inf) is missing and
        takes the sample out of every pair. A categorical covariate is given as one-hot
        0/1 columns (a reference level may be left out or not: see k below).
    rank_z
        (kz,) bool: True for numeric columns, ranked on each pair's overlap; False for
        one-hot columns, used as they are. Default: all True.
    min_df
        Smallest residual degrees of freedom n - 2 - k that gives a result; >= 1.

    Returns
    -------
    r
        float64 (nx, ny) partial Spearman correlation; NaN where there is no result.
    n
        int32 (nx, ny) samples used (the pair's overlap); 0 where there is no result.
    logp
        float64 (nx, ny) natural log of the two-sided p-value; NaN where there is no
        result, ``-inf`` at |r| = 1.

    Notes
    -----
    On the overlap (n samples where x, y and every covariate are finite), with
    :math:`R_x, R_y` the average ranks of x and y, Z the covariate columns (numeric
    ones ranked on the overlap) and :math:`H` the projection on [1, Z]:

    .. math:: e_x = (I - H) R_x, \quad e_y = (I - H) R_y, \quad
              r = \frac{e_x^\top e_y}{\sqrt{e_x^\top e_x \, e_y^\top e_y}}, \quad
              t = r \sqrt{\frac{n - 2 - k}{1 - r^2}}

    and :math:`p = P(|T_{n-2-k}| \ge |t|) = I_{1 - r^2}((n - 2 - k) / 2, 1 / 2)`,
    computed as its log (finite far below 1e-308). k is the numerical rank of the
    centered covariate matrix on the overlap: a column constant there (e.g. the one-hot
    column of a level absent from it) or a linear combination of the intercept and the
    other columns (e.g. the last column of a complete one-hot set) is not counted (see
    :data:`REL_TOL`). No result when n - 2 - k < min_df, or when x's or y's ranks are
    constant on the overlap or their residual is (its norm at most :data:`REL_TOL`
    times the ranks' centered norm: the ranks lie in the covariates' span).

    This is ``pingouin.partial_corr(data, x, y, covar, method="spearman")`` on the
    overlap (pingouin also ranks one-hot columns, which spans the same space) and R
    ppcor's ``pcor.test(method = "spearman")``. Without covariates (kz = 0) it is
    Spearman's rho with its t test (:func:`linkscan.kernels.spearman.spearman_block`,
    mode ``t``, min_n = min_df + 2).

    Results are bit-identical whichever internal path computed a pair and however
    features are split into blocks; ``partial_spearman_block(y, x, z)`` is the exact
    transpose of ``partial_spearman_block(x, y, z)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> age = rng.normal(60.0, 10.0, size=40)
    >>> x = np.stack([age + rng.normal(size=40), age + rng.normal(size=40)])
    >>> x[1, :5] = np.nan
    >>> r, n, logp = partial_spearman_block(x, None, age[:, None])
    >>> n
    array([[40, 35],
           [35, 35]], dtype=int32)
    >>> bool(abs(r[0, 1]) < 0.5)  # the shared age effect is removed
    True
    """
    return _partial_spearman_block(x, y, z, rank_z, min_df, False)
