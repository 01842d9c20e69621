"""Pan-cancer meta p-value: Stouffer's method on signed two-sided cohort p-values.

STATS.md, "Pan-cancer meta p (Stouffer, the reference's convention)", computed in log
space so that extreme cohorts keep their weight.
"""

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import log_ndtr, ndtri_exp

from linkscan.kernels.pvalues import SLOGP_MAX

_LN10 = math.log(10.0)
_LN2 = math.log(2.0)


def stouffer(slogp: ArrayLike, *, min_cohorts: int = 1) -> tuple[np.ndarray, np.ndarray]:
    r"""Stouffer meta signed p-value of each association over its cohorts.

    Parameters
    ----------
    slogp
        (npairs, k) signed -log10 two-sided p-values, one column per cohort; NaN where a
        cohort has no result. +-``np.finfo(np.float32).max`` (or larger) means p == 0.
        0 (p == 1, also -0.0) counts as sign +.
    min_cohorts
        Fewest cohorts with a result for a meta result (at least 1 is always required).

    Returns
    -------
    meta_slogp
        float64 (npairs,) signed -log10 meta p; NaN where fewer than
        ``max(min_cohorts, 1)`` cohorts have a result, +-float32 max where the meta p is
        0, and NaN where cohorts with p == 0 point both ways (the sum is then undefined).
    n_cohorts
        int16 (npairs,) number of cohorts with a result.

    Notes
    -----
    With cohort signs :math:`s_i` and two-sided p-values :math:`p_i`, i = 1..k:

    1. majority sign :math:`s = \mathrm{sign}(\sum_i s_i)`, a tie counting as +;
    2. one-sided :math:`q_i = p_i / 2` where :math:`s_i = s`, else :math:`1 - p_i / 2`;
    3. :math:`Z = \sum_i \Phi^{-1}(1 - q_i) / \sqrt{k}`, one-sided :math:`P = 1 - \Phi(Z)`;
    4. two-sided: :math:`2P` with sign s when P < 0.5 (Z > 0), else :math:`2(1 - P)` with
       sign -s;
    5. k = 1 passes the cohort's value through unchanged; k = 0 gives NaN.

    Everything is in log space without clamping: :math:`\Phi^{-1}(1 - q_i) =
    \pm\,\mathrm{ndtri\_exp}(\log p_i - \log 2)` (- where the cohort agrees with s; the
    symmetry of the normal avoids forming :math:`1 - p_i/2`), and
    :math:`\log P = \mathrm{log\_ndtr}(-Z)`, so cohorts with p far below 1e-308 (slogp
    > 308) still count by their size. Unlike the reference, q is never replaced by
    1 - q when the median q exceeds 0.5.
    """
    s = np.asarray(slogp, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"slogp must be 2-D (pairs x cohorts), got shape {s.shape}")
    if isinstance(min_cohorts, bool) or not isinstance(min_cohorts, (int, np.integer)):
        raise ValueError(f"min_cohorts must be an integer, got {min_cohorts!r}")
    if s.shape[1] > np.iinfo(np.int16).max:
        raise ValueError(f"too many cohorts: {s.shape[1]}")
    valid = ~np.isnan(s)
    k = valid.sum(axis=1)
    if s.shape[1] == 1:  # one cohort: its value passes through (step 5), nothing to combine
        out = s[:, 0].copy()
        out[k < max(int(min_cohorts), 1)] = np.nan
        return out, k.astype(np.int16)
    sign = np.where(s >= 0.0, 1.0, -1.0)  # -0.0 >= 0: p == 1 is +
    majority = np.where(np.where(valid, sign, 0.0).sum(axis=1) >= 0.0, 1.0, -1.0)
    mag = np.abs(s)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        logp = np.where(mag >= SLOGP_MAX, -np.inf, -mag * _LN10)
        # |Phi^-1(p_i / 2)|, +inf for p == 0
        zmag = -ndtri_exp(logp - _LN2)
        z = np.where(valid, np.where(sign == majority[:, None], zmag, -zmag), 0.0)
        # Summed cohort by cohort, not with z.sum(axis=1): numpy's reduction order depends
        # on the memory layout, and a pair's meta p must be the same bytes in any tile.
        zsum = np.zeros(len(z))
        for column in z.T:
            zsum += column  # NaN when +inf and -inf meet
        big_z = zsum / np.sqrt(np.maximum(k, 1))
        upper = big_z > 0.0  # P = 1 - Phi(Z) < 0.5
        log_meta = np.where(upper, log_ndtr(-big_z), log_ndtr(big_z)) + _LN2
        log_meta = np.minimum(log_meta, 0.0)
        out_sign = np.where(upper, majority, -majority)
        out = np.where(np.isneginf(log_meta), out_sign * SLOGP_MAX,
                       out_sign * (-log_meta / _LN10)) + 0.0  # +0.0: p == 1 is +
    single = k == 1
    if single.any():
        col = np.argmax(valid[single], axis=1)
        out[single] = s[single][np.arange(col.size), col]
    out[k < max(int(min_cohorts), 1)] = np.nan
    return out, k.astype(np.int16)
