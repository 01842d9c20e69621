"""The gene-page tables of the synthetic set: normals, RNA, mutations, clinical, survival.

:func:`make_gene_page_set` adds, per cohort, everything else a gene page scans to the
tumor proteome of :mod:`linkscan.jobs.demo.proteome`, each table tied to it by the
cohort's latent module factors :math:`f_{mj}` (the same factors, so the tumor proteome
stays :func:`make_pan_cancer`'s):

* **Normal samples** (:data:`NORMAL_SHARE_RANGE`, at least :data:`MIN_NORMALS`; some
  paired with a tumor by sample id): the same value model, features, ties and incomplete
  features, with the proliferation factor drawn from N(-:data:`TUMOR_NORMAL_SHIFT`, 1).
* **RNA**: per gene :math:`\\rho_g z_{ij} + \\sqrt{1 - \\rho_g^2}\\, \\eta_{ij}` on a log2
  scale (mean 5-10, sd 0.4-1), :math:`z` the standardized protein and :math:`\\rho_g` in
  :data:`CIS_RHO_RANGE` fixed by the symbol. RNA thus carries the modules, weakly:
  mates correlate about :math:`\\rho_g \\rho_h \\lambda_g \\lambda_h`, some 0.2.
* **Mutations** (:data:`MUTATION_FREQUENCIES`): :data:`MUTATION_DRIVER` carriers have
  high proliferation (:data:`MUTATION_EFFECT`); the other genes are random.
* **Clinical**: ``stage`` rises with proliferation (:data:`STAGE_EFFECT`), with a few
  :data:`STAGE_UNKNOWN` labels; ``MSI`` is MSI-H with high interferon
  (:data:`MSI_EFFECT`); ``age`` follows nothing. Each column has a few NA.
* **Survival**: Weibull times with hazard proportional to :math:`\\exp(\\beta f)`,
  :math:`f` the proliferation factor and :math:`\\beta` = :data:`SURVIVAL_LOG_HR`;
  uniform censoring leaves about 40 % events.

Where a cohort has the proliferation (or interferon) module absent or reversed, its genes
do not show the effects the factor drives there: the effects hold in most cohorts, not
all, as in real pan-cancer data. Each table draws from its own child of the cohort's
seed (the proteome's "Determinism"), so none of them changes when another is added or
altered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math
import os
from pathlib import Path
from statistics import NormalDist
from types import MappingProxyType

import numpy as np
import pandas as pd

from linkscan.errors import LinkscanError
# The proteome's latent state (the same factors, value model and missingness plan) and
# its sample-id, sampling and writing helpers, which the gene-page tables build on.
from linkscan.jobs.demo.proteome import (
    CPTAC_COHORTS,
    MODULES,
    _check_file_names,
    _choose,
    _Draw,
    _draw_pan_cancer,
    _missing_mask,
    _plant,
    _sample_block,
    _symbol_fraction,
    _write_feature_table,
)

__all__ = [
    "CIS_RHO_RANGE",
    "CLINICAL_TYPES",
    "CohortTables",
    "GENE_PAGE_FILES",
    "MIN_NORMALS",
    "MSI_EFFECT",
    "MSI_LABELS",
    "MSI_SHARE_RANGE",
    "MUTATION_DRIVER",
    "MUTATION_EFFECT",
    "MUTATION_FREQUENCIES",
    "NORMAL_SHARE_RANGE",
    "PAIRED_SHARE_RANGE",
    "STAGE_EFFECT",
    "STAGE_LEVELS",
    "STAGE_SHARES",
    "STAGE_UNKNOWN",
    "SURVIVAL_LOG_HR",
    "TUMOR_NORMAL_SHIFT",
    "make_gene_page_set",
    "write_gene_page_tables",
]

STAGE_LEVELS = ("Stage I", "Stage II", "Stage III", "Stage IV")
"""Declared order of the ``stage`` column; it is also the labels' sorted order."""

STAGE_UNKNOWN = ("pTX", "Stage Unknown")
"""Stage labels that mean "not known": a reader must treat them as missing. Sorted with
the known labels, both come after ``"Stage IV"``, so a reader that keeps them ranks them
as the highest stage and dilutes the stage effect."""

