"""The interface every code implements, simulated and real.

A code (config ``kind``) is one module with one :class:`Code` subclass carrying everything
specific to it:

* its validated parameters (pydantic fields) and cross-field rules (:meth:`Code.check`);
* its simulation: :meth:`Code.simulate` maps a block of trials (start-up delays of every
  worker, the unit time, the code's own random streams) to an :class:`~ltsim.model.
  outcome.Outcome` (latency, symbols used, decoded, ...);
* its real execution: :meth:`Code.plan` says what each logical worker computes (which units,
  in which order, which results it returns) and gives the :class:`Master` that recovers F(x)
  from the real values as they arrive;
* its closed forms (:meth:`Code.theory_mean`, :meth:`Code.theory_bound`) and its legend name
  (:meth:`Code.display_name`).

Engines, results, plots and the command line only ever talk to this interface.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import Field, model_serializer

from ..model.outcome import Outcome
from ..model.system import TrialBlock
from ..model.work import Work
from ..util.validation import CrossFieldError, StrictModel

__all__ = ["Code", "CrossFieldError", "Master", "Outcome", "OverSources", "Plan", "SumMaster",
           "TaskPlan", "TrialBlock", "Work", "task_finish"]


def busy_and_units(delays: np.ndarray, unit_times: np.ndarray | float, work: np.ndarray,
                   latency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cost of a block of trials: ``worker_seconds`` and ``units`` per trial.

    Every worker in the arrays started at time 0; worker ``j`` computes its ``work[j]`` unit
    tasks back to back from ``delays[j]``, one every ``unit_times[j]``, and is stopped at the
    latency ``T`` (the master cancels what is left). So it is busy for
    ``min(finish_j, T)`` and has completed ``work_j`` units if ``finish_j <= T``, else
    ``floor((T - X_j) / unit_time_j)`` of them (at least 0, at most ``work_j - 1``).

    Parameters
    ----------
    delays : ndarray, shape (trials, workers)
    unit_times : float or ndarray, shape (trials, workers)
    work : ndarray, shape (workers,) or (trials, workers)
        Unit tasks each worker would do if never stopped.
    latency : ndarray, shape (trials,)
        ``inf`` for a failed trial: every worker then runs to its end.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        finish = delays + unit_times * work
        stop = latency[:, None]
        done = finish <= stop
        seconds = np.where(done, finish, stop).sum(axis=1)
        partial = np.floor((stop - delays) / unit_times)
        partial = np.where(np.isfinite(partial), partial, np.where(stop > delays, work, 0))
        units = np.where(done, work, np.clip(partial, 0, np.maximum(work - 1, 0)))
    return seconds, units.sum(axis=1).astype(np.int64)


def task_finish(delays: np.ndarray, unit_times, work) -> np.ndarray:
    """Each worker's task end if never stopped, shape (trials, workers): it computes its
    ``work`` unit tasks back to back from its delay; NaN for a worker with no work (the
    :attr:`~ltsim.model.outcome.Outcome.finish` a queueing run asks for)."""
    work = np.broadcast_to(np.asarray(work, dtype=float), delays.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        finish = delays + np.asarray(unit_times, dtype=float) * work
    return np.where(work > 0, finish, np.nan)


def cost_columns(delays, unit_times, work, latency) -> dict[str, np.ndarray]:
    """:func:`busy_and_units` as the ``worker_seconds`` and ``units`` columns of an Outcome."""
    seconds, units = busy_and_units(delays, unit_times, work, latency)
    return {"worker_seconds": seconds, "units": units}


@dataclass(frozen=True)
class TaskPlan:
    """What one logical worker computes in a real trial.

    Attributes
    ----------
    worker : int
        The logical worker (``0..n-1``; extra workers a master launches are numbered from n).
    work : tuple of Work
        Its results, computed in this order.
    stream : bool
        Return each result as soon as it is done (``returns: symbol``) rather than all of
        them when the last is done.
    """

    worker: int
    work: tuple[Work, ...]
    stream: bool = False
    delay: float | None = None
    """Start-up delay of a worker the master launches itself (drawn by the code), seconds
    before any time scaling; ``None`` for the n planned workers (the trial's delays)."""
    speed: float | None = None
    """Its speed factor, likewise."""
    machine: int | None = None
    """The planned worker whose machine runs this task (its speed; a copy placed on a
    free worker, as Hadoop places them); ``None`` for :attr:`speed`."""
    progress: bool = False
    """The task reports when its start-up ends (its progress is then measurable, as
    engines that read task progress need)."""

    @property
    def units(self) -> int:
        """Unit tasks in the whole task."""
        return sum(w.size for w in self.work)


class Master:
    """The master's side of a code in one real trial: recovers F(x) from the values.

    :attr:`extras` holds per-trial numbers a code reports beside the latency (e.g. the
    backups launched), as its simulation reports them in ``latencies.csv``.

    Feed each result with :meth:`add`; :attr:`complete` turns true as soon as F(x) is
    recoverable, :attr:`failed` when it no longer can be from what this master accepts. A
    master that launches tasks of its own during the trial (speculative backups) returns the
    time it wants to act at from :meth:`wakeup` and the new tasks from :meth:`act`.
    """

    complete: bool = False
    failed: bool = False
    seconds: float = 0.0
    """Wall time spent decoding (the master's own work), summed over calls."""
    received: int = 0
    """Results fed so far."""

    def add(self, worker: int, index: int, value: float, at: float) -> bool:
        """Feed result ``index`` of ``worker``, received ``at`` seconds after submission;
        return :attr:`complete`."""
        raise NotImplementedError

    @property
    def value(self) -> float:
        """The decoded F(x); NaN before completion."""
        raise NotImplementedError

    @property
    def symbols(self) -> int | None:
        """Encoded symbols used (coded schemes only)."""
        return None

    def wakeup(self) -> float | None:
        """Seconds after submission at which :meth:`act` must be called, or ``None``."""
        return None

    def begun(self, worker: int, at: float) -> None:
        """Task ``worker`` (planned with ``progress``) ended its start-up ``at`` seconds
        after submission and began computing."""

    def cancels(self) -> list[int]:
        """Tasks (by worker) the master wants stopped now; emptied by the call."""
        return []

    def act(self, now: float) -> list[TaskPlan]:
        """Tasks to launch now (``now`` in seconds after submission); afterwards
        :meth:`wakeup` returns a later time or ``None``."""
        return []

    @property
    def extras(self) -> dict[str, float]:
        """Per-trial numbers of the code for ``executions.csv``."""
        return {}


class SumMaster(Master):
    """F(x) as the sum of ``k`` partial sums; ``part(worker, index)`` names the partial sum a
    result holds, and the first result of each part is kept. Serves One (k = 1), Uncoded
    (one part a worker), r-Replication (one part a group) and every code whose results are
    plain partial sums."""

    def __init__(self, k: int, part: Callable[[int, int], int]) -> None:
        self.k, self.part = k, part
        self.parts: dict[int, float] = {}

    def add(self, worker, index, value, at) -> bool:
        began = time.perf_counter()
        self.received += 1
        self.parts.setdefault(self.part(worker, index), value)
        self.complete = len(self.parts) == self.k
        self.seconds += time.perf_counter() - began
        return self.complete

    @property
    def value(self) -> float:
        return math.fsum(self.parts.values()) if self.complete else math.nan


@dataclass(frozen=True)
class Plan:
    """The tasks of one code in one real trial and the master that decodes their results."""

    tasks: list[TaskPlan]
    master: Master
    extras: dict[str, Any] = field(default_factory=dict)


Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}$")]


