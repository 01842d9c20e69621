"""Deterministic CPTAC-shaped synthetic proteomics cohorts.

The generator makes what a CPTAC pan-cancer proteome release looks like to linkscan:
one table per cohort, features as rows and samples as columns, log2 ratios to a common
reference, and natural missing values. It backs ``linkscan demo``, the tests and the
benchmarks, so every number in it follows from its arguments alone.

What is planted
---------------
* **Modules** (:data:`MODULES`): five groups of real human gene symbols
  (proliferation, interferon response, ECM / stroma, oxidative phosphorylation,
  ribosome) whose members share one latent factor per cohort, so module mates
  correlate strongly. Their strength varies by cohort; in a few cohorts one module is
  absent, or half of its members load with the opposite sign ("reversed").
* **Fillers**: every other feature is named ``LSP00001``, ``LSP00002``, ... ("linkscan
  synthetic protein"), gene-like but plainly synthetic, and is independent noise.
* **Ties**: a few percent of the features are rounded to one decimal, so that rank
  statistics meet ties; every other value keeps full float64 precision (no accidental
  ties).
* **Missing values**: most features are complete; the others miss 5-50 % of the
  samples, either at single samples, more often where the value is low (missing not at
  random, as low-abundance peptides drop out), or in whole TMT plexes: the samples, in
  column order, form ``round(n / 10.5)`` plexes of consecutive samples, as even as
  possible (10 or 11 samples each for every cohort size from 80 to 200 but 89). A few percent of the filler features are not measured at all in
  a cohort; their rows are left out of that cohort's table, as real cohorts have
  different protein sets.

The value model
---------------
For feature :math:`i` in module :math:`m` and sample :math:`j` of a cohort,

.. math::

    x_{ij} = \\mu_i + \\sigma_i \\left( \\lambda_i f_{mj}
             + \\sqrt{1 - \\lambda_i^2}\\, \\varepsilon_{ij} \\right),
    \\qquad \\lambda_i = s_i \\sqrt{a_m \\cdot \\mathrm{strength}_m}\\, g_i

with :math:`f, \\varepsilon \\sim N(0, 1)` independent, a feature mean
:math:`\\mu_i \\sim N(0, 0.3^2)` and scale :math:`\\log \\sigma_i \\sim N(0, 0.3^2)`,
the cohort's module activity :math:`a_m \\sim U(0.8, 1.2)` (0 when the module is
absent), a sign :math:`s_i = \\pm 1` (-1 for half of a reversed module's members) and a
gene loading :math:`g_i \\in [0.9, 1]` fixed by the gene symbol (the same in every
cohort). :math:`\\lambda_i^2` is capped at 0.95. Filler features have
:math:`\\lambda_i = 0`. Two members of an active module thus have a Pearson correlation
of :math:`a_m \\cdot \\mathrm{strength}_m \\cdot g_i g_j` (capped), and their Spearman
correlation is a little lower; members of different modules and fillers are independent.

Gene-page tables
----------------
:func:`make_gene_page_set` adds, per cohort, everything else a gene page scans, each
table tied to the tumor proteome by the cohort's latent module factors :math:`f_{mj}`
(the same factors, so the tumor proteome stays :func:`make_pan_cancer`'s):

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
seed, so none of them changes when another is added or altered.

Determinism
-----------
A cohort's random stream is ``numpy.random.default_rng`` of a
:class:`numpy.random.SeedSequence` built from ``seed`` and the cohort name's bytes
(never Python's ``hash``, which is salted per process), so a cohort is the same whether
it is made alone or among others, in any process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math
import os
from pathlib import Path
from statistics import NormalDist
from types import MappingProxyType
from typing import NamedTuple
import zlib

import numpy as np
import pandas as pd

from linkscan.errors import LinkscanError

__all__ = [
    "CIS_RHO_RANGE",
    "CLINICAL_TYPES",
    "CPTAC_COHORTS",
    "CohortTables",
    "DEMO_GENE",
    "FILLER_PREFIX",
    "GENE_PAGE_FILES",
    "MIN_NORMALS",
    "MODULES",
    "MSI_EFFECT",
    "MSI_LABELS",
    "MSI_SHARE_RANGE",
    "MUTATION_DRIVER",
    "MUTATION_EFFECT",
    "MUTATION_FREQUENCIES",
    "Module",
    "NORMAL_SHARE_RANGE",
    "PAIRED_SHARE_RANGE",
    "STAGE_EFFECT",
    "STAGE_LEVELS",
    "STAGE_SHARES",
    "STAGE_UNKNOWN",
    "SURVIVAL_LOG_HR",
    "TUMOR_NORMAL_SHIFT",
    "make_cohort",
    "make_gene_page_set",
    "make_pan_cancer",
    "write_gene_page_tables",
    "write_tables",
]

CPTAC_COHORTS = ("BRCA", "CCRCC", "COAD", "GBM", "HNSCC", "LSCC", "LUAD", "OV", "PDAC", "UCEC")
"""The ten CPTAC pan-cancer tumor types, in the order that also numbers their sample ids."""

FILLER_PREFIX = "LSP"
"""Prefix of the synthetic filler symbols: ``LSP00001``, ``LSP00002``, ..."""

# Missingness and value-model constants (module docstring).
_MISSING_RANGE = (0.05, 0.5)  # share of samples an incomplete feature misses
_PLEX_SHARE = 0.3  # share of incomplete features missing in whole plexes
_PLEX_SIZE = 10.5  # mean samples per TMT plex (10 or 11 consecutive samples)
_MNAR_SLOPE = 1.0  # log-odds of a sample's dropout per sd of lower value
_ACTIVITY_RANGE = (0.8, 1.2)  # a cohort's module activity a_m
_P_ABSENT = 0.25  # chance that a cohort has one module absent
_P_REVERSED = 0.15  # chance that a cohort has one module reversed instead
_MAX_LOADING2 = 0.95  # cap of lambda^2, so that no feature is its factor exactly
_GENE_LOADING_RANGE = (0.9, 1.0)  # g_i, from the symbol's CRC-32


@dataclass(frozen=True)
class Module:
    """A planted co-regulated module.

    Parameters
    ----------
    name
        Short label, e.g. ``"proliferation"``.
    genes
        Member gene symbols, unique, in the order in which they enter the feature list.
    strength
        Share of a member's variance that comes from the module's latent factor in a
        cohort where the module is fully active (activity 1); about the Pearson
        correlation of two members there. Between 0 and 1, exclusive.
    """

    name: str
    genes: tuple[str, ...]
    strength: float

    def __post_init__(self) -> None:
        if not self.genes:
            raise LinkscanError(f"module {self.name!r} has no genes; give it at least one")
        if len(set(self.genes)) != len(self.genes):
            raise LinkscanError(f"module {self.name!r} lists a gene twice; gene symbols must be unique")
        if not 0.0 < self.strength < 1.0:
            raise LinkscanError(f"module {self.name!r}: strength must lie in (0, 1), got {self.strength!r}")


MODULES: tuple[Module, ...] = (
    Module(
        "proliferation",
        ("MKI67", "TOP2A", "CCNB1", "CDK1", "BUB1", "AURKA", "AURKB", "PLK1", "CCNA2", "CDC20",
         "KIF11", "TPX2", "MCM2", "MCM3", "MCM4", "MCM6", "PCNA", "RRM2", "TYMS", "BIRC5",
         "CENPF", "NUSAP1", "UBE2C", "KIF2C"),
        0.85,
    ),
    Module(
        "interferon",
        ("STAT1", "STAT2", "IRF9", "ISG15", "IFIT1", "IFIT2", "IFIT3", "IFIT5", "MX1", "MX2",
         "OAS1", "OAS2", "OAS3", "OASL", "IFI35", "IFI44", "IFI44L", "RSAD2", "BST2", "XAF1",
         "PARP9", "DDX60", "HERC5", "GBP1", "TAP1", "PSMB9"),
        0.8,
    ),
    Module(
        "ecm_stroma",
        ("COL1A1", "COL1A2", "COL3A1", "COL5A1", "COL5A2", "COL6A1", "COL6A2", "COL6A3",
         "COL12A1", "FN1", "SPARC", "POSTN", "LUM", "DCN", "BGN", "FBN1", "THBS2", "VCAN",
         "TNC", "FAP", "MMP2", "LOX"),
        0.8,
    ),
    Module(
        "oxphos",
        ("NDUFA4", "NDUFA9", "NDUFB8", "NDUFS1", "NDUFS2", "NDUFV1", "SDHA", "SDHB", "UQCRC1",
         "UQCRC2", "UQCRFS1", "COX4I1", "COX5A", "COX6C", "CYCS", "ATP5F1A", "ATP5F1B",
         "ATP5F1C", "ATP5PB", "ATP5PO"),
        0.75,
    ),
    Module(
        "ribosome",
        ("RPLP0", "RPL3", "RPL4", "RPL5", "RPL7", "RPL8", "RPL10A", "RPL11", "RPL13", "RPL18",
         "RPL23", "RPSA", "RPS2", "RPS3", "RPS3A", "RPS6", "RPS8", "RPS11", "RPS14", "RPS19"),
        0.8,
    ),
)
"""The planted modules, in feature-list order (their genes come first)."""

DEMO_GENE = "MKI67"
"""The gene ``linkscan demo`` shows: first in the proliferation module, whose other
members are its strongest partners in the synthetic data."""


def _name_code(name: str) -> list[int]:
    """Stable integer words of a cohort name for a SeedSequence (Python's hash is salted)."""
    raw = name.encode("utf-8")
    return [len(raw), int.from_bytes(raw, "little")]


def _check_seed(seed: object) -> None:
    if isinstance(seed, np.random.SeedSequence):
        return
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise LinkscanError(f"seed must be a non-negative integer, got {seed!r}")


def _cohort_seed(seed: int, cohort: str) -> np.random.SeedSequence:
    _check_seed(seed)
    return np.random.SeedSequence([int(seed), *_name_code(cohort)])


def _sample_block(cohort: str | None) -> int:
    """The number block of a cohort's sample ids: CPTAC cohorts 0-9, other names 10-99."""
    if cohort is None:
        return 0
    if cohort in CPTAC_COHORTS:
        return CPTAC_COHORTS.index(cohort)
    return 10 + zlib.crc32(cohort.encode("utf-8")) % 90


def _sample_ids(n_samples: int, cohort: str | None, rng: np.random.Generator) -> list[str]:
    """CPTAC-3 style ids ``C3L-BBNNN`` / ``C3N-BBNNN``: BB is the cohort's block, NNN distinct.

    Cohorts with different blocks never share an id; beyond 1000 samples the number gets
    wider, which keeps it distinct from every 3-digit one.
    """
    width = max(3, len(str(n_samples - 1)))
    numbers = np.sort(rng.choice(10**width, size=n_samples, replace=False))
    centers = rng.choice(np.array(["C3L", "C3N"]), size=n_samples)
    block = _sample_block(cohort)
    return [f"{c}-{block:02d}{k:0{width}d}" for c, k in zip(centers, numbers)]


def _feature_names(n_features: int, modules: Sequence[Module]) -> list[str]:
    """Module genes in order (a prefix when n_features is smaller), then LSP fillers."""
    genes = [g for m in modules for g in m.genes]
    if len(set(genes)) != len(genes):
        raise LinkscanError("a gene belongs to two modules; each planted gene must be in one module only")
    if n_features <= len(genes):
        return genes[:n_features]
    width = max(5, len(str(n_features - len(genes))))
    return genes + [f"{FILLER_PREFIX}{k:0{width}d}" for k in range(1, n_features - len(genes) + 1)]


def _symbol_fraction(symbol: str, salt: bytes = b"") -> float:
    """A number in [0, 1] fixed by the symbol (CRC-32 of salt + symbol): the same in every cohort."""
    return zlib.crc32(salt + symbol.encode("utf-8")) / 0xFFFFFFFF


def _gene_loading(symbol: str) -> float:
    """g_i in [0.9, 1]: fixed by the symbol, so a gene loads the same way in every cohort."""
    lo, hi = _GENE_LOADING_RANGE
    return lo + (hi - lo) * _symbol_fraction(symbol)


def _plex_of_sample(n_samples: int) -> np.ndarray:
    """Plex index of each sample: round(n / 10.5) runs of consecutive samples, as even as possible."""
    n_plex = max(1, round(n_samples / _PLEX_SIZE))
    return (np.arange(n_samples) * n_plex) // n_samples


def _ranks(keys: np.ndarray) -> np.ndarray:
    """0-based rank of each entry within its row (keys are continuous: no ties)."""
    return np.argsort(np.argsort(keys, axis=1), axis=1)


def _missing_plan(n_rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """How each incomplete feature misses values: its share, from U(0.05, 0.5), and whether by plex."""
    share = rng.uniform(*_MISSING_RANGE, size=n_rows)
    return share, rng.random(n_rows) < _PLEX_SHARE


def _missing_mask(z: np.ndarray, share: np.ndarray, by_plex: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Where the rows of z (standardized values of incomplete features) are missing.

    Row i misses about share[i] of its samples: whole plexes where by_plex[i] (when the
    samples form enough plexes), else single samples drawn without replacement with
    odds exp(-slope * z) (low values drop out more often; Gumbel top-k sampling).
    """
    n_rows, n_samples = z.shape
    lo, hi = _MISSING_RANGE
    plex = _plex_of_sample(n_samples)
    plex_sizes = np.bincount(plex)
    n_plex = plex_sizes.size
    # Plex counts that keep the share within [lo, hi] whatever plexes are chosen.
    k_lo = math.ceil(lo * n_samples / plex_sizes.min())
    k_hi = int(np.sum(np.cumsum(np.sort(plex_sizes)[::-1]) <= hi * n_samples))
    by_plex = by_plex & (k_lo <= k_hi)  # else too few or too small plexes for this cohort size
    mask = np.zeros((n_rows, n_samples), dtype=bool)

    if by_plex.any():
        k = np.clip(np.rint(share[by_plex] * n_plex), k_lo, k_hi).astype(np.int64)
        chosen = _ranks(rng.random((k.size, n_plex))) < k[:, None]
        mask[by_plex] = chosen[:, plex]
    single = ~by_plex
    if single.any():
        m = np.clip(np.rint(share[single] * n_samples), math.ceil(lo * n_samples), math.floor(hi * n_samples))
        keys = _MNAR_SLOPE * z[single] - rng.gumbel(size=(int(single.sum()), n_samples))
        mask[single] = _ranks(keys) < m[:, None]
    return mask


def _choose(rng: np.random.Generator, candidates: np.ndarray, fraction: float) -> np.ndarray:
    """round(fraction * len(candidates)) of the candidates, without replacement."""
    k = round(fraction * candidates.size)
    return rng.choice(candidates, size=k, replace=False) if k else candidates[:0]


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise LinkscanError(f"{name} must lie in [0, 1], got {value!r}")


def make_cohort(
    n_features: int,
    n_samples: int,
    *,
    seed: int | np.random.SeedSequence,
    missing_fraction_features: float = 0.4,
    absent_fraction: float = 0.03,
    tie_fraction: float = 0.03,
    modules: Sequence[Module] = MODULES,
    feature_names: Sequence[str] | None = None,
    complete: bool = False,
    cohort: str | None = None,
) -> pd.DataFrame:
    """One synthetic proteome cohort: features x samples log2 ratios with NaN for missing.

    Parameters
    ----------
    n_features
        Number of features before absent ones are dropped.
    n_samples
        Number of samples (columns).
    seed
        Seed of the cohort's random stream: a non-negative integer or a
        :class:`numpy.random.SeedSequence`. The same arguments give the same table.
    missing_fraction_features
        Share of the measured features that have missing values; each of them misses
        5-50 % of the samples, at single samples (more often low values) or in whole
        plexes of about 10.5 consecutive samples. The others are complete.
    absent_fraction
        Share of the filler features that this cohort does not measure at all; their
        rows are left out of the table. Module genes are always measured, so that
        :data:`DEMO_GENE` and its partners exist in every cohort.
    tie_fraction
        Share of the measured features rounded to one decimal, so that they hold ties.
    modules
        Modules to plant: each member found in the feature names follows the module's
        latent factor. The cohort draws each module's activity, and possibly makes one
        module absent or reversed (see the module docstring).
    feature_names
        Feature ids, ``n_features`` unique strings. Default: the module genes in order
        (a prefix of them when ``n_features`` is smaller), then fillers ``LSP00001``, ...
    complete
        True for no missing values and no absent features: the same values as with
        False, with nothing masked and no row left out.
    cohort
        Name of the cohort; it only chooses the number block of the sample ids (CPTAC
        cohorts and other names get different blocks). None uses block 0, as BRCA.

    Returns
    -------
    pandas.DataFrame
        float64 values, index = feature ids (in feature-list order, absent ones left
        out), columns = sample ids ``C3L-BBNNN`` / ``C3N-BBNNN`` in ascending number,
        so that each plex is a run of consecutive columns.

    Raises
    ------
    LinkscanError
        When a size is not positive, a fraction lies outside [0, 1], the seed is neither a
        non-negative integer nor a SeedSequence, or the feature names are not
        ``n_features`` unique strings.

    Examples
    --------
    >>> df = make_cohort(150, 40, seed=1)
    >>> df.shape[1], df.index[0], df.index[-1]
    (40, 'MKI67', 'LSP00038')
    >>> bool(df.equals(make_cohort(150, 40, seed=1)))
    True
    """
    return _draw_cohort(
        n_features,
        n_samples,
        seed=seed,
        missing_fraction_features=missing_fraction_features,
        absent_fraction=absent_fraction,
        tie_fraction=tie_fraction,
        modules=modules,
        feature_names=feature_names,
        complete=complete,
        cohort=cohort,
    ).table


class _Draw(NamedTuple):
    """A cohort's table and the latent state behind it (what the gene-page tables build on)."""

    table: pd.DataFrame
    names: list[str]  # the whole feature list, absent features included
    z: np.ndarray  # standardized values, features x samples, before ties and masks
    mean: np.ndarray  # mu_i, features x 1
    scale: np.ndarray  # sigma_i, features x 1
    loading: np.ndarray  # lambda_i (0 for fillers)
    module_of: np.ndarray  # module index of each feature, -1 for fillers
    factors: np.ndarray  # f_mj, modules x samples
    measured: np.ndarray  # rows of the table, as indices into names
    tied: np.ndarray  # features rounded to one decimal
    incomplete: np.ndarray  # features with missing values (none masked when complete)
    missing_share: np.ndarray  # share of the samples each incomplete feature misses
    missing_by_plex: np.ndarray  # whether each incomplete feature misses whole plexes


def _plant(z: np.ndarray, factors: np.ndarray, loading: np.ndarray, module_of: np.ndarray) -> None:
    """z <- lambda f + sqrt(1 - lambda^2) z for the module members, in place."""
    planted = module_of >= 0
    lam = loading[planted, None]
    z[planted] = lam * factors[module_of[planted]] + np.sqrt(1.0 - lam**2) * z[planted]


def _draw_cohort(
    n_features: int,
    n_samples: int,
    *,
    seed: int | np.random.SeedSequence,
    missing_fraction_features: float,
    absent_fraction: float,
    tie_fraction: float,
    modules: Sequence[Module],
    feature_names: Sequence[str] | None,
    complete: bool,
    cohort: str | None,
) -> _Draw:
    """:func:`make_cohort`, keeping the latent state."""
    if n_features < 1 or n_samples < 1:
        raise LinkscanError(f"n_features and n_samples must be positive, got {n_features} and {n_samples}")
    for name, value in (
        ("missing_fraction_features", missing_fraction_features),
        ("absent_fraction", absent_fraction),
        ("tie_fraction", tie_fraction),
    ):
        _check_fraction(name, value)
    if feature_names is None:
        names = _feature_names(n_features, modules)
    else:
        names = [str(f) for f in feature_names]
        if len(names) != n_features or len(set(names)) != n_features:
            raise LinkscanError(
                f"feature_names must hold n_features = {n_features} unique ids, "
                f"got {len(names)} ids of which {len(set(names))} are unique"
            )

    _check_seed(seed)
    rng = np.random.default_rng(seed)
    samples = _sample_ids(n_samples, cohort, rng)

    # Which module each feature follows (-1: filler) and its loading in this cohort.
    position = {g: i for i, g in enumerate(names)}
    module_of = np.full(n_features, -1)
    loading = np.zeros(n_features)
    activity = rng.uniform(*_ACTIVITY_RANGE, size=len(modules))
    event = rng.random()
    target = int(rng.integers(len(modules))) if modules else -1
    if event < _P_ABSENT:
        activity[target] = 0.0
    for m, module in enumerate(modules):
        rows = np.array([position[g] for g in module.genes if g in position], dtype=np.int64)
        flip = np.ones(rows.size)
        if m == target and _P_ABSENT <= event < _P_ABSENT + _P_REVERSED:
            flip[rng.permutation(rows.size)[: rows.size // 2]] = -1.0
        g = np.array([_gene_loading(names[r]) for r in rows])
        module_of[rows] = m
        loading[rows] = flip * np.sqrt(np.minimum(activity[m] * module.strength * g**2, _MAX_LOADING2))

    factors = rng.standard_normal((len(modules), n_samples))
    z = rng.standard_normal((n_features, n_samples))
    _plant(z, factors, loading, module_of)
    mean = rng.normal(0.0, 0.3, size=(n_features, 1))
    scale = np.exp(rng.normal(0.0, 0.3, size=(n_features, 1)))
    values = mean + scale * z

    # Drawn whether or not `complete`, so that complete=True gives the same values.
    absent = np.zeros(n_features, dtype=bool)
    absent[_choose(rng, np.flatnonzero(module_of < 0), absent_fraction)] = True
    measured = np.flatnonzero(~absent)
    tied = _choose(rng, measured, tie_fraction)
    values[tied] = np.round(values[tied], 1)
    incomplete = np.sort(_choose(rng, measured, missing_fraction_features))
    share, by_plex = _missing_plan(incomplete.size, rng)
    missing = _missing_mask(z[incomplete], share, by_plex, rng)
    if complete:
        measured = np.arange(n_features)
    else:
        values[incomplete] = np.where(missing, np.nan, values[incomplete])

    table = pd.DataFrame(values[measured], index=pd.Index([names[i] for i in measured]), columns=pd.Index(samples))
    return _Draw(table, names, z, mean, scale, loading, module_of, factors, measured, tied, incomplete, share, by_plex)


def make_pan_cancer(
    *,
    n_features: int = 2000,
    cohorts: Sequence[str] = CPTAC_COHORTS,
    seed: int = 0,
    samples: tuple[int, int] = (80, 200),
    missing_fraction_features: float = 0.4,
    absent_fraction: float = 0.03,
    tie_fraction: float = 0.03,
    modules: Sequence[Module] = MODULES,
    complete: bool = False,
) -> dict[str, pd.DataFrame]:
    """A synthetic pan-cancer proteome set: one :func:`make_cohort` table per cohort.

    All cohorts share one feature list (module genes, then ``LSP`` fillers); each drops
    its own few absent fillers. A cohort depends only on ``seed``, its name and the
    other arguments, not on which other cohorts are requested.

    Parameters
    ----------
    n_features
        Features in the shared list (each cohort measures all but its absent ones).
    cohorts
        Cohort names, unique; they key the result and seed each cohort.
    seed
        Non-negative integer seed of the whole set.
    samples
        Inclusive range ``(low, high)`` of the number of samples per cohort, drawn
        uniformly per cohort.
    missing_fraction_features, absent_fraction, tie_fraction, modules, complete
        As in :func:`make_cohort`.

    Returns
    -------
    dict[str, pandas.DataFrame]
        Cohort name -> features x samples table, in the order of ``cohorts``. Sample ids
        are unique within and across cohorts.

    Raises
    ------
    LinkscanError
        When the cohort names repeat, two of them would get the same sample-id block
        (only possible for names outside :data:`CPTAC_COHORTS`; rename one), the sample
        range is empty or an argument is invalid for :func:`make_cohort`.

    Examples
    --------
    >>> tables = make_pan_cancer(n_features=200, cohorts=("BRCA", "LUAD"), samples=(30, 40))
    >>> list(tables), all(30 <= t.shape[1] <= 40 for t in tables.values())
    (['BRCA', 'LUAD'], True)
    >>> tables["LUAD"].equals(make_pan_cancer(n_features=200, cohorts=("LUAD",), samples=(30, 40))["LUAD"])
    True
    """
    draws = _draw_pan_cancer(
        n_features=n_features,
        cohorts=cohorts,
        seed=seed,
        samples=samples,
        missing_fraction_features=missing_fraction_features,
        absent_fraction=absent_fraction,
        tie_fraction=tie_fraction,
        modules=modules,
        complete=complete,
    )
    return {name: draw.table for name, (draw, _) in draws.items()}


def _draw_pan_cancer(
    *,
    n_features: int,
    cohorts: Sequence[str],
    seed: int,
    samples: tuple[int, int],
    missing_fraction_features: float,
    absent_fraction: float,
    tie_fraction: float,
    modules: Sequence[Module],
    complete: bool,
) -> dict[str, tuple[_Draw, np.random.SeedSequence]]:
    """:func:`make_pan_cancer`, keeping each cohort's latent state and a seed for more tables.

    A cohort's SeedSequence spawns three children: the sample count, the proteome (both
    as :func:`make_pan_cancer` always had them) and the third, returned here, for the
    tables that :func:`make_gene_page_set` adds, so that adding them changes no proteome.
    """
    cohorts = list(cohorts)
    if len(set(cohorts)) != len(cohorts):
        raise LinkscanError(f"cohort names must be unique, got {cohorts}")
    blocks: dict[int, str] = {}
    for name in cohorts:
        other = blocks.setdefault(_sample_block(name), name)
        if other != name:
            raise LinkscanError(
                f"cohorts {other!r} and {name!r} would share sample-id block {_sample_block(name)}; rename one of them"
            )
    low, high = samples
    if not 1 <= low <= high:
        raise LinkscanError(f"samples must be a range (low, high) with 1 <= low <= high, got {samples!r}")
    names = _feature_names(n_features, modules)
    draws = {}
    for name in cohorts:
        size_seed, data_seed, more_seed = _cohort_seed(seed, name).spawn(3)
        n_samples = int(np.random.default_rng(size_seed).integers(low, high, endpoint=True))
        draw = _draw_cohort(
            n_features,
            n_samples,
            seed=data_seed,
            missing_fraction_features=missing_fraction_features,
            absent_fraction=absent_fraction,
            tie_fraction=tie_fraction,
            modules=modules,
            feature_names=names,
            complete=complete,
            cohort=name,
        )
        draws[name] = (draw, more_seed)
    return draws


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    outdir: str | os.PathLike[str],
    *,
    fmt: str = "cct",
) -> dict[str, Path]:
    """Write one LinkedOmics-style table per cohort.

    Parameters
    ----------
    tables
        Cohort name -> features x samples table (as :func:`make_pan_cancer` returns).
    outdir
        Directory to write into; created when missing. Existing files are replaced.
    fmt
        ``"cct"``: ``<cohort>.cct``, tab-separated, header ``attrib_name`` then the
        sample ids, one row per feature, ``NA`` for missing values, floats written with
        full precision so that ``pandas.read_csv(path, sep="\\t", index_col=0)`` reads
        back the same numbers.

    Returns
    -------
    dict[str, pathlib.Path]
        Cohort name -> path written.

    Raises
    ------
    LinkscanError
        When ``fmt`` is not ``"cct"`` or a cohort name cannot be a file name.
    """
    if fmt != "cct":
        raise LinkscanError(f"fmt must be 'cct', got {fmt!r}")
    out = Path(outdir)
    _check_file_names(tables)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, table in tables.items():
        path = out / f"{name}.{fmt}"
        _write_feature_table(table, path)
        paths[name] = path
    return paths


def _check_file_names(cohorts: Mapping[str, object]) -> None:
    bad = [name for name in cohorts if not name or name in (".", "..") or "/" in name or os.sep in name]
    if bad:
        raise LinkscanError(f"cohort names {bad} cannot be file names; use names without path separators")


def _write_feature_table(table: pd.DataFrame, path: Path) -> None:
    """Features x samples as LinkedOmics text: header attrib_name + sample ids, NA for missing."""
    table.to_csv(path, sep="\t", na_rep="NA", index_label="attrib_name", lineterminator="\n")


# -- gene-page tables: normals, RNA, mutations, clinical, survival -------------------------

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

# Other gene-page constants (module docstring, "Gene-page tables").
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
    effects of the module docstring ("Gene-page tables") so that every scan kind finds
    :data:`DEMO_GENE`'s proliferation module. A cohort depends only on ``seed``, its name
    and the other arguments, not on which other cohorts are requested.

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
