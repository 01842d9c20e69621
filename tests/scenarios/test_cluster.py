"""linkscan on a dask.distributed cluster started by hand, as README's "Running on a
cluster" tells: `dask scheduler` and `dask worker` processes (on 127.0.0.1 only), the
scan submitted with `linkscan submit JOB --scheduler tcp://...`, undisturbed, or with a
worker, the scheduler or the submitting process SIGKILLed on the way, with finished
parts damaged before resubmitting, submitted twice at once, and over TLS (`tls://`,
certificates made with the `openssl` command). Results are compared byte for byte with
a LocalCluster run of the same job.

Every process is started here (`start_new_session`, so each is its own process group)
and killed by its group id when its test ends, passed or failed; every wait is bounded
and says what it waited for, with the tail of the process' log."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from linkscan.engine.plan import ScanSpec, plan_tiles
from linkscan.engine.runner import open_client, run_scan
from linkscan.jobs.spec import write_job
from linkscan.jobs import demo
from linkscan.storage.inputs.ingest import ingest
from linkscan.errors import ResultsError
from linkscan.storage.results.store import ResultStore

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
    serves HTTP on 0.0.0.0:8787). With ``tls`` (see `_tls_files`), every process takes
    dask's certificate options and listens on tls:// only."""

    def __init__(self, procs: Processes, name: str, tls: dict[str, Path] | None = None):
        self.procs = procs
        self.name = name
        self.tls = tls
        self.scheduler: subprocess.Popen | None = None
        self.address = ""
        self.workers: dict[str, subprocess.Popen] = {}  # worker name -> its process

    def _tls_flags(self) -> list:
        if not self.tls:
            return []
        return ["--tls-ca-file", self.tls["ca"], "--tls-cert", self.tls["cert"], "--tls-key", self.tls["key"]]

    def client(self, timeout: str = "10s"):
        """A Client of this cluster for the test itself (with the cluster's certificate)."""
        from distributed import Client
        from distributed.security import Security

        if not self.tls:
            return Client(self.address, timeout=timeout)
        security = Security(tls_ca_file=str(self.tls["ca"]), tls_client_cert=str(self.tls["cert"]),
                            tls_client_key=str(self.tls["key"]), require_encryption=True)
        return Client(self.address, timeout=timeout, security=security)

    def start_scheduler(self) -> str:
        file = self.procs.folder / f"{self.name}-scheduler.json"
        self.scheduler = self.procs.start(f"{self.name}-scheduler", [
            DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", file,
            "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
            *(["--protocol", "tls"] if self.tls else []), *self._tls_flags()])
        _wait_until(lambda: file.exists() or self.scheduler.poll() is not None, START_TIMEOUT,
                    "the dask scheduler to write its scheduler file", self.procs.log(self.scheduler))
        assert self.scheduler.poll() is None, "the dask scheduler exited" + _tail(self.procs.log(self.scheduler))
        _wait_until(lambda: '"address"' in file.read_text(), 5, "the scheduler file's address")
        self.address = json.loads(file.read_text())["address"]
        assert self.address.startswith(f"{'tls' if self.tls else 'tcp'}://127.0.0.1:"), self.address
        return self.address

    def start_worker(self, *, nanny: bool = True) -> subprocess.Popen:
        name = f"{self.name}-w{len(self.workers)}"
        proc = self.procs.start(name, [
            DASK, "worker", self.address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
            "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--name", name,
            *([] if nanny else ["--no-nanny"]), *self._tls_flags()])
        self.workers[name] = proc
        return proc

    def wait_for_workers(self, n: int) -> None:
        with self.client(timeout=f"{START_TIMEOUT}s") as client:
            try:
                client.wait_for_workers(n, timeout=START_TIMEOUT)
            except TimeoutError:
                logs = "".join(_tail(self.procs.log(p), 1500) for p in self.workers.values())
                pytest.fail(f"timed out after {START_TIMEOUT} s waiting for {n} workers to register with "
                            f"{self.address}; {len(client.scheduler_info()['workers'])} did{logs}")

    def worker_names(self) -> set[str]:
        with self.client() as client:
            return {w["name"] for w in client.scheduler_info(n_workers=-1)["workers"].values()}

    def worker_addresses(self) -> set[str]:
        with self.client() as client:
            return set(client.scheduler_info(n_workers=-1)["workers"])

    def busy_workers(self) -> set[str]:
        """Names of the workers that are computing a task right now."""
        with self.client() as client:
            info = client.scheduler_info(n_workers=-1)["workers"]
            return {info[address]["name"] for address, keys in client.processing().items()
                    if keys and address in info}

    def idle(self) -> bool:
        """The scheduler holds no task (a killed submitter's are released with its
        client) and no worker still runs one (a released tile runs to its end and
        records itself: a thread cannot be stopped)."""
        with self.client() as client:  # lambdas: pickled by value (workers cannot import this module)
            tasks = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
            running = client.run(lambda dask_worker: len(dask_worker.state.executing))
        return tasks == 0 and not any(running.values())


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


