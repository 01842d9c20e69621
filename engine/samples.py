r"""Which samples a scan uses: the job's ``where`` filter and ``exclude_samples`` list.

``where`` keeps the samples whose phenotypes pass a filter written in a small language,
parsed here (never evaluated as Python)::

    where = "Case_excluded != 'Yes' and (purity >= 0.3 or Stage in ['I', 'II'])"

Grammar (keywords ``and or not in is missing`` in any case; ``not`` binds tighter than
``and``, ``and`` tighter than ``or``)::

    filter     := term ("or" term)*
    term       := factor ("and" factor)*
    factor     := "not" factor | "(" filter ")" | comparison
    comparison := NAME ("==" | "!=" | "<" | "<=" | ">" | ">=") VALUE
                | NAME ["not"] "in" "[" VALUE ("," VALUE)* [","] "]"
                | NAME "is" ["not"] "missing"
    NAME       := letters, digits, _ - . (not a keyword or a number) | `any text`
    VALUE      := a number (2, -0.5, 1e-3) | 'text' | "text"   (\ escapes the next character)

Missing values (NaN in a numeric column, "" or None in a label column) follow SQL: a
comparison with a missing value is *unknown*, ``not unknown`` is unknown, ``and``/``or``
are Kleene's (false and unknown = false, true or unknown = true), and a sample is kept
only when the whole filter is *true*; ``is missing`` and ``is not missing`` are never
unknown. So ``Case_excluded != 'Yes'`` also drops the samples with no Case_excluded; to
keep them, write ``Case_excluded is missing or Case_excluded != 'Yes'``.

Numeric columns compare with numbers (all six operators and ``in``); label columns take
``==``, ``!=``, ``in`` and ``not in``: a string matches the same label exactly, a number
the labels that spell that number (``grade == 2`` matches "2" and "2.0").

>>> w = parse_where("purity >= 0.3 and (Stage in ['I', 'II'] or `tumor site` is missing)")
>>> w.columns
('purity', 'Stage', 'tumor site')
>>> describe(parse_where('purity>=.30 AND (Stage IN ["II","I"] OR `tumor site` IS MISSING)'))
"purity >= 0.3 and (Stage in ['I', 'II'] or `tumor site` is missing)"
>>> w.mask({"purity": Column(values=np.array([0.5, 0.2, np.nan, 0.9])),
...         "Stage": Column(labels=np.array(["I", "I", "II", ""])),
...         "tumor site": Column(labels=np.array(["", "lung", "", "breast"]))})
array([ True, False, False, False])
>>> cases = {"Case_excluded": Column(labels=np.array(["No", "Yes", ""]))}
>>> parse_where("Case_excluded != 'Yes'").mask(cases)
array([ True, False, False])
>>> parse_where("Case_excluded is missing or Case_excluded != 'Yes'").mask(cases)
array([ True, False,  True])
>>> parse_where("Case_excluded != 'Yes' and")
Traceback (most recent call last):
linkscan.errors.JobError: where = "Case_excluded != 'Yes' and": expected a column name at character 27 (end of the expression)

``exclude_samples`` is a list of sample ids, or the path of a file with one id a line:

>>> read_names(["C3L-00001", " C3N-00002", "C3L-00001"], Path("."))
('C3L-00001', 'C3N-00002')
"""

from __future__ import annotations

import difflib
import json
import math
import operator
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Union

import numpy as np

from linkscan.errors import JobError

KEYWORDS = {"and", "or", "not", "in", "is", "missing"}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}
_HINTS = {"=": "write == to compare", "&": "write and", "|": "write or", "!": "write not, or != to compare"}
_COMPARISON = "a comparison (==, !=, <, <=, >, >=, in, not in, is missing, is not missing)"
Value = Union[float, str]


@dataclass(frozen=True, eq=False)
class Column:
    """One phenotype column of one cohort: ``values`` (float64, NaN missing) for a numeric
    column, or ``labels`` (str, "" or None missing) for a label column; exactly one."""

    values: np.ndarray | None = None
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        if (self.values is None) == (self.labels is None):
            raise ValueError("Column takes exactly one of values= or labels=")
        if self.values is not None:
            object.__setattr__(self, "values", np.asarray(self.values, dtype=np.float64))
        else:
            labels = [("" if v is None or v != v else str(v)) for v in np.asarray(self.labels, dtype=object)]
            object.__setattr__(self, "labels", np.array(labels, dtype=object))

    def __len__(self) -> int:
        return len(self.values if self.values is not None else self.labels)


