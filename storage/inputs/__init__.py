"""The inputs side: a cohort's tables read, checked and kept in the cohort store.

The modules, in the order a table passes through them:

* :mod:`~linkscan.storage.inputs.readers`: text and Parquet files read strictly: omics
  tables (features x samples), gene maps, and row tables of text cells.
* :mod:`~linkscan.storage.inputs.clinical`: clinical tables in their LinkedOmics layouts
  and column types -> phenotypes; :mod:`~linkscan.storage.inputs.survival`: survival
  tables -> one survival phenotype per endpoint.
* :mod:`~linkscan.storage.inputs.phenotypes`: the Phenotype model (types, codes, levels)
  and its encoding as a cohort's phenotype Dataset.
* :mod:`~linkscan.storage.inputs.cohort_store`: the versioned Zarr Datasets of each
  cohort, their atomic writes under the cohort's writer lock
  (:mod:`linkscan.storage.locks`) and the checked reads of a scan's pinned versions;
  :mod:`~linkscan.storage.inputs.variables`: the variables of an omics Dataset.
* :mod:`~linkscan.storage.inputs.ingest`: an omics table -> the store, and the helpers
  the other two ingests share; :mod:`~linkscan.storage.inputs.tissues`: one table of
  tumor and normal samples split by a sample table;
  :mod:`~linkscan.storage.inputs.phenotype_ingest`: clinical and survival tables -> the
  cohort's phenotypes.
* :mod:`~linkscan.storage.inputs.gmt`: gene set (GMT) files for enrichment; read only,
  never stored.

Which way they import (there is no cycle): readers, phenotypes and variables import none
of the others; clinical imports readers and phenotypes (the model it builds), survival
imports clinical, phenotypes and readers (its numbers); cohort_store imports phenotypes
(the Dataset encoding) and variables; ingest imports readers and cohort_store; tissues
and phenotype_ingest import ingest (its shared helpers), cohort_store and the modules
they read with, and no module here imports them.
"""
