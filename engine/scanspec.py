"""The scan spec: everything that defines a scan's numbers, checked as it is made.

A job file's scan part (:mod:`linkscan.jobs.spec`) and the Python API build a
:class:`ScanSpec`; :func:`linkscan.engine.plan.make_plan` lays it out. Its defaults,
bounds and meanings come from :mod:`linkscan.defaults`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from linkscan.defaults import OPTION, default
from linkscan.errors import JobError


@dataclass(frozen=True)
class ScanSpec:
    """Everything that defines a scan's numbers (the job file's scan part; defaults,
    bounds and meanings from :mod:`linkscan.defaults`).

    Parameters
    ----------
    store
        Root of the cohort store (Zarr).
    results
        Root of the result store (Parquet).
    omics
        The omics whose features are scanned (the query side).
    kind
        ``"trans"`` or ``"cis"`` (see the module docstring).
    omics_y
        The partner omics of a two-omics scan; empty for a trans scan of ``omics``
        against itself. Required by ``cis``.
    cohorts
        Cohorts to include; empty means every cohort of the store that has the omics.
    min_n
        Minimum overlapping samples for a Spearman result (STATS.md: 10).
    p_mode
        ``"t"`` (default) or ``"r"`` (R's cor.test p-values, AS 89; STATS.md).
    min_cohorts
        Minimum cohorts with a result for a meta p.
    tile_size
        Features per block; memory per task grows with its square.
    phenotypes
        ``phenotype`` scans: the phenotypes to test (names as ingested); empty = all.
    mutations
        ``phenotype`` scans: a binary omics (e.g. ``mutation``) whose rows are tested as
        binary phenotypes; empty = none.
    min_tumor, min_normal
        ``tumor_normal``: fewest tumor and normal values (STATS.md: 20 and 10).
    min_samples, min_group
        Binary, ordinal and categorical phenotypes: fewest samples (20), and fewest in
        each group of a binary one (10).
    min_events, cox_min_n, cox_min_side
        Survival: fewest events (5), samples (10), and samples on each side of the
        median of the feature (10).
    features, features_y
        Feature ids or gene symbols to scan (a gene symbol stands for all of its
        features) of ``omics`` and of the partner side; empty = all. In a trans scan of
        one omics they select the pairs with one feature in ``features`` and the other in
        ``features_y`` (each pair once).
    keep
        Which rows the finished store keeps (:mod:`linkscan.engine.keep`); the q-values
        count every test whatever it keeps.
    covariates
        Phenotypes to adjust for (:mod:`linkscan.engine.covariates`): Spearman-based
        tests become partial Spearman tests.
    paired, min_pairs
        ``tumor_normal``: the Wilcoxon signed-rank test of each participant's tumor
        against its normal sample (same sample id), with at least ``min_pairs`` pairs.
    exclude_samples, where
        Samples to leave out (ids, of tumor and normal samples alike), and a filter on
        the phenotypes that samples must pass (:mod:`linkscan.engine.samples`); a
        normal sample is left out with its tumor sample of the same id.
    """

    store: str
    results: str
    omics: str
    kind: str = default("kind")
    omics_y: str = default("omics_y")
    cohorts: tuple[str, ...] = ()
    min_n: int = default("min_n")
    p_mode: str = default("p_mode")
    min_cohorts: int = default("min_cohorts")
    tile_size: int = default("tile_size")
    phenotypes: tuple[str, ...] = ()
    mutations: str = default("mutations")
    min_tumor: int = default("min_tumor")
    min_normal: int = default("min_normal")
    min_samples: int = default("min_samples")
    min_group: int = default("min_group")
    min_events: int = default("min_events")
    cox_min_n: int = default("cox_min_n")
    cox_min_side: int = default("cox_min_side")
    features: tuple[str, ...] = ()
    features_y: tuple[str, ...] = ()
    exclude_samples: tuple[str, ...] = ()
    where: str = default("where")
    paired: bool = default("paired")
    min_pairs: int = default("min_pairs")
    covariates: tuple[str, ...] = ()
    keep: object = default("keep")  # a linkscan.engine.keep.Keep (from "all" or a policy table)

    def __post_init__(self):
        for name in ("kind", "p_mode"):
            choices = OPTION[name].choices
            if getattr(self, name) not in choices:
                raise JobError(f"{name} = {getattr(self, name)!r}: use one of {', '.join(choices)}")
        if self.kind == "cis" and not self.omics_y:
            raise JobError("kind = 'cis' needs omics_y, the omics to match each feature's gene in")
        if self.omics_y and self.kind in ("tumor_normal", "phenotype"):
            raise JobError(f"kind = {self.kind!r} scans one omics; remove omics_y")
        from linkscan.engine.keep import Keep

        object.__setattr__(self, "keep", Keep.parse(self.keep))
        if not isinstance(self.paired, bool):
            raise JobError(f"paired = {self.paired!r}: must be true or false")
        if self.paired and self.kind != "tumor_normal":
            raise JobError("paired = true belongs to kind = 'tumor_normal' scans (tumor against normal samples "
                           "of the same participants)")
        if self.covariates and self.kind == "tumor_normal":
            raise JobError("covariates adjust Spearman-based tests (trans, cis, phenotype scans); a tumor_normal "
                           "scan has none: remove covariates")
        if self.covariates and self.p_mode == "r":
            raise JobError('covariates and p_mode = "r" do not go together: R\'s cor.test has no partial '
                           'correlation; the partial Spearman p is its t test (p_mode = "t")')
        if self.where:
            from linkscan.engine.samples import parse_where

            parse_where(self.where)  # a JobError naming the place
        if self.features_y and self.kind in ("tumor_normal", "phenotype"):
            raise JobError(f"features_y restricts a partner omics; kind = {self.kind!r} has none (choose its "
                           "features with `features`, its phenotypes with `phenotypes`)")
        if self.features_y and self.kind == "cis" and not self.omics_y:
            raise JobError("features_y needs omics_y")
        if (self.phenotypes or self.mutations) and self.kind != "phenotype":
            raise JobError("phenotypes and mutations belong to kind = 'phenotype' scans")
        for name in ("cohorts", "phenotypes", "covariates"):
            values = list(getattr(self, name))
            twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
            if twice is not None:
                raise JobError(f"{name} = {values!r} names {twice!r} twice; list each once (a cohort counted "
                               "twice would count its evidence twice in the meta p)")
        if self.omics_y == self.omics:
            raise JobError(f"omics_y = {self.omics_y!r} is omics itself; leave omics_y empty "
                           "for a scan of one omics against itself")
        for field_ in fields(self):
            low = OPTION[field_.name].minimum if field_.name in OPTION else None
            if low is None:
                continue
            value = getattr(self, field_.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise JobError(f"{field_.name} = {value!r}: must be an integer >= {low}")
