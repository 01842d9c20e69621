"""The `linkscan` command line.

Each subcommand imports what it needs when it runs, so that `linkscan query` starts
without loading Dask, xarray, Zarr or Numba.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from linkscan.errors import LinkscanError


def _ingest(args) -> None:
    from linkscan.storage.inputs.ingest import ingest, ingest_phenotypes, ingest_tissues

    gene_maps = dict(_pair(item, "--gene-map") for item in args.gene_map or [])
    tables = [_pair(item, "TABLE") for item in args.tables]
    normals = [_pair(item, "--normal") for item in args.normal or []]
    for what, pairs in (("OMICS=TABLE", tables), ("--normal", normals)):
        names = [omics for omics, _ in pairs]
        for omics in names:
            if names.count(omics) > 1:
                raise LinkscanError(f"{what}: omics {omics!r} is given twice; give one table per omics and tissue")
    phenotype_options = {
        "--types": args.types, "--type": args.type, "--levels": args.levels, "--unknown": args.unknown,
        "--endpoint": args.endpoint, "--replace-phenotypes": args.replace_phenotypes,
    }
    if not (tables or normals or args.clinical or args.survival):
        raise LinkscanError("nothing to ingest: give OMICS=TABLE, --normal OMICS=TABLE, --clinical TABLE or --survival TABLE")
    if bool(args.samples) != bool(args.tissue_column):
        raise LinkscanError("--samples and --tissue-column go together: the sample table and its column giving each "
                            "sample's tissue, e.g. --samples samples.tsv --tissue-column tissue_type")
    if (args.tissue_value or args.participant_column) and not args.samples:
        raise LinkscanError("--tissue-value and --participant-column need --samples TABLE --tissue-column COL")
    if args.samples and not tables:
        raise LinkscanError("--samples splits OMICS=TABLE tables into tumor and normal; give at least one")
    if args.samples and normals:
        both = sorted({o for o, _ in tables} & {o for o, _ in normals})
        if both:
            raise LinkscanError(f"omics {both[0]!r} gets normal samples from --samples and from --normal; use one of them")
    used = [k for k, v in phenotype_options.items() if v]
    if used and not (args.clinical or args.survival):
        raise LinkscanError(f"{', '.join(used)} describe(s) phenotype tables; give --clinical TABLE and/or --survival TABLE")
    unknown_binary = sorted(set(args.binary or []) - {o for o, _ in tables + normals})
    if unknown_binary:
        raise LinkscanError(f"--binary {unknown_binary[0]}: no table of that omics is given (OMICS=TABLE or --normal)")
    tissue_values = dict(_assign(item, "--tissue-value", "Metastasis=exclude") for item in args.tissue_value or [])
    types = dict(_assign(item, "--type", "Stage=ORD") for item in args.type or [])
    levels = dict(_assign(item, "--levels", "Stage=Stage I,Stage II,Stage III") for item in args.levels or [])
    unknown: dict[str, str] = {}
    for item in args.unknown or []:
        name, labels = _assign(item, "--unknown", "Stage=pTX,pNX")
        unknown[name] = f"{unknown[name]},{labels}" if name in unknown else labels
    endpoints = {}
    for item in args.endpoint or []:
        name, columns = _assign(item, "--endpoint", "OS=overall_survival,overall_free_status")
        parts = [c.strip() for c in columns.split(",")]
        if len(parts) != 2 or not all(parts):
            raise LinkscanError(f"--endpoint {item!r}: write NAME=TIME_COLUMN,EVENT_COLUMN, e.g. OS=os_days,os_event")
        endpoints[name] = tuple(parts)

    binary = set(args.binary or [])
    for omics, table in tables:
        kind = "binary" if omics in binary else None
        if args.samples:
            for summary in ingest_tissues(args.store, args.cohort, omics, table, args.samples, args.tissue_column,
                                          tissue_values=tissue_values, participant_column=args.participant_column,
                                          gene_map=gene_maps.get(omics), min_samples=args.min_samples, kind=kind):
                print(summary)
        else:
            print(ingest(args.store, args.cohort, omics, table, gene_map=gene_maps.get(omics),
                         min_samples=args.min_samples, kind=kind))
    for omics, table in normals:
        print(ingest(args.store, args.cohort, omics, table, gene_map=gene_maps.get(omics),
                     min_samples=args.min_samples, tissue="normal", kind="binary" if omics in binary else None))
    if args.clinical or args.survival:
        for summary in ingest_phenotypes(args.store, args.cohort, clinical=args.clinical or [],
                                         survival=args.survival or [], types=types, types_file=args.types,
                                         levels=levels, unknown=unknown, endpoints=endpoints or None,
                                         replace=args.replace_phenotypes):
            print(summary)


def _pair(item: str, what: str) -> tuple[str, str]:
    omics, sep, path = item.partition("=")
    if not sep or not omics or not path:
        raise LinkscanError(f"{what} {item!r}: write OMICS=PATH, e.g. proteome=COAD_proteome.cct")
    return omics, path


class _IntermixedParser(argparse.ArgumentParser):
    """A subcommand parser that takes positionals between options (``ingest S C a=x
    --normal a=y b=z``), which argparse's default parsing refuses."""

    _inner = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def _assign(item: str, option: str, example: str) -> tuple[str, str]:
    """NAME=VALUE of an option (the name ends at the first '=')."""
    name, sep, value = item.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise LinkscanError(f"{option} {item!r}: write NAME=VALUE, e.g. {option} '{example}'")
    return name.strip(), value.strip()