STAGE_SHARES = (0.3, 0.3, 0.25, 0.15)
"""Expected share of the tumors in each of :data:`STAGE_LEVELS` (before unknown and NA)."""

STAGE_EFFECT = 0.6
"""Stage follows the proliferation factor f: a tumor's stage is its liability
``(0.6 f + e) / sqrt(1 + 0.6^2)``, e ~ N(0, 1), cut at the normal quantiles of
:data:`STAGE_SHARES`. The liability correlates 0.51 with f; Spearman of
:data:`DEMO_GENE` with the stage index is about 0.4 where proliferation is active."""

MSI_LABELS = ("MSI-H", "MSS")
"""The two labels of the binary ``MSI`` column, the first of them the one that goes with
interferon (it is also first in sorted order, the group a rank-sum test calls x)."""

MSI_EFFECT = 1.0
"""MSI-H follows the interferon factor: a tumor is MSI-H when ``(f + e) / sqrt(2)`` lies
in the top :data:`MSI_SHARE_RANGE` share (drawn per cohort) of N(0, 1). MSI-H tumors
have interferon module members (e.g. STAT1) about 0.9 sd higher than MSS ones."""

MSI_SHARE_RANGE = (0.2, 0.35)
"""Range of a cohort's expected MSI-H share."""

MUTATION_FREQUENCIES = MappingProxyType(
    {
        "TP53": (0.3, 0.5),
        "PIK3CA": (0.05, 0.35),
        "KRAS": (0.05, 0.35),
        "PTEN": (0.05, 0.25),
        "APC": (0.05, 0.25),
        "ARID1A": (0.05, 0.2),
    }
)
"""Mutated genes (rows of the mutation table, in this order) -> range of a cohort's
expected carrier frequency, drawn uniformly per cohort and gene."""

MUTATION_DRIVER = "TP53"
"""The mutation that goes with proliferation; the other genes are mutated at random."""

MUTATION_EFFECT = 1.0
"""TP53 carriers are the tumors whose liability ``(f + e) / sqrt(2)`` (f the proliferation
factor) lies in the top share of N(0, 1) given by the cohort's frequency; carriers have
:data:`DEMO_GENE` about 1 sd higher than non-carriers where proliferation is active."""

SURVIVAL_LOG_HR = 0.9
"""Log hazard ratio per sd of the proliferation factor (HR 2.5). Times are Weibull
(shape 1.3, a cohort scale of 1600-2400 days) under that proportional hazard, censored
uniformly between 180 and 2200 days: about 40 % events (25-55 % by cohort). A Cox fit
on :data:`DEMO_GENE` finds HR about 1.3-3.3 per unit (log2 ratio) where proliferation
is active, attenuated by the gene's own noise and scale."""

TUMOR_NORMAL_SHIFT = 1.5
"""Normal samples draw the proliferation factor from N(-1.5, 1) instead of N(0, 1), so
its members are about 1.3 sd (loading x 1.5) lower in normal tissue than in tumors
where the module is active. Nothing else differs between normals and tumors: they share
each feature's mean, scale, ties and missingness plan (share, by plex or not)."""

NORMAL_SHARE_RANGE = (0.2, 0.4)
"""Range of a cohort's normal-sample count, as a share of its tumor count (at least
:data:`MIN_NORMALS`)."""

MIN_NORMALS = 12
"""Fewest normal samples in a cohort."""

PAIRED_SHARE_RANGE = (0.5, 0.9)
"""Range of the share of a cohort's normals that are paired: their sample id is a tumor's."""

CIS_RHO_RANGE = (0.3, 0.7)
"""Pearson correlation of a gene's RNA with its protein (on the complete values), fixed
per gene symbol in this range (the same in every cohort)."""

CLINICAL_TYPES = MappingProxyType({"stage": "ORD", "MSI": "BIN", "age": "CON"})
"""Clinical columns in table order and their LinkedOmics types. ``age`` (years) is a
null column: it follows nothing."""

