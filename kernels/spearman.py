"""Pairwise-complete Spearman correlation for all pairs of two feature blocks.

The statistic and its p-values are those of STATS.md ("Continuous vs continuous:
Spearman"). Everything is computed from *doubled, centered ranks*
``c = 2 * rank - (m + 1)`` (m values ranked, average ranks for ties), which are
integers. The sums ``sxy = sum(cx * cy)``, ``sxx``, ``syy`` are therefore exact
integers whatever the order of summation, and one function (:func:`_finalize`) turns
them into rho and log p (mode t through a per-process table of p by (n, S), which
returns the very value first computed: :func:`_finalize`). Three paths compute the sums:

* complete path: features without a missing value in their block are ranked once and
  complete x complete pairs get ``sxy`` from one matrix product (exact, integers);
* one-complete path: a complete tie-free feature with an incomplete one: the overlap is
  the incomplete feature's samples, where its own ranks hold, and the complete one's
  ranks are a running count along its order (:func:`_pair_one_complete`, one pass);
* missing path: every other pair is re-ranked on its overlap in O(n) by walking each
  feature's precomputed sorted order and skipping samples missing in the partner (it
  sums the uncentered doubled ranks ``d = 2 * rank`` and centers exactly:
  ``sum(cx * cy) = sum(dx * dy) - n (n + 1)^2``, all integers).

All give bit-identical results for the same pair, and results do not depend on how a
scan is split into blocks.
"""

import math

import numpy as np
from numpy.typing import ArrayLike

from linkscan.kernels._args import count_arg, feature_block
from linkscan.kernels._jit import jit
from linkscan.kernels.pvalues import log_beta, log_betainc_core, pnorm_tail

#: Mode ``r`` replaces a p that R returns as 0 by R's double.eps, as the reference
#: (LinkedOmicsKB's source_func.R) does, and only those: a p below it that R returns
#: stays. A floored value is recognizable as ``logp == LOG_P_FLOOR`` exactly.
P_FLOOR = 2.220446049250313e-16
LOG_P_FLOOR = math.log(P_FLOOR)

#: R's cor.test uses AS 89 (or exact enumeration for n <= 9) for n <= this, without ties.
R_PRHO_MAX_N = 1290

_MODES = {"t": 0, "r": 1}
_EXACT_MAX_N = 9
_MAX_SAMPLES = 190_000  # sum of (2 rank)^2 ~ 4 n^3 / 3 stays below 2^53
_EXACT_MAX_S = (_EXACT_MAX_N**3 - _EXACT_MAX_N) // 3


# --------------------------------------------------------------------------- p-values


@jit(nogil=True)
def _two_prod(a, b):
    """Dekker's exact product: a * b == p + e exactly (no FMA needed)."""
    p = a * b
    c = 134217729.0 * a
    ahi = c - (c - a)
    alo = a - ahi
    c = 134217729.0 * b
    bhi = c - (c - b)
    blo = b - bhi
    e = ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo
    return p, e


@jit(nogil=True)
def _exact_s_counts(nmax, smax):
    """counts[n, S]: permutations of 1..n with sum of squared rank differences S."""
    counts = np.zeros((nmax + 1, smax + 1), dtype=np.int64)
    for n in range(1, nmax + 1):
        dp = np.zeros((1 << n, smax + 1), dtype=np.int64)
        dp[0, 0] = 1
        for mask in range(1 << n):
            pos = 0
            mm = mask
            while mm:
                pos += mm & 1
                mm >>= 1
            for v in range(n):
                if mask & (1 << v):
                    continue
                d = pos - v
                d2 = d * d
                nxt = mask | (1 << v)
                for s in range(smax + 1 - d2):
                    if dp[mask, s]:
                        dp[nxt, s + d2] += dp[mask, s]
        for s in range(smax + 1):
            counts[n, s] = dp[(1 << n) - 1, s]
    return counts


_exact_table = None


