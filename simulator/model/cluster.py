"""The workers of a trial: start-up delays ``X_j`` and speeds, as real clusters have them.

Worker ``j`` doing ``W`` unit tasks finishes at ``X_j + speed_j * u * W``. By default every
worker draws ``X_j`` i.i.d. from the system's delay law and has speed 1 (the paper's model).
Beyond it:

* worker classes (``classes: [{fraction: 0.95}, {fraction: 0.05, delay: {...}, speed: 5}]``):
  each trial assigns exactly ``floor(fraction * n + 1/2)`` workers to every class but the
  first, the first taking the rest, at random (a uniformly random permutation of the
  workers); a class may override the delay law and multiply the time of a unit task by
  ``speed`` (the "slow machines" model of the straggler literature);
* per-worker speed variation (``speed: {dist: lognormal, mu: 0, sigma: 0.3}``): every worker
  of every trial draws a factor from the law, multiplying its class's speed;
* per-worker traces (``delay: {dist: empirical, path: trace.csv, worker: NAME}``): worker
  ``j`` replays the delays measured on worker ``j`` of the trace (see
  :class:`~ltsim.model.laws.Empirical`).

The draws take their generators as arguments (the caller owns the streams): delays from the
trial's delay stream, in class order, the class assignment and the speeds from streams of
their own, so that a system without classes and speeds draws exactly what it always drew.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated

import numpy as np
from pydantic import Field

from ..util.validation import StrictModel
from .laws import DelayLaw, Law


class Persistence(StrictModel):
    """How a machine's class evolves from one round (or job) to the next: a Markov chain
    over the classes. ``stay: p`` keeps the class with probability ``p`` and otherwise
    redraws it from the classes' fractions (so ``stay: 0`` draws every round's class afresh
    and ``stay: 1`` never changes it); ``transition:`` gives the whole matrix, row ``i`` the
    law of the next class of a machine of class ``i``. The fractions are the chain's
    stationary law (``stay``: always; ``transition``: required)."""

    stay: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    transition: list[list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]]] | None = None

    def matrix(self, fractions: np.ndarray) -> np.ndarray:
        """The transition matrix over classes of the given fractions (summing to 1)."""
        if self.transition is not None:
            return np.array(self.transition, dtype=np.float64)
        k = fractions.size
        return self.stay * np.eye(k) + (1.0 - self.stay) * np.tile(fractions, (k, 1))


def stationary(matrix: np.ndarray) -> np.ndarray:
    """The stationary law ``pi = pi P`` of a transition matrix (least squares with the
    normalisation, exact for an irreducible chain)."""
    k = matrix.shape[0]
    system = np.vstack([matrix.T - np.eye(k), np.ones((1, k))])
    target = np.concatenate([np.zeros(k), [1.0]])
    return np.linalg.lstsq(system, target, rcond=None)[0]


class WorkerClass(StrictModel):
    """A class of workers: its share of the workers, its delay law (the system's if not
    given) and the factor by which it is slower at computing (``speed``, 1 = nominal)."""

    fraction: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
    delay: Law | None = None
    speed: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0


@dataclass(frozen=True)
class Machines:
    """The machines of a trial: the workers of each class (one group without classes) and
    every worker's speed factor (``None`` when all are 1)."""

    owners: list[np.ndarray]
    speeds: np.ndarray | None
    factors: np.ndarray | None = None
    """Every worker's factor from the speed law (``None`` without one): a property of the
    machine that its class, if it changes, does not change."""


def decimal(value: float) -> Fraction:
    """The exact value of ``value`` as its shortest decimal text (what the config says)."""
    return Fraction(repr(float(value)))


