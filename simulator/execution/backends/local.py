"""In-process backend: one thread per logical worker, results pushed to a queue.

Every task of a scheme-trial runs in its own thread of a pool sized so that all logical
workers run at once; each result is put on a :class:`queue.Queue` as soon as it is computed
(true per-symbol returns), and cancellation sets a :class:`threading.Event` that interrupts
the injected start-up sleeps (``Event.wait``) and is checked before each result.

How far the emulation holds on a small machine (e.g. 2 cores): the start-up delays and the
emulated compute time (``workload.term_seconds``) are sleeps, so hundreds of threads really
overlap and the timing model ``Y = X + tau B`` is reproduced faithfully. The real kernel
arithmetic, however, runs on at most as many cores as there are (numpy releases the GIL only
inside large array operations), so when many workers compute at the same moment their real
compute is serialised: measured ``tau`` grows with the number of simultaneously busy workers,
and the master (decoding in the same process) competes with them for the CPU. Keep the real
work per result small, or use ``term_seconds``, when emulating thousands of workers.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..task import BEGUN, TaskSpec
from ..worker import run_part
from ..workload import KernelData
from .base import Backend, End, Message, Result, end_of


@dataclass
class _Batch:
    tasks: list[TaskSpec]
    shared: KernelData | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    inbox: queue.Queue = field(default_factory=queue.Queue)
    ended: set[int] = field(default_factory=set)
    stops: dict[int, threading.Event] = field(default_factory=dict)
    """Each task's own stop (set by :meth:`LocalBackend.cancel_task` or with the batch's)."""
    lock: threading.Lock = field(default_factory=threading.Lock)


class LocalBackend(Backend):
    """Thread-per-worker backend (the default, no setup).

    Parameters
    ----------
    concurrency : int
        Logical workers that must run at once; the pool holds twice as many threads so that
        stragglers still finishing a result after a cancel never delay the next batch.
    """

    name = "local"
    streams = True
    progress = True

    def __init__(self, concurrency: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2 * max(1, concurrency) + 4,
                                       thread_name_prefix="ltsim-worker")

    def submit(self, tasks: list[TaskSpec], shared: KernelData) -> _Batch:
        batch = _Batch([], shared=shared)
        self.submit_more(batch, tasks)
        return batch

    def submit_more(self, batch: _Batch, tasks: list[TaskSpec]) -> None:
        batch.tasks.extend(tasks)
        for spec in tasks:
            with batch.lock:
                stop = batch.stops[spec.worker] = threading.Event()
                if batch.cancel.is_set():
                    stop.set()
            self.pool.submit(_run, spec, batch.shared, stop, batch.inbox)

    def cancel_task(self, batch: _Batch, worker: int) -> None:
        with batch.lock:
            stop = batch.stops.get(worker)
        if stop is not None:
            stop.set()

    def as_completed(self, batch: _Batch, timeout: float) -> Iterator[Message]:
        yield from _drain(batch, time.monotonic() + timeout)

    def cancel(self, batch: _Batch, grace: float = 2.0) -> list[End]:
        with batch.lock:
            batch.cancel.set()
            for stop in batch.stops.values():
                stop.set()
        drained = _drain(batch, time.monotonic() + grace)
        late = [msg for msg in drained if isinstance(msg, End)]
        for spec in batch.tasks:
            if spec.worker not in batch.ended:
                late.append(End(spec.worker, "cancelled", error="did not stop within grace"))
        return late

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _run(spec: TaskSpec, data: KernelData, cancel: threading.Event, inbox: queue.Queue) -> None:
    """Thread body: run the task, push its results and its end."""
    start = time.time()

    def emit(index: int, value: float, finish: float) -> None:
        inbox.put(Result(spec.worker, index, value, finish))

    def begun(at: float) -> None:
        inbox.put(Result(spec.worker, BEGUN, math.nan, at))

    try:
        part = run_part(spec, data, range(len(spec.results)), True, cancel.wait,
                        emit if spec.stream else None, begun if spec.progress else None)
    except Exception as exc:  # a crashed worker: it never returns a result
        inbox.put(End(spec.worker, "failed", start, math.nan, time.time(), 0,
                      f"{type(exc).__name__}: {exc}"))
        return
    if not spec.stream:
        for index, value, finish in part.results:
            inbox.put(Result(spec.worker, index, value, finish))
    inbox.put(end_of(spec.worker, part))


def _drain(batch: _Batch, deadline: float) -> Iterator[Message]:
    """Messages of ``batch`` until every task has ended or ``deadline`` (monotonic) passes."""
    while len(batch.ended) < len(batch.tasks):
        try:
            msg = batch.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return
        if isinstance(msg, End):
            batch.ended.add(msg.worker)
        yield msg
