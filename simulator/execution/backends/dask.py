"""``dask.distributed`` backend: the scale-out path.

One task a logical worker. A task streams its results back to the master as they are done
through one :class:`distributed.Queue` (a scheduler-held queue; each message is tagged with
its batch, so stale messages of an earlier batch are dropped) and ends with a message saying
how it ended (``done``, ``cancelled`` or ``failed``, the units it computed); its last result,
which the end follows at once, travels in the same message. The master reads
the queue (one blocking ``get``, then everything waiting at once), so a symbol costs one
message, not one future: no round trip through the task graph per symbol.

Cancellation: every batch has a stop flag in each worker process (a :class:`threading.Event`
named after the batch); tasks wait their start-up delay on it and check it before each
result, without a message to the scheduler (a :class:`distributed.Event` costs a round trip
through the scheduler for every wait and check: most of a task's dispatch time on a small
machine). The master cancels by setting the flag in every worker process at once
(:meth:`Client.run`, one message a process), so tasks stop sleeping and computing at once;
it then collects the tasks' end messages for a grace period and cancels the futures still
running. A task never raises: a configured failure (or any error) is reported as a
``failed`` end message, so workers print no tracebacks.

The workload is broadcast once with :meth:`Client.scatter`. Without ``--address`` a
:class:`LocalCluster` (no dashboard) is started with enough threads for every logical worker to
run at once (start-up delays are sleeps that hold a thread); with ``--address`` the cluster
needs at least as many threads as logical workers, or tasks queue and latency includes
queueing: :meth:`DaskBackend.capacity` reports the cluster's threads (counted once, when the
client connects) and ``ltsim execute`` refuses a smaller cluster unless ``--allow-queueing``.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..task import TaskSpec
from ..worker import run_part
from .base import Backend, Capacity, End, Message, Result

_QUEUES: dict[str, Any] = {}
"""Queue handles of this worker process, by name (creating one is a round trip)."""

_STOPS: dict[str, threading.Event] = {}
"""The stop flags of the batches seen by this worker process, by batch name."""
_STOPS_LOCK = threading.Lock()
_STOPS_KEPT = 256
"""Flags kept per process; the oldest go first (their batches ended long ago: the master runs
one batch at a time and cancels the futures of a batch it stops)."""


def _queue(name: str):
    if name not in _QUEUES:
        from distributed import Queue

        if len(_QUEUES) > 64:
            _QUEUES.clear()
        _QUEUES[name] = Queue(name)
    return _QUEUES[name]


def _stop_flag(name: str) -> threading.Event:
    """Batch ``name``'s stop flag in this process (made unset on first use)."""
    with _STOPS_LOCK:
        flag = _STOPS.get(name)
        if flag is None:
            while len(_STOPS) >= _STOPS_KEPT:
                del _STOPS[next(iter(_STOPS))]
            flag = _STOPS[name] = threading.Event()
        return flag


def stop_batch(name: str) -> None:
    """Set batch ``name``'s stop flag in this process (run on every worker by the master)."""
    _stop_flag(name).set()


def run_task(spec: TaskSpec, data: Any, queue_name: str, stop_name: str, batch: str) -> None:
    """One logical worker's task on a dask worker: results and its end go to the queue."""
    start = time.time()
    queue, stop = _queue(queue_name), _stop_flag(stop_name)

    def cancelled(seconds: float) -> bool:
        if seconds <= 0:
            return stop.is_set()
        return stop.wait(timeout=min(seconds, spec.max_seconds))

    last, held = len(spec.results) - 1, []

    def emit(index: int, value: float, finish: float) -> None:
        item = (batch, "result", spec.worker, index, value, finish)
        if index == last:  # the task ends right after it: one message for both
            held.append(item)
        else:
            queue.put(item)

    try:
        part = run_part(spec, data, range(len(spec.results)), True, cancelled,
                        emit if spec.stream else None)
        if not spec.stream:
            for index, value, finish in part.results:
                emit(index, value, finish)
        finish = part.results[-1][2] if part.results else math.nan
        end = (part.status, part.start, finish, part.stopped, part.units, "")
    except Exception as exc:  # a crashed worker: it never returns a result
        end = ("failed", start, math.nan, time.time(), 0, f"{type(exc).__name__}: {exc}")
    final = (batch, "end", spec.worker, *end)
    with contextlib.suppress(Exception):
        queue.put((batch, "last", *held, final) if held else final)


@dataclass
class _Batch:
    tasks: list[TaskSpec]
    name: str
    shared: Any = None
    futures: list[Any] = field(default_factory=list)
    ended: set[int] = field(default_factory=set)
    inbox: collections.deque = field(default_factory=collections.deque)