def _submit(args) -> None:
    from linkscan.engine.runner import run_scan
    from linkscan.jobs.spec import read_job

    job = read_job(args.job)
    store = job.scan.store
    if "://" not in store and not Path(store).is_dir():
        from linkscan.errors import JobError

        raise JobError(
            f"{job.path}: store = {store}: there is no cohort store there (a relative path is read from the job "
            f"file's folder, {job.path.resolve().parent}); fix `store`, or make the store first with "
            f"linkscan ingest {store} COHORT OMICS=TABLE"
        )
    address = args.scheduler or job.cluster.address or None
    report = run_scan(job.scan, address=address,
                      n_workers=args.workers or job.cluster.n_workers or None,
                      threads_per_worker=job.cluster.threads_per_worker,
                      progress=not args.quiet, tls=job.cluster.tls)
    print(report)


def _bench(args) -> None:
    from linkscan.engine.bench import bench
    from linkscan.engine.plan import ScanSpec

    spec = ScanSpec(store=args.store, results="(not written)", kind=args.kind, omics=args.omics,
                    omics_y=args.omics_y, cohorts=tuple(args.cohorts or ()), tile_size=args.tile_size)
    print(bench(spec, tiles=args.tiles, max_workers=args.max_workers))


def _status(args) -> None:
    from linkscan.engine.status import job_status
    from linkscan.jobs.spec import read_job

    print(job_status(read_job(args.job).scan))


def _query(args) -> None:
    import pandas as pd

    from linkscan.storage.results.store import result_stores

    stores = result_stores(args.results, args.kind)
    found = []
    for store in stores:
        rows = store.lookup(args.gene, cohort=args.cohort, top=args.top, min_slogp=args.min_slogp,
                            max_fdr=args.max_fdr, partner=args.phenotype)
        kind = store.manifest().get("kind", "trans")
        if len(stores) > 1 and args.format == "table":
            print(f"== {kind}: {store.path}")
            print_rows(rows, "table")
        found.append(rows.assign(kind=kind) if len(stores) > 1 else rows)
    if len(stores) == 1 or args.format != "table":
        rows = pd.concat(found, ignore_index=True) if len(found) > 1 else found[0]
        if len(stores) > 1:
            rows = rows[["kind", *[c for c in rows.columns if c != "kind"]]]
        print_rows(rows, args.format)


def print_rows(rows, fmt: str, stream=None) -> None:
    """Print lookup rows as an aligned table, TSV or JSON records."""
    stream = stream or sys.stdout
    if fmt == "tsv":
        rows.to_csv(stream, sep="\t", index=False, na_rep="NA", float_format="%.6g")
    elif fmt == "json":
        stream.write(rows.to_json(orient="records", double_precision=6) + "\n")
    elif rows.empty:
        stream.write("no associations pass the filters\n")
    else:
        stream.write(rows.to_string(index=False, na_rep="NA", float_format=lambda v: f"{v:.4g}") + "\n")


#: The demo's scans: name -> job file fields.
DEMO_SCANS = {
    "trans": {"kind": "trans", "omics": "proteome"},
    "tumor_normal": {"kind": "tumor_normal", "omics": "proteome"},
    "phenotype": {"kind": "phenotype", "omics": "proteome", "mutations": "mutation"},
    "cis": {"kind": "cis", "omics": "rna", "omics_y": "proteome"},
}


