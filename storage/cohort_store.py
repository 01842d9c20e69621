"""The cohort store: one Zarr v3 xarray Dataset per cohort and omics.

Layout on disk::

    <root>/<cohort>/<omics>.zarr/          a Zarr v3 group written by xarray
        zarr.json                          group metadata + Dataset attributes
        values/                            float32 [feature, sample]; chunks =
                                           (feature block, all samples)
        feature/  sample/  gene/           coordinates, variable-length UTF-8 strings

Dataset attributes: ``cohort``, ``omics``, ``source`` (the table it was read from),
``ingested_at`` (UTC, ISO 8601), ``n_missing`` (NaN cells), ``n_inf_replaced``
(infinite cells of the table stored as NaN) and ``n_all_missing`` (features without a
value).

The variables are those of :mod:`storage.variables`. Features are unique and sorted
ascending in Python string order (the scan engine maps a block of the sorted union of
features to one contiguous row range per cohort), samples unique.

Writes are atomic replacements: the new Dataset is written in full under a hidden
sibling name (``.<omics>.zarr.tmp-<token>``) and then swapped in with two renames, so a
reader opens either the old or the new Dataset, never a half-written one, and a write
that fails leaves the old Dataset as it was. Names starting with ``.`` are never valid
cohort or omics names, so leftovers of a killed write are never listed.

Caveats: a Dataset opened before a replace must be reopened (xarray reads chunks
lazily, by path); between the two renames (microseconds) the omics is briefly absent.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from storage import variables
from storage.errors import InputError

__all__ = ["CohortStore", "check_name", "DEFAULT_CHUNK_FEATURES"]

#: Features per chunk of ``values`` unless a write says otherwise.
DEFAULT_CHUNK_FEATURES = 512

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_SUFFIX = ".zarr"
_TEXT_COORDS = ("feature", "sample", "gene")


def check_name(name: str, what: str) -> str:
    """Return ``name`` if it is a valid cohort or omics name, else raise.

    Valid names use letters, digits, ``_``, ``-`` and ``.``, and do not start with
    ``.`` (hidden names are reserved for temporary files of the store).

    Parameters
    ----------
    name
        The name to check.
    what
        ``"cohort"`` or ``"omics"``, for the message.

    Raises
    ------
    InputError
        The name is empty, holds another character (a path separator, a space...) or
        starts with ``.``.

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
    return name


