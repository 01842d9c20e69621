"""`linkscan bench`: throughput from a sample of a scan's own tiles, and projections."""

import numpy as np
import pandas as pd
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
    # memory: peaks measured in this process, and the whole scan's largest BH task
    # projected from its p column's tests (the meta p: every sampled pair, each once)
    assert report.column_tests_sampled == report.pairs_sampled // 2
    assert report.bh_bytes_total == pytest.approx(14 * report.column_tests_sampled * scale)
    assert 50e6 < report.tile_peak_bytes < 4e9 and 50e6 < report.finish_peak_bytes < 4e9


def test_peak_resident__sees_an_allocation_and_resets():
    from linkscan.engine.bench import peak_resident

    before = peak_resident(reset=True)
    block = np.ones(64_000_000, dtype=np.uint8)  # 64 MB, touched
    assert peak_resident() >= before + 60e6
    del block
    assert peak_resident(reset=True) < before + 30e6  # the block is gone: reset to what is resident


def test_bench__command_prints_a_table_per_worker_count(store, capsys):
    assert main(["bench", str(store), "--tile-size", "40", "--tiles", "1", "--max-workers", "4"]) == 0
    out = capsys.readouterr().out
    assert "sampled 1 of 6 tiles" in out and "pairs/s per worker" in out
    assert "workers  tiles     finish    total" in out
    assert out.splitlines()[0].startswith("scan: trans of proteome, 2 cohorts (BRCA, OV), 120 features against each other")
    assert out.splitlines()[3].startswith("start (each worker loads the compiled kernels once): ")
    assert out.splitlines()[4].startswith("memory of a worker (peak resident, measured here): tiles ")
    assert "the whole scan's largest BH task adds about" in out.splitlines()[4]
    assert [line.split()[0] for line in out.splitlines()[6:]] == ["1", "2", "4"]


# --- sizing from the job: the projected pair tests are the ones the scan runs ------------

KIND_COHORTS = ("BRCA", "COAD")


@pytest.fixture(scope="module")
def kinds_store(tmp_path_factory):
    """Every scan kind's inputs: proteome (tumor and normal), an RNA copy of it (same
    feature ids, so same genes; fewer features, other samples), mutations, phenotypes."""
    from stores import gene_page_store

    root = tmp_path_factory.mktemp("bench_kinds")
    rng = np.random.default_rng(3)
    store, files = gene_page_store(root, n_features=50, cohorts=KIND_COHORTS, seed=5, samples=(60, 70))
    for cohort, paths in files.items():
        proteome = pd.read_csv(paths["proteome"], sep="\t", index_col=0)
        rna = proteome.iloc[:35].fillna(0.0) + rng.normal(0, 0.7, (35, proteome.shape[1]))
        rna.iloc[:, 3:].to_csv(root / f"{cohort}_rna.tsv", sep="\t", na_rep="NA")
        ingest(store, cohort, "rna", root / f"{cohort}_rna.tsv")
    return store


@pytest.fixture(scope="module")
def client():
    from linkscan.engine.runner import open_client

    with open_client(n_workers=2) as c:
        yield c


KINDS = {
    "trans": dict(omics="proteome"),
    "trans_two_omics": dict(omics="rna", omics_y="proteome"),
    "cis": dict(kind="cis", omics="rna", omics_y="proteome"),
    "tumor_normal": dict(kind="tumor_normal", omics="proteome"),
    "phenotype": dict(kind="phenotype", omics="proteome", mutations="mutation"),
    # issue 12: lists, covariates and sample filters plan the same as everything else
    "trans_list": dict(omics="proteome", features=("MKI67", "TOP2A", "CCNB1")),
    "phenotype_adjusted": dict(kind="phenotype", omics="proteome", mutations="mutation", phenotypes=("MSI",),
                               covariates=("age",), where="age > 40"),
}


