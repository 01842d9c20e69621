"""The gene page in a real browser (issue 11, items 3 and 5): headless Chromium, driven
by playwright, against ``linkscan serve`` on 127.0.0.1, and the offline report from a
``file://`` URL with the network off.

Every page load collects console errors, page errors and the URL of every request;
requests anywhere but the service (or the report's file) are aborted and fail the test.
Plots are checked by what plotly drew in SVG (boxes, points, the heatmap's image), the
trans table's rows against the JSON API's answer for the same sort and page.

Chromium is Debian's (/usr/bin/chromium, which .ci/run installs); playwright's own
browser downloads are never used. Without it these tests skip, saying so.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"headless Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run installs it)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")

from linkscan.jobs.demo import STAGE_LEVELS  # noqa: E402
# the demo (made once per session) and the service, as module fixtures of this module too
from test_web import GENE, WAIT, demo, service  # noqa: E402,F401

#: Chromium as the tests run it: headless, nothing of its own on the network.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Milliseconds any one wait in the browser may take.
TIMEOUT = WAIT * 1000
#: The plots of the demo gene's page, by element id.
PLOTS = ("tumor-normal-box", "phenotype-manhattan", "phenotype-values", "cis-scatter", "trans-heatmap",
         "trans-scatter")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A Chromium with a fresh profile (user-data dir)."""
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), args=ARGS,
            headless=True, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(TIMEOUT)
        yield context
        context.close()


class Watched:
    """A page whose console errors, page errors and requests are recorded; requests
    that leave ``allowed`` (URL prefixes) are aborted and recorded as ``foreign``."""

    def __init__(self, context, allowed: tuple[str, ...]) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

        def route(route):
            url = route.request.url
            self.requests.append(url)
            if url.startswith(allowed) or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort()

        self.page.route("**/*", route)

    def open(self, url: str) -> None:
        """Load ``url`` and wait until the page's script says every section is drawn."""
        self.page.goto(url)
        self.page.locator("body[data-ready]").wait_for(state="attached")
        assert self.page.locator("body").get_attribute("data-ready") == "1", self.errors

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.foreign == [], self.foreign

    def partners(self, section: str) -> list[str]:
        return self.page.locator(f"#{section} table.kb tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.partner)")


@pytest.fixture
def watched(browser, service):
    opened = Watched(browser, (service.url + "/",))
    yield opened
    opened.page.close()


def _api(service, **params) -> dict:
    import httpx

    response = httpx.get(service.url + "/api/associations", params={"gene": GENE, "kind": "trans", **params},
                         timeout=WAIT)
    assert response.status_code == 200, response.text
    return response.json()


def _drawn(page, plot: str, selector: str) -> int:
    """How many ``selector`` elements plotly drew in the SVG of the plot ``plot``."""
    return page.locator(f"#{plot} svg.main-svg {selector}").count()


def _click(page, target: str, then: str) -> None:
    """Click ``target`` and wait until an element matches ``then`` (the page's state after it)."""
    page.locator(target).click()
    page.locator(then).wait_for(state="attached")


def _wait_loaded(page, section: str, row: dict, kind: str) -> None:
    """Wait until the values panel of ``section`` plots ``row``."""
    key = json.dumps([kind, row["feature"], row.get("omics") or "", row["partner"], row.get("partner_omics") or ""],
                     separators=(",", ":"))
    page.locator(f"#{section} .values-panel[data-loaded='{key}']").wait_for(state="attached")


# ------------------------------------------------------------------ the service's page


def test_gene_page__every_section_renders_without_errors_or_outside_requests(watched, service):
    watched.open(f"{service.url}/gene/{GENE}")
    page = watched.page
    assert page.locator("h1#gene-name").inner_text() == GENE
    assert page.locator("nav#sections-nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))") == [
        "#tumor-normal", "#phenotypes", "#cis", "#trans"]
    for plot in PLOTS:
        assert _drawn(page, plot, "g") > 0, plot
    assert _drawn(page, "tumor-normal-box", "g.trace.boxes path.box") >= 20  # tumor and normal, 10 cohorts
    assert _drawn(page, "phenotype-manhattan", ".scatterlayer path.point") >= 50
    assert _drawn(page, "trans-heatmap", "g.hm image") == 1
    assert _drawn(page, "cis-scatter", ".scatterlayer path.point") > 20
    first = _api(service, limit=10)
    assert watched.partners("trans") == [row["partner"] for row in first["rows"]]
    assert page.locator("#trans .page-info").inner_text().startswith(f"rows 1\u201310 of {first['total']}")
    assert page.locator("#tumor-normal table.kb tbody tr").count() == 1
    assert all(url.startswith(service.url) for url in watched.requests)
    watched.check_clean()


