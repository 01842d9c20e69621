"""Preranked GSEA (kernels/gsea.py) against gseapy's prerank, a direct slow
implementation of the running sum, and the statistic's properties."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st

from linkscan.kernels.gsea import enrichment_scores, null_enrichment_scores, preranked_gsea


def _slow_es(scores, members):
    """Subramanian et al. 2005 written out: the running sum over every position of the
    ranking; ES its value of largest absolute value, and the leading edge as gseapy
    takes it (members at or before that position for ES >= 0, at or after it for
    ES < 0). Members whose scores are all 0 weigh equally. Returns every (ES, leading
    edge) whose |running sum| is the largest up to rounding (1e-12): where two
    positions tie, which one floating point picks is not the statistic's business."""
    n, hits = len(scores), set(members)
    weight = {i: abs(scores[i]) for i in members}
    total = sum(weight.values())
    if total == 0:
        weight, total = {i: 1.0 for i in members}, float(len(members))
    run, res = 0.0, []
    for i in range(n):
        run += weight[i] / total if i in hits else -1.0 / (n - len(members))
        res.append(run)
    largest = max(abs(r) for r in res)
    return [(r, [m for m in members if (m <= i if r >= 0 else m >= i)])
            for i, r in enumerate(res) if abs(r) > largest - 1e-12]


def _csr(sets):
    members = [sorted(s) for s in sets]
    return np.concatenate(members).astype(np.int64), np.cumsum([0] + [len(m) for m in members])


def _random_case(rng, n, n_sets):
    scores = np.round(rng.normal(size=n) * 2, int(rng.integers(0, 3)))  # ties at times
    if rng.random() < 0.3:
        scores[rng.integers(n)] = 0.0
    scores = np.sort(scores)[::-1]
    sets = [rng.choice(n, int(rng.integers(1, n)), replace=False) for _ in range(n_sets)]
    return scores, sets


def test_enrichment_scores__equal_the_running_sum_written_out(rng):
    for _ in range(300):
        n = int(rng.integers(2, 60))
        scores, sets = _random_case(rng, n, 4)
        es, lead = enrichment_scores(scores, *_csr(sets))
        for s, e, k in zip(sets, es, lead):
            members = sorted(s)
            ours = members[:k] if e >= 0 else members[len(members) - k:]
            assert any(abs(e - r) < 1e-12 and ours == edge for r, edge in _slow_es(scores, members)), (scores, s)


def test_enrichment_scores__members_scoring_zero_weigh_equally():
    scores = np.array([3.0, 2.0, 0.0, 0.0, 0.0, -1.0])
    es, lead = enrichment_scores(scores, [2, 4], [0, 2])
    assert _slow_es(scores, [2, 4]) == [(-0.5, [2, 4])]
    assert es[0] == -0.5 and lead[0] == 2


def test_enrichment_scores__a_tie_of_peak_and_trough_goes_to_the_peak():
    scores = np.array([1.0, 1.0, -1.0, -1.0])  # running sum of {0, 3}: 0.5, 0, -0.5, 0
    es, lead = enrichment_scores(scores, [0, 3], [0, 2])
    assert es[0] == 0.5 and lead[0] == 1


