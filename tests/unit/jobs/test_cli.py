"""The `linkscan` command line, run as a user runs it (fresh processes where it matters)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from linkscan.jobs.cli import main
from linkscan.jobs.demo import DEMO_GENE, MODULES, make_cohort


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`linkscan demo` end to end, small: generate, ingest, scan on a 2-process cluster, look up."""
    root = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "linkscan.jobs.cli", "demo", "--dir", str(root), "--features", "150",
         "--workers", "2", "--tile-size", "64"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root, proc.stdout


def test_demo__ends_with_the_planted_gene_on_every_kind_of_scan(demo):
    root, out = demo
    assert "[4/4] linkscan query MKI67" in out
    for kind in ("trans", "tumor_normal", "phenotype", "cis"):
        assert (root / "results" / kind / "complete.json").exists()
    sections = dict(part.split("\n", 1) for part in out.split("[4/4]")[1].split("== ")[1:])
    assert set(sections) == {"trans", "tumor_normal", "phenotype", "cis"}
    # the knowledge base's table: partner, meta, then a column per cohort
    partners = [line.split()[0] for line in sections["trans"].splitlines()[1:] if line.strip()]
    module = next(m for m in MODULES if DEMO_GENE in m.genes)
    assert len(partners) == 5 and set(partners) <= set(module.genes)
    assert "tumor_vs_normal" in sections["tumor_normal"]
    assert f"linkscan serve {root / 'results'} --gmt {root / 'gene_sets.gmt'}" in out  # and how to see the page
    assert (root / "gene_sets.gmt").is_file()
    assert {"stage", "OS", "TP53"} <= {line.split()[0] for line in sections["phenotype"].splitlines()[1:]}


def test_query__formats(demo, capsys):
    root, _ = demo
    assert main(["query", "mki67", "--results", str(root / "results" / "trans"), "--top", "3", "--format", "tsv"]) == 0
    tsv = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t")
    assert len(tsv) == 3 and (tsv.feature == "MKI67").all()
    assert np.all(np.diff(tsv.meta_slogp.abs()) <= 0)
    assert main(["query", "MKI67", "--results", str(root / "results" / "trans"), "--cohort", "GBM",
                 "--min-slogp", "3", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records and all(abs(r["GBM_slogp"]) >= 3 for r in records)
    assert set(records[0]) == {"feature", "partner", "partner_gene", "test", "GBM_stat", "GBM_n", "GBM_slogp",
                               "GBM_log10q"}
    assert main(["query", "MKI67", "--results", str(root / "results" / "trans"), "--max-fdr", "1e-4", "--format", "json"]) == 0
    strong = json.loads(capsys.readouterr().out)
    assert strong and all(r["meta_log10q"] <= -4 for r in strong)
    assert main(["query", "MKI67", "--results", str(root / "results" / "trans"), "--min-slogp", "1e9"]) == 0
    assert "no associations pass the filters" in capsys.readouterr().out


def test_query__unknown_gene_is_a_message_not_a_traceback(demo, capsys):
    root, _ = demo
    assert main(["query", "MKI76", "--results", str(root / "results" / "trans")]) == 2
    err = capsys.readouterr().err
    assert "no feature or gene named 'MKI76'" in err and "MKI67" in err and "Traceback" not in err


def test_query__fresh_process_imports_nothing_heavy(demo):
    root, _ = demo
    code = (
        "import sys; from linkscan.jobs.cli import main; main(['query', 'MKI67', '--results', sys.argv[1], '--top', '2']);"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed', 'numba', 'xarray', 'zarr', 'scipy'}))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(root / "results" / "trans")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_ingest__prints_a_summary_and_rejects_bad_arguments(tmp_path, capsys):
    table = make_cohort(30, 20, seed=1, cohort="OV")
    path = tmp_path / "ov.tsv"
    table.to_csv(path, sep="\t", na_rep="NA")
    assert main(["ingest", str(tmp_path / "store"), "OV", f"proteome={path}"]) == 0
    assert "OV/proteome: 30 features x 20 samples" in capsys.readouterr().out
    assert main(["ingest", str(tmp_path / "store"), "OV", str(path)]) == 2
    assert "write OMICS=PATH" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path / "store"), "OV", f"proteome={path}", "--min-samples", "50"]) == 2
    assert "ov.tsv" in capsys.readouterr().err


