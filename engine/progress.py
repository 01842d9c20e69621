"""A progress bar for every phase of a scan: items done (tiles, BH columns, shards), the
rate (pairs/s for tiles, items/s otherwise) and ETA, on standard error.

On a terminal the bar redraws in place (at most every 0.2 s); into a log file it writes
one line every ``log_every`` seconds, so that a batch job's log shows progress without
megabytes of redraws.
"""

from __future__ import annotations

import sys
import time


def _human(rate: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if rate >= scale:
            return f"{rate / scale:.2f}{unit}"
    return f"{rate:.0f}"


def clock(seconds: float) -> str:
    """Seconds as H:MM:SS."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Tracks finished items (``unit``: tiles, columns, shards) and, for tiles, the pair
    tests they ran, against the totals of the work to do. Without ``pairs`` the rate and
    the ETA are in items."""

    def __init__(self, tiles: int, pairs: int | None = None, *, stream=None, enabled: bool = True,
                 log_every: float = 10.0, label: str = "scan", unit: str = "tiles"):
        self.total_tiles = tiles
        self.counts_pairs = pairs is not None
        self.total_pairs = pairs if pairs is not None else tiles
        self.unit = unit
        self.tiles = self.pairs = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = self.enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = 0.2 if self.tty else log_every
        self.label = label
        self.start = self.last = time.perf_counter()

    def line(self) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = self.pairs / elapsed
        frac = self.tiles / self.total_tiles if self.total_tiles else 1.0
        left = self.total_pairs - self.pairs
        eta = clock(left / rate) if rate > 0 and left > 0 else ("0:00:00" if left <= 0 else "?")
        bar = "#" * int(frac * 24)
        per = "pairs" if self.counts_pairs else self.unit
        return (f"{self.label} [{bar:<24}] {self.tiles}/{self.total_tiles} {self.unit} "
                f"{frac:6.1%}  {_human(rate)} {per}/s  elapsed {clock(elapsed)}  ETA {eta}")

    def update(self, tiles: int = 1, pairs: int = 0) -> None:
        self.tiles += tiles
        self.pairs += pairs if self.counts_pairs else tiles
        now = time.perf_counter()
        if self.enabled and (now - self.last >= self.interval or self.tiles == self.total_tiles):
            self.last = now
            self._draw()

    def _draw(self) -> None:
        if self.tty:
            self.stream.write("\r" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
