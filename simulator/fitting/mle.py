"""Censored maximum likelihood, the core every fitter of ``ltsim fit`` shares.

* the data: :class:`CensoredSample`, start-up times observed exactly, right-censored or
  left-censored (below :data:`MIN_DELAY`);
* the result: :class:`FittedLaw`, a candidate's parameters, standard errors, log-likelihood,
  AIC and ``ltsim run`` config entries;
* the optimiser: :func:`maximise` minimises a negative log-likelihood (a broadcasting
  function of named parameter arrays) by :func:`scipy.optimize.minimize` (BFGS) over
  unconstrained coordinates (:class:`Map`: logs of positive parameters, logits of
  fractions), scaled by the curvature at the start; :func:`coordinate_search` improves many
  starting points at once.

Standard errors (:func:`standard_errors`) come from the observed information: the Hessian
of the negative log-likelihood at the optimum, by :func:`scipy.differentiate.hessian` (a
central finite difference on scipy releases without it), inverted and mapped back to the
parameters by the delta method (exact at an optimum). A parameter that ends on a bound of
its range or in a flat direction of the likelihood is not estimable (not identified), and
:attr:`FittedLaw.notes` says so.

The single laws are fitted in :mod:`.laws`, mixtures in :mod:`.mixtures`, two classes of
workers in :mod:`.classes`; :mod:`.tasks` prepares a ``tasks.csv`` table and picks the best.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special

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
class Map:
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


POSITIVE = Map("log")
"""The coordinate of a positive parameter: its log."""


@dataclass
class Solution:
    """What :func:`maximise` found: the parameters, the maximised log-likelihood, standard
    errors (empty until computed), notes on them, and whether the optimiser converged."""

    theta: dict[str, float]
    loglik: float
    se: dict[str, float]
    notes: dict[str, str]
    converged: bool


def maximise(nll: Callable[[dict[str, np.ndarray]], np.ndarray], names: Sequence[str],
             maps: Sequence[Map], start: dict[str, float],
             bounds: Sequence[tuple[float | None, float | None]] | None = None,
             errors: bool = True, gtol: float = 1e-5, max_iter: int = 1000) -> Solution:
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
    solution = Solution(theta, -value if value < _BIG else -math.inf, {}, {}, converged)
    if not converged:
        solution.notes[""] = f"optimiser: {res.message}"
    if errors:
        standard_errors(solution, nll, names, maps, u_hat, bounds)
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


def standard_errors(solution: Solution, nll, names: list[str], maps: Sequence[Map],
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


# -- searching -------------------------------------------------------------------------------

def broadcast(params: dict[str, Any]) -> dict[str, Any]:
    """Parameter arrays of shape ``(...)`` made ``(..., 1)``, to broadcast against data."""
    return {k: np.asarray(v, dtype=float)[..., None] for k, v in params.items()}


def coordinate_search(loglik: Callable[[dict[str, np.ndarray]], np.ndarray],
                      starts: list[dict[str, float]], names: Sequence[str],
                      maps: Sequence[Map], bounds, steps: Sequence[float] = (1.0, 0.3, 0.1)
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


def _inside(start: dict[str, float], names: Sequence[str], maps: Sequence[Map],
            bounds: Sequence[tuple[float | None, float | None]]) -> dict[str, float]:
    """``start`` with its coordinates moved inside ``bounds``."""
    out = dict(start)
    for name, m, (lo, hi) in zip(names, maps, bounds, strict=True):
        u = m.u(out[name])
        u = u if lo is None else max(u, lo)
        u = u if hi is None else min(u, hi)
        out[name] = float(m.theta(u))
    return out
