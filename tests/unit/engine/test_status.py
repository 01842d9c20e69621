"""engine.status: a scan's status from its result store alone."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.status import job_status
from linkscan.engine.tile import run_tile
from linkscan.jobs.cli import main
from linkscan.jobs.spec import write_job
from stores import proteome_store


@pytest.fixture
def interrupted(tmp_path) -> tuple[Path, object]:
    """A trans scan with 3 of its tiles done (computed here, as a worker would), then its
    cohort store moved away: the machine sees the results only."""
    proteome_store(tmp_path, n_features=90, cohorts=("BRCA", "OV"), seed=5, samples=(30, 40))
    spec = ScanSpec(store=str(tmp_path / "store"), results=str(tmp_path / "res"), omics="proteome", tile_size=32)
    plan = make_plan(spec)
    plan.context.results.create_or_resume(plan.manifest, plan.features)
    for tile in plan.tiles[:3]:
        run_tile(plan.context, tile)
    shutil.move(tmp_path / "store", tmp_path / "elsewhere")
    return tmp_path / "res", plan


def _lock(results: Path, pid: int) -> None:
    (results / "lock").write_text(json.dumps({"host": socket.gethostname(), "pid": pid,
                                              "since": time.strftime("%Y-%m-%d %H:%M:%S")}))


def test_job_status__reads_the_result_store_without_the_cohort_store(interrupted):
    results, plan = interrupted
    status = job_status(results)
    assert len(plan.tiles) == 6
    assert (status.state, status.tiles_done, status.tiles_total) == ("interrupted", 3, 6)
    assert status.pairs_done == sum(plan.pairs(t) for t in plan.tiles[:3])
    assert status.pairs_total == sum(plan.pairs(t) for t in plan.tiles) == 90 * 89 // 2 * 2
    assert status.eta is None and not status.holder_dead


def test_job_status__a_dead_submitter_is_interrupted_not_running(interrupted):
    results, _ = interrupted
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer runs on this host
    _lock(results, gone.pid)
    status = job_status(results)
    assert status.state == "interrupted" and status.holder_dead and status.eta is None
    assert f"the submitting process {gone.pid} on {socket.gethostname()}" in str(status)
    assert "no longer runs; submit the job again to resume" in str(status)


def test_job_status__a_live_submitter_is_running_with_an_eta(interrupted):
    results, _ = interrupted
    _lock(results, os.getpid())
    status = job_status(results)
    assert status.state == "running" and not status.holder_dead
    assert status.eta is not None and status.rate > 0
    assert f"submitted by process {os.getpid()}" in str(status)


def test_job_status__not_started(tmp_path):
    status = job_status(tmp_path / "nothing")
    assert (status.state, status.tiles_total) == ("not started", 0)
    assert "none planned yet" in str(status)


def test_cli_status__job_file_or_result_store_without_the_cohort_store(interrupted, capsys):
    results, _ = interrupted
    job = write_job(results.parent / "job.toml", store="store", results="res", omics="proteome", tile_size=32)
    assert main(["status", str(job)]) == 0
    by_job = capsys.readouterr().out
    assert main(["status", str(results)]) == 0
    assert capsys.readouterr().out == by_job
    assert by_job.startswith(f"{results}: interrupted\n") and "tiles: 3 of 6 done (50.0%), 3 left" in by_job


def test_job_status__a_finishing_scan_shows_the_finish_s_progress(tmp_path):
    """Every tile done, the lock held, two BH tables and one shard written: `finishing`,
    with the finish's own counts (as the files show them)."""
    import numpy as np

    proteome_store(tmp_path, n_features=60, cohorts=("BRCA", "OV"), seed=5, samples=(30, 40))
    spec = ScanSpec(store=str(tmp_path / "store"), results=str(tmp_path / "res"), omics="proteome", tile_size=32)
    plan = make_plan(spec)
    results = plan.context.results
    results.create_or_resume(plan.manifest, plan.features)
    for tile in plan.tiles:
        run_tile(plan.context, tile)
    _lock(tmp_path / "res", os.getpid())
    for column in ("BRCA_slogp", "OV_slogp"):
        results.save_q_table(column, np.zeros(1, np.float32), np.zeros(1, np.float32))
    (tmp_path / "res" / "shards" / "00000.parquet").write_bytes(b"written")
    status = job_status(tmp_path / "res")
    assert status.state == "finishing" and status.finish == (2, 3, 1, plan.manifest["n_shards"])
    assert f"finish: BH q-values of 2 of 3 p columns, 1 of {plan.manifest['n_shards']} shards written" in str(status)
