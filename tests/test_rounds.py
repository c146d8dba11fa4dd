"""Iterative jobs (``rounds: K``): rounds released one after another on the same workers,
each at the previous one's completion, unfinished tasks cancelled after ``cancel_delay``."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltsim import Experiment, simulate
from ltsim.codes import LT, Replication, Uncoded
from ltsim.laws import Constant, Exponential
from tests.helpers import cli

CONFIG = """\
name: rounds
m: 20
tau: 0.01
trials: 30
seed: 11
delay: {dist: exponential, rate: 1.0}
classes:
  - {fraction: 0.1, delay: {dist: exponential, rate: 0.1}}
  - {fraction: 0.9, delay: {dist: exponential, rate: 1.0}}
schemes: [{kind: uncoded}, {kind: replication, r: 2}, {kind: lt, r: 2}, {kind: backup}]
"""


def test_one_round_is_a_plain_run_byte_for_byte(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    plain, one = tmp_path / "plain", tmp_path / "one"
    assert cli("run", config, "-o", plain, "-q", "--jobs", 1).exit_code == 0
    assert cli("run", config, "--set", "rounds=1", "-o", one, "-q", "--jobs", 1).exit_code == 0
    for name in ("latencies.csv", "tail.csv", "config.yaml"):
        assert (plain / name).read_bytes() == (one / name).read_bytes(), name


def test_rounds_run_back_to_back_and_the_job_time_is_their_sum(tmp_path):
    """jobs.csv: round k + 1 starts at round k's completion; the job time of latencies.csv is
    the sum of the round times; the same bytes on one process and resumed with --extend."""
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    out, again = tmp_path / "r", tmp_path / "again"
    assert cli("run", config, "--set", "rounds=6", "-o", out, "-q", "--write-jobs").exit_code == 0
    rounds = pd.read_csv(out / "jobs.csv")
    rows = pd.read_csv(out / "latencies.csv")
    assert list(rounds.columns) == ["trial", "scheme", "round", "start", "response"]
    for (trial, scheme), group in rounds.groupby(["trial", "scheme"]):
        start, response = group["start"].to_numpy(), group["response"].to_numpy()
        assert start[0] == 0.0
        np.testing.assert_allclose(start[1:], (start + response)[:-1], rtol=1e-12)
        row = rows[(rows["trial"] == trial) & (rows["scheme"] == scheme)].iloc[0]
        assert row["latency"] == pytest.approx(response.sum(), rel=1e-12)  # inf: a round failed
        done = response[np.isfinite(response)]
        assert row["mean_round"] == pytest.approx(done.mean() if done.size else 0.0, rel=1e-12)
    assert cli("run", config, "--set", "rounds=6", "--trials", 12, "-o", again, "-q", "--jobs", 1,
               "--write-jobs").exit_code == 0
    assert cli("run", config, "--set", "rounds=6", "--extend", again, "-q").exit_code == 0
    for name in ("latencies.csv", "jobs.csv", "tail.csv"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_deterministic_rounds_and_the_cancel_delay_by_hand():
    """Constant start-up delays: every round of Uncoded takes X + (m/n) tau; 2-Replication's
    replicas finish together, so the cancel delay never holds a worker; K rounds take K of
    them."""
    base = Experiment(m=4, tau=0.5, trials=2, seed=1, delay=Constant(value=1.0),
                      schemes=[Uncoded(), Replication(r=2)], rounds=5, cancel_delay=0.25)
    rows = simulate(base, progress=False, jobs=1).latencies.set_index(["scheme", "trial"])
    assert rows.loc[("uncoded", 0), "latency"] == pytest.approx(5 * 1.5)
    assert rows.loc[("rep2", 1), "latency"] == pytest.approx(5 * (1.0 + 2 * 0.5))
    assert rows.loc[("uncoded", 1), "worker_seconds"] == pytest.approx(4 * 1.5)


def test_a_worker_still_cancelling_starts_the_next_round_late():
    """A replica that lost the race holds its worker ``cancel_delay`` past the round's
    completion: with exponential delays the
    job of 2-Replication grows with the cancel delay, Uncoded's (nothing to cancel) does
    not."""
    def job(cancel):
        e = Experiment(m=4, tau=0.1, trials=200, seed=3, delay=Exponential(rate=1.0),
                       schemes=[Uncoded(), Replication(r=2)], rounds=10, cancel_delay=cancel)
        return simulate(e, progress=False, jobs=2).summary.set_index("scheme")["mean"]

    fast, slow = job(0.0), job(0.5)
    assert fast["uncoded"] == slow["uncoded"]
    assert slow["rep2"] > fast["rep2"] + 1.0


def test_uncoded_rounds_on_identical_machines_are_k_maxima_of_exponentials():
    """tau = 0, Exp(mu) start-up delays drawn afresh every round: a round is the largest of n
    delays, E = H_n / mu, so the job of K rounds takes K H_n / mu (within 4 SE)."""
    n, k, mu = 8, 12, 2.0
    e = Experiment(m=n, tau=0.0, trials=400, seed=5, delay=Exponential(rate=mu),
                   schemes=[Uncoded()], rounds=k)
    row = simulate(e, progress=False, jobs=2).summary.iloc[0]
    expected = k * sum(1 / i for i in range(1, n + 1)) / mu
    assert abs(row["mean"] - expected) < 4 * row["sem"]


def test_lt_rounds_cost_what_their_rounds_cost():
    """worker_seconds and units of an iterative job are per round: with one round they are
    those of the plain run."""
    e = Experiment(m=20, tau=0.05, trials=20, seed=2, delay=Exponential(rate=0.5),
                   schemes=[LT(r=2)], rounds=1)
    plain = simulate(e.replace(rounds=None), progress=False, jobs=1).latencies
    one = simulate(e, progress=False, jobs=1).latencies
    assert plain.equals(one)


# --------------------------------------------------------------------------------------------
# machines whose class persists (persistence:)


def chain(stay=None, transition=None, fractions=(0.8, 0.2), n=400, rounds=300, seed=0):
    """Every machine's class over ``rounds`` rounds, shape (rounds, n), by Cluster.evolve
    from the first round's exact-count assignment."""
    from ltsim.model.cluster import Cluster, Persistence, WorkerClass

    classes = tuple(WorkerClass(fraction=f, speed=1.0 + k) for k, f in enumerate(fractions))
    cluster = Cluster(Exponential(rate=1.0), classes, None,
                      Persistence(stay=stay, transition=transition))
    rng = np.random.default_rng(seed)
    machines = cluster.machines(n, rng)
    states = np.empty((rounds, n), dtype=np.int64)
    for r in range(rounds):
        if r:
            machines = cluster.evolve(machines, rng)
        for k, workers in enumerate(machines.owners):
            states[r, workers] = k
    return states


