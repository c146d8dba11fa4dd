"""``dask.distributed`` backend: the scale-out path.

Per-symbol returns are *chained futures*: a task that streams its results is submitted as one
future per result, link ``i + 1`` taking link ``i``'s output as an argument, so it starts only
when link ``i`` is done (usually on the same worker, where that output already lives). Only
link 0 performs the injected start-up delay. The master consumes the links with
:func:`distributed.as_completed`, so each symbol reaches it as soon as it is computed, at the
cost of one scheduler round trip per symbol. Tasks that do not stream are one future.

Cancellation: every batch has a :class:`distributed.Event`; tasks wait their start-up delay
on it and check it before each result, so setting it stops sleeping and computing links at
once (a chained link whose predecessor was cancelled returns at once). Futures still not done
after a grace period are cancelled with :meth:`Client.cancel`.

The workload is broadcast once with :meth:`Client.scatter`. Without ``--address`` a
:class:`LocalCluster` is started with enough threads for every logical worker to run at once
(start-up delays are sleeps that hold a thread); with ``--address`` make sure the cluster has
at least as many threads as logical workers, or tasks queue and latency includes queueing.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..plan import TaskSpec
from ..worker import Part, run_part
from .base import Backend, End, Message, Result


def run_link(spec: TaskSpec, data: Any, indices: list[int], startup: bool, prev: Part | None,
             event_name: str) -> Part:
    """One link of a task on a dask worker; returns at once if ``prev`` was cancelled."""
    from distributed import Event

    if prev is not None and prev.status != "done":
        return Part(start=math.nan, stopped=time.time(), status=prev.status)
    event = Event(event_name)

    def cancelled(seconds: float) -> bool:
        if seconds <= 0:
            return event.is_set()
        return event.wait(timeout=min(seconds, spec.max_seconds))

    return run_part(spec, data, indices, startup, cancelled)


@dataclass
class _Batch:
    tasks: list[TaskSpec]
    event: Any
    name: str = ""
    shared: Any = None
    links: dict[Any, tuple[int, int, int]] = field(default_factory=dict)  # key -> w, k, last
    futures: list[Any] = field(default_factory=list)
    ended: set[int] = field(default_factory=set)
    start: dict[int, float] = field(default_factory=dict)
    units: dict[int, int] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)


class DaskBackend(Backend):
    """Backend on a dask cluster: ``LocalCluster`` (2 processes) or ``Client(address)``."""

    name = "dask"
    streams = True

    def __init__(self, address: str | None, concurrency: int, processes: bool = True,
                 n_workers: int = 2) -> None:
        from distributed import Client, LocalCluster

        self.address, self.cluster = address, None
        if address is None:
            threads = max(1, math.ceil(concurrency / n_workers)) + 1
            self.cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads,
                                        processes=processes, dashboard_address=None,
                                        silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        else:
            self.client = Client(address, timeout=10)

    def share(self, data) -> Any:
        return self.client.scatter(data, broadcast=True)

    def submit(self, tasks: list[TaskSpec], shared: Any) -> _Batch:
        from distributed import Event

        name = f"ltsim-cancel-{uuid.uuid4().hex}"
        batch = _Batch([], Event(name, client=self.client), name, shared)
        self.submit_more(batch, tasks)
        return batch

    def submit_more(self, batch: _Batch, tasks: list[TaskSpec]) -> None:
        batch.tasks.extend(tasks)
        for spec in tasks:
            n = len(spec.results)
            chunks = [[i] for i in range(n)] if spec.stream else [list(range(n))]
            prev = None
            for k, indices in enumerate(chunks):
                fut = self.client.submit(run_link, spec, batch.shared, indices, k == 0, prev,
                                         batch.name, key=f"{batch.name}-{spec.worker}-{k}",
                                         pure=False)
                batch.links[fut.key] = (spec.worker, k, len(chunks) - 1)
                batch.futures.append(fut)
                prev = fut

    def as_completed(self, batch: _Batch, timeout: float) -> Iterator[Message]:
        from distributed import as_completed

        pending = [f for f in batch.futures if batch.links[f.key][0] not in batch.ended]
        if not pending:
            return
        deadline = time.monotonic() + timeout
        stream = as_completed(pending)
        # Poll every 2 ms: as_completed's own timeout bounds the whole iteration, not a wait.
        while len(batch.ended) < len(batch.tasks) and not stream.is_empty():
            if stream.has_ready():
                for fut in stream.next_batch(block=False):
                    yield from self._messages(batch, fut)
            elif time.monotonic() >= deadline:
                return
            else:
                time.sleep(0.002)

    def _messages(self, batch: _Batch, fut) -> Iterator[Message]:
        worker, k, last = batch.links[fut.key]
        if worker in batch.ended:
            return
        if fut.status == "error":
            exc = fut.exception()
            batch.ended.add(worker)
            yield End(worker, "failed", batch.start.get(worker, math.nan),
                      batch.last.get(worker, math.nan), time.time(),
                      batch.units.get(worker, 0), f"{type(exc).__name__}: {exc}")
            return
        if fut.status != "finished":
            return
        part: Part = fut.result()
        if k == 0:
            batch.start[worker] = part.start
        batch.units[worker] = batch.units.get(worker, 0) + part.units
        for index, value, finish in part.results:
            batch.last[worker] = finish
            yield Result(worker, index, value, finish)
        if part.status != "done" or k == last:
            batch.ended.add(worker)
            yield End(worker, part.status, batch.start.get(worker, math.nan),
                      batch.last.get(worker, math.nan), part.stopped,
                      batch.units.get(worker, 0))

    def cancel(self, batch: _Batch, grace: float = 2.0) -> list[End]:
        from distributed import wait

        batch.event.set()
        seen = set(batch.ended)
        live = [f for f in batch.futures if batch.links[f.key][0] not in batch.ended]
        try:
            wait(live, timeout=grace)
        except Exception:  # distributed raises its own TimeoutError type
            pass
        late: dict[int, End] = {}
        for fut in live:
            for msg in self._messages(batch, fut):
                if isinstance(msg, End):
                    late[msg.worker] = msg
        for spec in batch.tasks:
            if spec.worker not in seen and spec.worker not in late:
                late[spec.worker] = End(spec.worker, "cancelled", error="not started")
                batch.ended.add(spec.worker)
        self.client.cancel([f for f in batch.futures if not f.done()])
        batch.futures.clear()
        return list(late.values())

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["address"] = self.address or self.client.scheduler.address
        info["cluster"] = "LocalCluster" if self.cluster is not None else "external"
        info["threads"] = sum(self.client.nthreads().values())
        return info

