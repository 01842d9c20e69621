"""``linkscan serve``: the ASGI app (FastAPI) over a folder of result stores, and the
uvicorn server that runs it.

Routes (every JSON error is ``{"error": ..., "parameter": ...}`` with status 400, 404 or
503, never a traceback):

``GET /api/scans``
    the scans served (:meth:`~linkscan.jobs.web.catalog.Catalog.scans_info`).
``GET /api/genes?prefix=MK&limit=20``
    gene symbols by prefix, for the search box.
``GET /api/associations?gene=MKI67&kind=trans&sort=meta&offset=0&limit=10``
    one gene's associations of a kind, with ``min_slogp``, ``max_fdr``, ``phenotype``
    and ``show`` (:meth:`~linkscan.jobs.web.catalog.Catalog.associations`).
``GET /api/values?kind=trans&feature=MKI67&partner=BIRC5``
    the per-sample values behind one association
    (:func:`~linkscan.jobs.web.values.association_values`).
``GET /gene/MKI67``
    the gene page; ``GET /`` the start page with the search box.
``GET /static/page.js``, ``page.css``, ``plotly.min.js``
    the page's script and style, and plotly.js from the ``plotly`` package: the page
    makes no request outside the service.

Handlers are plain functions, which Starlette runs in its thread pool, so a lookup
never holds up the event loop.
"""

from __future__ import annotations

import socket
import sys
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from linkscan.errors import LinkscanError
from linkscan.jobs.web.catalog import ASSOCIATION_PARAMS, Catalog
from linkscan.jobs.web.page import gene_enrichment, page_data, render, static
from linkscan.jobs.web.params import MAX_LIMIT, Params, WebError
from linkscan.jobs.web.values import VALUE_PARAMS, association_values
from linkscan.storage.inputs.gmt import read_gmt

#: What the service's pages may load: only the service itself (plotly adds inline styles).
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'")
#: The static files served, by name (names are looked up here, never used as paths).
STATIC_TYPES = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8"}


def create_app(catalog: Catalog, gene_sets: dict | None = None) -> FastAPI:
    """The ASGI app serving ``catalog`` (routes in the module docstring); with
    ``gene_sets`` (:func:`linkscan.storage.inputs.gmt.read_gmt`), gene pages end with the
    gene set enrichment of the gene's trans partners."""
    # no /docs or /redoc: FastAPI's pages load their scripts from a CDN
    app = FastAPI(title="linkscan", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(WebError)
    def web_error(request: Request, exc: WebError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        # unknown routes and methods: JSON like every other error
        return JSONResponse({"error": f"{request.method} {request.url.path}: {exc.detail}", "parameter": None},
                            status_code=exc.status_code)

    @app.exception_handler(LinkscanError)
    def store_error(request: Request, exc: LinkscanError) -> JSONResponse:
        return JSONResponse({"error": str(exc), "parameter": None}, status_code=503)

    @app.exception_handler(Exception)
    def bug(request: Request, exc: Exception) -> JSONResponse:
        # a bug: the server's log has the traceback, the client a message
        return JSONResponse({"error": f"internal error ({type(exc).__name__}); see the server's log",
                             "parameter": None}, status_code=500)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers["Content-Security-Policy"] = PAGE_POLICY
        return response

    @app.get("/api/scans")
    def scans(request: Request) -> JSONResponse:
        Params(request.query_params, ())
        return JSONResponse({"results": catalog.results, "scans": catalog.scans_info()})

    @app.get("/api/genes")
    def genes(request: Request) -> JSONResponse:
        params = Params(request.query_params, ("prefix", "limit"))
        prefix = params.text("prefix", "", empty=True)
        return JSONResponse(catalog.genes(prefix, params.whole("limit", 20, low=1, high=MAX_LIMIT)))

    @app.get("/api/associations")
    def associations(request: Request) -> JSONResponse:
        return JSONResponse(catalog.associations(Params(request.query_params, ASSOCIATION_PARAMS)))

    @app.get("/api/values")
    def values(request: Request) -> JSONResponse:
        params = Params(request.query_params, VALUE_PARAMS)
        return JSONResponse(association_values(catalog.scan(params.required("kind")), params))

    @app.get("/", response_class=HTMLResponse)
    def start(request: Request) -> HTMLResponse:
        return HTMLResponse(render({"results": catalog.results}, mode="service"))

    @app.get("/gene/{gene:path}", response_class=HTMLResponse)
    def gene_page(gene: str) -> HTMLResponse:
        try:
            params = Params({"gene": gene}, ("gene",))
            gene = params.required("gene")
            enrichment = gene_enrichment(gene, catalog.results, gene_sets) if gene_sets else None
            data = page_data(catalog, gene, enrichment=enrichment)
        except WebError as exc:
            return HTMLResponse(render({"gene": gene[:60], "error": str(exc), "results": catalog.results},
                                       mode="service"), status_code=exc.status)
        return HTMLResponse(render(data, mode="service"))

    @app.get("/static/{name}")
    def static_file(name: str) -> Response:
        cache = {"Cache-Control": "max-age=3600"}
        if name == "plotly.min.js":
            path = resources.files("plotly") / "package_data" / "plotly.min.js"
            return FileResponse(str(path), media_type=STATIC_TYPES["page.js"], headers=cache)
        if name not in STATIC_TYPES:
            raise WebError(f"no static file {name[:60]!r}; there are {', '.join([*STATIC_TYPES, 'plotly.min.js'])}",
                           "name", 404)
        return Response(static(name), media_type=STATIC_TYPES[name], headers=cache)

    return app


def serve(results: str, *, store: str | None = None, host: str = "127.0.0.1", port: int = 8000,
          gmt: str | None = None, log_level: str = "info") -> None:
    """Serve the scans of ``results`` on ``host``:``port`` until interrupted.

    The socket is bound here, before uvicorn starts, so that a port in use is one
    clear error; port 0 takes a free port. The address is printed to standard output
    once the socket listens: from then on a request waits for the app, never fails.

    Raises
    ------
    LinkscanError
        ``results`` holds no scan, or the address cannot be bound.
    """
    import uvicorn

    catalog = Catalog(results, store)
    gene_sets = read_gmt(gmt) if gmt else None  # a bad file is an error now, not on a page
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they
        # are TCP, and without it every answer of two writes waits ~40 ms for a delayed ACK
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)  # connections wait in the backlog from here on, before uvicorn accepts them
    except OSError as exc:
        raise LinkscanError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
                            "(0 takes a free one) or --host") from None
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if family == socket.AF_INET6 else bound[0]
    print(f"linkscan serve: {len(catalog.scans)} scans of {results} at http://{shown}:{bound[1]}/ "
          f"(gene pages at /gene/GENE; Ctrl-C stops)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print("linkscan serve: warning: the service has no authentication; anyone who reaches "
              f"{host}:{bound[1]} reads these results", file=sys.stderr, flush=True)
    config = uvicorn.Config(create_app(catalog, gene_sets), log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])

