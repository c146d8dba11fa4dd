"""Queueing runs (``arrivals:``): the closed forms of queueing theory at 4 standard errors
(M/G/1 by Pollaczek-Khinchine, M/M/1, the two-server fork-join of Flatto-Hahn and
Nelson-Tantawi), the low-load limit in distribution, linear computations, stability flags,
reproducibility and resuming."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ltsim import Experiment, simulate
from ltsim.codes import LT, MDS, One, Replication, Uncoded
from ltsim.laws import Exponential, Pareto
from tests.helpers import cli


def queue(schemes, delay, rate, m=1, tau=0.0, trials=24, jobs=2000, seed=7, **extra):
    return Experiment(m=m, tau=tau, trials=trials, seed=seed, delay=delay, schemes=schemes,
                      arrivals={"process": "poisson", "rate": rate}, jobs=jobs, **extra)


def within(result, scheme: str, expected: float, sigmas: float = 4.0) -> None:
    row = result.summary.set_index("scheme").loc[scheme]
    assert row["unstable"] == "false", row
    assert abs(row["mean"] - expected) < sigmas * row["sem"], (scheme, row["mean"], expected,
                                                               row["sem"])


@pytest.mark.parametrize(("delay", "tau"), [(Exponential(rate=1.0), 0.25),
                                            (Pareto(scale=1.0, shape=3.0), 0.1)])
def test_one_worker_is_m_g_1_by_pollaczek_khinchine(delay, tau):
    rate = 0.35 / (delay.mean + tau)  # load 0.35
    result = simulate(queue([One()], delay, rate, tau=tau), progress=False, jobs=2)
    service = delay.mean + tau
    second = delay.variance + service**2
    rho = rate * service
    within(result, "one", service + rate * second / (2 * (1 - rho)))


def test_replication_on_every_worker_is_m_m_1_of_rate_n_mu():
    n, mu, rate = 4, 1.0, 2.5
    result = simulate(queue([Replication(r=n)], Exponential(rate=mu), rate, m=n),
                      progress=False, jobs=2)
    within(result, f"rep{n}", 1 / (n * mu - rate))


def test_two_worker_uncoded_is_the_fork_join_of_flatto_hahn():
    mu, rate = 1.0, 0.5
    rho = rate / mu
    result = simulate(queue([Uncoded()], Exponential(rate=mu), rate, m=2, jobs=3000),
                      progress=False, jobs=2)
    within(result, "uncoded", (12 - rho) / 8 / (mu - rate))


def test_at_low_load_a_job_has_the_latency_law_of_one_job(tmp_path):
    """Jobs that never overlap: the response time has the single-job latency's law (two-
    sample Kolmogorov-Smirnov on independent draws)."""
    schemes = [Replication(r=2), LT(r=1, symbols_per_worker=2, c=0.1)]
    single = Experiment(m=24, tau=0.01, trials=2000, seed=3, delay=Exponential(rate=0.5),
                        schemes=schemes)
    plain = simulate(single, progress=False, jobs=2)
    queued = simulate(single.replace(trials=4, arrivals={"process": "periodic",
                                                        "interval": 1e6}, jobs=600),
                      progress=False, jobs=2)
    for i, scheme in enumerate(schemes):
        one_job = plain.outcomes[i].latency
        jobs = queued.outcomes[i].jobs["response"].ravel()
        assert jobs.size == 4 * 540
        assert stats.ks_2samp(one_job, jobs).pvalue > 1e-3, scheme.scheme_id
        assert np.allclose(queued.outcomes[i].jobs["waiting"], 0.0)


def test_an_overloaded_scheme_is_unstable_never_a_finite_mean():
    result = simulate(queue([One(), Replication(r=4)], Exponential(rate=1.0), 1.3, m=4,
                            trials=6, jobs=1500), progress=False, jobs=2)
    rows = result.summary.set_index("scheme")
    assert rows.loc["one", "unstable"] == "true" and math.isinf(rows.loc["one", "mean"])
    assert rows.loc["rep4", "unstable"] == "false" and math.isfinite(rows.loc["rep4", "mean"])


def test_linear_symbols_cost_one_source_symbol():
    """In a linear computation an LT symbol costs r units whatever its degree, an MDS symbol
    r units instead of n: the closed form of MDS with one symbol per worker is recomputed."""
    base = dict(m=20, tau=0.05, trials=3000, seed=11, delay=Exponential(rate=1.0))
    linear = simulate(Experiment(**base, computation="linear",
                                 schemes=[MDS(r=2, symbols_per_worker=1),
                                          LT(r=2, symbols_per_worker=3, returns="worker")]),
                      progress=False, jobs=2)
    nonlinear = simulate(Experiment(**base, schemes=[
        MDS(r=2, symbols_per_worker=1), LT(r=2, symbols_per_worker=3, returns="worker")]),
        progress=False, jobs=2)
    mds = linear.summary.set_index("scheme").loc["mds2"]
    assert abs(mds["mean"] - mds["theory_mean"]) < 4 * mds["sem"]
    k, n, unit = 10, 20, 0.05
    exact = unit * 2 + sum(1 / (n - i) for i in range(k))  # u r + E[X_(k:n)]
    assert mds["theory_mean"] == pytest.approx(exact, rel=1e-12)
    assert nonlinear.summary.set_index("scheme").loc["mds2", "theory_mean"] == pytest.approx(
        unit * n + sum(1 / (n - i) for i in range(k)), rel=1e-12)
    lt = linear.latencies.query("scheme == 'lt2'")
    assert (lt["units"] <= n * 3 * 2).all()  # every worker: 3 symbols of r = 2 units
    heavy = nonlinear.latencies.query("scheme == 'lt2'")
    assert (heavy["units"] > n * 3 * 2).any()  # r d units a symbol
    assert lt["latency"].median() < heavy["latency"].median()  # (failed trials: inf)


def test_queueing_configs_are_refused_in_one_line(tmp_path):
    base = ("name: q\nm: 4\ntau: 0\ntrials: 2\ndelay: {dist: exponential, rate: 1}\n"
            "schemes: [{kind: uncoded}]\n")
    (tmp_path / "trace.csv").write_text("0.5\n1.0\n2.0\n")
    cases = {
        "jobs: 10\n": "jobs: only with arrivals",
        "arrivals: {process: poisson, rate: 1}\njobs: 10\nwarmup: 10\n": "warmup: must be "
        "below jobs (10)",
        f"arrivals: {{process: trace, path: {tmp_path / 'trace.csv'}}}\njobs: 5\n": "jobs: the "
        "trace holds 3 arrivals",
        "arrivals: {process: poisson, rate: 0}\n": "arrivals.rate: must be greater than 0",
        "arrivals: {rate: 1}\n": "arrivals.process: required key is missing",
        "computation: linear\nschemes: [{kind: sum_recovery, d: 2}]\n": "schemes[0].kind: is "
        "not defined for computation: linear",
    }
    for extra, fragment in cases.items():
        path = tmp_path / "c.yaml"
        text = base if "schemes:" not in extra else base.replace(
            "schemes: [{kind: uncoded}]\n", "")
        path.write_text(text + extra)
        result = cli("run", path, "-o", tmp_path / "out", "-q")
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1, (extra, result.stderr)
        assert fragment in lines[0], (fragment, lines[0])
        assert not (tmp_path / "out").exists()


def test_a_queueing_run_is_the_same_bytes_on_any_jobs_and_resumes(tmp_path):
    config = tmp_path / "q.yaml"
    config.write_text("name: q\nm: 8\ntau: 0.01\ntrials: 6\nseed: 2\n"
                      "arrivals: {process: poisson, rate: 0.4}\njobs: 200\n"
                      "delay: {dist: exponential, rate: 1.0}\n"
                      "schemes: [{kind: uncoded}, {kind: lt, r: 2, symbols_per_worker: 2},"
                      " {kind: ideal}, {kind: backup, after: 0.5}]\n")
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli("run", config, "-o", one, "-q", "-j", 1, "--write-jobs").exit_code == 0
    assert cli("run", config, "-o", two, "-q", "-j", 2, "--write-jobs").exit_code == 0
    for name in ("latencies.csv", "tail.csv", "jobs.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    part = tmp_path / "part"
    assert cli("run", config, "-o", part, "-q", "--trials", 3, "--write-jobs").exit_code == 0
    resumed = cli("run", config, "--extend", part, "-q")
    assert resumed.exit_code == 0, resumed.stderr
    for name in ("latencies.csv", "tail.csv", "jobs.csv"):
        assert (part / name).read_bytes() == (one / name).read_bytes(), name
    bare = tmp_path / "bare"
    assert cli("run", config, "-o", bare, "-q", "--trials", 3).exit_code == 0
    refused = cli("run", config, "--extend", bare, "-q")
    assert refused.exit_code == 2 and "jobs.csv" in refused.stderr


def test_redundancy_helps_at_low_load_and_hurts_at_high_load():
    """The flip of configs/queue-flip.sweep.yaml (tau = 1): 2-Replication's faster of two
    start-up delays wins when jobs rarely queue; its doubled work loses once they do."""
    base = Experiment(m=10, tau=1.0, trials=16, seed=2020, delay=Exponential(rate=1.0),
                      schemes=[Uncoded(), Replication(r=2)], jobs=800,
                      arrivals={"process": "poisson", "rate": 0.02})
    for rate, winner, loser in ((0.02, "rep2", "uncoded"), (0.3, "uncoded", "rep2")):
        rows = simulate(base.replace(**{"arrivals.rate": rate}), progress=False,
                        jobs=2).summary.set_index("scheme")
        gap = rows.loc[loser, "mean"] - rows.loc[winner, "mean"]
        assert gap > 4 * math.hypot(rows.loc[loser, "sem"], rows.loc[winner, "sem"]), rows


def test_a_queueing_run_on_a_dask_cluster_is_the_same_as_on_local_processes():
    """Blocks of a queueing run on a Dask client (an in-process LocalCluster of 2 threads):
    the same latencies and jobs as on local processes."""
    distributed = pytest.importorskip("distributed")
    experiment = queue([Uncoded(), MDS(k=8), LT(k=100, symbols_per_worker=20)],
                       Exponential(rate=1.0), 0.3, m=1000, tau=0.001, trials=8, jobs=1000,
                       workers=10, computation="linear")
    local = simulate(experiment, progress=False, jobs=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = simulate(experiment, progress=False, executor=client)
    assert local.meta["batch_size"] < 8  # several blocks
    assert local.latencies.equals(remote.latencies)