def _get_exact_table() -> np.ndarray:
    global _exact_table
    if _exact_table is None:
        _exact_table = _exact_s_counts(_EXACT_MAX_N, _EXACT_MAX_S)
    return _exact_table


@jit(nogil=True)
def _prho(n, is_, lower, table):
    """R's prho (AS 89): P[S >= is_], or P[S < is_] if lower, for Spearman's S."""
    pv = 0.0 if lower else 1.0
    if n <= 1 or is_ <= 0.0:
        return pv
    n3 = float(n)
    n3 *= (n3 * n3 - 1.0) / 3.0  # (n^3 - n) / 3, the largest S
    if is_ > n3:
        return 1.0 - pv
    if n <= _EXACT_MAX_N:
        # exact: the number of permutations with S >= is_, over n!
        nfac = 1
        for i in range(2, n + 1):
            nfac *= i
        ifr = 0
        for s in range(table.shape[1]):
            if is_ <= s:
                ifr += table[n, s]
        return (nfac - ifr if lower else ifr) / float(nfac)
    # Edgeworth series (AS 89), evaluated in the same order as R
    y = float(n)
    b = 1.0 / y
    x = (6.0 * (is_ - 1.0) * b / (y * y - 1.0) - 1.0) * math.sqrt(y - 1.0)
    y = x * x
    u = x * b * (0.2274 + b * (0.2531 + 0.1745 * b)
                 + y * (-0.0758 + b * (0.1033 + 0.3932 * b)
                        - y * b * (0.0879 + 0.0151 * b
                                   - y * (0.0072 - 0.0831 * b
                                          + y * b * (0.0131 - 4.6e-4 * y)))))
    y = u / math.exp(y / 2.0)
    pv = (-y if lower else y) + pnorm_tail(x, lower)
    if pv < 0.0:
        pv = 0.0
    if pv > 1.0:
        pv = 1.0
    return pv


#: The p table (see :func:`_finalize`) covers overlaps of up to this many samples: one
#: float64 per possible (n, S) with n <= 256, 1.4 GB of address space per process of
#: which only the pages of the S values a scan meets are ever touched (a few hundred MB
#: for a pan-cancer scan; values near rho = 0, the bulk, share pages).
TABLE_MAX_N = 256
_table = None


def _p_table() -> tuple[np.ndarray, np.ndarray]:
    """This process's p table (made on first use) and the offset of each n's row in it:
    row n holds (n^3 - n) / 6 + 1 entries, one per key S / 2."""
    global _table
    if _table is None:
        n = np.arange(TABLE_MAX_N + 2, dtype=np.int64)
        sizes = (n**3 - n) // 6 + 1
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        _table = (np.zeros(int(offsets[TABLE_MAX_N + 1]), dtype=np.float64), offsets)
    return _table


@jit(nogil=True)
def _rho_det(sxy, sxx, syy, prod):
    """rho in [-1, 1] and 1 - rho^2's numerator sxx syy - sxy^2 (0 at |rho| = 1), the
    numerator exact-ish through error-free products."""
    p1, e1 = _two_prod(sxx, syy)
    p2, e2 = _two_prod(sxy, sxy)
    det = (p1 - p2) + (e1 - e2)
    if det <= 0.0:
        return (1.0 if sxy > 0.0 else -1.0), 0.0
    rho = sxy / math.sqrt(prod)
    if rho > 1.0:
        rho = 1.0
    elif rho < -1.0:
        rho = -1.0
    return rho, det


@jit(nogil=True)
def _t_logp(n, sxy, det, prod, lbeta_tab):
    """Mode t: log p = log I_{1 - r^2}((n - 2) / 2, 1 / 2); -inf at |rho| = 1."""
    if det == 0.0:
        return -math.inf
    return log_betainc_core(0.5 * (n - 2), 0.5, det / prod, (sxy * sxy) / prod, lbeta_tab[n])


