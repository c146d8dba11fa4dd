"""What a worker computes and returns: a sum of unit tasks, plain or weighted.

It lives apart from the codes (which plan it) because a real execution ships it to remote
workers: unpickling it there imports this module only, not the codes and their compiled
kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Work:
    """One result a worker computes and returns: ``sum_i weights[i] * f_{units[i]}``.

    ``weights`` is ``None`` for a plain sum. Its cost is ``len(units)`` unit tasks. A real
    execution ships it to its task in kernel terms (:func:`ltsim.execution.plan.terms`).
    """

    units: np.ndarray
    weights: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.units.shape[0])
