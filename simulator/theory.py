"""Closed forms of the paper for exponential start-up delays.

With ``X_j = shift + Exp(rate)`` (``shift = 0`` for the plain exponential), ``n`` workers and
unit time ``tau``:

* Proposition 2 (All-at-One):   E[T] = shift + tau * n + 1 / rate
* Proposition 1 (r-Replication): E[T] = shift + tau * r + H_{n/r} / (r * rate)
  (``r = 1`` is Uncoded)
* Theorem 1 (LT-r, bound):       E[T] <= shift + tau * (r + 1) * dbar_{n/r} + 1 / rate
"""

from __future__ import annotations

from .delays import Exponential, ShiftedExponential
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
