"""Uncoded: worker j computes f_j, the master waits for all."""

from __future__ import annotations

from typing import Literal

from .. import theory
from .base import Outcome, Scheme


class Uncoded(Scheme):
    """``T = max_j (X_j + tau)``."""

    kind: Literal["uncoded"]

    @property
    def default_id(self) -> str:
        return "uncoded"


    def simulate(self, delays, tau, rngs) -> Outcome:
        return Outcome.uncoded(delays.max(axis=1) + tau)

    def theory_mean(self, delay, workers, tau) -> float:
        parts = theory.exponential_parts(delay)
        if parts:
            return theory.mean_replication(workers, 1, tau, *parts)
        return tau + theory.mean_max_of_minima(delay, workers, 1)
