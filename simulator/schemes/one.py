"""All-at-One: a single worker computes all functions."""

from __future__ import annotations

from typing import Literal

from .. import theory
from .base import Outcome, Scheme


class AllAtOne(Scheme):
    """``T = X_1 + tau * n``: worker 1 computes every function."""

    kind: Literal["one"]

    @property
    def default_id(self) -> str:
        return "one"


    def simulate(self, delays, tau, rngs) -> Outcome:
        return Outcome.uncoded(delays[:, 0] + tau * delays.shape[1])

    def theory_mean(self, delay, workers, tau) -> float:
        # Proposition 2 for exponential delays; by linearity E[X] + tau n for any law.
        parts = theory.exponential_parts(delay)
        if parts:
            return theory.mean_all_at_one(workers, tau, *parts)
        return delay.mean + tau * workers
