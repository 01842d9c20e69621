"""Three small measurements behind issue 13's notes in RESULTS.md, each on existing data.

    .venv/bin/python benchmarks/probes.py writer SHARD.parquet
        fastparquet (linkscan's writer, its row groups and nulls) against pyarrow writing
        the same frame with the same row groups; checks fastparquet reads pyarrow's back.
    .venv/bin/python benchmarks/probes.py cluster STORE OMICS COHORT
        a one-cohort trans scan on a LocalCluster of 2 processes against one of 2 threads
        in this process: wall time of imports, cluster start, scan and shutdown.
    .venv/bin/python benchmarks/probes.py query RESULTS GENE
        `linkscan query GENE --results RESULTS --top 10` as a fresh process, 5 runs, with
        pyarrow importable and hidden (as a `pip install linkscan` without extras has it).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time

import numpy as np


def writer(shard: str) -> None:
    import fastparquet
    import pyarrow as pa
    import pyarrow.parquet as pq

    from linkscan.storage.results.files import parquet_bytes
    from linkscan.storage.results.shards import row_groups

    frame = fastparquet.ParquetFile(shard).to_pandas()
    offsets = row_groups(frame["feature"].to_numpy())
    nulls = [c for c in frame.columns if frame[c].dtype == np.float32 or str(frame[c].dtype) == "Int16"]
    start = time.perf_counter()
    ours = parquet_bytes(frame, offsets, nulls)
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, table.schema, compression="lz4", use_dictionary=False,
                          write_statistics=["feature", "partner"]) as out:
        for begin, end in zip(offsets, offsets[1:] + [len(frame)]):
            out.write_table(table.slice(begin, end - begin), row_group_size=end - begin)
    t_arrow = time.perf_counter() - start
    back = fastparquet.ParquetFile(io.BytesIO(buffer.getvalue())).to_pandas()
    same = all(np.array_equal(back[c].to_numpy(np.float64, na_value=np.nan),
                              frame[c].to_numpy(np.float64, na_value=np.nan), equal_nan=True)
               for c in frame.columns if c != "test")
    print(f"{len(frame):,} rows, {len(frame.columns)} columns, {len(offsets)} row groups: fastparquet "
          f"{t_ours:.2f} s ({len(ours) / 1e6:.1f} MB), pyarrow {t_arrow:.2f} s "
          f"({len(buffer.getvalue()) / 1e6:.1f} MB); read back equal: {same}")


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


def query(results: str, gene: str) -> None:
    for hidden in (False, True):
        hide = "sys.modules['pyarrow'] = None; " if hidden else ""
        code = (f"import sys; {hide}from linkscan.jobs.cli import main; "
                f"sys.exit(main(['query', {gene!r}, '--results', {results!r}, '--top', '10']))")
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        print(f"fresh query, pyarrow {'hidden' if hidden else 'importable'}: median {np.median(times):.2f} s, "
              f"max {max(times):.2f} s")


if __name__ == "__main__":
    commands = {"writer": writer, "cluster": cluster, "query": query}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
