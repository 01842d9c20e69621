"""The tile task: feature blocks, every cohort, one result part per shard.

Runs on a Dask worker. A tile computes a list of pairs (a query-side feature and a
partner) for every cohort, then the meta p of each pair, then writes each pair as two
rows (one per entity, so that a lookup of either finds it). Memory is bounded by the
tile: for ``k`` cohorts and blocks of ``T`` features it holds ``k * T * T`` results
(about 20 bytes each) plus the rows it writes, whatever the size of the cohorts.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pandas as pd

from linkscan.engine.plan import ScanContext, Side, Tile, once_mask, two_groups
from linkscan.storage.inputs.cohort_store import CohortStore, PinnedValues
from linkscan.storage.results.schema import TESTS


def _rows(ctx: ScanContext, side: Side, c: int, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``positions`` (within ``side``) cohort ``c`` has, and their values (one slice)."""
    local = side.local_index[c][positions]
    present = np.flatnonzero(local >= 0)
    if present.size == 0:
        return present, np.empty((0, 0), dtype=np.float32)
    array = _values_array(ctx.store, ctx.cohorts[c], side.omics, side.versions[c], side.tissue)
    lo, hi = local[present[0]], local[present[-1]] + 1
    values = array.rows(lo, hi)
    if hi - lo != present.size:  # rows between them that are not in the scan (normal-only features)
        values = values[local[present] - lo]
    if side.columns is not None:  # the samples the job's filters keep
        values = values[:, side.columns[c]]
    return present, values


@functools.lru_cache(maxsize=64)
def _values_array(store: str, cohort: str, omics: str, version: str, tissue: str = "tumor") -> PinnedValues:
    """The cohort's ``values`` of the version the scan was planned with, opened once per
    worker and version. Every read is checked afterwards (PinnedValues), so a re-ingest
    that removes the version, even after it was opened here, fails the read with an
    InputError naming the cohort instead of giving NaN."""
    return CohortStore(store).pinned_values(cohort, omics, version, tissue)


class _Results:
    """Per-cohort results of a tile's ``P`` pairs, filled cohort by cohort."""

    def __init__(self, k: int, feature: np.ndarray, partner: np.ndarray, test):
        p = len(feature)
        self.feature, self.partner = feature.astype(np.int32), partner.astype(np.int32)
        self.test = np.broadcast_to(np.asarray([TESTS.index(t) for t in np.atleast_1d(test)], np.int8), (p,))
        self.stat = np.full((k, p), np.nan, dtype=np.float32)
        self.n = np.zeros((k, p), dtype=np.int16)
        self.nx = np.zeros((k, p), dtype=np.int16)  # two-group tests: samples of the x group
        self.slogp = np.full((k, p), np.nan)
        self.floored = np.zeros((k, p), dtype=bool)

    def put(self, c: int, where, effect, n, logp, direction=None, nx=None):
        """Store results; ``direction`` gives the sign when it is not the effect's (Cox:
        log HR; a fit that did not converge has no effect and is signed +); ``nx`` the
        x group's samples of a two-group test."""
        from linkscan.kernels.pvalues import signed_log10p
        from linkscan.kernels.spearman import LOG_P_FLOOR

        self.stat[c, where] = effect
        self.n[c, where] = n
        self.slogp[c, where] = signed_log10p(effect if direction is None else direction, logp)
        self.floored[c, where] = logp == LOG_P_FLOOR  # only mode r floors
        if nx is not None:
            self.nx[c, where] = np.where(n > 0, nx, 0)


def _correlate(ctx: ScanContext, c: int, x: np.ndarray, y: np.ndarray | None):
    """(rho, n, logp) of every x row with every y row (y None: x with itself) in cohort
    ``c``: Spearman, or partial Spearman on the cohort's covariates (x's samples)."""
    if ctx.covariates is None:
        from linkscan.kernels.spearman import spearman_block

        return spearman_block(x, y, min_n=ctx.spec.min_n, p_mode=ctx.spec.p_mode)
    from linkscan.kernels.partial import partial_spearman_block

    cov = ctx.covariates[c]
    return partial_spearman_block(x, y, cov.z, rank_z=cov.rank, min_df=max(ctx.spec.min_n - 2, 1))


