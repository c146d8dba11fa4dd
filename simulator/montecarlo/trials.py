"""Simulation of a block of trials of an experiment: the model side of the Monte Carlo."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..model.outcome import Block, Outcome
from ..model.system import TrialBlock
from .streams import CLASSES, SPEEDS, Streams


def simulate_trials(experiment, start: int, stop: int) -> list[Outcome]:
    """Simulate trials ``start .. stop-1`` of every scheme of ``experiment`` (a
    :class:`~ltsim.io.config.RunConfig`).

    Returns
    -------
    list of Outcome
        One per scheme, in the order of ``experiment.schemes``, each of length
        ``stop - start``.
    """
    if getattr(experiment, "job_stream", False):
        from .queue import simulate_queue_trials

        return simulate_queue_trials(experiment, start, stop)
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
    base = _streams(seed, 0, start, stop)
    if speeds is None:
        for row in range(stop - start):
            delays[row] = experiment.delay.sample(base.at(start + row), n)
    else:
        classes, factors = _streams(seed, CLASSES, start, stop), _streams(seed, SPEEDS,
                                                                          start, stop)
        for row in range(stop - start):
            trial = start + row
            delays[row], drawn = cluster.draw(n, base.at(trial), classes.at(trial),
                                              factors.at(trial))
            speeds[row] = 1.0 if drawn is None else drawn
    unit = experiment.unit_time
    linear = getattr(experiment, "linear", False)
    work = experiment.task_work() if hasattr(experiment, "task_work") else None
    return [scheme.simulate(TrialBlock(delays, unit, TrialStreams(seed, 1 + i, start, stop)
                                       if scheme.draws else (), speeds, cluster.fresh,
                                       linear=linear, work=work))
            for i, scheme in enumerate(schemes)]


def _streams(seed: int, child: int, start: int, stop: int) -> Streams:
    streams = Streams(seed, child)
    streams.block(start, stop)
    return streams


class TrialStreams(Sequence):
    """The code streams of a block's trials: ``rngs[b]`` is trial ``start + b``'s generator
    (:class:`~ltsim.montecarlo.streams.Streams`: one generator reused, so a trial's is
    valid until the next one is taken; codes take them in order)."""

    def __init__(self, seed: int, child: int, start: int, stop: int) -> None:
        self.streams, self.start, self.stop = _streams(seed, child, start, stop), start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, b: int) -> np.random.Generator:
        if not 0 <= b < len(self):
            raise IndexError(b)
        return self.streams.at(self.start + b)


def batch_size(experiment) -> int:
    """Trials per batch: bounded so that one batch's delays stay near 16 MiB.

    Depends on the experiment only, so results do not depend on the number of processes.
    A queueing run holds every job's delays: its blocks are smaller
    (:func:`~ltsim.montecarlo.queue.queue_batch_size`).
    """
    if getattr(experiment, "job_stream", False):
        from .queue import queue_batch_size

        return queue_batch_size(experiment)
    return int(max(1, min(128, (1 << 21) // experiment.n_workers)))
