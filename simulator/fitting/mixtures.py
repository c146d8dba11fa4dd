"""The mixture candidates of ``ltsim fit``: censored maximum likelihood of
``weight * first + (1 - weight) * second``, two laws of :data:`.laws.MODELS`
(:func:`fit_mixture`; :data:`MIXTURES` lists the pairs tried).

The weight is optimised as a logit, jointly with the components' parameters, from a grid of
starting points screened together on a thinned sample. A component's edge parameter (a
Pareto ``scale``) makes the likelihood jump at every observation: it is profile-maximised
over the observations and reported without a standard error. A mixture's likelihood is
unbounded where a component collapses onto single observations: its rates are kept below
``100 / median(x)`` and a Pareto component's shape below 20.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .laws import MODELS, LawModel
from .mle import (
    CensoredSample,
    FittedLaw,
    Map,
    Solution,
    broadcast,
    coordinate_search,
    maximise,
)

MIXTURES: tuple[tuple[str, str], ...] = (("exponential", "pareto"),
                                         ("exponential", "exponential"))
"""The two-component mixtures ``ltsim fit`` tries."""


def _mixture_loglik(first: LawModel, second: LawModel, params: dict[str, Any],
                    s: CensoredSample) -> np.ndarray:
    p = broadcast(params)
    law1 = first.scipy({k[3:]: v for k, v in p.items() if k.startswith("c1.")})
    law2 = second.scipy({k[3:]: v for k, v in p.items() if k.startswith("c2.")})
    lw, lw2 = np.log(p["weight"]), np.log1p(-p["weight"])
    ll = np.logaddexp(lw + law1.logpdf(s.x), lw2 + law2.logpdf(s.x)).sum(axis=-1)
    if s.c.size:
        ll = ll + np.logaddexp(lw + law1.logsf(s.c), lw2 + law2.logsf(s.c)).sum(axis=-1)
    if s.left.size:
        ll = ll + np.logaddexp(lw + law1.logcdf(s.left),
                               lw2 + law2.logcdf(s.left)).sum(axis=-1)
    return ll


def fit_mixture(sample: CensoredSample, first: str = "exponential",
                second: str = "pareto") -> FittedLaw:
    """Censored maximum likelihood of ``weight * first + (1 - weight) * second``.

    The weight is optimised as a logit, jointly with the components' parameters. A
    component's edge parameter (a Pareto ``scale``) makes the likelihood jump at every
    observation: it is profile-maximised over the observations (a coarse grid of quantiles
    refined around the best) and reported without a standard error. At most one component
    may have one. Two components of one law are ordered by their first parameter (for two
    exponentials, the faster first).
    """
    if sample.events < 5:
        raise ValueError(f"need at least 5 observed times, got {sample.events}")
    m1, m2 = MODELS[first], MODELS[second]
    if m1.edge and m2.edge:
        raise ValueError("at most one mixture component may have an edge parameter")
    if m1.edge:
        raise ValueError("put the component with an edge parameter second")
    names = ["weight"] + [f"c1.{n}" for n, _ in m1.free] + [f"c2.{n}" for n, _ in m2.free]
    maps = [Map("logit")] + [m for _, m in m1.free] + [m for _, m in m2.free]
    xs = np.sort(sample.x)
    bounds = [(-15.0, 15.0)] + [_component_bounds(m.dist, n, xs) for m, n in
                                [(m1, n) for n, _ in m1.free] + [(m2, n) for n, _ in m2.free]]

    def solve(edge: float | None, start: dict[str, float], errors: bool,
              gtol: float = 1e-5) -> Solution:
        fixed = {f"c2.{m2.edge}": edge} if m2.edge else {}

        def nll(p):
            return -_mixture_loglik(m1, m2, {**p, **fixed}, sample)

        return maximise(nll, names, maps, start, bounds, errors, gtol)

    def screen(starts: list[dict[str, float]]) -> tuple[list[int], list[dict[str, float]]]:
        """``starts`` improved together by :func:`coordinate_search` on a thinned sample,
        and their indices by decreasing log-likelihood."""
        thin = _thinned(sample, 300)
        return coordinate_search(lambda p: _mixture_loglik(m1, m2, p, thin), starts,
                                 names, maps, bounds, (1.0, 0.3))

    if m2.edge:
        key = f"c2.{m2.edge}"

        def split(rank: int) -> dict[str, float]:
            """The observations below ``xs[rank]`` in the first component, the others in
            the second, with the edge at ``xs[rank]``."""
            below = CensoredSample(xs[:rank] if rank >= 2 else xs[:2], np.empty(0))
            above = CensoredSample(xs[rank:], np.empty(0))
            return {"weight": min(max(rank / xs.size, 0.05), 0.99),
                    **{f"c1.{k}": v for k, v in m1.start(below, None).items()},
                    **{f"c2.{k}": v for k, v in m2.start(above, float(xs[rank])).items()},
                    key: float(xs[rank])}

        n = xs.size
        ranks = np.unique(np.linspace(0.01 * n, 0.97 * n, 49).astype(int).clip(1, n - 3))
        order, starts = screen([split(int(r)) for r in ranks])
        found = {}
        for i in order[:3]:
            st = {k: v for k, v in starts[i].items() if k != key}
            found[int(ranks[i])] = solve(starts[i][key], st, False, 0.05)
        edge, best = _profile_edge(lambda e, st: solve(e, st, False, 0.05), xs, found,
                                   max(1, n // 200))
        sol = solve(edge, best.theta, True)
    else:
        edge = None
        order, starts = screen(_mixture_starts(sample, m1, m2))
        sol = solve(None, solve(None, starts[order[0]], False, 0.05).theta, True)
    theta, se, notes = dict(sol.theta), dict(sol.se), dict(sol.notes)
    if m2.edge:
        key = f"c2.{m2.edge}"
        theta[key], se[key] = edge, math.nan
        notes[key] = ("not estimable: the likelihood jumps at every observation; "
                      "profile-maximised over the observations")
    if first == second:
        theta, se, notes = _order_components(m1, theta, se, notes)
    ordered = ["weight"] + [f"c1.{n}" for n in m1.names] + [f"c2.{n}" for n in m2.names]
    params = {k: theta[k] for k in ordered}
    w = params["weight"]
    delay = {"dist": "mixture", "components": [
        {"weight": w, "dist": first, **{n: params[f"c1.{n}"] for n in m1.names}},
        {"weight": 1.0 - w, "dist": second, **{n: params[f"c2.{n}"] for n in m2.names}},
    ]}
    return FittedLaw(f"mixture({first}+{second})", "mixture", params,
                     {k: se.get(k, math.nan) for k in ordered}, sol.loglik, len(ordered),
                     {"delay": delay}, notes, "mixture", sol.converged)


def _component_bounds(dist: str, key: str, xs: np.ndarray
                      ) -> tuple[float | None, float | None]:
    """Bounds of a mixture component's coordinate that keep it from collapsing onto single
    observations (a mixture's likelihood is unbounded there): a rate at most
    ``100 / median(x)``, a Pareto shape at most 20 (its mean then within 5% of its scale:
    no longer a tail)."""
    if key == "rate":
        return None, math.log(100.0 / max(float(np.median(xs)), 1e-300))
    if dist == "pareto" and key == "shape":
        return None, math.log(20.0)
    return None, None


def _mixture_starts(s: CensoredSample, m1: LawModel, m2: LawModel) -> list[dict[str, float]]:
    """Starting values of a mixture without edge parameter, on a grid of weights and
    spreads: the first component ``a`` times faster than a single-law fit, the second ``a``
    times slower (its ``rate`` multiplied, its ``scale`` divided; other parameters kept)."""

    def spread(values: dict[str, float], a: float) -> dict[str, float]:
        factor = {"rate": a, "scale": 1 / a}
        return {k: v * factor.get(k, 1.0) for k, v in values.items()}

    first, second = m1.start(s, None), m2.start(s, None)
    return [{"weight": w, **{f"c1.{k}": v for k, v in spread(first, a).items()},
             **{f"c2.{k}": v for k, v in spread(second, 1 / a).items()}}
            for w in (0.5, 0.7, 0.8, 0.9, 0.95) for a in (1.5, 2.0, 3.0, 5.0)]


def _thinned(s: CensoredSample, most: int) -> CensoredSample:
    """Every ``k``-th order statistic of each part of ``s``, for at most ``most``
    observed times (a coarse search's sample)."""
    k = max(1, math.ceil(s.x.size / most))
    return CensoredSample(np.sort(s.x)[::k], np.sort(s.c)[::k], np.sort(s.left)[::k])


def _profile_edge(solve: Callable[[float, dict[str, float]], Solution], xs: np.ndarray,
                  found: dict[int, Solution], width: int) -> tuple[float, Solution]:
    """Maximise over the edge parameter of the second component, restricted to the
    observations ``xs`` (sorted), from the solutions ``found`` at some of their ranks: a
    pattern search over the ranks around the best, halving its step ``width`` down to 4
    observations (the profile is a sawtooth, jumping at every observation: finer searches
    chase noise)."""
    lo, hi = 1, xs.size - 3
    best = max(found, key=lambda r: found[r].loglik)
    while width >= 4:
        for r in (best - width, best + width):
            r = min(max(r, lo), hi)
            if r not in found:
                near = min(found, key=lambda k: abs(k - r))
                found[r] = solve(float(xs[r]), found[near].theta)
        new = max(found, key=lambda r: found[r].loglik)
        if new == best:
            width //= 2
        best = new
    return float(xs[best]), found[best]


def _order_components(model: LawModel, theta, se, notes):
    """Two components of one law: the one with the larger first parameter first."""
    key = model.names[0]
    if theta[f"c1.{key}"] >= theta[f"c2.{key}"]:
        return theta, se, notes
    swap = {"c1.": "c2.", "c2.": "c1."}

    def swapped(d):
        out = {}
        for k, v in d.items():
            out[swap[k[:3]] + k[3:] if k[:3] in swap else k] = v
        return out

    theta, se, notes = swapped(theta), swapped(se), swapped(notes)
    theta["weight"] = 1.0 - theta["weight"]
    return theta, se, notes