def _spearman_test(ctx: ScanContext) -> str:
    return "spearman" if ctx.covariates is None else "partial_spearman"


def _spearman_dense(ctx: ScanContext, tile: Tile) -> _Results:
    """All pairs of block i (x) and block j (y, or x again): Spearman per cohort."""

    y = ctx.y or ctx.x
    bi, bj = ctx.x.block(tile.i, ctx.tile_size), y.block(tile.j, ctx.tile_size)
    ni, nj = len(bi), len(bj)
    diagonal = ctx.y is None and tile.i == tile.j
    if diagonal:
        a, b = np.triu_indices(ni, 1)
    elif ctx.once:
        a, b = np.nonzero(once_mask(ctx, ctx.x.code(bi), y.code(bj)))
    else:
        a, b = np.divmod(np.arange(ni * nj), nj)
    out = _Results(len(ctx.cohorts), ctx.x.code(bi[a]), y.code(bj[b]), _spearman_test(ctx))
    flat = np.full((ni, nj), -1, dtype=np.int64)
    flat[a, b] = np.arange(len(a))
    for c in ctx.computed():
        pi, xi = _rows(ctx, ctx.x, c, bi)
        if diagonal:
            pj, xj = pi, None
        else:
            pj, xj = _rows(ctx, y, c, bj)
        if pi.size == 0 or pj.size == 0:
            continue
        if ctx.samples is not None:
            xi, xj = xi[:, ctx.samples[c][0]], xj[:, ctx.samples[c][1]]
        rho, n, logp = _correlate(ctx, c, xi, xj)
        where = flat[np.ix_(pi, pj)]
        keep = where >= 0
        out.put(c, where[keep], rho[keep], n[keep], logp[keep])
    return out


#: Pairs per kernel call of a cis scan.
CIS_GROUP = 32


def _spearman_cis(ctx: ScanContext, tile: Tile) -> _Results:
    """Each x feature of block i against the y features of its gene."""
    bi = ctx.x.block(tile.i, ctx.tile_size)
    lo, hi = np.searchsorted(ctx.cis_pairs[:, 0], [bi[0], bi[-1] + 1])
    pairs = ctx.cis_pairs[lo:hi]
    out = _Results(len(ctx.cohorts), ctx.x.code(pairs[:, 0]), ctx.y.code(pairs[:, 1]), _spearman_test(ctx))
    for c in ctx.computed():
        local_x = ctx.x.local_index[c][pairs[:, 0]]
        local_y = ctx.y.local_index[c][pairs[:, 1]]
        both = np.flatnonzero((local_x >= 0) & (local_y >= 0))
        if both.size == 0:
            continue
        px, xi = _rows(ctx, ctx.x, c, bi)
        x_row = np.full(len(bi), -1)
        x_row[px] = np.arange(len(px))
        xs, ys = ctx.samples[c]
        y_array = _values_array(ctx.store, ctx.cohorts[c], ctx.y.omics, ctx.y.versions[c], ctx.y.tissue)
        wanted = np.unique(local_y[both])
        y_rows = y_array.take(wanted)
        xv = xi[x_row[pairs[both, 0] - bi[0]]][:, xs]
        yv = y_rows[np.searchsorted(wanted, local_y[both])][:, ys]
        # Pairs in small groups: the kernel scans every x against every y of a group and
        # the diagonal is kept (CIS_GROUP^2 tests for CIS_GROUP pairs, far cheaper than
        # one kernel call per pair; results do not depend on the grouping).
        for start in range(0, len(both), CIS_GROUP):
            at = slice(start, start + CIS_GROUP)
            rho, n, logp = _correlate(ctx, c, xv[at], yv[at])
            out.put(c, both[at], np.diagonal(rho), np.diagonal(n), np.diagonal(logp))
    return out


