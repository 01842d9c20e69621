"""The one JIT policy of linkscan's kernels.

Every kernel is compiled through :func:`jit`, which fixes ``nopython`` and the cache
policy. Caching follows ``LINKSCAN_NUMBA_CACHE`` ("1", the default, caches compiled
kernels next to their source; "0" disables it); any other value is an error rather
than a silent default. ``fastmath`` is never blanket-enabled: missing values are NaN
and ``nnan`` would compile the ``isnan`` checks away (numba/numba#7701).
"""

import os

import numba


def _cache_enabled() -> bool:
    value = os.environ.get("LINKSCAN_NUMBA_CACHE", "1")
    if value not in ("0", "1"):
        raise ValueError(
            f"LINKSCAN_NUMBA_CACHE={value!r}: use 1 to cache compiled kernels or 0 not to"
        )
    return value == "1"


def jit(*args, **kwargs):
    """``numba.njit`` with linkscan's defaults (``cache`` per the environment)."""
    kwargs.setdefault("cache", _cache_enabled())
    return numba.njit(*args, **kwargs)
