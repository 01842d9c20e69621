"""A clean user path (issue 10): duplicate cohorts, impossible options, every numeric
option checked, a closed pipe, a job file with a BOM, stores inside each other, and one
plain line for errors, never a traceback."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.errors import JobError
from linkscan.jobs.cli import main
from linkscan.jobs.spec import read_job, write_job
from stores import proteome_store

COHORTS = ("BRCA", "OV")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return proteome_store(tmp_path_factory.mktemp("user"), n_features=60, cohorts=COHORTS, seed=2, samples=(30, 40))


@pytest.fixture(scope="module")
def finished(store, tmp_path_factory) -> Path:
    """A finished trans scan of the store (2 worker processes, as a user runs it)."""
    folder = tmp_path_factory.mktemp("finished")
    job = write_job(folder / "job.toml", store=str(store), results=str(folder / "res"), omics="proteome",
                    tile_size=32, n_workers=2)
    out = _linkscan("submit", str(job), "--quiet")
    assert out.returncode == 0, out.stderr
    return folder / "res"


def _linkscan(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linkscan.jobs.cli", *args], capture_output=True, text=True,
                          timeout=300, **kwargs)


def _one_error(out: subprocess.CompletedProcess, *words: str) -> str:
    """The run exited 2 with one `linkscan: error:` line holding ``words``, no traceback."""
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("linkscan: error: "), out.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# ------------------------------------------------------------------ duplicates, impossible options


def test_job__duplicate_cohorts_are_refused(tmp_path):
    job = write_job(tmp_path / "j.toml", store="s", results="r", omics="proteome", cohorts=["A", "B", "A"])
    with pytest.raises(JobError, match=r"cohorts = \['A', 'B', 'A'\] names 'A' twice"):
        read_job(job)
    with pytest.raises(JobError, match="names 'A' twice"):
        ScanSpec(store="s", results="r", omics="proteome", cohorts=("A", "A"))


def test_bench__duplicate_cohorts_are_refused(store):
    _one_error(_linkscan("bench", str(store), "--cohorts", "BRCA", "BRCA"), "BRCA", "twice")


def test_plan__min_cohorts_above_the_cohorts_is_refused(store, tmp_path):
    spec = ScanSpec(store=str(store), results=str(tmp_path / "r"), omics="proteome", min_cohorts=3)
    with pytest.raises(JobError, match=r"min_cohorts = 3 but the scan has 2 cohorts \(BRCA, OV\)"):
        make_plan(spec)


@pytest.mark.parametrize("args, words", [
    (["submit", "JOB", "--workers", "-3"], ["--workers", "-3", ">= 0"]),
    (["query", "MKI67", "--results", "RES", "--top", "-1"], ["--top", ">= 1"]),
    (["query", "MKI67", "--results", "RES", "--top", "0"], ["--top", ">= 1"]),
    (["query", "MKI67", "--results", "RES", "--max-fdr", "-1"], ["--max-fdr", "between 0 and 1"]),
    (["query", "MKI67", "--results", "RES", "--max-fdr", "2"], ["--max-fdr", "between 0 and 1"]),
    (["query", "MKI67", "--results", "RES", "--max-fdr", "nan"], ["--max-fdr", "between 0 and 1"]),
    (["query", "MKI67", "--results", "RES", "--min-slogp", "-2"], ["--min-slogp", ">= 0"]),
    (["query", "MKI67", "--results", "RES", "--min-slogp", "inf"], ["--min-slogp", ">= 0"]),
    (["demo", "--features", "5"], ["--features", ">= 100"]),
    (["demo", "--tile-size", "1"], ["--tile-size", ">= 2"]),
    (["demo", "--seed", "-1"], ["--seed", ">= 0"]),
    (["bench", "STORE", "--tiles", "0"], ["--tiles", ">= 1"]),
    (["bench", "STORE", "--max-workers", "0"], ["--max-workers", ">= 1"]),
    (["bench", "STORE", "--tile-size", "x"], ["--tile-size", "'x'", "whole number"]),
    (["ingest", "STORE", "C", "p=t.tsv", "--min-samples", "-5"], ["--min-samples", ">= 1"]),
])
def test_cli__numeric_options_are_checked(args, words, tmp_path):
    args = [a.replace("JOB", str(tmp_path / "j.toml")).replace("RES", str(tmp_path)).replace("STORE", str(tmp_path))
            for a in args]
    _one_error(_linkscan(*args, cwd=tmp_path), *words)


# ------------------------------------------------------------------ files and stores


def test_job__a_utf8_bom_is_read(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'store = "s"\nresults = "r"\nomics = "proteome"\n')
    assert read_job(path).scan.omics == "proteome"


@pytest.mark.parametrize("where", ["inside", "around"])
def test_submit__a_result_store_inside_the_cohort_store_is_refused(store, tmp_path, where):
    results = store / "results" if where == "inside" else store.parent
    job = write_job(tmp_path / "j.toml", store=str(store), results=str(results), omics="proteome")
    line = _one_error(_linkscan("submit", str(job), "--quiet"), "results", "store")
    assert ("inside the cohort store" if where == "inside" else "holds the cohort store") in line
    assert not (store / "results").exists()


def test_query__a_closed_pipe_ends_quietly(finished):
    """`linkscan query ... --format tsv | head -1`: no BrokenPipeError traceback."""
    proc = subprocess.Popen(f"{sys.executable} -m linkscan.jobs.cli query MKI67 --results {finished} "
                            "--format tsv | head -1", shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    out, err = proc.communicate(timeout=120)
    assert out.startswith("feature\t") and len(out.splitlines()) == 1
    assert err == "", err


def test_status__a_closed_pipe_ends_quietly(finished):
    proc = subprocess.Popen(f"{sys.executable} -m linkscan.jobs.cli status {finished} | head -1", shell=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    assert out == f"{finished}: complete\n" and err == "", err


# ------------------------------------------------------------------ one line, never a traceback


def test_submit__a_failing_tile_is_one_line_without_distributed_tracebacks(store, tmp_path):
    """A tile that fails on a worker: distributed logs "Compute Failed ... Traceback" on
    the worker; the user sees linkscan's one line only."""
    import shutil

    from linkscan.storage.inputs.cohort_store import CohortStore

    broken = tmp_path / "store"
    shutil.copytree(store, broken)
    chunk = next(p for p in (Path(CohortStore(str(broken)).values_path("OV", "proteome")) / "c").rglob("*")
                 if p.is_file())
    chunk.write_bytes(b"not a zarr chunk")
    job = write_job(tmp_path / "j.toml", store=str(broken), results=str(tmp_path / "res"), omics="proteome",
                    tile_size=32, n_workers=1)
    _one_error(_linkscan("submit", str(job), "--quiet"), "tile tile-", "failed on the cluster", "resubmit")


