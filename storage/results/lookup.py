"""Lookups of a finished store: the associations of one feature or gene, read from the
one shard that holds it (``code // shard_size``), a few row groups of it."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from linkscan.errors import ResultsError
from linkscan.storage.location import Location
from linkscan.storage.results.schema import Q_SUFFIX

if TYPE_CHECKING:
    from linkscan.storage.results.store import ResultStore


class Lookups:
    """The lookups of a :class:`~linkscan.storage.results.store.ResultStore` (a mixin of
    it: reads under its ``path``)."""

    def features(self) -> pd.DataFrame:
        """The scan's entities (code, feature, gene, omics) of ``features.parquet``."""
        return (self.path / "features.parquet").parquet().to_pandas()

    def lookup(self, gene: str, *, cohort: str | None = None, top: int | None = None,
               min_slogp: float | None = None, max_fdr: float | None = None,
               partner: str | None = None) -> pd.DataFrame:
        """The associations of one feature or gene, strongest first.

        Parameters
        ----------
        gene
            A feature id or a gene symbol, matched case-insensitively. A gene symbol
            shared by several features (phosphosites of one gene, or the same gene in
            two omics) returns all of them.
        cohort
            Keep only this cohort's columns and rank by its ``slogp``; default: rank by
            ``meta_slogp`` and keep every cohort.
        top
            Keep the ``top`` strongest partners per feature.
        min_slogp
            Keep rows with ``|slogp| >= min_slogp`` (of ``cohort``, or the meta p).
        max_fdr
            Keep rows whose Benjamini-Hochberg q (of ``cohort``, or the meta p) is at
            most ``max_fdr``.
        partner
            Keep partners with this id (case-insensitive), e.g. one phenotype.

        Returns
        -------
        One row per (feature, partner) with ids decoded, sorted by the ranking column's
        absolute value, descending (nulls last). Scans of two omics add the omics of
        both sides.
        """
        opened = self._opened()
        manifest = opened.manifest
        cohorts = manifest["cohorts"]
        if cohort is not None:
            match = {c.lower(): c for c in cohorts}.get(cohort.lower())
            if match is None:
                raise ResultsError(f"cohort {cohort!r} is not in this scan; it has: {', '.join(cohorts)}")
            cohort = match
        features = opened.features
        codes = opened.match(gene)
        shard_size = manifest["shard_size"]
        frames = []
        for shard in sorted({int(c) // shard_size for c in codes}):
            file = self.path / "shards" / f"{shard:05d}.parquet"
            wanted = [c for c in codes if c // shard_size == shard]
            try:
                rows = opened.shard(shard, file).to_pandas(filters=[("feature", "in", wanted)])
            except Exception as exc:  # truncated or overwritten: never read as valid
                raise ResultsError(
                    f"result shard {file} cannot be read ({type(exc).__name__}: {exc}); the store is "
                    "damaged: delete its complete.json and shards/ and resubmit the job to rebuild them"
                ) from None
            frames.append(rows[rows["feature"].isin(wanted)])
        rows = pd.concat(frames, ignore_index=True)
        ids = features["feature"].to_numpy()
        if partner is not None:
            rows = rows[np.char.lower(ids[rows["partner"].to_numpy()].astype(str)) == partner.lower()]
        prefix = "meta" if cohort is None else cohort
        key = f"{prefix}_slogp"
        if cohort is not None:
            rows = rows[["feature", "partner", "test"] + [c for c in rows.columns if c.startswith(f"{cohort}_")]]
            rows = rows[rows[key].notna()]
        if min_slogp is not None:
            rows = rows[rows[key].abs() >= min_slogp]
        if max_fdr is not None:
            rows = rows[rows[f"{prefix}_{Q_SUFFIX[0]}"] <= np.log10(max_fdr)]
        order = np.argsort(-rows[key].abs().fillna(-1).to_numpy(), kind="stable")
        rows = rows.iloc[order]
        if top is not None:
            rows = rows.groupby("feature", sort=False).head(top)
        out = rows.reset_index(drop=True)
        feature_codes = out["feature"].to_numpy()
        partner_codes = out["partner"].to_numpy()
        out["feature"] = ids[feature_codes]
        out["partner"] = ids[partner_codes]
        out.insert(2, "partner_gene", features["gene"].to_numpy()[partner_codes])
        if features["omics"].nunique() > 1:
            omics = features["omics"].to_numpy()
            out.insert(1, "omics", omics[feature_codes])
            out.insert(3, "partner_omics", omics[partner_codes])
        return out

    def _opened(self) -> "_Opened":
        """The store as lookups read it (cached per process while complete.json stays
        the same); ResultsError if it is not complete."""
        try:
            complete = (self.path / "complete.json").read_bytes()
        except FileNotFoundError:
            done = len(self.ledger_names())
            raise ResultsError(
                f"{self.path} is not complete ({done} of {self.manifest()['n_tiles']} tiles finished); "
                "run `linkscan submit` on its job to finish it before looking genes up"
            ) from None
        opened = _OPENED.get(self.root)
        if opened is None or opened.complete != complete:
            opened = _OPENED[self.root] = _Opened(self, complete)
        return opened


class _Opened:
    """What every lookup of a finished store reads once: its manifest, feature table, a
    name index and the shards' Parquet footers. Kept per process (``_OPENED``) for as
    long as the store's complete.json is the same bytes, so a warm lookup reads one
    small file, then only the row groups of its feature."""

    def __init__(self, store: ResultStore, complete: bytes) -> None:
        self.complete = complete
        self.manifest = store.manifest()
        self.features = store.features()
        names: dict[str, list[int]] = {}
        for column in ("feature", "gene"):
            for name, code in zip(self.features[column].str.lower(), self.features["code"]):
                if name:
                    names.setdefault(name, []).append(int(code))
        self.names = {name: sorted(set(codes)) for name, codes in names.items()}
        self._shards: dict[int, object] = {}

    def match(self, query: str) -> list[int]:
        """Codes of the features named ``query`` (id or gene, any case); ResultsError if none."""
        codes = self.names.get(query.strip().lower())
        return codes if codes else _match_feature(self.features, query)  # the error with close matches

    def shard(self, shard: int, file: Location):
        """The ParquetFile of ``shard`` (``file``), its footer read once."""
        if shard not in self._shards:
            self._shards[shard] = file.parquet()
        return self._shards[shard]


#: Finished stores opened by this process's lookups: root -> _Opened.
_OPENED: dict[str, _Opened] = {}


def _match_feature(features: pd.DataFrame, query: str) -> list[int]:
    """Codes of the features whose id or gene equals ``query``, ignoring case (a gene's
    phosphosites, and the gene in every omics of the scan)."""
    q = query.strip().lower()
    hit = features["code"][(features["feature"].str.lower() == q) | (features["gene"].str.lower() == q)]
    if hit.empty:
        names = sorted(set(features["feature"]) | set(features["gene"]))
        lowered = {n.lower(): n for n in names}
        close = [lowered[m] for m in difflib.get_close_matches(q, list(lowered), n=5, cutoff=0.6)]
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ResultsError(f"no feature or gene named {query!r} in this result store{hint}")
    return [int(c) for c in hit]
