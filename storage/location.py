"""Where a store lives: a local folder, or an fsspec URL (``s3://bucket/prefix``,
``gs://...``, any filesystem fsspec speaks).

The cohort store and the result store do all their file work through a
:class:`Location`, so that both work the same on a disk and on an object store. The
two guarantees they build on hold on both:

- **whole-or-nothing writes** (:meth:`Location.write_bytes`): a local file is written
  under a temporary name and renamed; an object store PUTs the object in one request,
  which it stores whole or not at all;
- **exclusive creation** (:meth:`Location.create`): ``O_EXCL`` locally, a conditional
  PUT (S3's ``If-None-Match: *``, fsspec's ``mode="create"``) on an object store.

Nothing else is assumed of an object store: no rename, no directories (a "folder" is a
key prefix), no append.

Remote filesystems are configured the way their libraries are, never through linkscan's
job files or messages: for S3, the ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_DEFAULT_REGION`` environment variables or ``~/.aws``, and ``AWS_ENDPOINT_URL`` for
an S3-compatible server (MinIO, Ceph, moto); fsspec's own ``FSSPEC_<PROTOCOL>_<OPTION>``
variables for other options. A URL that carries credentials (``s3://KEY:SECRET@bucket``)
is shown as ``s3://***@bucket`` in every message (``str(location)``).

Listings of a remote location are never served from fsspec's listing cache: other
processes (the workers) write into the same store.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import uuid
from pathlib import Path

__all__ = ["Location", "is_url", "redact_url", "object_store_error"]

#: Local copies of remote files (:meth:`Location.local_copy`): url -> ((version, size), path).
_COPIES: dict[str, tuple[tuple, str]] = {}
_COPIES_LOCK = threading.Lock()
_COPIES_FOLDER: list[tempfile.TemporaryDirectory] = []  # removed when the process exits


def _copies_folder() -> str:
    if not _COPIES_FOLDER:
        _COPIES_FOLDER.append(tempfile.TemporaryDirectory(prefix="linkscan-copies-"))
    return _COPIES_FOLDER[0].name


#: Packages whose exceptions mean "the object store could not be used" (not a bug of ours).
_REMOTE_PACKAGES = ("botocore", "aiobotocore", "s3fs", "gcsfs", "adlfs", "aiohttp")


def is_url(root: "str | os.PathLike") -> bool:
    """Whether ``root`` names a remote (fsspec) location rather than a local path."""
    text = os.fspath(root)
    return "://" in text and not text.startswith("file://")


def redact_url(url: str) -> str:
    """``url`` without credentials: ``s3://KEY:SECRET@bucket/x`` -> ``s3://***@bucket/x``."""
    scheme, sep, rest = url.rpartition("://")
    host, slash, path = rest.partition("/")
    if "@" in host:
        host = "***@" + host.rsplit("@", 1)[1]
    return f"{scheme}{sep}{host}{slash}{path}"


def object_store_error(exc: BaseException) -> str | None:
    """A one-line message for an error of an object store's client library (no
    credentials, an endpoint that does not answer, access denied), credentials
    redacted; None for any other error."""
    if not any(cls.__module__.split(".")[0] in _REMOTE_PACKAGES for cls in type(exc).__mro__):
        return None
    import re

    text = re.sub(r"://[^/@\s\"']+@", "://***@", str(exc))
    return (f"the object store could not be used ({type(exc).__name__}: {text}); check its credentials and "
            "endpoint (for S3: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or ~/.aws, and AWS_ENDPOINT_URL for a "
            "server other than AWS) and that the bucket exists")


