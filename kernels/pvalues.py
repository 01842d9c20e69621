"""Shared p-value machinery of linkscan's kernels: tails in log space, signed -log10 p.

Every kernel reports a two-sided p-value as its natural log ``logp`` (computed in log
space, so that p far below the smallest double is still a finite number) and the
storage layer keeps ``slogp = sign(effect) * -log10(p)`` (see STATS.md, "Common rules").

The numba functions here (:func:`log_betainc`, :func:`log_t_two_sided`,
:func:`log_f_sf`, :func:`log_norm_sf`, :func:`pnorm_tail`) are compiled lazily on first
use and are meant to be called from other kernels as well as from Python.
"""

import math

import numpy as np
from numpy.typing import ArrayLike

from linkscan.kernels._jit import jit

#: |slogp| written for p == 0 (logp == -inf): the largest finite float32.
SLOGP_MAX = float(np.finfo(np.float32).max)

_LN10 = math.log(10.0)
_FPMIN = 1e-300
_CF_EPS = 1e-16
_CF_MAXIT = 100_000


@jit(nogil=True)
def _betacf(a, b, x, y):
    """Continued fraction of I_x(a, b) (modified Lentz), y = 1 - x.

    Returns h with I_x(a, b) = x^a y^b / (a B(a, b)) * h. Converges quickly for
    x < (a + 1) / (a + b + 2).
    """
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < _FPMIN:
        d = _FPMIN
    d = 1.0 / d
    h = d
    for m in range(1, _CF_MAXIT + 1):
        m2 = 2.0 * m
        # even step
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < _FPMIN:
            d = _FPMIN
        c = 1.0 + aa / c
        if abs(c) < _FPMIN:
            c = _FPMIN
        d = 1.0 / d
        h *= d * c
        # odd step
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < _FPMIN:
            d = _FPMIN
        c = 1.0 + aa / c
        if abs(c) < _FPMIN:
            c = _FPMIN
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _CF_EPS:
            return h
    return math.nan


@jit(nogil=True)
def _stirling_corr(x):
    """lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2) for x >= 15 (error < 1e-17)."""
    w = 1.0 / (x * x)
    return (1.0 / 12.0 - w * (1.0 / 360.0 - w * (1.0 / 1260.0 - w * (
        1.0 / 1680.0 - w * (1.0 / 1188.0 - w * (691.0 / 360360.0)))))) / x


@jit(nogil=True)
def log_beta(a: float, b: float) -> float:
    r"""Natural log of the beta function :math:`B(a, b)`, a, b > 0.

    Where the larger argument q is >= 15, :math:`\mathrm{lgamma}(q) -
    \mathrm{lgamma}(p + q)` is taken from Stirling's series as
    :math:`-(q - 1/2)\,\mathrm{log1p}(p / q) - p \log(p + q) + p + c(q) - c(p + q)`,
    which avoids the cancellation of two large lgamma values (t and F tails with many
    degrees of freedom); otherwise lgamma(a) + lgamma(b) - lgamma(a + b).
    """
    p = min(a, b)
    q = max(a, b)
    if q < 15.0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    d = (-(q - 0.5) * math.log1p(p / q) - p * math.log(p + q) + p
         + (_stirling_corr(q) - _stirling_corr(p + q)))
    return math.lgamma(p) + d


@jit(nogil=True)
def _log_betainc_direct(a, b, x, y, lbeta):
    """log I_x(a, b) by the continued fraction on x (no symmetry), y = 1 - x."""
    front = a * math.log(x) + b * math.log(y) - math.log(a) - lbeta
    return front + math.log(_betacf(a, b, x, y))


@jit(nogil=True)
def log_betainc_core(a: float, b: float, x: float, y: float, lbeta: float) -> float:
    """log I_x(a, b) given x, y = 1 - x and lbeta = :func:`log_beta` (a, b).

    For kernels that evaluate many tails with the same (a, b) and so tabulate log B
    once; otherwise identical to :func:`log_betainc_xy`.
    """
    if not (a > 0.0 and b > 0.0) or math.isnan(x) or math.isnan(y):
        return math.nan
    if x <= 0.0:
        return -math.inf
    if y <= 0.0:
        return 0.0
    if x < (a + 1.0) / (a + b + 2.0):
        return _log_betainc_direct(a, b, x, y, lbeta)
    # I_x(a, b) = 1 - I_y(b, a): I_y(b, a) is then the smaller side and the result is
    # close to 0 (p not small), so log1p loses nothing that matters.
    lq = _log_betainc_direct(b, a, y, x, lbeta)
    return math.log1p(-math.exp(lq))


@jit(nogil=True)
def log_betainc_xy(a: float, b: float, x: float, y: float) -> float:
    """log I_x(a, b) given both x and y = 1 - x (each accurate on its own).

    Same as :func:`log_betainc` but for callers that know 1 - x more accurately than
    ``1 - x`` can be computed (e.g. x = 1 - r^2 and y = r^2 from exact integer sums).
    """
    if not (a > 0.0 and b > 0.0):
        return math.nan
    return log_betainc_core(a, b, x, y, log_beta(a, b))


