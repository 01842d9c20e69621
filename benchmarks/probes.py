"""Four small measurements behind issue 13's notes in RESULTS.md, each on existing data.

    .venv/bin/python benchmarks/probes.py writer SHARD.parquet
        the shard's rows written as linkscan wrote them before (fastparquet, up to 8
        features a row group) and now (pyarrow, one feature a row group): time, bytes,
        a row group's read, and that fastparquet reads each back equal.
    .venv/bin/python benchmarks/probes.py cluster STORE OMICS COHORT
        a one-cohort trans scan on a LocalCluster of 2 processes against one of 2 threads
        in this process: wall time of imports, cluster start, scan and shutdown.
    .venv/bin/python benchmarks/probes.py compaction RESULTS SHARD
        a finished shard's rows cut into 16 tile parts, then compacted again the way the
        finish does (read the parts, the q lookup of each p column from the store's BH
        tables, sort and types, write): seconds of each step, second of two runs.
    .venv/bin/python benchmarks/probes.py query RESULTS GENE
        `linkscan query GENE --results RESULTS --top 10` as a fresh process, 5 runs.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time

import numpy as np


def _former_row_groups(codes: np.ndarray) -> list[int]:
    """The row groups linkscan wrote before pyarrow: whole features, at most 8 and at most
    32,768 rows (unless one feature has more), but at least 4,096 rows of small features."""
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    offsets, features = [0], 1
    for start, end in zip(starts[1:], ends[1:]):
        if end - offsets[-1] > 32_768 or (features >= 8 and start - offsets[-1] >= 4_096):
            offsets.append(int(start))
            features = 0
        features += 1
    return offsets


def _fastparquet_bytes(frame, offsets) -> bytes:
    """The shard as linkscan wrote it before pyarrow: fastparquet, LZ4, statistics on the
    codes, definition levels on the floats and counts."""
    import fastparquet

    class Buffer(io.BytesIO):
        def close(self) -> None:
            pass

    buffer = Buffer()
    nulls = [c for c in frame.columns if frame[c].dtype == np.float32 or str(frame[c].dtype) == "Int16"]
    fastparquet.write("part.parquet", frame, compression="LZ4_RAW", write_index=False, stats=["feature", "partner"],
                      has_nulls=nulls, row_group_offsets=offsets, open_with=lambda path, mode="wb": buffer)
    return buffer.getvalue()


def writer(shard: str) -> None:
    import fastparquet

    from linkscan.storage.results.files import parquet_bytes
    from linkscan.storage.results.shards import row_groups

    frame = fastparquet.ParquetFile(shard).to_pandas()
    codes = frame["feature"].to_numpy()
    runs = {
        "before: fastparquet, <= 8 features and 32k rows a row group": (_fastparquet_bytes, _former_row_groups(codes)),
        "now: pyarrow (parquet_bytes), one feature a row group": (parquet_bytes, row_groups(codes)),
    }
    for name, (write, offsets) in runs.items():
        times = []
        for _ in range(3):
            start = time.perf_counter()
            data = write(frame, offsets)
            times.append(time.perf_counter() - start)
        back = fastparquet.ParquetFile(io.BytesIO(data)).to_pandas()
        same = back.equals(frame)
        pf = fastparquet.ParquetFile(io.BytesIO(data))
        reads = []
        for index in range(min(20, len(pf.row_groups))):
            start = time.perf_counter()
            pf.read_row_group_file(pf.row_groups[index], pf.columns, None, infile=io.BytesIO(data))
            reads.append(time.perf_counter() - start)
        print(f"{name}: {len(frame):,} rows, {len(frame.columns)} columns, {len(offsets)} row groups; write "
              f"{np.median(times):.2f} s (median of 3), {len(data) / 1e6:.1f} MB; fastparquet reads one row group in "
              f"{1000 * np.median(reads):.1f} ms; read back equal: {same}")


def cluster(store: str, omics: str, cohort: str) -> None:
    for mode in ("processes", "threads"):
        code = f"""
import time, shutil
t0 = time.perf_counter()
from distributed import Client, LocalCluster
from linkscan.engine.plan import ScanSpec
from linkscan.engine.runner import run_scan
if __name__ == "__main__":
    results = {tempfile.mkdtemp()!r} + "/r"
    spec = ScanSpec(store={store!r}, results=results, omics={omics!r}, cohorts=({cohort!r},))
    t1 = time.perf_counter()
    kw = dict(processes=False, n_workers=1, threads_per_worker=2) if {mode!r} == "threads" else \\
        dict(n_workers=2, threads_per_worker=1)
    with LocalCluster(dashboard_address=None, **kw) as c, Client(c) as client:
        t2 = time.perf_counter()
        report = run_scan(spec, client=client, progress=False)
        t3 = time.perf_counter()
    t4 = time.perf_counter()
    print(f"{mode}: imports {{t1 - t0:.2f}} s, cluster start {{t2 - t1:.2f}} s, scan {{t3 - t2:.2f}} s, "
          f"shutdown {{t4 - t3:.2f}} s, total {{t4 - t0:.2f}} s")
    shutil.rmtree(results, ignore_errors=True)
"""
        subprocess.run([sys.executable, "-c", code], check=True, stderr=subprocess.DEVNULL)


def compaction(results: str, shard: str) -> None:
    import fastparquet
    import pandas as pd

    from linkscan.engine.finish import _q_of
    from linkscan.storage.results.files import parquet_bytes
    from linkscan.storage.results.shards import row_groups, shard_name
    from linkscan.storage.results.store import ResultStore

    store = ResultStore(results)
    frame = fastparquet.ParquetFile(str(store.path / "shards" / shard_name(int(shard)))).to_pandas()
    frame = frame[[c for c in frame.columns if not c.endswith("_log10q")]]
    cut = np.array_split(np.random.default_rng(0).permutation(len(frame)), 16)
    parts = [parquet_bytes(frame.iloc[np.sort(rows)].reset_index(drop=True)) for rows in cut]
    for run in range(2):
        times, start = {}, time.perf_counter()
        rows = pd.concat([fastparquet.ParquetFile(io.BytesIO(part)).to_pandas() for part in parts], ignore_index=True)
        times["read parts"], start = time.perf_counter() - start, time.perf_counter()
        for column in [c for c in rows.columns if c.endswith("_slogp")]:
            values, log10q = store.q_table(column)
            rows[column.removesuffix("_slogp") + "_log10q"] = _q_of(
                np.abs(rows[column].to_numpy(dtype=np.float32)), values, log10q)
        times["q lookup"], start = time.perf_counter() - start, time.perf_counter()
        dtypes = store.dtypes()
        rows = rows.sort_values(["feature", "partner"], kind="stable", ignore_index=True)[list(dtypes)].astype(dtypes)
        times["sort and types"], start = time.perf_counter() - start, time.perf_counter()
        parquet_bytes(rows, row_groups(rows["feature"].to_numpy()))
        times["write"] = time.perf_counter() - start
    print(f"{len(frame):,} rows in 16 parts: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()))


def query(results: str, gene: str) -> None:
    code = (f"import sys; from linkscan.jobs.cli import main; "
            f"sys.exit(main(['query', {gene!r}, '--results', {results!r}, '--top', '10']))")
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    print(f"fresh query: median {np.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    commands = {"writer": writer, "cluster": cluster, "compaction": compaction, "query": query}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
