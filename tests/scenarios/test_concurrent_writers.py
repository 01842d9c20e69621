"""Nothing lost, nothing wrong when the cohort store is written while it is used.

- **A re-ingest during a scan**: tiles of a planned scan run in this process
  (``run_tile``, as a worker runs them) while a cohort is ingested again. A tile never
  reads another version than the planned one: it reads the planned data while that
  version exists, and stops with an error naming the cohort once it is gone (never
  NaN read from removed chunks).
- **Two writers of one cohort at once**: two real ``linkscan ingest`` processes (started
  with subprocess) of one cohort, on a local disk and on S3 (moto's server, as in
  test_s3.py). The first one pauses inside its write, with its new version written but
  not yet current, until the second has either finished (no lock: it read and wrote
  meanwhile) or met the cohort's writer lock (an exclusive create refused). Then both
  must have exited 0 and the store must hold both writes' data (phenotypes) or exactly
  one of the two tables (an omics), readable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.tile import COMPUTE, _values_array, run_tile, tile_rows
from linkscan.errors import InputError
from linkscan.jobs import demo
from linkscan.jobs.cli import main
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.storage.inputs.ingest import ingest
from linkscan.storage.location import Location
from test_s3 import s3  # noqa: F401 (the moto S3 server fixture)

COHORTS = ("BRCA", "OV")
SAMPLES = [f"S{k:02d}" for k in range(12)]

#: Bound of every wait for the other process (each one starts Python, pandas and zarr).
PROCESS_TIMEOUT = 120


# ------------------------------------------------------------------ a re-ingest during a scan


@pytest.fixture
def scan_store(tmp_path) -> tuple[Path, dict[str, Path], Path]:
    """BRCA and OV proteomes ingested, and another OV table to re-ingest (other data)."""
    paths = demo.write_tables(demo.make_pan_cancer(n_features=60, cohorts=COHORTS, seed=3, samples=(30, 40)),
                              tmp_path / "tables")
    for cohort, path in paths.items():
        ingest(tmp_path / "store", cohort, "proteome", path)
    other = demo.write_tables(demo.make_pan_cancer(n_features=60, cohorts=("OV",), seed=4, samples=(30, 40)),
                              tmp_path / "other")["OV"]
    return tmp_path / "store", paths, other


def _plan(store: Path, results: Path, cohorts=()):
    plan = make_plan(ScanSpec(store=str(store), results=str(results), omics="proteome", tile_size=20,
                              cohorts=tuple(cohorts)))
    plan.context.results.create_or_resume(plan.manifest, plan.features)
    return plan


def _rows(plan, tile) -> pd.DataFrame:
    """A tile's result rows, computed as run_tile computes them (without writing them)."""
    return tile_rows(plan.context, COMPUTE[plan.context.kind](plan.context, plan.tiles[tile]))


def test_run_tile__reingest_between_tiles_stops_the_scan_naming_the_cohort(scan_store, tmp_path):
    """Tile 0 opens OV's planned version; OV is re-ingested (its old version removed);
    tile 1 then stops with the error instead of reading OV as NaN. A scan of the
    untouched BRCA, planned before the re-ingest, still gives BRCA's right values."""
    store, paths, other = scan_store
    plan = _plan(store, tmp_path / "res")
    brca_only = _plan(store, tmp_path / "res-brca", cohorts=["BRCA"])
    planned = CohortStore(store).open("OV", "proteome").attrs["version"]
    run_tile(plan.context, plan.tiles[0])
    before = _rows(brca_only, 1)

    ingest(store, "OV", "proteome", other)
    for worker in ("that opened OV before", "that starts now"):
        with pytest.raises(InputError) as info:
            run_tile(plan.context, plan.tiles[1])
        message = str(info.value)
        assert f"cohort 'OV', omics 'proteome' was re-ingested while this scan ran: its planned version " \
               f"{planned} is gone" in message, worker
        assert "submit the job again into a new results directory" in message and "\n" not in message
        assert "BRCA" not in message
        _values_array.cache_clear()
    pd.testing.assert_frame_equal(_rows(brca_only, 1), before)
    assert before["BRCA_slogp"].notna().all()


