"""The engines' speculative-execution rules (``kind: backup, policy: ...``) against timelines
computed by hand, their defaults against the engines' own values, and their runs."""

from __future__ import annotations

import numpy as np
import pytest

from ltsim.codes.backup import CubedPolicy
from ltsim.codes.speculation import cubed_timeline
from tests.helpers import cli


def test_cubed_defaults_are_cubeds():
    """cubed/runtime/backup.py (should_launch_backup) and the 2 s timeout of its loop."""
    p = CubedPolicy()
    assert (p.min_tasks, p.min_completed_fraction, p.slow_factor, p.poll) == (10, 0.5, 3.0, 2.0)


def test_cubed_timeline_by_hand():
    """10 tasks, 5 done at 4 s, 5 that would take 100 s, backups taking 3 s, checks every
    2 s. The reference is the 5th shortest duration (n = ceil(N/2) - 1 = 4): 4 s, so a task
    qualifies once it has run more than 12 s: at 14 s (12 is not more). Each backup raises N,
    so the round stops after one; the backup's result (3 s) lowers nothing the reference
    reads, and two more qualify at 17 s and two at 20 s: done at 17, 20, 20, 23, 23."""
    finish = np.array([4.0] * 5 + [100.0] * 5)
    out = cubed_timeline(finish, np.full(10, 3.0))
    np.testing.assert_array_equal(out["launch"][5:], [14, 17, 17, 20, 20])
    np.testing.assert_array_equal(out["done"], [4] * 5 + [17, 20, 20, 23, 23])
    assert out["latency"] == 23 and out["backups"] == 5 and out["units"] == 10
    assert out["busy"] == 5 * 4 + (17 + 20 + 20 + 23 + 23) + 5 * 3


def test_cubeds_own_test_case():
    """cubed/tests/test_backup.py: 10 tasks started at 0, 5 done at 4 s: no backup at 7 s,
    one at 13 s; none with min_tasks = 20."""
    finish = np.array([4.0] * 5 + [100.0] * 5)
    out = cubed_timeline(finish, np.full(10, 1000.0), poll=1.0)
    assert out["launch"][5] == 13.0  # checks every second: 12 is not more than 12
    never = cubed_timeline(finish, np.full(10, 1.0), min_tasks=20, poll=1.0)
    assert never["backups"] == 0 and never["latency"] == 100.0


def test_a_policy_runs_and_its_generic_keys_are_refused(tmp_path):
    config = tmp_path / "b.yaml"
    config.write_text("name: b\nm: 40\ntau: 0.05\ntrials: 20\nseed: 3\n"
                      "delay: {dist: exponential, rate: 0.2}\n"
                      "schemes: [{kind: backup}, {kind: backup, policy: cubed}]\n")
    done = cli("run", config, "-o", tmp_path / "run", "-q", "--jobs", 1)
    assert done.exit_code == 0, done.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text().replace("policy: cubed}", "policy: cubed, after: 0.3}"))
    refused = cli("run", bad, "-o", tmp_path / "bad", "-q")
    assert refused.exit_code == 2 and "after: belongs to the generic rule" in refused.stderr


def drive_copies_master(master, finish, durations, checks_first_on_ties):
    """Feed a master that launches copies on fresh machines (Cubed, Spark, Flink) the events
    of a trial of ``finish.size`` tasks: original i finishes at ``finish[i]``, a copy of task
    i launched at t ends at ``t + durations[i]``; when a wake-up and an event coincide the
    check comes first if ``checks_first_on_ties`` (Cubed), else the event (to 1e-12).
    Returns every task's copy launch time (NaN without one)."""
    n = finish.size
    events = sorted((f, i) for i, f in enumerate(finish))
    launched, now = {}, 0.0
    while not master.complete:
        wake = master.wakeup()
        pending = [(t, w) for t, w in events if t > now]
        copies = [(launched[i] + durations[i], n + i) for i in launched
                  if launched[i] + durations[i] > now]
        nxt = min(pending + copies, default=(np.inf, -1))
        if wake is not None and (wake <= nxt[0] if checks_first_on_ties
                                 else wake < nxt[0] - 1e-12):
            now = wake
            for task in master.act(now):
                launched[task.worker - n] = now
            continue
        now, worker = nxt
        master.add(worker, 0, 1.0, now)
    got = np.full(n, np.nan)
    for i, t in launched.items():
        got[i] = t
    return got


