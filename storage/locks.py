"""Locks that a process holds by creating a file exclusively: the cohort store's writer
lock of each cohort and the result store's submission lock.

A lock is a small JSON file naming its holder (``host``, ``pid``, ``since``), created
only if it does not exist (:meth:`linkscan.storage.location.Location.create`: ``O_EXCL``
on a disk, a conditional PUT on an object store), so of two processes exactly one gets
it, on a disk and on S3 alike. Its holder gives it back by removing it
(:func:`release`, which removes only a lock of this process).

A lock whose holder is a process of this host that no longer runs (killed) is taken
over; a holder on another host cannot be checked and counts as running. Taking over is
exclusive too: two waiters that see the same dead holder must not both remove the lock
(the second would remove the first one's new lock), so a taker first creates the marker
``<lock>.takeover`` and removes the lock only if it still names the dead holder.

Callers turn :class:`Held` into their own message (who holds the lock, and the fix).
"""

from __future__ import annotations

import json
import os
import socket
import time

from linkscan.storage.location import Location

__all__ = ["Held", "acquire", "release", "read_holder", "holder_gone", "describe", "take_over"]

#: Seconds between two attempts while waiting for a lock.
POLL = 0.2


class Held(Exception):
    """The lock ``path`` is held by another process: ``holder`` as :func:`read_holder`
    reads it (None: unreadable). Not shown to users: callers say it in their words."""

    def __init__(self, path: Location, holder: dict | None) -> None:
        super().__init__(f"{path} is held by {describe(holder)}")
        self.path, self.holder = path, holder


def _me() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}


def acquire(path: Location, *, wait: float = 0.0) -> None:
    """Create the lock ``path`` for this process, waiting while another one holds it.

    Parameters
    ----------
    path
        The lock file (its folder must exist on a disk).
    wait
        Seconds to keep trying (every :data:`POLL` seconds) while the lock is held; 0
        tries once. A lock of a dead holder of this host is taken over at once.

    Raises
    ------
    Held
        Still held by a live (or unverifiable) holder after ``wait`` seconds.
    OSError
        The lock cannot be created (a read-only folder, a full disk).
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            path.create(json.dumps(_me()).encode())
            return
        except FileExistsError:
            pass
        holder = read_holder(path)
        if holder is None and not path.exists():
            continue  # released between the two calls: try again
        if holder is not None and holder_gone(holder) and take_over(path, holder):
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            raise Held(path, holder)
        time.sleep(min(POLL, left))


def release(path: Location) -> None:
    """Remove the lock if this process holds it (a lock taken over since stays)."""
    holder = read_holder(path)
    if holder and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
        path.remove()


def read_holder(path: Location) -> dict | None:
    """Who holds the lock (``host``, ``pid``, ``since``); None when there is no lock or
    it cannot be read (a holder killed on a disk between creating and writing it)."""
    try:
        holder = json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def holder_gone(holder: dict) -> bool:
    """Whether ``holder`` (as :func:`read_holder` reads it) is a process of this host that
    no longer runs: a killed holder. A process of another host cannot be checked and
    counts as running, as does one of another user."""
    if holder.get("host") != socket.gethostname():
        return False
    try:
        os.kill(holder.get("pid", -1), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def describe(holder: dict | None) -> str:
    """``holder`` in words: ``process 4242 on node-7 since 2026-11-25 10:00:00``."""
    if not holder:
        return "another process"
    return f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"


def take_over(path: Location, dead: dict) -> bool:
    """Remove the lock ``path`` if it still names the ``dead`` holder, as the only taker.

    Returns False when another process is taking it over (its marker exists; the
    marker of a taker that died is removed, for the next try), True once this process
    has done it (whether or not the lock still named ``dead``)."""
    marker = Location(f"{path.url}.takeover")
    try:
        marker.create(json.dumps(_me()).encode())
    except FileExistsError:
        taker = read_holder(marker)
        if taker is not None and holder_gone(taker):
            marker.remove()
        return False
    try:
        if read_holder(path) == dead:
            path.remove()
    finally:
        marker.remove()
    return True
