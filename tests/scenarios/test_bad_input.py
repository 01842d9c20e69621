"""Bad input, nothing lost: every malformed input is run as a user meets it, through
`linkscan ...` (linkscan.jobs.cli.main). Each one gets exit code 2 and one `linkscan: error: ...`
line that names the file / line / column / key and says the fix, never a traceback; and
the cohort store that existed before still opens and reads the same values afterwards,
without leftovers. A few inputs that look bad are stated behaviours instead (all-missing
and constant rows, odd ids, unshared sample ids): they are ingested, as the README says.

Writes that fail (a full disk, a folder without write permission) are simulated: a
monkeypatched zarr / Parquet write raises OSError(ENOSPC) midway; a folder chmod'ed
0o500 is used as it is when that stops this user's writes, and simulated otherwise (root,
as in CI, writes anyway).
"""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from linkscan.jobs.cli import main
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.errors import InputError

SAMPLES = [f"S{k:02d}" for k in range(12)]
FEATURES = [f"G{k}" for k in range(6)]
STAGES = ["Stage I", "Stage II", "Stage III"]


# ------------------------------------------------------------------------- helpers


def write_table(path: Path, ids=FEATURES, samples=SAMPLES, values=None, sep="\t", seed=0) -> Path:
    """A features x samples text table (gzip when the name ends in .gz)."""
    if values is None:
        values = np.random.default_rng(seed).normal(size=(len(ids), len(samples))).round(4)
    lines = [sep.join(["id", *samples])]
    lines += [sep.join([str(i), *("NA" if isinstance(v, float) and np.isnan(v) else str(v) for v in row)])
              for i, row in zip(ids, values)]
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def write_rows(path: Path, header: list[str], rows: list[list]) -> Path:
    path.write_text("\n".join("\t".join(map(str, r)) for r in [header, *rows]) + "\n")
    return path


def values_of(ds) -> np.ndarray:
    """The lazy ``values`` of a stored Dataset, read here (not by whatever dask scheduler
    an earlier test left configured)."""
    return ds["values"].compute(scheduler="synchronous").values


def snapshot(store: Path) -> dict:
    """Everything the cohort store holds, as plain values (to compare before and after)."""
    cs = CohortStore(store)
    out = {}
    for cohort in cs.cohorts():
        for omics in cs.omics(cohort):
            for tissue in cs.tissues(cohort, omics):
                try:
                    ds = cs.open(cohort, omics, tissue)
                except InputError as exc:  # damaged on purpose by a case: it stays so
                    out[(cohort, omics, tissue)] = str(exc)
                    continue
                out[(cohort, omics, tissue)] = (
                    ds["feature"].values.tolist(), ds["sample"].values.tolist(), ds["gene"].values.tolist(),
                    values_of(ds).tobytes(), ds.attrs["ingested_at"],
                )
        if cs.has_phenotypes(cohort):
            for name, p in cs.phenotypes(cohort).items():
                arrays = [a.tobytes() for a in (p.values, p.codes, p.time, p.event) if a is not None]
                out[(cohort, "phenotype", name)] = (p.type, p.levels, p.samples.tolist(), arrays)
    return out


def leftovers(store: Path) -> list[str]:
    """Hidden temporary names (of a write that did not finish) anywhere in the store."""
    return sorted(str(p.relative_to(store)) for p in store.rglob(".*"))


@dataclass
class World:
    """One test's folder: `store` (a copy of the base store: OV with a proteome and
    phenotypes), `inputs` for the tables, the monkeypatch fixture."""

    root: Path
    store: Path
    inputs: Path
    monkeypatch: pytest.MonkeyPatch
    written: list[str] | None = None  # files a simulated full disk let through

    def job(self, text: str, name: str = "job.toml", *, store: str = "store", results: str = "results") -> Path:
        path = self.root / name
        path.write_text(f'store = "{store}"\nresults = "{results}"\n{text}')
        return path


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> Path:
    """A cohort store made by `linkscan ingest`: OV proteome (tumor) and phenotypes."""
    root = tmp_path_factory.mktemp("base")
    table = write_table(root / "proteome.tsv")
    clinical = write_rows(root / "clinical.tsv", ["sample", "stage", "age"],
                          [[s, STAGES[k % 3], 40 + k] for k, s in enumerate(SAMPLES)])
    survival = write_rows(root / "survival.tsv", ["sample", "OS_days", "OS_event"],
                          [[s, 100 + 10 * k, k % 2] for k, s in enumerate(SAMPLES)])
    code = main(["ingest", str(root / "store"), "OV", f"proteome={table}", "--clinical", str(clinical),
                 "--type", "stage=ORD", "--type", "age=CON", "--levels", "stage=" + ",".join(STAGES),
                 "--survival", str(survival)])
    assert code == 0
    return root / "store"


