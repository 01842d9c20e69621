"""Planning a scan: the feature universe, the tiles, and what each tile task needs.

A scan of one omics across cohorts runs over the sorted union of the cohorts' feature
ids (the *universe*; a feature's code is its position in it). Blocks are consecutive runs
of ``tile_size`` codes, and a tile is a pair of blocks: a self-scan plans ``i <= j``
only. Because every cohort stores its features sorted (storage.cohort_store), a block
of the universe is a contiguous row range in every cohort, so a tile task reads one
slice per cohort and block.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from storage.errors import JobError
from storage.results import SCHEMA_VERSION, ResultStore, shard_size_for

P_MODES = ("t", "r")


@dataclass(frozen=True)
class ScanSpec:
    """Everything that defines a trans scan's numbers (the job file's scan part).

    Parameters
    ----------
    store
        Root of the cohort store (Zarr).
    results
        Root of the result store (Parquet).
    omics
        The omics to scan against itself.
    cohorts
        Cohorts to include; empty means every cohort of the store that has ``omics``.
    min_n
        Minimum overlapping samples for a Spearman result (STATS.md: 10).
    p_mode
        ``"t"`` (default) or ``"r"`` (R's cor.test p-values, AS 89; STATS.md).
    min_cohorts
        Minimum cohorts with a result for a meta p.
    tile_size
        Features per block; memory per task grows with its square.
    """

    store: str
    results: str
    omics: str
    cohorts: tuple[str, ...] = ()
    min_n: int = 10
    p_mode: str = "t"
    min_cohorts: int = 1
    tile_size: int = 500

    def __post_init__(self):
        if self.p_mode not in P_MODES:
            raise JobError(f"p_mode = {self.p_mode!r}: use one of {', '.join(P_MODES)}")
        for name, low in (("min_n", 3), ("min_cohorts", 1), ("tile_size", 2)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise JobError(f"{name} = {value!r}: must be an integer >= {low}")


@dataclass(frozen=True)
class ScanContext:
    """What every tile task needs, sent once to each worker (``client.scatter``)."""

    store: str
    omics: str
    cohorts: tuple[str, ...]
    tokens: tuple[str, ...]  # per cohort: identity of the ingested data (cache key)
    local_index: tuple[np.ndarray, ...] = field(repr=False)  # per cohort: code -> row, -1
    n_features: int
    tile_size: int
    shard_size: int
    min_n: int
    p_mode: str
    min_cohorts: int
    results: ResultStore

    def block(self, b: int) -> np.ndarray:
        """Codes of block ``b``."""
        return np.arange(b * self.tile_size, min((b + 1) * self.tile_size, self.n_features))


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
    features: pd.DataFrame  # code, feature, gene
    manifest: dict

    def pairs(self, tile: Tile) -> int:
        """Cohort-pair tests a tile runs (upper triangle of a diagonal tile)."""
        ni = len(self.context.block(tile.i))
        nj = len(self.context.block(tile.j))
        return ni * (ni - 1) // 2 if tile.i == tile.j else ni * nj


def plan_tiles(n_features: int, tile_size: int) -> list[Tile]:
    """Tiles of a self-scan: every block pair ``i <= j``, row by row."""
    n_blocks = -(-n_features // tile_size)
    return [Tile(i, j) for i in range(n_blocks) for j in range(i, n_blocks)]


def make_plan(spec: ScanSpec) -> Plan:
    """Read the cohort store's feature tables and lay out the scan."""
    from storage.cohort_store import CohortStore

    store = CohortStore(spec.store)
    available = [c for c in store.cohorts() if spec.omics in store.omics(c)]
    if spec.cohorts:
        missing = [c for c in spec.cohorts if c not in available]
        if missing:
            raise JobError(
                f"cohorts {', '.join(missing)} have no {spec.omics!r} data in the store "
                f"{spec.store} (it has {spec.omics!r} for: {', '.join(available) or 'none'}); "
                "ingest them first or remove them from `cohorts`"
            )
        cohorts = tuple(spec.cohorts)
    else:
        cohorts = tuple(available)
    if not cohorts:
        raise JobError(
            f"no cohort in the store {spec.store} has omics {spec.omics!r}; "
            "ingest a table with `linkscan ingest` first"
        )
    frames = {}
    tokens = []
    for cohort in cohorts:
        ds = store.open(cohort, spec.omics)
        frames[cohort] = pd.DataFrame(
            {"feature": ds["feature"].to_numpy().astype(str), "gene": ds["gene"].to_numpy().astype(str)}
        )
        tokens.append(
            f"{ds.attrs.get('ingested_at', '')}:{ds.sizes['feature']}x{ds.sizes['sample']}"
        )
    universe = (
        pd.concat(frames.values(), ignore_index=True)
        .drop_duplicates("feature", keep="first")
        .sort_values("feature", kind="stable", ignore_index=True)
    )
    ids = universe["feature"].to_numpy()
    local_index = []
    for cohort in cohorts:
        index = np.full(len(ids), -1, dtype=np.int64)
        index[np.searchsorted(ids, frames[cohort]["feature"].to_numpy())] = np.arange(len(frames[cohort]))
        local_index.append(index)
    features = pd.DataFrame(
        {"code": np.arange(len(ids), dtype=np.int32), "feature": ids, "gene": universe["gene"].to_numpy()}
    )
    shard_size = shard_size_for(len(ids))
    scan = {
        "kind": "trans",
        "store": str(spec.store),
        "omics": spec.omics,
        "cohorts": list(cohorts),
        "inputs": tokens,
        "min_n": spec.min_n,
        "p_mode": spec.p_mode,
        "min_cohorts": spec.min_cohorts,
        "tile_size": spec.tile_size,
    }
    fingerprint = hashlib.sha256(json.dumps(scan, sort_keys=True).encode()).hexdigest()
    tiles = tuple(plan_tiles(len(ids), spec.tile_size))
    context = ScanContext(
        store=str(spec.store), omics=spec.omics, cohorts=cohorts, tokens=tuple(tokens),
        local_index=tuple(local_index), n_features=len(ids), tile_size=spec.tile_size,
        shard_size=shard_size, min_n=spec.min_n, p_mode=spec.p_mode,
        min_cohorts=spec.min_cohorts, results=ResultStore(str(spec.results)),
    )
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "fingerprint": fingerprint,
        "scan": scan,
        "cohorts": list(cohorts),
        "n_features": len(ids),
        "n_tiles": len(tiles),
        "n_shards": -(-len(ids) // shard_size),
        "shard_size": shard_size,
    }
    return Plan(spec=spec, context=context, tiles=tiles, features=features, manifest=manifest)