class Code(StrictModel):
    """A code: validated parameters, simulation, real execution, closed forms.

    Subclasses set ``kind`` to a ``Literal`` and implement :meth:`default_id`,
    :meth:`display_name`, :meth:`simulate` and, unless :attr:`executable` is false,
    :meth:`plan`.
    """

    label: Label | None = None
    draws: ClassVar[bool] = False
    """Whether :meth:`simulate` draws from the code's per-trial stream (the simulation then
    builds the streams; :meth:`plan` always receives the trial's stream, e.g. for a dense
    code's random generator matrix, which the simulation never needs)."""
    executable: ClassVar[bool] = True
    """Whether ``ltsim execute`` can run the code for real."""
    reference: ClassVar[bool] = False
    """A bound rather than a runnable scheme: plots draw it as a thin dashed line."""
    linear: ClassVar[bool] = True
    """Whether the code is defined for ``computation: linear`` (its encoded symbols then
    cost what one source symbol costs)."""
    def check_computation(self, workers: int, linear: bool) -> None:
        """Rules that depend on the computation (``linear`` or not): none by default; raise
        :class:`CrossFieldError` naming the key."""

    skews: ClassVar[bool] = False
    """Whether the code is defined with task skew (``skew:``, heavy partitions; see
    :mod:`ltsim.model.skew`): its simulation then times each task by
    :attr:`~ltsim.model.system.TrialBlock.task_times`."""

    queues: ClassVar[bool] = True
    """Whether the code is defined in a queueing run (``arrivals:``): its simulation then
    reports each worker's task end (:attr:`~ltsim.model.outcome.Outcome.finish`) when the
    block asks for it."""

    @property
    def scheme_id(self) -> str:
        """Name of the scheme in result files (``label`` when given)."""
        return self.label or self.default_id

    @property
    def default_id(self) -> str:
        raise NotImplementedError

    def display_name(self) -> str:
        """Legend name, as in the paper (``2-Rep``, ``LT-1``); the label when given."""
        return self.label or self.default_id

    def check(self, workers: int) -> None:
        """Raise :class:`CrossFieldError` if the code cannot run on ``workers`` workers."""

    def check_functions(self, m: int) -> None:
        """Raise :class:`CrossFieldError` if the code cannot split ``m`` functions."""

    def check_execution(self, workers: int) -> None:
        """Raise :class:`CrossFieldError` if ``ltsim execute`` cannot run the code on
        ``workers`` workers (called for :attr:`executable` codes only)."""

    def simulate(self, block: TrialBlock) -> Outcome:
        """Outcomes of a block of trials."""
        raise NotImplementedError

    def plan(self, workers: int, rng: np.random.Generator, streaming: bool,
             fresh=None, delays: np.ndarray | None = None, unit_times=None) -> Plan:
        """Tasks and master of one real trial.

        Parameters
        ----------
        workers : int
            Number of logical workers ``n``.
        rng : Generator
            The code's stream of the trial, the same one :meth:`simulate` gets, so the real
            run computes the code the simulation draws.
        streaming : bool
            Whether the backend can return results one by one while a task runs.
        fresh : callable, optional
            ``fresh(rng, size)``: new workers' start-up delays and speeds (see
            :class:`TrialBlock`), for codes whose master launches workers of its own.
        delays, unit_times : ndarray, optional
            The trial's start-up delays and unit times as injected: codes whose simulation
            draws in order of arrival (LT) draw the same code for them.
        """
        raise NotImplementedError

    def theory_mean(self, system) -> float:
        """Closed-form expected latency, NaN where none applies.

        ``system`` (:class:`~ltsim.model.system.SystemView`) holds the delay law, the
        number of workers and the unit time.
        """
        return math.nan

    def theory_bound(self, system) -> float:
        """Closed-form upper bound on the expected latency, NaN where none applies."""
        return math.nan

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        """Peak bytes of simulating a block of ``trials`` trials on ``workers`` workers,
        beyond the block's delays (see :mod:`ltsim.montecarlo.footprint`).

        The default is that of a vectorised simulation with :func:`cost_columns`: about five
        float64 temporaries of shape (trials, workers) alive at once.
        """
        return 40 * trials * workers


