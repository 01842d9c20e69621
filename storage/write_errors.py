"""OSErrors of store writes as :class:`~linkscan.errors.WriteError`: the cause in words,
the path as the user knows it (never a temporary name of a store) and the fix."""

import errno
import os
import re

from linkscan.errors import WriteError

#: errno -> (the cause in words, the fix) for :func:`write_error`; ``{where}`` is the
#: target, ``{folder}`` the folder that refused, ``{path}`` the path that failed.
_WRITE_CAUSES = {
    errno.ENOSPC: ("no space left on the device", "free space on the disk that holds {folder} (or choose a location on a disk with room)"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space within your quota (or choose a location on another disk)"),
    errno.EACCES: ("permission denied", "make {folder} writable for this user, or choose another location"),
    errno.EPERM: ("operation not permitted", "make {folder} writable for this user, or choose another location"),
    errno.EROFS: ("the file system is read-only", "choose a location on a writable file system"),
    errno.ENOTDIR: ("a file is in the way of a folder", "remove or rename the file in {path}, or choose another location"),
    errno.EEXIST: ("a file is in the way of a folder", "remove or rename the file {path}, or choose another location"),
}


#: A version folder of a cohort store Dataset (linkscan.storage.inputs.cohort_store): not a name users know.
_VERSION = re.compile(r"v-\d{8}T\d{12}-[0-9a-f]{8}")


def _hidden_temporary(path: str) -> bool:
    """Whether ``path`` lies in a temporary name of a store (``.<name>.tmp-...``,
    ``.<name>.<hex>.tmp``) or in a Dataset version being written (``v-<time>-<hex>``)."""
    return any((part.startswith(".") and ".tmp" in part) or _VERSION.fullmatch(part) for part in path.split(os.sep))


def write_error(target: "str | os.PathLike", exc: OSError, what: str, kept: str) -> WriteError:
    """The :class:`WriteError` for an ``OSError`` raised while writing ``target``.

    Parameters
    ----------
    target
        What was being written (a Dataset folder, a result file), as the user knows it.
    exc
        The error: its ``errno`` picks the words and the fix; its ``filename`` is named
        too unless it is a temporary file of the store.
    what
        What ``target`` is, e.g. ``"cohort 'OV', omics 'proteome'"``.
    kept
        What is left as it was, e.g. ``"the previous version is unchanged"``.

    Examples
    --------
    >>> print(write_error("/s/OV/rna.zarr", OSError(28, "No space left on device"), "omics 'rna'", "nothing changed"))
    cannot write omics 'rna' to /s/OV/rna.zarr: no space left on the device (errno ENOSPC); nothing changed; free space on the disk that holds /s/OV (or choose a location on a disk with room), then run the command again
    """
    target = os.fspath(target)
    failed = os.fspath(exc.filename) if isinstance(exc.filename, (str, bytes, os.PathLike)) else None
    if isinstance(failed, bytes):
        failed = os.fsdecode(failed)
    shown = failed if failed and failed != target and not _hidden_temporary(failed) else None
    folder = os.path.dirname(shown) if shown else os.path.dirname(target) or "."
    cause, fix = _WRITE_CAUSES.get(exc.errno, (exc.strerror or str(exc), "fix the cause"))
    code = f"errno {errno.errorcode.get(exc.errno, exc.errno)}" if exc.errno is not None else type(exc).__name__
    at = f" ({shown})" if shown else ""
    return WriteError(
        f"cannot write {what} to {target}: {cause}{at} ({code}); {kept}; "
        f"{fix.format(where=target, folder=folder, path=shown or target)}, then run the command again"
    )