# the tree: ("or"|"and", (node, ...)), ("not", node), ("cmp", name, op, value),
# ("in", name, negated, (value, ...)), ("missing", name, negated)
Node = tuple


def _is_bare(name: str) -> bool:
    return (all(c.isalnum() or c in "_.-" for c in name) and name != "" and
            name.lower() not in KEYWORDS and not _NUMBER.fullmatch(name))


def _name_text(name: str) -> str:
    return name if _is_bare(name) else "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _value_text(v: Value) -> str:
    if isinstance(v, str):
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _text(node: Node, parent: int = 0) -> str:
    kind = node[0]
    if kind in ("or", "and"):
        level = 1 if kind == "or" else 2
        text = f" {kind} ".join(_text(n, level) for n in node[1])
        return f"({text})" if parent > level else text
    if kind == "not":
        return "not " + _text(node[1], 3)
    if kind == "cmp":
        return f"{_name_text(node[1])} {node[2]} {_value_text(node[3])}"
    if kind == "in":
        return f"{_name_text(node[1])} {'not in' if node[2] else 'in'} [{', '.join(map(_value_text, node[3]))}]"
    return f"{_name_text(node[1])} is {'not missing' if node[2] else 'missing'}"


@dataclass(frozen=True)
class Where:
    """A parsed ``where`` filter: ``text`` as written and ``tree``; see the module docstring."""

    text: str
    tree: Node

    @property
    def columns(self) -> tuple[str, ...]:
        """The phenotype names it uses, in order of first use."""
        def walk(node: Node):
            if node[0] in ("or", "and"):
                for n in node[1]:
                    yield from walk(n)
            elif node[0] == "not":
                yield from walk(node[1])
            else:
                yield node[1]
        return tuple(dict.fromkeys(walk(self.tree)))

    def _error(self, message: str) -> JobError:
        return JobError(f"where = {json.dumps(self.text, ensure_ascii=False)}: {message}")

    def mask(self, table: Mapping[str, Column], cohort: str = "") -> np.ndarray:
        """The samples of one cohort it keeps, a bool array (``table``: column name ->
        :class:`Column`, all of one length; ``cohort`` names it in errors)."""
        for name in self.columns:
            if name not in table:
                close = difflib.get_close_matches(name, list(table), n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                where = f"cohort {cohort}" if cohort else "the cohort"
                raise self._error(f"{where} has no phenotype column {name!r}{hint}")
        if len({len(table[n]) for n in self.columns}) > 1:
            raise ValueError(f"columns {self.columns} of cohort {cohort} differ in length")
        return self._eval(self.tree, table)[0]

    def _eval(self, node: Node, table: Mapping[str, Column]) -> tuple[np.ndarray, np.ndarray]:
        """(true, false) masks; a sample in neither is unknown."""
        kind = node[0]
        if kind in ("or", "and"):
            parts = [self._eval(n, table) for n in node[1]]
            ts, fs = np.array([p[0] for p in parts]), np.array([p[1] for p in parts])
            return (ts.any(0), fs.all(0)) if kind == "or" else (ts.all(0), fs.any(0))
        if kind == "not":
            t, f = self._eval(node[1], table)
            return f, t
        name, col = node[1], table[node[1]]
        if kind == "missing":
            missing = np.isnan(col.values) if col.values is not None else col.labels == ""
            return (~missing, missing) if node[2] else (missing, ~missing)
        op, values = (node[2], (node[3],)) if kind == "cmp" else ("==", node[3])
        negate, op = op == "!=" or (kind == "in" and node[2]), "==" if op == "!=" else op
        hit = np.zeros(len(col), dtype=bool)
        if col.values is not None:
            known = ~np.isnan(col.values)
            for v in values:
                if isinstance(v, str):
                    raise self._error(f"column {name!r} is numeric; compare it with a number, "
                                      f"not the text {_value_text(v)}")
                hit |= _OPS[op](col.values, v)
        else:
            known = col.labels != ""
            if op != "==":
                shown = ", ".join(_value_text(v) for v in sorted(set(col.labels[known]))[:5]) or "none"
                raise self._error(f"column {name!r} has labels ({shown}), not numbers: {op} compares numbers; "
                                  "use ==, != or in [...]")
            spelled = np.array([float(s) if _NUMBER.fullmatch(s) else np.nan for s in col.labels])
            for v in values:
                hit |= np.asarray(col.labels == v if isinstance(v, str) else spelled == v, dtype=bool)
        t, f = hit & known, ~hit & known
        return (f, t) if negate else (t, f)


def _tokens(text: str, fail) -> list[tuple[str, object, int, int]]:
    """(kind, value, start, end) tokens; kinds: name, kw, num, str, op and the punctuation."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        number = _NUMBER.match(text, i)
        after = text[number.end()] if number and number.end() < len(text) else " "
        if number and not (after.isalnum() or after in "_.-"):
            if not math.isfinite(float(number.group())):
                fail(f"the number {number.group()} at character {i + 1} is too large")
            out.append(("num", float(number.group()), i, number.end()))
            i = number.end()
        elif c in "'\"`":
            j, chars = i + 1, []
            while j < len(text) and text[j] != c:
                j += 1 if text[j] != "\\" or j + 1 == len(text) else 2
                chars.append(text[j - 1])
            if j >= len(text):
                what = "column name" if c == "`" else "string"
                fail(f"unterminated {what} starting at character {i + 1}; end it with another {c}")
            if c == "`" and not chars:
                fail(f"empty column name at character {i + 1}")
            out.append(("name" if c == "`" else "str", "".join(chars), i, j + 1))
            i = j + 1
        elif c.isalnum() or c in "_.-":
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] in "_.-"):
                j += 1
            word = text[i:j]
            out.append(("kw", word.lower(), i, j) if word.lower() in KEYWORDS else ("name", word, i, j))
            i = j
        elif text.startswith(tuple(_OPS), i):
            op = text[i:i + 2] if text[i:i + 2] in _OPS else c
            out.append(("op", op, i, i + len(op)))
            i += len(op)
        elif c in "()[],":
            out.append((c, c, i, i + 1))
            i += 1
        else:
            hint = f" ({_HINTS[c]})" if c in _HINTS else ""
            fail(f"unexpected {c!r} at character {i + 1}{hint}")
    out.append(("end", None, len(text), len(text)))
    return out


def parse_where(text: str) -> Where:
    """Parse a ``where`` filter (see the module docstring); :class:`JobError` if invalid."""
    if not isinstance(text, str):
        raise JobError(f"where must be a string such as \"purity >= 0.3\", not {text!r}")
    where = Where(text, ())

    def fail(message: str):
        raise where._error(message)

    if not text.strip():
        fail("the filter is empty; write one such as \"purity >= 0.3\", or remove where")
    tokens, pos = _tokens(text, fail), 0

    def expected(what: str, hint: str = ""):
        kind, _, start, end = tokens[pos]
        found = "end of the expression" if kind == "end" else f"found {text[start:end]!r}"
        fail(f"expected {what} at character {start + 1} ({found}){hint}")

    def take(kind: str, value: object = None) -> bool:
        nonlocal pos
        if tokens[pos][0] == kind and (value is None or tokens[pos][1] == value):
            pos += 1
            return True
        return False

    def chain(kind: str, sub) -> Node:
        items = [sub()]
        while take("kw", kind):
            items.append(sub())
        flat = [n for item in items for n in (item[1] if item[0] == kind else (item,))]
        return (kind, tuple(flat)) if len(flat) > 1 else flat[0]

    def factor() -> Node:
        if take("kw", "not"):
            return ("not", factor())
        if take("("):
            opened = tokens[pos - 1][2]
            node = chain("or", lambda: chain("and", factor))
            if not take(")"):
                expected("')'", f"; the '(' at character {opened + 1} is not closed")
            return node
        if tokens[pos][0] != "name":
            expected("a column name", "; back-quote a column named like a keyword or with spaces: `name`"
                     if tokens[pos][0] == "kw" else "")
        name = tokens[pos][1]
        take("name")
        if tokens[pos][0] == "op":
            op = tokens[pos][1]
            take("op")
            return ("cmp", name, op, value())
        if take("kw", "is"):
            negated = take("kw", "not")
            if not take("kw", "missing"):
                expected("missing" if negated else "missing or not missing")
            return ("missing", name, negated)
        negated = take("kw", "not")
        if not take("kw", "in"):
            expected("in" if negated else _COMPARISON)
        if not take("["):
            expected("'['", "; in takes a list such as ['I', 'II']")
        values = [value()]
        while take(","):
            if tokens[pos][0] == "]":
                break
            values.append(value())
        if not take("]"):
            expected("',' or ']'")
        ordered = sorted(set(values), key=lambda v: (isinstance(v, str), v))
        return ("in", name, negated, tuple(ordered))

    def value() -> Value:
        kind, v, _, _ = tokens[pos]
        if not (take("num") or take("str")):
            expected("a number or a quoted string", "; quote text values: 'I'" if kind == "name" else "")
        return v

    tree = chain("or", lambda: chain("and", factor))
    if tokens[pos][0] != "end":
        expected("and, or, or the end of the expression", "; this ')' has no '('" if tokens[pos][0] == ")" else "")
    return Where(text, tree)


def describe(where: Where) -> str:
    """The filter's canonical text: lowercase keywords, single spaces, 'single' quotes,
    numbers as ``0.3``/``2``, back-quotes only where needed, ``in`` lists sorted."""
    return _text(where.tree)


def check_columns(where: Where, known: Mapping[str, str] | set[str], cohort: str) -> None:
    """Raise :class:`JobError` listing the names ``where`` uses that the cohort's phenotypes
    ``known`` (names, or a mapping whose keys are the names) lack, with close spellings."""
    names = list(known)
    unknown = [n for n in where.columns if n not in known]
    if not unknown:
        return
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, names, n=3)
        parts.append(repr(name) + (f" (did you mean {', '.join(close)}?)" if close else ""))
    has = ", ".join(sorted(names)[:12]) + (", ..." if len(names) > 12 else "") if names else "none"
    raise where._error(f"cohort {cohort} has no phenotype {'columns' if len(unknown) > 1 else 'column'} "
                       f"{', '.join(parts)}; its phenotypes: {has}")


def read_names(value: object, base: Path, key: str = "exclude_samples") -> tuple[str, ...]:
    """The value of the job key ``key`` that names things (``exclude_samples``,
    ``features``, ``features_y``): a list of names, or a path (relative to ``base``, the
    job file's folder) of a UTF-8 text file with one name a line (blank lines and ``#``
    comments skipped). Names are stripped and deduplicated, first occurrence first."""
    if isinstance(value, str):
        if not value.strip():
            raise JobError(f"{key} is an empty path; give a file of names or a list of names")
        path = Path(value).expanduser()
        path = path if path.is_absolute() else Path(base) / path
        if not path.is_file():
            raise JobError(f"{key} = {json.dumps(value)}: no file {path} (a relative path is read from "
                           f"the job file's folder, {base}); fix the path, or list the names: "
                           f"{key} = [\"name1\", \"name2\"]")
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except UnicodeDecodeError as e:
            raise JobError(f"{key}: {path} is not UTF-8 text ({e.reason} at byte {e.start}); "
                           "save it as UTF-8 with one name a line") from None
        names = []
        for number, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if "\t" in text or "," in text:
                raise JobError(f"{key}: line {number} of {path} holds more than one field "
                               f"({text!r}); the file takes one name a line")
            if text:
                names.append(text)
        return tuple(dict.fromkeys(names))
    if not isinstance(value, (list, tuple)):
        raise JobError(f"{key} must be a list of names or the path of a file of names, not {value!r}")
    names = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            what = "empty" if isinstance(item, str) else f"{item!r} (a {type(item).__name__})"
            raise JobError(f"{key}[{i}] is {what}, not a name; write names as quoted strings")
        names.append(item.strip())
    return tuple(dict.fromkeys(names))


def phenotype_columns(phenotypes: Mapping, names, samples) -> dict[str, Column]:
    """:class:`Column` of each of ``names`` among a cohort's ``phenotypes`` (name ->
    :class:`~linkscan.storage.inputs.phenotypes.Phenotype`), along ``samples``: numbers
    for continuous phenotypes (a survival endpoint: its time), labels for the others."""
    columns = {}
    for name in names:
        if name not in phenotypes:
            continue
        p = phenotypes[name].align(samples)
        if p.type in ("CON", "SURV"):
            columns[name] = Column(values=p.values if p.type == "CON" else p.time)
        else:
            codes = np.asarray(p.codes, dtype=np.int64)
            labels = np.array(list(p.levels) + [""], dtype=object)
            columns[name] = Column(labels=labels[np.where(codes >= 0, codes, len(p.levels))])
    return columns


def kept(samples: np.ndarray, *, where: Where | None, exclude: tuple[str, ...], phenotypes: Mapping,
         cohort: str) -> np.ndarray:
    """The samples (ids) of one cohort a scan keeps: not in ``exclude`` and passing
    ``where`` on the cohort's ``phenotypes``; a bool array."""
    keep = ~np.isin(samples.astype(str), np.asarray(exclude, dtype=str)) if exclude else np.ones(len(samples), bool)
    if where is not None:
        check_columns(where, phenotypes, cohort)
        keep &= where.mask(phenotype_columns(phenotypes, where.columns, samples), cohort)
    return keep
