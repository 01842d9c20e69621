"""Gene set files in the GMT format (MSigDB, WebGestalt, Enrichr), read strictly.

A GMT file holds one gene set per line, tab-separated::

    NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2...

The description may be empty (MSigDB puts a URL there). Blank lines are skipped, a
byte-order mark is dropped, Windows line ends are read as such, cells are stripped of
surrounding spaces, empty gene cells (a trailing tab) are ignored, and a gene listed
twice in a set counts once (its first place kept). Every other problem is an
:class:`linkscan.errors.InputError` naming the file, the line (as an editor numbers it)
and the fix: a line of fewer than three fields or without a gene, an empty set name, a
set name used twice, a byte that is not UTF-8, a file without a set. Gene symbols are
kept as written (case included): they are matched to the results' genes exactly.

:func:`write_gmt` writes sets in the same format (the demo's gene sets).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from linkscan.errors import InputError

__all__ = ["GeneSet", "read_gmt", "write_gmt"]


class GeneSet(NamedTuple):
    """One line of a GMT file."""

    #: the second field (may be empty)
    description: str
    #: the genes, each once, in the file's order
    genes: tuple[str, ...]


def read_gmt(path: str | os.PathLike) -> dict[str, GeneSet]:
    """The gene sets of a GMT file.

    Parameters
    ----------
    path
        A ``.gmt`` file (UTF-8 text).

    Returns
    -------
    dict[str, GeneSet]
        Set name -> its description and genes, in the file's order.

    Raises
    ------
    InputError
        A missing file, or a line that breaks the format (module docstring).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = write_gmt(f"{folder}/sets.gmt", {"CELL_CYCLE": GeneSet("mitosis", ("MKI67", "TOP2A"))})
    >>> read_gmt(path)
    {'CELL_CYCLE': GeneSet(description='mitosis', genes=('MKI67', 'TOP2A'))}
    >>> _ = Path(path).write_text("CELL_CYCLE\\tmitosis\\n")
    >>> read_gmt(path)
    Traceback (most recent call last):
    ...
    linkscan.errors.InputError: .../sets.gmt: line 1 has 2 tab-separated field(s); a GMT line is ...
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such gene set file; check the path (the current directory is "
                         f"{Path.cwd()})") from None
    sets: dict[str, GeneSet] = {}
    first_line: dict[str, int] = {}
    for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: line {number}, byte {exc.start + 1} of the line ({raw[exc.start]:#04x}) is "
                             "not UTF-8; save the file as UTF-8 text") from None
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < 3:
            raise InputError(f"{path}: line {number} has {len(fields)} tab-separated field(s); a GMT line is "
                             "NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2..., with tabs between the fields")
        name, description, genes = fields[0], fields[1], [g for g in fields[2:] if g]
        if not name:
            raise InputError(f"{path}: line {number} has an empty set name (its first field); name the set")
        if not genes:
            raise InputError(f"{path}: line {number} (set {name!r}) lists no gene; add its genes after the "
                             "description or delete the line")
        if name in sets:
            raise InputError(f"{path}: line {number}: set name {name!r} is used on line {first_line[name]} too; "
                             "give each set its own name, or merge the two lines")
        sets[name] = GeneSet(description, tuple(dict.fromkeys(genes)))
        first_line[name] = number
    if not sets:
        raise InputError(f"{path}: the file holds no gene set; write one NAME<TAB>DESCRIPTION<TAB>GENES... line "
                         "per set")
    return sets


def write_gmt(path: str | os.PathLike, sets: Mapping[str, GeneSet | Iterable[str]]) -> Path:
    """Write gene sets as a GMT file (replaced if it exists).

    Parameters
    ----------
    path
        The file to write.
    sets
        Set name -> a :class:`GeneSet`, or its genes (the description is then empty).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        A set that would not read back as written: an empty name or gene, no gene, or
        a cell holding a tab or a line break.
    """
    lines = []
    for name, value in sets.items():
        description, genes = value if isinstance(value, GeneSet) else ("", tuple(value))
        cells = [name, description, *genes]
        if not genes or not all(cells[:1] + cells[2:]) or any({"\t", "\n", "\r"} & set(c) for c in cells):
            raise InputError(f"gene set {name!r}: a GMT line needs a name and at least one gene, none of them "
                             "empty, and no cell may hold a tab or a line break; fix the set before writing it")
        lines.append("\t".join(cells) + "\n")
    out = Path(path)
    out.write_text("".join(lines), encoding="utf-8")
    return out