# Other gene-page constants (module docstring).
_RNA_MEAN_RANGE = (5.0, 10.0)  # a gene's mean log2 RNA
_RNA_SD_RANGE = (0.4, 1.0)  # a gene's RNA sd (log2 units)
_WEIBULL_SHAPE = 1.3
_WEIBULL_SCALE_RANGE = (1600.0, 2400.0)  # days; drawn per cohort
_FOLLOW_UP_RANGE = (180.0, 2200.0)  # days; uniform censoring time
_AGE_MEAN_SD = (62.0, 11.0)  # years, rounded and clipped to _AGE_RANGE
_AGE_RANGE = (25.0, 90.0)
_STAGE_UNKNOWN_SHARE = 0.04  # tumors with one of STAGE_UNKNOWN
_CLINICAL_NA_SHARE = 0.03  # tumors with NA in each clinical column


@dataclass(frozen=True, eq=False)
class CohortTables:
    """One cohort's tables for a gene page: what :func:`make_gene_page_set` returns.

    Tumor-side tables share the tumor sample ids, in the proteome's column order.

    Parameters
    ----------
    proteome
        Features x tumor samples: exactly :func:`make_pan_cancer`'s table for the same
        arguments.
    proteome_normal
        The same feature rows x normal samples, with missing values in the same features
        (drawn afresh, each feature missing about the same share as in the tumors).
        Some normal ids equal tumor ids (paired normals), the others are new ids of the
        cohort's block; ascending number, as the tumors.
    rna
        Every feature of the shared list (absent proteins included) x tumor samples:
        complete log2 values, about 1-15.
    mutation
        0/1 int64, :data:`MUTATION_FREQUENCIES` genes x tumor samples, complete.
    clinical
        One row per tumor sample: ``stage`` (:data:`STAGE_LEVELS`, :data:`STAGE_UNKNOWN`
        or NaN), ``MSI`` (:data:`MSI_LABELS` or NaN) and ``age`` (float years or NaN).
    clinical_types
        Clinical column -> ``"ORD"``, ``"BIN"`` or ``"CON"`` (:data:`CLINICAL_TYPES`).
    stage_levels
        :data:`STAGE_LEVELS`, the declared order of ``stage``.
    survival
        One row per tumor sample: ``OS_days`` (int64, >= 1) and ``OS_event`` (0/1 int64).
    """

    proteome: pd.DataFrame
    proteome_normal: pd.DataFrame
    rna: pd.DataFrame
    mutation: pd.DataFrame
    clinical: pd.DataFrame
    clinical_types: dict[str, str]
    stage_levels: tuple[str, ...]
    survival: pd.DataFrame

    def __post_init__(self) -> None:
        tumors = self.proteome.columns
        for name in ("rna", "mutation"):
            if not getattr(self, name).columns.equals(tumors):
                raise LinkscanError(f"CohortTables.{name}: columns must be the proteome's tumor samples, in order")
        for name in ("clinical", "survival"):
            if not getattr(self, name).index.equals(tumors):
                raise LinkscanError(f"CohortTables.{name}: rows must be the proteome's tumor samples, in order")
        if not self.proteome_normal.index.equals(self.proteome.index):
            raise LinkscanError("CohortTables.proteome_normal: rows must be the proteome's features, in order")
        if set(self.clinical_types) != set(self.clinical.columns):
            raise LinkscanError("CohortTables.clinical_types must give a type for each clinical column, and no other")


def _module_row(name: str) -> int:
    """Row of a :data:`MODULES` module in a draw's factors."""
    return [m.name for m in MODULES].index(name)


def _liability(rng: np.random.Generator, driver: np.ndarray, effect: float) -> np.ndarray:
    """(effect * driver + N(0, 1)) / sqrt(1 + effect^2): N(0, 1) when the driver is."""
    return (effect * driver + rng.standard_normal(driver.size)) / math.sqrt(1.0 + effect**2)


def _top_share(liability: np.ndarray, share: float) -> np.ndarray:
    """Whether each liability lies in the top `share` of N(0, 1)."""
    return liability > NormalDist().inv_cdf(1.0 - share)


