"""Order statistics behind the closed forms, for any delay law.

``mean_max_of_minima`` is ``E[max over groups of min over r delays]``, the latency of
r-Replication less ``u r`` (``r = 1``: Uncoded).
"""

from __future__ import annotations

import math

import numpy as np

EULER_GAMMA = 0.5772156649015329


def harmonic(n: int) -> float:
    """``H_n = sum_{v=1}^n 1/v``: summed exactly up to 10^4, asymptotic series beyond
    (error below 1e-17 there)."""
    if n <= 10_000:
        return math.fsum(1.0 / v for v in range(1, n + 1))
    return math.log(n) + EULER_GAMMA + 1 / (2 * n) - 1 / (12 * n**2) + 1 / (120 * n**4)


def mean_max_of_minima(delay, groups: int, r: int) -> float:
    """``E[max over groups of min over r delays]`` for any delay law, i.i.d. delays."""
    atoms = delay.atoms()
    if atoms is not None:
        return _mean_max_of_minima_atoms(*atoms, groups, r)
    if r * delay.tail_index <= 1:
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