class CohortStore:
    """A directory of cohort Datasets (see the module docstring for the layout).

    Parameters
    ----------
    root
        Directory of the store; created on the first write. A local path for now:
        every path is built by :meth:`_path`, the one place an fsspec mapper will go.

    Examples
    --------
    >>> import tempfile
    >>> store = CohortStore(tempfile.mkdtemp())
    >>> store.cohorts()
    []
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self._root = Path(root)

    @property
    def root(self) -> Path:
        """The store's directory."""
        return self._root

    def __repr__(self) -> str:
        return f"CohortStore({str(self._root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CohortStore) and other._root == self._root

    def __hash__(self) -> int:
        return hash(self._root)

    # ----------------------------------------------------------------------- paths

    def _path(self, cohort: str | None = None, omics: str | None = None) -> Path:
        """Path of the store, a cohort directory, or an omics Dataset (names checked)."""
        path = self._root
        if cohort is not None:
            path = path / check_name(cohort, "cohort")
            if omics is not None:
                path = path / (check_name(omics, "omics") + _SUFFIX)
        return path

    def dataset_path(self, cohort: str, omics: str) -> str:
        """Path of the Zarr group of ``cohort``/``omics`` (whether it exists or not)."""
        return str(self._path(cohort, omics))

    def values_path(self, cohort: str, omics: str) -> str:
        """Path of the Zarr array ``values`` of an existing Dataset.

        The engine reads row slices with ``zarr.open_array(path)[i0:i1]``.

        Raises
        ------
        InputError
            The cohort or omics is not in the store.
        """
        self._require(cohort, omics)
        return str(self._path(cohort, omics) / variables.values.name)

    # --------------------------------------------------------------------- listing

    def cohorts(self) -> list[str]:
        """Cohorts holding at least one omics Dataset, sorted."""
        if not self._root.is_dir():
            return []
        return sorted(p.name for p in self._root.iterdir() if p.is_dir() and _valid(p.name) and self._omics_in(p))

    def omics(self, cohort: str) -> list[str]:
        """Omics Datasets of ``cohort``, sorted; empty if the cohort does not exist."""
        return self._omics_in(self._path(cohort))

    @staticmethod
    def _omics_in(cohort_dir: Path) -> list[str]:
        if not cohort_dir.is_dir():
            return []
        found = []
        for p in cohort_dir.iterdir():
            name = p.name[: -len(_SUFFIX)] if p.name.endswith(_SUFFIX) else None
            if name and _valid(name) and (p / "zarr.json").is_file():
                found.append(name)
        return sorted(found)

    def _require(self, cohort: str, omics: str) -> Path:
        path = self._path(cohort, omics)
        if (path / "zarr.json").is_file():
            return path
        cohorts = self.cohorts()
        if cohort not in cohorts:
            there = f"cohorts there: {', '.join(cohorts)}" if cohorts else "the store is empty"
            raise InputError(f"cohort {cohort!r} is not in the store {self._root} ({there}); ingest it first")
        raise InputError(
            f"omics {omics!r} is not in cohort {cohort!r} of the store {self._root} "
            f"(omics there: {', '.join(self.omics(cohort))}); ingest it first"
        )

    # ------------------------------------------------------------------------- I/O

    def open(self, cohort: str, omics: str) -> xr.Dataset:
        """Open a Dataset: ``values`` lazily (a dask array, one dask chunk per Zarr
        chunk), the coordinates in memory as numpy object arrays of str.

        Raises
        ------
        InputError
            The cohort or omics is not in the store (the message lists what is), or the
            Dataset does not match :mod:`storage.variables`.
        """
        path = self._require(cohort, omics)
        # consolidated=False: zarr 3 warns that consolidated metadata is not part of the
        # v3 spec, and xarray warns when it looks for it and finds none.
        ds = xr.open_zarr(path, consolidated=False, zarr_format=3)
        # zarr's variable-length strings come back as numpy's StringDType, which e.g.
        # refuses .astype(str); object arrays of str behave like every other string
        # array in numpy and pandas. The id arrays are small, so load them.
        ds = ds.assign_coords(
            {name: (ds[name].dims, np.array(ds[name].values.tolist(), dtype=object)) for name in _TEXT_COORDS}
        )
        _check(ds, f"{self._root}: cohort {cohort!r}, omics {omics!r}")
        return ds

    def write(
        self, cohort: str, omics: str, ds: xr.Dataset, *, chunk_features: int = DEFAULT_CHUNK_FEATURES
    ) -> None:
        """Write ``ds`` as ``cohort``/``omics``, replacing any previous version atomically.

        Parameters
        ----------
        cohort, omics
            Names (see :func:`check_name`).
        ds
            A Dataset with the variables of :mod:`storage.variables`: features unique and
            sorted, samples unique, no infinite values. Values are stored as float32
            (loaded into memory: a cohort is tens of MB). Attributes are kept (they must
            be JSON-serialisable); ``source`` and ``n_inf_replaced`` default to ``""``
            and 0; ``cohort``, ``omics``, ``n_missing``, ``n_all_missing`` and
            ``ingested_at`` (UTC, ISO 8601, microseconds) are set here.
        chunk_features
            Features per chunk of ``values``; all samples are in one chunk.

        Raises
        ------
        InputError
            Bad names, a Dataset that breaks the rules above, or a bad chunk size.
        """
        target = self._path(cohort, omics)
        if not isinstance(chunk_features, (int, np.integer)) or isinstance(chunk_features, bool) or chunk_features < 1:
            raise InputError(f"chunk_features must be a positive integer, not {chunk_features!r}")
        where = f"writing cohort {cohort!r}, omics {omics!r}"
        _check(ds, where)
        out = _normalise(ds, cohort, omics, where)
        n_features, n_samples = out["values"].shape
        encoding = {variables.values.name: {"chunks": (min(int(chunk_features), max(n_features, 1)), n_samples)}}

        target.parent.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex[:12]
        tmp = target.with_name(f".{target.name}.tmp-{token}")
        old = target.with_name(f".{target.name}.old-{token}")
        try:
            _write_zarr(out, tmp, encoding)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            _remove_if_empty(target.parent)
            raise
        _swap(tmp, target, old)


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
    attrs = {"source": "", "n_inf_replaced": 0}
    attrs.update(ds.attrs)
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


def _write_zarr(ds: xr.Dataset, path: Path, encoding: dict) -> None:
    """Write a complete Zarr v3 group at ``path`` (which must not exist)."""
    ds.to_zarr(path, mode="w-", zarr_format=3, consolidated=False, encoding=encoding)


def _swap(tmp: Path, target: Path, old: Path) -> None:
    """Move ``tmp`` to ``target``; a previous ``target`` is moved aside, then removed.

    On failure the previous version is put back and ``tmp`` removed. (POSIX cannot
    rename a directory over a non-empty one, hence two renames rather than one.)
    """
    moved_aside = False
    try:
        if target.exists():
            os.rename(target, old)
            moved_aside = True
        os.rename(tmp, target)
    except BaseException:
        if moved_aside:
            os.rename(old, target)  # put the previous version back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if moved_aside:
        shutil.rmtree(old, ignore_errors=True)


def _remove_if_empty(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass  # not empty (other omics live there) or already gone
