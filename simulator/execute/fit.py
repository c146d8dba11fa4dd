"""``ltsim fit``: calibrate the simulator's model ``Y = X + tau B`` from measured tasks.

From ``tasks.csv`` of ``ltsim execute``:

1. ``tau`` by ordinary least squares of the task time ``Y = finish - start``, less the
   delay the run injected itself (known exactly, column ``delay``), on its units of work
   ``B`` (kernel terms), *with* an intercept; the intercept is kept in ``X``. Only
   scheme-trials in which no task was cancelled enter the regression (when they hold at
   least two distinct ``B``): elsewhere the finished tasks are the fast ones, a selection
   on ``X`` that biases the slope.
2. ``X = Y - tau B`` (injected delay included), the start-up part of each task, fitted by
   maximum likelihood with each delay family (exponential, shifted exponential, Pareto,
   Weibull, lognormal).
   Tasks cancelled before any result (the stragglers the master stopped waiting for) are
   *right-censored* at ``stopped - start``: they contribute ``log P(X > c)``, which removes
   the bias of keeping only the fast workers.
3. The family with the lowest AIC is written, with ``tau``, into a config for ``ltsim run``.

Limits: OLS assumes ``X`` has a finite variance; with a very heavy tail (e.g. Pareto shape
<= 2) ``tau`` is estimated poorly and its error leaks into the residuals ``X``. Tasks of a
scheme that do the same work (one ``B``) say nothing about ``tau`` on their own: mix schemes.

Only numpy and the standard library are used (no scipy): closed forms where they exist
(exponential, shifted exponential, Pareto, and lognormal without censoring), the Weibull
shape by bisection on its profile-likelihood equation, the censored lognormal by
Nelder-Mead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

MIN_DELAY = 1e-6
"""Residual start-up times below this (seconds) are raised to it (positive families)."""


@dataclass(frozen=True)
class Sample:
    """Start-up times: ``x`` observed exactly, ``c`` right-censored (``X > c``)."""

    x: np.ndarray
    c: np.ndarray

    @property
    def events(self) -> int:
        return int(self.x.size)


@dataclass(frozen=True)
class FamilyFit:
    """One family's maximum-likelihood fit."""

    dist: str
    params: dict[str, float]
    loglik: float
    se: dict[str, float] = field(default_factory=dict)

    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.loglik if math.isfinite(self.loglik) else math.inf

    def delay(self) -> dict[str, Any]:
        """The fit as a ``delay:`` entry of an ``ltsim run`` config."""
        return {"dist": self.dist, **{k: float(v) for k, v in self.params.items()}}


@dataclass(frozen=True)
class Regression:
    """``Y = intercept + tau B`` by least squares, with standard errors."""

    tau: float
    intercept: float
    se_tau: float
    se_intercept: float
    n: int


@dataclass(frozen=True)
class Fit:
    """Everything ``ltsim fit`` found."""

    regression: Regression
    sample: Sample
    families: list[FamilyFit]
    clamped: int

    @property
    def best(self) -> FamilyFit:
        return min(self.families, key=lambda f: f.aic)


# -- regression ------------------------------------------------------------------------------

