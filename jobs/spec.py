"""Job files: the one place a scan is configured.

A job is a TOML file. Every key, its default and its meaning are in :data:`SCHEMA`;
unknown keys and values of the wrong type are errors that name the key, the file and
the valid choices. Relative paths are relative to the job file's folder, so a job and
its data can move together.

Example::

    store = "store"              # the cohort store (Zarr), made by `linkscan ingest`
    results = "results"          # where result shards go (Parquet)
    kind = "trans"                # trans | cis | tumor_normal | phenotype
    omics = "proteome"
    omics_y = ""                  # partner omics (trans of two omics, cis)
    phenotypes = []               # phenotype scans: [] = every phenotype
    mutations = ""                # phenotype scans: binary omics tested as phenotypes
    cohorts = []                 # [] = every cohort of the store with this omics

    [statistics]
    min_n = 10
    p_mode = "t"
    min_cohorts = 1

    [scan]
    tile_size = 500

    [cluster]
    address = ""                 # "" = a LocalCluster on this machine
    n_workers = 0                # LocalCluster process workers; 0 = one per core
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from linkscan.engine.plan import KINDS, ScanSpec
from linkscan.errors import JobError

#: section -> key -> (type, default, doc). Section "" is the top level.
SCHEMA: dict[str, dict[str, tuple[type, object, str]]] = {
    "": {
        "store": (str, None, "cohort store made by `linkscan ingest` (required)"),
        "results": (str, None, "result store directory (required); resubmitting resumes it"),
        "kind": (str, "trans", "scan kind: trans, cis, tumor_normal or phenotype"),
        "omics": (str, None, "omics to scan, as named at ingest (required)"),
        "omics_y": (str, "", "partner omics: trans of two omics, or cis (required by cis)"),
        "cohorts": (list, [], "cohorts to include; [] = all cohorts that have the omics"),
        "phenotypes": (list, [], "phenotype scans: phenotypes to test; [] = all"),
        "mutations": (str, "", "phenotype scans: a binary omics whose rows are tested too"),
    },
    "statistics": {
        "min_n": (int, 10, "minimum overlapping samples for a Spearman result"),
        "p_mode": (str, "t", "p-values: t (t approximation) or r (R cor.test, AS 89)"),
        "min_cohorts": (int, 1, "minimum cohorts with a result for a meta p"),
        "min_tumor": (int, 20, "tumor_normal: minimum tumor values"),
        "min_normal": (int, 10, "tumor_normal: minimum normal values"),
        "min_samples": (int, 20, "binary, ordinal, categorical phenotypes: minimum samples"),
        "min_group": (int, 10, "binary phenotypes and mutations: minimum samples per group"),
        "min_events": (int, 5, "survival: minimum events"),
        "cox_min_n": (int, 10, "survival: minimum samples"),
        "cox_min_side": (int, 10, "survival: minimum samples on each side of the feature's median"),
    },
    "scan": {
        "tile_size": (int, 500, "features per block; a task holds cohorts x tile_size^2 results"),
    },
    "cluster": {
        "address": (str, "", "dask scheduler address; empty = a LocalCluster here"),
        "n_workers": (int, 0, "LocalCluster process workers; 0 = one per core"),
        "threads_per_worker": (int, 1, "LocalCluster threads per worker"),
        "tls_ca_file": (str, "", "tls:// scheduler: CA certificate (PEM) that signed the cluster's certificates"),
        "tls_cert": (str, "", "tls:// scheduler: this client's certificate (PEM), signed by tls_ca_file's CA"),
        "tls_key": (str, "", "tls:// scheduler: the private key (PEM) of tls_cert"),
    },
}


#: The [cluster] keys of a TLS connection: all three or none.
TLS_KEYS = ("tls_ca_file", "tls_cert", "tls_key")


@dataclass(frozen=True)
class ClusterSpec:
    address: str = ""
    n_workers: int = 0
    threads_per_worker: int = 1
    tls_ca_file: str = ""  # absolute paths (read relative to the job file), or ""
    tls_cert: str = ""
    tls_key: str = ""

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
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise JobError(f"{where} = {value!r} must be an integer (no quotes), e.g. {key} = {SCHEMA[section][key][1]}")
    if kind is str and not isinstance(value, str):
        raise JobError(f"{where} = {value!r} must be a string (in quotes)")
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
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
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
            tile_size=merged["scan"]["tile_size"],
            **merged["statistics"],
        )
    except JobError as exc:
        raise JobError(f"{path}: {exc}") from None
    settings = merged["cluster"]
    _check_tls(path, base, settings)
    cluster = ClusterSpec(**settings)
    if cluster.n_workers < 0 or cluster.threads_per_worker < 1:
        raise JobError(f"{path}: [cluster] n_workers must be >= 0 and threads_per_worker >= 1")
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


def _resolve(base: Path, value: str) -> str:
    if "://" in value:
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


def write_job(path: str | Path, *, store: str, results: str, omics: str, kind: str = "trans",
              omics_y: str = "", mutations: str = "", cohorts=(), tile_size: int = 500,
              n_workers: int = 0, p_mode: str = "t") -> Path:
    """Write a job file (used by `linkscan demo`)."""
    path = Path(path)
    cohort_list = ", ".join(f'"{c}"' for c in cohorts)
    path.write_text(
        f'store = "{store}"\nresults = "{results}"\nkind = "{kind}"\nomics = "{omics}"\n'
        f'omics_y = "{omics_y}"\nmutations = "{mutations}"\ncohorts = [{cohort_list}]\n\n'
        f'[statistics]\nmin_n = 10\n'
        f'p_mode = "{p_mode}"\nmin_cohorts = 1\n\n[scan]\ntile_size = {tile_size}\n\n'
        f'[cluster]\naddress = ""\nn_workers = {n_workers}\n'
    )
    return path
