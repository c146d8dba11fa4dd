"""r-Replication: groups of r workers compute the same partial sum."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from ..model.orderstats import (
    Expectation,
    expected_max_of_classes,
    expected_max_of_minima,
    harmonic,
)
from .base import (
    Code,
    CrossFieldError,
    Outcome,
    Plan,
    SumMaster,
    TaskPlan,
    Work,
    cost_columns,
    task_finish,
)


class Replication(Code):
    """``T = max over groups of min over the group's workers of (X_j + u r)``.

    Workers ``r(g-1)+1 .. rg`` form group ``g`` and each computes that group's ``r`` units.
    """

    kind: Literal["replication"] = "replication"
    r: Annotated[int, Field(ge=1)]

    @property
    def default_id(self) -> str:
        return f"rep{self.r}"

    def display_name(self) -> str:
        return self.label or f"{self.r}-Rep"

    def check(self, workers: int) -> None:
        if workers % self.r:
            raise CrossFieldError("r", f"must divide the number of workers ({workers})", self.r)

    def simulate(self, block) -> Outcome:
        trials, n = block.delays.shape
        r = self.r
        if block.speeds is None:
            fastest = block.delays.reshape(trials, n // r, r).min(axis=2)
            latency = fastest.max(axis=1) + block.unit * r
        else:
            finish = block.delays + block.unit_times * r
            latency = finish.reshape(trials, n // r, r).min(axis=2).max(axis=1)
        out = Outcome.uncoded(latency, **cost_columns(
            block.delays, block.unit_times, np.full(n, r), latency))
        if block.want_finish:
            out = out.finishing(task_finish(block.delays, block.unit_times, r))
        return out

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None) -> Plan:
        r = self.r
        return Plan(one_block_each(workers, r), SumMaster(workers // r, lambda w, i: w // r))

    def theory_mean(self, system) -> float:
        return expected_replication(system, self.r)

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        # the groups' minima, then the cost columns' temporaries, shape (trials, n)
        return 38 * trials * workers


def one_block_each(workers: int, r: int) -> list[TaskPlan]:
    """Worker ``j`` computes the ``r`` units of its group ``j // r`` as one result."""
    return [TaskPlan(j, (Work(np.arange(j // r * r, j // r * r + r)),)) for j in range(workers)]


def expected_replication(system, r: int) -> float | Expectation:
    """E[T] of r-Replication (``r = 1``: Uncoded): Proposition 1 under (shifted)
    exponential delays, ``E[T] = shift + u r + H_{n/r} / (r rate)``; for any other law
    ``u r + E[max over n/r groups of the min of r delays]``
    (:func:`~ltsim.model.orderstats.expected_max_of_minima`). Uncoded with worker classes
    (no speed law): ``E[max_j (X_j + u speed_j)]`` over the classes. NaN otherwise."""
    if not system.plain:
        cluster = system.cluster
        if r != 1 or cluster.speed is not None or system.law.per_worker:
            return math.nan
        counts = cluster.counts(system.workers)
        speeds = [c.speed for c in cluster.classes] or [1.0]
        return expected_max_of_classes(
            [(law, count, system.unit * speed)
             for law, count, speed in zip(cluster.laws(), counts, speeds, strict=True)])
    parts = system.law.shift_rate()
    if parts is not None:
        shift, rate = parts
        return shift + system.unit * r + harmonic(system.workers // r) / (r * rate)
    return expected_max_of_minima(system.law, system.workers // r, r).plus(system.unit * r)
