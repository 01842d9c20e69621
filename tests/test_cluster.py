"""linkscan on a dask.distributed cluster started by hand, as README's "Running on a
cluster" tells: `dask scheduler` and `dask worker` processes (on 127.0.0.1 only), the
scan submitted with `linkscan submit JOB --scheduler tcp://...`, undisturbed, or with a
worker or the scheduler SIGKILLed on the way (a killed submitting process is
tests/test_runner.py's). Results are compared byte for byte with a LocalCluster run of
the same job.

Every process is started here (`start_new_session`, so each is its own process group)
and killed by its group id when its test ends, passed or failed; every wait is bounded
and says what it waited for, with the tail of the process' log."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from engine.plan import ScanSpec, plan_tiles
from engine.runner import open_client, run_scan
from jobs.spec import write_job
from storage import synthetic
from storage.ingest import ingest
from storage.results import ResultStore

BIN = Path(sys.executable).parent
DASK = BIN / "dask"
LINKSCAN = BIN / "linkscan"
COHORTS = ("BRCA", "COAD")
N_FEATURES = 300
TILE_SIZE = 20
N_TILES = len(plan_tiles(N_FEATURES, TILE_SIZE))  # 120
#: Ledger entries to wait for before killing something: the scan is well under way.
KILL_AFTER = 15
#: Bounds of the waits (seconds); a scan of this job takes ~10 s on 2 cores.
START_TIMEOUT = 30
SCAN_TIMEOUT = 90
EXIT_TIMEOUT = 60

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DASK.exists() or not LINKSCAN.exists(),
                       reason=f"needs the `dask` and `linkscan` executables beside {sys.executable}"),
]


# ---------------------------------------------------------------------- processes
def _tail(log: Path, chars: int = 3000) -> str:
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return f"\n--- {log}: no output ---"
    return f"\n--- last output of {log.name} ---\n{text[-chars:]}"


def _wait_until(predicate, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}" + (_tail(log) if log else ""))


class Processes:
    """Every process a test starts, each in its own session; `kill_all` SIGKILLs each
    one's process group by id (a nanny and the worker it spawned go together)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[subprocess.Popen] = []
        self.logs: dict[int, Path] = {}

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([str(a) for a in args], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.folder)
        self.started.append(proc)
        self.logs[proc.pid] = log
        return proc

    def log(self, proc: subprocess.Popen) -> Path:
        return self.logs[proc.pid]

    def kill(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def kill_all(self) -> None:
        for proc in reversed(self.started):
            self.kill(proc)


class HandCluster:
    """A scheduler and single-threaded workers started as README's recipe says, on
    127.0.0.1 (every listening socket, the HTTP ones too: `--no-dashboard` alone still
    serves HTTP on 0.0.0.0:8787)."""

    def __init__(self, procs: Processes, name: str):
        self.procs = procs
        self.name = name
        self.scheduler: subprocess.Popen | None = None
        self.address = ""
        self.workers: dict[str, subprocess.Popen] = {}  # worker name -> its process

    def start_scheduler(self) -> str:
        file = self.procs.folder / f"{self.name}-scheduler.json"
        self.scheduler = self.procs.start(f"{self.name}-scheduler", [
            DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", file,
            "--no-dashboard", "--dashboard-address", "127.0.0.1:0"])
        _wait_until(lambda: file.exists() or self.scheduler.poll() is not None, START_TIMEOUT,
                    "the dask scheduler to write its scheduler file", self.procs.log(self.scheduler))
        assert self.scheduler.poll() is None, "the dask scheduler exited" + _tail(self.procs.log(self.scheduler))
        _wait_until(lambda: '"address"' in file.read_text(), 5, "the scheduler file's address")
        self.address = json.loads(file.read_text())["address"]
        assert self.address.startswith("tcp://127.0.0.1:"), self.address
        return self.address

    def start_worker(self, *, nanny: bool = True) -> subprocess.Popen:
        name = f"{self.name}-w{len(self.workers)}"
        proc = self.procs.start(name, [
            DASK, "worker", self.address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
            "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--name", name,
            *([] if nanny else ["--no-nanny"])])
        self.workers[name] = proc
        return proc

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=f"{START_TIMEOUT}s") as client:
            try:
                client.wait_for_workers(n, timeout=START_TIMEOUT)
            except TimeoutError:
                logs = "".join(_tail(self.procs.log(p), 1500) for p in self.workers.values())
                pytest.fail(f"timed out after {START_TIMEOUT} s waiting for {n} workers to register with "
                            f"{self.address}; {len(client.scheduler_info()['workers'])} did{logs}")

    def worker_names(self) -> set[str]:
        from distributed import Client

        with Client(self.address, timeout="10s") as client:
            return {w["name"] for w in client.scheduler_info(n_workers=-1)["workers"].values()}

    def busy_workers(self) -> set[str]:
        """Names of the workers that are computing a task right now."""
        from distributed import Client

        with Client(self.address, timeout="10s") as client:
            info = client.scheduler_info(n_workers=-1)["workers"]
            return {info[address]["name"] for address, keys in client.processing().items()
                    if keys and address in info}


