"""linkscan's kernels against their peers, timed in one run on the same generated data.

    .venv/bin/python benchmarks/bench_peers.py [--features 2000] [--samples 150] [--repeats 3]
                                               [--quick] [--no-r]

Four sections, each on one data set shared by every method in it:

1. Spearman, missing values: a CPTAC-shaped synthetic cohort (linkscan.jobs.demo.make_cohort:
   40% of features miss 5-50% of samples) -- linkscan ``spearman_block`` on one thread and on
   two, pandas ``DataFrame.corr(method="spearman")``, scipy ``spearmanr`` per pair and, when
   Rscript is on PATH, R's ``cor.test(method="spearman")`` loop on 2 processes and R's
   ``cor(method="spearman", use="pairwise.complete.obs")``.
2. Spearman, complete data: the same cohort without missing values, same methods.
3. Tumor vs normal Wilcoxon: the cohort's features over 2/3 "tumor" + 1/3 "normal" samples
   (30% of features shifted in tumor) -- linkscan ``wilcoxon_block`` (p and Hodges-Lehmann
   shift), scipy ``mannwhitneyu`` vectorized over features, R ``wilcox.test(conf.int=TRUE)``.
4. Cox: the cohort's features against exponential survival times with about 27% events
   (40 of 150) -- linkscan ``cox_block`` against R's ``coxph`` (survival, Efron ties) loop.

Throughput is unique feature pairs per second (sections 1-2) or features per second (3-4).
linkscan and pandas (and scipy where it is vectorized) are timed over the whole data, median
of ``--repeats`` runs after one warm-up call (a single run when a call takes over 5 s; calls
under 0.3 s are repeated within a run). scipy per pair and R are timed
once over a subsample sized to take several seconds; R times
its own loop (``proc.time()``), so R's start-up and file reading are not counted. linkscan
"1 thread" is one numba thread with numpy's BLAS held at one thread; "2 threads" runs tiles of
the same scan in a 2-thread pool (the kernels release the GIL). The ratio column divides
linkscan's default-mode figure on the same number of cores as the method by the method's
figure. Every section also checks that the methods computed the same numbers.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
import contextlib
import ctypes
import datetime
import importlib.util
import io
import math
import os
from pathlib import Path
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np
import pandas as pd
import scipy
import scipy.stats

from linkscan.kernels.cox import cox_block
from linkscan.kernels.spearman import P_FLOOR, spearman_block
from linkscan.kernels.wilcoxon import wilcoxon_block
from linkscan.jobs.demo import make_cohort

#: Rough per-core rates of the slow methods on the project's 2-core VM (as this harness
#: measured them under some load), used only to size their subsamples to about
#: ``target`` seconds; the figures printed are measured.
EXPECTED_RATE = {
    "cor.test": 2_500,      # pairs/s per R process
    "cor pairwise": 10_000,  # pairs/s
    "spearmanr": 2_000,      # pairs/s
    "wilcox.test": 45,       # features/s (normal-case conf.int runs uniroot)
    "coxph": 400,            # features/s (formula interface and summary)
}

#: A run longer than this is not repeated; a call shorter than MIN_RUN_S is repeated within
#: a run.
LONG_RUN_S = 5.0
MIN_RUN_S = 0.3

#: Agreement tolerances.
TOL_RHO = 1e-9   # |rho difference|
TOL_P = 1e-6     # relative p difference
TOL_HR = 1e-4    # relative hazard ratio difference (R stops at eps = 1e-9 on the loglik)

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
mode <- args[[1]]
ns <- as.integer(args[[2]])
# features x samples file -> samples x features matrix (features are columns)
Xt <- matrix(scan(args[[3]], what = double(), na.strings = "nan", quiet = TRUE), nrow = ns)
out <- args[[4]]
num <- function(v) sprintf("%.17g", v)
if (mode == "cortest") {
  pr <- matrix(scan(args[[5]], what = integer(), quiet = TRUE), ncol = 2, byrow = TRUE)
  np <- nrow(pr)
  rho <- numeric(np)
  p <- numeric(np)
  t0 <- proc.time()[["elapsed"]]
  for (k in seq_len(np)) {
    ct <- suppressWarnings(cor.test(Xt[, pr[k, 1]], Xt[, pr[k, 2]], method = "spearman"))
    rho[k] <- ct$estimate
    p[k] <- ct$p.value
  }
  el <- proc.time()[["elapsed"]] - t0
  writeLines(paste(num(rho), num(p), sep = "\t"), out)
} else if (mode == "corpair") {
  idx <- scan(args[[5]], what = integer(), quiet = TRUE)
  S <- Xt[, idx, drop = FALSE]
  t0 <- proc.time()[["elapsed"]]
  r <- cor(S, method = "spearman", use = "pairwise.complete.obs")
  el <- proc.time()[["elapsed"]] - t0
  writeLines(apply(r, 1, function(row) paste(num(row), collapse = "\t")), out)
} else if (mode == "wilcox") {
  nx <- as.integer(args[[5]])
  idx <- scan(args[[6]], what = integer(), quiet = TRUE)
  p <- rep(NA_real_, length(idx))
  est <- rep(NA_real_, length(idx))
  t0 <- proc.time()[["elapsed"]]
  for (k in seq_along(idx)) {
    v <- Xt[, idx[k]]
    x <- v[1:nx]
    y <- v[(nx + 1):ns]
    x <- x[is.finite(x)]
    y <- y[is.finite(y)]
    if (length(x) >= 20 && length(y) >= 10) {
      wt <- suppressWarnings(wilcox.test(x, y, conf.int = TRUE))
      p[k] <- wt$p.value
      est[k] <- wt$estimate
    }
  }
  el <- proc.time()[["elapsed"]] - t0
  writeLines(paste(num(p), num(est), sep = "\t"), out)
} else if (mode == "cox") {
  suppressPackageStartupMessages(library(survival))
  sv <- matrix(scan(args[[5]], what = double(), quiet = TRUE), ncol = 2, byrow = TRUE)
  time <- sv[, 1]
  event <- sv[, 2]
  idx <- scan(args[[6]], what = integer(), quiet = TRUE)
  passes <- as.integer(args[[7]])
  p <- rep(NA_real_, length(idx))
  coef <- rep(NA_real_, length(idx))
  t0 <- proc.time()[["elapsed"]]
  for (pass in seq_len(passes)) {
    for (k in seq_along(idx)) {
      x <- Xt[, idx[k]]
      fit <- suppressWarnings(coxph(Surv(time, event) ~ x))
      s <- summary(fit)
      p[k] <- s$sctest[["pvalue"]]
      coef[k] <- coef(fit)[[1]]
    }
  }
  el <- proc.time()[["elapsed"]] - t0
  writeLines(paste(num(p), num(coef), sep = "\t"), out)
} else {
  stop("unknown mode ", mode)
}
cat(sprintf("elapsed %.6f\n", el))
"""


