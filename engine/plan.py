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

import difflib
import hashlib
import json
from pathlib import Path
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from linkscan.defaults import OPTION, default
from linkscan.errors import JobError
from linkscan.storage.results.schema import SCHEMA_VERSION, shard_size_for
from linkscan.storage.results.store import ResultStore

#: Test of each partner type (STATS.md); TN is the tumor-vs-normal contrast.
TEST_OF_TYPE = {"CON": "spearman", "BIN": "wilcoxon", "ORD": "jt", "CAT": "anova", "SURV": "cox",
                "TN": "wilcoxon", "TNP": "signed_rank"}
TUMOR_VS_NORMAL = "tumor_vs_normal"


@dataclass(frozen=True)
class ScanSpec:
    """Everything that defines a scan's numbers (the job file's scan part; defaults,
    bounds and meanings from :mod:`linkscan.defaults`).

    Parameters
    ----------
    store
        Root of the cohort store (Zarr).
    results
        Root of the result store (Parquet).
    omics
        The omics whose features are scanned (the query side).
    kind
        ``"trans"`` or ``"cis"`` (see the module docstring).
    omics_y
        The partner omics of a two-omics scan; empty for a trans scan of ``omics``
        against itself. Required by ``cis``.
    cohorts
        Cohorts to include; empty means every cohort of the store that has the omics.
    min_n
        Minimum overlapping samples for a Spearman result (STATS.md: 10).
    p_mode
        ``"t"`` (default) or ``"r"`` (R's cor.test p-values, AS 89; STATS.md).
    min_cohorts
        Minimum cohorts with a result for a meta p.
    tile_size
        Features per block; memory per task grows with its square.
    phenotypes
        ``phenotype`` scans: the phenotypes to test (names as ingested); empty = all.
    mutations
        ``phenotype`` scans: a binary omics (e.g. ``mutation``) whose rows are tested as
        binary phenotypes; empty = none.
    min_tumor, min_normal
        ``tumor_normal``: fewest tumor and normal values (STATS.md: 20 and 10).
    min_samples, min_group
        Binary, ordinal and categorical phenotypes: fewest samples (20), and fewest in
        each group of a binary one (10).
    min_events, cox_min_n, cox_min_side
        Survival: fewest events (5), samples (10), and samples on each side of the
        median of the feature (10).
    features, features_y
        Feature ids or gene symbols to scan (a gene symbol stands for all of its
        features) of ``omics`` and of the partner side; empty = all. In a trans scan of
        one omics they select the pairs with one feature in ``features`` and the other in
        ``features_y`` (each pair once).
    keep
        Which rows the finished store keeps (:mod:`linkscan.engine.keep`); the q-values
        count every test whatever it keeps.
    covariates
        Phenotypes to adjust for (:mod:`linkscan.engine.covariates`): Spearman-based
        tests become partial Spearman tests.
    paired, min_pairs
        ``tumor_normal``: the Wilcoxon signed-rank test of each participant's tumor
        against its normal sample (same sample id), with at least ``min_pairs`` pairs.
    exclude_samples, where
        Samples to leave out (ids, of tumor and normal samples alike), and a filter on
        the phenotypes that samples must pass (:mod:`linkscan.engine.samples`); a
        normal sample is left out with its tumor sample of the same id.
    """

    store: str
    results: str
    omics: str
    kind: str = default("kind")
    omics_y: str = default("omics_y")
    cohorts: tuple[str, ...] = ()
    min_n: int = default("min_n")
    p_mode: str = default("p_mode")
    min_cohorts: int = default("min_cohorts")
    tile_size: int = default("tile_size")
    phenotypes: tuple[str, ...] = ()
    mutations: str = default("mutations")
    min_tumor: int = default("min_tumor")
    min_normal: int = default("min_normal")
    min_samples: int = default("min_samples")
    min_group: int = default("min_group")
    min_events: int = default("min_events")
    cox_min_n: int = default("cox_min_n")
    cox_min_side: int = default("cox_min_side")
    features: tuple[str, ...] = ()
    features_y: tuple[str, ...] = ()
    exclude_samples: tuple[str, ...] = ()
    where: str = default("where")
    paired: bool = default("paired")
    min_pairs: int = default("min_pairs")
    covariates: tuple[str, ...] = ()
    keep: object = default("keep")  # a linkscan.engine.keep.Keep (from "all" or a policy table)

    def __post_init__(self):
        for name in ("kind", "p_mode"):
            choices = OPTION[name].choices
            if getattr(self, name) not in choices:
                raise JobError(f"{name} = {getattr(self, name)!r}: use one of {', '.join(choices)}")
        if self.kind == "cis" and not self.omics_y:
            raise JobError("kind = 'cis' needs omics_y, the omics to match each feature's gene in")
        if self.omics_y and self.kind in ("tumor_normal", "phenotype"):
            raise JobError(f"kind = {self.kind!r} scans one omics; remove omics_y")
        from linkscan.engine.keep import Keep

        object.__setattr__(self, "keep", Keep.parse(self.keep))
        if not isinstance(self.paired, bool):
            raise JobError(f"paired = {self.paired!r}: must be true or false")
        if self.paired and self.kind != "tumor_normal":
            raise JobError("paired = true belongs to kind = 'tumor_normal' scans (tumor against normal samples "
                           "of the same participants)")
        if self.covariates and self.kind == "tumor_normal":
            raise JobError("covariates adjust Spearman-based tests (trans, cis, phenotype scans); a tumor_normal "
                           "scan has none: remove covariates")
        if self.covariates and self.p_mode == "r":
            raise JobError('covariates and p_mode = "r" do not go together: R\'s cor.test has no partial '
                           'correlation; the partial Spearman p is its t test (p_mode = "t")')
        if self.where:
            from linkscan.engine.samples import parse_where

            parse_where(self.where)  # a JobError naming the place
        if self.features_y and self.kind in ("tumor_normal", "phenotype"):
            raise JobError(f"features_y restricts a partner omics; kind = {self.kind!r} has none (choose its "
                           "features with `features`, its phenotypes with `phenotypes`)")
        if self.features_y and self.kind == "cis" and not self.omics_y:
            raise JobError("features_y needs omics_y")
        if (self.phenotypes or self.mutations) and self.kind != "phenotype":
            raise JobError("phenotypes and mutations belong to kind = 'phenotype' scans")
        for name in ("cohorts", "phenotypes", "covariates"):
            values = list(getattr(self, name))
            twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
            if twice is not None:
                raise JobError(f"{name} = {values!r} names {twice!r} twice; list each once (a cohort counted "
                               "twice would count its evidence twice in the meta p)")
        if self.omics_y == self.omics:
            raise JobError(f"omics_y = {self.omics_y!r} is omics itself; leave omics_y empty "
                           "for a scan of one omics against itself")
        for field_ in fields(self):
            low = OPTION[field_.name].minimum if field_.name in OPTION else None
            if low is None:
                continue
            value = getattr(self, field_.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise JobError(f"{field_.name} = {value!r}: must be an integer >= {low}")


@dataclass(frozen=True)
class Side:
    """One omics of a scan: its codes in the universe and where each cohort keeps them."""

    omics: str
    offset: int  # code of its first feature
    n: int
    local_index: tuple[np.ndarray, ...] = field(repr=False)  # per cohort: feature -> row, -1
    tokens: tuple[str, ...] = ()  # per cohort: identity of the ingested data (fingerprint)
    versions: tuple[str, ...] = ()  # per cohort: the stored version planned with (tiles read it)
    tissue: str = "tumor"
    codes: np.ndarray | None = field(default=None, repr=False)  # codes of a subset side (else offset + position)
    columns: tuple[np.ndarray, ...] | None = field(default=None, repr=False)  # per cohort: samples kept

    def code(self, positions: np.ndarray) -> np.ndarray:
        """Codes in the universe of ``positions`` (within this side)."""
        return self.offset + positions if self.codes is None else self.codes[positions]

    def subset(self, positions: np.ndarray) -> Side:
        """The side's features at ``positions`` (sorted), keeping their codes."""
        return replace(self, n=len(positions), codes=self.code(positions),
                       local_index=tuple(index[positions] for index in self.local_index))

    def block(self, b: int, tile_size: int) -> np.ndarray:
        """Positions (within this side) of block ``b``."""
        return np.arange(b * tile_size, min((b + 1) * tile_size, self.n))

    def n_blocks(self, tile_size: int) -> int:
        return -(-self.n // tile_size)


@dataclass(frozen=True)
class Partner:
    """A non-feature partner (a phenotype, a mutation, tumor-vs-normal) with its data in
    every cohort aligned to the samples of the scanned omics (None: not in that cohort).

    ``data[c]`` holds ``values`` (CON), ``codes`` with ``x_code``, the group tested as x
    (BIN, ORD, CAT; -1 missing), or ``time`` and ``event`` (SURV; NaN missing)."""

    name: str
    omics: str  # what it is, for the id table: "phenotype", the mutation omics, "tissue"
    type: str  # CON, BIN, ORD, CAT, SURV or TN
    levels: tuple[str, ...] = ()
    data: tuple[dict | None, ...] = field(default=(), repr=False)

    @property
    def test(self) -> str:
        return TEST_OF_TYPE[self.type]

    @property
    def groups(self) -> tuple[str, str]:
        """Two-group partners: the labels of the group tested as x and of y (an effect > 0
        means higher values in x); ("", "") for the others."""
        if self.type == "TN":
            return ("tumor", "normal")
        if self.type != "BIN" or len(self.levels) != 2:
            return ("", "")
        if self.omics != "phenotype":
            return ("mutated", "not mutated")
        x = 1 if self.levels == ("0", "1") else 0  # STATS.md: the group coded 1, else the first level
        return (self.levels[x], self.levels[1 - x])


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


def select_features(table: pd.DataFrame, names, key: str, omics: str) -> np.ndarray:
    """Sorted positions in ``table`` (feature, gene) of ``names``: each a feature id or a
    gene symbol (all of its features), case-insensitively. Unknown names are a JobError
    that lists them with close matches."""
    ids = table["feature"].str.lower()
    genes = table["gene"].str.lower()
    by_id = pd.Series(np.arange(len(table)), index=ids.to_numpy())
    by_gene = pd.Series(np.arange(len(table)), index=genes.to_numpy())
    found, unknown = [], []
    for name in names:
        low = name.strip().lower()
        if low in by_id.index:
            found.append(np.atleast_1d(by_id[low]))
        elif low and low in by_gene.index:
            found.append(np.atleast_1d(by_gene[low]))
        else:
            unknown.append(name)
    if unknown:
        known = sorted(set(table["gene"]) - {""}) or list(table["feature"])
        hints = []
        for name in unknown[:5]:
            close = difflib.get_close_matches(name, known, n=3)
            hints.append(f"{name!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise JobError(f"{key}: {len(unknown)} of {len(names)} names are neither a feature id nor a gene symbol of "
                       f"omics {omics!r} in the scan's cohorts: {', '.join(hints)}{more}; fix or remove them")
    return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)


def _side(store, cohorts, omics: str, offset: int, names=(), key: str = "features"
          ) -> tuple[Side, pd.DataFrame, list]:
    """The sorted union of ``omics``'s features over ``cohorts`` (only ``names``, ids or
    gene symbols, when given)."""
    frames, tokens, versions, datasets = {}, [], [], []
    for cohort in cohorts:
        ds = store.open(cohort, omics)
        if ds.attrs.get("kind", "continuous") != "continuous":
            raise JobError(f"omics {omics!r} of cohort {cohort} is {ds.attrs['kind']}, not continuous; "
                           "scan it as `mutations` of a phenotype scan")
        datasets.append(ds)
        frames[cohort] = pd.DataFrame(
            {"feature": ds["feature"].to_numpy().astype(str), "gene": ds["gene"].to_numpy().astype(str)}
        )
        tokens.append(f"{ds.attrs.get('ingested_at', '')}:{ds.sizes['feature']}x{ds.sizes['sample']}")
        versions.append(ds.attrs["version"])
    universe = (
        pd.concat(frames.values(), ignore_index=True)
        .drop_duplicates("feature", keep="first")
        .sort_values("feature", kind="stable", ignore_index=True)
    )
    if names:
        universe = universe.iloc[select_features(universe, names, key, omics)].reset_index(drop=True)
    ids = universe["feature"].to_numpy()
    local_index = []
    for cohort in cohorts:
        index = np.full(len(ids), -1, dtype=np.int64)
        _place(index, ids, frames[cohort]["feature"].to_numpy())
        local_index.append(index)
    side = Side(omics=omics, offset=offset, n=len(ids), local_index=tuple(local_index), tokens=tuple(tokens),
                versions=tuple(versions))
    table = pd.DataFrame({"feature": ids, "gene": universe["gene"].to_numpy(), "omics": omics})
    return side, table, datasets


def _cohorts_with(store, spec: ScanSpec) -> tuple[str, ...]:
    needed = [spec.omics] + ([spec.omics_y] if spec.omics_y else [])
    available = [c for c in store.cohorts() if all(o in store.omics(c) for o in needed)]
    what = " and ".join(repr(o) for o in needed)
    if spec.kind == "tumor_normal":
        available = [c for c in available if "normal" in store.tissues(c, spec.omics)]
        what += " tumor and normal"
    elif spec.kind == "phenotype" and not spec.mutations:
        available = [c for c in available if store.has_phenotypes(c)]
        what += " and phenotype"
    if spec.cohorts:
        missing = [c for c in spec.cohorts if c not in available]
        if missing:
            raise JobError(
                f"cohorts {', '.join(missing)} have no {what} data in the store {spec.store} "
                f"(it has {what} for: {', '.join(available) or 'none'}); "
                "ingest them first or remove them from `cohorts`"
            )
        return tuple(spec.cohorts)
    if not available:
        known = sorted({o for c in store.cohorts() for o in store.omics(c)})
        close = difflib.get_close_matches(spec.omics, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close and spec.omics not in known else ""
        raise JobError(f"no cohort in the store {spec.store} has omics {what}{hint}; the store has "
                       f"{', '.join(known) or 'no omics'}: fix the job's omics, or ingest a table with "
                       "`linkscan ingest` first")
    return tuple(available)


def make_plan(spec: ScanSpec) -> Plan:
    """Read the cohort store's feature tables and lay out the scan."""
    from linkscan.storage.inputs.cohort_store import CohortStore

    _check_apart(spec.store, spec.results)
    store = CohortStore(spec.store)
    cohorts = _cohorts_with(store, spec)
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
        full, x_table, x_sets = _side(store, cohorts, spec.omics, 0, both)
        x, y = (full.subset(select_features(x_table, names, key, spec.omics)) if names else full
                for names, key in ((spec.features, "features"), (spec.features_y, "features_y")))
    else:
        x, x_table, x_sets = _side(store, cohorts, spec.omics, 0, spec.features)
    tables = [x_table]
    ids = [ds["sample"].to_numpy().astype(str) for ds in x_sets]
    keep = _kept_samples(store, cohorts, spec, ids)
    if spec.omics_y:
        y, y_table, y_sets = _side(store, cohorts, spec.omics_y, x.n, spec.features_y, "features_y")
        tables.append(y_table)
        samples = tuple(_shared_samples(c, dx, dy) for c, dx, dy in zip(cohorts, x_sets, y_sets))
        if keep is not None:
            samples = tuple((xs[k[xs]], ys[k[xs]]) for (xs, ys), k in zip(samples, keep))
    elif keep is not None:
        x = replace(x, columns=tuple(map(np.flatnonzero, keep)))
        y = replace(y, columns=x.columns) if y is not None else None
    kept_ids = [i[k] for i, k in zip(ids, keep)] if keep is not None else ids
    if spec.kind == "cis":
        cis_pairs = _gene_pairs(x_table, y_table)
        if len(cis_pairs) == 0:
            raise JobError(f"no gene of {spec.omics!r} is also a gene of {spec.omics_y!r}; a cis scan "
                           "matches features by their gene (give --gene-map at ingest)")
    partners, normal = (), None
    if spec.kind == "tumor_normal":
        normal = _normal_side(store, cohorts, spec.omics, x_table, spec.exclude_samples,
                              [i[~k] for i, k in zip(ids, keep)] if keep is not None else None)
        if spec.paired:
            x, normal = _paired(store, cohorts, spec, x, normal, kept_ids)
        partners = (Partner(TUMOR_VS_NORMAL, "tissue", "TNP" if spec.paired else "TN",
                            data=(None,) * len(cohorts)),)
    elif spec.kind == "phenotype":
        partners = _phenotype_partners(store, cohorts, spec, kept_ids)
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
        "where": _where_text(spec.where),
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


def _check_apart(store: str, results: str) -> None:
    """The result store may be neither inside the cohort store nor around it: a scan
    would write into the data it reads (and an ingest could take its folders for
    cohorts)."""
    def parts(root: str) -> tuple[str, ...]:
        if "://" in root:
            return tuple(p for p in root.rstrip("/").split("/") if p)
        return Path(root).expanduser().resolve().parts

    s, r = parts(str(store)), parts(str(results))
    if r[:len(s)] == s:
        where = "is the cohort store" if r == s else "is inside the cohort store"
        raise JobError(f"results = {results} {where} {store}; choose a results folder outside the cohort store")
    if s[:len(r)] == r:
        raise JobError(f"results = {results} holds the cohort store {store}; choose a results folder that is "
                       "neither the cohort store nor one of its parents")


def _shared_samples(cohort: str, dx, dy) -> tuple[np.ndarray, np.ndarray]:
    """Columns of two omics' Datasets that hold the same sample ids, in x's order."""
    sx = dx["sample"].to_numpy().astype(str)
    sy = pd.Index(dy["sample"].to_numpy().astype(str))
    in_y = sy.get_indexer(sx)
    keep = np.flatnonzero(in_y >= 0)
    if keep.size == 0:
        raise JobError(
            f"cohort {cohort}: no sample id of {dx.attrs.get('omics')!r} is a sample of "
            f"{dy.attrs.get('omics')!r} (e.g. {str(sx[0])!r} vs {str(sy[0])!r}); samples are matched by id "
            "across omics: ingest "
            "one of the two again under the other's ids (--samples ... --participant-column), or "
            f"leave {cohort} out of the job's cohorts"
        )
    return keep, in_y[keep]


def _gene_pairs(x_table: pd.DataFrame, y_table: pd.DataFrame) -> np.ndarray:
    """(P, 2) positions (x, y) of features sharing a gene symbol, sorted by x then y."""
    y_by_gene = pd.DataFrame({"gene": y_table["gene"].to_numpy(), "y": np.arange(len(y_table))})
    x_by_gene = pd.DataFrame({"gene": x_table["gene"].to_numpy(), "x": np.arange(len(x_table))})
    pairs = x_by_gene.merge(y_by_gene, on="gene").sort_values(["x", "y"])
    return pairs[["x", "y"]].to_numpy(dtype=np.int64).reshape(-1, 2)


def _place(index: np.ndarray, ids: np.ndarray, features: np.ndarray) -> None:
    """index[position in ``ids``] = row of ``features`` holding that id (ids sorted;
    features not in ``ids`` are skipped)."""
    at = np.searchsorted(ids, features)
    if len(ids) == 0:
        return
    known = (at < len(ids)) & (ids[np.minimum(at, len(ids) - 1)] == features)
    index[at[known]] = np.flatnonzero(known)


def _normal_side(store, cohorts, omics: str, x_table: pd.DataFrame, exclude: tuple[str, ...] = (),
                 dropped: list[np.ndarray] | None = None) -> Side:
    """Rows of each cohort's normal Dataset for the positions of the (tumor) universe;
    with sample filters, the normal samples kept: not in ``exclude``, nor the id of a
    tumor sample ``dropped`` by the filters."""
    ids = x_table["feature"].to_numpy()
    local_index, tokens, versions, columns = [], [], [], []
    for c, cohort in enumerate(cohorts):
        ds = store.open(cohort, omics, tissue="normal")
        if dropped is not None:
            names = ds["sample"].to_numpy().astype(str)
            columns.append(np.flatnonzero(~np.isin(names, np.asarray(exclude + tuple(dropped[c]), dtype=str))))
        index = np.full(len(ids), -1, dtype=np.int64)
        _place(index, ids, ds["feature"].to_numpy().astype(str))
        local_index.append(index)
        tokens.append(f"{ds.attrs.get('ingested_at', '')}:{ds.sizes['feature']}x{ds.sizes['sample']}")
        versions.append(ds.attrs["version"])
    return Side(omics=omics, offset=0, n=len(ids), local_index=tuple(local_index), tokens=tuple(tokens),
                versions=tuple(versions), tissue="normal", columns=tuple(columns) if dropped is not None else None)


def _paired(store, cohorts, spec: ScanSpec, x: Side, normal: Side, tumor_ids: list[np.ndarray]
            ) -> tuple[Side, Side]:
    """The tumor and normal sides of a paired scan: per cohort, the columns of the
    participants with both samples (same id, both kept by the filters), in one order."""
    x_columns, n_columns = [], []
    for c, cohort in enumerate(cohorts):
        ids = store.open(cohort, spec.omics, tissue="normal")["sample"].to_numpy().astype(str)
        tumor_all = store.open(cohort, spec.omics)["sample"].to_numpy().astype(str)
        normal_kept = ids[normal.columns[c]] if normal.columns is not None else ids
        shared = np.intersect1d(tumor_ids[c], normal_kept)
        if len(shared) < spec.min_pairs:
            raise JobError(
                f"paired = true: cohort {cohort} has {len(shared)} participants with both a tumor and a normal "
                f"{spec.omics} sample, fewer than min_pairs = {spec.min_pairs} (tumor ids like {tumor_all[0]!r}, "
                f"normal ids like {ids[0]!r}; pairs are matched by sample id: ingest both under participant ids "
                "with --participant-column), or leave the cohort out of `cohorts`, or set paired = false"
            )
        x_columns.append(pd.Index(tumor_all).get_indexer(shared))
        n_columns.append(pd.Index(ids).get_indexer(shared))
    return replace(x, columns=tuple(x_columns)), replace(normal, columns=tuple(n_columns))


def _where_text(where: str) -> str:
    from linkscan.engine.samples import describe, parse_where

    return describe(parse_where(where)) if where else ""


def _kept_samples(store, cohorts, spec: ScanSpec, ids: list[np.ndarray]) -> list[np.ndarray] | None:
    """Per cohort, which of its samples (``ids``, of the scanned omics) pass the job's
    sample filters; None without filters."""
    if not (spec.where or spec.exclude_samples):
        return None
    from linkscan.engine.samples import kept, parse_where

    where = parse_where(spec.where) if spec.where else None
    keep = []
    for cohort, names in zip(cohorts, ids):
        table = store.phenotypes(cohort) if where is not None and store.has_phenotypes(cohort) else {}
        keep.append(kept(names, where=where, exclude=spec.exclude_samples, phenotypes=table, cohort=cohort))
        if not keep[-1].any():
            raise JobError(f"cohort {cohort}: the sample filters leave none of its {len(names)} samples "
                           f"(where = {spec.where!r}, {len(spec.exclude_samples)} excluded ids); loosen them or "
                           "leave the cohort out of `cohorts`")
    if spec.exclude_samples and all(k.all() for k in keep) and not spec.where:
        known = np.concatenate(ids)
        raise JobError(f"exclude_samples: none of its {len(spec.exclude_samples)} ids is a sample of the scan "
                       f"(e.g. {spec.exclude_samples[0]!r}; the samples are named like {known[0]!r}); fix the ids")
    return keep


def _phenotype_partners(store, cohorts, spec: ScanSpec, samples: list[np.ndarray]) -> tuple[Partner, ...]:
    """Phenotypes (and mutation rows) of the scan, aligned to each cohort's scanned
    samples (ids)."""
    tables = [store.phenotypes(c) if store.has_phenotypes(c) else {} for c in cohorts]
    names = sorted(set().union(*tables))
    if spec.phenotypes:
        unknown = [n for n in spec.phenotypes if n not in names]
        if unknown:
            raise JobError(f"phenotypes {', '.join(map(repr, unknown))} are in no cohort of the scan; "
                           f"the cohorts have: {', '.join(names) or 'none (ingest a clinical table)'}")
        names = list(spec.phenotypes)
    else:  # every phenotype but the covariates (a test adjusted for itself means nothing)
        names = [n for n in names if n not in spec.covariates]
    partners = []
    for name in names:
        found = [t[name] for t in tables if name in t]
        types = {p.type for p in found}
        if len(types) > 1:
            raise JobError(f"phenotype {name!r} has different types across cohorts ({', '.join(sorted(types))}); "
                           "ingest it with one type everywhere")
        levels = {p.levels for p in found}
        if len(levels) > 1:
            raise JobError(f"phenotype {name!r} has different levels across cohorts; declare its levels "
                           "at ingest (--levels) so that every cohort orders them alike")
        kind, level = types.pop(), levels.pop()
        data = []
        for c, table in enumerate(tables):
            if name not in table:
                data.append(None)
                continue
            p = table[name].align(samples[c])
            if kind == "CON":
                data.append({"values": np.asarray(p.values, dtype=np.float64)})
            elif kind == "SURV":
                event = np.where(p.event < 0, np.nan, p.event).astype(np.float64)
                data.append({"time": np.asarray(p.time, dtype=np.float64), "event": event})
            else:
                x_code = 1 if level == ("0", "1") else 0  # as Partner.groups
                data.append({"codes": np.asarray(p.codes, dtype=np.int64), "x_code": x_code})
        partners.append(Partner(name, "phenotype", kind, level, tuple(data)))
    if spec.mutations:
        partners.extend(_mutation_partners(store, cohorts, spec, samples))
    if not partners:
        raise JobError("the phenotype scan has nothing to test: no phenotype in its cohorts and no "
                       "`mutations` omics; ingest a clinical or survival table, or set mutations")
    return tuple(partners)


def _mutation_partners(store, cohorts, spec: ScanSpec, samples) -> list[Partner]:
    """Rows of a binary omics with at least ``min_group`` carriers and non-carriers among
    the scanned samples of some cohort, as binary phenotypes (x = carriers)."""
    aligned = {}
    for c, cohort in enumerate(cohorts):
        if spec.mutations not in store.omics(cohort):
            continue
        ds = store.open(cohort, spec.mutations)
        if ds.attrs.get("kind") != "binary":
            raise JobError(f"mutations = {spec.mutations!r}: cohort {cohort} has it as "
                           f"{ds.attrs.get('kind', 'continuous')} values; ingest a 0/1 table (.cbt or --binary)")
        columns = pd.Index(ds["sample"].to_numpy().astype(str)).get_indexer(samples[c])
        # the version just opened, checked after the read as a tile's (a re-ingest that
        # removes it meanwhile is an error, never fill values)
        values = store.pinned_values(cohort, spec.mutations, ds.attrs["version"]).rows(0, ds.sizes["feature"])
        codes = np.where(columns >= 0, values[:, np.maximum(columns, 0)], np.nan)
        codes = np.where(np.isnan(codes), -1, codes).astype(np.int64)
        for name, row in zip(ds["feature"].to_numpy().astype(str), codes):
            if min((row == 1).sum(), (row == 0).sum()) >= spec.min_group:
                aligned.setdefault(name, {})[c] = row
    return [
        Partner(name, spec.mutations, "BIN", ("0", "1"),
                tuple({"codes": rows[c], "x_code": 1} if c in rows else None for c in range(len(cohorts))))
        for name, rows in sorted(aligned.items())
    ]