@pytest.mark.parametrize("slow", [1.5, 3.0])
def test_the_live_master_follows_the_timeline(slow):
    """CubedMaster (ltsim execute) fed the timeline's results launches the same backups at
    the same times."""
    from ltsim.codes.backup import CubedMaster

    rng = np.random.default_rng(4)
    finish = np.round(rng.exponential(5.0, 20), 3)
    durations = np.round(rng.exponential(2.0, 20), 3)
    policy = CubedPolicy(slow_factor=slow)
    expected = cubed_timeline(finish, durations, slow_factor=slow)
    master = CubedMaster(20, policy, durations, None)
    got = drive_copies_master(master, finish, durations, checks_first_on_ties=True)
    np.testing.assert_allclose(got, expected["launch"], equal_nan=True)


def test_spark_defaults_are_sparks():
    """spark.speculation.interval 100 ms, multiplier 1.5, quantile 0.75, minTaskRuntime
    100 ms (Spark 3.x; core/.../internal/config/package.scala)."""
    from ltsim.codes.backup import SparkPolicy

    p = SparkPolicy()
    assert (p.interval, p.multiplier, p.quantile, p.min_task_runtime) == (0.1, 1.5, 0.75, 0.1)


@pytest.mark.parametrize(("fast", "launch"), [(1.0, 1.6), (0.2, 0.4), (0.01, 0.2)])
def test_spark_timeline_by_hand(fast, launch):
    """10 tasks, 8 done at ``fast``, 2 that would take 10 s, copies taking 1 s. Checks at
    0.1, 0.2, ...; after floor(0.75 * 10) = 7 successes the median is the 5th of 8 sorted
    (``fast``), the threshold max(1.5 fast, 0.1), and a task qualifies at the first check at
    which it has run strictly longer: 1.6 s for fast = 1 (1.5 is not longer), 0.4 for 0.2
    (0.3), 0.2 for 0.01 (the 0.1 s floor)."""
    from ltsim.codes.speculation import spark_timeline

    finish = np.array([fast] * 8 + [10.0] * 2)
    out = spark_timeline(finish, np.full(10, 1.0))
    np.testing.assert_allclose(out["launch"][8:], [launch, launch])
    assert np.isnan(out["launch"][:8]).all()
    assert out["latency"] == pytest.approx(launch + 1.0) and out["backups"] == 2


def test_spark_waits_for_its_quantile():
    """With 7 of 10 successes needed, 6 fast tasks are not enough: no copy before the 7th
    success (at 5 s), then copies at the first check past 1.5 x the median."""
    from ltsim.codes.speculation import spark_timeline

    finish = np.array([1.0] * 6 + [5.0] + [50.0] * 3)
    out = spark_timeline(finish, np.full(10, 1.0))
    # median of [1 x6, 5] sorted: index 3 -> 1.0; threshold 1.5; first check at or after 5
    np.testing.assert_allclose(out["launch"][7:], [5.0, 5.0, 5.0])


def test_the_spark_master_follows_the_timeline():
    from ltsim.codes.backup import SparkMaster, SparkPolicy
    from ltsim.codes.speculation import spark_timeline

    rng = np.random.default_rng(6)
    finish = np.round(rng.exponential(5.0, 20), 3)
    durations = np.round(rng.exponential(2.0, 20), 3)
    expected = spark_timeline(finish, durations)
    master = SparkMaster(20, SparkPolicy(), durations, None)
    got = drive_copies_master(master, finish, durations, checks_first_on_ties=False)
    np.testing.assert_allclose(got, expected["launch"], equal_nan=True, atol=1e-9)


def test_flink_defaults_are_flinks():
    """SlowTaskDetectorOptions / BatchExecutionOptions: check interval 1 s, baseline ratio
    0.75, multiplier 1.5, lower bound 1 min, max concurrent executions 2."""
    from ltsim.codes.backup import FlinkPolicy

    p = FlinkPolicy()
    assert (p.check_interval, p.baseline_ratio, p.baseline_multiplier, p.baseline_lower_bound,
            p.max_concurrent_executions) == (1.0, 0.75, 1.5, 60.0, 2)


