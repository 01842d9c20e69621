"""Ingest one omics table holding tumor and normal samples, split by a sample table.

:func:`ingest_tissues` reads the omics table and a sample attribute table whose column
gives each sample's tissue (:func:`tissue_of` maps its values), and writes the tumor and
the normal Dataset of the omics, each as :func:`linkscan.storage.inputs.ingest.ingest`
writes one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import pandas as pd

from linkscan.errors import InputError
from linkscan.storage.inputs.clinical import MISSING_LABELS
from linkscan.storage.inputs.cohort_store import DEFAULT_CHUNK_FEATURES, CohortStore, check_name
from linkscan.storage.inputs.ingest import (
    IngestSummary,
    _check_min_samples,
    _check_min_samples_value,
    _dataset,
    _kind_of,
    _summary,
)
from linkscan.storage.inputs.readers import read_rows, read_table

__all__ = ["ingest_tissues", "tissue_of", "TISSUE_VALUES"]


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
        The omics table (features x samples), as for :func:`~linkscan.storage.inputs.ingest.ingest`.
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
        As for :func:`~linkscan.storage.inputs.ingest.ingest`; ``min_samples`` holds for
        each tissue written.

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
        ``min_samples`` samples, or ``min_samples`` below 1. Nothing is written then.
    WriteError
        A write failed: its previous version is kept, and when the normal Dataset fails
        after the tumor one was written, the message says so. Or another writer of the
        cohort held its writer lock too long.
    """
    check_name(cohort, "cohort")
    check_name(omics, "omics")
    _check_min_samples_value(min_samples)
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
    # Both tissues under one hold of the writer lock: another ingest of the omics cannot
    # put its tumors beside these normals.
    with store.writing(cohort, omics, datasets[0][0]):
        for t, ds in datasets:
            before = f"the tumor Dataset {store.dataset_path(cohort, omics)} of this table" if summaries else ""
            store.write(cohort, omics, ds, tissue=t, chunk_features=chunk_features, written_before=before)
            summaries.append(_summary(store, cohort, omics, t, ds))
    return summaries
