"""Covariates of a scan: the phenotypes a job adjusts its Spearman-based tests for.

Each cohort gets a matrix ``z`` (samples x columns, NaN where a sample lacks the value)
along the samples its tests use: a continuous phenotype is one numeric column (the
kernel ranks it on each pair's overlap); a binary, ordinal or categorical one is one-hot
columns of its levels present in the cohort, the first left out as the reference (the
kernel uses them as they are). With covariates, every test is the partial Spearman test
of :mod:`linkscan.kernels.partial` (STATS.md): trans and cis pairs, continuous
phenotypes, and binary phenotypes, mutations and ordinal phenotypes against their group
indicator (1 = the x group) or level index. Categorical phenotypes (ANOVA) and survival
(Cox) have no adjusted test here and are refused by name.

Examples
--------
>>> import numpy as np
>>> from linkscan.storage.inputs.phenotypes import Phenotype
>>> msi = Phenotype("MSI", "BIN", samples=["a", "b", "c"], codes=[0, 1, -1], levels=("MSI-H", "MSS"))
>>> purity = Phenotype("purity", "CON", samples=["a", "b", "c"], values=[0.5, 0.7, 0.9])
>>> cov = design({"MSI": msi, "purity": purity}, ("purity", "MSI"), np.array(["c", "b", "a"]), "UCEC")
>>> cov.columns, cov.rank.tolist()
(('purity', 'MSI=MSS'), [True, False])
>>> cov.z.tolist()
[[0.9, nan], [0.7, 1.0], [0.5, 0.0]]
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from linkscan.errors import JobError

#: Partner types whose test has an adjusted form (partial Spearman against the values,
#: the x-group indicator or the level index).
ADJUSTABLE = ("CON", "BIN", "ORD")


@dataclass(frozen=True)
class Covariates:
    """One cohort's covariate matrix: ``z`` (samples x columns), ``rank`` (True for the
    numeric columns), and the ``columns``' names (``name`` or ``name=level``)."""

    z: np.ndarray = field(repr=False)
    rank: np.ndarray
    columns: tuple[str, ...]

    @property
    def complete(self) -> np.ndarray:
        """Samples with every covariate."""
        return np.isfinite(self.z).all(axis=1)


def design(phenotypes: dict, names: tuple[str, ...], samples: np.ndarray, cohort: str) -> Covariates:
    """The covariate matrix of ``names`` (a cohort's ``phenotypes``) along ``samples``."""
    columns, rank, labels = [], [], []
    for name in names:
        if name not in phenotypes:
            close = difflib.get_close_matches(name, list(phenotypes), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise JobError(f"covariates: cohort {cohort} has no phenotype {name!r}{hint}; every cohort of the scan "
                           "needs each covariate: ingest it there, or leave the cohort out of `cohorts`")
        p = phenotypes[name].align(samples)
        if p.type == "SURV":
            raise JobError(f"covariates: {name!r} is a survival endpoint; adjust for phenotypes that are numbers "
                           "or labels")
        if p.type == "CON":
            columns.append(np.asarray(p.values, dtype=np.float64))
            rank.append(True)
            labels.append(name)
            continue
        codes = np.asarray(p.codes, dtype=np.int64)
        present = np.unique(codes[codes >= 0])
        for level in present[1:]:  # the first level present is the reference
            columns.append(np.where(codes < 0, np.nan, (codes == level).astype(np.float64)))
            rank.append(False)
            labels.append(f"{name}={p.levels[level]}")
    z = np.column_stack(columns) if columns else np.empty((len(samples), 0))
    return Covariates(z=z, rank=np.asarray(rank, dtype=bool), columns=tuple(labels))


def covariates_of(store, cohorts, names: tuple[str, ...], samples: list[np.ndarray], partners=()
                  ) -> tuple[Covariates, ...]:
    """Each cohort's :class:`Covariates` along ``samples`` (per cohort, the ids its tests
    use); JobError for a partner whose test cannot be adjusted, or a partner that is a
    covariate itself."""
    fixed = [p.name for p in partners if p.name in names and p.omics == "phenotype"]
    if fixed:
        raise JobError(f"phenotypes {', '.join(map(repr, fixed))} are also covariates; a test adjusted for "
                       "itself means nothing: remove them from `phenotypes` or from `covariates`")
    other = [f"{p.name} ({p.type})" for p in partners if p.type not in ADJUSTABLE]
    if other:
        raise JobError(f"covariates adjust Spearman-based tests; the phenotypes {', '.join(other)} are tested by "
                       "ANOVA or Cox, which have no adjusted form here: list the phenotypes to test "
                       "(`phenotypes = [...]`) without them, or scan them in a job without covariates")
    return tuple(design(store.phenotypes(c) if store.has_phenotypes(c) else {}, names, ids, c)
                 for c, ids in zip(cohorts, samples))
