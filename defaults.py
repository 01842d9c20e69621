"""linkscan.defaults: every key of a job file, its default and what it means.

The one place a scan's options are declared. The job file's schema
(:mod:`linkscan.jobs.spec`), the scan spec (:class:`linkscan.engine.scanspec.ScanSpec`) and
the command line's defaults (:mod:`linkscan.jobs.cli`) are derived from :data:`OPTIONS`;
the README's job file reference shows the same table (a test holds them equal).

Examples
--------
>>> default("min_n")
10
>>> OPTION["tile_size"].section
'scan'
>>> [o.key for o in OPTIONS if o.section == "" and o.required]
['store', 'results', 'omics']
"""

from __future__ import annotations

from dataclasses import dataclass

#: Scan kinds (STATS.md): what a scan tests.
KINDS = ("trans", "cis", "tumor_normal", "phenotype")
#: Spearman p-value modes: the t approximation, or R's cor.test (its 0 replaced by 2.2e-16).
P_MODES = ("t", "r")
#: A key without a default must be given in every job file.
REQUIRED = None


class Names(list):
    """The type of a key whose value is a list of names or the path of a text file of
    one name per line."""


@dataclass(frozen=True)
class Option:
    """One key of a job file.

    ``section`` is ``""`` for the top level, else the ``[section]`` it belongs to;
    ``minimum`` bounds an integer from below, ``choices`` lists a string's values."""

    section: str
    key: str
    type: type
    default: object
    doc: str
    minimum: int | None = None
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


OPTIONS: tuple[Option, ...] = (
    # -- what to scan (top level)
    Option("", "store", str, REQUIRED, "cohort store made by `linkscan ingest` (relative to the job file), or s3://..."),
    Option("", "results", str, REQUIRED, "result store, or s3://...; resubmitting resumes it"),
    Option("", "kind", str, "trans", "trans | cis | tumor_normal | phenotype", choices=KINDS),
    Option("", "omics", str, REQUIRED, "the omics whose features are scanned, as named at ingest"),
    Option("", "omics_y", str, "", "partner omics: trans of two omics, or cis (required by cis)"),
    Option("", "cohorts", list, [], "[] = every cohort of the store that has the omics (and normals/phenotypes)"),
    Option("", "phenotypes", list, [], "phenotype scans: phenotypes to test; [] = all"),
    Option("", "mutations", str, "", "phenotype scans: a binary omics whose rows are tested as phenotypes"),
    Option("", "features", Names, [], "feature ids or gene symbols of omics to scan, or a file of one per line; "
           "[] = all"),
    Option("", "features_y", Names, [], "the same for the partner side (omics_y, or omics itself); [] = all"),
    Option("", "exclude_samples", Names, [], "sample ids to leave out, or a file of one per line"),
    Option("", "covariates", list, [], "phenotypes to adjust for: Spearman-based tests become partial Spearman "
           "(numbers ranked, labels one-hot)"),
    Option("", "paired", bool, False, "tumor_normal: Wilcoxon signed-rank test of the participants with both a "
           "tumor and a normal sample (same sample id)"),
    Option("", "where", str, "", "keep the samples whose phenotypes pass this filter, e.g. "
           "\"Case_excluded is missing or Case_excluded != 'Yes'\""),
    Option("", "keep", dict, "all", 'rows written: "all", {min_slogp = 6}, {max_log10q = -2} or {top = 100} '
           "per feature; q is BH over every test either way"),
    # -- the statistics (STATS.md; minimums are its defaults)
    Option("statistics", "min_n", int, 10, "Spearman: minimum overlapping samples", minimum=3),
    Option("statistics", "p_mode", str, "t",
           'Spearman p: "t" approximation; "r": R cor.test (AS 89; its p = 0 replaced by 2.2e-16)', choices=P_MODES),
    Option("statistics", "min_cohorts", int, 1, "minimum cohorts with a result for a meta p", minimum=1),
    Option("statistics", "min_tumor", int, 20, "tumor_normal: minimum tumor values", minimum=2),
    Option("statistics", "min_normal", int, 10, "tumor_normal: minimum normal values", minimum=2),
    Option("statistics", "min_pairs", int, 10, "paired tumor_normal: minimum tumor/normal pairs", minimum=1),
    Option("statistics", "min_samples", int, 20, "binary, ordinal, categorical phenotypes: minimum samples", minimum=3),
    Option("statistics", "min_group", int, 10, "binary phenotypes and mutations: minimum per group", minimum=2),
    Option("statistics", "min_events", int, 5, "survival: minimum events", minimum=1),
    Option("statistics", "cox_min_n", int, 10, "survival: minimum samples", minimum=3),
    Option("statistics", "cox_min_side", int, 10, "survival: minimum samples on each side of the feature's median",
           minimum=1),
    # -- how the work is cut
    Option("scan", "tile_size", int, 500, "features per block; a task holds cohorts x tile_size^2 results", minimum=2),
    # -- where it runs
    Option("cluster", "address", str, "", 'dask scheduler address; "" = a LocalCluster on this machine'),
    Option("cluster", "n_workers", int, 0, "LocalCluster worker processes; 0 = one per core", minimum=0),
    Option("cluster", "threads_per_worker", int, 1, "LocalCluster threads per worker", minimum=1),
    Option("cluster", "tls_ca_file", str, "",
           "TLS to a tls:// scheduler: the CA certificate (PEM) that signed the cluster's certificates"),
    Option("cluster", "tls_cert", str, "", "TLS: this client's certificate (PEM), signed by tls_ca_file's CA"),
    Option("cluster", "tls_key", str, "", "TLS: the private key (PEM) of tls_cert"),
)

#: key -> its Option (keys are unique across sections).
OPTION: dict[str, Option] = {o.key: o for o in OPTIONS}
#: The sections of a job file, top level first.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(o.section for o in OPTIONS))


def default(key: str):
    """The default of ``key`` (a fresh copy of a list default)."""
    value = OPTION[key].default
    return list(value) if isinstance(value, list) else value