def test_trans_table__sorting_and_paging_show_the_rows_the_api_gives(watched, service):
    watched.open(f"{service.url}/gene/{GENE}")
    page = watched.page
    _click(page, "#trans th[data-sort='BRCA'] button", "#trans[data-sort='BRCA'][data-offset='0']")
    by_brca = [row["partner"] for row in _api(service, sort="BRCA")["rows"]]
    assert watched.partners("trans") == by_brca
    assert by_brca != [row["partner"] for row in _api(service)["rows"]]  # the sort changed the rows
    assert page.locator("#trans th.sorted").get_attribute("data-sort") == "BRCA"
    _click(page, "#trans button.page-next", "#trans[data-sort='BRCA'][data-offset='10']")
    assert watched.partners("trans") == [row["partner"] for row in _api(service, sort="BRCA", offset=10)["rows"]]
    _click(page, "#trans button.page-previous", "#trans[data-sort='BRCA'][data-offset='0']")
    assert watched.partners("trans") == by_brca
    assert page.locator("#trans button.page-previous").is_disabled()
    _click(page, "#trans th[data-sort='meta'] button", "#trans[data-sort='meta']")
    assert watched.partners("trans") == [row["partner"] for row in _api(service)["rows"]]
    watched.check_clean()


def test_trans_row__a_click_opens_the_scatter_plot_of_the_pair(watched, service):
    watched.open(f"{service.url}/gene/{GENE}")
    page = watched.page
    row = _api(service, limit=10)["rows"][3]
    page.locator(f"#trans table.kb tbody tr[data-partner='{row['partner']}']").click()
    _wait_loaded(page, "trans", row, "trans")
    assert row["partner"] in page.locator("#trans .values-panel .panel-title").inner_text()
    cohort = page.locator("#trans .values-panel select.cohort-menu").input_value()
    assert _drawn(page, "trans-scatter", ".scatterlayer path.point") == row[f"{cohort}_n"]
    other = "OV" if cohort != "OV" else "LUAD"
    page.locator("#trans .values-panel select.cohort-menu").select_option(other)
    page.locator(f"#trans .values-panel[data-cohort='{other}']").wait_for(state="attached")
    assert _drawn(page, "trans-scatter", ".scatterlayer path.point") == row[f"{other}_n"]
    watched.check_clean()


def test_phenotype_row__a_click_plots_the_values_by_group(watched, service):
    watched.open(f"{service.url}/gene/{GENE}")
    page = watched.page
    _click(page, "#phenotypes table.kb tbody tr[data-partner='stage']",
           "#phenotypes .values-panel[data-loaded*='stage']")
    assert "stage" in page.locator("#phenotypes .values-panel .panel-title").inner_text()
    assert _drawn(page, "phenotype-values", "g.trace.boxes") == len(STAGE_LEVELS)  # a trace per level
    watched.check_clean()


def test_search_box__suggests_genes_and_opens_their_page(watched, service):
    watched.open(f"{service.url}/")
    page = watched.page
    page.locator("#search-input").press_sequentially("mki")
    page.locator("#search-genes option[value='MKI67']").wait_for(state="attached")
    page.locator("#search-input").fill("mki67")
    page.locator("#search-input").press("Enter")
    page.wait_for_url(f"{service.url}/gene/mki67")
    page.locator("body[data-ready='1']").wait_for(state="attached")
    assert page.locator("#trans table.kb tbody tr").count() == 10
    watched.check_clean()


def test_unknown_gene__page_says_so_with_close_matches(watched, service):
    watched.page.goto(f"{service.url}/gene/MKI76")
    watched.page.locator("body[data-ready]").wait_for(state="attached")
    assert "close matches: MKI67" in watched.page.locator("main .error").inner_text()
    assert watched.errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]


