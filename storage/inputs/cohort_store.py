"""The cohort store: one Zarr v3 xarray Dataset per cohort, omics and tissue, and one
phenotype Dataset per cohort.

Layout (a local folder, or an fsspec URL such as ``s3://bucket/store``: see
:mod:`linkscan.storage.location`)::

    <root>/<cohort>/<omics>.zarr/          tumor samples of an omics
        zarr.json                          a Zarr v3 group naming the current version:
                                           attribute ``linkscan_version``
        v-<UTC time>-<token>/              that version, a Zarr v3 group:
            zarr.json                      group metadata + Dataset attributes
            values/                        float32 [feature, sample]; chunks =
                                           (feature block, all samples)
            feature/  sample/  gene/       coordinates, variable-length UTF-8 strings
    <root>/<cohort>/<omics>.normal.zarr/   normal samples of that omics, same layout
    <root>/<cohort>/phenotypes.zarr/       clinical, binary and survival phenotypes along
                                           ``sample`` (layout: linkscan.storage.inputs.phenotypes), same
                                           versioned layout

With xarray directly: ``xr.open_zarr(".../proteome.zarr", group=<linkscan_version>)``.
(A Dataset written before versions existed, with its arrays beside ``zarr.json``, is
read as it is and replaced by the versioned layout at its next write.)

Tumor and normal samples of an omics are separate Datasets, so a scan of tumors never
sees a normal sample and the same participant id may name a tumor and its normal
(CPTAC UCEC does). ``open(cohort, omics)`` is the tumor Dataset, ``open(cohort, omics,
tissue="normal")`` the normal one; :meth:`CohortStore.omics` lists the omics that have a
tumor Dataset, :meth:`CohortStore.tissues` the tissues one omics has. The name
``phenotypes`` and omics names ending in ``.normal`` are reserved.

Dataset attributes: ``cohort``, ``omics``, ``tissue`` (``tumor`` or ``normal``),
``kind`` (``continuous``, or ``binary`` for 0/1 tables such as mutation calls, whose
rows the engine uses as binary phenotypes), ``source`` (the table it was read from),
``ingested_at`` (UTC, ISO 8601), ``n_missing`` (NaN cells), ``n_inf_replaced``
(infinite cells of the table stored as NaN) and ``n_all_missing`` (features without a
value). Datasets written before ``tissue`` and ``kind`` existed open with ``tumor`` and
``continuous``.

The variables are those of :mod:`linkscan.storage.inputs.variables`. Features are unique and sorted
ascending in Python string order (the scan engine maps a block of the sorted union of
features to one contiguous row range per cohort), samples unique.

Writes (omics and phenotypes alike) are atomic replacements that need no rename, so
they work on object stores: the new version is written in full under a new
``v-...`` name, then the Dataset's ``zarr.json`` is replaced by one naming it (a
whole-or-nothing write: :meth:`linkscan.storage.location.Location.write_bytes`), then the
previous version is removed, its ``zarr.json`` first. A reader opens either the old or
the new version, never a half-written one; a write that fails leaves the old version
current and removes what it wrote (a killed write can leave an unnamed ``v-...`` folder
behind, never read).

A scan pins the versions it planned with (``Dataset.attrs["version"]``, set by
:meth:`open`) and reads them through :class:`PinnedValues`: after each read it checks
that the version's ``zarr.json`` still exists (a stat; one HEAD request on S3). As a
writer removes that file before any chunk of the version, a read followed by a
successful check saw the whole planned version; a version made old by a re-ingest is
still read while it exists, and a failed check is an error naming the Dataset and what
to do, never NaN read from removed chunks.

One writer per cohort at a time: every write holds the cohort's writer lock
(:meth:`CohortStore.writing`, a file ``<root>/.<cohort>.lock`` created exclusively; see
:mod:`linkscan.storage.locks`), and a phenotype ingest holds it around its read, merge
and write. A second writer waits while the holder runs, up to :data:`WRITER_WAIT`
seconds; the lock of a killed writer of this host is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import uuid
from datetime import datetime, timezone

import numpy as np
import xarray as xr

from linkscan.storage import locks
from linkscan.storage.inputs import phenotypes as _phenotypes
from linkscan.storage.inputs import variables
from linkscan.errors import InputError, LinkscanError, WriteError
from linkscan.storage.write_errors import write_error
from linkscan.storage.location import Location

__all__ = ["CohortStore", "PinnedValues", "check_name", "check_tissue", "DEFAULT_CHUNK_FEATURES", "TISSUES",
           "KINDS", "PHENOTYPES", "MAX_NAME", "WRITER_WAIT"]

#: Features per chunk of ``values`` unless a write says otherwise.
DEFAULT_CHUNK_FEATURES = 512

#: Tissues of an omics; the first is the default (scans use tumors).
TISSUES = ("tumor", "normal")
#: Kinds of omics values.
KINDS = ("continuous", "binary")
#: The reserved name of a cohort's phenotype Dataset.
PHENOTYPES = "phenotypes"
#: Longest cohort or omics name: names are parts of file names (file systems refuse
#: names of more than 255 bytes, and some paths as a whole of more than 4096).
MAX_NAME = 100
#: Seconds a write waits for the cohort's writer lock while another writer holds it.
WRITER_WAIT = 600.0

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_SUFFIX = ".zarr"
_NORMAL = ".normal"
_TEXT_COORDS = ("feature", "sample", "gene")


def check_name(name: str, what: str) -> str:
    """Return ``name`` if it is a valid cohort or omics name, else raise.

    Valid names use letters, digits, ``_``, ``-`` and ``.``, at most :data:`MAX_NAME`
    characters, and do not start with ``.`` (hidden names are reserved for the store's
    temporary files and locks). An omics is not named ``phenotypes`` and does not end in
    ``.normal`` (any case): both name other Datasets of a cohort.

    Parameters
    ----------
    name
        The name to check.
    what
        ``"cohort"`` or ``"omics"``, for the message.

    Raises
    ------
    InputError
        The name is empty, holds another character (a path separator, a space...),
        starts with ``.``, is too long, or is a reserved omics name.

    Examples
    --------
    >>> check_name("COAD", "cohort")
    'COAD'
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.startswith("."):
        raise InputError(
            f"invalid {what} name {name!r}: use letters, digits, '_', '-' and '.', not starting with '.' "
            f"(no path separators or spaces), e.g. 'COAD' or 'proteome_tumor'"
        )
    if len(name) > MAX_NAME:
        raise InputError(
            f"invalid {what} name {name[:20] + '...'!r} ({len(name)} characters): at most {MAX_NAME} characters, "
            f"as it names folders of the store; use a shorter name"
        )
    if what == "omics" and name.lower() == PHENOTYPES:
        raise InputError(
            f"invalid omics name {name!r}: {PHENOTYPES!r} is reserved for the cohort's phenotype Dataset "
            "(clinical and survival tables: --clinical, --survival); pick another name"
        )
    if what == "omics" and name.lower().endswith(_NORMAL):
        raise InputError(
            f"invalid omics name {name!r}: names ending in {_NORMAL!r} are reserved for normal-tissue Datasets; "
            f"ingest normal samples as tissue 'normal' of omics {name[: -len(_NORMAL)]!r} "
            f"(--normal {name[: -len(_NORMAL)]}=TABLE)"
        )
    return name


