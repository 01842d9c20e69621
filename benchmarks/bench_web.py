"""Latency of the web service's gene endpoint against the Python lookup, in one run.

    .venv/bin/python benchmarks/bench_web.py [--dir linkscan-demo] [--features 2000] [--gene MKI67]
        [--clients 8] [--requests 2000] [--max-seconds 300]

Uses the demo's trans store (``DIR/results/trans``; ``linkscan demo`` is run into DIR
first when it has none, with ``--features`` proteins), then:

1. **Python lookup**: the rows ``/api/associations`` answers from, computed in this
   process by :func:`linkscan.jobs.api.lookups` (the lookup ``linkscan.query`` makes:
   read, sort), warm, once per request of the mix below; latency p50/p99.
2. **Service, one client**: ``linkscan serve`` started as users start it (uvicorn, one
   process, on 127.0.0.1, a free port), warmed up, then the same mix one request at a
   time over one keep-alive connection.
3. **Service, concurrent**: ``--clients`` threads, each with its own connection, share
   ``--requests`` requests (stopping early after ``--max-seconds``); every answer is
   checked (status 200, the total of the Python lookup).

The mix: the gene's associations sorted by the meta p and by each cohort in turn,
pages of 10 at offsets 0, 10, ..., 90, the knowledge base's table included (``show=p``),
as the gene page asks them. Client and server share the machine's cores: on a 2-core VM
the concurrent figures hold the client's own work too.

Output: a markdown report on stdout.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import platform
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def figures(values: list[float]) -> str:
    return f"{percentile(values, 50):.2f} / {percentile(values, 99):.2f} ms"


def start_service(results: Path) -> tuple[subprocess.Popen, str]:
    """``linkscan serve RESULTS --port 0``: the process and its URL, once it listens."""
    proc = subprocess.Popen([sys.executable, "-m", "linkscan.jobs.cli", "serve", str(results), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
    found = re.search(r"http://127\.0\.0\.1:\d+", lines.get(timeout=120))
    if not found:
        proc.terminate()
        raise SystemExit("linkscan serve did not print its address")
    return proc, found.group(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="linkscan-demo", help="the demo's folder (made when it has no results)")
    parser.add_argument("--features", type=int, default=2000, help="proteins of a demo made here")
    parser.add_argument("--gene", default="MKI67")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stop the concurrent load after this")
    args = parser.parse_args()

    from linkscan.jobs.api import lookups
    from linkscan.storage.results.store import ResultStore

    trans = Path(args.dir) / "results" / "trans"
    if not (trans / "complete.json").is_file():
        from linkscan.jobs.demo.run import run_demo

        run_demo(args.dir, features=args.features, out=io.StringIO())
    cohorts = ResultStore(str(trans)).manifest()["cohorts"]
    mix = [{"gene": args.gene, "kind": "trans", "sort": sort, "offset": offset, "limit": 10, "show": "p"}
           for sort in ["meta", *cohorts] for offset in range(0, 100, 10)]

    # 1. the Python lookup, warm
    totals = {}
    for ask in mix[:20]:
        lookups(args.gene, trans, sort=ask["sort"])
    python = []
    for ask in itertools.islice(itertools.cycle(mix), max(len(mix), 500)):
        start = time.perf_counter()
        ((_, rows),) = lookups(args.gene, trans, sort=ask["sort"])
        python.append(time.perf_counter() - start)
        totals[ask["sort"]] = len(rows)

    proc, url = start_service(trans)
    try:
        # 2. one client, one keep-alive connection
        with httpx.Client(base_url=url, timeout=60) as client:
            for ask in mix:
                client.get("/api/associations", params=ask).raise_for_status()
            single = []
            for ask in itertools.islice(itertools.cycle(mix), 500):
                start = time.perf_counter()
                client.get("/api/associations", params=ask).raise_for_status()
                single.append(time.perf_counter() - start)

        # 3. concurrent clients sharing the requests
        asks = list(itertools.islice(itertools.cycle(mix), args.requests))
        deadline = time.perf_counter() + args.max_seconds
        local = threading.local()
        wrong = []

        def ask(params: dict) -> float | None:
            if time.perf_counter() > deadline:
                return None
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=url, timeout=60)
            start = time.perf_counter()
            response = local.client.get("/api/associations", params=params)
            took = time.perf_counter() - start
            if response.status_code != 200 or response.json()["total"] != totals[params["sort"]]:
                wrong.append((params, response.status_code))
            return took

        began = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            loaded = [t for t in pool.map(ask, asks) if t is not None]
        wall = time.perf_counter() - began
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    if wrong:
        raise SystemExit(f"{len(wrong)} wrong answers, e.g. {wrong[0]}")

    load = os.getloadavg()
    print(f"trans store {trans}: {len(cohorts)} cohorts, gene {args.gene} with {totals['meta']:,} partners; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {load[0]:.2f} after the run\n")
    print("| what | requests | p50 / p99 |")
    print("| --- | ---: | ---: |")
    print(f"| Python lookup (`linkscan.jobs.api.lookups`), warm, in process | {len(python)} | {figures(python)} |")
    print(f"| `GET /api/associations`, 1 client | {len(single)} | {figures(single)} |")
    print(f"| `GET /api/associations`, {args.clients} concurrent clients | {len(loaded)} | {figures(loaded)} |")
    print(f"\nConcurrent: {len(loaded) / wall:.0f} requests/s over {wall:.1f} s "
          f"({len(loaded)} of {args.requests} requests; every answer checked). Python lookups alone: "
          f"{1 / statistics.median(python):.0f}/s on one core (median).")


if __name__ == "__main__":
    main()