@pytest.fixture
def procs(tmp_path):
    """The test's processes, all killed at teardown whatever the outcome."""
    folder = tmp_path / "procs"
    folder.mkdir()
    processes = Processes(folder)
    try:
        yield processes
    finally:
        processes.kill_all()


def _cluster(procs: Processes, name: str, n_workers: int, *, nanny: bool = True) -> HandCluster:
    cluster = HandCluster(procs, name)
    cluster.start_scheduler()
    for _ in range(n_workers):
        cluster.start_worker(nanny=nanny)
    cluster.wait_for_workers(n_workers)
    return cluster


# ---------------------------------------------------------------------- data
def _make_store(root: Path) -> Path:
    tables = synthetic.make_pan_cancer(n_features=N_FEATURES, cohorts=COHORTS, seed=5, samples=(30, 60))
    for cohort, path in synthetic.write_tables(tables, root / "tables").items():
        ingest(root / "store", cohort, "proteome", path)
    return root / "store"


def _shard_bytes(results: Path) -> dict[str, bytes]:
    files = sorted((results / "shards").glob("*.parquet")) + [results / "features.parquet"]
    return {p.name: p.read_bytes() for p in files}


def _ledger_files(results: Path) -> list[Path]:
    return sorted((results / "ledger").glob("tile-*.json"))


def _ledger_stamps(results: Path) -> dict[str, tuple[int, int, bytes]]:
    """Finished tiles (as the ledger counts them) -> inode, mtime and bytes of their
    entry: a tile run again rewrites its entry (a new file renamed over it)."""
    done = ResultStore(str(results)).ledger(verify=True)
    stamps = {}
    for key in done:
        file = results / "ledger" / f"{key}.json"
        st = file.stat()
        stamps[key] = (st.st_ino, st.st_mtime_ns, file.read_bytes())
    return stamps


def _job(folder: Path, store: Path, results: Path, address: str = "") -> Path:
    job = write_job(folder / "job.toml", store=str(store), results=str(results), omics="proteome",
                    tile_size=TILE_SIZE)
    if address:
        text = job.read_text()
        assert 'address = ""' in text
        job.write_text(text.replace('address = ""', f'address = "{address}"'))
    return job


def _submit(procs: Processes, name: str, job: Path, address: str | None) -> subprocess.Popen:
    """`linkscan submit JOB [--scheduler ADDRESS] --quiet`, as README says."""
    return procs.start(name, [LINKSCAN, "submit", job, *(["--scheduler", address] if address else []),
                              "--quiet"])