# --------------------------------------------------------------------------- helpers


def _timed(fn, repeats: int):
    """(seconds per call, label of what was timed, result of the last call).

    The median over ``repeats`` runs; a call shorter than MIN_RUN_S is repeated within a
    run until the run lasts about that long (timer noise), a run longer than LONG_RUN_S is
    not repeated.
    """
    start = time.perf_counter()
    out = fn()
    first = time.perf_counter() - start
    inner = 1 if first >= MIN_RUN_S else math.ceil(MIN_RUN_S / max(first, 1e-6))
    if first > LONG_RUN_S or repeats <= 1 and inner == 1:
        return first, "1 run", out
    times = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        for _ in range(inner):
            out = fn()
        times.append((time.perf_counter() - start) / inner)
    runs = f"median of {len(times)} runs" if len(times) > 1 else "1 run"
    return statistics.median(times), runs + (f" of {inner} calls" if inner > 1 else ""), out


class _Blas:
    """numpy's OpenBLAS thread count, through the library's own setter (no threadpoolctl)."""

    def __init__(self) -> None:
        self.get = self.set = None
        paths = set()
        with open("/proc/self/maps") as maps:
            for line in maps:
                part = line.split()
                if len(part) >= 6 and "openblas" in part[-1].lower() and ".so" in part[-1]:
                    paths.add(part[-1])
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for prefix in ("scipy_openblas", "openblas"):
                for suffix in ("64_", ""):
                    get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    if get is not None and set_ is not None:
                        self.get, self.set = get, set_
                        self.set.argtypes = [ctypes.c_int]
                        return

    def describe(self) -> str:
        if self.get is None:
            return "numpy BLAS threads not controllable (linkscan's matrix product may use more)"
        return f"numpy OpenBLAS {self.get()} threads (held at 1 while linkscan runs)"

    @contextlib.contextmanager
    def threads(self, n: int):
        if self.get is None:
            yield
            return
        before = self.get()
        self.set(n)
        try:
            yield
        finally:
            self.set(before)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    """Largest relative difference |a - b| / max(|a|, |b|) (0 where both are 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(scale > 0, np.abs(a - b) / scale, 0.0)
    return float(np.max(r))


def _maxabs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) if np.size(a) else 0.0


def _agree(what: str, n: int, checks: list, notes: str = "") -> bool:
    """Print one agreement line; checks are (label, value, tolerance or None)."""
    ok = all(tol is None or (math.isfinite(v) and v <= tol) for _, v, tol in checks)
    parts = ", ".join(f"{label} {v:.1e}" + ("" if tol is None else f" (tol {tol:.0e})")
                      for label, v, tol in checks)
    line = f"- agree, {what} ({n:,} compared): {'yes' if ok else 'NO'} (max {parts})"
    print(line + (f"; {notes}" if notes else ""))
    return ok


class _Table:
    def __init__(self, unit: str, ref1: float, ref2: float | None) -> None:
        self.unit = unit
        self.ref = {1: ref1, 2: ref2}
        self.rows = []

    def add(self, method: str, computes: str, cores: int, measured: str, rate: float,
            ours: bool = False) -> None:
        self.rows.append((method, computes, cores, measured, rate, ours))

    def print(self) -> None:
        print(f"| method | computes | cores | measured on | {self.unit}/s | linkscan / method |")
        print("| --- | --- | ---: | --- | ---: | ---: |")
        for method, computes, cores, measured, rate, ours in self.rows:
            ref = self.ref.get(cores)
            ratio = "-" if ours or ref is None else f"{ref / rate:,.1f}" if ref / rate < 100 \
                else f"{ref / rate:,.0f}"
            print(f"| {method} | {computes} | {cores} | {measured} | {rate:,.0f} | {ratio} |")
        print()


class _R:
    """Runs the R script above; None when Rscript is absent or --no-r."""

    def __init__(self, workdir: Path) -> None:
        self.script = workdir / "peers.R"
        self.script.write_text(R_SCRIPT)
        self.rscript = shutil.which("Rscript")
        out = subprocess.run(
            [self.rscript, "-e",
             'cat(R.version.string, "\\n"); '
             'cat(if (requireNamespace("survival", quietly = TRUE)) '
             'as.character(packageVersion("survival")) else "", "\\n")'],
            capture_output=True, text=True, check=True).stdout.splitlines()
        self.version = out[0].strip()
        self.survival = out[1].strip() if len(out) > 1 else ""

    def start(self, *args) -> subprocess.Popen:
        return subprocess.Popen([self.rscript, "--vanilla", str(self.script), *map(str, args)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @staticmethod
    def finish(proc: subprocess.Popen) -> float:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"Rscript failed ({proc.returncode}):\n{err}")
        return float(next(line for line in out.splitlines() if line.startswith("elapsed")).split()[1])

    def run(self, *args) -> float:
        return self.finish(self.start(*args))


def _read_tsv(path: Path) -> np.ndarray:
    return pd.read_csv(path, sep="\t", header=None, na_values=["NA", "NaN"]).to_numpy(np.float64)


def _write_values(path: Path, values: np.ndarray) -> None:
    np.savetxt(path, values, delimiter="\t", fmt="%.17g")  # NaN is written as nan


def _write_ints(path: Path, values: np.ndarray) -> None:
    np.savetxt(path, np.asarray(values, dtype=np.int64), delimiter="\t", fmt="%d")


# --------------------------------------------------------------------------- linkscan threads


def _spearman_2threads(values: np.ndarray, blocks: int = 4):
    """The self-scan as tiles (row blocks i <= j) on a 2-thread pool; the assembled rho, logp."""
    nf = len(values)
    edges = np.linspace(0, nf, blocks + 1).astype(int)
    # off-diagonal tiles (twice the work of a diagonal one) first, for balance
    tiles = [(a, b) for a in range(blocks) for b in range(a + 1, blocks)] + \
            [(a, a) for a in range(blocks)]

    def run(tile):
        a, b = tile
        xa = values[edges[a]:edges[a + 1]]
        if a == b:
            return tile, spearman_block(xa)
        return tile, spearman_block(xa, values[edges[b]:edges[b + 1]])

    with ThreadPoolExecutor(2) as pool:
        return edges, list(pool.map(run, tiles))


def _assemble(nf, edges, results):
    rho = np.full((nf, nf), np.nan)
    logp = np.full((nf, nf), np.nan)
    for (a, b), (r, _n, lp) in results:
        sa = slice(edges[a], edges[a + 1])
        sb = slice(edges[b], edges[b + 1])
        rho[sa, sb] = r
        logp[sa, sb] = lp
        rho[sb, sa] = r.T
        logp[sb, sa] = lp.T
    return rho, logp


def _halves(fn, values, *args, **kw):
    """fn on the two halves of the features in a 2-thread pool, results concatenated."""
    half = len(values) // 2
    with ThreadPoolExecutor(2) as pool:
        parts = list(pool.map(lambda part: fn(part, *args, **kw), (values[:half], values[half:])))
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))


# --------------------------------------------------------------------------- sections


def spearman_section(title, values, sizes, r, blas, repeats, workdir, rng):
    nf, ns = values.shape
    pairs = nf * (nf - 1) // 2
    print(f"## {title}: {nf:,} features x {ns} samples, "
          f"{np.isnan(values).any(axis=1).mean():.0%} of features with missing values, "
          f"{pairs:,} pairs\n")
    iu = np.triu_indices(nf, 1)

    with blas.threads(1):
        sec, runs, (rho, _n, logp) = _timed(lambda: spearman_block(values), repeats)
        one = pairs / sec
        sec_r, runs_r, (_rho_r, _n_r, logp_r) = _timed(
            lambda: spearman_block(values, p_mode="r"), repeats)
        sec2, runs2, tiled = _timed(lambda: _spearman_2threads(values), repeats)
        two = pairs / sec2
    table = _Table("pairs", one, two)
    table.add("linkscan `spearman_block`, 1 thread", "rho, p (t approximation, the default)", 1,
              f"all pairs, {runs}", one, ours=True)
    table.add("linkscan `spearman_block`, 2 threads (tiles)", "rho, p (t approximation)", 2,
              f"all pairs in {len(tiled[1])} tiles, {runs2}", two, ours=True)
    table.add("linkscan `spearman_block(p_mode=\"r\")`, 1 thread",
              "rho, p as R's cor.test (AS 89)", 1, f"all pairs, {runs_r}",
              pairs / sec_r, ours=True)
    rho2, logp2 = _assemble(nf, *tiled)
    same = np.array_equal(rho2, rho, equal_nan=True) and np.array_equal(logp2, logp, equal_nan=True)
    checks = [f"- agree, linkscan 2 threads vs 1 thread ({pairs:,} pairs): "
              f"{'yes (bit-identical rho and p)' if same else 'NO'}"]
    ok = [same]
    have = ~np.isnan(rho)

    # pandas
    frame = pd.DataFrame(values.T)
    sec, runs, pcorr = _timed(lambda: frame.corr(method="spearman"), repeats)
    table.add("pandas `DataFrame.corr(method=\"spearman\")`", "rho only (no p)", 1,
              f"all pairs, {runs}", pairs / sec)
    prho = pcorr.to_numpy()
    m = have[iu]
    ok.append(_agree_line(checks, "linkscan vs pandas rho", int(m.sum()),
                          [("|d rho|", _maxabs(rho[iu][m], prho[iu][m]), TOL_RHO)],
                          f"{int((~m & ~np.isnan(prho[iu])).sum()):,} pairs pandas gives "
                          "and linkscan does not (overlap < min_n = 10, or constant)"))

    # sampled pairs, shared by scipy and R's cor.test
    n_pairs = max(sizes["spearmanr"], 2 * sizes["cor.test"])
    pi = rng.integers(0, nf, (n_pairs * 2, 2))
    pi = np.sort(pi[pi[:, 0] != pi[:, 1]][:n_pairs], axis=1)

    k = sizes["spearmanr"]
    sr = np.empty(k)
    sp = np.empty(k)
    start = time.perf_counter()
    for t, (a, b) in enumerate(pi[:k]):
        xa, xb = values[a], values[b]
        okm = ~np.isnan(xa) & ~np.isnan(xb)
        res = scipy.stats.spearmanr(xa[okm], xb[okm])
        sr[t] = res.statistic
        sp[t] = res.pvalue
    sec = time.perf_counter() - start
    table.add("scipy `spearmanr` per pair (NaN masked per pair)", "rho, p (t approximation)", 1,
              f"{k:,} sampled pairs, 1 run, {sec:.1f} s", k / sec)
    li, lj = pi[:k, 0], pi[:k, 1]
    m = have[li, lj]
    ok.append(_agree_line(checks, "linkscan vs scipy", int(m.sum()),
                          [("|d rho|", _maxabs(rho[li, lj][m], sr[m]), TOL_RHO),
                           ("rel d p", _rel(np.exp(logp[li, lj][m]), sp[m]), TOL_P)]))

    if r is not None:
        k = sizes["cor.test"]
        _write_values(workdir / "x.tsv", values)
        halves = (pi[:k], pi[k:2 * k])
        procs = []
        for h, part in enumerate(halves):
            _write_ints(workdir / f"pairs{h}.tsv", part + 1)
            procs.append(r.start("cortest", ns, workdir / "x.tsv", workdir / f"ct{h}.tsv",
                                 workdir / f"pairs{h}.tsv"))
        el = [r.finish(p) for p in procs]
        rate = 2 * k / max(el)
        table.add("R `cor.test(method=\"spearman\")` loop, 2 Rscript processes in parallel",
                  "rho, p (AS 89 without ties, else t)", 2,
                  f"{2 * k:,} sampled pairs ({k:,} per process), 1 run, "
                  f"{el[0]:.1f} s / {el[1]:.1f} s ({k / el[0]:,.0f} + {k / el[1]:,.0f} pairs/s)",
                  rate)
        got = np.vstack([_read_tsv(workdir / f"ct{h}.tsv") for h in range(2)])
        li, lj = pi[:2 * k, 0], pi[:2 * k, 1]
        m = have[li, lj]
        p_ours = np.maximum(np.exp(logp_r[li, lj][m]), P_FLOOR)
        p_r = np.maximum(got[m, 1], P_FLOOR)  # R gives 0 where AS 89 runs out; linkscan floors
        ok.append(_agree_line(checks, "linkscan (p_mode=\"r\") vs R cor.test", int(m.sum()),
                              [("|d rho|", _maxabs(rho[li, lj][m], got[m, 0]), TOL_RHO),
                               ("rel d p", _rel(p_ours, p_r), TOL_P)],
                              f"p compared at max(p, {P_FLOOR:.3g})"))

        kf = min(nf, sizes["cor pairwise"])
        idx = np.sort(rng.choice(nf, kf, replace=False))
        _write_ints(workdir / "idx.tsv", idx + 1)
        el = r.run("corpair", ns, workdir / "x.tsv", workdir / "cp.tsv", workdir / "idx.tsv")
        kp = kf * (kf - 1) // 2
        table.add("R `cor(method=\"spearman\", use=\"pairwise.complete.obs\")`", "rho only (no p)", 1,
                  f"{kf:,} sampled features = {kp:,} pairs, 1 run, {el:.1f} s", kp / el)
        got = _read_tsv(workdir / "cp.tsv")
        sub = rho[np.ix_(idx, idx)]
        ju = np.triu_indices(kf, 1)
        m = ~np.isnan(sub[ju])
        ok.append(_agree_line(checks, "linkscan vs R cor(pairwise)", int(m.sum()),
                              [("|d rho|", _maxabs(sub[ju][m], got[ju][m]), TOL_RHO)]))
    table.print()
    print("\n".join(checks))
    print()
    return all(ok)


def _agree_line(lines, what, n, checks, notes=""):
    """_agree, collecting the line instead of printing it."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ok = _agree(what, n, checks, notes)
    lines.append(buf.getvalue().rstrip("\n"))
    return ok


