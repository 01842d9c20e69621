"""Clinical tables in their LinkedOmics layouts, and column types -> phenotypes.

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
(:func:`linkscan.storage.inputs.readers.number`: plain ASCII; ``NaN`` is missing, ``inf``
too).

A typed column becomes a phenotype of that type, with the codes and levels of
:mod:`linkscan.storage.inputs.phenotypes`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from linkscan.errors import InputError
from linkscan.storage.inputs.phenotypes import Phenotype, sort_levels
from linkscan.storage.inputs.readers import number, number_hint, read_rows

__all__ = [
    "COLUMN_TYPES",
    "SKIP",
    "MISSING_LABELS",
    "ColumnSpec",
    "ClinicalTable",
    "read_types",
    "read_clinical",
    "clinical_phenotypes",
    "split_list",
]

#: Types a clinical column can have (a survival endpoint comes from a survival table).
COLUMN_TYPES = ("CON", "BIN", "ORD", "CAT")
#: Pseudo-type of a column to leave out.
SKIP = "SKIP"
#: Cell texts (after stripping) that are missing in clinical, survival and sample tables.
MISSING_LABELS = frozenset({"", "NA"})

_TYPE_DOC = "CON (continuous), BIN (binary), ORD (ordinal), CAT (categorical)"


# ----------------------------------------------------------------------- type specs


def split_list(text: str) -> list[str]:
    """Split a comma-separated list of labels; ``\\,`` is a comma inside a label.

    Examples
    --------
    >>> split_list("Stage I, Stage II,a\\\\,b")
    ['Stage I', 'Stage II', 'a,b']
    """
    parts = re.split(r"(?<!\\),", text)
    return [p.replace("\\,", ",").strip() for p in parts if p.strip()]


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
    name
        The name to store the column under (so that one phenotype named differently
        across cohorts meets); ``None`` keeps the column's name.
    """

    type: str | None = None
    levels: tuple[str, ...] | None = None
    unknown: tuple[str, ...] = ()
    name: str | None = None

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
    comma-separated lists (``\\,`` for a comma inside a label); an optional column ``name``
    gives the name to store the column under (:attr:`ColumnSpec.name`; empty or ``NA``:
    its own). A header row is expected;
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
        type_col, levels_col, unknown_col, name_col = 1, None, None, None
    else:
        type_col = next((lowered.index(n) for n in ("type", "linkedomics_type") if n in lowered[1:]), 1)
        levels_col = lowered.index("levels") if "levels" in lowered[1:] else None
        unknown_col = lowered.index("unknown") if "unknown" in lowered[1:] else None
        name_col = 1 + lowered[1:].index("name") if "name" in lowered[1:] else None
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
        new_name = row[name_col] if name_col is not None and row[name_col] not in MISSING_LABELS else None
        specs[name] = ColumnSpec(kind, tuple(levels) if levels else None, tuple(unknown), new_name)
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

    A BIN column may hold other than two labels (see
    :mod:`linkscan.storage.inputs.phenotypes`); declared BIN levels must be two.

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
        One :class:`~linkscan.storage.inputs.phenotypes.Phenotype` per typed column, in
        table order, and the names of the columns without a type (or typed SKIP).

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
            x = number(text)
            if x is None:
                raise InputError(
                    f"{table.path}: {table.where(j, i)}, sample {table.samples[i]!r}: cannot read {text!r} as a number"
                    f"{number_hint(text)}, and {name!r} is CON (continuous); write a number or NA, declare the label "
                    f"missing (--unknown '{name}={text}'), or give the column another type (--type '{name}=CAT')"
                )
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
