"""The features and samples a plan reads from the cohort store: each omics' side of the
universe (its features, optionally a chosen list, and where each cohort keeps them), the
normal samples, the tumor/normal pairs, the samples two omics share, the genes of a cis
scan, and the samples the job's filters keep."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from linkscan.errors import JobError
from linkscan.engine.scanspec import ScanSpec


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


def read_side(store, cohorts, omics: str, offset: int, names=(), key: str = "features"
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


def cohorts_with(store, spec: ScanSpec) -> tuple[str, ...]:
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


def check_apart(store: str, results: str) -> None:
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


def shared_samples(cohort: str, dx, dy) -> tuple[np.ndarray, np.ndarray]:
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


def gene_pairs(x_table: pd.DataFrame, y_table: pd.DataFrame) -> np.ndarray:
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


def normal_side(store, cohorts, omics: str, x_table: pd.DataFrame, exclude: tuple[str, ...] = (),
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


def paired_sides(store, cohorts, spec: ScanSpec, x: Side, normal: Side, tumor_all: list[np.ndarray],
                 tumor_ids: list[np.ndarray]) -> tuple[Side, Side]:
    """The tumor and normal sides of a paired scan: per cohort, the columns of the
    participants with both samples (same id; ``tumor_all`` the tumor Dataset's sample
    ids, ``tumor_ids`` those the filters keep), in one order."""
    x_columns, n_columns = [], []
    for c, cohort in enumerate(cohorts):
        ids = store.open(cohort, spec.omics, tissue="normal")["sample"].to_numpy().astype(str)
        normal_kept = ids[normal.columns[c]] if normal.columns is not None else ids
        shared = np.intersect1d(tumor_ids[c], normal_kept)
        if len(shared) < spec.min_pairs:
            raise JobError(
                f"paired = true: cohort {cohort} has {len(shared)} participants with both a tumor and a normal "
                f"{spec.omics} sample, fewer than min_pairs = {spec.min_pairs} (tumor ids like {tumor_all[c][0]!r}, "
                f"normal ids like {ids[0]!r}; pairs are matched by sample id: ingest both under participant ids "
                "with --participant-column), or leave the cohort out of `cohorts`, or set paired = false"
            )
        x_columns.append(pd.Index(tumor_all[c]).get_indexer(shared))
        n_columns.append(pd.Index(ids).get_indexer(shared))
    return replace(x, columns=tuple(x_columns)), replace(normal, columns=tuple(n_columns))


def where_text(where: str) -> str:
    from linkscan.engine.samples import describe, parse_where

    return describe(parse_where(where)) if where else ""


def kept_samples(store, cohorts, spec: ScanSpec, ids: list[np.ndarray]) -> list[np.ndarray] | None:
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
