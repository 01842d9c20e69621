"""The web service (issue 11, item 2): ``linkscan serve`` started as users start it, under
a real uvicorn on 127.0.0.1, driven over HTTP.

Its JSON is the Python lookup's (``linkscan.query`` with the same parameters, from
``offset`` on), its per-sample values are the cohort store's, every bad parameter is a
400 or 404 naming the parameter (never a 500, never a traceback), and the gene page
loads nothing from outside the service. ``linkscan report`` writes one self-contained
file (the browser tests open it offline).

The demo set (300 proteins, 10 cohorts, every scan kind) is made once per session
(:func:`demo_results`) and shared with tests/scenarios/test_browser.py, which imports
the fixtures ``demo`` and ``service`` from here.
"""

from __future__ import annotations

import io
import json
import math
import queue
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

httpx = pytest.importorskip("httpx", reason="the web tests need the test extra (pip install -e '.[test]')")
pytest.importorskip("fastapi", reason='the service needs the serve extra (pip install "linkscan[serve]")')

from linkscan.jobs.api import query  # noqa: E402
from linkscan.jobs.tables import kb_table  # noqa: E402
from linkscan.storage.inputs.cohort_store import CohortStore  # noqa: E402

GENE = "MKI67"
#: Seconds any one wait of these tests may take: the service's start, one request.
WAIT = 60


def demo_results(tmp_path_factory) -> Path:
    """The demo's folder (``results/`` of four scans, ``store/``), made once per test
    session: a marker file says it is complete, so a second test module reuses it."""
    folder = tmp_path_factory.getbasetemp() / "web-demo"
    if not (folder / "made").is_file():
        from linkscan.jobs.demo.run import run_demo

        run_demo(folder, features=300, workers=2, tile_size=150, out=io.StringIO())
        (folder / "made").write_text("ok")
    return folder


class Service:
    """``linkscan serve RESULTS --port 0`` in a subprocess: ``url`` once it listens;
    stopped (and waited for) on exit."""

    def __init__(self, results: Path, log: Path, *args: str) -> None:
        self._log = open(log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "linkscan.jobs.cli", "serve", str(results), "--port", "0",
                                      *args], stdout=subprocess.PIPE, stderr=self._log, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=WAIT)
        except queue.Empty:
            self.close()
            raise AssertionError(f"linkscan serve printed no address in {WAIT} s; log: {log.read_text()}") from None
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert found, (first, log.read_text())
        self.url = f"http://127.0.0.1:{found.group(1)}"

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)
        self.proc.stdout.close()
        self._log.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return demo_results(tmp_path_factory)


