"""What the finished shards' checksums cost: lookups read through the checksums
against the unchecked read, and a shard's encoding and checksums, in one process on
one finished store.

    .venv/bin/python benchmarks/bench_result_store.py RESULTS [--lookups 200] [--repeats 5] [--seed 0]

RESULTS is a finished result store, e.g. the one that
``benchmarks/bench_scan.py --features 3000 --cohorts 10 --workers 2 --lookups 0 --keep``
leaves in its ``--dir``.

* **Lookups**: ``--lookups`` genes drawn with ``--seed``; each is looked up with
  ``ResultStore.lookup`` as it is (the footer checked once per process, each row group
  read once, checked against its CRC-32 and decoded from those bytes) and with the same
  read less the checks (``pyarrow.parquet.ParquetFile(shard)``, its footer kept per
  process, the row groups its ``feature`` statistics select), which this script puts in
  place of the store's shard reader for the second measurement. The two alternate, gene by gene, and
  each gene's order alternates, so that the page cache and the machine's drift weigh on
  both alike; one untimed round warms both up. Both must return the same frame.
* **Writing**: the first shard's rows, as its finish wrote them, encoded again
  ``--repeats`` times, with the checksums the finish computes over the bytes
  (``shard_record``), and the whole ``write_shard``. (The writer against the one
  linkscan used before: ``benchmarks/probes.py writer``.)

Output: a markdown report on stdout (medians; the ratio against the unchecked read,
measured in the same run).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd


class _Unchecked:
    """A shard read as lookups read it, less the checksums: pyarrow's own file reads of
    the row groups its ``feature`` statistics select."""

    def __init__(self, path: str) -> None:
        import pyarrow.parquet as pq

        from linkscan.storage.results.lookup import _code_bounds

        self.file = pq.ParquetFile(path)
        metadata = self.file.metadata
        at = metadata.schema.names.index("feature")
        self.bounds = np.array([_code_bounds(metadata.row_group(i).column(at).statistics)
                                for i in range(metadata.num_row_groups)], dtype=np.int64).reshape(-1, 2)

    def rows(self, codes: list[int]) -> pd.DataFrame:
        wanted = np.asarray(codes, dtype=np.int64)[:, None]
        hit = np.flatnonzero(((self.bounds[:, 0] <= wanted) & (wanted <= self.bounds[:, 1])).any(axis=0))
        return self.file.read_row_groups([int(i) for i in hit]).to_pandas()


#: The unchecked shards of this process, footers read once: (store root, shard) -> reader.
_UNCHECKED: dict[tuple[str, int], _Unchecked] = {}


@contextlib.contextmanager
def unchecked_reads():
    """Lookups in this block read the shards without their checksums (each footer read
    once per process, as lookups did)."""
    from linkscan.storage.results import lookup
    from linkscan.storage.results.shards import shard_name

    checked = lookup._Opened.shard

    def shard(self, store, number):
        key = (store.root, number)
        if key not in _UNCHECKED:
            _UNCHECKED[key] = _Unchecked((store.path / "shards" / shard_name(number)).url)
        return _UNCHECKED[key]

    lookup._Opened.shard = shard
    try:
        yield
    finally:
        lookup._Opened.shard = checked


def time_lookups(store, genes: list[str]) -> dict:
    """Median and p90 (ms) of each way of reading, and the ratio of the medians."""
    def once(gene: str, unchecked: bool) -> tuple[float, pd.DataFrame]:
        with unchecked_reads() if unchecked else contextlib.nullcontext():
            start = time.perf_counter()
            rows = store.lookup(gene)
            return (time.perf_counter() - start) * 1000, rows

    for gene in genes[:5]:  # warm-up: imports, footers, the page cache
        once(gene, False), once(gene, True)
    times = {False: [], True: []}
    rows = []
    for i, gene in enumerate(genes):
        got = {}
        for unchecked in ((False, True) if i % 2 else (True, False)):
            ms, got[unchecked] = once(gene, unchecked)
            times[unchecked].append(ms)
        pd.testing.assert_frame_equal(got[False], got[True])
        rows.append(len(got[False]))
    out = {name: {"median": statistics.median(t), "p90": float(np.percentile(t, 90))}
           for name, t in (("checked", times[False]), ("unchecked", times[True]))}
    out["ratio"] = out["checked"]["median"] / out["unchecked"]["median"]
    out["rows"] = statistics.median(rows)
    return out


def time_checks(store) -> dict:
    """CRC-32 of one row group's bytes, what a lookup checks besides the footer it
    checked once: median (ms) over the first shard's row groups, and their median size."""
    import pyarrow.parquet as pq

    from linkscan.storage.results.checksums import row_group_range
    from linkscan.storage.results.shards import shard_name

    file = store.path / "shards" / shard_name(0)
    data = file.read_bytes()
    metadata = pq.ParquetFile(file.url).metadata
    ranges = [row_group_range(metadata.row_group(i)) for i in range(metadata.num_row_groups)]
    times = []
    for start, end in ranges:
        t = time.perf_counter()
        zlib.crc32(data[start:end])
        times.append((time.perf_counter() - t) * 1000)
    return {"crc_ms": statistics.median(times), "bytes": statistics.median(end - start for start, end in ranges)}


