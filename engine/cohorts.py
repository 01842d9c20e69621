"""Adding or dropping cohorts of a finished scan without recomputing the others.

A job resubmitted into its finished result store with other ``cohorts`` (or ``cohorts =
[]`` after a cohort was ingested) is the same scan but for the cohorts: the cohorts it
keeps were computed already. :func:`prepare` recognises it, keeps the finished scan in
the store's ``previous/`` (:meth:`~linkscan.storage.results.store.ResultStore.begin_cohort_change`)
and gives the plan a :class:`Previous`: each tile then computes only the added
cohorts' tests and reads the kept cohorts' results from the previous shards
(:meth:`Previous.fill`), and the meta p and the q-values are computed afresh over the
new set of cohorts. Because a tile's meta p is computed from the stored (float32)
cohort p-values and every step's output depends only on the rows, the finished store
is the same bytes as a scan of the new cohorts from scratch (tested).

Anything else that changed (an option, a re-ingested cohort, the features) is a
different scan and is refused with what changed and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkscan.errors import ResultsError
from linkscan.storage.results.files import read_parquet

#: Keys of a manifest's ``scan`` that follow from its cohorts.
_FROM_COHORTS = ("cohorts", "inputs", "partners")


@dataclass(frozen=True)
class Previous:
    """The finished scan a cohort change starts from: the cohorts whose results it keeps,
    and the code in it of each code of the new scan (-1: not in it)."""

    cohorts: tuple[str, ...]
    old_code: np.ndarray = field(repr=False)
    n_old: int = 0  # entities of the previous scan (its codes are below it)

    def fill(self, ctx, res) -> None:
        """Put the kept cohorts' results of the tile's pairs (``res``: linkscan.engine.tile._Results)
        as the previous scan stored them; a pair it did not store had no result there."""
        old_f, old_p = self.old_code[res.feature], self.old_code[res.partner]
        known = (old_f >= 0) & (old_p >= 0)
        if not known.any():
            return
        rows = ctx.results.previous_rows(np.unique(old_f[known]))
        span = np.int64(self.n_old)  # a pair's key: feature * span + partner
        index = pd.Index(rows["feature"].to_numpy(np.int64) * span + rows["partner"].to_numpy(np.int64))
        at = np.where(known, index.get_indexer(old_f.astype(np.int64) * span + old_p), -1)
        have = np.flatnonzero(at >= 0)
        at = at[have]
        for c, cohort in enumerate(ctx.cohorts):
            if cohort not in self.cohorts:
                continue
            res.stat[c, have] = rows[f"{cohort}_stat"].to_numpy(np.float32, na_value=np.nan)[at]
            res.n[c, have] = rows[f"{cohort}_n"].to_numpy(np.int16, na_value=0)[at]
            res.slogp[c, have] = rows[f"{cohort}_slogp"].to_numpy(np.float64, na_value=np.nan)[at]
            if f"{cohort}_floored" in rows:
                res.floored[c, have] = rows[f"{cohort}_floored"].to_numpy(bool, na_value=False)[at]
            if f"{cohort}_nx" in rows:
                res.nx[c, have] = rows[f"{cohort}_nx"].to_numpy(np.int16, na_value=0)[at]


def prepare(plan) -> Previous | None:
    """The cohort change ``plan`` makes to its result store, begun (the store's lock is
    held by the caller): a :class:`Previous` for the plan's tiles, or None when the
    store is new, holds this very scan, or holds a finished scan of these cohorts.
    ResultsError when the store holds a scan that differs in more than its cohorts."""
    results = plan.context.results
    path = results.path
    if not (path / "manifest.json").is_file():
        return None
    current = results.manifest()
    if current.get("fingerprint") == plan.manifest["fingerprint"]:
        if current.get("previous") and not results.is_complete():  # a change under way: resume it
            return _previous(plan, results.previous_manifest())
        return None
    source = current if results.is_complete() else _interrupted_source(results, current, plan.manifest)
    _check_only_cohorts(path, source, plan.manifest)
    manifest = dict(plan.manifest, previous={"fingerprint": source["fingerprint"], "cohorts": source["cohorts"]})
    results.begin_cohort_change(manifest, plan.features)
    return _previous(plan, source)


def _interrupted_source(results, current: dict, new: dict) -> dict:
    """The finished scan of an interrupted start of a cohort change, or the error for a
    store whose scan is not finished."""
    try:
        previous = results.previous_manifest()
    except FileNotFoundError:
        previous = None
    if previous is not None and previous.get("fingerprint") == current.get("fingerprint"):
        return previous
    _check_only_cohorts(results.path, current, new)  # what else changed, if anything
    raise ResultsError(
        f"{results.path} holds a scan of other cohorts or options that is not finished; finish it first (submit "
        "its own job again), then submit this job to add or drop cohorts without recomputing the others, or "
        "give this job another results directory"
    )


def _check_only_cohorts(path, old: dict, new: dict) -> None:
    """ResultsError naming what differs between two scans besides their cohorts."""
    changed = [key for key in sorted(set(old["scan"]) | set(new["scan"]))
               if key not in _FROM_COHORTS and old["scan"].get(key) != new["scan"].get(key)]
    kept = [c for c in new["scan"]["cohorts"] if c in old["scan"]["cohorts"]]
    older = not isinstance(old["scan"].get("inputs"), dict)  # before inputs were kept per cohort
    reingested = [] if older else [c for c in kept if old["scan"]["inputs"].get(c) != new["scan"]["inputs"].get(c)]
    if not changed and not reingested and not older and old.get("schema_version") == new.get("schema_version"):
        return
    what = [f"{key} ({_short(old['scan'].get(key))} -> {_short(new['scan'].get(key))})" for key in changed]
    if reingested:
        what.append(f"the data of cohorts {', '.join(reingested)} (ingested again since)")
    if older or old.get("schema_version") != new.get("schema_version"):
        what.append("the result schema (a store of an older linkscan)")
    raise ResultsError(
        f"{path} holds the results of a different scan (differs in: {'; '.join(what)}); only cohorts can be "
        "added or dropped in place. Give the job another results directory, or delete this one to start over"
    )


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _previous(plan, source: dict) -> Previous:
    """The :class:`Previous` of ``plan`` reading the finished scan ``source``."""
    features = read_parquet(plan.context.results.path / "previous" / "features.parquet")
    old = pd.Index(features["omics"].astype(str) + ":" + features["feature"].astype(str))
    new = plan.features["omics"].astype(str) + ":" + plan.features["feature"].astype(str)
    old_code = old.get_indexer(new).astype(np.int64)  # a code is its row in features.parquet; -1: not there
    kept = tuple(c for c in plan.context.cohorts if c in source["cohorts"])
    return Previous(cohorts=kept, old_code=old_code, n_old=len(features))
