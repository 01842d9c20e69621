"""What a job has done: tiles finished and left, throughput, ETA, failures.

Read from the result store alone (its manifest records each tile's pair tests, the
ledger when each tile finished, the lock who is submitting), so it works for a running
job, an interrupted one and a finished one, from any machine that sees the results,
without the cohort store.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from linkscan.engine.progress import clock
from linkscan.storage.locks import holder_gone
from linkscan.storage.results.store import ResultStore


@dataclass
class Status:
    results: str
    state: str  # "not started", "running", "interrupted", "finishing" or "complete"
    tiles_total: int
    tiles_done: int
    pairs_total: int
    pairs_done: int
    rate: float  # cohort-pair tests per second over the tiles of the current (or last) run
    eta: float | None  # seconds, while running
    holder: dict | None = None  # the lock: who submits (or submitted, if it died)
    failures: list[dict] = field(default_factory=list)
    holder_dead: bool = False  # the lock's process is gone (this host): interrupted
    finish: tuple[int, int, int, int] | None = None  # finishing: BH columns done/all, shards done/all

    def __str__(self) -> str:
        lines = [f"{self.results}: {self.state}"]
        if self.holder and self.holder_dead:
            lines.append(f"  the submitting process {self.holder.get('pid')} on {self.holder.get('host')} (since "
                         f"{self.holder.get('since')}) no longer runs; submit the job again to resume")
        elif self.holder:
            lines.append(f"  submitted by process {self.holder.get('pid')} on {self.holder.get('host')} "
                         f"since {self.holder.get('since')}")
        if not self.tiles_total:
            lines.append("  tiles: none planned yet (no submission has started)")
            return "\n".join(lines)
        share = self.tiles_done / self.tiles_total if self.tiles_total else 1.0
        lines.append(f"  tiles: {self.tiles_done} of {self.tiles_total} done ({share:.1%}), "
                     f"{self.tiles_total - self.tiles_done} left")
        lines.append(f"  pair tests: {self.pairs_done:,} of {self.pairs_total:,}; "
                     f"{self.rate:,.0f} pairs/s" + (f"; ETA {clock(self.eta)}" if self.eta is not None else ""))
        if self.finish is not None:
            tables, columns, shards, total = self.finish
            lines.append(f"  finish: BH q-values of {tables} of {columns} p columns, {shards} of {total} shards "
                         "written")
        if self.failures:
            last = self.failures[-1]
            lines.append(f"  failures: {len(self.failures)} (last: {last['tile']} at {last['at']}: {last['error']})")
        else:
            lines.append("  failures: none")
        return "\n".join(lines)



def job_status(results) -> Status:
    """The status of a scan from its result store.

    Parameters
    ----------
    results
        The result store: its path or URL, a :class:`ResultStore`, or anything with a
        ``results`` attribute naming it (a ScanSpec, a job's ``scan``).
    """
    if not isinstance(results, ResultStore):
        results = ResultStore(str(getattr(results, "results", results)))
    if not (results.path / "manifest.json").exists():
        return Status(str(results.path), "not started", 0, 0, 0, 0, 0.0, None)
    manifest = results.manifest()
    pairs = manifest.get("tile_pairs") or {}  # absent in stores of linkscan < 0.2: tiles only
    total = sum(pairs.values())
    complete = results.is_complete()
    entries = results.ledger()
    holder = results.lock_holder()
    dead = bool(holder) and holder_gone(holder)
    done_pairs = sum(pairs.get(k, 0) for k in entries)
    # throughput over the tiles finished since the current submission started (or all)
    since = _epoch(holder["since"]) if holder else 0.0
    recent = [e for e in entries.values() if e.get("finished_at", 0) >= since] or list(entries.values())
    rate = 0.0
    if recent:
        first = min(e["finished_at"] - e.get("seconds", 0) for e in recent)
        span = max(e["finished_at"] for e in recent) - (since if holder else first)
        rate = sum(pairs.get(e["tile"], 0) for e in recent) / max(span, 1e-9)
    running = holder and not dead
    if complete:
        state = "complete"
    elif running:
        state = "finishing" if len(entries) == manifest["n_tiles"] else "running"
    else:
        state = "interrupted" if entries or results.failures() or dead else "not started"
    eta = (total - done_pairs) / rate if running and rate > 0 and not complete else None
    finish = None
    if state == "finishing":
        tables, shards = results.finish_done()
        finish = (tables, len(manifest["cohorts"]) + 1, shards, manifest["n_shards"])
    return Status(str(results.path), state, manifest["n_tiles"], len(entries), total, done_pairs, rate, eta,
                  holder, results.failures(), dead, finish)


def _epoch(stamp: str) -> float:
    return time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))

