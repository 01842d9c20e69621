"""Running a planned scan on dask.distributed, resumably.

The runner asks the result store's ledger which tiles are finished, submits the others
in bounded batches (so the scheduler never holds more than a few tasks per thread and
memory stays bounded by the tile size), shows progress, then finishes the scan
(:mod:`linkscan.engine.finish`: BH q-values over the whole scan, every shard compacted,
the store marked complete). Resume lives with the results, not in the scheduler: killing
this process, a worker or the whole cluster loses at most the tiles in flight.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field, replace

from linkscan.engine.finish import finish
from linkscan.engine.plan import Plan, ScanSpec, make_plan
from linkscan.engine.progress import Progress
from linkscan.errors import JobError, LinkscanError


@dataclass
class ScanReport:
    """What a submission did."""

    results: str
    tiles_total: int
    tiles_skipped: int  # finished by an earlier submission
    tiles_run: list[str] = field(default_factory=list)
    pairs: int = 0  # cohort-pair tests run by this submission
    rows: int = 0  # rows in the finished result store
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.pairs / self.seconds if self.seconds > 0 else 0.0
        return (f"{self.results}: {self.tiles_total} tiles ({self.tiles_skipped} already done, "
                f"{len(self.tiles_run)} run now), {self.rows:,} result rows, "
                f"{self.pairs:,} pair tests in {self.seconds:.1f} s ({rate:,.0f} pairs/s)")


def redact(address: str) -> str:
    """``address`` without credentials (``tcp://user:secret@host:8786`` ->
    ``tcp://***@host:8786``): addresses are printed, credentials never."""
    scheme, sep, rest = address.rpartition("://")
    if "@" in rest.split("/")[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


@contextlib.contextmanager
def open_client(address: str | None = None, *, n_workers: int | None = None,
                threads_per_worker: int = 1, tls: dict[str, str] | None = None):
    """A Client of the scheduler at ``address``, or of a new LocalCluster with process
    workers (one per core by default, one thread each: the kernels are single-threaded
    and BLAS is pinned to one thread per worker by distributed's defaults).

    ``tls`` (a job's ``[cluster]`` ``tls_ca_file``, ``tls_cert`` and ``tls_key``: PEM
    files) connects to a ``tls://`` address with those certificates, encrypted only.

    The client is not made dask's default scheduler: linkscan submits to it explicitly,
    and a default left behind would send the caller's own dask computations (an opened
    cohort Dataset's ``.values``) to a closed client once the scan is over."""
    from distributed import Client, LocalCluster

    security = _security(address, tls)
    if address:
        try:
            client = Client(address, timeout="30s", set_as_default=False,
                            **({"security": security} if security else {}))
        except (OSError, TimeoutError, ValueError) as exc:  # the message may hold the address
            hint = ("; with TLS, also check that the scheduler's certificate is signed by tls_ca_file's CA "
                    "and that the cluster's CA signed tls_cert" if security or address.startswith("tls://") else "")
            raise LinkscanError(
                f"cannot reach the dask scheduler at {redact(address)} ({type(exc).__name__}); "
                f"check that it runs and that this machine can reach its address and port{hint}"
            ) from None
        with client:
            yield client
        return
    workers = n_workers or os.cpu_count() or 1
    with LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
                      # a failing tile is reported once, by the runner; the workers' own
                      # "Compute Failed ... Traceback" logs would bury that line
                      dashboard_address=":0", silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


_TLS_KEYS = "[cluster] tls_ca_file, tls_cert and tls_key"


def _security(address: str | None, tls: dict[str, str] | None):
    """The ``distributed.security.Security`` of ``tls`` for ``address``, or None; a TLS
    setting that cannot work is a JobError that says which and what to do."""
    import ssl

    import dask.config

    scheme = address.split("://", 1)[0] if address and "://" in address else ""
    if not tls:
        configured = dask.config.get("distributed.comm.tls.ca-file", None) and \
            dask.config.get("distributed.comm.tls.client.cert", None)
        if scheme == "tls" and not configured:
            raise JobError(
                f"the scheduler address {redact(address)} is tls:// but no TLS certificates are given; set "
                f"{_TLS_KEYS} in the job file (PEM files: the cluster's CA certificate, this client's "
                "certificate and its key), or dask's distributed.comm.tls configuration"
            )
        return None
    if scheme != "tls":
        where = (f"the scheduler address {redact(address)} is not a tls:// one" if address
                 else "there is no scheduler address (the scan would run on a LocalCluster here)")
        raise JobError(
            f"{_TLS_KEYS} are set but {where}; give the scheduler's tls://HOST:PORT address "
            "(`--scheduler` or [cluster] address), or remove the tls_* keys to connect without TLS"
        )
    from distributed.security import Security

    security = Security(tls_ca_file=tls["tls_ca_file"], tls_client_cert=tls["tls_cert"],
                        tls_client_key=tls["tls_key"], require_encryption=True)
    try:
        security.get_connection_args("client")  # loads the files now, not at the first connection
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise JobError(
            f"cannot use the TLS files tls_ca_file = {tls['tls_ca_file']}, tls_cert = {tls['tls_cert']}, "
            f"tls_key = {tls['tls_key']} ({getattr(exc, 'reason', None) or exc}); they must be PEM files: "
            "the cluster's CA certificate, this client's certificate and the private key of that certificate"
        ) from None
    return security


def run_scan(spec: ScanSpec, *, client=None, address: str | None = None,
             n_workers: int | None = None, threads_per_worker: int = 1,
             progress: bool = True, max_in_flight: int | None = None,
             tls: dict[str, str] | None = None) -> ScanReport:
    """Run or resume the scan ``spec``; return what this submission did.

    Parameters
    ----------
    spec
        The scan.
    client
        A connected ``distributed.Client`` to use; otherwise one is opened on
        ``address`` or on a new LocalCluster with ``n_workers`` process workers.
    tls
        TLS files for a ``tls://`` ``address`` (see :func:`open_client`).
    progress
        Show a progress bar on standard error.
    max_in_flight
        Tiles submitted but not finished at once (default: twice the cluster's threads).
    """
    if client is None:
        _security(address, tls)  # a TLS mistake is told before the result store is touched
    plan = make_plan(spec)
    results = plan.context.results
    change = _cohort_change(plan)
    locked = change is not None
    if change:  # the cohorts changed: the kept ones are read, the added ones computed
        plan = replace(plan, context=replace(plan.context, previous=change))
    try:
        results.create_or_resume(plan.manifest, plan.features)
        complete = results.is_complete()
    except BaseException:
        if locked:
            results.unlock()
        raise
    if complete:
        if locked:
            results.unlock()
        report = ScanReport(str(spec.results), len(plan.tiles), len(plan.tiles))
        report.rows = results.summary()["rows"]
        return report
    if not locked:
        results.lock()
    # A lost scheduler is reported once and plainly (see _run); the client's own tracebacks
    # while it reconnects and closes (distributed.client, and its batched comm's "Batched
    # Comm Closed ... CommClosedError", seen once in CI) would only bury that message.
    quieted = {name: logging.getLogger(name).level for name in _CLIENT_LOGS}
    for name in quieted:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        if client is None:
            with open_client(address, n_workers=n_workers, threads_per_worker=threads_per_worker,
                             tls=tls) as own:
                return _run(plan, own, progress, max_in_flight)
        return _run(plan, client, progress, max_in_flight)
    finally:
        for name, level in quieted.items():
            logging.getLogger(name).setLevel(level)
        results.unlock()


def _cohort_change(plan: Plan):
    """For a store that holds another scan (or a cohort change under way): take its lock
    and begin or resume the change (:func:`linkscan.engine.cohorts.prepare`). Returns its
    Previous (the lock then stays held), False when the lock was taken and nothing
    changes, or None (not locked: a new store, or this very scan)."""
    from linkscan.engine.cohorts import prepare

    results = plan.context.results
    if not (results.path / "manifest.json").is_file():
        return None
    current = results.manifest()
    if current.get("fingerprint") == plan.manifest["fingerprint"] and not (
            current.get("previous") and not results.is_complete()):
        return None
    results.lock()
    try:
        return prepare(plan) or False
    except BaseException:
        results.unlock()
        raise


#: The loggers of the submitting process's dask client, quiet while a scan runs.
_CLIENT_LOGS = ("distributed.client", "distributed.batched", "distributed.comm")


def _run(plan: Plan, client, progress: bool, max_in_flight: int | None) -> ScanReport:
    from distributed import as_completed

    from linkscan.engine.tile import run_tile

    results = plan.context.results
    done = results.ledger(verify=True, repair=True)  # a damaged part: its tile runs again
    todo = [tile for tile in plan.tiles if tile.key not in done]
    report = ScanReport(str(plan.spec.results), len(plan.tiles), len(plan.tiles) - len(todo))
    start = time.perf_counter()
    # the tests a tile runs: in a cohort change, only the added cohorts'
    share = len(plan.context.computed()) / len(plan.context.cohorts)
    bar = Progress(len(todo), round(share * sum(plan.pairs(t) for t in todo)),
                   enabled=progress)
    limit = max_in_flight or 2 * max(sum(client.nthreads().values()), 1)
    context = client.scatter(plan.context, broadcast=True, hash=False)
    fingerprint = plan.manifest["fingerprint"][:12]
    pending = iter(todo)
    by_key = {}

    def submit(tile, attempt: int = 0):
        # a resubmitted tile gets a key of its own: the scheduler may still be forgetting
        # the cancelled one, and a task under that key would be cancelled with it
        key = f"{tile.key}-{fingerprint}" + (f"-{attempt}" if attempt else "")
        future = client.submit(run_tile, context, tile, key=key, pure=False, retries=1)
        by_key[future.key] = tile
        return future

    running = as_completed([submit(t) for _, t in zip(range(limit), pending)], loop=client.loop)
    cancels: dict[str, int] = {}
    try:
        for future in running:
            tile = by_key.pop(future.key)
            try:
                entry = future.result()
            except _CANCELLED as exc:
                # The scheduler forgot a task when a worker holding it died (rare; seen as
                # "FutureCancelledError ... already forgotten"): the tile runs again.
                if _scheduler_lost(client, exc):
                    raise _lost(plan, len(done)) from None
                cancels[tile.key] = cancels.get(tile.key, 0) + 1
                if cancels[tile.key] > _MAX_CANCELS:
                    raise LinkscanError(
                        f"tile {tile.key} was cancelled by the cluster {_MAX_CANCELS + 1} times ({exc}); "
                        f"{len(report.tiles_run)} tiles finished in this submission are kept; check the "
                        "workers' health (memory, restarts) and resubmit the job to continue") from None
                running.add(submit(tile, cancels[tile.key]))
                continue
            except Exception as exc:
                if _scheduler_lost(client, exc):
                    raise _lost(plan, len(done)) from None
                with contextlib.suppress(LinkscanError):  # e.g. a full disk: the tile's error matters
                    results.record_failure(tile.key, f"{type(exc).__name__}: {exc}")
                if isinstance(exc, LinkscanError):
                    raise
                # a bug or a broken input: name the tile, keep the ledger
                raise LinkscanError(
                    f"tile {tile.key} failed on the cluster: {type(exc).__name__}: {exc}. "
                    f"{len(report.tiles_run)} tiles finished in this submission are kept; "
                    "fix the cause and resubmit the job to continue"
                ) from exc
            done[tile.key] = entry
            report.tiles_run.append(tile.key)
            pairs = round(share * plan.pairs(tile))
            report.pairs += pairs
            bar.update(1, pairs)
            nxt = next(pending, None)
            if nxt is not None:
                running.add(submit(nxt))
    except BaseException:
        for future in list(running.futures):
            future.cancel()
        raise
    finally:
        bar.close()
    try:
        report.rows = finish(plan, client, done, progress)
    except Exception as exc:
        if _scheduler_lost(client, exc):
            raise _lost(plan, len(done)) from None
        raise
    report.seconds = time.perf_counter() - start
    return report


#: A future's "cancelled" errors: distributed's derive from asyncio's (a BaseException).
_CANCELLED = (asyncio.CancelledError, concurrent.futures.CancelledError)
#: Times one tile may be cancelled under a live scheduler before the scan gives up.
_MAX_CANCELS = 3


def _scheduler_lost(client, exc: BaseException) -> bool:
    """Whether a failed future means the scheduler is gone (the client is reconnecting
    or closed, or the future was cancelled because the connection was lost)."""
    from distributed.comm.core import CommClosedError

    return (client.status != "running" or isinstance(exc, (CommClosedError, ConnectionError))
            or "scheduler-connection-lost" in str(exc))


def _lost(plan: Plan, done: int) -> LinkscanError:
    return LinkscanError(
        f"lost the dask scheduler mid-scan; {done} of {len(plan.tiles)} tiles "
        f"are finished and kept in {plan.context.results.path}; start a scheduler and submit the job "
        "again to finish it"
    )