def _new_sample_ids(taken: Sequence[str], n: int, cohort: str, rng: np.random.Generator) -> list[str]:
    """n ids of the cohort's block, distinct from each other and from the `taken` ones."""
    width = len(taken[0]) - len("C3L-00")
    pool = np.setdiff1d(np.arange(10**width), [int(s[len("C3L-00") :]) for s in taken])
    if pool.size < n:  # the block is nearly full: wider numbers differ from every taken id
        width += 1
        pool = np.arange(10**width)
    numbers = rng.choice(pool, size=n, replace=False)
    centers = rng.choice(np.array(["C3L", "C3N"]), size=n)
    block = _sample_block(cohort)
    return [f"{c}-{block:02d}{k:0{width}d}" for c, k in zip(centers, numbers)]


def _normal_proteome(draw: _Draw, cohort: str, rng: np.random.Generator, complete: bool) -> pd.DataFrame:
    """Normal samples under the tumors' value model, proliferation shifted down."""
    tumors = list(draw.table.columns)
    n_tumor = len(tumors)
    n_normal = max(MIN_NORMALS, round(rng.uniform(*NORMAL_SHARE_RANGE) * n_tumor))
    n_paired = min(n_tumor, round(rng.uniform(*PAIRED_SHARE_RANGE) * n_normal))
    ids = [tumors[i] for i in rng.choice(n_tumor, size=n_paired, replace=False)]
    ids += _new_sample_ids(tumors, n_normal - n_paired, cohort, rng)
    ids.sort(key=lambda s: (len(s), s[len("C3L-") :]))  # ascending number within the block

    factors = rng.standard_normal((len(MODULES), n_normal))
    factors[_module_row("proliferation")] -= TUMOR_NORMAL_SHIFT
    z = rng.standard_normal((len(draw.names), n_normal))
    _plant(z, factors, draw.loading, draw.module_of)
    values = draw.mean + draw.scale * z
    values[draw.tied] = np.round(values[draw.tied], 1)
    # The tumors' missingness plan: the same MNAR selection in both groups, so that it
    # creates no tumor-normal difference.
    missing = _missing_mask(z[draw.incomplete], draw.missing_share, draw.missing_by_plex, rng)
    if not complete:
        values[draw.incomplete] = np.where(missing, np.nan, values[draw.incomplete])
    return pd.DataFrame(values[draw.measured], index=draw.table.index, columns=pd.Index(ids))


def _rna(draw: _Draw, rng: np.random.Generator) -> pd.DataFrame:
    """RNA = rho * (standardized protein) + sqrt(1 - rho^2) * noise, on a log2 scale."""
    lo, hi = CIS_RHO_RANGE
    rho = np.array([lo + (hi - lo) * _symbol_fraction(g, b"cis:") for g in draw.names])[:, None]
    z = rho * draw.z + np.sqrt(1.0 - rho**2) * rng.standard_normal(draw.z.shape)
    mean = rng.uniform(*_RNA_MEAN_RANGE, size=(len(draw.names), 1))
    sd = rng.uniform(*_RNA_SD_RANGE, size=(len(draw.names), 1))
    values = np.maximum(mean + sd * z, 0.0)  # a floor that a 6-sd draw could reach
    return pd.DataFrame(values, index=pd.Index(draw.names), columns=draw.table.columns)


def _mutation(draw: _Draw, rng: np.random.Generator) -> pd.DataFrame:
    proliferation = draw.factors[_module_row("proliferation")]
    rows = []
    for gene, (lo, hi) in MUTATION_FREQUENCIES.items():
        share = rng.uniform(lo, hi)
        if gene == MUTATION_DRIVER:
            liability = _liability(rng, proliferation, MUTATION_EFFECT)
        else:
            liability = rng.standard_normal(proliferation.size)
        rows.append(_top_share(liability, share))
    return pd.DataFrame(
        np.array(rows, dtype=np.int64), index=pd.Index(list(MUTATION_FREQUENCIES)), columns=draw.table.columns
    )


