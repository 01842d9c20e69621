"""The gene page: one gene's associations of every scan, as the knowledge base shows
them, shared by the service (``/gene/GENE``) and the offline report (``linkscan
report``).

:func:`page_data` gathers what the page shows from a :class:`~linkscan.jobs.web.catalog.Catalog`,
one section per scan that holds the gene, in the order of
:data:`~linkscan.jobs.web.catalog.KINDS`:

``tumor-normal``
    tumor vs normal: signed p per cohort and the meta p of each of the gene's features;
    box plots of its tumor and normal values per cohort (outliers marked).
``phenotypes``
    phenotypes and mutations: a row per phenotype (meta and cohorts), a Manhattan-style
    plot of every phenotype association in every cohort, the values of a row by group
    (or against a continuous phenotype, or survival time).
``cis``
    the gene's other omics: rho per cohort, the scatter plot of a pair.
``trans``
    partners: a table sorted by the meta p or any cohort and paged, a heatmap of the
    strongest partners across cohorts, the scatter plot of a pair in a cohort.
``enrichment``
    gene set enrichment of the partners, when a table of it is given
    (:func:`enrichment_section`).

:func:`render` turns the data into the HTML document: the template ``static/page.html``
with the data as JSON, which ``static/page.js`` draws (tables, and plotly for plots).
The service links the scripts (``/static/...``) and fetches further pages and
per-sample values from the JSON endpoints; the report inlines plotly, the script and
the style, and carries the values of what it shows, so that it needs no network.
"""

from __future__ import annotations

import json
from importlib import resources
from string import Template

import pandas as pd

from linkscan.jobs.web.catalog import Catalog, records, table

#: Section id, title, what the table's cohort cells show, and the heading of its
#: partner column, by scan kind.
SECTIONS = {
    "tumor_normal": ("tumor-normal", "Tumor vs normal", "p", "Feature"),
    "phenotype": ("phenotypes", "Phenotypes and mutations", "p", "Phenotype"),
    "cis": ("cis", "Cis: the gene's other omics", "stat", "Partner"),
    "trans": ("trans", "Trans: partners", "p", "Gene"),
}
#: Rows per page of the trans table.
PAGE_SIZE = 10
#: Partners in the trans heatmap.
HEATMAP_ROWS = 25
#: The columns an enrichment table must have (those of ``linkscan.jobs.enrichment``'s
#: preranked table: set, size, ES, NES, p, q, leading edge).
ENRICHMENT_COLUMNS = ("set", "size", "es", "nes", "pvalue", "qvalue", "leading_edge")
#: The static files: the template, the page's script and style.
STATIC = resources.files("linkscan.jobs.web") / "static"


def page_data(catalog: Catalog, gene: str, *, trans_rows: int | None = None,
              enrichment: pd.DataFrame | str | None = None) -> dict:
    """What the gene page of ``gene`` shows (see the module docstring).

    Parameters
    ----------
    catalog
        The scans.
    gene
        A feature id, gene symbol or phenotype, as :func:`linkscan.query` takes it.
    trans_rows
        The trans section's rows: None for the first page (the service fetches the
        others), a number for the strongest that many by the meta p (the report sorts
        and pages within them).
    enrichment
        A gene set enrichment table (:func:`enrichment_section`); a sentence saying why
        there is none (:func:`gene_enrichment`), shown in its place; or None for no such
        section.

    Returns
    -------
    ``gene``, ``results`` (the folder), ``features`` (the features the name matches,
    each with its omics), ``cohorts`` (of every scan shown) and ``sections``: a list of
    dicts with ``id``, ``kind``, ``title``, ``partner_heading``, ``cohorts``,
    ``total``, ``rows`` (records of :func:`linkscan.query`) and ``table`` (the
    knowledge base's layout of the rows); the trans section adds ``page_size``,
    ``sort``, ``complete`` (whether further pages come from the service) and
    ``heatmap`` (records of its strongest partners).

    Raises
    ------
    WebError
        404: no scan holds ``gene`` (with close matches).
    """
    matched = catalog.matches(gene)
    if not matched:
        raise catalog.unknown_gene(gene)
    sections, cohorts, features = [], [], {}
    for kind, rows in matched.items():
        if kind not in SECTIONS:  # a scan kind this page does not know how to show
            continue
        for row in rows[["feature", "gene", "omics"]].to_dict("records"):
            features.setdefault((row["omics"], row["feature"]), row)
        scan = catalog.scan(kind)
        found = catalog.lookup(scan, gene)
        section_id, title, show, partner = SECTIONS[kind]
        shown = found
        section = {"id": section_id, "kind": kind, "title": title, "cohorts": scan.cohorts, "total": len(found),
                   "partner_heading": partner}
        if kind == "trans":
            shown = found.head(PAGE_SIZE if trans_rows is None else trans_rows)
            section |= {"page_size": PAGE_SIZE, "sort": "meta", "complete": trans_rows is None,
                        "heatmap": records(found.head(HEATMAP_ROWS))}
        section |= {"rows": records(shown), "table": table(shown, show)}
        if kind == "tumor_normal":
            _name_features(section)
        sections.append(section)
        cohorts += [c for c in scan.cohorts if c not in cohorts]
    if isinstance(enrichment, str):  # gene sets were given, but there is no enrichment: say why
        sections.append({"id": "enrichment", "kind": "enrichment", "title": "Gene set enrichment", "total": 0,
                         "columns": [], "data": [], "note": enrichment})
    elif enrichment is not None:
        sections.append(enrichment_section(enrichment))
    return {"gene": gene, "results": catalog.results, "features": list(features.values()), "cohorts": cohorts,
            "sections": sections}