def test_flink_timeline_by_hand():
    """8 of 10 tasks done at 1 s: k = round(7.5) = 8, median index 4 -> 1 s, baseline 1.5 s.
    With the default 1-minute lower bound the two slow tasks get attempts at 60 s (checks
    every second, >= both bounds); without it at 2 s (the first check >= 1.5 s)."""
    from ltsim.codes.speculation import flink_timeline

    finish = np.array([1.0] * 8 + [100.0] * 2)
    out = flink_timeline(finish, np.full((10, 1), 2.0))
    np.testing.assert_array_equal(out["launch"][8:], [60.0, 60.0])
    assert out["latency"] == 62.0
    eager = flink_timeline(finish, np.full((10, 1), 2.0), baseline_lower_bound=0.0)
    np.testing.assert_array_equal(eager["launch"][8:], [2.0, 2.0])
    assert eager["latency"] == 4.0 and eager["busy"] == 8 * 1 + 2 * 4 + 2 * 2


def test_flink_rounds_half_up_and_takes_the_upper_median():
    """n = 6, ratio 0.75: k = round(4.5) = 5 (Java rounds half up; Python's round gives 4).
    Finished durations 1, 2, 3, 4, 5 (5 of 6 >= 0.75): the median of the 5 shortest is index
    2 -> 3 s, baseline 4.5 s: the last task gets an attempt at the first check >= 5 s... at
    5 s, once 5 tasks are done (the 5th at 5 s)."""
    from ltsim.codes.speculation import flink_timeline

    finish = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 100.0])
    out = flink_timeline(finish, np.full((6, 1), 1.0), baseline_lower_bound=0.0)
    assert out["launch"][5] == 5.0 and out["latency"] == 6.0


def test_the_flink_master_follows_the_timeline():
    from ltsim.codes.backup import FlinkMaster, FlinkPolicy
    from ltsim.codes.speculation import flink_timeline

    rng = np.random.default_rng(8)
    finish = np.round(rng.exponential(5.0, 20), 3)
    durations = np.round(rng.exponential(2.0, 20), 3)
    policy = FlinkPolicy(baseline_lower_bound=2.0)
    expected = flink_timeline(finish, durations[:, None], baseline_lower_bound=2.0)
    master = FlinkMaster(20, policy, durations, None)
    got = drive_copies_master(master, finish, durations, checks_first_on_ties=False)
    np.testing.assert_allclose(got, expected["launch"], equal_nan=True, atol=1e-9)


def test_flinks_defaults_never_speculate_tasks_under_a_minute(tmp_path):
    """Its 1-minute lower bound: on Fig. 2a's system every task is shorter, so Flink's
    defaults give exactly Uncoded, trial by trial."""
    import pandas as pd

    config = tmp_path / "f.yaml"
    config.write_text("name: f\nm: 50\ntau: 0.05\ntrials: 30\nseed: 2\n"
                      "delay: {dist: exponential, rate: 0.2}\n"
                      "schemes: [{kind: uncoded}, {kind: backup, policy: flink}]\n")
    assert cli("run", config, "-o", tmp_path / "r", "-q", "--jobs", 1).exit_code == 0
    rows = pd.read_csv(tmp_path / "r" / "latencies.csv")
    a = rows[rows["scheme"] == "uncoded"]["latency"].to_numpy()
    b = rows[rows["scheme"] == "backup-flink"]["latency"].to_numpy()
    assert (a < 60).all()
    np.testing.assert_array_equal(a, b)


def test_hadoop_and_late_defaults():
    """Hadoop 1.x TaskInProgress: SPECULATIVE_GAP 0.2, SPECULATIVE_LAG 60 s; LATE (OSDI 2008):
    SpeculativeCap 10 %, SlowTaskThreshold and SlowNodeThreshold the 25th percentiles."""
    from ltsim.codes.backup import HadoopPolicy, LatePolicy

    h, late = HadoopPolicy(), LatePolicy()
    assert (h.gap, h.lag, h.heartbeat) == (0.2, 60.0, 3.0)
    assert (late.speculative_cap, late.slow_task_threshold, late.slow_node_threshold,
            late.min_task_age) == (0.1, 0.25, 0.25, 60.0)