def test_run_tile__version_removed_while_a_tile_reads_it_is_an_error_not_nan(scan_store, tmp_path, monkeypatch):
    """The re-ingest removes OV's planned version while a tile is reading it (between the
    tile's first and second read of OV): the tile stops with the error."""
    import zarr

    store, paths, other = scan_store
    plan = _plan(store, tmp_path / "res")
    planned = CohortStore(store).open("OV", "proteome").attrs["version"]
    ov_values = f"OV/proteome.zarr/{planned}/values"
    real_getitem = zarr.Array.__getitem__
    reads = []

    def getitem(array, selection):
        got = real_getitem(array, selection)
        if str(array.store_path).endswith(ov_values) and not reads:
            reads.append(selection)
            ingest(store, "OV", "proteome", other)  # the writer, between two reads of the tile
        return got

    monkeypatch.setattr(zarr.Array, "__getitem__", getitem)
    with pytest.raises(InputError, match=f"cohort 'OV', omics 'proteome' was re-ingested while this scan ran: "
                                         f"its planned version {planned} is gone"):
        run_tile(plan.context, plan.tiles[1])  # blocks 0 and 1: two reads of each cohort
    assert reads


def test_run_tile__reingest_that_leaves_the_old_version_reads_the_planned_data(scan_store, tmp_path, monkeypatch):
    """A re-ingest whose old version stays (the writer was killed after making its new
    version current, before removing the old one): tiles still read the planned data,
    not the new table's."""
    store, paths, other = scan_store
    plan = _plan(store, tmp_path / "res")
    want = [_rows(plan, t) for t in range(len(plan.tiles))]
    real_remove = Location.remove
    with monkeypatch.context() as killed:
        # the writer dies once its version is current: no old version is removed
        killed.setattr(Location, "remove_tree", lambda self: None)
        killed.setattr(Location, "remove",
                       lambda self: None if self.url.endswith("zarr.json") else real_remove(self))
        ingest(store, "OV", "proteome", other)
    assert CohortStore(store).open("OV", "proteome").attrs["version"] != plan.context.x.versions[1]
    _values_array.cache_clear()  # as a worker that starts now, with nothing opened yet
    for t in range(len(plan.tiles)):
        pd.testing.assert_frame_equal(_rows(plan, t), want[t])
    fresh = _plan(store, tmp_path / "res-new")
    assert not _rows(fresh, 0).equals(want[0])  # the new table does give other results


# --------------------------------------------------------------------- two writers at once

#: A `linkscan ingest` process with a probe. "first": pauses once it has written its
#: new version (before making it current) until the file "go" appears. "second": touches
#: "second-waits" whenever an exclusive create is refused (it met a lock).
DRIVER = r"""
import sys, time
from pathlib import Path

from linkscan.jobs.cli import main
from linkscan.storage import location
from linkscan.storage.inputs import cohort_store

signals, role = Path(sys.argv[1]), sys.argv[2]
if role == "first":
    real_write = cohort_store._write_zarr

    def paused(*args, **kwargs):
        real_write(*args, **kwargs)
        (signals / "first-paused").touch()
        deadline = time.monotonic() + float(sys.argv[3])
        while not (signals / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    cohort_store._write_zarr = paused
else:
    real_create = location.Location.create

    def create(self, data):
        try:
            return real_create(self, data)
        except FileExistsError:
            (signals / "second-waits").touch()
            raise

    location.Location.create = create
sys.exit(main(sys.argv[4:]))
"""


def _wait_until(condition, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}: {proc.communicate()}")
        time.sleep(0.02)


def _ingest_at_once(tmp_path: Path, first: list[str], second: list[str]) -> None:
    """Run ``linkscan ingest FIRST`` and ``linkscan ingest SECOND`` so that the second
    runs while the first is inside its write; both must exit 0."""
    signals = tmp_path / "signals"
    signals.mkdir()

    def start(role: str, argv: list[str]) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", DRIVER, str(signals), role, str(PROCESS_TIMEOUT),
                                 "ingest", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    one = start("first", first)
    _wait_until(lambda: (signals / "first-paused").exists() or one.poll() is not None, "the first ingest's write",
                one)
    assert one.poll() is None, one.communicate()
    two = start("second", second)
    _wait_until(lambda: (signals / "second-waits").exists() or two.poll() is not None,
                "the second ingest to finish or to wait", two)
    (signals / "go").touch()
    for proc in (one, two):
        out, err = proc.communicate(timeout=PROCESS_TIMEOUT)
        assert proc.returncode == 0, err
        assert "Traceback" not in err


def _phenotype_tables(folder: Path) -> tuple[Path, Path, Path]:
    """An age table (ingested before), a stage table and a survival table of SAMPLES."""
    folder.mkdir(exist_ok=True)
    age = folder / "age.tsv"
    age.write_text("sample\tage\n" + "".join(f"{s}\t{40 + k}\n" for k, s in enumerate(SAMPLES)))
    stage = folder / "stage.tsv"
    stage.write_text("sample\tstage\n" + "".join(f"{s}\t{'III' if k % 3 else 'I'}\n" for k, s in enumerate(SAMPLES)))
    survival = folder / "survival.tsv"
    survival.write_text("sample\tOS_days\tOS_event\n"
                        + "".join(f"{s}\t{100 + 10 * k}\t{k % 2}\n" for k, s in enumerate(SAMPLES)))
    return age, stage, survival