def wilcoxon_section(values, n_tumor, sizes, r, blas, repeats, workdir):
    nf, ns = values.shape
    group = np.r_[np.ones(n_tumor), np.zeros(ns - n_tumor)].astype(np.int8)
    print(f"## Tumor vs normal Wilcoxon rank-sum: {nf:,} features x ({n_tumor} tumor + "
          f"{ns - n_tumor} normal) samples, {np.isnan(values).any(axis=1).mean():.0%} of "
          "features with missing values\n")
    with blas.threads(1):
        sec, runs, (effect, _n, logp) = _timed(lambda: wilcoxon_block(values, group), repeats)
        one = nf / sec
        sec2, runs2, res2 = _timed(lambda: _halves(wilcoxon_block, values, group), repeats)
        two = nf / sec2
    table = _Table("features", one, two)
    table.add("linkscan `wilcoxon_block`, 1 thread", "p (R's wilcox.test) and Hodges-Lehmann shift",
              1, f"all features, {runs}", one, ours=True)
    table.add("linkscan `wilcoxon_block`, 2 threads (halves)", "p and Hodges-Lehmann shift", 2,
              f"all features, {runs2}", two, ours=True)
    checks = []
    same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(res2, (effect, _n, logp)))
    checks.append(f"- agree, linkscan 2 threads vs 1 thread ({nf:,} features): "
                  f"{'yes (bit-identical)' if same else 'NO'}")
    ok = [same]
    have = ~np.isnan(logp)

    x, y = values[:, :n_tumor], values[:, n_tumor:]
    sec, runs, res = _timed(lambda: scipy.stats.mannwhitneyu(
        x, y, axis=1, nan_policy="omit", method="asymptotic"), repeats)
    table.add("scipy `mannwhitneyu(axis=1, nan_policy=\"omit\", method=\"asymptotic\")`",
              "p only (no shift estimate)", 1, f"all features, {runs}", nf / sec)
    # R (and linkscan) use the exact distribution when both groups have < 50 values and no
    # value is tied; scipy is asked for the same there, outside the timing
    sp = res.pvalue.copy()
    exact = []
    for f in np.flatnonzero(have):
        xf, yf = x[f][np.isfinite(x[f])], y[f][np.isfinite(y[f])]
        both = np.r_[xf, yf]
        if len(xf) < 50 and len(yf) < 50 and np.unique(both).size == both.size:
            exact.append(f)
            sp[f] = scipy.stats.mannwhitneyu(xf, yf, method="exact").pvalue
    ok.append(_agree_line(checks, "linkscan vs scipy p", int(have.sum()),
                          [("rel d p", _rel(np.exp(logp[have]), sp[have]), TOL_P)],
                          f"{len(exact)} features with < 50 values in both groups and no ties "
                          "compared with scipy's method=\"exact\" (R's rule), the rest with the "
                          "timed asymptotic p"))

    if r is not None:
        k = min(nf, sizes["wilcox.test"])
        _write_values(workdir / "w.tsv", values)
        _write_ints(workdir / "widx.tsv", np.arange(1, k + 1))
        el = r.run("wilcox", ns, workdir / "w.tsv", workdir / "wt.tsv", n_tumor,
                   workdir / "widx.tsv")
        table.add("R `wilcox.test(x, y, conf.int=TRUE)` loop", "p and estimate (uniroot in the "
                  "normal case)", 1, f"first {k:,} features, 1 run, {el:.1f} s", k / el)
        got = _read_tsv(workdir / "wt.tsv")
        m = have[:k] & ~np.isnan(got[:, 0])
        ok.append(_agree_line(
            checks, "linkscan vs R wilcox.test", int(m.sum()),
            [("rel d p", _rel(np.exp(logp[:k][m]), got[m, 0]), TOL_P),
             ("|HL - R estimate|", _maxabs(effect[:k][m], got[m, 1]), None)],
            "R's normal-case estimate is a uniroot (tol 1e-4) point of the step where its "
            "statistic is 0, not the median of differences: compared, not required to agree"))
    table.print()
    print("\n".join(checks))
    print()
    return all(ok)


