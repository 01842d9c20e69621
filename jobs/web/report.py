"""``linkscan report``: one gene's page as a single self-contained HTML file.

The report is the service's gene page (:mod:`~linkscan.jobs.web.page`) with plotly.js,
the page's script and its style inlined, and the answers its plots ask for carried
inside: the per-sample values of every row it shows. It opens from a ``file://`` URL
with no network (its Content-Security-Policy lets it make no request at all). Its trans
table holds the strongest ``top`` partners by the meta p; sorting and paging happen
within them.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from linkscan.errors import JobError
from linkscan.jobs.web.catalog import Catalog
from linkscan.jobs.web.page import gene_enrichment, page_data, render
from linkscan.jobs.web.params import Params
from linkscan.jobs.web.values import VALUE_PARAMS, association_values
from linkscan.storage.inputs.gmt import read_gmt
from linkscan.storage.location import Location
from linkscan.storage.write_errors import write_error

#: Trans partners a report holds unless told otherwise.
DEFAULT_TOP = 50


def report(gene: str, results: str | os.PathLike, output: str | os.PathLike, *, store: str | os.PathLike | None = None,
           top: int = DEFAULT_TOP, enrichment: pd.DataFrame | None = None, gmt: str | os.PathLike | None = None) -> Path:
    """Write the gene page of ``gene`` to ``output``, an HTML file that needs nothing else.

    Parameters
    ----------
    gene
        A feature id, gene symbol or phenotype, as :func:`linkscan.query` takes it.
    results
        A result store, or a folder of them (one per scan kind).
    output
        The HTML file to write (replaced whole, never left half-written).
    store
        The cohort store to read per-sample values from (default: each scan's own).
    top
        The trans partners the report holds (>= 1), strongest by the meta p first.
    enrichment
        A gene set enrichment table for the page's enrichment section
        (:func:`linkscan.jobs.web.page.enrichment_section`).
    gmt
        Gene sets (a GMT file): the enrichment of the gene's trans partners is computed
        (:func:`linkscan.jobs.web.page.gene_enrichment`) unless ``enrichment`` is given.

    Returns
    -------
    The path written.

    Raises
    ------
    LinkscanError
        No scan holds ``gene``, ``top`` < 1, or a store cannot be read.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise JobError(f"top = {top!r}: give a whole number >= 1")
    catalog = Catalog(results, store)
    if enrichment is None and gmt is not None:
        enrichment = gene_enrichment(gene, catalog.results, read_gmt(gmt))
    data = page_data(catalog, gene, trans_rows=top, enrichment=enrichment)
    values = {}
    for section in data["sections"]:
        if section["kind"] not in catalog.scans:
            continue  # enrichment: no per-sample values
        scan = catalog.scan(section["kind"])
        for row in section["rows"] + section.get("heatmap", []):
            asked = {name: row[name] for name in VALUE_PARAMS if row.get(name) is not None}
            key = value_key(section["kind"], row)
            if key not in values:
                values[key] = association_values(scan, Params(asked, VALUE_PARAMS))
    data |= {"values": values, "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    html = render(data, mode="report")
    path = Path(output)
    try:
        Location(path).write_bytes(html.encode("utf-8"))
    except OSError as exc:
        raise write_error(str(path), exc, "the report", "nothing was written") from exc
    return path


def value_key(kind: str, row: dict) -> str:
    """The key under which the page's script looks up the values of ``row`` (its
    ``valueKey``: the JSON of kind, feature, omics, partner and partner omics)."""
    return json.dumps([kind, row["feature"], row.get("omics") or "", row["partner"], row.get("partner_omics") or ""],
                      ensure_ascii=False, separators=(",", ":"))
