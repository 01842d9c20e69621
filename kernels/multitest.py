"""Benjamini-Hochberg q-values in log space, equal to the whole-scan result from tiles.

STATS.md "Multiple testing": q-values are computed per cohort over all tests of that
cohort (and for the meta p over all associations of a scan), and must equal BH computed
on the whole scan at once even though the scan ran as thousands of tiles. BH is not a
per-tile quantity (q of one test depends on every other p of the scan), so it is done in
two steps:

1. gather: the engine collects the log p-values of all tests of the scope (one cohort,
   or the meta p of the scan) from all tiles, as float64 natural logs, NaN dropped. A
   few million values are a few tens of MB. Where memory matters, each tile can instead
   ship :func:`logp_value_counts` (its distinct values with their counts), merged with
   :func:`merge_value_counts`.
2. table: :func:`bh_table` turns the sorted values (or the merged counts) into a
   :class:`BHTable`, one log q per *distinct* log p; :func:`bh_lookup` then maps the
   log p of any tile, in any order, to its log q by binary search.

The table depends only on the multiset of p-values, so every route (whole array, any
split into tiles, counts or raw values, any gather order) gives the same bytes.
:func:`bh_logq` is the one-array shortcut built from the same functions.

Example (one cohort's tiles ``parts``, each an array of log p)::

    table = bh_table(np.sort(np.concatenate([p[~np.isnan(p)] for p in parts])))
    logq_of_part = [bh_lookup(table, p) for p in parts]
"""

import math
from typing import NamedTuple

import numpy as np

from linkscan.kernels._jit import jit
from numpy.typing import ArrayLike


class BHTable(NamedTuple):
    """Log q of every distinct log p of one BH scope (one cohort, or one meta scan)."""

    #: float64, strictly increasing distinct natural-log p-values (-inf for p == 0)
    logp: np.ndarray
    #: float64, the BH log q of each value of ``logp`` (non-decreasing, <= 0)
    logq: np.ndarray
    #: number of tests m in the scope (p-values counted with multiplicity)
    m: int


def _as_logp(logp: ArrayLike, name: str = "logp") -> np.ndarray:
    a = np.asarray(logp, dtype=np.float64)
    if np.any(a > 0.0):  # NaN compares False
        raise ValueError(f"{name} holds natural-log p-values, which must be <= 0 "
                         f"(p <= 1); got a maximum of {np.nanmax(a)!r}")
    return a


