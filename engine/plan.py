"""Planning a scan: the universe of entities, the tiles, and what each tile task needs.

Every entity a scan can report on, the features of its omics and, for scans against
something else, the partner side, gets a code: its position in the scan's *universe*.
The query side's features come first, sorted by id, then the partner side (a second
omics, the tumor-vs-normal contrast, phenotypes). Result rows hold codes; the universe
is the id table beside the shards. Because every cohort stores its features sorted
(linkscan.storage.inputs.cohort_store), a block of ``tile_size`` consecutive codes of one omics is a
contiguous row range in every cohort, so a tile task reads one slice per cohort.

Kinds and their tiles:

``trans`` (one omics)
    all pairs of its features; blocks ``i <= j`` (the diagonal block scans itself).
``trans`` (two omics, ``omics_y``)
    the full rectangle, blocks ``(i, j)`` of the first and second omics.
``cis`` (two omics)
    each feature of the first omics against the features of the second with the same
    gene symbol (the datasets' ``gene`` coordinates); blocks of the first omics.
``tumor_normal``
    each feature, tumor against normal samples (Wilcoxon); the partner is the single
    entity ``tumor_vs_normal``; blocks of the omics.
``phenotype``
    each feature against each phenotype of the cohorts' phenotype tables (continuous:
    Spearman; binary: Wilcoxon; ordinal: Jonckheere-Terpstra; categorical: ANOVA;
    survival: Cox) and, with ``mutations``, each row of a binary omics as a binary
    phenotype; blocks of the omics.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from linkscan.engine.partners import TEST_OF_TYPE, TUMOR_VS_NORMAL, Partner, phenotype_partners
from linkscan.engine.scanspec import ScanSpec
from linkscan.engine.sides import (
    Side,
    check_apart,
    cohorts_with,
    gene_pairs,
    kept_samples,
    normal_side,
    paired_sides,
    read_side,
    select_features,
    shared_samples,
    where_text,
)
from linkscan.errors import JobError
from linkscan.storage.results.schema import SCHEMA_VERSION, shard_size_for
from linkscan.storage.results.store import ResultStore

__all__ = ["ScanSpec", "Side", "Partner", "ScanContext", "Tile", "Plan", "make_plan", "plan_tiles", "tile_pairs",
           "once_mask", "two_groups", "TEST_OF_TYPE", "TUMOR_VS_NORMAL"]


@dataclass(frozen=True)
class ScanContext:
    """What every tile task needs, sent once to each worker (``client.scatter``)."""

    store: str
    kind: str
    cohorts: tuple[str, ...]
    x: Side
    y: Side | None  # None: x against itself
    samples: tuple[tuple[np.ndarray, np.ndarray], ...] | None = field(repr=False)
    # per cohort, for two omics: columns of x and of y holding the shared samples
    cis_pairs: np.ndarray | None = field(repr=False)  # (P, 2) positions (x, y), by x
    partners: tuple[Partner, ...] = ()  # tumor_normal and phenotype scans
    normal: Side | None = None  # tumor_normal: the normal samples, x's positions
    spec: ScanSpec | None = None  # the statistics options and minimums
    once: bool = False  # x and y are subsets of one omics: a pair in both orders is scanned once
    covariates: tuple | None = field(default=None, repr=False)  # per cohort: Covariates along x's samples
    previous: object | None = field(default=None, repr=False)  # a cohort change: linkscan.engine.cohorts.Previous

    def computed(self) -> list[int]:
        """The cohorts whose tests a tile computes: all, but in a cohort change only the
        added ones (the others' results are read from the previous scan)."""
        kept = self.previous.cohorts if self.previous is not None else ()
        return [c for c, cohort in enumerate(self.cohorts) if cohort not in kept]
    tile_size: int = 500
    shard_size: int = 64
    results: ResultStore | None = None


@dataclass(frozen=True)
class Tile:
    i: int
    j: int

    @property
    def key(self) -> str:
        """Deterministic name of the tile (ledger and part file names); tested stable."""
        return f"tile-{self.i:05d}-{self.j:05d}"


@dataclass(frozen=True)
class Plan:
    spec: ScanSpec
    context: ScanContext
    tiles: tuple[Tile, ...]
    features: pd.DataFrame  # the universe: code, feature, gene, omics
    manifest: dict

    def pairs(self, tile: Tile) -> int:
        """Cohort-pair tests a tile runs (as the manifest records them)."""
        return self.manifest["tile_pairs"][tile.key]


def two_groups(kind: str) -> bool:
    """Whether a scan of ``kind`` can have two-group tests (its rows then say how many
    samples of each group a test used)."""
    return kind in ("tumor_normal", "phenotype")


def tile_pairs(ctx: ScanContext, tile: Tile) -> int:
    """Cohort-pair tests ``tile`` runs in the scan ``ctx``."""
    ni = len(ctx.x.block(tile.i, ctx.tile_size))
    if ctx.partners:
        count = ni * len(ctx.partners)
    elif ctx.kind == "cis":
        first, last = ctx.x.block(tile.i, ctx.tile_size)[[0, -1]]
        pairs = ctx.cis_pairs[:, 0]
        count = np.searchsorted(pairs, last, "right") - np.searchsorted(pairs, first)
    elif ctx.once:
        count = once_mask(ctx, ctx.x.code(ctx.x.block(tile.i, ctx.tile_size)),
                          ctx.y.code(ctx.y.block(tile.j, ctx.tile_size))).sum()
    elif ctx.y is None:
        nj = len(ctx.x.block(tile.j, ctx.tile_size))
        count = ni * (ni - 1) // 2 if tile.i == tile.j else ni * nj
    else:
        count = ni * len(ctx.y.block(tile.j, ctx.tile_size))
    return int(count) * len(ctx.cohorts)


def once_mask(ctx: ScanContext, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) mask of the pairs of codes (a in x, b in y) that a scan of one
    omics with feature lists runs: not a feature with itself, and a pair that is also
    (b in x, a in y) only once, with the smaller code first."""
    in_x = np.isin(b, ctx.x.codes if ctx.x.codes is not None else b)
    in_y = np.isin(a, ctx.y.codes if ctx.y.codes is not None else a)
    a, b = a[:, None], b[None, :]
    return (a != b) & ~(in_x[None, :] & in_y[:, None] & (b < a))


def plan_tiles(n_x: int, tile_size: int, n_y: int | None = None, *, one_d: bool = False) -> list[Tile]:
    """Tiles of a scan: ``i <= j`` for one omics against itself, the rectangle for two
    (``n_y``), one tile per block of the first omics for ``one_d`` kinds."""
    bx = -(-n_x // tile_size)
    if one_d:
        return [Tile(i, 0) for i in range(bx)]
    if n_y is None:
        return [Tile(i, j) for i in range(bx) for j in range(i, bx)]
    return [Tile(i, j) for i in range(bx) for j in range(-(-n_y // tile_size))]


def make_plan(spec: ScanSpec) -> Plan:
    """Read the cohort store's feature tables and lay out the scan."""
    from linkscan.storage.inputs.cohort_store import CohortStore

    check_apart(spec.store, spec.results)
    store = CohortStore(spec.store)
    cohorts = cohorts_with(store, spec)
    if spec.min_cohorts > len(cohorts):
        raise JobError(f"min_cohorts = {spec.min_cohorts} but the scan has {len(cohorts)} cohorts "
                       f"({', '.join(cohorts)}): no pair could have a meta p; lower min_cohorts to at most "
                       f"{len(cohorts)}, or add cohorts")
    y = samples = cis_pairs = None
    once = spec.kind == "trans" and not spec.omics_y and bool(spec.features or spec.features_y)
    if once:
        # one omics, chosen pairs: the universe is the features of either list, and
        # both sides are subsets of it (a pair of two listed features is scanned once)
        both = () if not (spec.features and spec.features_y) else spec.features + spec.features_y
        full, x_table, x_sets = read_side(store, cohorts, spec.omics, 0, both)
        x, y = (full.subset(select_features(x_table, names, key, spec.omics)) if names else full
                for names, key in ((spec.features, "features"), (spec.features_y, "features_y")))
    else:
        x, x_table, x_sets = read_side(store, cohorts, spec.omics, 0, spec.features)
    tables = [x_table]
    ids = [ds["sample"].to_numpy().astype(str) for ds in x_sets]
    keep = kept_samples(store, cohorts, spec, ids)
    if spec.omics_y:
        y, y_table, y_sets = read_side(store, cohorts, spec.omics_y, x.n, spec.features_y, "features_y")
        tables.append(y_table)
        samples = tuple(shared_samples(c, dx, dy) for c, dx, dy in zip(cohorts, x_sets, y_sets))
        if keep is not None:
            samples = tuple((xs[k[xs]], ys[k[xs]]) for (xs, ys), k in zip(samples, keep))
    elif keep is not None:
        x = replace(x, columns=tuple(map(np.flatnonzero, keep)))
        y = replace(y, columns=x.columns) if y is not None else None
    kept_ids = [i[k] for i, k in zip(ids, keep)] if keep is not None else ids
    if spec.kind == "cis":
        cis_pairs = gene_pairs(x_table, y_table)
        if len(cis_pairs) == 0:
            raise JobError(f"no gene of {spec.omics!r} is also a gene of {spec.omics_y!r}; a cis scan "
                           "matches features by their gene (give --gene-map at ingest)")
    partners, normal = (), None
    if spec.kind == "tumor_normal":
        normal = normal_side(store, cohorts, spec.omics, x_table, spec.exclude_samples,
                              [i[~k] for i, k in zip(ids, keep)] if keep is not None else None)
        if spec.paired:
            x, normal = paired_sides(store, cohorts, spec, x, normal, ids, kept_ids)
        partners = (Partner(TUMOR_VS_NORMAL, "tissue", "TNP" if spec.paired else "TN",
                            data=(None,) * len(cohorts)),)
    elif spec.kind == "phenotype":
        partners = phenotype_partners(store, cohorts, spec, kept_ids)
    covariates = None
    if spec.covariates:
        from linkscan.engine.covariates import covariates_of

        along = [i[xs] for i, (xs, _) in zip(ids, samples)] if samples is not None else kept_ids
        covariates = covariates_of(store, cohorts, spec.covariates, along, partners)
    if partners:
        tables.append(pd.DataFrame({"feature": [p.name for p in partners], "gene": "",
                                    "omics": [p.omics for p in partners],
                                    "x_group": [p.groups[0] for p in partners],
                                    "y_group": [p.groups[1] for p in partners]}))
    features = pd.concat(tables, ignore_index=True)
    if partners:
        features[["x_group", "y_group"]] = features[["x_group", "y_group"]].fillna("")
    features.insert(0, "code", np.arange(len(features), dtype=np.int32))
    if partners:
        n_pairs = x.n * len(partners)
    elif spec.kind == "cis":
        n_pairs = len(cis_pairs)
    elif once:
        n_pairs = x.n * y.n
    else:
        n_pairs = x.n * y.n if y else x.n * (x.n - 1) // 2
    shard_size = shard_size_for(len(features), n_pairs)
    scan = {
        "kind": spec.kind,
        "store": str(spec.store),
        "omics": spec.omics,
        "omics_y": spec.omics_y,
        "cohorts": list(cohorts),
        # per cohort, what was ingested (so that a cohort added or dropped later is told
        # apart from a cohort whose data changed: linkscan.engine.cohorts)
        "inputs": {c: [side.tokens[i] for side in (x, y, normal) if side is not None] for i, c in enumerate(cohorts)},
        "partners": [f"{p.omics}:{p.name}:{p.type}" for p in partners],
        "phenotypes": list(spec.phenotypes),
        "features": list(spec.features),
        "features_y": list(spec.features_y),
        "where": where_text(spec.where),
        "exclude_samples": sorted(spec.exclude_samples),
        "mutations": spec.mutations,
        "minimums": [spec.min_tumor, spec.min_normal, spec.min_samples, spec.min_group, spec.min_events,
                     spec.cox_min_n, spec.cox_min_side] + ([spec.min_pairs] if spec.paired else []),
        "paired": spec.paired,
        "covariates": list(spec.covariates),
        "keep": spec.keep.text,
        "min_n": spec.min_n,
        "p_mode": spec.p_mode,
        "min_cohorts": spec.min_cohorts,
        "tile_size": spec.tile_size,
        "two_groups": two_groups(spec.kind),
    }
    fingerprint = hashlib.sha256(json.dumps(scan, sort_keys=True).encode()).hexdigest()
    if x.n == 0 or (y is not None and y.n == 0):
        raise JobError("the scan's feature lists select no feature")
    tiles = tuple(plan_tiles(x.n, spec.tile_size, y.n if y and spec.kind == "trans" else None,
                             one_d=spec.kind != "trans"))
    context = ScanContext(
        store=str(spec.store), kind=spec.kind, cohorts=cohorts, x=x, y=y, samples=samples, once=once,
        covariates=covariates,
        cis_pairs=cis_pairs, partners=partners, normal=normal, spec=spec, tile_size=spec.tile_size,
        shard_size=shard_size, results=ResultStore(str(spec.results)),
    )
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "fingerprint": fingerprint,
        "kind": spec.kind,
        "scan": scan,
        "cohorts": list(cohorts),
        "n_features": len(features),
        "n_tiles": len(tiles),
        "n_shards": -(-len(features) // shard_size),
        # samples each cohort's tests can use (after exclude_samples and where)
        "samples": {c: int(len(i)) for c, i in zip(cohorts, kept_ids)},
        "shard_size": shard_size,
        # what `linkscan status` needs, so that it reads the result store alone
        "tile_pairs": {tile.key: tile_pairs(context, tile) for tile in tiles},
    }
    return Plan(spec=spec, context=context, tiles=tiles, features=features, manifest=manifest)
