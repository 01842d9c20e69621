"""The `linkscan` command line.

Each subcommand imports what it needs when it runs, so that `linkscan query` starts
without loading Dask, xarray, Zarr or Numba.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
from pathlib import Path

from linkscan.defaults import KINDS, OPTION, default
from linkscan.errors import LinkscanError
from linkscan.jobs.tables import SHOW, format_table, kb_table


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
        "--endpoint": args.endpoint, "--rename": args.rename, "--replace-phenotypes": args.replace_phenotypes,
    }
    if args.infer_types or args.write_types:
        _infer_types(args, tables, normals, phenotype_options)
        return
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
    rename: dict[str, str] = {}
    for item in args.rename or []:
        old, new = _assign(item, "--rename", "tumor_Stage-Pathological=Stage")
        if old in rename:
            raise LinkscanError(f"--rename {old!r} is given twice (to {rename[old]!r} and {new!r}); keep one")
        rename[old] = new
    ingest(
        args.store, args.cohort, dict(tables), normal=dict(normals), samples=args.samples,
        tissue_column=args.tissue_column,
        tissue_values=dict(_assign(item, "--tissue-value", "Metastasis=exclude") for item in args.tissue_value or []),
        participant_column=args.participant_column, binary=args.binary or (),
        gene_maps=dict(_pair(item, "--gene-map") for item in args.gene_map or []), min_samples=args.min_samples,
        clinical=args.clinical or [], survival=args.survival or [],
        types=dict(_assign(item, "--type", "Stage=ORD") for item in args.type or []), types_file=args.types,
        levels=dict(_assign(item, "--levels", "Stage=Stage I,Stage II,Stage III") for item in args.levels or []),
        unknown=unknown, endpoints=endpoints or None, rename=rename, replace_phenotypes=args.replace_phenotypes,
        on_written=print,
    )


def _infer_types(args, tables, normals, phenotype_options) -> None:
    """``ingest --infer-types``: print a type per clinical column and write a types file."""
    from linkscan.storage.inputs.clinical import read_clinical
    from linkscan.storage.inputs.infer import format_proposal, infer_types, write_types

    if not args.infer_types:
        raise LinkscanError("--write-types FILE names the file of --infer-types; add --infer-types")
    given = {"OMICS=TABLE": tables, "--normal": normals, "--samples": args.samples,
             "--tissue-column": args.tissue_column, "--tissue-value": args.tissue_value,
             "--participant-column": args.participant_column, "--binary": args.binary, "--gene-map": args.gene_map,
             "--survival": args.survival, **phenotype_options}
    others = [flag for flag, value in given.items() if value]
    if others or not args.clinical or len(args.clinical) > 1:
        what = f"not {', '.join(others)}" if others else "exactly one"
        raise LinkscanError(f"--infer-types ingests nothing and reads one --clinical TABLE ({what}); propose the types "
                            "first, then ingest with --types FILE")
    path = args.clinical[0]
    if "://" in path and not args.write_types:
        raise LinkscanError(f"--infer-types: {path} is not a local file, so its types file cannot go beside it; "
                            "name one with --write-types FILE")
    out = args.write_types or str(Path(path).with_name(Path(path).name.split(".")[0] + ".types.tsv"))
    proposals = infer_types(read_clinical(path))
    for proposal in proposals:
        print(format_proposal(proposal))
    write_types(out, proposals)
    print(f"{len(proposals)} column type(s) written to {out}; check and edit it, then ingest with --types {out} "
          "(nothing was ingested)")


def _pair(item: str, what: str) -> tuple[str, str]:
    omics, sep, path = item.partition("=")
    if not sep or not omics or not path:
        raise LinkscanError(f"{what} {item!r}: write OMICS=PATH, e.g. proteome=COAD_proteome.cct")
    return omics, path


class _Parser(argparse.ArgumentParser):
    """argparse with linkscan's error form: one ``linkscan: error:`` line, exit 2."""

    def error(self, message: str):
        self.exit(2, f"linkscan: error: {message} (`{self.prog} --help` lists the options)\n")


def _whole(low: int):
    """An argparse type: a whole number >= ``low``."""
    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: give a whole number >= {low}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value}: give a whole number >= {low}")
        return value
    return check


