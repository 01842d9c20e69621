"""Ingest an omics table into the cohort store, with the helpers the other ingests share.

:func:`ingest`: one omics table (features x samples) = :func:`linkscan.storage.inputs.readers.read_table`
(validation, missing and infinite values; 0/1 values for binary tables) + an optional
feature -> gene map + the minimum-samples rule + sorting the features +
:meth:`linkscan.storage.inputs.cohort_store.CohortStore.write` (atomic replace), as the tumor or the
normal Dataset of the omics.

:mod:`linkscan.storage.inputs.tissues` (one table of both tissues) and
:mod:`linkscan.storage.inputs.phenotype_ingest` (clinical and survival tables) build on
the helpers here: ``_kind_of``, ``_check_min_samples_value``, ``_check_min_samples``,
``_dataset`` and ``_summary``
(omics Datasets and their summaries), ``_samples_of`` (sample ids for notes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from linkscan.errors import InputError, LinkscanError
from linkscan.storage.inputs.cohort_store import DEFAULT_CHUNK_FEATURES, KINDS, CohortStore, check_name, check_tissue
from linkscan.storage.inputs.readers import read_gene_map, read_table

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
    tissue
        ``"tumor"`` or ``"normal"``.
    kind
        ``"continuous"`` or ``"binary"``.
    notes
        Things written that scans will not be able to use as expected, e.g. sample ids
        that match none of another omics of the cohort (samples are matched by id).
    """

    cohort: str
    omics: str
    n_features: int
    n_samples: int
    n_missing: int
    n_inf_replaced: int
    n_all_missing: int
    path: str
    tissue: str = "tumor"
    kind: str = "continuous"
    notes: tuple[str, ...] = ()

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
        check_tissue(self.tissue)
        if self.kind not in KINDS:
            raise ValueError(f"IngestSummary.kind must be one of {KINDS}, not {self.kind!r}")

    @property
    def missing_fraction(self) -> float:
        """Share of stored cells that are missing."""
        cells = self.n_features * self.n_samples
        return self.n_missing / cells if cells else 0.0

    def __str__(self) -> str:
        all_missing = f", {self.n_all_missing} features all missing" if self.n_all_missing else ""
        tags = ("" if self.tissue == "tumor" else f" ({self.tissue})") + ("" if self.kind == "continuous" else f" [{self.kind}]")
        notes = "".join(f"; note: {n}" for n in self.notes)
        return (
            f"{self.cohort}/{self.omics}{tags}: {self.n_features} features x {self.n_samples} samples, "
            f"{self.missing_fraction:.1%} missing, {self.n_inf_replaced} infinite values treated as missing"
            f"{all_missing}{notes} -> {self.path}"
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
    tissue: str = "tumor",
    kind: str | None = None,
) -> IngestSummary:
    """Read, check and store one features x samples table as ``cohort``/``omics``.

    Parameters
    ----------
    store_root
        Directory of the cohort store (created if needed).
    cohort, omics
        Names in the store: letters, digits, ``_``, ``-``, ``.``, not starting with ``.``;
        an omics is not ``phenotypes`` and does not end in ``.normal``.
    table_path
        The table; formats as :func:`linkscan.storage.inputs.readers.read_table`.
    gene_map
        Optional feature -> gene symbol map: a table file or DataFrame (first column
        the feature id, then a ``gene`` column or the second column), or a Series
        indexed by feature. Features it does not name keep their own id as gene;
        entries for features not in the table are ignored.
    min_samples
        The table must have at least this many samples (columns); a whole number >= 1.
    chunk_features
        Features per Zarr chunk of ``values`` (all samples in one chunk).
    tissue
        ``"tumor"`` (the default; ``<omics>.zarr``) or ``"normal"`` (``<omics>.normal.zarr``).
    kind
        ``"continuous"`` or ``"binary"`` (0/1 calls such as mutations: every value must be
        0, 1 or missing). ``None``: binary for a ``.cbt`` file (LinkedOmics' binary
        tables, ``.cbt.gz`` too), else continuous.

    Returns
    -------
    IngestSummary
        Shape and missing-value counts of what was written, and where.

    Raises
    ------
    InputError
        Bad names, ``min_samples`` below 1, any table problem found by the reader (a
        value other than 0/1 in a binary table included), a bad gene map, or fewer than
        ``min_samples`` samples. Nothing is written then, and a previous version of
        ``cohort``/``omics`` stays as it was.
    WriteError
        The write failed (the previous version is kept), or another writer of the
        cohort held its writer lock too long
        (:meth:`~linkscan.storage.inputs.cohort_store.CohortStore.writing`).

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
    check_tissue(tissue)
    _check_min_samples_value(min_samples)
    kind = _kind_of(table_path, kind)
    store = CohortStore(store_root)
    table = read_table(table_path, binary=(kind == "binary"))
    _check_min_samples(table_path, table.shape[1], min_samples, "")
    ds = _dataset(table, table_path, gene_map, kind)
    store.write(cohort, omics, ds, tissue=tissue, chunk_features=chunk_features)
    return _summary(store, cohort, omics, tissue, ds)


def _kind_of(table_path, kind: str | None) -> str:
    if kind is None:
        suffixes = [s.lower() for s in Path(table_path).suffixes]
        if suffixes and suffixes[-1] == ".gz":
            suffixes = suffixes[:-1]
        return "binary" if suffixes and suffixes[-1] == ".cbt" else "continuous"
    if kind not in KINDS:
        raise InputError(f"invalid kind {kind!r} for {table_path}: use one of {', '.join(map(repr, KINDS))}")
    return kind


def _check_min_samples_value(min_samples) -> None:
    """InputError unless ``min_samples`` is a whole number >= 1 (checked before any table
    is read: a minimum every table meets is a mistake of the caller)."""
    if isinstance(min_samples, bool) or not isinstance(min_samples, (int, np.integer)) or min_samples < 1:
        raise InputError(
            f"min_samples={min_samples!r}: give a whole number of samples >= 1 (linkscan ingest --min-samples N); "
            "each test still needs its own minimum, e.g. min_n = 10 for Spearman"
        )


def _check_min_samples(table_path, n_samples: int, min_samples: int, what: str) -> None:
    if n_samples < min_samples:
        raise InputError(
            f"{table_path}: the table has {n_samples} {what}sample column(s), fewer than min_samples={min_samples}; "
            "a cohort needs at least that many samples for any test, so add samples or lower min_samples "
            "(linkscan ingest --min-samples N; each test still needs its own minimum of samples, e.g. min_n = 10 "
            "for Spearman, so a cohort this small gives few or no results)"
        )


def _dataset(table: pd.DataFrame, table_path, gene_map, kind: str) -> xr.Dataset:
    """The cohort Dataset of a table read by read_table: features sorted, float32."""
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
    return xr.Dataset(
        {"values": (("feature", "sample"), values32)},
        coords={
            "feature": ("feature", np.array([features[k] for k in order], dtype=object)),
            "sample": ("sample", np.array(table.columns.tolist(), dtype=object)),
            "gene": ("feature", np.array([genes[k] for k in order], dtype=object)),
        },
        attrs={
            "source": str(Path(table_path).resolve()),
            "n_inf_replaced": int(table.attrs["n_inf_replaced"]),
            "kind": kind,
        },
    )


def _summary(store: CohortStore, cohort: str, omics: str, tissue: str, ds: xr.Dataset) -> IngestSummary:
    values32 = ds["values"].values
    missing = np.isnan(values32)
    return IngestSummary(
        cohort=cohort,
        omics=omics,
        n_features=int(values32.shape[0]),
        n_samples=int(values32.shape[1]),
        n_missing=int(missing.sum()),
        n_inf_replaced=int(ds.attrs["n_inf_replaced"]),
        n_all_missing=int(missing.all(axis=1).sum()),
        path=store.dataset_path(cohort, omics, tissue),
        tissue=tissue,
        kind=ds.attrs["kind"],
        notes=_unmatched_samples(store, cohort, omics, tissue, ds["sample"].values.tolist()),
    )


def _samples_of(opener, *args) -> list[str]:
    """Sample ids of a stored Dataset, for notes only: [] when it cannot be read (that is
    reported when it is used, not by an ingest of another table)."""
    try:
        return opener(*args)["sample"].values.tolist()
    except LinkscanError:
        return []


def _unmatched_samples(store: CohortStore, cohort: str, omics: str, tissue: str, samples: list[str]) -> tuple[str, ...]:
    """Notes for the other omics (same tissue) and the phenotypes of ``cohort`` that share
    no sample id with ``samples``: scans match samples by id, so such pairs give nothing.
    (Not an error: the other table may be the one to re-ingest.)"""
    mine = set(samples)
    others: list[tuple[str, list[str]]] = []
    for other in store.omics(cohort):
        if other != omics and tissue in store.tissues(cohort, other):
            others.append((f"omics {other!r}" + ("" if tissue == "tumor" else f" ({tissue})"),
                           _samples_of(store.open, cohort, other, tissue)))
    if tissue == "tumor" and store.has_phenotypes(cohort):
        others.append(("the phenotypes", _samples_of(store.open_phenotypes, cohort)))
    notes = []
    for what, theirs in others:
        if theirs and not mine.intersection(theirs):
            notes.append(
                f"no sample id is shared with {what} of {cohort} (here e.g. {samples[0]!r}, there e.g. {theirs[0]!r}); "
                "scans match samples by id, so scans pairing them give no result: store both under the same ids "
                "(e.g. --samples ... --participant-column)"
            )
    return tuple(notes)
