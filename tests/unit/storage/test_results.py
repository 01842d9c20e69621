"""The Parquet result store: parts, ledger, shards, lookups; real files in tmp_path."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkscan.engine.finish import finish_shard
from linkscan.errors import ResultsError
from linkscan.storage.results.schema import TESTS, result_dtypes, shard_size_for
from linkscan.storage.results.shards import shard_name
from linkscan.storage.results.store import ResultStore

COHORTS = ["BRCA", "LUAD"]


def _features(n):
    ids = [f"G{i:03d}" for i in range(n)]
    genes = [f"GENE{i // 2}" for i in range(n)]  # two features per gene, like phosphosites
    return pd.DataFrame({"code": np.arange(n, dtype=np.int32), "feature": ids, "gene": genes,
                         "omics": "proteome"})


def _manifest(n, shard_size, fingerprint="abc", n_tiles=2):
    return {"fingerprint": fingerprint, "scan": {"omics": "proteome"}, "cohorts": COHORTS,
            "n_features": n, "n_tiles": n_tiles, "n_shards": -(-n // shard_size), "shard_size": shard_size}


def _rows(features, partners, rng):
    n = len(features)
    cols = {"feature": np.asarray(features, np.int32), "partner": np.asarray(partners, np.int32),
            "test": pd.Categorical(["spearman"] * len(features), categories=list(TESTS))}
    for c in COHORTS:
        counts = rng.integers(0, 50, n).astype(np.int16)
        cols[f"{c}_stat"] = rng.uniform(-1, 1, n).astype(np.float32)
        cols[f"{c}_n"] = pd.arrays.IntegerArray(counts, counts == 0)
        cols[f"{c}_slogp"] = rng.uniform(-20, 20, n).astype(np.float32)
    cols["meta_slogp"] = rng.uniform(-30, 30, n).astype(np.float32)
    cols["n_cohorts"] = np.full(n, 2, np.int8)
    return pd.DataFrame(cols)


def _bh(rs, entries):
    """Whole-scan BH tables, computed the plain way (R's p.adjust) for these tests."""
    columns = [f"{c}_slogp" for c in COHORTS] + ["meta_slogp"]
    for column, x in rs.p_values(columns, entries).items():
        p = 10.0 ** -x.astype(np.float64)
        order = np.argsort(-p, kind="stable")
        q = np.minimum.accumulate(len(p) / np.arange(len(p), 0, -1) * p[order])
        q = np.minimum(q, 1.0)[np.argsort(order)]
        values, first = np.unique(x, return_index=True)
        rs.save_q_table(column, values, np.log10(q[first]).astype(np.float32))


@pytest.fixture
def store(tmp_path, rng):
    """A finished store of 16 features (shard size 8): every ordered pair a != b."""
    n = 16
    rs = ResultStore(str(tmp_path / "res"))
    assert rs.create_or_resume(_manifest(n, 8), _features(n)) is False
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = a != b
    rows = _rows(a[keep], b[keep], rng)
    # two "tiles", written in an order that is not sorted, split into their shards
    for key, part in (("tile-1", rows.iloc[::2]), ("tile-0", rows.iloc[1::2])):
        shard = part["feature"].to_numpy() // 8
        rs.write_tile(key, {int(s): part[shard == s] for s in np.unique(shard)})
    ledger = rs.ledger()
    _bh(rs, list(ledger.values()))
    records = {shard_name(s): finish_shard(rs, s, [e for e in ledger.values() if str(s) in e["parts"]])
               for s in range(2)}
    rs.mark_complete({"rows": int(keep.sum()), "tiles": 2, "shards": 2, "shard_files": records})
    return rs, rows


def test_result_dtypes__column_order():
    assert list(result_dtypes(["A"])) == ["feature", "partner", "test", "A_stat", "A_n", "A_slogp",
                                          "A_log10q", "meta_slogp", "meta_log10q", "n_cohorts"]
    assert "A_floored" in result_dtypes(["A"], p_mode="r")


def test_shard_size_for__power_of_two_and_bounded():
    for n in (1, 100, 2000, 10_000, 20_000, 1_000_000):
        s = shard_size_for(n, n * (n - 1) // 2)
        assert s & (s - 1) == 0 and 8 <= s <= 4096
    assert shard_size_for(10_000, 10_000 * 9_999 // 2) * 10_000 <= 2_000_000
    # one row or a few per feature (tumor vs normal, phenotypes): few, large shards
    assert shard_size_for(10_001, 10_000) == 4096
    assert shard_size_for(10_005, 10_000 * 5) == 4096
    assert shard_size_for(20_000, 10_000 * 10_000) == shard_size_for(10_000, 10_000 * 9_999 // 2)


def test_lookup__returns_all_partners_sorted_by_abs_meta(store):
    rs, rows = store
    out = rs.lookup("g003")  # case-insensitive feature id
    expected = rows[rows.feature == 3]
    assert len(out) == 15 and set(out.partner) == {f"G{i:03d}" for i in range(16) if i != 3}
    assert (out.feature == "G003").all()
    assert np.all(np.diff(out.meta_slogp.abs().to_numpy()) <= 0)
    merged = out.assign(pc=out.partner.str[1:].astype(int)).set_index("pc").sort_index()
    np.testing.assert_array_equal(merged.BRCA_stat.to_numpy(),
                                  expected.sort_values("partner").BRCA_stat.to_numpy())


def test_lookup__gene_symbol_returns_all_its_features(store):
    rs, _ = store
    out = rs.lookup("gene2")
    assert set(out.feature) == {"G004", "G005"} and len(out) == 30


def test_lookup__cohort_top_and_min_slogp(store):
    rs, rows = store
    out = rs.lookup("G010", cohort="luad", top=5)
    assert list(out.columns) == ["feature", "partner", "partner_gene", "test", "LUAD_stat", "LUAD_n",
                                 "LUAD_slogp", "LUAD_log10q"]
    sub = rows[(rows.feature == 10)]
    assert np.allclose(sorted(out.LUAD_slogp.abs(), reverse=True),
                       sorted(sub.LUAD_slogp.abs(), reverse=True)[:5])
    out = rs.lookup("G010", min_slogp=10)
    assert len(out) == int((sub.meta_slogp.abs() >= 10).sum()) and (out.meta_slogp.abs() >= 10).all()


def test_lookup__unknown_gene_suggests_close_matches(store):
    rs, _ = store
    with pytest.raises(ResultsError, match=r"no feature or gene named 'G0033'.*close matches: G003"):
        rs.lookup("G0033")
    with pytest.raises(ResultsError, match=r"cohort 'OV' is not in this scan; it has: BRCA, LUAD"):
        rs.lookup("G003", cohort="OV")


def test_finish_shard__sorted_row_groups_by_feature(store):
    import fastparquet

    rs, _ = store
    pf = fastparquet.ParquetFile(str(Path(rs.root) / "shards" / "00000.parquet"))
    frame = pf.to_pandas()
    assert frame.feature.is_monotonic_increasing and frame.feature.max() == 7
    assert len(pf.row_groups) == 1  # 8 features, 8 per row group
    assert frame.BRCA_n.dtype == "Int16" and frame.BRCA_n.isna().any()


def test_lookup__refuses_incomplete_store(tmp_path, rng):
    rs = ResultStore(str(tmp_path / "res"))
    rs.create_or_resume(_manifest(16, 8), _features(16))
    rs.write_tile("tile-0", {0: _rows([0, 1], [1, 0], rng)})
    with pytest.raises(ResultsError, match=r"not complete \(1 of 2 tiles finished\).*linkscan submit"):
        rs.lookup("G000")


def test_ledger__truncated_part_unfinishes_its_tile(tmp_path, rng):
    rs = ResultStore(str(tmp_path / "res"))
    rs.create_or_resume(_manifest(16, 8), _features(16))
    rs.write_tile("tile-0", {0: _rows([0, 1], [1, 0], rng)})
    rs.write_tile("tile-1", {1: _rows([8, 9], [9, 8], rng)})
    assert set(rs.ledger()) == {"tile-0", "tile-1"}
    part = Path(rs.root) / "parts" / "00001" / "tile-1.parquet"
    part.write_bytes(part.read_bytes()[:-10])
    assert set(rs.ledger()) == {"tile-0"}


def test_finish_shard__checksum_mismatch_is_an_error(tmp_path, rng):
    rs = ResultStore(str(tmp_path / "res"))
    rs.create_or_resume(_manifest(16, 8), _features(16))
    entry = rs.write_tile("tile-0", {0: _rows([0, 1], [1, 0], rng)})
    part = Path(rs.root) / "parts" / "00000" / "tile-0.parquet"
    data = bytearray(part.read_bytes())
    data[100] ^= 0xFF  # same size, different bytes
    part.write_bytes(bytes(data))
    with pytest.raises(ResultsError, match=r"tile-0.parquet does not match its ledger checksum"):
        finish_shard(rs, 0, [entry])


def test_create_or_resume__refuses_other_scan_and_foreign_dirs(tmp_path):
    rs = ResultStore(str(tmp_path / "res"))
    rs.create_or_resume(_manifest(16, 8), _features(16))
    assert rs.create_or_resume(_manifest(16, 8), _features(16)) is True
    other = _manifest(16, 8, fingerprint="xyz")
    other["scan"] = {"omics": "rna"}
    with pytest.raises(ResultsError, match=r"different scan \(differs in: omics\)"):
        rs.create_or_resume(other, _features(16))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ResultsError, match=r"not empty and is not a linkscan result store"):
        ResultStore(str(foreign)).create_or_resume(_manifest(16, 8), _features(16))


def test_manifest__missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(ResultsError, match=r"is not a linkscan result store \(no manifest.json\)"):
        ResultStore(str(tmp_path / "nothing")).lookup("G001")


def test_write_tile__ledger_records_rows_and_checksums(tmp_path, rng):
    import hashlib

    rs = ResultStore(str(tmp_path / "res"))
    rs.create_or_resume(_manifest(16, 8), _features(16))
    rs.write_tile("tile-0", {0: _rows([0, 1, 2], [1, 0, 0], rng), 1: _rows([8], [0], rng)})
    entry = json.loads((Path(rs.root) / "ledger" / "tile-0.json").read_text())
    assert entry["rows"] == 4 and entry["parts"]["0"]["rows"] == 3
    data = (Path(rs.root) / "parts" / "00001" / "tile-0.parquet").read_bytes()
    assert entry["parts"]["1"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert not list(Path(rs.root).rglob("*.tmp"))


def test_lookup__max_fdr_and_partner_filters(store):
    rs, _ = store
    everything = rs.lookup("G010")
    out = rs.lookup("G010", max_fdr=0.05)
    assert len(out) == int((everything.meta_log10q <= np.log10(0.05)).sum())
    assert (out.meta_log10q <= np.log10(0.05)).all()
    one = rs.lookup("G010", partner="g002")
    assert list(one.partner) == ["G002"]


def test_result_stores__a_folder_of_scans_and_kind_filter(store, tmp_path):
    from linkscan.storage.results.store import result_stores

    rs, _ = store
    assert [s.root for s in result_stores(rs.root)] == [rs.root]
    assert [s.root for s in result_stores(Path(rs.root).parent)] == [rs.root]
    with pytest.raises(ResultsError, match=r"holds no 'cis' scan; it has: trans"):
        result_stores(Path(rs.root).parent, kind="cis")
    with pytest.raises(ResultsError, match=r"holds none"):
        result_stores(tmp_path / "empty")


def test_lock__one_submitter_and_stale_locks_taken_over(tmp_path):
    import socket
    import subprocess
    import sys

    rs = ResultStore(str(tmp_path / "res"))
    rs.create_or_resume(_manifest(16, 8), _features(16))
    rs.lock()
    assert rs.lock_holder()["host"] == socket.gethostname()
    # a second submitter (another live process) is refused, naming the holder
    other = subprocess.run([sys.executable, "-c", f"from linkscan.storage.results.store import ResultStore; "
                            f"ResultStore({rs.root!r}).lock()"], capture_output=True, text=True)
    assert other.returncode != 0 and "is being scanned by process" in other.stderr
    assert "delete" in other.stderr and "lock" in other.stderr
    rs.unlock()
    assert rs.lock_holder() is None
    # a lock whose process is gone (a killed submitter on this host) is taken over
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (Path(rs.root) / "lock").write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid, "since": "x"}))
    rs.lock()
    assert rs.lock_holder()["pid"] != dead.pid
    rs.unlock()


def test_ledger__verify_and_repair_drop_a_corrupted_part(tmp_path, rng):
    rs = ResultStore(str(tmp_path / "res"))
    rs.create_or_resume(_manifest(16, 8), _features(16))
    rs.write_tile("tile-0", {0: _rows([0, 1], [1, 0], rng)})
    rs.write_tile("tile-1", {1: _rows([8, 9], [9, 8], rng)})
    part = Path(rs.root) / "parts" / "00001" / "tile-1.parquet"
    data = bytearray(part.read_bytes())
    data[50] ^= 0xFF  # same size, other bytes
    part.write_bytes(bytes(data))
    assert set(rs.ledger()) == {"tile-0", "tile-1"}  # sizes alone cannot tell
    assert set(rs.ledger(verify=True)) == {"tile-0"}
    assert part.exists()  # nothing removed without repair
    assert set(rs.ledger(verify=True, repair=True)) == {"tile-0"}
    assert not part.exists() and not (Path(rs.root) / "ledger" / "tile-1.json").exists()


def test_lookup__a_damaged_shard_is_an_error_not_data(store):
    rs, _ = store
    shard = Path(rs.root) / "shards" / "00000.parquet"
    shard.write_bytes(shard.read_bytes()[: len(shard.read_bytes()) // 2])
    with pytest.raises(ResultsError, match=r"00000.parquet is damaged: it is shorter than .* bytes complete.json "
                                           r"records; delete .*complete.json and .*shards/ and resubmit"):
        rs.lookup("G001")


def test_lookup__a_store_finished_without_checksums_is_told_to_rebuild(store):
    """complete.json of a store finished before shard checksums: its shards cannot be
    checked, so a lookup says how to rebuild them rather than serve them unchecked."""
    rs, _ = store
    complete = Path(rs.root) / "complete.json"
    summary = json.loads(complete.read_text())
    del summary["shard_files"]
    complete.write_text(json.dumps(summary))
    with pytest.raises(ResultsError, match=r"complete.json records no shard checksums .* delete .*complete.json "
                                           r"and .*shards/ and resubmit the job to rebuild them"):
        rs.lookup("G001")


def test_lookup__names_never_become_paths(store):
    """A lookup maps a name to integer codes and codes to numbered shard files: a name
    that looks like a path reads nothing outside the store."""
    rs, _ = store
    for name in ("../../etc/passwd", "/etc/passwd", "shards/00000", "..", "G001/../G002"):
        with pytest.raises(ResultsError, match=r"no feature or gene named"):
            rs.lookup(name)


@pytest.mark.parametrize("options, named", [
    ({"top": -1}, r"top = -1 .* top >= 1"),
    ({"top": 0}, r"top = 0 .* top >= 1"),
    ({"top": 2.5}, r"top = 2.5 .* top >= 1"),
    ({"max_fdr": -1}, r"max_fdr = -1 .* 0 < max_fdr <= 1"),
    ({"max_fdr": 0}, r"max_fdr = 0 .* 0 < max_fdr <= 1"),
    ({"max_fdr": 2}, r"max_fdr = 2 .* 0 < max_fdr <= 1"),
    ({"max_fdr": float("nan")}, r"max_fdr = nan .* 0 < max_fdr <= 1"),
    ({"min_slogp": -1}, r"min_slogp = -1 .* finite number >= 0"),
    ({"min_slogp": float("nan")}, r"min_slogp = nan .* finite number >= 0"),
    ({"min_slogp": float("inf")}, r"min_slogp = inf .* finite number >= 0"),
    ({"min_slogp": "6"}, r"min_slogp = '6' .* finite number >= 0"),
])
def test_lookup__invalid_options_name_the_parameter_and_its_range(store, options, named):
    rs, _ = store
    with pytest.raises(ResultsError, match=named):
        rs.lookup("G003", **options)


def test_lookup__options_at_their_bounds_are_valid(store):
    rs, _ = store
    everything = rs.lookup("G003")
    assert len(everything) == 15 and len(rs.lookup("G003", top=1)) == 1
    assert len(rs.lookup("G003", max_fdr=1)) == everything.meta_log10q.notna().sum() > 0  # every q <= 1
    assert len(rs.lookup("G003", min_slogp=0)) == 15


def test_create_or_resume__recreates_missing_folders(tmp_path, rng):
    """A resumed store whose ledger/, parts/ or shards/ was deleted gets them back, so
    that its tiles and its finish can write again."""
    rs = ResultStore(str(tmp_path / "res"))
    rs.create_or_resume(_manifest(16, 8), _features(16))
    for sub in ("ledger", "parts", "shards"):
        (Path(rs.root) / sub).rmdir()
    assert rs.create_or_resume(_manifest(16, 8), _features(16)) is True
    assert all((Path(rs.root) / sub).is_dir() for sub in ("ledger", "parts", "shards"))
    rs.write_tile("tile-0", {0: _rows([0, 1], [1, 0], rng)})
    assert list(rs.ledger()) == ["tile-0"]