def _tumor_normal(ctx: ScanContext, tile: Tile) -> _Results:
    """Each feature of block i, tumor against normal samples (Wilcoxon, x = tumor), or
    with ``paired``, each participant's tumor against its normal (signed-rank: the
    sides' columns are the pairs, in one order)."""
    from linkscan.kernels.signed_rank import signed_rank_block
    from linkscan.kernels.wilcoxon import wilcoxon_block

    bi = ctx.x.block(tile.i, ctx.tile_size)
    paired = ctx.spec.paired
    out = _Results(len(ctx.cohorts), ctx.x.code(bi), np.full(len(bi), ctx.x.n),
                   "signed_rank" if paired else "wilcoxon")
    for c in ctx.computed():
        pt, vt = _rows(ctx, ctx.x, c, bi)
        pn, vn = _rows(ctx, ctx.normal, c, bi)
        both = np.intersect1d(pt, pn)
        if both.size == 0:
            continue
        vt, vn = vt[np.searchsorted(pt, both)], vn[np.searchsorted(pn, both)]
        if paired:
            effect, n, logp = signed_rank_block(vt, vn, min_pairs=ctx.spec.min_pairs)
            out.put(c, both, effect, n, logp)
            continue
        values = np.concatenate([vt, vn], axis=1)
        group = np.r_[np.ones(vt.shape[1], np.int8), np.zeros(vn.shape[1], np.int8)]
        st = ctx.spec
        hl, n, logp = wilcoxon_block(values, group, min_x=st.min_tumor, min_y=st.min_normal,
                                     require_nonzero=True)
        out.put(c, both, hl, n, logp, nx=_finite_in(values, group == 1))
    return out


def _phenotype(ctx: ScanContext, tile: Tile) -> _Results:
    """Each feature of block i against each partner phenotype, with the test of its type."""
    from linkscan.kernels.cox import cox_block
    from linkscan.kernels.groups import anova_block, jt_block
    from linkscan.kernels.wilcoxon import wilcoxon_block

    bi = ctx.x.block(tile.i, ctx.tile_size)
    k, parts, st = len(ctx.cohorts), ctx.partners, ctx.spec
    adjusted = ctx.covariates is not None  # every partner's test is partial Spearman (covariates_of)
    out = _Results(k, np.repeat(ctx.x.code(bi), len(parts)),
                   np.tile(ctx.x.n + np.arange(len(parts)), len(bi)),
                   np.tile(["partial_spearman" if adjusted else p.test for p in parts], len(bi)))
    for c in ctx.computed():
        present, values = _rows(ctx, ctx.x, c, bi)
        if present.size == 0:
            continue
        for j, partner in enumerate(parts):
            data = partner.data[c]
            if data is None:
                continue
            where = present * len(parts) + j
            direction = nx = None
            if adjusted:
                effect, n, logp, nx = _adjusted(ctx, c, values, partner, data)
            elif partner.type == "CON":
                rho, n, logp = _correlate(ctx, c, values, data["values"][None, :])
                effect, n, logp = rho[:, 0], n[:, 0], logp[:, 0]
            elif partner.type == "SURV":
                effect, n, logp, _ = cox_block(values, data["time"], data["event"], min_n=st.cox_min_n,
                                               min_side=st.cox_min_side, min_events=st.min_events)
                with np.errstate(divide="ignore"):
                    direction = np.where(np.isnan(effect), 0.0, np.log(effect))
            elif partner.type == "BIN":
                if len(partner.levels) != 2:
                    continue  # STATS.md: exactly two levels
                codes = data["codes"]
                group = np.where(codes == data["x_code"], 1, np.where(codes >= 0, 0, -1)).astype(np.int8)
                effect, n, logp = wilcoxon_block(values, group, min_x=st.min_group, min_y=st.min_group,
                                                 min_total=st.min_samples)
                nx = _finite_in(values, group == 1)
            elif partner.type == "ORD":
                effect, n, logp = jt_block(values, data["codes"], min_n=st.min_samples)
            else:  # CAT
                effect, n, logp = anova_block(values, data["codes"], min_n=st.min_samples)
                direction = np.zeros_like(effect)  # STATS.md: p unsigned (sign +)
            out.put(c, where, effect, n, logp, direction, nx)
    return out


