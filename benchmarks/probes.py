"""Small measurements behind issue 13's notes in RESULTS.md, each on existing data.

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
    .venv/bin/python benchmarks/probes.py bh N
        the BH table of one p column of N tests (synthetic -log10 p, float32), built as
        the finish built it before (numpy.unique, then bh_table on the natural logs) and
        now (bh_log10_table, in place): time, peak memory beyond the p's, equal bits.
    .venv/bin/python benchmarks/probes.py bh-task JOB.toml
        every tile of the job run here into a temporary store, then the BH task of its
        meta p (bh_table_of: read the column from the parts, build and save the table):
        its peak resident memory per test, the figure `linkscan bench` projects with.
    .venv/bin/python benchmarks/probes.py encodings SHARD.parquet
        the shard written as now (LZ4), without compression, and with byte-stream-split
        floats under LZ4 and zstd: write time and bytes.
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


def bh(n: str) -> None:
    import math

    from linkscan.engine.bench import peak_resident
    from linkscan.kernels.multitest import bh_log10_table, bh_table

    def before(x):
        values, repeats = np.unique(x, return_counts=True)
        table = bh_table(-values[::-1].astype(np.float64) * math.log(10.0), repeats[::-1])
        return values, (table.logq[::-1] / math.log(10.0)).astype(np.float32)

    rng = np.random.default_rng(0)
    p = np.empty(int(n), dtype=np.float32)
    for start in range(0, p.size, 1 << 20):  # -log10 of uniform p, made a piece at a time
        p[start:start + (1 << 20)] = rng.standard_exponential(min(1 << 20, p.size - start)) / math.log(10.0)
    tables = {}
    for name, build in (("before: numpy.unique + bh_table", before), ("now: bh_log10_table", bh_log10_table)):
        x = p.copy()
        resident = peak_resident(reset=True)
        start = time.perf_counter()
        values, log10q = build(x)
        seconds = time.perf_counter() - start
        tables[name] = (values.tobytes(), log10q.tobytes())
        print(f"{name}: {p.size:,} tests, {values.size:,} distinct: {seconds:.2f} s, peak "
              f"{(peak_resident() - resident) / 1e6:,.0f} MB beyond the p's")
        del x, values, log10q
    print(f"the same bits: {len(set(tables.values())) == 1}")


def bh_task(job: str) -> None:
    import dataclasses
    import json

    from linkscan.engine.plan import make_plan
    from linkscan.engine.tile import run_tile
    from linkscan.jobs.spec import read_job
    from linkscan.storage.results.store import ResultStore

    plan = make_plan(read_job(job).scan)
    with tempfile.TemporaryDirectory(prefix="linkscan-bh-") as tmp:
        results = ResultStore(tmp)
        results.create_or_resume(plan.manifest, plan.features)
        context = dataclasses.replace(plan.context, results=results)
        start = time.perf_counter()
        entries = [run_tile(context, tile) for tile in plan.tiles]
        print(f"{len(entries)} tiles in {time.perf_counter() - start:.1f} s")
        with open(f"{tmp}/entries.json", "w") as fh:
            json.dump(entries, fh)
        # a fresh process, so that no memory an earlier task freed is still resident
        code = f"""
import json, time
import pyarrow.parquet, linkscan.kernels.multitest
from linkscan.engine.bench import peak_resident
from linkscan.engine.finish import bh_table_of
from linkscan.storage.results.store import ResultStore
results, entries = ResultStore({tmp!r}), json.load(open({tmp!r} + "/entries.json"))
resident = peak_resident(reset=True)
start = time.perf_counter()
tests, _ = bh_table_of(results, "meta_slogp", entries)
peak = peak_resident() - resident
print(f"BH task of meta_slogp: {{tests:,}} tests in {{time.perf_counter() - start:.2f}} s, peak "
      f"{{peak / 1e6:,.0f}} MB beyond what was resident: {{peak / tests:.1f}} bytes a test")
"""
        subprocess.run([sys.executable, "-c", code], check=True)


def encodings(shard: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from linkscan.storage.results.shards import row_groups

    table = pq.read_table(shard)
    offsets = row_groups(table.column("feature").to_numpy())
    floats = [f.name for f in table.schema if f.type == pa.float32()]
    dictionary = [f.name for f in table.schema if f.name.endswith("_n") or f.name == "test"]
    runs = {"now: LZ4": ("lz4", False), "no compression": ("none", False),
            "byte-stream-split floats, LZ4": ("lz4", floats),
            "byte-stream-split floats, zstd": ({c: "zstd" if c in floats else "lz4" for c in table.column_names}, floats)}
    for name, (compression, split) in runs.items():
        times = []
        for _ in range(3):
            buffer, start = io.BytesIO(), time.perf_counter()
            with pq.ParquetWriter(buffer, table.schema, compression=compression, use_dictionary=dictionary,
                                  write_statistics=["feature", "partner"], use_byte_stream_split=split) as out:
                for begin, end in zip(offsets, offsets[1:] + [table.num_rows]):
                    out.write_table(table.slice(begin, end - begin), row_group_size=max(end - begin, 1))
            times.append(time.perf_counter() - start)
        print(f"{name}: write {np.median(times):.2f} s (median of 3), {buffer.tell() / 1e6:.1f} MB")


if __name__ == "__main__":
    commands = {"writer": writer, "cluster": cluster, "compaction": compaction, "query": query, "bh": bh,
                "bh-task": bh_task, "encodings": encodings}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