def run_lengths(states: np.ndarray, k: int) -> np.ndarray:
    """Lengths of the complete runs in class ``k`` (not touching the first or last round)."""
    lengths = []
    for column in (states == k).T:
        edges = np.flatnonzero(np.diff(column.astype(np.int8)))
        for a, b in itertools.pairwise(edges):
            if column[a + 1]:
                lengths.append(b - a)
    return np.array(lengths)


@pytest.mark.parametrize("stay", [0.0, 0.6, 0.95])
def test_two_class_chain_occupancy_and_slow_runs_match_their_closed_forms(stay):
    """stay p over classes (0.8 fast, 0.2 slow): a machine is slow a fraction 0.2 of the
    rounds, and its slow runs last 1 / (1 - p_ss) rounds on average, p_ss = p + (1 - p) 0.2."""
    states = chain(stay=stay)
    per_machine = (states == 1).mean(axis=0)  # machines are independent
    se = per_machine.std(ddof=1) / math.sqrt(per_machine.size)
    assert abs(per_machine.mean() - 0.2) < 4 * se
    p_ss = stay + (1 - stay) * 0.2
    runs = run_lengths(states, 1)
    assert abs(runs.mean() - 1 / (1 - p_ss)) < 4 * runs.std(ddof=1) / math.sqrt(runs.size)


