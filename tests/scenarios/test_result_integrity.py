"""Nothing lost, nothing wrong (issue 10, the result store): a real small scan on a
LocalCluster, its finished shards damaged the way disks and copies damage files, read
by lookups, by other Parquet readers (pyarrow, DuckDB), and repaired by following the
printed advice to the letter.

- A flipped byte in a row group a lookup reads, in the footer, or a truncated or missing
  shard: the lookup is a ResultsError naming the shard and the fix, never data. A row
  group the lookup does not read does not stop it, but ``ResultStore.verify()`` finds it.
- A cohort without a result is a Parquet null in the shards: pyarrow counts it, DuckDB's
  aggregates and filters skip it; fastparquet lookups still show NaN.
- Every fix the store prints works when followed literally: the shards it rebuilds are
  byte-identical to the undamaged ones.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.runner import open_client, run_scan
from linkscan.errors import LinkscanError, ResultsError
from linkscan.jobs import demo
from linkscan.storage.results.store import ResultStore
from stores import proteome_store

COHORTS = ("BRCA", "COAD", "LUAD")
SHARD = "shards/00000.parquet"
#: The fix printed for a damaged or missing shard (paths as the store names them).
REBUILD = r"delete (\S+complete\.json) and (\S+shards)/ and resubmit the job"


@pytest.fixture(scope="module")
def client():
    """A real LocalCluster of 2 single-threaded worker processes."""
    with open_client(n_workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def cohort_store(tmp_path_factory) -> Path:
    """Three synthetic cohorts of 300 proteins (three row groups in the shard); each cohort lacks a few (missing results)."""
    return proteome_store(tmp_path_factory.mktemp("cohorts"), n_features=300, cohorts=COHORTS, seed=3,
                          samples=(30, 60))


def _spec(cohort_store: Path, results: Path) -> ScanSpec:
    return ScanSpec(store=str(cohort_store), results=str(results), omics="proteome", tile_size=100)


@pytest.fixture(scope="module")
def scanned(cohort_store, client, tmp_path_factory) -> Path:
    """The finished scan, never damaged: tests damage copies of it."""
    results = tmp_path_factory.mktemp("scanned") / "res"
    run_scan(_spec(cohort_store, results), client=client, progress=False)
    return results


@pytest.fixture
def results(scanned, tmp_path) -> Path:
    """A copy of the finished scan, for this test to damage."""
    return Path(shutil.copytree(scanned, tmp_path / "res"))


def _files(results: Path) -> dict[str, bytes]:
    """The bytes of every shard, of features.parquet and of complete.json."""
    files = sorted((results / "shards").glob("*.parquet")) + [results / "features.parquet",
                                                              results / "complete.json"]
    return {p.name: p.read_bytes() for p in files}


def _row_groups(shard: Path) -> list[dict]:
    """Each row group of ``shard`` as pyarrow reads its footer: byte range, the range of
    each column chunk, and the first and last feature code."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(shard).metadata
    groups = []
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        chunks = {}
        for j in range(rg.num_columns):
            col = rg.column(j)
            start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
            chunks[col.path_in_schema] = (start, start + col.total_compressed_size)
        stats = rg.column(0).statistics  # "feature": the only column with statistics besides partner
        groups.append({"start": min(s for s, _ in chunks.values()), "end": max(e for _, e in chunks.values()),
                       "chunks": chunks, "first": stats.min, "last": stats.max})
    return groups


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _flip_value(shard: Path, group: dict, column: str, value: np.float32) -> None:
    """Flip the sign and exponent byte of ``value`` where ``column``'s chunk of ``group``
    stores it (random floats are LZ4 literals: their bytes are in the file as they are)."""
    start, end = group["chunks"][column]
    at = shard.read_bytes().find(np.float32(value).tobytes(), start, end)
    assert at >= 0
    _flip(shard, at + 3)


def _feature(results: Path, code: int) -> str:
    return ResultStore(str(results)).features().feature[code]


def _rebuild_as_printed(message: str, cohort_store: Path, results: Path, client) -> None:
    """Follow the printed fix literally: delete the files it names, resubmit the job."""
    complete, shards = re.search(REBUILD, message).groups()
    Path(complete).unlink()
    shutil.rmtree(shards)
    run_scan(_spec(cohort_store, results), client=client, progress=False)


# ------------------------------------------------------------------- damaged shards


def test_lookup__a_flipped_byte_in_a_row_group_it_reads_is_an_error(results, scanned):
    """A flipped byte in a value the lookup returns: LZ4 keeps random floats as literals,
    so fastparquet decodes a wrong number without complaint; only the row group's
    checksum can tell."""
    groups = _row_groups(results / SHARD)
    assert len(groups) > 2
    gene = _feature(results, groups[1]["last"])
    _flip_value(results / SHARD, groups[1], "meta_slogp", ResultStore(str(scanned)).lookup(gene).meta_slogp[0])
    with pytest.raises(ResultsError) as info:
        ResultStore(str(results)).lookup(gene)
    message = str(info.value)
    assert f"result shard {results / SHARD} is damaged: its row group 1 does not match" in message
    assert re.search(REBUILD, message) and "\n" not in message


