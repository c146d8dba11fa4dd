"""``ltsim fit``: calibrate the simulator's model ``Y = X + tau B`` from measured tasks, and
write the fitted ``ltsim run`` config.

From ``tasks.csv`` of ``ltsim execute``:

1. ``tau`` by ordinary least squares of the task time ``Y = finish - start``, less the
   delay the run injected itself (known exactly, column ``delay``), on its units of work
   ``B`` (kernel terms), *with* an intercept; the intercept is kept in ``X``. Only
   scheme-trials in which no task was cancelled enter the regression (when they hold at
   least two distinct ``B``): elsewhere the finished tasks are the fast ones, a selection
   on ``X`` that biases the slope.
2. ``X = Y - tau B`` (injected delay included), the start-up part of each task that
   finished work. A task cancelled before its first result (``units = 0``; a straggler the
   master stopped waiting for) is *right-censored*: its first result, of ``first_units``
   kernel terms, was not done by ``stopped``, so ``X > stopped - start - tau first_units``
   (it may have been cancelled while computing it, its start-up over). It contributes
   ``log P(X > c)``, which removes the bias of keeping only the fast workers. A residual
   ``Y - tau B`` below :data:`~ltsim.fitting.mle.MIN_DELAY` is left-censored there
   (``log P(X <= MIN_DELAY)``): a density at ~0 would reward a spike at 0.
3. Candidates, fitted by censored maximum likelihood (:mod:`ltsim.fitting.mle`): every law of
   :data:`~ltsim.model.laws.LAWS` with ``fit_parameters`` (:mod:`.laws`), mixtures of two
   laws (:mod:`.mixtures`), and two classes of workers (a fraction computing every unit
   ``v`` times slower, fitted to the task times with its own ``tau``; :mod:`.classes`).
   The lowest AIC (``2 k - 2 loglik``; ``k`` counts ``tau`` for every candidate) wins; it
   is written, with ``tau``, into a config for ``ltsim run`` if that config is valid (a
   candidate whose config keys the installed config model does not accept yet gives way
   to the next best).

Limits: OLS assumes ``X`` has a finite variance; with a very heavy tail (e.g. Pareto shape
<= 2) ``tau`` is estimated poorly and its error leaks into the residuals ``X`` (and the
laws' standard errors do not include it). Tasks of a scheme that do the same work (one
``B``) say nothing about ``tau`` on their own: mix schemes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .classes import TWO_CLASS_LAWS, TaskTimes, fit_two_class
from .laws import FITTERS
from .mixtures import MIXTURES, fit_mixture
from .mle import MIN_DELAY, CensoredSample, FittedLaw

Sample = CensoredSample
"""Start-up times: ``x`` observed exactly, ``c`` right-censored (``X > c``)."""

FamilyFit = FittedLaw
"""One candidate's fit (the name of earlier releases)."""

LAW_CANDIDATES: tuple[str, ...] = tuple(FITTERS)
MIXTURE_CANDIDATES: tuple[str, ...] = tuple(f"mixture({a}+{b})" for a, b in MIXTURES)
CLASS_CANDIDATES: tuple[str, ...] = tuple(f"two_class({law})" for law in TWO_CLASS_LAWS)
CANDIDATES: tuple[str, ...] = LAW_CANDIDATES + MIXTURE_CANDIDATES + CLASS_CANDIDATES
"""Every candidate ``ltsim fit`` tries, by name."""


@dataclass(frozen=True)
class Regression:
    """``Y = intercept + tau B`` by least squares, with standard errors."""

    tau: float
    intercept: float
    se_tau: float
    se_intercept: float
    n: int


