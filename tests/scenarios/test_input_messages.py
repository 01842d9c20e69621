"""Messages of `linkscan ingest` that must point to the right place and the right fix.

Each input is run as a user meets it, through `linkscan ingest` (linkscan.jobs.cli.main):
exit status 2, one `linkscan: error: ...` line, no traceback, and the words that say
where (file, line, column or character) and what to do; a few inputs that used to be
refused or misread are accepted instead (survival events written as words).
"""

from __future__ import annotations

import errno
import gzip
import os
from pathlib import Path

import pytest

from linkscan.jobs.cli import main
from linkscan.storage.inputs import cohort_store
from linkscan.storage.inputs.cohort_store import CohortStore

SAMPLES = [f"S{k:02d}" for k in range(12)]


@pytest.fixture(autouse=True)
def _here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def refused(capsys, argv: list[str], *fragments: str) -> str:
    """Run ``linkscan ingest ARGV``: exit 2, one error line holding ``fragments`` in order."""
    capsys.readouterr()
    code = main(["ingest", *argv])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("linkscan: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    at = 0
    for fragment in fragments:
        found = err.find(fragment, at)
        assert found >= 0, f"{fragment!r} not in (the rest of) {err!r}"
        at = found + len(fragment)
    return err


def omics_table(path: Path, rows: int = 6, cell=lambda i, j: f"{(i * 7 + j) % 11 - 5}.25") -> Path:
    """A features x SAMPLES table, feature ids G0, G1, ... (line i + 2 is feature Gi)."""
    lines = ["id\t" + "\t".join(SAMPLES)] + [f"G{i}\t" + "\t".join(cell(i, j) for j in range(12)) for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows_table(path: Path, header: list[str], rows: list[list]) -> Path:
    path.write_text("\n".join("\t".join(map(str, r)) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


# -------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("suffix", [".tsv", ".tsv.gz"])
def test_not_utf8__names_the_real_line_and_character(capsys, suffix):
    """A Latin-1 byte on line 4001 of a large table (far beyond the first decoded block):
    its line and character are named, not a line near the last block read and an offset
    within that block."""
    text = omics_table(Path("plain.tsv"), rows=5000).read_bytes()
    at = text.index(b"\nG3999\t") + len(b"\nG3999\t4.")  # line 4001: "G3999<TAB>4.25", its 9th character
    data = text[:at] + b"\xe9" + text[at + 1:]
    path = Path("bad" + suffix)
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    refused(capsys, ["store", "OV", f"proteome={path}"],
            f"{path}: line 4001 is not UTF-8 text: byte 0xE9 at character 9", "save the file as UTF-8")


def test_not_utf8__clinical_table(capsys):
    Path("clinical.tsv").write_bytes(b"sample\tsite\nS00\tNA\nS01\tM\xfcnster\n")
    refused(capsys, ["store", "OV", "--clinical", "clinical.tsv", "--type", "site=CAT"],
            "clinical.tsv: line 3 is not UTF-8 text: byte 0xFC at character 6", "save the file as UTF-8")


def test_field_longer_than_the_limit__names_its_line_and_the_likely_cause(capsys):
    """A quote opening a cell on line 5 that is never closed: the csv reader reads the
    rest of the file into that cell until it passes its field size limit."""
    lines = ["id\t" + "\t".join(SAMPLES)] + [f"G{i}\t" + "\t".join(["1.5"] * 12) for i in range(3)]
    lines.append('G3\t"1.5\t' + "\t".join(["1.5"] * 11))
    lines += [f"G{i}\t" + "\t".join(["1.25"] * 12) for i in range(4, 4000)]
    Path("quoted.tsv").write_text("\n".join(lines) + "\n")
    refused(capsys, ["store", "OV", "proteome=quoted.tsv"],
            "quoted.tsv: line 5 starts a field longer than the limit of 131072 characters",
            'a quote (") that opens the field and is never closed', "line 5")


# ----------------------------------------------------------------- not a regular file


def test_folder_given_as_a_table(capsys):
    Path("tables").mkdir()
    refused(capsys, ["store", "OV", "proteome=tables"], "tables: is a folder, not a file", "give the table's file")
    refused(capsys, ["store", "OV", "--clinical", "tables"], "tables: is a folder, not a file")


def test_fifo_given_as_a_table(capsys):
    os.mkfifo("pipe.tsv")
    refused(capsys, ["store", "OV", "proteome=pipe.tsv"], "pipe.tsv: is not a regular file (a named pipe)",
            "save the table to a file")
    refused(capsys, ["store", "OV", "--survival", "pipe.tsv"], "pipe.tsv: is not a regular file (a named pipe)")


# ---------------------------------------------------------------------- numbers and ids


@pytest.mark.parametrize("text", ["1_000", "\u0663", "\uff11.5"])  # a digit separator, Arabic-Indic 3, fullwidth 1
def test_number_that_only_python_reads__omics_cell(capsys, text):
    omics_table(Path("t.tsv"), cell=lambda i, j: text if (i, j) == (1, 2) else "1.5")
    refused(capsys, ["store", "OV", "proteome=t.tsv"],
            f"t.tsv: line 3, column 4 (sample 'S02'), feature 'G1': cannot read {text!r} as a number",
            "plain ASCII digits")


def test_number_that_only_python_reads__clinical_con_and_survival_time(capsys):
    rows_table(Path("clinical.tsv"), ["sample", "age"],
               [[s, "\u0664\u0665" if k == 3 else 40] for k, s in enumerate(SAMPLES)])
    refused(capsys, ["store", "OV", "--clinical", "clinical.tsv", "--type", "age=CON"],
            "clinical.tsv: line 5, column 2 ('age'), sample 'S03': cannot read '\u0664\u0665' as a number",
            "plain ASCII digits")
    rows_table(Path("survival.tsv"), ["sample", "OS_days", "OS_event"],
               [[s, "1_200" if k == 2 else 100, 1] for k, s in enumerate(SAMPLES)])
    refused(capsys, ["store", "OV", "--survival", "survival.tsv"],
            "survival.tsv: line 4, column 2 ('OS_days'), sample 'S02': survival time '1_200'", "plain ASCII digits")
    assert not Path("store").exists()  # nothing written


def test_nul_in_a_feature_or_sample_id(capsys):
    omics_table(Path("t.tsv"))
    text = Path("t.tsv").read_text()
    Path("feature.tsv").write_text(text.replace("\nG2\t", "\nG\x002\t"))
    refused(capsys, ["store", "OV", "proteome=feature.tsv"],
            "feature.tsv: line 4, column 1: the feature id 'G\\x002' holds a NUL character")
    Path("sample.tsv").write_text(text.replace("\tS03\t", "\tS\x0003\t"))
    refused(capsys, ["store", "OV", "proteome=sample.tsv"],
            "sample.tsv: line 1, column 5: the sample id 'S\\x0003' holds a NUL character")
    rows_table(Path("clinical.tsv"), ["sample", "age"],
               [[s if k != 4 else "S\x0004", 40] for k, s in enumerate(SAMPLES)])
    refused(capsys, ["store", "OV", "--clinical", "clinical.tsv", "--type", "age=CON"],
            "clinical.tsv: line 6, column 1: 'S\\x0004' holds a NUL character")
    assert not Path("store").exists()  # nothing written


# --------------------------------------------------------------------- survival events


def test_survival_events_as_words_are_read_as_1_and_0(capsys):
    words = ["TRUE", "false", "Yes", "no", "DEAD", "alive", "Deceased", "living", "1", "0", "NA", "True"]
    rows_table(Path("survival.tsv"), ["sample", "OS_days", "OS_event"],
               [[s, 100 + k, words[k]] for k, s in enumerate(SAMPLES)])
    assert main(["ingest", "store", "OV", "--survival", "survival.tsv"]) == 0
    os_ = CohortStore("store").phenotypes("OV")["OS"].align(SAMPLES)
    assert os_.event.tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, -1, 1]


def test_survival_event_label_not_known_suggests_the_recoding(capsys):
    labels = ["Censored", "Died"]
    rows_table(Path("survival.tsv"), ["sample", "OS_days", "OS_event"],
               [[s, 100 + k, labels[k % 2]] for k, s in enumerate(SAMPLES)])
    err = refused(capsys, ["store", "OV", "--survival", "survival.tsv"],
                  "survival.tsv: line 2, column 3 ('OS_event'), sample 'S00': event 'Censored' is not an event code",
                  "1 (event) or 0 (censored)", "TRUE/FALSE, yes/no, dead/alive, deceased/living",
                  "'Censored', 'Died'", "recode")
    assert "--unknown" not in err.split("recode")[0]


# -------------------------------------------------------------------------- names


@pytest.mark.parametrize("which", ["cohort", "omics"])
def test_over_long_cohort_or_omics_name(capsys, which):
    omics_table(Path("t.tsv"))
    long = "X" * 300
    argv = ["store", long, "proteome=t.tsv"] if which == "cohort" else ["store", "OV", f"{long}=t.tsv"]
    refused(capsys, argv, f"invalid {which} name '{'X' * 20}...' (300 characters): at most 100 characters")
    assert not Path("store").exists()  # nothing written


# ------------------------------------------------------------------ what was written


def test_failed_normal_write_after_the_tumor_write_says_what_was_written(capsys, monkeypatch):
    """A table of both tissues: the tumor Dataset is written, then the disk is full while
    the normal one is written. The message says that the tumor Dataset was written."""
    omics_table(Path("both.tsv"))
    rows_table(Path("samples.tsv"), ["sample", "tissue"],
               [[s, "Normal" if k >= 8 else "Tumor"] for k, s in enumerate(SAMPLES)])
    real_write = cohort_store._write_zarr

    def full_disk(ds, path, encoding):
        if ".normal.zarr" in path.url:
            raise OSError(errno.ENOSPC, "No space left on device", path.url)
        real_write(ds, path, encoding)

    monkeypatch.setattr(cohort_store, "_write_zarr", full_disk)
    refused(capsys, ["store", "OV", "proteome=both.tsv", "--samples", "samples.tsv", "--tissue-column", "tissue",
                     "--min-samples", "4"],
            "cannot write cohort 'OV', omics 'proteome', tissue 'normal' to store/OV/proteome.normal.zarr: "
            "no space left on the device",
            "the tumor Dataset store/OV/proteome.zarr of this table was written, but not this one (none is stored)",
            "free space")
    store = CohortStore("store")
    assert store.tissues("OV", "proteome") == ["tumor"]
    assert store.open("OV", "proteome")["sample"].values.tolist() == SAMPLES[:8]
    assert store.open("OV", "proteome")["values"].shape == (6, 8)