def _finish(procs: Processes, proc: subprocess.Popen, timeout: float = SCAN_TIMEOUT) -> str:
    """Wait for a submission to end well; its output."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`linkscan submit` did not finish within {timeout} s" + _tail(procs.log(proc)))
    output = procs.log(proc).read_text(errors="replace")
    assert proc.returncode == 0, f"`linkscan submit` exited {proc.returncode}" + _tail(procs.log(proc))
    return output


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return _make_store(tmp_path_factory.mktemp("cluster_cohorts"))


@pytest.fixture(scope="module")
def reference(store, tmp_path_factory) -> dict[str, bytes]:
    """The job's shards from an undisturbed LocalCluster run (2 worker processes)."""
    results = tmp_path_factory.mktemp("cluster_reference") / "res"
    with open_client(n_workers=2) as client:
        report = run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome",
                                   tile_size=TILE_SIZE), client=client, progress=False)
    assert len(report.tiles_run) == N_TILES and report.rows > 0
    return _shard_bytes(results)


# ---------------------------------------------------------------------- tests
def test_submit__external_scheduler_recipe(store, reference, procs, tmp_path):
    """README's recipe, literally: `dask scheduler`, `dask worker tcp://...` (with its
    nanny), `linkscan submit JOB --scheduler tcp://...`; the shards are the LocalCluster's."""
    cluster = _cluster(procs, "c", 2)
    results = tmp_path / "res"
    out = _finish(procs, _submit(procs, "submit", _job(tmp_path, store, results), cluster.address))
    assert f"{N_TILES} tiles (0 already done, {N_TILES} run now)" in out
    assert len(_ledger_files(results)) == N_TILES and (results / "complete.json").exists()
    assert _shard_bytes(results) == reference
    # the tiles ran on the hand-started workers (no LocalCluster of the submitting process)
    assert cluster.worker_names() == {"c-w0", "c-w1"}
    assert "Scheduler at" not in out and "LocalCluster" not in out


def test_run_scan__worker_sigkilled_mid_scan(store, reference, procs, tmp_path):
    """Two workers without a nanny; one is SIGKILLed while it computes tiles and stays
    dead. Dask reruns its tiles on the other; the scan finishes, byte-identical."""
    cluster = _cluster(procs, "c", 2, nanny=False)
    results = tmp_path / "res"
    submit = _submit(procs, "submit", _job(tmp_path, store, results), cluster.address)
    _wait_until(lambda: len(_ledger_files(results)) >= KILL_AFTER or submit.poll() is not None,
                SCAN_TIMEOUT, f"{KILL_AFTER} finished tiles in the ledger", procs.log(submit))
    assert submit.poll() is None, "the scan ended before a worker could be killed" + _tail(procs.log(submit))
    busy: set[str] = set()

    def someone_busy() -> bool:
        busy.update(cluster.busy_workers())
        return bool(busy)

    _wait_until(someone_busy, 10, "a worker computing a tile")
    victim_name = sorted(busy)[0]
    victim = cluster.workers[victim_name]
    done_at_kill = len(_ledger_files(results))
    os.kill(victim.pid, signal.SIGKILL)  # --no-nanny: the worker is this very process
    victim.wait(timeout=10)
    assert done_at_kill < N_TILES
    _wait_until(lambda: cluster.worker_names() == set(cluster.workers) - {victim_name}, 30,
                f"the scheduler to drop the killed worker {victim_name}", procs.log(cluster.scheduler))

    out = _finish(procs, submit)
    assert f"{N_TILES} tiles (0 already done, {N_TILES} run now)" in out
    assert victim.returncode == -signal.SIGKILL  # gone for good: one worker finished the scan
    assert cluster.worker_names() == set(cluster.workers) - {victim_name}
    assert len(_ledger_files(results)) == N_TILES
    assert _shard_bytes(results) == reference