def test_submit__ctrl_c_is_one_line_at_any_phase(store, tmp_path):
    """SIGINT during the tiles and during the finish: one line, exit 130, no traceback."""
    job = write_job(tmp_path / "j.toml", store=str(store), results=str(tmp_path / "res"), omics="proteome",
                    tile_size=8, n_workers=1)
    seen = set()
    for phase in ("tiles", "finish"):
        proc = subprocess.Popen([sys.executable, "-m", "linkscan.jobs.cli", "submit", str(job)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ledger = tmp_path / "res" / "ledger"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            done = len(list(ledger.glob("*.json"))) if ledger.is_dir() else 0
            if (phase == "tiles" and done >= 2) or (phase == "finish" and (tmp_path / "res" / "bh").is_dir()):
                break
            time.sleep(0.02)
        if proc.poll() is not None:
            continue  # finished before the signal: nothing to see in this phase
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, (phase, err)
        assert "Traceback" not in err and "exception" not in err.lower(), (phase, err)
        mine = [line for line in err.splitlines() if line.startswith("linkscan")]
        assert mine == ["linkscan: interrupted; finished tiles are kept, resubmit the job to continue"], (phase, err)
        seen.add(phase)
    assert seen == {"tiles", "finish"}, seen  # both phases were interrupted, not finished first


def test_run_scan__a_tile_the_cluster_cancels_runs_again(store, finished, tmp_path):
    """A tile whose task the scheduler cancels (as when it forgets a dead worker's task)
    is submitted again, not fatal; the result is the same bytes."""
    import threading

    from distributed import Future

    from linkscan.engine.runner import open_client, run_scan

    spec = ScanSpec(store=str(store), results=str(tmp_path / "res"), omics="proteome", tile_size=32)
    outcome = {}
    with open_client(n_workers=1) as client:
        def scan():
            try:
                outcome["report"] = run_scan(spec, client=client, progress=False, max_in_flight=2)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                outcome["error"] = exc

        thread = threading.Thread(target=scan)
        thread.start()
        cancelled = []
        deadline = time.monotonic() + 120
        while not cancelled and thread.is_alive() and time.monotonic() < deadline:
            keys = client.run_on_scheduler(lambda dask_scheduler: [
                k for k, ts in dask_scheduler.tasks.items() if str(k).startswith("tile-") and ts.state == "processing"])
            for key in keys[:1]:
                Future(key, client).cancel()
                cancelled.append(key)
            time.sleep(0.01)
        thread.join(timeout=300)
    assert cancelled, "no tile was running to cancel"
    assert "error" not in outcome, outcome.get("error")
    assert outcome["report"].tiles_total == 3
    shards = sorted((tmp_path / "res" / "shards").glob("*.parquet"))
    assert shards and all(p.read_bytes() == (finished / "shards" / p.name).read_bytes() for p in shards)


def test_submit__every_phase_shows_its_progress(store, tmp_path):
    """The tiles, then the finish's two rounds (BH q-values per p column, then the shards),
    each with its own progress line on standard error."""
    job = write_job(tmp_path / "j.toml", store=str(store), results=str(tmp_path / "res"), omics="proteome",
                    tile_size=32, n_workers=1)
    out = _linkscan("submit", str(job))
    assert out.returncode == 0, out.stderr
    n_shards = json.loads((tmp_path / "res" / "manifest.json").read_text())["n_shards"]
    lines = out.stderr.splitlines()
    assert any(line.startswith("scan [") and "3/3 tiles" in line and "pairs/s" in line for line in lines)
    assert any(line.startswith("BH q-values [") and "3/3 columns" in line and "ETA" in line for line in lines)
    assert any(line.startswith("shards [") and f"{n_shards}/{n_shards} shards" in line for line in lines)