def regress(y: np.ndarray, b: np.ndarray) -> Regression:
    """OLS of ``y`` on ``b`` with intercept; a constant ``b`` gives ``tau = 0`` (no slope
    can be identified) and the mean as intercept."""
    n = y.size
    if n == 0:
        raise ValueError("no finished task to fit")
    bbar, ybar = b.mean(), y.mean()
    sbb = float(((b - bbar) ** 2).sum())
    if sbb == 0 or n < 3:
        se = float(y.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        return Regression(0.0, float(ybar), math.nan, se, n)
    tau = float(((b - bbar) * (y - ybar)).sum() / sbb)
    intercept = float(ybar - tau * bbar)
    resid = y - intercept - tau * b
    s2 = float((resid**2).sum() / (n - 2))
    se_tau = math.sqrt(s2 / sbb)
    se_int = math.sqrt(s2 * (1.0 / n + bbar**2 / sbb))
    return Regression(tau, intercept, se_tau, se_int, n)


# -- maximum likelihood, right-censored -----------------------------------------------------

def fit_exponential(s: Sample) -> FamilyFit:
    """``rate = events / total time`` (censored times included)."""
    total = float(s.x.sum() + s.c.sum())
    rate = s.events / total
    loglik = s.events * math.log(rate) - rate * total
    return FamilyFit("exponential", {"rate": rate}, loglik, {"rate": rate / math.sqrt(s.events)})


def fit_shifted_exponential(s: Sample) -> FamilyFit:
    """``shift = min x``; ``rate = events / sum(t - shift)``."""
    shift = float(s.x.min())
    total = float((s.x - shift).sum() + np.maximum(s.c - shift, 0).sum())
    if total <= 0:
        return FamilyFit("shifted_exponential", {"shift": shift, "rate": math.inf}, -math.inf)
    rate = s.events / total
    loglik = s.events * math.log(rate) - rate * total
    return FamilyFit("shifted_exponential", {"shift": shift, "rate": rate}, loglik,
                     {"rate": rate / math.sqrt(s.events)})


def fit_pareto(s: Sample) -> FamilyFit:
    """``scale = min x``; ``shape = events / sum(log(t / scale))``."""
    scale = float(s.x.min())
    lx = np.log(s.x / scale)
    lc = np.log(np.maximum(s.c, scale) / scale)
    total = float(lx.sum() + lc.sum())
    if total <= 0:
        return FamilyFit("pareto", {"scale": scale, "shape": math.inf}, -math.inf)
    shape = s.events / total
    loglik = s.events * math.log(shape / scale) - (shape + 1) * float(lx.sum()) - shape * float(
        lc.sum())
    return FamilyFit("pareto", {"scale": scale, "shape": shape}, loglik,
                     {"shape": shape / math.sqrt(s.events)})


def fit_weibull(s: Sample) -> FamilyFit:
    """Shape ``k`` solves ``1/k + mean(log x) - sum t^k log t / sum t^k = 0`` (decreasing
    in ``k``; bisection on ``log k``), then ``scale^k = sum t^k / events``."""
    t = np.concatenate([s.x, s.c])
    top = float(t.max())
    lu, lx = np.log(t / top), np.log(s.x / top)

    def equation(k: float) -> float:
        w = np.exp(k * lu)
        return 1.0 / k + float(lx.mean()) - float((w * lu).sum() / w.sum())

    lo, hi = math.log(1e-3), math.log(1e3)
    if equation(math.exp(hi)) > 0:
        lo = hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if equation(math.exp(mid)) > 0:
            lo = mid
        else:
            hi = mid
    k = math.exp(0.5 * (lo + hi))
    scale_u = (float(np.exp(k * lu).sum()) / s.events) ** (1.0 / k)
    scale = scale_u * top
    z = np.exp(k * (lu - math.log(scale_u)))  # (t / scale)^k
    loglik = (s.events * (math.log(k) - math.log(scale)) + (k - 1) * float(
        (np.log(s.x) - math.log(scale)).sum()) - float(z.sum()))
    return FamilyFit("weibull", {"scale": scale, "shape": k}, loglik)


def _log_sf_normal(z: np.ndarray) -> np.ndarray:
    """``log P(N(0,1) > z)``, accurate in the far tail."""
    out = np.empty_like(z)
    small = z < 8
    out[small] = np.log(0.5 * np.array([math.erfc(v / math.sqrt(2)) for v in z[small]]))
    big = z[~small]
    out[~small] = -0.5 * big**2 - np.log(big * math.sqrt(2 * math.pi)) + np.log1p(-1 / big**2)
    return out


def _lognormal_loglik(s: Sample, mu: float, sigma: float) -> float:
    lx = np.log(s.x)
    ll = float((-lx - math.log(sigma) - 0.5 * math.log(2 * math.pi)
                - (lx - mu) ** 2 / (2 * sigma**2)).sum())
    if s.c.size:
        ll += float(_log_sf_normal((np.log(s.c) - mu) / sigma).sum())
    return ll


def fit_lognormal(s: Sample) -> FamilyFit:
    """Closed form (mean and std of ``log x``) without censoring; with censoring, Nelder-Mead
    on ``(mu, log sigma)`` from that start."""
    lx = np.log(s.x)
    mu, sigma = float(lx.mean()), float(lx.std()) or 1e-3
    if s.c.size:
        def neg(p: np.ndarray) -> float:
            return -_lognormal_loglik(s, float(p[0]), math.exp(float(p[1])))

        best = nelder_mead(neg, np.array([mu, math.log(sigma)]), step=0.3)
        mu, sigma = float(best[0]), math.exp(float(best[1]))
    se = {"mu": sigma / math.sqrt(s.events)}
    return FamilyFit("lognormal", {"mu": mu, "sigma": sigma}, _lognormal_loglik(s, mu, sigma),
                     se)


def nelder_mead(f, x0: np.ndarray, step: float = 0.1, iters: int = 400,
                tol: float = 1e-10) -> np.ndarray:
    """Minimise ``f`` from ``x0`` with the Nelder-Mead simplex (standard coefficients)."""
    dim = x0.size
    simplex = [x0.astype(float)] + [x0 + step * np.eye(dim)[i] for i in range(dim)]
    values = [f(p) for p in simplex]
    for _ in range(iters):
        order = np.argsort(values)
        simplex = [simplex[i] for i in order]
        values = [values[i] for i in order]
        if abs(values[-1] - values[0]) < tol:
            break
        centroid = np.mean(simplex[:-1], axis=0)
        worst = simplex[-1]
        reflected = centroid + (centroid - worst)
        fr = f(reflected)
        if fr < values[0]:
            expanded = centroid + 2 * (centroid - worst)
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = centroid + 0.5 * (worst - centroid)
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                best = simplex[0]
                simplex = [best + 0.5 * (p - best) for p in simplex]
                values = [f(p) for p in simplex]
    return simplex[int(np.argmin(values))]


FITTERS = (fit_exponential, fit_shifted_exponential, fit_pareto, fit_weibull, fit_lognormal)


# -- from files ------------------------------------------------------------------------------

def fit_tasks(tasks: pd.DataFrame, origin: str = "start") -> Fit:
    """Fit ``tau`` and every family to a ``tasks.csv`` table.

    Parameters
    ----------
    origin : {"start", "submitted"}
        Time zero of a task: the worker's ``start`` (default), or the master's ``submitted``
        (then dispatch and queueing count as start-up delay).
    """
    if origin not in ("start", "submitted"):
        raise ValueError(f"origin must be 'start' or 'submitted', got {origin!r}")
    zero = tasks[origin].to_numpy(float)
    units = tasks["units"].to_numpy(float)
    finish = tasks["finish"].to_numpy(float)
    stopped = tasks["stopped"].to_numpy(float)
    status = tasks["status"].astype(str).to_numpy()
    observed = (units > 0) & np.isfinite(finish) & np.isfinite(zero) & (status != "failed")
    censored = (status == "cancelled") & (units == 0) & np.isfinite(stopped) & np.isfinite(zero)
    if observed.sum() < 2:
        raise ValueError(f"need at least 2 tasks that finished work, found {observed.sum()}")
    # Regress only on scheme-trials that ran every task to its end: where the master
    # cancelled stragglers, the tasks that finished are the fast ones (selected on X), and
    # more so for schemes with more work per task, which biases the slope down.
    whole = _uncancelled_groups(tasks) & observed
    use = whole if len(np.unique(units[whole])) >= 2 else observed
    y, b = finish - zero, units
    # A delay the run injected itself is known exactly: taking it out of the response
    # leaves tau * B plus the engine's own (small) jitter, so tau is identified even when
    # the injected delays dwarf the work. X below still includes it.
    known = np.nan_to_num(tasks["delay"].to_numpy(float)) if "delay" in tasks else 0.0
    known = np.broadcast_to(known, y.shape)
    reg = regress((y - known)[use], b[use])
    if reg.tau < 0:
        reg = Regression(0.0, float((y - known)[use].mean()), reg.se_tau, reg.se_intercept,
                         reg.n)
    x = y[observed] - reg.tau * b[observed]
    clamped = int((x < MIN_DELAY).sum())
    x = np.maximum(x, MIN_DELAY)
    c = np.maximum(stopped[censored] - zero[censored], MIN_DELAY)
    sample = Sample(x, c)
    return Fit(reg, sample, [fitter(sample) for fitter in FITTERS], clamped)


def _uncancelled_groups(tasks: pd.DataFrame) -> np.ndarray:
    """Rows of ``tasks`` whose (scheme, trial) has no cancelled task."""
    if not {"scheme", "trial"} <= set(tasks.columns):
        return np.zeros(len(tasks), dtype=bool)
    cancelled = tasks["status"].astype(str).eq("cancelled")
    any_cancelled = cancelled.groupby([tasks["scheme"], tasks["trial"]]).transform("any")
    return ~any_cancelled.to_numpy(bool)


def format_fit(fit: Fit) -> str:
    """The fit table as text."""
    reg, s = fit.regression, fit.sample
    lines = [
        f"tau = {reg.tau:.6g} s per kernel term (SE {reg.se_tau:.3g}), intercept "
        f"{reg.intercept:.6g} s (SE {reg.se_intercept:.3g}); OLS with intercept of "
        f"finish - start - injected delay on units, {reg.n} tasks of uncancelled scheme-trials",
        f"start-up X: {s.events} observed, {s.c.size} right-censored (cancelled before any "
        f"result), {fit.clamped} raised to {MIN_DELAY:g} s",
        f"{'family':<20} {'parameters':<44} {'loglik':>12} {'AIC':>12} {'dAIC':>9}",
    ]
    best = fit.best.aic
    for f in sorted(fit.families, key=lambda f: f.aic):
        params = ", ".join(
            f"{k}={v:.5g}" + (f"±{f.se[k]:.2g}" if k in f.se else "") for k, v in f.params.items()
        )
        mark = "  <- chosen" if f is fit.best else ""
        lines.append(f"{f.dist:<20} {params:<44} {f.loglik:>12.4f} {f.aic:>12.4f} "
                     f"{f.aic - best:>9.3f}{mark}")
    return "\n".join(lines)


def fitted_config(executed: dict[str, Any], fit: Fit) -> dict[str, Any]:
    """An ``ltsim run`` config with the execution's system and schemes and the fitted model."""
    schemes = [{k: v for k, v in s.items() if v is not None} for s in executed["schemes"]]
    return {
        "name": f"{executed['name']}-fit"[:100],
        "m": executed["workload"]["m"],
        "workers": executed["workers"],
        "tau": fit.regression.tau,
        "trials": executed["trials"],
        "seed": executed["seed"],
        "delay": fit.best.delay(),
        "schemes": schemes,
    }


def write_config(data: dict[str, Any], path: Path, header: str) -> Path:
    """Validate ``data`` with :func:`simulator.config.validate`, then write it atomically."""
    from ..io.config import validate

    validate(data, base_dir=path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp"
    body = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    tmp.write_text(body + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path