def test_hadoop_timeline_by_hand():
    """Three tasks of 10 s, one of 200 s, no start-up delays, copies starting 1 s after
    launch. The free workers ask at 10, 13, ..., 61: at 61 s (>= 60 s since creation) the
    mean progress (3 + 61/200)/4 = 0.83 is 0.52 >= 0.2 ahead of the slow task's 0.305: a copy
    on worker 0 (the first to ask), done at 61 + 1 + 10 = 72; the original is killed then."""
    from ltsim.codes.speculation import hadoop_timeline

    out = hadoop_timeline(np.zeros(4), np.array([10.0, 10, 10, 200]), np.full(4, 1.0))
    assert out["launch"][3] == 61.0 and out["latency"] == 72.0
    assert out["busy"] == 3 * 10 + 72 + 11 and out["units"] == 4
    close = hadoop_timeline(np.zeros(4), np.array([10.0, 10, 10, 14]), np.full(4, 1.0),
                            lag=0.0)
    # at 10 s the mean (3 + 10/14)/4 = 0.93 is only 0.21 ahead of 0.71: a copy at once
    assert close["launch"][3] == 10.0


def test_late_timeline_by_hand():
    """The same job under LATE without the one-minute age: at 10 s the asking node has done
    a whole task (not slow), the slow task's rate 0.05/10 is below the 25th percentile of
    the rates (0.1, 0.1, 0.1, 0.005) and it has the longest time left: a copy at 10 s, done
    at 21 s (no copy is running, below the cap of 10 % of 4 slots). With the one-minute age,
    at 61 s."""
    from ltsim.codes.speculation import late_timeline

    out = late_timeline(np.zeros(4), np.array([10.0, 10, 10, 200]), np.full(4, 1.0),
                        min_task_age=0.0)
    assert out["launch"][3] == 10.0 and out["latency"] == 21.0
    aged = late_timeline(np.zeros(4), np.array([10.0, 10, 10, 200]), np.full(4, 1.0))
    assert aged["launch"][3] == 61.0


def test_engine_defaults_that_never_fire_on_short_jobs(tmp_path):
    """Hadoop's and LATE's one-minute age, like Flink's lower bound: on a job of tasks under
    a minute their defaults give exactly Uncoded."""
    import pandas as pd

    config = tmp_path / "h.yaml"
    config.write_text("name: h\nm: 30\ntau: 0.05\ntrials: 20\nseed: 2\n"
                      "delay: {dist: exponential, rate: 0.2}\n"
                      "schemes: [{kind: uncoded}, {kind: backup, policy: hadoop}, "
                      "{kind: backup, policy: late}]\n")
    assert cli("run", config, "-o", tmp_path / "r", "-q", "--jobs", 1).exit_code == 0
    rows = pd.read_csv(tmp_path / "r" / "latencies.csv")
    base = rows[rows["scheme"] == "uncoded"]["latency"].to_numpy()
    assert (base < 60).all()
    for scheme in ("backup-hadoop", "backup-late"):
        np.testing.assert_array_equal(rows[rows["scheme"] == scheme]["latency"], base)


def test_the_speculation_table_reads_a_run(tmp_path):
    """scripts/speculation_table.py: every engine's defaults and the best setting tried."""
    from importlib import util
    from pathlib import Path

    config = tmp_path / "s.yaml"
    config.write_text("name: s\nm: 20\ntau: 0.05\ntrials: 5\nseed: 1\n"
                      "delay: {dist: exponential, rate: 0.2}\n"
                      "schemes: [{kind: uncoded}, {kind: lt, r: 2}, {kind: backup, policy: spark},"
                      " {kind: backup, policy: {engine: spark, multiplier: 1.1}, label: s11},"
                      " {kind: backup, policy: cubed}]\n")
    assert cli("run", config, "-o", tmp_path / "r", "-q", "--jobs", 1).exit_code == 0
    path = Path(__file__).resolve().parents[1] / "scripts" / "speculation_table.py"
    spec = util.spec_from_file_location("speculation_table", path)
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.table(tmp_path / "r")
    assert "| spark | defaults |" in text and "| cubed | defaults |" in text
    assert "| LT-2 |" in text and "| Uncoded |" in text
    sweep = tmp_path / "s.sweep.yaml"  # a sweep of an engine's settings: defaults and best
    sweep.write_text("name: w\nbase:\n  name: w\n  m: 20\n  tau: 0.05\n  trials: 4\n"
                     "  seed: 1\n  delay: {dist: exponential, rate: 0.2}\n  schemes:\n"
                     "    - {kind: uncoded}\n    - {kind: replication, r: 2}\n"
                     "    - {kind: lt, r: 2}\n    - {kind: backup, policy: {engine: hadoop}}\n"
                     "grid:\n  schemes[3].policy.lag: [0.0, 60.0]\n")
    assert cli("sweep", sweep, "-o", tmp_path / "w", "-q", "--jobs", 1).exit_code == 0
    points = module.pd.read_csv(tmp_path / "w" / "points.csv")
    rule = points[points["scheme"] == "backup-hadoop"].set_index("schemes[3].policy.lag")
    text = module.settings_table([tmp_path / "w"])
    assert f"| hadoop | defaults | {rule.loc[60.0, 'mean']:.3g} ±" in text
    best = rule["mean"].idxmin()
    assert f"best of 2: {'lag 0' if best == 0.0 else 'defaults'} |" in text