@pytest.fixture(scope="module")
def service(demo, tmp_path_factory):
    with Service(demo / "results", tmp_path_factory.mktemp("serve") / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def client(service):
    with httpx.Client(base_url=service.url, timeout=WAIT) as http:
        yield http


def _get(client, path: str, **params) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _same(answer_rows: list[dict], frame: pd.DataFrame) -> None:
    """JSON records equal a query's rows exactly: floats as the float64 of the stored
    float32, counts as ints, NaN and NA as null, every column in order."""
    assert len(answer_rows) == len(frame)
    for got, (_, want) in zip(answer_rows, frame.iterrows()):
        assert list(got) == list(frame.columns)
        for column, value in want.items():
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                assert got[column] is None, (column, got[column])
            elif isinstance(value, (float, np.floating)):
                assert got[column] == float(value), (column, got[column], value)
            elif isinstance(value, (int, np.integer)):
                assert got[column] == int(value), column
            else:
                assert got[column] == str(value), column


# ------------------------------------------------------------------ scans and genes


def test_scans__lists_the_four_demo_scans_with_their_cohort_store(client, demo):
    answer = _get(client, "/api/scans")
    assert [s["kind"] for s in answer["scans"]] == ["tumor_normal", "phenotype", "cis", "trans"]
    for scan in answer["scans"]:
        assert scan["complete"] and scan["rows"] > 0 and len(scan["cohorts"]) == 10
        assert Path(scan["store"]).resolve() == (demo / "store").resolve()


def test_genes__prefix_search_any_case_sorted_and_limited(client):
    assert _get(client, "/api/genes", prefix="mki")["genes"] == [GENE]
    everything = _get(client, "/api/genes", limit=1000)
    assert everything["total"] == len(everything["genes"]) >= 250
    assert everything["genes"] == sorted(everything["genes"], key=lambda g: (g.lower(), g))
    some = _get(client, "/api/genes", prefix="M", limit=3)
    assert len(some["genes"]) == 3 and some["total"] >= 3
    assert all(g.lower().startswith("m") for g in some["genes"])
    assert _get(client, "/api/genes", prefix="no-such-prefix")["genes"] == []


# ------------------------------------------------------------------ associations = linkscan.query


@pytest.mark.parametrize("kind, params", [
    ("trans", {}),
    ("trans", {"sort": "BRCA", "offset": 10, "limit": 25}),
    ("trans", {"sort": "ucec", "offset": 290, "limit": 50}),  # a cohort in any case; the last, short page
    ("trans", {"min_slogp": 6, "max_fdr": 0.05, "limit": 1000}),
    ("trans", {"offset": 5000}),  # past the end: no rows, the total still
    ("tumor_normal", {}),
    ("phenotype", {"limit": 100}),
    ("phenotype", {"phenotype": "stage", "sort": "OV"}),
    ("cis", {"max_fdr": 0.5}),
])
def test_associations__equal_the_python_query_from_offset_on(client, demo, kind, params):
    answer = _get(client, "/api/associations", gene=GENE.lower(), kind=kind, **params)
    want = query(GENE.lower(), demo / "results", kind=kind, sort=params.get("sort", "meta"),
                 min_slogp=params.get("min_slogp"), max_fdr=params.get("max_fdr"), phenotype=params.get("phenotype"))
    offset, limit = params.get("offset", 0), params.get("limit", 10)
    assert answer["total"] == len(want) and answer["offset"] == offset and answer["limit"] == limit
    assert answer["sort"].lower() == params.get("sort", "meta").lower()
    _same(answer["rows"], want.iloc[offset:offset + limit])
    if kind == "trans" and not params:
        assert answer["rows"][0]["partner"] in {"BIRC5", "BUB1", "MCM3", "PCNA", "MCM2", "PLK1", "TOP2A", "CCNB1"}


def test_associations__show_adds_the_knowledge_base_table(client, demo):
    answer = _get(client, "/api/associations", gene=GENE, kind="trans", show="p", sort="GBM", limit=5)
    want = kb_table(query(GENE, demo / "results", kind="trans", sort="GBM").head(5), "p")
    assert answer["table"]["columns"] == list(want.columns) == ["partner", "meta", *answer["cohorts"]]
    assert answer["table"]["data"] == [[None if isinstance(v, float) and math.isnan(v) else v for v in row]
                                       for row in want.itertuples(index=False)]


def test_associations__answer_alike_under_concurrent_load(client, demo):
    """8 clients at once, each answer the Python lookup's (no state shared across requests)."""
    asks = [(sort, offset) for sort in ("meta", "BRCA", "LUAD", "OV") for offset in (0, 10, 200)] * 4
    want = {sort: query(GENE, demo / "results", kind="trans", sort=sort) for sort, _ in asks}

    def ask(item):
        sort, offset = item
        return item, _get(client, "/api/associations", gene=GENE, kind="trans", sort=sort, offset=offset)

    with ThreadPoolExecutor(8) as pool:
        for (sort, offset), answer in pool.map(ask, asks, timeout=WAIT):
            _same(answer["rows"], want[sort].iloc[offset:offset + 10])


# ------------------------------------------------------------------ per-sample values


def _store_row(store: CohortStore, cohort: str, omics: str, feature: str, tissue: str = "tumor") -> pd.Series:
    ds = store.open(cohort, omics, tissue)
    values = ds["values"].sel(feature=feature).compute(scheduler="synchronous").to_numpy().astype(np.float64)
    row = pd.Series(values, index=ds["sample"].to_numpy().astype(str))
    return row[np.isfinite(row)]


def every_cohort(client) -> list[str]:
    return _get(client, "/api/scans")["scans"][0]["cohorts"]


def test_values__a_trans_pair_is_the_cohort_stores_samples_with_both_values(client, demo):
    top = _get(client, "/api/associations", gene=GENE, kind="trans", limit=1)["rows"][0]
    answer = _get(client, "/api/values", kind="trans", feature=top["feature"], partner=top["partner"], cohort="BRCA")
    assert answer["plot"] == "scatter" and [c["cohort"] for c in answer["cohorts"]] == ["BRCA"]
    (brca,) = answer["cohorts"]
    store = CohortStore(demo / "store")
    x, y = _store_row(store, "BRCA", "proteome", GENE), _store_row(store, "BRCA", "proteome", top["partner"])
    both = x.index.intersection(y.index, sort=False)
    assert brca["samples"] == both.tolist() and brca["n"] == len(both) == top["BRCA_n"]
    np.testing.assert_allclose(brca["x"], x[both], rtol=1e-5)
    np.testing.assert_allclose(brca["y"], y[both], rtol=1e-5)
    every = _get(client, "/api/values", kind="trans", feature=top["feature"], partner=top["partner"])
    assert [c["cohort"] for c in every["cohorts"]] == every_cohort(client)


def test_values__tumor_vs_normal_are_the_two_tissues_per_cohort(client, demo):
    answer = _get(client, "/api/values", kind="tumor_normal", feature=GENE, partner="tumor_vs_normal")
    assert answer["plot"] == "groups" and answer["labels"] == ["tumor", "normal"]
    store = CohortStore(demo / "store")
    for entry in answer["cohorts"]:
        tumor, normal = (_store_row(store, entry["cohort"], "proteome", GENE, t) for t in ("tumor", "normal"))
        assert [g["samples"] for g in entry["groups"]] == [tumor.index.tolist(), normal.index.tolist()]
        np.testing.assert_allclose(entry["groups"][1]["values"], normal, rtol=1e-5)
    assert len(answer["cohorts"]) == 10


@pytest.mark.parametrize("partner, plot", [("stage", "groups"), ("age", "scatter"), ("OS", "survival"),
                                           ("TP53", "groups")])
def test_values__phenotypes_by_group_continuous_survival_and_mutation(client, demo, partner, plot):
    rows = _get(client, "/api/associations", gene=GENE, kind="phenotype", phenotype=partner)["rows"]
    (row,) = [r for r in rows if r["partner"] == partner]
    answer = _get(client, "/api/values", kind="phenotype", feature=row["feature"], partner=partner,
                  partner_omics=row["partner_omics"], cohort="OV")
    assert answer["plot"] == plot
    (ov,) = answer["cohorts"]
    phenotypes = CohortStore(demo / "store").phenotypes("OV")
    if partner == "TP53":  # a mutation: wild type and mutated samples
        assert answer["labels"] == ["wild type", "mutated"]
    elif plot == "groups":
        assert answer["labels"] == list(phenotypes[partner].levels)
    if plot == "groups":
        assert sum(len(g["values"]) for g in ov["groups"]) == ov["n"]
        assert min(len(g["values"]) for g in ov["groups"]) > 0
    else:
        assert len(ov["x"]) == len(ov["y"]) == len(ov["samples"]) == ov["n"] > 20
    if plot == "survival":
        assert set(ov["event"]) == {0, 1}
    # the test's sample count is the plot's (survival: Cox uses the samples with a time)
    assert ov["n"] == row["OV_n"]


def test_values__a_cis_pair_names_its_omics(client):
    ambiguous = client.get("/api/values", params={"kind": "cis", "feature": GENE, "partner": GENE})
    assert ambiguous.status_code == 400 and ambiguous.json()["parameter"] == "omics"
    answer = _get(client, "/api/values", kind="cis", feature=GENE, omics="rna", partner=GENE,
                  partner_omics="proteome")
    assert answer["plot"] == "scatter" and answer["x_label"] == f"{GENE} (rna)" and len(answer["cohorts"]) == 10


# ------------------------------------------------------------------ bad parameters


@pytest.mark.parametrize("path, params, status, parameter", [
    ("/api/associations", {"gene": "MKI76", "kind": "trans"}, 404, "gene"),
    ("/api/associations", {"kind": "trans"}, 400, "gene"),
    ("/api/associations", {"gene": "", "kind": "trans"}, 400, "gene"),
    ("/api/associations", {"gene": "   ", "kind": "trans"}, 400, "gene"),
    ("/api/associations", {"gene": "../etc/passwd", "kind": "trans"}, 404, "gene"),
    ("/api/associations", {"gene": "/etc/passwd", "kind": "trans"}, 404, "gene"),
    ("/api/associations", {"gene": "..\\..\\windows", "kind": "trans"}, 404, "gene"),
    ("/api/associations", {"gene": "MKI67\x00", "kind": "trans"}, 404, "gene"),
    ("/api/associations", {"gene": "A" * 5000, "kind": "trans"}, 400, "gene"),
    ("/api/associations", {"gene": "stage", "kind": "trans"}, 404, "gene"),  # a phenotype: not in trans
    ("/api/associations", {"gene": GENE}, 400, "kind"),
    ("/api/associations", {"gene": GENE, "kind": "nope"}, 404, "kind"),
    ("/api/associations", {"gene": GENE, "kind": "../trans"}, 404, "kind"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "offset": "-1"}, 400, "offset"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "offset": "ten"}, 400, "offset"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "offset": "1e3"}, 400, "offset"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "limit": "0"}, 400, "limit"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "limit": "1001"}, 400, "limit"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "limit": "9" * 40}, 400, "limit"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "limit": "2.5"}, 400, "limit"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "sort": "NOPE"}, 400, "sort"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "sort": "meta_slogp"}, 400, "sort"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "max_fdr": "2"}, 400, "max_fdr"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "max_fdr": "0"}, 400, "max_fdr"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "max_fdr": "nan"}, 400, "max_fdr"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "max_fdr": "-inf"}, 400, "max_fdr"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "max_fdr": "0.05x"}, 400, "max_fdr"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "min_slogp": "-1"}, 400, "min_slogp"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "min_slogp": "inf"}, 400, "min_slogp"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "min_slogp": "NaN"}, 400, "min_slogp"),
    ("/api/associations", {"gene": GENE, "kind": "phenotype", "phenotype": "nope"}, 404, "phenotype"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "show": "everything"}, 400, "show"),
    ("/api/associations", {"gene": GENE, "kind": "trans", "order": "asc"}, 400, "order"),
    ("/api/associations", [("gene", GENE), ("gene", "TP53"), ("kind", "trans")], 400, "gene"),
    ("/api/values", {"kind": "trans", "partner": "BIRC5"}, 400, "feature"),
    ("/api/values", {"kind": "trans", "feature": "../../store/BRCA", "partner": "BIRC5"}, 404, "feature"),
    ("/api/values", {"kind": "trans", "feature": GENE, "partner": "NOPE"}, 404, "partner"),
    ("/api/values", {"kind": "trans", "feature": GENE, "partner": "BIRC5", "cohort": "../BRCA"}, 404, "cohort"),
    ("/api/values", {"kind": "trans", "feature": GENE, "partner": "BIRC5", "omics": "rna"}, 404, "feature"),
    ("/api/values", {"feature": GENE, "partner": "BIRC5"}, 400, "kind"),
    ("/api/values", {"kind": "gsea", "feature": GENE, "partner": "BIRC5"}, 404, "kind"),
    ("/api/genes", {"limit": "0"}, 400, "limit"),
    ("/api/genes", {"prefix": "x" * 300}, 400, "prefix"),
    ("/api/scans", {"kind": "trans"}, 400, "kind"),
])
def test_bad_parameters__are_400_or_404_json_naming_the_parameter(client, path, params, status, parameter):
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["parameter"] == parameter and parameter in body["error"]
    assert "Traceback" not in response.text and len(response.text) < 2000


