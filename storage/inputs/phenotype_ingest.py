"""Ingest clinical and survival tables as a cohort's phenotypes.

:func:`ingest_phenotypes` reads clinical tables (:mod:`linkscan.storage.inputs.clinical`)
and survival tables (:mod:`linkscan.storage.inputs.survival`) and stores their
phenotypes as the cohort's phenotype Dataset (:mod:`linkscan.storage.inputs.phenotypes`),
merged with the phenotypes already stored; a :class:`PhenotypeSummary` per table says
what it gave.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from linkscan.errors import InputError
from linkscan.storage.inputs.clinical import ColumnSpec, clinical_phenotypes, read_clinical, read_types, split_list
from linkscan.storage.inputs.cohort_store import CohortStore, check_name
from linkscan.storage.inputs.ingest import _samples_of
from linkscan.storage.inputs.phenotypes import Phenotype
from linkscan.storage.inputs.survival import survival_phenotypes

__all__ = ["PhenotypeSummary", "ingest_phenotypes"]


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


def _renames(rename: Mapping[str, str] | None, file_specs: Mapping[str, ColumnSpec], names: set[str],
             id_columns: set[str]) -> dict[str, str]:
    """Old name -> new name: the types files' ``name`` of the columns present, then ``rename``.

    ``names`` are the clinical columns and survival endpoints of the tables."""
    out = {old: spec.name for old, spec in file_specs.items() if spec.name and old in names}
    for old, new in (rename or {}).items():
        old, new = str(old).strip(), str(new).strip()
        if not old or not new:
            raise InputError(f"rename {old!r} -> {new!r}: a side is empty; write OLD=NEW, e.g. "
                             "--rename 'tumor_Stage-Pathological=Stage'")
        if old not in names:
            where = ("is the sample id column of a clinical table; only phenotype columns can be renamed"
                     if old in id_columns else "is no column of a clinical table nor a survival endpoint"
                     f"{_close(old, names)}; check the spelling (names are case-sensitive)")
            raise InputError(f"rename of {old!r}: {old!r} {where}")
        out[old] = new
    seen: dict[str, str] = {}
    for old, new in sorted(out.items()):
        if new in seen:
            raise InputError(f"columns {seen[new]!r} and {old!r} are both renamed to {new!r}; a cohort has one "
                             "phenotype of a name: rename one of them differently, or leave one out")
        seen[new] = old
        if new != old and new in names:
            raise InputError(f"{old!r} is renamed to {new!r}, which is the name of another column or survival "
                             "endpoint of the tables; choose another name")
    return out


def _by_old_name(given: Mapping, old_of: Mapping[str, str], what: str) -> dict:
    """``given`` keyed by column name, a renamed column's new name read as its old one."""
    out = {}
    for name, value in given.items():
        old = old_of.get(name, name)
        if old in out:
            new = next(n for n, o in old_of.items() if o == old)
            raise InputError(f"{what} given for column {old!r} under both its name and its new name {new!r}; "
                             "keep one")
        out[old] = value
    return out


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
    rename: Mapping[str, str] | None = None,
    replace: bool = False,
) -> list[PhenotypeSummary]:
    """Store clinical and survival tables as ``cohort``'s phenotypes.

    Parameters
    ----------
    clinical
        Clinical tables (``.tsi`` or ``.tsv``/``.txt``/``.csv``, ``.gz``), layouts as in
        :mod:`linkscan.storage.inputs.clinical`.
    survival
        Survival tables (``<ENDPOINT>_days``/``<ENDPOINT>_event`` columns, or
        ``endpoints``).
    types
        Column name -> type (``CON``, ``BIN``, ``ORD``, ``CAT``, ``SKIP``); overrides
        a type row and ``types_file``. Every name must be a column of a clinical table.
    types_file
        Tables of types (:func:`linkscan.storage.inputs.clinical.read_types`, e.g. LinkedOmicsKB's
        ``clinical_variable_types.tsv``), read in order, later ones overriding; they may
        describe columns the clinical tables lack (ignored).
    levels
        Column name -> its labels in order (a list, or one comma-separated string,
        ``\\,`` for a comma in a label), for BIN/ORD/CAT columns; every label of the
        column must be a level or unknown; overrides the types file's.
    unknown
        Column name (``"*"``: every column) -> labels that mean missing, for clinical
        and survival columns alike; added to the types file's. ``types``, ``levels``
        and ``unknown`` may name a renamed column by its old or its new name (not both).
    endpoints
        Endpoint name -> (time column, event column) for every survival table, instead
        of finding ``*_days``/``*_event`` pairs.
    rename
        Old name -> new name of clinical columns and survival endpoints: the phenotype
        is stored under the new name (its ``columns`` attribute keeps the source
        columns), so that one phenotype named differently across cohorts meets; over a
        types file's ``name`` column. A types file row describes its column by the old
        name, or by the new one when no row has the old.
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
        Any table problem (see :mod:`linkscan.storage.inputs.clinical` and
        :mod:`linkscan.storage.inputs.survival`), a name in ``types``/``levels``/``unknown``
        that no table has, levels for an untyped column, a type for the sample id column,
        two tables giving one phenotype name, no table; a rename of a column or endpoint
        that no table has, with an empty side, of two columns to one name, or to the name
        of another column or endpoint. Nothing is written then.
    WriteError
        The write failed (the stored phenotypes are kept), or another writer of the
        cohort held its writer lock too long
        (:meth:`~linkscan.storage.inputs.cohort_store.CohortStore.writing`).
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
    surv_found = []
    for table in surv_tables:
        extra = {c: given_unknown.get(c, ()) + file_specs.get(c, ColumnSpec()).unknown for c in table.columns}
        surv_found.append(survival_phenotypes(table, endpoints, {**extra, "*": given_unknown.get("*", ())}))
    endpoint_names = {p.name for found, _ in surv_found for p in found}
    renames = _renames(rename, file_specs, columns | endpoint_names, id_columns)
    old_of = {new: old for old, new in renames.items()}
    given_types, given_levels, given_unknown = (_by_old_name(given, old_of, what) for given, what in (
        (given_types, "a type"), (given_levels, "levels"), (given_unknown, "unknown labels")))
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
        base = file_specs.get(name) or file_specs.get(renames.get(name), ColumnSpec())
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
        reports.append((table, "clinical", found, skipped))
    reports.extend((table, "survival", found, ignored) for table, (found, ignored) in zip(surv_tables, surv_found))
    for _, _, found, _ in reports:
        found[:] = [dataclasses.replace(p, name=renames[p.name]) if p.name in renames else p for p in found]
        new.extend(found)

    origin: dict[str, str] = {}
    for p in new:
        if p.name in origin:
            raise InputError(
                f"phenotype {p.name!r} comes from both {origin[p.name]} and {p.source}; rename one of the columns "
                "or leave one table out"
            )
        origin[p.name] = p.source

    # The read, merge and write under the cohort's writer lock: a phenotype ingest
    # running meanwhile would otherwise write its merge without this one's phenotypes.
    with store.writing(cohort):
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
