"""The finished scan: the BH tables of its p columns (``bh/``), stored for the shards;
the finished shard files (``shards/``); and the completion mark (``complete.json``).

The q-values themselves are computed by the engine (:mod:`linkscan.engine.finish`): this
module stores the tables it computes and writes the shards it completes.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from linkscan.storage.results.files import mkdir, put, write_parquet
from linkscan.storage.results.schema import FEATURES_PER_ROW_GROUP, ROWS_PER_ROW_GROUP


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

    def q_table(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """The saved BH table of ``column``: (values ascending, log10 q). Local tables are
        memory-mapped: every shard's compaction reads them, and a 10-cohort x
        10,000-protein scan's tables are 700 MB, shared this way through the page cache
        by all of a machine's workers instead of copied into each task."""
        out = []
        for name in ("values", "log10q"):
            file = self.path / "bh" / f"{column}.{name}.npy"
            out.append(np.load(file.url, mmap_mode="r") if file.local else np.load(io.BytesIO(file.read_bytes())))
        return out[0], out[1]

    def write_shard(self, shard: int, frame: pd.DataFrame) -> int:
        """Write ``frame``, every row of ``shard`` with its q columns, as the finished
        ``shards/<shard>.parquet``: sorted by (feature, partner), in the result columns and
        dtypes, row groups of at most :data:`FEATURES_PER_ROW_GROUP` features and about
        :data:`ROWS_PER_ROW_GROUP` rows. Returns its rows."""
        dtypes = self.dtypes()
        frame = frame.sort_values(["feature", "partner"], kind="stable", ignore_index=True)
        frame = frame[list(dtypes)].astype(dtypes)
        codes = frame["feature"].to_numpy()
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([0])
        per_feature = len(codes) / max(len(starts), 1)
        per_group = int(min(FEATURES_PER_ROW_GROUP, max(1, ROWS_PER_ROW_GROUP // max(per_feature, 1))))
        offsets = [int(x) for x in starts[::per_group]]
        write_parquet(self.path / "shards" / f"{shard:05d}.parquet", frame, row_group_offsets=offsets)
        return len(frame)

    def mark_complete(self, summary: dict) -> None:
        """Write ``complete.json`` (``summary``), the store's last file, then remove the
        parts: the shards hold their rows now."""
        put(self.path / "complete.json", json.dumps(summary, indent=1).encode())
        (self.path / "parts").remove_tree()

    def summary(self) -> dict:
        """What ``complete.json`` records of a finished store (rows, tiles, shards)."""
        return json.loads((self.path / "complete.json").read_bytes())

    def is_complete(self) -> bool:
        """Whether the scan is finished (``complete.json`` exists)."""
        return (self.path / "complete.json").is_file()
