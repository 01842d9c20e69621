"""Survival tables -> one SURV phenotype per endpoint.

Survival tables (:func:`survival_phenotypes`): one row per sample, per endpoint a time
and an event column: ``<ENDPOINT>_days`` and ``<ENDPOINT>_event`` (any case: ``os_days``,
``OS_event``, ``PFS_days``...; the endpoint is named in upper case, ``OS``), or columns
named explicitly (``endpoints={"OS": ("overall_survival", "overall_free_status")}``).
Times are numbers >= 0 (:func:`linkscan.storage.inputs.readers.number`), events 1 (the
event) or 0 (censored), also written as words (:data:`EVENT_WORDS`: TRUE/FALSE,
yes/no, dead/alive, deceased/living, any case); other columns are ignored.

A survival table is read as a clinical table
(:func:`linkscan.storage.inputs.clinical.read_clinical`, any layout; a type row is
ignored), and its cells are missing by the same rules: ``NA``, empty, and the labels
declared unknown (:mod:`linkscan.storage.inputs.clinical`).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping

import numpy as np

from linkscan.errors import InputError
from linkscan.storage.inputs.clinical import MISSING_LABELS, ClinicalTable, _unknown_for
from linkscan.storage.inputs.phenotypes import Phenotype
from linkscan.storage.inputs.readers import number, number_hint

__all__ = ["survival_phenotypes", "EVENT_WORDS"]

#: Event cells (compared in lower case) read as 1 (the event) or 0 (censored), besides
#: numbers equal to 1 or 0. Tables write events as these words often (R's TRUE/FALSE,
#: vital status), and declaring one of them unknown would drop every censored sample.
EVENT_WORDS = {"true": 1, "false": 0, "yes": 1, "no": 0, "dead": 1, "alive": 0, "deceased": 1, "living": 0}


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
        From :func:`~linkscan.storage.inputs.clinical.read_clinical` (any layout; a type
        row is ignored).
    endpoints
        Endpoint name -> (time column, event column); when given, only these are read.
        Else every ``<ENDPOINT>_days`` / ``<ENDPOINT>_event`` pair (any case).
    unknown
        Column name (or ``"*"``) -> labels meaning missing.

    Returns
    -------
    (phenotypes, ignored)
        One SURV :class:`~linkscan.storage.inputs.phenotypes.Phenotype` per endpoint (time
        in days for ``*_days`` columns) and the names of the columns not used.

    Raises
    ------
    InputError
        No endpoint, a time column without its event column (or the reverse), named
        columns that do not exist, a negative, infinite or non-numeric time, an event
        that is neither 0 or 1 nor one of :data:`EVENT_WORDS`; naming the file, line,
        column and the fix.
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
        x = number(text)
        if x is None or math.isinf(x) or x < 0:
            problem = (f"cannot read it as a number{number_hint(text)}" if x is None
                       else "a time is finite" if math.isinf(x) else "a time cannot be negative")
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
        code = _event_code(text)
        if code is None:
            others = sorted({t for t in table.cells[j]
                             if t not in MISSING_LABELS and t not in unknown and _event_code(t) is None})
            shown = ", ".join(map(repr, others[:5])) + (", ..." if len(others) > 5 else "")
            raise InputError(
                f"{table.path}: {table.where(j, i)}, sample {table.samples[i]!r}: event {text!r} is not an event code; "
                "an event is 1 (event) or 0 (censored): 1/0, TRUE/FALSE, yes/no, dead/alive, deceased/living (any "
                f"case) are read as such and NA as missing; the column's other labels are {shown}: recode them to 1 "
                "(the event, e.g. death) and 0 (censored, e.g. alive at the last follow-up) in the table "
                f"(--unknown '{table.columns[j]}=LABEL' is only for a code that means not known)"
            )
        out[i] = code
    return out


def _event_code(text: str) -> int | None:
    """1, 0, or None (not an event code) for an event cell (module docstring)."""
    word = EVENT_WORDS.get(text.lower())
    if word is not None:
        return word
    x = number(text)
    return int(x) if x in (0.0, 1.0) else None
