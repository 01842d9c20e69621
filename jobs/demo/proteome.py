"""The module-structured synthetic proteome: deterministic CPTAC-shaped cohorts.

The generator makes what a CPTAC pan-cancer proteome release looks like to linkscan:
one table per cohort, features as rows and samples as columns, log2 ratios to a common
reference, and natural missing values. Every number in it follows from its arguments
alone. :mod:`linkscan.jobs.demo.gene_page` builds the other tables of a gene page on it.

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
from typing import NamedTuple
import zlib

import numpy as np
import pandas as pd

from linkscan.errors import LinkscanError

__all__ = [
    "CPTAC_COHORTS",
    "DEMO_GENE",
    "FILLER_PREFIX",
    "MODULES",
    "Module",
    "make_cohort",
    "make_pan_cancer",
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
