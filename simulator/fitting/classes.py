"""The two-class candidates of ``ltsim fit``: a fraction ``f`` of the workers computes every
unit ``v`` times slower, ``Y = X + s tau B`` with ``P(s = v) = f``, fitted to the task times
themselves (:class:`TaskTimes`) by :func:`fit_two_class`, for each law of ``X`` in
:data:`TWO_CLASS_LAWS`.

Two stages: ``tau, f, v`` from the residuals ``R = J + s tau B`` with ``J`` an exponentially
modified Gaussian (:func:`_residual_classes`), then the law of ``X`` with them held fixed.
Without known injected delays ``X`` is an ex-Gaussian in the first stage, which recovers the
classes on uncensored tables but, with many tasks cancelled before their first result (slow
ones more often), underestimates the slow fraction by 1-3 standard errors (measured). Laws
with an edge parameter (shifted exponential, Pareto) are not used as the model's ``X``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from .laws import MODELS
from .mle import (
    MIN_DELAY,
    POSITIVE,
    CensoredSample,
    FittedLaw,
    Map,
    Solution,
    broadcast,
    coordinate_search,
    maximise,
    standard_errors,
)


@dataclass(frozen=True, eq=False)
class TaskTimes:
    """Tasks for the two-class model ``Y = X + s tau B``.

    ``y`` and ``b`` are the time to the last result and the units done of the tasks that
    finished work; ``c`` and ``b1`` the time at which a task was cancelled before its first
    result and that first result's units (right-censoring: ``X + s tau b1 > c``).
    ``known`` and ``known_c`` are the start-up delays the run injected itself, when known.
    """

    y: np.ndarray
    b: np.ndarray
    c: np.ndarray
    b1: np.ndarray
    known: np.ndarray | None = None
    known_c: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("y", "b", "c", "b1", "known", "known_c"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, np.asarray(value, dtype=float).ravel())


TWO_CLASS_LAWS: tuple[str, ...] = tuple(n for n, m in MODELS.items() if not m.edge)
"""Laws of ``X`` the two-class model is fitted with (those without an edge parameter:
with one, the likelihood jumps in it at each task's two possible start-up times)."""


def _exponnorm_logpdf(x, loc, sd, tail):
    """Log-density of ``loc + N(0, sd^2) + Exp(mean tail)``: scipy's ``exponnorm`` with
    ``K = tail / sd`` (``-log tail + (sd/tail)^2/2 - (x - loc)/tail + log Phi(z - sd/tail)``,
    ``z = (x - loc)/sd``), written out with :func:`scipy.special.log_ndtr` to skip the
    argument checks of ``scipy.stats`` in the optimiser's inner loop."""
    z = (x - loc) / sd
    return (-np.log(tail) + 0.5 * (sd / tail) ** 2 - (x - loc) / tail
            + special.log_ndtr(z - sd / tail))


def _exponnorm_logsf(x, loc, sd, tail):
    """``log P(loc + N(0, sd^2) + Exp(mean tail) > x)``, in closed form (scipy's generic
    ``exponnorm.logsf`` integrates numerically, far too slowly here)."""
    z = (x - loc) / sd
    return np.logaddexp(special.log_ndtr(-z),
                        0.5 * (sd / tail) ** 2 - (x - loc) / tail + special.log_ndtr(z - sd / tail))


def _class_mixture(lf, ls, f):
    """``log((1 - f) e^lf + f e^ls)``."""
    return np.logaddexp(np.log1p(-f) + lf, np.log(f) + ls)


def _class_start(r: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Starting ``(tau, fraction, speed)`` from the time per unit ``r / b`` of the tasks with
    most work: its lower part is the fast class, values above twice that the slow one."""
    big = b >= np.quantile(b, 0.75)
    ratio = r[big] / b[big]
    tau = float(np.quantile(ratio, 0.1))
    if not tau > 0:
        tau = float(np.median(ratio[ratio > 0])) if (ratio > 0).any() else 1e-6
    slow = ratio[ratio > 2 * tau]
    v = min(float(np.median(slow) / tau), 100.0) if slow.size >= 5 else 3.0
    f = min(max(float(np.mean(ratio > 0.5 * (1 + v) * tau)), 0.02), 0.5)
    return {"tau": tau, "fraction": f, "speed": v}


_FLOOR = 0.03
"""Smallest ``sd`` of the ex-Gaussian ``X`` of the two-class model without known injected
delays, relative to the spread of ``X`` (see :func:`_residual_classes`)."""

_SPEEDS = (1.3, 1.7, 2.5, 4.0, 6.0, 9.0, 14.0, 20.0)
"""Speeds of the slow class screened when fitting from the task times alone."""


@functools.lru_cache(maxsize=4)
def _residual_classes(t: TaskTimes) -> Solution:
    """``(tau, fraction, speed)`` from ``R = J + s tau B``, ``J`` an exponentially modified
    Gaussian (``loc + N(0, sd^2) + Exp(tail)``).

    With the injected delays known, ``R = Y - injected`` and ``J`` is the engine's own
    jitter: the classes stand out sharply. Without, ``R = Y`` and ``J`` stands for ``X``
    itself; ``sd`` is then kept above :data:`_FLOOR` times the spread (10% to 90%) of
    ``Y - tau B``: a law with its density largest at 0 (the exponential) puts a cliff in the
    likelihood wherever a task's ``y - v tau B`` crosses 0, and a likelihood with hundreds
    of them has as many local maxima in ``v`` (measured: ``v`` off by up to 22 standard
    errors with a floor of 0.1%, within 2 with 3%). Cached by the identity of ``t`` (the
    fit of every law reuses it).
    """
    known = t.known is not None
    r = t.y - t.known if known else t.y
    rc = t.c - t.known_c if known else t.c
    spread = float(np.quantile(r, 0.9) - np.quantile(r, 0.1)) or 1e-3
    unit = max(float(np.median(np.abs(r))), 1e-6)
    first = _class_start(r, t.b)
    if known:
        floor = 1e-7
    else:  # the time per unit is blurred by X: the fast class's from the lowest ratios
        first["tau"] = float(np.quantile((r / t.b)[t.b >= np.quantile(t.b, 0.75)], 0.05))
        x0 = r - first["tau"] * t.b
        floor = max(_FLOOR * float(np.quantile(x0, 0.9) - np.quantile(x0, 0.1)), 1e-7)
    names = ["tau", "fraction", "speed", "loc", "sd", "tail"]
    maps = [POSITIVE, Map("logit"), Map("log1p"), Map("linear", scale=unit), POSITIVE,
            POSITIVE]
    bounds = [(None, None), (-12.0, 12.0), (math.log(1e-3), math.log(1e3)), (None, None),
              (math.log(floor), None), (math.log(1e-7), None)]

    def make_nll(r, b, rc, b1):
        def nll(p):
            p = broadcast(p)
            tau, f, v = p["tau"], p["fraction"], p["speed"]
            jitter = (p["loc"], p["sd"], p["tail"])
            ll = _class_mixture(_exponnorm_logpdf(r - tau * b, *jitter),
                                _exponnorm_logpdf(r - v * tau * b, *jitter), f).sum(axis=-1)
            if rc.size:
                ll = ll + _class_mixture(_exponnorm_logsf(rc - tau * b1, *jitter),
                                         _exponnorm_logsf(rc - v * tau * b1, *jitter),
                                         f).sum(axis=-1)
            return -ll

        return nll

    nll = make_nll(r, t.b, rc, t.b1)

    def with_jitter(st: dict[str, float]) -> dict[str, float]:
        resid = r - st["tau"] * t.b
        low = float(np.quantile(resid, 0.05))
        return {**st, "loc": low, "sd": max(0.05 * spread, 2 * floor),
                "tail": max(float(np.median(resid)) - low, 1e-6)}

    if known:  # the time per unit is sharp: a second start only if the first degenerates
        best = maximise(nll, names, maps, with_jitter(first), bounds, errors=False)
        if not (1e-4 < best.theta["fraction"] < 1 - 1e-4 and best.theta["speed"] > 1.01):
            other = {**first, "fraction": 0.1, "speed": 2.0 * first["speed"] + 2.0}
            sol = maximise(nll, names, maps, with_jitter(other), bounds, errors=False)
            best = sol if sol.loglik > best.loglik else best
    else:  # screen several speeds and fractions together on a thinned table
        starts = [with_jitter({**first, "fraction": f, "speed": v})
                  for v in _SPEEDS for f in (0.05, 0.2)]
        k = max(1, math.ceil(r.size / 800))
        order, starts = coordinate_search(
            lambda p: -make_nll(r[::k], t.b[::k], rc[::k], t.b1[::k])(p), starts, names,
            maps, bounds)
        best = maximise(nll, names, maps, starts[order[0]], bounds, errors=False)
    standard_errors(best, nll, names, maps,
                    np.array([m.u(best.theta[n]) for n, m in zip(names, maps, strict=True)]),
                    bounds)
    return best


def fit_two_class(times: TaskTimes, law: str = "exponential") -> FittedLaw:
    """Maximum likelihood of two classes of workers, ``Y = X + s tau B``.

    A task's time is ``Y = X + s tau B``: ``X`` its start-up time (law ``law``), ``B`` its
    units, ``s = v`` (``speed``) with probability ``f`` (``fraction``), else 1. Its density is
    ``(1 - f) p_X(y - tau B) + f p_X(y - v tau B)``; a task cancelled before its first result
    (``b1`` units) contributes ``(1 - f) S_X(c - tau b1) + f S_X(c - v tau b1)``. Tasks of
    at least two distinct ``B`` are needed to tell ``tau`` from ``v tau``.

    Two stages. First ``tau, f, v`` by maximum likelihood of the residuals
    ``R = J + s tau B`` (:func:`_residual_classes`): with the injected start-up delays known
    (``times.known``), ``R = Y - injected`` and ``J`` is the engine's own jitter, which tells
    the classes apart far better than ``Y``; without, ``R = Y`` and ``J`` is ``X`` modelled
    as an exponentially modified Gaussian. Then the law of ``X`` by maximum likelihood of
    ``Y`` with ``tau, f, v`` held there: its log-likelihood (a density of ``Y``, as the
    single laws' at the OLS ``tau``) is the one reported. The standard errors of ``tau, f,
    v`` are those of the first stage, the law's conditional on them.

    A fast-class ``X = y - tau B`` below :data:`MIN_DELAY` is left-censored there (as the
    single laws' are); the slow class has no density where ``y - v tau B <= 0``.

    Returns
    -------
    FittedLaw
        ``params``: ``tau``, ``fraction``, ``speed`` and the law's; ``n_params`` counts all
        of them; ``entries``: ``tau``, ``delay`` and ``classes``.
    """
    model = MODELS[law]
    if model.edge:
        raise ValueError(f"the two-class model is not fitted with {law} (edge parameter "
                         f"{model.edge})")
    t = times
    if t.y.size < 10 or np.unique(t.b).size < 2:
        raise ValueError("the two-class model needs at least 10 finished tasks of at least "
                         "two distinct units of work")
    first = _residual_classes(t)
    classes = {k: first.theta[k] for k in ("tau", "fraction", "speed")}
    fixed = {k: np.asarray(v) for k, v in classes.items()}

    def loglik(p):
        p = broadcast({**p, **fixed})
        tau, f, v = p["tau"], p["fraction"], p["speed"]
        law = model.scipy(p)
        xf = t.y - tau * t.b
        xs = t.y - v * tau * t.b
        fast = np.where(xf > MIN_DELAY, law.logpdf(np.maximum(xf, MIN_DELAY)),
                        law.logcdf(MIN_DELAY))
        slow = np.where(xs > 0, law.logpdf(np.maximum(xs, MIN_DELAY)), -np.inf)
        ll = _class_mixture(fast, slow, f).sum(axis=-1)
        if t.c.size:
            ll = ll + _class_mixture(law.logsf(t.c - tau * t.b1),
                                     law.logsf(t.c - v * tau * t.b1), f).sum(axis=-1)
        return ll

    x0 = np.maximum(t.y - classes["tau"] * t.b, MIN_DELAY)
    start = model.start(CensoredSample(x0, np.empty(0)), None)
    sol = maximise(lambda p: -loglik(p), [n for n, _ in model.free],
                   [m for _, m in model.free], start)
    jitter = ", ".join(f"{k} {first.theta[k]:.3g} s" for k in ("loc", "sd", "tail"))
    what = "Y - injected delay" if t.known is not None else "Y (no injected delays known)"
    notes = {"": (f"tau, fraction, speed from the residuals {what} = J + s tau B, J = loc + "
                  f"N(0, sd^2) + Exp(tail): {jitter}")}
    notes.update({k: v for k, v in first.notes.items() if k in classes})
    notes.update({k: v for k, v in sol.notes.items() if k})
    if first.notes.get("") or sol.notes.get(""):
        notes[""] += "; " + "; ".join(n for n in (first.notes.get(""), sol.notes.get("")) if n)
    params = {**classes, **{n: sol.theta[n] for n in model.names}}
    se = {**{k: first.se.get(k, math.nan) for k in classes}, **sol.se}
    f, v = params["fraction"], params["speed"]
    entries = {"tau": params["tau"],
               "delay": {"dist": law, **{n: params[n] for n in model.names}},
               "classes": [{"fraction": 1.0 - f}, {"fraction": f, "speed": v}]}
    return FittedLaw(f"two_class({law})", law, params, {k: se.get(k, math.nan) for k in params},
                     sol.loglik, len(params), entries, notes, "two_class",
                     first.converged and sol.converged)