@jit(nogil=True)
def _finalize(sxy, sxx, syy, n, ties, mode, table, lbeta_tab, ptab, poff):
    """(rho, logp) of one pair from its exact integer sums of doubled centered ranks.

    ``ties``: either vector has ties on the overlap. ``lbeta_tab[n]`` =
    log_beta((n - 2) / 2, 1/2). The one place where rho and p are made.

    The p table: without ties both sums of squares are (n^3 - n) / 3, so p depends on n
    and the integer key (sxx - sxy) / 4 = S / 2 alone (S, the sum of squared rank
    differences, is always even; 0 <= key <= (n^3 - n) / 6), and a scan meets the same
    (n, key) again and again: values near rho = 0 recur in nearly every tile. Entry
    ``ptab[poff[n] + key]`` keeps the log p computed the first time (0.0 means not yet:
    only rho = 0 has log p = 0 and it is simply recomputed); 8-byte stores are atomic,
    so threads sharing the table read either nothing or the value. A hit returns the
    very float64 :func:`_t_logp` returned for that (n, key): results are the same bits
    with or without the table, in any order of pairs.
    """
    if sxx == 0.0 or syy == 0.0:
        return math.nan, math.nan
    prod = sxx * syy
    if mode == 0 and not ties and n <= TABLE_MAX_N:
        at = poff[n] + np.int64((sxx - sxy) * 0.25)
        logp = ptab[at]
        if logp != 0.0:
            if logp == -math.inf:  # |rho| = 1
                return (1.0 if sxy > 0.0 else -1.0), logp
            return min(max(sxy / math.sqrt(prod), -1.0), 1.0), logp
        rho, det = _rho_det(sxy, sxx, syy, prod)
        logp = _t_logp(n, sxy, det, prod, lbeta_tab)
        ptab[at] = logp
        return rho, logp
    rho, det = _rho_det(sxy, sxx, syy, prod)
    if mode == 0 or ties or n > R_PRHO_MAX_N:
        logp = _t_logp(n, sxy, det, prod, lbeta_tab)
        # R computes this p in double precision: it is 0 exactly where exp underflows
        if mode == 0 or math.exp(logp) > 0.0:
            return rho, logp
        return rho, LOG_P_FLOOR
    else:
        # R's cor.test, exact = NULL, no ties: S = sum d^2 = (sxx - sxy) / 2 (integer);
        # R's test "q > (n^3 - n) / 6" is S > sxx / 2, i.e. sxy < 0.
        s_stat = 0.5 * (sxx - sxy)
        if sxy < 0.0:
            p = _prho(n, s_stat, False, table)
        else:
            p = _prho(n, s_stat + 2.0, True, table)
        p = min(2.0 * p, 1.0)
    if p == 0.0:  # AS 89's Edgeworth series clamps to 0 in the far tail
        return rho, LOG_P_FLOOR
    return rho, math.log(p)


# --------------------------------------------------------------------------- ranking


@jit(nogil=True)
def _complete_ranks(order, gid, rows, out, sxx, ties):
    """Doubled centered ranks of complete features ``rows`` into ``out`` (len(rows), s)."""
    s = order.shape[1]
    for a in range(rows.shape[0]):
        f = rows[a]
        o = order[f]
        g = gid[f]
        acc = 0.0
        tie = False
        start = 0
        for k in range(1, s + 1):
            if k == s or g[k] != g[start]:
                c = float(start + k - s)
                for l in range(start, k):
                    out[a, o[l]] = c
                acc += (k - start) * c * c
                if k - start > 1:
                    tie = True
                start = k
        sxx[a] = acc
        ties[a] = tie


# The per-pair loops below sum integers (doubled ranks and their products) in int64:
# exact like the float sums they replace, and an integer add has a 1-cycle latency where
# a float add has 4, which bounds these loops (each iteration adds to one accumulator).


