"""The demo set: a deterministic, CPTAC-shaped synthetic pan-cancer cohort set.

It is what ``linkscan demo`` scans, and the test and benchmark data: ten cohorts
(:data:`CPTAC_COHORTS`) with what a gene page scans, each table made from ``seed``, the
cohort's name and the generator's arguments alone:

* a tumor proteome of real gene symbols in five planted co-regulated modules
  (:data:`MODULES`; :data:`DEMO_GENE`, MKI67, leads the proliferation one) among
  independent ``LSP`` filler features, with missing values by TMT plex and missing not
  at random, ties and a few proteins a cohort does not measure;
* normal samples, RNA, mutations, clinical columns and overall survival tied to the
  tumors' latent module factors, so that every scan kind (trans, tumor vs normal,
  phenotype, cis) finds :data:`DEMO_GENE`'s proliferation module.

The generator API is exported here (``from linkscan.jobs import demo;
demo.make_gene_page_set(...)``); its modules describe each part in full:

:mod:`linkscan.jobs.demo.proteome`
    The proteome: :class:`Module`, :func:`make_cohort`, :func:`make_pan_cancer`,
    :func:`write_tables`; the value model, missingness and seeding.
:mod:`linkscan.jobs.demo.gene_page`
    The tables built on it: :func:`make_gene_page_set` (one :class:`CohortTables` per
    cohort), :func:`write_gene_page_tables` and the constants of the planted effects
    (:data:`STAGE_LEVELS`, :data:`STAGE_UNKNOWN`, :data:`MUTATION_FREQUENCIES`, ...).
:mod:`linkscan.jobs.demo.gene_sets`
    The gene sets ``linkscan gsea`` tests on it: :func:`demo_gene_sets` (one set per
    module, and decoys of filler genes) and :func:`write_demo_gmt` (as a GMT file).
:mod:`linkscan.jobs.demo.run`
    ``linkscan demo`` itself: :func:`~linkscan.jobs.demo.run.run_demo` generates the set,
    ingests it, runs the four scans and looks :data:`DEMO_GENE` up. It is not imported
    here, as it loads Dask; import it from its module.

Examples
--------
>>> from linkscan.jobs import demo
>>> page = demo.make_gene_page_set(n_features=150, cohorts=("OV",), samples=(60, 60))["OV"]
>>> page.proteome.loc[demo.DEMO_GENE].size, list(page.mutation.index) == list(demo.MUTATION_FREQUENCIES)
(60, True)
"""

from linkscan.jobs.demo import gene_page, gene_sets, proteome
from linkscan.jobs.demo.gene_page import (
    CIS_RHO_RANGE,
    CLINICAL_TYPES,
    GENE_PAGE_FILES,
    MIN_NORMALS,
    MSI_EFFECT,
    MSI_LABELS,
    MSI_SHARE_RANGE,
    MUTATION_DRIVER,
    MUTATION_EFFECT,
    MUTATION_FREQUENCIES,
    NORMAL_SHARE_RANGE,
    PAIRED_SHARE_RANGE,
    STAGE_EFFECT,
    STAGE_LEVELS,
    STAGE_SHARES,
    STAGE_UNKNOWN,
    SURVIVAL_LOG_HR,
    TUMOR_NORMAL_SHIFT,
    CohortTables,
    make_gene_page_set,
    write_gene_page_tables,
)
from linkscan.jobs.demo.gene_sets import DECOY_SETS, DECOY_SIZE, DEMO_GMT, demo_gene_sets, write_demo_gmt
from linkscan.jobs.demo.proteome import (
    CPTAC_COHORTS,
    DEMO_GENE,
    FILLER_PREFIX,
    MODULES,
    Module,
    make_cohort,
    make_pan_cancer,
    write_tables,
)

__all__ = [*proteome.__all__, *gene_page.__all__, *gene_sets.__all__]
