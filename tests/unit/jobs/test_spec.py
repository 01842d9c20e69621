"""Job files: defaults, paths, and a clear error for every kind of mistake."""

from pathlib import Path

import pytest

from linkscan.jobs.spec import read_job, write_job
from linkscan.errors import JobError

MINIMAL = 'store = "s"\nresults = "r"\nomics = "proteome"\n'


def _job(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "job.toml"
    path.write_text(text)
    return path


def test_read_job__defaults_and_relative_paths(tmp_path):
    job = read_job(_job(tmp_path, MINIMAL))
    assert job.scan.store == str(tmp_path / "s") and job.scan.results == str(tmp_path / "r")
    assert (job.scan.min_n, job.scan.p_mode, job.scan.min_cohorts, job.scan.tile_size) == (10, "t", 1, 500)
    assert job.scan.cohorts == () and job.cluster.address == "" and job.cluster.n_workers == 0


def test_read_job__all_sections(tmp_path):
    job = read_job(_job(tmp_path, MINIMAL + 'cohorts = ["BRCA", "OV"]\n[statistics]\np_mode = "r"\n'
                        'min_n = 12\n[scan]\ntile_size = 64\n[cluster]\naddress = "tcp://127.0.0.1:8786"\n'))
    assert job.scan.cohorts == ("BRCA", "OV") and job.scan.p_mode == "r" and job.scan.min_n == 12
    assert job.scan.tile_size == 64 and job.cluster.address == "tcp://127.0.0.1:8786"


def test_write_job__round_trips(tmp_path):
    path = write_job(tmp_path / "j.toml", store="st", results="re", omics="rna", cohorts=["A"],
                     tile_size=32, n_workers=2, p_mode="r")
    job = read_job(path)
    assert (job.scan.omics, job.scan.cohorts, job.scan.tile_size, job.scan.p_mode) == ("rna", ("A",), 32, "r")
    assert job.cluster.n_workers == 2


@pytest.mark.parametrize("text, message", [
    (MINIMAL + "tile_sise = 3\n", r"unknown key 'tile_sise'; valid keys are .*\[scan\]"),
    (MINIMAL + "[scan]\ntile_sise = 3\n", r"unknown key scan.tile_sise; valid keys of \[scan\] are tile_size"),
    (MINIMAL + "[scan]\ntile_size = \"big\"\n", r"scan.tile_size = 'big' must be an integer"),
    (MINIMAL + "[statistics]\nmin_n = true\n", r"statistics.min_n = True must be an integer"),
    (MINIMAL + "[statistics]\np_mode = \"exact\"\n", r"p_mode = 'exact': use one of t, r"),
    (MINIMAL + "[statistics]\nmin_n = 1\n", r"min_n = 1: must be an integer >= 3"),
    (MINIMAL + 'cohorts = "BRCA"\n', r"cohorts = 'BRCA' must be a list of names"),
    (MINIMAL + 'kind = "gwas"\n', r"kind = 'gwas'; supported kinds: trans, cis"),
    (MINIMAL + 'kind = "cis"\n', r"kind = 'cis' needs omics_y"),
    (MINIMAL + 'omics_y = "proteome"\n', r"omics_y = 'proteome' is omics itself"),
    ('store = "s"\nresults = "r"\n', r"missing required key 'omics'"),
    (MINIMAL + "[cluster]\nn_workers = -1\n", r"n_workers must be >= 0"),
    ("store = \n", r"is not valid TOML"),
])
def test_read_job__errors_name_the_key(tmp_path, text, message):
    with pytest.raises(JobError, match=message):
        read_job(_job(tmp_path, text))


def test_read_job__missing_file(tmp_path):
    with pytest.raises(JobError, match=r"job file .*nope.toml does not exist"):
        read_job(tmp_path / "nope.toml")
