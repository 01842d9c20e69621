r"""Preranked gene set enrichment analysis (GSEA) of one ranked gene list.

STATS.md, "Gene set enrichment of one gene's associations": the weighted
Kolmogorov-Smirnov enrichment score with weight p = 1 (Subramanian et al. 2005), its
gene-set permutation p-value, the normalized score and Benjamini-Hochberg q-values
across the tested sets. Everything here works on positions in a ranking that the caller
has already sorted; genes, gene set files and result stores are the jobs layer's
(:mod:`linkscan.jobs.enrichment`).

The enrichment score
--------------------
The ranking holds N genes with scores :math:`r_1 \ge r_2 \ge \dots \ge r_N`. A gene set
S holds k of them (1 <= k < N), at sorted positions :math:`t_1 < \dots < t_k`. Walking
down the ranking, the running sum after position i is

.. math::

    \mathrm{RES}(i) = \frac{\sum_{j \in S,\, j \le i} |r_j|}{N_R}
                    - \frac{\#\{j \notin S : j \le i\}}{N - k},
    \qquad N_R = \sum_{j \in S} |r_j|,

which rises at each member by its weight :math:`|r_j|^p / N_R` (p = 1) and falls by
:math:`1 / (N - k)` at each other gene; it ends at 0. The enrichment score ES is the
running sum's largest deviation from 0: its maximum when that is at least minus its
minimum, else its minimum (a tie goes to the positive side). The maximum is reached
just after a member and the minimum just before one (or at the end, where the sum is
0), so ES takes O(k) from the members' positions alone:

.. math::

    \mathrm{RES}^{+}_a = \frac{\sum_{b \le a} |r_{t_b}|}{N_R} - \frac{t_a - (a - 1)}{N - k},
    \qquad
    \mathrm{RES}^{-}_a = \mathrm{RES}^{+}_a - \frac{|r_{t_a}|}{N_R}

(1-based a; :math:`t_a - (a - 1)` other genes precede member a), and
:math:`\max \mathrm{RES} = \max(0, \max_a \mathrm{RES}^{+}_a)`,
:math:`\min \mathrm{RES} = \min(0, \min_a \mathrm{RES}^{-}_a)`. Should every member
score exactly 0 (:math:`N_R = 0`, where the formula is undefined), the members weigh
equally, the classic unweighted statistic (p = 0).

The **leading edge** is the members that account for the score: for ES > 0 those up to
and including the peak's (the first members, down to the one at which the maximum is
reached), for ES < 0 those from the trough on (the last members, from the first one
after the minimum). A set of the k top-ranked genes has ES = 1 and all of its members
in the leading edge; of the k bottom-ranked, ES = -1. Reversing the ranking (positions
:math:`i \to N - 1 - i`, scores negated) maps the running sum to minus itself read
backwards, so ES becomes -ES with the same leading edge.

Significance
------------
For a set of size k, B random gene sets of k genes are drawn uniformly, without
replacement, from the N ranked genes (GSEA's ``gene_set`` permutation, the one preranked
GSEA uses), and their enrichment scores form the null distribution. With ES >= 0,

.. math::

    p = \frac{\#\{b : \mathrm{ES}^{0}_b \ge \mathrm{ES}\}}{\#\{b : \mathrm{ES}^{0}_b \ge 0\}},
    \qquad
    \mathrm{NES} = \frac{\mathrm{ES}}{\operatorname{mean}\{\mathrm{ES}^{0}_b :
                   \mathrm{ES}^{0}_b \ge 0\}},

and with ES < 0 the same over the null scores below 0, with :math:`\le` and the mean's
absolute value (so NES keeps ES's sign). p = 0 means that no null score of the same
sign was as extreme (p < 1 / that count), as GSEA reports it; p and NES are NaN when no
null score has ES's sign. The q-values are Benjamini-Hochberg's over the sets tested
together (:func:`linkscan.kernels.multitest.bh_logq`, NaN p excluded), not GSEA's
NES-based FDR.

Random gene sets treat genes as independent: a set of co-regulated genes that all
shift a little together (a module whose latent factor happens to correlate weakly with
the ranked gene's) gets a small p, which is GSEA's documented caveat of this
permutation. And with p = 1 a few genes of huge score inflate the null scores of their
sign, so NES of opposite signs do not compare: where a gene's module mates score 200 and
the rest about 1, the module's own perfect set (ES = 1) gets NES of about 1.3.

A set's null depends only on its size, the ranking's scores and the seed: each (seed,
size, permutation) keys its own random stream (SplitMix64, Steele et al. 2014, seeded
by hashing the three numbers), so sets of one size share their null draws (as fgsea
shares its samples across pathways) and a set gets the same p whatever other sets are
tested with it, in any order. A random position is ``floor(u * m)`` with u of 53 random
bits (bias below m / 2^53).

References
----------
.. [1] Subramanian A, Tamayo P, Mootha VK, et al. Gene set enrichment analysis: a
   knowledge-based approach for interpreting genome-wide expression profiles. PNAS
   102(43):15545-15550, 2005. doi:10.1073/pnas.0506580102
.. [2] Korotkevich G, Sukhov V, Budin N, et al. Fast gene set enrichment analysis.
   bioRxiv 060012, 2021. doi:10.1101/060012
.. [3] Steele GL, Lea D, Flood CH. Fast splittable pseudorandom number generators.
   OOPSLA 2014, 453-472. doi:10.1145/2660193.2660195
.. [4] Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical and
   powerful approach to multiple testing. J R Stat Soc B 57(1):289-300, 1995.
"""

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from linkscan.kernels._args import count_arg
from linkscan.kernels._jit import jit
from linkscan.kernels.multitest import bh_logq

