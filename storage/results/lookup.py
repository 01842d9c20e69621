"""Lookups of a finished store: the associations of one feature or gene, read from the
one shard that holds it (``code // shard_size``), a few row groups of it, each checked
against its checksum in complete.json as it is read (:mod:`~linkscan.storage.results.checksums`)."""

from __future__ import annotations

import difflib
import json
import math
import numbers
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from linkscan.errors import ResultsError
from linkscan.storage.results.checksums import ShardReader, row_group_range
from linkscan.storage.results.files import read_parquet
from linkscan.storage.results.schema import Q_SUFFIX, dtypes_of
from linkscan.storage.results.shards import shard_name

if TYPE_CHECKING:
    from linkscan.storage.results.store import ResultStore


class Lookups:
    """The lookups of a :class:`~linkscan.storage.results.store.ResultStore` (a mixin of
    it: reads under its ``path``)."""

    def features(self) -> pd.DataFrame:
        """The scan's entities (code, feature, gene, omics) of ``features.parquet``."""
        return read_parquet(self.path / "features.parquet")

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
            Keep the ``top`` strongest partners per feature: an integer >= 1.
        min_slogp
            Keep rows with ``|slogp| >= min_slogp`` (of ``cohort``, or the meta p): a
            finite number >= 0 (6 keeps p < 1e-6).
        max_fdr
            Keep rows whose Benjamini-Hochberg q (of ``cohort``, or the meta p) is at
            most ``max_fdr``: 0 < max_fdr <= 1.
        partner
            Keep partners with this id (case-insensitive), e.g. one phenotype.

        Returns
        -------
        One row per (feature, partner) with ids decoded, sorted by the ranking column's
        absolute value, descending (nulls last); a cohort without a result reads as NaN
        (its float columns) and NA (its count). Scans of two omics add the omics of both
        sides; scans with two-group tests add ``x_group`` and ``y_group`` (the effect is
        x - y; ``COHORT_nx`` counts the x group's samples, ``n - nx`` the y group's; ""
        for tests of other kinds).

        Raises
        ------
        ResultsError
            An option out of its range; an unknown gene or cohort; a store that is not
            complete; a shard that is missing or whose bytes do not match their
            checksums in complete.json (named, with the fix).
        """
        _check_options(top, min_slogp, max_fdr)
        opened = self._opened()
        manifest = opened.manifest
        cohorts = manifest["cohorts"]
        if cohort is not None:
            match = {c.lower(): c for c in cohorts}.get(cohort.lower())
            if match is None:
                raise ResultsError(f"cohort {cohort!r} is not in this scan; it has: {', '.join(cohorts)}")
            cohort = match
        features = opened.features
        rows = opened.rows(self, opened.match(gene))
        prefix = "meta" if cohort is None else cohort
        score = rows[f"{prefix}_slogp"].to_numpy(dtype=np.float64, na_value=np.nan)
        keep = np.ones(len(rows), dtype=bool)
        if partner is not None:
            keep &= opened.lowered[rows["partner"].to_numpy()] == partner.lower()
        if cohort is not None:
            keep &= ~np.isnan(score)
        if min_slogp is not None:
            keep &= np.abs(score) >= min_slogp
        if max_fdr is not None:
            keep &= rows[f"{prefix}_{Q_SUFFIX[0]}"].to_numpy(dtype=np.float64, na_value=np.nan) <= np.log10(max_fdr)
        kept = np.flatnonzero(keep)
        order = kept[np.argsort(-np.nan_to_num(np.abs(score[kept]), nan=-1.0), kind="stable")]
        if top is not None:
            order = order[rank_within(rows["feature"].to_numpy()[order]) < top]
        if cohort is None:
            rows = rows.iloc[order]  # one copy: the rows kept, strongest first
        else:
            rows = rows.iloc[order, [rows.columns.get_loc(c) for c in ["feature", "partner", "test"]
                                     + [c for c in rows.columns if c.startswith(f"{cohort}_")]]]
        out = rows.reset_index(drop=True)
        feature_codes = out["feature"].to_numpy()
        partner_codes = out["partner"].to_numpy()
        # ids by taking from the table's string arrays (no Python string per row)
        out["feature"] = features["feature"].array.take(feature_codes)
        out["partner"] = features["feature"].array.take(partner_codes)
        out.insert(2, "partner_gene", features["gene"].array.take(partner_codes))
        if "x_group" in features:  # the two-group tests' groups: of the side that has them
            for at, column in enumerate(("x_group", "y_group"), start=3):
                labels = features[column].to_numpy().astype(object)
                out.insert(at, column, np.where(labels[partner_codes] != "", labels[partner_codes],
                                                labels[feature_codes]))
        if opened.omics_count > 1:
            omics = features["omics"].array
            out.insert(1, "omics", omics.take(feature_codes))
            out.insert(3, "partner_omics", omics.take(partner_codes))
        return out

    def previous_rows(self, codes: np.ndarray) -> pd.DataFrame:
        """Every row of the features ``codes`` in the scan this store is changing from (a
        cohort change keeps it in ``previous/``, its shards still in ``shards/`` until
        the new finish), codes and columns as stored, each read checked against
        ``previous/complete.json``."""
        folder = self.path / "previous"
        return _opened(self, self.root + "#previous", (folder / "complete.json").read_bytes(), folder).rows(self, codes)

    def _opened(self) -> "_Opened":
        """The store as lookups read it (cached per process while complete.json stays
        the same); ResultsError if it is not complete."""
        return _opened(self, self.root, self.completion())


def _opened(store: ResultStore, key: str, completion: bytes, folder=None) -> "_Opened":
    """The finished scan under ``folder`` (default: the store's own) as lookups read it,
    kept in ``_OPENED`` under ``key`` while its complete.json is ``completion``."""
    opened = _OPENED.get(key)
    if opened is None or opened.completion != completion:
        opened = _OPENED[key] = _Opened(store, completion, folder)
    return opened


class _Opened:
    """What every lookup of a finished store reads once: its manifest, feature table, a
    name index, the shards' checksums and their checked Parquet footers. Kept per
    process (``_OPENED``) for as long as the store's complete.json is the same bytes, so
    a warm lookup reads one small file, then only the row groups of its feature."""

    def __init__(self, store: ResultStore, completion: bytes, folder=None) -> None:
        folder = folder if folder is not None else store.path  # previous/: the scan a cohort change reads
        self.completion = completion
        self.records = store.shard_records(completion)
        self.manifest = json.loads((folder / "manifest.json").read_bytes())
        self.dtypes = dtypes_of(self.manifest)
        self.features = read_parquet(folder / "features.parquet")
        lowered = {column: self.features[column].str.lower().to_numpy(dtype=object) for column in ("feature", "gene")}
        self.lowered = lowered["feature"]  # by code: a lookup's partner filter
        codes = self.features["code"].tolist()
        names: dict[str, list[int]] = {}
        for column in ("feature", "gene"):
            for name, code in zip(lowered[column].tolist(), codes):
                if name:
                    names.setdefault(name, []).append(code)
        self.names = {name: found if len(found) == 1 else sorted(set(found)) for name, found in names.items()}
        self.omics_count = self.features["omics"].nunique()
        self._shards: dict[int, _Shard] = {}

    def match(self, query: str) -> list[int]:
        """Codes of the features named ``query`` (id or gene, any case); ResultsError if none."""
        codes = self.names.get(query.strip().lower())
        return codes if codes else _match_feature(self.features, query)  # the error with close matches

    def rows(self, store: ResultStore, codes) -> pd.DataFrame:
        """Every stored row of the features ``codes`` (at least one), from the shards
        that hold them."""
        shard_size = self.manifest["shard_size"]
        frames = []
        for shard in sorted({int(c) // shard_size for c in codes}):
            wanted = [int(c) for c in codes if c // shard_size == shard]
            rows = self.shard(store, shard).rows(wanted)
            mine = rows["feature"].isin(wanted).to_numpy()
            frames.append(rows if mine.all() else rows[mine])  # a row group may hold other features
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def shard(self, store: ResultStore, shard: int) -> "_Shard":
        """Shard number ``shard`` of ``store``, its footer read and checked once."""
        if shard not in self._shards:
            name = shard_name(shard)
            self._shards[shard] = _Shard(ShardReader(store.path / "shards" / name, store.path, self.records[name]),
                                         self.dtypes)
        return self._shards[shard]


class _Shard:
    """A finished shard as lookups read it: its footer, checked and parsed once; then,
    per lookup, only the row groups that may hold the wanted features, each read in one
    piece, checked, and decoded from those same bytes (never read twice)."""

    def __init__(self, reader: ShardReader, dtypes: dict[str, str]) -> None:
        self.reader, self.dtypes = reader, dtypes
        self.metadata = reader.metadata()
        # each row group's least and greatest feature code, from the writer's statistics
        at = self.metadata.schema.names.index("feature")
        bounds = np.array([_code_bounds(self.metadata.row_group(i).column(at).statistics)
                           for i in range(self.metadata.num_row_groups)], dtype=np.int64).reshape(-1, 2)
        self.first, self.last = bounds[:, 0], bounds[:, 1]
        # a shard written by fastparquet (an older linkscan) has no Arrow schema: its
        # counts read as floats and its test as strings unless cast
        self.legacy = b"ARROW:schema" not in (self.metadata.metadata or {})

    def rows(self, codes: list[int]) -> pd.DataFrame:
        """The rows of the row groups whose ``feature`` range may hold one of ``codes``
        (the caller keeps the rows of ``codes``), in the store's dtypes: NaN (NA for
        counts) where a cohort has no result."""
        import pyarrow as pa

        wanted = np.asarray(codes, dtype=np.int64)[:, None]
        hit = np.flatnonzero(((self.first <= wanted) & (wanted <= self.last)).any(axis=0))
        tables = [self._row_group(int(index)) for index in hit]
        if not tables:  # no row holds these features (none has a result): nothing to read
            tables = [self.metadata.schema.to_arrow_schema().empty_table()]
        frame = (tables[0] if len(tables) == 1 else pa.concat_tables(tables)).to_pandas()
        return frame.astype(self.dtypes) if self.legacy else frame

    def _row_group(self, index: int):
        """Row group ``index`` as an Arrow table, decoded from its checked bytes."""
        import pyarrow.parquet as pq

        checked = self.reader.row_group(index, *row_group_range(self.metadata.row_group(index)))
        return pq.ParquetFile(checked, metadata=self.metadata).read_row_group(index)


def _code_bounds(statistics) -> tuple[int, int]:
    """(least, greatest) code of a column chunk's Parquet statistics (pyarrow's); a
    chunk without them (no rows) holds no code: (1, 0)."""
    if statistics is None or not statistics.has_min_max:
        return 1, 0
    return int(statistics.min), int(statistics.max)


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


def rank_within(codes: np.ndarray) -> np.ndarray:
    """Each position's rank among the positions of its code, in order: 0 for the first
    row of a feature, 1 for its second, ... (a lookup's ``top`` and the ``top`` keep
    policy of :mod:`linkscan.engine.keep`).

    >>> rank_within(np.array([5, 3, 5, 5, 3]))
    array([0, 0, 1, 2, 1])
    """
    by_code = np.argsort(codes, kind="stable")
    sorted_codes = codes[by_code]
    first = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(len(codes)), 0))
    rank = np.empty(len(codes), dtype=np.int64)
    rank[by_code] = np.arange(len(codes)) - starts
    return rank


def _check_options(top, min_slogp, max_fdr) -> None:
    """ResultsError naming the first option of a lookup outside its range."""
    def number(value) -> float:
        return float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan

    if top is not None and (isinstance(top, bool) or not isinstance(top, numbers.Integral) or top < 1):
        raise ResultsError(f"top = {top!r} is not valid: give top >= 1, an integer (the strongest partners "
                           "kept per feature)")
    if min_slogp is not None and not (math.isfinite(number(min_slogp)) and min_slogp >= 0):
        raise ResultsError(f"min_slogp = {min_slogp!r} is not valid: give a finite number >= 0 (the least "
                           "|slogp| = -log10 p kept; 6 keeps p < 1e-6)")
    if max_fdr is not None and not 0 < number(max_fdr) <= 1:
        raise ResultsError(f"max_fdr = {max_fdr!r} is not valid: give 0 < max_fdr <= 1 (the largest "
                           "Benjamini-Hochberg q kept, e.g. 0.05)")