@pytest.fixture
def world(tmp_path, base_store, monkeypatch, capsys) -> World:
    shutil.copytree(base_store, tmp_path / "store")
    (tmp_path / "inputs").mkdir()
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    return World(tmp_path, tmp_path / "store", tmp_path / "inputs", monkeypatch)


def read_only(world: World, folder: Path) -> None:
    """Make ``folder`` refuse new entries: chmod 0o500 when that stops this user's writes;
    else (root writes anyway) simulate it: os.mkdir and opening files for writing inside
    ``folder`` raise PermissionError, as the kernel would."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    probe = folder / ".probe"
    try:
        probe.mkdir()
    except PermissionError:
        return  # the real thing
    probe.rmdir()
    folder.chmod(0o755)
    inside = os.path.realpath(folder) + os.sep

    def refused(path) -> bool:
        return os.path.realpath(os.fspath(path)).startswith(inside)

    real_mkdir, real_open = os.mkdir, os.open

    def mkdir(path, mode=0o777, *, dir_fd=None):
        if refused(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_mkdir(path, mode, dir_fd=dir_fd) if dir_fd is not None else real_mkdir(path, mode)

    def open_(path, flags, mode=0o777, *, dir_fd=None):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and refused(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, flags, mode, dir_fd=dir_fd) if dir_fd is not None else real_open(path, flags, mode)

    world.monkeypatch.setattr(os, "mkdir", mkdir)
    world.monkeypatch.setattr(os, "open", open_)


def disk_full_after(world: World, n_writes: int) -> list[str]:
    """Zarr's local store writes ``n_writes`` files, then the disk is full: every later
    write raises OSError(ENOSPC) naming its file. Returns the files written."""
    import zarr.storage._local as local

    written: list[str] = []
    real_put = local._put

    def put(path, value, exclusive=False):
        if len(written) >= n_writes:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written.append(str(path))
        return real_put(path, value, exclusive=exclusive)

    world.monkeypatch.setattr(local, "_put", put)
    world.written = written
    return written


def parquet_disk_full(world: World) -> None:
    """Writing a Parquet result file fills the disk: part of it lands under the
    temporary name, then OSError ENOSPC naming that file."""
    import builtins

    from linkscan.storage import location

    class Full:
        def __init__(self, path):
            self.path, self.fh = path, builtins.open(path, "wb")

        def write(self, data):
            self.fh.write(bytes(data[:100]))  # a torn file under the temporary name
            raise OSError(errno.ENOSPC, "No space left on device", self.path)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def open_(path, mode="r", *args, **kwargs):
        if "w" in mode and ".parquet." in os.path.basename(path):
            return Full(path)
        return builtins.open(path, mode, *args, **kwargs)

    world.monkeypatch.setattr(location, "open", open_, raising=False)


# --------------------------------------------------------------------------- cases
#
# Each case prepares its inputs in `world` and returns the argv of one linkscan command.
# The command must exit with 2, print `linkscan: error: ...` naming the place and the
# fix (the listed fragments, in that order), and leave the cohort store as it was.


def truncated_gzip(w: World):
    path = write_table(w.inputs / "proteome.tsv.gz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return ["ingest", "store", "OV", f"proteome={path}"], [
        "proteome.tsv.gz: the gzip data is truncated or corrupt after line", "gzip -t"]


def gzip_named_tsv(w: World):
    path = w.inputs / "proteome.tsv"
    path.write_bytes(gzip.compress(write_table(w.inputs / "plain.tsv").read_bytes()))
    return ["ingest", "store", "OV", f"proteome={path}"], [
        "proteome.tsv: line 1 is not UTF-8 text", "is it compressed? then name it *.gz"]


def comma_table_named_tsv(w: World):
    path = write_table(w.inputs / "proteome.tsv", sep=",")
    return ["ingest", "store", "OV", f"proteome={path}"], [
        "proteome.tsv: line 1 (the header) is one single column but holds 12 comma(s)",
        "looks comma-separated while its name says tab-separated", "rename it to .csv"]


def tab_table_named_csv(w: World):
    path = write_table(w.inputs / "proteome.csv", sep="\t")
    return ["ingest", "store", "OV", f"proteome={path}"], [
        "proteome.csv: line 1", "looks tab-separated while its name says comma-separated", "rename it to .tsv"]


def duplicate_feature_ids(w: World):
    path = write_table(w.inputs / "proteome.tsv", ids=["G0", "G1", "G2", "G3", "G2", "G5"])
    return ["ingest", "store", "OV", f"proteome={path}"], [
        "proteome.tsv: feature id 'G2' appears on line 4 and line 6", "merge or rename the rows"]


def duplicate_sample_ids(w: World):
    path = write_table(w.inputs / "proteome.tsv", samples=SAMPLES[:11] + ["S03"])
    return ["ingest", "store", "OV", f"proteome={path}"], [
        "proteome.tsv: line 1: sample id 'S03' appears in column 5 and column 13", "rename or merge the columns"]


def non_numeric_cell(w: World):
    values = np.random.default_rng(1).normal(size=(6, 12)).astype(object)
    values[2, 3] = "n/a"
    values[4, 0] = "1,5"
    path = write_table(w.inputs / "proteome.tsv", values=values)
    return ["ingest", "store", "OV", f"proteome={path}"], [
        "proteome.tsv: line 4, column 5 (sample 'S03'), feature 'G2': cannot read 'n/a' as a number",
        "(and 1 more non-numeric cells)", "write a number, or leave the cell empty or NA"]


def ragged_row(w: World):
    path = write_table(w.inputs / "proteome.tsv")
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit("\t", 1)[0]
    path.write_text("\n".join(lines) + "\n")
    return ["ingest", "store", "OV", f"proteome={path}"], [
        "proteome.tsv: line 3 has 12 fields but the header (line 1) has 13", "empty or NA for missing"]


def empty_file(w: World):
    (w.inputs / "proteome.tsv").write_text("")
    return ["ingest", "store", "OV", f"proteome={w.inputs / 'proteome.tsv'}"], [
        "proteome.tsv: the file is empty", "write a header row of sample ids and one row per feature"]


def header_only(w: World):
    (w.inputs / "proteome.tsv").write_text("id\t" + "\t".join(SAMPLES) + "\n")
    return ["ingest", "store", "OV", f"proteome={w.inputs / 'proteome.tsv'}"], [
        "proteome.tsv: the table has no features (no data rows after the header on line 1)", "add one row per feature"]


def missing_table(w: World):
    return ["ingest", "store", "OV", "proteome=inputs/nope.tsv"], [
        "inputs/nope.tsv: no such file", "check the path"]


def three_samples(w: World):
    path = write_table(w.inputs / "proteome.tsv", samples=SAMPLES[:3])
    return ["ingest", "store", "OV", f"proteome={path}"], [
        "proteome.tsv: the table has 3 sample column(s), fewer than min_samples=10", "--min-samples"]


def binary_table_with_a_2(w: World):
    values = (np.arange(72).reshape(6, 12) % 3 == 0).astype(int).astype(object)
    values[1, 5] = 2
    path = write_table(w.inputs / "OV.cbt", values=values)
    return ["ingest", "store", "OV", f"mutation={path}"], [
        "OV.cbt: line 3, column 7 (sample 'S05'), feature 'G1': value '2' is not 0 or 1",
        "holds 1 (mutated), 0 (not mutated) or NA", "fix the cell"]


def clinical_tsi_bad_type_row(w: World):
    path = write_rows(w.inputs / "OV_CLI.tsi", ["case_id", "age", "stage"],
                      [["CAT", "CON", "ORDINAL"]] + [[s, 40 + k, STAGES[k % 3]] for k, s in enumerate(SAMPLES)])
    return ["ingest", "store", "OV", "--clinical", str(path)], [
        "OV_CLI.tsi: line 2, column 3 ('stage'): 'ORDINAL' is not a type",
        "CON (continuous), BIN (binary), ORD (ordinal), CAT (categorical)", "Fix that cell"]


def clinical_con_not_a_number(w: World):
    path = write_rows(w.inputs / "clinical.tsv", ["sample", "age"],
                      [[s, "unknown" if k == 4 else 40 + k] for k, s in enumerate(SAMPLES)])
    return ["ingest", "store", "OV", "--clinical", str(path), "--type", "age=CON"], [
        "clinical.tsv: line 6, column 2 ('age'), sample 'S04': cannot read 'unknown' as a number",
        "--unknown 'age=unknown'"]


def clinical_type_for_a_misspelled_column(w: World):
    path = write_rows(w.inputs / "clinical.tsv", ["sample", "Tumor.Stage"],
                      [[s, STAGES[k % 3]] for k, s in enumerate(SAMPLES)])
    return ["ingest", "store", "OV", "--clinical", str(path), "--type", "Tumor_Stage=ORD"], [
        "a type given for column 'Tumor_Stage', which no clinical table has (did you mean 'Tumor.Stage'?)",
        "check the spelling"]


def survival_negative_time(w: World):
    path = write_rows(w.inputs / "survival.tsv", ["sample", "OS_days", "OS_event"],
                      [[s, -5 if k == 3 else 100 + k, 1] for k, s in enumerate(SAMPLES)])
    return ["ingest", "store", "OV", "--survival", str(path)], [
        "survival.tsv: line 5, column 2 ('OS_days'), sample 'S03': survival time '-5': a time cannot be negative",
        "write the time (>= 0) or NA"]


def survival_event_not_0_or_1(w: World):
    path = write_rows(w.inputs / "survival.tsv", ["sample", "OS_days", "OS_event"],
                      [[s, 100 + k, "Died" if k == 7 else 1] for k, s in enumerate(SAMPLES)])
    return ["ingest", "store", "OV", "--survival", str(path)], [
        "survival.tsv: line 9, column 3 ('OS_event'), sample 'S07': event 'Died' is not an event code",
        "1 (event) or 0 (censored)", "recode them to 1 (the event, e.g. death) and 0 (censored"]


def survival_time_without_event(w: World):
    path = write_rows(w.inputs / "survival.tsv", ["sample", "OS_days", "PFS_days", "PFS_event"],
                      [[s, 100, 50, 0] for s in SAMPLES])
    return ["ingest", "store", "OV", "--survival", str(path)], [
        "survival.tsv: column 'OS_days' has no event column 'OS_event' beside it", "add the missing column"]


def unknown_level_label(w: World):
    path = write_rows(w.inputs / "clinical.tsv", ["sample", "stage"],
                      [[s, "Stage 5" if k == 2 else STAGES[k % 3]] for k, s in enumerate(SAMPLES)])
    return ["ingest", "store", "OV", "--clinical", str(path), "--type", "stage=ORD",
            "--levels", "stage=Stage I,Stage II,Stage III"], [
        "clinical.tsv: line 4, column 2 ('stage'), sample 'S02': label 'Stage 5' is not among the levels declared",
        "add it to the levels (--levels 'stage=...') or declare it missing (--unknown 'stage=Stage 5')"]


def gene_map_duplicate_features(w: World):
    table = write_table(w.inputs / "phospho.tsv", ids=[f"G{k}-S{k}" for k in range(6)])
    gene_map = write_rows(w.inputs / "sites.tsv", ["site", "gene"],
                          [["G0-S0", "G0"], ["G1-S1", "G1"], ["G0-S0", "TP53"]])
    return ["ingest", "store", "OV", f"phospho={table}", "--gene-map", f"phospho={gene_map}"], [
        "sites.tsv: feature id 'G0-S0' appears on line 2 and line 4", "keep one of the rows"]


def cohort_name_with_path_separators(w: World):
    table = write_table(w.inputs / "proteome.tsv")
    return ["ingest", "store", "../evil", f"proteome={table}"], [
        "invalid cohort name '../evil'", "no path separators", "e.g. 'COAD'"]


def cohort_name_dot_dot(w: World):
    table = write_table(w.inputs / "proteome.tsv")
    return ["ingest", "store", "..", f"proteome={table}"], ["invalid cohort name '..'", "not starting with '.'"]


def omics_name_with_slash(w: World):
    table = write_table(w.inputs / "proteome.tsv")
    return ["ingest", "store", "OV", f"phospho/site={table}"], [
        "invalid omics name 'phospho/site'", "no path separators"]


def job_misspelled_key(w: World):
    return ["submit", str(w.job('omic = "proteome"\n'))], [
        "job.toml: unknown key 'omic'; valid keys are", "(did you mean omics"]


def job_key_in_the_wrong_section(w: World):
    return ["submit", str(w.job('omics = "proteome"\n[scan]\nmin_n = 5\n'))], [
        "job.toml: unknown key scan.min_n", "min_n belongs under [statistics], move it there"]


def job_wrong_type(w: World):
    return ["submit", str(w.job('omics = "proteome"\n[scan]\ntile_size = "64"\n'))], [
        "job.toml: scan.tile_size = '64' must be an integer (no quotes), e.g. tile_size = 500"]


def job_section_as_a_value(w: World):
    return ["submit", str(w.job('omics = "proteome"\nstatistics = 5\n'))], [
        "job.toml: statistics = 5: [statistics] is a section; write [statistics] on a line of its own"]


def job_not_toml(w: World):
    return ["submit", str(w.job('omics = proteome\n'))], [
        "job.toml is not valid TOML", "line 3", "text values need quotes"]


def job_file_missing(w: World):
    return ["submit", "nope.toml"], ["job file nope.toml does not exist"]


def job_store_missing(w: World):
    return ["submit", str(w.job('omics = "proteome"\n', store="stor"))], [
        "job.toml: store = ", "stor: there is no cohort store there",
        "fix `store`, or make the store first with linkscan ingest"]


def job_results_is_a_file(w: World):
    (w.root / "results.txt").write_text("my notes\n")
    return ["submit", str(w.job('omics = "proteome"\n', results="results.txt")), "--workers", "1"], [
        "results.txt is a file, not a results directory", "new or empty directory"]


def job_cohort_not_in_store(w: World):
    return ["submit", str(w.job('omics = "proteome"\ncohorts = ["BRCA"]\n')), "--workers", "1"], [
        "cohorts BRCA have no 'proteome' data in the store", "ingest them first or remove them from `cohorts`"]


def cis_scan_of_omics_without_shared_samples(w: World):
    # RNA keyed by aliquot ids, the proteome by sample ids: ingest stores it (with a note,
    # see test_stated_behaviours) and the scan that pairs them refuses, before any cluster.
    rna = write_table(w.inputs / "rna.tsv", samples=[f"ALQ-{k}" for k in range(12)])
    assert main(["ingest", "store", "OV", f"rna={rna}"]) == 0
    return ["submit", str(w.job('kind = "cis"\nomics = "rna"\nomics_y = "proteome"\n')), "--workers", "1"], [
        "cohort OV: no sample id of 'rna' is a sample of 'proteome'", "samples are matched by id across omics"]


def damaged_store_dataset(w: World):
    """A store copied by hand that did not finish: the proteome's zarr.json is cut short."""
    meta = w.store / "OV" / "proteome.zarr" / "zarr.json"
    meta.write_text(meta.read_text()[:50])
    return ["submit", str(w.job('omics = "proteome"\n')), "--workers", "1"], [
        "store/OV/proteome.zarr: the stored Dataset of cohort 'OV', omics 'proteome' cannot be read",
        "it is damaged", "ingest that table again with linkscan ingest"]


