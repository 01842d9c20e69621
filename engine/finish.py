"""The finish of a scan: Benjamini-Hochberg q-values over the whole scan, then the
finished shards.

When every tile is in the ledger, :func:`finish` runs two rounds of tasks on the dask
client. First one task per p column (each cohort's ``<COHORT>_slogp`` and
``meta_slogp``): :func:`bh_table_of` reads every p of the column from the tiles' parts
and saves the BH q of each distinct p in the result store. Then one task per shard:
:func:`finish_shard` reads the shard's parts, attaches their q columns from those
tables, writes the finished shard and returns its checksums. Last, the store is marked
complete: ``complete.json`` records every shard's checksums, which lookups check. The
result store only reads and writes (:mod:`linkscan.storage.results`); the q-values are computed
here, with the kernels of :mod:`linkscan.kernels.multitest`.
"""

from __future__ import annotations

import numpy as np

from linkscan.engine.plan import Plan
from linkscan.engine.progress import Progress
from linkscan.storage.results.schema import Q_SUFFIX
from linkscan.storage.results.shards import shard_name


#: The p histograms of complete.json: counts of floor(-log10 p), the last bin open.
HISTOGRAM_BINS = 51


def bh_table_of(results, column: str, entries: list[dict]) -> tuple[int, list[int]]:
    """Benjamini-Hochberg over every p of ``column`` in the scan at once (STATS.md): the
    q of each distinct stored p, saved for the shards. Returns the column's tests m and
    their distribution (counts of floor(-log10 p): 0, 1, ..., 50 and more), which a
    store keeps whatever rows it keeps.
    One task per column: a column of a 10-cohort x 10,000-protein scan is 50 million
    p-values (200 MB); the table is built in place (:func:`~linkscan.kernels.multitest.bh_log10_table`),
    so a task holds about 11 bytes a test of its column (:data:`linkscan.engine.bench.BH_BYTES_PER_TEST`)."""
    from linkscan.kernels.multitest import BH_STEP, bh_log10_table

    x = results.p_values([column], entries)[column]  # -log10 p as stored, each test once
    m = x.size
    histogram = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
    for start in range(0, m, BH_STEP):  # p = 0 is the float32 max: the last bin
        histogram += np.bincount(np.minimum(x[start:start + BH_STEP], HISTOGRAM_BINS - 1).astype(np.int64),
                                 minlength=HISTOGRAM_BINS)
    values, log10q = bh_log10_table(x)  # x is sorted and overwritten
    results.save_q_table(column, values, log10q)
    return m, histogram.tolist()


def finish(plan: Plan, client, done: dict[str, dict], progress: bool = True) -> int:
    """BH over the whole scan, then compact every shard's parts into one sorted file with
    its q columns, and mark the store complete with every shard's checksums. Returns the
    rows of the finished store. ``progress`` shows a bar for each of the two rounds."""
    results = plan.context.results
    entries = [done[tile.key] for tile in plan.tiles]
    columns = [f"{c}_slogp" for c in plan.context.cohorts] + ["meta_slogp"]
    futures = [client.submit(bh_table_of, results, column, entries, pure=False) for column in columns]
    counted = dict(zip(columns, _gathered(client, futures, "BH q-values", "columns", progress)))
    n_shards = plan.manifest["n_shards"]
    keep = plan.spec.keep
    futures = [
        client.submit(finish_shard, results, shard,
                      [e for e in entries if str(shard) in e["parts"]], keep, pure=False)
        for shard in range(n_shards)
    ]
    records = _gathered(client, futures, "shards", "shards", progress)
    rows = sum(record["rows"] for record in records)
    results.mark_complete({
        "rows": rows, "rows_computed": sum(record.get("rows_computed", record["rows"]) for record in records),
        "keep": keep.text, "tiles": len(entries), "shards": n_shards,
        "tests": {column: m for column, (m, _) in counted.items()},
        "p_histograms": {column: histogram for column, (_, histogram) in counted.items()},
        "shard_files": {shard_name(shard): record for shard, record in enumerate(records)}})
    if plan.context.previous is not None:  # a cohort change: the previous scan is replaced now
        results.end_cohort_change(n_shards)
    return rows


def _gathered(client, futures: list, label: str, unit: str, progress: bool) -> list:
    """The results of ``futures``, in their order, with a progress bar as they finish."""
    from distributed import as_completed

    bar = Progress(len(futures), enabled=progress, label=label, unit=unit)
    try:
        for _ in as_completed(futures, loop=client.loop):
            bar.update(1)
    finally:
        bar.close()
    return client.gather(futures)


def finish_shard(results, shard: int, entries: list[dict], keep=None) -> dict:
    """Compact ``shard``: the rows of its parts (from the ledger ``entries`` that have
    one, checked by the store), with the q column of each p column from the saved BH
    tables, those the ``keep`` policy keeps (:mod:`linkscan.engine.keep`; default all),
    written as the finished ``shards/<shard>.parquet``. Returns its record for
    complete.json: rows, size and checksums
    (:meth:`~linkscan.storage.results.shards.Shards.write_shard`), and the rows
    computed before ``keep``."""
    frame = results.read_parts(shard, entries)
    for column in [c for c in frame.columns if c.endswith("_slogp")]:
        values, log10q = results.q_table(column)
        frame[column.removesuffix("_slogp") + "_" + Q_SUFFIX[0]] = _q_of(
            np.abs(frame[column].to_numpy(dtype=np.float32)), values, log10q)
    computed = len(frame)
    if keep is not None and keep.policy != "all":
        frame = frame[keep.mask(frame)]
    return dict(results.write_shard(shard, frame), rows_computed=computed)


def _q_of(p: np.ndarray, values: np.ndarray, log10q: np.ndarray) -> np.ndarray:
    """The q of each ``p`` (|slogp|, float32 >= 0; NaN for none) from a column's BH
    table: ``values`` ascending and holding every stored p exactly. The needles are
    sorted (a radix sort) and merged with the table in one pass (:func:`linkscan.kernels.multitest.merge_positions`),
    linear in both, so it stays cheap however large the scan's table: a hash index of
    tens of millions of values would cost more to build, per shard, than its lookups.
    The q are read from the table in that sorted order too (its positions ascend, so the
    reads stream through a table of hundreds of MB) and only then put in row order."""
    from linkscan.kernels.multitest import argsort_nonnegative_f32, merge_positions

    p = np.ascontiguousarray(p, dtype=np.float32)
    order = argsort_nonnegative_f32(p)
    at = merge_positions(values, p[order])  # ascending, -1 (not in the table: NaN) last
    q = np.empty(len(p), dtype=np.float32)
    q[order] = np.where(at >= 0, log10q[np.maximum(at, 0)], np.float32(np.nan))
    return q
