"""Uncoded: worker j computes f_j, the master waits for all."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np

from ..model.orderstats import expected_max_of_classes
from .base import Code, Outcome, Plan, SumMaster, cost_columns, task_finish
from .replication import expected_replication, one_block_each


class Uncoded(Code):
    """``T = max_j (X_j + u)``."""

    kind: Literal["uncoded"] = "uncoded"
    skews: ClassVar[bool] = True

    @property
    def default_id(self) -> str:
        return "uncoded"

    def display_name(self) -> str:
        return self.label or "Uncoded"

    def simulate(self, block) -> Outcome:
        if block.speeds is None and block.work is None:
            latency = block.delays.max(axis=1) + block.unit
        else:
            latency = (block.delays + block.task_times).max(axis=1)
        out = Outcome.uncoded(latency, **cost_columns(
            block.delays, block.task_times, np.ones(block.workers), latency))
        if block.want_finish:
            out = out.finishing(task_finish(block.delays, block.task_times, 1.0))
        return out

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None) -> Plan:
        return Plan(one_block_each(workers, 1), SumMaster(workers, lambda worker, index: worker))

    def theory_mean(self, system) -> float:
        skew = getattr(system, "skew", None)
        if skew is not None:  # heavy tasks: a class of their own, on a plain cluster
            if not system.plain:
                return math.nan
            heavy = skew.heavy(system.workers)
            return expected_max_of_classes(
                [(system.law, system.workers - heavy, system.unit),
                 (system.law, heavy, system.unit * skew.work)])
        return expected_replication(system, 1)

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        # the cost columns' temporaries, shape (trials, n): finish, done, seconds, partial
        return 34 * trials * workers