def _clinical(draw: _Draw, rng: np.random.Generator) -> pd.DataFrame:
    n = draw.factors.shape[1]
    everyone = np.arange(n)

    liability = _liability(rng, draw.factors[_module_row("proliferation")], STAGE_EFFECT)
    cuts = [NormalDist().inv_cdf(c) for c in np.cumsum(STAGE_SHARES)[:-1]]
    stage = np.array(STAGE_LEVELS, dtype=object)[np.searchsorted(cuts, liability)]
    unknown = _choose(rng, everyone, _STAGE_UNKNOWN_SHARE)
    stage[unknown] = rng.choice(np.array(STAGE_UNKNOWN, dtype=object), size=unknown.size)
    stage[_choose(rng, np.setdiff1d(everyone, unknown), _CLINICAL_NA_SHARE)] = np.nan

    liability = _liability(rng, draw.factors[_module_row("interferon")], MSI_EFFECT)
    high = _top_share(liability, rng.uniform(*MSI_SHARE_RANGE))
    msi = np.where(high, MSI_LABELS[0], MSI_LABELS[1]).astype(object)
    msi[_choose(rng, everyone, _CLINICAL_NA_SHARE)] = np.nan

    age = np.clip(np.rint(rng.normal(*_AGE_MEAN_SD, size=n)), *_AGE_RANGE)
    age[_choose(rng, everyone, _CLINICAL_NA_SHARE)] = np.nan

    columns = {"stage": stage, "MSI": msi, "age": age}
    return pd.DataFrame({c: columns[c] for c in CLINICAL_TYPES}, index=draw.table.columns.copy())


def _survival(draw: _Draw, rng: np.random.Generator) -> pd.DataFrame:
    """Weibull proportional hazards in the proliferation factor, uniform censoring."""
    proliferation = draw.factors[_module_row("proliferation")]
    scale = rng.uniform(*_WEIBULL_SCALE_RANGE)
    # The baseline cumulative hazard at death, (t / scale)^shape, is Exp(1) / exp(beta f).
    baseline = rng.exponential(size=proliferation.size) * np.exp(-SURVIVAL_LOG_HR * proliferation)
    death = scale * baseline ** (1.0 / _WEIBULL_SHAPE)
    censor = rng.uniform(*_FOLLOW_UP_RANGE, size=proliferation.size)
    days = np.maximum(np.ceil(np.minimum(death, censor)), 1.0).astype(np.int64)
    return pd.DataFrame(
        {"OS_days": days, "OS_event": (death <= censor).astype(np.int64)}, index=draw.table.columns.copy()
    )


def make_gene_page_set(
    *,
    n_features: int = 2000,
    cohorts: Sequence[str] = CPTAC_COHORTS,
    seed: int = 0,
    samples: tuple[int, int] = (80, 200),
    missing_fraction_features: float = 0.4,
    absent_fraction: float = 0.03,
    tie_fraction: float = 0.03,
    complete: bool = False,
) -> dict[str, CohortTables]:
    """A synthetic pan-cancer set with everything a gene page scans, per cohort.

    Each cohort holds :func:`make_pan_cancer`'s tumor proteome (unchanged), normal
    samples, RNA, mutations, clinical columns and overall survival, with the planted
    effects of the module docstring, so that every scan kind finds :data:`DEMO_GENE`'s
    proliferation module. A cohort depends only on ``seed``, its name and the other
    arguments, not on which other cohorts are requested.

    Parameters
    ----------
    n_features, cohorts, seed, samples, missing_fraction_features, absent_fraction, tie_fraction
        As in :func:`make_pan_cancer` (with the default :data:`MODULES`); ``samples``
        ranges the tumor count.
    complete
        True for proteome tables (tumor and normal) without missing values or absent
        features, as in :func:`make_cohort`; every other table is the same either way.

    Returns
    -------
    dict[str, CohortTables]
        Cohort name -> its tables, in the order of ``cohorts``.

    Raises
    ------
    LinkscanError
        As :func:`make_pan_cancer`.

    Examples
    --------
    >>> page = make_gene_page_set(n_features=150, cohorts=("OV",), samples=(60, 60))["OV"]
    >>> page.proteome.shape[1], page.clinical.shape[0], page.survival.shape[0]
    (60, 60, 60)
    >>> list(page.clinical_types.items())
    [('stage', 'ORD'), ('MSI', 'BIN'), ('age', 'CON')]
    """
    draws = _draw_pan_cancer(
        n_features=n_features,
        cohorts=cohorts,
        seed=seed,
        samples=samples,
        missing_fraction_features=missing_fraction_features,
        absent_fraction=absent_fraction,
        tie_fraction=tie_fraction,
        modules=MODULES,
        complete=complete,
    )
    out = {}
    for name, (draw, more_seed) in draws.items():
        normal, rna, mutation, clinical, survival = (np.random.default_rng(s) for s in more_seed.spawn(5))
        out[name] = CohortTables(
            proteome=draw.table,
            proteome_normal=_normal_proteome(draw, name, normal, complete),
            rna=_rna(draw, rna),
            mutation=_mutation(draw, mutation),
            clinical=_clinical(draw, clinical),
            clinical_types=dict(CLINICAL_TYPES),
            stage_levels=STAGE_LEVELS,
            survival=_survival(draw, survival),
        )
    return out


