"""``ltsim fit``: regression of tau and censored maximum likelihood of the start-up delay.

Tolerances are 4 standard errors: the OLS standard error for ``tau`` and ``rate / sqrt(d)``
(``d`` observed, uncensored delays) for an exponential rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simulator.execute.fit import (
    Sample,
    fit_lognormal,
    fit_pareto,
    fit_tasks,
    fit_weibull,
    fitted_config,
)


def synthetic(x: np.ndarray, tau: float, rng, censor_at: float | None = None) -> pd.DataFrame:
    """A tasks.csv table with start-up delays ``x`` and work ``B`` of 1..64 units."""
    n = x.size
    units = rng.choice([1, 2, 4, 8, 16, 64], size=n)
    start = 1000.0 + rng.random(n)
    finish = start + x + tau * units
    stopped = finish.copy()
    status = np.full(n, "done", dtype=object)
    if censor_at is not None:
        cut = x > censor_at
        status[cut] = "cancelled"
        units = np.where(cut, 0, units)
        finish[cut] = np.nan
        stopped[cut] = start[cut] + censor_at
    return pd.DataFrame({"submitted": start - 0.001, "start": start, "finish": finish,
                         "stopped": stopped, "units": units, "status": status})


@pytest.mark.parametrize("censor_at", [None, 0.3])
def test_recovers_tau_and_exponential_rate_within_4_se(censor_at):
    rng = np.random.default_rng(7)
    tau, rate = 0.002, 5.0
    tasks = synthetic(rng.exponential(1 / rate, 4000), tau, rng, censor_at)
    fit = fit_tasks(tasks)
    reg = fit.regression
    assert abs(reg.tau - tau) <= 4 * reg.se_tau
    expo = next(f for f in fit.families if f.dist == "exponential")
    assert abs(expo.params["rate"] - rate) <= 4 * expo.se["rate"]
    if censor_at is not None:
        assert fit.sample.c.size > 0  # censoring used, not dropped


def test_known_injected_delay_is_taken_out_of_the_tau_regression():
    rng = np.random.default_rng(11)
    tau, n = 5e-5, 3000
    injected = rng.exponential(0.05, n)  # dwarfs tau * B (at most 3.2 ms)
    jitter = rng.exponential(0.001, n)  # the engine's own start-up noise
    tasks = synthetic(injected + jitter, tau, rng)
    tasks["delay"] = injected
    with_known = fit_tasks(tasks).regression
    without = fit_tasks(tasks.drop(columns="delay")).regression
    assert abs(with_known.tau - tau) <= 4 * with_known.se_tau
    assert with_known.se_tau < without.se_tau / 20  # the injected noise is gone
    assert with_known.intercept == pytest.approx(0.001, rel=0.15)


def test_weibull_pareto_lognormal_mles():
    rng = np.random.default_rng(3)
    w = fit_weibull(Sample(2.0 * rng.weibull(1.7, 5000), np.empty(0)))
    assert w.params["shape"] == pytest.approx(1.7, rel=0.05)
    assert w.params["scale"] == pytest.approx(2.0, rel=0.05)
    p = fit_pareto(Sample(0.5 * (1 - rng.random(5000)) ** (-1 / 1.5), np.empty(0)))
    assert p.params["shape"] == pytest.approx(1.5, rel=0.06)
    x = rng.lognormal(-1.0, 0.5, 5000)
    full = fit_lognormal(Sample(x, np.empty(0)))
    assert full.params["mu"] == pytest.approx(-1.0, abs=0.03)
    cut = np.exp(-0.8)
    censored = fit_lognormal(Sample(x[x <= cut], np.full(int((x > cut).sum()), cut)))
    assert censored.params["mu"] == pytest.approx(-1.0, abs=0.04)
    assert censored.params["sigma"] == pytest.approx(0.5, rel=0.06)


def test_aic_picks_pareto_for_heavy_tails_and_config_validates():
    from simulator.io.config import validate

    rng = np.random.default_rng(1)
    # shape 2.5: finite variance, so OLS of tau is sound (with shape <= 2 it is not; see
    # the report in simulator/fit.py)
    tasks = synthetic(0.05 * (1 - rng.random(3000)) ** (-1 / 2.5), 0.001, rng)
    fit = fit_tasks(tasks)
    assert fit.best.dist == "pareto"
    executed = {"name": "x", "workload": {"m": 64}, "workers": 64, "trials": 5, "seed": 2,
                "schemes": [{"kind": "one", "label": None}, {"kind": "lt", "r": 2}]}
    experiment = validate(fitted_config(executed, fit))
    assert experiment.delay.dist == "pareto"
    assert math.isclose(experiment.tau, fit.regression.tau)