def test_show_marks_the_engines_defaults_in_a_sweep_of_its_settings(tmp_path):
    sweep = tmp_path / "s.sweep.yaml"
    sweep.write_text("name: s\nbase:\n  name: s\n  m: 20\n  tau: 0.05\n  trials: 3\n  seed: 1\n"
                     "  delay: {dist: exponential, rate: 0.2}\n"
                     "  schemes: [{kind: uncoded}, {kind: backup, policy: {engine: spark}}]\n"
                     "grid:\n  schemes[1].policy.multiplier: [1.5, 2.0]\n"
                     "  schemes[1].policy.quantile: [0.5, 0.75]\n")
    out = tmp_path / "run"
    assert cli("sweep", sweep, "-o", out, "-q", "--jobs", 1).exit_code == 0
    shown = cli("show", out, "--metric", "mean")
    assert shown.exit_code == 0, shown.stderr
    rows = [line for line in shown.stdout.splitlines() if line.strip().startswith(("1.5", "2"))]
    marked = [line.split()[:2] for line in rows if line.rstrip().endswith("*")]
    assert marked == [["1.5", "0.75"]]
    assert cli("plot", out).exit_code == 0
    assert (out / "frontier.png").is_file()


def test_a_policy_survives_its_written_config_and_a_queue(tmp_path):
    """The config a run writes back keeps only the rule in use (no generic keys beside a
    policy, no `policy: null` without one): re-running it, and a queueing run's offered-load
    probe (which re-reads it), accept it."""
    config = tmp_path / "q.yaml"
    config.write_text("name: q\nm: 20\ntau: 0.05\ntrials: 2\nseed: 1\n"
                      "delay: {dist: exponential, rate: 0.5}\n"
                      "arrivals: {process: poisson, rate: 0.05}\njobs: 20\n"
                      "schemes: [{kind: backup}, {kind: backup, policy: late}]\n")
    out = tmp_path / "run"
    done = cli("run", config, "-o", out, "-q", "--jobs", 1)
    assert done.exit_code == 0, done.stderr
    text = (out / "config.yaml").read_text()
    assert "policy: null" not in text and text.count("slow_factor") == 1
    again = cli("run", out / "config.yaml", "-o", tmp_path / "again", "-q", "--jobs", 1)
    assert again.exit_code == 0, again.stderr
    assert (out / "latencies.csv").read_bytes() == (tmp_path / "again" / "latencies.csv"
                                                   ).read_bytes()


