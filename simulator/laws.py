"""The start-up delay laws, as a user builds them: ``ltsim.laws.Exponential(rate=0.2)``.

Every law is a validated, immutable object with ``mean``, ``variance``, ``sf(x)`` (P(X > x)),
``logsf(x)``, ``sample(rng, size)`` and ``to_scipy()`` (a frozen scipy.stats distribution);
a config's ``delay:`` mapping is the same object (``{dist: exponential, rate: 0.2}``).
:data:`LAWS` lists them by their ``dist`` name.
"""

from __future__ import annotations

from .model.laws import (
    LAWS,
    Constant,
    DelayLaw,
    Empirical,
    Exponential,
    Lognormal,
    Mixture,
    Pareto,
    ShiftedExponential,
    Weibull,
)

__all__ = ["LAWS", "Constant", "DelayLaw", "Empirical", "Exponential", "Lognormal",
           "Mixture", "Pareto", "ShiftedExponential", "Weibull"]