def check_tissue(tissue: str) -> str:
    """Return ``tissue`` if it is one of :data:`TISSUES`, else raise InputError."""
    if tissue not in TISSUES:
        raise InputError(f"invalid tissue {tissue!r}: use one of {', '.join(map(repr, TISSUES))}")
    return tissue


class CohortStore:
    """A directory of cohort Datasets (see the module docstring for the layout).

    Parameters
    ----------
    root
        Folder of the store, a local path or an fsspec URL (``s3://bucket/store``);
        created on the first write.

    Examples
    --------
    >>> import tempfile
    >>> store = CohortStore(tempfile.mkdtemp())
    >>> store.cohorts()
    []
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self._root = Location(root)

    @property
    def root(self) -> str:
        """The store's folder: a local path or a URL."""
        return self._root.url

    def __repr__(self) -> str:
        return f"CohortStore({str(self._root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CohortStore) and other._root == self._root

    def __hash__(self) -> int:
        return hash(self._root)

    # ----------------------------------------------------------------------- paths

    def _path(self, cohort: str | None = None, omics: str | None = None, tissue: str = "tumor") -> Location:
        """Path of the store, a cohort directory, or an omics Dataset (names checked)."""
        path = self._root
        if cohort is not None:
            path = path / check_name(cohort, "cohort")
            if omics is not None:
                tag = "" if check_tissue(tissue) == "tumor" else f".{tissue}"
                path = path / (check_name(omics, "omics") + tag + _SUFFIX)
        return path

    def dataset_path(self, cohort: str, omics: str, tissue: str = "tumor") -> str:
        """Path or URL of the folder of ``cohort``/``omics``/``tissue`` (whether it
        exists or not), as shown to users (credentials redacted)."""
        return str(self._path(cohort, omics, tissue))

    def values_path(self, cohort: str, omics: str, tissue: str = "tumor") -> str:
        """Path or URL of the Zarr array ``values`` of the current version of an existing
        Dataset (``zarr.open_array(path)[i0:i1]`` reads row slices; a scan reads through
        :meth:`pinned_values` instead).

        Raises
        ------
        InputError
            The cohort, omics or tissue is not in the store.
        """
        folder = self._require(cohort, omics, tissue)
        return (_version_location(folder, _current_version(folder)) / variables.values.name).url

    def pinned_values(self, cohort: str, omics: str, version: str, tissue: str = "tumor") -> "PinnedValues":
        """The ``values`` of one version of a Dataset, ``version`` as
        ``Dataset.attrs["version"]`` of an earlier :meth:`open` (``""`` for a Dataset
        written before versions): what a scan reads (see :class:`PinnedValues`).

        Raises
        ------
        InputError
            The cohort, omics or tissue is not in the store, or that version is gone.
        """
        return PinnedValues(self._require(cohort, omics, tissue), version, _what(cohort, omics, tissue))

    def phenotypes_path(self, cohort: str) -> str:
        """Path or URL of the folder of ``cohort``'s phenotypes (whether it exists or
        not), as shown to users."""
        return str(self._path(cohort) / (PHENOTYPES + _SUFFIX))

    # --------------------------------------------------------------------- listing

    def cohorts(self) -> list[str]:
        """Cohorts holding at least one (tumor) omics Dataset, sorted. A cohort with only
        normal Datasets or only phenotypes is not listed (see :meth:`tissues`,
        :meth:`has_phenotypes`)."""
        return [name for name in self._root.names() if _valid(name) and self._omics_in(self._root / name)]

    def omics(self, cohort: str) -> list[str]:
        """Omics of ``cohort`` that have a tumor Dataset, sorted; empty if the cohort does
        not exist. (Normal Datasets and the phenotypes are not omics of their own.)"""
        return self._omics_in(self._path(cohort))

    def tissues(self, cohort: str, omics: str) -> list[str]:
        """Tissues (in :data:`TISSUES` order) with a Dataset of ``cohort``/``omics``;
        empty if there is none."""
        return [t for t in TISSUES if (self._path(cohort, omics, t) / "zarr.json").is_file()]

    def has_phenotypes(self, cohort: str) -> bool:
        """Whether ``cohort`` has a phenotype Dataset."""
        return (self._phenotypes(cohort) / "zarr.json").is_file()

    def _phenotypes(self, cohort: str) -> Location:
        return self._path(cohort) / (PHENOTYPES + _SUFFIX)

    @staticmethod
    def _omics_in(cohort_dir: Location, tissue: str = "tumor") -> list[str]:
        found = []
        for entry in cohort_dir.names():
            name = entry[: -len(_SUFFIX)] if entry.endswith(_SUFFIX) else None
            if not name or not _valid(name) or not (cohort_dir / entry / "zarr.json").is_file():
                continue
            is_normal = name.lower().endswith(_NORMAL)
            if tissue == "normal" and is_normal:
                name = name[: -len(_NORMAL)]
            elif tissue != "tumor" or is_normal or name.lower() == PHENOTYPES:
                continue
            if _valid(name):
                found.append(name)
        return sorted(found)

    def _require(self, cohort: str, omics: str, tissue: str = "tumor") -> Location:
        path = self._path(cohort, omics, tissue)
        if (path / "zarr.json").is_file():
            return path
        cohort_dir = self._path(cohort)
        if not any(self._omics_in(cohort_dir, t) for t in TISSUES) and not self.has_phenotypes(cohort):
            cohorts = self.cohorts()
            there = f"cohorts there: {', '.join(cohorts)}" if cohorts else "the store is empty"
            raise InputError(f"cohort {cohort!r} is not in the store {self._root} ({there}); ingest it first")
        tissues = self.tissues(cohort, omics)
        if not tissues:
            raise InputError(
                f"omics {omics!r} is not in cohort {cohort!r} of the store {self._root} "
                f"(omics there: {', '.join(self.omics(cohort)) or 'none'}); ingest it first"
            )
        raise InputError(
            f"omics {omics!r} of cohort {cohort!r} has no {tissue} Dataset in the store {self._root} "
            f"(tissues there: {', '.join(tissues)}); ingest the {tissue} samples first"
            + (f" (linkscan ingest ... --normal {omics}=TABLE)" if tissue == "normal" else "")
        )

    # ------------------------------------------------------------------------- I/O

    def open(self, cohort: str, omics: str, tissue: str = "tumor") -> xr.Dataset:
        """Open a Dataset: ``values`` lazily (a dask array, one dask chunk per Zarr
        chunk), the coordinates in memory as numpy object arrays of str.

        Parameters
        ----------
        cohort, omics
            Names in the store.
        tissue
            ``"tumor"`` (the default; what scans use) or ``"normal"``.

        Raises
        ------
        InputError
            The cohort, omics or tissue is not in the store (the message lists what is),
            or the Dataset does not match :mod:`linkscan.storage.inputs.variables`.

        The Dataset's attribute ``version`` names the version read (see
        :meth:`pinned_values`); the coordinates are those of that whole version (read
        again from the new one if a re-ingest removed it meanwhile). ``values`` is
        read when used, from that version: use :meth:`pinned_values` for reads that
        must notice its removal.
        """
        path = self._require(cohort, omics, tissue)

        def read(version: str) -> xr.Dataset:
            # consolidated=False: zarr 3 warns that consolidated metadata is not part of
            # the v3 spec, and xarray warns when it looks for it and finds none.
            ds = xr.open_zarr(_version_location(path, version).url, consolidated=False, zarr_format=3)
            # zarr's variable-length strings come back as numpy's StringDType, which e.g.
            # refuses .astype(str); object arrays of str behave like every other string
            # array in numpy and pandas. The id arrays are small, so load them.
            return ds.assign_coords(
                {name: (ds[name].dims, np.array(ds[name].values.tolist(), dtype=object)) for name in _TEXT_COORDS}
            )

        what = _what(cohort, omics, tissue)
        ds, version = _read_current(path, what, read)
        ds.attrs.setdefault("tissue", tissue)
        ds.attrs.setdefault("kind", "continuous")
        ds.attrs["version"] = version
        _check(ds, f"{self._root}: {what}")
        return ds

    def write(
        self,
        cohort: str,
        omics: str,
        ds: xr.Dataset,
        *,
        tissue: str = "tumor",
        chunk_features: int = DEFAULT_CHUNK_FEATURES,
        written_before: str = "",
    ) -> None:
        """Write ``ds`` as ``cohort``/``omics``/``tissue``, replacing any previous version
        atomically, under the cohort's writer lock (:meth:`writing`).

        Parameters
        ----------
        cohort, omics
            Names (see :func:`check_name`).
        ds
            A Dataset with the variables of :mod:`linkscan.storage.inputs.variables`: features unique and
            sorted, samples unique, no infinite values. Values are stored as float32
            (loaded into memory: a cohort is tens of MB). Attributes are kept (they must
            be JSON-serialisable); ``source`` and ``n_inf_replaced`` default to ``""``
            and 0, ``kind`` to ``"continuous"`` (``"binary"``: every value is 0, 1 or
            NaN); ``cohort``, ``omics``, ``tissue``, ``n_missing``, ``n_all_missing``
            and ``ingested_at`` (UTC, ISO 8601, microseconds) are set here.
        tissue
            ``"tumor"`` (``<omics>.zarr``) or ``"normal"`` (``<omics>.normal.zarr``).
        chunk_features
            Features per chunk of ``values``; all samples are in one chunk.
        written_before
            What the caller has written before in the same command, named in the message
            if this write fails (e.g. the tumor Dataset of a table split by tissue).

        Raises
        ------
        InputError
            Bad names, a Dataset that breaks the rules above, or a bad chunk size.
        WriteError
            The write failed (the previous version is kept), or the writer lock could
            not be taken.
        """
        target = self._path(cohort, omics, tissue)
        if not isinstance(chunk_features, (int, np.integer)) or isinstance(chunk_features, bool) or chunk_features < 1:
            raise InputError(f"chunk_features must be a positive integer, not {chunk_features!r}")
        what = _what(cohort, omics, tissue)
        _check(ds, f"writing {what}")
        out = _normalise(ds, cohort, omics, f"writing {what}")
        out.attrs["tissue"] = tissue
        n_features, n_samples = out["values"].shape
        encoding = {variables.values.name: {"chunks": (min(int(chunk_features), max(n_features, 1)), n_samples)}}
        with self.writing(cohort, omics, tissue):
            _atomic_write(out, target, encoding, what, written_before)

    # ------------------------------------------------------------------ phenotypes

    def open_phenotypes(self, cohort: str) -> xr.Dataset:
        """The phenotype Dataset of ``cohort``, loaded into memory (it is small), sample
        ids as a numpy object array of str; layout in :mod:`linkscan.storage.inputs.phenotypes`.

        Raises
        ------
        InputError
            The cohort has no phenotypes (the message says how to ingest them), or the
            Dataset does not match the layout.
        """
        path = self._phenotypes(cohort)
        if not (path / "zarr.json").is_file():
            raise InputError(
                f"cohort {cohort!r} has no phenotypes in the store {self._root}; ingest them with "
                f"linkscan ingest {self._root} {cohort} --clinical TABLE (with --types/--type) or --survival TABLE"
            )

        def read(version: str) -> xr.Dataset:
            with xr.open_zarr(_version_location(path, version).url, consolidated=False, zarr_format=3) as lazy:
                return lazy.load()

        ds, _ = _read_current(path, _what(cohort), read)
        coords = {"sample": ("sample", np.array(ds["sample"].values.tolist(), dtype=object))}
        if _phenotypes.SURV_DIM in ds.coords:
            coords[_phenotypes.SURV_DIM] = (_phenotypes.SURV_DIM, np.array(ds[_phenotypes.SURV_DIM].values.tolist(), dtype=object))
        ds = ds.assign_coords(coords)
        _phenotypes.validate_dataset(ds, f"{self._root}: cohort {cohort!r}, phenotypes")
        return ds

    def phenotypes(self, cohort: str) -> dict[str, "_phenotypes.Phenotype"]:
        """The phenotypes of ``cohort`` by original name (sorted): see
        :mod:`linkscan.storage.inputs.phenotypes` for :class:`~linkscan.storage.inputs.phenotypes.Phenotype`.

        Raises
        ------
        InputError
            As :meth:`open_phenotypes`.
        """
        return _phenotypes.from_dataset(self.open_phenotypes(cohort))

    def write_phenotypes(self, cohort: str, phenotypes, *, attrs: dict | None = None) -> None:
        """Write ``cohort``'s phenotype Dataset, replacing the previous one atomically,
        under the cohort's writer lock (:meth:`writing`; hold it around a read of the
        stored phenotypes that this write merges).

        Parameters
        ----------
        cohort
            Cohort name.
        phenotypes
            :class:`~linkscan.storage.inputs.phenotypes.Phenotype` objects (a list, or a dict's values),
            aligned here to their union of samples; or a phenotype Dataset.
        attrs
            Dataset attributes (JSON-serialisable); ``cohort`` and ``ingested_at`` are set
            here.

        Raises
        ------
        InputError
            Bad cohort name, no phenotypes, two with one name, or an invalid Dataset.
        WriteError
            As :meth:`write`.
        """
        target = self._phenotypes(cohort)
        if isinstance(phenotypes, xr.Dataset):
            ds = phenotypes.copy()
        else:
            items = list(phenotypes.values()) if isinstance(phenotypes, dict) else list(phenotypes)
            ds = _phenotypes.to_dataset(items)
        ds.attrs.update(attrs or {})
        ds.attrs.update(cohort=cohort, ingested_at=datetime.now(timezone.utc).isoformat(timespec="microseconds"))
        ds = ds.assign_coords(sample=("sample", np.array([str(s) for s in ds["sample"].values.tolist()], dtype=object)))
        if _phenotypes.SURV_DIM in ds.coords:
            ds = ds.assign_coords({_phenotypes.SURV_DIM: (_phenotypes.SURV_DIM, np.array(_phenotypes.SURV_FIELDS, dtype=object))})
        _phenotypes.validate_dataset(ds, f"writing cohort {cohort!r}, phenotypes")
        for var in ds.data_vars:
            ds[var].encoding = {}
        with self.writing(cohort):
            _atomic_write(ds, target, {}, _what(cohort))

    @contextlib.contextmanager
    def writing(self, cohort: str, omics: str | None = None, tissue: str = "tumor", *, wait: float | None = None):
        """Hold ``cohort``'s writer lock for the block: one writer per cohort at a time.

        The lock is the file ``<root>/.<cohort>.lock``, created exclusively and naming
        this process (:mod:`linkscan.storage.locks`). While another writer holds it,
        this waits (polling) up to ``wait`` seconds; a lock left by a killed process of
        this host is taken over. Reentrant within a thread: :meth:`write` and
        :meth:`write_phenotypes` take it themselves, so a block that holds it may call
        them (e.g. around a read, merge and write of the phenotypes).

        Parameters
        ----------
        cohort
            The cohort to write.
        omics, tissue
            The Dataset the block writes first (``omics`` None: the phenotypes), named
            if the lock cannot be created.
        wait
            Seconds to wait for another writer (default :data:`WRITER_WAIT`).

        Raises
        ------
        WriteError
            Still held by another writer after ``wait`` seconds (naming its process,
            host and since when, and the fix), or the lock cannot be created (a
            read-only store: in the words of the Dataset to write).
        """
        lock = self._root / f".{check_name(cohort, 'cohort')}.lock"
        held = vars(_HELD).setdefault("locks", set())
        if lock.url in held:
            yield
            return
        wait = WRITER_WAIT if wait is None else wait
        target = self._phenotypes(cohort) if omics is None else self._path(cohort, omics, tissue)
        try:
            self._root.mkdir()
            locks.acquire(lock, wait=wait)
        except locks.Held as busy:
            raise WriteError(
                f"cohort {cohort!r} of the store {self._root} is being written by {locks.describe(busy.holder)} "
                f"(waited {wait:.0f} s for it); run this command again once that one has finished, or, if no such "
                f"process runs any more, delete {lock} first"
            ) from None
        except OSError as exc:  # a read-only store, a full disk
            raise write_error(str(target), exc, _what(cohort, omics, tissue),
                              _kept((target / "zarr.json").is_file())) from exc
        held.add(lock.url)
        try:
            yield
        finally:
            held.discard(lock.url)
            locks.release(lock)


