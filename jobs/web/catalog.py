"""The scans a service or a report reads: the result stores of a folder, one per kind,
and the lookups the JSON endpoints answer.

:class:`Catalog` is built once per service. It answers in plain data (dicts of lists,
numbers and strings, ready for JSON): the scans (:meth:`Catalog.scans_info`), gene names
by prefix (:meth:`Catalog.genes`) and one gene's associations of a kind, sorted,
filtered and paged (:meth:`Catalog.associations`). The rows of an answer are those of
:func:`linkscan.jobs.api.query` for the same parameters, from ``offset`` on: the service
is that lookup over HTTP. Parameters it cannot answer raise
:class:`~linkscan.jobs.web.params.WebError` naming the parameter.

Per scan the catalog keeps the feature table (what a name may match: the gene box, the
page's sections, the omics of a feature whose values are plotted), read again whenever
the scan's ``complete.json`` changes, as the lookups' own cache is.
"""

from __future__ import annotations

import bisect
import difflib
import os
import threading
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from linkscan.errors import LinkscanError, ResultsError
from linkscan.jobs.api import lookups
from linkscan.jobs.tables import SHOW, cohorts_of, kb_table
from linkscan.jobs.web.params import MAX_LIMIT, Params, WebError, short
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.storage.results.store import ResultStore, result_stores

#: The scan kinds in the order a gene page shows them.
KINDS = ("tumor_normal", "phenotype", "cis", "trans")
#: Rows per answer unless ``limit`` says otherwise.
DEFAULT_LIMIT = 10
#: Lookups of remote (object store) scans that run at once (:meth:`Catalog.lookup`).
REMOTE_LOOKUPS = 8
#: The parameters of :meth:`Catalog.associations` (the endpoint ``/api/associations``).
ASSOCIATION_PARAMS = ("gene", "kind", "sort", "offset", "limit", "min_slogp", "max_fdr", "phenotype", "show")


@dataclass(frozen=True)
class Names:
    """What the names of one finished scan match, read from its feature table."""

    completion: bytes
    features: pd.DataFrame = field(repr=False)  # code, feature, gene, omics

    @cached_property
    def lowered(self) -> dict[str, np.ndarray]:
        """Lower-case feature id or gene symbol -> rows of :attr:`features` it names,
        as the store's lookup matches names."""
        names = pd.concat([self.features["feature"], self.features["gene"]], ignore_index=True).str.lower()
        rows = np.concatenate([np.arange(len(self.features))] * 2)
        keep = names.to_numpy() != ""
        return {name: np.unique(group) for name, group in pd.Series(rows[keep]).groupby(names[keep].to_numpy())}

    @cached_property
    def spelled(self) -> dict[str, str]:
        """Lower-case name -> the name as the scan spells it."""
        names = pd.concat([self.features["feature"], self.features["gene"]], ignore_index=True)
        return {name.lower(): name for name in names[names != ""].drop_duplicates()}

    @cached_property
    def genes(self) -> list[str]:
        """The gene symbols of the scan's features (phenotypes and other partners have
        none)."""
        genes = self.features["gene"]
        return sorted(set(genes[genes != ""]))

    def rows(self, name: str) -> pd.DataFrame:
        """The features named ``name`` (id or gene, any case); empty when none is."""
        return self.features.iloc[self.lowered.get(name.strip().lower(), [])]


@dataclass
class Scan:
    """One finished (or running) scan of the folder: its result store and manifest, and
    the cohort store it was scanned from (``--store`` overrides the manifest's)."""

    name: str
    store: ResultStore
    manifest: dict
    cohort_store: CohortStore
    _names: Names | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def kind(self) -> str:
        return self.manifest.get("kind", "trans")

    @property
    def cohorts(self) -> list[str]:
        return list(self.manifest["cohorts"])

    def names(self) -> Names:
        """The scan's names, read again when its ``complete.json`` changed.

        Raises
        ------
        WebError
            503: the scan is not complete (the message says how far it is).
        """
        try:
            completion = self.store.completion()
        except ResultsError as exc:
            raise WebError(str(exc), "kind", 503) from None
        with self._lock:  # one read of the feature table when several requests find it stale
            if self._names is None or self._names.completion != completion:
                self._names = Names(completion, self.store.features())
            return self._names


