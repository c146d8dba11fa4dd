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

from ..model.work import Work
from ..montecarlo.streams import CLASSES, SPEEDS, stream
from .task import TaskSpec

if TYPE_CHECKING:
    from ..codes.base import TaskPlan


@dataclass(frozen=True)
class Draws:
    """What one trial of an execution draws: start-up delays (seconds, after
    ``time_scale``), speed factors, failing workers and every scheme's stream."""

    delays: np.ndarray
    speeds: np.ndarray
    failing: set[int]
    rngs: list[np.random.Generator]


def trial_draws(config, trial: int) -> Draws:
    """The draws of one trial, from the same streams as ``ltsim run``
    (:mod:`ltsim.montecarlo.streams`): the delays and speeds of the workers as the
    simulation draws them (:meth:`~ltsim.model.cluster.Cluster.draw`), child ``1 + i``
    scheme ``i``'s code.

    Failures draw from child ``1 + len(schemes)`` of the trial's seed sequence, a stream the
    simulator does not use.
    """
    n, n_schemes = config.n_workers, len(config.schemes)
    delays, speeds = config.cluster().draw(n, stream(config.seed, trial, 0),
                                           stream(config.seed, trial, CLASSES),
                                           stream(config.seed, trial, SPEEDS))
    delays = delays * config.time_scale
    speeds = np.ones(n) if speeds is None else speeds
    failing: set[int] = set()
    if config.fail is not None:
        failing.update(config.fail.workers)
        if config.fail.probability > 0:
            u = stream(config.seed, trial, 1 + n_schemes).random(n)
            failing.update(np.flatnonzero(u < config.fail.probability).tolist())
    rngs = [stream(config.seed, trial, 1 + i) for i in range(n_schemes)]
    return Draws(delays, speeds, failing, rngs)


def round_draws(config, trial: int) -> list[Draws]:
    """The draws of every round of one trial of an iterative job (``rounds``), exactly as
    ``ltsim run`` draws them (:mod:`ltsim.montecarlo.queue`): the machines once, then for
    each round their classes one step along ``persistence`` (from the second round on) and
    fresh start-up delays from the trial's delay stream, continued (a trace by iteration
    replays the round's iteration); the failing workers are the trial's, in every round;
    every scheme's stream continues from round to round. A single job gives
    ``[trial_draws(config, trial)]``."""
    if not config.iterative:
        return [trial_draws(config, trial)]
    first = trial_draws(config, trial)
    n = config.n_workers
    cluster = config.cluster()
    delay_rng, chain = stream(config.seed, trial, 0), stream(config.seed, trial, CLASSES)
    machines = cluster.machines(n, chain, stream(config.seed, trial, SPEEDS))
    out = []
    for job in range(config.rounds):
        if job and cluster.evolving:
            machines = cluster.evolve(machines, chain)
        delays = cluster.delays(machines, delay_rng, job) * config.time_scale
        speeds = np.ones(n) if machines.speeds is None else machines.speeds
        out.append(Draws(delays, speeds, first.failing, first.rngs))
    return out


def terms(work: Work, q: int) -> Work:
    """``work`` in kernel terms: each unit's ``q`` terms, weights spread."""
    units = np.asarray(work.units, dtype=np.int64)
    rows = (units[:, None] * q + np.arange(q)).ravel()
    weights = None if work.weights is None else np.repeat(work.weights, q)
    return Work(rows, weights)


def spec(config, index: int, trial: int, draws: Draws, task: TaskPlan) -> TaskSpec:
    """The backend task for ``task`` of scheme ``index``: the worker's injected start-up
    delay and speed from the trial's draws, or, for a worker the master launches itself,
    those the code drew for it (scaled by ``time_scale`` likewise)."""
    q = config.terms_per_unit
    mode = config.fail.mode if config.fail is not None else None
    worker = task.worker
    if task.delay is not None:
        delay = task.delay * config.time_scale
        speed = (float(draws.speeds[task.machine]) if task.machine is not None
                 else task.speed or 1.0)
    else:
        delay, speed = float(draws.delays[worker]), float(draws.speeds[worker])
    return TaskSpec(config.schemes[index].scheme_id, trial, worker, delay,
                    mode if worker in draws.failing else None,
                    tuple(terms(w, q) for w in task.work), task.stream, config.timeout, speed,
                    task.progress)


def relative_error(decoded: float, exact: float) -> float:
    """``|decoded - exact| / |exact|`` (NaN when nothing was decoded)."""
    if not math.isfinite(decoded):
        return math.nan
    return abs(decoded - exact) / abs(exact) if exact else abs(decoded)