# ------------------------------------------------------------------ the offline report


def test_report__opens_offline_from_a_file_url_and_plots_from_what_it_carries(browser, demo, tmp_path):
    path = tmp_path / "report.html"
    out = subprocess.run([sys.executable, "-m", "linkscan.jobs.cli", "report", GENE, "--results",
                          str(demo / "results"), "-o", str(path), "--top", "30"],
                         capture_output=True, text=True, timeout=WAIT * 3)
    assert out.returncode == 0, out.stderr
    browser.set_offline(True)
    watched = Watched(browser, (path.as_uri(),))
    try:
        watched.open(path.as_uri())
        page = watched.page
        for plot in PLOTS:
            assert _drawn(page, plot, "g") > 0, plot
        assert _drawn(page, "trans-heatmap", "g.hm image") == 1
        assert page.locator("#search").is_hidden()
        data = json.loads(re.search(r'id="linkscan-data">(.*?)</script>', path.read_text(), re.S).group(1))
        rows = next(s for s in data["sections"] if s["kind"] == "trans")["rows"]
        assert watched.partners("trans") == [row["partner"] for row in rows[:10]]
        # sorted within the report's rows as the service sorts: by |slogp| of the cohort
        _click(page, "#trans th[data-sort='LUAD'] button", "#trans[data-sort='LUAD']")
        by_luad = sorted(rows, key=lambda r: -abs(r["LUAD_slogp"]) if r["LUAD_slogp"] is not None else 1)
        assert watched.partners("trans") == [row["partner"] for row in by_luad[:10]]
        row = by_luad[5]
        page.locator(f"#trans table.kb tbody tr[data-partner='{row['partner']}']").click()
        _wait_loaded(page, "trans", row, "trans")
        assert _drawn(page, "trans-scatter", ".scatterlayer path.point") == row["LUAD_n"]
        assert all(url.startswith("file://") for url in watched.requests)
        watched.check_clean()
    finally:
        watched.page.close()
        browser.set_offline(False)


def test_report__shows_the_enrichment_table_it_is_given(browser, demo, tmp_path):
    """The enrichment hook: a table of linkscan.jobs.enrichment's columns becomes the
    page's last section, a row per set and a bar per NES."""
    import pandas as pd

    from linkscan.jobs.enrichment import COLUMNS
    from linkscan.jobs.web.report import report

    table = pd.DataFrame({"set": ["PROLIFERATION", "INTERFERON", "HOUSEKEEPING"], "description": ["", "", ""],
                          "size": [40, 25, 60], "es": [0.81, -0.42, 0.12], "nes": [2.9, -1.6, 0.4],
                          "pvalue": [0.001, 0.02, 0.7], "qvalue": [0.003, 0.03, 0.7], "lead_size": [18, 7, 20],
                          "leading_edge": ["BIRC5;BUB1;MCM3", "STAT1;IRF1", "ACTB"]}, columns=list(COLUMNS))
    path = report(GENE, demo / "results", tmp_path / "report.html", top=10, enrichment=table)
    watched = Watched(browser, (path.as_uri(),))
    try:
        watched.open(path.as_uri())
        page = watched.page
        assert page.locator("nav#sections-nav a").last.get_attribute("href") == "#enrichment"
        assert page.locator("#enrichment table.kb tbody tr").count() == 3
        assert _drawn(page, "enrichment-nes", "g.trace.bars g.point path") == 3
        watched.check_clean()
    finally:
        watched.page.close()


def test_report__an_enrichment_that_cannot_be_made_says_why(browser, demo, tmp_path):
    from linkscan.jobs.web.report import report

    path = report("OS", demo / "results", tmp_path / "os.html", gmt=demo / "gene_sets.gmt")
    watched = Watched(browser, (path.as_uri(),))
    try:
        watched.open(path.as_uri())
        note = watched.page.locator("#enrichment #enrichment-note")
        assert note.inner_text().startswith("No enrichment for OS: ")
        assert watched.page.locator("#enrichment table").count() == 0
        watched.check_clean()
    finally:
        watched.page.close()