def _name_features(section: dict) -> None:
    """Tumor vs normal: every row's partner is the contrast itself, so its table names
    the row's feature (and omics) there instead, or drops it when a feature column
    (several features) names them already."""
    laid = section["table"]
    if "partner" not in laid["columns"]:
        return
    at = laid["columns"].index("partner")
    if "feature" in laid["columns"]:
        del laid["columns"][at]
        for cells in laid["data"]:
            del cells[at]
        return
    for row, cells in zip(section["rows"], laid["data"]):
        cells[at] = f"{row['feature']} ({row['omics']})" if row.get("omics") else row["feature"]


def gene_enrichment(gene: str, results, gene_sets) -> pd.DataFrame | str:
    """Preranked GSEA of ``gene``'s trans partners over ``gene_sets`` (as
    ``linkscan gsea`` with its defaults), or, when there is none, why (no trans scan
    holds the gene, no set has enough genes in its ranking, ...): the page shows that
    sentence in the enrichment section that was asked for, instead of leaving it out."""
    from linkscan.errors import LinkscanError
    from linkscan.jobs.enrichment import gsea

    try:
        return gsea(gene, results, gene_sets)
    except LinkscanError as exc:
        return f"No enrichment for {gene}: {exc}"


def enrichment_section(enrichment: pd.DataFrame) -> dict:
    """The page's section of a preranked GSEA table (:func:`gene_enrichment`).

    ``linkscan.jobs.enrichment`` computes the table (one row per gene set); pass it as
    ``page_data(..., enrichment=table)`` and the page shows it as its last section: the
    sets in the table's order, and a bar plot of their NES.

    Parameters
    ----------
    enrichment
        Columns :data:`ENRICHMENT_COLUMNS` (``set``, ``size``, ``es``, ``nes``,
        ``pvalue``, ``qvalue``, ``leading_edge`` with the genes joined by ``;``); other
        columns are ignored.

    Returns
    -------
    The section (``id`` ``enrichment``): ``columns`` and ``data``, one list per set.

    Raises
    ------
    ValueError
        A column is missing.
    """
    missing = [c for c in ENRICHMENT_COLUMNS if c not in enrichment.columns]
    if missing:
        raise ValueError(f"the enrichment table lacks the columns {', '.join(missing)}; it needs "
                         f"{', '.join(ENRICHMENT_COLUMNS)}")
    shown = enrichment[list(ENRICHMENT_COLUMNS)]
    return {"id": "enrichment", "kind": "enrichment", "title": "Gene set enrichment", "total": len(shown),
            "columns": list(ENRICHMENT_COLUMNS), "data": [list(r.values()) for r in records(shown)]}


def render(data: dict, *, mode: str, title: str | None = None) -> str:
    """The HTML document of ``data`` (:func:`page_data`, or ``{}`` for the start page).

    Parameters
    ----------
    data
        What the page shows; in ``report`` mode with ``values``, the per-sample values
        answers that its plots read, by the key the script asks them with.
    mode
        ``service``: the script, style and plotly are linked from ``/static/``, and the
        script fetches pages and values from the JSON endpoints. ``report``: all three
        are inlined, and a Content-Security-Policy lets the page make no request at all.
    title
        The document's title (default: the gene's).
    """
    if mode not in ("service", "report"):
        raise ValueError(f"mode = {mode!r}: use service or report")
    gene = data.get("gene")
    if mode == "service":
        head = ('<link rel="stylesheet" href="/static/page.css">\n'
                '<script src="/static/plotly.min.js"></script>\n<script src="/static/page.js" defer></script>')
    else:
        head = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
                "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:\">\n"
                f"<style>\n{static('page.css')}</style>\n"
                f"<script>{_script(plotly_js())}</script>\n<script>{_script(static('page.js'))}</script>")
    template = Template(static("page.html"))
    return template.substitute(
        title=_html(title or (f"{gene} - linkscan" if gene else "linkscan")), head=head,
        data=_json({"mode": mode, **data}))


def static(name: str) -> str:
    """The text of the static file ``name`` (``page.html``, ``page.js``, ``page.css``)."""
    return (STATIC / name).read_text(encoding="utf-8")


def plotly_js() -> str:
    """plotly.js as the ``plotly`` Python package ships it (``linkscan[serve]``)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _json(data: dict) -> str:
    """``data`` as JSON that an HTML parser reads as text inside a ``<script>``
    element: every ``<``, ``>`` and ``&`` (only strings hold them) as a ``\\u`` escape,
    so that no name in the data can end the element or open markup."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _script(text: str) -> str:
    """``text`` safe inside a ``<script>`` element: it cannot close the element (nor
    open a comment that would hide its end); JSON and JavaScript read ``<\\/`` as ``</``."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _html(text: str) -> str:
    from html import escape

    return escape(text, quote=True)
