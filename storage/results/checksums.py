"""Checksums of the finished shards: what ``complete.json`` records of each shard file,
and the reads that check a shard's bytes against it.

A shard's record (:func:`shard_record`, made from the bytes just written)::

    {"rows": 1192, "bytes": 1051424, "sha256": "...",
     "footer": [2957, 1719433371],         # length of the footer's tail, its CRC-32
     "row_groups": [3411620471, ...]}      # CRC-32 of each row group's byte range

The footer's tail is the Thrift metadata, its 4-byte length and the closing ``PAR1``;
a row group's byte range runs from the first byte of its first column chunk to the last
byte of its last (:func:`row_group_range`, read from the footer, which is itself
checked first). A lookup reads the footer of a shard once per process and then only
the row groups that hold its feature, each checked as it is read and decoded from those
same bytes (:class:`Verified`); the sha256 and size of the whole file are what
:meth:`~linkscan.storage.results.shards.Shards.verify` checks.

CRC-32 for the parts a lookup checks: it detects every error burst of up to 32 bits (a
flipped byte) and misses other damage with probability 2^-32, which is what a disk's or
a copy's damage needs (nobody forges a shard), and zlib runs it at 2.2 GB/s on this
project's VM against 1.1 GB/s for hashlib's sha256 (64 MB, 3 runs). What it costs a
lookup is in benchmarks/RESULTS.md ("Shard checksums and nulls").
"""

from __future__ import annotations

import hashlib
import zlib

from linkscan.errors import ResultsError
from linkscan.storage.location import Location


def row_group_range(row_group) -> tuple[int, int]:
    """(start, end) byte offsets of a row group (pyarrow's ``RowGroupMetaData`` of the
    file's footer), as the footer places it: from its first column chunk's first page
    (the dictionary page if there is one) to the end of its last chunk, the bytes a
    reader of the row group reads."""
    starts, ends = [], []
    for j in range(row_group.num_columns):
        chunk = row_group.column(j)
        start = min(chunk.dictionary_page_offset or chunk.data_page_offset, chunk.data_page_offset)
        starts.append(start)
        ends.append(start + chunk.total_compressed_size)
    return min(starts), max(ends)


def footer_metadata(tail: bytes):
    """pyarrow's ``FileMetaData`` parsed from a Parquet file's footer tail alone (the
    Thrift metadata, its length, ``PAR1``): never a read of the bytes before it, which
    a reader given the whole file would read ahead."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.ParquetFile(pa.BufferReader(b"PAR1" + tail)).metadata


def shard_record(data: bytes, rows: int) -> dict:
    """What ``complete.json`` records of a shard file of these bytes (see the module's
    docstring)."""
    footer = int.from_bytes(data[-8:-4], "little") + 8
    metadata = footer_metadata(data[-footer:])
    return {"rows": rows, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "footer": [footer, zlib.crc32(data[-footer:])],
            "row_groups": [zlib.crc32(data[slice(*row_group_range(metadata.row_group(i)))])
                           for i in range(metadata.num_row_groups)]}


def shard_error(store: Location, *problems: str) -> ResultsError:
    """The error of shards of ``store`` that cannot be served, each of ``problems``
    naming one and what is wrong with it, and the fix. The tiles' parts were removed when
    the scan finished, so the resubmission computes every tile again (the ledger
    entries no longer find their parts)."""
    return ResultsError(f"{'; '.join(problems)}; delete {store / 'complete.json'} and {store / 'shards'}/ "
                        "and resubmit the job to rebuild them (every tile is computed again)")


class ShardReader:
    """Checked reads of one shard ``file`` of ``store`` against its complete.json
    ``record``: each read returns the bytes as a :class:`Verified` file for pyarrow,
    or raises ResultsError naming the shard and the fix if the file is missing, shorter
    than recorded, or holds other bytes there."""

    def __init__(self, file: Location, store: Location, record: dict) -> None:
        self.file, self.store, self.record = file, store, record

    def metadata(self):
        """The footer's tail, checked, parsed (pyarrow's ``FileMetaData``)."""
        length, crc = self.record["footer"]
        return footer_metadata(self._read(self.record["bytes"] - length, self.record["bytes"], crc,
                                          "its footer").read())

    def row_group(self, index: int, start: int, end: int) -> "Verified":
        """Row group ``index``, bytes ``start:end`` (from the checked footer), checked."""
        return self._read(start, end, self.record["row_groups"][index], f"its row group {index}")

    def _read(self, start: int, end: int, crc: int, what: str) -> "Verified":
        file = self.file
        try:
            if file.local:
                with open(file.url, "rb") as fh:
                    fh.seek(start)
                    data = fh.read(end - start)
            else:
                data = file.fs.cat_file(file.path, start=start, end=end)
        except FileNotFoundError:
            raise shard_error(self.store, f"result shard {file} is missing") from None
        if len(data) < end - start:
            raise shard_error(self.store, f"result shard {file} is damaged: it is shorter than the "
                                          f"{self.record['bytes']:,} bytes complete.json records")
        if zlib.crc32(data) != crc:
            raise shard_error(self.store, f"result shard {file} is damaged: {what} does not match its "
                                          "checksum in complete.json")
        return Verified(data, start, self.record["bytes"])


class Verified:
    """Checked bytes of a file, read at their offsets in that file: the ``seek``,
    ``tell`` and ``read`` that pyarrow calls on an open file, over ``data`` (the
    file's bytes from offset ``start`` on). A read outside them is a bug (the footer
    said where to read), never a silent read of unchecked bytes."""

    closed = False

    def __init__(self, data: bytes, start: int, size: int) -> None:
        self._data, self._start, self._size, self._at = data, start, size, start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._at = offset + (0, self._at, self._size)[whence]
        return self._at

    def tell(self) -> int:
        return self._at

    def read(self, n: int = -1) -> bytes:
        lo = self._at - self._start
        hi = len(self._data) if n < 0 else lo + n
        if lo < 0 or hi > len(self._data):
            raise ValueError(f"read of bytes {self._at}:{self._start + hi} outside the checked "
                             f"{self._start}:{self._start + len(self._data)}")
        self._at = self._start + hi
        return self._data[lo:hi]