def _cli_tables(tmp_path):
    tumor = make_cohort(30, 20, seed=1, cohort="OV")
    tumor.to_csv(tmp_path / "tumor.tsv", sep="\t", na_rep="NA")
    normal = make_cohort(30, 12, seed=2, cohort="OV")
    normal.columns = tumor.columns[:12]  # the same ids as tumors, as in CPTAC UCEC
    normal.to_csv(tmp_path / "normal.tsv", sep="\t", na_rep="NA")
    mutations = pd.DataFrame((np.arange(40).reshape(2, 20) % 3 == 0).astype(int), index=["TP53", "KRAS"],
                             columns=tumor.columns)
    mutations.to_csv(tmp_path / "OV.cbt", sep="\t")
    stages = ["Stage I", "Stage II", "pTX", "Stage IV"]
    rows = ["sample\tStage\tAge/years\tSubtype"] + [
        f"{s}\t{stages[k % 4]}\t{50 + k}\t{'AB'[k % 2]}" for k, s in enumerate(tumor.columns)]
    (tmp_path / "clinical.tsv").write_text("\n".join(rows) + "\n")
    (tmp_path / "types.tsv").write_text("variable\ttype\nStage\tORD\nSubtype\tCAT\n")
    rows = ["patient\tOS_days\tOS_event"] + [f"{s}\t{100 + k}\t{k % 2}" for k, s in enumerate(tumor.columns)]
    (tmp_path / "survival.tsv").write_text("\n".join(rows) + "\n")
    return tumor


def test_ingest__every_table_kind_one_line_each(tmp_path, capsys):
    tumor = _cli_tables(tmp_path)
    store = str(tmp_path / "store")
    code = main([
        "ingest", store, "OV", f"proteome={tmp_path / 'tumor.tsv'}", "--normal", f"proteome={tmp_path / 'normal.tsv'}",
        f"mutation={tmp_path / 'OV.cbt'}",  # positionals may follow options
        "--clinical", str(tmp_path / "clinical.tsv"), "--types", str(tmp_path / "types.tsv"), "--type", "Age/years=CON",
        "--levels", "Stage=Stage I,Stage II,Stage III,Stage IV", "--unknown", "Stage=pTX",
        "--survival", str(tmp_path / "survival.tsv"),
    ])
    out = capsys.readouterr()
    assert code == 0, out.err
    lines = out.out.splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("OV/proteome: 30 features x 20 samples")
    assert lines[1].startswith("OV/mutation [binary]: 2 features x 20 samples")
    assert lines[2].startswith("OV/proteome (normal): 30 features x 12 samples")
    assert lines[3].startswith("OV/phenotypes <- clinical.tsv: 3 phenotype(s) (1 ORD, 1 CON, 1 CAT) for 20 samples")
    assert lines[4].startswith("OV/phenotypes <- survival.tsv: 1 survival endpoint(s) (OS: 20 samples, 10 events)")

    from linkscan.storage.inputs.cohort_store import CohortStore

    cohort = CohortStore(store)
    assert cohort.omics("OV") == ["mutation", "proteome"] and cohort.tissues("OV", "proteome") == ["tumor", "normal"]
    phen = cohort.phenotypes("OV")
    assert list(phen) == ["Age/years", "OS", "Stage", "Subtype"]
    assert phen["Stage"].levels == ("Stage I", "Stage II", "Stage III", "Stage IV")
    assert phen["Stage"].codes.tolist()[:4] == [0, 1, -1, 3] and phen["Age/years"].samples.tolist() == tumor.columns.tolist()


