"""Phenotypes of a cohort: clinical, binary and survival columns along ``sample``.

What the engine uses
--------------------
::

    from linkscan.storage.inputs.cohort_store import CohortStore
    store = CohortStore(root)
    phen = store.phenotypes("BRCA")      # dict: original column name -> Phenotype
    p = phen["Tumor.Stage"]
    p.type                               # "CON", "BIN", "ORD", "CAT" or "SURV"
    p.samples                            # (n,) object array of str: the sample ids
    p.values                             # CON: (n,) float64, NaN = missing (else None)
    p.codes, p.levels                    # BIN/ORD/CAT: (n,) int8 (int16 beyond 127 levels),
                                         #   -1 = missing, code i means levels[i] (else None, ())
    p.time, p.event                      # SURV: (n,) float64 time (NaN = missing) and
                                         #   (n,) int8 event 1 / censored 0 / -1 missing
    q = p.align(omics_ds["sample"].values)  # the same phenotype on those sample ids, in
                                         #   that order; ids it lacks are missing

Every array of a :class:`Phenotype` runs along :attr:`Phenotype.samples`, which are the
sample ids of the cohort's phenotype Dataset (all phenotypes of a cohort share them).
An omics Dataset has its own samples: align by id with :meth:`Phenotype.align`, never
by position. Arrays are read-only.

Meaning of the codes (STATS.md):

* BIN: ``levels`` has two labels; the group coded 1 is the second label. Without
  declared levels, labels are sorted (below), so a 0/1 column has ``levels == ("0",
  "1")`` and code 1 is the group labelled 1 (mutated). A column typed BIN may hold one
  label, or more than two (LinkedOmicsKB types e.g. HNSCC ``alcohol_consum`` BIN with
  five labels): it is stored with all of them, and its tests give no result (STATS.md:
  exactly two levels); the ingest summary says so.
* ORD: ``levels`` in their order: as declared (``--levels``), else sorted. Labels
  declared unknown (e.g. ``pTX``) are missing (-1), never a level.
* CAT: ``levels`` sorted unless declared; the order carries no meaning.
* Sorted order of labels: numeric when every label is a number (``2`` before ``10``),
  else Python string order (code points; ``Stage I`` < ``Stage II`` < ``Stage III`` <
  ``Stage IV``). Declare the order whenever it matters.
* SURV: one endpoint (e.g. ``OS``): ``time`` in the unit of the source column (days
  for ``*_days`` columns, :attr:`Phenotype.unit`) and ``event``. A sample missing
  either is missing in both.

On disk (``<store>/<cohort>/phenotypes.zarr``, one xarray Dataset per cohort; see
:mod:`linkscan.storage.inputs.cohort_store`): dimension ``sample`` (coordinate: the sample ids) and,
when there is a survival endpoint, ``surv_field`` (coordinate ``["time", "event"]``).
One variable per phenotype:

==========  ===========================  ================================================
type        variable                     attributes besides ``name``, ``type``, ``source``
==========  ===========================  ================================================
CON         float64 [sample]             ``columns``, ``unknown``
BIN/ORD/CAT int8/int16 [sample], -1 NA   ``levels`` (in order), ``level_order``
                                         (``declared``/``sorted``), ``columns``, ``unknown``
SURV        float64 [sample, surv_field] ``unit``, ``columns`` (time column, event column),
                                         ``unknown``; event stored as 0.0/1.0/NaN
==========  ===========================  ================================================

``name`` is the original column name (or the endpoint name), which is how phenotypes
are looked up. Variable names are made safe for Zarr and every file system from it
(:func:`variable_names`: characters other than letters, digits, ``_``, ``-``, ``.``
become ``_``, a leading ``.``/``_``/``-`` gets a ``p`` in front, clashes get ``_2``,
``_3``, ... without regard to case); they are a storage detail.

Inputs
------
Clinical tables (:func:`read_clinical`) in the two layouts LinkedOmics ships:

* LinkedOmicsKB (CPTAC pan-cancer, e.g. ``HS_CPTAC_HNSCC_CLI.tsi``): samples as rows,
  attributes as columns; the header row names the columns (its first cell names the id
  column, e.g. ``case_id``) and the FIRST DATA ROW gives each column's type, ``CON``,
  ``BIN``, ``ORD`` or ``CAT`` (its first cell, under the id column, is ignored; LinkedOmicsKB
  writes ``CAT`` there). In a ``.tsi`` file that row is required; in ``.tsv``/``.txt``/
  ``.csv`` files a first data row made only of type names is recognised as one.
* LinkedOmics classic (linkedomics.org TCGA and CPTAC-2 ``*.tsi``, e.g.
  ``Human__CPTAC_COAD__...__Clinical.tsi``): attributes as rows, samples as columns, the
  first header cell ``attrib_name``, no type row. Recognised by that first cell (any
  suffix); the types must then be given separately.
* Anything else is a plain table, one row per sample, the first column the sample id.

Types given separately (:class:`ColumnSpec`, :func:`read_types`: a dict, or a table
such as ``clinical_variable_types.tsv``) override a type row. Columns without a type are
skipped (and reported). The pseudo-type ``SKIP`` drops a column the type row types.

Cells: ``NA`` and empty are missing; nothing else is (``None`` is a label). Labels
declared unknown for a column (``unknown``; the key ``"*"`` applies to every column) are
missing too, for every type, survival columns included. CON cells must be numbers
(``NaN`` is missing, ``inf`` too).

Survival tables (:func:`survival_phenotypes`): one row per sample, per endpoint a time
and an event column: ``<ENDPOINT>_days`` and ``<ENDPOINT>_event`` (any case: ``os_days``,
``OS_event``, ``PFS_days``...; the endpoint is named in upper case, ``OS``), or columns
named explicitly (``endpoints={"OS": ("overall_survival", "overall_free_status")}``).
Times are numbers >= 0, events 0 (censored) or 1 (event); other columns are ignored.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from linkscan.errors import InputError
from linkscan.storage.inputs.readers import RowTable, read_rows

__all__ = [
    "TYPES",
    "COLUMN_TYPES",
    "SKIP",
    "MISSING_LABELS",
    "SURV_DIM",
    "SURV_FIELDS",
    "Phenotype",
    "ColumnSpec",
    "ClinicalTable",
    "read_types",
    "read_clinical",
    "clinical_phenotypes",
    "survival_phenotypes",
    "code_dtype",
    "sort_levels",
    "split_list",
    "variable_names",
    "union_samples",
    "to_dataset",
    "from_dataset",
    "validate_dataset",
]

#: Phenotype types (STATS.md): continuous, binary, ordinal, categorical, survival.
TYPES = ("CON", "BIN", "ORD", "CAT", "SURV")
#: Types a clinical column can have (a survival endpoint comes from a survival table).
COLUMN_TYPES = ("CON", "BIN", "ORD", "CAT")
#: Pseudo-type of a column to leave out.
SKIP = "SKIP"
#: Cell texts (after stripping) that are missing in clinical and survival tables.
MISSING_LABELS = frozenset({"", "NA"})
#: The second dimension of a survival variable, and its coordinate.
SURV_DIM = "surv_field"
SURV_FIELDS = ("time", "event")

_CODED = ("BIN", "ORD", "CAT")
_TYPE_DOC = "CON (continuous), BIN (binary), ORD (ordinal), CAT (categorical)"
_RESERVED_VARIABLES = {"sample", SURV_DIM}
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_MAX_VARIABLE = 100


# ----------------------------------------------------------------------------- model


def _frozen(array, dtype) -> np.ndarray:
    out = np.array(array, dtype=dtype)  # a copy
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Phenotype:
    """One phenotype of a cohort (see the module docstring for the meaning of fields).

    Parameters
    ----------
    name
        Original column name (or survival endpoint name); how it is looked up.
    type
        One of :data:`TYPES`.
    samples
        Sample ids (str) that every array runs along.
    values
        CON only: float64, NaN = missing.
    codes, levels
        BIN/ORD/CAT only: integer codes (-1 = missing; stored as int8, or int16 when
        there are more than 127 levels) and the labels in order.
    time, event
        SURV only: float64 times (NaN = missing), int8 events (1 event, 0 censored,
        -1 missing); missing together.
    level_order
        BIN/ORD/CAT: ``"declared"`` or ``"sorted"``.
    unit
        SURV: unit of ``time`` (``"days"`` for ``*_days`` columns, else ``""``).
    source
        The table it was read from.
    columns
        The source column(s): the column, or (time, event) for SURV.
    unknown
        Labels declared missing for it.
    variable
        Name of its variable in the stored Dataset (``""`` before it is stored).
    """

    name: str
    type: str
    samples: np.ndarray = field(repr=False)
    values: np.ndarray | None = field(default=None, repr=False)
    codes: np.ndarray | None = field(default=None, repr=False)
    levels: tuple[str, ...] = ()
    time: np.ndarray | None = field(default=None, repr=False)
    event: np.ndarray | None = field(default=None, repr=False)
    level_order: str = ""
    unit: str = ""
    source: str = ""
    columns: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    variable: str = ""

    def __post_init__(self) -> None:
        where = f"phenotype {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Phenotype name must be a non-empty str, not {self.name!r}")
        if self.type not in TYPES:
            raise ValueError(f"{where}: type must be one of {', '.join(TYPES)}, not {self.type!r}")
        samples = np.array([str(s) for s in np.asarray(self.samples, dtype=object).ravel()], dtype=object)
        samples.setflags(write=False)
        object.__setattr__(self, "samples", samples)
        n = samples.size
        object.__setattr__(self, "levels", tuple(str(x) for x in self.levels))
        object.__setattr__(self, "columns", tuple(str(x) for x in self.columns))
        object.__setattr__(self, "unknown", tuple(str(x) for x in self.unknown))
        given = {k for k in ("values", "codes", "time", "event") if getattr(self, k) is not None}
        need = {"CON": {"values"}, "SURV": {"time", "event"}}.get(self.type, {"codes"})
        if given != need:
            raise ValueError(f"{where}: a {self.type} phenotype has {', '.join(sorted(need))}, got {', '.join(sorted(given)) or 'nothing'}")

        def vector(name: str, dtype) -> np.ndarray:
            a = np.asarray(getattr(self, name))
            if a.shape != (n,):
                raise ValueError(f"{where}: {name} has shape {a.shape}, expected ({n},) like samples")
            return _frozen(a, dtype)

        if self.type == "CON":
            values = vector("values", np.float64)
            values = np.where(np.isinf(values), np.nan, values)
            values.setflags(write=False)
            object.__setattr__(self, "values", values)
        elif self.type == "SURV":
            time = vector("time", np.float64)
            event = np.asarray(self.event)
            if event.shape != (n,):
                raise ValueError(f"{where}: event has shape {event.shape}, expected ({n},) like samples")
            if event.dtype.kind == "f":
                event = np.where(np.isnan(event), -1.0, event)
            if not np.isin(event, (-1, 0, 1)).all():
                raise ValueError(f"{where}: event must hold 1 (event), 0 (censored) or -1 (missing)")
            if (time < 0).any() or np.isinf(time).any():
                raise ValueError(f"{where}: times must be finite and >= 0 (NaN = missing)")
            event = event.astype(np.int64)
            missing = np.isnan(time) | (event < 0)
            time = np.where(missing, np.nan, time)
            object.__setattr__(self, "time", _frozen(time, np.float64))
            object.__setattr__(self, "event", _frozen(np.where(missing, -1, event), np.int8))
        else:
            if len(set(self.levels)) != len(self.levels):
                raise ValueError(f"{where}: levels repeat a label: {self.levels}")
            if len(self.levels) > np.iinfo(np.int16).max:
                raise ValueError(f"{where}: {len(self.levels)} levels are more than the int16 codes hold")
            codes = np.asarray(self.codes)
            if codes.shape != (n,):
                raise ValueError(f"{where}: codes has shape {codes.shape}, expected ({n},) like samples")
            if codes.dtype.kind not in "iu" and codes.size:
                raise ValueError(f"{where}: codes must be integers, not {codes.dtype}")
            if codes.size and (codes.min() < -1 or codes.max() >= len(self.levels)):
                raise ValueError(f"{where}: codes must lie in -1 .. {len(self.levels) - 1} (one per level, -1 missing)")
            object.__setattr__(self, "codes", _frozen(codes, code_dtype(len(self.levels))))

    # ------------------------------------------------------------------ helpers

    @property
    def observed(self) -> np.ndarray:
        """Boolean mask of the samples with a value (both time and event for SURV)."""
        if self.type == "CON":
            return ~np.isnan(self.values)
        if self.type == "SURV":
            return self.event >= 0
        return self.codes >= 0

    @property
    def n(self) -> int:
        """Samples with a value."""
        return int(self.observed.sum())

    def counts(self) -> dict[str, int]:
        """BIN/ORD/CAT: samples per level, in level order; SURV: events and censored."""
        if self.type in _CODED:
            found = np.bincount(self.codes[self.codes >= 0].astype(np.int64), minlength=len(self.levels))
            return {label: int(c) for label, c in zip(self.levels, found)}
        if self.type == "SURV":
            return {"event": int((self.event == 1).sum()), "censored": int((self.event == 0).sum())}
        raise ValueError(f"phenotype {self.name!r} is CON: it has no groups to count")

    def align(self, samples: Iterable[str]) -> "Phenotype":
        """The same phenotype along ``samples`` (ids), in that order; ids it lacks are missing.

        Examples
        --------
        >>> p = Phenotype("x", "CON", samples=["a", "b"], values=[1.0, 2.0])
        >>> p.align(["b", "z"]).values.tolist()
        [2.0, nan]
        """
        target = np.array([str(s) for s in samples], dtype=object)
        position = {s: i for i, s in enumerate(self.samples.tolist())}
        idx = np.array([position.get(s, -1) for s in target.tolist()], dtype=np.int64)
        have = idx >= 0
        take = np.where(have, idx, 0)

        def pick(a: np.ndarray, missing):
            if a.size == 0:
                return np.full(target.size, missing, dtype=a.dtype)
            return np.where(have, a[take], missing).astype(a.dtype)

        kw = dict(
            name=self.name, type=self.type, samples=target, levels=self.levels, level_order=self.level_order,
            unit=self.unit, source=self.source, columns=self.columns, unknown=self.unknown, variable=self.variable,
        )
        if self.type == "CON":
            return Phenotype(values=pick(self.values, np.nan), **kw)
        if self.type == "SURV":
            return Phenotype(time=pick(self.time, np.nan), event=pick(self.event, -1), **kw)
        return Phenotype(codes=pick(self.codes, -1), **kw)

    def attrs(self) -> dict:
        """The attributes of its stored variable (JSON-serialisable)."""
        out = {"name": self.name, "type": self.type, "source": self.source, "columns": list(self.columns),
               "unknown": list(self.unknown)}
        if self.type in _CODED:
            out.update(levels=list(self.levels), level_order=self.level_order or "sorted")
        if self.type == "SURV":
            out["unit"] = self.unit
        return out


def code_dtype(n_levels: int) -> np.dtype:
    """int8 for up to 127 levels, else int16."""
    return np.dtype(np.int8) if n_levels <= np.iinfo(np.int8).max else np.dtype(np.int16)


def sort_levels(labels: Iterable[str]) -> list[str]:
    """Labels in sorted order: numerically when all are numbers, else by string.

    Examples
    --------
    >>> sort_levels(["10", "2", "1"]), sort_levels(["Stage II", "Stage I", "Stage IV"])
    (['1', '2', '10'], ['Stage I', 'Stage II', 'Stage IV'])
    """
    labels = sorted(set(labels))
    numbers = []
    for label in labels:
        try:
            x = float(label)
        except ValueError:
            return labels
        if not math.isfinite(x):
            return labels
        numbers.append(x)
    return [label for _, label in sorted(zip(numbers, labels))]


def split_list(text: str) -> list[str]:
    """Split a comma-separated list of labels; ``\\,`` is a comma inside a label.

    Examples
    --------
    >>> split_list("Stage I, Stage II,a\\\\,b")
    ['Stage I', 'Stage II', 'a,b']
    """
    parts = re.split(r"(?<!\\),", text)
    return [p.replace("\\,", ",").strip() for p in parts if p.strip()]


# ----------------------------------------------------------------------- type specs


@dataclass(frozen=True)
class ColumnSpec:
    """How to read one clinical column.

    Parameters
    ----------
    type
        One of :data:`COLUMN_TYPES` or :data:`SKIP`; ``None`` keeps the file's type row.
    levels
        BIN/ORD/CAT: the labels in order (every label of the column must be one of
        them or unknown; a level that never occurs is fine; BIN: two). ``None``: sorted.
    unknown
        Labels that mean missing in this column.
    """

    type: str | None = None
    levels: tuple[str, ...] | None = None
    unknown: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.type is not None:
            t = str(self.type).strip().upper()
            if t not in COLUMN_TYPES + (SKIP,):
                raise InputError(f"type {self.type!r} is not one of {_TYPE_DOC} or SKIP")
            object.__setattr__(self, "type", t)
        if self.levels is not None:
            object.__setattr__(self, "levels", tuple(str(x).strip() for x in self.levels))
        object.__setattr__(self, "unknown", tuple(str(x).strip() for x in self.unknown))


def read_types(path: str | os.PathLike) -> dict[str, ColumnSpec]:
    """Read a table of column types, e.g. LinkedOmicsKB's ``clinical_variable_types.tsv``.

    The first column names the clinical column; the type is in the column named
    ``type`` or ``linkedomics_type`` (any case), else the second column; optional
    columns ``levels`` (the labels in order) and ``unknown`` (labels meaning missing) are
    comma-separated lists (``\\,`` for a comma inside a label). A header row is expected;
    a first row whose second cell is a type name is read as data (no header).

    Raises
    ------
    InputError
        Unknown type names (naming the line), repeated column names.
    """
    table = read_rows(path, "types table")
    lowered = [h.lower() for h in table.header]
    rows, lines = table.rows, table.lines
    if table.header[1].strip().upper() in COLUMN_TYPES + (SKIP,):  # no header row
        rows, lines = [list(table.header)] + rows, [table.header_line] + lines
        type_col, levels_col, unknown_col = 1, None, None
    else:
        type_col = next((lowered.index(n) for n in ("type", "linkedomics_type") if n in lowered[1:]), 1)
        levels_col = lowered.index("levels") if "levels" in lowered[1:] else None
        unknown_col = lowered.index("unknown") if "unknown" in lowered[1:] else None
    specs: dict[str, ColumnSpec] = {}
    first: dict[str, int] = {}
    for line, row in zip(lines, rows):
        name = row[0]
        if not name:
            raise InputError(f"{table.path}: line {line}: the column name (first column) is empty; fill it in or delete the row")
        if name in first:
            raise InputError(f"{table.path}: column {name!r} is typed on line {first[name]} and line {line}; keep one")
        first[name] = line
        kind = row[type_col].upper()
        if kind not in COLUMN_TYPES + (SKIP,):
            raise InputError(
                f"{table.path}: line {line}, column {type_col + 1}: {row[type_col]!r} (the type of {name!r}) is not a "
                f"type; write {_TYPE_DOC} or SKIP"
            )
        levels = split_list(row[levels_col]) if levels_col is not None and row[levels_col] not in MISSING_LABELS else None
        unknown = split_list(row[unknown_col]) if unknown_col is not None and row[unknown_col] not in MISSING_LABELS else []
        specs[name] = ColumnSpec(kind, tuple(levels) if levels else None, tuple(unknown))
    return specs


# --------------------------------------------------------------------- clinical tables


@dataclass(frozen=True)
class ClinicalTable:
    """A clinical (or survival) table as samples x columns of text cells.

    Parameters
    ----------
    path
        The file.
    id_name
        Name of the sample id column (``attrib_name`` for the classic layout).
    samples
        Sample ids, unique, in file order.
    columns
        Column (attribute) names, unique, in file order.
    cells
        ``cells[j][i]``: the text of column ``j`` for sample ``i``, stripped.
    file_types
        Types from the file's type row (column -> type), or ``None``.
    layout
        ``"samples x attributes"`` or ``"attributes x samples"`` (LinkedOmics classic).
    """

    path: str
    id_name: str
    samples: tuple[str, ...]
    columns: tuple[str, ...]
    cells: list[list[str]] = field(repr=False)
    file_types: dict[str, str] | None
    layout: str
    _lines: tuple[int, ...] = field(repr=False, default=())  # per sample row or per attribute row

    def where(self, j: int, i: int) -> str:
        """Where the cell of column ``j`` and sample ``i`` is: "line L, column C ('name')"."""
        if self.layout == "samples x attributes":
            return f"line {self._lines[i]}, column {j + 2} ({self.columns[j]!r})"
        return f"line {self._lines[j]} ({self.columns[j]!r}), column {i + 2}"


def read_clinical(path: str | os.PathLike, what: str = "clinical table") -> ClinicalTable:
    """Read a clinical table in any of the layouts of the module docstring.

    Raises
    ------
    InputError
        Everything :func:`linkscan.storage.inputs.readers.read_rows` refuses, a ``.tsi`` whose first
        data row is not a type row (naming the column and its text), empty or repeated
        sample ids or attribute names (naming both lines), no samples.
    """
    table = read_rows(path, what)
    name = table.path
    if table.header[0].strip().lower() == "attrib_name":
        columns = [row[0] for row in table.rows]
        _unique(name, columns, table.lines, "attribute name (first column)")
        samples = list(table.header[1:])
        cells = [row[1:] for row in table.rows]
        return ClinicalTable(name, table.header[0], tuple(samples), tuple(columns), cells, None,
                             "attributes x samples", tuple(table.lines))

    rows, lines = table.rows, table.lines
    columns = list(table.header[1:])
    file_types = None
    first = rows[0]
    is_tsi = ".tsi" in [s.lower() for s in Path(name).suffixes]
    looks_typed = all(c.upper() in COLUMN_TYPES for c in first[1:])
    if is_tsi or looks_typed:
        file_types = {}
        for j, text in enumerate(first[1:]):
            if text.upper() not in COLUMN_TYPES:
                raise InputError(
                    f"{name}: line {lines[0]}, column {j + 2} ({columns[j]!r}): {text!r} is not a type; the first data "
                    f"row of a LinkedOmics .tsi gives each column's type: {_TYPE_DOC}. Fix that cell, or if the file "
                    "has no type row, name it .tsv and give the types with --types/--type"
                )
            file_types[columns[j]] = text.upper()
        rows, lines = rows[1:], lines[1:]
        if not rows:
            raise InputError(f"{name}: the {what} has a type row (line {table.lines[0]}) but no samples; add one row per sample")
    samples = [row[0] for row in rows]
    _unique(name, samples, lines, "sample id (first column)")
    cells = [[row[j + 1] for row in rows] for j in range(len(columns))]
    return ClinicalTable(name, table.header[0], tuple(samples), tuple(columns), cells, file_types,
                         "samples x attributes", tuple(lines))


def _unique(path: str, ids: list[str], lines: list[int], what: str) -> None:
    first: dict[str, int] = {}
    for k, x in enumerate(ids):
        if not x or x in MISSING_LABELS:
            raise InputError(f"{path}: line {lines[k]}: the {what} is {'empty' if not x else repr(x)}; fill it in or delete the row")
        if x in first:
            raise InputError(f"{path}: {what} {x!r} appears on line {lines[first[x]]} and line {lines[k]}; it must be unique")
        first[x] = k


def _unknown_for(unknown: Mapping[str, Iterable[str]], name: str) -> set[str]:
    return {str(x).strip() for x in unknown.get(name, ())} | {str(x).strip() for x in unknown.get("*", ())}


def clinical_phenotypes(
    table: ClinicalTable,
    specs: Mapping[str, ColumnSpec],
    unknown: Mapping[str, Iterable[str]] | None = None,
) -> tuple[list[Phenotype], list[str]]:
    """Encode the typed columns of a clinical table.

    A BIN column may hold other than two labels (see the module docstring); declared
    BIN levels must be two.

    Parameters
    ----------
    table
        From :func:`read_clinical`.
    specs
        Column name -> :class:`ColumnSpec` (type, levels, unknown labels); a spec's type
        overrides the table's type row; names the table lacks are ignored here (the
        caller checks them against all its tables).
    unknown
        Column name (or ``"*"``, every column) -> labels meaning missing, added to the
        specs' own.

    Returns
    -------
    (phenotypes, skipped)
        One :class:`Phenotype` per typed column, in table order, and the names of the
        columns without a type (or typed SKIP).

    Raises
    ------
    InputError
        A CON cell that is not a number, a label not among declared levels, declared
        levels that repeat (or not two for BIN), levels for a CON column; each naming the
        file, line, column and the fix.
    """
    unknown = unknown or {}
    out, skipped = [], []
    for j, name in enumerate(table.columns):
        spec = specs.get(name, ColumnSpec())
        kind = spec.type or (table.file_types or {}).get(name)
        if kind is None or kind == SKIP:
            skipped.append(name)
            continue
        missing = _unknown_for(unknown, name) | set(spec.unknown)
        out.append(_encode(table, j, kind, spec.levels, missing))
    return out, skipped


def _encode(table: ClinicalTable, j: int, kind: str, levels: tuple[str, ...] | None, unknown: set[str]) -> Phenotype:
    name = table.columns[j]
    cells = table.cells[j]
    common = dict(name=name, type=kind, samples=table.samples, source=table.path, columns=(name,),
                  unknown=tuple(sorted(unknown)))
    is_missing = [c in MISSING_LABELS or c in unknown for c in cells]
    if kind == "CON":
        if levels is not None:
            raise InputError(f"{table.path}: levels are given for column {name!r}, which is CON; levels apply to BIN, ORD and CAT columns")
        values = np.full(len(cells), np.nan)
        for i, (text, miss) in enumerate(zip(cells, is_missing)):
            if miss:
                continue
            try:
                x = float(text)
            except ValueError:
                raise InputError(
                    f"{table.path}: {table.where(j, i)}, sample {table.samples[i]!r}: cannot read {text!r} as a number, "
                    f"and {name!r} is CON (continuous); write a number or NA, declare the label missing "
                    f"(--unknown '{name}={text}'), or give the column another type (--type '{name}=CAT')"
                ) from None
            values[i] = x if math.isfinite(x) else np.nan
        return Phenotype(values=values, **common)

    labels = [c for c, miss in zip(cells, is_missing) if not miss]
    if levels is not None:
        declared = list(levels)
        if len(set(declared)) != len(declared):
            rep = next(x for x in declared if declared.count(x) > 1)
            raise InputError(f"{table.path}: the levels declared for {name!r} repeat {rep!r}; list each level once")
        if any(not x for x in declared):
            raise InputError(f"{table.path}: the levels declared for {name!r} hold an empty label; remove it")
        both = sorted(set(declared) & unknown)
        if both:
            raise InputError(f"{table.path}: {both[0]!r} is declared both a level and unknown for {name!r}; keep one")
        if kind == "BIN" and len(declared) != 2:
            raise InputError(f"{table.path}: {len(declared)} levels are declared for the BIN column {name!r}; a binary column has exactly 2")
        known = set(declared)
        for i, (text, miss) in enumerate(zip(cells, is_missing)):
            if not miss and text not in known:
                n_bad = sum(1 for c, m in zip(cells, is_missing) if not m and c not in known)
                more = f" ({n_bad} cells in all are not among them)" if n_bad > 1 else ""
                raise InputError(
                    f"{table.path}: {table.where(j, i)}, sample {table.samples[i]!r}: label {text!r} is not among the "
                    f"levels declared for {name!r} ({', '.join(map(repr, declared))}){more}; add it to the levels "
                    f"(--levels '{name}=...') or declare it missing (--unknown '{name}={text}')"
                )
        order = "declared"
    else:
        declared = sort_levels(labels)
        order = "sorted"
    if len(declared) > np.iinfo(np.int16).max:
        raise InputError(f"{table.path}: column {name!r} has {len(declared)} distinct labels, more than a {kind} column can hold; is it an id column? skip it")
    index = {label: k for k, label in enumerate(declared)}
    codes = np.array([-1 if miss else index[c] for c, miss in zip(cells, is_missing)], dtype=np.int64)
    return Phenotype(codes=codes, levels=tuple(declared), level_order=order, **common)


# ----------------------------------------------------------------------- survival


_SURV_COLUMN = re.compile(r"^(?P<endpoint>.+)_(?P<part>days|event)$", re.IGNORECASE)


def survival_phenotypes(
    table: ClinicalTable,
    endpoints: Mapping[str, tuple[str, str]] | None = None,
    unknown: Mapping[str, Iterable[str]] | None = None,
) -> tuple[list[Phenotype], list[str]]:
    """Survival endpoints of a table (module docstring: column names and rules).

    Parameters
    ----------
    table
        From :func:`read_clinical` (any layout; a type row is ignored).
    endpoints
        Endpoint name -> (time column, event column); when given, only these are read.
        Else every ``<ENDPOINT>_days`` / ``<ENDPOINT>_event`` pair (any case).
    unknown
        Column name (or ``"*"``) -> labels meaning missing.

    Returns
    -------
    (phenotypes, ignored)
        One SURV :class:`Phenotype` per endpoint (time in days for ``*_days`` columns)
        and the names of the columns not used.

    Raises
    ------
    InputError
        No endpoint, a time column without its event column (or the reverse), named
        columns that do not exist, a negative, infinite or non-numeric time, an event
        that is not 0 or 1; naming the file, line, column and the fix.
    """
    unknown = unknown or {}
    index = {c: j for j, c in enumerate(table.columns)}
    pairs: list[tuple[str, int, int, str]] = []  # (endpoint, time column, event column, unit)
    if endpoints:
        for endpoint, cols in endpoints.items():
            if len(cols) != 2:
                raise InputError(f"endpoint {endpoint!r}: give a time column and an event column, not {cols!r}")
            js = []
            for col in cols:
                if col not in index:
                    close = difflib.get_close_matches(col, table.columns, n=3)
                    hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
                    raise InputError(
                        f"{table.path}: endpoint {endpoint!r} names column {col!r}, which the table lacks{hint}; "
                        f"its columns are {', '.join(map(repr, table.columns))}"
                    )
                js.append(index[col])
            unit = "days" if cols[0].lower().endswith("_days") else ""
            pairs.append((endpoint, js[0], js[1], unit))
    else:
        found: dict[str, dict[str, int]] = {}
        for j, col in enumerate(table.columns):
            m = _SURV_COLUMN.match(col)
            if not m:
                continue
            endpoint, part = m["endpoint"].upper(), m["part"].lower()
            slot = found.setdefault(endpoint, {})
            if part in slot:
                raise InputError(
                    f"{table.path}: columns {table.columns[slot[part]]!r} and {col!r} are both the {part} of endpoint "
                    f"{endpoint!r} (names are compared in upper case); keep one"
                )
            slot[part] = j
        for endpoint, slot in found.items():
            if "days" not in slot or "event" not in slot:
                have, lack = ("days", "event") if "days" in slot else ("event", "days")
                col = table.columns[slot[have]]
                partner = col[: -len(have)] + lack
                raise InputError(
                    f"{table.path}: column {col!r} has no {lack} column {partner!r} beside it; a survival endpoint "
                    "is a pair <ENDPOINT>_days (time) and <ENDPOINT>_event (1 = event, 0 = censored): add the missing "
                    "column, or name the columns with --endpoint NAME=TIME_COLUMN,EVENT_COLUMN"
                )
            pairs.append((endpoint, slot["days"], slot["event"], "days"))
        if not pairs:
            raise InputError(
                f"{table.path}: no survival columns found; a survival table has <ENDPOINT>_days and <ENDPOINT>_event "
                "columns (e.g. OS_days, OS_event, PFS_days, PFS_event; any case), or name them with "
                f"--endpoint OS=TIME_COLUMN,EVENT_COLUMN; the columns are {', '.join(map(repr, table.columns))}"
            )
    used = set()
    out = []
    for endpoint, jt, je, unit in pairs:
        used.update((jt, je))
        time = _survival_times(table, jt, _unknown_for(unknown, table.columns[jt]))
        event = _survival_events(table, je, _unknown_for(unknown, table.columns[je]))
        declared = sorted(_unknown_for(unknown, table.columns[jt]) | _unknown_for(unknown, table.columns[je]))
        out.append(Phenotype(
            name=endpoint, type="SURV", samples=table.samples, time=time, event=event, unit=unit,
            source=table.path, columns=(table.columns[jt], table.columns[je]), unknown=tuple(declared),
        ))
    ignored = [c for j, c in enumerate(table.columns) if j not in used]
    return out, ignored


def _survival_times(table: ClinicalTable, j: int, unknown: set[str]) -> np.ndarray:
    out = np.full(len(table.samples), np.nan)
    for i, text in enumerate(table.cells[j]):
        if text in MISSING_LABELS or text in unknown:
            continue
        try:
            x = float(text)
        except ValueError:
            x = None
        if x is None or math.isinf(x) or x < 0:
            problem = "cannot read it as a number" if x is None else ("a time is finite" if math.isinf(x) else "a time cannot be negative")
            raise InputError(
                f"{table.path}: {table.where(j, i)}, sample {table.samples[i]!r}: survival time {text!r}: {problem}; "
                f"write the time (>= 0) or NA, or declare a code for unknown missing (--unknown '{table.columns[j]}={text}')"
            )
        if not math.isnan(x):
            out[i] = x
    return out


def _survival_events(table: ClinicalTable, j: int, unknown: set[str]) -> np.ndarray:
    out = np.full(len(table.samples), -1, dtype=np.int8)
    for i, text in enumerate(table.cells[j]):
        if text in MISSING_LABELS or text in unknown:
            continue
        try:
            x = float(text)
        except ValueError:
            x = None
        if x not in (0.0, 1.0):
            raise InputError(
                f"{table.path}: {table.where(j, i)}, sample {table.samples[i]!r}: event {text!r} is not 0 or 1; write 1 "
                f"(the event, e.g. death), 0 (censored) or NA, or declare a code for unknown missing "
                f"(--unknown '{table.columns[j]}={text}')"
            )
        out[i] = int(x)
    return out


# ------------------------------------------------------------------------ Datasets


def variable_names(names: Sequence[str]) -> list[str]:
    """Safe, unique (ignoring case) variable names for phenotype names, in order.

    Names that are already safe keep their spelling; the others are mapped as the
    module docstring says.

    Examples
    --------
    >>> variable_names(["a/b", "a_b", ".x", "sample"])
    ['a_b_2', 'a_b', 'p.x', 'sample_']
    """
    out: list[str | None] = [None] * len(names)
    taken: set[str] = set()
    safe_first = sorted(range(len(names)), key=lambda k: not _is_safe(names[k]))
    for k in safe_first:
        name = names[k]
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:_MAX_VARIABLE] or "p"
        if not base[0].isalnum():
            base = "p" + base
        if base.lower() in _RESERVED_VARIABLES:
            base += "_"
        candidate, n = base, 2
        while candidate.lower() in taken:
            candidate, n = f"{base}_{n}", n + 1
        taken.add(candidate.lower())
        out[k] = candidate
    return out  # type: ignore[return-value]


def _is_safe(name: str) -> bool:
    return bool(_SAFE.fullmatch(name)) and len(name) <= _MAX_VARIABLE and name.lower() not in _RESERVED_VARIABLES


def union_samples(groups: Iterable[Iterable[str]]) -> list[str]:
    """Sample ids of several lists, each once, in order of first appearance."""
    seen: dict[str, None] = {}
    for group in groups:
        for s in group:
            seen.setdefault(str(s), None)
    return list(seen)


def to_dataset(phenotypes: Iterable[Phenotype], attrs: Mapping | None = None) -> xr.Dataset:
    """Build the phenotype Dataset (module docstring) of phenotypes, aligned to their
    sample union (in order of first appearance), variables ordered by phenotype name.

    Raises
    ------
    InputError
        Two phenotypes with the same name, or no phenotype.
    """
    given = list(phenotypes)
    samples = union_samples(p.samples.tolist() for p in given)
    items = sorted(given, key=lambda p: p.name)
    if not items:
        raise InputError("no phenotypes to store; give a clinical table with typed columns or a survival table")
    for a, b in zip(items, items[1:]):
        if a.name == b.name:
            raise InputError(
                f"phenotype {a.name!r} comes twice (from {a.source or '?'} and {b.source or '?'}); "
                "rename one of the columns or ingest one of the tables"
            )
    names = variable_names([p.name for p in items])
    data = {}
    for p, var in zip(items, names):
        p = p.align(samples) if p.samples.tolist() != samples else p
        if p.type == "CON":
            data[var] = (("sample",), np.array(p.values), p.attrs())
        elif p.type == "SURV":
            event = np.where(p.event < 0, np.nan, p.event.astype(np.float64))
            data[var] = (("sample", SURV_DIM), np.column_stack([p.time, event]), p.attrs())
        else:
            data[var] = (("sample",), np.array(p.codes), p.attrs())
    coords = {"sample": ("sample", np.array(samples, dtype=object))}
    if any(p.type == "SURV" for p in items):
        coords[SURV_DIM] = (SURV_DIM, np.array(SURV_FIELDS, dtype=object))
    return xr.Dataset(data, coords=coords, attrs=dict(attrs or {}))


def from_dataset(ds: xr.Dataset) -> dict[str, Phenotype]:
    """The phenotypes of a phenotype Dataset, by name (sorted), after :func:`validate_dataset`."""
    samples = np.array([str(s) for s in ds["sample"].values.tolist()], dtype=object)
    out = {}
    for var in sorted(ds.data_vars, key=lambda v: ds[v].attrs["name"]):
        a = ds[var].attrs
        common = dict(
            name=a["name"], type=a["type"], samples=samples, source=a.get("source", ""),
            columns=tuple(a.get("columns", ())), unknown=tuple(a.get("unknown", ())), variable=str(var),
        )
        values = np.asarray(ds[var].values)
        if a["type"] == "CON":
            out[a["name"]] = Phenotype(values=values, **common)
        elif a["type"] == "SURV":
            event = values[:, 1]
            out[a["name"]] = Phenotype(time=values[:, 0], event=np.where(np.isnan(event), -1, event).astype(np.int64),
                                       unit=a.get("unit", ""), **common)
        else:
            out[a["name"]] = Phenotype(codes=values.astype(np.int64), levels=tuple(a["levels"]),
                                       level_order=a.get("level_order", "sorted"), **common)
    return out


def validate_dataset(ds: xr.Dataset, where: str) -> None:
    """Check a phenotype Dataset against the layout of the module docstring.

    Raises
    ------
    InputError
        Unknown dimensions, a missing or repeated sample id, a variable without a valid
        ``type``/``name``, a repeated name, a variable name that is not safe, a dtype or
        shape that does not fit its type, codes outside the levels, invalid survival data.
    """
    if "sample" not in ds.coords:
        raise InputError(f"{where}: a phenotype Dataset needs a 'sample' coordinate")
    extra = set(ds.dims) - {"sample", SURV_DIM}
    if extra:
        raise InputError(f"{where}: unknown dimension(s) {', '.join(sorted(map(str, extra)))}; phenotypes run along 'sample' only")
    samples = ds["sample"].values.tolist()
    if any(not isinstance(s, str) or not s for s in samples):
        raise InputError(f"{where}: sample ids must be non-empty text")
    if len(set(samples)) != len(samples):
        dup = next(s for s in samples if samples.count(s) > 1)
        raise InputError(f"{where}: sample id {dup!r} occurs more than once; sample ids must be unique")
    if SURV_DIM in ds.dims and [str(x) for x in ds[SURV_DIM].values.tolist()] != list(SURV_FIELDS):
        raise InputError(f"{where}: coordinate {SURV_DIM!r} must be {list(SURV_FIELDS)}")
    if not ds.data_vars:
        raise InputError(f"{where}: the phenotype Dataset has no phenotypes")
    seen: dict[str, str] = {}
    lower: set[str] = set()
    for var in ds.data_vars:
        v = ds[var]
        a = v.attrs
        name, kind = a.get("name"), a.get("type")
        if not isinstance(name, str) or not name or kind not in TYPES:
            raise InputError(f"{where}: variable {var!r} needs attributes 'name' (the phenotype's name) and 'type' (one of {', '.join(TYPES)})")
        if name in seen:
            raise InputError(f"{where}: variables {seen[name]!r} and {var!r} both hold phenotype {name!r}")
        seen[name] = str(var)
        if not _SAFE.fullmatch(str(var)) or str(var).lower() in lower or str(var).lower() in _RESERVED_VARIABLES:
            raise InputError(f"{where}: variable name {var!r} is not a safe, unique name; use linkscan.storage.inputs.phenotypes.variable_names")
        lower.add(str(var).lower())
        dims = ("sample", SURV_DIM) if kind == "SURV" else ("sample",)
        if v.dims != dims:
            raise InputError(f"{where}: phenotype {name!r} ({kind}) has dims {v.dims}, expected {dims}")
        if kind in ("CON", "SURV") and v.dtype.kind != "f":
            raise InputError(f"{where}: phenotype {name!r} ({kind}) has dtype {v.dtype}, expected float64")
        if kind in _CODED:
            levels = a.get("levels")
            if not isinstance(levels, (list, tuple)) or not all(isinstance(x, str) for x in levels):
                raise InputError(f"{where}: phenotype {name!r} ({kind}) needs its 'levels' (a list of labels) in its attributes")
            if v.dtype.kind != "i" or v.dtype != code_dtype(len(levels)):
                raise InputError(f"{where}: phenotype {name!r} ({kind}) has dtype {v.dtype}, expected {code_dtype(len(levels))} codes")
        try:
            from_dataset(ds[[var]])
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None
