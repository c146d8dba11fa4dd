"""The newer codes (mds, backup, ideal, sum_recovery) against slow references written from
their definitions (``tests/reference_codes.py``), trial by trial; their closed forms; the
orderings that must hold on common delays; malformed configs; and real execution on the local
backend.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from ltsim.cli import main
from ltsim.execution.backends import make_backend
from ltsim.execution.master import run_execution
from ltsim.io import config
from ltsim.montecarlo.trials import simulate_trials
from tests.helpers import experiment, within_sigmas
from tests.reference_codes import (
    draw_workers,
    fresh_workers,
    scheme_reference,
    sum_recovery_symbols_per_worker,
)

EXPONENTIAL = {"dist": "exponential", "rate": 1.0}
CONSTANT = {"dist": "constant", "value": 0.25}
DELAYS = [pytest.param(EXPONENTIAL, id="exponential"), pytest.param(CONSTANT, id="constant")]


def same(a: float, b: float) -> bool:
    """Equal, or within 1e-12 relative (sums taken in another order)."""
    return a == b or math.isclose(a, b, rel_tol=1e-12)


def assert_matches_reference(exp, trials: int) -> list[dict]:
    """Every scheme of ``exp`` equals its reference in every trial; returns the references."""
    outcomes = simulate_trials(exp, 0, trials)
    refs = []
    for i, (scheme, out) in enumerate(zip(exp.schemes, outcomes, strict=True)):
        for t in range(trials):
            ref = scheme_reference(exp, i, t)
            refs.append({"scheme": scheme.scheme_id, "trial": t, **ref})
            where = f"{scheme.scheme_id}, trial {t}"
            assert same(ref["latency"], float(out.latency[t])), (
                f"{where}: latency {out.latency[t]!r}, reference {ref['latency']!r}")
            assert int(out.symbols[t]) == ref["symbols"], (
                f"{where}: symbols {out.symbols[t]}, reference {ref['symbols']}")
            assert bool(out.decoded[t]) == ref["decoded"], where
            if "backups" in ref:
                assert int(out.columns["backups"][t]) == ref["backups"], (
                    f"{where}: backups {out.columns['backups'][t]}, reference "
                    f"{ref['backups']}")
    return refs


# --------------------------------------------------------------------------------------------
# trial by trial against the references
# --------------------------------------------------------------------------------------------


MDS = [{"kind": "mds", "r": r, "symbols_per_worker": s, "returns": returns,
        "label": f"mds{r}-{s}-{returns}"}
       for r in (1, 2) for s in (1, 2) for returns in ("symbol", "worker")]


@pytest.mark.parametrize("delay", DELAYS)
def test_mds_matches_reference(delay):
    exp = experiment(MDS, delay=delay, m=12, trials=8, seed=3)
    refs = assert_matches_reference(exp, 8)
    assert {r["symbols"] for r in refs} == {6, 12}  # k = n / r


BACKUP = [{"kind": "backup", "after": 0.5, "slow_factor": 1.0, "label": "eager"},
          {"kind": "backup", "after": 1.0, "slow_factor": 3.0, "label": "never"},
          {"kind": "backup", "after": 0.3, "slow_factor": 1.5, "label": "median"}]


@pytest.mark.slow
@pytest.mark.parametrize("delay", DELAYS)
def test_backup_matches_reference(delay):
    exp = experiment([*BACKUP, {"kind": "uncoded"}], delay=delay, m=16, trials=8, seed=4)
    refs = assert_matches_reference(exp, 8)
    launched = {r["scheme"]: sum(x["backups"] for x in refs if x["scheme"] == r["scheme"])
                for r in refs if "backups" in r}
    if delay is EXPONENTIAL:
        assert launched["eager"] > 0, launched  # the case with backups is exercised
    else:  # equal delays: every task is done at t_b, none is late
        assert launched == {"eager": 0, "never": 0, "median": 0}
    assert launched["never"] == 0  # after = 1: t_b is the last original finish
    out = simulate_trials(exp, 0, 8)
    assert np.array_equal(out[1].latency, out[3].latency)  # ... so it is Uncoded


SOURCES = [{"kind": "mds", "k": 8, "symbols_per_worker": 2, "label": "mds-k8"},
           {"kind": "mds", "k": 3, "returns": "worker", "label": "mds-k3"},
           {"kind": "lt", "k": 24, "symbols_per_worker": 7, "label": "lt-k24"},
           {"kind": "lt", "k": 12, "symbols_per_worker": 4, "returns": "worker",
            "label": "lt-k12w"},
           {"kind": "ideal", "k": 24}, {"kind": "ideal", "k": 8}]


@pytest.mark.parametrize("computation", ["nonlinear", "linear"])
@pytest.mark.parametrize("delay", DELAYS)
def test_codes_over_k_sources_match_reference(delay, computation):
    """``k`` source symbols of m/k functions, independent of the 6 workers (8 and 24 do not
    divide 6; 3 does, with sources of two unit tasks)."""
    exp = experiment(SOURCES, delay=delay, m=24, workers=6, tau=0.01, trials=6, seed=11,
                     computation=computation)
    refs = assert_matches_reference(exp, 6)
    assert {r["symbols"] for r in refs if r["scheme"].startswith("mds")} == {8, 3}


def test_k_of_the_default_sources_is_the_same_code():
    """``k = n / r`` is the code of ``r``: the same latencies, trial by trial."""
    pairs = [({"kind": "mds", "r": 2}, {"kind": "mds", "k": 6}),
             ({"kind": "lt", "r": 2, "symbols_per_worker": 3}, {"kind": "lt", "k": 6,
                                                               "symbols_per_worker": 3}),
             ({"kind": "ideal"}, {"kind": "ideal", "k": 12})]
    for computation in ("nonlinear", "linear"):
        for a, b in pairs:
            outs = [simulate_trials(experiment([x], m=12, trials=20, seed=12,
                                               computation=computation), 0, 20)[0]
                    for x in (a, b)]
            assert np.array_equal(outs[0].latency, outs[1].latency), (a, b, computation)
            assert np.array_equal(outs[0].symbols, outs[1].symbols), (a, b, computation)


def test_mds_over_k_sources_mean_latency_linear():
    """The (10, 8) MDS code of a linear job on 10 workers: ``u n / k + E[X_(8:10)]``."""
    rate, trials = 1.0, 4000
    exp = experiment([{"kind": "mds", "k": 8}], delay={"dist": "exponential", "rate": rate},
                     m=40, workers=10, tau=0.025, trials=trials, seed=13,
                     computation="linear")
    mu = exp.unit_time * 10 / 8 + (harmonic(10) - harmonic(2)) / rate
    theory = float(exp.schemes[0].theory_mean(exp.view()))
    assert math.isclose(theory, mu, rel_tol=1e-9), (theory, mu)
    ok, message = within_sigmas(simulate_trials(exp, 0, trials)[0].latency, mu)
    assert ok, message


@pytest.mark.parametrize("delay", DELAYS)
def test_ideal_matches_reference(delay):
    exp = experiment([{"kind": "ideal"}], delay=delay, m=16, tau=0.05, trials=10, seed=5)
    assert_matches_reference(exp, 10)


SUM_RECOVERY = [
    {"kind": "sum_recovery", "d": 1, "label": "sr1"},
    {"kind": "sum_recovery", "d": 3, "label": "sr3"},
    {"kind": "sum_recovery", "d": 1, "symbols_per_worker": 3, "label": "sr1-cap"},
    {"kind": "sum_recovery", "d": 3, "symbols_per_worker": 2, "label": "sr3-cap"},
    {"kind": "sum_recovery", "d": 3, "returns": "worker", "label": "sr3-worker"},
]


@pytest.mark.parametrize("delay", DELAYS)
@pytest.mark.parametrize("m", [12, 20])
def test_sum_recovery_matches_reference(delay, m):
    exp = experiment(SUM_RECOVERY, delay=delay, m=m, tau=0.05, trials=4, seed=6)
    refs = assert_matches_reference(exp, 4)
    if delay is EXPONENTIAL:  # not only the n singletons: chunks decide the stop
        assert any(r["symbols"] != m for r in refs), refs


# --------------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------------


def harmonic(n: int) -> float:
    """``H_n``, summed exactly."""
    return float(sum(Fraction(1, v) for v in range(1, n + 1)))


def pareto_order_statistic(scale: float, a: float, k: int, n: int) -> float:
    """``E[X_(k:n)] = scale G(n+1) G(n-k+1-1/a) / (G(n-k+1) G(n+1-1/a))``."""
    return scale * math.exp(math.lgamma(n + 1) + math.lgamma(n - k + 1 - 1 / a)
                            - math.lgamma(n - k + 1) - math.lgamma(n + 1 - 1 / a))


@pytest.mark.parametrize("r", [1, 2, 4])
def test_mds_mean_latency_under_exponential_delays(r):
    rate, trials = 2.0, 3000
    exp = experiment([{"kind": "mds", "r": r}], delay={"dist": "exponential", "rate": rate},
                     m=20, tau=0.02, trials=trials, seed=7)
    n, k, u = 20, 20 // r, exp.unit_time
    mu = u * n + (harmonic(n) - harmonic(n - k)) / rate
    theory = float(exp.schemes[0].theory_mean(exp.view()))
    assert math.isclose(theory, mu, rel_tol=1e-9), (theory, mu)
    ok, message = within_sigmas(simulate_trials(exp, 0, trials)[0].latency, mu)
    assert ok, message


@pytest.mark.parametrize("r", [1, 2, 4])
def test_mds_mean_latency_under_pareto_delays(r):
    trials = 3000
    exp = experiment([{"kind": "mds", "r": r}],
                     delay={"dist": "pareto", "scale": 1.0, "shape": 3.0},
                     m=20, tau=0.02, trials=trials, seed=8)
    n, k, u = 20, 20 // r, exp.unit_time
    mu = u * n + pareto_order_statistic(1.0, 3.0, k, n)
    theory = float(exp.schemes[0].theory_mean(exp.view()))
    assert math.isclose(theory, mu, rel_tol=1e-9), (theory, mu)
    if r > 1:  # the maximum of 20 Pareto(3) delays has too heavy a tail for a 4-SE check
        ok, message = within_sigmas(simulate_trials(exp, 0, trials)[0].latency, mu)
        assert ok, message


def test_mds_theory_is_nan_beyond_one_symbol_per_worker():
    exp = experiment([{"kind": "mds", "r": 2, "symbols_per_worker": 2}], m=8)
    assert math.isnan(float(exp.schemes[0].theory_mean(exp.view())))


# --------------------------------------------------------------------------------------------
# orderings on common delays
# --------------------------------------------------------------------------------------------


ORDERED = [
    {"kind": "one"}, {"kind": "uncoded"}, {"kind": "replication", "r": 2},
    {"kind": "lt", "r": 1, "symbols_per_worker": 2, "c": 0.1},
    {"kind": "lt", "r": 2, "symbols_per_worker": 3, "returns": "worker", "label": "lt2w"},
    {"kind": "mds", "r": 2}, {"kind": "mds", "r": 1, "symbols_per_worker": 2,
                              "returns": "worker", "label": "mds1w"},
    {"kind": "sum_recovery", "d": 2},
    {"kind": "sum_recovery", "d": 3, "returns": "worker", "label": "sr3w"},
    {"kind": "sum_recovery", "d": 1, "symbols_per_worker": 2, "label": "sr1cap"},
    {"kind": "backup", "after": 0.5, "slow_factor": 1.0},
    {"kind": "ideal"},
]
LAWS = [
    {"dist": "exponential", "rate": 1.0},
    {"dist": "pareto", "scale": 0.5, "shape": 1.5},
    {"dist": "constant", "value": 0.1},
    {"dist": "lognormal", "mu": -1.0, "sigma": 1.0},
    {"dist": "mixture", "components": [{"weight": 0.9, "dist": "exponential", "rate": 1.66},
                                       {"weight": 0.1, "dist": "pareto", "scale": 0.235,
                                        "shape": 10}]},
]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), m=st.sampled_from([8, 12, 16]),
       tau=st.sampled_from([0.01, 0.1, 1.0]), law=st.sampled_from(LAWS))
def test_orderings_on_common_delays(seed, m, tau, law):
    trials = 3
    exp = experiment(ORDERED, delay=law, m=m, tau=tau, trials=trials, seed=seed)
    out = {s.scheme_id: o.latency for s, o in zip(exp.schemes, simulate_trials(exp, 0, trials),
                                                   strict=True)}
    ideal = out["ideal"]
    for name, latency in out.items():
        if name == "backup":  # starts workers beyond the n: not bounded by the genie
            continue
        slack = 1e-12 * np.abs(latency)  # the same completion time summed in another order
        assert (ideal <= latency + slack).all(), f"ideal {ideal} above {name} {latency}"
    assert (out["backup"] <= out["uncoded"]).all(), (out["backup"], out["uncoded"])
    for name in ("sr2", "sr1cap"):  # each singleton arrives at X_j + u: never after Uncoded
        assert (out[name] <= out["uncoded"]).all(), (name, out[name], out["uncoded"])
    u = exp.unit_time
    for name, d in (("sr2", 2), ("sr3w", 3)):  # uncapped: any worker alone ends with F
        work = 1 + min((sum_recovery_symbols_per_worker(m, d, None) - 1) * d, m - 1)
        for t in range(trials):
            delays, _ = draw_workers(exp, t)
            coverage = min(delays) + u * work
            assert out[name][t] <= coverage * (1 + 1e-12), (name, t, out[name][t], coverage)


# --------------------------------------------------------------------------------------------
# malformed configs
# --------------------------------------------------------------------------------------------


BASE = ("name: bad\nm: 8\ntau: 0.005\ntrials: 2\nseed: 1\n"
        "delay: {dist: exponential, rate: 0.2}\nschemes:\n  - {kind: uncoded}\n")
MALFORMED = [
    ("{kind: sum_recovery, d: 0}", "schemes[1].d", "must be greater than or equal to 1", "0"),
    ("{kind: sum_recovery, d: -3}", "schemes[1].d", "must be greater than or equal to 1",
     "-3"),
    ("{kind: sum_recovery, symbols_per_worker: 0}", "schemes[1].symbols_per_worker",
     "must be greater than or equal to 1", "0"),
    ("{kind: backup, after: 0}", "schemes[1].after", "must be greater than 0", "0"),
    ("{kind: backup, after: 1.5}", "schemes[1].after", "must be less than or equal to 1",
     "1.5"),
    ("{kind: backup, slow_factor: 0.5}", "schemes[1].slow_factor",
     "must be greater than or equal to 1", "0.5"),
    ("{kind: mds, symbols_per_worker: 0}", "schemes[1].symbols_per_worker",
     "must be greater than or equal to 1", "0"),
    ("{kind: mds, r: 3}", "schemes[1].r", "must divide the number of workers (8)", "3"),
    ("{kind: mds, k: 3}", "schemes[1].k", "must divide m (8): a source symbol is m/k "
     "functions", "3"),
    ("{kind: lt, r: 2, k: 4}", "schemes[1].r", "must be 1 (the default) when k is given: k "
     "sets the source symbols", "2"),
    ("{kind: lt, k: 0}", "schemes[1].k", "must be greater than or equal to 1", "0"),
    ("{kind: ideal, k: 2.5}", "schemes[1].k", "must be an integer", "2.5"),
]


def refused(args: list[str], out: Path) -> str:
    """Run ``ltsim`` with ``args``; it must exit 2 with one ``ltsim: error:`` line on stderr
    and write nothing. Returns the line."""
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}")
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert len(lines) == 1, lines
    assert "Traceback" not in result.stderr + result.stdout
    assert not out.exists(), f"{out} was written"
    return lines[0]


@pytest.mark.parametrize("scheme, key, rule, value", MALFORMED,
                         ids=[m[0].strip("{}").replace(" ", "") for m in MALFORMED])
def test_malformed_scheme_is_refused(tmp_path, scheme, key, rule, value):
    path = tmp_path / "bad.yaml"
    path.write_text(BASE + f"  - {scheme}\n")
    out = tmp_path / "out"
    line = refused(["run", str(path), "-o", str(out), "--quiet", "--jobs", "1"], out)
    assert line == f"ltsim: error: {path}: {key}: {rule}, got {value}", line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


EXECUTE = {"name": "x", "workload": {"kind": "gaussian_kernel", "m": 16, "dim": 4, "seed": 1},
           "workers": 8, "trials": 2, "seed": 3, "delay": EXPONENTIAL, "time_scale": 0.01,
           "timeout": 20}


def test_sources_that_are_not_whole_unit_tasks_are_refused_by_execute(tmp_path):
    path = tmp_path / "k.yaml"
    path.write_text("name: x\nworkload: {kind: gaussian_kernel, m: 16, dim: 4, seed: 1}\n"
                    "workers: 8\ntrials: 1\ndelay: {dist: exponential, rate: 1.0}\n"
                    "time_scale: 0.01\nschemes: [{kind: uncoded}, {kind: lt, k: 16}]\n")
    out = tmp_path / "out"
    line = refused(["execute", str(path), "-o", str(out), "-q"], out)
    assert line == (f"ltsim: error: {path}: schemes[1].k: ltsim execute runs source symbols "
                    "of whole unit tasks: k must divide the workers (8), got 16"), line


def test_ideal_is_refused_by_execute(tmp_path):
    path = tmp_path / "ideal.yaml"
    path.write_text("name: x\nworkload: {kind: gaussian_kernel, m: 16, dim: 4, seed: 1}\n"
                    "workers: 8\ntrials: 1\ndelay: {dist: exponential, rate: 1.0}\n"
                    "time_scale: 0.01\nschemes: [{kind: uncoded}, {kind: ideal}]\n")
    out = tmp_path / "out"
    line = refused(["execute", str(path), "-o", str(out), "-q"], out)
    assert line == (f"ltsim: error: {path}: schemes[1].kind: runs in simulation only "
                    "(ltsim run), not in ltsim execute, got 'ideal'"), line


# --------------------------------------------------------------------------------------------
# real execution
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local():
    with make_backend("local", concurrency=16) as backend:
        yield backend


def test_mds_and_sum_recovery_execute_and_decode(local):
    schemes = [{"kind": "mds", "r": 1},
               {"kind": "mds", "r": 2, "symbols_per_worker": 2, "returns": "worker"},
               {"kind": "sum_recovery", "d": 3},
               {"kind": "sum_recovery", "d": 1, "symbols_per_worker": 3, "returns": "worker",
                "label": "sr1-cap"}]
    cfg = config.validate({**EXECUTE, "schemes": schemes}, kind="execute")
    run = run_execution(cfg, local)
    assert len(run.executions) == 2 * len(schemes)
    for row in run.executions:
        assert row["status"] == "ok", row
        assert row["rel_error"] <= 1e-9, row
        assert math.isclose(row["value"], run.exact, rel_tol=1e-9)
    symbols = {(r["scheme"], r["trial"]): r["symbols"] for r in run.executions}
    assert symbols[("mds1", 0)] == 8 and symbols[("mds2", 1)] == 4  # any k symbols decode


def test_codes_given_k_execute_as_their_r(local):
    """``k`` dividing the workers is the code of ``r = n / k``, run for real."""
    schemes = [{"kind": "mds", "k": 4}, {"kind": "lt", "k": 4, "symbols_per_worker": 2}]
    cfg = config.validate({**EXECUTE, "schemes": schemes}, kind="execute")
    run = run_execution(cfg, local)
    for row in run.executions:
        assert row["status"] == "ok", row
        assert row["rel_error"] <= 1e-9, row
    assert {r["symbols"] for r in run.executions if r["scheme"] == "mds-k4"} == {4}


def test_backups_are_real_tasks(tmp_path):
    # after 0.5, slow_factor 1: t_b is the 4th of the 8 finishes and the tasks still running
    # then get a backup (Pareto delays leave the slow ones far behind).
    path, out = tmp_path / "backup.yaml", tmp_path / "out"
    path.write_text("name: backup-x\nworkload: {kind: gaussian_kernel, m: 16, dim: 4, seed: 1}\n"
                    "workers: 8\ntrials: 2\nseed: 3\n"
                    "delay: {dist: pareto, scale: 1.0, shape: 1.0}\ntime_scale: 0.01\ntimeout: 20\n"
                    "schemes: [{kind: backup, after: 0.5, slow_factor: 1.0}]\n")
    result = CliRunner().invoke(main, ["execute", str(path), "--backend", "local", "-o",
                                       str(out), "-q"])
    assert result.exit_code == 0, result.output
    cfg = config.load(path, kind="execute")
    n = cfg.n_workers
    runs = pd.read_csv(out / "executions.csv")
    tasks = pd.read_csv(out / "tasks.csv")
    assert len(runs) == 2
    for row in runs.itertuples():
        assert row.status == "ok" and row.rel_error <= 1e-9, row
        mine = tasks[tasks["trial"] == row.trial]
        extra = mine[mine["worker"] >= n]
        assert sorted(mine["worker"][mine["worker"] < n]) == list(range(n))
        assert row.backups >= 1 and len(extra) == row.backups, (row, extra)
        assert row.tasks == n + row.backups
        fresh, _ = fresh_workers(cfg, row.trial, 0, n)
        for task in extra.itertuples():  # task i's backup is worker n + i, with its drawn delay
            assert task.planned_units == cfg.terms_per_unit
            assert math.isclose(task.delay, fresh[task.worker - n] * cfg.time_scale,
                                rel_tol=1e-9), (task, fresh)