def time_writes(store, repeats: int) -> dict:
    """The first shard written again: its encoding, the checksums of its bytes (sha256
    apart), and the whole ``write_shard`` (sort, types, encoding, file, checksums) into
    a scratch store, medians (ms); the file's size and the shard's shape."""
    import fastparquet

    from linkscan.storage.results.checksums import shard_record
    from linkscan.storage.results.files import parquet_bytes
    from linkscan.storage.results.shards import shard_name
    from linkscan.storage.results.store import ResultStore

    pf = fastparquet.ParquetFile(str(store.path / "shards" / shard_name(0)))
    frame = pf.to_pandas()
    offsets = np.cumsum([0] + [rg.num_rows for rg in pf.row_groups[:-1]]).tolist()
    times = {"encode": [], "record": [], "sha256": [], "write_shard": []}
    with tempfile.TemporaryDirectory(prefix="bench-result-store-") as scratch:
        shutil.copy(Path(store.root) / "manifest.json", scratch)
        os.mkdir(os.path.join(scratch, "shards"))
        copy = ResultStore(scratch)
        for _ in range(repeats):
            start = time.perf_counter()
            data = parquet_bytes(frame, offsets)
            times["encode"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            shard_record(data, len(frame))
            times["record"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            hashlib.sha256(data).hexdigest()
            times["sha256"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            copy.write_shard(0, frame)
            times["write_shard"].append((time.perf_counter() - start) * 1000)
        same = (Path(scratch) / "shards" / shard_name(0)).read_bytes() == (store.path / "shards" / shard_name(0)).read_bytes()
    if not same:
        raise SystemExit("write_shard wrote other bytes than the store's shard 0: not the same code")
    out = {name: statistics.median(t) for name, t in times.items()}
    return {**out, "bytes": len(data), "rows": len(frame), "row_groups": len(pf.row_groups),
            "columns": len(frame.columns)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a finished result store")
    parser.add_argument("--lookups", type=int, default=200, help="genes to look up")
    parser.add_argument("--repeats", type=int, default=5, help="encodings of the shard, each way")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from linkscan.storage.results.store import ResultStore

    store = ResultStore(str(args.results))
    summary = store.summary()
    genes = store.features()["gene"].astype(str).unique()
    chosen = [str(g) for g in np.random.default_rng(args.seed).choice(
        genes, size=min(args.lookups, len(genes)), replace=False)]
    lookups = time_lookups(store, chosen)
    checks = time_checks(store)
    writes = time_writes(store, args.repeats)
    command = " ".join(["python benchmarks/bench_result_store.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"Command: `{command}` ({platform.node()}, {time.strftime('%Y-%m-%d %H:%M')}); store: "
          f"{len(store.features()):,} features, {summary['rows']:,} rows in {summary['shards']} shards.\n")
    print("| lookup, warm (all partners) | median | p90 |\n| --- | ---: | ---: |")
    for name in ("unchecked", "checked"):
        print(f"| {name} | {lookups[name]['median']:.2f} ms | {lookups[name]['p90']:.2f} ms |")
    print(f"\n{len(chosen)} genes, {lookups['rows']:,.0f} rows each (median); checked / unchecked: "
          f"**{lookups['ratio']:.2f}x** (medians). CRC-32 of one row group ({checks['bytes'] / 1e6:.2f} MB, "
          f"median): {checks['crc_ms']:.2f} ms.\n")
    print(f"| shard 0: {writes['rows']:,} rows, {writes['row_groups']} row groups, {writes['columns']} columns "
          f"| median of {args.repeats} | bytes |\n| --- | ---: | ---: |")
    print(f"| encode (`parquet_bytes`) | {writes['encode']:.0f} ms | {writes['bytes']:,} |")
    print(f"| sha256 of the bytes | {writes['sha256']:.0f} ms | |")
    print(f"| checksums of the bytes (`shard_record`: sha256, footer, CRC-32s) | {writes['record']:.0f} ms | |")
    print(f"| `write_shard` as the finish runs it (sort, types, encode, file, checksums) | "
          f"{writes['write_shard']:.0f} ms | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
