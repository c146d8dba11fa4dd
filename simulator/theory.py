"""Closed forms of the paper, and the order statistics behind them for any delay law.

With ``X_j = shift + Exp(rate)`` (``shift = 0`` for the plain exponential), ``n`` workers and
unit time ``tau``:

* Proposition 2 (All-at-One):   E[T] = shift + tau * n + 1 / rate
* Proposition 1 (r-Replication): E[T] = shift + tau * r + H_{n/r} / (r * rate)
  (``r = 1`` is Uncoded)
* Theorem 1 (LT-r, bound):       E[T] <= shift + tau * (r + 1) * dbar_{n/r} + 1 / rate

For other delay laws the expectation behind Proposition 1, ``E[max of n/r group minima]``,
is computed by :func:`mean_max_of_minima`; All-at-One is ``E[X] + tau * n`` for any law.
"""

from __future__ import annotations

import math

import numpy as np

from .delays import Exponential, Pareto, ShiftedExponential
from .soliton import harmonic


def exponential_parts(delay) -> tuple[float, float] | None:
    """``(shift, rate)`` when ``delay`` is exponential or shifted exponential, else ``None``."""
    if isinstance(delay, Exponential):
        return 0.0, delay.rate
    if isinstance(delay, ShiftedExponential):
        return delay.shift, delay.rate
    return None


def mean_all_at_one(n: int, tau: float, shift: float, rate: float) -> float:
    """Proposition 2: ``E[T_one] = shift + tau n + 1/rate``."""
    return shift + tau * n + 1.0 / rate


def mean_replication(n: int, r: int, tau: float, shift: float, rate: float) -> float:
    """Proposition 1: ``E[T_rep] = shift + tau r + H_{n/r} / (r rate)``."""
    return shift + tau * r + harmonic(n // r) / (r * rate)


def bound_lt(r: int, mean_degree: float, tau: float, shift: float, rate: float) -> float:
    """Theorem 1: ``E[T_LT] <= shift + tau (r + 1) dbar + 1/rate``."""
    return shift + tau * (r + 1) * mean_degree + 1.0 / rate


def mean_max_of_minima(delay, groups: int, r: int) -> float:
    """``E[max over groups of min over r delays]`` for any delay law, i.i.d. delays.

    This is the latency of r-Replication less ``tau * r`` (``r = 1``: Uncoded) and reduces
    to Proposition 1 for exponential delays.

    * Laws with atoms (constant, empirical): exact sum over the atoms with
      ``P(M <= x) = (1 - S(x)**r)**groups``, ``S`` the survival function.
    * Continuous laws: ``E[M] = int_0^1 Q_M(u) du`` with
      ``Q_M(u) = isf((1 - u**(1/groups))**(1/r))``, by double-exponential (tanh-sinh)
      quadrature, which copes with the integrable singularity of heavy tails at ``u -> 1``.
    * Pareto with ``r * shape <= 1``: ``inf`` (the minimum of r delays has no mean).
    """
    if hasattr(delay, "atoms"):
        return _mean_max_of_minima_atoms(*delay.atoms(), groups, r)
    if isinstance(delay, Pareto) and r * delay.shape <= 1:
        return math.inf
    x = np.arange(-_TANH_SINH_HALF_WIDTH, _TANH_SINH_HALF_WIDTH + _TANH_SINH_STEP / 2,
                  _TANH_SINH_STEP)
    y = math.pi * np.sinh(x)
    log_u = -np.logaddexp(0.0, -y)  # log u, u = 1 / (1 + exp(-y))
    log_1mu = -np.logaddexp(0.0, y)  # log(1 - u)
    weight = _TANH_SINH_STEP * np.pi * np.cosh(x) * np.exp(log_u + log_1mu)
    survival = np.power(-np.expm1(log_u / groups), 1.0 / r)
    keep = (weight > 0) & (survival > 0)
    values = delay.isf(survival[keep])
    return float(math.fsum(weight[keep] * values))


_TANH_SINH_STEP = 1.0 / 64
_TANH_SINH_HALF_WIDTH = 4.0


def _mean_max_of_minima_atoms(values: np.ndarray, probs: np.ndarray, groups: int,
                              r: int) -> float:
    # survival after each atom, summed from the top so that small tails keep their digits
    above = np.concatenate([np.cumsum(probs[::-1])[::-1][1:], [0.0]])
    cdf_max = np.power(-np.expm1(r * np.log(np.maximum(above, 1e-300))) * (above > 0)
                       + (above == 0), groups)
    steps = np.diff(np.concatenate([[0.0], cdf_max]))
    return float(math.fsum(values * steps))