# SplitMix64's constants (Steele et al. 2014): the stream increment and the finalizer's
# multipliers. uint64 throughout: Numba turns uint64 mixed with int64 into float64.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_M53 = 2.0 ** -53


class GseaResult(NamedTuple):
    """Per gene set, in the order given (float64 unless said)."""

    #: enrichment score, in [-1, 1]
    es: np.ndarray
    #: normalized enrichment score (NaN without a same-sign null score)
    nes: np.ndarray
    #: permutation p-value (0 when no null score of ES's sign was as extreme)
    pvalue: np.ndarray
    #: Benjamini-Hochberg q-value over the sets
    qvalue: np.ndarray
    #: int64, leading-edge size: the first ``lead`` members for ES >= 0, the last for ES < 0
    lead: np.ndarray


@jit(nogil=True)
def _es_sorted(weight, positions, n):
    """(ES, leading-edge size) of the members at ``positions`` (sorted ascending) of a
    ranking of ``n`` genes with weights ``weight`` (= |score|); module docstring."""
    k = positions.shape[0]
    total = 0.0
    for a in range(k):
        total += weight[positions[a]]
    unweighted = total == 0.0
    if unweighted:
        total = float(k)
    miss_step = 1.0 / (n - k)
    cum = 0.0
    top = 0.0
    bottom = 0.0
    peak = -1  # member index of the maximum; -1: none above 0
    trough = k  # member index just after the minimum
    for a in range(k):
        misses = (positions[a] - a) * miss_step
        below = cum / total - misses
        if below < bottom:
            bottom = below
            trough = a
        cum += 1.0 if unweighted else weight[positions[a]]
        above = cum / total - misses
        if above > top:
            top = above
            peak = a
    if top >= -bottom:
        return top, peak + 1
    return bottom, k - trough


@jit(nogil=True)
def _observed(weight, members, offsets, n):
    count = offsets.shape[0] - 1
    es = np.empty(count)
    lead = np.empty(count, dtype=np.int64)
    for s in range(count):
        es[s], lead[s] = _es_sorted(weight, members[offsets[s]:offsets[s + 1]], n)
    return es, lead


