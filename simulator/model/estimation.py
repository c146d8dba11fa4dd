"""Censored maximum likelihood for the start-up delay laws (what ``ltsim fit`` estimates).

Three kinds of candidates, each returned as a :class:`FittedLaw` (parameters, standard
errors, log-likelihood, AIC and the ``ltsim run`` config entries):

* one law of :data:`ltsim.model.laws.LAWS` (those with ``fit_parameters``), fitted to a
  :class:`CensoredSample` of start-up times by :func:`fit_law` (:data:`FITTERS` by ``dist``);
* a two-component mixture of such laws, :func:`fit_mixture` (:data:`MIXTURES`);
* two classes of workers, :func:`fit_two_class`: a fraction ``f`` of the workers computes
  every unit ``v`` times slower, ``Y = X + s tau B`` with ``P(s = v) = f``, fitted to the task
  times themselves (:class:`TaskTimes`).

Every likelihood is built from :mod:`scipy.stats` densities (``logpdf`` for observed times,
``logsf`` for right-censored ones, ``logcdf`` for left-censored ones) and maximised by
:func:`scipy.optimize.minimize` (BFGS) over unconstrained coordinates (logs of positive
parameters, logits of fractions), scaled by the curvature at the start. Standard errors
come from the observed information: the Hessian of the negative log-likelihood at the
optimum, by :func:`scipy.differentiate.hessian` (a central finite difference on scipy
releases without it), inverted and mapped back to the parameters by the delta method
(exact at an optimum). Parameters the likelihood does not treat smoothly get
theirs otherwise, and say so in :attr:`FittedLaw.notes`:

* an edge of the support estimated by the smallest observation (shifted exponential
  ``shift``, Pareto ``scale``): the standard deviation of that minimum's own exact law;
* the Pareto ``scale`` inside a mixture, where the likelihood jumps at every observation:
  profile-maximised over the observations, not estimable;
* a parameter that ends on a bound of its range (a class fraction going to 0, a speed going
  to 1) or in a flat direction of the likelihood: not estimable (not identified).

Limits. A mixture's likelihood is unbounded where a component collapses onto single
observations: its rates are kept below ``100 / median(x)`` and a Pareto component's shape
below 20, and times below :data:`MIN_DELAY` are left-censored, not observed. The two-class
model is fitted in two stages (see :func:`fit_two_class`); without known injected delays
its ``X`` is an ex-Gaussian in the first stage, which recovers the classes on uncensored
tables but, with many tasks cancelled before their first result (slow ones more often),
underestimates the slow fraction by 1-3 standard errors (measured). Laws with an edge
parameter (shifted exponential, Pareto) are not used as the two-class model's ``X``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from .laws import LAWS

MIN_DELAY = 1e-6
"""Start-up times (and censoring times) below this (seconds) are raised to it."""

_BIG = 1e300
"""What the optimiser sees instead of an infinite negative log-likelihood."""

_CHUNK = 128
"""Parameter points evaluated together when differentiating (bounds the memory used)."""


# -- data ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CensoredSample:
    """Start-up times: ``x`` observed exactly, ``c`` right-censored (``X > c``), ``left``
    left-censored (``X <= left``).

    ``ltsim fit`` left-censors at :data:`MIN_DELAY` the residuals ``Y - tau B`` that fall
    below it: they say that ``X`` is (at most) about 0, and a density there would reward
    any law or mixture component that puts a spike at 0 (the likelihood of a mixture grows
    without bound as a component's scale shrinks onto such points).
    """

    x: np.ndarray
    c: np.ndarray
    left: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __post_init__(self) -> None:
        for name in ("x", "c", "left"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float).ravel())

    @property
    def events(self) -> int:
        """Number of observed (uncensored) times."""
        return int(self.x.size)

    @property
    def censored(self) -> int:
        """Number of right-censored times."""
        return int(self.c.size)

    @property
    def left_censored(self) -> int:
        """Number of left-censored times."""
        return int(self.left.size)

    def at_risk(self, t: float) -> int:
        """Times (observed or censored) at or beyond ``t``."""
        return int((self.x >= t).sum() + (self.c >= t).sum())


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


# -- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FittedLaw:
    """One candidate's maximum-likelihood fit.

    Attributes
    ----------
    name : str
        Unique label: the law (``exponential``), ``mixture(exponential+pareto)`` or
        ``two_class(exponential)``.
    dist : str
        The ``dist`` of its ``delay:`` config entry.
    params : dict
        Every estimated parameter (mixture components prefixed ``c1.``, ``c2.``).
    se : dict
        Standard error of every parameter in ``params`` (NaN where not estimable; see
        ``notes``).
    loglik : float
        The maximised log-likelihood.
    n_params : int
        Parameters counted by the AIC.
    entries : dict
        The ``ltsim run`` config entries of the fit: ``delay`` and, for two classes,
        ``tau`` and ``classes``.
    notes : dict
        Per parameter, how its standard error was obtained when not from the Hessian, or
        why it is missing; ``""`` holds notes on the whole fit.
    kind : str
        ``law``, ``mixture`` or ``two_class``.
    converged : bool
        Whether the optimiser reported success.
    """

    name: str
    dist: str
    params: dict[str, float]
    se: dict[str, float]
    loglik: float
    n_params: int
    entries: dict[str, Any]
    notes: dict[str, str] = field(default_factory=dict)
    kind: str = "law"
    converged: bool = True

    @property
    def aic(self) -> float:
        """``2 k - 2 loglik`` (``inf`` for a non-finite log-likelihood)."""
        return 2 * self.n_params - 2 * self.loglik if math.isfinite(self.loglik) else math.inf

    def delay(self) -> dict[str, Any]:
        """The fit as a ``delay:`` entry of an ``ltsim run`` config."""
        return self.entries["delay"]


# -- coordinates -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Map:
    """A parameter from an unconstrained coordinate ``u``.

    ``log``: ``exp(u)``; ``logit``: ``lo + (hi - lo) expit(u)``; ``log1p``: ``1 + exp(u)``;
    ``linear``: ``scale u``.
    """

    kind: str
    lo: float = 0.0
    hi: float = 1.0
    scale: float = 1.0

    def theta(self, u):
        if self.kind == "log":
            return np.exp(u)
        if self.kind == "logit":
            return self.lo + (self.hi - self.lo) * special.expit(u)
        if self.kind == "log1p":
            return 1.0 + np.exp(u)
        return self.scale * np.asarray(u, dtype=float)

    def u(self, theta: float) -> float:
        if self.kind == "log":
            return math.log(theta)
        if self.kind == "logit":
            p = min(max((theta - self.lo) / (self.hi - self.lo), 1e-12), 1 - 1e-12)
            return math.log(p / (1 - p))
        if self.kind == "log1p":
            return math.log(max(theta - 1.0, 1e-12))
        return theta / self.scale

    def slope(self, theta: float) -> float:
        """``d theta / d u``."""
        if self.kind == "log":
            return theta
        if self.kind == "logit":
            p = (theta - self.lo) / (self.hi - self.lo)
            return (self.hi - self.lo) * p * (1 - p)
        if self.kind == "log1p":
            return theta - 1.0
        return self.scale


@dataclass
class _Solution:
    theta: dict[str, float]
    loglik: float
    se: dict[str, float]
    notes: dict[str, str]
    converged: bool


def _maximise(nll: Callable[[dict[str, np.ndarray]], np.ndarray], names: Sequence[str],
              maps: Sequence[_Map], start: dict[str, float],
              bounds: Sequence[tuple[float | None, float | None]] | None = None,
              errors: bool = True, gtol: float = 1e-5, max_iter: int = 1000) -> _Solution:
    """Minimise ``nll`` (a broadcasting function of named parameter arrays) over the
    coordinates of ``maps`` from ``start``; standard errors from its Hessian there."""
    names = list(names)
    bounds = list(bounds) if bounds is not None else [(None, None)] * len(names)

    def params(u: np.ndarray) -> dict[str, np.ndarray]:
        return {n: m.theta(u[i]) for i, (n, m) in enumerate(zip(names, maps, strict=True))}

    lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
    hi = np.array([np.inf if b[1] is None else b[1] for b in bounds])

    def scalar(u: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = float(nll(params(np.clip(u, lo, hi))))
        return value if math.isfinite(value) else _BIG

    u0 = np.array([m.u(start[n]) for n, m in zip(names, maps, strict=True)])
    u0 = np.clip(u0, lo, hi)
    # Precondition: search in z = (u - u0) / scale, scale = 1 / sqrt(curvature at the
    # start), so that a unit of z is about one standard error in every coordinate (their
    # curvatures differ by orders of magnitude, e.g. log tau against a logit fraction).
    scale = _curvature_scales(lambda u: nll(params(np.clip(u, lo[:, None], hi[:, None]))), u0)
    # BFGS (no bounds: coordinates are clipped to their box inside the objective) rather
    # than L-BFGS-B, whose BLAS calls slow down by an order of magnitude on a busy machine.
    # The gradient tolerance, in those units, is a fraction of a standard error.
    res = optimize.minimize(lambda z: scalar(u0 + scale * z), np.zeros(len(names)),
                            method="BFGS", options={"maxiter": max_iter, "gtol": gtol,
                                                    "eps": 1e-6, "xrtol": 1e-10})
    u_hat = np.clip(u0 + scale * np.asarray(res.x, dtype=float), lo, hi)
    value = scalar(u_hat)
    converged = bool(res.success) or "precision loss" in str(res.message)
    theta = {n: float(v) for n, v in params(u_hat).items()}
    solution = _Solution(theta, -value if value < _BIG else -math.inf, {}, {}, converged)
    if not converged:
        solution.notes[""] = f"optimiser: {res.message}"
    if errors:
        _standard_errors(solution, nll, names, maps, u_hat, bounds)
    return solution


def _curvature_scales(f: Callable[[np.ndarray], np.ndarray], u: np.ndarray,
                      h: float = 1e-3) -> np.ndarray:
    """``1 / sqrt(d2f/du_i^2)`` at ``u`` by central differences (1 where not positive);
    ``f`` takes coordinates of shape ``(k, m)`` and returns ``(m,)``."""
    k = u.size
    points = u[:, None] + h * np.concatenate([np.zeros((k, 1)), np.eye(k), -np.eye(k)], axis=1)
    with np.errstate(all="ignore"):
        values = np.asarray(f(points), dtype=float)
    curvature = (values[1:k + 1] + values[k + 1:] - 2 * values[0]) / h**2
    good = np.isfinite(curvature) & (curvature > 0)
    return 1.0 / np.sqrt(np.where(good, curvature, 1.0))


def _standard_errors(solution: _Solution, nll, names: list[str], maps: Sequence[_Map],
                     u_hat: np.ndarray, bounds) -> None:
    """Fill ``solution.se`` from the observed information in the free coordinates."""
    free = []
    for i, name in enumerate(names):
        lo, hi = bounds[i]
        span = 1e-6 * max(1.0, abs(u_hat[i]))
        if (lo is not None and u_hat[i] - lo < span) or (hi is not None and hi - u_hat[i] < span):
            solution.se[name] = math.nan
            solution.notes[name] = "not estimable: at the bound of its range (not identified)"
        else:
            free.append(i)
    if not free or not math.isfinite(solution.loglik):
        for i in free:
            solution.se[names[i]] = math.nan
        return

    def at(v: np.ndarray) -> np.ndarray:
        """``nll`` with the free coordinates at ``v`` (shape ``(len(free), m)``), the
        others at ``u_hat``; evaluated by chunks of :data:`_CHUNK` points."""
        out = np.empty(v.shape[1])
        for s in range(0, v.shape[1], _CHUNK):
            u = np.repeat(u_hat[:, None], min(_CHUNK, v.shape[1] - s), axis=1)
            u[free] = v[:, s:s + _CHUNK]
            p = {n: m.theta(u[i]) for i, (n, m) in enumerate(zip(names, maps, strict=True))}
            with np.errstate(all="ignore"):
                out[s:s + _CHUNK] = nll(p)
        return out

    # Differentiate in units of about one standard error per coordinate (z = (u - u_hat) /
    # step), so that the steps suit every parameter's scale.
    step = _curvature_scales(at, u_hat[free])

    def batched(z: np.ndarray) -> np.ndarray:
        """``nll`` at ``u_hat + step * z`` for ``z`` of shape ``(len(free), ...)``."""
        flat = z.reshape(len(free), -1)
        return at(u_hat[free][:, None] + step[:, None] * flat).reshape(z.shape[1:])

    hess = _hessian(batched, len(free))
    cov, dropped = _inverse(hess)
    for j, i in enumerate(free):
        name = names[i]
        if j in dropped or not np.isfinite(cov[j, j]) or cov[j, j] <= 0:
            solution.se[name] = math.nan
            solution.notes[name] = ("not estimable: the likelihood is flat (or not concave) "
                                    "in it at the optimum")
            continue
        se_u = step[j] * math.sqrt(cov[j, j])
        solution.se[name] = float(abs(maps[i].slope(solution.theta[name])) * se_u)


def _hessian(f: Callable[[np.ndarray], np.ndarray], k: int) -> np.ndarray:
    """Hessian of ``f`` at 0 (in units already scaled to about one standard error)."""
    try:
        from scipy.differentiate import hessian
    except ImportError:  # scipy < 1.15: central finite differences
        return _central_hessian(f, k, 0.25)
    # Second-order central differences, one step of a quarter of a standard error: the
    # coordinates are scaled so that the negative log-likelihood is close to quadratic
    # over it (higher orders and Richardson iterations cost far more evaluations for
    # digits a standard error does not need).
    res = hessian(f, np.zeros(k), order=2, initial_step=0.25, maxiter=1)
    ddf = np.asarray(res.ddf, dtype=float)
    if not np.all(np.isfinite(ddf)):
        return _central_hessian(f, k, 0.25)
    return 0.5 * (ddf + ddf.T)


def _central_hessian(f: Callable[[np.ndarray], np.ndarray], k: int, h: float) -> np.ndarray:
    """Four-point central differences ``(f(+,+) - f(+,-) - f(-,+) + f(-,-)) / 4h^2``."""
    eye = np.eye(k)
    points, index = [], {}
    for i in range(k):
        for j in range(i, k):
            for si in (1, -1):
                for sj in (1, -1):
                    index[(i, j, si, sj)] = len(points)
                    points.append(h * (si * eye[i] + sj * eye[j]))
    values = f(np.array(points).T)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            v = [values[index[(i, j, si, sj)]] for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
            hess[i, j] = hess[j, i] = (v[0] - v[1] - v[2] + v[3]) / (4 * h * h)
    return hess


def _inverse(hess: np.ndarray) -> tuple[np.ndarray, set[int]]:
    """Inverse of the information; coordinates in which it is not positive definite are
    dropped (least curvature first) and returned as not identified."""
    keep = list(range(hess.shape[0]))
    dropped: set[int] = set()
    cov = np.full(hess.shape, np.nan)
    while keep:
        sub = hess[np.ix_(keep, keep)]
        try:
            chol = np.linalg.cholesky(sub)
        except np.linalg.LinAlgError:
            diag = np.diag(sub)
            worst = keep[int(np.argmin(np.where(np.isfinite(diag), diag, -np.inf)))]
            keep.remove(worst)
            dropped.add(worst)
            continue
        inv = np.linalg.inv(chol)
        cov[np.ix_(keep, keep)] = inv.T @ inv
        break
    return cov, dropped


# -- single laws -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LawModel:
    """How one law of :data:`~ltsim.model.laws.LAWS` is fitted.

    Attributes
    ----------
    dist : str
        The law's ``dist`` name.
    rv : scipy.stats.rv_continuous
        Its scipy distribution.
    args : callable
        Parameters (a dict of arrays) to the ``(shapes, loc, scale)`` of ``rv``.
    free : tuple of (str, _Map)
        Parameters the optimiser estimates, with their coordinates.
    edge : str or None
        A parameter estimated by the smallest observation (edge of the support), if any.
    start : callable
        Starting values ``start(sample, edge)`` of the free parameters.
    """

    dist: str
    rv: Any
    args: Callable[[dict[str, Any]], tuple[tuple, Any, Any]]
    free: tuple[tuple[str, _Map], ...]
    edge: str | None
    start: Callable[[CensoredSample, float | None], dict[str, float]]

    @property
    def names(self) -> tuple[str, ...]:
        """Every parameter, in config order."""
        return tuple(LAWS[self.dist].fit_parameters)

    def logpdf(self, params: dict[str, Any], x: np.ndarray) -> np.ndarray:
        shapes, loc, scale = self.args(params)
        return self.rv.logpdf(x, *shapes, loc=loc, scale=scale)

    def logsf(self, params: dict[str, Any], x: np.ndarray) -> np.ndarray:
        shapes, loc, scale = self.args(params)
        return self.rv.logsf(x, *shapes, loc=loc, scale=scale)

    def logcdf(self, params: dict[str, Any], x: np.ndarray) -> np.ndarray:
        shapes, loc, scale = self.args(params)
        return self.rv.logcdf(x, *shapes, loc=loc, scale=scale)


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


_POSITIVE = _Map("log")

MODELS: dict[str, LawModel] = {
    "exponential": LawModel(
        "exponential", stats.expon, lambda p: ((), 0.0, 1.0 / p["rate"]),
        (("rate", _POSITIVE),), None, _start_rate),
    "shifted_exponential": LawModel(
        "shifted_exponential", stats.expon, lambda p: ((), p["shift"], 1.0 / p["rate"]),
        (("rate", _POSITIVE),), "shift", _start_rate),
    "pareto": LawModel(
        "pareto", stats.pareto, lambda p: ((p["shape"],), 0.0, p["scale"]),
        (("shape", _POSITIVE),), "scale", _start_pareto),
    "weibull": LawModel(
        "weibull", stats.weibull_min, lambda p: ((p["shape"],), 0.0, p["scale"]),
        (("scale", _POSITIVE), ("shape", _POSITIVE)), None, _start_weibull),
    "lognormal": LawModel(
        "lognormal", stats.lognorm, lambda p: ((p["sigma"],), 0.0, np.exp(p["mu"])),
        (("mu", _Map("linear")), ("sigma", _POSITIVE)), None, _start_lognormal),
}
"""How each candidate law is fitted, by ``dist``."""


def _broadcast(params: dict[str, Any]) -> dict[str, Any]:
    """Parameter arrays of shape ``(...)`` made ``(..., 1)``, to broadcast against data."""
    return {k: np.asarray(v, dtype=float)[..., None] for k, v in params.items()}


def _law_loglik(model: LawModel, params: dict[str, Any], s: CensoredSample) -> np.ndarray:
    p = _broadcast(params)
    ll = model.logpdf(p, s.x).sum(axis=-1)
    if s.c.size:
        ll = ll + model.logsf(p, s.c).sum(axis=-1)
    if s.left.size:
        ll = ll + model.logcdf(p, s.left).sum(axis=-1)
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

    sol = _maximise(nll, names, maps, model.start(sample, edge))
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


# -- mixtures of two laws --------------------------------------------------------------------

MIXTURES: tuple[tuple[str, str], ...] = (("exponential", "pareto"),
                                         ("exponential", "exponential"))
"""The two-component mixtures ``ltsim fit`` tries."""


def _mixture_loglik(first: LawModel, second: LawModel, params: dict[str, Any],
                    s: CensoredSample) -> np.ndarray:
    p = _broadcast(params)
    p1 = {k[3:]: v for k, v in p.items() if k.startswith("c1.")}
    p2 = {k[3:]: v for k, v in p.items() if k.startswith("c2.")}
    lw, lw2 = np.log(p["weight"]), np.log1p(-p["weight"])
    ll = np.logaddexp(lw + first.logpdf(p1, s.x), lw2 + second.logpdf(p2, s.x)).sum(axis=-1)
    if s.c.size:
        ll = ll + np.logaddexp(lw + first.logsf(p1, s.c),
                               lw2 + second.logsf(p2, s.c)).sum(axis=-1)
    if s.left.size:
        ll = ll + np.logaddexp(lw + first.logcdf(p1, s.left),
                               lw2 + second.logcdf(p2, s.left)).sum(axis=-1)
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
    maps = [_Map("logit")] + [m for _, m in m1.free] + [m for _, m in m2.free]
    xs = np.sort(sample.x)
    bounds = [(-15.0, 15.0)] + [_component_bounds(m.dist, n, xs) for m, n in
                                [(m1, n) for n, _ in m1.free] + [(m2, n) for n, _ in m2.free]]

    def solve(edge: float | None, start: dict[str, float], errors: bool,
              gtol: float = 1e-5) -> _Solution:
        fixed = {f"c2.{m2.edge}": edge} if m2.edge else {}

        def nll(p):
            return -_mixture_loglik(m1, m2, {**p, **fixed}, sample)

        return _maximise(nll, names, maps, start, bounds, errors, gtol)

    def screen(starts: list[dict[str, float]]) -> tuple[list[int], list[dict[str, float]]]:
        """``starts`` improved together by :func:`_coordinate_search` on a thinned sample,
        and their indices by decreasing log-likelihood."""
        thin = _thinned(sample, 300)
        return _coordinate_search(lambda p: _mixture_loglik(m1, m2, p, thin), starts,
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


def _coordinate_search(loglik: Callable[[dict[str, np.ndarray]], np.ndarray],
                       starts: list[dict[str, float]], names: Sequence[str],
                       maps: Sequence[_Map], bounds, steps: Sequence[float] = (1.0, 0.3, 0.1)
                       ) -> tuple[list[int], list[dict[str, float]]]:
    """Improve many starting points at once: for each step ``h``, each coordinate ``u`` of
    :data:`names` in turn moves to the best of ``u + (-h, -h/3, 0, h/3, h)``, for every
    start in one (broadcast) evaluation of ``loglik``. Other keys of the starts (a fixed
    edge) are carried along. Returns the indices by decreasing log-likelihood and the
    improved starts."""
    starts = [_inside(st, names, maps, bounds) for st in starts]
    extra = {k: np.array([st[k] for st in starts]) for k in starts[0] if k not in names}
    u = np.array([[m.u(st[n]) for n, m in zip(names, maps, strict=True)] for st in starts])
    lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
    hi = np.array([np.inf if b[1] is None else b[1] for b in bounds])
    moves = np.array([-1.0, -1 / 3, 0.0, 1 / 3, 1.0])

    def evaluate(points: np.ndarray) -> np.ndarray:  # points (..., k) -> (...)
        params = {n: m.theta(points[..., i]) for i, (n, m) in enumerate(zip(names, maps,
                                                                             strict=True))}
        params.update({k: np.broadcast_to(v[:, None], points.shape[:-1]) if points.ndim == 3
                       else v for k, v in extra.items()})
        with np.errstate(all="ignore"):
            return np.nan_to_num(loglik(params), nan=-np.inf)

    for h in steps:
        for j in range(len(names)):
            trial = np.repeat(u[:, None, :], moves.size, axis=1)
            trial[:, :, j] = np.clip(trial[:, :, j] + h * moves, lo[j], hi[j])
            best = np.argmax(evaluate(trial), axis=1)
            u = trial[np.arange(len(starts)), best]
    ll = evaluate(u)
    out = [{**{n: float(m.theta(u[k, i])) for i, (n, m) in enumerate(zip(names, maps,
                                                                          strict=True))},
            **{key: float(v[k]) for key, v in extra.items()}} for k in range(len(starts))]
    return [int(i) for i in np.argsort(-ll, kind="stable")], out


def _inside(start: dict[str, float], names: Sequence[str], maps: Sequence[_Map],
            bounds: Sequence[tuple[float | None, float | None]]) -> dict[str, float]:
    """``start`` with its coordinates moved inside ``bounds``."""
    out = dict(start)
    for name, m, (lo, hi) in zip(names, maps, bounds, strict=True):
        u = m.u(out[name])
        u = u if lo is None else max(u, lo)
        u = u if hi is None else min(u, hi)
        out[name] = float(m.theta(u))
    return out


def _profile_edge(solve: Callable[[float, dict[str, float]], _Solution], xs: np.ndarray,
                  found: dict[int, _Solution], width: int) -> tuple[float, _Solution]:
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


# -- two classes of workers ------------------------------------------------------------------

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
def _residual_classes(t: TaskTimes) -> _Solution:
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
    maps = [_POSITIVE, _Map("logit"), _Map("log1p"), _Map("linear", scale=unit), _POSITIVE,
            _POSITIVE]
    bounds = [(None, None), (-12.0, 12.0), (math.log(1e-3), math.log(1e3)), (None, None),
              (math.log(floor), None), (math.log(1e-7), None)]

    def make_nll(r, b, rc, b1):
        def nll(p):
            p = _broadcast(p)
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
        best = _maximise(nll, names, maps, with_jitter(first), bounds, errors=False)
        if not (1e-4 < best.theta["fraction"] < 1 - 1e-4 and best.theta["speed"] > 1.01):
            other = {**first, "fraction": 0.1, "speed": 2.0 * first["speed"] + 2.0}
            sol = _maximise(nll, names, maps, with_jitter(other), bounds, errors=False)
            best = sol if sol.loglik > best.loglik else best
    else:  # screen several speeds and fractions together on a thinned table
        starts = [with_jitter({**first, "fraction": f, "speed": v})
                  for v in _SPEEDS for f in (0.05, 0.2)]
        k = max(1, math.ceil(r.size / 800))
        order, starts = _coordinate_search(
            lambda p: -make_nll(r[::k], t.b[::k], rc[::k], t.b1[::k])(p), starts, names,
            maps, bounds)
        best = _maximise(nll, names, maps, starts[order[0]], bounds, errors=False)
    _standard_errors(best, nll, names, maps,
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
        p = _broadcast({**p, **fixed})
        tau, f, v = p["tau"], p["fraction"], p["speed"]
        xf = t.y - tau * t.b
        xs = t.y - v * tau * t.b
        fast = np.where(xf > MIN_DELAY, model.logpdf(p, np.maximum(xf, MIN_DELAY)),
                        model.logcdf(p, MIN_DELAY))
        slow = np.where(xs > 0, model.logpdf(p, np.maximum(xs, MIN_DELAY)), -np.inf)
        ll = _class_mixture(fast, slow, f).sum(axis=-1)
        if t.c.size:
            ll = ll + _class_mixture(model.logsf(p, t.c - tau * t.b1),
                                     model.logsf(p, t.c - v * tau * t.b1), f).sum(axis=-1)
        return ll

    x0 = np.maximum(t.y - classes["tau"] * t.b, MIN_DELAY)
    start = model.start(CensoredSample(x0, np.empty(0)), None)
    sol = _maximise(lambda p: -loglik(p), [n for n, _ in model.free],
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