class Location:
    """A file or folder of a store, local or remote; cheap to build and to pickle (the
    fsspec filesystem is made again, from the URL, in each process that uses it).

    Parameters
    ----------
    root
        A local path (``file://`` stripped) or an fsspec URL.
    """

    __slots__ = ("url", "_fs", "_path")

    def __init__(self, root: "str | os.PathLike") -> None:
        text = os.fspath(root)
        if text.startswith("file://"):
            text = text[len("file://"):]
        self.url = text.rstrip("/") if is_url(text) else text
        self._fs = None
        self._path = None

    # ------------------------------------------------------------------ identity
    def __getstate__(self):
        return self.url

    def __setstate__(self, url):
        self.url, self._fs, self._path = url, None, None

    def __truediv__(self, name: str) -> "Location":
        if self.local:
            return Location(os.path.join(self.url, name))
        return Location(f"{self.url}/{name}")

    def __str__(self) -> str:
        return redact_url(self.url) if not self.local else self.url

    def __repr__(self) -> str:
        return f"Location({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Location) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    @property
    def local(self) -> bool:
        return not is_url(self.url)

    @property
    def parent(self) -> "Location":
        if self.local:
            return Location(os.path.dirname(self.url) or ".")
        return Location(self.url.rsplit("/", 1)[0])

    @property
    def fs(self):
        """The fsspec filesystem of a remote location (made on first use)."""
        if self._fs is None:
            import fsspec

            self._fs, self._path = fsspec.core.url_to_fs(self.url)
        return self._fs

    @property
    def path(self) -> str:
        """The path within :attr:`fs` (remote), or the local path."""
        if self.local:
            return self.url
        self.fs  # noqa: B018 (sets _path)
        return self._path

    def _fresh(self):
        fs = self.fs
        fs.invalidate_cache(self.path)
        return fs

    # ------------------------------------------------------------------ queries
    def exists(self) -> bool:
        return os.path.exists(self.url) if self.local else self._fresh().exists(self.path)

    def is_file(self) -> bool:
        return os.path.isfile(self.url) if self.local else self._fresh().isfile(self.path)

    def names(self) -> list[str]:
        """Names of the entries directly in this folder, sorted; empty if it is absent."""
        if self.local:
            try:
                return sorted(os.listdir(self.url))
            except (FileNotFoundError, NotADirectoryError):
                return []
        try:
            entries = self._fresh().ls(self.path, detail=False)
        except FileNotFoundError:
            return []
        return sorted(e.rstrip("/").rsplit("/", 1)[-1] for e in entries if e.rstrip("/") != self.path.rstrip("/"))

    def size(self) -> int:
        """Size in bytes, -1 if absent."""
        try:
            return os.stat(self.url).st_size if self.local else int(self._fresh().size(self.path))
        except FileNotFoundError:
            return -1

    # ------------------------------------------------------------------ reading
    def read_bytes(self) -> bytes:
        """The file's bytes (FileNotFoundError if absent)."""
        if self.local:
            return Path(self.url).read_bytes()
        return self.fs.cat_file(self.path)

    def read_text(self) -> str:
        return self.read_bytes().decode()

    @staticmethod
    def read_many(locations: "list[Location]") -> list[bytes | None]:
        """Bytes of each location (None for an absent one); remote files of one
        filesystem are fetched concurrently."""
        if not locations:
            return []
        if locations[0].local:
            out = []
            for loc in locations:
                try:
                    out.append(loc.read_bytes())
                except FileNotFoundError:
                    out.append(None)
            return out
        fs = locations[0].fs
        got = fs.cat([loc.path for loc in locations], on_error="return")
        return [None if isinstance(got.get(loc.path), BaseException) else got.get(loc.path) for loc in locations]

    def local_copy(self) -> str:
        """A local path with this file's bytes: the file itself on a disk; for an object,
        a copy in this process's temporary folder, downloaded once and served again for
        as long as the object's version (its ETag, else its modification time) and size
        are the same. For files that many tasks of one worker read whole (a scan's BH
        tables, hundreds of MB each: every shard's compaction reads all of them).
        Without a version to check, every call downloads afresh."""
        if self.local:
            return self.url
        info = self._fresh().info(self.path)
        version = next((str(info[k]) for k in ("ETag", "etag", "md5Hash", "LastModified", "mtime") if info.get(k)),
                       None)
        key = (version, info.get("size"))
        with _COPIES_LOCK:
            held = _COPIES.get(self.url)
            if version is not None and held is not None and held[0] == key:
                return held[1]
            target = os.path.join(_copies_folder(), uuid.uuid4().hex)
            self.fs.get_file(self.path, target)
            if held is not None:  # an older version of the object
                with contextlib.suppress(OSError):
                    os.remove(held[1])
            _COPIES[self.url] = (key, target)
            return target

    # ------------------------------------------------------------------ writing
    def mkdir(self) -> None:
        """Make this folder and its parents (a no-op on object stores: no folders)."""
        if self.local:
            os.makedirs(self.url, exist_ok=True)

    def write_bytes(self, data: bytes) -> None:
        """Write the file whole or not at all (see the module docstring). OSError as
        the filesystem raises it; a local temporary file is removed on failure."""
        if not self.local:
            self.fs.pipe_file(self.path, data)
            return
        tmp = os.path.join(os.path.dirname(self.url), f".{os.path.basename(self.url)}.{uuid.uuid4().hex}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.url)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def create(self, data: bytes) -> None:
        """Create the file with ``data`` only if it does not exist; FileExistsError if
        it does."""
        if not self.local:
            self.fs.pipe_file(self.path, data, mode="create")
            return
        fd = os.open(self.url, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        """Remove the file if it exists."""
        try:
            if self.local:
                os.unlink(self.url)
            else:
                self.fs.rm_file(self.path)
        except FileNotFoundError:
            pass

    def remove_tree(self) -> None:
        """Remove the folder and everything in it, if it exists; errors are ignored (it
        is cleanup)."""
        if self.local:
            import shutil

            shutil.rmtree(self.url, ignore_errors=True)
            return
        try:
            self._fresh().rm(self.path, recursive=True)
        except (FileNotFoundError, OSError):
            pass

    def remove_if_empty(self) -> None:
        """Remove a local folder if it is empty (an object store has no empty folders)."""
        if self.local:
            try:
                os.rmdir(self.url)
            except OSError:
                pass