class DaskBackend(Backend):
    """Backend on a dask cluster: ``LocalCluster`` (2 processes) or ``Client(address)``."""

    name = "dask"
    streams = True

    @classmethod
    def create(cls, concurrency: int, address: str | None = None, client=None) -> DaskBackend:
        return cls(address, concurrency, client=client)

    def __init__(self, address: str | None, concurrency: int, processes: bool = True,
                 n_workers: int = 2, client=None) -> None:
        from distributed import Client, LocalCluster, Queue

        self.address, self.cluster, self.owns_client = address, None, client is None
        if client is not None:  # a cluster's client its owner connected (and closes)
            self.client = client
        elif address is None:
            threads = max(1, math.ceil(concurrency / n_workers)) + 1
            self.cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads,
                                        processes=processes, dashboard_address=None,
                                        silence_logs=logging.CRITICAL)
            self.client = Client(self.cluster)
        else:
            self.client = Client(address, timeout=10)
        self.threads = sum(self.client.nthreads().values())
        self.queue_name = f"ltsim-results-{uuid.uuid4().hex}"
        self.queue = Queue(self.queue_name, client=self.client)

    def share(self, data) -> Any:
        # without the workload's description (a config model, which the workers would import
        # ltsim's config and codes to unpickle): the arrays are all a task reads
        return self.client.scatter(dataclasses.replace(data, source=None), broadcast=True)

    def submit(self, tasks: list[TaskSpec], shared: Any) -> _Batch:
        name = f"ltsim-{uuid.uuid4().hex}"
        batch = _Batch([], name, shared)
        self.submit_more(batch, tasks)
        return batch

    def submit_more(self, batch: _Batch, tasks: list[TaskSpec]) -> None:
        batch.tasks.extend(tasks)
        count = len(tasks)
        batch.futures.extend(self.client.map(
            run_task, tasks, [batch.shared] * count, [self.queue_name] * count,
            [batch.name] * count, [batch.name] * count,
            key=[f"{batch.name}-{spec.worker}" for spec in tasks], pure=False))

    def as_completed(self, batch: _Batch, timeout: float) -> Iterator[Message]:
        deadline = time.monotonic() + timeout
        while len(batch.ended) < len(batch.tasks):
            if batch.inbox:  # fetched but not yet handed out (the caller may stop early)
                msg = self._message(batch, batch.inbox.popleft())
                if msg is not None:
                    yield msg
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                first = self.queue.get(timeout=left)
            except Exception:  # distributed's own timeout type
                return
            for item in [first, *self.queue.get(batch=True)]:
                if item[1] == "last":  # a task's last result and its end, in one message
                    batch.inbox.extend(item[2:])
                else:
                    batch.inbox.append(item)

    def _message(self, batch: _Batch, item) -> Message | None:
        if item[0] != batch.name:
            return None  # a late message of an earlier batch
        if item[1] == "result":
            _, _, worker, index, value, finish = item
            return Result(worker, index, value, finish)
        _, _, worker, status, start, finish, stopped, units, error = item
        if worker in batch.ended:
            return None
        batch.ended.add(worker)
        return End(worker, status, start, finish, stopped, units, error)

    def cancel(self, batch: _Batch, grace: float = 2.0) -> list[End]:
        seen = set(batch.ended)
        with contextlib.suppress(Exception):
            self.client.run(stop_batch, batch.name, on_error="ignore")
        late = [msg for msg in self.as_completed(batch, grace) if isinstance(msg, End)]
        for spec in batch.tasks:
            if spec.worker not in seen and spec.worker not in batch.ended:
                late.append(End(spec.worker, "cancelled", error="did not stop within grace"))
                batch.ended.add(spec.worker)
        with contextlib.suppress(Exception):
            self.client.cancel([f for f in batch.futures if not f.done()])
        batch.futures.clear()
        return late

    def close(self) -> None:
        if self.owns_client:
            with contextlib.suppress(Exception):
                self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()

    def capacity(self) -> Capacity:
        """The cluster's threads: a task holds one from its start-up sleep to its end."""
        plural = "" if self.threads == 1 else "s"
        where = "LocalCluster" if self.cluster is not None else "cluster"
        return Capacity(self.threads, f"the {where} has {self.threads} thread{plural}",
                        "start workers with more threads (dask worker --nthreads N)")

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["address"] = self.address or self.client.scheduler.address
        info["cluster"] = "LocalCluster" if self.cluster is not None else "external"
        info["cluster_threads"] = self.threads
        return info