@jit(nogil=True)
def log_betainc(a: float, b: float, x: float) -> float:
    r"""Natural log of the regularized incomplete beta function :math:`I_x(a, b)`.

    Parameters
    ----------
    a, b
        Shape parameters, both > 0.
    x
        Argument in [0, 1].

    Returns
    -------
    logp
        :math:`\log I_x(a, b)`; ``-inf`` at x = 0, 0 at x = 1, NaN for invalid input.

    Notes
    -----
    :math:`I_x(a, b) = \frac{x^a (1-x)^b}{a B(a, b)} \cdot h` where h is the continued
    fraction of Numerical Recipes (``betacf``), evaluated with the modified Lentz method to
    relative accuracy 1e-16. The prefactor is taken in log space,
    :math:`a \log x + b \log1p(-x) - \log a - \log B(a, b)` with
    log B from :func:`log_beta` (Stirling difference for large arguments), so values far
    below 1e-308 are returned as finite logs. Where the fraction converges slowly
    (:math:`x \ge (a + 1) / (a + b + 2)`) the symmetry
    :math:`I_x(a, b) = 1 - I_{1-x}(b, a)` is used.
    Compiled with numba (``nogil``); callable from Python and from other kernels.
    """
    return log_betainc_xy(a, b, x, 1.0 - x)


@jit(nogil=True)
def log_t_two_sided(t: float, df: float) -> float:
    r"""Natural log of the two-sided Student t tail :math:`P(|T_{df}| \ge |t|)`.

    Parameters
    ----------
    t
        t statistic (any sign; +-inf gives -inf).
    df
        Degrees of freedom, > 0.

    Returns
    -------
    logp
        :math:`\log I_{df / (df + t^2)}(df / 2, 1 / 2)`.
    """
    if math.isnan(t) or not df > 0.0:
        return math.nan
    if math.isinf(t):
        return -math.inf
    t2 = t * t
    den = df + t2
    return log_betainc_xy(0.5 * df, 0.5, df / den, t2 / den)


@jit(nogil=True)
def log_f_sf(f: float, df1: float, df2: float) -> float:
    r"""Natural log of the F distribution's upper tail :math:`P(F_{df1, df2} \ge f)`.

    Parameters
    ----------
    f
        F statistic (>= 0; +inf gives -inf).
    df1, df2
        Numerator and denominator degrees of freedom, > 0.

    Returns
    -------
    logp
        :math:`\log I_{df2 / (df2 + df1 f)}(df2 / 2, df1 / 2)`.
    """
    if math.isnan(f) or not (df1 > 0.0 and df2 > 0.0):
        return math.nan
    if f <= 0.0:
        return 0.0
    if math.isinf(f):
        return -math.inf
    den = df2 + df1 * f
    return log_betainc_xy(0.5 * df2, 0.5 * df1, df2 / den, df1 * f / den)


# Cody's rational Chebyshev approximations for the normal distribution function
# (W. J. Cody, Math. Comp. 1969; ACM TOMS Algorithm 715, ANORM), the algorithm of R's
# pnorm. Coefficients as published.
_NA = (2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582,
       18154.981253343561249, 0.065682337918207449113)
_NB = (47.20258190468824187, 976.09855173777669322, 10260.932208618978205,
       45507.789335026729956)
_NC = (0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979,
       597.27027639480026226, 2494.5375852903726711, 6848.1904505362823326,
       11602.651437647350124, 9842.7148383839780218, 1.0765576773720192317e-8)
_ND = (22.266688044328115691, 235.38790178262499861, 1519.377599407554805,
       6485.558298266760755, 18615.571640885098091, 34900.952721145977266,
       38912.003286093271411, 19685.429676859990727)
_NP = (0.21589853405795699, 0.1274011611602473639, 0.022235277870649807,
       0.001421619193227893466, 2.9112874951168792e-5, 0.02307344176494017303)
_NQ = (1.28426009614491121, 0.468238212480865118, 0.0659881378689285515,
       0.00378239633202758244, 7.29751555083966205e-5)
_INV_SQRT_2PI = 0.398942280401432677939946059934


@jit(nogil=True)
def _gauss_tail_scaled(y, r):
    """exp(-y^2 / 2) * r, with y^2 split so that the large part is exact."""
    ysq = math.trunc(y * 16.0) / 16.0
    dl = (y - ysq) * (y + ysq)
    return math.exp(-ysq * ysq * 0.5) * math.exp(-dl * 0.5) * r


