"""Ingest one omics table of one cohort into the cohort store.

``ingest`` = :func:`storage.readers.read_table` (validation, missing and infinite
values) + an optional feature -> gene map + the minimum-samples rule + sorting the
features + :meth:`storage.cohort_store.CohortStore.write` (atomic replace).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from storage.cohort_store import DEFAULT_CHUNK_FEATURES, CohortStore, check_name
from storage.errors import InputError
from storage.readers import read_gene_map, read_table

__all__ = ["IngestSummary", "ingest"]


@dataclass(frozen=True)
class IngestSummary:
    """What one ingest wrote.

    Parameters
    ----------
    cohort, omics
        Where it went in the store.
    n_features, n_samples
        Shape of the stored ``values``.
    n_missing
        Missing cells stored (NaN), the infinite ones included.
    n_inf_replaced
        Cells that were infinite in the table and are stored as missing.
    n_all_missing
        Features without a single value (kept; they yield no results).
    path
        Path of the written Zarr group.
    """

    cohort: str
    omics: str
    n_features: int
    n_samples: int
    n_missing: int
    n_inf_replaced: int
    n_all_missing: int
    path: str

    def __post_init__(self) -> None:
        counts = ("n_features", "n_samples", "n_missing", "n_inf_replaced", "n_all_missing")
        for name in counts:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"IngestSummary.{name} must be a non-negative int, not {value!r}")
        if self.n_missing > self.n_features * self.n_samples or self.n_inf_replaced > self.n_missing:
            raise ValueError(f"IngestSummary counts are inconsistent: {self!r}")
        if self.n_all_missing > self.n_features:
            raise ValueError(f"IngestSummary.n_all_missing exceeds n_features: {self!r}")

    @property
    def missing_fraction(self) -> float:
        """Share of stored cells that are missing."""
        cells = self.n_features * self.n_samples
        return self.n_missing / cells if cells else 0.0

    def __str__(self) -> str:
        all_missing = f", {self.n_all_missing} features all missing" if self.n_all_missing else ""
        return (
            f"{self.cohort}/{self.omics}: {self.n_features} features x {self.n_samples} samples, "
            f"{self.missing_fraction:.1%} missing, {self.n_inf_replaced} infinite values treated as missing"
            f"{all_missing} -> {self.path}"
        )


def ingest(
    store_root: str | os.PathLike,
    cohort: str,
    omics: str,
    table_path: str | os.PathLike,
    *,
    gene_map: str | os.PathLike | pd.DataFrame | pd.Series | None = None,
    min_samples: int = 10,
    chunk_features: int = DEFAULT_CHUNK_FEATURES,
) -> IngestSummary:
    """Read, check and store one features x samples table as ``cohort``/``omics``.

    Parameters
    ----------
    store_root
        Directory of the cohort store (created if needed).
    cohort, omics
        Names in the store: letters, digits, ``_``, ``-``, ``.``, not starting with ``.``.
    table_path
        The table; formats as :func:`storage.readers.read_table`.
    gene_map
        Optional feature -> gene symbol map: a table file or DataFrame (first column
        the feature id, then a ``gene`` column or the second column), or a Series
        indexed by feature. Features it does not name keep their own id as gene;
        entries for features not in the table are ignored.
    min_samples
        The table must have at least this many samples (columns).
    chunk_features
        Features per Zarr chunk of ``values`` (all samples in one chunk).

    Returns
    -------
    IngestSummary
        Shape and missing-value counts of what was written, and where.

    Raises
    ------
    InputError
        Bad names, any table problem found by the reader, a bad gene map, or fewer
        than ``min_samples`` samples. Nothing is written then, and a previous version
        of ``cohort``/``omics`` stays as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> table = d / "p.tsv"
    >>> _ = table.write_text("gene\\ts1\\ts2\\ts3\\nB\\t1\\t2\\tNA\\nA\\t3\\t4\\t5\\n")
    >>> s = ingest(d / "store", "COAD", "proteome", table, min_samples=3)
    >>> str(s).split(" -> ")[0]
    'COAD/proteome: 2 features x 3 samples, 16.7% missing, 0 infinite values treated as missing'
    """
    check_name(cohort, "cohort")
    check_name(omics, "omics")
    store = CohortStore(store_root)
    table = read_table(table_path)
    n_samples = table.shape[1]
    if n_samples < min_samples:
        raise InputError(
            f"{table_path}: the table has {n_samples} sample column(s), fewer than min_samples={min_samples}; "
            "a cohort needs at least that many samples for any test, so add samples or lower min_samples"
        )

    features = table.index.tolist()
    genes = list(features)
    if gene_map is not None:
        mapping = read_gene_map(gene_map).to_dict()
        genes = [mapping.get(f, f) for f in features]

    # Python string order (code points), the order the engine assumes.
    order = sorted(range(len(features)), key=features.__getitem__)
    values = table.to_numpy(dtype=np.float64)[order]
    with np.errstate(over="ignore"):  # overflow to inf is reported just below
        values32 = values.astype(np.float32)
    overflow = np.isinf(values32)
    if overflow.any():
        i, j = (int(k[0]) for k in np.nonzero(overflow))
        raise InputError(
            f"{table_path}: feature {features[order[i]]!r}, sample {table.columns[j]!r}: {float(values[i, j])!r} "
            f"is beyond the float32 range (+-3.4e38) the store uses ({int(overflow.sum())} such cells); "
            "rescale the values (e.g. log2)"
        )
    ds = xr.Dataset(
        {"values": (("feature", "sample"), values32)},
        coords={
            "feature": ("feature", np.array([features[k] for k in order], dtype=object)),
            "sample": ("sample", np.array(table.columns.tolist(), dtype=object)),
            "gene": ("feature", np.array([genes[k] for k in order], dtype=object)),
        },
        attrs={
            "source": str(Path(table_path).resolve()),
            "n_inf_replaced": int(table.attrs["n_inf_replaced"]),
        },
    )
    store.write(cohort, omics, ds, chunk_features=chunk_features)

    missing = np.isnan(values32)
    return IngestSummary(
        cohort=cohort,
        omics=omics,
        n_features=int(values32.shape[0]),
        n_samples=int(values32.shape[1]),
        n_missing=int(missing.sum()),
        n_inf_replaced=int(table.attrs["n_inf_replaced"]),
        n_all_missing=int(missing.all(axis=1).sum()),
        path=store.dataset_path(cohort, omics),
    )