@dataclass(frozen=True)
class Prepared:
    """A ``tasks.csv`` table made ready to fit.

    Attributes
    ----------
    regression : Regression
        ``tau`` by OLS.
    sample : CensoredSample
        Start-up times ``X = Y - tau B`` (observed) and censoring bounds.
    times : TaskTimes
        The task times themselves, for the two-class model.
    clamped : int
        Tasks whose ``Y - tau B`` is below :data:`MIN_DELAY`: left-censored there
        (``sample.left``).
    clamped_censored : int
        Right-censoring bounds raised to :data:`MIN_DELAY` (no information).
    first_result : int
        Censored tasks whose bound was lowered by their first result (``first_units > 0``).
    notes : tuple of str
        What the reader should know (a missing ``first_units`` column, ...).
    """

    regression: Regression
    sample: CensoredSample
    times: TaskTimes
    clamped: int
    clamped_censored: int
    first_result: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fit:
    """Everything ``ltsim fit`` found.

    ``families`` holds every candidate fitted (:class:`FittedLaw`, ``n_params`` counting
    ``tau``); ``best`` is the lowest AIC, ``chosen`` the best whose ``ltsim run`` config is
    valid (what :func:`fitted_config` writes).
    """

    regression: Regression
    sample: CensoredSample
    families: list[FittedLaw]
    clamped: int
    clamped_censored: int = 0
    first_result: int = 0
    times: TaskTimes | None = None
    notes: tuple[str, ...] = ()

    @property
    def best(self) -> FittedLaw:
        """The candidate with the lowest AIC."""
        return min(self.families, key=lambda f: f.aic)

    @functools.cached_property
    def chosen(self) -> FittedLaw:
        """The lowest-AIC candidate whose config ``ltsim run`` accepts."""
        ranked = sorted(self.families, key=lambda f: f.aic)
        for candidate in ranked:
            if config_problem(candidate, self.regression.tau) is None:
                return candidate
        return ranked[0]


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


# -- from files ------------------------------------------------------------------------------

def prepare(tasks: pd.DataFrame, origin: str = "start") -> Prepared:
    """``tau`` by OLS, the censored sample of start-up times and the task times.

    Parameters
    ----------
    tasks : pandas.DataFrame
        A ``tasks.csv`` table (``units``, ``finish``, ``stopped``, ``status``, the origin
        column; optional ``first_units``, ``delay``, ``scheme``, ``trial``).
    origin : {"start", "submitted"}
        Time zero of a task: the worker's ``start`` (default), or the master's ``submitted``
        (then dispatch and queueing count as start-up delay).
    """
    if origin not in ("start", "submitted"):
        raise ValueError(f"origin must be 'start' or 'submitted', got {origin!r}")
    notes = []
    zero = tasks[origin].to_numpy(float)
    units = tasks["units"].to_numpy(float)
    finish = tasks["finish"].to_numpy(float)
    stopped = tasks["stopped"].to_numpy(float)
    status = tasks["status"].astype(str).to_numpy()
    if "first_units" in tasks:
        first = np.nan_to_num(tasks["first_units"].to_numpy(float))
    else:
        first = np.zeros(len(tasks))
        notes.append("no first_units column: tasks cancelled during their first result are "
                     "censored at stopped - start, too late (X is underestimated)")
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
    has_known = "delay" in tasks and bool(np.nan_to_num(tasks["delay"].to_numpy(float)).any())
    known = np.nan_to_num(tasks["delay"].to_numpy(float)) if has_known else np.zeros(len(y))
    reg = regress((y - known)[use], b[use])
    if reg.tau < 0:
        reg = Regression(0.0, float((y - known)[use].mean()), reg.se_tau, reg.se_intercept,
                         reg.n)
    x = y[observed] - reg.tau * b[observed]
    low = x < MIN_DELAY
    clamped = int(low.sum())
    # A task cancelled before its first result had not finished it: its start-up plus that
    # result's work exceeded the time it ran.
    c = stopped[censored] - zero[censored] - reg.tau * first[censored]
    clamped_censored = int((c < MIN_DELAY).sum())
    sample = CensoredSample(x[~low], np.maximum(c, MIN_DELAY), np.full(clamped, MIN_DELAY))
    times = TaskTimes(y[observed], b[observed], (stopped - zero)[censored], first[censored],
                      known[observed] if has_known else None,
                      known[censored] if has_known else None)
    return Prepared(reg, sample, times, clamped, clamped_censored,
                    int((first[censored] > 0).sum()), tuple(notes))