@pytest.mark.parametrize("method, path", [
    ("GET", "/static/..%2F..%2Fjobs%2Fweb%2Fapp.py"), ("GET", "/static/page.html"), ("GET", "/nowhere"),
    ("POST", "/api/associations"), ("DELETE", "/api/scans"),
])
def test_unknown_routes_and_files__are_json_errors(client, method, path):
    response = client.request(method, path)
    assert response.status_code in (404, 405) and response.json()["error"]


# ------------------------------------------------------------------ the gene page over HTTP


def test_gene_page__html_that_loads_scripts_from_the_service_only(client):
    response = client.get(f"/gene/{GENE}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith(("/static/", "#", "data:")) for s in sources), sources
    data = json.loads(re.search(r'id="linkscan-data">(.*?)</script>', html, re.S).group(1))
    assert [s["id"] for s in data["sections"]] == ["tumor-normal", "phenotypes", "cis", "trans"]
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000 and b"https://cdn" not in plotly.content[:2000]
    for name in ("page.js", "page.css"):
        assert client.get(f"/static/{name}").status_code == 200


@pytest.mark.parametrize("gene", ["MKI76", "..%2F..%2Fetc%2Fpasswd", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"])
def test_gene_page__unknown_gene_is_a_404_page_holding_the_name_as_data(client, gene):
    response = client.get(f"/gene/{gene}")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in response.text  # the name is JSON inside the data element, never markup


# ------------------------------------------------------------------ command lines


def _linkscan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linkscan.jobs.cli", *args], capture_output=True, text=True,
                          timeout=WAIT * 3)


def _one_error(out: subprocess.CompletedProcess, *words: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("linkscan: error: "), out.stderr
    assert all(word in lines[0] for word in words), lines[0]


def test_serve__a_port_in_use_or_no_store_is_one_line_error(service, demo, tmp_path):
    port = service.url.rsplit(":", 1)[1]
    _one_error(_linkscan("serve", str(demo / "results"), "--port", port), f"127.0.0.1:{port}", "--port")
    _one_error(_linkscan("serve", str(tmp_path)), "not a linkscan result store")
    _one_error(_linkscan("serve", str(demo / "results"), "--port", "-1"), "--port")


def test_serve__without_the_serve_extra_names_the_pip_install(demo):
    hidden = ("import sys; sys.modules['fastapi'] = None; from linkscan.jobs.cli import main; "
              f"sys.exit(main(['serve', {str(demo / 'results')!r}]))")
    out = subprocess.run([sys.executable, "-c", hidden], capture_output=True, text=True, timeout=WAIT)
    _one_error(out, "fastapi", 'pip install "linkscan[serve]"')


def test_report__one_self_contained_file_with_the_values_of_its_rows(demo, tmp_path):
    out = _linkscan("report", GENE, "--results", str(demo / "results"), "-o", str(tmp_path / "page.html"),
                    "--top", "20")
    assert out.returncode == 0, out.stderr
    html = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(?!data:)', html)  # nothing to load
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    data = json.loads(re.search(r'id="linkscan-data">(.*?)</script>', html, re.S).group(1))
    trans = next(s for s in data["sections"] if s["kind"] == "trans")
    assert len(trans["rows"]) == 20 and trans["total"] == len(query(GENE, demo / "results", kind="trans"))
    shown = [(s["kind"], r["partner"]) for s in data["sections"] for r in s["rows"]]
    carried = [(json.loads(k)[0], json.loads(k)[3]) for k in data["values"]]
    assert set(shown) <= set(carried)
    _one_error(_linkscan("report", "MKI76", "--results", str(demo / "results"), "-o", str(tmp_path / "x.html")),
               "MKI76", "close matches: MKI67")
    _one_error(_linkscan("report", GENE, "--results", str(demo / "results"), "-o", str(tmp_path / "x.html"),
                         "--store", str(tmp_path / "moved")), "holds no cohort", "--store")
    assert not (tmp_path / "x.html").exists()


def _enrichment(data: dict) -> dict | None:
    return next((s for s in data["sections"] if s.get("id") == "enrichment"), None)


def test_gmt__the_service_and_the_report_end_with_the_genes_enrichment(demo, tmp_path):
    """`--gmt`: the page's last section is `linkscan gsea`'s table for the gene (the demo's
    planted proliferation module first), in the service and in the report."""
    from linkscan.jobs.enrichment import gsea

    gmt = demo / "gene_sets.gmt"
    want = gsea(GENE, demo / "results", gmt)
    assert want["set"].iloc[0] == "DEMO_PROLIFERATION"
    with Service(demo / "results", tmp_path / "serve.log", "--gmt", str(gmt)) as running:
        with httpx.Client(base_url=running.url, timeout=WAIT) as http:
            html = http.get(f"/gene/{GENE}").text
    served = json.loads(re.search(r'id="linkscan-data">(.*?)</script>', html, re.S).group(1))
    out = _linkscan("report", GENE, "--results", str(demo / "results"), "-o", str(tmp_path / "page.html"),
                    "--gmt", str(gmt))
    assert out.returncode == 0, out.stderr
    html = (tmp_path / "page.html").read_text(encoding="utf-8")
    reported = json.loads(re.search(r'id="linkscan-data">(.*?)</script>', html, re.S).group(1))
    for data in (served, reported):
        section = _enrichment(data)
        assert section is not None and data["sections"][-1] is section
        column = section["columns"].index("set") if "set" in section["columns"] else 0
        assert [row[column] for row in section["data"]] == want["set"].tolist()
    _one_error(_linkscan("report", GENE, "--results", str(demo / "results"), "-o", str(tmp_path / "x.html"),
                         "--gmt", str(tmp_path / "none.gmt")), "none.gmt")


def test_gmt__a_gene_without_an_enrichment_says_why(demo, tmp_path):
    """A page asked for with gene sets shows why a name has no enrichment (a phenotype has
    no trans partners) instead of leaving the section out."""
    from linkscan.errors import LinkscanError
    from linkscan.jobs.enrichment import gsea

    gmt = demo / "gene_sets.gmt"
    with pytest.raises(LinkscanError) as info:
        gsea("OS", demo / "results", gmt)
    out = _linkscan("report", "OS", "--results", str(demo / "results"), "-o", str(tmp_path / "os.html"),
                    "--gmt", str(gmt))
    assert out.returncode == 0, out.stderr
    html = (tmp_path / "os.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="linkscan-data">(.*?)</script>', html, re.S).group(1))
    section = _enrichment(data)
    assert section["data"] == [] and section["note"] == f"No enrichment for OS: {info.value}"
