"""One submitter at a time: the store's lock (``lock``), and the tiles that failed in a
submission (``failures.jsonl``), which only the lock holder writes."""

from __future__ import annotations

import json
import time

from linkscan.errors import ResultsError
from linkscan.storage import locks
from linkscan.storage.results.files import KEPT
from linkscan.storage.write_errors import write_error


class Submission:
    """The lock and the failures of a :class:`~linkscan.storage.results.store.ResultStore`
    (a mixin of it: reads and writes under its ``path``)."""

    def lock(self) -> None:
        """Take the store's lock for this process, or refuse: one submission at a time.

        The lock is a file created exclusively (a conditional write on an object
        store), naming the host, the process and when (:mod:`linkscan.storage.locks`).
        A lock left by a process of this host that no longer runs (killed) is taken
        over; a lock of another host is only reported (its process cannot be checked)."""
        path = self.path / "lock"
        try:
            locks.acquire(path)
        except locks.Held as held:
            raise ResultsError(
                f"{self.path} is being scanned by {locks.describe(held.holder)}; wait for it to finish (linkscan "
                f"status shows its progress), or, if that process is dead, delete {path} and resubmit"
            ) from None
        except OSError as exc:  # a read-only results directory, a full disk
            raise write_error(str(path), exc, "the result store's lock", "nothing was changed") from exc

    def lock_holder(self) -> dict | None:
        """Who holds the lock (host, pid, since), or None."""
        return locks.read_holder(self.path / "lock")

    def unlock(self) -> None:
        """Give the lock back if this process holds it (a lock taken over since stays)."""
        locks.release(self.path / "lock")

    def record_failure(self, tile: str, error: str) -> None:
        """Add a failed tile to ``failures.jsonl`` (what `linkscan status` reports). Only
        the lock holder calls it, so rewriting the file whole (object stores cannot
        append) loses nothing."""
        file = self.path / "failures.jsonl"
        line = json.dumps({"tile": tile, "error": error, "at": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n"
        try:
            try:
                before = file.read_bytes()
            except FileNotFoundError:
                before = b""
            file.write_bytes(before + line.encode())
        except OSError as exc:  # e.g. the full disk that failed the tile: say so, not a traceback
            raise write_error(str(file), exc, f"the failure of {tile}", KEPT) from exc

    def failures(self) -> list[dict]:
        """The failed tiles recorded (tile, error, at), oldest first."""
        try:
            lines = (self.path / "failures.jsonl").read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