def test_ingest__tissue_split_from_a_sample_table(tmp_path, capsys):
    table = make_cohort(30, 24, seed=3, cohort="UCEC")
    table.to_csv(tmp_path / "both.tsv", sep="\t", na_rep="NA")
    tissues = ["Tumor"] * 12 + ["Adjacent_normal"] * 11 + ["Myometrium_normal"]
    rows = ["sample_id\tparticipant_id\ttissue_type"] + [
        f"{s}\tP{k if k < 12 else (k - 12) % 11}\t{t}" for k, (s, t) in enumerate(zip(table.columns, tissues))]
    (tmp_path / "samples.tsv").write_text("\n".join(rows) + "\n")
    args = ["ingest", str(tmp_path / "store"), "UCEC", f"proteome={tmp_path / 'both.tsv'}",
            "--samples", str(tmp_path / "samples.tsv"), "--tissue-column", "tissue_type",
            "--participant-column", "participant_id"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"samples {table.columns[12]!r} and {table.columns[23]!r} are both normal samples of participant 'P0'" in err
    assert main(args + ["--tissue-value", "Myometrium_normal=exclude"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["UCEC/proteome", "UCEC/proteome (normal)"]
    assert "x 12 samples" in lines[0] and "x 11 samples" in lines[1]

    from linkscan.storage.inputs.cohort_store import CohortStore

    normal = CohortStore(tmp_path / "store").open("UCEC", "proteome", tissue="normal")
    assert normal["sample"].values.tolist() == [f"P{k}" for k in range(11)]  # P0..P10 also name tumors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to ingest"),
        (["--samples", "s.tsv", "p=t.tsv"], "--samples and --tissue-column go together"),
        (["--tissue-value", "X=tumor", "p=t.tsv"], "--tissue-value and --participant-column need --samples"),
        (["--samples", "s.tsv", "--tissue-column", "t", "--normal", "p=n.tsv"], "--samples splits OMICS=TABLE tables"),
        (["--type", "Stage=ORD", "p=t.tsv"], "--type describe(s) phenotype tables; give --clinical"),
        (["--binary", "rna", "p=t.tsv"], "--binary rna: no table of that omics is given"),
        (["p=t.tsv", "p=u.tsv"], "omics 'p' is given twice"),
        (["--clinical", "c.tsv", "--levels", "Stage"], "--levels 'Stage': write NAME=VALUE"),
        (["--survival", "s.tsv", "--endpoint", "OS=time"], "--endpoint 'OS=time': write NAME=TIME_COLUMN,EVENT_COLUMN"),
        (["phenotypes=t.tsv"], "invalid omics name 'phenotypes'"),
    ],
)
def test_ingest__bad_option_combinations(tmp_path, capsys, args, message):
    assert main(["ingest", str(tmp_path / "store"), "OV", *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "store").exists()


def test_ingest__phenotype_errors_are_messages(tmp_path, capsys):
    _cli_tables(tmp_path)
    store = str(tmp_path / "store")
    assert main(["ingest", store, "OV", "--clinical", str(tmp_path / "clinical.tsv"), "--type", "Stage=ORD",
                 "--levels", "Stage=Stage I,Stage II"]) == 2
    err = capsys.readouterr().err
    assert "label 'pTX' is not among the levels declared for 'Stage'" in err and "--unknown 'Stage=pTX'" in err
    assert main(["ingest", store, "OV", "--clinical", str(tmp_path / "clinical.tsv"), "--type", "stage=ORD"]) == 2
    assert "did you mean 'Stage'?" in capsys.readouterr().err


def test_submit__bad_job_file_is_a_message(tmp_path, capsys):
    job = tmp_path / "job.toml"
    job.write_text('store = "s"\nresults = "r"\nomics = "proteome"\n[scan]\ntilesize = 3\n')
    assert main(["submit", str(job)]) == 2
    assert "unknown key scan.tilesize" in capsys.readouterr().err


def test_query__a_folder_of_scans_by_kind(demo, capsys):
    root, _ = demo
    assert main(["query", "MKI67", "--results", str(root / "results"), "--format", "tsv"]) == 0
    rows = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t")
    assert set(rows.kind) == {"trans", "tumor_normal", "phenotype", "cis"}  # --top counts the whole answer
    assert main(["query", "MKI67", "--results", str(root / "results"), "--kind", "phenotype",
                 "--phenotype", "stage", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["partner"] for r in records] == ["stage"] and records[0]["test"] == "jt"
    assert main(["query", "MKI67", "--results", str(root / "results"), "--kind", "gwas"]) == 2
    assert "holds no 'gwas' scan" in capsys.readouterr().err


def test_status__a_finished_job(demo, capsys):
    root, _ = demo
    assert main(["status", str(root / "jobs" / "trans.toml")]) == 0
    out = capsys.readouterr().out
    assert "trans: complete" in out and "tiles: 6 of 6 done (100.0%), 0 left" in out and "failures: none" in out


def test_query__top_counts_the_whole_answer_and_pairs_show_once(demo, capsys):
    root, _ = demo
    assert main(["query", "MKI67", "--results", str(root / "results"), "--top", "4", "--format", "tsv"]) == 0
    rows = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t")
    assert len(rows) == 4 and np.all(np.diff(rows.meta_slogp.abs()) <= 0)  # over every scan, strongest first
    # cis: MKI67's RNA and its protein are both "MKI67": their one association once, not mirrored
    assert main(["query", "MKI67", "--results", str(root / "results" / "cis"), "--format", "tsv"]) == 0
    cis = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t")
    pairs = {frozenset({f"{r.omics}:{r.feature}", f"{r.partner_omics}:{r.partner}"}) for r in cis.itertuples()}
    assert len(pairs) == len(cis) and frozenset({"rna:MKI67", "proteome:MKI67"}) in pairs


def test_query__sort_by_a_cohort_and_show(demo, capsys):
    root, _ = demo
    trans = str(root / "results" / "trans")
    assert main(["query", "MKI67", "--results", trans, "--sort", "gbm", "--format", "tsv"]) == 0
    rows = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t")
    gbm = rows.GBM_slogp.abs().to_numpy()
    have = ~np.isnan(gbm)
    assert have[: have.sum()].all() and np.all(np.diff(gbm[have]) <= 0)  # by GBM, rows without GBM last
    assert {"BRCA_slogp", "OV_slogp", "meta_slogp"} <= set(rows.columns)  # every cohort kept
    assert main(["query", "MKI67", "--results", trans, "--top", "2", "--show", "p"]) == 0
    header, first, *_ = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["partner", "meta", "BRCA"]
    cells = dict(zip(header.split(), first.split()))
    brca = rows.set_index("partner").loc[cells["partner"], "BRCA_slogp"]
    want = np.sign(brca) * 10.0 ** -abs(brca)
    assert float(cells["BRCA"]) == pytest.approx(want, rel=0.05)  # 2 significant digits
    assert main(["query", "MKI67", "--results", trans, "--sort", "XX"]) == 2
    assert "sort = 'XX': sort by meta or a cohort of the scan" in capsys.readouterr().err