def _cluster(procs: Processes, name: str, n_workers: int, *, nanny: bool = True,
             tls: dict[str, Path] | None = None) -> HandCluster:
    cluster = HandCluster(procs, name, tls)
    cluster.start_scheduler()
    for _ in range(n_workers):
        cluster.start_worker(nanny=nanny)
    cluster.wait_for_workers(n_workers)
    return cluster


# ---------------------------------------------------------------------- data
def _make_store(root: Path) -> Path:
    tables = demo.make_pan_cancer(n_features=N_FEATURES, cohorts=COHORTS, seed=5, samples=(30, 60))
    for cohort, path in demo.write_tables(tables, root / "tables").items():
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


def _job(folder: Path, store: Path, results: Path, address: str = "", *, tls: dict[str, str] | None = None,
         name: str = "job.toml") -> Path:
    """The job file; ``tls`` adds [cluster] tls_* keys (e.g. {"tls_cert": "tls/client.pem"})."""
    return write_job(folder / name, store=str(store), results=str(results), omics="proteome",
                     tile_size=TILE_SIZE, address=address, **(tls or {}))


def _submit(procs: Processes, name: str, job: Path, address: str | None) -> subprocess.Popen:
    """`linkscan submit JOB [--scheduler ADDRESS] --quiet`, as README says."""
    return procs.start(name, [LINKSCAN, "submit", job, *(["--scheduler", address] if address else []),
                              "--quiet"])