def fit_candidate(name: str, prepared: Prepared) -> FittedLaw:
    """Fit the candidate ``name`` (one of :data:`CANDIDATES`) to a prepared table.

    The single laws and the mixtures are fitted to the start-up times ``X = Y - tau B`` at
    the OLS ``tau``, which their ``n_params`` counts; the two-class models to the task times
    (their ``tau`` is their own).
    """
    if name in FITTERS:
        fitted = FITTERS[name](prepared.sample)
    elif name in MIXTURE_CANDIDATES:
        first, second = MIXTURES[MIXTURE_CANDIDATES.index(name)]
        fitted = fit_mixture(prepared.sample, first, second)
    elif name in CLASS_CANDIDATES:
        return fit_two_class(prepared.times, TWO_CLASS_LAWS[CLASS_CANDIDATES.index(name)])
    else:
        raise ValueError(f"unknown candidate {name!r} (one of {', '.join(CANDIDATES)})")
    return replace(fitted, n_params=fitted.n_params + 1)


def fit_tasks(tasks: pd.DataFrame, origin: str = "start",
              candidates: Iterable[str] | None = None) -> Fit:
    """Fit ``tau`` and every candidate to a ``tasks.csv`` table.

    Parameters
    ----------
    tasks : pandas.DataFrame
        The table (see :func:`prepare`).
    origin : {"start", "submitted"}
        Time zero of a task: the worker's ``start`` (default), or the master's ``submitted``
        (then dispatch and queueing count as start-up delay).
    candidates : iterable of str, optional
        Names of :data:`CANDIDATES` to fit (default: all). A candidate that cannot be
        fitted (e.g. two classes from tasks of one size) is left out with a note.

    Returns
    -------
    Fit
    """
    prepared = prepare(tasks, origin)
    families, notes = [], list(prepared.notes)
    for name in CANDIDATES if candidates is None else candidates:
        try:
            families.append(fit_candidate(name, prepared))
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            if name not in CANDIDATES:
                raise
            notes.append(f"{name}: not fitted ({exc})")
    if not families:
        raise ValueError("no candidate could be fitted: " + "; ".join(notes))
    return Fit(prepared.regression, prepared.sample, families, prepared.clamped,
               prepared.clamped_censored, prepared.first_result, prepared.times, tuple(notes))


def _uncancelled_groups(tasks: pd.DataFrame) -> np.ndarray:
    """Rows of ``tasks`` whose (scheme, trial) has no cancelled task."""
    if not {"scheme", "trial"} <= set(tasks.columns):
        return np.zeros(len(tasks), dtype=bool)
    cancelled = tasks["status"].astype(str).eq("cancelled")
    any_cancelled = cancelled.groupby([tasks["scheme"], tasks["trial"]]).transform("any")
    return ~any_cancelled.to_numpy(bool)


# -- output ----------------------------------------------------------------------------------

def format_fit(fit: Fit) -> str:
    """The fit table as text: ``tau``, the counts, then one line per candidate (by AIC)."""
    reg, s = fit.regression, fit.sample
    lines = [
        f"tau = {reg.tau:.6g} s per kernel term (SE {reg.se_tau:.3g}), intercept "
        f"{reg.intercept:.6g} s (SE {reg.se_intercept:.3g}); OLS with intercept of "
        f"task time - injected delay on units, {reg.n} tasks of uncancelled scheme-trials",
        f"start-up X = Y - tau B: {s.events} observed, {s.censored} right-censored "
        f"(cancelled before their first result: X > stopped - start - tau first_units, "
        f"{fit.first_result} with first_units > 0); {fit.clamped} left-censored at "
        f"{MIN_DELAY:g} s (Y - tau B below it), {fit.clamped_censored} censoring bounds "
        f"raised to it",
        *fit.notes,
        f"{'candidate':<34} {'k':>2} {'loglik':>12} {'AIC':>12} {'dAIC':>9}  parameters ± SE "
        "(k counts tau)",
    ]
    best, chosen = fit.best, fit.chosen
    for f in sorted(fit.families, key=lambda f: f.aic):
        params = ", ".join(f"{k}={v:.5g}" + (f"±{f.se[k]:.2g}" if math.isfinite(
            f.se.get(k, math.nan)) else "±?") for k, v in f.params.items())
        mark = ""
        if f is chosen:
            mark = "  <- chosen"
        elif f is best:
            mark = (f"  <- lowest AIC, not written: {config_problem(f, reg.tau)}")
        lines.append(f"{f.name:<34} {f.n_params:>2} {f.loglik:>12.4f} {f.aic:>12.4f} "
                     f"{f.aic - best.aic:>9.3f}  {params}{mark}")
    notes: dict[str, list[str]] = {}  # text -> where (one line for a note many share)
    for f in fit.families:
        for key, text in f.notes.items():
            notes.setdefault(text, []).append(f"{f.name} {key}" if key else f.name)
    if notes:
        lines.append("notes (±?: no standard error):")
        lines += [f"  {', '.join(where)}: {text}" for text, where in notes.items()]
    return "\n".join(lines)


