"""Adding and dropping cohorts of a finished scan (engine/cohorts.py): only the added
cohorts' tests run, and the finished store is the same bytes as a scan of the new
cohorts from scratch; anything else that changed is refused."""

import shutil
from pathlib import Path

import pytest

from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.engine.runner import open_client, run_scan
from linkscan.errors import ResultsError
from linkscan.storage.inputs.ingest import ingest
from linkscan.storage.results.store import ResultStore
from linkscan.jobs import demo

ALL = ("BRCA", "COAD", "OV")


@pytest.fixture(scope="module")
def client():
    with open_client(n_workers=2) as c:
        yield c


@pytest.fixture()
def world(tmp_path) -> Path:
    """Tables of three cohorts (each lacks a few features of its own, so that the scan's
    universe changes with its cohorts); BRCA and COAD ingested."""
    tables = demo.make_pan_cancer(n_features=40, cohorts=ALL, seed=3, samples=(30, 45))
    files = demo.write_tables(tables, tmp_path / "tables")
    for cohort in ALL[:2]:
        ingest(tmp_path / "store", cohort, "proteome", files[cohort])
    return tmp_path


def _table(world: Path, cohort: str) -> Path:
    return next((world / "tables").glob(f"{cohort}*"))


def _spec(world: Path, results: str, cohorts=(), **options) -> ScanSpec:
    return ScanSpec(store=str(world / "store"), results=str(world / results), omics="proteome", cohorts=cohorts,
                    tile_size=8, **options)


def _files(results: Path) -> dict[str, bytes]:
    """The finished store's data files: shards, q tables, features, by name."""
    out = {}
    for sub in ("shards", "bh"):
        for p in sorted((results / sub).iterdir()):
            out[f"{sub}/{p.name}"] = p.read_bytes()
    out["features.parquet"] = (results / "features.parquet").read_bytes()
    return out


def _starve(world: Path, cohorts) -> None:
    """Remove the stored values of ``cohorts`` (their metadata stays): a tile that read
    them now would get no values, so equal results prove they were not recomputed."""
    for cohort in cohorts:
        for chunk in (world / "store" / cohort).glob("proteome.zarr/v-*/values/c"):
            shutil.rmtree(chunk)


def test_add_a_cohort__computes_only_it_and_equals_the_scan_from_scratch(world, client):
    run_scan(_spec(world, "r"), client=client, progress=False)  # cohorts = []: BRCA, COAD
    ingest(world / "store", "OV", "proteome", _table(world, "OV"))
    run_scan(_spec(world, "scratch"), client=client, progress=False)  # all three from scratch
    _starve(world, ALL[:2])
    report = run_scan(_spec(world, "r"), client=client, progress=False)  # cohorts = []: now OV too
    plan = make_plan(_spec(world, "r"))
    assert report.pairs == sum(plan.manifest["tile_pairs"].values()) // 3  # OV's tests only
    assert ResultStore(str(world / "r")).manifest()["cohorts"] == list(ALL)
    assert _files(world / "r") == _files(world / "scratch")
    assert not (world / "r" / "previous").exists()
    assert ResultStore(str(world / "r")).lookup("MKI67").shape == ResultStore(str(world / "scratch")).lookup("MKI67").shape


def test_drop_a_cohort__no_test_runs_and_equals_the_scan_from_scratch(world, client):
    ingest(world / "store", "OV", "proteome", _table(world, "OV"))
    run_scan(_spec(world, "r"), client=client, progress=False)
    run_scan(_spec(world, "scratch", ("BRCA", "OV")), client=client, progress=False)
    _starve(world, ALL)
    report = run_scan(_spec(world, "r", ("BRCA", "OV")), client=client, progress=False)
    assert report.pairs == 0 and report.tiles_run
    assert _files(world / "r") == _files(world / "scratch")


def test_interrupted_change__resumes_and_equals_the_scan_from_scratch(world, client):
    run_scan(_spec(world, "r", ("BRCA",)), client=client, progress=False)
    run_scan(_spec(world, "scratch", ("BRCA", "COAD")), client=client, progress=False)
    plan = make_plan(_spec(world, "r", ("BRCA", "COAD")))
    results = ResultStore(str(world / "r"))
    # killed after the finished scan was kept in previous/ and the new manifest written
    results.begin_cohort_change(dict(plan.manifest, previous={"fingerprint": "x", "cohorts": ["BRCA"]}),
                                plan.features)
    with pytest.raises(ResultsError, match="is not complete"):
        results.lookup("MKI67")
    run_scan(_spec(world, "r", ("BRCA", "COAD")), client=client, progress=False)
    assert _files(world / "r") == _files(world / "scratch")


def test_other_changes__refused_with_what_changed(world, client):
    run_scan(_spec(world, "r", ("BRCA",)), client=client, progress=False)
    with pytest.raises(ResultsError, match=r"differs in: min_n \(10 -> 12\)\); only cohorts can be added or "
                                           r"dropped in place"):
        run_scan(_spec(world, "r", ("BRCA", "COAD"), min_n=12), client=client, progress=False)
    ingest(world / "store", "BRCA", "proteome", _table(world, "OV"))  # BRCA's data replaced
    with pytest.raises(ResultsError, match=r"differs in: the data of cohorts BRCA \(ingested again since\)"):
        run_scan(_spec(world, "r", ("BRCA", "COAD")), client=client, progress=False)
    assert ResultStore(str(world / "r")).is_complete()  # refused before anything was touched


def test_store_of_an_older_linkscan__refused_as_such(world, client):
    import json

    run_scan(_spec(world, "r", ("BRCA",)), client=client, progress=False)
    manifest = world / "r" / "manifest.json"
    old = json.loads(manifest.read_text())
    old["scan"]["inputs"] = [t for tokens in old["scan"]["inputs"].values() for t in tokens]  # the old layout
    manifest.write_text(json.dumps(old))
    with pytest.raises(ResultsError, match=r"differs in: the result schema \(a store of an older linkscan\)"):
        run_scan(_spec(world, "r", ("BRCA", "COAD")), client=client, progress=False)
