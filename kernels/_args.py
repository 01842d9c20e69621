"""Argument checks shared by the block kernels' Python drivers.

Every kernel validates its count thresholds (``min_n``, ``min_x``, ...) and its feature
matrix the same way and with the same messages; both checks live here.
"""

import numpy as np
from numpy.typing import ArrayLike

#: Float dtypes the compiled kernels take as they are; anything else becomes float64.
KERNEL_FLOATS = (np.float32, np.float64)


def count_arg(value, name: str, low: int) -> int:
    """``value`` as an int, or ValueError naming ``name`` unless it is an integer >= ``low``.

    Python and numpy integers are accepted; bool (Python or numpy), floats (even
    integral ones) and anything else are not.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def feature_block(values: ArrayLike, name: str = "values", *,
                  keep: tuple = KERNEL_FLOATS) -> np.ndarray:
    """``values`` as a C-contiguous 2-D (features x samples) float array.

    Dtypes in ``keep`` are kept as they are, any other is converted to float64; a
    ValueError naming ``name`` is raised unless the array is 2-D.
    """
    a = np.asarray(values)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (features x samples), got shape {a.shape}")
    if a.dtype not in keep:
        a = a.astype(np.float64)
    return np.ascontiguousarray(a)
