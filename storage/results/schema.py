"""The result schema: the columns of a result row, their dtypes and docs, as data; the
shard size; and the Parquet settings of part and shard files."""

from __future__ import annotations

import pandas as pd

#: Version of this schema and of the store's layout, recorded in every manifest.
SCHEMA_VERSION = 1

#: Rows per shard file aimed at when choosing the shard size (bounds finalize memory).
SHARD_TARGET_ROWS = 2_000_000
#: The fewest features per shard file.
MIN_FEATURES_PER_SHARD = 8
#: A finished shard has one feature per row group (a lookup decodes its feature's rows
#: only), but features smaller than this many rows share one (a phenotype scan: ~200
#: features of 10 rows): a row group costs its writer and readers a fixed time per
#: column (storage.results.shards.row_groups).
MIN_ROWS_PER_ROW_GROUP = 2_048
#: Compression of part and shard files. LZ4 (the raw block format, which every Parquet
#: reader takes): on a 10-cohort part of 384k rows it wrote 5x and read 4x faster than
#: zstd for 14% more bytes, and a scan's time is in writing and reading its rows.
COMPRESSION = "LZ4_RAW"

#: The result schema as data: column suffix -> (dtype, doc). Per-cohort columns are
#: ``<COHORT>_<suffix>``.
COHORT_COLUMNS = {
    "stat": ("float32", "the test's effect (Spearman rho for trans); null without a result"),
    "n": ("Int16", "samples used; null without a result"),
    "slogp": ("float32", "sign(effect) * -log10(p); null without a result"),
}
#: Tests a row can come from (STATS.md), in the order of the ``test`` column's codes.
TESTS = ("spearman", "wilcoxon", "jt", "anova", "cox", "signed_rank", "partial_spearman")
TEST_DTYPE = pd.CategoricalDtype(list(TESTS))
PAIR_COLUMNS = {
    "feature": ("int32", "code of the query feature (see features.parquet)"),
    "partner": ("int32", "code of the partner feature"),
    "test": (TEST_DTYPE, "the test that made the row: " + ", ".join(TESTS)),
}
#: Only in scans with two-group tests (tumor vs normal, binary phenotypes, mutations):
#: the samples of the x group among ``n`` (the y group has ``n - nx``).
NX_COLUMN = ("nx", "Int16", "two-group tests: samples in the partner's x_group (the y_group has n - nx)")
#: Only in p_mode "r": True where R returns p = 0, stored as 2.2e-16 as the reference does.
FLOORED_COLUMN = ("floored", "bool", "p_mode r only: R's p = 0, stored as 2.2e-16 (slogp 15.65)")
#: Benjamini-Hochberg q of a p column over the whole scan, log10 (<= 0); added when the
#: scan is finished, for each ``<COHORT>_slogp`` and for ``meta_slogp``.
Q_SUFFIX = ("log10q", "float32", "log10 of the Benjamini-Hochberg q over the whole scan")
META_COLUMNS = {
    "meta_slogp": ("float32", "pan-cancer Stouffer meta p, signed, -log10 (STATS.md)"),
    "meta_log10q": ("float32", Q_SUFFIX[2] + " (of the meta p)"),
    "n_cohorts": ("int8", "cohorts with a result for this pair"),
}


def result_dtypes(cohorts: list[str], p_mode: str = "t", two_groups: bool = False) -> dict[str, str]:
    """Column name -> dtype of a result row for these cohorts, in column order."""
    dtypes = {name: dtype for name, (dtype, _) in PAIR_COLUMNS.items()}
    for cohort in cohorts:
        for suffix, (dtype, _) in COHORT_COLUMNS.items():
            dtypes[f"{cohort}_{suffix}"] = dtype
            if suffix == "n" and two_groups:
                dtypes[f"{cohort}_{NX_COLUMN[0]}"] = NX_COLUMN[1]
        if p_mode == "r":
            dtypes[f"{cohort}_{FLOORED_COLUMN[0]}"] = FLOORED_COLUMN[1]
        dtypes[f"{cohort}_{Q_SUFFIX[0]}"] = Q_SUFFIX[1]
    dtypes.update({name: dtype for name, (dtype, _) in META_COLUMNS.items()})
    return dtypes


def dtypes_of(manifest: dict) -> dict[str, str]:
    """Column name -> dtype of the result rows of the scan of ``manifest`` (its cohorts,
    p mode and two-group tests), in column order."""
    scan = manifest["scan"]
    return result_dtypes(manifest["cohorts"], scan.get("p_mode", "t"), scan.get("two_groups", False))


def shard_size_for(n_entities: int, n_pairs: int) -> int:
    """Entities per shard: a power of two, so that a shard holds about
    :data:`SHARD_TARGET_ROWS` rows on average (each of ``n_pairs`` associations is two
    rows among ``n_entities``; a self-scan of n features has n - 1 rows per feature, a
    phenotype scan a few rows per feature)."""
    rows_per_entity = max(1, 2 * n_pairs // max(n_entities, 1))
    size = max(1, SHARD_TARGET_ROWS // rows_per_entity)
    return int(min(4096, max(MIN_FEATURES_PER_SHARD, 1 << (size.bit_length() - 1))))