class PinnedValues:
    """Reads of one version of a Dataset's ``values`` (rows of features x all samples),
    each confirmed afterwards: the version's ``zarr.json`` still exists. Writers remove
    that file before any chunk of an old version, so a confirmed read saw the whole
    version; a read that may have met removed chunks (read as NaN by zarr) is an
    InputError instead. A version made old by a newer write is read while it exists.

    Made by :meth:`CohortStore.pinned_values`; opens the Zarr array once.

    Parameters
    ----------
    folder
        The Dataset's folder.
    version
        The version to read (``""``: a Dataset written before versions, whose arrays
        sit beside its ``zarr.json``: it lasts while that names no version).
    what
        The Dataset in words (``cohort 'OV', omics 'proteome'``), for messages.
    """

    def __init__(self, folder: Location, version: str, what: str) -> None:
        import zarr

        self._folder, self._version, self._what = folder, version, what
        values = _version_location(folder, version) / variables.values.name
        self._array = self._confirmed(lambda: zarr.open_array(values.url, mode="r"))

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop``, all samples."""
        return self._confirmed(lambda: np.asarray(self._array[start:stop]))

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows at the (sorted) positions ``rows``, all samples."""
        return self._confirmed(lambda: np.asarray(self._array.oindex[rows, :]))

    def _confirmed(self, read):
        """``read()``, then the check that the version still exists (also when the read
        failed: a version removed under it is the cause to report)."""
        try:
            got = read()
        except Exception:
            self._check()
            raise
        self._check()
        return got

    def _check(self) -> None:
        if _exists(self._folder, self._version):
            return
        try:
            now = _current_version(self._folder) or "an unversioned Dataset"
        except FileNotFoundError:
            now = "nothing"
        raise InputError(
            f"{self._what} was re-ingested while this scan ran: its planned version "
            f"{self._version or '(unversioned)'} is gone (the store now holds {now}); the scan stopped rather than "
            "read other data: submit the job again into a new results directory (the tiles finished so far read "
            "the old data, so the same results directory is refused as a different scan)"
        )


