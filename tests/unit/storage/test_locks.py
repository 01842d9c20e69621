"""linkscan.storage.locks: exclusive creation, holders, waiting, take-over of dead holders."""

import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from linkscan.storage import locks
from linkscan.storage.location import Location


def _dead_pid() -> int:
    """The id of a process of this host that has ended."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def _held_by(path: Location, pid: int, host: str | None = None) -> dict:
    holder = {"host": host or socket.gethostname(), "pid": pid, "since": "2026-11-25 10:00:00"}
    path.write_bytes(json.dumps(holder).encode())
    return holder


def test_acquire__one_holder_then_release_only_by_it(tmp_path):
    path = Location(tmp_path / "lock")
    locks.acquire(path)
    me = locks.read_holder(path)
    assert (me["host"], me["pid"]) == (socket.gethostname(), os.getpid()) and me["since"]
    with pytest.raises(locks.Held) as info:
        locks.acquire(path)  # held by a live process (this one)
    assert info.value.holder == me
    assert locks.describe(me) == f"process {os.getpid()} on {socket.gethostname()} since {me['since']}"
    locks.release(path)
    assert locks.read_holder(path) is None and not path.exists()

    other = _held_by(path, os.getppid())  # a live process that is not this one
    locks.release(path)
    assert locks.read_holder(path) == other  # not ours: kept


def test_acquire__waits_while_the_holder_runs_then_takes_the_lock(tmp_path, monkeypatch):
    """Another process holds the lock until this one has been refused once; acquire
    waits (polling) instead of failing, and takes the lock once it is released."""
    path = Location(tmp_path / "lock")
    go = tmp_path / "go"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time, pathlib\n"
         "from linkscan.storage import locks\nfrom linkscan.storage.location import Location\n"
         f"lock = Location({str(path)!r}); locks.acquire(lock); print('held', flush=True)\n"
         f"deadline = time.monotonic() + 60\n"
         f"while not pathlib.Path({str(go)!r}).exists() and time.monotonic() < deadline: time.sleep(0.02)\n"
         "locks.release(lock)\n"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    real_create = Location.create

    def create(self, data):
        try:
            return real_create(self, data)
        except FileExistsError:
            go.touch()  # refused once: now let the holder finish
            raise

    monkeypatch.setattr(Location, "create", create)
    locks.acquire(path, wait=60)
    assert go.exists() and locks.read_holder(path)["pid"] == os.getpid()
    assert holder.wait(60) == 0
    locks.release(path)


def test_acquire__gives_up_after_waiting_and_names_the_holder(tmp_path):
    path = Location(tmp_path / "lock")
    other = _held_by(path, os.getppid())
    with pytest.raises(locks.Held) as info:
        locks.acquire(path, wait=0.1)
    assert info.value.holder == other and info.value.path == path
    elsewhere = _held_by(path, _dead_pid(), host="node-7")  # another host: cannot be checked
    with pytest.raises(locks.Held) as info:
        locks.acquire(path)
    assert info.value.holder == elsewhere
    path.write_bytes(b"")  # unreadable (a holder killed while writing it)
    with pytest.raises(locks.Held) as info:
        locks.acquire(path)
    assert info.value.holder is None and locks.describe(None) == "another process"


def test_acquire__a_dead_holder_of_this_host_is_taken_over(tmp_path):
    path = Location(tmp_path / "lock")
    _held_by(path, _dead_pid())
    locks.acquire(path)
    assert locks.read_holder(path)["pid"] == os.getpid()
    assert sorted(os.listdir(tmp_path)) == ["lock"]  # no take-over marker left


def test_take_over__a_late_taker_of_the_same_dead_holder_keeps_the_new_lock(tmp_path):
    """Two waiters saw the same dead holder: the first took the lock over; the second,
    late, must not remove the first's lock (it names another holder now)."""
    path = Location(tmp_path / "lock")
    dead = _held_by(path, _dead_pid())
    locks.acquire(path)
    mine = locks.read_holder(path)
    assert locks.take_over(path, dead)
    assert locks.read_holder(path) == mine


def test_take_over__one_taker_at_a_time(tmp_path):
    """While one process takes a dead holder's lock over (its marker exists), another
    does not: it waits and tries again."""
    path = Location(tmp_path / "lock")
    dead = _held_by(path, _dead_pid())
    marker = Location(tmp_path / "lock.takeover")
    marker.write_bytes(json.dumps({"host": socket.gethostname(), "pid": os.getppid(), "since": "x"}).encode())
    assert not locks.take_over(path, dead)
    assert locks.read_holder(path) == dead
    marker.write_bytes(json.dumps({"host": socket.gethostname(), "pid": _dead_pid(), "since": "x"}).encode())
    assert not locks.take_over(path, dead)  # a taker killed mid-way: its marker is cleared for the next try
    assert not marker.exists()
    assert locks.take_over(path, dead) and not path.exists()


def test_acquire__threads_of_one_process_wait_for_each_other(tmp_path):
    path = Location(tmp_path / "lock")
    order = []
    locks.acquire(path)

    def second():
        locks.acquire(path, wait=60)
        order.append("second")
        locks.release(path)

    thread = threading.Thread(target=second)
    thread.start()
    order.append("first")
    locks.release(path)
    thread.join(60)
    assert order == ["first", "second"] and not path.exists()
