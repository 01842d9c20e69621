"""Writing result files whole or not at all: bytes, Parquet frames and folders.

A file is written through :meth:`Location.write_bytes` (a local file under a temporary
name then renamed, an object in one PUT), so that a killed process leaves no
half-written file under a final name; an OSError (a full disk, no write permission)
becomes a WriteError that names the file and says what is kept.
"""

from __future__ import annotations

import hashlib
import io

import pandas as pd

from linkscan.storage.location import Location
from linkscan.storage.results.schema import COMPRESSION
from linkscan.storage.write_errors import write_error

#: What a failed write of a result file leaves (see :func:`put`).
KEPT = "the files written before it are kept (tiles finished earlier stay finished)"


def put(location: Location, data: bytes, kept: str = KEPT) -> None:
    """Write ``data`` whole or not at all (:meth:`Location.write_bytes`); an OSError (a
    full disk, no write permission) becomes a WriteError naming the file."""
    try:
        location.write_bytes(data)
    except OSError as exc:
        raise write_error(str(location), exc, "a result file", kept) from exc


class _Buffer(io.BytesIO):
    """A BytesIO that fastparquet can close without losing its bytes."""

    def close(self) -> None:
        pass


def parquet_bytes(frame: pd.DataFrame, row_group_offsets=None, nulls: list[str] | None = None) -> bytes:
    """``frame`` as the bytes of a Parquet file (LZ4, no index), one row group unless
    ``row_group_offsets`` says where each starts.

    ``nulls`` are the columns written with definition levels, where a missing value
    (NaN, NA) is a Parquet null; default: the nullable integer columns (the counts),
    which have no other way to be missing. Float columns outside ``nulls`` keep NaN as
    a value: the tile parts do (every level costs writing and reading, and only
    linkscan reads parts), the finished shards do not (other readers count NaN as a
    number: :meth:`~linkscan.storage.results.shards.Shards.write_shard`)."""
    import fastparquet

    if nulls is None:
        nulls = [c for c in frame.columns if isinstance(frame[c].dtype, pd.Int16Dtype)]
    buffer = _Buffer()
    fastparquet.write(
        # statistics only where a read filters: the code columns (min/max of "feature"
        # let a lookup skip row groups); for the other columns they cost a quarter of
        # the write and serve no query
        "part.parquet", frame, compression=COMPRESSION, write_index=False,
        stats=[c for c in ("feature", "partner") if c in frame.columns],
        has_nulls=nulls,
        row_group_offsets=row_group_offsets if row_group_offsets is not None else 50_000_000,
        open_with=lambda path, mode="wb": buffer,
    )
    return buffer.getvalue()


def write_parquet(location: Location, frame: pd.DataFrame, kept: str = KEPT) -> tuple[int, str]:
    """Write ``frame`` to ``location`` (:func:`parquet_bytes`, one row group) whole or
    not at all; return (bytes, sha256). An OSError (a full disk, no write permission)
    becomes a WriteError naming the file."""
    data = parquet_bytes(frame)
    put(location, data, kept)
    return len(data), hashlib.sha256(data).hexdigest()


def mkdir(folder: Location) -> None:
    """Create a folder of the store (a no-op on object stores); OSError -> WriteError."""
    try:
        folder.mkdir()
    except OSError as exc:
        raise write_error(str(folder), exc, "a result folder", KEPT) from exc
