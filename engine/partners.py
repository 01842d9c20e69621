"""The partners of a scan that are not features: phenotypes, mutation rows and the
tumor-vs-normal contrast, with their data aligned to each cohort's scanned samples."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkscan.errors import JobError
from linkscan.engine.scanspec import ScanSpec

#: Test of each partner type (STATS.md); TN is the tumor-vs-normal contrast.
TEST_OF_TYPE = {"CON": "spearman", "BIN": "wilcoxon", "ORD": "jt", "CAT": "anova", "SURV": "cox",
                "TN": "wilcoxon", "TNP": "signed_rank"}
TUMOR_VS_NORMAL = "tumor_vs_normal"


@dataclass(frozen=True)
class Partner:
    """A non-feature partner (a phenotype, a mutation, tumor-vs-normal) with its data in
    every cohort aligned to the samples of the scanned omics (None: not in that cohort).

    ``data[c]`` holds ``values`` (CON), ``codes`` with ``x_code``, the group tested as x
    (BIN, ORD, CAT; -1 missing), or ``time`` and ``event`` (SURV; NaN missing)."""

    name: str
    omics: str  # what it is, for the id table: "phenotype", the mutation omics, "tissue"
    type: str  # CON, BIN, ORD, CAT, SURV or TN
    levels: tuple[str, ...] = ()
    data: tuple[dict | None, ...] = field(default=(), repr=False)

    @property
    def test(self) -> str:
        return TEST_OF_TYPE[self.type]

    @property
    def groups(self) -> tuple[str, str]:
        """Two-group partners: the labels of the group tested as x and of y (an effect > 0
        means higher values in x); ("", "") for the others."""
        if self.type == "TN":
            return ("tumor", "normal")
        if self.type != "BIN" or len(self.levels) != 2:
            return ("", "")
        if self.omics != "phenotype":
            return ("mutated", "not mutated")
        x = 1 if self.levels == ("0", "1") else 0  # STATS.md: the group coded 1, else the first level
        return (self.levels[x], self.levels[1 - x])


def phenotype_partners(store, cohorts, spec: ScanSpec, samples: list[np.ndarray]) -> tuple[Partner, ...]:
    """Phenotypes (and mutation rows) of the scan, aligned to each cohort's scanned
    samples (ids)."""
    tables = [store.phenotypes(c) if store.has_phenotypes(c) else {} for c in cohorts]
    names = sorted(set().union(*tables))
    if spec.phenotypes:
        unknown = [n for n in spec.phenotypes if n not in names]
        if unknown:
            raise JobError(f"phenotypes {', '.join(map(repr, unknown))} are in no cohort of the scan; "
                           f"the cohorts have: {', '.join(names) or 'none (ingest a clinical table)'}")
        names = list(spec.phenotypes)
    else:  # every phenotype but the covariates (a test adjusted for itself means nothing)
        names = [n for n in names if n not in spec.covariates]
    partners = []
    for name in names:
        found = [t[name] for t in tables if name in t]
        types = {p.type for p in found}
        if len(types) > 1:
            raise JobError(f"phenotype {name!r} has different types across cohorts ({', '.join(sorted(types))}); "
                           "ingest it with one type everywhere")
        levels = {p.levels for p in found}
        if len(levels) > 1:
            raise JobError(f"phenotype {name!r} has different levels across cohorts; declare its levels "
                           "at ingest (--levels) so that every cohort orders them alike")
        kind, level = types.pop(), levels.pop()
        data = []
        for c, table in enumerate(tables):
            if name not in table:
                data.append(None)
                continue
            p = table[name].align(samples[c])
            if kind == "CON":
                data.append({"values": np.asarray(p.values, dtype=np.float64)})
            elif kind == "SURV":
                event = np.where(p.event < 0, np.nan, p.event).astype(np.float64)
                data.append({"time": np.asarray(p.time, dtype=np.float64), "event": event})
            else:
                x_code = 1 if level == ("0", "1") else 0  # as Partner.groups
                data.append({"codes": np.asarray(p.codes, dtype=np.int64), "x_code": x_code})
        partners.append(Partner(name, "phenotype", kind, level, tuple(data)))
    if spec.mutations:
        partners.extend(_mutation_partners(store, cohorts, spec, samples))
    if not partners:
        raise JobError("the phenotype scan has nothing to test: no phenotype in its cohorts and no "
                       "`mutations` omics; ingest a clinical or survival table, or set mutations")
    return tuple(partners)


def _mutation_partners(store, cohorts, spec: ScanSpec, samples) -> list[Partner]:
    """Rows of a binary omics with at least ``min_group`` carriers and non-carriers among
    the scanned samples of some cohort, as binary phenotypes (x = carriers)."""
    aligned = {}
    for c, cohort in enumerate(cohorts):
        if spec.mutations not in store.omics(cohort):
            continue
        ds = store.open(cohort, spec.mutations)
        if ds.attrs.get("kind") != "binary":
            raise JobError(f"mutations = {spec.mutations!r}: cohort {cohort} has it as "
                           f"{ds.attrs.get('kind', 'continuous')} values; ingest a 0/1 table (.cbt or --binary)")
        columns = pd.Index(ds["sample"].to_numpy().astype(str)).get_indexer(samples[c])
        # the version just opened, checked after the read as a tile's (a re-ingest that
        # removes it meanwhile is an error, never fill values)
        values = store.pinned_values(cohort, spec.mutations, ds.attrs["version"]).rows(0, ds.sizes["feature"])
        codes = np.where(columns >= 0, values[:, np.maximum(columns, 0)], np.nan)
        codes = np.where(np.isnan(codes), -1, codes).astype(np.int64)
        for name, row in zip(ds["feature"].to_numpy().astype(str), codes):
            if min((row == 1).sum(), (row == 0).sum()) >= spec.min_group:
                aligned.setdefault(name, {})[c] = row
    return [
        Partner(name, spec.mutations, "BIN", ("0", "1"),
                tuple({"codes": rows[c], "x_code": 1} if c in rows else None for c in range(len(cohorts))))
        for name, rows in sorted(aligned.items())
    ]