#: The cohort writer locks this thread holds (lock URLs), for reentrant writes.
_HELD = threading.local()

#: Reads of a Dataset's current version before giving up when each one found the version
#: removed under it (a re-ingest at each attempt).
_READ_ATTEMPTS = 3

#: The attribute of a Dataset folder's zarr.json that names its current version.
VERSION_ATTR = "linkscan_version"


def _what(cohort: str, omics: str | None = None, tissue: str = "tumor") -> str:
    """A Dataset in words: ``cohort 'OV', omics 'proteome'`` (``, tissue 'normal'``), or
    ``cohort 'OV', phenotypes`` when ``omics`` is None."""
    if omics is None:
        return f"cohort {cohort!r}, phenotypes"
    return f"cohort {cohort!r}, omics {omics!r}" + ("" if tissue == "tumor" else f", tissue {tissue!r}")


def _current_version(folder: Location) -> str:
    """The version ``folder``'s zarr.json names; ``""`` for a Dataset written before
    versions (its arrays beside zarr.json). FileNotFoundError if there is none."""
    meta = json.loads((folder / "zarr.json").read_bytes())
    return str(meta.get("attributes", {}).get(VERSION_ATTR, ""))


def _version_location(folder: Location, version: str) -> Location:
    return folder / version if version else folder


