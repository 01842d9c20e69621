"""The `linkscan` command line.

Each subcommand imports what it needs when it runs, so that `linkscan query` starts
without loading Dask, xarray, Zarr or Numba.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from storage.errors import LinkscanError


def _ingest(args) -> None:
    from storage.ingest import ingest

    gene_maps = dict(_pair(item, "--gene-map") for item in args.gene_map or [])
    for item in args.tables:
        omics, table = _pair(item, "TABLE")
        summary = ingest(args.store, args.cohort, omics, table, gene_map=gene_maps.get(omics),
                         min_samples=args.min_samples)
        print(summary)


def _pair(item: str, what: str) -> tuple[str, str]:
    omics, sep, path = item.partition("=")
    if not sep or not omics or not path:
        raise LinkscanError(f"{what} {item!r}: write OMICS=PATH, e.g. proteome=COAD_proteome.cct")
    return omics, path


def _submit(args) -> None:
    from engine.runner import run_scan
    from jobs.spec import read_job

    job = read_job(args.job)
    address = args.scheduler or job.cluster.address or None
    report = run_scan(job.scan, address=address,
                      n_workers=args.workers or job.cluster.n_workers or None,
                      threads_per_worker=job.cluster.threads_per_worker,
                      progress=not args.quiet)
    print(report)


def _query(args) -> None:
    from storage.results import ResultStore

    rows = ResultStore(args.results).lookup(args.gene, cohort=args.cohort, top=args.top,
                                            min_slogp=args.min_slogp)
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


def _demo(args) -> None:
    import shutil

    from engine.runner import run_scan
    from jobs.spec import read_job, write_job
    from storage import synthetic
    from storage.ingest import ingest
    from storage.results import ResultStore

    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    print(f"[1/4] generating {len(synthetic.CPTAC_COHORTS)} CPTAC-shaped cohorts x "
          f"{args.features} proteins (seed {args.seed}) in {root / 'tables'}")
    tables = synthetic.make_pan_cancer(n_features=args.features, seed=args.seed)
    paths = synthetic.write_tables(tables, root / "tables")
    print(f"[2/4] ingesting into the cohort store {root / 'store'}")
    for cohort, path in paths.items():
        print("   ", ingest(root / "store", cohort, "proteome", path))
    # The demo owns its folder: new inputs make earlier results stale, so start over.
    shutil.rmtree(root / "results", ignore_errors=True)
    job = write_job(root / "demo.toml", store="store", results="results", omics="proteome",
                    tile_size=args.tile_size, n_workers=args.workers)
    print(f"[3/4] trans scan on a LocalCluster: linkscan submit {job}")
    spec = read_job(job).scan
    print("   ", run_scan(spec, n_workers=args.workers or None))
    print(f"[4/4] linkscan query {synthetic.DEMO_GENE} --results {root / 'results'} --top 10")
    rows = ResultStore(spec.results).lookup(synthetic.DEMO_GENE, top=10)
    stats = [c for c in rows.columns if c.endswith("_stat")][:4]
    print_rows(rows[["feature", "partner", "meta_slogp", "n_cohorts", *stats]], "table")


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

    p = sub.add_parser("ingest", help="add a cohort's tables to a cohort store")
    p.add_argument("store", help="cohort store directory (created if missing)")
    p.add_argument("cohort", help="cohort name, e.g. COAD")
    p.add_argument("tables", nargs="+", metavar="OMICS=TABLE",
                   help="e.g. proteome=COAD_proteome.cct (.cct/.tsv/.csv, .gz, .parquet)")
    p.add_argument("--gene-map", action="append", metavar="OMICS=TSV",
                   help="two-column TSV feature -> gene symbol for that omics")
    p.add_argument("--min-samples", type=int, default=10, help="refuse smaller cohorts (default: %(default)s)")
    p.set_defaults(func=_ingest)

    p = sub.add_parser("submit", help="run or resume the scan of a job file")
    p.add_argument("job", help="job file (TOML)")
    p.add_argument("--scheduler", help="dask scheduler address (default: the job's, else a LocalCluster)")
    p.add_argument("--workers", type=int, default=0, help="LocalCluster workers (default: the job's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_submit)

    p = sub.add_parser("query", help="one gene's associations from a result store")
    p.add_argument("gene", help="feature id or gene symbol (case-insensitive)")
    p.add_argument("--results", required=True, help="result store directory")
    p.add_argument("--cohort", help="one cohort's results instead of the meta p")
    p.add_argument("--top", type=int, help="strongest K partners")
    p.add_argument("--min-slogp", type=float, help="keep |slogp| >= X (6 = the reference's p < 1e-6)")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