def _adjusted(ctx: ScanContext, c: int, values: np.ndarray, partner, data: dict):
    """(effect, n, logp, nx) of a phenotype partner adjusted for the covariates: partial
    Spearman against its values (CON), its x-group indicator (BIN, with the binary
    minimums per group; nx the x group's samples) or its level index (ORD)."""
    st = ctx.spec
    if partner.type == "CON":
        y = data["values"]
    else:
        codes = data["codes"]
        y = np.where(codes < 0, np.nan, (codes == data["x_code"]) if partner.type == "BIN" else codes)
    rho, n, logp = _correlate(ctx, c, values, y[None, :].astype(np.float64))
    effect, n, logp = rho[:, 0], n[:, 0], logp[:, 0]
    if partner.type != "BIN":
        return effect, n, logp, None
    used = ctx.covariates[c].complete & np.isfinite(y)
    nx, ny = _finite_in(values, used & (y == 1)), _finite_in(values, used & (y == 0))
    ok = (n > 0) & (nx >= st.min_group) & (ny >= st.min_group) & (nx + ny >= st.min_samples)
    return (np.where(ok, effect, np.nan), np.where(ok, n, 0), np.where(ok, logp, np.nan), nx)


def _finite_in(values: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Finite values of each feature among ``columns`` (a group's samples)."""
    return np.isfinite(values[:, columns]).sum(axis=1)


COMPUTE = {"trans": _spearman_dense, "cis": _spearman_cis, "tumor_normal": _tumor_normal,
           "phenotype": _phenotype}


def tile_rows(ctx: ScanContext, res: _Results) -> pd.DataFrame:
    """The tile's result rows: each pair with a result in at least one cohort, once as
    (feature, partner) and once as (partner, feature)."""
    from linkscan.kernels.meta import stouffer

    # the meta p of the cohort p-values as stored (float32), so that it is the same
    # whether a cohort's results were computed now or read back (engine/cohorts.py)
    stored = res.slogp.astype(np.float32).astype(np.float64)
    meta, n_cohorts = stouffer(stored.T, min_cohorts=ctx.spec.min_cohorts)
    keep = np.flatnonzero(n_cohorts > 0)
    columns = {
        "feature": np.concatenate([res.feature[keep], res.partner[keep]]),
        "partner": np.concatenate([res.partner[keep], res.feature[keep]]),
        "test": pd.Categorical.from_codes(np.tile(res.test[keep], 2), categories=list(TESTS)),
    }
    for c, cohort in enumerate(ctx.cohorts):
        counts = np.tile(res.n[c, keep], 2)
        columns[f"{cohort}_stat"] = np.tile(res.stat[c, keep], 2)
        columns[f"{cohort}_n"] = pd.arrays.IntegerArray(counts, counts == 0)
        if two_groups(ctx.kind):
            nx = np.tile(res.nx[c, keep], 2)
            columns[f"{cohort}_nx"] = pd.arrays.IntegerArray(nx, (nx == 0) | (counts == 0))
        columns[f"{cohort}_slogp"] = np.tile(res.slogp[c, keep].astype(np.float32), 2)
        if ctx.spec.p_mode == "r":
            columns[f"{cohort}_floored"] = np.tile(res.floored[c, keep], 2)
    columns["meta_slogp"] = np.tile(meta[keep].astype(np.float32), 2)
    columns["n_cohorts"] = np.tile(n_cohorts[keep].astype(np.int8), 2)
    return pd.DataFrame(columns)


def run_tile(ctx: ScanContext, tile: Tile) -> dict:
    """Compute a tile and commit it to the result store. Returns its ledger entry.
    Idempotent: running a tile twice writes the same bytes."""
    start = time.perf_counter()
    res = COMPUTE[ctx.kind](ctx, tile)
    if ctx.previous is not None:
        ctx.previous.fill(ctx, res)
    frame = tile_rows(ctx, res)
    shards = frame["feature"].to_numpy() // ctx.shard_size
    frames = {int(s): frame[shards == s] for s in np.unique(shards)}
    return ctx.results.write_tile(tile.key, frames, seconds=time.perf_counter() - start)
