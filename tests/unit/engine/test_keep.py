"""The job's keep policy: the finished store holds exactly the rows of the full scan
that the policy keeps, with the full scan's q-values, which are BH over every test
(checked against a direct BH of all the scan's p-values), and records every test."""

import json
from pathlib import Path

import fastparquet
import numpy as np
import pandas as pd
import pytest

from linkscan.engine.keep import Keep
from linkscan.engine.plan import ScanSpec
from linkscan.engine.runner import open_client, run_scan
from linkscan.errors import JobError
from linkscan.jobs.spec import read_job, write_job
from linkscan.kernels.multitest import bh_logq
from linkscan.storage.results.store import ResultStore
from stores import proteome_store

COHORTS = ("BRCA", "OV", "UCEC")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return proteome_store(tmp_path_factory.mktemp("keep"), n_features=80, cohorts=COHORTS, seed=8,
                          samples=(30, 50))


@pytest.fixture(scope="module")
def client():
    with open_client(n_workers=2) as c:
        yield c


def _scan(store: Path, results: Path, client, keep) -> pd.DataFrame:
    run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome", tile_size=32, keep=keep),
             client=client, progress=False)
    frames = [fastparquet.ParquetFile(str(p)).to_pandas() for p in sorted((results / "shards").glob("*"))]
    return pd.concat(frames, ignore_index=True).set_index(["feature", "partner"]).sort_index()


@pytest.fixture(scope="module")
def full(store, client, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    results = tmp_path_factory.mktemp("all") / "r"
    return results, _scan(store, results, client, "all")


def test_full_scan__q_is_bh_over_every_test(full):
    _, rows = full
    once = rows[rows.index.get_level_values(0) < rows.index.get_level_values(1)]
    for column in ("BRCA", "meta"):
        slogp = once[f"{column}_slogp"].to_numpy(np.float64)
        expected = bh_logq(-np.abs(slogp) * np.log(10)) / np.log(10)
        np.testing.assert_allclose(once[f"{column}_log10q"], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("keep", [{"min_slogp": 3}, {"max_log10q": -2}, {"top": 5}])
def test_keep__the_full_scans_rows_the_policy_keeps_with_its_q(store, client, full, tmp_path, keep):
    all_results, rows = full
    kept = _scan(store, tmp_path / "r", client, keep)
    expect = rows[Keep.parse(keep).mask(rows.reset_index())]
    assert 0 < len(kept) < len(rows)
    pd.testing.assert_frame_equal(kept, expect)  # the same numbers, q included, bit for bit
    policy = Keep.parse(keep)
    if policy.policy == "top":
        assert kept.groupby(level=0).size().max() == 5
    elif policy.policy == "min_slogp":
        strongest = kept.filter(like="_slogp").abs().max(axis=1)
        assert (strongest >= 3).all() and (rows.filter(like="_slogp").abs().max(axis=1)[
            ~rows.index.isin(kept.index)] < 3).all()
    done, whole = (json.loads((r / "complete.json").read_text()) for r in (tmp_path / "r", all_results))
    assert done["tests"] == whole["tests"] and done["p_histograms"] == whole["p_histograms"]
    assert done["rows"] == len(kept) and done["rows_computed"] == whole["rows"] == len(rows)
    assert done["keep"] == keep
    assert sum(whole["p_histograms"]["meta_slogp"]) == whole["tests"]["meta_slogp"]
    assert ResultStore(str(tmp_path / "r")).manifest()["scan"]["keep"] == keep


def test_keep__job_file_round_trip_and_errors(store, tmp_path):
    job = read_job(write_job(tmp_path / "job.toml", store=str(store), results="r", omics="proteome",
                             keep={"top": 100}))
    assert job.scan.keep == Keep("top", 100)
    assert "keep = {top = 100}" in (tmp_path / "job.toml").read_text()
    for bad, message in (({"top": 0}, "top takes a whole number >= 1"),
                         ({"min_slogp": -1}, "min_slogp takes a number >= 0"),
                         ({"max_log10q": 2}, "max_log10q takes a number <= 0"),
                         ({"top": 1.5}, "top takes a whole number"),
                         ({"best": 3}, "'best' is not a policy"),
                         ("some", 'write keep = "all", {min_slogp = 6}'),
                         ({"top": 3, "min_slogp": 6}, 'write keep = "all"')):
        with pytest.raises(JobError, match=message):
            ScanSpec(store="s", results="r", omics="proteome", keep=bad)
    (tmp_path / "bad.toml").write_text((tmp_path / "job.toml").read_text().replace("{top = 100}", "{top = -3}"))
    with pytest.raises(JobError, match=r"bad.toml: keep = \{'top': -3\}: top takes a whole number >= 1"):
        read_job(tmp_path / "bad.toml")
