"""All-at-One: a single worker computes every function."""

from __future__ import annotations

from typing import Literal

import numpy as np

from .base import Code, Outcome, Plan, SumMaster, TaskPlan, Work


class AllAtOne(Code):
    """``T = X_1 + u n``: worker 1 computes every unit task."""

    kind: Literal["one"]

    @property
    def default_id(self) -> str:
        return "one"

    def display_name(self) -> str:
        return self.label or "One"

    def simulate(self, block) -> Outcome:
        return Outcome.uncoded(block.delays[:, 0] + block.unit * block.workers)

    def plan(self, workers, rng, streaming) -> Plan:
        task = TaskPlan(0, (Work(np.arange(workers)),))
        return Plan([task], SumMaster(1, lambda worker, index: 0))

    def theory_mean(self, system) -> float:
        # Proposition 2 for (shifted) exponential delays; by linearity E[X] + u n for any law.
        parts = system.law.shift_rate()
        if parts is not None:
            shift, rate = parts
            return shift + system.unit * system.workers + 1.0 / rate
        return system.law.mean + system.unit * system.workers