def cox_section(values, time_, event, sizes, r, blas, repeats, workdir):
    nf, ns = values.shape
    print(f"## Cox proportional hazards (univariate, Efron ties): {nf:,} features x {ns} samples, "
          f"{int(event.sum())} events, {np.isnan(values).any(axis=1).mean():.0%} of features "
          "with missing values\n")
    with blas.threads(1):
        sec, runs, (hr, _n, logp, conv) = _timed(lambda: cox_block(values, time_, event), repeats)
        one = nf / sec
        sec2, runs2, res2 = _timed(lambda: _halves(cox_block, values, time_, event), repeats)
        two = nf / sec2
    table = _Table("features", one, two)
    table.add("linkscan `cox_block`, 1 thread", "score-test p, hazard ratio (Newton fit)", 1,
              f"all features, {runs}", one, ours=True)
    table.add("linkscan `cox_block`, 2 threads (halves)", "score-test p, hazard ratio", 2,
              f"all features, {runs2}", two, ours=True)
    checks = []
    same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(res2, (hr, _n, logp, conv)))
    checks.append(f"- agree, linkscan 2 threads vs 1 thread ({nf:,} features): "
                  f"{'yes (bit-identical)' if same else 'NO'}")
    ok = [same]
    checks.append("- lifelines: " + ("installed, but not timed by this harness"
                                     if importlib.util.find_spec("lifelines")
                                     else "not installed, not timed"))

    if r is not None and r.survival:
        k = min(nf, sizes["coxph"])
        passes = max(1, round(sizes["coxph"] / k))
        _write_values(workdir / "c.tsv", values)
        _write_values(workdir / "surv.tsv", np.c_[time_, event])
        _write_ints(workdir / "cidx.tsv", np.arange(1, k + 1))
        el = r.run("cox", ns, workdir / "c.tsv", workdir / "cx.tsv", workdir / "surv.tsv",
                   workdir / "cidx.tsv", passes)
        fits = k * passes
        table.add("R `summary(coxph(Surv(time, event) ~ x))` loop (survival "
                  f"{r.survival})", "score-test p (sctest), coef", 1,
                  f"first {k:,} features x {passes} pass{'es' if passes > 1 else ''} = {fits:,} fits, 1 run, {el:.1f} s",
                  fits / el)
        got = _read_tsv(workdir / "cx.tsv")
        m = ~np.isnan(logp[:k]) & ~np.isnan(got[:, 0])
        mc = m & conv[:k] & ~np.isnan(got[:, 1])
        ok.append(_agree_line(
            checks, "linkscan vs R coxph", int(m.sum()),
            [("rel d p", _rel(np.exp(logp[:k][m]), got[m, 0]), TOL_P),
             ("rel d hr", _rel(hr[:k][mc], np.exp(got[mc, 1])), TOL_HR)],
            f"hr on {int(mc.sum()):,} converged fits; R stops at eps 1e-9 on the log-likelihood"))
    elif r is not None:
        checks.append("- R: survival package not installed, coxph not timed")
    table.print()
    print("\n".join(checks))
    print()
    return all(ok)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=None,
                        help="features per data set (default 2000; 300 with --quick)")
    parser.add_argument("--samples", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs of the fast methods, median reported (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="small data and short R/scipy subsamples: checks the harness in < 60 s")
    parser.add_argument("--no-r", action="store_true", help="skip R even if Rscript is on PATH")
    args = parser.parse_args()
    nf = args.features or (300 if args.quick else 2000)
    ns = args.samples
    repeats = args.repeats or (1 if args.quick else 3)
    if nf < 40 or ns < 60:
        parser.error("need at least 40 features and 60 samples (Wilcoxon: >= 20 tumor, >= 10 normal)")
    # seconds each slow measurement should take, at the rates of EXPECTED_RATE
    target = {"R": 0.8 if args.quick else 8.0, "scipy": 0.5 if args.quick else 4.0}
    sizes = {
        "cor.test": int(target["R"] * EXPECTED_RATE["cor.test"]),
        "cor pairwise": int(math.sqrt(2 * target["R"] * EXPECTED_RATE["cor pairwise"])),
        "spearmanr": int(target["scipy"] * EXPECTED_RATE["spearmanr"]),
        "wilcox.test": int(target["R"] * EXPECTED_RATE["wilcox.test"]),
        "coxph": int(target["R"] * EXPECTED_RATE["coxph"]),
    }

    wall = time.perf_counter()
    load0 = os.getloadavg()
    blas = _Blas()
    with tempfile.TemporaryDirectory(prefix="bench_peers_") as tmp:
        workdir = Path(tmp)
        r = None
        if not args.no_r and shutil.which("Rscript"):
            r = _R(workdir)
        cpu = ""
        with contextlib.suppress(OSError):
            cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                        if line.startswith("model name")), "")
        print("# linkscan vs peers\n")
        print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
        print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
        print(f"machine: {platform.platform()}, {platform.machine()} ({cpu}), "
              f"{os.cpu_count()} CPUs; load average at start "
              f"{load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
        print(f"software: Python {platform.python_version()}, numpy {np.__version__}, pandas "
              f"{pd.__version__}, scipy {scipy.__version__}, numba {numba.__version__}, "
              + (f"{r.version}" + (f", survival {r.survival}" if r.survival else ", no survival")
                 if r is not None else ("R skipped (--no-r)" if args.no_r else "Rscript not on PATH")))
        print(f"threads: {blas.describe()}; numba kernels single-threaded per call")
        print(f"data: {nf:,} features x {ns} samples (linkscan.jobs.demo.make_cohort, seed 1); "
              f"fast methods: median of {repeats} run(s) after a warm-up call (calls under "
              f"{MIN_RUN_S} s repeated within a run, 1 run when a call takes over {LONG_RUN_S:.0f} s); "
              "R and scipy per pair: 1 timed run over a subsample\n")

        missing = make_cohort(nf, ns, seed=1, absent_fraction=0.0).to_numpy(np.float64)
        complete = make_cohort(nf, ns, seed=1, absent_fraction=0.0, complete=True).to_numpy(np.float64)
        rng = np.random.default_rng(7)
        # tumor vs normal: the first 2/3 of samples are tumor; 30% of features shifted in tumor
        n_tumor = round(ns * 2 / 3)
        tn = missing.copy()
        shifted = rng.random(nf) < 0.3
        tn[shifted, :n_tumor] += rng.normal(0.0, 0.8, shifted.sum())[:, None]
        # survival: exponential times in days, 40 events per 150 samples
        time_ = np.ceil(rng.exponential(3 * 365.0, ns))
        event = np.zeros(ns)
        event[rng.choice(ns, max(5, round(ns * 40 / 150)), replace=False)] = 1.0

        # compile every kernel outside the timing
        with blas.threads(1):
            spearman_block(missing[:30])
            spearman_block(missing[:30], p_mode="r")
            spearman_block(missing[:10], missing[10:20])
            wilcoxon_block(tn[:10], np.r_[np.ones(n_tumor), np.zeros(ns - n_tumor)].astype(np.int8))
            cox_block(missing[:10], time_, event)
            _spearman_2threads(missing[:40])
            _halves(wilcoxon_block, tn[:10], np.r_[np.ones(n_tumor), np.zeros(ns - n_tumor)].astype(np.int8))
            _halves(cox_block, missing[:10], time_, event)

        ok = True
        ok &= spearman_section("Spearman, missing values", missing, sizes, r, blas, repeats,
                               workdir, np.random.default_rng(11))
        ok &= spearman_section("Spearman, complete data", complete, sizes, r, blas, repeats,
                               workdir, np.random.default_rng(12))
        ok &= wilcoxon_section(tn, n_tumor, sizes, r, blas, repeats, workdir)
        ok &= cox_section(missing, time_, event, sizes, r, blas, repeats, workdir)

    load1 = os.getloadavg()
    print("Ratios: linkscan's default mode on the same number of cores as the method "
          "(1 thread against single-core methods, 2 threads against R on 2 processes).")
    print(f"all methods agree: {'yes' if ok else 'NO'}; run took {time.perf_counter() - wall:.0f} s; "
          f"load average at end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
