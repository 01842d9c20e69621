"""Sizing a scan before submitting it: throughput on a sample of its own tiles.

`linkscan bench` plans the scan as `linkscan submit` would, runs a few of its tiles here
in one process (one worker's share: the kernels are single-threaded), writing their
result parts to a temporary store exactly as a worker would, and projects the whole
scan's tile time for 1..N workers and its output size from what the sample measured.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from dataclasses import dataclass

from engine.plan import ScanSpec, make_plan
from engine.progress import clock


@dataclass
class BenchReport:
    tiles_total: int
    tiles_sampled: int
    pairs_total: int  # cohort-pair tests of the whole scan
    pairs_sampled: int
    seconds_sampled: float
    bytes_sampled: int  # result part bytes the sampled tiles wrote
    max_workers: int

    @property
    def rate(self) -> float:
        """Cohort-pair tests per second of one worker."""
        return self.pairs_sampled / self.seconds_sampled if self.seconds_sampled > 0 else 0.0

    @property
    def bytes_total(self) -> float:
        """Projected bytes of the tile parts (the finished shards are of the same order)."""
        return self.bytes_sampled / max(self.pairs_sampled, 1) * self.pairs_total

    def seconds(self, workers: int) -> float:
        """Projected tile time with ``workers`` workers (perfect scaling; the finish, BH
        and compaction, comes on top)."""
        return self.pairs_total / (self.rate * workers) if self.rate > 0 else float("inf")

    def __str__(self) -> str:
        lines = [
            f"sampled {self.tiles_sampled} of {self.tiles_total} tiles: {self.pairs_sampled:,} pair tests "
            f"in {self.seconds_sampled:.2f} s = {self.rate:,.0f} pairs/s per worker (compute and write)",
            f"whole scan: {self.pairs_total:,} pair tests; result parts about {_size(self.bytes_total)} "
            f"({self.bytes_sampled / max(self.pairs_sampled, 1):.1f} bytes per pair test; the finished "
            "shards add the q columns)",
            "workers  projected tile time",
        ]
        workers = 1
        while workers <= self.max_workers:
            lines.append(f"{workers:>7}  {clock(self.seconds(workers))}")
            workers *= 2
        return "\n".join(lines)


def _size(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"



def bench(spec: ScanSpec, *, tiles: int = 3, max_workers: int = 8) -> BenchReport:
    """Run ``tiles`` tiles of the scan ``spec`` spread over its plan (after one untimed
    warm-up tile that compiles the kernels) and project the whole scan."""
    from engine.tile import run_tile
    from storage.results import ResultStore

    plan = make_plan(spec)
    step = max(1, len(plan.tiles) // max(tiles, 1))
    sample = list(plan.tiles[::step][:tiles])
    with tempfile.TemporaryDirectory(prefix="linkscan-bench-") as tmp:
        results = ResultStore(tmp)
        results.create_or_resume(plan.manifest, plan.features)
        context = dataclasses.replace(plan.context, results=results)
        run_tile(context, sample[-1])  # warm-up: compile the kernels outside the timing
        seconds, written = 0.0, 0
        for tile in sample:
            start = time.perf_counter()
            entry = run_tile(context, tile)
            seconds += time.perf_counter() - start
            written += sum(part["bytes"] for part in entry["parts"].values())
    return BenchReport(
        tiles_total=len(plan.tiles), tiles_sampled=len(sample),
        pairs_total=sum(plan.pairs(t) for t in plan.tiles), pairs_sampled=sum(plan.pairs(t) for t in sample),
        seconds_sampled=seconds, bytes_sampled=written, max_workers=max_workers,
    )