@jit(nogil=True)
def pnorm_tail(x: float, lower: bool) -> float:
    r"""Standard normal tail: :math:`\Phi(x)` if ``lower`` else :math:`1 - \Phi(x)`.

    Parameters
    ----------
    x
        Quantile.
    lower
        True for the lower tail :math:`P(Z \le x)`, False for :math:`P(Z > x)`.

    Returns
    -------
    p
        The tail probability (plain, not log; underflows to 0 beyond about |x| = 38).

    Notes
    -----
    Cody's near-minimax rational approximations in three ranges (|x| <= 0.66291,
    <= sqrt(32), beyond), with exp(-x^2/2) evaluated from an exactly representable split
    of x (cutoff 16) as R's ``pnorm`` does, so that the small tail is accurate to a few
    ulp (``0.5 * erfc(x / sqrt(2))`` loses about x^2 ulp to the rounding of x / sqrt(2)).
    Used by AS 89 (mode ``r`` of the Spearman kernel).
    """
    if math.isnan(x):
        return math.nan
    y = abs(x)
    if y <= 0.66291:
        xsq = x * x if y > 1.1102230246251565e-16 else 0.0
        xnum = _NA[4] * xsq
        xden = xsq
        for i in range(3):
            xnum = (xnum + _NA[i]) * xsq
            xden = (xden + _NB[i]) * xsq
        temp = x * (xnum + _NA[3]) / (xden + _NB[3])
        return 0.5 + temp if lower else 0.5 - temp
    if y <= 5.656854248:  # sqrt(32)
        xnum = _NC[8] * y
        xden = y
        for i in range(7):
            xnum = (xnum + _NC[i]) * y
            xden = (xden + _ND[i]) * y
        small = _gauss_tail_scaled(y, (xnum + _NC[7]) / (xden + _ND[7]))
    elif y < 37.5193:  # beyond it the small tail is 0 in double precision (as in R)
        xsq = 1.0 / (x * x)
        xnum = _NP[5] * xsq
        xden = xsq
        for i in range(4):
            xnum = (xnum + _NP[i]) * xsq
            xden = (xden + _NQ[i]) * xsq
        temp = xsq * (xnum + _NP[4]) / (xden + _NQ[4])
        small = _gauss_tail_scaled(y, (_INV_SQRT_2PI - temp) / y)
    else:
        small = 0.0
    # `small` is the tail on the far side of 0 from x's sign
    if (x > 0.0) == lower:
        return 1.0 - small
    return small


@jit(nogil=True)
def log_norm_sf(z: float) -> float:
    r"""Natural log of the standard normal upper tail :math:`\log(1 - \Phi(z))`.

    Parameters
    ----------
    z
        Quantile (any real; -inf gives 0, +inf gives -inf).

    Returns
    -------
    logp
        :math:`\log P(Z > z)`, finite for every finite z.

    Notes
    -----
    Up to z = 37 the log of Cody's tail (:func:`pnorm_tail`); beyond it the asymptotic
    series :math:`\log\phi(z) - \log z + \log(1 - z^{-2} + 3 z^{-4} - 15 z^{-6} +
    105 z^{-8})`, whose truncation error there is below 1e-16. For z < 0,
    :math:`\log1p(-\Phi(z))`.
    """
    if math.isnan(z):
        return math.nan
    if z < 0.0:
        return math.log1p(-pnorm_tail(z, True))
    if z <= 37.0:
        return math.log(pnorm_tail(z, False))
    if math.isinf(z):
        return -math.inf
    w = 1.0 / (z * z)
    series = 1.0 - w * (1.0 - w * (3.0 - w * (15.0 - w * 105.0)))
    return -0.5 * z * z - math.log(z) - 0.5 * math.log(2.0 * math.pi) + math.log(series)


def signed_log10p(effect: ArrayLike, logp: ArrayLike) -> np.ndarray:
    r"""Signed p-value ``slogp = sign(effect) * -log10(p)`` from the natural log of p.

    Parameters
    ----------
    effect
        Effect sizes (rho, shift, log hazard ratio, ...); array-like, broadcast with logp.
    logp
        Natural log of the two-sided p-value; ``-inf`` means p == 0.

    Returns
    -------
    slogp
        float64 array :math:`\mathrm{sign}(e) \cdot (-\log p / \ln 10)`, where an effect of
        exactly 0 counts as positive, p == 1 gives +0.0, NaN in either input gives NaN,
        and p == 0 gives +-``np.finfo(np.float32).max`` (the largest finite value the
        float32 store holds) instead of infinity; larger magnitudes are capped there too.
    """
    effect = np.asarray(effect, dtype=np.float64)
    logp = np.asarray(logp, dtype=np.float64)
    sign = np.where(effect >= 0.0, 1.0, -1.0)
    with np.errstate(invalid="ignore"):
        mag = np.where(np.isneginf(logp), SLOGP_MAX, np.minimum(-logp / _LN10 + 0.0, SLOGP_MAX))
    out = sign * mag + 0.0  # + 0.0 turns -0.0 (p == 1, negative effect) into +0.0
    out = np.where(np.isnan(effect) | np.isnan(logp), np.nan, out)
    return np.asarray(out, dtype=np.float64)
