"""Gene set enrichment of one gene's associations (``linkscan gsea``).

A gene page shows which gene sets a gene's partners are enriched for. The partners of
the gene in one scan are ranked by signed -log10 p (:func:`ranking`), which can be
exported as the two-column ``.rnk`` file the reference sends to WebGestalt
(:func:`write_rnk`), and preranked GSEA runs on that ranking against gene sets from a
GMT file (:func:`preranked`; :func:`gsea` does both steps). The statistics are
:mod:`linkscan.kernels.gsea`'s: weighted Kolmogorov-Smirnov ES (p = 1), gene-set
permutation p, NES, Benjamini-Hochberg q over the sets tested, the leading edge.

The ranking is in decreasing score; genes of equal score are ordered by gene symbol
(ascending), so that the ES, the leading edge and the ``.rnk`` file do not depend on
the order in which the store returned the rows. Gene sets are matched to the ranking's
gene symbols exactly (case included).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from linkscan.errors import JobError, ResultsError
from linkscan.storage.inputs.gmt import GeneSet, read_gmt

PathLike = str | os.PathLike
GeneSets = PathLike | Mapping[str, GeneSet | Iterable[str]]

#: Scan kinds whose partners are genes (features), so that a gene's partners rank genes.
GENE_PARTNER_KINDS = ("trans", "cis")

#: The columns of :func:`preranked`'s table, in order.
COLUMNS = ("set", "description", "size", "es", "nes", "pvalue", "qvalue", "lead_size", "leading_edge")


def ranking(gene: str, results: PathLike, *, kind: str = "trans", cohort: str | None = None) -> pd.Series:
    """The partners of ``gene`` in one scan, ranked by signed -log10 p.

    Parameters
    ----------
    gene
        A feature id or gene symbol, as :func:`linkscan.query` takes it. A symbol that
        several features of the scan carry (a gene's phosphosites) pools their partners.
    results
        A result store, or a folder of them holding one scan of ``kind``.
    kind
        The scan: one whose partners are genes (:data:`GENE_PARTNER_KINDS`).
    cohort
        Rank by this cohort's ``<COHORT>_slogp`` instead of ``meta_slogp``.

    Returns
    -------
    pandas.Series
        Score (the store's float32) indexed by the partner's gene symbol (index name
        ``gene``), named after the score column, in decreasing score, equal scores by
        gene symbol. Partners without a score are dropped; where several partner
        features map to one gene (phosphosites), the gene keeps the score of largest
        absolute value (on a tie, the positive one).

    Raises
    ------
    ResultsError
        No such scan, gene or cohort, a kind whose partners are not genes, several
        scans of ``kind`` under ``results``, or no partner with a score.
    """
    from linkscan.storage.results.store import result_stores

    if kind not in GENE_PARTNER_KINDS:
        raise ResultsError(f"kind {kind!r}: the partners of a {kind} scan are not genes; rank a gene's partners in "
                           f"a scan of kind {' or '.join(GENE_PARTNER_KINDS)}")
    stores = result_stores(results, kind)
    if len(stores) > 1:
        raise ResultsError(f"{results} holds {len(stores)} {kind} scans ({', '.join(s.root for s in stores)}); "
                           "pass the one to rank as results")
    rows = stores[0].lookup(gene, cohort=cohort)
    column = f"{cohort or 'meta'}_slogp"
    column = next(c for c in rows.columns if c.lower() == column.lower())  # the cohort as the store spells it
    rows = rows[["partner_gene", column]].dropna()
    if rows.empty:
        raise ResultsError(f"no partner of {gene!r} has a {column} in {stores[0].root}; "
                           f"{'choose another cohort' if cohort else 'too few cohorts had a result'}")
    # strongest |score| first (positive before negative), so that each gene's first row is kept
    strongest = rows.assign(size=rows[column].abs()).sort_values(
        ["size", column, "partner_gene"], ascending=[False, False, True], kind="stable")
    scores = strongest.drop_duplicates("partner_gene").set_index("partner_gene")[column]
    return _ordered(scores.rename_axis("gene"))


def _ordered(scores: pd.Series) -> pd.Series:
    """``scores`` in decreasing score, equal scores by gene (the module's tie rule)."""
    return scores.iloc[np.lexsort((scores.index.astype(str).to_numpy(), -scores.to_numpy(np.float64)))]


def write_rnk(ranked: pd.Series, path: PathLike) -> None:
    """Write a ranking as a ``.rnk`` file: gene TAB score per line, no header, in
    decreasing score (GSEA's and WebGestalt's preranked input).

    Parameters
    ----------
    ranked
        Score by gene, as :func:`ranking` returns it (float32 scores are written with
        the digits that read back as the same float32).
    path
        The file to write (replaced).
    """
    _ordered(ranked).to_csv(path, sep="\t", header=False, lineterminator="\n")


def preranked(ranked: pd.Series, gene_sets: GeneSets, *, permutations: int = 1000, seed: int = 0,
              min_size: int = 15, max_size: int = 500) -> pd.DataFrame:
    """Preranked GSEA of gene sets in a ranking.

    Parameters
    ----------
    ranked
        Score by gene symbol: unique genes, finite scores, any order (it is ranked by
        decreasing score, equal scores by gene symbol).
    gene_sets
        A GMT file, or set name -> :class:`~linkscan.storage.inputs.gmt.GeneSet` or
        genes.
    permutations
        Random gene sets per set size (integer >= 1).
    seed
        Seed of the random gene sets (integer >= 0): the same seed, the same table.
    min_size, max_size
        Test only the sets with ``min_size`` to ``max_size`` genes in the ranking
        (GSEA's defaults, 15 and 500); a set of every ranked gene is never tested.

    Returns
    -------
    pandas.DataFrame
        One row per tested set, columns :data:`COLUMNS`: ``size`` (its genes in the
        ranking), ``es``, ``nes``, ``pvalue``, ``qvalue`` (BH over the tested sets),
        ``lead_size`` and ``leading_edge`` (the leading-edge genes joined by ``;``,
        from the extreme end: top down for ES >= 0, bottom up for ES < 0). Sorted by
        p, then |ES| descending, then set name. Not by NES among equal p: with weight 1 a
        few partners of huge score (a gene's module mates, slogp 200) inflate the null
        scores of their sign, so NES does not compare across signs (on the demo, the
        set of MKI67's 23 strongest partners has ES 1 and NES 1.26, a weak coordinated
        shift of another module ES -0.69 and NES -2.1, both p = 0; 600 proteins).

    Raises
    ------
    JobError
        An option out of its range, a ranking of fewer than 2 genes, with a repeated
        gene or a missing or infinite score, or no set of the allowed size.
    InputError
        A GMT file that cannot be read.

    Examples
    --------
    >>> genes = [f"G{i:02d}" for i in range(40)]
    >>> ranked = pd.Series(np.linspace(3.0, -3.0, 40), index=genes)
    >>> sets = {"TOP": genes[:6], "BOTTOM": genes[-6:], "SPREAD": genes[3::7]}
    >>> table = preranked(ranked, sets, permutations=200, min_size=5)
    >>> table[["set", "size", "es", "lead_size"]]
          set  size        es  lead_size
    0  BOTTOM     6 -1.000000          6
    1     TOP     6  1.000000          6
    2  SPREAD     6 -0.270308          2
    >>> table["leading_edge"].tolist()[:2]
    ['G39;G38;G37;G36;G35;G34', 'G00;G01;G02;G03;G04;G05']
    """
    from linkscan.kernels.gsea import preranked_gsea

    for name, value, low in (("permutations", permutations, 1), ("seed", seed, 0), ("min_size", min_size, 1),
                             ("max_size", max_size, min_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise JobError(f"{name} = {value!r}: give a whole number >= {low}")
    if len(ranked) < 2:
        raise JobError(f"the ranking holds {len(ranked)} gene(s); enrichment needs at least 2 (a cis scan pairs "
                       "a gene with its own other omics only: rank its partners in a trans scan)")
    if ranked.index.has_duplicates:
        raise JobError(f"the ranking lists gene {ranked.index[ranked.index.duplicated()][0]!r} twice; give each "
                       "gene one score")
    if not np.isfinite(ranked.to_numpy(np.float64)).all():
        raise JobError("the ranking holds missing or infinite scores; drop those genes first")
    ranked = _ordered(ranked)
    genes = ranked.index.astype(str)
    position = dict(zip(genes, range(len(genes))))
    names, descriptions, members, widest = [], [], [], 0
    for name, (description, set_genes) in _gene_sets(gene_sets).items():
        found = sorted({position[g] for g in set_genes if g in position})
        widest = max(widest, len(found))
        if min_size <= len(found) <= max_size and len(found) < len(genes):
            names.append(name)
            descriptions.append(description)
            members.append(found)
    if not members:
        raise JobError(f"no gene set has {min_size} to {max_size} of the {len(genes)} ranked genes (the most any "
                       f"set has: {widest}); check that the sets name genes as the results do (e.g. "
                       f"{genes[0]!r}), or lower the minimum size")
    offsets = np.cumsum([0] + [len(m) for m in members])
    res = preranked_gsea(ranked.to_numpy(np.float64), np.concatenate(members), offsets,
                         permutations=int(permutations), seed=int(seed))
    edges = [_leading_edge(genes, m, lead, es) for m, lead, es in zip(members, res.lead, res.es)]
    table = pd.DataFrame({"set": names, "description": descriptions, "size": np.diff(offsets), "es": res.es,
                          "nes": res.nes, "pvalue": res.pvalue, "qvalue": res.qvalue, "lead_size": res.lead,
                          "leading_edge": edges}, columns=list(COLUMNS))
    order = np.lexsort((table["set"].to_numpy(), -table["es"].abs().to_numpy(),
                        table["pvalue"].fillna(np.inf).to_numpy()))
    return table.iloc[order].reset_index(drop=True)


def _gene_sets(gene_sets: GeneSets) -> dict[str, GeneSet]:
    if isinstance(gene_sets, (str, os.PathLike)):
        return read_gmt(gene_sets)
    return {name: value if isinstance(value, GeneSet) else GeneSet("", tuple(value))
            for name, value in gene_sets.items()}


def _leading_edge(genes: pd.Index, members: list[int], lead: int, es: float) -> str:
    chosen = members[:lead] if es >= 0 else members[len(members) - lead:][::-1]
    return ";".join(genes[chosen])


def gsea(gene: str, results: PathLike, gene_sets: GeneSets, *, kind: str = "trans", cohort: str | None = None,
         permutations: int = 1000, seed: int = 0, min_size: int = 15, max_size: int = 500) -> pd.DataFrame:
    """Preranked GSEA of one gene's partners: :func:`preranked` of :func:`ranking`.

    Parameters
    ----------
    gene, results, kind, cohort
        As :func:`ranking`.
    gene_sets, permutations, seed, min_size, max_size
        As :func:`preranked`.

    Returns
    -------
    pandas.DataFrame
        :func:`preranked`'s table.
    """
    return preranked(ranking(gene, results, kind=kind, cohort=cohort), gene_sets, permutations=permutations,
                     seed=seed, min_size=min_size, max_size=max_size)
