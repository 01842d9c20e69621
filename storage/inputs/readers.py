"""Read omics tables (features x samples) from text or Parquet, strictly.

A table has one row per feature and one column per sample: the first column holds the
feature ids, the header row the sample ids. Accepted files, told apart by suffix:

========================================  =========================================
suffix                                    format
========================================  =========================================
``.cct``, ``.cbt``, ``.tsv``, ``.txt``     tab-separated text (LinkedOmics / CPTAC)
``.csv``                                  comma-separated text
any of the above + ``.gz``                gzip-compressed text
``.parquet``, ``.pq``                     Parquet; ids in the index or first column
========================================  =========================================

Text is UTF-8 (a byte-order mark is dropped). A cell is missing when, after stripping
surrounding whitespace, it is empty or one of :data:`NA_TOKENS`. Nothing else is
missing: pandas' default NA list would also swallow texts such as ``None``, ``null`` or
``#N/A``; here they are reported as non-numeric so that a mislabelled column is seen,
not silently dropped. Numbers are what Python's ``float()`` reads in plain ASCII
(:func:`number`): ``float()`` also reads ``1_000`` and digits of other scripts
(Arabic-Indic ``٣``, fullwidth ``１``), which no table writer means as numbers, so they
are errors. Infinite values (``inf``, ``-Inf``, ``Infinity``, or numbers beyond the
float64 range) are treated as missing, as STATS.md's common rules require, and counted.
No id (feature, sample, or any cell of a row table) may hold a NUL character.

A *binary* table (LinkedOmics ``.cbt``: mutation calls, features x samples) is read
the same way with ``read_table(path, binary=True)``, and every value must then be 0 or 1
(or missing); anything else, ``inf`` included, is an error naming the cell.

Row tables (one row per sample: clinical, survival and sample attribute tables) are
read as text by :func:`read_rows`; :mod:`linkscan.storage.inputs.clinical`,
:mod:`linkscan.storage.inputs.survival` and :mod:`linkscan.storage.inputs.tissues` give
their cells meaning.

Every problem is an :class:`linkscan.errors.InputError` that names the file, the line
(as an editor numbers it) or column, and the fix.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from linkscan.errors import InputError

__all__ = [
    "NA_TOKENS",
    "TEXT_SUFFIXES",
    "PARQUET_SUFFIXES",
    "ROW_TABLE_SUFFIXES",
    "RowTable",
    "read_table",
    "read_gene_map",
    "read_rows",
    "number",
    "number_hint",
]

#: Cell texts (after stripping whitespace) that mean "missing". The empty text is one too.
NA_TOKENS = frozenset({"", "NA", "NaN", "nan"})

#: Text suffixes and their delimiter (a trailing ``.gz`` is allowed on each).
TEXT_SUFFIXES = {".cct": "\t", ".cbt": "\t", ".tsv": "\t", ".txt": "\t", ".csv": ","}

#: Parquet suffixes.
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})

#: Suffixes of row tables (:func:`read_rows`) and their delimiter (``.gz`` allowed).
#: ``.tsi`` is LinkedOmics' clinical table format (tab-separated).
ROW_TABLE_SUFFIXES = {".tsv": "\t", ".txt": "\t", ".tsi": "\t", ".csv": ","}

# Rows converted to numbers at a time: bounds the memory held as Python strings
# (about 60 bytes a cell) to a few tens of MB whatever the table size.
_BLOCK_ROWS = 4096

_DELIMITER_NAMES = {"\t": "tab", ",": "comma"}


def read_table(path: str | os.PathLike, *, binary: bool = False, inf_by_sample: bool = False) -> pd.DataFrame:
    """Read a features x samples table and validate it.

    Parameters
    ----------
    path
        A ``.cct``/``.cbt``/``.tsv``/``.txt`` (tab), ``.csv`` (comma) file, optionally
        gzip-compressed (``.gz``), or a ``.parquet`` file. See the module docstring.
    binary
        The table holds 0/1 calls (a LinkedOmics ``.cbt``): every value that is not
        missing must be 0 or 1 (``1.0`` counts as 1). The suffix alone does not switch
        this on; :func:`linkscan.storage.inputs.ingest.ingest` does for ``.cbt`` files.
    inf_by_sample
        Also put ``n_inf_by_sample`` in ``attrs``: the infinite cells of each column (a
        list of int), for callers that split the samples.

    Returns
    -------
    pandas.DataFrame
        float64 values, index = feature ids (str, named ``feature``), columns = sample
        ids (str, named ``sample``), in file order. Missing and infinite cells are NaN.
        ``attrs`` holds ``source`` (the path as given), ``n_missing`` (NaN cells,
        infinite ones included) and ``n_inf_replaced`` (infinite cells turned into NaN).
        ``attrs`` describe the table as read; pandas may not carry them through later
        operations, so take them right away.

    Raises
    ------
    InputError
        Unknown suffix, missing file (or a folder, a named pipe), truncated or corrupt
        gzip, text that is not UTF-8 (naming the line and character), a field longer
        than the csv module's limit, a delimiter that does not match the suffix, rows
        with the wrong number of fields, empty or duplicate feature or sample ids, ids
        holding a NUL character, non-numeric cells, a value other than 0 or 1 in a
        binary table, or a table without features or samples. The message names the
        file, the line/column and the fix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.cct"
    >>> _ = p.write_text("gene\\ts1\\ts2\\nTP53\\t1.5\\t   NA\\nEGFR\\t-inf\\t2\\n")
    >>> df = read_table(p)
    >>> df.shape, df.attrs["n_missing"], df.attrs["n_inf_replaced"]
    ((2, 2), 2, 1)
    """
    path = Path(path)
    kind, delimiter = _table_format(path, "")
    if kind == "parquet":
        ids, samples, values, inf_by_col = _read_parquet(path, binary)
    else:
        ids, samples, values, inf_by_col = _read_text(path, delimiter, gz=(kind == "gz"), binary=binary)
    df = pd.DataFrame(
        values,
        index=pd.Index(ids, dtype=object, name="feature").astype(str),
        columns=pd.Index(samples, dtype=object, name="sample").astype(str),
    )
    df.attrs = {
        "source": str(path),
        "n_missing": int(np.isnan(values).sum()),
        "n_inf_replaced": int(inf_by_col.sum()),
    }
    if inf_by_sample:
        df.attrs["n_inf_by_sample"] = [int(x) for x in inf_by_col]
    return df


def read_gene_map(source: str | os.PathLike | pd.DataFrame | pd.Series) -> pd.Series:
    """Read a feature -> gene symbol mapping.

    Parameters
    ----------
    source
        A text table (suffixes as :func:`read_table`, ``.gz`` allowed) with a header row:
        the first column is the feature id, the gene is the column named ``gene`` (any
        case) if there is one, else the second column; further columns are ignored (so
        ``phospho_site_to_gene.tsv`` works as it is). A DataFrame follows the same rule;
        a Series maps its index (feature) to its values (gene).

    Returns
    -------
    pandas.Series
        Gene symbols (str) indexed by feature id (str), ids and symbols stripped of
        surrounding whitespace. Features whose gene is empty or an NA token are left out
        (they keep their own id as gene).

    Raises
    ------
    InputError
        Fewer than two columns, empty or duplicate feature ids (naming both lines).
    """
    if isinstance(source, pd.Series):
        name = "gene map (Series)"
        features = [str(f) for f in source.index]
        genes = ["" if _is_na(g) else str(g) for g in source.to_numpy()]
        where = [f"entry {i + 1}" for i in range(len(features))]
    elif isinstance(source, pd.DataFrame):
        name = "gene map (DataFrame)"
        header = [str(c) for c in source.columns]
        gene_col = _gene_column(name, header)
        features = ["" if _is_na(f) else str(f) for f in source.iloc[:, 0].to_numpy()]
        genes = ["" if _is_na(g) else str(g) for g in source.iloc[:, gene_col].to_numpy()]
        where = [f"row {i + 1}" for i in range(len(features))]
    else:
        path = Path(source)
        kind, delimiter = _table_format(path, "gene map ", text_only=True)
        name = str(path)
        features, genes, where = [], [], []
        records = _records(path, delimiter, gz=(kind == "gz"))
        gene_col = None
        for line, fields in records:
            if gene_col is None:
                gene_col = _gene_column(name, [f.strip() for f in fields], delimiter)
                continue
            if len(fields) <= gene_col:
                raise InputError(
                    f"{name}: line {line} has {len(fields)} field(s), the gene is in column {gene_col + 1}; "
                    "give every row a feature id and a gene"
                )
            features.append(fields[0])
            genes.append(fields[gene_col])
            where.append(f"line {line}")
        if gene_col is None:
            raise InputError(f"{name}: the gene map is empty; write a header row and one 'feature<TAB>gene' row per feature")
    features = [f.strip() for f in features]
    genes = [g.strip() for g in genes]
    seen: dict[str, int] = {}
    for i, f in enumerate(features):
        if not f:
            raise InputError(f"{name}: {where[i]} has an empty feature id; fill it in or delete the row")
        if f in seen:
            raise InputError(
                f"{name}: feature id {f!r} appears on {where[seen[f]]} and {where[i]}; "
                "a feature maps to one gene, so keep one of the rows"
            )
        seen[f] = i
    keep = [i for i, g in enumerate(genes) if g not in NA_TOKENS]
    return pd.Series(
        [genes[i] for i in keep],
        index=pd.Index([features[i] for i in keep], dtype=object, name="feature").astype(str),
        dtype=object,
        name="gene",
    ).astype(str)


# ------------------------------------------------------------------------ row tables


@dataclass(frozen=True)
class RowTable:
    """A text table as read by :func:`read_rows`: a header and rows of stripped cells.

    Parameters
    ----------
    path
        The file, as given.
    header
        Column names (stripped), the first one naming the id column (it may be empty).
    rows
        One list of cells per data row, each as long as ``header``, cells stripped of
        surrounding whitespace; blank lines are left out.
    lines
        The line (as an editor numbers it) of each row, for messages.
    header_line
        The line of the header.
    """

    path: str
    header: tuple[str, ...]
    rows: list[list[str]] = field(repr=False)
    lines: list[int] = field(repr=False)
    header_line: int = 1

    def column(self, name: str) -> int:
        """Index of the column ``name`` (exact), else an InputError listing the columns."""
        try:
            return self.header.index(name)
        except ValueError:
            close = difflib.get_close_matches(name, self.header, n=3)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise InputError(
                f"{self.path}: no column named {name!r}{hint}; the columns are {', '.join(map(repr, self.header))}"
            ) from None


def read_rows(path: str | os.PathLike, what: str = "table") -> RowTable:
    """Read a tab- or comma-separated table of text cells (one row per sample).

    Parameters
    ----------
    path
        ``.tsv``/``.txt``/``.tsi`` (tab) or ``.csv`` (comma), optionally ``.gz``; UTF-8,
        quotes as the csv module reads them (R's write.table/write.csv output works).
    what
        What the table is ("clinical table", ...), for messages.

    Returns
    -------
    RowTable
        The header and the rows, every cell stripped; nothing is converted or treated
        as missing here.

    Raises
    ------
    InputError
        Unknown suffix, missing, empty or corrupt file (or a folder, a named pipe), a
        delimiter that does not match the suffix, empty or repeated column names (the
        first, the id column, may be empty), rows with another number of fields than
        the header, a cell holding a NUL character, no data rows.
    """
    path = Path(path)
    kind, delimiter = _table_format(path, f"{what} ", text_only=True, suffixes=ROW_TABLE_SUFFIXES)
    records = _records(path, delimiter, gz=(kind == "gz"))
    header_line, header = next(records, (0, None))
    if header is None:
        raise InputError(f"{path}: the {what} is empty; write a header row of column names and one row per sample")
    header = [h.strip() for h in header]
    if len(header) < 2:
        if header:
            _check_other_delimiter(path, header[0], header_line, delimiter)
        raise InputError(
            f"{path}: the {what} has a single column (line {header_line}); it needs the id column and at least "
            f"one more, {_DELIMITER_NAMES[delimiter]}-separated"
        )
    first: dict[str, int] = {}
    for j, name in enumerate(header):
        if j == 0:
            continue  # the id column may be unnamed (R's write.csv writes "")
        if not name:
            trailing = " (a trailing delimiter at the end of the header?)" if j == len(header) - 1 else ""
            raise InputError(f"{path}: line {header_line}, column {j + 1}: the column name is empty{trailing}; name every column")
        if name in first:
            raise InputError(
                f"{path}: line {header_line}: column name {name!r} appears in column {first[name] + 1} and column {j + 1}; "
                "column names must be unique, rename one of them"
            )
        first[name] = j
    rows: list[list[str]] = []
    lines: list[int] = []
    for j, name in enumerate(header):
        _check_nul(path, f"line {header_line}, column {j + 1}", "", name)
    for line, fields in records:
        for j, cell in enumerate(fields):
            _check_nul(path, f"line {line}, column {j + 1}", "", cell)
        if len(fields) != len(header):
            raise InputError(
                f"{path}: line {line} has {len(fields)} fields but the header (line {header_line}) has {len(header)}; "
                "give every row one cell per column (empty or NA for missing)"
                + (
                    "; if the header lacks a cell for the id column (as R's write.table writes it), add one"
                    if len(fields) == len(header) + 1
                    else ""
                )
            )
        rows.append([f.strip() for f in fields])
        lines.append(line)
    if not rows:
        raise InputError(f"{path}: the {what} has no rows after the header (line {header_line}); add one row per sample")
    return RowTable(str(path), tuple(header), rows, lines, header_line)


# --------------------------------------------------------------------------- formats


def _format_of(
    path: Path, *, text_only: bool = False, suffixes: dict[str, str] = TEXT_SUFFIXES
) -> tuple[str, str | None]:
    """(kind, delimiter) from the suffixes: kind is "text", "gz" or "parquet"."""
    text_suffixes = suffixes
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    base = suffixes[-2] if gz and len(suffixes) >= 2 else (suffixes[-1] if suffixes and not gz else "")
    if base in text_suffixes:
        return ("gz" if gz else "text"), text_suffixes[base]
    if base in PARQUET_SUFFIXES and not gz and not text_only:
        return "parquet", None
    accepted = sorted(text_suffixes) + ([] if text_only else sorted(PARQUET_SUFFIXES))
    raise InputError(
        f"{path}: cannot tell the format from the name; name the file with one of the suffixes "
        f"{', '.join(accepted)} (text ones optionally followed by .gz)"
    )


def _table_format(path: Path, what: str, **options) -> tuple[str, str | None]:
    """:func:`_format_of` of a table file given by the user, with an InputError for a
    folder or another kind of file (a named pipe, a device) given as one, and for a
    missing file. ``what`` names the table in the missing file's message ("gene map ")."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file; give the {what.strip() or 'table'}'s file")
    if path.exists() and not path.is_file():
        mode = path.stat().st_mode
        kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device")
        raise InputError(
            f"{path}: is not a regular file ({kind}); save the table to a file and give that file (a table is "
            "read more than once)"
        )
    found = _format_of(path, **options)
    if not path.is_file():
        raise InputError(f"{path}: no such {what}file; check the path (the current directory is {Path.cwd()})")
    return found


def number(text: str) -> float | None:
    """``text`` (stripped) as a number, or None: what Python's ``float()`` reads, in plain
    ASCII. ``float()`` also reads digit separators (``1_000``) and digits of other
    scripts (Arabic-Indic ``٣``, fullwidth ``１``), which no table writer means as
    numbers: they are refused (None).

    Examples
    --------
    >>> number("1e3"), number("-inf"), number("1_000"), number("\u0663"), number("x")
    (1000.0, -inf, None, None, None)
    """
    if not text.isascii() or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def number_hint(text: str) -> str:
    """For the message of a cell that is not a number: why ``float()``-like text is
    refused (see :func:`number`), or ``""``."""
    if text.isascii() and "_" not in text:
        return ""
    return " (only plain ASCII digits are read: no '_' separators, no digits of other scripts)"


def _check_nul(path: Path | str, where: str, what: str, text: str) -> None:
    """InputError if the id or cell ``text`` holds a NUL character: ids are data the
    store keeps, and a NUL in a text table means binary or UTF-16 content."""
    if "\x00" in text:
        raise InputError(
            f"{path}: {where}: {what}{text!r} holds a NUL character (\\x00), which no id or label may hold (is the "
            "file UTF-16, or partly binary? save it as UTF-8 text); remove it"
        )


def _is_na(x: object) -> bool:
    if x is None:
        return True
    if isinstance(x, float) and np.isnan(x):
        return True
    return isinstance(x, str) and x.strip() in NA_TOKENS


def _gene_column(name: str, header: list[str], delimiter: str | None = None) -> int:
    if len(header) < 2:
        hint = ""
        if delimiter is not None:
            other = "," if delimiter == "\t" else "\t"
            if header and other in header[0]:
                hint = f" (it looks {_DELIMITER_NAMES[other]}-separated: name it {'.csv' if other == ',' else '.tsv'})"
        raise InputError(
            f"{name}: the gene map has {len(header)} column(s){hint}; it needs a feature id column "
            "and a gene column (named 'gene', or the second column)"
        )
    lowered = [h.lower() for h in header]
    return 1 + lowered[1:].index("gene") if "gene" in lowered[1:] else 1


# ------------------------------------------------------------------------------ text


def _open_text(path: Path, gz: bool):
    # newline="" lets the csv module see quoted line breaks; utf-8-sig drops a BOM.
    if gz:
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _records(path: Path, delimiter: str, gz: bool) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank record, with I/O errors made InputErrors."""
    line = 0  # the last line of the last record read (blank ones too)
    try:
        with _open_text(path, gz) as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            for fields in reader:
                line = reader.line_num
                if not fields or all(not f.strip() for f in fields):
                    continue  # blank line (or only delimiters/spaces): nothing to keep
                yield line, fields
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(
            f"{path}: the gzip data is truncated or corrupt after line {line} ({exc}); "
            "download or compress the file again (check it with 'gzip -t')"
        ) from None
    except UnicodeDecodeError as exc:
        # The text is decoded a block at a time, ahead of the csv reader: the line read
        # last and exc.start (an offset in that block) do not say where the byte is.
        hint = " (is it compressed? then name it *.gz)" if not gz else ""
        found = _first_non_utf8(path, gz)
        where = "the file is not UTF-8 text"
        if found:
            where = f"line {found[0]} is not UTF-8 text: byte 0x{found[2]:02X} at character {found[1]}"
        raise InputError(
            f"{path}: {where} ({exc.reason}){hint}; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8, or a "
            "spreadsheet's 'CSV UTF-8')"
        ) from None
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputError(
                f"{path}: line {line + 1} starts a field longer than the limit of {csv.field_size_limit()} characters "
                f"(read on up to line {reader.line_num}); most likely a quote (\") that opens the field and is never "
                f"closed, so that the lines after it are read into that field: remove or close the quote on line "
                f"{line + 1} (a quote inside a quoted field is written twice, \"\")"
            ) from None
        raise InputError(f"{path}: line {line + 1} cannot be parsed ({exc}); fix the quoting of that line") from None


def _first_non_utf8(path: Path, gz: bool) -> tuple[int, int, int] | None:
    """(line, character, byte value) of the first byte of the file that is not UTF-8,
    lines and characters numbered from 1 as an editor does; None if none is found (the
    file changed, or its gzip data is damaged)."""
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as fh:
            for line, raw in enumerate(fh, 1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    before = raw[: exc.start].decode("utf-8-sig" if line == 1 else "utf-8")
                    return line, len(before) + 1, raw[exc.start]
    except (OSError, EOFError, zlib.error):
        return None
    return None


def _read_text(
    path: Path, delimiter: str, gz: bool, binary: bool = False
) -> tuple[list[str], list[str], np.ndarray, int]:
    records = _records(path, delimiter, gz)
    header_line, header = next(records, (0, None))
    if header is None:
        raise InputError(f"{path}: the file is empty; write a header row of sample ids and one row per feature")
    samples = _sample_ids(path, header, header_line, delimiter)
    n_fields = len(header)

    ids: list[str] = []
    lines: list[int] = []
    blocks: list[np.ndarray] = []
    cells: list[str] = []
    block_lines: list[int] = []
    state = _ConvertState(binary, len(samples))

    def flush() -> None:
        if block_lines:
            blocks.append(_to_numbers(path, cells, block_lines, samples, ids, state))
            cells.clear()
            block_lines.clear()

    for line, fields in records:
        if len(fields) != n_fields:
            raise InputError(
                f"{path}: line {line} has {len(fields)} fields but the header (line {header_line}) has {n_fields}; "
                "give every row a feature id and one value per sample (empty or NA for missing)"
                + (
                    "; if the header lacks a cell for the id column (as R's write.table writes it), add one"
                    if len(fields) == n_fields + 1
                    else ""
                )
            )
        ids.append(fields[0].strip())
        lines.append(line)
        block_lines.append(line)
        cells.extend(fields[1:])
        if len(block_lines) >= _BLOCK_ROWS:
            flush()
    flush()

    if not ids:
        raise InputError(
            f"{path}: the table has no features (no data rows after the header on line {header_line}); "
            "add one row per feature"
        )
    _check_feature_ids(path, ids, [f"line {n}" for n in lines])
    if state.first_bad is not None:
        raise InputError(_non_numeric_message(path, state, samples, "line"))
    if state.first_nonbinary is not None:
        raise InputError(_non_binary_message(path, state, samples, "line"))
    values = np.concatenate(blocks, axis=0)
    return ids, samples, values, state.inf_by_col


def _check_other_delimiter(path: Path, cell: str, header_line: int, delimiter: str) -> None:
    """InputError if a one-column header's only cell holds the other delimiter (tab vs comma):
    the file's delimiter does not match its name."""
    other = "," if delimiter == "\t" else "\t"
    if other in cell:
        raise InputError(
            f"{path}: line {header_line} (the header) is one single column but holds "
            f"{cell.count(other)} {_DELIMITER_NAMES[other]}(s): the file looks "
            f"{_DELIMITER_NAMES[other]}-separated while its name says {_DELIMITER_NAMES[delimiter]}-separated; "
            f"rename it to {'.csv' if other == ',' else '.tsv'} or convert the delimiters"
        )


def _sample_ids(path: Path, header: list[str], header_line: int, delimiter: str) -> list[str]:
    samples = [s.strip() for s in header[1:]]
    if not samples:
        _check_other_delimiter(path, header[0], header_line, delimiter)
        raise InputError(
            f"{path}: the table has no sample columns (the header on line {header_line} holds only the id column); "
            f"write one {_DELIMITER_NAMES[delimiter]}-separated sample id per column after the id column"
        )
    first: dict[str, int] = {}
    for j, s in enumerate(samples):
        col = j + 2  # 1-based, the id column is column 1
        _check_nul(path, f"line {header_line}, column {col}", "the sample id ", s)
        if not s:
            trailing = " (a trailing delimiter at the end of the header?)" if j == len(samples) - 1 else ""
            raise InputError(
                f"{path}: line {header_line}, column {col}: the sample id is empty{trailing}; "
                "give every sample column an id"
            )
        if s in first:
            raise InputError(
                f"{path}: line {header_line}: sample id {s!r} appears in column {first[s]} and column {col}; "
                "sample ids must be unique, rename or merge the columns"
            )
        first[s] = col
    return samples


def _check_feature_ids(path: Path | str, ids: list[str], where: list[str]) -> None:
    first: dict[str, int] = {}
    dups = 0
    message = None
    for i, f in enumerate(ids):
        if not f:
            raise InputError(f"{path}: {where[i]}: the feature id (first column) is empty; fill it in or delete the row")
        _check_nul(path, f"{where[i]}, column 1", "the feature id ", f)
        if f in first:
            dups += 1
            if message is None:
                message = f"{path}: feature id {f!r} appears on {where[first[f]]} and {where[i]}"
        else:
            first[f] = i
    if message is not None:
        more = f" ({dups} repeated rows in all)" if dups > 1 else ""
        raise InputError(f"{message}{more}; feature ids must be unique, so merge or rename the rows")


class _ConvertState:
    """Running totals of a conversion: infinite cells, and the first non-numeric cell."""

    def __init__(self, binary: bool = False, n_columns: int = 0) -> None:
        self.n_inf = 0
        self.inf_by_col = np.zeros(n_columns, dtype=np.int64)
        self.n_bad = 0
        self.first_bad: tuple[int, int, str, str] | None = None  # (line/row, column index, text, feature)
        # binary tables: cells that are numbers but not 0 or 1 (inf included)
        self.binary = binary
        self.n_nonbinary = 0
        self.first_nonbinary: tuple[int, int, str, str] | None = None


def _to_numbers(
    path: Path | str,
    cells: list[str] | np.ndarray,
    lines: list[int],
    samples: list[str],
    ids: list[str],
    state: _ConvertState,
) -> np.ndarray:
    """Convert a block of cells (row-major, one row per entry of ``lines``) to float64."""
    m = len(samples)
    text = [c.strip() for c in cells]
    na = np.fromiter((t in NA_TOKENS for t in text), dtype=bool, count=len(text))
    try:
        # numpy parses str with Python's float(): exact (correctly rounded), and about
        # three times faster here than pd.to_numeric, which slows down on every "NA".
        numbers = np.array(["nan" if t in NA_TOKENS else t for t in text], dtype=np.float64)
    except ValueError:
        numbers = np.array([_float_or_nan(t) for t in text], dtype=np.float64)
    joined = "".join(text)  # one pass in C: such cells are rare
    if not joined.isascii() or "_" in joined:
        # what float() reads but number() refuses: '1_000', digits of other scripts
        numbers[[number(t) is None and t not in NA_TOKENS for t in text]] = np.nan
    # NaN where the text is no NA token: unparseable text, or a spelling of NaN that the
    # rules do not accept as missing ("-nan", "NAN").
    bad = np.isnan(numbers) & ~na
    if bad.any():
        if state.first_bad is None:
            k = int(np.argmax(bad))
            row, col = divmod(k, m)
            feature = ids[len(ids) - len(lines) + row]
            state.first_bad = (lines[row], col, text[k], feature)
        state.n_bad += int(bad.sum())
    if state.binary:
        nonbinary = ~np.isnan(numbers) & (numbers != 0.0) & (numbers != 1.0)
        if nonbinary.any():
            if state.first_nonbinary is None:
                k = int(np.argmax(nonbinary))
                row, col = divmod(k, m)
                feature = ids[len(ids) - len(lines) + row]
                state.first_nonbinary = (lines[row], col, text[k], feature)
            state.n_nonbinary += int(nonbinary.sum())
    inf = np.isinf(numbers)
    state.n_inf += int(inf.sum())
    if state.inf_by_col.size == m:
        state.inf_by_col += inf.reshape(len(lines), m).sum(axis=0)
    numbers[inf] = np.nan
    return numbers.reshape(len(lines), m)


def _float_or_nan(text: str) -> float:
    x = number(text)
    return np.nan if x is None else x


def _non_numeric_message(path: Path | str, state: _ConvertState, samples: list[str], unit: str) -> str:
    """Message for the first non-numeric cell; ``unit`` is "line" (text) or "row" (Parquet)."""
    where, col, text, feature = state.first_bad
    more = f" (and {state.n_bad - 1} more non-numeric cells)" if state.n_bad > 1 else ""
    # Text files number columns as an editor would (the id column is column 1); Parquet
    # columns are known by name only.
    column = f"column {col + 2} (sample {samples[col]!r})" if unit == "line" else f"column {samples[col]!r}"
    return (
        f"{path}: {unit} {where}, {column}, feature {feature!r}: cannot read {text!r} as a number{number_hint(text)}"
        f"{more}; write a number, or leave the cell empty or NA if it is missing"
    )


def _non_binary_message(path: Path | str, state: _ConvertState, samples: list[str], unit: str) -> str:
    """Message for the first value of a binary table that is not 0 or 1."""
    where, col, text, feature = state.first_nonbinary
    more = f" (and {state.n_nonbinary - 1} more such cells)" if state.n_nonbinary > 1 else ""
    column = f"column {col + 2} (sample {samples[col]!r})" if unit == "line" else f"column {samples[col]!r}"
    return (
        f"{path}: {unit} {where}, {column}, feature {feature!r}: value {text!r} is not 0 or 1{more}; "
        "a binary table (.cbt, mutations) holds 1 (mutated), 0 (not mutated) or NA (missing), "
        "so fix the cell, or ingest the table as a continuous omics (a .cct/.tsv name, without --binary)"
    )


# --------------------------------------------------------------------------- parquet


def _read_parquet(path: Path, binary: bool = False) -> tuple[list[str], list[str], np.ndarray, int]:
    import fastparquet  # only Parquet inputs need it

    try:
        # fastparquet directly: pandas 3 deprecates engine="fastparquet" (Pandas4Warning),
        # and an open file object, because ParquetFile(path) leaves its file unclosed.
        with open(path, "rb") as fh:
            df = fastparquet.ParquetFile(fh).to_pandas()
    except Exception as exc:  # fastparquet raises many types for a damaged file
        raise InputError(
            f"{path}: cannot be read as Parquet ({type(exc).__name__}: {exc}); write the file again"
        ) from None
    if isinstance(df.index, pd.RangeIndex):
        if df.shape[1] == 0:
            raise InputError(f"{path}: the Parquet file has no columns; write the feature ids and one column per sample")
        ids_raw = df.iloc[:, 0].to_numpy()
        df = df.iloc[:, 1:]
    else:
        ids_raw = df.index.to_numpy()
    ids = ["" if _is_na(f) else str(f).strip() for f in ids_raw]
    samples = [str(c).strip() for c in df.columns]
    if not samples:
        raise InputError(
            f"{path}: the table has no sample columns (only the feature id column); write one column per sample"
        )
    first: dict[str, int] = {}
    for j, s in enumerate(samples):
        _check_nul(path, f"column {j + 1}", "the sample id ", s)
        if not s:
            raise InputError(f"{path}: column {j + 1} has an empty sample id (column name); name every sample column")
        if s in first:
            raise InputError(
                f"{path}: sample id {s!r} names column {first[s] + 1} and column {j + 1} (after stripping spaces); "
                "sample ids must be unique, rename or merge the columns"
            )
        first[s] = j
    if not ids:
        raise InputError(f"{path}: the table has no features (zero rows); write one row per feature")
    rows = list(range(1, len(ids) + 1))
    _check_feature_ids(path, ids, [f"row {r}" for r in rows])

    state = _ConvertState(binary, len(samples))
    values = np.empty((len(ids), len(samples)), dtype=np.float64)
    for j, (name, col) in enumerate(df.items()):
        kind = col.dtype.kind
        if kind in "iufb":
            v = np.array(col.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)  # a writable copy
            nonbinary = ~np.isnan(v) & (v != 0.0) & (v != 1.0)
            if binary and nonbinary.any():
                if state.first_nonbinary is None:
                    k = int(np.argmax(nonbinary))
                    state.first_nonbinary = (rows[k], j, repr(float(v[k])), ids[k])
                state.n_nonbinary += int(nonbinary.sum())
            inf = np.isinf(v)
            state.n_inf += int(inf.sum())
            state.inf_by_col[j] += int(inf.sum())
            v[inf] = np.nan
        elif kind in "OUT" or isinstance(col.dtype, pd.StringDtype):
            strings = ["" if _is_na(x) else str(x) for x in col.to_numpy(dtype=object)]
            sub = _ConvertState(binary)
            v = _to_numbers(path, strings, rows, [samples[j]], ids, sub)[:, 0]
            state.n_inf += sub.n_inf
            state.inf_by_col[j] += sub.n_inf
            state.n_bad += sub.n_bad
            state.n_nonbinary += sub.n_nonbinary
            if sub.first_bad is not None and state.first_bad is None:
                row, _, text, feature = sub.first_bad
                state.first_bad = (row, j, text, feature)
            if sub.first_nonbinary is not None and state.first_nonbinary is None:
                row, _, text, feature = sub.first_nonbinary
                state.first_nonbinary = (row, j, text, feature)
        else:
            raise InputError(
                f"{path}: column {samples[j]!r} has dtype {col.dtype}; write numbers (float or int) for every sample"
            )
        values[:, j] = v
    if state.first_bad is not None:
        raise InputError(_non_numeric_message(path, state, samples, "row"))
    if state.first_nonbinary is not None:
        raise InputError(_non_binary_message(path, state, samples, "row"))
    return ids, samples, values, state.inf_by_col