@jit(nogil=True)
def _rank_side_x(oi, gi, mi, tiefree_i, fin_j, idx, grp, rx):
    """Rank feature i on its overlap with j: rx[t] = doubled rank 2 * rank(t) (uncentered,
    int64) for every overlap sample t (other entries of rx are left as they were).
    Returns (n, sum of d^2, ties on the overlap)."""
    n = 0
    if tiefree_i:
        # rank = 1 + number of overlap samples before t in i's sorted order; branchless
        # because the finite pattern of the partner is unpredictable
        for k in range(mi):
            t = oi[k]
            rx[t] = 2 * n + 2
            n += fin_j[t]
        return n, 2 * n * (n + 1) * (2 * n + 1) // 3, False
    for k in range(mi):
        t = oi[k]
        idx[n] = t
        grp[n] = gi[k]
        n += fin_j[t]
    grp[n] = -1
    sdd = 0
    ties = False
    start = 0
    for k in range(n):
        if grp[k + 1] != grp[k]:
            d = start + k + 2  # twice the average of ranks start + 1 .. k + 1
            for l in range(start, k + 1):
                rx[idx[l]] = d
            g = k + 1 - start
            sdd += g * d * d
            if g > 1:
                ties = True
            start = k + 1
    return n, sdd, ties


@jit(nogil=True)
def _rank_side_y(oj, gj, mj, tiefree_j, fin_i, idx, grp, rx):
    """Rank feature j on the same overlap and return (sum dx * dy, sum dy^2, ties)."""
    n = 0
    sdxdy = 0
    if tiefree_j:
        for k in range(mj):
            t = oj[k]
            f = fin_i[t]
            sdxdy += f * rx[t] * (2 * n + 2)
            n += f
        return sdxdy, 2 * n * (n + 1) * (2 * n + 1) // 3, False
    for k in range(mj):
        t = oj[k]
        idx[n] = t
        grp[n] = gj[k]
        n += fin_i[t]
    grp[n] = -1
    sdd = 0
    ties = False
    start = 0
    for k in range(n):
        if grp[k + 1] != grp[k]:
            d = start + k + 2
            part = 0
            for l in range(start, k + 1):
                part += rx[idx[l]]
            sdxdy += d * part
            g = k + 1 - start
            sdd += g * d * d
            if g > 1:
                ties = True
            start = k + 1
    return sdxdy, sdd, ties


@jit(nogil=True)
def _pair_missing(oi, gi, mi, tfi, fin_i, oj, gj, mj, tfj, fin_j, min_n, idx, grp, rx):
    """Exact sums (sxy, sxx, syy, n, ties) of one pair re-ranked on its overlap.

    oi/gi: sorted order and tie-group ids of feature i's finite values (first mi used);
    tfi: i has no ties among its finite values; fin_i: finite mask over samples (uint8).
    idx/grp/rx: scratch of length s + 1 (rx int64). The sums of doubled uncentered ranks
    d = 2 rank are centered exactly: sum (dx - (n+1)) (dy - (n+1)) = sum dx dy -
    n (n+1)^2 (integers; returned as float64, exact below 2^53, i.e. n < 190000).
    Returns n = 0 when the overlap is below min_n or either vector is constant on it.
    """
    n, sddx, ties_x = _rank_side_x(oi, gi, mi, tfi, fin_j, idx, grp, rx)
    if n < min_n:
        return 0.0, 0.0, 0.0, 0, False
    center = n * (n + 1) * (n + 1)
    sxx = sddx - center
    if sxx == 0:
        return 0.0, 0.0, 0.0, 0, False
    sdxdy, sddy, ties_y = _rank_side_y(oj, gj, mj, tfj, fin_i, idx, grp, rx)
    syy = sddy - center
    if syy == 0:
        return 0.0, 0.0, 0.0, 0, False
    return float(sdxdy - center), float(sxx), float(syy), n, ties_x or ties_y


@jit(nogil=True)
def _pair_one_complete(oc, dm):
    """sum(dx * dy) of a pair whose one feature is complete and tie-free (sorted order
    ``oc`` over all samples) and whose other has missing values (``dm``, int64: its
    doubled ranks over its own finite values, 0 where missing). The overlap is then the
    other feature's finite samples, on which its ranks are its own; the complete
    feature's rank at a sample is the number of overlap samples up to it in its order:
    one pass, no re-ranking of the incomplete side."""
    cum = 0
    acc = 0
    for k in range(oc.shape[0]):
        v = dm[oc[k]]
        cum += v != 0
        acc += v * cum
    return 2 * acc