def _number(text: str, *, low: float, high: float = math.inf, low_open: bool = False, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    inside = (value > low if low_open else value >= low) and value <= high
    if not (math.isfinite(value) and inside):
        raise argparse.ArgumentTypeError(f"{text}: give {what}")
    return value


def _fdr(text: str) -> float:
    """An argparse type: a false discovery rate, 0 < q <= 1."""
    return _number(text, low=0.0, high=1.0, low_open=True, what="a number between 0 and 1 (e.g. 0.05)")


def _slogp(text: str) -> float:
    """An argparse type: a -log10 p threshold, finite and >= 0."""
    return _number(text, low=0.0, what="a finite number >= 0 (6 = p < 1e-6)")


class _IntermixedParser(_Parser):
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


#: `linkscan bench` flags that describe a scan: for a cohort store only (a job file says its scan).
_BENCH_SCAN_FLAGS = {"omics": "--omics", "kind": "--kind", "omics_y": "--omics-y", "cohorts": "--cohorts",
                     "tile_size": "--tile-size"}


def _bench(args) -> None:
    from linkscan.engine.bench import bench
    from linkscan.engine.plan import ScanSpec
    from linkscan.jobs.spec import read_job

    target = args.job
    if "://" in target or Path(target).is_dir():  # a cohort store: the scan from the flags
        spec = ScanSpec(store=target, results="(not written)", kind=args.kind or default("kind"),
                        omics=args.omics or "proteome", omics_y=args.omics_y or "",
                        cohorts=tuple(args.cohorts or ()), tile_size=args.tile_size or default("tile_size"))
    else:  # a job file: exactly the scan `linkscan submit` runs
        given = [flag for name, flag in _BENCH_SCAN_FLAGS.items() if getattr(args, name) is not None]
        if given:
            raise LinkscanError(f"{', '.join(given)}: the job file {target} says its scan; remove the flag(s), "
                                "or edit the job (they are for `linkscan bench STORE`)")
        job = read_job(target)
        spec = job.scan
        if "://" not in spec.store and not Path(spec.store).is_dir():
            raise LinkscanError(f"{job.path}: store = {spec.store}: there is no cohort store there (a relative "
                                f"path is read from the job file's folder, {job.path.resolve().parent}); fix `store`")
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

    filters = {"kind": args.kind, "cohort": args.cohort, "sort": args.cohort or args.sort, "top": args.top,
               "min_slogp": args.min_slogp, "max_fdr": args.max_fdr}
    if args.format == "table":
        found = lookups(args.gene, args.results, partner=args.phenotype, **filters)
        for kind, rows in found:
            if len(found) > 1:
                print(f"== {kind}")
            print_rows(rows, "table", show=args.show)
    else:
        print_rows(query(args.gene, args.results, phenotype=args.phenotype, **filters), args.format)


def print_rows(rows, fmt: str, stream=None, show: str = "slogp") -> None:
    """Print lookup rows as the knowledge base's table (:mod:`linkscan.jobs.tables`,
    cohort cells holding ``show``), or every column as TSV or JSON records."""
    stream = stream or sys.stdout
    if fmt == "tsv":
        rows.to_csv(stream, sep="\t", index=False, na_rep="NA", float_format="%.6g")
    elif fmt == "json":
        stream.write(rows.to_json(orient="records", double_precision=6) + "\n")
    else:
        stream.write(format_table(kb_table(rows, show), show) + "\n")


def _gsea(args) -> None:
    from linkscan.jobs.enrichment import preranked, ranking, write_rnk
    from linkscan.storage.inputs.gmt import read_gmt

    if args.max_size < args.min_size:
        raise LinkscanError(f"--max-size {args.max_size} is below --min-size {args.min_size}; give a range of set "
                            "sizes, e.g. --min-size 15 --max-size 500")
    sets = read_gmt(args.gmt)  # a bad file fails before the lookup
    ranked = ranking(args.gene, args.results, kind=args.kind, cohort=args.cohort)
    if args.rnk:
        write_rnk(ranked, args.rnk)
    table = preranked(ranked, sets, permutations=args.permutations, seed=args.seed, min_size=args.min_size,
                      max_size=args.max_size)
    if args.format != "table":
        print_rows(table, args.format)
        return
    print(f"{args.gene}: {len(ranked)} partner genes ranked by {ranked.name} ({args.kind} scan); {len(table)} of "
          f"{len(sets)} gene sets with {args.min_size}-{args.max_size} of them; {args.permutations} permutations, "
          f"seed {args.seed}")
    edges = table["leading_edge"].str.split(";")
    shown = table[["set", "size", "es", "nes", "pvalue", "qvalue", "lead_size"]].assign(
        leading_edge=[";".join(genes[:5]) + (";..." if len(genes) > 5 else "") for genes in edges])
    print(shown.to_string(index=False, na_rep="NA", float_format=lambda v: f"{v:.3g}"))


def _demo(args) -> None:
    from linkscan.jobs.demo.run import run_demo

    run_demo(args.dir, features=args.features, seed=args.seed, workers=args.workers, tile_size=args.tile_size)


def _serve(args) -> None:
    from linkscan.jobs.web import require_extra

    require_extra("linkscan serve")
    from linkscan.jobs.web.app import serve

    serve(args.results, store=args.store, host=args.host, port=args.port, gmt=args.gmt)


def _report(args) -> None:
    from linkscan.jobs.web import require_extra

    require_extra("linkscan report", ("plotly",))
    from linkscan.jobs.web.report import DEFAULT_TOP, report

    written = report(args.gene, args.results, args.output, store=args.store, top=args.top or DEFAULT_TOP,
                     gmt=args.gmt)
    print(f"wrote {written}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="linkscan",
        description="All-by-all association scans over proteogenomics cohorts.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("demo", help="generate a synthetic pan-cancer set, ingest, scan, look a gene up")
    p.add_argument("--dir", default="linkscan-demo", help="working folder (default: %(default)s)")
    p.add_argument("--features", type=_whole(100), default=2000, help="proteins (default: %(default)s)")
    p.add_argument("--seed", type=_whole(0), default=0, help="generator seed (default: %(default)s)")
    p.add_argument("--workers", type=_whole(OPTION["n_workers"].minimum), default=default("n_workers"), help="LocalCluster workers (default: one per core)")
    p.add_argument("--tile-size", type=_whole(OPTION["tile_size"].minimum), default=default("tile_size"), help="features per block (default: %(default)s)")
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
    p.add_argument("--min-samples", type=_whole(1), default=10,
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
    p.add_argument("--infer-types", action="store_true",
                   help="ingest nothing: propose a type per column of the --clinical table, print the proposal and "
                        "write it as a --types file to check, edit and pass back")
    p.add_argument("--write-types", metavar="FILE",
                   help="with --infer-types: the types file to write (default: TABLE.types.tsv beside the table, "
                        "TABLE without its suffixes); an existing file is not overwritten")
    p.add_argument("--survival", action="append", metavar="TABLE",
                   help="survival table: <ENDPOINT>_days and <ENDPOINT>_event columns (OS_days, OS_event, ...)")
    p.add_argument("--endpoint", action="append", metavar="NAME=TIME,EVENT",
                   help="survival endpoint from named columns, e.g. OS=overall_survival,overall_free_status")
    p.add_argument("--rename", action="append", metavar="OLD=NEW",
                   help="store a clinical column or survival endpoint under another name, so that one phenotype "
                        "meets across cohorts, e.g. 'tumor_Stage-Pathological=Stage'; --type/--levels/--unknown "
                        "take the old or the new name")
    p.add_argument("--replace-phenotypes", action="store_true",
                   help="drop the phenotypes stored before (default: merge, same names replaced)")
    p.set_defaults(func=_ingest)

    p = sub.add_parser("submit", help="run or resume the scan of a job file")
    p.add_argument("job", help="job file (TOML)")
    p.add_argument("--scheduler", help="dask scheduler address (default: the job's, else a LocalCluster)")
    p.add_argument("--workers", type=_whole(OPTION["n_workers"].minimum),
                   help="LocalCluster workers (default: the job's [cluster] n_workers)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_submit)

    p = sub.add_parser("bench", help="throughput on a sample of a job's tiles; projected pair tests, time and size",
                       description="JOB.toml: plans exactly the scan `linkscan submit` runs. A cohort store "
                                   "instead: the scan of the flags below (every other option at its default).")
    p.add_argument("job", metavar="JOB_OR_STORE", help="job file (TOML), or a cohort store with the flags below")
    p.add_argument("--omics", help="STORE only: omics to scan (default: proteome)")
    p.add_argument("--kind", choices=KINDS, help=f"STORE only: scan kind (default: {default('kind')})")
    p.add_argument("--omics-y", help="STORE only: partner omics (trans of two omics, cis)")
    p.add_argument("--cohorts", nargs="+", help="STORE only: cohorts (default: all with the omics)")
    p.add_argument("--tile-size", type=_whole(OPTION["tile_size"].minimum),
                   help=f"STORE only: features per block (default: {default('tile_size')})")
    p.add_argument("--tiles", type=_whole(1), default=3, help="tiles to time (default: %(default)s)")
    p.add_argument("--max-workers", type=_whole(1), default=8, help="project up to this many workers (default: %(default)s)")
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
    p.add_argument("--sort", default="meta", metavar="meta|COHORT",
                   help="rank by the meta p or by one cohort's p, all cohorts shown (default: %(default)s)")
    p.add_argument("--show", choices=SHOW, default="slogp",
                   help="what the table's cohort cells hold: signed -log10 p (default), signed p, the effect, "
                        "the BH q, or samples used")
    p.add_argument("--top", type=_whole(1), help="the strongest K associations of the answer")
    p.add_argument("--min-slogp", type=_slogp, help="keep |slogp| >= X (6 = the reference's p < 1e-6)")
    p.add_argument("--max-fdr", type=_fdr, help="keep Benjamini-Hochberg q <= X (e.g. 0.05)")
    p.add_argument("--format", choices=("table", "tsv", "json"), default="table")
    p.set_defaults(func=_query)

    p = sub.add_parser(
        "gsea", help="gene set enrichment (preranked GSEA) of a gene's partners",
        description="Ranks the gene's partners in one scan by signed -log10 p (the meta p, or one cohort's) and "
                    "runs preranked GSEA on that ranking against the gene sets of a GMT file: weighted "
                    "Kolmogorov-Smirnov ES, permutation p, NES, Benjamini-Hochberg q over the sets, leading edge.")
    p.add_argument("gene", help="feature id or gene symbol (case-insensitive)")
    p.add_argument("--results", required=True, help="a result store, or a folder of them (one per scan kind)")
    p.add_argument("--gmt", required=True, metavar="SETS.gmt",
                   help="gene sets: NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2... per line")
    p.add_argument("--kind", default="trans", help="the scan whose partners are ranked: trans or cis (default: "
                                                   "%(default)s)")
    p.add_argument("--cohort", help="rank by one cohort's p instead of the meta p")
    p.add_argument("--permutations", type=_whole(1), default=1000,
                   help="random gene sets per set size (default: %(default)s)")
    p.add_argument("--seed", type=_whole(0), default=0, help="seed of the random gene sets (default: %(default)s)")
    p.add_argument("--min-size", type=_whole(1), default=15,
                   help="test sets with at least this many ranked genes (default: %(default)s)")
    p.add_argument("--max-size", type=_whole(1), default=500,
                   help="test sets with at most this many ranked genes (default: %(default)s)")
    p.add_argument("--rnk", metavar="OUT.rnk",
                   help="also write the ranking as a .rnk file (gene TAB score, no header) for WebGestalt or GSEA")
    p.add_argument("--format", choices=("table", "tsv", "json"), default="table",
                   help="table: the main columns and the first leading-edge genes; tsv, json: every column")
    p.set_defaults(func=_gsea)

    p = sub.add_parser(
        "serve", help="the JSON API and gene pages over result stores, on loopback",
        description="Serves the scans of RESULTS over HTTP (FastAPI under uvicorn; pip install \"linkscan[serve]\"): "
                    "/gene/GENE is the gene page, /api/associations, /api/values, /api/genes and /api/scans the JSON "
                    "endpoints. Binds to 127.0.0.1 unless told otherwise: the service has no authentication.")
    p.add_argument("results", help="a result store, or a folder of them (one per scan kind)")
    p.add_argument("--store", help="the cohort store for per-sample values (default: the one each scan was made of)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=_whole(0), default=8000, help="port (default: %(default)s; 0 takes a free one)")
    p.add_argument("--gmt", metavar="SETS.gmt", help="gene sets: gene pages end with the enrichment of the gene's "
                                                      "trans partners (as linkscan gsea)")
    p.set_defaults(func=_serve)

    p = sub.add_parser(
        "report", help="one gene's page as a self-contained offline HTML file",
        description="Writes the gene page of GENE (tables and interactive plots of every scan in RESULTS) as one "
                    "HTML file that opens offline: plotly, the script and the per-sample values are inside.")
    p.add_argument("gene", help="feature id or gene symbol (case-insensitive)")
    p.add_argument("--results", required=True, help="a result store, or a folder of them (one per scan kind)")
    p.add_argument("--store", help="the cohort store for per-sample values (default: the one each scan was made of)")
    p.add_argument("-o", "--output", required=True, metavar="PAGE.html", help="the HTML file to write")
    p.add_argument("--gmt", metavar="SETS.gmt", help="gene sets: the page ends with the enrichment of the gene's "
                                                      "trans partners (as linkscan gsea)")
    p.add_argument("--top", type=_whole(1),
                   help="trans partners in the report, strongest by the meta p (default: 50)")
    p.set_defaults(func=_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The command line says what went wrong in one line of its own: the event loop's
    # report of the client's tasks an interrupt cancelled ("Task exception was never
    # retrieved ... AllExit") would only bury it.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    try:
        args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:  # `linkscan query ... | head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return 128 + signal.SIGPIPE  # as a Unix tool that SIGPIPE ended
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
