"""Propose a type per clinical column from its cells, and write them as a types table.

:func:`infer_types` reads the cells of a :class:`~linkscan.storage.inputs.clinical.ClinicalTable`
and proposes a :class:`~linkscan.storage.inputs.clinical.ColumnSpec` per column, with the
reason; :func:`write_types` writes the proposals in the layout
:func:`~linkscan.storage.inputs.clinical.read_types` reads, for the user to check, edit
and pass back with ``--types``. The rules, in order, on the cells that are neither
missing (``NA``, empty) nor unknown-looking (:func:`looks_unknown`):

1. no cells left, or a single label -> ``SKIP``;
2. exactly two labels -> ``BIN`` (levels in stage order when both are stage-like, else
   sorted);
3. every cell a number -> ``CON``;
4. every label stage- or grade-like (:func:`stage_key`) -> ``ORD``, levels in stage order;
5. at most :data:`MAX_CAT_LEVELS` labels, fewer than half the cells -> ``CAT``;
6. otherwise ``SKIP``: an id (or free text) when every cell is distinct, else too many
   labels for ``CAT``.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass

from linkscan.errors import InputError
from linkscan.storage.inputs.clinical import MISSING_LABELS, ClinicalTable, ColumnSpec
from linkscan.storage.inputs.phenotypes import sort_levels
from linkscan.storage.inputs.readers import number

__all__ = ["MAX_CAT_LEVELS", "Proposal", "looks_unknown", "stage_key", "infer_types", "format_proposal",
           "write_types"]

#: Most labels a column proposed CAT may have.
MAX_CAT_LEVELS = 10

_UNKNOWN_WORDS = frozenset({
    "unknown", "not reported", "not available", "not applicable", "not evaluated", "not assessed",
    "cannot be determined", "indeterminate", "unavailable", "missing", "n/a", "staging incomplete",
})
_ROMAN = {"0": 0, "I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
_NOTE = re.compile(r"\s*\(.*\)$")  # a trailing note, as in "pT1a (FIGO IA)"
_STAGE = re.compile(
    r"^(?:(?i:figo|ajcc|clinical|pathologic(?:al)?)\s+)?(?:(?i:stage)\s*)?(?P<roman>IV|V|I{1,3}|0)"
    r"(?P<letter>[A-Ca-c])?(?P<digit>[1-9])?$"
)
_STAGE_ARABIC = re.compile(r"^(?i:stage)\s*(?P<n>[0-4])(?P<letter>[A-Ca-c])?$")
_TNM = re.compile(r"^[pcy]?(?P<family>[TNM])(?P<n>is|[0-4])(?P<letter>[a-d])?(?P<digit>[1-9])?$", re.IGNORECASE)
_GRADE = re.compile(r"^(?:(?:figo|histologic(?:al)?|tumou?r)\s+)?(?:grade\s*|G)(?P<n>[1-4]|IV|I{1,3})$", re.IGNORECASE)
_TNM_UNKNOWN = re.compile(r"^[pcy]?[TNMG]X$", re.IGNORECASE)


@dataclass(frozen=True)
class Proposal:
    """A proposed type for one clinical column.

    Parameters
    ----------
    name
        The column.
    spec
        Type, levels (BIN/ORD/CAT, in order) and unknown-looking labels.
    why
        The rule that chose the type, with the counts it used.
    """

    name: str
    spec: ColumnSpec
    why: str


def looks_unknown(label: str) -> bool:
    """Whether a label reads as "unknown": ``Unknown``, ``Not Reported``, ``[Not Available]``,
    ``pTX``, ``NX``, ... (any case; square brackets ignored).

    Examples
    --------
    >>> [looks_unknown(x) for x in ("Unknown", "[Not Available]", "pTX", "NX", "None", "pT2")]
    [True, True, True, True, False, False]
    """
    text = label.strip().strip("[]").strip()
    return text.lower() in _UNKNOWN_WORDS or bool(_TNM_UNKNOWN.match(text))


def stage_key(label: str) -> tuple | None:
    """The sort key of a stage- or grade-like label, or None.

    Stages (``Stage IIA``, ``IIIC1``, ``Stage 2``), TNM categories (``pT1a``, ``N2b``,
    ``cM0``, ``Tis``; a trailing note in parentheses is ignored) and grades (``G2``,
    ``Grade 3``, ``FIGO grade 1``). The key's first item is the family (stage, T, N, M,
    grade): labels of one column are ordered only when they share it. Roman numerals
    count 0 < I < ... < V, sub-stages A < B < C after the bare stage, then 1 < 2.

    Examples
    --------
    >>> sorted(["Stage IIB", "Stage I", "Stage IIA", "Stage II"], key=stage_key)
    ['Stage I', 'Stage II', 'Stage IIA', 'Stage IIB']
    >>> stage_key("pT1a (FIGO IA)"), stage_key("Grade 2"), stage_key("Lung")
    (('T', 1, 'a', 0), ('grade', 2, '', 0), None)
    """
    text = _NOTE.sub("", label.strip())
    m = _STAGE.match(text)
    if m:
        return ("stage", _ROMAN[m["roman"]], (m["letter"] or "").upper(), int(m["digit"] or 0))
    m = _STAGE_ARABIC.match(text)
    if m:
        return ("stage", int(m["n"]), (m["letter"] or "").upper(), 0)
    m = _TNM.match(text)
    if m:
        n = m["n"].lower()
        return (m["family"].upper(), 0.5 if n == "is" else int(n), (m["letter"] or "").lower(), int(m["digit"] or 0))
    m = _GRADE.match(text)
    if m:
        n = m["n"].upper()
        return ("grade", _ROMAN[n] if n in _ROMAN else int(n), "", 0)
    return None


def _stage_order(labels: list[str]) -> list[str] | None:
    """The labels in stage order when all are stage-like of one family, else None."""
    keys = {label: stage_key(label) for label in labels}
    if any(k is None for k in keys.values()) or len({k[0] for k in keys.values()}) != 1:
        return None
    return sorted(labels, key=lambda label: (keys[label], label))


def infer_types(table: ClinicalTable) -> list[Proposal]:
    """Propose a type for every column of ``table`` by the rules of the module docstring.

    Parameters
    ----------
    table
        From :func:`~linkscan.storage.inputs.clinical.read_clinical` (a type row in it is
        not used).

    Returns
    -------
    list of Proposal
        One per column, in table order.
    """
    return [_propose(name, cells) for name, cells in zip(table.columns, table.cells)]


def _propose(name: str, cells: list[str]) -> Proposal:
    present = [c for c in cells if c not in MISSING_LABELS]
    unknown = tuple(sorted({c for c in present if looks_unknown(c)}))
    values = [c for c in present if c not in unknown]
    labels = sorted(set(values))
    n_missing = len(cells) - len(values)
    counts = f"{len(values)} cells, {n_missing} missing or unknown"
    if not labels:
        return Proposal(name, ColumnSpec("SKIP", None, unknown), "no values")
    if len(labels) == 1:
        return Proposal(name, ColumnSpec("SKIP", None, unknown), f"a single label {labels[0]!r}; {counts}")
    staged = _stage_order(labels)
    if len(labels) == 2:
        order = staged or sort_levels(labels)
        return Proposal(name, ColumnSpec("BIN", tuple(order), unknown), f"two labels; {counts}")
    if all(number(c) is not None for c in labels):
        return Proposal(name, ColumnSpec("CON", None, unknown), f"every cell a number; {counts}")
    if staged:
        return Proposal(name, ColumnSpec("ORD", tuple(staged), unknown),
                        f"{len(labels)} stage/grade labels, in stage order; {counts}")
    if len(labels) <= MAX_CAT_LEVELS and len(labels) < len(values) / 2:
        return Proposal(name, ColumnSpec("CAT", tuple(sort_levels(labels)), unknown),
                        f"{len(labels)} labels; {counts}")
    if len(labels) == len(values):
        return Proposal(name, ColumnSpec("SKIP", None, unknown), f"every cell distinct: an id or free text; {counts}")
    return Proposal(name, ColumnSpec("SKIP", None, unknown),
                    f"{len(labels)} labels in {len(values)} cells: too many for CAT (free text?)")


def _join(labels: tuple[str, ...] | None) -> str:
    """Labels as a comma-separated list, ``\\,`` for a comma inside a label."""
    return ",".join(label.replace(",", "\\,") for label in labels or ())


def format_proposal(proposal: Proposal) -> str:
    """One printed line: name, type, levels and unknown labels, and why.

    Examples
    --------
    >>> print(format_proposal(Proposal("Stage", ColumnSpec("ORD", ("I", "II"), ("Unknown",)), "2 labels")))
    Stage  ORD  levels: I,II  unknown: Unknown  (2 labels)
    """
    spec = proposal.spec
    parts = [proposal.name, spec.type]
    if spec.levels:
        parts.append(f"levels: {_join(spec.levels)}")
    if spec.unknown:
        parts.append(f"unknown: {_join(spec.unknown)}")
    return "  ".join(parts + [f"({proposal.why})"])


def write_types(path: str | os.PathLike, proposals: list[Proposal]) -> None:
    """Write proposals as a types table that :func:`~linkscan.storage.inputs.clinical.read_types` reads.

    Tab-separated, header ``column type levels unknown``; levels and unknown labels are
    comma-separated (``\\,`` for a comma inside a label).

    Raises
    ------
    InputError
        The file exists (it may hold edits), or cannot be written.
    """
    try:
        with open(path, "x", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["column", "type", "levels", "unknown"])
            for p in proposals:
                writer.writerow([p.name, p.spec.type, _join(p.spec.levels), _join(p.spec.unknown)])
    except FileExistsError:
        raise InputError(f"{path}: the types file exists (it may hold your edits); remove it or name another "
                         "with --write-types FILE") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot write the types file ({exc.strerror}); name another with --write-types FILE") from None