def test_a_transition_matrix_is_followed_step_by_step():
    """Three classes and a full matrix (stationary law = the fractions): the observed
    transition frequencies match the matrix within 4 SE, row by row."""
    matrix = np.array([[0.9, 0.05, 0.05], [0.3, 0.6, 0.1], [0.5, 0.0, 0.5]])
    pi = np.linalg.lstsq(np.vstack([matrix.T - np.eye(3), np.ones((1, 3))]),
                         np.array([0, 0, 0, 1.0]), rcond=None)[0]
    states = chain(transition=matrix.tolist(), fractions=tuple(pi), n=300, rounds=200)
    before, after = states[:-1].ravel(), states[1:].ravel()
    for i in range(3):
        row = after[before == i]
        for j in range(3):
            p = matrix[i, j]
            seen = (row == j).mean()
            assert abs(seen - p) <= 4 * math.sqrt(max(p * (1 - p), 1e-12) / row.size) + 1e-12


def test_stay_zero_is_iid_classes_in_distribution(tmp_path):
    """stay 0: every round's classes drawn afresh, machine by machine. Uncoded's round time
    on 10 machines (0.1 slow, 4x slower) against rounds whose classes are drawn i.i.d. here
    (two-sample Kolmogorov-Smirnov, rounds after the first; with the one slow machine of the
    first round kept, no round would be free of slow machines, as 35 % are here)."""
    from scipy import stats

    n, tau, m = 10, 0.5, 10
    e = Experiment(m=m, tau=tau, trials=300, seed=4, delay=Exponential(rate=10.0),
                   schemes=[Uncoded()], rounds=8, persistence={"stay": 0.0},
                   classes=[{"fraction": 0.9}, {"fraction": 0.1, "speed": 4.0}])
    out = tmp_path / "r"
    simulate(e, progress=False, jobs=2, out=out, write_jobs=True)
    rounds = pd.read_csv(out / "jobs.csv")
    ours = rounds[rounds["round"] > 0]["response"].to_numpy()
    rng = np.random.default_rng(99)
    slow = rng.random((ours.size, n)) < 0.1
    reference = (rng.exponential(0.1, (ours.size, n)) + np.where(slow, 4.0, 1.0) * tau).max(1)
    assert stats.ks_2samp(ours, reference).pvalue > 1e-3


def test_stay_one_is_the_fixed_assignment_byte_for_byte():
    """stay 1 never moves a machine: the run of machines drawn once per trial."""
    e = Experiment(m=20, tau=0.1, trials=10, seed=4, delay=Exponential(rate=1.0),
                   schemes=[Uncoded(), LT(r=2)], rounds=5,
                   classes=[{"fraction": 0.8}, {"fraction": 0.2, "speed": 3.0}])
    fixed = simulate(e, progress=False, jobs=1).latencies
    stay = simulate(e.replace(persistence={"stay": 1.0}), progress=False, jobs=1).latencies
    assert fixed.equals(stay)


# --------------------------------------------------------------------------------------------
# per-worker traces by iteration


def test_a_trace_by_iteration_replays_exactly(tmp_path):
    """Worker j's delay in round k is the trace's worker j at its k-th iteration (rows in any
    order): Uncoded's job time is the sum over rounds of the slowest worker's delay plus its
    unit task, by hand; 2-Replication's pairs take the faster of the two."""
    trace = tmp_path / "trace.csv"
    trace.write_text("worker_index,iteration,latency,isstraggler\n"
                     "2,1,0.5,false\n1,2,3.0,true\n1,1,1.0,false\n2,3,0.25,false\n"
                     "1,3,0.75,false\n2,2,2.0,false\n")
    e = Experiment.from_dict({
        "name": "t", "m": 2, "tau": 0.5, "trials": 3, "seed": 1, "rounds": 3,
        "delay": {"dist": "empirical", "path": str(trace), "worker": "worker_index",
                  "iteration": "iteration", "column": "latency"},
        "schemes": [{"kind": "uncoded"}, {"kind": "replication", "r": 2}]})
    rows = simulate(e, progress=False, jobs=1).latencies.set_index(["scheme", "trial"])
    unit = 0.5  # tau * m / n
    uncoded = max(1.0, 0.5) + max(3.0, 2.0) + max(0.75, 0.25) + 3 * unit
    both = min(1.0, 0.5) + min(3.0, 2.0) + min(0.75, 0.25) + 3 * 2 * unit
    for trial in range(3):
        assert rows.loc[("uncoded", trial), "latency"] == pytest.approx(uncoded, rel=1e-12)
        assert rows.loc[("rep2", trial), "latency"] == pytest.approx(both, rel=1e-12)


