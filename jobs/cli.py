"""The `linkscan` command line.

Each subcommand imports what it needs when it runs, so that `linkscan query` starts
without loading Dask, xarray, Zarr or Numba.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from linkscan.defaults import KINDS, default
from linkscan.errors import LinkscanError


def _ingest(args) -> None:
    from linkscan.jobs.api import ingest

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
    # The API checks these too, in its parameters' words; here they are said in flags.
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
    if args.min_samples < 1:
        raise LinkscanError(f"--min-samples {args.min_samples}: give a number of samples >= 1")
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
    ingest(
        args.store, args.cohort, dict(tables), normal=dict(normals), samples=args.samples,
        tissue_column=args.tissue_column,
        tissue_values=dict(_assign(item, "--tissue-value", "Metastasis=exclude") for item in args.tissue_value or []),
        participant_column=args.participant_column, binary=args.binary or (),
        gene_maps=dict(_pair(item, "--gene-map") for item in args.gene_map or []), min_samples=args.min_samples,
        clinical=args.clinical or [], survival=args.survival or [],
        types=dict(_assign(item, "--type", "Stage=ORD") for item in args.type or []), types_file=args.types,
        levels=dict(_assign(item, "--levels", "Stage=Stage I,Stage II,Stage III") for item in args.levels or []),
        unknown=unknown, endpoints=endpoints or None, replace_phenotypes=args.replace_phenotypes, on_written=print,
    )


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
    from linkscan.jobs.api import submit

    print(submit(args.job, scheduler=args.scheduler, workers=args.workers, progress=not args.quiet))


def _bench(args) -> None:
    from linkscan.engine.bench import bench
    from linkscan.engine.plan import ScanSpec

    spec = ScanSpec(store=args.store, results="(not written)", kind=args.kind, omics=args.omics,
                    omics_y=args.omics_y, cohorts=tuple(args.cohorts or ()), tile_size=args.tile_size)
    print(bench(spec, tiles=args.tiles, max_workers=args.max_workers))


def _status(args) -> None:
    from linkscan.engine.status import job_status
    from linkscan.jobs.spec import read_job

    # a job file names its result store; anything else is the result store itself
    target = args.job
    if "://" not in target and not Path(target).is_dir():
        target = read_job(target).scan.results
    print(job_status(target))


def _query(args) -> None:
    from linkscan.jobs.api import lookups, query

    filters = {"kind": args.kind, "cohort": args.cohort, "top": args.top, "min_slogp": args.min_slogp,
               "max_fdr": args.max_fdr}
    if args.format == "table":
        found = lookups(args.gene, args.results, partner=args.phenotype, **filters)
        for kind, rows in found:
            if len(found) > 1:
                print(f"== {kind}")
            print_rows(rows, "table")
    else:
        print_rows(query(args.gene, args.results, phenotype=args.phenotype, **filters), args.format)


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


def _demo(args) -> None:
    from linkscan.jobs.demo.run import run_demo

    run_demo(args.dir, features=args.features, seed=args.seed, workers=args.workers, tile_size=args.tile_size)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linkscan",
        description="All-by-all association scans over proteogenomics cohorts.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate a synthetic pan-cancer set, ingest, scan, look a gene up")
    p.add_argument("--dir", default="linkscan-demo", help="working folder (default: %(default)s)")
    p.add_argument("--features", type=int, default=2000, help="proteins (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default: %(default)s)")
    p.add_argument("--workers", type=int, default=default("n_workers"), help="LocalCluster workers (default: one per core)")
    p.add_argument("--tile-size", type=int, default=default("tile_size"), help="features per block (default: %(default)s)")
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
    p.add_argument("--workers", type=int, help="LocalCluster workers (default: the job's [cluster] n_workers)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_submit)

    p = sub.add_parser("bench", help="throughput on a sample of a scan's tiles; projected time and size")
    p.add_argument("store", help="cohort store")
    p.add_argument("--omics", default="proteome", help="omics to scan (default: %(default)s)")
    p.add_argument("--kind", default=default("kind"), choices=KINDS, help="scan kind (default: %(default)s)")
    p.add_argument("--omics-y", default="", help="partner omics (trans of two omics, cis)")
    p.add_argument("--cohorts", nargs="+", help="cohorts (default: all with the omics)")
    p.add_argument("--tile-size", type=int, default=default("tile_size"), help="features per block (default: %(default)s)")
    p.add_argument("--tiles", type=int, default=3, help="tiles to time (default: %(default)s)")
    p.add_argument("--max-workers", type=int, default=8, help="project up to this many workers (default: %(default)s)")
    p.set_defaults(func=_bench)

    p = sub.add_parser("status", help="tiles done and left, pairs/s, ETA and failures of a job",
                       description="Reads the result store only (not the cohort store): works from any machine "
                                   "that sees the results.")
    p.add_argument("job", metavar="JOB_OR_RESULTS", help="job file (TOML), or its result store")
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