GENE_PAGE_FILES = MappingProxyType(
    {
        "proteome": "proteome.cct",
        "proteome_normal": "proteome_normal.cct",
        "rna": "rna.cct",
        "mutation": "mutation.cbt",
        "clinical": "clinical.tsv",
        "clinical_types": "clinical_types.tsv",
        "survival": "survival.tsv",
    }
)
""":class:`CohortTables` field -> the file :func:`write_gene_page_tables` writes it to."""


def write_gene_page_tables(
    tables: Mapping[str, CohortTables],
    outdir: str | os.PathLike[str],
) -> dict[str, dict[str, Path]]:
    """Write each cohort's gene-page tables into a folder of its own.

    Parameters
    ----------
    tables
        Cohort name -> :class:`CohortTables` (as :func:`make_gene_page_set` returns).
    outdir
        Directory to write into; ``<outdir>/<cohort>/`` is created when missing and
        existing files are replaced.

    Returns
    -------
    dict[str, dict[str, pathlib.Path]]
        Cohort name -> field -> path written, the files of :data:`GENE_PAGE_FILES`:

        * ``proteome.cct``, ``proteome_normal.cct``, ``rna.cct``: as :func:`write_tables`
          (header ``attrib_name`` then sample ids, ``NA`` for missing values).
        * ``mutation.cbt``: the same layout with 0 / 1 cells (LinkedOmics binary table).
        * ``clinical.tsv``, ``survival.tsv``: one row per sample, header ``sample_id``
          then the column names, ``NA`` for missing values.
        * ``clinical_types.tsv``: header ``variable``, ``type``; one row per clinical
          column with its ``ORD`` / ``BIN`` / ``CON`` type.

        ``pandas.read_csv(path, sep="\\t", index_col=0)`` reads each back to the frame
        (up to the index name; ``["type"]`` of ``clinical_types.tsv`` as a dict is
        ``clinical_types``). Stage level order is not written: it is :data:`STAGE_LEVELS`,
        which is also the known labels' sorted order; :data:`STAGE_UNKNOWN` labels are not
        levels.

    Raises
    ------
    LinkscanError
        When a cohort name cannot be a folder name.
    """
    _check_file_names(tables)
    out = {}
    for name, cohort in tables.items():
        folder = Path(outdir) / name
        folder.mkdir(parents=True, exist_ok=True)
        paths = {field: folder / file for field, file in GENE_PAGE_FILES.items()}
        for field in ("proteome", "proteome_normal", "rna", "mutation"):
            _write_feature_table(getattr(cohort, field), paths[field])
        for field in ("clinical", "survival"):
            getattr(cohort, field).to_csv(
                paths[field], sep="\t", na_rep="NA", index_label="sample_id", lineterminator="\n"
            )
        types = pd.Series(cohort.clinical_types, name="type").rename_axis("variable")
        types.to_csv(paths["clinical_types"], sep="\t", lineterminator="\n")
        out[name] = paths
    return out