@jit(nogil=True)
def _scan_missing(ox, gx, mx, tx, fx, cx, dx, qx, oy, gy, my, ty, fy, cy, dy, qy, self_scan,
                  force, min_n, mode, table, lbeta_tab, ptab, poff, rho, nout, logp):
    """Every pair with a missing value in either feature (all pairs when ``force``); in a
    self-scan only j >= i is computed and mirrored. A pair of an incomplete feature and
    a complete tie-free one takes :func:`_pair_one_complete` (unless ``force``), any
    other :func:`_pair_missing`; both give the same exact integer sums."""
    s = fx.shape[1]
    idx = np.empty(s + 1, dtype=np.int32)
    grp = np.empty(s + 1, dtype=np.int32)
    rx = np.zeros(s, dtype=np.int64)
    nx = ox.shape[0]
    ny = oy.shape[0]
    for i in range(nx):
        j0 = i if self_scan else 0
        for j in range(j0, ny):
            if cx[i] and cy[j] and not force:
                continue
            if not force and ((cy[j] and ty[j]) or (cx[i] and tx[i])):
                if cy[j]:  # x incomplete, y complete and tie-free
                    n = np.int64(mx[i])
                    sdd, ties = qx[i], not tx[i]
                else:
                    n = np.int64(my[j])
                    sdd, ties = qy[j], not ty[j]
                if n < min_n:
                    continue
                sdxdy = _pair_one_complete(oy[j], dx[i]) if cy[j] else _pair_one_complete(ox[i], dy[j])
                center = n * (n + 1) * (n + 1)
                s_inc = sdd - center
                if s_inc == 0:
                    continue
                s_com = 2 * n * (n + 1) * (2 * n + 1) // 3 - center
                sxy = float(sdxdy - center)
                sxx, syy = (float(s_inc), float(s_com)) if cy[j] else (float(s_com), float(s_inc))
            else:
                sxy, sxx, syy, n, ties = _pair_missing(ox[i], gx[i], mx[i], tx[i], fx[i], oy[j],
                                                       gy[j], my[j], ty[j], fy[j], min_n, idx,
                                                       grp, rx)
                if n == 0:
                    continue
            r, lp = _finalize(sxy, sxx, syy, n, ties, mode, table, lbeta_tab, ptab, poff)
            rho[i, j] = r
            nout[i, j] = n
            logp[i, j] = lp
            if self_scan:
                rho[j, i] = r
                nout[j, i] = n
                logp[j, i] = lp


@jit(nogil=True)
def _finalize_complete(sxy, ix, iy, sxx_x, sxx_y, tie_x, tie_y, n, self_scan, mode, table,
                       lbeta_tab, ptab, poff, rho, nout, logp):
    """Complete path: sxy[a, b] (exact integer matrix product) for x row ix[a], y row iy[b]."""
    for a in range(ix.shape[0]):
        b0 = a if self_scan else 0
        for b in range(b0, iy.shape[0]):
            if sxx_x[a] == 0.0 or sxx_y[b] == 0.0:
                continue
            r, lp = _finalize(sxy[a, b], sxx_x[a], sxx_y[b], n, tie_x[a] or tie_y[b], mode,
                              table, lbeta_tab, ptab, poff)
            i = ix[a]
            j = iy[b]
            rho[i, j] = r
            nout[i, j] = n
            logp[i, j] = lp
            if self_scan:
                rho[j, i] = r
                nout[j, i] = n
                logp[j, i] = lp


