"""Task bodies, run on the backend's workers.

A task records ``start`` (``time.time()`` on the worker as the body begins), waits its injected
start-up delay, then computes its results in order; ``cancelled(t)`` waits up to ``t`` seconds
and returns True as soon as the master cancels, so a cancelled task stops sleeping at once and
never starts its next result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .task import TaskSpec
from .workload import KernelData, kernel_value, materialize

Cancelled = Callable[[float], bool]


class InjectedFailure(RuntimeError):
    """Raised by a logical worker configured to fail (``fail.mode: raise``)."""


@dataclass
class Part:
    """What a task (or one link of a chained task) did.

    ``results`` holds ``(index, value, finish)``; ``status`` is ``done`` or ``cancelled``;
    ``stopped`` is when the body returned.
    """

    start: float = math.nan
    stopped: float = math.nan
    status: str = "done"
    units: int = 0
    results: list[tuple[int, float, float]] = field(default_factory=list)


def sleeper(max_seconds: float) -> Cancelled:
    """A ``cancelled`` for backends that cannot cancel: just sleeps (bounded), never True."""

    def wait(seconds: float) -> bool:
        time.sleep(min(seconds, max_seconds))
        return False

    return wait


def run_part(spec: TaskSpec, data: KernelData, indices: Sequence[int], startup: bool,
             cancelled: Cancelled,
             emit: Callable[[int, float, float], None] | None = None,
             begun: Callable[[float], None] | None = None) -> Part:
    """Run the start-up (if ``startup``) and results ``indices`` of a task.

    ``emit(index, value, finish)`` is called as each result is done (streaming backends);
    the results are returned in the :class:`Part` as well. ``begun(at)`` is called when the
    start-up ends and the computing begins (backends that report progress).
    """
    part = Part(start=time.time())
    data = materialize(data)
    if startup:
        if spec.delay > 0 and cancelled(spec.delay):
            return _stop(part, "cancelled")
        if spec.fail == "raise":
            raise InjectedFailure(f"worker {spec.worker} configured to fail")
        if spec.fail == "hang":
            cancelled(spec.max_seconds)
            return _stop(part, "cancelled")
    if begun is not None:
        begun(time.time())
    for i in indices:
        if cancelled(0.0):
            return _stop(part, "cancelled")
        result = spec.results[i]
        value = kernel_value(data, result)
        if data.term_seconds > 0 and cancelled(data.term_seconds * spec.speed * result.size):
            return _stop(part, "cancelled")
        finish = time.time()
        part.units += result.size
        part.results.append((i, value, finish))
        if emit is not None:
            emit(i, value, finish)
    return _stop(part, "done")


def _stop(part: Part, status: str) -> Part:
    part.status, part.stopped = status, time.time()
    return part