def test_lookup__damage_in_a_row_group_it_does_not_read_is_found_by_verify(results, scanned):
    groups = _row_groups(results / SHARD)
    read, damaged = groups[0], groups[-1]
    gene = _feature(results, read["first"])
    before = ResultStore(str(scanned)).lookup(gene)
    _flip(results / SHARD, (damaged["start"] + damaged["end"]) // 2)
    store = ResultStore(str(results))
    pd.testing.assert_frame_equal(store.lookup(gene), before)
    with pytest.raises(ResultsError, match=rf"result shard {re.escape(str(results / SHARD))} is damaged: "
                                           rf"its sha256 differs from complete.json's; {REBUILD}"):
        store.verify()
    assert ResultStore(str(scanned)).verify() is None  # the undamaged store passes


def test_lookup__a_flipped_byte_in_the_footer_is_an_error(results):
    """The footer's writer name (``created_by``, which readers consult for the quirks of
    a writer's versions): a flipped byte there changes no length, and is read without
    complaint."""
    shard = results / SHARD
    data = shard.read_bytes()
    at = data.rindex(b"parquet-cpp-arrow")
    _flip(shard, at + 1)
    with pytest.raises(ResultsError, match=rf"result shard {re.escape(str(shard))} is damaged: its footer "
                                           rf"does not match its checksum in complete.json; {REBUILD}"):
        ResultStore(str(results)).lookup(demo.DEMO_GENE)


def test_lookup__a_truncated_shard_is_an_error(results):
    shard = results / SHARD
    size = shard.stat().st_size
    shard.write_bytes(shard.read_bytes()[: size - 1])
    with pytest.raises(ResultsError, match=rf"result shard {re.escape(str(shard))} is damaged: it is shorter "
                                           rf"than the {size:,} bytes complete.json records; {REBUILD}"):
        ResultStore(str(results)).lookup(demo.DEMO_GENE)


def test_lookup__an_undamaged_store_returns_the_rows_as_stored(scanned):
    """Every feature's lookup, read through the checksums, holds exactly the shard's rows
    of that feature, as fastparquet reads the whole file (NaN where a cohort has none)."""
    import fastparquet

    store = ResultStore(str(scanned))
    stored = fastparquet.ParquetFile(str(scanned / SHARD)).to_pandas()
    ids = store.features().feature.to_numpy()
    missing = 0
    for code, feature in enumerate(ids):
        got = store.lookup(feature).sort_values("partner", ignore_index=True)
        want = stored[stored.feature == code].drop(columns="feature")
        want = want.assign(partner=ids[want.partner]).sort_values("partner", ignore_index=True)
        pd.testing.assert_frame_equal(got.drop(columns=["feature", "partner_gene"]), want)
        missing += int(got.filter(like="_stat").isna().to_numpy().sum())
    assert missing > 0  # some cohort lacks some protein: NaN reaches the lookups


# -------------------------------------------------------------- nulls, not NaN


def _shard_rows(results: Path) -> pd.DataFrame:
    import fastparquet

    return pd.concat([fastparquet.ParquetFile(str(p)).to_pandas()
                      for p in sorted((results / "shards").glob("*.parquet"))], ignore_index=True)


FLOATS = [f"{c}_{s}" for c in COHORTS for s in ("stat", "slogp", "log10q")] + ["meta_slogp", "meta_log10q"]


def test_shards__a_missing_result_is_a_parquet_null(scanned):
    import pyarrow.parquet as pq

    table = pq.read_table(scanned / SHARD)
    rows = _shard_rows(scanned)
    for column in FLOATS:
        assert table.schema.field(column).nullable, column
        assert table.column(column).null_count == rows[column].isna().sum(), column
    for cohort in COHORTS:
        no_result = int(rows[f"{cohort}_n"].isna().sum())
        assert no_result > 0
        for suffix in ("stat", "slogp", "log10q"):
            assert table.column(f"{cohort}_{suffix}").null_count == no_result
    assert not any(np.isnan(table.column(c).drop_null().to_numpy()).any() for c in FLOATS)  # no NaN left


def test_shards__duckdb_aggregates_and_filters_skip_missing_results(scanned):
    import duckdb

    rows = _shard_rows(scanned)
    files = str(scanned / "shards" / "*.parquet")
    with duckdb.connect() as db:
        answers = {column: db.execute(
            f"SELECT count({column}), max({column}), avg({column}), count(*) FILTER (WHERE {column} > 6) "
            f"FROM read_parquet('{files}')").fetchone()
            for column in ["COAD_slogp", "COAD_stat", "BRCA_log10q", "meta_slogp"]}
    for column, (count, high, mean, above) in answers.items():
        x = rows[column].dropna().to_numpy(np.float64)
        assert count == len(x)
        assert high == pytest.approx(x.max()) and mean == pytest.approx(x.mean(), rel=1e-6)
        assert above == int((x > 6).sum())
    assert rows["COAD_slogp"].isna().any()  # so that the counts above had something to skip


def test_lookup__missing_results_still_read_as_nan(scanned):
    rows = _shard_rows(scanned)
    lacking = rows["LUAD_n"].isna().groupby(rows.feature).all()
    code = int(lacking.index[lacking.to_numpy()][0])  # a protein LUAD lacks
    out = ResultStore(str(scanned)).lookup(_feature(scanned, code))
    assert out.LUAD_stat.dtype == np.float32 and out.LUAD_stat.isna().all()
    assert out.LUAD_n.isna().all() and out.LUAD_log10q.isna().all() and out.COAD_stat.notna().any()


# ---------------------------------------------------- every printed fix works


def test_damaged_shard__the_printed_fix_rebuilds_identical_shards(results, scanned, cohort_store, client):
    group = _row_groups(results / SHARD)[0]
    gene = _feature(results, group["first"])
    _flip_value(results / SHARD, group, "meta_slogp", ResultStore(str(scanned)).lookup(gene).meta_slogp[0])
    store = ResultStore(str(results))
    with pytest.raises(ResultsError) as info:
        store.lookup(gene)
    _rebuild_as_printed(str(info.value), cohort_store, results, client)
    assert _files(results) == _files(scanned)
    store.verify()


def test_missing_shard__the_printed_fix_rebuilds_identical_shards(results, scanned, cohort_store, client):
    (results / SHARD).unlink()
    with pytest.raises(ResultsError, match=rf"result shard {re.escape(str(results / SHARD))} is missing; "
                                           rf"{REBUILD}") as info:
        ResultStore(str(results)).lookup(demo.DEMO_GENE)
    _rebuild_as_printed(str(info.value), cohort_store, results, client)
    assert _files(results) == _files(scanned)


def test_incomplete_store__the_printed_fix_finishes_it(results, scanned, cohort_store, client):
    """complete.json deleted (the tiles' parts are gone since the scan finished): the
    lookup says to submit the job; submitting computes every tile again."""
    (results / "complete.json").unlink()
    with pytest.raises(ResultsError, match=r"is not complete .* run `linkscan submit` on its job"):
        ResultStore(str(results)).lookup(demo.DEMO_GENE)
    report = run_scan(_spec(cohort_store, results), client=client, progress=False)
    assert len(report.tiles_run) == report.tiles_total == 6
    assert _files(results) == _files(scanned)


def test_deleted_ledger__resubmitting_finishes_the_scan(cohort_store, scanned, client, tmp_path):
    """An interrupted scan whose ledger/ folder was deleted: resubmitting writes the
    ledger again (every tile runs) instead of failing every tile."""
    from linkscan.engine.tile import run_tile

    spec = _spec(cohort_store, tmp_path / "res")
    plan = make_plan(spec)
    plan.context.results.create_or_resume(plan.manifest, plan.features)
    for tile in plan.tiles[:3]:
        run_tile(plan.context, tile)
    shutil.rmtree(tmp_path / "res" / "ledger")
    report = run_scan(spec, client=client, progress=False)
    assert len(report.tiles_run) == 6
    assert _files(tmp_path / "res") == _files(scanned)


def test_corrupted_part__the_printed_fix_recomputes_its_tile(cohort_store, scanned, client, tmp_path):
    """A part damaged after the submission checked it stops the finish; deleting the
    ledger entry it names and resubmitting recomputes that tile."""
    from linkscan.engine.finish import finish_shard
    from linkscan.engine.tile import run_tile

    spec = _spec(cohort_store, tmp_path / "res")
    plan = make_plan(spec)
    rs = plan.context.results
    rs.create_or_resume(plan.manifest, plan.features)
    entries = [run_tile(plan.context, tile) for tile in plan.tiles]
    _flip(tmp_path / "res" / "parts" / "00000" / f"{plan.tiles[2].key}.parquet", 40)
    with pytest.raises(ResultsError, match=r"does not match its ledger checksum; delete (\S+) and resubmit") as info:
        finish_shard(rs, 0, entries)
    Path(re.search(r"delete (\S+) and resubmit", str(info.value)).group(1)).unlink()
    report = run_scan(spec, client=client, progress=False)
    assert report.tiles_run == [plan.tiles[2].key]
    assert _files(tmp_path / "res") == _files(scanned)


def test_other_scan__the_printed_fix_starts_over(cohort_store, scanned, client, tmp_path):
    """A job pointed at the results of another scan: deleting them, as told, and
    submitting starts over."""
    results = Path(shutil.copytree(scanned, tmp_path / "res"))
    other = ScanSpec(store=str(cohort_store), results=str(results), omics="proteome", tile_size=100, min_n=12)
    with pytest.raises(LinkscanError, match=r"different scan .* or delete this one to start over"):
        run_scan(other, client=client, progress=False)
    shutil.rmtree(results)
    report = run_scan(other, client=client, progress=False)
    assert len(report.tiles_run) == 6 and ResultStore(str(results)).lookup(demo.DEMO_GENE).COAD_n.min() >= 12