@jit(nogil=True)
def _own_ranks(order, gid, m, dr, sdd):
    """Doubled ranks (int64) of each feature over its own finite values (average ranks
    for ties) into ``dr`` (0 where missing), and their sum of squares into ``sdd``."""
    for f in range(order.shape[0]):
        o = order[f]
        g = gid[f]
        acc = 0
        start = 0
        for k in range(1, m[f] + 1):
            if k == m[f] or g[k] != g[start]:
                d = start + k + 1  # twice the average of ranks start + 1 .. k
                for l in range(start, k):
                    dr[f, o[l]] = d
                acc += (k - start) * d * d
                start = k
        sdd[f] = acc


# --------------------------------------------------------------------------- driver


# only ranks of the values reach compiled code, so every float dtype is kept as it is
_RANKED_FLOATS = (np.float16, np.float32, np.float64, np.longdouble)


def _prepare(a: np.ndarray):
    """Per feature: sorted order of finite values, tie-group ids, count, no-ties flag,
    finite mask (uint8), complete flag, doubled ranks over its finite values (0 where
    missing) and their sum of squares."""
    fin = np.isfinite(a)
    vals = np.where(fin, a, np.nan)
    order = np.argsort(vals, axis=1, kind="stable").astype(np.int32)  # NaN last
    sv = np.take_along_axis(vals, order, axis=1)
    newgrp = np.ones(a.shape, dtype=bool)
    newgrp[:, 1:] = sv[:, 1:] != sv[:, :-1]
    gid = np.cumsum(newgrp, axis=1, dtype=np.int32)
    m = fin.sum(axis=1).astype(np.int32)
    complete = m == a.shape[1]
    # gid counts groups from 1, so the last finite value's id is the number of groups
    last = np.take_along_axis(gid, np.maximum(m - 1, 0)[:, None].astype(np.intp), axis=1)[:, 0]
    tiefree = (m == 0) | (last == m)
    dr = np.zeros(a.shape, dtype=np.int64)
    sdd = np.zeros(a.shape[0], dtype=np.int64)
    _own_ranks(order, gid, m, dr, sdd)
    return order, gid, m, tiefree, fin.view(np.uint8), complete, dr, sdd


def _complete_part(order, gid, complete):
    rows = np.flatnonzero(complete).astype(np.int64)
    ranks = np.empty((rows.size, order.shape[1]), dtype=np.float64)
    sxx = np.empty(rows.size, dtype=np.float64)
    ties = np.empty(rows.size, dtype=np.bool_)
    if rows.size:
        _complete_ranks(order, gid, rows, ranks, sxx, ties)
    return rows, ranks, sxx, ties


def _lbeta_table(s: int) -> np.ndarray:
    tab = np.full(s + 1, np.nan)
    for n in range(3, s + 1):
        tab[n] = log_beta(0.5 * (n - 2), 0.5)
    return tab


def _spearman_block(x, y, min_n: int, p_mode: str, force_missing_path: bool):
    if p_mode not in _MODES:
        raise ValueError(f"p_mode must be 't' or 'r', got {p_mode!r}")
    min_n = count_arg(min_n, "min_n", 3)
    mode = _MODES[p_mode]
    x = feature_block(x, "x", keep=_RANKED_FLOATS)
    self_scan = y is None
    y = x if self_scan else feature_block(y, "y", keep=_RANKED_FLOATS)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same samples: {x.shape[1]} != {y.shape[1]}")
    nx, s = x.shape
    if s > _MAX_SAMPLES:
        raise ValueError(f"{s} samples: rank sums are exact integers only up to {_MAX_SAMPLES}")
    ny = y.shape[0]
    rho = np.full((nx, ny), np.nan)
    nout = np.zeros((nx, ny), dtype=np.int32)
    logp = np.full((nx, ny), np.nan)
    if nx == 0 or ny == 0 or s < min_n:
        return rho, nout, logp
    table = _get_exact_table()
    lbeta_tab = _lbeta_table(s)
    ptab, poff = _p_table()
    px = _prepare(x)
    py = px if self_scan else _prepare(y)
    if not force_missing_path:
        rows_x, ranks_x, sxx_x, tie_x = _complete_part(px[0], px[1], px[5])
        if self_scan:
            rows_y, ranks_y, sxx_y, tie_y = rows_x, ranks_x, sxx_x, tie_x
            sxy = ranks_x @ ranks_x.T
        else:
            rows_y, ranks_y, sxx_y, tie_y = _complete_part(py[0], py[1], py[5])
            sxy = ranks_x @ ranks_y.T
        if rows_x.size and rows_y.size:
            _finalize_complete(sxy, rows_x, rows_y, sxx_x, sxx_y, tie_x, tie_y, s, self_scan,
                               mode, table, lbeta_tab, ptab, poff, rho, nout, logp)
    _scan_missing(*px, *py, self_scan, force_missing_path, min_n, mode, table, lbeta_tab,
                  ptab, poff, rho, nout, logp)
    return rho, nout, logp


