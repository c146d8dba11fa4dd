"""What each logical worker of a scheme computes in one real trial, from the code's plan.

Kernel terms are numbered ``0..m-1``; worker-level function (unit) ``f_j`` (``j < n``) is the
sum of terms ``j q .. j q + q - 1`` with ``q = m / n``. A *unit* of work in ``tasks.csv`` is
one kernel term, so the fitted ``tau`` is the simulator's ``tau`` (time of one ``f_i``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..montecarlo.streams import stream

if TYPE_CHECKING:  # task bodies import this module on the workers: keep it light
    from ..codes.base import Plan, TaskPlan, Work


@dataclass(frozen=True)
class Result:
    """One result a task computes: ``sum_t weights[t] * kernel(terms[t])`` (a plain sum when
    ``weights`` is ``None``)."""

    terms: np.ndarray
    weights: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.terms.shape[0])


@dataclass(frozen=True)
class TaskSpec:
    """One logical worker's task (picklable; shipped to the backend).

    Attributes
    ----------
    scheme, trial, worker : str, int, int
        Which task.
    delay : float
        Injected start-up delay in seconds (a sleep that cancellation interrupts).
    fail : str or None
        ``"raise"`` or ``"hang"`` to make this worker a straggler that never returns.
    results : tuple of Result
        What each result sums, computed in this order.
    stream : bool
        Return each result as soon as it is computed (else all at the end).
    max_seconds : float
        Bound on any wait inside the task (the config's timeout).
    """

    scheme: str
    trial: int
    worker: int
    delay: float
    fail: str | None
    results: tuple[Result, ...]
    stream: bool
    max_seconds: float

    @property
    def units(self) -> int:
        """Kernel terms in the whole task."""
        return int(sum(r.size for r in self.results))


def trial_draws(config, trial: int) -> tuple[np.ndarray, set[int], list]:
    """Start-up delays (seconds, after ``time_scale``), failing workers and the schemes'
    streams of one trial, from the same streams as ``ltsim run``
    (:func:`simulator.montecarlo.streams.stream`): child 0 the delays, child ``1 + i``
    scheme ``i``'s code.

    Failures draw from child ``1 + len(schemes)`` of the trial's seed sequence, a stream the
    simulator does not use.
    """
    n, n_schemes = config.n_workers, len(config.schemes)
    if config.delay is None:
        delays = np.zeros(n)
    else:
        delays = config.delay.sample(stream(config.seed, trial, 0), n) * config.time_scale
    failing: set[int] = set()
    if config.fail is not None:
        failing.update(config.fail.workers)
        if config.fail.probability > 0:
            u = stream(config.seed, trial, 1 + n_schemes).random(n)
            failing.update(np.flatnonzero(u < config.fail.probability).tolist())
    rngs = [stream(config.seed, trial, 1 + i) if s.draws else None
            for i, s in enumerate(config.schemes)]
    return delays, failing, rngs


def terms(work: Work, q: int) -> Result:
    """The kernel terms of the units of ``work`` (``q`` terms a unit), weights spread."""
    units = np.asarray(work.units, dtype=np.int64)
    rows = (units[:, None] * q + np.arange(q)).ravel()
    weights = None if work.weights is None else np.repeat(work.weights, q)
    return Result(rows, weights)


def task_specs(config, index: int, trial: int, plan: Plan, delays: np.ndarray,
               failing: set[int]) -> list[TaskSpec]:
    """The backend's tasks for the code plan of scheme ``index`` in ``trial``."""
    return [spec(config, index, trial, task, delays, failing) for task in plan.tasks]


def spec(config, index: int, trial: int, task: TaskPlan, delays: np.ndarray,
         failing: set[int], delay: float | None = None) -> TaskSpec:
    """One backend task for ``task`` of scheme ``index``; ``delay`` overrides the worker's
    injected start-up delay (extra workers launched by the master)."""
    q = config.terms_per_unit
    mode = config.fail.mode if config.fail is not None else None
    worker = task.worker
    if delay is None:
        delay = float(delays[worker]) if worker < delays.shape[0] else 0.0
    return TaskSpec(config.schemes[index].scheme_id, trial, worker, delay,
                    mode if worker in failing else None,
                    tuple(terms(w, q) for w in task.work), task.stream, config.timeout)


def relative_error(decoded: float, exact: float) -> float:
    """``|decoded - exact| / |exact|`` (NaN when nothing was decoded)."""
    if not math.isfinite(decoded):
        return math.nan
    return abs(decoded - exact) / abs(exact) if exact else abs(decoded)