@jit(nogil=True)
def _mix(z):
    """SplitMix64's finalizer: a bijective hash of 64 bits."""
    z = (z ^ (z >> _S30)) * _MUL1
    z = (z ^ (z >> _S27)) * _MUL2
    return z ^ (z >> _S31)


@jit(nogil=True)
def _null(weight, sizes, permutations, seed):
    n = weight.shape[0]
    out = np.empty((sizes.shape[0], permutations))
    pool = np.arange(n)  # a permutation of 0..n-1, put back to the identity after each draw
    swaps = np.empty(n, dtype=np.int64)
    drawn = np.empty(n, dtype=np.int64)
    key = _mix(np.uint64(seed))
    for u in range(sizes.shape[0]):
        k = sizes[u]
        size_key = _mix(key + np.uint64(k))
        for b in range(permutations):
            state = _mix(size_key + np.uint64(b))
            # k draws of a Fisher-Yates shuffle: pool[:k] is a uniform k-subset
            for i in range(k):
                state += _GAMMA
                u53 = _mix(state) >> _S11
                j = i + np.int64(np.float64(u53) * _TWO_M53 * (n - i))
                swaps[i] = j
                pool[i], pool[j] = pool[j], pool[i]
                drawn[i] = pool[i]
            for i in range(k - 1, -1, -1):
                j = swaps[i]
                pool[i], pool[j] = pool[j], pool[i]
            chosen = drawn[:k]
            chosen.sort()
            out[u, b] = _es_sorted(weight, chosen, n)[0]
    return out


def _ranking(scores: ArrayLike) -> np.ndarray:
    """|scores| as the kernels' weights, after checking that scores are a ranking."""
    r = np.asarray(scores, dtype=np.float64)
    if r.ndim != 1 or r.size < 2:
        raise ValueError(f"scores must be 1-D with at least 2 genes, got shape {r.shape}")
    if not np.isfinite(r).all():
        raise ValueError("scores must be finite: drop the genes without a score")
    if np.any(r[1:] > r[:-1]):
        raise ValueError("scores must be sorted in decreasing order (the ranking)")
    return np.abs(r)


def _sets(members: ArrayLike, offsets: ArrayLike, n: int) -> tuple[np.ndarray, np.ndarray]:
    m = np.ascontiguousarray(members, dtype=np.int64)
    o = np.ascontiguousarray(offsets, dtype=np.int64)
    if m.ndim != 1 or o.ndim != 1 or o.size < 1 or o[0] != 0 or o[-1] != m.size:
        raise ValueError("members and offsets must be 1-D, offsets[0] == 0 and offsets[-1] == len(members)")
    sizes = np.diff(o)
    if np.any(sizes < 1) or np.any(sizes >= n):
        raise ValueError(f"every set must hold 1 to N - 1 = {n - 1} of the ranked genes")
    if m.size and (m.min() < 0 or m.max() >= n):
        raise ValueError(f"members must be positions in the ranking, 0 to {n - 1}")
    rising = np.ones(m.size, dtype=bool)
    rising[1:] = m[1:] > m[:-1]
    rising[o[:-1]] = True  # a set's first member follows the previous set's last
    if not rising.all():
        raise ValueError("each set's members must be strictly increasing positions (sorted, no repeats)")
    return m, o