@pytest.fixture(scope="module")
def scheduler_lost(store, tmp_path_factory):
    """A scan on a hand-started cluster whose scheduler is SIGKILLed mid-scan: what the
    submission did (exit status, output, seconds from the kill to its exit), then its
    old workers are killed too and the ledger is snapshotted."""
    folder = tmp_path_factory.mktemp("scheduler_lost")
    (folder / "procs").mkdir()
    procs = Processes(folder / "procs")
    with ExitStack() as stack:
        stack.callback(procs.kill_all)
        cluster = _cluster(procs, "old", 2, nanny=False)
        results = folder / "res"
        job = _job(folder, store, results)
        submit = _submit(procs, "submit", job, cluster.address)
        _wait_until(lambda: len(_ledger_files(results)) >= KILL_AFTER or submit.poll() is not None,
                    SCAN_TIMEOUT, f"{KILL_AFTER} finished tiles in the ledger", procs.log(submit))
        assert submit.poll() is None, "the scan ended before its scheduler could be killed" + _tail(
            procs.log(submit))
        os.kill(cluster.scheduler.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        cluster.scheduler.wait(timeout=10)
        try:
            submit.wait(timeout=EXIT_TIMEOUT)
            seconds = time.monotonic() - killed_at
        except subprocess.TimeoutExpired:
            seconds = None  # hangs
        print(f"scheduler SIGKILLed after {KILL_AFTER}+ ledger entries; `linkscan submit` "
              + (f"exited {submit.returncode} {seconds:.1f} s later" if seconds is not None else "hung"))
        for worker in cluster.workers.values():  # their in-flight tiles may still land, then stop
            procs.kill(worker)
        procs.kill(submit)
        yield {
            "folder": folder, "job": job, "results": results, "address": cluster.address,
            "returncode": submit.returncode if seconds is not None else None, "seconds": seconds,
            "output": procs.log(submit).read_text(errors="replace"),
            "ledger": _ledger_stamps(results),
            "failures": (results / "failures.jsonl").read_text() if (results / "failures.jsonl").exists() else "",
        }


def test_submit__scheduler_lost_then_resumed_on_a_new_one(store, reference, scheduler_lost, procs):
    """The scheduler dies mid-scan: the submission stops (non-zero, within seconds) and
    keeps its finished tiles; the job resubmitted to a new scheduler and new workers
    (through the job's `[cluster] address` this time) runs only the missing tiles."""
    lost = scheduler_lost
    assert lost["seconds"] is not None, f"`linkscan submit` hung {EXIT_TIMEOUT} s after its scheduler died"
    assert lost["seconds"] < 35 and lost["returncode"] == 2, lost["output"][-3000:]
    assert "linkscan: error:" in lost["output"], lost["output"][-3000:]
    error = lost["output"][lost["output"].rindex("linkscan: error:"):]  # may span lines
    assert re.search(r"resubmit|submit the job again", error), lost["output"][-3000:]
    results, before = lost["results"], lost["ledger"]
    assert KILL_AFTER <= len(before) < N_TILES
    assert not (results / "complete.json").exists()

    cluster = _cluster(procs, "new", 2)
    assert cluster.address != lost["address"]
    job = _job(lost["folder"], store, results, address=cluster.address)  # same scan, new cluster
    out = _finish(procs, _submit(procs, "resubmit", job, None))
    assert f"{N_TILES} tiles ({len(before)} already done, {N_TILES - len(before)} run now)" in out
    after = _ledger_stamps(results)
    assert set(after) == {t.key for t in plan_tiles(N_FEATURES, TILE_SIZE)}
    rewritten = [key for key, stamp in before.items() if after[key] != stamp]
    assert rewritten == [], f"finished tiles computed again: {rewritten}"
    assert _shard_bytes(results) == reference


def test_submit__scheduler_lost__one_clear_error(scheduler_lost):
    """What README should promise when the scheduler dies: exit status 2 within seconds
    and one linkscan error that says the scheduler was lost and to submit again, without
    a Python traceback, without blaming (or recording as failed) a tile."""
    lost = scheduler_lost
    output = lost["output"]
    assert lost["seconds"] is not None and lost["seconds"] < 35 and lost["returncode"] == 2, output
    assert "Traceback" not in output and "CancelledError" not in output, output
    assert output.count("linkscan: error:") == 1, output
    error = output[output.index("linkscan: error:"):]
    assert re.search(r"(lost|cannot reach).*scheduler|scheduler.*(lost|died|gone)", error), error
    assert re.search(r"resubmit|submit the job again", error), error
    assert not re.search(r"tile tile-\d+-\d+ failed", error), error
    assert lost["failures"] == "", f"failures.jsonl records a lost scheduler as tile failures: {lost['failures']}"
