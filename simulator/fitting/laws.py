"""The single-law candidates of ``ltsim fit``: censored maximum likelihood of one law of
:data:`ltsim.model.laws.LAWS` (those with ``fit_parameters``) on a :class:`CensoredSample` of
start-up times, :func:`fit_law` (:data:`FITTERS` by ``dist``; :data:`MODELS` says how each
is fitted).

A law is evaluated as its own :meth:`~ltsim.model.laws.DelayLaw.to_scipy` (``logpdf`` for
observed times, ``logsf`` for right-censored ones, ``logcdf`` for left-censored ones), on
parameter arrays that broadcast against the data. An edge of the support (shifted
exponential ``shift``, Pareto ``scale``) is estimated by the smallest observation, with the
standard deviation of that minimum's own exact law as standard error.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model.laws import LAWS
from .mle import (
    MIN_DELAY,
    POSITIVE,
    CensoredSample,
    FittedLaw,
    Map,
    broadcast,
    maximise,
)


@dataclass(frozen=True)
class LawModel:
    """How one law of :data:`~ltsim.model.laws.LAWS` is fitted.

    Attributes
    ----------
    dist : str
        The law's ``dist`` name.
    free : tuple of (str, Map)
        Parameters the optimiser estimates, with their coordinates.
    edge : str or None
        A parameter estimated by the smallest observation (edge of the support), if any.
    start : callable
        Starting values ``start(sample, edge)`` of the free parameters.
    """

    dist: str
    free: tuple[tuple[str, Map], ...]
    edge: str | None
    start: Callable[[CensoredSample, float | None], dict[str, float]]

    @property
    def names(self) -> tuple[str, ...]:
        """Every parameter, in config order."""
        return tuple(LAWS[self.dist].fit_parameters)

    def scipy(self, params: dict[str, Any]) -> Scipy:
        """The law at ``params`` (floats, or arrays that broadcast against the data) in
        scipy.stats terms: the law's own :meth:`~ltsim.model.laws.DelayLaw.scipy_form`, on a
        law built without validation so that its parameters may be arrays (the optimiser's
        many points at once)."""
        law = LAWS[self.dist].model_construct(**{n: params[n] for n in self.names})
        return Scipy(*law.scipy_form())


@dataclass(frozen=True)
class Scipy:
    """A law as a :mod:`scipy.stats` distribution ``rv`` and its arguments, evaluated without
    freezing (see :meth:`~ltsim.model.laws.DelayLaw.scipy_form`)."""

    rv: Any
    args: tuple
    kwds: dict[str, Any]

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        return self.rv.logpdf(x, *self.args, **self.kwds)

    def logsf(self, x: np.ndarray) -> np.ndarray:
        return self.rv.logsf(x, *self.args, **self.kwds)

    def logcdf(self, x: np.ndarray) -> np.ndarray:
        return self.rv.logcdf(x, *self.args, **self.kwds)


def _log_moments(s: CensoredSample) -> tuple[float, float]:
    lx = np.log(np.maximum(s.x, MIN_DELAY))
    return float(lx.mean()), float(lx.std()) or 0.1


def _start_weibull(s: CensoredSample, _edge) -> dict[str, float]:
    m, sd = _log_moments(s)
    shape = min(max(math.pi / (math.sqrt(6) * sd), 0.05), 50.0)
    return {"scale": math.exp(m + 0.5772 / shape), "shape": shape}


def _start_lognormal(s: CensoredSample, _edge) -> dict[str, float]:
    m, sd = _log_moments(s)
    return {"mu": m, "sigma": sd}


def _start_pareto(s: CensoredSample, edge) -> dict[str, float]:
    spread = float(np.log(s.x / edge).mean())
    return {"shape": 1.0 / spread if spread > 0 else 1.0}


def _start_rate(s: CensoredSample, edge) -> dict[str, float]:
    mean = float(s.x.mean()) - (edge or 0.0)
    return {"rate": 1.0 / mean if mean > 0 else 1.0}


MODELS: dict[str, LawModel] = {
    "exponential": LawModel("exponential", (("rate", POSITIVE),), None, _start_rate),
    "shifted_exponential": LawModel("shifted_exponential", (("rate", POSITIVE),), "shift",
                                    _start_rate),
    "pareto": LawModel("pareto", (("shape", POSITIVE),), "scale", _start_pareto),
    "weibull": LawModel("weibull", (("scale", POSITIVE), ("shape", POSITIVE)), None,
                        _start_weibull),
    "lognormal": LawModel("lognormal", (("mu", Map("linear")), ("sigma", POSITIVE)), None,
                          _start_lognormal),
}
"""How each candidate law is fitted, by ``dist``."""


def _law_loglik(model: LawModel, params: dict[str, Any], s: CensoredSample) -> np.ndarray:
    law = model.scipy(broadcast(params))
    ll = law.logpdf(s.x).sum(axis=-1)
    if s.c.size:
        ll = ll + law.logsf(s.c).sum(axis=-1)
    if s.left.size:
        ll = ll + law.logcdf(s.left).sum(axis=-1)
    return ll


def _edge_se(model: LawModel, params: dict[str, float], s: CensoredSample) -> tuple[float, str]:
    """Standard deviation of the smallest of the ``n`` times at risk, its exact law."""
    edge = params[model.edge]
    n = s.at_risk(edge)
    if model.dist == "pareto":
        a = n * params["shape"]  # the minimum of n Pareto(scale, shape) is Pareto(scale, n shape)
        se = edge * math.sqrt(a) / ((a - 1) * math.sqrt(a - 2)) if a > 2 else math.inf
        return se, (f"= min x; SE of the minimum of {n} times at risk, "
                    f"Pareto(scale, {n} shape)")
    se = 1.0 / (n * params["rate"])  # min of n shifted exponentials: shift + Exp(n rate)
    return se, f"= min x; SE of the minimum of {n} times at risk, shift + Exp({n} rate)"


def fit_law(name: str, sample: CensoredSample) -> FittedLaw:
    """Censored maximum-likelihood fit of the law ``name`` (a key of :data:`MODELS`).

    Parameters
    ----------
    name : str
        The law's ``dist``.
    sample : CensoredSample
        Positive start-up times, at least two observed.

    Returns
    -------
    FittedLaw
        With a standard error for every parameter.
    """
    if sample.events < 2:
        raise ValueError(f"need at least 2 observed times, got {sample.events}")
    model = MODELS[name]
    edge = float(sample.x.min()) if model.edge else None
    fixed = {model.edge: edge} if model.edge else {}
    if model.edge and sample.left.size and sample.left.min() < edge:
        params = {n: math.nan for n in model.names}
        return FittedLaw(name, name, params, dict(params), -math.inf, len(model.names),
                         {"delay": {"dist": name, **params}},
                         {"": f"impossible: {sample.left.size} start-up times at most "
                              f"{sample.left.min():.3g} s, below any {model.edge} = min x"},
                         "law", False)
    names = [n for n, _ in model.free]
    maps = [m for _, m in model.free]

    def nll(p: dict[str, np.ndarray]) -> np.ndarray:
        return -_law_loglik(model, {**p, **fixed}, sample)

    sol = maximise(nll, names, maps, model.start(sample, edge))
    params = {n: (edge if n == model.edge else sol.theta[n]) for n in model.names}
    se = {n: sol.se.get(n, math.nan) for n in model.names}
    notes = dict(sol.notes)
    if model.edge:
        se[model.edge], notes[model.edge] = _edge_se(model, params, sample)
    return FittedLaw(name, name, params, se, sol.loglik, len(model.names),
                     {"delay": {"dist": name, **params}}, notes, "law", sol.converged)


FITTERS: dict[str, Callable[[CensoredSample], FittedLaw]] = {
    name: functools.partial(fit_law, name) for name, law in LAWS.items() if law.fit_parameters
}
"""The fitter of every candidate law of :data:`~ltsim.model.laws.LAWS`, by ``dist``."""

_missing = set(FITTERS) - set(MODELS)
if _missing:  # a new candidate law needs its LawModel here
    raise ImportError(f"no estimation model for the candidate laws {sorted(_missing)}")