def test_the_shipped_trace_runs_from_its_config(tmp_path):
    """configs/rounds-trace.yaml: every trial replays the same delays, so Uncoded (which
    draws nothing) has one job time."""
    out = tmp_path / "rt"
    done = cli("run", "configs/rounds-trace.yaml", "--trials", 3, "-o", out, "-q", "--jobs", 1)
    assert done.exit_code == 0
    rows = pd.read_csv(out / "latencies.csv")
    assert rows[rows["scheme"] == "uncoded"]["latency"].nunique() == 1


# --------------------------------------------------------------------------------------------
# ltsim fit: the stay of a two-class model from an execution of several rounds


def test_the_forward_algorithm_is_the_sum_over_every_path_of_classes():
    """sequence_loglik against the brute-force sum over all 2^K class paths."""
    from ltsim.fitting.persistence import sequence_loglik

    rng = np.random.default_rng(3)
    fast, slow = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    stay, f = 0.7, 0.3
    pi = np.array([1 - f, f])
    matrix = stay * np.eye(2) + (1 - stay) * np.tile(pi, (2, 1))
    total = 0.0
    for machine in range(3):
        like = 0.0
        for path in itertools.product((0, 1), repeat=4):
            p = pi[path[0]]
            for a, b in itertools.pairwise(path):
                p *= matrix[a, b]
            emit = sum((slow if c else fast)[machine, k] for k, c in enumerate(path))
            like += p * math.exp(emit)
        total += math.log(like)
    assert sequence_loglik(stay, f, fast, slow) == pytest.approx(total, rel=1e-12)


def synthetic_tasks(stay: float, fraction=0.25, speed=6.0, tau=0.002, trials=8, workers=20,
                    rounds=12, seed=0) -> pd.DataFrame:
    """A tasks.csv of an execution of rounds whose machines' classes follow stay: every task
    of one or two units, its injected delay known, the engine's jitter ~ 0.1 ms."""
    rng = np.random.default_rng(seed)
    rows = []
    for trial in range(trials):
        slow = rng.random(workers) < fraction
        for k in range(rounds):
            if k:
                redraw = rng.random(workers) >= stay
                slow = np.where(redraw, rng.random(workers) < fraction, slow)
            for scheme, units in (("uncoded", 1), ("rep2", 2)):
                for w in range(workers):
                    delay = rng.exponential(0.02)
                    y = delay + (speed if slow[w] else 1.0) * tau * units \
                        + 1e-4 * rng.exponential()
                    rows.append({"scheme": scheme, "trial": trial, "worker": w, "round": k,
                                 "start": 0.0, "finish": y, "stopped": y, "units": units,
                                 "first_units": units, "status": "done", "delay": delay})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("stay", [0.3, 0.85])
def test_the_fitted_stay_recovers_the_persistence_of_synthetic_rounds(stay):
    from ltsim.fitting.persistence import fit_stay
    from ltsim.fitting.tasks import fit_tasks

    tasks = synthetic_tasks(stay)
    fitted = fit_tasks(tasks, candidates=["two_class(exponential)"])
    result = fit_stay(tasks, fitted.times, workers=20)
    assert abs(result.stay - stay) < 4 * result.se, result


