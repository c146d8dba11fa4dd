"""The backend interface: submit, as_completed, cancel, close, and the messages it yields."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..task import TaskSpec
from ..workload import KernelData


@dataclass(frozen=True)
class Result:
    """Result ``index`` of logical worker ``worker``, finished at ``finish`` (worker clock)."""

    worker: int
    index: int
    value: float
    finish: float


@dataclass(frozen=True)
class End:
    """A task is over: ``status`` is ``done``, ``cancelled`` or ``failed``.

    ``start``/``finish`` are the worker's clock when the body began and when its last
    result was done (NaN if unknown); ``stopped`` when it returned; ``units`` the kernel
    terms it computed.
    """

    worker: int
    status: str
    start: float = math.nan
    finish: float = math.nan
    stopped: float = math.nan
    units: int = 0
    error: str = ""


Message = Result | End


@dataclass(frozen=True)
class Capacity:
    """How many logical workers an engine runs at once (``count``), in its own terms:
    ``what`` says it (``"the cluster has 4 threads"``), ``remedy`` how to raise it."""

    count: int
    what: str
    remedy: str


class Backend(ABC):
    """Runs the tasks of one scheme-trial at a time.

    A backend yields, per task, its :class:`Result` messages (one by one if it ``streams``,
    else together at the end) followed by one :class:`End`.
    """

    name: str = "?"
    streams: bool = False
    """Whether results can reach the master one by one while a task still runs."""
    progress: bool = False
    """Whether tasks report when they begin computing and can be stopped one by one
    (:meth:`cancel_task`): what rules that read a running task's progress need."""

    @classmethod
    def create(cls, concurrency: int, address: str | None = None, client=None) -> Backend:
        """The backend for ``concurrency`` logical workers at once, as
        :func:`~ltsim.execution.backends.make_backend` starts it (``address`` and ``client``
        concern only backends that run on a scheduler)."""
        return cls(concurrency)

    def share(self, data: KernelData) -> Any:
        """Make the workload available to the workers; the return value is passed to tasks."""
        return data

    @abstractmethod
    def submit(self, tasks: list[TaskSpec], shared: Any) -> Any:
        """Start every task; return a batch handle."""

    def submit_more(self, batch: Any, tasks: list[TaskSpec]) -> None:
        """Start ``tasks`` too, as part of ``batch`` (workers a master launches mid-trial)."""
        raise NotImplementedError(f"the {self.name} backend cannot add tasks to a batch")

    @abstractmethod
    def as_completed(self, batch: Any, timeout: float) -> Iterator[Message]:
        """Messages in order of arrival until every task has ended or ``timeout`` seconds."""

    def cancel_task(self, batch: Any, worker: int) -> None:
        """Stop one task of ``batch`` (its :class:`End` follows as usual)."""
        raise NotImplementedError(f"the {self.name} backend cannot stop one task")

    @abstractmethod
    def cancel(self, batch: Any, grace: float = 2.0) -> list[End]:
        """Stop every task still running; return the :class:`End` of each task that had not
        ended yet (waiting up to ``grace`` seconds for them to acknowledge)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine."""

    def capacity(self) -> Capacity | None:
        """How many logical workers the engine runs at once, or ``None`` when it starts one
        for every task (no limit). Below the logical workers a trial needs at once, tasks
        queue and latency measures queueing, not stragglers."""
        return None

    def describe(self) -> dict[str, Any]:
        """What to record in ``meta.json``."""
        return {"backend": self.name, "streams": self.streams}

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def end_of(worker: int, part, error: str = "") -> End:
    """The :class:`End` of a task from its :class:`~ltsim.execution.worker.Part`."""
    finish = part.results[-1][2] if part.results else math.nan
    return End(worker, part.status, part.start, finish, part.stopped, part.units, error)