def _entries(candidate: FittedLaw, tau: float) -> dict[str, Any]:
    """The config entries of a candidate: ``tau``, ``delay`` and any others."""
    entries = {"tau": tau, **candidate.entries}
    return {k: _plain(v) for k, v in entries.items()}


def _plain(value: Any) -> Any:
    """Numpy scalars to Python numbers, recursively (for YAML and pydantic)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def config_problem(candidate: FittedLaw, tau: float) -> str | None:
    """Why ``ltsim run`` would reject a config with this candidate (``None`` if valid)."""
    from ..io.config import validate
    from ..util.validation import ConfigError

    probe = {"name": "probe", "m": 1, "trials": 1, **_entries(candidate, tau),
             "schemes": [{"kind": "one"}]}
    try:
        validate(probe)
    except ConfigError as exc:
        return str(exc)
    return None


def fitted_config(executed: dict[str, Any], fit: Fit, stay: Any = None) -> dict[str, Any]:
    """An ``ltsim run`` config with the execution's system and schemes and the fitted model
    (:attr:`Fit.chosen`).

    Parameters
    ----------
    executed : dict
        The execution's resolved ``config.yaml``.
    fit : Fit
        What :func:`fit_tasks` found.
    stay : StayFit, optional
        The persistence of the classes (an execution of several rounds,
        :func:`ltsim.fitting.persistence.fit_stay`): the config then holds the lowest-AIC
        two-class candidate, the execution's ``rounds`` and ``persistence: {stay}``.

    Returns
    -------
    dict
        The run config: name ``<name>-fit``; ``m``, ``workers``, ``trials``, ``seed``, the
        schemes and ``price_per_second`` (when the execution had one) as executed; ``tau``,
        ``delay`` and any other entries of the chosen model as fitted.
    """
    schemes = [{k: v for k, v in s.items() if v is not None} for s in executed["schemes"]]
    model = fit.chosen if stay is None else two_class_choice(fit)
    entries = _entries(model, fit.regression.tau)
    if stay is not None:
        entries.update(rounds=executed["rounds"], persistence={"stay": float(stay.stay)})
    price = executed.get("price_per_second")
    return {
        "name": f"{executed['name']}-fit"[:100],
        "m": executed["workload"]["m"],
        "workers": executed["workers"],
        "tau": entries.pop("tau"),
        "trials": executed["trials"],
        "seed": executed["seed"],
        "delay": entries.pop("delay"),
        **entries,
        **({} if price is None else {"price_per_second": price}),
        "schemes": schemes,
    }


def two_class_choice(fit: Fit) -> FittedLaw:
    """The lowest-AIC two-class candidate (what persistence is the persistence of)."""
    ranked = sorted((f for f in fit.families if f.name in CLASS_CANDIDATES),
                    key=lambda f: f.aic)
    if not ranked:
        raise ValueError("no two-class model could be fitted: " + "; ".join(fit.notes))
    return ranked[0]


def write_config(data: dict[str, Any], path: Path, header: str) -> Path:
    """Validate ``data`` with :func:`ltsim.io.config.validate`, then write it atomically."""
    from ..io.config import validate

    validate(data, base_dir=path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp"
    body = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    tmp.write_text(body + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path
