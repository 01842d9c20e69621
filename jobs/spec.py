"""Job files: the one place a scan is configured.

A job is a TOML file. Every key, its default and its meaning are declared once, in
:mod:`linkscan.defaults` (:data:`SCHEMA` here is that table by section); unknown keys
and values of the wrong type are errors that name the key, the file and the valid
choices. Relative paths are relative to the job file's folder, so a job and its data can
move together. The README's job file reference shows every key.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = write_job(folder / "job.toml", store="store", results="res", omics="proteome")
>>> job = read_job(path)
>>> job.scan.kind, job.scan.min_n, job.scan.results == str(folder / "res")
('trans', 10, True)
"""

from __future__ import annotations

import difflib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from linkscan.defaults import KINDS, OPTION, OPTIONS, SECTIONS, Names, default
from linkscan.engine.plan import ScanSpec
from linkscan.errors import JobError

#: section -> key -> (type, default, doc), from :data:`linkscan.defaults.OPTIONS`.
#: Section "" is the top level; a default of None marks a required key.
SCHEMA: dict[str, dict[str, tuple[type, object, str]]] = {
    section: {o.key: (o.type, o.default, o.doc) for o in OPTIONS if o.section == section} for section in SECTIONS
}


#: The [cluster] keys of a TLS connection: all three or none.
TLS_KEYS = ("tls_ca_file", "tls_cert", "tls_key")


@dataclass(frozen=True)
class ClusterSpec:
    """Where a job runs: the job file's ``[cluster]`` section (:mod:`linkscan.defaults`)."""

    address: str = default("address")
    n_workers: int = default("n_workers")
    threads_per_worker: int = default("threads_per_worker")
    tls_ca_file: str = default("tls_ca_file")  # absolute paths (read relative to the job file), or ""
    tls_cert: str = default("tls_cert")
    tls_key: str = default("tls_key")

    @property
    def tls(self) -> dict[str, str] | None:
        """The TLS files as open_client takes them, or None (no TLS keys)."""
        if not self.tls_ca_file:
            return None
        return {"tls_ca_file": self.tls_ca_file, "tls_cert": self.tls_cert, "tls_key": self.tls_key}


@dataclass(frozen=True)
class Job:
    path: Path
    scan: ScanSpec
    cluster: ClusterSpec


def _check(path: Path, section: str, key: str, value, kind: type):
    where = f"{path}: {section + '.' if section else ''}{key}"
    if kind is bool and not isinstance(value, bool):
        raise JobError(f"{where} = {value!r} must be true or false (no quotes)")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise JobError(f"{where} = {value!r} must be an integer (no quotes), e.g. {key} = {SCHEMA[section][key][1]}")
    if kind is str and not isinstance(value, str):
        raise JobError(f"{where} = {value!r} must be a string (in quotes)")
    if kind is Names and not (isinstance(value, str) or isinstance(value, list)
                              and all(isinstance(v, str) for v in value)):
        raise JobError(f"{where} = {value!r} must be a list of names, e.g. [\"MKI67\", \"TP53\"], or the path "
                       "of a text file with one name per line")
    if kind is list and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise JobError(f"{where} = {value!r} must be a list of names, e.g. [\"BRCA\", \"LUAD\"]")


def _hint(key: str, section: str) -> str:
    """Where an unknown ``key`` of ``section`` probably belongs: a key of another section
    (moved there), or close spellings in its own."""
    for other, keys in SCHEMA.items():
        if other != section and key in keys:
            place = f"under [{other}]" if other else "at the top, before any [section]"
            return f"; {key} belongs {place}, move it there"
    close = difflib.get_close_matches(key, list(SCHEMA[section]), n=3)
    for other, keys in SCHEMA.items():
        if other != section:
            close += [f"[{other}] {k}" if other else k for k in difflib.get_close_matches(key, list(keys), n=1)]
    return f" (did you mean {', '.join(close[:3])}?)" if close else ""