def _check_three_phenotypes(store: CohortStore) -> None:
    got = store.phenotypes("OV")
    assert sorted(got) == ["OS", "age", "stage"]
    np.testing.assert_array_equal(got["age"].align(SAMPLES).values, [40 + k for k in range(12)])
    assert list(got["stage"].align(SAMPLES).codes) == [0 if k % 3 == 0 else 1 for k in range(12)]
    np.testing.assert_array_equal(got["OS"].align(SAMPLES).time, [100 + 10 * k for k in range(12)])
    np.testing.assert_array_equal(got["OS"].align(SAMPLES).event, [k % 2 for k in range(12)])


def _clinical_and_survival_at_once(tmp_path: Path, root: str) -> None:
    age, stage, survival = _phenotype_tables(tmp_path / "tables")
    store = CohortStore(root)
    assert main(["ingest", root, "OV", "--clinical", str(age), "--type", "age=CON"]) == 0
    _ingest_at_once(tmp_path, [root, "OV", "--clinical", str(stage), "--type", "stage=ORD"],
                    [root, "OV", "--survival", str(survival)])
    _check_three_phenotypes(store)
    kept = Location(store.phenotypes_path("OV")).names()
    assert len(kept) == 2 and "zarr.json" in kept  # the current version only


def test_ingest__clinical_and_survival_at_once_keep_every_phenotype(tmp_path):
    """`--clinical` and `--survival` of one cohort at once (each reads, merges and rewrites
    the phenotypes): the second waits for the first, and the stored age, the stage and
    OS are all there."""
    _clinical_and_survival_at_once(tmp_path, str(tmp_path / "store"))
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["OV"]  # no lock left behind


def test_ingest__two_ingests_of_one_omics_at_once_leave_one_whole_table(tmp_path):
    """Two ingests of OV/proteome at once: the Dataset is readable afterwards and equals
    the table of the second (which waited for the first), with nothing else kept."""
    tables = demo.make_pan_cancer(n_features=200, cohorts=("OV",), seed=5, samples=(40, 40))
    a = demo.write_tables(tables, tmp_path / "a")["OV"]
    b = demo.write_tables(demo.make_pan_cancer(n_features=150, cohorts=("OV",), seed=6, samples=(30, 30)),
                          tmp_path / "b")["OV"]
    root = tmp_path / "store"
    _ingest_at_once(tmp_path, [str(root), "OV", f"proteome={a}"], [str(root), "OV", f"proteome={b}"])
    got = CohortStore(root).open("OV", "proteome")
    want = pd.read_csv(b, sep="\t", index_col=0).sort_index()
    assert got["feature"].values.tolist() == want.index.tolist()
    np.testing.assert_array_equal(got["values"].compute(scheduler="synchronous").values,
                                  want.to_numpy(dtype=np.float32))
    assert sorted(os.listdir(root / "OV" / "proteome.zarr")) == [got.attrs["version"], "zarr.json"]
    assert sorted(p.name for p in root.iterdir()) == ["OV"]


def test_ingest__s3_clinical_and_survival_at_once_keep_every_phenotype(s3, tmp_path):  # noqa: F811
    _clinical_and_survival_at_once(tmp_path, f"{s3}/concurrent")
    assert Location(f"{s3}/concurrent").names() == ["OV"]


def test_writing__s3_second_writer_is_refused_by_the_conditional_create(s3):  # noqa: F811
    """While this thread holds OV's writer lock on S3, the lock object cannot be created
    again (a conditional PUT, If-None-Match: *) and a second writer (another thread,
    waiting at most 0.2 s here) is refused, naming the holder and the fix."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from linkscan.errors import WriteError

    store = CohortStore(f"{s3}/locked")

    def second_writer():
        with store.writing("OV", wait=0.2):
            pass

    with store.writing("OV"):
        with pytest.raises(FileExistsError):
            Location(f"{s3}/locked/.OV.lock").create(b"{}")
        with ThreadPoolExecutor(1) as pool, pytest.raises(WriteError) as info:
            pool.submit(second_writer).result()
    message = str(info.value)
    assert f"cohort 'OV' of the store {s3}/locked is being written by process {os.getpid()} on " \
           f"{socket.gethostname()} since " in message
    assert f"delete {s3}/locked/.OV.lock" in message
    with store.writing("OV", wait=0):  # released: the next writer gets it at once
        pass
    assert Location(f"{s3}/locked").names() == []
