"""``ltsim fit``: regression of tau, censored maximum likelihood of the start-up delay, the
mixture and two-class candidates, and the choice by AIC.

Tolerances are 4 standard errors, each the fit's own (observed information, or the exact law
of a minimum for an edge of the support). Every table is synthetic, from a fixed seed.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ltsim.fitting.classes import _exponnorm_logpdf, _exponnorm_logsf, fit_two_class
from ltsim.fitting.laws import FITTERS, fit_law
from ltsim.fitting.mixtures import fit_mixture
from ltsim.fitting.mle import CensoredSample
from ltsim.fitting.tasks import (
    CANDIDATES,
    LAW_CANDIDATES,
    Fit,
    Regression,
    Sample,
    config_problem,
    fit_tasks,
    fitted_config,
    format_fit,
    prepare,
)
from ltsim.io.config import validate
from ltsim.model.laws import LAWS

EXECUTED = {"name": "x", "workload": {"m": 64}, "workers": 64, "trials": 5, "seed": 2,
            "schemes": [{"kind": "one", "label": None}, {"kind": "lt", "r": 2}]}


def tasks_table(rng, x, tau, units, first=None, cancel=None, speed=None, delay=None,
                trial_size=20) -> pd.DataFrame:
    """A tasks.csv table: start-up ``x``, then results of ``first`` units each (``units`` in
    all, a multiple of ``first``) at ``speed * tau`` per unit; cancelled ``cancel`` seconds
    after its start (``inf``: never) with the results done by then."""
    n = x.size
    units = np.asarray(units, float)
    first = units.copy() if first is None else np.asarray(first, float)
    s = np.ones(n) if speed is None else np.asarray(speed, float)
    cancel = np.full(n, np.inf) if cancel is None else np.asarray(cancel, float)
    start = 1000.0 + rng.random(n)
    done = x + s * tau * units <= cancel
    results = np.floor((cancel - x) / (s * tau * first))
    got = np.where(done, units, np.clip(np.nan_to_num(results, posinf=0), 0, None) * first)
    got = np.minimum(got, units)
    finish = np.where(got > 0, start + x + s * tau * got, np.nan)
    table = pd.DataFrame({
        "scheme": "s", "trial": np.arange(n) // trial_size, "worker": np.arange(n) % trial_size,
        "submitted": start - 0.001, "start": start, "finish": finish,
        "stopped": np.where(done, finish, start + cancel), "units": got.astype(int),
        "planned_units": units.astype(int), "first_units": first.astype(int),
        "status": np.where(done, "done", "cancelled"),
    })
    if delay is not None:
        table["delay"] = delay
    return table


def cancelled_table(law: str, tau: float, n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Injected delays Exp(20) or Pareto(0.05, 2.5) plus 0.1 ms of engine jitter; first
    results of 1..55 units (up to 0.11 s at tau = 2e-3); 70% of the trials cancelled at
    U(0.03, 0.15) s, so that many tasks are stopped while computing their first result."""
    rng = np.random.default_rng(seed)
    if law == "exponential":
        injected = rng.exponential(1 / 20, n)
    else:
        injected = 0.05 * (1 - rng.random(n)) ** (-1 / 2.5)
    x = injected + rng.exponential(1e-4, n)
    first = rng.integers(1, 56, n)
    cut = np.where(rng.random(n // 20) < 0.3, np.inf, rng.uniform(0.03, 0.15, n // 20))
    return tasks_table(rng, x, tau, first * rng.integers(1, 4, n), first, np.repeat(cut, 20),
                       delay=injected)


def two_class_table(fraction: float = 0.1, speed: float = 5.0, n: int = 3000,
                    known: bool = True, seed: int = 0) -> pd.DataFrame:
    """``n`` tasks of 1..64 units at tau = 1e-3, a ``fraction`` of them ``speed`` times
    slower; injected delays Exp(20) plus engine jitter 0.2 ms + Gamma(2, 0.1 ms)."""
    rng = np.random.default_rng(seed)
    injected = rng.exponential(1 / 20, n)
    jitter = 2e-4 + rng.gamma(2.0, 1e-4, n)
    slow = np.where(rng.random(n) < fraction, speed, 1.0)
    return tasks_table(rng, injected + jitter, 1e-3, rng.integers(1, 65, n), speed=slow,
                       delay=injected if known else None)


X_RATE = 1 / (0.05 + 4e-4)
"""The rate of an exponential fitted to X = Exp(20) + jitter (mean 0.4 ms): 1 / E[X]."""


def within(fitted, key: str, truth: float, k: float = 4.0) -> bool:
    return abs(fitted.params[key] - truth) <= k * fitted.se[key]


@pytest.fixture(scope="module")
def two_class_fit():
    return fit_tasks(two_class_table())


# -- tau and the censored sample -------------------------------------------------------------

@pytest.mark.parametrize("censor_at", [None, 0.3])
def test_recovers_tau_and_exponential_rate_within_4_se(censor_at):
    rng = np.random.default_rng(7)
    tau, rate, n = 0.002, 5.0, 4000
    x = rng.exponential(1 / rate, n)
    units = rng.choice([1, 2, 4, 8, 16, 64], size=n)
    cancel = None if censor_at is None else np.full(n, censor_at + tau * units)
    prepared = prepare(tasks_table(rng, x, tau, units, cancel=cancel, trial_size=n))
    reg = prepared.regression
    assert abs(reg.tau - tau) <= 4 * reg.se_tau
    expo = fit_law("exponential", prepared.sample)
    assert within(expo, "rate", rate)
    if censor_at is not None:
        assert prepared.sample.censored > 0  # censoring used, not dropped


def test_known_injected_delay_is_taken_out_of_the_tau_regression():
    rng = np.random.default_rng(11)
    tau, n = 5e-5, 3000
    injected = rng.exponential(0.05, n)  # dwarfs tau * B (at most 3.2 ms)
    jitter = rng.exponential(0.001, n)  # the engine's own start-up noise
    tasks = tasks_table(rng, injected + jitter, tau, rng.choice([1, 2, 4, 8, 16, 64], size=n),
                        delay=injected)
    with_known = prepare(tasks).regression
    without = prepare(tasks.drop(columns="delay")).regression
    assert abs(with_known.tau - tau) <= 4 * with_known.se_tau
    assert with_known.se_tau < without.se_tau / 20  # the injected noise is gone
    assert with_known.intercept == pytest.approx(0.001, rel=0.15)


@pytest.mark.parametrize("law, key, truth", [("exponential", "rate", 20.0),
                                             ("pareto", "shape", 2.5)])
@pytest.mark.parametrize("tau", [2e-5, 2e-3])
def test_cancelled_tasks_are_censored_before_their_first_result(law, key, truth, tau):
    """A task cancelled while computing its first result had finished its start-up: it is
    censored at ``stopped - start - tau first_units``. The old bound, ``stopped - start``
    (as if ``first_units`` were 0), is harmless when a first result is cheap (tau = 2e-5,
    at most 1.1 ms) and wrong by far more than 4 SE when it costs about as much as the
    start-up (tau = 2e-3, up to 0.11 s)."""
    tasks = cancelled_table(law, tau)
    prepared = prepare(tasks)
    assert prepared.sample.censored > 300 and prepared.first_result == prepared.sample.censored
    fitted = fit_law(law, prepared.sample)
    assert within(fitted, key, truth)
    old = fit_law(law, prepare(tasks.assign(first_units=0)).sample)
    if tau < 1e-3:
        assert within(old, key, truth)
    else:
        assert not within(old, key, truth)
        assert old.params[key] < truth  # X > a too late bound: the delays look longer


def test_a_table_without_first_units_is_censored_as_before_and_says_so():
    tasks = cancelled_table("exponential", 2e-5, n=400)
    prepared = prepare(tasks.drop(columns="first_units"))
    assert prepared.first_result == 0
    assert any("first_units" in note for note in prepared.notes)


# -- the single laws -------------------------------------------------------------------------

def test_every_candidate_law_has_a_fitter():
    assert set(FITTERS) == {name for name, law in LAWS.items() if law.fit_parameters}
    assert set(LAW_CANDIDATES) <= set(CANDIDATES)


def test_scipy_fits_match_the_closed_forms():
    rng = np.random.default_rng(3)
    x = rng.exponential(0.2, 3000)
    s = CensoredSample(np.minimum(x[x < 0.3], 0.3), np.full(int((x >= 0.3).sum()), 0.3))
    expo = fit_law("exponential", s)
    closed = s.events / (s.x.sum() + s.c.sum())
    assert expo.params["rate"] == pytest.approx(closed, rel=1e-6)
    assert expo.se["rate"] == pytest.approx(closed / math.sqrt(s.events), rel=1e-3)

    y = 0.5 * (1 - rng.random(3000)) ** (-1 / 1.5)
    par = fit_law("pareto", CensoredSample(y, []))
    assert par.params["scale"] == y.min()
    shape = y.size / np.log(y / y.min()).sum()
    assert par.params["shape"] == pytest.approx(shape, rel=1e-6)
    assert par.se["shape"] == pytest.approx(shape / math.sqrt(y.size), rel=1e-3)
    assert 0 < par.se["scale"] < 1e-3 * par.params["scale"] and "min x" in par.notes["scale"]

    z = rng.lognormal(-1.0, 0.5, 3000)
    logn = fit_law("lognormal", CensoredSample(z, []))
    sigma = np.log(z).std()
    assert logn.params["mu"] == pytest.approx(np.log(z).mean(), abs=1e-6)
    assert logn.params["sigma"] == pytest.approx(sigma, rel=1e-6)
    assert logn.se["mu"] == pytest.approx(sigma / math.sqrt(z.size), rel=1e-3)
    assert logn.se["sigma"] == pytest.approx(sigma / math.sqrt(2 * z.size), rel=1e-3)

    w = 2.0 * rng.weibull(1.7, 3000)
    weib = fit_law("weibull", CensoredSample(w, []))
    shape, _, scale = stats.weibull_min.fit(w, floc=0)
    assert weib.params["shape"] == pytest.approx(shape, rel=1e-4)
    assert weib.loglik >= stats.weibull_min.logpdf(w, shape, scale=scale).sum() - 1e-6
    # asymptotic standard errors of the Weibull MLE: 0.78 k / sqrt(n), 1.05 scale / (k sqrt(n))
    k = weib.params["shape"]
    assert weib.se["shape"] == pytest.approx(0.780 * k / math.sqrt(w.size), rel=0.1)
    assert weib.se["scale"] == pytest.approx(1.053 * 2.0 / (k * math.sqrt(w.size)), rel=0.1)


def test_censored_laws_recover_their_parameters_with_a_standard_error_each():
    rng = np.random.default_rng(5)
    cut = 0.4
    for name, x, truth in (
        ("weibull", 0.3 * rng.weibull(1.5, 3000), {"scale": 0.3, "shape": 1.5}),
        ("lognormal", rng.lognormal(-1.5, 0.6, 3000), {"mu": -1.5, "sigma": 0.6}),
        ("shifted_exponential", 0.05 + rng.exponential(0.2, 3000), {"rate": 5.0}),
    ):
        s = CensoredSample(x[x <= cut], np.full(int((x > cut).sum()), cut))
        fitted = fit_law(name, s)
        assert set(fitted.se) == set(fitted.params) == set(LAWS[name].fit_parameters)
        assert all(math.isfinite(v) and v > 0 for v in fitted.se.values()), fitted
        for key, value in truth.items():
            assert within(fitted, key, value), (name, key, fitted)


# -- mixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mixture_sample():
    """0.9 Exp(20) + 0.1 Pareto(0.1, 2.5), 3000 times."""
    rng = np.random.default_rng(5)
    n = 3000
    bulk = rng.random(n) < 0.9
    return np.where(bulk, rng.exponential(1 / 20, n), 0.1 * (1 - rng.random(n)) ** (-1 / 2.5))


@pytest.fixture(scope="module")
def mixture_fit(mixture_sample):
    return fit_mixture(CensoredSample(mixture_sample, []), "exponential", "pareto")


def test_mixture_recovers_its_weight_within_4_se(mixture_sample, mixture_fit):
    x, mix = mixture_sample, mixture_fit
    assert within(mix, "weight", 0.9) and within(mix, "c1.rate", 20.0)
    assert within(mix, "c2.shape", 2.5)
    assert mix.params["c2.scale"] == pytest.approx(0.1, rel=0.02)
    assert math.isnan(mix.se["c2.scale"]) and "not estimable" in mix.notes["c2.scale"]
    assert mix.n_params == 4
    delay = mix.delay()
    assert delay["dist"] == "mixture" and [c["dist"] for c in delay["components"]] == [
        "exponential", "pareto"]
    assert sum(c["weight"] for c in delay["components"]) == pytest.approx(1.0)
    single = fit_law("exponential", CensoredSample(x, []))
    assert mix.aic < single.aic - 50


def test_the_lowest_aic_mixture_is_written_and_one_configs_refuse_gives_way(mixture_sample,
                                                                           mixture_fit):
    """Both outcomes of :attr:`Fit.chosen` on one fixed sample: the mixture (lowest AIC,
    accepted by the config model) is written with its fitted parameters; the same mixture
    made invalid for ``ltsim run`` gives way to the single law, and the table says why."""
    sample = CensoredSample(mixture_sample, [])
    single = replace(fit_law("exponential", sample), n_params=2)
    mix = replace(mixture_fit, n_params=mixture_fit.n_params + 1)
    regression = Regression(1e-3, 0.0, 1e-6, 1e-6, 100)

    assert config_problem(mix, 1e-3) is None  # run configs accept mixtures
    fit = Fit(regression, sample, [single, mix], 0)
    assert fit.best is mix and fit.chosen is mix
    experiment = validate(fitted_config(EXECUTED, fit))
    assert experiment.delay.dist == "mixture"
    first, second = experiment.delay.components
    assert (first.law.dist, second.law.dist) == ("exponential", "pareto")
    assert first.weight == pytest.approx(mix.params["weight"], rel=1e-12)
    assert within(mix, "weight", 0.9) and within(mix, "c1.rate", 20.0)
    assert first.law.rate == pytest.approx(mix.params["c1.rate"], rel=1e-12)
    assert second.law.shape == pytest.approx(mix.params["c2.shape"], rel=1e-12)
    rows = {line.split(" ", 1)[0]: line for line in format_fit(fit).splitlines()}
    assert rows[mix.name].endswith("<- chosen") and "<-" not in rows[single.name]

    delay = mix.delay()
    broken = {**delay, "components": [delay["components"][0],
                                      {**delay["components"][1], "shape": -1.0}]}
    refused = replace(mix, entries={**mix.entries, "delay": broken})
    problem = config_problem(refused, 1e-3)
    assert problem is not None and "shape" in problem
    fit = Fit(regression, sample, [single, refused], 0)
    assert fit.best is refused and fit.chosen is single
    rows = {line.split(" ", 1)[0]: line for line in format_fit(fit).splitlines()}
    assert rows[refused.name].endswith(f"<- lowest AIC, not written: {problem}")
    assert rows[single.name].endswith("<- chosen")
    experiment = validate(fitted_config(EXECUTED, fit))
    assert experiment.delay.dist == "exponential"
    assert experiment.delay.rate == pytest.approx(single.params["rate"], rel=1e-12)


def test_fit_keeps_the_price_per_second_of_the_execution(tmp_path):
    """``ltsim fit`` writes the execution's ``price_per_second`` into the run config (and
    invents none when the execution had none), so that the fitted run has a cost column."""
    import yaml
    from click.testing import CliRunner

    from ltsim.cli import main

    rng = np.random.default_rng(3)
    n = 200
    tasks_table(rng, rng.exponential(0.05, n), 1e-3, rng.choice([1, 2, 4, 8, 16, 64], size=n)
                ).to_csv(tmp_path / "tasks.csv", index=False)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({**EXECUTED,
                                                          "price_per_second": 0.25}))
    result = CliRunner().invoke(main, ["fit", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    written = yaml.safe_load((tmp_path / "fitted.yaml").read_text())
    assert written["price_per_second"] == 0.25
    assert validate(written).price_per_second == 0.25

    sample = CensoredSample(np.array([0.1, 0.2, 0.3]), [])
    fit = Fit(Regression(1e-3, 0.0, 1e-6, 1e-6, 3), sample,
              [fit_law("exponential", sample)], 0)
    assert "price_per_second" not in fitted_config(EXECUTED, fit)
    assert validate(fitted_config(EXECUTED, fit)).price_per_second is None


def test_mixture_of_two_exponentials():
    rng = np.random.default_rng(8)
    n = 2000
    x = np.where(rng.random(n) < 0.7, rng.exponential(1 / 40, n), rng.exponential(1 / 4, n))
    cut = 1.0
    mix = fit_mixture(CensoredSample(x[x <= cut], np.full(int((x > cut).sum()), cut)),
                      "exponential", "exponential")
    assert mix.params["c1.rate"] > mix.params["c2.rate"]  # the fast component first
    for key, truth in (("weight", 0.7), ("c1.rate", 40.0), ("c2.rate", 4.0)):
        assert within(mix, key, truth), (key, mix)


@pytest.mark.slow
# -- two classes of workers ------------------------------------------------------------------

def test_two_classes_recovered_within_4_se_with_injected_delays_known(two_class_fit):
    fitted = next(f for f in two_class_fit.families if f.name == "two_class(exponential)")
    for key, truth in (("fraction", 0.1), ("speed", 5.0), ("tau", 1e-3), ("rate", X_RATE)):
        assert within(fitted, key, truth), (key, fitted)
    assert fitted.se["speed"] < 0.01  # the residuals Y - injected delay tell them apart
    assert fitted.n_params == 4
    assert fitted.entries["classes"] == [{"fraction": 1 - fitted.params["fraction"]},
                                         {"fraction": fitted.params["fraction"],
                                          "speed": fitted.params["speed"]}]
    assert fitted.entries["tau"] == fitted.params["tau"]


@pytest.mark.slow
def test_two_classes_recovered_within_4_se_from_task_times_alone():
    times = prepare(two_class_table(known=False, seed=1)).times
    assert times.known is None
    fitted = fit_two_class(times, "exponential")
    for key, truth in (("fraction", 0.1), ("speed", 5.0), ("tau", 1e-3), ("rate", X_RATE)):
        assert within(fitted, key, truth), (key, fitted)


def test_two_classes_need_tasks_of_several_sizes():
    tasks = two_class_table(n=200)
    tasks["units"] = tasks["planned_units"] = tasks["first_units"] = 8
    with pytest.raises(ValueError, match="two distinct units"):
        fit_two_class(prepare(tasks).times, "exponential")


# -- the choice ------------------------------------------------------------------------------

def test_aic_picks_two_classes_on_a_two_class_trace(two_class_fit):
    fit = two_class_fit
    assert {f.name for f in fit.families} == set(CANDIDATES)
    assert fit.best.kind == "two_class"
    assert config_problem(fit.best, fit.regression.tau) is None  # configs accept `classes`
    assert fit.chosen is fit.best
    experiment = validate(fitted_config(EXECUTED, fit))
    assert experiment.delay.dist == fit.chosen.dist
    assert [c.fraction for c in experiment.classes] == pytest.approx(
        [1 - fit.best.params["fraction"], fit.best.params["fraction"]])
    assert experiment.tau == pytest.approx(fit.best.params["tau"])


@pytest.mark.slow
def test_aic_picks_one_law_on_a_one_class_trace():
    fit = fit_tasks(two_class_table(fraction=0.0, n=2000, seed=2))
    assert {f.name for f in fit.families} == set(CANDIDATES)
    assert fit.best.kind == "law" and fit.chosen is fit.best
    classes = next(f for f in fit.families if f.name == "two_class(exponential)")
    assert classes.params["fraction"] < 0.01 or classes.params["speed"] < 1.05
    experiment = validate(fitted_config(EXECUTED, fit))
    assert experiment.delay.dist == fit.best.dist
    assert math.isclose(experiment.tau, fit.regression.tau)


def test_aic_picks_pareto_for_heavy_tails_and_config_validates():
    rng = np.random.default_rng(1)
    # shape 2.5: finite variance, so OLS of tau is sound (with shape <= 2 it is not)
    n = 3000
    tasks = tasks_table(rng, 0.05 * (1 - rng.random(n)) ** (-1 / 2.5), 0.001,
                        rng.choice([1, 2, 4, 8, 16, 64], size=n))
    fit = fit_tasks(tasks, candidates=LAW_CANDIDATES)
    assert fit.best.dist == "pareto"
    experiment = validate(fitted_config(EXECUTED, fit))
    assert experiment.delay.dist == "pareto"
    assert math.isclose(experiment.tau, fit.regression.tau)


def test_format_fit_shows_every_candidate_with_its_standard_errors(two_class_fit):
    text = format_fit(two_class_fit)
    lines = text.splitlines()
    assert lines[0].startswith("tau = ") and "SE" in lines[0]
    assert "observed" in lines[1] and "right-censored" in lines[1]
    for name in CANDIDATES:
        assert any(line.startswith(name + " ") for line in lines), name
    assert text.count("<- chosen") == 1
    row = next(line for line in lines if line.startswith("two_class(exponential) "))
    assert "fraction=" in row and "speed=" in row and "±" in row
    assert Sample is CensoredSample


def test_exponnorm_closed_forms_match_scipy():
    x = np.linspace(-0.002, 0.02, 12)
    k, loc, sd = 6.0, 0.001, 0.0005
    assert np.allclose(_exponnorm_logpdf(x, loc, sd, k * sd),
                       stats.exponnorm.logpdf(x, k, loc=loc, scale=sd))
    assert np.allclose(_exponnorm_logsf(x, loc, sd, k * sd),
                       stats.exponnorm.logsf(x, k, loc=loc, scale=sd))


def test_hessian_fallback_of_older_scipy_is_exact_on_a_quadratic():
    from ltsim.fitting.mle import _central_hessian, _hessian

    a = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 3.0]])

    def f(z):
        return 1e4 + 0.5 * np.einsum("i...,ij,j...->...", z, a, z)

    assert np.allclose(_central_hessian(f, 3, 0.25), a)
    assert np.allclose(_hessian(f, 3), a)
