"""The R reference files of the kernel tests: vectors as R reads and writes them
(comma-separated, ``NA``, ``Inf``), the stored reference tables, and live runs of the
scripts in tests/r (``Rscript SCRIPT IN.tsv OUT.tsv``)."""

import csv
import subprocess
from pathlib import Path

import numpy as np

#: tests/r: the R scripts and the reference tables they made.
R_DIR = Path(__file__).resolve().parent / "r"


def vec(text: str) -> np.ndarray:
    """A vector cell ("1.5,NA,2") as float64, NaN for NA."""
    return np.array([np.nan if v == "NA" else float(v) for v in text.split(",")])


def fmt_vec(v) -> str:
    """A vector cell for R: NA for NaN, Inf/-Inf, every other value round-tripping."""
    out = []
    for a in v:
        if np.isnan(a):
            out.append("NA")
        elif np.isinf(a):
            out.append("Inf" if a > 0 else "-Inf")
        else:
            out.append(repr(float(a)))
    return ",".join(out)


def read_tsv(path: Path) -> list[dict]:
    """Rows of a tab-separated reference table, as dicts of strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def run_r(rscript: str, script: Path, header: list[str], cases: list[list[str]], folder: Path) -> list[dict]:
    """Run ``script`` on ``cases`` (rows of formatted cells under ``header``, the first
    column the case name) and return its output rows, checked to be the same cases in
    the same order."""
    src, out = folder / "in.tsv", folder / "out.tsv"
    with open(src, "w") as fh:
        fh.write("\t".join(header) + "\n")
        for row in cases:
            fh.write("\t".join(row) + "\n")
    subprocess.run([rscript, str(script), str(src), str(out)], check=True, capture_output=True, timeout=120)
    rows = read_tsv(out)
    assert [r[header[0]] for r in rows] == [c[0] for c in cases]
    return rows