def ingest_disk_full_midway(w: World):
    """Re-ingesting OV/proteome: zarr writes 3 files of the new version, then ENOSPC."""
    table = write_table(w.inputs / "proteome.tsv", seed=7)
    disk_full_after(w, 3)
    return ["ingest", "store", "OV", f"proteome={table}"], [
        "cannot write cohort 'OV', omics 'proteome' to", "store/OV/proteome.zarr: no space left on the device",
        "errno ENOSPC", "the previous version is unchanged", "free space on the disk that holds store/OV"]


def phenotypes_disk_full_midway(w: World):
    clinical = write_rows(w.inputs / "clinical.tsv", ["sample", "grade"],
                          [[s, "G1" if k % 2 else "G2"] for k, s in enumerate(SAMPLES)])
    disk_full_after(w, 2)
    return ["ingest", "store", "OV", "--clinical", str(clinical), "--type", "grade=CAT"], [
        "cannot write cohort 'OV', phenotypes to", "OV/phenotypes.zarr: no space left on the device",
        "the previous version is unchanged"]


def new_cohort_in_a_read_only_store(w: World):
    table = write_table(w.inputs / "proteome.tsv")
    read_only(w, w.store)
    return ["ingest", "store", "LUAD", f"proteome={table}"], [
        "cannot write cohort 'LUAD', omics 'proteome' to", "store/LUAD/proteome.zarr: permission denied",
        "nothing was written", "writable for this user, or choose another location"]


