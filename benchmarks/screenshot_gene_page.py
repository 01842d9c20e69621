"""The screenshot of the gene page that the README shows (docs/gene-page.png).

    .venv/bin/python benchmarks/screenshot_gene_page.py [--dir linkscan-demo] [--gene MKI67] [-o docs/gene-page.png]

Serves the demo's results (``linkscan demo`` is run into DIR first when it has none)
with ``linkscan serve`` on 127.0.0.1, opens the gene page in Debian's headless Chromium
(/usr/bin/chromium, driven by playwright, a fresh profile) and saves the whole page
once every section is drawn.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

from bench_web import start_service

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="linkscan-demo", help="the demo's folder (made when it has no results)")
    parser.add_argument("--gene", default="MKI67")
    parser.add_argument("-o", "--output", default="docs/gene-page.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = Path(args.dir) / "results"
    if not (results / "trans" / "complete.json").is_file():
        from linkscan.jobs.demo.run import run_demo

        run_demo(args.dir, out=io.StringIO())
    proc, url = start_service(results)
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
            browser = playwright.chromium.launch_persistent_context(
                profile, executable_path="/usr/bin/chromium", args=ARGS, headless=True,
                viewport={"width": 1400, "height": 900})
            page = browser.new_page()
            page.goto(f"{url}/gene/{args.gene}", timeout=60_000)
            page.locator("body[data-ready='1']").wait_for(state="attached", timeout=60_000)
            page.screenshot(path=args.output, full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
