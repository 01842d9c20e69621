"""The result store: :class:`ResultStore`, one frozen dataclass of one field, ``root``.

A ``ResultStore(root)`` is all a caller holds of a store; it is cheap to build and to
pickle (workers receive it with every tile). Its methods are written in the modules of
this package by what they do, each a small mixin class that ``ResultStore`` inherits:

- :class:`~linkscan.storage.results.lock.Submission` (``lock.py``): ``lock``,
  ``lock_holder``, ``unlock``, ``record_failure``, ``failures``;
- :class:`~linkscan.storage.results.ledger.Ledger` (``ledger.py``): ``write_tile``,
  ``ledger``, ``ledger_names``, ``read_parts``, ``p_values``;
- :class:`~linkscan.storage.results.shards.Shards` (``shards.py``): ``save_q_table``,
  ``q_table``, ``write_shard``, ``mark_complete``, ``summary``, ``is_complete``,
  ``completion``, ``shard_records``, ``verify``;
- :class:`~linkscan.storage.results.lookup.Lookups` (``lookup.py``): ``features``,
  ``lookup``.

A mixin holds no state: its methods read and write under ``self.path`` and call the
store's other methods through ``self``, so each method is written once, with its
docstring, where its neighbours are (no delegating stubs). This module holds what
makes a store and what the mixins share: ``create_or_resume``, ``manifest`` and
``dtypes``; and :func:`result_stores`, the stores of a folder (here, beside the class it
builds, so that no mixin imports this module). The layout of a store is described in
:mod:`linkscan.storage.results`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pandas as pd

from linkscan.errors import ResultsError
from linkscan.storage.location import Location
from linkscan.storage.results.files import mkdir, put, write_parquet
from linkscan.storage.results.ledger import Ledger
from linkscan.storage.results.lock import Submission
from linkscan.storage.results.lookup import Lookups
from linkscan.storage.results.schema import dtypes_of
from linkscan.storage.results.shards import Shards, shard_name
from linkscan.storage.write_errors import write_error


#: The folders of a store that its tiles and its finish write into.
_FOLDERS = ("ledger", "parts", "shards")


@dataclass(frozen=True)
class ResultStore(Submission, Ledger, Shards, Lookups):
    """A result store rooted at a local folder or an fsspec URL (see
    :mod:`linkscan.storage.location`). Cheap to build and to pickle: workers receive it with
    every tile."""

    root: str

    @property
    def path(self) -> Location:
        """The store's folder."""
        return Location(self.root)

    def create_or_resume(self, manifest: dict, features: pd.DataFrame) -> bool:
        """Start a new store for ``manifest``, or confirm that the existing one holds the
        same scan and make its ``ledger/``, ``parts/`` and ``shards/`` folders again if
        they were deleted. Returns True when resuming. A store of a different scan is an
        error (results are never mixed)."""
        path = self.path
        if (path / "manifest.json").is_file():
            old = self.manifest()
            if old.get("fingerprint") != manifest["fingerprint"]:
                changed = sorted(
                    key for key in set(old.get("scan", {})) | set(manifest["scan"])
                    if old.get("scan", {}).get(key) != manifest["scan"].get(key)
                )
                raise ResultsError(
                    f"{path} holds the results of a different scan (differs in: "
                    f"{', '.join(changed) or 'inputs'}); give the job another results "
                    "directory, or delete this one to start over"
                )
            # A folder deleted since (by hand, or as a printed fix says: shards/ of a
            # damaged store) is made again, so that tiles and the finish can write.
            for sub in _FOLDERS:
                mkdir(path / sub)
            return True
        if path.is_file():
            raise ResultsError(
                f"{path} is a file, not a results directory; point the job's `results` at a new or empty directory"
            )
        if path.names():
            raise ResultsError(
                f"{path} exists, is not empty and is not a linkscan result store; "
                "choose an empty or new results directory"
            )
        created = not path.exists()
        try:
            for sub in _FOLDERS:
                (path / sub).mkdir()
            nothing = "nothing is left of the new result store"
            write_parquet(path / "features.parquet", features, kept=nothing)
            # the manifest last: a directory without it is not a result store yet
            put(path / "manifest.json", json.dumps(manifest, indent=1).encode(), kept=nothing)
        except BaseException as exc:
            # Take back what this call made (the directory was empty or absent), so that
            # the next submission starts afresh instead of finding a foreign directory.
            (path / "features.parquet").remove()
            for sub in _FOLDERS:
                (path / sub).remove_tree()
            if created:
                path.remove_if_empty()  # only if nothing else appeared in it
            if isinstance(exc, OSError):  # a mkdir
                raise write_error(str(path), exc, "the result store", "nothing is left of the new result store") from exc
            raise
        return False

    def begin_cohort_change(self, manifest: dict, features: pd.DataFrame) -> None:
        """Make this finished store the start of a scan of other cohorts (``manifest``):
        keep the finished scan's manifest, features and completion in ``previous/`` (its
        shards stay where they are: the new scan's tiles read them, its finish replaces
        them), then clear its tiles and q tables and write the new scan's features and
        manifest. Each step can be interrupted: ``previous/complete.json`` is written
        last there, and until the new manifest is written a submission starts over here.
        The caller holds the store's lock."""
        path, previous = self.path, self.path / "previous"
        if (path / "complete.json").is_file():
            (previous / "complete.json").remove()
            mkdir(previous)
            for name in ("manifest.json", "features.parquet", "complete.json"):  # complete.json last
                put(previous / name, (path / name).read_bytes())
            (path / "complete.json").remove()
        for sub in ("ledger", "parts", "bh"):
            (path / sub).remove_tree()
            mkdir(path / sub)
        write_parquet(path / "features.parquet", features)
        put(path / "manifest.json", json.dumps(manifest, indent=1).encode())

    def previous_manifest(self) -> dict:
        """The manifest of the finished scan a cohort change started from
        (``previous/manifest.json``); FileNotFoundError if there is none whole."""
        if not (self.path / "previous" / "complete.json").is_file():
            raise FileNotFoundError(str(self.path / "previous" / "complete.json"))
        return json.loads((self.path / "previous" / "manifest.json").read_bytes())

    def end_cohort_change(self, n_shards: int) -> None:
        """After the new scan's finish: remove ``previous/`` and the previous scan's shard
        files beyond the new scan's ``n_shards``."""
        keep = {shard_name(shard) for shard in range(n_shards)}
        for name in (self.path / "shards").names():
            if name not in keep:
                (self.path / "shards" / name).remove()
        (self.path / "previous").remove_tree()

    def manifest(self) -> dict:
        """What the scan is (``manifest.json``); ResultsError if this is not a store."""
        try:
            return json.loads((self.path / "manifest.json").read_bytes())
        except FileNotFoundError:
            raise ResultsError(
                f"{self.path} is not a linkscan result store (no manifest.json); "
                "pass the `results` directory of a job"
            ) from None

    def dtypes(self) -> dict[str, str]:
        """Column name -> dtype of this store's result rows, in column order (its
        manifest's cohorts, p mode and two-group tests)."""
        return dtypes_of(self.manifest())


def result_stores(root: str | os.PathLike, kind: str | None = None) -> list[ResultStore]:
    """The result stores at ``root``: the store itself, or each store one level below it
    (a folder of scans, e.g. ``results/trans``, ``results/tumor_normal``), optionally
    only those of one ``kind``."""
    root = Location(root)
    if (root / "manifest.json").is_file():
        stores = [ResultStore(root.url)]
    else:
        stores = [ResultStore((root / name).url) for name in root.names() if (root / name / "manifest.json").is_file()]
    if not stores:
        raise ResultsError(f"{root} is not a linkscan result store and holds none (no manifest.json); "
                           "pass the `results` directory of a job")
    if kind is not None:
        kinds = {s.manifest().get("kind", "trans") for s in stores}
        stores = [s for s in stores if s.manifest().get("kind", "trans") == kind]
        if not stores:
            raise ResultsError(f"{root} holds no {kind!r} scan; it has: {', '.join(sorted(kinds))}")
    return stores
