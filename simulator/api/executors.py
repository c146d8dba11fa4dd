"""Where blocks of trials run: local processes, an executor the caller owns, or a Dask
cluster — one helper for Dask, used by ``simulate``, ``sweep`` and ``execute``.

A :class:`Where` is what the Monte-Carlo engine needs: how many blocks may be in flight, the
executor that runs them (``None``: the engine's own process pool, or this process for one
job), and a ``health`` check that stops a run whose cluster is lost.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

from ..montecarlo import engine
from .errors import BadInput

ADDRESS = re.compile(r"^((tcp|tls|ws|wss|ucx)://[^\s/:]+(:\d{1,5})?/?|inproc://\S+)$")
"""A dask scheduler address: ``tcp://host:8786`` (or tls, ws, wss, ucx, inproc)."""

WORKER_TIMEOUT = 60.0
"""Seconds a Dask cluster may have no worker before a run on it stops as failed (the
environment variable ``LTSIM_WORKER_TIMEOUT`` changes it)."""


@dataclass(frozen=True)
class Where:
    """Where the blocks of trials run: ``jobs`` local processes, or an executor (a Dask
    cluster's, a pool the caller owns) with ``slots`` blocks in flight."""

    jobs: int = 1
    executor: Any = None
    slots: int | None = None
    name: str = "processes"
    health: Callable[[], str | None] | None = None
    """Why the executor cannot go on (a lost cluster), or ``None``; see
    :func:`ltsim.montecarlo.engine.run`."""


def check_address(address: str, backend: str = "dask") -> None:
    """Refuse an ``--address`` that is not a dask scheduler address, before anything runs."""
    if backend != "dask":
        raise BadInput(f"--address: only used with --backend dask, got {address!r}")
    if not ADDRESS.match(address):
        raise BadInput(f"--address: must be a dask scheduler address such as "
                       f"tcp://host:8786, got {address!r}")


@contextlib.contextmanager
def where_to_run(executor: Any = None, jobs: int | None = None) -> Iterator[Where]:
    """The :class:`Where` for what a caller gives.

    Parameters
    ----------
    executor : None, str, Executor or distributed.Client
        ``None``: ``jobs`` local processes; a scheduler address (``"tcp://host:8786"``): a
        Dask cluster, connected for the block (see :func:`dask_client`); a Dask ``Client``:
        its cluster; any :class:`concurrent.futures.Executor`: blocks submitted to it (two
        per job in flight).
    jobs : int, optional
        Local processes (default: every core this process may use).
    """
    jobs = jobs or engine.default_jobs()
    if executor is None:
        yield Where(jobs)
    elif isinstance(executor, str):
        worker_timeout()  # refused before connecting
        with dask_client(executor) as client:
            yield dask_where(client, executor)
    elif _is_dask_client(executor):
        yield dask_where(executor, str(getattr(executor, "scheduler", "the cluster")))
    elif isinstance(executor, Executor):
        yield Where(jobs, executor, 2 * jobs, type(executor).__name__)
    else:
        raise BadInput(f"executor: must be None, a Dask scheduler address, a Dask Client or "
                       f"a concurrent.futures.Executor, got {type(executor).__name__}")


@contextlib.contextmanager
def shared_pool(where: Where) -> Iterator[Where]:
    """``where`` with one process pool for every run of the block (the points of a sweep),
    unless it already has an executor or runs in this process."""
    if where.executor is not None or where.jobs <= 1:
        yield where
        return
    with engine.process_pool(where.jobs) as pool:
        yield replace(where, executor=pool, slots=2 * where.jobs)


def _is_dask_client(value: Any) -> bool:
    return type(value).__name__ == "Client" and type(value).__module__.startswith(
        "distributed")


@contextlib.contextmanager
def dask_client(address: str, option: str = "--address") -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``address``, closed at the end.

    A cluster without workers is refused (after two seconds' grace for workers that are
    joining). The ``distributed`` logs are silenced meanwhile: a failure is reported in one
    line.
    """
    check_address(address, "dask")
    try:
        from distributed import Client
    except ImportError as exc:
        raise BadInput(f"{option}: dask is not installed ({exc}); install ltsim[dask], got "
                       f"{address!r}") from None
    logging.disable(logging.CRITICAL)
    client = None
    try:
        try:
            client = Client(address, timeout=10)
        except Exception as exc:
            gist = " ".join(str(exc).split())[:160] or type(exc).__name__
            raise BadInput(f"{option}: cannot reach the scheduler ({gist}), got "
                           f"{address!r}") from None
        with contextlib.suppress(Exception):
            client.wait_for_workers(1, timeout=2)
        if not cluster_threads(client):
            raise BadInput(f"{option}: the scheduler has no workers (0 threads); start some "
                           f"with `dask worker {address}`, got {address!r}")
        yield client
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=2)
        logging.disable(logging.NOTSET)


def cluster_threads(client) -> int:
    """The threads of a Dask cluster's workers."""
    return int(sum(client.nthreads().values()))


def dask_where(client, address: str) -> Where:
    """The :class:`Where` of a Dask cluster: its executor, two blocks in flight per
    thread, and a health check (a lost scheduler, or no worker for :func:`worker_timeout`
    seconds, stops the run as failed, its trials kept)."""
    threads = max(1, cluster_threads(client))
    return Where(threads, client.get_executor(pure=False), 2 * threads, "dask",
                  cluster_health(client, address, worker_timeout()))


def worker_timeout() -> float:
    """:data:`WORKER_TIMEOUT`, or ``LTSIM_WORKER_TIMEOUT`` (a finite number > 0; anything
    else is refused in one line)."""
    text = os.environ.get("LTSIM_WORKER_TIMEOUT")
    if text is None:
        return WORKER_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise BadInput(f"LTSIM_WORKER_TIMEOUT: must be a finite number of seconds > 0, got "
                       f"{text!r}")
    return value


def cluster_health(client, address: str, timeout: float) -> Callable[[], str | None]:
    """The engine's ``health`` check of a Dask cluster: why it cannot go on, or ``None``.
    It reads the client's view of the cluster (refreshed in the background), never waits
    on the scheduler."""
    seen = [time.monotonic()]

    def health() -> str | None:
        status = str(getattr(client, "status", "running"))
        if status != "running":  # the scheduler held the blocks in flight: they are lost
            return f"lost the Dask scheduler at {address} (client {status})"
        try:
            workers = client.scheduler_info().get("workers", {})
        except Exception:
            workers = {}
        if any(w.get("nthreads", 0) for w in workers.values()):
            seen[0] = time.monotonic()
            return None
        if time.monotonic() - seen[0] > timeout:
            return f"no Dask worker for {timeout:g} s at {address} (all lost)"
        return None

    return health
