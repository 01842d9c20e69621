"""`linkscan bench`: throughput from a sample of a scan's own tiles, and projections."""

import pytest

from linkscan.engine.bench import bench
from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.jobs.cli import main
from linkscan.jobs import demo
from linkscan.storage.inputs.ingest import ingest


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    tables = demo.make_pan_cancer(n_features=120, cohorts=("BRCA", "OV"), seed=4, samples=(30, 40))
    for cohort, path in demo.write_tables(tables, root / "tables").items():
        ingest(root / "store", cohort, "proteome", path)
    return root / "store"


def test_bench__projects_the_whole_plan(store):
    spec = ScanSpec(store=str(store), results="unused", omics="proteome", tile_size=32)
    report = bench(spec, tiles=2, max_workers=4)
    plan = make_plan(spec)
    assert report.tiles_total == len(plan.tiles) == 10 and report.tiles_sampled == 2
    assert report.pairs_total == sum(plan.pairs(t) for t in plan.tiles) == 2 * 120 * 119 // 2
    assert report.pairs_sampled == sum(plan.pairs(t) for t in plan.tiles[::5][:2])
    assert report.rate > 0 and report.bytes_sampled > 0
    assert report.seconds(2) == pytest.approx(report.seconds(1) / 2)
    assert report.bytes_total == pytest.approx(report.bytes_sampled * report.pairs_total / report.pairs_sampled)
    # the finish: 3 BH tasks (2 cohorts + meta) then one compaction per shard
    assert report.columns == 3 and report.shards == plan.manifest["n_shards"]
    assert report.bh_seconds_sampled > 0 and report.compact_seconds_sampled > 0
    scale = report.pairs_total / report.pairs_sampled
    assert report.finish_seconds(1) == pytest.approx(
        (report.bh_seconds_sampled + report.compact_seconds_sampled) * scale)
    assert report.finish_seconds(64) == pytest.approx(
        report.bh_seconds_sampled * scale / 3 + report.compact_seconds_sampled * scale / report.shards)


def test_bench__command_prints_a_table_per_worker_count(store, capsys):
    assert main(["bench", str(store), "--tile-size", "40", "--tiles", "1", "--max-workers", "4"]) == 0
    out = capsys.readouterr().out
    assert "sampled 1 of 6 tiles" in out and "pairs/s per worker" in out
    assert "workers  tiles     finish    total" in out
    assert [line.split()[0] for line in out.splitlines()[3:]] == ["1", "2", "4"]
