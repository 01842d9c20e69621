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


def parquet_bytes(frame: pd.DataFrame, row_group_offsets=None) -> bytes:
    """``frame`` as the bytes of a Parquet file (LZ4, no index), one row group unless
    ``row_group_offsets`` says where each starts.

    Written by pyarrow: a row group costs it ~0.07 ms per column against fastparquet's
    ~0.45 ms, which let a finished shard hold one feature per row group (a lookup decodes
    one feature's rows) and still be written 1.3x faster than fastparquet wrote row groups
    of 8 (benchmarks/RESULTS.md, "A Parquet writer with cheap row groups").

    A missing value (NaN, NA) in a float, count or string column is a Parquet null, which
    other readers skip (DuckDB counts, averages and filters NaN as a number, above every
    other); the code, test and flag columns are required. Statistics only where a read
    filters: the code columns, whose min/max let a lookup skip row groups. The Arrow schema
    and the pandas metadata are kept, so pyarrow (lookups) and fastparquet (the finish's
    reads of the parts) read back the dtypes written (Int16 counts, the categorical
    ``test``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    inferred = pa.Schema.from_pandas(frame, preserve_index=False)
    schema = pa.schema([field.with_nullable(_may_be_missing(frame[field.name].dtype)) for field in inferred],
                       metadata=inferred.metadata)
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    offsets = [0] if row_group_offsets is None else [int(o) for o in row_group_offsets]
    buffer = io.BytesIO()
    # dictionary-encoded: the categorical test, and the counts (Parquet's smallest integer
    # is 4 bytes; a count column has a few hundred distinct values: 8% fewer bytes a shard)
    dictionary = [c for c in frame.columns if isinstance(frame[c].dtype, (pd.CategoricalDtype, pd.Int16Dtype))]
    with pq.ParquetWriter(buffer, schema, compression=COMPRESSION.lower(), use_dictionary=dictionary,
                          write_statistics=[c for c in ("feature", "partner") if c in frame.columns]) as out:
        for begin, end in zip(offsets, offsets[1:] + [len(frame)]):
            out.write_table(table.slice(begin, end - begin), row_group_size=max(end - begin, 1))
    return buffer.getvalue()


def _may_be_missing(dtype) -> bool:
    """Whether a column of ``dtype`` is written nullable: floats, nullable integers and
    strings (not the codes, the categorical test or the flags)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    nullable_integer = isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iu"
    return dtype.kind == "f" or nullable_integer or pd.api.types.is_string_dtype(dtype)


def read_parquet(location: Location) -> pd.DataFrame:
    """The whole Parquet file at ``location`` (a small one: the features table) read by
    pyarrow, which a lookup has loaded anyway (fastparquet and fsspec would add 40 ms
    to a fresh `linkscan query`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(location.read_bytes())).to_pandas()


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