def enrichment_scores(scores: ArrayLike, members: ArrayLike, offsets: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Enrichment score and leading-edge size of each gene set.

    Parameters
    ----------
    scores
        The ranking: N finite scores, sorted in decreasing order; their absolute values
        are the weights (p = 1).
    members, offsets
        The gene sets as positions in the ranking (0 = the top gene), concatenated: set
        s is ``members[offsets[s]:offsets[s + 1]]``, strictly increasing, 1 to N - 1
        positions.

    Returns
    -------
    es
        float64, the enrichment score of each set (module docstring).
    lead
        int64, the size of each set's leading edge: its first ``lead`` members when
        ES >= 0, its last ``lead`` members when ES < 0.

    Examples
    --------
    >>> scores = [5.0, 4.0, 3.0, 1.0, -1.0, -2.0]
    >>> es, lead = enrichment_scores(scores, [0, 1, 2, 4, 5], [0, 2, 5])
    >>> es.round(4).tolist(), lead.tolist()
    ([1.0, -0.6667], [2, 3])
    """
    weight = _ranking(scores)
    m, o = _sets(members, offsets, weight.size)
    return _observed(weight, m, o, weight.size)


def null_enrichment_scores(scores: ArrayLike, sizes: ArrayLike, *, permutations: int = 1000,
                           seed: int = 0) -> np.ndarray:
    """Enrichment scores of random gene sets: the permutation null of each set size.

    Parameters
    ----------
    scores
        The ranking, as :func:`enrichment_scores` takes it.
    sizes
        Set sizes, each 1 to N - 1.
    permutations
        Random sets per size, >= 1.
    seed
        Integer >= 0. Row i depends only on ``sizes[i]``, ``scores`` and ``seed``.

    Returns
    -------
    float64 (len(sizes), permutations): the ES of each random set.

    Examples
    --------
    >>> null = null_enrichment_scores([3.0, 2.0, 1.0, -1.0, -2.0], [2, 2, 3], permutations=4)
    >>> null.shape, bool((null[0] == null[1]).all())
    ((3, 4), True)
    """
    weight = _ranking(scores)
    k = np.ascontiguousarray(sizes, dtype=np.int64)
    if k.ndim != 1 or np.any(k < 1) or np.any(k >= weight.size):
        raise ValueError(f"sizes must be 1-D, each 1 to N - 1 = {weight.size - 1}")
    seed = count_arg(seed, "seed", 0)
    if seed >= 2**63:
        raise ValueError(f"seed must be below 2**63, got {seed}")
    return _null(weight, k, count_arg(permutations, "permutations", 1), seed)


def preranked_gsea(scores: ArrayLike, members: ArrayLike, offsets: ArrayLike, *, permutations: int = 1000,
                   seed: int = 0) -> GseaResult:
    """Preranked GSEA of gene sets in one ranking: ES, NES, p, BH q, leading edge.

    Parameters
    ----------
    scores, members, offsets
        The ranking and the gene sets, as :func:`enrichment_scores` takes them.
    permutations
        Random gene sets per set size for the null, >= 1 (GSEA's default is 1000).
    seed
        Integer >= 0; the same seed gives the same results.

    Returns
    -------
    GseaResult
        One value per set (module docstring for the definitions).

    Examples
    --------
    >>> scores = np.linspace(2.0, -2.0, 40)
    >>> top, spread = [0, 1, 2, 3, 4], [3, 11, 19, 27, 35]
    >>> res = preranked_gsea(scores, top + spread, [0, 5, 10], permutations=200)
    >>> res.es.round(3).tolist(), res.lead.tolist(), res.pvalue.round(2).tolist()
    ([1.0, 0.254], [5, 1], [0.0, 0.98])
    """
    weight = _ranking(scores)
    m, o = _sets(members, offsets, weight.size)
    es, lead = _observed(weight, m, o, weight.size)
    sizes, size_of_set = np.unique(np.diff(o), return_inverse=True)
    null = null_enrichment_scores(scores, sizes, permutations=permutations, seed=seed)[size_of_set]
    up = es[:, None] >= 0.0
    same = np.where(up, null >= 0.0, null < 0.0)
    extreme = same & np.where(up, null >= es[:, None], null <= es[:, None])
    n_same = same.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):  # no same-sign null: NaN
        pvalue = extreme.sum(axis=1) / n_same
        nes = es / np.abs(np.where(same, null, 0.0).sum(axis=1) / n_same)
        qvalue = np.exp(bh_logq(np.log(pvalue)))
    return GseaResult(es, nes, pvalue, qvalue, lead)