def read_job(path: str | Path) -> Job:
    """Read and validate a job file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM, as some editors write
    except FileNotFoundError:
        raise JobError(f"job file {path} does not exist; check the path (the current directory is {Path.cwd()})") from None
    except tomllib.TOMLDecodeError as exc:
        raise JobError(f"job file {path} is not valid TOML: {exc}; fix it there (text values need quotes, "
                       'e.g. omics = "proteome"; lists are written ["BRCA", "OV"])') from None
    except UnicodeDecodeError as exc:
        raise JobError(f"job file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 text") from None
    except OSError as exc:  # a folder, no read permission
        raise JobError(f"cannot read job file {path}: {exc.strerror}; give the path of a readable TOML file") from None
    values: dict[str, dict] = {section: {} for section in SCHEMA}
    for key, value in raw.items():
        if key in SCHEMA and key and isinstance(value, dict):
            section, items = key, value
        elif key in SCHEMA[""]:
            values[""][key] = value
            continue
        elif key in SCHEMA:
            raise JobError(f"{path}: {key} = {value!r}: [{key}] is a section; write [{key}] on a line of its own "
                           f"and its keys below it ({', '.join(SCHEMA[key])})")
        else:
            valid = sorted(set(SCHEMA[""]) | {f"[{s}]" for s in SCHEMA if s})
            raise JobError(f"{path}: unknown key {key!r}; valid keys are {', '.join(valid)}{_hint(key, '')}")
        for sub, subvalue in items.items():
            if sub not in SCHEMA[section]:
                raise JobError(f"{path}: unknown key {section}.{sub}; valid keys of [{section}] "
                               f"are {', '.join(SCHEMA[section])}{_hint(sub, section)}")
            values[section][sub] = subvalue
    merged: dict[str, dict] = {}
    for section, keys in SCHEMA.items():
        merged[section] = {}
        for key, (kind, default, _) in keys.items():
            if key in values[section]:
                _check(path, section, key, values[section][key], kind)
                merged[section][key] = values[section][key]
            elif default is None:
                raise JobError(f"{path}: missing required key {key!r} ({keys[key][2]})")
            else:
                merged[section][key] = default
    top = merged[""]
    if top["kind"] not in KINDS:
        raise JobError(f"{path}: kind = {top['kind']!r}; supported kinds: {', '.join(KINDS)}")
    base = path.resolve().parent
    try:
        scan = ScanSpec(
            store=_resolve(base, top["store"]),
            results=_resolve(base, top["results"]),
            omics=top["omics"],
            kind=top["kind"],
            omics_y=top["omics_y"],
            cohorts=tuple(top["cohorts"]),
            phenotypes=tuple(top["phenotypes"]),
            mutations=top["mutations"],
            features=_names(path, base, "features", top["features"]),
            features_y=_names(path, base, "features_y", top["features_y"]),
            exclude_samples=_names(path, base, "exclude_samples", top["exclude_samples"]),
            where=top["where"],
            paired=top["paired"],
            covariates=tuple(top["covariates"]),
            keep=top["keep"],
            tile_size=merged["scan"]["tile_size"],
            **merged["statistics"],
        )
    except JobError as exc:
        raise JobError(f"{path}: {exc}") from None
    settings = merged["cluster"]
    _check_tls(path, base, settings)
    for key in ("n_workers", "threads_per_worker"):
        if settings[key] < OPTION[key].minimum:
            raise JobError(f"{path}: [cluster] {key} must be >= {OPTION[key].minimum}, not {settings[key]}")
    cluster = ClusterSpec(**settings)
    return Job(path=path, scan=scan, cluster=cluster)


def _check_tls(path: Path, base: Path, settings: dict) -> None:
    """All three TLS keys or none; each an existing file (resolved in place)."""
    given = [key for key in TLS_KEYS if settings[key]]
    if not given:
        return
    missing = [key for key in TLS_KEYS if not settings[key]]
    if missing:
        raise JobError(
            f"{path}: [cluster] {' and '.join(given)} set without {' and '.join(missing)}; a tls:// scheduler "
            "needs all three: tls_ca_file (the CA certificate that signed the cluster's certificates), tls_cert "
            "(this client's certificate) and tls_key (its private key). Set "
            f"{' and '.join(missing)}, or remove {' and '.join(given)} to connect without TLS"
        )
    for key in TLS_KEYS:
        file = Path(_resolve(base, settings[key]))
        if not file.is_file():
            why = "is a folder" if file.is_dir() else "does not exist"
            raise JobError(
                f"{path}: [cluster] {key} = {settings[key]!r}: {file} {why} (a relative path is read from the job "
                f"file's folder, {base}); give the path of a PEM file"
            )
        settings[key] = str(file)


def _names(path: Path, base: Path, key: str, value) -> tuple[str, ...]:
    """A names key's value: its list, or the names in the file it gives (relative to
    the job file's folder)."""
    from linkscan.engine.samples import read_names

    try:
        return read_names(value, base, key)
    except JobError as exc:
        raise JobError(f"{path}: {exc}") from None


def _resolve(base: Path, value: str) -> str:
    if "://" in value:
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


def job_text(**values) -> str:
    """A job file's TOML text: every key of :data:`linkscan.defaults.OPTIONS`, by section,
    with the given ``values`` or the defaults, each followed by its meaning.

    Examples
    --------
    >>> print(job_text(store="store", results="res", omics="proteome").splitlines()[0])
    store = "store"  # cohort store made by `linkscan ingest` (relative to the job file), or s3://...
    """
    unknown = sorted(set(values) - {o.key for o in OPTIONS})
    if unknown:
        raise JobError(f"unknown job keys {', '.join(unknown)}; valid keys are {', '.join(o.key for o in OPTIONS)}")
    lines = []
    for section in SECTIONS:
        lines += [f"\n[{section}]"] if section else []
        for o in (o for o in OPTIONS if o.section == section):
            value = values.get(o.key, o.default)
            if value is None:
                raise JobError(f"job key {o.key!r} is required ({o.doc})")
            lines.append(f"{o.key} = {_toml(value)}  # {o.doc}")
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    """A TOML value: JSON's strings and lists of strings are TOML's too."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json.dumps(str(v)) for v in value) + "]"
    if isinstance(value, dict):  # an inline table: keep = {min_slogp = 6}
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value) if isinstance(value, (str, bool)) else str(value)


def write_job(path: str | Path, **values) -> Path:
    """Write a job file of ``values`` (any keys of :mod:`linkscan.defaults`; the others
    get their defaults) to ``path``, and return it."""
    path = Path(path)
    path.write_text(job_text(**values), encoding="utf-8")
    return path
