"""The Parquet result store: tile parts, the ledger, shards and lookups.

Layout of a result store (a local folder, or an fsspec URL such as ``s3://bucket/res``:
see :mod:`linkscan.storage.location`)::

    manifest.json             what the scan is (kind, fingerprint, cohorts, shard size)
    features.parquet          code -> feature id, gene, omics: every entity of the scan
                              (features of each omics, phenotypes, ...); rows store codes
    lock                      the submission running now (host, process, since)
    ledger/<tile>.json        one per finished tile: its part files, rows, checksums, timing
    failures.jsonl            tiles that failed, with their errors
    parts/<shard>/<tile>.parquet
                              a tile's rows whose query entity falls in <shard>
    bh/<column>.values.npy    every distinct |p| of a column over the whole scan (-log10,
    bh/<column>.log10q.npy    ascending) and its BH q
    shards/<shard>.parquet    the finished shard: all rows of its entities, sorted by
                              (feature, partner), with q columns, row groups of up to 8
                              features and about 32k rows
    complete.json             written last; a lookup refuses a store without it

A tile is finished when its parts are under their final names and its ledger entry
exists (every file is written whole or not at all: a local one under a temporary name
then renamed, an object in one PUT; so a killed process leaves no half-written file
under a final name, and the ledger entry, written last, commits the tile). Finishing the job compacts each shard's parts
into one file whose bytes depend only on the scan's inputs and options, never on the
tile size, the number of workers or what failed on the way.

The shard of a feature is ``code // shard_size``: a lookup is a dictionary lookup, one
file open and a read of the row groups that hold the feature.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import os
import socket
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkscan.errors import ResultsError
from linkscan.storage.write_errors import write_error
from linkscan.storage.location import Location

SCHEMA_VERSION = 1

#: Rows per shard file aimed at when choosing the shard size (bounds finalize memory).
SHARD_TARGET_ROWS = 2_000_000
#: Features per row group in a finished shard, at most (a lookup reads one row group)...
FEATURES_PER_ROW_GROUP = 8
#: ...and rows per row group aimed at: fewer features per group when each has many rows
#: (a 10,000-protein scan: 3 features, 30,000 rows), so that a lookup decodes ~30k rows
#: whatever the scan's size; each row group costs the finish a fixed ~0.5 ms per column.
ROWS_PER_ROW_GROUP = 32_768
#: Compression of part and shard files. LZ4 (the raw block format, which every Parquet
#: reader takes): on a 10-cohort part of 384k rows it wrote 5x and read 4x faster than
#: zstd for 14% more bytes, and a scan's time is in writing and reading its rows.
COMPRESSION = "LZ4_RAW"

#: The result schema as data: column suffix -> (dtype, doc). Per-cohort columns are
#: ``<COHORT>_<suffix>``.
COHORT_COLUMNS = {
    "stat": ("float32", "the test's effect (Spearman rho for trans); null without a result"),
    "n": ("Int16", "samples used; null without a result"),
    "slogp": ("float32", "sign(effect) * -log10(p); null without a result"),
}
#: Tests a row can come from (STATS.md), in the order of the ``test`` column's codes.
TESTS = ("spearman", "wilcoxon", "jt", "anova", "cox")
TEST_DTYPE = pd.CategoricalDtype(list(TESTS))
PAIR_COLUMNS = {
    "feature": ("int32", "code of the query feature (see features.parquet)"),
    "partner": ("int32", "code of the partner feature"),
    "test": (TEST_DTYPE, "the test that made the row: " + ", ".join(TESTS)),
}
#: Only in p_mode "r": True where the cohort's p was floored at 2.2e-16 as R's users do.
FLOORED_COLUMN = ("floored", "bool", "p_mode r only: p floored at 2.2e-16 (slogp 15.65)")
#: Benjamini-Hochberg q of a p column over the whole scan, log10 (<= 0); added when the
#: scan is finished, for each ``<COHORT>_slogp`` and for ``meta_slogp``.
Q_SUFFIX = ("log10q", "float32", "log10 of the Benjamini-Hochberg q over the whole scan")
META_COLUMNS = {
    "meta_slogp": ("float32", "pan-cancer Stouffer meta p, signed, -log10 (STATS.md)"),
    "meta_log10q": ("float32", Q_SUFFIX[2] + " (of the meta p)"),
    "n_cohorts": ("int8", "cohorts with a result for this pair"),
}


def result_dtypes(cohorts: list[str], p_mode: str = "t") -> dict[str, str]:
    """Column name -> dtype of a result row for these cohorts, in column order."""
    dtypes = {name: dtype for name, (dtype, _) in PAIR_COLUMNS.items()}
    for cohort in cohorts:
        for suffix, (dtype, _) in COHORT_COLUMNS.items():
            dtypes[f"{cohort}_{suffix}"] = dtype
        if p_mode == "r":
            dtypes[f"{cohort}_{FLOORED_COLUMN[0]}"] = FLOORED_COLUMN[1]
        dtypes[f"{cohort}_{Q_SUFFIX[0]}"] = Q_SUFFIX[1]
    dtypes.update({name: dtype for name, (dtype, _) in META_COLUMNS.items()})
    return dtypes


def shard_size_for(n_entities: int, n_pairs: int) -> int:
    """Entities per shard: a power of two, so that a shard holds about
    :data:`SHARD_TARGET_ROWS` rows on average (each of ``n_pairs`` associations is two
    rows among ``n_entities``; a self-scan of n features has n - 1 rows per feature, a
    phenotype scan a few rows per feature)."""
    rows_per_entity = max(1, 2 * n_pairs // max(n_entities, 1))
    size = max(1, SHARD_TARGET_ROWS // rows_per_entity)
    return int(min(4096, max(FEATURES_PER_ROW_GROUP, 1 << (size.bit_length() - 1))))


#: What a failed write of a result file leaves (see :func:`_put`).
_KEPT = "the files written before it are kept (tiles finished earlier stay finished)"


def _put(location: Location, data: bytes, kept: str = _KEPT) -> None:
    """Write ``data`` whole or not at all (:meth:`Location.write_bytes`); an OSError (a
    full disk, no write permission) becomes a WriteError naming the file."""
    try:
        location.write_bytes(data)
    except OSError as exc:
        raise write_error(str(location), exc, "a result file", kept) from exc


class _Buffer(io.BytesIO):
    """A BytesIO that fastparquet can close without losing its bytes."""

    def close(self) -> None:
        pass


def _parquet_bytes(frame: pd.DataFrame, row_group_offsets=None) -> bytes:
    import fastparquet

    buffer = _Buffer()
    fastparquet.write(
        # statistics only where a read filters: the code columns (min/max of "feature"
        # let a lookup skip row groups); for the other columns they cost a quarter of
        # the write and serve no query
        "part.parquet", frame, compression=COMPRESSION, write_index=False,
        stats=[c for c in ("feature", "partner") if c in frame.columns],
        # definition levels only where there can be nulls (the nullable counts): floats
        # keep NaN as a value, and every level costs writing and reading
        has_nulls=[c for c in frame.columns if isinstance(frame[c].dtype, pd.Int16Dtype)],
        row_group_offsets=row_group_offsets if row_group_offsets is not None else 50_000_000,
        open_with=lambda path, mode="wb": buffer,
    )
    return buffer.getvalue()


def _write_parquet(location: Location, frame: pd.DataFrame, row_group_offsets=None, kept: str = _KEPT) -> tuple[int, str]:
    """Write ``frame`` to ``location`` whole or not at all; return (bytes, sha256). An
    OSError (a full disk, no write permission) becomes a WriteError naming the file."""
    data = _parquet_bytes(frame, row_group_offsets)
    _put(location, data, kept)
    return len(data), hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ResultStore:
    """A result store rooted at a local folder or an fsspec URL (see
    :mod:`linkscan.storage.location`). Cheap to build and to pickle: workers receive it with
    every tile."""

    root: str

    @property
    def path(self) -> Location:
        return Location(self.root)

    # ------------------------------------------------------------------ create / open
    def create_or_resume(self, manifest: dict, features: pd.DataFrame) -> bool:
        """Start a new store for ``manifest``, or confirm that the existing one holds the
        same scan. Returns True when resuming. A store of a different scan is an error
        (results are never mixed)."""
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
        subs = ("ledger", "parts", "shards")
        try:
            for sub in subs:
                (path / sub).mkdir()
            nothing = "nothing is left of the new result store"
            _write_parquet(path / "features.parquet", features, kept=nothing)
            # the manifest last: a directory without it is not a result store yet
            _put(path / "manifest.json", json.dumps(manifest, indent=1).encode(), kept=nothing)
        except BaseException as exc:
            # Take back what this call made (the directory was empty or absent), so that
            # the next submission starts afresh instead of finding a foreign directory.
            (path / "features.parquet").remove()
            for sub in subs:
                (path / sub).remove_tree()
            if created:
                path.remove_if_empty()  # only if nothing else appeared in it
            if isinstance(exc, OSError):  # a mkdir
                raise write_error(str(path), exc, "the result store", "nothing is left of the new result store") from exc
            raise
        return False

    def manifest(self) -> dict:
        try:
            return json.loads((self.path / "manifest.json").read_bytes())
        except FileNotFoundError:
            raise ResultsError(
                f"{self.path} is not a linkscan result store (no manifest.json); "
                "pass the `results` directory of a job"
            ) from None

    # ------------------------------------------------------------------ tiles
    def write_tile(self, key: str, frames: dict[int, pd.DataFrame], seconds: float = 0.0) -> dict:
        """Write a tile's rows, one part per shard, then its ledger entry (the commit),
        which records when the tile finished and how long it computed."""
        parts = {}
        for shard, frame in sorted(frames.items()):
            folder = self.path / "parts" / f"{shard:05d}"
            _mkdir(folder)
            size, digest = _write_parquet(folder / f"{key}.parquet", frame)
            parts[str(shard)] = {"rows": len(frame), "bytes": size, "sha256": digest}
        entry = {"tile": key, "rows": sum(p["rows"] for p in parts.values()), "parts": parts,
                 "seconds": round(seconds, 4), "finished_at": time.time()}
        _put(self.path / "ledger" / f"{key}.json", json.dumps(entry).encode())
        return entry

    def ledger(self, *, verify: bool = False, repair: bool = False) -> dict[str, dict]:
        """Finished tiles: key -> ledger entry, for entries whose parts are all present
        with the recorded size (a lost or truncated part un-finishes its tile) and, with
        ``verify``, the recorded sha256 (a corrupted part too). With ``repair``, an entry
        that fails is removed with its parts, so that the tile is computed again."""
        done = {}
        complete = self.is_complete()
        files = [self.path / "ledger" / name for name in self.ledger_names()]
        for file, data in zip(files, Location.read_many(files)):
            try:
                entry = json.loads(data)
                key = entry["tile"]
                parts = {int(s): p for s, p in entry["parts"].items()}
            except (ValueError, KeyError, TypeError):  # a torn, foreign or vanished ledger file
                if repair:
                    file.remove()
                continue
            if complete or all(self._part_ok(key, shard, part, verify) for shard, part in parts.items()):
                done[key] = entry
            elif repair:
                file.remove()
                for shard in parts:
                    self._part(shard, key).remove()
        return done

    def ledger_names(self) -> list[str]:
        """Names of the ledger's entries (``<tile>.json``), without reading them."""
        return [name for name in (self.path / "ledger").names() if name.endswith(".json") and not name.startswith(".")]

    def _part(self, shard: int, key: str) -> Location:
        return self.path / "parts" / f"{shard:05d}" / f"{key}.parquet"

    def _part_ok(self, key: str, shard: int, part: dict, verify: bool) -> bool:
        file = self._part(shard, key)
        if file.size() != part["bytes"]:
            return False
        return not verify or hashlib.sha256(file.read_bytes()).hexdigest() == part["sha256"]

    # ------------------------------------------------------------------ one submitter
    def lock(self) -> None:
        """Take the store's lock for this process, or refuse: one submission at a time.

        The lock is a file created exclusively (a conditional write on an object
        store), naming the host, the process and when. A lock left by a process of this
        host that no longer runs (killed) is taken over; a lock of another host is only
        reported (its process cannot be checked)."""
        path = self.path / "lock"
        me = {"host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        for _ in range(2):
            try:
                path.create(json.dumps(me).encode())
            except FileExistsError:
                holder = self.lock_holder()
                if holder and holder.get("host") == me["host"] and not _alive(holder.get("pid", -1)):
                    path.remove()  # its submitter was killed: take over
                    continue
                who = (f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"
                       if holder else "another process")
                raise ResultsError(
                    f"{self.path} is being scanned by {who}; wait for it to finish (linkscan status shows "
                    f"its progress), or, if that process is dead, delete {path} and resubmit"
                ) from None
            except OSError as exc:  # a read-only results directory, a full disk
                raise write_error(str(path), exc, "the result store's lock", "nothing was changed") from exc
            return
        raise ResultsError(f"could not take the lock {path}; delete it and resubmit")

    def lock_holder(self) -> dict | None:
        """Who holds the lock (host, pid, since), or None."""
        try:
            return json.loads((self.path / "lock").read_bytes())
        except (FileNotFoundError, ValueError):
            return None

    def unlock(self) -> None:
        holder = self.lock_holder()
        if holder and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
            (self.path / "lock").remove()

    def record_failure(self, tile: str, error: str) -> None:
        """Add a failed tile to ``failures.jsonl`` (what `linkscan status` reports). Only
        the lock holder calls it, so rewriting the file whole (object stores cannot
        append) loses nothing."""
        file = self.path / "failures.jsonl"
        line = json.dumps({"tile": tile, "error": error, "at": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n"
        try:
            try:
                before = file.read_bytes()
            except FileNotFoundError:
                before = b""
            file.write_bytes(before + line.encode())
        except OSError as exc:  # e.g. the full disk that failed the tile: say so, not a traceback
            raise write_error(str(file), exc, f"the failure of {tile}", _KEPT) from exc

    def failures(self) -> list[dict]:
        try:
            lines = (self.path / "failures.jsonl").read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    # ------------------------------------------------------------------ finish
    def _read_part(self, shard: int, entry: dict, columns=None) -> pd.DataFrame:
        """A tile's part of ``shard``, checked against its ledger checksum."""
        import fastparquet

        file = self.path / "parts" / f"{shard:05d}" / f"{entry['tile']}.parquet"
        data = file.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["parts"][str(shard)]["sha256"]:
            raise ResultsError(
                f"result part {file} does not match its ledger checksum; delete "
                f"{self.path / 'ledger' / (entry['tile'] + '.json')} and resubmit the job "
                "to recompute that tile"
            )
        return fastparquet.ParquetFile(io.BytesIO(data)).to_pandas(columns=columns)

    def p_values(self, columns: list[str], entries: list[dict]) -> dict[str, np.ndarray]:
        """``|column|`` (a -log10 p, float32) of every pair of the scan once (its row with
        feature < partner), for each of ``columns``, read from the finished tiles' parts in
        one pass; nulls left out. Only those columns' chunks are read, without the
        checksum: the compaction that follows reads every part whole and checks it, so a
        damaged part still stops the finish before anything is marked complete."""
        values = {column: [] for column in columns}
        for entry in entries:
            for shard in entry["parts"]:
                file = self._part(int(shard), entry["tile"])
                part = file.parquet().to_pandas(columns=["feature", "partner", *columns])
                once = part["feature"].to_numpy() < part["partner"].to_numpy()
                for column in columns:
                    x = part[column].to_numpy()[once]
                    values[column].append(np.abs(x[~np.isnan(x)]))
        return {c: np.concatenate(v) if v else np.empty(0, np.float32) for c, v in values.items()}

    def save_q_table(self, column: str, values: np.ndarray, log10q: np.ndarray) -> None:
        """Keep the BH q of each distinct ``|column|`` value (sorted) for the shards, as
        two .npy files (``bh/<column>.values.npy``, ``bh/<column>.log10q.npy``)."""
        _mkdir(self.path / "bh")
        for name, array in (("values", values), ("log10q", log10q)):
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array, dtype=np.float32))
            _put(self.path / "bh" / f"{column}.{name}.npy", buffer.getvalue())

    def q_table(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """The saved BH table of ``column``: (values ascending, log10 q). Local tables are
        memory-mapped: every shard's compaction reads them, and a 10-cohort x
        10,000-protein scan's tables are 700 MB, shared this way through the page cache
        by all of a machine's workers instead of copied into each task."""
        out = []
        for name in ("values", "log10q"):
            file = self.path / "bh" / f"{column}.{name}.npy"
            out.append(np.load(file.url, mmap_mode="r") if file.local else np.load(io.BytesIO(file.read_bytes())))
        return out[0], out[1]

    def finalize_shard(self, shard: int, entries: list[dict]) -> int:
        """Merge the parts of ``shard`` (from the ledger ``entries`` that have one) into
        ``shards/<shard>.parquet``, sorted by (feature, partner), with the q columns of
        the saved BH tables. Returns its rows."""
        frames = [self._read_part(shard, entry) for entry in entries if str(shard) in entry["parts"]]
        manifest = self.manifest()
        dtypes = result_dtypes(manifest["cohorts"], manifest["scan"].get("p_mode", "t"))
        if frames:
            frame = pd.concat(frames, ignore_index=True)
            frame = frame.sort_values(["feature", "partner"], kind="stable", ignore_index=True)
        else:
            frame = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in dtypes.items()})
        for column in [c for c in dtypes if c.endswith("_slogp")]:
            values, log10q = self.q_table(column)
            frame[column.removesuffix("_slogp") + "_" + Q_SUFFIX[0]] = _q_of(
                np.abs(frame[column].to_numpy(dtype=np.float32)), values, log10q)
        frame = frame[list(dtypes)].astype(dtypes)
        codes = frame["feature"].to_numpy()
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([0])
        per_feature = len(codes) / max(len(starts), 1)
        per_group = int(min(FEATURES_PER_ROW_GROUP, max(1, ROWS_PER_ROW_GROUP // max(per_feature, 1))))
        offsets = [int(x) for x in starts[::per_group]]
        _write_parquet(self.path / "shards" / f"{shard:05d}.parquet", frame, row_group_offsets=offsets)
        return len(frame)

    def mark_complete(self, summary: dict) -> None:
        _put(self.path / "complete.json", json.dumps(summary, indent=1).encode())
        (self.path / "parts").remove_tree()

    def summary(self) -> dict:
        """What ``complete.json`` records of a finished store (rows, tiles, shards)."""
        return json.loads((self.path / "complete.json").read_bytes())

    def is_complete(self) -> bool:
        return (self.path / "complete.json").is_file()

    def _opened(self) -> "_Opened":
        """The store as lookups read it (cached per process while complete.json stays
        the same); ResultsError if it is not complete."""
        try:
            complete = (self.path / "complete.json").read_bytes()
        except FileNotFoundError:
            done = len(self.ledger_names())
            raise ResultsError(
                f"{self.path} is not complete ({done} of {self.manifest()['n_tiles']} tiles finished); "
                "run `linkscan submit` on its job to finish it before looking genes up"
            ) from None
        opened = _OPENED.get(self.root)
        if opened is None or opened.complete != complete:
            opened = _OPENED[self.root] = _Opened(self, complete)
        return opened

    # ------------------------------------------------------------------ lookup
    def features(self) -> pd.DataFrame:
        return (self.path / "features.parquet").parquet().to_pandas()

    def lookup(self, gene: str, *, cohort: str | None = None, top: int | None = None,
               min_slogp: float | None = None, max_fdr: float | None = None,
               partner: str | None = None) -> pd.DataFrame:
        """The associations of one feature or gene, strongest first.

        Parameters
        ----------
        gene
            A feature id or a gene symbol, matched case-insensitively. A gene symbol
            shared by several features (phosphosites of one gene, or the same gene in
            two omics) returns all of them.
        cohort
            Keep only this cohort's columns and rank by its ``slogp``; default: rank by
            ``meta_slogp`` and keep every cohort.
        top
            Keep the ``top`` strongest partners per feature.
        min_slogp
            Keep rows with ``|slogp| >= min_slogp`` (of ``cohort``, or the meta p).
        max_fdr
            Keep rows whose Benjamini-Hochberg q (of ``cohort``, or the meta p) is at
            most ``max_fdr``.
        partner
            Keep partners with this id (case-insensitive), e.g. one phenotype.

        Returns
        -------
        One row per (feature, partner) with ids decoded, sorted by the ranking column's
        absolute value, descending (nulls last). Scans of two omics add the omics of
        both sides.
        """
        opened = self._opened()
        manifest = opened.manifest
        cohorts = manifest["cohorts"]
        if cohort is not None:
            match = {c.lower(): c for c in cohorts}.get(cohort.lower())
            if match is None:
                raise ResultsError(f"cohort {cohort!r} is not in this scan; it has: {', '.join(cohorts)}")
            cohort = match
        features = opened.features
        codes = opened.match(gene)
        shard_size = manifest["shard_size"]
        frames = []
        for shard in sorted({int(c) // shard_size for c in codes}):
            file = self.path / "shards" / f"{shard:05d}.parquet"
            wanted = [c for c in codes if c // shard_size == shard]
            try:
                rows = opened.shard(shard, file).to_pandas(filters=[("feature", "in", wanted)])
            except Exception as exc:  # truncated or overwritten: never read as valid
                raise ResultsError(
                    f"result shard {file} cannot be read ({type(exc).__name__}: {exc}); the store is "
                    "damaged: delete its complete.json and shards/ and resubmit the job to rebuild them"
                ) from None
            frames.append(rows[rows["feature"].isin(wanted)])
        rows = pd.concat(frames, ignore_index=True)
        ids = features["feature"].to_numpy()
        if partner is not None:
            rows = rows[np.char.lower(ids[rows["partner"].to_numpy()].astype(str)) == partner.lower()]
        prefix = "meta" if cohort is None else cohort
        key = f"{prefix}_slogp"
        if cohort is not None:
            rows = rows[["feature", "partner", "test"] + [c for c in rows.columns if c.startswith(f"{cohort}_")]]
            rows = rows[rows[key].notna()]
        if min_slogp is not None:
            rows = rows[rows[key].abs() >= min_slogp]
        if max_fdr is not None:
            rows = rows[rows[f"{prefix}_{Q_SUFFIX[0]}"] <= np.log10(max_fdr)]
        order = np.argsort(-rows[key].abs().fillna(-1).to_numpy(), kind="stable")
        rows = rows.iloc[order]
        if top is not None:
            rows = rows.groupby("feature", sort=False).head(top)
        out = rows.reset_index(drop=True)
        feature_codes = out["feature"].to_numpy()
        partner_codes = out["partner"].to_numpy()
        out["feature"] = ids[feature_codes]
        out["partner"] = ids[partner_codes]
        out.insert(2, "partner_gene", features["gene"].to_numpy()[partner_codes])
        if features["omics"].nunique() > 1:
            omics = features["omics"].to_numpy()
            out.insert(1, "omics", omics[feature_codes])
            out.insert(3, "partner_omics", omics[partner_codes])
        return out


class _Opened:
    """What every lookup of a finished store reads once: its manifest, feature table, a
    name index and the shards' Parquet footers. Kept per process (``_OPENED``) for as
    long as the store's complete.json is the same bytes, so a warm lookup reads one
    small file, then only the row groups of its feature."""

    def __init__(self, store: "ResultStore", complete: bytes) -> None:
        self.complete = complete
        self.manifest = store.manifest()
        self.features = store.features()
        names: dict[str, list[int]] = {}
        for column in ("feature", "gene"):
            for name, code in zip(self.features[column].str.lower(), self.features["code"]):
                if name:
                    names.setdefault(name, []).append(int(code))
        self.names = {name: sorted(set(codes)) for name, codes in names.items()}
        self._shards: dict[int, object] = {}

    def match(self, query: str) -> list[int]:
        codes = self.names.get(query.strip().lower())
        return codes if codes else _match_feature(self.features, query)  # the error with close matches

    def shard(self, shard: int, file: Location):
        if shard not in self._shards:
            self._shards[shard] = file.parquet()
        return self._shards[shard]


#: Finished stores opened by this process's lookups: root -> _Opened.
_OPENED: dict[str, _Opened] = {}


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mkdir(folder: Location) -> None:
    """Create a folder of the store (a no-op on object stores); OSError -> WriteError."""
    try:
        folder.mkdir()
    except OSError as exc:
        raise write_error(str(folder), exc, "a result folder", _KEPT) from exc


def _q_of(p: np.ndarray, values: np.ndarray, log10q: np.ndarray) -> np.ndarray:
    """The q of each ``p`` (|slogp|, float32 >= 0; NaN for none) from a column's BH
    table: ``values`` ascending and holding every stored p exactly. The needles are
    sorted (a radix sort) and merged with the table in one pass (:func:`linkscan.kernels.multitest.merge_positions`),
    linear in both, so it stays cheap however large the scan's table: a hash index of
    tens of millions of values would cost more to build, per shard, than its lookups."""
    from linkscan.kernels.multitest import argsort_nonnegative_f32, merge_positions

    p = np.ascontiguousarray(p, dtype=np.float32)
    order = argsort_nonnegative_f32(p)
    at = np.empty(len(p), dtype=np.int64)
    at[order] = merge_positions(values, p[order])
    return np.where(at >= 0, log10q[np.maximum(at, 0)], np.float32(np.nan))


def _match_feature(features: pd.DataFrame, query: str) -> list[int]:
    """Codes of the features whose id or gene equals ``query``, ignoring case (a gene's
    phosphosites, and the gene in every omics of the scan)."""
    q = query.strip().lower()
    hit = features["code"][(features["feature"].str.lower() == q) | (features["gene"].str.lower() == q)]
    if hit.empty:
        names = sorted(set(features["feature"]) | set(features["gene"]))
        lowered = {n.lower(): n for n in names}
        close = [lowered[m] for m in difflib.get_close_matches(q, list(lowered), n=5, cutoff=0.6)]
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ResultsError(f"no feature or gene named {query!r} in this result store{hint}")
    return [int(c) for c in hit]
