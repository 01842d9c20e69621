"""Phenotypes of a cohort: clinical, binary and survival columns along ``sample``.

This module holds the :class:`Phenotype` model (types, codes, levels) and its encoding as
a cohort's phenotype Dataset (:func:`to_dataset`, :func:`from_dataset`,
:func:`validate_dataset`). Phenotypes are read from clinical tables
(:mod:`linkscan.storage.inputs.clinical`) and survival tables
(:mod:`linkscan.storage.inputs.survival`).

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
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from linkscan.errors import InputError

__all__ = [
    "TYPES",
    "SURV_DIM",
    "SURV_FIELDS",
    "Phenotype",
    "code_dtype",
    "sort_levels",
    "variable_names",
    "union_samples",
    "to_dataset",
    "from_dataset",
    "validate_dataset",
]

#: Phenotype types (STATS.md): continuous, binary, ordinal, categorical, survival.
TYPES = ("CON", "BIN", "ORD", "CAT", "SURV")
#: The second dimension of a survival variable, and its coordinate.
SURV_DIM = "surv_field"
SURV_FIELDS = ("time", "event")

_CODED = ("BIN", "ORD", "CAT")
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
