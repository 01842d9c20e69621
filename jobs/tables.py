"""A gene's associations as the knowledge base shows them: one row per association, the
meta value, then one column per cohort.

:func:`kb_table` lays out the rows of a lookup (:func:`linkscan.query`) that way, with
the cohort cells holding one of :data:`SHOW`; :func:`format_table` renders it for a
terminal (numbers rounded, a cohort without a result blank, columns wrapped to the
terminal's width). The command line's ``tsv`` and ``json`` formats keep every column of
the lookup instead.

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"feature": ["MKI67", "MKI67"], "partner": ["TOP2A", "ESR1"],
...                      "test": ["spearman", "spearman"], "meta_slogp": [12.5, -3.25],
...                      "BRCA_slogp": [8.0, float("nan")], "OV_slogp": [6.125, -3.25]})
>>> print(format_table(kb_table(rows), width=80))
partner  meta   BRCA   OV
  TOP2A 12.50   8.00 6.12
   ESR1 -3.25        -3.25
>>> kb_table(rows, show="p")["OV"].round(6).tolist()
[1e-06, -0.000562]
"""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pandas as pd

from linkscan.errors import JobError

#: What a cohort cell can hold: the signed -log10 p (the reference's sorter), the signed
#: p, the effect (rho, shift, HR, ...), the BH q, or the samples used.
SHOW = ("slogp", "p", "stat", "q", "n")
#: How each kind of cell is printed.
_FORMATS = {"slogp": "{:.2f}", "p": "{:.2g}", "stat": "{:.3g}", "q": "{:.2g}", "n": "{:.0f}"}


def cohorts_of(rows: pd.DataFrame) -> list[str]:
    """The cohorts whose columns a lookup's rows hold, in their order."""
    return [c.removesuffix("_slogp") for c in rows.columns if c.endswith("_slogp") and c != "meta_slogp"]


def _cell(rows: pd.DataFrame, prefix: str, show: str) -> pd.Series | None:
    """The values of ``show`` for the cohort (or ``meta``) ``prefix``; None if absent."""
    slogp = rows.get(f"{prefix}_slogp")
    if show == "slogp" or (prefix == "meta" and show == "stat"):  # no meta effect: its slogp
        return slogp
    if show == "p":
        if slogp is None:
            return None
        sign = np.where(slogp < 0, -1.0, np.where(slogp >= 0, 1.0, np.nan))  # STATS.md: an effect of 0 is +
        return pd.Series(sign * 10.0 ** (-slogp.abs().astype(np.float64)), index=slogp.index)
    if show == "q":
        log10q = rows.get(f"{prefix}_log10q")
        return None if log10q is None else 10.0 ** log10q.astype(np.float64)
    if show == "n":
        n = rows.get("n_cohorts" if prefix == "meta" else f"{prefix}_n")
        nx = rows.get(f"{prefix}_nx")
        if nx is None or nx.isna().all():
            return n
        # two-group tests: the x group's samples / the y group's
        return pd.Series([f"{a}/{b - a}" if not pd.isna(a) else ("" if pd.isna(b) else f"{b}")
                          for a, b in zip(nx, n)], index=n.index, dtype=object)
    return rows.get(f"{prefix}_stat")


def kb_table(rows: pd.DataFrame, show: str = "slogp") -> pd.DataFrame:
    """The knowledge base's layout of a lookup's ``rows``.

    Parameters
    ----------
    rows
        Rows as :func:`linkscan.query` returns them (one scan).
    show
        What the meta and cohort cells hold (:data:`SHOW`): ``slogp`` (default),
        ``p`` (signed), ``stat``, ``q`` or ``n``. The meta column holds the meta p's
        slogp with ``stat`` (there is no meta effect) and the cohorts with a result with
        ``n``.

    Returns
    -------
    Columns ``feature`` (when the query matched several features), ``partner``,
    ``partner_omics`` and ``test`` (when the scan has several), ``x vs y`` (the groups of
    two-group tests, whose effect is x - y), ``meta``, then one column per cohort;
    numbers, NaN where there is no result; with ``n``, a two-group test's cell is the
    text ``NX/NY``, the samples of each group.
    """
    if show not in SHOW:
        raise JobError(f"show = {show!r}: use one of {', '.join(SHOW)}")
    out = {}
    if rows["feature"].nunique() > 1:
        out["feature"] = rows["feature"]
    out["partner"] = rows["partner"]
    for column in ("partner_omics", "test"):
        if column in rows and rows[column].nunique() > 1:
            out[column] = rows[column].astype(str)
    if "x_group" in rows and (rows["x_group"] != "").any():  # two-group tests: effect = x - y
        out["x vs y"] = [f"{x} vs {y}" if x else "" for x, y in zip(rows["x_group"], rows["y_group"])]
    for prefix in ["meta", *cohorts_of(rows)]:
        values = _cell(rows, prefix, show)
        if values is not None:
            out[prefix] = values if values.dtype == object else values.astype(np.float64)
    return pd.DataFrame(out).reset_index(drop=True)


def format_table(table: pd.DataFrame, show: str = "slogp", width: int | None = None) -> str:
    """``table`` (:func:`kb_table`) as text: numbers rounded, missing cells blank, the
    columns wrapped to ``width`` characters (default: the terminal's when standard output
    is one, else no wrapping: a pipe or a file gets one line per association)."""
    if table.empty:
        return "no associations pass the filters"
    shown = table.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = [("" if np.isnan(v) else _FORMATS[show].format(v)) for v in shown[column]]
    if width is None:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 1_000_000
    return shown.to_string(index=False, line_width=width)