def _exists(folder: Location, version: str) -> bool:
    """Whether ``version`` of the Dataset ``folder`` is still there (not removed, nor being
    removed): its ``zarr.json`` exists, or for ``""`` the Dataset still is unversioned."""
    if version:
        return (folder / version / "zarr.json").is_file()
    try:
        return _current_version(folder) == ""
    except FileNotFoundError:
        return False


def _read_current(folder: Location, what: str, read):
    """``(read(version), version)`` for the current version of the Dataset ``folder``,
    read again from the newer one if a re-ingest removed the version under the read
    (then what was read may hold fill values of removed chunks). Errors of a damaged
    Dataset are InputErrors (:func:`_damaged`)."""
    for _ in range(_READ_ATTEMPTS):
        version = None
        try:
            with _damaged(folder, what):
                version = _current_version(folder)
                got = read(version)
        except InputError:
            if version is None or _exists(folder, version):
                raise
            continue
        if _exists(folder, version):
            return got, version
    raise InputError(
        f"{folder}: {what} was written again during each of {_READ_ATTEMPTS} reads of it; run the command again "
        "once the ingests of that cohort are done"
    )


def _kept(existed: bool) -> str:
    """What a failed write of a Dataset leaves, in words (``existed``: one was stored)."""
    return "the previous version is unchanged" if existed else "nothing was written"