def drive_pull_master(master, delays, units, copy_delay):
    """Feed a :class:`~ltsim.codes.backup.PullMaster` the events of a deterministic trial
    (a task begins computing after its delay and finishes a unit later; a copy of task i on
    worker k begins ``copy_delay[i]`` after launch and takes ``units[k]``), honouring its
    cancellations. Returns the launch time of every task's copy and the latency."""
    n = delays.size
    events = {}  # worker -> [(time, kind)] kind 0 begun, 1 finished
    for i in range(n):
        events[i] = [(delays[i], 0), (delays[i] + units[i], 1)]
    launch = np.full(n, np.nan)
    now = 0.0
    while not master.complete:
        pending = [(t, kind, w) for w, evs in events.items() for t, kind in evs if t >= now]
        nxt = min(pending, default=(np.inf, 0, -1))
        wake = master.wakeup()
        if wake is not None and wake < nxt[0] - 1e-12:
            now = max(now, wake)
            for task in master.act(now):
                i = task.worker - n
                launch[i] = now
                start = now + copy_delay[i]
                events[task.worker] = [(start, 0), (start + units[task.machine], 1)]
            continue
        now, kind, worker = nxt
        events[worker].remove((now, kind))
        if kind == 0:
            master.begun(worker, now)
        else:
            master.add(worker, 0, 1.0, now)
            for stopped in master.cancels():
                events.pop(stopped, None)
    return launch, now


@pytest.mark.parametrize("engine", ["hadoop", "late"])
def test_the_pull_master_follows_the_timeline(engine):
    """PullMaster (ltsim execute's Hadoop and LATE) fed a trial's events launches the same
    copies at the same times as the simulation's timeline, and ends at its latency."""
    from ltsim.codes.backup import HadoopPolicy, LatePolicy, PullMaster
    from ltsim.codes.speculation import hadoop_timeline, late_timeline

    rng = np.random.default_rng(11)
    n = 16
    delays = np.round(rng.exponential(5.0, n), 3)
    units = np.round(rng.choice([1.0, 8.0], n, p=[0.8, 0.2]) * rng.uniform(0.8, 1.2, n), 3)
    copy_delay = np.round(rng.exponential(1.0, n), 3)
    if engine == "hadoop":
        policy = HadoopPolicy(lag=0.0)
        expected = hadoop_timeline(delays, units, copy_delay, lag=0.0)
    else:
        policy = LatePolicy(min_task_age=0.0, speculative_cap=0.3)
        expected = late_timeline(delays, units, copy_delay, speculative_cap=0.3,
                                 min_task_age=0.0)
    launch, latency = drive_pull_master(PullMaster(n, policy, copy_delay, units), delays,
                                        units, copy_delay)
    assert (~np.isnan(expected["launch"])).sum() >= 2  # the rule did act
    np.testing.assert_allclose(launch, expected["launch"], equal_nan=True, atol=1e-9)
    assert latency == pytest.approx(expected["latency"])


@pytest.mark.parametrize("engine", ["hadoop", "late"])
def test_hadoop_and_late_execute_on_the_local_backend(tmp_path, engine):
    """A real run: copies are launched on free workers, the decoded value is the direct
    sum, and a backend without progress reports is refused in one line."""
    import pandas as pd

    key = "lag" if engine == "hadoop" else "min_task_age"
    config = tmp_path / "x.yaml"
    config.write_text(
        "name: x\nworkers: 8\ntrials: 2\nseed: 3\ntime_scale: 0.05\ntimeout: 20\n"
        "workload: {m: 16, dim: 4, seed: 1, term_seconds: 0.01}\n"
        "classes: [{fraction: 0.75}, {fraction: 0.25, speed: 20.0}]\n"
        "delay: {dist: exponential, rate: 5.0}\n"
        f"schemes: [{{kind: backup, policy: {{engine: {engine}, {key}: 0.0, "
        "heartbeat: 0.05}}]\n")
    result = cli("execute", config, "-o", tmp_path / "r", "-q")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "r" / "executions.csv")
    assert (rows["status"] == "ok").all()
    assert rows["backups"].sum() >= 1
    refused = cli("execute", config, "-o", tmp_path / "d", "--backend", "dask")
    assert refused.exit_code == 2
    assert "reads running tasks' progress" in refused.output
    assert not (tmp_path / "d").exists()


def test_lates_quantile_is_numpys_to_the_bit():
    """The fast quantile LATE's rule uses equals np.quantile (linear) exactly."""
    from ltsim.codes.speculation import quantile

    rng = np.random.default_rng(0)
    for _ in range(3000):
        x = rng.exponential(1.0, rng.integers(1, 200)) * rng.choice([1.0, 1e-3, 1e5])
        if rng.random() < 0.3:
            x = np.round(x, 1)  # ties
        q = float(rng.choice([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, rng.random()]))
        assert quantile(x, q) == np.quantile(x, q)
