"""Simulation of a block of trials of an experiment: the model side of the Monte Carlo."""

from __future__ import annotations

import numpy as np

from ..codes.base import TrialBlock
from ..model.outcome import Block, Outcome
from .streams import CLASSES, SPEEDS, stream


def simulate_trials(experiment, start: int, stop: int) -> list[Outcome]:
    """Simulate trials ``start .. stop-1`` of every scheme of ``experiment`` (a
    :class:`~simulator.io.config.RunConfig`).

    Returns
    -------
    list of Outcome
        One per scheme, in the order of ``experiment.schemes``, each of length
        ``stop - start``.
    """
    with np.errstate(over="ignore"):  # extreme valid parameters overflow to inf: a result
        return _simulate(experiment, start, stop)


def simulate_block(experiment, format_rows, start: int, stop: int) -> Block:
    """:func:`simulate_trials`, with the rows of the result file formatted here by
    ``format_rows(start, outcomes) -> list[bytes]`` (in the worker process, so that the
    process collecting the blocks does no per-trial work)."""
    outcomes = simulate_trials(experiment, start, stop)
    return Block(outcomes, format_rows(start, outcomes))


def _simulate(experiment, start: int, stop: int) -> list[Outcome]:
    n, schemes, seed = experiment.n_workers, experiment.schemes, experiment.seed
    cluster = experiment.cluster()
    delays = np.empty((stop - start, n))
    speeds = None if cluster.plain else np.empty((stop - start, n))
    rngs: list[list[np.random.Generator]] = [[] for _ in schemes]
    for row, trial in enumerate(range(start, stop)):
        if speeds is None:
            delays[row] = experiment.delay.sample(stream(seed, trial, 0), n)
        else:
            delays[row], speeds[row] = workers(cluster, n, seed, trial)
        for i, scheme in enumerate(schemes):
            if scheme.draws:  # only schemes that draw get a generator
                rngs[i].append(stream(seed, trial, 1 + i))
    unit = experiment.unit_time
    return [scheme.simulate(TrialBlock(delays, unit, rngs[i], speeds, cluster.fresh))
            for i, scheme in enumerate(schemes)]


def workers(cluster, n: int, seed: int, trial: int):
    """Start-up delays and speeds of a trial's workers (see
    :class:`~simulator.model.cluster.Cluster`), from the trial's delay stream and the
    streams of the class assignment and of the speeds."""
    delays, speeds = cluster.draw(n, stream(seed, trial, 0), stream(seed, trial, CLASSES),
                                  stream(seed, trial, SPEEDS))
    return delays, (np.ones(n) if speeds is None else speeds)


def batch_size(experiment) -> int:
    """Trials per batch: bounded so that one batch's delays stay near 16 MiB.

    Depends on the experiment only, so results do not depend on the number of processes.
    """
    return int(max(1, min(128, (1 << 21) // experiment.n_workers)))


def memory_estimate(experiment) -> int:
    """Rough peak memory, in bytes, of one process simulating one batch."""
    n = experiment.n_workers
    per_trial = max((s.memory_bytes(n) for s in experiment.schemes), default=0)
    return int(batch_size(experiment) * n * 8 * 3 + per_trial + 200 * 2**20)