class Catalog:
    """The scans of ``results`` and what the service answers of them.

    Parameters
    ----------
    results
        A result store, or a folder of them (``linkscan demo``'s ``results/``): at most
        one scan of each kind.
    store
        The cohort store to read per-sample values from; default: the one each scan's
        manifest names (the ``store`` of its job).

    Raises
    ------
    ResultsError
        ``results`` holds no result store, or two scans of one kind.
    """

    def __init__(self, results: str | os.PathLike, store: str | os.PathLike | None = None) -> None:
        self.results = str(results)
        self.scans: dict[str, Scan] = {}
        for found in result_stores(results):
            manifest = found.manifest()
            kind = manifest.get("kind", "trans")
            if kind in self.scans:
                raise ResultsError(f"{results} holds two {kind} scans ({self.scans[kind].store.root} and "
                                   f"{found.root}); serve a folder with one scan of each kind, or one store")
            cohort_store = CohortStore(store if store is not None else manifest["scan"]["store"])
            self.scans[kind] = Scan(os.path.basename(found.root.rstrip("/")), found, manifest, cohort_store)
        self._genes: tuple[tuple[bytes, ...], list[str], list[str]] | None = None
        self._local_gate = threading.Lock()
        self._remote_gate = threading.Semaphore(REMOTE_LOOKUPS)

    @property
    def kinds(self) -> list[str]:
        """The kinds of the scans held, in the order of a gene page."""
        return sorted(self.scans, key=lambda k: (KINDS.index(k) if k in KINDS else len(KINDS), k))

    def scan(self, kind: str) -> Scan:
        """The scan of ``kind``; a 404 WebError naming the kinds held if there is none."""
        if kind not in self.scans:
            raise WebError(f"kind = {short(kind)!r}: no scan of that kind here; the scans are "
                           f"{', '.join(self.kinds)}", "kind", 404)
        return self.scans[kind]

    def scans_info(self) -> list[dict]:
        """What ``/api/scans`` answers: each scan's kind, folder name, cohorts, omics,
        whether it is complete, its rows and entities, and its cohort store."""
        out = []
        for kind in self.kinds:
            scan = self.scans[kind]
            summary = scan.store.summary() if scan.store.is_complete() else {}
            out.append({"kind": kind, "name": scan.name, "cohorts": scan.cohorts,
                        "omics": scan.manifest["scan"].get("omics", ""),
                        "omics_y": scan.manifest["scan"].get("omics_y", ""),
                        "complete": bool(summary), "rows": summary.get("rows"),
                        "entities": scan.manifest.get("n_features"), "store": scan.cohort_store.root})
        return out

    def genes(self, prefix: str = "", limit: int = 20) -> dict:
        """What ``/api/genes`` answers: the gene symbols of every complete scan that start
        with ``prefix`` (any case), in alphabetical order, the first ``limit`` of them,
        and how many there are."""
        names = [self.scans[k].names() for k in self.kinds if self.scans[k].store.is_complete()]
        key = tuple(n.completion for n in names)
        if self._genes is None or self._genes[0] != key:
            genes = sorted(set().union(*(n.genes for n in names)), key=lambda g: (g.lower(), g))
            self._genes = (key, genes, [g.lower() for g in genes])
        _, genes, lowered = self._genes
        start = bisect.bisect_left(lowered, prefix.lower())
        # every name with the prefix sorts before the prefix followed by the last character
        stop = bisect.bisect_left(lowered, prefix.lower() + "\U0010ffff")
        return {"prefix": prefix, "total": stop - start, "genes": genes[start:min(stop, start + limit)]}

    def matches(self, gene: str) -> dict[str, pd.DataFrame]:
        """Kind -> the features of that complete scan that ``gene`` names (scans where it
        names none are left out)."""
        found = {}
        for kind in self.kinds:
            if self.scans[kind].store.is_complete():
                rows = self.scans[kind].names().rows(gene)
                if not rows.empty:
                    found[kind] = rows
        return found

    def unknown_gene(self, gene: str) -> WebError:
        """The 404 of a name that no complete scan holds, with close matches."""
        spelled = {}
        for kind in self.kinds:
            if self.scans[kind].store.is_complete():
                spelled |= self.scans[kind].names().spelled
        close = difflib.get_close_matches(gene.lower(), sorted(spelled), n=5, cutoff=0.6)
        hint = f"; close matches: {', '.join(spelled[c] for c in close)}" if close else ""
        return WebError(f"gene = {short(gene)!r}: no feature, gene or phenotype of that name in these scans{hint}",
                        "gene", 404)

    def associations(self, params: Params) -> dict:
        """What ``/api/associations`` answers (parameters :data:`ASSOCIATION_PARAMS`).

        Parameters
        ----------
        params
            ``gene`` (required) and ``kind`` (required when more than one scan is held);
            ``sort`` (``meta`` or a cohort, default meta), ``offset`` (>= 0, default 0),
            ``limit`` (1 to :data:`MAX_LIMIT`, default :data:`DEFAULT_LIMIT`),
            ``min_slogp``, ``max_fdr``, ``phenotype`` (the filters of
            :func:`linkscan.query`); ``show`` (one of
            :data:`linkscan.jobs.tables.SHOW`) adds the rows laid out as the knowledge
            base's table.

        Returns
        -------
        ``gene``, ``kind``, ``sort``, ``offset``, ``limit``, ``total`` (rows that pass
        the filters), ``cohorts``, ``rows`` (rows ``offset`` to ``offset + limit`` of
        :func:`linkscan.query`'s answer, as records: NaN and NA as null), and with
        ``show``, ``table`` (:func:`table`).
        """
        gene = params.required("gene")
        kind = params.text("kind") if len(self.scans) > 1 else params.text("kind", self.kinds[0])
        if kind is None:
            raise WebError(f"kind is missing; give one of {', '.join(self.kinds)}", "kind")
        scan = self.scan(kind)
        sort = params.choice("sort", ["meta", *scan.cohorts], "meta")
        offset = params.whole("offset", 0, low=0)
        limit = params.whole("limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        filters = {"min_slogp": params.slogp("min_slogp"), "max_fdr": params.fraction("max_fdr"),
                   "partner": params.text("phenotype")}
        show = params.choice("show", SHOW, "") or None
        names = scan.names()
        if names.rows(gene).empty:
            holding = self.matches(gene)
            if holding:
                raise WebError(f"gene = {short(gene)!r} is not in the {kind} scan; the scans holding it are "
                               f"{', '.join(holding)}", "gene", 404)
            raise self.unknown_gene(gene)
        partner = filters["partner"]
        if partner is not None and partner.lower() not in set(names.features["feature"].str.lower()):
            raise WebError(f"phenotype = {short(partner)!r} is no partner of the {kind} scan", "phenotype", 404)
        rows = self.lookup(scan, gene, sort, **filters)
        page = rows.iloc[offset:offset + limit]
        answer = {"gene": gene, "kind": kind, "sort": sort, "offset": offset, "limit": limit, "total": len(rows),
                  "cohorts": scan.cohorts, "rows": records(page)}
        if show:
            answer["table"] = table(page, show)
        return answer

    def lookup(self, scan: Scan, gene: str, sort: str = "meta", **filters) -> pd.DataFrame:
        """``gene``'s rows in ``scan`` as :func:`linkscan.query` returns them; a store
        that cannot be read (damaged, re-run meanwhile) is a 503 WebError.

        Lookups of local stores run one at a time: they are CPU-bound Python, which
        threads run in turns under the GIL anyway, and turns taken by 8 threads at once
        cost more than a queue (8 concurrent clients on 2 cores: 38 rather than 22
        answers/s, benchmarks/RESULTS.md). A remote store's lookups wait on the network,
        so several run at once."""
        gate = self._local_gate if scan.store.path.local else self._remote_gate
        try:
            with gate:
                ((_, rows),) = lookups(gene, scan.store.root, sort=sort, **filters)
        except LinkscanError as exc:
            raise WebError(f"the {scan.kind} scan could not be read: {exc}", None, 503) from None
        return rows


def records(rows: pd.DataFrame) -> list[dict]:
    """``rows`` as JSON records: numbers as Python floats and ints (a float32 as the
    float64 it is exactly), categories and ids as text, NaN and NA as None."""
    names = list(rows.columns)
    columns = [[_plain(value) for value in rows[name].tolist()] for name in names]
    return [dict(zip(names, values)) for values in zip(*columns)]


def _plain(value):
    """A cell of ``Series.tolist`` (already a Python scalar, or NA) as JSON takes it."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value if isinstance(value, (int, float, str)) else str(value)


def table(rows: pd.DataFrame, show: str) -> dict:
    """``rows`` laid out as the knowledge base's table
    (:func:`linkscan.jobs.tables.kb_table`): ``show``, ``columns`` and ``data`` (one list
    per row, null where a cohort has no result), and ``cohorts``, the columns that are
    cohorts."""
    if rows.empty:
        return {"show": show, "columns": [], "data": [], "cohorts": []}
    laid = kb_table(rows, show)
    return {"show": show, "columns": list(laid.columns), "cohorts": cohorts_of(rows),
            "data": [list(r.values()) for r in records(laid)]}