class OverSources(Code):
    """A code over ``k`` source symbols of ``m / k`` functions each (config ``k``; by default
    ``k = n / r``, a source being a group of ``r`` unit tasks).

    A subclass declares the field ``k: int | None = None`` (and ``r`` if it groups units).
    With ``k`` given, a source is ``n / k`` unit tasks, a whole number of functions
    (``k`` divides ``m``) but not necessarily of unit tasks: ``k`` sets the code's size
    independently of the number of workers (e.g. an LT code over the 10,000 rows of a
    matrix on 10 workers). ``k`` is omitted from the resolved config when not given.
    """

    @property
    def _group(self) -> int:
        return getattr(self, "r", 1)

    def sources(self, workers: int) -> int:
        """Source symbols ``k`` (``n / r`` unless ``k`` is given)."""
        return self.k if self.k is not None else workers // self._group

    def source_units(self, workers: int) -> float:
        """Unit tasks of one source symbol: ``r``, or ``n / k`` with ``k`` given."""
        return self._group if self.k is None else workers / self.k

    def check_sources(self, workers: int) -> None:
        """With ``k``: ``r`` keeps its default (``k`` replaces it)."""
        if self.k is not None and self._group != 1:
            raise CrossFieldError("r", "must be 1 (the default) when k is given: k sets the "
                                  "source symbols", self._group)

    def check_functions(self, m: int) -> None:
        if self.k is not None and m % self.k:
            raise CrossFieldError("k", f"must divide m ({m}): a source symbol is m/k "
                                  "functions", self.k)

    def check_execution(self, workers: int) -> None:
        if self.k is not None and workers % self.k:
            raise CrossFieldError("k", f"ltsim execute runs source symbols of whole unit "
                                  f"tasks: k must divide the workers ({workers})", self.k)

    @model_serializer(mode="wrap")
    def _omit_default_k(self, handler):
        data = handler(self)
        if isinstance(data, dict) and data.get("k", 0) is None:
            data.pop("k")
        return data