def spearman_block(x: ArrayLike, y: ArrayLike | None = None, *, min_n: int = 10,
                   p_mode: str = "t") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Pairwise-complete Spearman correlation of every x feature with every y feature.

    Parameters
    ----------
    x
        (nx, s) float32/float64 block, features x samples; NaN and +-inf are missing.
    y
        (ny, s) block over the same samples, or None for the self-scan y = x.
    min_n
        Smallest overlap (samples where both values are finite) that gives a result; >= 3.
    p_mode
        ``"t"`` (default): t approximation, smooth into the far tail. ``"r"``: what R's
        ``cor.test(x, y, method = "spearman")`` returns by default, with R's 0 replaced
        by :data:`P_FLOOR`.

    Returns
    -------
    rho
        float64 (nx, ny) Spearman's rho; NaN where there is no result.
    n
        int32 (nx, ny) overlap size used; 0 where there is no result.
    logp
        float64 (nx, ny) natural log of the two-sided p-value; NaN where there is no
        result, ``-inf`` where p == 0 (|rho| == 1 in mode t).

    Notes
    -----
    Per pair the samples where both values are finite are kept (n of them); each vector
    is ranked within that overlap (average ranks for ties) as doubled centered ranks
    :math:`c = 2\,\mathrm{rank} - (n + 1)`, integers, and

    .. math:: \rho = \frac{s_{xy}}{\sqrt{s_{xx} s_{yy}}}, \quad
              1 - \rho^2 = \frac{s_{xx} s_{yy} - s_{xy}^2}{s_{xx} s_{yy}}

    with the exact integer sums :math:`s_{xy} = \sum c_x c_y` etc. (the numerator of
    :math:`1 - \rho^2` via error-free products, so there is no cancellation near
    :math:`|\rho| = 1`). No result when n < min_n or either vector is constant on the
    overlap.

    Mode ``t``: :math:`t = \rho\sqrt{(n - 2) / (1 - \rho^2)}` with n - 2 degrees of
    freedom, two-sided, i.e. :math:`p = I_{1-\rho^2}((n-2)/2, 1/2)`, computed as its log
    (finite far below 1e-308).

    Mode ``r``: if n <= 1290 and neither vector has ties on the overlap, R's ``prho``
    (algorithm AS 89: exact permutation distribution for n <= 9, Edgeworth series
    otherwise) with R's two-sided rule: with :math:`S = \sum d^2 = (n^3 - n)(1 - \rho)/6`,
    ``p = min(2 * prho(S, n, upper), 1)`` if :math:`S > (n^3 - n)/6` (rho < 0), else
    ``min(2 * prho(S + 2, n, lower), 1)``; otherwise the t approximation. Where R's p is
    exactly 0 (AS 89's series clamped at 0, e.g. at n = 150 from |rho| of about 0.52; a t
    tail below the smallest double, |rho| = 1 among them) it is replaced by
    2.220446049250313e-16, as the reference does, and has ``logp == LOG_P_FLOOR``
    exactly; any other p, however small, is R's.

    Results are bit-identical whichever internal path (complete block matrix product or
    per-pair re-ranking) computed a pair, and independent of how features are split
    into blocks; a self-scan is exactly symmetric.
    """
    return _spearman_block(x, y, min_n, p_mode, False)
