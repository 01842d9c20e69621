"""The cohort store and the result store on S3: a real S3 server (moto's server mode,
started here on 127.0.0.1 as its own process), reached through s3fs exactly as a user's
AWS S3 or MinIO would be (credentials and endpoint in the standard AWS_* environment
variables). Scans run on a LocalCluster whose worker processes read the Zarr store from
S3 and write the result parts there; the shards must be byte-identical to a scan of the
same data on local disk."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("s3fs", reason="the object-store tests need s3fs (pip install -e '.[test]')")
MOTO = Path(sys.executable).parent / "moto_server"
if not MOTO.exists():
    pytest.skip(f"the object-store tests need moto's server ({MOTO}; pip install -e '.[test]')",
                allow_module_level=True)

import numpy as np  # noqa: E402

from linkscan.engine.plan import ScanSpec, make_plan  # noqa: E402
from linkscan.engine.runner import open_client, run_scan  # noqa: E402
from linkscan.jobs.cli import main  # noqa: E402
from linkscan.jobs.spec import write_job  # noqa: E402
from linkscan.jobs import demo  # noqa: E402
from linkscan.storage.inputs.cohort_store import CohortStore  # noqa: E402
from linkscan.errors import ResultsError  # noqa: E402
from linkscan.storage.inputs.ingest import ingest  # noqa: E402
from linkscan.storage.location import Location  # noqa: E402
from linkscan.storage.results.store import ResultStore  # noqa: E402

pytestmark = pytest.mark.slow

COHORTS = ("BRCA", "COAD")
N_FEATURES = 120
TILE_SIZE = 32
BUCKET = "linkscan-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on 127.0.0.1 and the AWS_* variables that point s3fs at it
    (set in this process, so LocalCluster workers inherit them); yields the bucket URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        import s3fs

        s3fs.S3FileSystem.clear_instance_cache()
        s3fs.S3FileSystem().mkdir(BUCKET)
        yield f"s3://{BUCKET}"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    tables = demo.make_pan_cancer(n_features=N_FEATURES, cohorts=COHORTS, seed=11, samples=(30, 50))
    return demo.write_tables(tables, tmp_path_factory.mktemp("s3_tables"))


@pytest.fixture(scope="module")
def stores(s3, tables, tmp_path_factory) -> tuple[str, Path]:
    """The same tables ingested into an S3 store (through `linkscan ingest`) and a local one."""
    local = tmp_path_factory.mktemp("s3_local") / "store"
    for cohort, path in tables.items():
        assert main(["ingest", f"{s3}/store", cohort, f"proteome={path}"]) == 0
        ingest(local, cohort, "proteome", path)
    return f"{s3}/store", local


@pytest.fixture(scope="module")
def client2():
    with open_client(n_workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def local_scan(stores, client2, tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("s3_local_res") / "res"
    run_scan(ScanSpec(store=str(stores[1]), results=str(results), omics="proteome", tile_size=TILE_SIZE),
             client=client2, progress=False)
    return results


def _shard_bytes(results: str) -> dict[str, bytes]:
    root = Location(results)
    names = [f"shards/{n}" for n in (root / "shards").names()] + ["features.parquet"]
    return {n: (root / n).read_bytes() for n in names}


def test_ingest__s3_store_reads_back_like_the_local_one(stores):
    remote, local = CohortStore(stores[0]), CohortStore(stores[1])
    assert remote.cohorts() == local.cohorts() == list(COHORTS)
    assert remote.omics("BRCA") == ["proteome"] and remote.tissues("BRCA", "proteome") == ["tumor"]
    for cohort in COHORTS:
        a, b = remote.open(cohort, "proteome"), local.open(cohort, "proteome")
        # (in this process, whatever Client an earlier test module closed)
        np.testing.assert_array_equal(a["values"].data.compute(scheduler="synchronous"),
                                      b["values"].data.compute(scheduler="synchronous"))
        assert a["feature"].values.tolist() == b["feature"].values.tolist()
        assert a.attrs["version"].startswith("v-")
    listed = Location(f"{stores[0]}/BRCA/proteome.zarr").names()
    assert listed == sorted([remote.open("BRCA", "proteome").attrs["version"], "zarr.json"])


def test_ingest__s3_rewrite_replaces_the_version_and_leaves_nothing_behind(s3, tables):
    store = CohortStore(f"{s3}/rewrite")
    ingest(store.root, "BRCA", "proteome", tables["BRCA"])
    first = store.open("BRCA", "proteome").attrs["version"]
    ingest(store.root, "BRCA", "proteome", tables["COAD"])
    second = store.open("BRCA", "proteome")
    assert second.attrs["version"] != first
    assert Location(f"{s3}/rewrite/BRCA/proteome.zarr").names() == [second.attrs["version"], "zarr.json"]
    assert second.sizes["sample"] == CohortStore(f"{s3}/store").open("COAD", "proteome").sizes["sample"]


def test_submit__s3_store_and_results_equal_a_local_scan(s3, stores, local_scan, tmp_path, capsys):
    """`linkscan submit` of a job whose store and results are S3 URLs, on a LocalCluster of
    2 worker processes (each reads the Zarr store from S3 and writes its parts there);
    then `linkscan query` from S3."""
    results = f"{s3}/results/trans"
    job = write_job(tmp_path / "job.toml", store=stores[0], results=results, omics="proteome",
                    tile_size=TILE_SIZE, n_workers=2)
    assert main(["submit", str(job), "--quiet"]) == 0
    assert _shard_bytes(results) == _shard_bytes(str(local_scan))
    rs = ResultStore(results)
    assert rs.is_complete() and rs.lock_holder() is None and not Location(results + "/parts").names()
    gene = demo.DEMO_GENE
    remote_rows = rs.lookup(gene, top=5)
    local_rows = ResultStore(str(local_scan)).lookup(gene, top=5)
    assert remote_rows.equals(local_rows) and len(remote_rows) == 5
    capsys.readouterr()
    assert main(["query", gene, "--results", f"{s3}/results", "--top", "3"]) == 0
    out = capsys.readouterr().out  # the knowledge base's table: partner, meta, cohorts
    assert out.splitlines()[1].split()[0] == local_rows["partner"].iloc[0] and len(out.splitlines()) == 4
    assert main(["status", str(job)]) == 0
    assert "complete" in capsys.readouterr().out


def test_run_scan__s3_resume_recomputes_only_missing_and_damaged_tiles(s3, stores, local_scan, client2):
    """An interrupted S3 result store with a truncated part and a corrupted one: a lookup
    refuses it; resubmitting runs exactly the missing and damaged tiles, and the shards
    equal the local scan's."""
    from linkscan.engine.tile import run_tile

    spec = ScanSpec(store=stores[0], results=f"{s3}/results/resume", omics="proteome", tile_size=TILE_SIZE)
    plan = make_plan(spec)
    rs = plan.context.results
    rs.create_or_resume(plan.manifest, plan.features)
    for tile in plan.tiles[:5]:
        run_tile(plan.context, tile)
    with pytest.raises(ResultsError, match=r"not complete \(5 of 10 tiles finished\)"):
        rs.lookup(demo.DEMO_GENE)
    parts = {t.key: rs.ledger()[t.key]["parts"] for t in plan.tiles[:2]}
    (truncated,), (corrupted,) = (list(p) for p in parts.values())
    part = Location(f"{spec.results}/parts/{int(truncated):05d}/{plan.tiles[0].key}.parquet")
    part.write_bytes(part.read_bytes()[:-9])
    part = Location(f"{spec.results}/parts/{int(corrupted):05d}/{plan.tiles[1].key}.parquet")
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))

    report = run_scan(spec, client=client2, progress=False)
    assert sorted(report.tiles_run) == sorted(t.key for t in plan.tiles[:2] + plan.tiles[5:])
    assert _shard_bytes(spec.results) == _shard_bytes(str(local_scan))