def _demo(args) -> None:
    import shutil

    from linkscan.engine.runner import open_client, run_scan
    from linkscan.jobs.spec import read_job, write_job
    from linkscan.jobs.demo import synthetic
    from linkscan.storage.inputs.ingest import ingest, ingest_phenotypes
    from linkscan.storage.results.store import result_stores

    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    print(f"[1/4] generating {len(synthetic.CPTAC_COHORTS)} CPTAC-shaped cohorts x {args.features} "
          f"proteins (seed {args.seed}): tumor and normal proteomes, RNA, mutations, clinical, survival")
    tables = synthetic.make_gene_page_set(n_features=args.features, seed=args.seed)
    files = synthetic.write_gene_page_tables(tables, root / "tables")
    print(f"[2/4] ingesting {root / 'tables'} into the cohort store {root / 'store'}")
    store = root / "store"
    for cohort, paths in files.items():
        ingest(store, cohort, "proteome", paths["proteome"])
        ingest(store, cohort, "proteome", paths["proteome_normal"], tissue="normal")
        ingest(store, cohort, "rna", paths["rna"])
        ingest(store, cohort, "mutation", paths["mutation"])
        ingest_phenotypes(store, cohort, clinical=paths["clinical"], types_file=paths["clinical_types"],
                          levels={"stage": synthetic.STAGE_LEVELS},
                          unknown={"stage": synthetic.STAGE_UNKNOWN}, survival=paths["survival"])
        print(f"    {cohort}: proteome (tumor, normal), rna, mutation, clinical and survival")
    # The demo owns its folder: new inputs make earlier results stale, so start over.
    shutil.rmtree(root / "results", ignore_errors=True)
    print(f"[3/4] scans on a LocalCluster, one job file each in {root / 'jobs'}")
    (root / "jobs").mkdir(exist_ok=True)
    with open_client(n_workers=args.workers or None) as client:
        for name, fields in DEMO_SCANS.items():
            job = write_job(root / "jobs" / f"{name}.toml", store="../store", results=f"../results/{name}",
                            tile_size=args.tile_size, n_workers=args.workers, **fields)
            print(f"    linkscan submit {job}")
            print("    ", run_scan(read_job(job).scan, client=client))
    print(f"[4/4] linkscan query {synthetic.DEMO_GENE} --results {root / 'results'} --top 5")
    for store in result_stores(root / "results"):
        rows = store.lookup(synthetic.DEMO_GENE, top=5)
        print(f"== {store.manifest()['kind']}")
        sides = [c for c in ("feature", "omics", "partner", "partner_omics") if c in rows.columns]
        stats = [c for c in rows.columns if c.endswith("_stat")][:3]
        print_rows(rows[[*sides, "test", "meta_slogp", "meta_log10q", "n_cohorts", *stats]], "table")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linkscan",
        description="All-by-all association scans over proteogenomics cohorts.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate a synthetic pan-cancer set, ingest, scan, look a gene up")
    p.add_argument("--dir", default="linkscan-demo", help="working folder (default: %(default)s)")
    p.add_argument("--features", type=int, default=2000, help="proteins (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default: %(default)s)")
    p.add_argument("--workers", type=int, default=0, help="LocalCluster workers (default: one per core)")
    p.add_argument("--tile-size", type=int, default=500, help="features per block (default: %(default)s)")
    p.set_defaults(func=_demo)

    p = sub.add_parser(
        "ingest", help="add a cohort's tables to a cohort store",
        description="Add a cohort's omics (tumor and normal), mutation, clinical and survival tables to a cohort "
                    "store. Each table is written atomically, in the order omics, normals, phenotypes, and one "
                    "summary line is printed per table written.")
    p.__class__ = _IntermixedParser
    p.add_argument("store", help="cohort store directory (created if missing)")
    p.add_argument("cohort", help="cohort name, e.g. COAD")
    p.add_argument("tables", nargs="*", metavar="OMICS=TABLE",
                   help="tumor samples (or tumor and normal with --samples), e.g. proteome=COAD_proteome.cct "
                        "(.cct/.cbt/.tsv/.csv, .gz, .parquet); a .cbt table is binary (0/1)")
    p.add_argument("--normal", action="append", metavar="OMICS=TABLE",
                   help="normal samples of an omics, stored beside its tumor Dataset")
    p.add_argument("--samples", metavar="TABLE",
                   help="sample table (first column: the sample ids of OMICS=TABLE) that splits each table into "
                        "tumor and normal")
    p.add_argument("--tissue-column", metavar="COL", help="column of --samples giving each sample's tissue")
    p.add_argument("--tissue-value", action="append", metavar="VALUE=TISSUE",
                   help="read a tissue value as tumor, normal or exclude (built in: Tumor -> tumor, any value "
                        "with the word normal -> normal)")
    p.add_argument("--participant-column", metavar="COL",
                   help="column of --samples with the ids to store the samples under (e.g. participant_id)")
    p.add_argument("--binary", action="append", metavar="OMICS",
                   help="that omics holds 0/1 calls (mutations) in a .tsv/.csv table")
    p.add_argument("--gene-map", action="append", metavar="OMICS=TSV",
                   help="two-column TSV feature -> gene symbol for that omics")
    p.add_argument("--min-samples", type=int, default=10,
                   help="refuse omics Datasets with fewer samples (default: %(default)s)")
    p.add_argument("--clinical", action="append", metavar="TABLE",
                   help="clinical table: LinkedOmics .tsi (type row CON/BIN/ORD/CAT) or a TSV/CSV, one row per sample")
    p.add_argument("--types", action="append", metavar="TSV",
                   help="column types: first column the column name, then type (CON/BIN/ORD/CAT/SKIP); optional "
                        "'levels' and 'unknown' columns")
    p.add_argument("--type", action="append", metavar="NAME=TYPE", help="one column's type, e.g. Stage=ORD")
    p.add_argument("--levels", action="append", metavar="NAME=L1,L2,...",
                   help="a column's labels in order, e.g. 'Stage=Stage I,Stage II,Stage III,Stage IV'")
    p.add_argument("--unknown", action="append", metavar="NAME=L1,L2",
                   help="labels that mean missing in a column ('*' = every column), e.g. 'Stage=pTX,pNX'")
    p.add_argument("--survival", action="append", metavar="TABLE",
                   help="survival table: <ENDPOINT>_days and <ENDPOINT>_event columns (OS_days, OS_event, ...)")
    p.add_argument("--endpoint", action="append", metavar="NAME=TIME,EVENT",
                   help="survival endpoint from named columns, e.g. OS=overall_survival,overall_free_status")
    p.add_argument("--replace-phenotypes", action="store_true",
                   help="drop the phenotypes stored before (default: merge, same names replaced)")
    p.set_defaults(func=_ingest)

    p = sub.add_parser("submit", help="run or resume the scan of a job file")
    p.add_argument("job", help="job file (TOML)")
    p.add_argument("--scheduler", help="dask scheduler address (default: the job's, else a LocalCluster)")
    p.add_argument("--workers", type=int, default=0, help="LocalCluster workers (default: the job's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_submit)

    p = sub.add_parser("bench", help="throughput on a sample of a scan's tiles; projected time and size")
    p.add_argument("store", help="cohort store")
    p.add_argument("--omics", default="proteome", help="omics to scan (default: %(default)s)")
    p.add_argument("--kind", default="trans", help="scan kind (default: %(default)s)")
    p.add_argument("--omics-y", default="", help="partner omics (trans of two omics, cis)")
    p.add_argument("--cohorts", nargs="+", help="cohorts (default: all with the omics)")
    p.add_argument("--tile-size", type=int, default=500, help="features per block (default: %(default)s)")
    p.add_argument("--tiles", type=int, default=3, help="tiles to time (default: %(default)s)")
    p.add_argument("--max-workers", type=int, default=8, help="project up to this many workers (default: %(default)s)")
    p.set_defaults(func=_bench)

    p = sub.add_parser("status", help="tiles done and left, pairs/s, ETA and failures of a job")
    p.add_argument("job", help="job file (TOML)")
    p.set_defaults(func=_status)

    p = sub.add_parser("query", help="one gene's associations from a result store")
    p.add_argument("gene", help="feature id or gene symbol (case-insensitive)")
    p.add_argument("--results", required=True,
                   help="a result store, or a folder of them (one per scan kind)")
    p.add_argument("--kind", help="only the scans of this kind (trans, cis, ...)")
    p.add_argument("--phenotype", help="only this partner (a phenotype, or a partner feature id)")
    p.add_argument("--cohort", help="one cohort's results instead of the meta p")
    p.add_argument("--top", type=int, help="strongest K partners")
    p.add_argument("--min-slogp", type=float, help="keep |slogp| >= X (6 = the reference's p < 1e-6)")
    p.add_argument("--max-fdr", type=float, help="keep Benjamini-Hochberg q <= X (e.g. 0.05)")
    p.add_argument("--format", choices=("table", "tsv", "json"), default="table")
    p.set_defaults(func=_query)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except LinkscanError as exc:
        print(f"linkscan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("linkscan: interrupted; finished tiles are kept, resubmit the job to continue",
              file=sys.stderr)
        return 130
    except Exception as exc:
        from linkscan.storage.location import object_store_error

        problem = object_store_error(exc)
        if problem is None:
            raise
        print(f"linkscan: error: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
