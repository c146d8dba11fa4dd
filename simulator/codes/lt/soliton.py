"""The Robust Soliton degree distribution of LT codes (Luby, 2002)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ...model.orderstats import harmonic


def spike_position(k: int, c: float, delta: float) -> tuple[float, int]:
    """``(S, spike)``: ``S = c ln(k/delta) sqrt(k)``, ``spike = round(k/S)`` in ``[1, k]``."""
    S = c * math.log(k / delta) * math.sqrt(k)
    return S, int(min(max(round(k / S), 1), k))


def mean_degree(k: int, c: float, delta: float) -> float:
    """Average Robust Soliton degree in closed form, O(1) for any ``k``.

    ``sum_d d rho(d) = 1/k + H_{k-1}``, ``sum_d d tau(d) = S (spike - 1)/k + spike * tau_spike``
    and ``beta = 1 + S H_{spike-1} / k + tau_spike``.
    """
    S, spike = spike_position(k, c, delta)
    tau_spike = S * max(math.log(S / delta), 0.0) / k
    beta = 1.0 + S * harmonic(spike - 1) / k + tau_spike
    total = 1.0 / k + harmonic(k - 1) + S * (spike - 1) / k + spike * tau_spike
    return total / beta


@dataclass(frozen=True)
class RobustSoliton:
    """Robust Soliton distribution over degrees ``1..k``.

    With ``S = c * ln(k / delta) * sqrt(k)`` and spike position ``s = round(k / S)``
    (clamped to ``[1, k]``)::

        rho(1) = 1/k,            rho(d) = 1 / (d (d - 1))   for d = 2..k
        tau(d) = S / (d k)       for d = 1..s-1
        tau(s) = S ln(S / delta) / k
        mu(d)  = (rho(d) + tau(d)) / beta,   beta = sum_d (rho(d) + tau(d))

    Parameters
    ----------
    k : int
        Number of source symbols, at least 1.
    c : float
        Robust Soliton constant, > 0.
    delta : float
        Decoding failure probability bound, in (0, 1).
    """

    k: int
    c: float
    delta: float
    pmf: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if int(self.k) != self.k or self.k < 1:
            raise ValueError(f"k must be an integer >= 1, not {self.k!r}")
        if not self.c > 0:
            raise ValueError(f"c must be > 0, not {self.c!r}")
        if not 0 < self.delta < 1:
            raise ValueError(f"delta must be in (0, 1), not {self.delta!r}")
        object.__setattr__(self, "pmf", self._unnormalised() / self.normaliser)
        self.pmf.setflags(write=False)

    @property
    def S(self) -> float:
        """Expected ripple size ``c * ln(k / delta) * sqrt(k)``."""
        return self.c * math.log(self.k / self.delta) * math.sqrt(self.k)

    @property
    def spike(self) -> int:
        """Degree of the spike, ``round(k / S)`` clamped to ``[1, k]``."""
        return int(min(max(round(self.k / self.S), 1), self.k))

    def _unnormalised(self) -> np.ndarray:
        k, S, spike = self.k, self.S, self.spike
        d = np.arange(1, k + 1, dtype=np.float64)
        rho = np.empty(k)
        rho[0] = 1.0 / k
        rho[1:] = 1.0 / (d[1:] * (d[1:] - 1.0))
        tau = np.zeros(k)
        tau[: spike - 1] = S / (d[: spike - 1] * k)
        # ln(S/delta) is negative when S < delta; tau must stay non-negative.
        tau[spike - 1] = S * max(math.log(S / self.delta), 0.0) / k
        return rho + tau

    @cached_property
    def normaliser(self) -> float:
        """``beta``, the sum of ``rho + tau`` over all degrees."""
        return float(math.fsum(self._unnormalised()))

    @cached_property
    def cdf(self) -> np.ndarray:
        """Cumulative distribution, shape (k,), last entry exactly 1."""
        cdf = np.cumsum(self.pmf)
        cdf[-1] = 1.0
        return cdf

    @cached_property
    def mean(self) -> float:
        """Average degree ``sum_d d * mu(d)``."""
        return float(np.dot(np.arange(1, self.k + 1), self.pmf))

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draw degrees by inversion of the CDF.

        Returns
        -------
        ndarray of int64, shape ``size``, values in ``1..k``.
        """
        u = rng.random(size)
        return np.searchsorted(self.cdf, u, side="right").astype(np.int64) + 1