def _atomic_write(ds: xr.Dataset, target: Location, encoding: dict, what: str, written_before: str = "") -> None:
    """Write ``ds`` as a new version of ``target``, then make it current and remove the
    previous one, its ``zarr.json`` first (module docstring).

    An ``OSError`` (a full disk, no write permission...) becomes a :class:`WriteError`
    naming ``target`` (``what`` it is), what the caller wrote before
    (``written_before``) and the fix; the previous version is left as it was and current.
    """
    existed = (target / "zarr.json").is_file()
    kept = _kept(existed)
    if written_before:
        this = "its previous version is unchanged" if existed else "none is stored"
        kept = f"{written_before} was written, but not this one ({this})"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    version = f"v-{stamp}-{uuid.uuid4().hex[:8]}"
    written = target / version
    pointer = {"zarr_format": 3, "node_type": "group", "attributes": {VERSION_ATTR: version}}
    try:
        target.mkdir()
        _write_zarr(ds, written, encoding)
        (target / "zarr.json").write_bytes(json.dumps(pointer, indent=1).encode())
    except BaseException as exc:
        written.remove_tree()
        if not existed:
            target.remove_if_empty()
            target.parent.remove_if_empty()
        if isinstance(exc, OSError):
            raise write_error(str(target), exc, what, kept) from exc
        raise
    for name in target.names():  # the previous version (or the unversioned arrays)
        if name in ("zarr.json", version):
            continue
        try:
            # First its zarr.json: a scan reading that version checks it after each
            # read (PinnedValues), so none of its chunks may go while it exists.
            (target / name / "zarr.json").remove()
        except OSError:
            continue  # not a folder (a stray file), or not removable now: left to the next write
        (target / name).remove_tree()


