"""How long a slow machine stays slow: the ``stay`` probability of a two-class model fitted to
an execution of several rounds (``rounds`` > 1), by maximum likelihood of a hidden Markov
model over every machine's rounds.

A machine's class over the rounds of a trial is the chain of ``persistence: {stay: p}``
(``docs/queueing.md``): it starts in the slow class with probability ``f`` and keeps its
class with probability ``p``, else redraws it (slow with probability ``f``). What a round
shows of the class is the tasks the machine ran in it, one per scheme (the schemes of a trial
run on the same machines): each task's residual ``R = Y - injected delay`` (or ``Y`` when no
delay was injected) is ``J + s tau B`` with ``s`` 1 or ``v``, ``J`` the exponentially
modified Gaussian of the two-class fit (:func:`~ltsim.fitting.classes.fit_two_class`, its
first stage), a task cancelled before its first result right-censored. ``tau``, ``f``, ``v``
and the law of ``J`` are held at that fit; the forward algorithm gives the likelihood of
``p`` summed over the hidden classes, maximised on [0, 1] (scipy's bounded scalar search);
its standard error is the inverse square root of the observed information (a central second
difference), conditional on the held parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from .classes import TaskTimes, _exponnorm_logpdf, _exponnorm_logsf, _residual_classes


@dataclass(frozen=True)
class StayFit:
    """The fitted ``stay`` and what it rests on."""

    stay: float
    se: float
    fraction: float
    machines: int
    """Machine sequences (trial x worker) used."""
    rounds: int
    loglik: float
    note: str = ""

    def line(self) -> str:
        """One line for the fit table."""
        se = f"{self.se:.3g}" if math.isfinite(self.se) else "?"
        slow_run = (1.0 / (1.0 - (self.stay + (1 - self.stay) * self.fraction))
                    if self.stay < 1 else math.inf)
        text = (f"persistence: stay = {self.stay:.4g} (SE {se}), a slow machine stays slow "
                f"{slow_run:.3g} rounds on average; hidden Markov model over {self.machines} "
                f"machines x {self.rounds} rounds, slow fraction {self.fraction:.3g} held at "
                f"the two-class fit")
        return text + (f" ({self.note})" if self.note else "")


def round_emissions(tasks: pd.DataFrame, origin: str, theta: dict[str, float], workers: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood of every (trial, machine, round) under the fast and the slow class,
    arrays of shape (trials x workers, rounds): the sum over its tasks (0 without one)."""
    zero = tasks[origin].to_numpy(float)
    units = tasks["units"].to_numpy(float)
    finish, stopped = tasks["finish"].to_numpy(float), tasks["stopped"].to_numpy(float)
    status = tasks["status"].astype(str).to_numpy()
    first = (np.nan_to_num(tasks["first_units"].to_numpy(float)) if "first_units" in tasks
             else np.zeros(len(tasks)))
    known = (np.nan_to_num(tasks["delay"].to_numpy(float)) if "delay" in tasks
             else np.zeros(len(tasks)))
    observed = (units > 0) & np.isfinite(finish) & np.isfinite(zero) & (status != "failed")
    censored = (status == "cancelled") & (units == 0) & np.isfinite(stopped) & np.isfinite(zero)
    tau, v = theta["tau"], theta["speed"]
    loc, sd, tail = theta["loc"], theta["sd"], theta["tail"]
    lf, ls = np.zeros(len(tasks)), np.zeros(len(tasks))
    r = finish - zero - known
    lf[observed] = _exponnorm_logpdf(r[observed] - tau * units[observed], loc, sd, tail)
    ls[observed] = _exponnorm_logpdf(r[observed] - v * tau * units[observed], loc, sd, tail)
    rc = stopped - zero - known
    lf[censored] = _exponnorm_logsf(rc[censored] - tau * first[censored], loc, sd, tail)
    ls[censored] = _exponnorm_logsf(rc[censored] - v * tau * first[censored], loc, sd, tail)
    trial = tasks["trial"].to_numpy(np.int64)
    worker = tasks["worker"].to_numpy(np.int64)
    k = tasks["round"].to_numpy(np.int64)
    own = (worker < workers) & (observed | censored)  # machines of the trial, not fresh ones
    trials, rounds = int(trial.max()) + 1, int(k.max()) + 1
    fast = np.zeros((trials * workers, rounds))
    slow = np.zeros((trials * workers, rounds))
    row = trial[own] * workers + worker[own]
    np.add.at(fast, (row, k[own]), lf[own])
    np.add.at(slow, (row, k[own]), ls[own])
    return fast, slow


def sequence_loglik(stay: float, fraction: float, fast: np.ndarray, slow: np.ndarray) -> float:
    """Log-likelihood of ``stay`` by the forward algorithm over every machine's rounds (log
    space, the two states vectorised over machines)."""
    f = fraction
    log_p = np.log(np.array([1 - f, f]))
    keep = np.log(np.array([[stay + (1 - stay) * (1 - f), (1 - stay) * f],
                            [(1 - stay) * (1 - f), stay + (1 - stay) * f]]))
    alpha = np.stack([log_p[0] + fast[:, 0], log_p[1] + slow[:, 0]], axis=1)
    for k in range(1, fast.shape[1]):
        step = np.logaddexp(alpha[:, [0]] + keep[0], alpha[:, [1]] + keep[1])
        alpha = step + np.stack([fast[:, k], slow[:, k]], axis=1)
    return float(np.logaddexp(alpha[:, 0], alpha[:, 1]).sum())


def fit_stay(tasks: pd.DataFrame, times: TaskTimes, workers: int, origin: str = "start"
             ) -> StayFit:
    """Maximum-likelihood ``stay`` of an execution of several rounds (see the module
    docstring).

    Parameters
    ----------
    tasks : pandas.DataFrame
        Its ``tasks.csv`` (with ``round``, ``trial``, ``worker``).
    times : TaskTimes
        The prepared task times of the same table (:func:`ltsim.fitting.tasks.prepare`),
        whose two-class fit holds ``tau``, the slow fraction and speed, and the law of ``J``.
    workers : int
        The execution's logical workers (tasks on other workers ran on fresh machines).
    """
    if "round" not in tasks or tasks["round"].nunique() < 2:
        raise ValueError("the stay of a class needs an execution of two rounds or more")
    first = _residual_classes(times)
    theta = dict(first.theta)
    f = float(theta["fraction"])
    fast, slow = round_emissions(tasks, origin, theta, workers)
    seen = (fast != 0) | (slow != 0)
    fast, slow = fast[seen.any(axis=1)], slow[seen.any(axis=1)]

    def minus(p: float) -> float:
        return -sequence_loglik(p, f, fast, slow)

    found = optimize.minimize_scalar(minus, bounds=(0.0, 1.0 - 1e-9), method="bounded",
                                     options={"xatol": 1e-7})
    p = float(found.x)
    h = min(1e-4, p / 2, (1 - p) / 2)
    note = ""
    if h > 1e-7:
        second = (minus(p + h) - 2 * minus(p) + minus(p - h)) / h**2
        se = 1.0 / math.sqrt(second) if second > 0 else math.nan
    else:
        se, note = math.nan, "at the edge of [0, 1]: no standard error"
    return StayFit(p, se, f, fast.shape[0], fast.shape[1], -float(found.fun), note)