@dataclass(frozen=True)
class Cluster:
    """How the workers of a trial are drawn (see the module docstring)."""

    delay: DelayLaw | None
    classes: tuple[WorkerClass, ...] = ()
    speed: DelayLaw | None = None
    persistence: Persistence | None = None

    @property
    def plain(self) -> bool:
        """The paper's model: i.i.d. delays from one law, every speed 1."""
        return (self.speed is None and not (self.delay is not None and self.delay.per_worker)
                and all(c.delay is None and c.speed == 1.0 for c in self.classes))

    def counts(self, n: int) -> list[int]:
        """Workers in each class: ``floor(fraction n + 1/2)`` of the fraction as written
        (exact decimal arithmetic: 0.29 of 50 is 14.5, rounded up to 15), the first class the
        rest."""
        if not self.classes:
            return [n]
        rest = [math.floor(decimal(c.fraction) * n + Fraction(1, 2)) for c in self.classes[1:]]
        return [n - sum(rest), *rest]

    def laws(self) -> list[DelayLaw | None]:
        """The delay law of each class."""
        if not self.classes:
            return [self.delay]
        return [c.delay if c.delay is not None else self.delay for c in self.classes]

    def draw(self, n: int, delays_rng: np.random.Generator,
             classes_rng: np.random.Generator | None = None,
             speeds_rng: np.random.Generator | None = None,
             ) -> tuple[np.ndarray, np.ndarray | None]:
        """Start-up delays, shape (n,), and speeds (``None`` when all are 1) of one trial.

        ``classes_rng`` and ``speeds_rng`` are only used by systems with several classes and
        with a speed law.
        """
        machines = self.machines(n, classes_rng, speeds_rng)
        return self.delays(machines, delays_rng), machines.speeds

    def machines(self, n: int, classes_rng: np.random.Generator | None = None,
                 speeds_rng: np.random.Generator | None = None) -> Machines:
        """The machines of one trial: which workers fall in each class and every worker's
        speed (properties of the machine, kept for all the jobs of a queueing run)."""
        if self.plain:
            return Machines([np.arange(n)], None)
        counts = self.counts(n)
        speeds = np.ones(n)
        if len(counts) == 1:
            owners = [np.arange(n)]
        else:
            order = classes_rng.permutation(n)
            bounds = np.cumsum([0, *counts])
            owners = [order[bounds[k]:bounds[k + 1]] for k in range(len(counts))]
        if self.classes:
            for k, workers in enumerate(owners):
                speeds[workers] = self.classes[k].speed
        factors = None
        if self.speed is not None:
            factors = self.speed.sample(speeds_rng, n)
            speeds *= factors
        return Machines(owners, speeds, factors)

    @property
    def evolving(self) -> bool:
        """Machines whose class changes from one round (or job) to the next."""
        return (self.persistence is not None and len(self.classes) > 1 and not self.plain
                and self.persistence.stay != 1.0)

    def evolve(self, machines: Machines, rng: np.random.Generator) -> Machines:
        """The machines one round (or job) later: every machine moves to its next class by
        the chain of :attr:`persistence`, one uniform each from ``rng`` in worker order."""
        n = sum(int(w.size) for w in machines.owners)
        current = np.empty(n, dtype=np.int64)
        for k, workers in enumerate(machines.owners):
            current[workers] = k
        fractions = np.array([c.fraction for c in self.classes])
        cdf = np.cumsum(self.persistence.matrix(fractions / fractions.sum()), axis=1)
        u = rng.random(n)
        upcoming = np.minimum((u[:, None] >= cdf[current]).sum(axis=1), len(self.classes) - 1)
        owners = [np.flatnonzero(upcoming == k) for k in range(len(self.classes))]
        speeds = np.array([c.speed for c in self.classes])[upcoming]
        if machines.factors is not None:
            speeds = speeds * machines.factors
        return Machines(owners, speeds, machines.factors)

    def delays(self, machines: Machines, rng: np.random.Generator,
               job: int | None = None) -> np.ndarray:
        """Start-up delays of the workers of ``machines`` (one task each), from ``rng``; a
        trace by iteration replays iteration ``job`` (the round, or the job of a queueing
        run) and draws nothing."""
        n = sum(int(w.size) for w in machines.owners)
        if job is not None and getattr(self.delay, "per_iteration", False):
            return self.delay.replay(np.arange(n), job)
        if self.plain:
            return self._sample(self.delay, rng, n)
        delays = np.empty(n)
        for law, workers in zip(self.laws(), machines.owners, strict=True):
            delays[workers] = (np.zeros(workers.size) if law is None
                               else law.sample_workers(rng, workers))
        return delays

    @staticmethod
    def _sample(law: DelayLaw | None, rng, size: int) -> np.ndarray:
        """``size`` i.i.d. delays of a plain system (zeros without a law)."""
        return np.zeros(size) if law is None else law.sample(rng, size)

    def fresh(self, rng: np.random.Generator, size: int
              ) -> tuple[np.ndarray, np.ndarray | None]:
        """Start-up delays and speeds of ``size`` new workers (e.g. speculative backups): each
        of a class drawn with the classes' fractions as probabilities."""
        if self.plain:
            return self._sample(self.delay, rng, size), None
        laws = self.laws()
        if len(laws) > 1:
            weights = np.array([c.fraction for c in self.classes])
            kinds = rng.choice(len(laws), size=size, p=weights / weights.sum())
        else:
            kinds = np.zeros(size, dtype=np.int64)
        delays, speeds = np.empty(size), np.ones(size)
        for k, law in enumerate(laws):
            mine = np.flatnonzero(kinds == k)
            delays[mine] = np.zeros(mine.size) if law is None else law.sample_new(rng, mine.size)
            if self.classes:
                speeds[mine] = self.classes[k].speed
        if self.speed is not None:
            speeds *= self.speed.sample(rng, size)
        return delays, speeds
