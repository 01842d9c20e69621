"""The tile task: two feature blocks, every cohort, one result part per shard.

Runs on a Dask worker. Memory is bounded by the tile: for ``k`` cohorts and blocks of
``T`` features it holds ``k * T * T`` results (about 20 bytes each) plus the rows it
writes, whatever the size of the cohorts.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pandas as pd

from engine.plan import ScanContext, Tile
from storage.cohort_store import CohortStore


@functools.lru_cache(maxsize=64)
def _values_array(store: str, cohort: str, omics: str, token: str):
    """The cohort's zarr ``values`` array, opened once per worker and input version."""
    import zarr

    return zarr.open_array(CohortStore(store).values_path(cohort, omics), mode="r")


def _rows(ctx: ScanContext, c: int, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions within ``codes`` that cohort ``c`` has, and their values (one slice)."""
    local = ctx.local_index[c][codes]
    present = np.flatnonzero(local >= 0)
    if present.size == 0:
        return present, np.empty((0, 0), dtype=np.float32)
    array = _values_array(ctx.store, ctx.cohorts[c], ctx.omics, ctx.tokens[c])
    values = np.asarray(array[local[present[0]]: local[present[-1]] + 1])
    return present, values


def compute_tile(ctx: ScanContext, tile: Tile) -> dict[str, np.ndarray]:
    """Per-cohort results and the meta p for every pair of a tile's two blocks.

    Returns arrays shaped ``(k, ni, nj)`` (``stat`` float32, ``n`` int16, ``slogp``
    float64, NaN / 0 where a cohort has no result; ``floored`` bool, p floored at 2.2e-16
    in mode r) and ``meta`` float64 /
    ``n_cohorts`` int8 shaped ``(ni, nj)``.
    """
    from kernels.meta import stouffer
    from kernels.pvalues import signed_log10p
    from kernels.spearman import LOG_P_FLOOR, spearman_block

    gi, gj = ctx.block(tile.i), ctx.block(tile.j)
    k, ni, nj = len(ctx.cohorts), len(gi), len(gj)
    stat = np.full((k, ni, nj), np.nan, dtype=np.float32)
    n = np.zeros((k, ni, nj), dtype=np.int16)
    slogp = np.full((k, ni, nj), np.nan)
    floored = np.zeros((k, ni, nj), dtype=bool)
    for c in range(k):
        pi, xi = _rows(ctx, c, gi)
        if tile.i == tile.j:
            pj, xj = pi, None
        else:
            pj, xj = _rows(ctx, c, gj)
        if pi.size == 0 or pj.size == 0:
            continue
        rho, nn, logp = spearman_block(xi, xj, min_n=ctx.min_n, p_mode=ctx.p_mode)
        where = np.ix_(pi, pj)
        stat[c][where] = rho
        n[c][where] = nn
        slogp[c][where] = signed_log10p(rho, logp)
        floored[c][where] = logp == LOG_P_FLOOR  # only mode r floors
    meta, n_cohorts = stouffer(slogp.reshape(k, -1).T, min_cohorts=ctx.min_cohorts)
    return {
        "stat": stat, "n": n, "slogp": slogp, "floored": floored,
        "meta": meta.reshape(ni, nj), "n_cohorts": n_cohorts.reshape(ni, nj).astype(np.int8),
    }


def tile_rows(ctx: ScanContext, tile: Tile, result: dict[str, np.ndarray]) -> pd.DataFrame:
    """The tile's result rows in both directions: (a, b) for each query feature a of
    block i and partner b of block j, and (b, a); a diagonal tile leaves out a == b.
    Only pairs with a result in at least one cohort are kept."""
    gi, gj = ctx.block(tile.i), ctx.block(tile.j)
    directions = [(gi, gj, lambda a: a)]
    if tile.i != tile.j:
        directions.append((gj, gi, lambda a: np.swapaxes(a, -1, -2)))
    frames = []
    for rows_codes, cols_codes, orient in directions:
        n_cohorts = orient(result["n_cohorts"])
        keep = n_cohorts > 0
        if tile.i == tile.j:
            np.fill_diagonal(keep, False)
        a, b = np.nonzero(keep)
        columns = {"feature": rows_codes[a].astype(np.int32), "partner": cols_codes[b].astype(np.int32)}
        stat, n, slogp, floored = (orient(result[name]) for name in ("stat", "n", "slogp", "floored"))
        for c, cohort in enumerate(ctx.cohorts):
            counts = n[c][a, b]
            columns[f"{cohort}_stat"] = stat[c][a, b]
            columns[f"{cohort}_n"] = pd.arrays.IntegerArray(counts, counts == 0)
            columns[f"{cohort}_slogp"] = slogp[c][a, b].astype(np.float32)
            if ctx.p_mode == "r":
                columns[f"{cohort}_floored"] = floored[c][a, b]
        columns["meta_slogp"] = orient(result["meta"])[a, b].astype(np.float32)
        columns["n_cohorts"] = n_cohorts[a, b]
        frames.append(pd.DataFrame(columns))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return frame


def run_tile(ctx: ScanContext, tile: Tile) -> dict:
    """Compute a tile and commit it to the result store. Returns its ledger entry plus
    ``seconds``. Idempotent: running a tile twice writes the same bytes."""
    start = time.perf_counter()
    frame = tile_rows(ctx, tile, compute_tile(ctx, tile))
    shards = frame["feature"].to_numpy() // ctx.shard_size
    frames = {int(s): frame[shards == s] for s in np.unique(shards)}
    entry = ctx.results.write_tile(tile.key, frames)
    return {**entry, "seconds": time.perf_counter() - start}