def results_folder_not_writable(w: World):
    read_only(w, w.root / "results")
    return ["submit", str(w.job('omics = "proteome"\n')), "--workers", "1"], [
        "cannot write the result store to", "results: permission denied", "(errno EACCES)",
        "nothing is left of the new result store", "writable for this user, or choose another location"]


def results_disk_full(w: World):
    parquet_disk_full(w)
    return ["submit", str(w.job('omics = "proteome"\n')), "--workers", "1"], [
        "cannot write a result file to", "results/features.parquet: no space left on the device",
        "nothing is left of the new result store", "free space on the disk that holds"]


CASES: list[Callable[[World], tuple[list[str], list[str]]]] = [
    truncated_gzip, gzip_named_tsv, comma_table_named_tsv, tab_table_named_csv, duplicate_feature_ids,
    duplicate_sample_ids, non_numeric_cell, ragged_row, empty_file, header_only, missing_table, three_samples,
    binary_table_with_a_2, clinical_tsi_bad_type_row, clinical_con_not_a_number,
    clinical_type_for_a_misspelled_column, survival_negative_time, survival_event_not_0_or_1,
    survival_time_without_event, unknown_level_label, gene_map_duplicate_features,
    cohort_name_with_path_separators, cohort_name_dot_dot, omics_name_with_slash, job_misspelled_key,
    job_key_in_the_wrong_section, job_wrong_type, job_section_as_a_value, job_not_toml, job_file_missing,
    job_store_missing, job_results_is_a_file, job_cohort_not_in_store, cis_scan_of_omics_without_shared_samples,
    damaged_store_dataset,
    ingest_disk_full_midway, phenotypes_disk_full_midway, new_cohort_in_a_read_only_store,
    results_folder_not_writable, results_disk_full,
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_bad_input__clear_error_and_nothing_lost(world, capsys, case):
    argv, fragments = case(world)
    before = snapshot(world.store)
    capsys.readouterr()

    code = main(argv)

    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("linkscan: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    at = 0
    for fragment in fragments:  # in this order
        found = err.find(fragment, at)
        assert found >= 0, f"{fragment!r} not in (the rest of) {err!r}"
        at = found + len(fragment)
    if world.written is not None:
        assert world.written, "the simulated full disk should fail the write midway, not at its first file"
    world.monkeypatch.undo()  # real writes again (and a read-only folder writable)
    for folder in (world.store, world.root / "results"):
        if folder.is_dir():
            folder.chmod(0o755)
    assert snapshot(world.store) == before  # the store as it was: same Datasets, same values
    assert leftovers(world.store) == []
    assert not (world.root / "evil").exists() and not (world.root.parent / "evil").exists()


# ------------------------------------------------------------- what a failure leaves


def test_results_disk_full__nothing_half_written_and_a_resubmit_starts_afresh(world, capsys):
    """A full disk while creating a result store leaves no store that reads as one; once
    there is room, the same submission creates it (and would then start the cluster)."""
    from linkscan.errors import LinkscanError
    import linkscan.engine.runner

    job = str(world.job('omics = "proteome"\n'))
    parquet_disk_full(world)
    assert main(["submit", job, "--workers", "1"]) == 2
    assert "no space left on the device" in capsys.readouterr().err
    results = world.root / "results"
    assert not results.exists() or not any(results.iterdir())  # no manifest, no torn features.parquet
    assert main(["query", "G1", "--results", str(results)]) == 2
    assert "not a linkscan result store" in capsys.readouterr().err

    world.monkeypatch.undo()

    class NoCluster(LinkscanError):
        pass

    def no_cluster(*args, **kwargs):
        raise NoCluster("stopped where the cluster would start")

    world.monkeypatch.setattr(linkscan.engine.runner, "open_client", no_cluster)
    assert main(["submit", job, "--workers", "1"]) == 2
    assert "stopped where the cluster would start" in capsys.readouterr().err
    assert (results / "manifest.json").is_file() and (results / "features.parquet").is_file()
    assert not (results / "lock").exists()


def test_results_write_errors__tiles_and_finish_name_the_file(tmp_path, monkeypatch):
    """The writes that run on workers (tile parts, the ledger, BH tables, shards, the
    completion mark) give a WriteError naming the file; earlier tiles stay finished."""
    import pandas as pd

    from linkscan.errors import WriteError
    from linkscan.storage.results.schema import TESTS
    from linkscan.storage.results.store import ResultStore

    features = pd.DataFrame({"code": np.arange(4, dtype=np.int32), "feature": list("abcd"), "gene": list("abcd"),
                             "omics": "proteome"})
    manifest = {"fingerprint": "f", "scan": {}, "cohorts": ["OV"], "n_features": 4, "n_tiles": 2, "n_shards": 1,
                "shard_size": 8}
    rs = ResultStore(str(tmp_path / "res"))
    rs.create_or_resume(manifest, features)
    rows = pd.DataFrame({"feature": np.int32([0]), "partner": np.int32([1]),
                         "test": pd.Categorical(["spearman"], categories=list(TESTS)),
                         "OV_stat": np.float32([0.5]), "OV_n": pd.array([12], dtype="Int16"),
                         "OV_slogp": np.float32([2.0]), "meta_slogp": np.float32([2.0]), "n_cohorts": np.int8([1])})
    rs.write_tile("tile-00000-00000", {0: rows})

    real_open = open

    def full_open(file, mode="r", *args, **kwargs):
        if "w" in mode or "a" in mode:
            raise OSError(errno.ENOSPC, "No space left on device", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_open)
    with pytest.raises(WriteError, match=r"cannot write a result file to .*parts/00000/tile-00000-00001.parquet: "
                                         r"no space left on the device .*tiles finished earlier stay finished"):
        rs.write_tile("tile-00000-00001", {0: rows})
    monkeypatch.undo()
    assert list(rs.ledger()) == ["tile-00000-00000"]
    assert leftovers(Path(rs.root)) == []

    monkeypatch.setattr("builtins.open", full_open)
    with pytest.raises(WriteError, match=r"complete.json: no space left on the device"):
        rs.mark_complete({"rows": 1})
    with pytest.raises(WriteError, match=r"failures.jsonl: no space left on the device"):
        rs.record_failure("tile-00000-00001", "OSError: no space")
    monkeypatch.undo()
    assert not rs.is_complete() and list(rs.ledger()) == ["tile-00000-00000"]


# -------------------------------------------------------------- stated behaviours


def all_missing_rows(w: World):
    values = np.random.default_rng(2).normal(size=(6, 12))
    values[[1, 4]] = np.nan
    path = write_table(w.inputs / "proteome.tsv", values=values)

    def check(out: str, cs: CohortStore):
        assert "OV2/proteome: 6 features x 12 samples, 33.3% missing" in out
        assert "2 features all missing" in out  # kept and counted
        ds = cs.open("OV2", "proteome")
        assert ds["feature"].values.tolist() == FEATURES and ds.attrs["n_all_missing"] == 2
        values = values_of(ds)
        assert np.isnan(values[[1, 4]]).all() and not np.isnan(values[[0, 2, 3, 5]]).any()

    return ["ingest", "store", "OV2", f"proteome={path}"], check


def constant_rows(w: World):
    values = np.random.default_rng(3).normal(size=(6, 12)).round(3)
    values[2] = 1.5
    values[3] = 0.0
    path = write_table(w.inputs / "proteome.tsv", values=values)

    def check(out: str, cs: CohortStore):
        # ingested as they are; a constant vector gives no test result (README, result store)
        assert "OV2/proteome: 6 features x 12 samples, 0.0% missing" in out
        stored = values_of(cs.open("OV2", "proteome"))
        np.testing.assert_array_equal(stored, values.astype(np.float32))

    return ["ingest", "store", "OV2", f"proteome={path}"], check


def ids_that_look_like_paths_or_are_unicode(w: World):
    ids = ["a/b", "../x", "../../outside", "C:\\temp\\y", "ünïcødé", "β-catenin"]
    samples = ["ü/1", "../s2", *SAMPLES[2:]]
    path = write_table(w.inputs / "rna.tsv", ids=ids, samples=samples)
    clinical = write_rows(w.inputs / "clinical.tsv", ["sample", "ER/PR status", "../grade", "Größe"],
                          [[s, "pos" if k % 2 else "neg", "G1", 1.5 + k] for k, s in enumerate(SAMPLES)])

    def check(out: str, cs: CohortStore):
        ds = cs.open("OV2", "rna")
        assert ds["feature"].values.tolist() == sorted(ids) and ds["gene"].values.tolist() == sorted(ids)
        assert ds["sample"].values.tolist() == samples
        phen = cs.phenotypes("OV")
        assert {"ER/PR status", "../grade", "Größe"} <= set(phen)
        assert phen["ER/PR status"].levels == ("neg", "pos") and phen["Größe"].values[1] == 2.5
        # the ids became no file or folder names: the store holds only its own names
        names = {p.name for p in w.store.rglob("*")}
        assert not any(n in names for n in ("a", "b", "x", "outside", "y", "ünïcødé", "grade", "ER"))
        assert not (w.root / "outside").exists() and not (w.root.parent / "outside").exists()
        assert sorted(p.name for p in (w.store / "OV").iterdir()) == ["phenotypes.zarr", "proteome.zarr"]

    return ["ingest", "store", "OV2", f"rna={path}"], check, [
        "ingest", "store", "OV", "--clinical", str(clinical), "--type", "ER/PR status=BIN",
        "--type", "../grade=CAT", "--type", "Größe=CON"]


def rna_sharing_no_sample_with_the_proteome(w: World):
    rna = write_table(w.inputs / "rna.tsv", samples=[f"ALQ-{k}" for k in range(12)])

    def check(out: str, cs: CohortStore):
        # stored (the proteome may be the table to re-ingest), with a note in the summary;
        # the scan that pairs them refuses (cis_scan_of_omics_without_shared_samples)
        assert out.startswith("OV/rna: 6 features x 12 samples")
        assert "note: no sample id is shared with omics 'proteome' of OV (here e.g. 'ALQ-0', there e.g. 'S00')" in out
        assert "note: no sample id is shared with the phenotypes of OV" in out
        assert cs.omics("OV") == ["proteome", "rna"]

    return ["ingest", "store", "OV", f"rna={rna}"], check


BEHAVIOURS = [all_missing_rows, constant_rows, ids_that_look_like_paths_or_are_unicode,
              rna_sharing_no_sample_with_the_proteome]


@pytest.mark.parametrize("case", BEHAVIOURS, ids=[c.__name__ for c in BEHAVIOURS])
def test_stated_behaviours__ingested_and_the_rest_kept(world, capsys, case):
    argv, check, *more = case(world)
    before = snapshot(world.store)
    for command in [argv, *more]:
        assert main(command) == 0, capsys.readouterr().err
    out, err = capsys.readouterr()
    assert err == ""
    check(out, CohortStore(world.store))
    after = snapshot(world.store)
    assert {k: after.get(k) for k in before} == before  # what was there before reads the same
    assert leftovers(world.store) == []
