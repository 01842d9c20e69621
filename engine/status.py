"""What a job has done: tiles finished and left, throughput, ETA, failures.

Read from the result store alone (the ledger records when each tile finished), so it
works for a running job, an interrupted one and a finished one, from any machine that
sees the results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.progress import clock


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
    holder: dict | None = None
    failures: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.results}: {self.state}"]
        if self.holder:
            lines.append(f"  submitted by process {self.holder.get('pid')} on {self.holder.get('host')} "
                         f"since {self.holder.get('since')}")
        share = self.tiles_done / self.tiles_total if self.tiles_total else 1.0
        lines.append(f"  tiles: {self.tiles_done} of {self.tiles_total} done ({share:.1%}), "
                     f"{self.tiles_total - self.tiles_done} left")
        lines.append(f"  pair tests: {self.pairs_done:,} of {self.pairs_total:,}; "
                     f"{self.rate:,.0f} pairs/s" + (f"; ETA {clock(self.eta)}" if self.eta is not None else ""))
        if self.failures:
            last = self.failures[-1]
            lines.append(f"  failures: {len(self.failures)} (last: {last['tile']} at {last['at']}: {last['error']})")
        else:
            lines.append("  failures: none")
        return "\n".join(lines)



def job_status(spec: ScanSpec) -> Status:
    """The status of the scan ``spec`` from its result store."""
    plan = make_plan(spec)
    results = plan.context.results
    pairs = {tile.key: plan.pairs(tile) for tile in plan.tiles}
    total = sum(pairs.values())
    if not (results.path / "manifest.json").exists():
        return Status(str(results.path), "not started", len(plan.tiles), 0, total, 0, 0.0, None)
    complete = results.is_complete()
    entries = {k: e for k, e in results.ledger().items() if k in pairs}
    holder = results.lock_holder()
    done_pairs = sum(pairs[k] for k in entries)
    # throughput over the tiles finished since the current submission started (or all)
    since = _epoch(holder["since"]) if holder else 0.0
    recent = [e for e in entries.values() if e.get("finished_at", 0) >= since] or list(entries.values())
    rate = 0.0
    if recent:
        first = min(e["finished_at"] - e.get("seconds", 0) for e in recent)
        span = max(e["finished_at"] for e in recent) - (since if holder else first)
        rate = sum(pairs[e["tile"]] for e in recent) / max(span, 1e-9)
    if complete:
        state = "complete"
    elif holder:
        state = "finishing" if len(entries) == len(plan.tiles) else "running"
    else:
        state = "interrupted" if entries or results.failures() else "not started"
    eta = (total - done_pairs) / rate if holder and rate > 0 and not complete else None
    return Status(str(results.path), state, len(plan.tiles), len(entries), total, done_pairs, rate, eta,
                  holder, results.failures())


def _epoch(stamp: str) -> float:
    return time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
