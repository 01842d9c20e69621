"""The `linkscan` command line, run as a user runs it (fresh processes where it matters)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from jobs.cli import main
from storage import synthetic


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`linkscan demo` end to end, small: generate, ingest, scan on a 2-process cluster, look up."""
    root = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "jobs.cli", "demo", "--dir", str(root), "--features", "150",
         "--workers", "2", "--tile-size", "64"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root, proc.stdout


def test_demo__ends_with_the_planted_gene_and_its_module(demo):
    root, out = demo
    assert "[4/4] linkscan query MKI67" in out and (root / "results" / "complete.json").exists()
    table = out.split("[4/4]")[1].splitlines()[2:]
    partners = [line.split()[1] for line in table if line.strip()]
    module = next(m for m in synthetic.MODULES if synthetic.DEMO_GENE in m.genes)
    assert len(partners) == 10 and set(partners[:5]) <= set(module.genes)


def test_query__formats(demo, capsys):
    root, _ = demo
    assert main(["query", "mki67", "--results", str(root / "results"), "--top", "3", "--format", "tsv"]) == 0
    tsv = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t")
    assert len(tsv) == 3 and (tsv.feature == "MKI67").all()
    assert np.all(np.diff(tsv.meta_slogp.abs()) <= 0)
    assert main(["query", "MKI67", "--results", str(root / "results"), "--cohort", "GBM",
                 "--min-slogp", "3", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records and all(abs(r["GBM_slogp"]) >= 3 for r in records)
    assert set(records[0]) == {"feature", "partner", "partner_gene", "GBM_stat", "GBM_n", "GBM_slogp"}
    assert main(["query", "MKI67", "--results", str(root / "results"), "--min-slogp", "1e9"]) == 0
    assert "no associations pass the filters" in capsys.readouterr().out


def test_query__unknown_gene_is_a_message_not_a_traceback(demo, capsys):
    root, _ = demo
    assert main(["query", "MKI76", "--results", str(root / "results")]) == 2
    err = capsys.readouterr().err
    assert "no feature or gene named 'MKI76'" in err and "MKI67" in err and "Traceback" not in err


def test_query__fresh_process_imports_nothing_heavy(demo):
    root, _ = demo
    code = (
        "import sys; from jobs.cli import main; main(['query', 'MKI67', '--results', sys.argv[1], '--top', '2']);"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed', 'numba', 'xarray', 'zarr', 'scipy'}))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(root / "results")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_ingest__prints_a_summary_and_rejects_bad_arguments(tmp_path, capsys):
    table = synthetic.make_cohort(30, 20, seed=1, cohort="OV")
    path = tmp_path / "ov.tsv"
    table.to_csv(path, sep="\t", na_rep="NA")
    assert main(["ingest", str(tmp_path / "store"), "OV", f"proteome={path}"]) == 0
    assert "OV/proteome: 30 features x 20 samples" in capsys.readouterr().out
    assert main(["ingest", str(tmp_path / "store"), "OV", str(path)]) == 2
    assert "write OMICS=PATH" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path / "store"), "OV", f"proteome={path}", "--min-samples", "50"]) == 2
    assert "ov.tsv" in capsys.readouterr().err


def test_submit__bad_job_file_is_a_message(tmp_path, capsys):
    job = tmp_path / "job.toml"
    job.write_text('store = "s"\nresults = "r"\nomics = "proteome"\n[scan]\ntilesize = 3\n')
    assert main(["submit", str(job)]) == 2
    assert "unknown key scan.tilesize" in capsys.readouterr().err
