"""The finished scan: the BH tables of its p columns (``bh/``), stored for the shards;
the finished shard files (``shards/``) and their checksums; and the completion mark
(``complete.json``, which records those checksums).

The q-values themselves are computed by the engine (:mod:`linkscan.engine.finish`): this
module stores the tables it computes and writes the shards it completes.
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pandas as pd

from linkscan.errors import ResultsError
from linkscan.storage.results.checksums import shard_error, shard_record
from linkscan.storage.results.files import mkdir, parquet_bytes, put
from linkscan.storage.results.schema import MIN_ROWS_PER_ROW_GROUP


def shard_name(shard: int) -> str:
    """The file name of shard number ``shard`` in ``shards/`` (and its key in
    complete.json's ``shard_files``)."""
    return f"{shard:05d}.parquet"


def row_groups(codes: np.ndarray) -> list[int]:
    """Where each row group of a finished shard starts, for rows sorted by feature
    ``codes``: one feature per row group, so that a lookup decodes only its feature's
    rows; but consecutive small features share one, up to the first feature boundary at
    or past :data:`MIN_ROWS_PER_ROW_GROUP` rows, so that a scan with a few rows per
    feature (phenotypes, tumor vs normal) is not cut into thousands of tiny row groups,
    each of which costs the writer and every reader a fixed time per column.

    >>> row_groups(np.repeat([0, 1, 2, 3], [20000, 10000, 5000, 40000]))
    [0, 20000, 30000, 35000]
    >>> row_groups(np.repeat(np.arange(20), 1000))[:3]  # 3 features of 1,000 rows reach 2,048
    [0, 3000, 6000]
    >>> len(row_groups(np.repeat(np.arange(2000), 10)))  # 2,000 features of 10 rows
    10
    """
    if len(codes) == 0:
        return [0]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    offsets = [0]
    for start in starts[1:]:
        if start - offsets[-1] >= MIN_ROWS_PER_ROW_GROUP:
            offsets.append(int(start))
    return offsets


class Shards:
    """The finish of a :class:`~linkscan.storage.results.store.ResultStore` as stored
    data (a mixin of it: reads and writes under its ``path``)."""

    def save_q_table(self, column: str, values: np.ndarray, log10q: np.ndarray) -> None:
        """Keep the BH q of each distinct ``|column|`` value (sorted) for the shards, as
        two .npy files (``bh/<column>.values.npy``, ``bh/<column>.log10q.npy``)."""
        mkdir(self.path / "bh")
        for name, array in (("values", values), ("log10q", log10q)):
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array, dtype=np.float32))
            put(self.path / "bh" / f"{column}.{name}.npy", buffer.getvalue())

    def finish_done(self) -> tuple[int, int]:
        """How far a finish has come, from the files it wrote: (p columns whose BH table is
        saved, shards written). What `linkscan status` shows while a scan finishes."""
        tables = sum(name.endswith(".log10q.npy") for name in (self.path / "bh").names())
        shards = sum(name.endswith(".parquet") for name in (self.path / "shards").names())
        return tables, shards

    def q_table(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """The saved BH table of ``column``: (values ascending, log10 q), memory-mapped:
        every shard's compaction reads every table, and a 10-cohort x 10,000-protein
        scan's tables are 650 MB, shared this way through the page cache by all of a
        machine's workers instead of copied into each task. A store on an object store
        has its tables downloaded once per worker process (:meth:`Location.local_copy`),
        not once per shard."""
        out = []
        for name in ("values", "log10q"):
            file = self.path / "bh" / f"{column}.{name}.npy"
            out.append(np.load(file.local_copy(), mmap_mode="r"))
        return out[0], out[1]

    def write_shard(self, shard: int, frame: pd.DataFrame) -> dict:
        """Write ``frame``, every row of ``shard`` with its q columns, as the finished
        ``shards/<shard>.parquet``: sorted by (feature, partner), in the result columns and
        dtypes, row groups of whole features (:func:`row_groups`), a cohort without a
        result a Parquet null in each of its columns. Returns the shard's record for
        complete.json: its rows, size, sha256 and the CRC-32 of its footer and of each row group
        (:func:`~linkscan.storage.results.checksums.shard_record`)."""
        dtypes = self.dtypes()
        frame = frame.sort_values(["feature", "partner"], kind="stable", ignore_index=True)
        frame = frame[list(dtypes)].astype(dtypes)
        data = parquet_bytes(frame, row_groups(frame["feature"].to_numpy()))
        put(self.path / "shards" / shard_name(shard), data)
        return shard_record(data, len(frame))

    def mark_complete(self, summary: dict) -> None:
        """Write ``complete.json`` (``summary``), the store's last file, then remove the
        parts: the shards hold their rows now."""
        put(self.path / "complete.json", json.dumps(summary, indent=1).encode())
        (self.path / "parts").remove_tree()

    def summary(self) -> dict:
        """What ``complete.json`` records of a finished store: rows, tiles, shards, the
        tests of each p column, and ``shard_files``, each shard file's record
        (:func:`~linkscan.storage.results.checksums.shard_record`)."""
        return json.loads((self.path / "complete.json").read_bytes())

    def is_complete(self) -> bool:
        """Whether the scan is finished (``complete.json`` exists)."""
        return (self.path / "complete.json").is_file()

    def completion(self) -> bytes:
        """The bytes of ``complete.json``; ResultsError if the scan is not finished."""
        try:
            return (self.path / "complete.json").read_bytes()
        except FileNotFoundError:
            done = len(self.ledger_names())
            raise ResultsError(
                f"{self.path} is not complete ({done} of {self.manifest()['n_tiles']} tiles finished); "
                "run `linkscan submit` on its job to finish it before looking genes up"
            ) from None

    def shard_records(self, completion: bytes) -> dict[str, dict]:
        """Shard file name -> its record, from the bytes of ``complete.json``
        (:meth:`completion`); ResultsError if it records no checksums (a store finished
        by a linkscan before them)."""
        records = json.loads(completion).get("shard_files")
        if records is None:
            raise shard_error(self.path, f"{self.path / 'complete.json'} records no shard checksums (the store "
                                         "was finished by an older linkscan), so its shards cannot be checked")
        return records

    def verify(self) -> None:
        """Check every shard file of a finished store whole against complete.json: its
        size and sha256. Reads every byte of the shards (a lookup checks only the footer
        and the row groups it reads), so it suits a store just copied or restored.

        Raises
        ------
        ResultsError
            The store is not complete, or names every missing or damaged shard, and
            the fix (rebuild the shards).
        """
        problems = []
        for name, record in self.shard_records(self.completion()).items():
            file = self.path / "shards" / name
            try:
                data = file.read_bytes()
            except FileNotFoundError:
                problems.append(f"result shard {file} is missing")
                continue
            if len(data) != record["bytes"]:
                problems.append(f"result shard {file} is damaged: it has {len(data):,} bytes, complete.json "
                                f"records {record['bytes']:,}")
            elif hashlib.sha256(data).hexdigest() != record["sha256"]:
                problems.append(f"result shard {file} is damaged: its sha256 differs from complete.json's")
        if problems:
            raise shard_error(self.path, *problems)