def test_fit_writes_the_stay_of_an_execution_of_rounds_into_the_config(tmp_path):
    """ltsim execute of 6 rounds whose slow machines persist (stay 0.75), then ltsim fit: the
    config holds rounds, two classes and persistence.stay within 4 standard errors."""
    config = tmp_path / "e.yaml"
    config.write_text("""\
name: fit-rounds
workload: {kind: gaussian_kernel, m: 32, dim: 4, seed: 1, term_seconds: 0.005}
trials: 3
seed: 3
rounds: 5
persistence: {stay: 0.75}
delay: {dist: exponential, rate: 0.2}
classes: [{fraction: 0.75}, {fraction: 0.25, speed: 5.0}]
time_scale: 0.001
timeout: 30
schemes: [{kind: uncoded}, {kind: replication, r: 2}]
""")
    out, fitted = tmp_path / "run", tmp_path / "fitted.yaml"
    done = cli("execute", config, "-o", out, "-q")
    assert done.exit_code == 0, done.stderr
    rounds = pd.read_csv(out / "rounds.csv")
    assert len(rounds) == 3 * 2 * 5 and (rounds["status"] == "ok").all()
    done = cli("fit", out, "-o", fitted)
    assert done.exit_code == 0, done.stderr
    import yaml

    data = yaml.safe_load(fitted.read_text())
    assert data["rounds"] == 5 and len(data["classes"]) == 2
    line = next(t for t in done.stdout.splitlines() if t.startswith("persistence: stay"))
    stay, se = (float(x) for x in
                __import__("re").search(r"stay = (\S+) \(SE (\S+)\)", line).groups())
    assert data["persistence"]["stay"] == pytest.approx(stay, rel=1e-3)
    assert abs(stay - 0.75) < 4 * se, line


def test_an_execution_injects_the_delays_and_speeds_the_simulation_draws():
    """ltsim execute of rounds draws every round's start-up delays and speeds from the same
    streams as ltsim run (machines once, classes along persistence, delays continued)."""
    from ltsim.execution.plan import round_draws
    from ltsim.io.config import validate
    from ltsim.montecarlo.queue import _draw

    common = {"trials": 3, "seed": 8, "rounds": 5, "persistence": {"stay": 0.6},
              "delay": {"dist": "exponential", "rate": 0.5},
              "classes": [{"fraction": 0.5}, {"fraction": 0.5, "speed": 3.0,
                                              "delay": {"dist": "exponential", "rate": 0.1}}],
              "schemes": [{"kind": "uncoded"}]}
    run = validate({"name": "r", "m": 8, "tau": 0.1, **common})
    execute = validate({"name": "e", "workload": {"kind": "gaussian_kernel", "m": 8, "dim": 2},
                        "time_scale": 0.5, **common}, kind="execute")
    _, delays, speeds = _draw(run, 0, 3)
    for trial in range(3):
        for k, draws in enumerate(round_draws(execute, trial)):
            np.testing.assert_array_equal(draws.delays, delays[trial, k] * 0.5)
            np.testing.assert_array_equal(draws.speeds, speeds[trial, k])


def test_persistence_and_traces_by_iteration_in_a_queueing_run(tmp_path):
    """A queueing run's machines change class job by job, and a trace by iteration replays
    iteration k in job k; ltsim run (offered load first) takes both."""
    config = tmp_path / "q.yaml"
    config.write_text(f"""\
name: q
m: 8
tau: 0.05
trials: 2
seed: 7
arrivals: {{process: poisson, rate: 0.5}}
jobs: 40
warmup: 0
delay: {{dist: empirical, path: {Path('configs/traces/iterations.csv').resolve()},
        worker: worker_index, iteration: iteration, column: latency}}
schemes: [{{kind: uncoded}}]
""")
    done = cli("run", config, "-o", tmp_path / "trace", "-q", "--jobs", 1, "--write-jobs")
    assert done.exit_code == 0, done.stderr
    classes = tmp_path / "c.yaml"
    classes.write_text(CONFIG.replace("trials: 30", "trials: 2\narrivals: {process: poisson, "
                                      "rate: 0.05}\njobs: 50\npersistence: {stay: 0.5}"))
    done = cli("run", classes, "-o", tmp_path / "classes", "-q", "--jobs", 1)
    assert done.exit_code == 0, done.stderr
