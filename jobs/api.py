"""The Python API: ingest tables, submit a scan, query a gene.

These three functions are what ``linkscan ingest``, ``linkscan submit`` and ``linkscan
query`` do; the command line only turns its arguments into their parameters. They are
re-exported at the package root (``linkscan.ingest``, ``linkscan.submit``,
``linkscan.query``); the README shows them end to end.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from linkscan.errors import JobError

PathLike = str | os.PathLike


def ingest(
    store: PathLike,
    cohort: str,
    omics: Mapping[str, PathLike] | None = None,
    *,
    normal: Mapping[str, PathLike] | None = None,
    samples: PathLike | None = None,
    tissue_column: str | None = None,
    tissue_values: Mapping[str, str] | None = None,
    participant_column: str | None = None,
    binary: Iterable[str] = (),
    gene_maps: Mapping[str, PathLike] | None = None,
    min_samples: int = 10,
    clinical: PathLike | Sequence[PathLike] = (),
    survival: PathLike | Sequence[PathLike] = (),
    types: Mapping[str, str] | None = None,
    types_file: PathLike | Sequence[PathLike] | None = None,
    levels: Mapping[str, str | Sequence[str]] | None = None,
    unknown: Mapping[str, str | Sequence[str]] | None = None,
    endpoints: Mapping[str, tuple[str, str]] | None = None,
    rename: Mapping[str, str] | None = None,
    replace_phenotypes: bool = False,
    on_written: Callable[[object], None] | None = None,
) -> list:
    """Add a cohort's tables to the cohort store ``store`` (created when missing).

    Tables are written one at a time, each atomically, in the order omics, normals,
    phenotypes: a failing table raises there and leaves its previous version intact
    (the tables before it stay written).

    Parameters
    ----------
    store
        The cohort store: a folder, or an fsspec URL (``s3://bucket/store``).
    cohort
        The cohort's name, e.g. ``"COAD"``.
    omics
        omics name -> features x samples table of tumor samples (of both tissues with
        ``samples``): ``.cct``, ``.cbt``, ``.tsv``, ``.csv``, gzip of these, ``.parquet``.
    normal
        omics name -> table of that omics' normal samples.
    samples, tissue_column
        A sample table and its column giving each sample's tissue: splits every table
        of ``omics`` into tumor and normal.
    tissue_values
        Tissue value -> ``"tumor"``, ``"normal"`` or ``"exclude"`` (with ``samples``).
    participant_column
        A column of ``samples`` whose ids the split samples are stored under.
    binary
        Omics that hold 0/1 calls (mutations); a ``.cbt`` table is binary anyway.
    gene_maps
        omics name -> two-column table feature -> gene symbol.
    min_samples
        Refuse omics tables (each tissue) with fewer samples.
    clinical, survival
        Clinical and survival tables (one path or several).
    types, types_file, levels, unknown, endpoints, rename, replace_phenotypes
        How to read the phenotype tables: see :func:`linkscan.storage.inputs.phenotype_ingest.ingest_phenotypes`.
    on_written
        Called with each table's summary as soon as it is written (the command line
        prints them).

    Returns
    -------
    The summaries of the tables written, in order; ``str()`` of each is the line
    ``linkscan ingest`` prints.
    """
    from linkscan.storage.inputs.ingest import ingest as ingest_omics
    from linkscan.storage.inputs.phenotype_ingest import ingest_phenotypes
    from linkscan.storage.inputs.tissues import ingest_tissues

    omics, normal, gene_maps = dict(omics or {}), dict(normal or {}), dict(gene_maps or {})
    binary = set(binary)
    clinical = [clinical] if isinstance(clinical, (str, os.PathLike)) else list(clinical)
    survival = [survival] if isinstance(survival, (str, os.PathLike)) else list(survival)
    if not (omics or normal or clinical or survival):
        raise JobError("nothing to ingest: give omics tables, normal tables, clinical or survival tables")
    if bool(samples) != bool(tissue_column):
        raise JobError("samples and tissue_column go together: the sample table and its column giving each "
                       "sample's tissue")
    if samples and not omics:
        raise JobError("samples splits the omics tables into tumor and normal; give at least one omics table")
    if (tissue_values or participant_column) and not samples:
        raise JobError("tissue_values and participant_column need samples and tissue_column")
    both = sorted(set(omics) & set(normal)) if samples else []
    if both:
        raise JobError(f"omics {both[0]!r} gets normal samples from samples and from normal; use one of them")
    phenotype_options = {"types": types, "types_file": types_file, "levels": levels, "unknown": unknown,
                         "endpoints": endpoints, "rename": rename, "replace_phenotypes": replace_phenotypes}
    used = [name for name, value in phenotype_options.items() if value]
    if used and not (clinical or survival):
        raise JobError(f"{', '.join(used)} describe phenotype tables; give clinical and/or survival tables")
    strays = sorted(binary - set(omics) - set(normal))
    if strays:
        raise JobError(f"binary {strays[0]!r}: no table of that omics is given")

    written = []

    def done(summary) -> None:
        written.append(summary)
        if on_written is not None:
            on_written(summary)

    for name, table in omics.items():
        kind = "binary" if name in binary else None
        if samples:
            for summary in ingest_tissues(store, cohort, name, table, samples, tissue_column,
                                          tissue_values=tissue_values, participant_column=participant_column,
                                          gene_map=gene_maps.get(name), min_samples=min_samples, kind=kind):
                done(summary)
        else:
            done(ingest_omics(store, cohort, name, table, gene_map=gene_maps.get(name), min_samples=min_samples,
                              kind=kind))
    for name, table in normal.items():
        done(ingest_omics(store, cohort, name, table, gene_map=gene_maps.get(name), min_samples=min_samples,
                          tissue="normal", kind="binary" if name in binary else None))
    if clinical or survival:
        for summary in ingest_phenotypes(store, cohort, clinical=clinical, survival=survival, types=types,
                                         types_file=types_file, levels=levels, unknown=unknown,
                                         endpoints=endpoints, rename=rename, replace=replace_phenotypes):
            done(summary)
    return written


def submit(job, *, scheduler: str | None = None, workers: int | None = None, client=None,
           progress: bool = True):
    """Run a scan, or resume it where an earlier submission stopped.

    Parameters
    ----------
    job
        A job file's path, or a job as :func:`linkscan.read_job` returns it.
    scheduler
        A dask scheduler address (``tcp://host:8786``, ``tls://...``); default: the
        job's ``[cluster] address``, else a new LocalCluster on this machine.
    workers
        LocalCluster worker processes; default: the job's ``[cluster] n_workers``.
    client
        A connected ``distributed.Client`` to run on instead (``scheduler`` and
        ``workers`` are then ignored).
    progress
        Show progress on standard error.

    Returns
    -------
    :class:`linkscan.engine.runner.ScanReport`: tiles run and skipped, rows, pairs/s.
    """
    from linkscan.engine.runner import run_scan
    from linkscan.jobs.spec import Job, read_job

    if not isinstance(job, Job):
        job = read_job(job)
    store = job.scan.store
    if "://" not in store and not Path(store).is_dir():
        raise JobError(
            f"{job.path}: store = {store}: there is no cohort store there (a relative path is read from the job "
            f"file's folder, {job.path.resolve().parent}); fix `store`, or make the store first with "
            f"linkscan ingest {store} COHORT OMICS=TABLE"
        )
    if workers is not None and workers < 0:
        raise JobError(f"workers = {workers}: give a number of worker processes >= 1 (0 = one per core)")
    return run_scan(job.scan, client=client, address=scheduler or job.cluster.address or None,
                    n_workers=workers or job.cluster.n_workers or None,
                    threads_per_worker=job.cluster.threads_per_worker, progress=progress, tls=job.cluster.tls)


def lookups(gene: str, results: PathLike, *, kind: str | None = None, sort: str = "meta",
            top: int | None = None, **filters) -> list[tuple[str, pd.DataFrame]]:
    """(scan kind, rows) of ``gene`` in each result store at ``results``: what
    :func:`query` concatenates, one frame per scan (the command line prints one table
    each), each sorted by ``sort`` and cut to ``top`` rows. ``filters`` are
    :meth:`linkscan.ResultStore.lookup`'s."""
    from linkscan.storage.results.store import result_stores

    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise JobError(f"top = {top!r}: give a whole number >= 1")
    found = []
    for store in result_stores(results, kind):
        rows = _once(store.lookup(gene, **filters))
        found.append((store.manifest().get("kind", "trans"), _sorted(rows, sort).head(top)))
    return found


def _once(rows: pd.DataFrame) -> pd.DataFrame:
    """Each association once: a gene whose features are both sides of a pair (cis RNA
    vs protein, a phosphosite and its protein) matches the pair from both sides; the
    second row is the same association mirrored."""
    if rows.empty:
        return rows
    sides = [rows["feature"].astype(str), rows["partner"].astype(str)]
    if "omics" in rows:
        sides = [rows["omics"].astype(str) + ":" + sides[0], rows["partner_omics"].astype(str) + ":" + sides[1]]
    low = np.where(sides[0] <= sides[1], sides[0], sides[1])
    high = np.where(sides[0] <= sides[1], sides[1], sides[0])
    return rows[~pd.DataFrame({"low": low, "high": high}).duplicated().to_numpy()].reset_index(drop=True)


def _sorted(rows: pd.DataFrame, sort: str) -> pd.DataFrame:
    """``rows`` by the |slogp| of ``sort`` (``meta`` or a cohort, any case), strongest
    first, rows without a value last."""
    columns = {c.removesuffix("_slogp").lower(): c for c in rows.columns if c.endswith("_slogp")}
    column = columns.get(sort.lower())
    if column is None:
        raise JobError(f"sort = {sort!r}: sort by meta or a cohort of the scan: {', '.join(columns) or 'none'}")
    order = np.argsort(-rows[column].abs().fillna(-1).to_numpy(), kind="stable")
    return rows.iloc[order].reset_index(drop=True)


def query(gene: str, results: PathLike, *, kind: str | None = None, cohort: str | None = None,
          sort: str = "meta", top: int | None = None, min_slogp: float | None = None,
          max_fdr: float | None = None, phenotype: str | None = None) -> pd.DataFrame:
    """One gene's associations, strongest first, as a DataFrame.

    Parameters
    ----------
    gene
        A feature id or gene symbol, case-insensitive (a gene's phosphosites, and the
        gene in every omics of the scan, all match). An association whose two sides both
        match is returned once.
    results
        A result store, or a folder of them (one per scan kind, as the demo makes).
    kind
        Only the scans of this kind (``trans``, ``cis``, ``tumor_normal``, ``phenotype``).
    cohort
        Only this cohort's columns (and rows with a result in it), ranked by it.
    sort
        ``meta`` (default) or a cohort: the |slogp| that orders the rows.
    top
        The strongest ``top`` rows of the whole answer.
    min_slogp, max_fdr, phenotype
        As :meth:`linkscan.ResultStore.lookup` (``phenotype`` is its ``partner``).

    Returns
    -------
    The rows of every store; with several stores, a first column ``kind`` says which
    scan each row comes from.
    """
    found = lookups(gene, results, kind=kind, sort=cohort or sort, top=top, cohort=cohort,
                    min_slogp=min_slogp, max_fdr=max_fdr, partner=phenotype)
    if len(found) == 1:
        return found[0][1]
    rows = pd.concat([frame.assign(kind=name) for name, frame in found], ignore_index=True)
    rows = _sorted(rows, cohort or sort).head(top)
    return rows[["kind", *[c for c in rows.columns if c != "kind"]]]