def _ended(procs: Processes, proc: subprocess.Popen, timeout: float, status: int, context: str = "") -> str:
    """Wait (bounded) for a submission to exit with ``status``; its output."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`linkscan submit` did not exit within {timeout} s" + _tail(procs.log(proc)))
    output = procs.log(proc).read_text(errors="replace")
    assert proc.returncode == status, f"`linkscan submit` exited {proc.returncode}{context}" + _tail(procs.log(proc))
    return output


def _finish(procs: Processes, proc: subprocess.Popen, timeout: float = SCAN_TIMEOUT) -> str:
    """Wait for a submission to end well; its output."""
    return _ended(procs, proc, timeout, 0)


def _refused(procs: Processes, proc: subprocess.Popen, context=lambda: "") -> str:
    """Wait for a submission that must fail: exit status 2, one linkscan error line, no
    traceback. Its error (``context()`` is added to a failure's message)."""
    output = _ended(procs, proc, EXIT_TIMEOUT, 2, context())
    assert "Traceback" not in output and output.count("linkscan: error:") == 1, output
    error = output[output.index("linkscan: error:"):]
    assert error.count("\n") == 1, error  # one line
    return error


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


# ---------------------------------------------------------------------- the submitting process
@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> HandCluster:
    """A scheduler and 2 workers (with nannies) that outlive their tests: the tests that
    kill or double a submission, never a cluster process. Each test starts its own
    submissions with its `procs`, killed when it ends."""
    folder = tmp_path_factory.mktemp("shared_cluster")
    processes = Processes(folder)
    try:
        yield _cluster(processes, "shared", 2)
    finally:
        processes.kill_all()


def _damage(results: Path, key: str, how: str) -> Path:
    """Damage one part of a finished tile: `truncate` it to half its bytes (a half-written
    file), or `flip` one byte (same size, wrong checksum)."""
    part = sorted((results / "parts").glob(f"*/{key}.parquet"))[0]
    data = bytearray(part.read_bytes())
    if how == "truncate":
        data = data[:len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    return part


def test_submit__submitter_killed_parts_damaged_then_resubmitted(store, reference, shared, procs, tmp_path):
    """`linkscan submit` is SIGKILLed mid-scan; the cluster runs on. A finished part is
    truncated and another gets a flipped byte. A lookup refuses the store; the job
    resubmitted to the same scheduler reruns exactly the two damaged tiles and the
    missing ones, leaves every other ledger entry untouched, takes over the dead
    submitter's lock, and the shards are the LocalCluster's."""
    cluster = shared
    _wait_until(cluster.idle, 30, "the shared cluster to be idle")
    results = tmp_path / "res"
    job = _job(tmp_path, store, results)
    submit = _submit(procs, "submit", job, cluster.address)
    _wait_until(lambda: len(_ledger_files(results)) >= KILL_AFTER or submit.poll() is not None,
                SCAN_TIMEOUT, f"{KILL_AFTER} finished tiles in the ledger", procs.log(submit))
    assert submit.poll() is None, "the scan ended before its submitter could be killed" + _tail(procs.log(submit))
    procs.kill(submit)
    assert submit.returncode == -signal.SIGKILL
    # the tiles the workers were computing still land: snapshot once they have
    _wait_until(cluster.idle, 30, "the cluster to release the killed submitter's tiles and finish the running ones",
                cluster.procs.log(cluster.scheduler))
    before = _ledger_stamps(results)
    assert KILL_AFTER <= len(before) < N_TILES
    assert not (results / "complete.json").exists()
    rs = ResultStore(str(results))
    assert rs.lock_holder()["pid"] == submit.pid  # left by the killed submitter

    truncated, corrupted = sorted(before)[0], sorted(before)[-1]
    _damage(results, truncated, "truncate")
    _damage(results, corrupted, "flip")
    damaged = {truncated, corrupted}
    assert set(rs.ledger(verify=True)) == set(before) - damaged  # both detected
    gene = rs.features().feature.iloc[0]
    with pytest.raises(ResultsError, match="is not complete"):
        rs.lookup(gene)

    out = _finish(procs, _submit(procs, "resubmit", job, cluster.address))
    kept = len(before) - len(damaged)
    assert f"{N_TILES} tiles ({kept} already done, {N_TILES - kept} run now)" in out
    after = _ledger_stamps(results)
    assert set(after) == {t.key for t in plan_tiles(N_FEATURES, TILE_SIZE)}
    rewritten = {key for key, stamp in before.items() if after[key] != stamp}
    assert rewritten == damaged, f"tiles run again: {sorted(rewritten)}; damaged: {sorted(damaged)}"
    assert _shard_bytes(results) == reference
    assert rs.lock_holder() is None and len(rs.lookup(gene)) > 0


def test_submit__twice_at_once__the_second_is_refused(store, reference, shared, procs, tmp_path):
    """The same job submitted again while its first submission runs: the second exits 2
    at once, naming the first's process and host (the result store's lock); the first
    finishes undisturbed with the LocalCluster's shards."""
    cluster = shared
    _wait_until(cluster.idle, 30, "the shared cluster to be idle")
    results = tmp_path / "res"
    job = _job(tmp_path, store, results)
    first = _submit(procs, "first", job, cluster.address)
    rs = ResultStore(str(results))
    _wait_until(lambda: (results / "lock").exists() and rs.lock_holder() is not None or first.poll() is not None,
                START_TIMEOUT, "the first submission to take the lock", procs.log(first))
    assert first.poll() is None, "the first submission ended before it held the lock" + _tail(procs.log(first))
    assert rs.lock_holder()["pid"] == first.pid
    second = _submit(procs, "second", job, cluster.address)
    error = _refused(procs, second, lambda: f" (the first {'still runs' if first.poll() is None else 'had ended'})")
    assert f"is being scanned by process {first.pid} on {socket.gethostname()}" in error, error

    out = _finish(procs, first)
    assert f"{N_TILES} tiles (0 already done, {N_TILES} run now)" in out
    assert len(_ledger_files(results)) == N_TILES and (results / "complete.json").exists()
    assert _shard_bytes(results) == reference
    assert rs.lock_holder() is None and rs.failures() == []


# ---------------------------------------------------------------------- TLS
def _tls_files(folder: Path) -> dict[str, dict[str, Path]]:
    """A throwaway CA and two certificates it signs (EC P-256, for IP 127.0.0.1, a day
    long): "cluster" for the scheduler and workers, "client" for linkscan. Made with the
    `openssl` command (distributed's Security.temporary() needs the `cryptography`
    package, which linkscan does not install)."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("needs the `openssl` command to make test certificates")
    folder.mkdir(parents=True)
    (folder / "leaf.ext").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    commands = [[openssl, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
                 "-subj", "/CN=linkscan test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"]]
    for serial, name in enumerate(("cluster", "client"), start=1):
        commands += [[openssl, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}"],
                     [openssl, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                      "-set_serial", str(serial), "-days", "1", "-extfile", "leaf.ext", "-out", f"{name}.pem"]]
    for command in commands:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stderr}"
    return {name: {"ca": folder / "ca.pem", "cert": folder / f"{name}.pem", "key": folder / f"{name}.key"}
            for name in ("cluster", "client")}


def test_submit__tls_cluster(store, reference, procs, tmp_path):
    """A scheduler and 2 workers that speak TLS only (dask's --tls-ca-file, --tls-cert,
    --tls-key, --protocol tls). The job's [cluster] tls_ca_file, tls_cert and tls_key
    (paths relative to the job file) let `linkscan submit --scheduler tls://...` scan on
    it, with the LocalCluster's shards; without them, with a certificate but no key, or
    over plain tcp://, it is refused with one linkscan error line."""
    tls = _tls_files(tmp_path / "tls")
    cluster = _cluster(procs, "tls", 2, tls=tls["cluster"])
    tcp_address = cluster.address.replace("tls://", "tcp://")
    plain = _job(tmp_path, store, tmp_path / "plain", name="plain.toml")
    half = _job(tmp_path, store, tmp_path / "half", name="half.toml",
                tls={"tls_ca_file": "tls/ca.pem", "tls_cert": "tls/client.pem"})
    no_keys = _submit(procs, "no-keys", plain, cluster.address)
    over_tcp = _submit(procs, "over-tcp", plain, tcp_address)
    no_key = _submit(procs, "no-key", half, cluster.address)
    assert "[cluster] tls_ca_file and tls_cert set without tls_key" in _refused(procs, no_key)
    error = _refused(procs, no_keys)
    assert f"the scheduler address {cluster.address} is tls:// but no TLS certificates are given" in error
    assert "tls_ca_file, tls_cert and tls_key" in error
    error = _refused(procs, over_tcp)
    assert f"cannot reach the dask scheduler at {tcp_address}" in error

    results = tmp_path / "res"
    job = _job(tmp_path, store, results,
               tls={"tls_ca_file": "tls/ca.pem", "tls_cert": "tls/client.pem", "tls_key": "tls/client.key"})
    out = _finish(procs, _submit(procs, "submit", job, cluster.address))
    assert f"{N_TILES} tiles (0 already done, {N_TILES} run now)" in out
    assert _shard_bytes(results) == reference
    assert cluster.worker_names() == {"tls-w0", "tls-w1"}
    assert all(a.startswith("tls://127.0.0.1:") for a in cluster.worker_addresses())
