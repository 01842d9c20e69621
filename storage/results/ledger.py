"""Tiles and the ledger: a tile's rows as parts (``parts/<shard>/<tile>.parquet``), its
ledger entry (``ledger/<tile>.json``, the commit), the checks of parts against their
entries, and the reads of parts that finishing the scan makes."""

from __future__ import annotations

import hashlib
import io
import json
import time

import numpy as np
import pandas as pd

from linkscan.errors import ResultsError
from linkscan.storage.location import Location
from linkscan.storage.results.files import mkdir, put, write_parquet


class Ledger:
    """The tiles of a :class:`~linkscan.storage.results.store.ResultStore` (a mixin of
    it: reads and writes under its ``path``)."""

    def write_tile(self, key: str, frames: dict[int, pd.DataFrame], seconds: float = 0.0) -> dict:
        """Write a tile's rows, one part per shard, then its ledger entry (the commit),
        which records when the tile finished and how long it computed."""
        parts = {}
        for shard, frame in sorted(frames.items()):
            folder = self.path / "parts" / f"{shard:05d}"
            mkdir(folder)
            size, digest = write_parquet(folder / f"{key}.parquet", frame)
            parts[str(shard)] = {"rows": len(frame), "bytes": size, "sha256": digest}
        entry = {"tile": key, "rows": sum(p["rows"] for p in parts.values()), "parts": parts,
                 "seconds": round(seconds, 4), "finished_at": time.time()}
        put(self.path / "ledger" / f"{key}.json", json.dumps(entry).encode())
        return entry

    def ledger(self, *, verify: bool = False, repair: bool = False) -> dict[str, dict]:
        """Finished tiles: key -> ledger entry, for entries whose parts are all present
        with the recorded size (a lost or truncated part un-finishes its tile) and, with
        ``verify``, the recorded sha256 (a corrupted part too). With ``repair``, an entry
        that fails is removed with its parts, so that the tile is computed again."""
        done = {}
        complete = self.is_complete()
        files = [self.path / "ledger" / name for name in self.ledger_names()]
        for file, data in zip(files, Location.read_many(files)):
            try:
                entry = json.loads(data)
                key = entry["tile"]
                parts = {int(s): p for s, p in entry["parts"].items()}
            except (ValueError, KeyError, TypeError):  # a torn, foreign or vanished ledger file
                if repair:
                    file.remove()
                continue
            if complete or all(self._part_ok(key, shard, part, verify) for shard, part in parts.items()):
                done[key] = entry
            elif repair:
                file.remove()
                for shard in parts:
                    self._part(shard, key).remove()
        return done

    def ledger_names(self) -> list[str]:
        """Names of the ledger's entries (``<tile>.json``), without reading them."""
        return [name for name in (self.path / "ledger").names() if name.endswith(".json") and not name.startswith(".")]

    def _part(self, shard: int, key: str) -> Location:
        """The part file of tile ``key`` in ``shard``."""
        return self.path / "parts" / f"{shard:05d}" / f"{key}.parquet"

    def _part_ok(self, key: str, shard: int, part: dict, verify: bool) -> bool:
        """Whether a part has its ledger ``part``'s size (with ``verify``, its sha256 too)."""
        file = self._part(shard, key)
        if file.size() != part["bytes"]:
            return False
        return not verify or hashlib.sha256(file.read_bytes()).hexdigest() == part["sha256"]

    def _read_part(self, shard: int, entry: dict) -> pd.DataFrame:
        """A tile's part of ``shard``, checked against its ledger checksum."""
        import fastparquet

        file = self._part(shard, entry["tile"])
        data = file.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["parts"][str(shard)]["sha256"]:
            raise ResultsError(
                f"result part {file} does not match its ledger checksum; delete "
                f"{self.path / 'ledger' / (entry['tile'] + '.json')} and resubmit the job "
                "to recompute that tile"
            )
        return fastparquet.ParquetFile(io.BytesIO(data)).to_pandas()

    def read_parts(self, shard: int, entries: list[dict]) -> pd.DataFrame:
        """The rows of ``shard``: its parts from the ledger ``entries`` that have one, each
        checked against its ledger checksum, concatenated in the order of ``entries``
        (an empty frame of the result columns when none has a part)."""
        frames = [self._read_part(shard, entry) for entry in entries if str(shard) in entry["parts"]]
        if not frames:
            return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in self.dtypes().items()})
        return pd.concat(frames, ignore_index=True)

    def p_values(self, columns: list[str], entries: list[dict]) -> dict[str, np.ndarray]:
        """``|column|`` (a -log10 p, float32) of every pair of the scan once (its row with
        feature < partner), for each of ``columns``, read from the finished tiles' parts in
        one pass; nulls left out. Only those columns' chunks are read, without the
        checksum: the compaction that follows reads every part whole and checks it, so a
        damaged part still stops the finish before anything is marked complete. Each
        column is filled into one array as the parts are read, not gathered and then
        copied: every pair is two rows of the parts, one with feature < partner."""
        room = sum(part["rows"] for entry in entries for part in entry["parts"].values()) // 2
        values = {column: np.empty(room, dtype=np.float32) for column in columns}
        filled = dict.fromkeys(columns, 0)
        for entry in entries:
            for shard in entry["parts"]:
                part = _read_columns(self._part(int(shard), entry["tile"]), ["feature", "partner", *columns])
                once = part["feature"] < part["partner"]
                for column in columns:
                    x = part[column][once]
                    x = np.abs(x[~np.isnan(x)])
                    at = filled[column]
                    values[column][at:at + x.size] = x
                    filled[column] = at + x.size
        return {column: values[column][:filled[column]] for column in columns}


def _read_columns(file: Location, columns: list[str]) -> dict[str, np.ndarray]:
    """``columns`` of a part as numpy arrays (NaN for a float null), only their chunks
    read: pyarrow on one thread, twice as fast as fastparquet on a part's few columns."""
    import pyarrow.parquet as pq

    def read(source):
        table = pq.ParquetFile(source).read(columns=columns, use_threads=False)
        return {column: table.column(column).to_numpy() for column in columns}

    if file.local:
        return read(file.url)
    with file.fs.open(file.path, "rb") as handle:
        return read(handle)
