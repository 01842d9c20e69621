"""The variables of a cohort Dataset: name, dimensions, dtype kind and meaning.

One registry, checked whenever a Dataset enters or leaves the cohort store, so that a
misnamed dimension or a float64 id column fails at the door with a message instead of
deep inside a scan. Add a variable here before writing it to a store.

This registry covers the omics Datasets (tumor and normal alike; their tissue and kind
are attributes, not variables). A cohort's phenotype Dataset has one variable per
phenotype, named after its column, so it cannot be a fixed registry: its layout and its
check are in :mod:`linkscan.storage.inputs.phenotypes` (``validate_dataset``).

Examples
--------
>>> import numpy as np, xarray as xr
>>> ds = xr.Dataset(
...     {"values": (("feature", "sample"), np.zeros((2, 3), np.float32))},
...     coords={"feature": ["A", "B"], "sample": ["s1", "s2", "s3"], "gene": ("feature", ["A", "B"])},
... )
>>> validate(ds)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from linkscan.errors import InputError

__all__ = ["Variable", "values", "feature", "sample", "gene", "COHORT_VARIABLES", "validate"]

# numpy dtype kinds that hold text: fixed-width unicode, object (of str), and numpy 2's
# variable-width StringDType, which is what xarray returns for zarr v3 string arrays.
_STRING_KINDS = "UOT"


@dataclass(frozen=True)
class Variable:
    """A registered Dataset variable.

    Parameters
    ----------
    name
        Name in the Dataset.
    dims
        Dimensions, in order.
    kind
        ``"f"`` for floating point, ``"str"`` for text (numpy kinds U, O holding str, T).
    doc
        What the variable holds.
    """

    name: str
    dims: tuple[str, ...]
    kind: str
    doc: str

    def __post_init__(self) -> None:
        if self.kind not in ("f", "str"):
            raise ValueError(f"Variable {self.name!r}: kind must be 'f' or 'str', not {self.kind!r}")


values = Variable(
    "values",
    ("feature", "sample"),
    "f",
    "Measurements (log ratios, log expression, 0/1 calls), float32 on disk; NaN = missing. "
    "Access it as ds['values']: ds.values is the Mapping method of xarray.Dataset.",
)
feature = Variable(
    "feature",
    ("feature",),
    "str",
    "Feature ids (gene symbol, phosphosite, variant), unique and sorted ascending in "
    "Python string order, so that a block of a sorted union of features is a contiguous "
    "row range in every cohort.",
)
sample = Variable("sample", ("sample",), "str", "Sample ids, unique, in the order of the source table.")
gene = Variable(
    "gene",
    ("feature",),
    "str",
    "Gene symbol of each feature; the feature id itself when no gene map names one.",
)

#: The variables of a cohort Dataset (all required).
COHORT_VARIABLES: dict[str, Variable] = {v.name: v for v in (values, feature, sample, gene)}


def validate(ds: xr.Dataset, registry: dict[str, Variable] = COHORT_VARIABLES, *, where: str = "dataset") -> None:
    """Check that ``ds`` holds exactly the registered variables, with their dims and kinds.

    Parameters
    ----------
    ds
        The Dataset to check.
    registry
        Variables that must be present; any other variable is an error.
    where
        How to name ``ds`` in messages (e.g. ``"cohort COAD, omics proteome"``).

    Raises
    ------
    InputError
        A variable is missing, unknown, has other dims, or another dtype kind.
    """
    present = set(ds.variables)
    missing = [name for name in registry if name not in present]
    if missing:
        raise InputError(
            f"{where}: missing variable(s) {', '.join(missing)}; a cohort Dataset needs "
            f"{', '.join(registry)} (see storage/variables.py)"
        )
    unknown = sorted(present - set(registry))
    if unknown:
        raise InputError(
            f"{where}: unknown variable(s) {', '.join(unknown)}; drop them or register them in storage/variables.py "
            f"(known: {', '.join(registry)})"
        )
    for name, spec in registry.items():
        var = ds.variables[name]
        if var.dims != spec.dims:
            raise InputError(
                f"{where}: variable {name!r} has dims {var.dims}, expected {spec.dims}; "
                f"transpose or rename it (e.g. ds.transpose({', '.join(map(repr, spec.dims))}))"
            )
        kind = var.dtype.kind
        if spec.kind == "f" and kind != "f":
            raise InputError(f"{where}: variable {name!r} has dtype {var.dtype}, expected floating point; cast it")
        if spec.kind == "str":
            ok = kind in _STRING_KINDS and (kind != "O" or all(isinstance(x, str) for x in np.ravel(var.values)))
            if not ok:
                raise InputError(
                    f"{where}: variable {name!r} has dtype {var.dtype}, expected text (str); "
                    "convert the ids with .astype(str)"
                )
