"""Task skew: slowness that belongs to the task, not to the machine.

A skewed job has a few heavy tasks (a large partition, a hot key): ``skew: {fraction: 0.05,
work: 10}`` makes the first ``floor(fraction * n + 1/2)`` tasks (tasks ``0 .. c-1``, the same in
every trial) carry ``work`` times the nominal unit of work. A heavy task takes ``work`` times as
long wherever it runs: on its worker, ``X_j + u * speed_j * work``, and on any copy of it
(a speculative backup), ``X' + u * speed' * work``. This is the straggler speculation cannot
cure (a copy is as slow as the original) and that engines ask users to fix by repartitioning.

Defined for the codes whose task is a fixed partition of the data (``uncoded`` and ``backup``,
every policy); a coded scheme mixes partitions into its symbols, which this model does not
describe, so the config refuses it.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Annotated

import numpy as np
from pydantic import Field

from ..util.validation import StrictModel


class Skew(StrictModel):
    """Heavy tasks: ``fraction`` of the tasks (rounded as class sizes are:
    ``floor(fraction n + 1/2)``, the first ones in task order) with ``work`` times the nominal
    work of a task."""

    fraction: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
    work: Annotated[float, Field(gt=0, allow_inf_nan=False)]

    def heavy(self, n: int) -> int:
        """Heavy tasks among ``n``: ``floor(fraction n + 1/2)`` of the fraction as written
        (exact decimal arithmetic)."""
        return math.floor(Fraction(repr(float(self.fraction))) * n + Fraction(1, 2))

    def task_work(self, n: int) -> np.ndarray:
        """Every task's work in nominal units, shape (n,): ``work`` for the heavy tasks
        ``0 .. c-1``, 1 for the others."""
        work = np.ones(n)
        work[:self.heavy(n)] = self.work
        return work
