"""The cohort store: one Zarr v3 xarray Dataset per cohort, omics and tissue, and one
phenotype Dataset per cohort.

Layout on disk::

    <root>/<cohort>/<omics>.zarr/          tumor samples of an omics: a Zarr v3 group
        zarr.json                          group metadata + Dataset attributes
        values/                            float32 [feature, sample]; chunks =
                                           (feature block, all samples)
        feature/  sample/  gene/           coordinates, variable-length UTF-8 strings
    <root>/<cohort>/<omics>.normal.zarr/   normal samples of that omics, same layout
    <root>/<cohort>/phenotypes.zarr/       clinical, binary and survival phenotypes along
                                           ``sample`` (layout: storage.phenotypes)

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

The variables are those of :mod:`storage.variables`. Features are unique and sorted
ascending in Python string order (the scan engine maps a block of the sorted union of
features to one contiguous row range per cohort), samples unique.

Writes (omics and phenotypes alike) are atomic replacements: the new Dataset is
written in full under a hidden sibling name (``.<omics>.zarr.tmp-<token>``) and then
swapped in with two renames, so a reader opens either the old or the new Dataset, never
a half-written one, and a write that fails leaves the old Dataset as it was. Names starting with ``.`` are never valid
cohort or omics names, so leftovers of a killed write are never listed.

Caveats: a Dataset opened before a replace must be reopened (xarray reads chunks
lazily, by path); between the two renames (microseconds) the omics is briefly absent.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from storage import phenotypes as _phenotypes
from storage import variables
from storage.errors import InputError, LinkscanError, write_error

__all__ = ["CohortStore", "check_name", "check_tissue", "DEFAULT_CHUNK_FEATURES", "TISSUES", "KINDS", "PHENOTYPES"]

#: Features per chunk of ``values`` unless a write says otherwise.
DEFAULT_CHUNK_FEATURES = 512

#: Tissues of an omics; the first is the default (scans use tumors).
TISSUES = ("tumor", "normal")
#: Kinds of omics values.
KINDS = ("continuous", "binary")
#: The reserved name of a cohort's phenotype Dataset.
PHENOTYPES = "phenotypes"

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_SUFFIX = ".zarr"
_NORMAL = ".normal"
_TEXT_COORDS = ("feature", "sample", "gene")


def check_name(name: str, what: str) -> str:
    """Return ``name`` if it is a valid cohort or omics name, else raise.

    Valid names use letters, digits, ``_``, ``-`` and ``.``, and do not start with
    ``.`` (hidden names are reserved for temporary files of the store). An omics is
    not named ``phenotypes`` and does not end in ``.normal`` (any case): both name other
    Datasets of a cohort.

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
        starts with ``.``, or is a reserved omics name.

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

    def _path(self, cohort: str | None = None, omics: str | None = None, tissue: str = "tumor") -> Path:
        """Path of the store, a cohort directory, or an omics Dataset (names checked)."""
        path = self._root
        if cohort is not None:
            path = path / check_name(cohort, "cohort")
            if omics is not None:
                tag = "" if check_tissue(tissue) == "tumor" else f".{tissue}"
                path = path / (check_name(omics, "omics") + tag + _SUFFIX)
        return path

    def dataset_path(self, cohort: str, omics: str, tissue: str = "tumor") -> str:
        """Path of the Zarr group of ``cohort``/``omics``/``tissue`` (whether it exists or not)."""
        return str(self._path(cohort, omics, tissue))

    def values_path(self, cohort: str, omics: str, tissue: str = "tumor") -> str:
        """Path of the Zarr array ``values`` of an existing Dataset.

        The engine reads row slices with ``zarr.open_array(path)[i0:i1]``.

        Raises
        ------
        InputError
            The cohort, omics or tissue is not in the store.
        """
        self._require(cohort, omics, tissue)
        return str(self._path(cohort, omics, tissue) / variables.values.name)

    def phenotypes_path(self, cohort: str) -> str:
        """Path of the Zarr group of ``cohort``'s phenotypes (whether it exists or not)."""
        return str(self._path(cohort) / (PHENOTYPES + _SUFFIX))

    # --------------------------------------------------------------------- listing

    def cohorts(self) -> list[str]:
        """Cohorts holding at least one (tumor) omics Dataset, sorted. A cohort with only
        normal Datasets or only phenotypes is not listed (see :meth:`tissues`,
        :meth:`has_phenotypes`)."""
        if not self._root.is_dir():
            return []
        return sorted(p.name for p in self._root.iterdir() if p.is_dir() and _valid(p.name) and self._omics_in(p))

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
        return (Path(self.phenotypes_path(cohort)) / "zarr.json").is_file()

    @staticmethod
    def _omics_in(cohort_dir: Path, tissue: str = "tumor") -> list[str]:
        if not cohort_dir.is_dir():
            return []
        found = []
        for p in cohort_dir.iterdir():
            name = p.name[: -len(_SUFFIX)] if p.name.endswith(_SUFFIX) else None
            if not name or not _valid(name) or not (p / "zarr.json").is_file():
                continue
            is_normal = name.lower().endswith(_NORMAL)
            if tissue == "normal" and is_normal:
                name = name[: -len(_NORMAL)]
            elif tissue != "tumor" or is_normal or name.lower() == PHENOTYPES:
                continue
            if _valid(name):
                found.append(name)
        return sorted(found)

    def _require(self, cohort: str, omics: str, tissue: str = "tumor") -> Path:
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
            or the Dataset does not match :mod:`storage.variables`.
        """
        path = self._require(cohort, omics, tissue)
        # consolidated=False: zarr 3 warns that consolidated metadata is not part of the
        # v3 spec, and xarray warns when it looks for it and finds none.
        with _damaged(path, f"cohort {cohort!r}, omics {omics!r}" + ("" if tissue == "tumor" else f", tissue {tissue!r}")):
            ds = xr.open_zarr(path, consolidated=False, zarr_format=3)
            # zarr's variable-length strings come back as numpy's StringDType, which e.g.
            # refuses .astype(str); object arrays of str behave like every other string
            # array in numpy and pandas. The id arrays are small, so load them.
            ds = ds.assign_coords(
                {name: (ds[name].dims, np.array(ds[name].values.tolist(), dtype=object)) for name in _TEXT_COORDS}
            )
        ds.attrs.setdefault("tissue", tissue)
        ds.attrs.setdefault("kind", "continuous")
        _check(ds, f"{self._root}: cohort {cohort!r}, omics {omics!r}" + ("" if tissue == "tumor" else f", tissue {tissue!r}"))
        return ds

    def write(
        self,
        cohort: str,
        omics: str,
        ds: xr.Dataset,
        *,
        tissue: str = "tumor",
        chunk_features: int = DEFAULT_CHUNK_FEATURES,
    ) -> None:
        """Write ``ds`` as ``cohort``/``omics``/``tissue``, replacing any previous version
        atomically.

        Parameters
        ----------
        cohort, omics
            Names (see :func:`check_name`).
        ds
            A Dataset with the variables of :mod:`storage.variables`: features unique and
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

        Raises
        ------
        InputError
            Bad names, a Dataset that breaks the rules above, or a bad chunk size.
        """
        target = self._path(cohort, omics, tissue)
        if not isinstance(chunk_features, (int, np.integer)) or isinstance(chunk_features, bool) or chunk_features < 1:
            raise InputError(f"chunk_features must be a positive integer, not {chunk_features!r}")
        where = f"writing cohort {cohort!r}, omics {omics!r}" + ("" if tissue == "tumor" else f", tissue {tissue!r}")
        _check(ds, where)
        out = _normalise(ds, cohort, omics, where)
        out.attrs["tissue"] = tissue
        n_features, n_samples = out["values"].shape
        encoding = {variables.values.name: {"chunks": (min(int(chunk_features), max(n_features, 1)), n_samples)}}
        _atomic_write(out, target, encoding, what=where.removeprefix("writing "))

    # ------------------------------------------------------------------ phenotypes

    def open_phenotypes(self, cohort: str) -> xr.Dataset:
        """The phenotype Dataset of ``cohort``, loaded into memory (it is small), sample
        ids as a numpy object array of str; layout in :mod:`storage.phenotypes`.

        Raises
        ------
        InputError
            The cohort has no phenotypes (the message says how to ingest them), or the
            Dataset does not match the layout.
        """
        path = Path(self.phenotypes_path(cohort))
        if not (path / "zarr.json").is_file():
            raise InputError(
                f"cohort {cohort!r} has no phenotypes in the store {self._root}; ingest them with "
                f"linkscan ingest {self._root} {cohort} --clinical TABLE (with --types/--type) or --survival TABLE"
            )
        with _damaged(path, f"cohort {cohort!r}, phenotypes"), xr.open_zarr(path, consolidated=False, zarr_format=3) as lazy:
            ds = lazy.load()
        coords = {"sample": ("sample", np.array(ds["sample"].values.tolist(), dtype=object))}
        if _phenotypes.SURV_DIM in ds.coords:
            coords[_phenotypes.SURV_DIM] = (_phenotypes.SURV_DIM, np.array(ds[_phenotypes.SURV_DIM].values.tolist(), dtype=object))
        ds = ds.assign_coords(coords)
        _phenotypes.validate_dataset(ds, f"{self._root}: cohort {cohort!r}, phenotypes")
        return ds

    def phenotypes(self, cohort: str) -> dict[str, "_phenotypes.Phenotype"]:
        """The phenotypes of ``cohort`` by original name (sorted): see
        :mod:`storage.phenotypes` for :class:`~storage.phenotypes.Phenotype`.

        Raises
        ------
        InputError
            As :meth:`open_phenotypes`.
        """
        return _phenotypes.from_dataset(self.open_phenotypes(cohort))

    def write_phenotypes(self, cohort: str, phenotypes, *, attrs: dict | None = None) -> None:
        """Write ``cohort``'s phenotype Dataset, replacing the previous one atomically.

        Parameters
        ----------
        cohort
            Cohort name.
        phenotypes
            :class:`~storage.phenotypes.Phenotype` objects (a list, or a dict's values),
            aligned here to their union of samples; or a phenotype Dataset.
        attrs
            Dataset attributes (JSON-serialisable); ``cohort`` and ``ingested_at`` are set
            here.

        Raises
        ------
        InputError
            Bad cohort name, no phenotypes, two with one name, or an invalid Dataset.
        """
        target = Path(self.phenotypes_path(cohort))
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
        _atomic_write(ds, target, {}, what=f"cohort {cohort!r}, phenotypes")


def _atomic_write(ds: xr.Dataset, target: Path, encoding: dict, what: str = "the Dataset") -> None:
    """Write ``ds`` to a hidden temporary sibling of ``target``, then swap it in.

    An ``OSError`` (a full disk, no write permission...) becomes a :class:`WriteError`
    naming ``target`` (``what`` it is) and the fix; the previous version is left as it was.
    """
    kept = "the previous version is unchanged" if (target / "zarr.json").is_file() else "nothing was written"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(target, exc, what, "nothing was written") from exc
    token = uuid.uuid4().hex[:12]
    tmp = target.with_name(f".{target.name}.tmp-{token}")
    old = target.with_name(f".{target.name}.old-{token}")
    try:
        _write_zarr(ds, tmp, encoding)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_if_empty(target.parent)
        if isinstance(exc, OSError):
            raise write_error(target, exc, what, kept) from exc
        raise
    try:
        _swap(tmp, target, old)
    except OSError as exc:
        if old.exists() and not target.exists():  # the previous version could not be put back
            kept = f"the previous version is at {old}: rename it to {target}"
        raise write_error(target, exc, what, kept) from exc


@contextlib.contextmanager
def _damaged(path: Path, what: str):
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
