"""linkscan: all-by-all association scans over cancer proteogenomics cohorts.

The public API; everything else lives in the subpackages (``linkscan.engine``,
``linkscan.kernels``, ``linkscan.storage``, ``linkscan.jobs``). Names are imported when
first used, so ``import linkscan`` (and ``linkscan query``) load no Dask, xarray, Zarr
or Numba.
"""

from linkscan.errors import InputError, JobError, LinkscanError, ResultsError, WriteError

__version__ = "0.2.0"

#: public name -> the module that defines it (imported on first use)
_API = {
    "ingest": "linkscan.jobs.api",
    "submit": "linkscan.jobs.api",
    "query": "linkscan.jobs.api",
    "read_job": "linkscan.jobs.spec",
    "write_job": "linkscan.jobs.spec",
    "Job": "linkscan.jobs.spec",
    "ScanSpec": "linkscan.engine.plan",
    "CohortStore": "linkscan.storage.inputs.cohort_store",
    "ResultStore": "linkscan.storage.results.store",
}

__all__ = ["__version__", *_API, "LinkscanError", "InputError", "JobError", "ResultsError", "WriteError"]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'linkscan' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
