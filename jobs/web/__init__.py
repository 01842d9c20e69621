"""The web service and the gene page: ``linkscan serve`` and ``linkscan report``.

- :mod:`~linkscan.jobs.web.params`: query parameters checked one by one, errors naming them;
- :mod:`~linkscan.jobs.web.catalog`: the scans of a results folder and the lookups the
  JSON endpoints answer;
- :mod:`~linkscan.jobs.web.values`: per-sample values behind one association, from the
  cohort store;
- :mod:`~linkscan.jobs.web.page`: the gene page's data and HTML, shared by the service and
  the report (its script, style and template are ``static/``);
- :mod:`~linkscan.jobs.web.app`: the FastAPI app and its uvicorn server;
- :mod:`~linkscan.jobs.web.report`: the gene page as one self-contained offline file.

The service and the report need the ``serve`` extra (FastAPI, uvicorn, plotly):
:func:`require_extra` says so in one line when it is missing. Nothing here is imported
by ``import linkscan``.
"""

from __future__ import annotations

import importlib

from linkscan.errors import LinkscanError

#: The packages of the ``serve`` extra, by import name.
SERVE_PACKAGES = ("fastapi", "uvicorn", "plotly")


def require_extra(command: str, packages: tuple[str, ...] = SERVE_PACKAGES) -> None:
    """Raise LinkscanError naming ``pip install "linkscan[serve]"`` if one of
    ``packages`` is not installed (``command`` says what needs them)."""
    missing = []
    for name in packages:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise LinkscanError(f"{command} needs the serve extra, and {', '.join(missing)} {verb} not installed: "
                            'pip install "linkscan[serve]"')
