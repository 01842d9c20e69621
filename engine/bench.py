"""Sizing a scan before submitting it: throughput on a sample of its own tiles.

`linkscan bench JOB.toml` plans the job's scan with the same :func:`make_plan` as
`linkscan submit` (the job's kind, omics, cohorts, phenotypes, mutations, minimums and
tile size), so its pair tests are the plan's: the sum of ``plan.pairs(tile)`` over every
tile, the count the runner adds up as tiles finish. It runs a few of those tiles here
in one process (one worker's share: the kernels are single-threaded), writing their
result parts to a temporary store exactly as a worker would, then finishes that sample as
the scan's finish would (BH tables of each p column, compaction of each shard the sample
wrote to), and projects the whole scan's time, tiles and finish, for 1..N workers and its
output size from what the sample measured. Both phases scale with the pairs (rows are
two per pair); the finish runs as one task per p column, then one per shard, so it
spreads over at most that many workers.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from dataclasses import dataclass

from linkscan.engine.plan import Plan, ScanSpec, make_plan
from linkscan.engine.progress import clock


@dataclass
class BenchReport:
    tiles_total: int
    tiles_sampled: int
    pairs_total: int  # cohort-pair tests of the whole scan
    pairs_sampled: int
    seconds_sampled: float  # tiles: compute and write
    bytes_sampled: int  # finished shard bytes of the sample
    max_workers: int
    bh_seconds_sampled: float = 0.0  # the sample's BH tables, all columns
    compact_seconds_sampled: float = 0.0  # the sample's shard compaction, all shards
    start_seconds: float = 0.0  # once per scan: a worker's first tile loads the compiled kernels
    columns: int = 1  # p columns (one BH task each)
    shards: int = 1  # shards of the whole scan (one compaction task each)
    scan: str = ""  # what was planned (describe(plan)), printed first
    tile_peak_bytes: int = 0  # peak resident memory of this process over the sampled tiles
    finish_peak_bytes: int = 0  # ... over the sample's finish
    column_tests_sampled: int = 0  # tests of the sample's largest p column (the meta p's, usually)

    @property
    def rate(self) -> float:
        """Cohort-pair tests per second of one worker."""
        return self.pairs_sampled / self.seconds_sampled if self.seconds_sampled > 0 else 0.0

    @property
    def scale(self) -> float:
        return self.pairs_total / max(self.pairs_sampled, 1)

    @property
    def bytes_total(self) -> float:
        """Projected bytes of the finished shards."""
        return self.bytes_sampled * self.scale

    @property
    def bh_bytes_total(self) -> float:
        """Projected memory of the whole scan's largest BH task beyond what a worker holds
        anyway: :data:`BH_BYTES_PER_TEST` a test of its p column."""
        return BH_BYTES_PER_TEST * self.column_tests_sampled * self.scale

    def seconds(self, workers: int) -> float:
        """Projected tile time with ``workers`` workers (perfect scaling)."""
        return self.pairs_total / (self.rate * workers) if self.rate > 0 else float("inf")

    def finish_seconds(self, workers: int) -> float:
        """Projected finish: BH (one task per column) then compaction (one per shard)."""
        return (self.bh_seconds_sampled * self.scale / min(workers, self.columns)
                + self.compact_seconds_sampled * self.scale / min(workers, self.shards))

    def __str__(self) -> str:
        lines = [self.scan] if self.scan else []
        lines += [
            f"sampled {self.tiles_sampled} of {self.tiles_total} tiles: {self.pairs_sampled:,} pair tests "
            f"in {self.seconds_sampled:.2f} s = {self.rate:,.0f} pairs/s per worker (compute and write); "
            f"their finish {self.bh_seconds_sampled + self.compact_seconds_sampled:.2f} s",
            f"whole scan: {self.pairs_total:,} pair tests; result shards about {_size(self.bytes_total)} "
            f"({self.bytes_sampled / max(self.pairs_sampled, 1):.1f} bytes per pair test)",
            f"start (each worker loads the compiled kernels once): {self.start_seconds:.1f} s",
            f"memory of a worker (peak resident, measured here): tiles {_size(self.tile_peak_bytes)}, "
            f"the sample's finish {_size(self.finish_peak_bytes)}; the whole scan's largest BH task adds "
            f"about {_size(self.bh_bytes_total)} ({self.column_tests_sampled * self.scale:,.0f} tests "
            f"x {BH_BYTES_PER_TEST} bytes)",
            "workers  tiles     finish    total",
        ]
        workers = 1
        while workers <= self.max_workers:
            tiles, finish = self.seconds(workers), self.finish_seconds(workers)
            total = self.start_seconds + tiles + finish
            lines.append(f"{workers:>7}  {clock(tiles):>8}  {clock(finish):>8}  {clock(total):>8}")
            workers *= 2
        return "\n".join(lines)


def describe(plan: Plan) -> str:
    """One line naming the scan a plan lays out: kind, omics, cohorts, what each feature
    is tested against, tile size and tiles."""
    ctx, spec = plan.context, plan.spec
    if ctx.partners:
        n_phenotypes = sum(p.omics == "phenotype" for p in ctx.partners)
        against = [f"{n_phenotypes} phenotypes"] if spec.kind == "phenotype" else ["tumor vs normal"]
        if spec.kind == "phenotype" and spec.mutations:
            against.append(f"{len(ctx.partners) - n_phenotypes} {spec.mutations} rows")
        against = " + ".join(against)
    elif spec.kind == "cis":
        against = f"the {spec.omics_y} features of their gene ({len(ctx.cis_pairs):,} pairs)"
    elif ctx.y is not None:
        against = f"{ctx.y.n:,} {spec.omics_y} features"
    else:
        against = "each other"
    return (f"scan: {spec.kind} of {spec.omics}, {len(ctx.cohorts)} cohorts ({', '.join(ctx.cohorts)}), "
            f"{ctx.x.n:,} features against {against}; tile size {spec.tile_size}, {len(plan.tiles):,} tiles")


def _size(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


#: Memory of a BH task per test of its p column (:func:`linkscan.engine.finish.bh_table_of`):
#: its float32 p-values, their q table and the copy of a table as it is saved, 4 bytes
#: each. Measured (`benchmarks/probes.py bh-task`): 151 MB for 8.0M tests, 129 MB for
#: 6.0M, i.e. 11 bytes a test and ~60 MB besides; rounded up.
BH_BYTES_PER_TEST = 14


def peak_resident(reset: bool = False) -> int:
    """This process's peak resident memory in bytes since the last ``reset`` (Linux:
    VmHWM of /proc/self/status, reset through /proc/self/clear_refs); elsewhere, the
    peak since the process started."""
    try:
        if reset:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, kB elsewhere


def bench(spec: ScanSpec, *, tiles: int = 3, max_workers: int = 8) -> BenchReport:
    """Run ``tiles`` tiles of the scan ``spec`` spread over its plan (after one untimed
    warm-up tile that compiles the kernels), finish them, and project the whole scan.

    ``spec`` is the scan as submitted (a job's ``read_job(path).scan``): the projected pair
    tests are the plan's own count, ``sum(plan.pairs(t) for t in plan.tiles)``, which is
    what :func:`linkscan.engine.runner.run_scan` reports. Nothing is written to
    ``spec.results``; the sample goes to a temporary store."""
    from linkscan.engine.finish import bh_table_of, finish_shard
    from linkscan.engine.tile import run_tile
    from linkscan.storage.results.store import ResultStore

    plan = make_plan(spec)
    step = max(1, len(plan.tiles) // max(tiles, 1))
    sample = list(plan.tiles[::step][:tiles])
    columns = [f"{c}_slogp" for c in plan.context.cohorts] + ["meta_slogp"]
    with tempfile.TemporaryDirectory(prefix="linkscan-bench-") as tmp:
        results = ResultStore(tmp)
        results.create_or_resume(plan.manifest, plan.features)
        context = dataclasses.replace(plan.context, results=results)
        start = time.perf_counter()
        run_tile(context, sample[-1])  # warm-up: load (or compile) the kernels outside the timing
        warm_up = time.perf_counter() - start
        times, entries = [], []
        peak_resident(reset=True)
        for tile in sample:
            start = time.perf_counter()
            entries.append(run_tile(context, tile))
            times.append(time.perf_counter() - start)
        seconds = sum(times)
        # what the warm-up took beyond the same tile run warm: every worker of a scan
        # pays it once, in parallel
        start_seconds = max(0.0, warm_up - times[-1])
        tile_peak = peak_resident(reset=True)
        start = time.perf_counter()
        column_tests = max(bh_table_of(results, column, entries)[0] for column in columns)
        bh_seconds = time.perf_counter() - start
        shards = sorted({int(s) for e in entries for s in e["parts"]})
        start = time.perf_counter()
        for shard in shards:
            finish_shard(results, shard, [e for e in entries if str(shard) in e["parts"]], plan.spec.keep)
        compact_seconds = time.perf_counter() - start
        finish_peak = peak_resident()
        written = sum((results.path / "shards" / f"{shard:05d}.parquet").size() for shard in shards)
    return BenchReport(
        tiles_total=len(plan.tiles), tiles_sampled=len(sample),
        pairs_total=sum(plan.pairs(t) for t in plan.tiles), pairs_sampled=sum(plan.pairs(t) for t in sample),
        seconds_sampled=seconds, bytes_sampled=written, max_workers=max_workers,
        bh_seconds_sampled=bh_seconds, compact_seconds_sampled=compact_seconds, columns=len(columns),
        start_seconds=start_seconds,
        shards=plan.manifest["n_shards"], scan=describe(plan),
        tile_peak_bytes=tile_peak, finish_peak_bytes=finish_peak, column_tests_sampled=column_tests,
    )
