"""r-Replication: groups of r workers compute the same partial sum."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .. import theory
from .base import CrossFieldError, Outcome, Scheme


class Replication(Scheme):
    """``T = max over groups of min over the group's workers of (X_j + tau r)``.

    Workers ``r(g-1)+1 .. rg`` form group ``g`` and each computes that group's ``r`` functions.
    """

    kind: Literal["replication"]
    r: Annotated[int, Field(ge=1)]

    @property
    def default_id(self) -> str:
        return f"rep{self.r}"


    def check(self, workers: int) -> None:
        if workers % self.r:
            raise CrossFieldError("r", f"must divide the number of workers ({workers})", self.r)

    def simulate(self, delays, tau, rngs) -> Outcome:
        trials, n = delays.shape
        fastest = delays.reshape(trials, n // self.r, self.r).min(axis=2)
        return Outcome.uncoded(fastest.max(axis=1) + tau * self.r)

    def theory_mean(self, delay, workers, tau) -> float:
        parts = theory.exponential_parts(delay)
        if parts:
            return theory.mean_replication(workers, self.r, tau, *parts)
        return tau * self.r + theory.mean_max_of_minima(delay, workers // self.r, self.r)