def logp_value_counts(logp: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Distinct log p-values of one tile and how often each occurs.

    Parameters
    ----------
    logp
        Natural-log p-values, any shape; NaN (no test) is dropped.

    Returns
    -------
    values
        float64, strictly increasing distinct values.
    counts
        int64, their multiplicities.
    """
    a = _as_logp(logp).ravel()
    a = np.sort(a[~np.isnan(a)])
    if a.size == 0:
        return a, np.zeros(0, dtype=np.int64)
    last = np.empty(a.size, dtype=bool)
    np.not_equal(a[1:], a[:-1], out=last[:-1])
    last[-1] = True
    ends = np.flatnonzero(last) + 1
    counts = np.diff(ends, prepend=0).astype(np.int64)
    return a[last], counts


def merge_value_counts(parts) -> tuple[np.ndarray, np.ndarray]:
    """Merge :func:`logp_value_counts` results of several tiles into one.

    Parameters
    ----------
    parts
        Iterable of ``(values, counts)`` pairs.

    Returns
    -------
    values, counts
        As :func:`logp_value_counts` for the concatenation of all tiles.
    """
    parts = list(parts)
    if not parts:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    values = np.concatenate([np.asarray(v, dtype=np.float64) for v, _ in parts])
    counts = np.concatenate([np.asarray(c, dtype=np.int64) for _, c in parts])
    order = np.argsort(values, kind="stable")
    values = values[order]
    counts = counts[order]
    if values.size == 0:
        return values, counts
    new = np.empty(values.size, dtype=bool)
    new[0] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    return values[starts], np.add.reduceat(counts, starts)


def bh_table(sorted_logp: ArrayLike, counts: ArrayLike | None = None) -> BHTable:
    r"""The BH log q of each distinct log p of a whole scope.

    Parameters
    ----------
    sorted_logp
        Without ``counts``: all natural-log p-values of the scope, sorted ascending,
        repeats kept, no NaN (e.g. ``np.sort(all_logp[~np.isnan(all_logp)])``). With
        ``counts``: strictly increasing distinct values (:func:`merge_value_counts`).
    counts
        Multiplicity of each value, or None.

    Returns
    -------
    BHTable
        Distinct values, their log q, and m.

    Notes
    -----
    With m tests and :math:`R(v) = \#\{j : p_j \le v\}` (the largest ascending rank of
    a value, so tied p-values share it),

    .. math::

        \log q(v) = \min\Big(0,\; \min_{w \ge v}
                    \big(\log w + \log m - \log R(w)\big)\Big),

    the log of R's ``p.adjust(p, "BH")`` (``pmin(1, cummin(m / i * p[o]))`` over p in
    decreasing order): a cumulative minimum from the largest value down, capped at 1. In
    log space a p far below 1e-308 keeps its size.
    """
    v = _as_logp(sorted_logp, "sorted_logp")
    if v.ndim != 1:
        raise ValueError(f"sorted_logp must be 1-D, got shape {v.shape}")
    if np.isnan(v).any():
        raise ValueError("sorted_logp must not hold NaN: drop the missing tests first")
    if counts is None:
        if np.any(v[1:] < v[:-1]):
            raise ValueError("sorted_logp must be sorted ascending (np.sort)")
        last = np.ones(v.size, dtype=bool)
        np.not_equal(v[1:], v[:-1], out=last[:-1])
        ranks = (np.flatnonzero(last) + 1).astype(np.int64)
        v = v[last]
    else:
        c = np.asarray(counts)
        if c.shape != v.shape or not np.issubdtype(c.dtype, np.integer) or np.any(c < 1):
            raise ValueError("counts must be positive integers, one per value of sorted_logp")
        if np.any(v[1:] <= v[:-1]):
            raise ValueError("with counts, sorted_logp must be strictly increasing")
        ranks = np.cumsum(c, dtype=np.int64)
    m = int(ranks[-1]) if ranks.size else 0
    if m == 0:
        return BHTable(np.zeros(0), np.zeros(0), 0)
    shift = np.log(float(m)) - np.log(ranks.astype(np.float64))
    raw = v + shift
    logq = np.minimum(np.minimum.accumulate(raw[::-1])[::-1], 0.0)
    return BHTable(np.ascontiguousarray(v), logq, m)


#: Values per step of :func:`bh_log10_table`: its temporaries are ~40 bytes a value of one step.
BH_STEP = 1 << 18


def bh_log10_table(x: np.ndarray, step: int = BH_STEP) -> tuple[np.ndarray, np.ndarray]:
    """The BH table of one scope from its p-values as a result store keeps them,
    ``-log10 p`` in float32 (>= 0, no NaN), built in place: ``x`` is sorted and its front
    overwritten with the distinct values.

    Returns
    -------
    values
        The first d elements of ``x``: the distinct ``-log10 p``, ascending.
    log10q
        float32 (d,): the BH ``log10 q`` of each.

    Notes
    -----
    The same bits as :func:`bh_table` of the natural logs ``-x * log(10)`` (float64)
    with log q divided by log(10) and rounded to float32, but in one pass of ``step``
    values at a time, so that beyond ``x`` it holds 4 bytes a distinct value and one
    step's temporaries, where :func:`numpy.unique` and :func:`bh_table` held ~40 bytes
    a test (a 10-cohort x 20,000-gene scan has 200 million tests per p column). A
    value's rank R (tests with a p at most its own) is its count of values ``>= v``: the
    number of values from its first position in the sorted ``x`` on. The cumulative
    minimum of BH runs from the largest p (the smallest ``-log10 p``) on, so it carries
    from one step to the next.
    """
    if x.dtype != np.float32 or x.ndim != 1:
        raise ValueError(f"x must be a 1-D float32 array of -log10 p, got {x.dtype} {x.shape}")
    x.sort()
    n = x.size
    if n and (x[0] < 0.0 or np.isnan(x[-1])):  # sorted: the least first, NaN last
        raise ValueError("x must hold -log10 p >= 0 without NaN: drop the missing tests first")
    ln10 = math.log(10.0)
    distinct = min(n, 1)  # the first value, then each value unlike the one before it
    for a in range(1, n, step):
        b = min(a + step, n)
        distinct += int(np.count_nonzero(x[a:b] != x[a - 1:b - 1]))
    log10q = np.empty(distinct, dtype=np.float32)
    log_m = np.log(float(n)) if n else 0.0
    running, written = np.inf, 0
    for a in range(0, n, step):
        b = min(a + step, n)
        first = np.empty(b - a, dtype=bool)
        first[0] = a == 0 or x[a] != x[a - 1]
        np.not_equal(x[a + 1:b], x[a:b - 1], out=first[1:])
        starts = np.flatnonzero(first)
        if starts.size == 0:  # one value's repeats fill the step
            continue
        values = x[a:b][starts]  # a copy: written below over x's front, which may reach this step
        ranks = (n - a - starts).astype(np.float64)
        raw = -values.astype(np.float64) * ln10 + (log_m - np.log(ranks))
        cumulative = np.minimum(np.minimum.accumulate(raw), running)
        running = cumulative[-1]
        end = written + values.size
        x[written:end] = values
        log10q[written:end] = (np.minimum(cumulative, 0.0) / ln10).astype(np.float32)
        written = end
    return x[:written], log10q


def bh_lookup(table: BHTable, logp: ArrayLike) -> np.ndarray:
    """Log q of each log p, read from the scope's :class:`BHTable`.

    Parameters
    ----------
    table
        From :func:`bh_table` over the whole scope that ``logp`` belongs to.
    logp
        Natural-log p-values, any shape (e.g. one tile); NaN gives NaN.

    Returns
    -------
    logq
        float64, same shape as ``logp``.

    Raises
    ------
    ValueError
        If a value of ``logp`` is not in the table (the table was built from another
        scope, or a tile is missing from it).
    """
    a = _as_logp(logp)
    out = np.full(a.shape, np.nan)
    ok = ~np.isnan(a)
    x = a[ok]
    idx = np.searchsorted(table.logp, x)
    found = idx < table.logp.size
    found[found] = table.logp[idx[found]] == x[found]
    if not found.all():
        raise ValueError(f"{int((~found).sum())} log p-values are not in the BH table: build "
                         "the table from every test of the scope (all tiles)")
    out[ok] = table.logq[idx]
    return out


def bh_logq(logp: ArrayLike) -> np.ndarray:
    r"""Benjamini-Hochberg adjusted p-values in log space.

    Parameters
    ----------
    logp
        1-D natural-log p-values (<= 0; ``-inf`` for p == 0). NaN marks "not a test":
        excluded from m and returned as NaN.

    Returns
    -------
    logq
        float64, same shape: the natural log of the BH q-value of each test.

    Notes
    -----
    Equals ``log(p.adjust(exp(logp), "BH"))`` of R,
    :math:`q_i = \min(1, \min_{j: p_j \ge p_i} m\,p_j / r_j)` with :math:`r_j` the
    ascending rank of :math:`p_j` among the m non-missing values; tied p-values get the
    same q. Computed as :func:`bh_lookup` (:func:`bh_table` (sorted values)), so that
    the result is the same bytes as computing it from tiles (see the module docstring).
    """
    a = _as_logp(logp)
    if a.ndim != 1:
        raise ValueError(f"logp must be 1-D, got shape {a.shape}")
    return bh_lookup(bh_table(np.sort(a[~np.isnan(a)])), a)


@jit(nogil=True)
def merge_positions(table, needles):
    """Position in ``table`` (ascending, unique) of each of ``needles`` (ascending), -1
    where a needle is not in it (NaN never is). One forward pass with galloping steps:
    O(len(needles) log(len(table) / len(needles))), so a shard's few million needles in
    a scan's table of tens of millions cost about as much as the needles alone."""
    out = np.full(needles.shape[0], -1, dtype=np.int64)
    m = table.shape[0]
    k = 0
    for i in range(needles.shape[0]):
        x = needles[i]
        if k < m and table[k] < x:
            # gallop: the smallest k' > k with table[k'] >= x lies in (k + step / 2, k + step]
            step = 1
            while k + step < m and table[k + step] < x:
                step *= 2
            lo = k + step // 2 + 1
            hi = min(k + step, m)
            while lo < hi:
                mid = (lo + hi) // 2
                if table[mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            k = lo
        if k < m and table[k] == x:
            out[i] = k
    return out


@jit(nogil=True)
def argsort_nonnegative_f32(x):
    """Stable order of non-negative float32 values (NaN last), as
    ``np.argsort(x, kind="stable")`` but a radix sort: the bits of a non-negative float
    order like the floats, so two 16-bit counting passes sort them in O(n). For the
    finish's q lookup (1.3M |slogp| per column and shard: numpy's comparison sort took
    40% of a shard's compaction)."""
    n = x.shape[0]
    keys = x.view(np.uint32)
    tmp = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    count = np.zeros(65537, dtype=np.int64)
    for i in range(n):
        count[(keys[i] & 0xFFFF) + 1] += 1
    for b in range(65536):
        count[b + 1] += count[b]
    for i in range(n):
        d = keys[i] & 0xFFFF
        tmp[count[d]] = i
        count[d] += 1
    count[:] = 0
    for i in range(n):
        count[(keys[i] >> 16) + 1] += 1
    for b in range(65536):
        count[b + 1] += count[b]
    for k in range(n):
        i = tmp[k]
        d = keys[i] >> 16
        order[count[d]] = i
        count[d] += 1
    return order