@contextlib.contextmanager
def _damaged(path: Location, what: str):
    """Opening a stored Dataset: what zarr, xarray or json raise for it (a cut-short
    zarr.json, a missing array, no read permission) becomes an InputError that names it
    and the fix. (Writes are atomic, so a damaged Dataset was damaged from outside: a
    copy that did not finish, a disk error.) Other errors propagate as they are."""
    import dask

    try:
        # The few small arrays loaded here are read in this process, whatever dask
        # scheduler is configured (a Client closed earlier may leave its name behind).
        with dask.config.set(scheduler="synchronous"):
            yield
    except LinkscanError:
        raise
    except (ValueError, LookupError, TypeError) as exc:  # bad metadata; zarr's "not found" errors too
        raise InputError(
            f"{path}: the stored Dataset of {what} cannot be read ({type(exc).__name__}: {exc}); it is damaged "
            "(an unfinished copy, a disk error): ingest that table again with linkscan ingest"
        ) from exc
    except OSError as exc:
        raise InputError(
            f"{path}: the stored Dataset of {what} cannot be read: {exc.strerror or exc} "
            f"({exc.filename or path}); check that this user can read the store"
        ) from exc


def _valid(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and not name.startswith(".")


def _check(ds: xr.Dataset, where: str) -> None:
    """Registry check plus the ordering rules the engine relies on."""
    variables.validate(ds, where=where)
    features = np.asarray(ds["feature"].values, dtype=object)
    if features.size > 1 and not np.all(features[:-1] < features[1:]):
        i = int(np.argmin(features[:-1] < features[1:]))
        a, b = features[i], features[i + 1]
        problem = "repeated" if a == b else "out of order"
        raise InputError(
            f"{where}: feature ids must be unique and sorted ascending, but {a!r} then {b!r} (positions {i} and "
            f"{i + 1}) are {problem}; drop duplicates and sort with ds.sortby('feature')"
        )
    seen: set[str] = set()
    for s in ds["sample"].values.tolist():
        if s in seen:
            raise InputError(f"{where}: sample id {s!r} occurs more than once; sample ids must be unique")
        seen.add(s)
    if 0 in ds["values"].shape:
        raise InputError(f"{where}: the Dataset has no {'features' if ds['values'].shape[0] == 0 else 'samples'}")
    kind = ds.attrs.get("kind", "continuous")
    if kind not in KINDS:
        raise InputError(f"{where}: attribute kind={kind!r}; use one of {', '.join(map(repr, KINDS))}")


def _normalise(ds: xr.Dataset, cohort: str, omics: str, where: str) -> xr.Dataset:
    """A fresh in-memory Dataset ready for Zarr: float32 values, object-str coordinates."""
    with np.errstate(over="ignore"):  # overflow to inf is reported just below
        values = np.asarray(ds["values"].values, dtype=np.float32)
    infinite = np.isinf(values)
    if infinite.any():
        i, j = (int(k[0]) for k in np.nonzero(infinite))
        raise InputError(
            f"{where}: values hold {int(infinite.sum())} infinite value(s) once stored as float32 (first: "
            f"feature {ds['feature'].values[i]!r}, sample {ds['sample'].values[j]!r}; float32 ends at +-3.4e38); "
            "the store keeps missing values as NaN, so replace infinities with NaN or rescale the values"
        )

    # Strings as numpy object arrays of str: xarray then writes them with zarr's
    # variable-length UTF-8 type ("string"), which zarr 3.1 writes without a warning.
    # Fixed-width unicode (<U..) is the type zarr 3.1 warns about
    # (UnstableSpecificationWarning: FixedLengthUTF32 has no Zarr v3 specification), so
    # anything that would arrive as <U (a list, a numpy str array) is converted here.
    def text(name: str) -> np.ndarray:
        return np.array([str(x) for x in ds[name].values.tolist()], dtype=object)

    missing = np.isnan(values)
    if ds.attrs.get("kind") == "binary":
        bad = ~missing & (values != 0) & (values != 1)
        if bad.any():
            i, j = (int(k[0]) for k in np.nonzero(bad))
            raise InputError(
                f"{where}: a binary Dataset holds {int(bad.sum())} value(s) other than 0, 1 or NaN (first: "
                f"{float(values[i, j])!r} at feature {ds['feature'].values[i]!r}, sample {ds['sample'].values[j]!r}); "
                "fix the values or store the Dataset with kind='continuous'"
            )
    attrs = {"source": "", "n_inf_replaced": 0, "kind": "continuous"}
    attrs.update(ds.attrs)
    attrs.pop("version", None)  # what open() read, not part of the data
    attrs.update(
        cohort=cohort,
        omics=omics,
        n_missing=int(missing.sum()),
        n_all_missing=int(missing.all(axis=1).sum()),
        ingested_at=datetime.now(timezone.utc).isoformat(timespec="microseconds"),
    )
    return xr.Dataset(
        {variables.values.name: (variables.values.dims, values)},
        coords={
            "feature": ("feature", text("feature")),
            "sample": ("sample", text("sample")),
            "gene": ("feature", text("gene")),
        },
        attrs=attrs,
    )


def _write_zarr(ds: xr.Dataset, path: Location, encoding: dict) -> None:
    """Write a complete Zarr v3 group at ``path`` (which must not exist)."""
    ds.to_zarr(path.url, mode="w-", zarr_format=3, consolidated=False, encoding=encoding)