def _expected_pairs(plan) -> int:
    """The scan's pair tests counted from its inputs, independently of tile_pairs."""
    ctx = plan.context
    if ctx.once:  # unordered pairs of one listed feature with another feature
        both = len(np.intersect1d(ctx.x.code(np.arange(ctx.x.n)), ctx.y.code(np.arange(ctx.y.n))))
        per_cohort = ctx.x.n * ctx.y.n - both - both * (both - 1) // 2
    elif ctx.partners:
        per_cohort = ctx.x.n * len(ctx.partners)
    elif ctx.kind == "cis":
        per_cohort = len(ctx.cis_pairs)
    elif ctx.y is not None:
        per_cohort = ctx.x.n * ctx.y.n
    else:
        per_cohort = ctx.x.n * (ctx.x.n - 1) // 2
    return per_cohort * len(ctx.cohorts)


@pytest.mark.parametrize("name", list(KINDS))
def test_bench__projects_the_plans_pair_tests_for_every_kind(kinds_store, tmp_path, name):
    spec = ScanSpec(store=str(kinds_store), results=str(tmp_path / "res"), tile_size=16, **KINDS[name])
    report = bench(spec, tiles=1, max_workers=2)
    plan = make_plan(spec)
    assert report.pairs_total == sum(plan.pairs(t) for t in plan.tiles) == _expected_pairs(plan) > 0
    assert report.tiles_total == len(plan.tiles) > 1
    assert not (tmp_path / "res").exists()  # bench writes nothing to the job's result store
    if name == "phenotype":  # every feature against the phenotypes and the mutation rows
        assert {p.omics for p in plan.context.partners} == {"phenotype", "mutation"}


@pytest.mark.parametrize("name", ["trans", "phenotype", "trans_list", "phenotype_adjusted"])
def test_bench__projection_equals_the_pair_tests_a_real_run_reports(kinds_store, tmp_path, client, name):
    from linkscan.engine.runner import run_scan

    spec = ScanSpec(store=str(kinds_store), results=str(tmp_path / "res"), tile_size=16, **KINDS[name])
    projected = bench(spec, tiles=1, max_workers=2).pairs_total
    assert run_scan(spec, client=client, progress=False).pairs == projected


def test_bench__job_file_sizes_exactly_what_submit_runs(kinds_store, tmp_path, client, capsys):
    """Issue 12: a phenotype job with mutations, sized from its store by flags, missed
    the mutation rows (the flags cannot say them); from the job file it cannot."""
    from linkscan.jobs.api import submit
    from linkscan.jobs.spec import read_job, write_job

    job = write_job(tmp_path / "job.toml", store=str(kinds_store), results=str(tmp_path / "res"),
                    kind="phenotype", omics="proteome", mutations="mutation", phenotypes=["stage", "OS"],
                    cohorts=list(KIND_COHORTS), tile_size=16)
    assert main(["bench", str(job), "--tiles", "1", "--max-workers", "2"]) == 0
    out = capsys.readouterr().out
    plan = make_plan(read_job(job).scan)
    n_mutations = sum(p.omics == "mutation" for p in plan.context.partners)
    assert n_mutations > 0
    assert out.splitlines()[0] == (
        f"scan: phenotype of proteome, 2 cohorts (BRCA, COAD), {plan.context.x.n} features against "
        f"2 phenotypes + {n_mutations} mutation rows; tile size 16, {len(plan.tiles)} tiles")
    pairs = sum(plan.pairs(t) for t in plan.tiles)
    assert f"whole scan: {pairs:,} pair tests" in out
    assert not (tmp_path / "res").exists()
    assert submit(job, client=client, progress=False).pairs == pairs
    # the flag form plans the phenotypes alone: a smaller scan, said on its first line
    assert main(["bench", str(kinds_store), "--kind", "phenotype", "--tile-size", "16", "--tiles", "1"]) == 0
    flags = capsys.readouterr().out
    assert "features against" in flags.splitlines()[0] and "mutation rows" not in flags.splitlines()[0]


def test_bench__job_file_refuses_scan_flags(kinds_store, tmp_path, capsys):
    from linkscan.jobs.spec import write_job

    job = write_job(tmp_path / "job.toml", store=str(kinds_store), results=str(tmp_path / "res"), omics="proteome")
    assert main(["bench", str(job), "--omics", "rna", "--tile-size", "8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"linkscan: error: --omics, --tile-size: the job file {job} says its scan")
