"""The demo's gene sets: its planted modules, and decoys of filler genes, as a GMT file.

``linkscan gsea`` on the demo needs gene sets whose answer is known: one set per planted
module of :data:`~linkscan.jobs.demo.MODULES` (MKI67's proliferation module is the one
its ranking is enriched for), and decoy sets of ``LSP`` filler genes, which carry no
planted effect.
"""

from __future__ import annotations

import os
from pathlib import Path

from linkscan.jobs.demo.proteome import FILLER_PREFIX, MODULES, _feature_names
from linkscan.storage.inputs.gmt import GeneSet, write_gmt

__all__ = ["DEMO_GMT", "DECOY_SETS", "DECOY_SIZE", "demo_gene_sets", "write_demo_gmt"]

#: The file name :func:`write_demo_gmt` writes in the demo folder.
DEMO_GMT = "gene_sets.gmt"
#: Decoy sets, and the filler genes in each.
DECOY_SETS = 4
DECOY_SIZE = 25


def demo_gene_sets(n_features: int = 2000) -> dict[str, GeneSet]:
    """The gene sets of a demo set of ``n_features`` proteins.

    Parameters
    ----------
    n_features
        ``n_features`` of the demo set (:func:`linkscan.jobs.demo.make_pan_cancer`):
        it decides which filler genes exist.

    Returns
    -------
    dict[str, GeneSet]
        ``DEMO_<MODULE>`` -> the module's genes (all of them, whether or not the set
        has that many features), then ``DEMO_DECOY_1`` ... ``DEMO_DECOY_4``: every
        4th filler gene from the 1st, 2nd, ... one, up to :data:`DECOY_SIZE` each (fewer,
        or no decoy, in a set with few fillers).

    Examples
    --------
    >>> sets = demo_gene_sets(600)
    >>> list(sets)[:2], len(sets["DEMO_PROLIFERATION"].genes), sets["DEMO_DECOY_1"].genes[:2]
    (['DEMO_PROLIFERATION', 'DEMO_INTERFERON'], 24, ('LSP00001', 'LSP00005'))
    """
    sets = {f"DEMO_{m.name.upper()}": GeneSet(f"linkscan demo: planted module {m.name}", m.genes)
            for m in MODULES}
    fillers = [name for name in _feature_names(n_features, MODULES) if name.startswith(FILLER_PREFIX)]
    for d in range(DECOY_SETS):
        genes = tuple(fillers[d::DECOY_SETS][:DECOY_SIZE])
        if genes:
            sets[f"DEMO_DECOY_{d + 1}"] = GeneSet("linkscan demo: filler genes, no planted effect", genes)
    return sets


def write_demo_gmt(folder: str | os.PathLike, n_features: int = 2000) -> Path:
    """Write :func:`demo_gene_sets` as ``folder/gene_sets.gmt`` (:data:`DEMO_GMT`).

    Parameters
    ----------
    folder
        The demo folder (created when missing).
    n_features
        As :func:`demo_gene_sets`.

    Returns
    -------
    pathlib.Path
        The file written, for ``linkscan gsea MKI67 --results FOLDER/results --gmt FILE``.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    return write_gmt(out / DEMO_GMT, demo_gene_sets(n_features))
