"""The system a scheme runs on: as the closed forms see it (:class:`SystemView`) and as a
code's simulation receives a block of its trials (:class:`TrialBlock`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .cluster import Cluster
from .laws import DelayLaw
from .skew import Skew


@dataclass(frozen=True)
class SystemView:
    """``workers`` workers with start-up delays from ``law`` (and the classes and speeds of
    ``cluster``); one unit task takes ``unit`` seconds (``tau * m / workers``) at speed 1.

    The closed forms of the paper hold for the plain model (:attr:`plain`: i.i.d. delays,
    every speed 1); codes return NaN where they have none for a richer cluster.
    """

    law: DelayLaw
    workers: int
    unit: float
    cluster: Cluster | None = None
    linear: bool = False
    """``computation: linear`` (closed forms that assumed degree costs do not hold)."""
    skew: Skew | None = None
    """Heavy tasks (:class:`~ltsim.model.skew.Skew`), or ``None``."""

    @property
    def plain(self) -> bool:
        return self.cluster is None or self.cluster.plain


@dataclass(frozen=True)
class TrialBlock:
    """What a code's simulation receives for a block of trials.

    Attributes
    ----------
    delays : ndarray of float64, shape (trials, workers)
        Start-up delay ``X_j`` of every worker in every trial.
    unit : float
        Time ``u`` of one unit task (one worker-level function) at speed 1.
    rngs : sequence of Generator
        The code's own stream of each trial (empty unless the code draws, see
        :attr:`Code.draws`).
    speeds : ndarray of float64, shape (trials, workers), or None
        Every worker's speed factor (its unit task takes ``unit * speed``); ``None`` when
        all are 1.
    fresh : callable, optional
        ``fresh(rng, size) -> (delays, speeds or None)``: new workers drawn like the others
        (for codes that start extra workers, e.g. speculative backups).

    In a queueing run the ``delays`` of a job's block are each worker's start-up delay plus
    the time its task waited for the worker (its effective delay, from the job's arrival).
    """

    delays: np.ndarray
    unit: float
    rngs: Sequence[np.random.Generator] = ()
    speeds: np.ndarray | None = None
    fresh: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray | None]] | None \
        = None
    want_finish: bool = False
    """A queueing run asks every code for each worker's task end
    (:attr:`~ltsim.model.outcome.Outcome.finish`)."""
    linear: bool = False
    """``computation: linear``: an encoded symbol costs what one of its source symbols costs,
    whatever its degree (A x with A encoded in advance)."""
    work: np.ndarray | None = None
    """Every task's work in nominal units, shape (workers,) (``skew:``, see
    :mod:`ltsim.model.skew`); ``None`` when every task is one unit."""

    @property
    def trials(self) -> int:
        return int(self.delays.shape[0])

    @property
    def workers(self) -> int:
        return int(self.delays.shape[1])

    @property
    def unit_times(self) -> np.ndarray | float:
        """Time of one unit task on every worker, shape (trials, workers), or the scalar
        ``unit`` when every speed is 1."""
        return self.unit if self.speeds is None else self.unit * self.speeds

    @property
    def task_times(self) -> np.ndarray | float:
        """Time of every worker's own task, :attr:`unit_times` times the task's work
        (``skew:``); :attr:`unit_times` itself without skew."""
        if self.work is None:
            return self.unit_times
        return np.asarray(self.unit_times, dtype=float) * self.work