def test_enrichment_scores__reversed_ranking_gives_minus_es_and_the_same_leading_edge(rng):
    n = 300
    scores = np.sort(rng.normal(size=n))[::-1]
    sets = [rng.choice(n, k, replace=False) for k in (5, 40, 150, 299)]
    es, lead = enrichment_scores(scores, *_csr(sets))
    es_rev, lead_rev = enrichment_scores(-scores[::-1], *_csr([n - 1 - s for s in sets]))
    np.testing.assert_allclose(es_rev, -es, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(lead_rev, lead)


def test_enrichment_scores__top_and_bottom_sets_score_plus_and_minus_one(rng):
    scores = np.sort(rng.normal(size=200))[::-1]
    top, bottom = np.arange(20), np.arange(180, 200)
    es, lead = enrichment_scores(scores, *_csr([top, bottom]))
    np.testing.assert_allclose(es, [1.0, -1.0], atol=1e-12)
    np.testing.assert_array_equal(lead, [20, 20])
    res = preranked_gsea(scores, *_csr([top, bottom]), permutations=500, seed=1)
    np.testing.assert_array_equal(res.pvalue, [0.0, 0.0])  # no random set of 20 is the top 20
    assert res.nes[0] > 2 and res.nes[1] < -2


def _pvalue_and_nes(es, null):
    """p and NES of one set from its null, as GSEA defines them, one value at a time."""
    same = [x for x in null if (x >= 0) == (es >= 0)]
    extreme = [x for x in same if (x >= es if es >= 0 else x <= es)]
    return len(extreme) / len(same), es / abs(sum(same) / len(same))


def test_preranked_gsea__p_nes_q_follow_from_the_null(rng):
    n = 500
    scores = np.sort(rng.normal(size=n) * 2)[::-1]
    sets = [rng.choice(n, k, replace=False) for k in (15, 15, 40, 100, 250)]
    sets.append(np.arange(30))  # p = 0, which BH keeps at q = 0
    members, offsets = _csr(sets)
    res = preranked_gsea(scores, members, offsets, permutations=300, seed=5)
    null = null_enrichment_scores(scores, np.diff(offsets), permutations=300, seed=5)
    for i in range(len(sets)):
        p, nes = _pvalue_and_nes(res.es[i], null[i])
        assert res.pvalue[i] == pytest.approx(p, abs=1e-15)
        assert res.nes[i] == pytest.approx(nes, rel=1e-12)
    np.testing.assert_allclose(res.qvalue, st.false_discovery_control(res.pvalue, method="bh"), rtol=1e-12)


def test_null_enrichment_scores__random_sets_as_drawn_directly(rng):
    """The null against random sets drawn by numpy, each scored by the slow running sum:
    the same distribution (two-sample KS; means within 5 standard errors)."""
    n = 120
    scores = np.sort(rng.normal(size=n) * 2)[::-1]
    for k in (3, 30, 100):
        ours = null_enrichment_scores(scores, [k], permutations=4000, seed=11)[0]
        direct = np.array([_slow_es(scores, sorted(rng.choice(n, k, replace=False)))[0][0] for _ in range(4000)])
        assert st.ks_2samp(ours, direct).pvalue > 1e-3, k
        se = math.sqrt(ours.var() / ours.size + direct.var() / direct.size)
        assert abs(ours.mean() - direct.mean()) < 5 * se, k


def test_null_enrichment_scores__a_size_keys_its_own_draws():
    scores = np.linspace(4.0, -4.0, 80)
    both = null_enrichment_scores(scores, [10, 33], permutations=50, seed=2)
    np.testing.assert_array_equal(null_enrichment_scores(scores, [33], permutations=50, seed=2)[0], both[1])


def test_preranked_gsea__same_seed_same_results_other_seed_other_null(rng):
    scores = np.sort(rng.normal(size=400))[::-1]
    members, offsets = _csr([rng.choice(400, k, replace=False) for k in (20, 60, 61)])
    a = preranked_gsea(scores, members, offsets, permutations=200, seed=9)
    b = preranked_gsea(scores, members, offsets, permutations=200, seed=9)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    null = null_enrichment_scores(scores, [20], permutations=200, seed=9)
    assert not np.array_equal(null, null_enrichment_scores(scores, [20], permutations=200, seed=10))


@pytest.mark.parametrize("scores, members, offsets, message", [
    ([1.0, 2.0, 0.0], [0], [0, 1], "sorted in decreasing order"),
    ([2.0, np.nan, 0.0], [0], [0, 1], "finite"),
    ([2.0], [0], [0, 1], "at least 2 genes"),
    ([2.0, 1.0, 0.0], [0, 1, 2], [0, 3], "1 to N - 1"),
    ([2.0, 1.0, 0.0], [1, 1], [0, 2], "strictly increasing"),
    ([2.0, 1.0, 0.0], [0, 3], [0, 2], "positions in the ranking"),
    ([2.0, 1.0, 0.0], [0, 1], [0, 1], "offsets"),
])
def test_enrichment_scores__bad_input_is_refused(scores, members, offsets, message):
    with pytest.raises(ValueError, match=message):
        enrichment_scores(scores, members, offsets)


@pytest.mark.parametrize("options, message", [
    ({"permutations": 0}, "permutations"), ({"seed": -1}, "seed"), ({"seed": 2**63}, "seed"),
])
def test_preranked_gsea__bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        preranked_gsea([2.0, 1.0, 0.0], [0], [0, 1], **options)


# ------------------------------------------------------------------ gseapy


PERMUTATIONS = 2000


@pytest.fixture(scope="module")
def against_gseapy():
    """One ranking without ties (2,000 genes; gseapy and linkscan may order tied scores
    differently) and 14 sets of 15 to 400 genes, from random to strongly enriched at
    either end; gseapy's prerank and linkscan's kernel each with 2,000 permutations."""
    gp = pytest.importorskip("gseapy")
    rng = np.random.default_rng(20260105)
    n = 2000
    genes = [f"G{i:04d}" for i in range(n)]
    scores = np.sort(rng.normal(size=n) * 3)[::-1]
    assert np.unique(scores).size == n
    sets = {}
    for s, tilt in enumerate(np.linspace(-0.5, 0.5, 14)):  # tilt 0: a random set
        chance = np.exp(tilt * np.linspace(1, -1, n))
        k = int(rng.integers(15, 400))
        sets[f"S{s:02d}"] = [genes[i] for i in rng.choice(n, k, replace=False, p=chance / chance.sum())]
    with warnings.catch_warnings():  # gseapy's inplace=True calls, deprecated by pandas 3
        warnings.filterwarnings("ignore", message="The inplace keyword")
        ref = gp.prerank(rnk=pd.Series(scores, index=genes), gene_sets=sets, min_size=15, max_size=500,
                         permutation_num=PERMUTATIONS, seed=7, threads=1, outdir=None, no_plot=True,
                         verbose=False).res2d.set_index("Term")
    members, offsets = _csr([[int(g[1:]) for g in genes_of] for genes_of in sets.values()])
    ours = preranked_gsea(scores, members, offsets, permutations=PERMUTATIONS, seed=3)
    null = null_enrichment_scores(scores, np.diff(offsets), permutations=PERMUTATIONS, seed=3)
    return list(sets), genes, members, offsets, ours, null, ref


def test_preranked_gsea__es_and_leading_edge_equal_gseapy(against_gseapy):
    names, genes, members, offsets, ours, _, ref = against_gseapy
    assert sorted(ref.index) == names
    got = ref.loc[names, "ES"].astype(float).to_numpy()
    assert np.max(np.abs(ours.es - got)) < 1e-9
    for i, name in enumerate(names):
        m = members[offsets[i]:offsets[i + 1]]
        lead = m[:ours.lead[i]] if ours.es[i] >= 0 else m[len(m) - ours.lead[i]:]
        assert sorted(genes[j] for j in lead) == sorted(ref.loc[name, "Lead_genes"].split(";")), name


def test_preranked_gsea__nes_and_p_agree_with_gseapy_within_monte_carlo_error(against_gseapy):
    """Both are Monte-Carlo estimates from independent random sets, so they differ by
    chance: p by at most 5 standard errors of the difference of two binomial fractions
    (each over the ~1,000 null scores of ES's sign) plus one count, NES by at most 5
    standard errors of the difference of two null means, propagated to ES / mean. Five
    standard errors leave a chance of about 1e-5 for a false alarm over the 14 sets,
    while a wrong null (other sign rule, sets drawn with replacement, the wrong mean)
    moves them by far more."""
    names, _, _, _, ours, null, ref = against_gseapy
    nes_ref = ref.loc[names, "NES"].astype(float).to_numpy()
    p_ref = ref.loc[names, "NOM p-val"].astype(float).to_numpy()
    assert 0.05 < p_ref.max() and (p_ref < 0.05).sum() >= 4  # the sets span null to strong
    for i, name in enumerate(names):
        same = null[i][(null[i] >= 0) == (ours.es[i] >= 0)]
        p = (ours.pvalue[i] + p_ref[i]) / 2
        p_bound = 5 * math.sqrt(p * (1 - p) * 2 / same.size) + 1 / same.size
        assert abs(ours.pvalue[i] - p_ref[i]) <= p_bound, (name, ours.pvalue[i], p_ref[i])
        nes_se = abs(ours.nes[i]) * same.std() / abs(same.mean()) / math.sqrt(same.size)
        assert abs(ours.nes[i] - nes_ref[i]) <= 5 * math.sqrt(2) * nes_se, (name, ours.nes[i], nes_ref[i])
