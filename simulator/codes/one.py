"""All-at-One: a single worker computes every function."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from ..model.orderstats import expected_max_of_minima, weighted
from .base import Code, Outcome, Plan, SumMaster, TaskPlan, Work, cost_columns, task_finish


class AllAtOne(Code):
    """``T = X_1 + u n``: worker 1 computes every unit task."""

    kind: Literal["one"] = "one"

    @property
    def default_id(self) -> str:
        return "one"

    def display_name(self) -> str:
        return self.label or "One"

    def simulate(self, block) -> Outcome:
        n = block.workers
        if block.speeds is None:
            latency = block.delays[:, 0] + block.unit * n
            unit = block.unit
        else:
            unit = block.unit * block.speeds[:, :1]
            latency = block.delays[:, 0] + unit[:, 0] * n
        out = Outcome.uncoded(latency, **cost_columns(block.delays[:, :1], unit,
                                                      np.array([n]), latency))
        if block.want_finish:  # worker 1 does everything, the others have no task
            work = np.zeros(n)
            work[0] = n
            out = out.finishing(task_finish(block.delays, block.unit_times, work))
        return out

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        return 64 * trials  # worker 1's column only

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None) -> Plan:
        task = TaskPlan(0, (Work(np.arange(workers)),))
        return Plan([task], SumMaster(1, lambda worker, index: 0))

    def theory_mean(self, system):
        """Proposition 2 for (shifted) exponential delays; by linearity ``E[X] + u n`` for
        any law; with classes and speeds ``sum_c (n_c / n) (E[X_c] + u n speed_c E[S])``
        (worker 1 falls in class c with probability n_c / n)."""
        n, unit = system.workers, system.unit
        parts = system.law.shift_rate()
        if system.plain and parts is not None:
            shift, rate = parts
            return shift + unit * n + 1.0 / rate
        if system.law.per_worker:
            return math.nan
        cluster = system.cluster
        factor = 1.0 if cluster is None or cluster.speed is None else cluster.speed.mean
        if cluster is None or not cluster.classes:
            return expected_max_of_minima(system.law, 1, 1).plus(unit * n * factor)
        counts = cluster.counts(n)
        return weighted([(count / n, expected_max_of_minima(law, 1, 1).plus(
                              unit * n * c.speed * factor))
                         for law, count, c in zip(cluster.laws(), counts, cluster.classes,
                                                  strict=True) if count])
