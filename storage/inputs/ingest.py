"""Ingest a cohort's tables into the cohort store.

* :func:`ingest`: one omics table (features x samples) = :func:`linkscan.storage.inputs.readers.read_table`
  (validation, missing and infinite values; 0/1 values for binary tables) + an optional
  feature -> gene map + the minimum-samples rule + sorting the features +
  :meth:`linkscan.storage.inputs.cohort_store.CohortStore.write` (atomic replace), as the tumor or the
  normal Dataset of the omics.
* :func:`ingest_tissues`: one omics table holding tumor and normal samples, split by a
  sample attribute table (:func:`tissue_of` maps its values), written as both Datasets.
* :func:`ingest_phenotypes`: clinical and survival tables -> the cohort's phenotype
  Dataset (:mod:`linkscan.storage.inputs.phenotypes`), merged with the phenotypes already stored.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from linkscan.storage.inputs.cohort_store import DEFAULT_CHUNK_FEATURES, KINDS, CohortStore, check_name, check_tissue
from linkscan.errors import InputError, LinkscanError
from linkscan.storage.inputs.phenotypes import (
    MISSING_LABELS,
    ColumnSpec,
    Phenotype,
    clinical_phenotypes,
    read_clinical,
    read_types,
    split_list,
    survival_phenotypes,
)
from linkscan.storage.inputs.readers import read_gene_map, read_rows, read_table

__all__ = [
    "IngestSummary",
    "PhenotypeSummary",
    "ingest",
    "ingest_tissues",
    "ingest_phenotypes",
    "tissue_of",
    "TISSUE_VALUES",
]

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
        The table must have at least this many samples (columns).
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
        Bad names, any table problem found by the reader (a value other than 0/1 in a
        binary table included), a bad gene map, or fewer than ``min_samples`` samples.
        Nothing is written then, and a previous version of ``cohort``/``omics`` stays as
        it was.

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


# ------------------------------------------------------------------ tumor and normal


#: Sample attribute values that mean tumor (compared in lower case, runs of spaces, '_'
#: and '-' as one space). A value is normal when one of its words is "normal"
#: (``Normal``, ``Adjacent_normal``, ``Solid Tissue Normal``, ``Myometrium_normal``).
TISSUE_VALUES = {"tumor": "tumor", "tumour": "tumor", "primary tumor": "tumor", "primary tumour": "tumor"}
_TISSUE_CHOICES = ("tumor", "normal", "exclude")


def tissue_of(value: str, overrides: Mapping[str, str] | None = None) -> str | None:
    """The tissue a sample attribute value means: ``"tumor"``, ``"normal"``,
    ``"exclude"`` (only through ``overrides``), or ``None`` when unknown.

    ``overrides`` (value -> tissue, matched ignoring case and surrounding spaces) come
    first; then :data:`TISSUE_VALUES`; then any value with the word ``normal``.

    Examples
    --------
    >>> [tissue_of(v) for v in ["Tumor", "Adjacent_normal", "Enriched_normal", "Metastasis"]]
    ['tumor', 'normal', 'normal', None]
    >>> tissue_of("Metastasis", {"metastasis": "exclude"})
    'exclude'
    """
    key = value.strip().lower()
    for k, v in (overrides or {}).items():
        if k.strip().lower() == key:
            if v not in _TISSUE_CHOICES:
                raise InputError(f"tissue value {k!r} maps to {v!r}; map it to one of {', '.join(_TISSUE_CHOICES)}")
            return v
    words = [w for w in re.split(r"[\s_-]+", key) if w]
    normalised = " ".join(words)
    if normalised in TISSUE_VALUES:
        return TISSUE_VALUES[normalised]
    if "normal" in words:
        return "normal"
    return None


def ingest_tissues(
    store_root: str | os.PathLike,
    cohort: str,
    omics: str,
    table_path: str | os.PathLike,
    samples: str | os.PathLike,
    tissue_column: str,
    *,
    tissue_values: Mapping[str, str] | None = None,
    participant_column: str | None = None,
    gene_map: str | os.PathLike | pd.DataFrame | pd.Series | None = None,
    min_samples: int = 10,
    chunk_features: int = DEFAULT_CHUNK_FEATURES,
    kind: str | None = None,
) -> list[IngestSummary]:
    """Store one table holding tumor and normal samples as the tumor and the normal
    Dataset of ``cohort``/``omics``.

    Parameters
    ----------
    table_path
        The omics table (features x samples), as for :func:`ingest`.
    samples
        A sample attribute table (``.tsv``/``.txt``/``.csv``, ``.gz``), one row per
        sample: the first column is the sample id as in the omics table's header; it may
        list samples the table lacks (other omics).
    tissue_column
        Its column giving each sample's tissue, mapped by :func:`tissue_of`.
    tissue_values
        Value -> ``"tumor"``, ``"normal"`` or ``"exclude"`` (left out of both), for
        values the built-in rules do not know or should read otherwise.
    participant_column
        Optional column whose ids the samples are stored under (e.g. ``participant_id``,
        so that they match the clinical table; a tumor and its normal may share one);
        unique within each tissue.
    gene_map, min_samples, chunk_features, kind
        As for :func:`ingest`; ``min_samples`` holds for each tissue written.

    Returns
    -------
    list of IngestSummary
        One per Dataset written: tumor, then normal (a tissue without samples in the
        table is not written, and a Dataset of it already stored is left as it is).

    Raises
    ------
    InputError
        Problems of either table; samples of the omics table absent from the sample
        table or without a tissue; tissue values that are not known (all of them named,
        with the fix); empty or repeated participant ids; a tissue with fewer than
        ``min_samples`` samples. Nothing is written then.
    """
    check_name(cohort, "cohort")
    check_name(omics, "omics")
    kind = _kind_of(table_path, kind)
    store = CohortStore(store_root)
    table = read_table(table_path, binary=(kind == "binary"), inf_by_sample=True)
    inf_by_sample = dict(zip(table.columns.tolist(), table.attrs["n_inf_by_sample"]))
    attributes = read_rows(samples, "sample table")
    j_tissue = attributes.column(tissue_column)
    if j_tissue == 0:
        raise InputError(f"{attributes.path}: {tissue_column!r} is the sample id column; name the column that gives the tissue")
    j_participant = attributes.column(participant_column) if participant_column else None
    rows: dict[str, int] = {}
    for k, row in enumerate(attributes.rows):
        sid = row[0]
        if sid in MISSING_LABELS:
            raise InputError(f"{attributes.path}: line {attributes.lines[k]}: the sample id (first column) is empty; fill it in or delete the row")
        if sid in rows:
            raise InputError(
                f"{attributes.path}: sample id {sid!r} appears on line {attributes.lines[rows[sid]]} and line "
                f"{attributes.lines[k]}; list each sample once"
            )
        rows[sid] = k

    columns = table.columns.tolist()
    absent = [c for c in columns if c not in rows]
    if absent:
        raise InputError(
            f"{attributes.path}: {len(absent)} sample(s) of {table_path} are not in the sample table "
            f"({', '.join(map(repr, absent[:5]))}{', ...' if len(absent) > 5 else ''}); add a row for each, "
            f"with its {tissue_column!r}"
        )
    tissue = {}
    unknown: dict[str, int] = {}
    for c in columns:
        k = rows[c]
        value = attributes.rows[k][j_tissue]
        if value in MISSING_LABELS:
            raise InputError(
                f"{attributes.path}: line {attributes.lines[k]}, column {j_tissue + 1} ({tissue_column!r}): sample {c!r} "
                "has no tissue; write it (e.g. Tumor, Normal)"
            )
        t = tissue_of(value, tissue_values)
        if t is None:
            unknown[value] = unknown.get(value, 0) + 1
        tissue[c] = t
    if unknown:
        listed = ", ".join(f"{v!r} ({n} sample{'s' if n > 1 else ''})" for v, n in unknown.items())
        example = next(iter(unknown))
        raise InputError(
            f"{attributes.path}: column {tissue_column!r} holds value(s) that are neither tumor nor normal: {listed}; "
            "known are Tumor/Tumour/Primary Tumor and any value with the word 'normal' (e.g. Adjacent_normal); "
            f"map the others with --tissue-value '{example}=tumor' (or =normal, or =exclude to leave them out)"
        )

    summaries = []
    datasets = []
    for t in ("tumor", "normal"):
        keep = [c for c in columns if tissue[c] == t]
        if not keep:
            continue
        part = table[keep]
        part_attrs = {"n_inf_replaced": sum(inf_by_sample[c] for c in keep)}
        part.attrs = part_attrs
        if j_participant is not None:
            ids, seen = [], {}
            for c in keep:
                k = rows[c]
                pid = attributes.rows[k][j_participant]
                if pid in MISSING_LABELS:
                    raise InputError(
                        f"{attributes.path}: line {attributes.lines[k]}, column {j_participant + 1} ({participant_column!r}): "
                        f"sample {c!r} has no participant id; fill it in"
                    )
                if pid in seen:
                    raise InputError(
                        f"{attributes.path}: samples {seen[pid]!r} and {c!r} are both {t} samples of participant {pid!r}; "
                        f"a participant has one {t} sample per omics: exclude one (--tissue-value) or drop "
                        f"--participant-column"
                    )
                seen[pid] = c
                ids.append(pid)
            part = part.set_axis(pd.Index(ids, name="sample"), axis=1)
            part.attrs = part_attrs
        _check_min_samples(table_path, part.shape[1], min_samples, f"{t} ")
        datasets.append((t, _dataset(part, table_path, gene_map, kind)))
    if not datasets:
        raise InputError(f"{table_path}: every sample is excluded by --tissue-value; nothing to store")
    for t, ds in datasets:
        store.write(cohort, omics, ds, tissue=t, chunk_features=chunk_features)
        summaries.append(_summary(store, cohort, omics, t, ds))
    return summaries


# ------------------------------------------------------------------------ phenotypes


@dataclass(frozen=True)
class PhenotypeSummary:
    """What one clinical or survival table added to a cohort's phenotypes.

    Parameters
    ----------
    cohort
        The cohort.
    source
        The table.
    role
        ``"clinical"`` or ``"survival"``.
    n_samples
        Samples (rows) of the table.
    phenotypes
        (name, type) of each phenotype it gave, in table order.
    left_out
        Columns it did not give a phenotype: clinical columns without a type (or typed
        SKIP), survival-table columns that are no time or event of an endpoint.
    events
        Survival: (endpoint, samples with time and event, events) per endpoint.
    n_stored, n_stored_samples
        Phenotypes and samples of the cohort's phenotype Dataset after the write.
    path
        Path of the phenotype Dataset.
    notes
        Things stored that will give no test result, e.g. a BIN column without exactly
        two labels, a phenotype without any value.
    """

    cohort: str
    source: str
    role: str
    n_samples: int
    phenotypes: tuple[tuple[str, str], ...]
    left_out: tuple[str, ...]
    events: tuple[tuple[str, int, int], ...]
    n_stored: int
    n_stored_samples: int
    path: str
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        name = Path(self.source).name
        if self.role == "survival":
            got = "; ".join(f"{e}: {n} samples, {k} events" for e, n, k in self.events)
            what = f"{len(self.events)} survival endpoint(s) ({got})"
            shown = ", ".join(self.left_out[:5]) + (", ..." if len(self.left_out) > 5 else "")
            rest = f"; {len(self.left_out)} column(s) not used ({shown})" if self.left_out else ""
        else:
            counts = {}
            for _, t in self.phenotypes:
                counts[t] = counts.get(t, 0) + 1
            by_type = ", ".join(f"{n} {t}" for t, n in counts.items())
            what = f"{len(self.phenotypes)} phenotype(s) ({by_type or 'none'})"
            shown = ", ".join(self.left_out[:5]) + (", ..." if len(self.left_out) > 5 else "")
            rest = f"; {len(self.left_out)} column(s) without a type skipped ({shown})" if self.left_out else ""
        notes = "".join(f"; note: {n}" for n in self.notes)
        return (
            f"{self.cohort}/phenotypes <- {name}: {what} for {self.n_samples} samples{rest}{notes} -> {self.path} "
            f"(now {self.n_stored} phenotypes x {self.n_stored_samples} samples)"
        )


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (str, os.PathLike)):
        return [x]
    return list(x)


def _labels(value) -> tuple[str, ...]:
    return tuple(split_list(value)) if isinstance(value, str) else tuple(str(v).strip() for v in value)


def _close(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3)
    return f" (did you mean {', '.join(map(repr, close))}?)" if close else ""


def ingest_phenotypes(
    store_root: str | os.PathLike,
    cohort: str,
    *,
    clinical: str | os.PathLike | Sequence[str | os.PathLike] = (),
    survival: str | os.PathLike | Sequence[str | os.PathLike] = (),
    types: Mapping[str, str] | None = None,
    types_file: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    levels: Mapping[str, str | Sequence[str]] | None = None,
    unknown: Mapping[str, str | Sequence[str]] | None = None,
    endpoints: Mapping[str, tuple[str, str]] | None = None,
    replace: bool = False,
) -> list[PhenotypeSummary]:
    """Store clinical and survival tables as ``cohort``'s phenotypes.

    Parameters
    ----------
    clinical
        Clinical tables (``.tsi`` or ``.tsv``/``.txt``/``.csv``, ``.gz``), layouts as in
        :mod:`linkscan.storage.inputs.phenotypes`.
    survival
        Survival tables (``<ENDPOINT>_days``/``<ENDPOINT>_event`` columns, or
        ``endpoints``).
    types
        Column name -> type (``CON``, ``BIN``, ``ORD``, ``CAT``, ``SKIP``); overrides
        a type row and ``types_file``. Every name must be a column of a clinical table.
    types_file
        Tables of types (:func:`linkscan.storage.inputs.phenotypes.read_types`, e.g. LinkedOmicsKB's
        ``clinical_variable_types.tsv``), read in order, later ones overriding; they may
        describe columns the clinical tables lack (ignored).
    levels
        Column name -> its labels in order (a list, or one comma-separated string,
        ``\\,`` for a comma in a label), for BIN/ORD/CAT columns; every label of the
        column must be a level or unknown; overrides the types file's.
    unknown
        Column name (``"*"``: every column) -> labels that mean missing, for clinical
        and survival columns alike; added to the types file's.
    endpoints
        Endpoint name -> (time column, event column) for every survival table, instead
        of finding ``*_days``/``*_event`` pairs.
    replace
        Drop the phenotypes stored before; by default they are kept and merged: a
        phenotype of the same name is replaced, the others stay, samples are the union
        (phenotypes lacking a sample have it missing).

    Returns
    -------
    list of PhenotypeSummary
        One per table, clinical tables first.

    Raises
    ------
    InputError
        Any table problem (see :mod:`linkscan.storage.inputs.phenotypes`), a name in ``types``/
        ``levels``/``unknown`` that no table has, levels for an untyped column, a
        type for the sample id column, two tables giving one phenotype name, no table.
        Nothing is written then.
    """
    check_name(cohort, "cohort")
    clinical, survival = _as_list(clinical), _as_list(survival)
    if not clinical and not survival:
        raise InputError("no phenotype table given; give clinical tables (--clinical) and/or survival tables (--survival)")
    store = CohortStore(store_root)

    file_specs: dict[str, ColumnSpec] = {}
    for path in _as_list(types_file):
        file_specs.update(read_types(path))
    try:
        given_types = {str(k): ColumnSpec(v).type for k, v in (types or {}).items()}
    except InputError as exc:
        raise InputError(f"types: {exc}") from None
    given_levels = {str(k): _labels(v) for k, v in (levels or {}).items()}
    given_unknown = {str(k): _labels(v) for k, v in (unknown or {}).items()}

    tables = [read_clinical(p, "clinical table") for p in clinical]
    surv_tables = [read_clinical(p, "survival table") for p in survival]
    columns = {c for t in tables for c in t.columns}
    id_columns = {t.id_name for t in tables}
    all_columns = columns | {c for t in surv_tables for c in t.columns}
    for what, names, pool in (("a type", given_types, columns), ("levels", given_levels, columns),
                              ("unknown labels", given_unknown, all_columns)):
        for name in names:
            if name == "*" and what == "unknown labels":
                continue
            if name in id_columns and name not in pool:
                raise InputError(f"{name!r} is the sample id column of a clinical table; it cannot have {what}")
            if name not in pool:
                kind = "clinical" if pool is columns else "clinical or survival"
                raise InputError(
                    f"{what} given for column {name!r}, which no {kind} table has{_close(name, pool)}; "
                    f"check the spelling (names are case-sensitive)"
                )

    specs: dict[str, ColumnSpec] = {}
    for name in columns:
        base = file_specs.get(name, ColumnSpec())
        kind = given_types.get(name, base.type)
        lv = given_levels.get(name, base.levels)
        unk = tuple(base.unknown) + given_unknown.get(name, ())
        specs[name] = ColumnSpec(kind, lv, unk)
    for name in given_levels:
        typed = specs[name].type or any((t.file_types or {}).get(name) for t in tables)
        if not typed:
            raise InputError(
                f"levels are given for column {name!r}, which has no type; give it one (--type '{name}=ORD', or BIN/CAT)"
            )
    star = {"*": given_unknown.get("*", ())}

    new: list[Phenotype] = []
    reports = []
    for table in tables:
        found, skipped = clinical_phenotypes(table, specs, star)
        new.extend(found)
        reports.append((table, "clinical", found, skipped))
    for table in surv_tables:
        extra = {c: given_unknown.get(c, ()) + file_specs.get(c, ColumnSpec()).unknown for c in table.columns}
        found, ignored = survival_phenotypes(table, endpoints, {**extra, **star})
        new.extend(found)
        reports.append((table, "survival", found, ignored))

    origin: dict[str, str] = {}
    for p in new:
        if p.name in origin:
            raise InputError(
                f"phenotype {p.name!r} comes from both {origin[p.name]} and {p.source}; rename one of the columns "
                "or leave one table out"
            )
        origin[p.name] = p.source

    merged: dict[str, Phenotype] = {}
    if not replace and store.has_phenotypes(cohort):
        merged.update(store.phenotypes(cohort))
    merged.update({p.name: p for p in new})
    sources = sorted({p.source for p in merged.values()})
    store.write_phenotypes(cohort, list(merged.values()), attrs={"sources": sources})
    stored = store.open_phenotypes(cohort)
    n_stored, n_stored_samples = len(stored.data_vars), int(stored.sizes["sample"])
    path = store.phenotypes_path(cohort)

    omics_samples = {o: set(_samples_of(store.open, cohort, o)) for o in store.omics(cohort)}
    out = []
    for table, role, found, left in reports:
        events = tuple((p.name, p.n, int((p.event == 1).sum())) for p in found if p.type == "SURV")
        notes = []
        for p in found:
            if p.n == 0:
                notes.append(f"{p.name!r} has no value")
            elif p.type == "BIN" and len(p.levels) < 2:
                notes.append(f"BIN {p.name!r} has a single label {p.levels[0]!r}, so its tests give no result")
            elif p.type == "BIN" and len(p.levels) > 2:
                notes.append(
                    f"BIN {p.name!r} has {len(p.levels)} labels, its tests need exactly 2 and give no result "
                    f"(declare the others missing with --unknown, or type it CAT)"
                )
        for o, theirs in omics_samples.items():
            if found and theirs and not theirs.intersection(table.samples):
                notes.append(
                    f"no sample id is shared with omics {o!r} of {cohort} (here e.g. {table.samples[0]!r}, there e.g. "
                    f"{min(theirs)!r}); scans match samples by id, so phenotype scans of {o!r} give no result: "
                    "use the same sample ids in both tables"
                )
        out.append(PhenotypeSummary(
            cohort=cohort, source=table.path, role=role, n_samples=len(table.samples),
            phenotypes=tuple((p.name, p.type) for p in found), left_out=tuple(left), events=events,
            n_stored=n_stored, n_stored_samples=n_stored_samples, path=path, notes=tuple(notes),
        ))
    return out
