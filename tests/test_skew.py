"""Task skew (``skew:``): heavy tasks are heavy wherever they run, so a copy cannot cure
them. Hand timelines, the uncoded closed form, and the runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import integrate

from ltsim.codes.speculation import hadoop_timeline
from ltsim.model.skew import Skew
from tests.helpers import cli


def test_heavy_tasks_are_the_first_and_rounded_like_classes():
    assert Skew(fraction=0.05, work=10).heavy(200) == 10
    assert Skew(fraction=0.29, work=2).heavy(50) == 15  # 14.5 rounds up, exactly
    np.testing.assert_array_equal(Skew(fraction=0.2, work=3).task_work(5), [3, 1, 1, 1, 1])


def test_a_copy_of_a_heavy_task_is_as_heavy():
    """The job of the Hadoop hand timeline (three tasks of 10 s, one of 200 s, copies
    starting 1 s after launch), the 200 s now being the task's (work 20 on a 10 s machine):
    the copy launched at 61 s would end at 61 + 1 + 200 = 262, so the original ends the job
    at 200 and the copy is killed then, having cost 139 s."""
    out = hadoop_timeline(np.zeros(4), np.full(4, 10.0), np.full(4, 1.0),
                          work=np.array([1.0, 1, 1, 20]))
    assert out["launch"][3] == 61.0 and out["latency"] == 200.0
    assert out["busy"] == 3 * 10 + 200 + 139 and out["units"] == 4
    machine = hadoop_timeline(np.zeros(4), np.array([10.0, 10, 10, 200]), np.full(4, 1.0))
    assert machine["latency"] == 72.0  # the same slowness in the machine: the copy wins


def run(tmp_path, body: str, name: str = "s") -> pd.DataFrame:
    config = tmp_path / f"{name}.yaml"
    config.write_text(f"name: {name}\n{body}")
    result = cli("run", config, "-o", tmp_path / name, "-q", "--jobs", 1)
    assert result.exit_code == 0, result.output
    return pd.read_csv(tmp_path / name / "latencies.csv")


def test_spark_under_skew_by_hand(tmp_path):
    """Ten tasks of 1 s, no start-up delay, task 0 of work 5. Spark's defaults: at 1 s nine
    tasks are done (>= 0.75 of 10), the median duration is 1, the threshold 1.5; the first
    check past it (strictly) is at 1.6 s and copies task 0 on a fresh machine, which would
    end at 6.6. The job ends at 5 s with the original; worker-seconds 9 + 5 + 3.4."""
    rows = run(tmp_path, "m: 10\ntau: 1.0\ntrials: 2\nseed: 1\n"
               "delay: {dist: constant, value: 0}\nskew: {fraction: 0.1, work: 5}\n"
               "schemes: [{kind: uncoded}, {kind: backup, policy: spark}]\n")
    spark = rows[rows["scheme"] == "backup-spark"]
    np.testing.assert_allclose(spark["latency"], 5.0)
    np.testing.assert_allclose(spark["worker_seconds"], 17.4)
    assert (spark["backups"] == 1).all()
    uncoded = rows[rows["scheme"] == "uncoded"]
    np.testing.assert_allclose(uncoded["latency"], 5.0)
    np.testing.assert_allclose(uncoded["worker_seconds"], 14.0)


def test_uncoded_under_skew_meets_its_closed_form(tmp_path):
    """E[max_j (X_j + u w_j)] with X ~ Exp(1), 40 tasks of u = 0.5, 4 of them 6x heavier:
    the integral of 1 - F(t - u)^36 F(t - 6u)^4, computed here, against 3000 trials (4 SE),
    and the summary's theory_mean against the same integral."""
    n, u, w, heavy = 40, 0.5, 6.0, 4

    def cdf(t):
        return np.where(t > 0, -np.expm1(-np.maximum(t, 0)), 0.0)

    expected = integrate.quad(lambda t: 1 - cdf(t - u) ** (n - heavy) * cdf(t - u * w) ** heavy,
                              0, 60, limit=200)[0]
    rows = run(tmp_path, f"m: {n}\ntau: {u}\ntrials: 3000\nseed: 7\n"
               "delay: {dist: exponential, rate: 1.0}\n"
               f"skew: {{fraction: 0.1, work: {w}}}\nschemes: [{{kind: uncoded}}]\n")
    x = rows["latency"].to_numpy()
    assert abs(x.mean() - expected) < 4 * x.std(ddof=1) / math.sqrt(x.size)
    summary = pd.read_csv(tmp_path / "s" / "summary.csv")
    assert abs(summary["theory_mean"].iloc[0] - expected) < 1e-6


def test_speculation_pays_under_machine_slowness_and_not_under_skew(tmp_path):
    """The same 10x on 5 % of the machines or in 5 % of the tasks: speculation's mean
    latency falls well below Uncoded's on slow machines and not under skew, where its copies
    only add worker-seconds."""
    base = ("m: 60\ntau: 20.0\ntrials: 40\nseed: 3\ndelay: {dist: exponential, rate: 0.1}\n"
            "schemes: [{kind: uncoded}, {kind: backup, policy: spark}, "
            "{kind: backup, policy: hadoop}]\n")
    skew = run(tmp_path, base + "skew: {fraction: 0.05, work: 10.0}\n", "skew")
    slow = run(tmp_path, base + "classes: [{fraction: 0.95}, {fraction: 0.05, speed: 10.0}]\n",
               "slow")
    for rows, helps in ((skew, False), (slow, True)):
        mean = rows.groupby("scheme")[["latency", "worker_seconds"]].mean()
        for rule in ("backup-spark", "backup-hadoop"):
            gain = mean.loc["uncoded", "latency"] / mean.loc[rule, "latency"]
            assert (gain > 1.4) if helps else (gain < 1.02), (rule, gain)
            if not helps:
                assert mean.loc[rule, "worker_seconds"] > mean.loc["uncoded", "worker_seconds"]


def test_skew_in_a_queue_and_in_rounds(tmp_path):
    """A heavy task is heavy in every job: rounds of constant delays take the heavy time each
    round (3 rounds of a 4 s heavy task: 12 s)."""
    rows = run(tmp_path, "m: 10\ntau: 1.0\ntrials: 2\nseed: 1\nrounds: 3\n"
               "delay: {dist: constant, value: 0}\nskew: {fraction: 0.1, work: 4}\n"
               "schemes: [{kind: uncoded}, {kind: backup, policy: cubed}]\n")
    np.testing.assert_allclose(rows["latency"], 12.0)
