"""End-to-end trans scan benchmark: generate, ingest, `linkscan submit`, measure, look up.

    .venv/bin/python benchmarks/bench_scan.py --features 10000 [--cohorts 10] [--workers 2]
        [--tile-size 500] [--dir /tmp/bench-scan] [--keep-store] [--keep] [--reuse-store]
        [--lookups 200] [--seed 0] [--timeout 7200] [--no-warmup] [--markdown FILE]

``--features`` and ``--workers`` take comma-separated lists: ``--features 2000,5000,10000``
runs each size on its own store (linearity), ``--workers 1,2`` runs the scan once per
worker count on the same store (speedup t1/tN). The measured figures are issue 4's
targets 2, 4 and 5:

* **Data**: a CPTAC-shaped pan-cancer proteome (``linkscan.jobs.demo.make_pan_cancer``,
  the first ``--cohorts`` of the ten CPTAC cohorts, 100-200 tumors each, ~40% of the
  proteins missing 5-50% of the samples, a few fillers absent per cohort), written as
  LinkedOmics ``.cct`` tables and ingested into ``DIR/f<N>-c<K>/store``. Generation and
  ingest are timed apart and are not part of the scan figure. With ``--reuse-store``, a
  store made by an earlier run with the same parameters (``store.json`` next to it) is
  used as is.
* **Warm-up**: first an unmeasured 60-protein scan, so that Numba's on-disk cache of the
  kernels (stale after any edit of kernels/) is compiled before the measured runs
  (``--no-warmup`` skips it).
* **Scan**: as a user runs it, ``linkscan submit JOB.toml --quiet`` in a subprocess (job
  file from ``linkscan.jobs.spec.write_job``: trans, proteome, ``--tile-size``, ``n_workers``),
  into a new results folder each run. Wall time is the subprocess's, from start to exit
  (Python start, LocalCluster start, tiles, BH, compaction, cluster shutdown).
* **Peak memory**: every ``--interval`` s the whole process tree (the submitter, which
  also runs the LocalCluster's scheduler and nannies, its worker processes and
  multiprocessing's resource tracker, found recursively) is summed; the peak of the sum is reported as PSS (proportional set
  size, from /proc/PID/smaps_rollup through psutil's ``memory_full_info``: shared pages
  are split between the processes that share them, so the sum is what the tree costs
  the machine) and as RSS (each process's resident pages; the sum counts shared
  libraries once per process, so it overstates). Without smaps_rollup only RSS is taken.
  Reading smaps_rollup costs some 3-8 ms of CPU per process (the sampling cost is
  reported); ``--rss-only`` avoids it.
* **A shared machine**: the CPU seconds of the scan's processes and of everything else
  (the machine's busy time from /proc/stat minus the scan's) are reported per run; a
  run during which other processes took more than 20% of the CPU is flagged, and so is
  a run after an edit of kernels/ (Numba then compiles inside the measured run). The
  header names the commit and any uncommitted changes to the package.
* **Time split** (from the result store's ledger: each tile's ``seconds`` of compute on
  its worker, up to the writing of its parts, and ``finished_at``): *start* = subprocess start to the first
  tile's start, *tiles* = first tile start to last tile finish, *finish* = last tile
  finish to the subprocess's exit (BH over the whole scan, compaction of the shards,
  cluster shutdown; BH and compaction split by when the BH tables and complete.json
  were written), and worker utilisation = tile seconds / (workers x tiles phase).
* **Size**: pairs n(n-1)/2 over the n proteins of the store's feature table; cohort-pair
  tests as ``linkscan submit`` reports them (pairs x cohorts, what its tiles plan), with
  both proteins present in the cohort (sum of m_c(m_c-1)/2) and with a p (the BH test
  counts of complete.json); rows from complete.json; bytes of shards/ + features.parquet
  + bh/ (what lookups read) and of the whole results folder, as file sizes (and
  allocated blocks for the total).
* **Lookups** (on the last run of each size): ``--lookups`` genes drawn with ``--seed``
  from the store's features; warm: in this process, one ``ResultStore.lookup`` to warm
  up, then each gene's lookup timed (median, p90, max); fresh: ``linkscan query GENE
  --results R --top 10`` as a subprocess, 5 genes, median wall.

Output: progress on stderr, a markdown report on stdout (and in ``--markdown FILE``).
Results folders are removed after each run unless ``--keep``; stores are removed at the
end unless ``--keep-store`` or ``--reuse-store``. A failed scan prints the tail of the
subprocess's stderr and keeps its folder (results, job file and logs).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

GB = 1024**3
MB = 1024**2
#: Issue 4's targets for the full scan (10 cohorts x 10,000 proteins).
TARGET_FEATURES, TARGET_COHORTS = 10_000, 10
TARGET_WALL_S, TARGET_PEAK_B = 600.0, 4 * GB
TARGET_SPEEDUP, TARGET_LOOKUP_MS, TARGET_QUERY_S = 1.8, 20.0, 1.5
#: Result bytes per row, for the free-disk check before a scan: about 16 + 12 per cohort
#: at small sizes (less at large ones: the demo's 10 cohorts made 107); parts and shards
#: coexist until the finish ends, so twice that is needed.
BYTES_PER_ROW = (16.0, 12.0)
#: Runs smaller than this (the 2,000-protein x 10-cohort demo has 20M) are not extrapolated.
MIN_TESTS_TO_PROJECT = 10_000_000
FRESH_QUERIES = 5
SHARED_CPU_SHARE = 0.2
NPROC = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
QUERY_TIMEOUT_S = 120.0


class BenchError(Exception):
    """A step failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def int_list(text: str) -> list[int]:
    try:
        values = [int(x.replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def fmt_bytes(n: float) -> str:
    for unit, size in (("GB", GB), ("MB", MB), ("kB", 1024)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"


def fmt_s(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "n/a"
    if seconds >= 120:
        minutes, rest = divmod(round(seconds), 60)  # 419.97 s is 7 min 0 s, not 6 min 60 s
        return f"{seconds:.1f} s ({minutes} min {rest} s)"
    return f"{seconds:.2f} s"


# ----------------------------------------------------------------------------- machine
def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("numpy", "numba", "pandas", "dask", "distributed", "fastparquet", "zarr", "xarray", "psutil"):
        try:
            out[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - a report, not a check
            out[name] = "not installed"
    return out


def machine() -> dict:
    vm = psutil.virtual_memory()
    return {
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "nproc": NPROC,
        "memory": vm.total,
        "available": vm.available,
        "load": os.getloadavg(),
    }


def load_text(load) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


# ----------------------------------------------------------------------------- process tree
def tree_of(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return [root]


def kill_tree(pid: int) -> None:
    """SIGTERM the subprocess ``pid`` and its descendants (all started by this script),
    then SIGKILL what is left after 10 s."""
    try:
        procs = tree_of(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.send_signal(signal.SIGTERM)
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=10)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=5)


@dataclass
class MemoryPeak:
    """Peaks of the summed memory of a process tree, sampled."""

    use_pss: bool
    samples: int = 0
    sample_cpu: float = 0.0  # CPU seconds (user + system) this process spent sampling
    peak_pss: int = 0
    peak_rss: int = 0
    peak_root: int = 0  # the submitter alone (its metric: PSS when use_pss)
    peak_child: int = 0  # the largest single descendant
    max_procs: int = 0
    at_peak: list[tuple[str, int]] = field(default_factory=list)  # (role, metric) at the peak of the sum
    roles: dict[int, str] = field(default_factory=dict)  # pid -> role, read once per process
    cpu: dict[int, float] = field(default_factory=dict)  # pid -> CPU seconds (user + system) last seen

    @property
    def metric(self) -> str:
        return "PSS" if self.use_pss else "RSS"

    @property
    def peak(self) -> int:
        return self.peak_pss if self.use_pss else self.peak_rss

    def sample(self, root: psutil.Process) -> None:
        start = time.process_time()
        procs = tree_of(root)
        rss = pss = 0
        each = []
        for p in procs:
            try:
                if self.use_pss:
                    m = p.memory_full_info()
                    value = m.pss
                    rss += m.rss
                else:
                    m = p.memory_info()
                    value = m.rss
                    rss += m.rss
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                value = 0
            except psutil.AccessDenied:
                self.use_pss = False  # cannot read smaps: RSS from here on
                value = 0
            pss += value
            each.append(value)
            try:
                t = p.cpu_times()
                self.cpu[p.pid] = t.user + t.system
            except psutil.Error:
                pass
            if p.pid not in self.roles:
                self.roles[p.pid] = role_of(p, p is procs[0])
        self.samples += 1
        self.sample_cpu += time.process_time() - start
        self.max_procs = max(self.max_procs, len(procs))
        if each:
            self.peak_root = max(self.peak_root, each[0])
            self.peak_child = max(self.peak_child, max(each[1:], default=0))
        self.peak_rss = max(self.peak_rss, rss)
        if pss > self.peak_pss:
            self.peak_pss = pss
            at = sorted(((self.roles.get(p.pid, "?"), v) for p, v in zip(procs[1:], each[1:])), key=lambda x: -x[1])
            self.at_peak = [(self.roles.get(procs[0].pid, "?"), each[0] if each else 0), *at]


def role_of(p: psutil.Process, is_root: bool) -> str:
    """What a process of the tree is: the submitter (which runs the LocalCluster's
    scheduler and nannies in-process), a worker, multiprocessing's resource tracker."""
    if is_root:
        return "submitter"
    try:
        cmd = " ".join(p.cmdline())
    except psutil.Error:
        return "?"
    if "resource_tracker" in cmd:
        return "tracker"
    if "spawn_main" in cmd or "forkserver" in cmd:
        return "worker"
    return p.name()


def pss_available() -> bool:
    try:
        return psutil.Process().memory_full_info().pss > 0
    except (psutil.Error, AttributeError):
        return False


def busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy (not idle or waiting for I/O)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)


@dataclass
class Finished:
    returncode: int
    wall: float
    t0: float  # time.time() at the start
    t_end: float
    memory: MemoryPeak
    timed_out: bool = False
    machine_cpu: float = 0.0  # CPU seconds the machine was busy during the run (every process)

    @property
    def tree_cpu(self) -> float:
        """CPU seconds of the scan's processes (as last sampled: up to one interval short)."""
        return sum(self.memory.cpu.values())

    @property
    def others_cpu(self) -> float:
        """CPU seconds of everything else on the machine (other users, this benchmark's sampling)."""
        return max(0.0, self.machine_cpu - self.tree_cpu)


def run_measured(cmd: list[str], *, cwd: Path, stdout: Path, stderr: Path, timeout: float,
                 interval: float, use_pss: bool) -> Finished:
    """Run ``cmd``; sample its process tree's memory every ``interval`` s until it exits
    or ``timeout`` s pass (then the tree is killed)."""
    memory = MemoryPeak(use_pss=use_pss)
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        cpu0 = busy_cpu()
        t0 = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        try:
            root = psutil.Process(proc.pid)
            timed_out = False
            while True:
                try:
                    memory.sample(root)
                except psutil.Error:
                    pass
                try:
                    proc.wait(timeout=interval)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if time.perf_counter() - start > timeout:
                    timed_out = True
                    kill_tree(proc.pid)
                    proc.wait(timeout=30)
                    break
        except BaseException:  # Ctrl-C or a bug here: leave no cluster behind
            kill_tree(proc.pid)
            raise
        wall = time.perf_counter() - start
        cpu1 = busy_cpu()
    return Finished(proc.returncode, wall, t0, time.time(), memory, timed_out, cpu1 - cpu0)


def numba_cache_dirs() -> list[Path]:
    """Where Numba caches linkscan's compiled kernels (next to their source)."""
    import linkscan.kernels

    return [Path(linkscan.kernels.__file__).parent / "__pycache__"]


def kernels_source_mtime() -> float:
    """The newest modification time of the kernels' source files."""
    import linkscan.kernels

    return max((f.stat().st_mtime for f in Path(linkscan.kernels.__file__).parent.glob("*.py")), default=0.0)


def code_version() -> str:
    """The commit, and the files of the package that differ from it (the kernels may be
    edited while benchmarks run)."""
    repo = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "kernels", "engine",
                                "storage", "jobs"], capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    changed = [line[3:] for line in dirty if line.strip()]
    return f"commit {commit or '?'}" + (f" + uncommitted changes in {', '.join(changed)}" if changed else " (clean)")


def compiled_between(t0: float, t1: float) -> int:
    """Numba cache files (index or data) written between ``t0`` and ``t1``: kernels
    were compiled then (the cache is stale after an edit of their source)."""
    count = 0
    for folder in numba_cache_dirs():
        for f in folder.glob("*.nb[ic]") if folder.is_dir() else ():
            try:
                if t0 <= f.stat().st_mtime <= t1 + 1:
                    count += 1
            except OSError:
                pass
    return count


def tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").rstrip().splitlines()
    except OSError:
        return "(no output)"
    return "\n".join(text[-lines:]) or "(empty)"


# ----------------------------------------------------------------------------- sizes on disk
def tree_bytes(path: Path) -> tuple[int, int, int]:
    """(file bytes, allocated bytes, files) under ``path`` (a file or a folder)."""
    if not path.exists():
        return 0, 0, 0
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    size = alloc = 0
    for f in files:
        st = f.stat()
        size += st.st_size
        alloc += st.st_blocks * 512
    return size, alloc, len(files)


# ----------------------------------------------------------------------------- the store
def make_store(root: Path, n_features: int, cohorts: list[str], seed: int, samples: tuple[int, int],
               reuse: bool) -> dict:
    """The cohort store ``root/store`` for these parameters (generated and ingested, or
    reused); returns its description (``root/store.json``) with the time it took."""
    from linkscan.jobs import demo
    from linkscan.storage.inputs.ingest import ingest

    store, meta_file = root / "store", root / "store.json"
    params = {"features": n_features, "cohorts": cohorts, "seed": seed, "samples": list(samples),
              "generator": "linkscan.jobs.demo.make_pan_cancer", "omics": "proteome"}
    if reuse and store.is_dir() and meta_file.is_file():
        try:
            meta = json.loads(meta_file.read_text())
        except ValueError:
            meta = {}
        if meta.get("params") == params and meta.get("complete"):
            log(f"reusing the store {store} ({n_features} proteins x {len(cohorts)} cohorts)")
            return {**meta, "reused": True}
        log(f"{store} was made with other parameters (or not finished); making it again")
    shutil.rmtree(store, ignore_errors=True)
    meta_file.unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    tables_dir = root / "tables"
    log(f"generating {len(cohorts)} cohorts x {n_features} proteins, samples {samples[0]}-{samples[1]} (seed {seed})")
    t = time.perf_counter()
    tables = demo.make_pan_cancer(n_features=n_features, cohorts=cohorts, seed=seed, samples=samples)
    generate_s = time.perf_counter() - t
    t = time.perf_counter()
    paths = demo.write_tables(tables, tables_dir)
    write_s = time.perf_counter() - t
    del tables
    log(f"  generated in {generate_s:.1f} s, .cct tables written in {write_s:.1f} s; ingesting")
    t = time.perf_counter()
    shape = {}
    for cohort, path in paths.items():
        summary = ingest(store, cohort, "proteome", path)
        shape[cohort] = {"features": summary.n_features, "samples": summary.n_samples,
                         "missing": round(summary.missing_fraction, 4)}
    ingest_s = time.perf_counter() - t
    shutil.rmtree(tables_dir, ignore_errors=True)
    meta = {"params": params, "cohort_shapes": shape, "generate_s": round(generate_s, 2),
            "write_tables_s": round(write_s, 2), "ingest_s": round(ingest_s, 2),
            "store_bytes": tree_bytes(store)[0], "complete": True,
            "made_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    meta_file.write_text(json.dumps(meta, indent=1))
    log(f"  ingested in {ingest_s:.1f} s -> {store} ({fmt_bytes(meta['store_bytes'])})")
    return {**meta, "reused": False}


# ----------------------------------------------------------------------------- one scan
REPORT_RE = re.compile(r"([\d,]+) result rows, ([\d,]+) pair tests in ([\d.]+) s")


@dataclass
class ScanRun:
    features: int
    cohorts: int
    workers: int
    tile_size: int
    command: str
    load_start: tuple
    finished: Finished
    results: Path
    report_line: str = ""
    scan_seconds: float = math.nan  # as `linkscan submit` reports it (cluster up to finish)
    reported_tests: int = 0
    n_features: int = 0
    pairs: int = 0
    tests_present: int = 0
    tests_with_p: int = 0
    rows: int = 0
    tiles: int = 0
    shards: int = 0
    bytes_lookup: int = 0  # shards/ + features.parquet + bh/
    bytes_shards: int = 0
    bytes_total: int = 0
    alloc_total: int = 0
    files_total: int = 0
    tile_seconds: float = math.nan
    start_phase: float = math.nan
    tiles_phase: float = math.nan
    finish_phase: float = math.nan
    bh_phase: float = math.nan  # last tile -> last BH table written
    compaction_phase: float = math.nan  # last BH table -> complete.json
    lookups: dict | None = None
    compiled: int = 0  # Numba cache files written during the run (by any process)
    source_changed: float = 0.0  # mtime of a kernels/ edit since the previous scan ended, or 0

    @property
    def wall(self) -> float:
        return self.finished.wall


def linkscan_command() -> list[str]:
    exe = Path(sys.executable).with_name("linkscan")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("linkscan")
    if found:
        return [found]
    return [sys.executable, "-m", "linkscan.jobs.cli"]


def check_disk(folder: Path, n_features: int, n_cohorts: int) -> None:
    rows = n_features * (n_features - 1)
    need = 2 * rows * (BYTES_PER_ROW[0] + BYTES_PER_ROW[1] * n_cohorts)  # parts + shards at the finish
    free = shutil.disk_usage(folder).free
    if free < need:
        raise BenchError(f"{folder}: {fmt_bytes(free)} free, the scan needs about {fmt_bytes(need)} "
                         "(parts and shards); free space or pass another --dir")


def run_scan(root: Path, store_meta: dict, workers: int, args) -> ScanRun:
    from linkscan.jobs.spec import write_job
    from linkscan.storage.results.store import ResultStore

    n_features, cohorts = store_meta["params"]["features"], store_meta["params"]["cohorts"]
    check_disk(root, n_features, len(cohorts))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = root / f"run-w{workers}-{stamp}"
    run_dir.mkdir(parents=True)
    results = run_dir / "results"
    job = write_job(run_dir / "job.toml", store=str((root / "store").resolve()), results=str(results.resolve()),
                    omics="proteome", tile_size=args.tile_size, n_workers=workers)
    cmd = [*linkscan_command(), "submit", str(job), "--quiet"]
    load = os.getloadavg()
    log(f"scan: {n_features} proteins x {len(cohorts)} cohorts, {workers} worker(s), tile {args.tile_size} "
        f"(load {load_text(load)}): {shlex.join(cmd)}")
    fin = run_measured(cmd, cwd=run_dir, stdout=run_dir / "stdout.txt", stderr=run_dir / "stderr.txt",
                       timeout=args.timeout, interval=args.interval, use_pss=args.pss)
    if fin.timed_out:
        raise BenchError(f"the scan did not finish in --timeout {args.timeout:.0f} s and was killed; its folder is "
                         f"kept: {run_dir}\n--- stderr (tail) ---\n{tail(run_dir / 'stderr.txt')}")
    if fin.returncode != 0:
        raise BenchError(f"`{shlex.join(cmd)}` failed (exit {fin.returncode}) after {fin.wall:.1f} s; its folder is "
                         f"kept: {run_dir}\n--- stderr (tail) ---\n{tail(run_dir / 'stderr.txt')}"
                         f"\n--- stdout (tail) ---\n{tail(run_dir / 'stdout.txt', 5)}")
    run = ScanRun(n_features, len(cohorts), workers, args.tile_size, shlex.join(cmd), load, fin, results)
    run.compiled = compiled_between(fin.t0, fin.t_end)
    edited = kernels_source_mtime()
    if edited > args.last_scan_end:
        run.source_changed = edited
        log(f"  WARNING: kernels/ was edited at {time.strftime('%H:%M:%S', time.localtime(edited))}, after the "
            "previous scan: this run probably compiled the kernels and its time includes that")
    elif run.compiled:
        log(f"  note: {run.compiled} Numba cache files were written during this run (by it, or by another "
            "process using kernels/)")
    args.last_scan_end = fin.t_end
    out = (run_dir / "stdout.txt").read_text(errors="replace")
    match = REPORT_RE.search(out)
    if match is None:
        raise BenchError(f"no report line ('N result rows, N pair tests in S s') in the output of "
                         f"`{shlex.join(cmd)}`; its folder is kept: {run_dir}\n--- stdout ---\n{tail(run_dir / 'stdout.txt')}")
    run.report_line = next((line for line in out.splitlines() if "pair tests" in line), "").strip()
    run.reported_tests = int(match.group(2).replace(",", ""))
    run.scan_seconds = float(match.group(3))

    store = ResultStore(str(results))
    if not store.is_complete():
        raise BenchError(f"{results} has no complete.json after a successful submit; kept: {run_dir}")
    summary = store.summary()
    run.rows, run.tiles, run.shards = summary["rows"], summary["tiles"], summary["shards"]
    tests = summary.get("tests", {})
    run.tests_with_p = sum(v for k, v in tests.items() if k != "meta_slogp")
    features = store.features()
    run.n_features = len(features)
    run.pairs = run.n_features * (run.n_features - 1) // 2
    shapes = store_meta.get("cohort_shapes", {})
    run.tests_present = sum(s["features"] * (s["features"] - 1) // 2 for s in shapes.values())

    shards = tree_bytes(results / "shards")
    run.bytes_shards = shards[0]
    run.bytes_lookup = shards[0] + tree_bytes(results / "features.parquet")[0] + tree_bytes(results / "bh")[0]
    run.bytes_total, run.alloc_total, run.files_total = tree_bytes(results)

    ledger = store.ledger()
    if ledger:
        finished_at = [e["finished_at"] for e in ledger.values()]
        started_at = [e["finished_at"] - e["seconds"] for e in ledger.values()]
        run.tile_seconds = sum(e["seconds"] for e in ledger.values())
        run.start_phase = min(started_at) - fin.t0
        run.tiles_phase = max(finished_at) - min(started_at)
        run.finish_phase = fin.t_end - max(finished_at)
        # the finish's two rounds, from when their files were written
        tables = [f.stat().st_mtime for f in (results / "bh").glob("*.npy")]
        if tables:
            run.bh_phase = max(tables) - max(finished_at)
            run.compaction_phase = (results / "complete.json").stat().st_mtime - max(tables)
    log(f"  {fin.wall:.1f} s wall, peak {fin.memory.metric} {fmt_bytes(fin.memory.peak)}, {run.rows:,} rows, "
        f"{fmt_bytes(run.bytes_total)} on disk; CPU: scan {fin.tree_cpu:.1f} s, other processes {fin.others_cpu:.1f} s "
        f"of {fin.wall * NPROC:.1f} s")
    if shared(run):
        log(f"  WARNING: other processes used {fin.others_cpu / (fin.wall * NPROC):.0%} of the machine's CPU "
            "during this run: its times are inflated")
    return run


# ----------------------------------------------------------------------------- lookups
def lookups(results: Path, count: int, seed: int) -> dict:
    from linkscan.storage.results.store import ResultStore

    store = ResultStore(str(results))
    genes = store.features()["gene"].astype(str).unique()
    rng = np.random.default_rng(seed)
    chosen = [str(g) for g in rng.choice(genes, size=min(count, len(genes)), replace=False)]
    log(f"lookups: {len(chosen)} genes warm in this process, {FRESH_QUERIES} fresh `linkscan query` processes")
    store.lookup(chosen[0])  # warm-up: imports, fastparquet, the page cache
    me = psutil.Process()
    cpu0, own0, wall0 = busy_cpu(), sum(me.cpu_times()[:2]), time.perf_counter()
    times, rows = [], []
    for gene in chosen:
        t = time.perf_counter()
        found = store.lookup(gene)
        times.append((time.perf_counter() - t) * 1000)
        rows.append(len(found))
    others = max(0.0, busy_cpu() - cpu0 - (sum(me.cpu_times()[:2]) - own0))
    others_share = others / max((time.perf_counter() - wall0) * NPROC, 1e-9)
    fresh = []
    for gene in chosen[:FRESH_QUERIES]:
        cmd = [*linkscan_command(), "query", gene, "--results", str(results), "--top", "10"]
        t = time.perf_counter()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=QUERY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise BenchError(f"`{shlex.join(cmd)}` took more than {QUERY_TIMEOUT_S:.0f} s") from None
        fresh.append(time.perf_counter() - t)
        if done.returncode != 0:
            raise BenchError(f"`{shlex.join(cmd)}` failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return {
        "genes": len(chosen),
        "median_ms": statistics.median(times),
        "p90_ms": float(np.percentile(times, 90)),
        "max_ms": max(times),
        "rows_median": statistics.median(rows),
        "others_share": others_share,
        "fresh_cmd": f"linkscan query {chosen[0]} --results {results} --top 10",
        "fresh_median_s": statistics.median(fresh),
        "fresh_max_s": max(fresh),
        "fresh_n": len(fresh),
    }


# ----------------------------------------------------------------------------- report
def run_table(run: ScanRun, store_meta: dict) -> list[str]:
    m = run.finished.memory
    rate_pairs = run.pairs / run.wall
    rate_tests = run.reported_tests / run.wall
    util = (run.tile_seconds / (run.workers * run.tiles_phase)) if run.tiles_phase > 0 else math.nan
    gen = ("reused (made earlier: " if store_meta.get("reused") else "") + (
        f"generate {store_meta['generate_s']:.1f} s + write .cct {store_meta['write_tables_s']:.1f} s + "
        f"ingest {store_meta['ingest_s']:.1f} s") + (")" if store_meta.get("reused") else "")
    samples = [s["samples"] for s in store_meta.get("cohort_shapes", {}).values()]
    at_peak = ", ".join(f"{role} {fmt_bytes(x)}" for role, x in m.at_peak[:8]) + (", ..." if len(m.at_peak) > 8 else "")
    lines = [
        f"#### {run.features:,} proteins x {run.cohorts} cohorts, {run.workers} worker(s), tile {run.tile_size}",
        "",
        f"`{run.command}`  ",
        f"load average at the start: {load_text(run.load_start)}; report: `{run.report_line}`",
        "",
        *([f"**Warning: kernels/ was edited at {time.strftime('%H:%M:%S', time.localtime(run.source_changed))}, "
           f"after the previous scan ended ({run.compiled} Numba cache files written during this run): its "
           "times probably include compiling the kernels.**", ""] if run.source_changed else []),
        *([f"**Warning: other processes used {run.finished.others_cpu / (run.wall * NPROC):.0%} of the machine's "
           "CPU during this run: its times are inflated.**", ""] if shared(run) else []),
        *([f"Note: {run.compiled} Numba cache files were written during this run (by it, or by another process "
           "using kernels/).", ""] if run.compiled and not run.source_changed else []),
        "| measure | value |",
        "| --- | ---: |",
        f"| cohort store | {gen}; samples {min(samples, default=0)}-{max(samples, default=0)}, "
        f"{fmt_bytes(store_meta.get('store_bytes', 0))} |",
        f"| **wall** (subprocess start to exit) | **{fmt_s(run.wall)}** |",
        f"| scan seconds as `linkscan submit` reports them (cluster up to finish done) | {fmt_s(run.scan_seconds)} |",
        f"| start: process, LocalCluster, plan, scatter -> first tile starts | {fmt_s(run.start_phase)} |",
        f"| tiles: first tile starts -> last tile finishes | {fmt_s(run.tiles_phase)} |",
        f"| finish: last tile -> exit (BH, compaction, cluster shutdown) | {fmt_s(run.finish_phase)} |",
        f"| of the finish: BH (last tile -> last BH table) / compaction (-> complete.json) | "
        f"{fmt_s(run.bh_phase)} / {fmt_s(run.compaction_phase)} |",
        f"| tile compute (ledger seconds: up to the part writes), summed over {run.tiles} tiles | {fmt_s(run.tile_seconds)} "
        f"(worker utilisation in the tiles phase {util:.0%}) |",
        f"| CPU: the scan's processes / everything else on the machine / available (wall x {NPROC} cores) | "
        f"{run.finished.tree_cpu:.1f} s / {run.finished.others_cpu:.1f} s / {run.wall * NPROC:.1f} s |",
        f"| **peak memory, process tree ({m.metric} sum)** | **{fmt_bytes(m.peak)}** |",
        f"| peak RSS sum (overcounts shared pages) | {fmt_bytes(m.peak_rss)} |",
        f"| per process at the peak (the submitter runs the scheduler and nannies) | {at_peak} |",
        f"| peak of the submitter / of the largest other process ({m.metric}) | "
        f"{fmt_bytes(m.peak_root)} / {fmt_bytes(m.peak_child)} |",
        f"| memory samples (every {args_interval:.2f} s; most processes at once) | "
        f"{m.samples} ({m.max_procs}); sampling cost {1000 * m.sample_cpu / max(m.samples, 1):.1f} ms CPU each |",
        f"| proteins n / pairs n(n-1)/2 | {run.n_features:,} / {run.pairs:,} |",
        f"| cohort-pair tests, as `linkscan submit` reports (pairs x cohorts) | {run.reported_tests:,} |",
        f"| cohort-pair tests with both proteins in the cohort | {run.tests_present:,} |",
        f"| cohort-pair tests with a p (BH test counts) | {run.tests_with_p:,} |",
        f"| rows in the store (complete.json) / shards | {run.rows:,} / {run.shards} |",
        f"| bytes: shards/ + features.parquet + bh/ | {fmt_bytes(run.bytes_lookup)} ({run.bytes_lookup:,} B) |",
        f"| bytes: whole results folder (allocated on disk; files) | {fmt_bytes(run.bytes_total)} "
        f"({fmt_bytes(run.alloc_total)}; {run.files_total} files) |",
        f"| **bytes per pair** / per row (shards + features + bh) | **{run.bytes_lookup / max(run.pairs, 1):.1f}** / "
        f"{run.bytes_lookup / max(run.rows, 1):.1f} |",
        f"| **pairs/s** (wall) / cohort-pair tests/s (wall) | **{rate_pairs:,.0f}** / {rate_tests:,.0f} |",
        f"| cohort-pair tests/s per worker in tiles (tile seconds) | "
        f"{run.reported_tests / run.tile_seconds if run.tile_seconds > 0 else math.nan:,.0f} |",
    ]
    if run.lookups:
        lk = run.lookups
        lines += [
            f"| **gene lookup, warm** ({lk['genes']} genes, `ResultStore.lookup`, all partners: median "
            f"{lk['rows_median']:,.0f} rows) median / p90 / max | **{lk['median_ms']:.1f} ms** / {lk['p90_ms']:.1f} ms / "
            f"{lk['max_ms']:.1f} ms (other processes used {lk['others_share']:.0%} of the CPU meanwhile) |",
            f"| **`linkscan query GENE --top 10`, fresh process** ({lk['fresh_n']} runs) median / max | "
            f"**{lk['fresh_median_s']:.2f} s** / {lk['fresh_max_s']:.2f} s |",
        ]
    return lines + [""]


args_interval = 0.5  # set from the arguments in main(); used by run_table's text


def shared(run: ScanRun) -> bool:
    """Whether other processes took a notable share (> 20%) of the CPU during the run."""
    return run.finished.others_cpu > SHARED_CPU_SHARE * run.wall * NPROC


def wall_text(run: ScanRun) -> str:
    notes = [n for n, flag in (("kernels edited before it", run.source_changed),
                                ("machine shared", shared(run))) if flag]
    return fmt_s(run.wall) + (f" ({', '.join(notes)})" if notes else "")


def scaling_tables(runs: list[ScanRun]) -> list[str]:
    lines = []
    by_size: dict[tuple[int, int], list[ScanRun]] = {}
    for run in runs:
        by_size.setdefault((run.features, run.cohorts), []).append(run)
    for (features, cohorts), group in by_size.items():
        if len({r.workers for r in group}) < 2:
            continue
        base = min(group, key=lambda r: r.workers)
        lines += [f"#### Workers: {features:,} proteins x {cohorts} cohorts (speedup = t({base.workers}) / t(N))", "",
                  "| workers | wall | speedup (wall) | tiles phase | speedup (tiles) | finish | peak memory |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in sorted(group, key=lambda r: r.workers):
            lines.append(f"| {r.workers} | {wall_text(r)} | {base.wall / r.wall:.2f}x | {fmt_s(r.tiles_phase)} | "
                         f"{base.tiles_phase / r.tiles_phase:.2f}x | {fmt_s(r.finish_phase)} | "
                         f"{fmt_bytes(r.finished.memory.peak)} |")
        lines.append("")
    by_workers: dict[int, list[ScanRun]] = {}
    for run in runs:
        by_workers.setdefault(run.workers, []).append(run)
    for workers, group in by_workers.items():
        sizes = sorted({(r.features, r.cohorts) for r in group})
        if len(sizes) < 2:
            continue
        group = sorted(group, key=lambda r: (r.reported_tests, r.features))
        base = group[0]
        lines += [f"#### Pairs: {workers} worker(s), time per pair and per cohort-pair test", "",
                  "| proteins | cohorts | pairs | cohort-pair tests | wall | us/pair (wall) | ns/test (wall) "
                  "| ns/test (tiles phase) | ns/test vs smallest | peak memory | bytes/pair |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in group:
            per_test = r.wall / r.reported_tests * 1e9
            lines.append(
                f"| {r.n_features:,} | {r.cohorts} | {r.pairs:,} | {r.reported_tests:,} | {wall_text(r)} | "
                f"{r.wall / r.pairs * 1e6:.2f} | {per_test:.1f} | {r.tiles_phase / r.reported_tests * 1e9:.1f} | "
                f"{per_test / (base.wall / base.reported_tests * 1e9):.2f} | {fmt_bytes(r.finished.memory.peak)} | "
                f"{r.bytes_lookup / r.pairs:.1f} |")
        # wall = fixed + per_test * tests, least squares over the runs
        x = np.array([r.reported_tests for r in group], float)
        y = np.array([r.wall for r in group], float)
        slope, fixed = np.polyfit(x, y, 1)
        full_tests = TARGET_FEATURES * (TARGET_FEATURES - 1) // 2 * TARGET_COHORTS
        lines += ["", f"Linear fit over these runs: wall = {fixed:.1f} s + {slope * 1e9:.2f} ns x cohort-pair tests."]
        if x.max() < MIN_TESTS_TO_PROJECT:
            lines += [f"No projection to {TARGET_FEATURES:,} x {TARGET_COHORTS}: the largest run has fewer than "
                      f"{MIN_TESTS_TO_PROJECT:,} cohort-pair tests, so fixed costs (process and cluster start, "
                      "per-tile overheads, shutdown) dominate it."]
        elif not any(r.features == TARGET_FEATURES and r.cohorts == TARGET_COHORTS for r in group):
            lines += [f"Projected for {TARGET_FEATURES:,} proteins x {TARGET_COHORTS} cohorts ({full_tests:,} tests): "
                      f"{fmt_s(fixed + slope * full_tests)} (an extrapolation of this fit)."]
        lines.append("")
    return lines


def target_lines(runs: list[ScanRun]) -> list[str]:
    full = [r for r in runs if r.features == TARGET_FEATURES and r.cohorts == TARGET_COHORTS]
    if not full:
        return []
    ok = lambda b: "met" if b else "**not met**"  # noqa: E731
    lines = ["#### Issue 4 targets (full scan)", "", "| target | measured | |", "| --- | --- | --- |"]
    for r in full:
        tag = f"{r.workers} worker(s)"
        lines.append(f"| 2: wall < 10 min ({tag}) | {fmt_s(r.wall)} | {ok(r.wall < TARGET_WALL_S)} |")
        lines.append(f"| 2: peak memory < 4 GB ({tag}, {r.finished.memory.metric}) | "
                     f"{fmt_bytes(r.finished.memory.peak)} | {ok(r.finished.memory.peak < TARGET_PEAK_B)} |")
        lines.append(f"| 2: bytes on disk per pair | {r.bytes_lookup / r.pairs:.1f} B "
                     f"(whole folder {r.bytes_total / r.pairs:.1f} B) | reported |")
    one = [r for r in full if r.workers == 1]
    two = [r for r in full if r.workers == 2]
    if one and two:
        s = one[-1].wall / two[-1].wall
        lines.append(f"| 4: 2 workers >= 1.8x one worker | {s:.2f}x | {ok(s >= TARGET_SPEEDUP)} |")
    lk = next((r.lookups for r in reversed(full) if r.lookups), None)
    if lk:
        lines.append(f"| 5: lookup median <= 20 ms (warm) | {lk['median_ms']:.1f} ms | {ok(lk['median_ms'] <= TARGET_LOOKUP_MS)} |")
        lines.append(f"| 5: `linkscan query` fresh <= 1.5 s | {lk['fresh_median_s']:.2f} s (median) | "
                     f"{ok(lk['fresh_median_s'] <= TARGET_QUERY_S)} |")
    return lines + [""]


def report(argv: list[str], started: str, mach: dict, vers: dict, runs: list[ScanRun], stores: dict,
           error: str | None, total_s: float, use_pss: bool, warmup: float | None, code: str) -> str:
    lines = [
        f"### Trans scan benchmark ({started})",
        "",
        f"Command: `{shlex.join(['python', 'benchmarks/bench_scan.py', *argv])}`  ",
        f"Machine: {mach['platform']}, {mach['cpu']}, {mach['nproc']} cores, {fmt_bytes(mach['memory'])} memory "
        f"({fmt_bytes(mach['available'])} available at the start), load average {load_text(mach['load'])} "
        "(1/5/15 min) at the start  ",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + "  ",
        f"Code: {code}  ",
        f"Memory: peak of the process tree's summed {'PSS (smaps_rollup)' if use_pss else 'RSS'}, "
        f"sampled every {args_interval:.2f} s. "
        + (f"A warm-up scan (60 proteins, not measured) ran first: {fmt_s(warmup)}. " if warmup else "No warm-up scan. ")
        + f"Benchmark total {fmt_s(total_s)}.",
        "",
    ]
    for run in runs:
        lines += run_table(run, stores[(run.features, run.cohorts)])
    lines += scaling_tables(runs)
    lines += target_lines(runs)
    if error:
        lines += ["#### Failed", "", "```", error, "```", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    global args_interval
    from linkscan.jobs.demo import CPTAC_COHORTS

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--features", type=int_list, default=[10_000], help="proteins, a list: 2000,5000,10000")
    parser.add_argument("--cohorts", type=int, default=10, help=f"first K of {', '.join(CPTAC_COHORTS)}")
    parser.add_argument("--workers", type=int_list, default=[2], help="LocalCluster workers, a list: 1,2")
    parser.add_argument("--tile-size", type=int, default=500)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-scan"))
    parser.add_argument("--samples", type=int_list, default=[100, 200], help="sample range LOW,HIGH per cohort")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lookups", type=int, default=200, help="genes to look up (0: no lookups)")
    parser.add_argument("--keep-store", action="store_true", help="keep the cohort stores")
    parser.add_argument("--reuse-store", action="store_true",
                        help="use a store made earlier with the same parameters (and keep it)")
    parser.add_argument("--keep", action="store_true", help="keep the results folders")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds a scan may take before it is killed")
    parser.add_argument("--interval", type=float, default=0.5, help="memory sampling interval, s")
    parser.add_argument("--rss-only", dest="pss", action="store_false", help="sample RSS only (no smaps_rollup)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="skip the unmeasured 60-protein scan that compiles the kernels first")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.cohorts <= len(CPTAC_COHORTS):
        parser.error(f"--cohorts must be 1-{len(CPTAC_COHORTS)}")
    if len(args.samples) != 2 or args.samples[0] > args.samples[1]:
        parser.error("--samples takes LOW,HIGH")
    if args.tile_size < 2:
        parser.error("--tile-size must be at least 2")
    if not 0.05 <= args.interval <= 5:
        parser.error("--interval must be 0.05-5 s")
    args_interval = args.interval
    args.pss = args.pss and pss_available()
    cohorts = list(CPTAC_COHORTS[: args.cohorts])

    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    mach, vers, code = machine(), versions(), code_version()
    # kernels/ edited after the bench starts (and no scan since) -> a warning on the run
    args.last_scan_end = time.time()
    t_all = time.perf_counter()
    args.dir.mkdir(parents=True, exist_ok=True)
    runs: list[ScanRun] = []
    stores: dict[tuple[int, int], dict] = {}
    made: list[Path] = []
    error = None
    warmup = None
    try:
        if args.warmup:
            # Numba's cache lives next to the kernels' source and is stale after any edit of
            # it: compile here, so that no measured scan pays for it (and check the pipeline
            # before a big store is generated).
            warm_root = args.dir / "warmup"
            log("warm-up: a 60-protein scan, 1 worker (compiles or loads the kernels; not measured)")
            meta = make_store(warm_root, 60, cohorts[:2], args.seed, (30, 40), reuse=False)
            warmup = run_scan(warm_root, meta, 1, args).wall
            shutil.rmtree(warm_root, ignore_errors=True)
        for n in args.features:
            root = args.dir / f"f{n}-c{len(cohorts)}"
            meta = make_store(root, n, cohorts, args.seed, tuple(args.samples), args.reuse_store)
            stores[(n, len(cohorts))] = meta
            made.append(root)
            for i, workers in enumerate(args.workers):
                run = run_scan(root, meta, workers, args)
                runs.append(run)
                if args.lookups and i == len(args.workers) - 1:
                    run.lookups = lookups(run.results, args.lookups, args.seed)
                if not args.keep:
                    shutil.rmtree(run.results.parent, ignore_errors=True)
    except BenchError as exc:
        error = str(exc)
        log(f"FAILED: {exc}")
    except KeyboardInterrupt:
        error = "interrupted"
        log("interrupted")
    finally:
        if not (args.keep_store or args.reuse_store):
            for root in made:
                shutil.rmtree(root / "store", ignore_errors=True)
                (root / "store.json").unlink(missing_ok=True)
                if root.is_dir() and not any(root.iterdir()):
                    root.rmdir()
    text = report(argv, started, mach, vers, runs, stores, error, time.perf_counter() - t_all, args.pss, warmup,
                  code)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