def test_local_copy__downloaded_once_per_version_of_the_object(s3):
    """A remote file read whole by many tasks (the BH tables) is downloaded once per
    process; a new version of the object (a new finish) is downloaded again, never the
    stale copy served."""
    file = Location(f"{s3}/copies/table.npy")
    file.write_bytes(b"first version")
    first = file.local_copy()
    assert Path(first).read_bytes() == b"first version"
    assert Location(f"{s3}/copies/table.npy").local_copy() == first  # another Location of it: the same copy
    file.write_bytes(b"second, longer version")
    second = file.local_copy()
    assert second != first and Path(second).read_bytes() == b"second, longer version"
    assert not Path(first).exists()  # the stale copy is gone
    file.write_bytes(b"third, longer  version")  # the same size: the version (ETag) tells
    assert Path(file.local_copy()).read_bytes() == b"third, longer  version"
    local = Location(Path(first).parent / "x")
    assert local.local_copy() == local.url  # a local file is its own copy


def test_lock__s3_second_submitter_is_refused_by_a_conditional_write(s3, stores):
    rs = ResultStore(f"{s3}/results/locked")
    plan = make_plan(ScanSpec(store=stores[0], results=rs.root, omics="proteome", tile_size=TILE_SIZE))
    rs.create_or_resume(plan.manifest, plan.features)
    Location(f"{rs.root}/lock").write_bytes(b'{"host": "node-7", "pid": 4242, "since": "2026-11-25 10:00:00"}')
    with pytest.raises(ResultsError, match=r"being scanned by process 4242 on node-7 since 2026-11-25 10:00:00"):
        rs.lock()
    Location(f"{rs.root}/lock").remove()
    rs.lock()
    assert rs.lock_holder()["pid"] == os.getpid()
    with pytest.raises(FileExistsError):  # what a second submitter's conditional write meets
        Location(f"{rs.root}/lock").create(b"{}")
    rs.unlock()
    assert rs.lock_holder() is None


def test_query__missing_s3_results_is_a_clear_error(s3, capsys):
    assert main(["query", "MKI67", "--results", f"{s3}/nothing-here"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("linkscan: error: s3://linkscan-test/nothing-here is not a linkscan result store")
    assert "Traceback" not in err and "testing-secret" not in err


@pytest.mark.parametrize("problem", ["no credentials", "endpoint down"])
def test_query__object_store_unusable_is_one_line_without_secrets(s3, problem):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1")
    if problem == "endpoint down":
        env.update(AWS_ACCESS_KEY_ID="AKIA-TEST", AWS_SECRET_ACCESS_KEY="s3cr3t-value",
                   AWS_ENDPOINT_URL=f"http://127.0.0.1:{_free_port()}")
    else:
        env.update(AWS_ENDPOINT_URL=os.environ["AWS_ENDPOINT_URL"])
    done = subprocess.run([str(Path(sys.executable).parent / "linkscan"), "query", "MKI67", "--results",
                           f"{s3}/results/trans"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("linkscan: error: the object store could not be used (")
    assert done.stderr.count("\n") == 1 and "s3cr3t-value" not in done.stderr
    expected = "NoCredentialsError" if problem == "no credentials" else "EndpointConnectionError"
    assert expected in done.stderr and "AWS_ENDPOINT_URL" in done.stderr
