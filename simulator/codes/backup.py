"""Speculative backup tasks: the uncoded assignment plus the rule production engines use."""

from __future__ import annotations

import bisect
import math
import time
from dataclasses import replace
from fractions import Fraction
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator, model_serializer

from ..util.validation import StrictModel
from .base import Code, CrossFieldError, Master, Outcome, Plan, TaskPlan, Work, busy_and_units
from .replication import one_block_each
from .speculation import (
    cubed_timeline,
    flink_timeline,
    hadoop_choice,
    hadoop_timeline,
    late_choice,
    late_timeline,
    spark_timeline,
)


class CubedPolicy(StrictModel):
    """Cubed's backup rule (:func:`~ltsim.codes.speculation.cubed_timeline`), with Cubed's
    names and defaults (``should_launch_backup`` in ``cubed/runtime/backup.py``, and the 2 s
    timeout of its asyncio loop)."""

    engine: Literal["cubed"] = "cubed"
    min_tasks: Annotated[int, Field(ge=1)] = 10
    min_completed_fraction: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.5
    slow_factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 3.0
    poll: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 2.0


def backup_time(finish: np.ndarray, q: int, slow_factor: float) -> np.ndarray:
    """When backups are launched, per trial: ``t_b = max(t0, slow_factor * D)`` with
    ``t0 = Y_(q)`` the q-th finish time of the original tasks and ``D`` the median of the
    first q finish times (all tasks start at 0: a finish time is a duration).

    Parameters
    ----------
    finish : ndarray, shape (trials, n)
        Finish times ``Y`` of the original tasks.
    """
    first = np.sort(finish, axis=1)[:, :q]
    return np.maximum(first[:, -1], slow_factor * np.median(first, axis=1))


class SparkPolicy(StrictModel):
    """Spark's speculation (``TaskSetManager.checkSpeculatableTasks``), with Spark's names:
    ``spark.speculation.interval`` (100 ms), ``.multiplier`` (1.5), ``.quantile`` (0.75),
    ``.minTaskRuntime`` (100 ms), in seconds (Spark 3.x defaults; Spark 4.0 raised the
    multiplier to 3 and the quantile to 0.9)."""

    engine: Literal["spark"] = "spark"
    interval: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 0.1
    multiplier: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.5
    quantile: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.75
    min_task_runtime: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.1


class FlinkPolicy(StrictModel):
    """Flink's batch speculative execution (``ExecutionTimeBasedSlowTaskDetector``,
    ``SpeculativeScheduler``), with Flink's names and defaults, in seconds:
    ``slow-task-detector.check-interval`` (1 s), ``.execution-time.baseline-ratio`` (0.75),
    ``.baseline-multiplier`` (1.5), ``.baseline-lower-bound`` (1 min),
    ``execution.batch.speculative.max-concurrent-executions`` (2)."""

    engine: Literal["flink"] = "flink"
    check_interval: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    baseline_ratio: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.75
    baseline_multiplier: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.5
    baseline_lower_bound: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 60.0
    max_concurrent_executions: Annotated[int, Field(ge=1, le=16)] = 2


class HadoopPolicy(StrictModel):
    """Hadoop MapReduce's classic rule (``TaskInProgress.hasSpeculativeTask``, Hadoop 0.20 and
    1.x): ``SPECULATIVE_GAP`` (0.2), ``SPECULATIVE_LAG`` (60 s), a TaskTracker heartbeat
    every ``heartbeat`` seconds (3 s, Hadoop 1.x's minimum)."""

    engine: Literal["hadoop"] = "hadoop"
    gap: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.2
    lag: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 60.0
    heartbeat: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 3.0


class LatePolicy(StrictModel):
    """LATE (Zaharia et al., OSDI 2008, Section 4): ``SpeculativeCap`` (10 % of the slots),
    ``SlowTaskThreshold`` and ``SlowNodeThreshold`` (the 25th percentiles), tasks older than
    a minute, on Hadoop's heartbeat (3 s)."""

    engine: Literal["late"] = "late"
    speculative_cap: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.1
    slow_task_threshold: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = 0.25
    slow_node_threshold: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.25
    min_task_age: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 60.0
    heartbeat: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 3.0


ENGINES = ("cubed", "spark", "flink", "hadoop", "late")
"""The engines whose speculation rules ``policy`` names."""

POLICIES = {"cubed": CubedPolicy, "spark": SparkPolicy, "flink": FlinkPolicy,
            "hadoop": HadoopPolicy, "late": LatePolicy}
"""Each engine's policy model (its fields' defaults are the engine's)."""


def policy_default(scheme: dict, parameter: str):
    """The engine's default of ``parameter`` for a backup scheme written as ``scheme`` (a
    config mapping), or ``None`` when it has no engine policy or no such parameter."""
    policy = scheme.get("policy") if isinstance(scheme, dict) else None
    engine = policy if isinstance(policy, str) else (policy or {}).get("engine")
    model = POLICIES.get(engine)
    if model is None or parameter not in model.model_fields or parameter == "engine":
        return None
    return model.model_fields[parameter].default
"""The engines whose speculation rules ``policy`` names."""


class Backup(Code):
    """Speculative execution (MapReduce, Spark, cubed): worker ``i`` computes unit ``i``;
    once ``q = ceil(after n)`` tasks have finished, at ``t_b = max(Y_(q), slow_factor * D)``
    (``D`` the median of the first q finish times), every task still running gets one backup
    copy on a fresh worker, which finishes at ``t_b + X' + u`` (``X'`` a fresh draw of the
    delay law). A task is done at the earlier of its copies; T is when the last task is done.
    The number of backups launched is reported per trial (column ``backups``).
    """

    kind: Literal["backup"] = "backup"
    draws: ClassVar[bool] = True
    skews: ClassVar[bool] = True
    after: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.5
    slow_factor: Annotated[float, Field(ge=1, allow_inf_nan=False)] = 3.0
    policy: Annotated[CubedPolicy | SparkPolicy | FlinkPolicy | HadoopPolicy | LatePolicy,
                      Field(discriminator="engine")] | None = None

    @field_validator("policy", mode="before")
    @classmethod
    def _named(cls, value):
        return {"engine": value} if isinstance(value, str) else value

    @model_serializer(mode="wrap")
    def _omit_generic_keys(self, handler):
        """A config written back (config.yaml, a sweep's points) keeps only the keys of the
        rule in use: without a policy, ``policy: null`` is dropped; with one, the generic
        rule's ``after`` and ``slow_factor``."""
        data = handler(self)
        if isinstance(data, dict):
            if data.get("policy", 0) is None:
                data.pop("policy")
            elif "policy" in data:
                data.pop("after", None)
                data.pop("slow_factor", None)
        return data

    @property
    def default_id(self) -> str:
        return "backup" if self.policy is None else f"backup-{self.policy.engine}"

    def display_name(self) -> str:
        if self.label:
            return self.label
        return "Backup" if self.policy is None else f"Backup ({self.policy.engine})"

    @property
    def reads_progress(self) -> bool:
        """Whether the rule reads running tasks' progress (Hadoop, LATE): a real run needs
        a backend whose tasks report it (:attr:`~ltsim.execution.backends.base.Backend.
        progress`)."""
        return self.policy is not None and self.policy.engine in ("hadoop", "late")

    def check(self, workers: int) -> None:
        if self.policy is not None:
            for key in ("after", "slow_factor"):
                if key in self.model_fields_set:
                    raise CrossFieldError(key, f"belongs to the generic rule; with policy: "
                                          f"{self.policy.engine} use the engine's own keys "
                                          "under policy", getattr(self, key))

    def q(self, workers: int) -> int:
        """Finished tasks that set the backup time: ``ceil(after n)``, of ``after`` as written
        (exact decimal arithmetic)."""
        return max(1, math.ceil(Fraction(repr(self.after)) * workers))

    def simulate(self, block) -> Outcome:
        trials, n = block.delays.shape
        unit_times = np.broadcast_to(np.asarray(block.task_times, dtype=float), (trials, n))
        finish = block.delays + unit_times
        fresh_x, fresh_s = np.empty((trials, n)), np.ones((trials, n))
        for b in range(trials):  # the fresh workers of all n tasks, drawn in task order
            fresh_x[b], speeds = block.fresh(block.rngs[b], n)
            if speeds is not None:
                fresh_s[b] = speeds
        if block.work is not None:  # a copy of a heavy task is as heavy
            fresh_s = fresh_s * block.work
        if self.policy is not None:
            return self._simulate_policy(block, finish, fresh_x + block.unit * fresh_s,
                                         fresh_x)
        t_b = backup_time(finish, self.q(n), self.slow_factor)
        backup_finish = t_b[:, None] + fresh_x + block.unit * fresh_s
        late = finish > t_b[:, None]
        done = np.where(late, np.minimum(finish, backup_finish), finish)
        latency = done.max(axis=1)
        seconds, units = busy_and_units(block.delays, unit_times, np.ones(n), latency)
        start = np.where(late, t_b[:, None], latency[:, None])  # a backup starts at t_b
        extra_seconds = np.clip(np.minimum(backup_finish, latency[:, None]) - start, 0, None)
        extra_units = late & (backup_finish <= latency[:, None])
        out = Outcome.uncoded(latency, worker_seconds=seconds + extra_seconds.sum(axis=1),
                              units=units + extra_units.sum(axis=1),
                              backups=late.sum(axis=1))
        if block.want_finish:  # backups run on extra machines, outside the workers' queues
            out = out.finishing(finish)
        return out

    def _simulate_policy(self, block, finish, duration, fresh_x) -> Outcome:
        """Every trial's timeline under the engine's rule."""
        trials, n = finish.shape
        machine = np.broadcast_to(np.asarray(block.unit_times, dtype=float), (trials, n))
        work = np.ones(n) if block.work is None else block.work
        p = self.policy
        latency, seconds = np.empty(trials), np.empty(trials)
        units = np.empty(trials, dtype=np.int64)  # counts, as the generic rule writes them
        backups = np.empty(trials, dtype=np.int64)
        for b in range(trials):
            if p.engine == "cubed":
                out = cubed_timeline(finish[b], duration[b], p.min_tasks,
                                     p.min_completed_fraction, p.slow_factor, p.poll)
            elif p.engine == "flink":
                copies = [duration[b]]
                for _ in range(p.max_concurrent_executions - 2):  # further attempts
                    x, speeds = block.fresh(block.rngs[b], finish.shape[1])
                    copies.append(x + block.unit * work * (1.0 if speeds is None
                                                            else speeds))
                out = flink_timeline(finish[b], np.stack(copies, axis=1)[:, :max(
                    p.max_concurrent_executions - 1, 0)], p.check_interval, p.baseline_ratio,
                    p.baseline_multiplier, p.baseline_lower_bound,
                    p.max_concurrent_executions)
            elif p.engine == "spark":
                out = spark_timeline(finish[b], duration[b], p.interval, p.multiplier,
                                     p.quantile, p.min_task_runtime)
            elif p.engine == "hadoop":
                out = hadoop_timeline(block.delays[b], machine[b], fresh_x[b], p.gap,
                                      p.lag, p.heartbeat, work=block.work)
            else:
                out = late_timeline(block.delays[b], machine[b], fresh_x[b],
                                    p.speculative_cap, p.slow_task_threshold,
                                    p.slow_node_threshold, p.min_task_age, p.heartbeat,
                                    work=block.work)
            latency[b], seconds[b] = out["latency"], out["busy"]
            units[b], backups[b] = out["units"], out["backups"]
        result = Outcome.uncoded(latency, worker_seconds=seconds, units=units,
                                 backups=backups)
        if block.want_finish:
            result = result.finishing(finish)
        return result

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        # finish, the sorted first q, the fresh workers, their finish, late, done, start and
        # the extra cost, shape (trials, n)
        return 75 * trials * workers

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None) -> Plan:
        delays, speeds = fresh(rng, workers) if fresh is not None else (np.zeros(workers),
                                                                          None)
        if self.reads_progress:
            tasks = [replace(task, progress=True) for task in one_block_each(workers, 1)]
            times = np.broadcast_to(np.asarray(0.0 if unit_times is None else unit_times,
                                               dtype=float), (workers,))
            return Plan(tasks, PullMaster(workers, self.policy, delays, times))
        if self.policy is not None:
            master = {"cubed": CubedMaster, "spark": SparkMaster,
                      "flink": FlinkMaster}[self.policy.engine]
            return Plan(one_block_each(workers, 1), master(workers, self.policy, delays,
                                                           speeds))
        return Plan(one_block_each(workers, 1),
                    BackupMaster(workers, self.q(workers), self.slow_factor, delays, speeds))


class _CopiesMaster(Master):
    """A master whose tasks may run twice: worker ``n + i`` runs a copy of task ``i``, the
    first of the two to deliver counts (:meth:`_first`, for the rule's bookkeeping), and
    F(x) is the sum of the n tasks' values."""

    n: int
    parts: dict[int, float]

    def add(self, worker, index, value, at) -> bool:
        began = time.perf_counter()
        self.received += 1
        task = worker % self.n
        if task not in self.parts:
            self.parts[task] = value
            self._first(task, worker, at)
        self.complete = len(self.parts) == self.n
        self.seconds += time.perf_counter() - began
        return self.complete

    def _first(self, task: int, worker: int, at: float) -> None:
        """Task ``task`` delivered first by ``worker`` (itself or its copy) at ``at``."""

    @property
    def value(self) -> float:
        return math.fsum(self.parts.values()) if self.complete else math.nan


class _FreshCopiesMaster(_CopiesMaster):
    """Copies on fresh machines, with the fresh start-up delay and speed the code drew for
    the task, as the simulation draws them."""

    delays: np.ndarray
    speeds: np.ndarray | None

    def _copy(self, i: int) -> TaskPlan:
        return TaskPlan(self.n + i, (Work(np.array([i])),), delay=float(self.delays[i]),
                        speed=None if self.speeds is None else float(self.speeds[i]))


class BackupMaster(_FreshCopiesMaster):
    """Sums the units as they arrive (first copy wins); once q results are in, asks to be
    woken at ``t_b`` and then launches a backup of every task still missing on a fresh
    worker (worker ``n + i`` backs up task ``i``) with the fresh start-up delay and speed the
    code drew for task ``i``, as the simulation draws them."""

    def __init__(self, n: int, q: int, slow_factor: float, delays: np.ndarray,
                 speeds: np.ndarray | None) -> None:
        self.n, self.q, self.slow_factor = n, q, slow_factor
        self.delays, self.speeds = delays, speeds
        self.parts: dict[int, float] = {}
        self.finished: list[float] = []
        self.t_b: float | None = None
        self.launched: int | None = None

    def _first(self, task: int, worker: int, at: float) -> None:
        if worker < self.n and self.t_b is None:
            self.finished.append(at)
            if len(self.finished) == self.q:
                first = np.array(self.finished)
                self.t_b = float(max(first[-1], self.slow_factor * np.median(first)))

    def wakeup(self) -> float | None:
        return None if self.launched is not None or self.t_b is None else self.t_b

    def act(self, now: float) -> list[TaskPlan]:
        tasks = [self._copy(i) for i in range(self.n) if i not in self.parts]
        self.launched = len(tasks)
        return tasks

    @property
    def extras(self) -> dict[str, int]:
        return {"backups": self.launched or 0}


class CubedMaster(_FreshCopiesMaster):
    """Cubed's rule live: every result is recorded (first copy of a task wins); the master
    checks after each result and every ``poll`` seconds, and launches a backup of every task
    without one that qualifies (:func:`~ltsim.codes.speculation.cubed_timeline`), on a
    fresh worker (``n + i`` backs up task ``i``) with the fresh delay and speed the code drew
    for the task."""

    checks_on_completion = True
    """Whether a completion brings the next check forward to it (Cubed's loop wakes at each
    completion; Spark's and Flink's checks keep their own clock)."""

    def __init__(self, n: int, policy: CubedPolicy, delays: np.ndarray,
                 speeds: np.ndarray | None) -> None:
        self.n, self.policy, self.delays, self.speeds = n, policy, delays, speeds
        self.parts: dict[int, float] = {}
        self.durations: list[float] = []
        self.launch: dict[int, float] = {}
        self.started = n
        self.next_check = (getattr(policy, "poll", None) or getattr(policy, "interval", None)
                           or getattr(policy, "check_interval", 1.0))

    def _first(self, task: int, worker: int, at: float) -> None:
        start = 0.0 if worker < self.n else self.launch[task]
        bisect.insort(self.durations, at - start)
        if self.checks_on_completion:
            self.next_check = at

    def wakeup(self) -> float | None:
        return None if self.complete else self.next_check

    def act(self, now: float) -> list[TaskPlan]:
        p = self.policy
        tasks = []
        for i in range(self.n):
            if i in self.parts or i in self.launch:
                continue
            if self.started < p.min_tasks:
                break
            k = math.ceil(self.started * p.min_completed_fraction) - 1
            if len(self.durations) <= k:
                break
            if now > self.durations[k] * p.slow_factor:
                self.launch[i] = now
                self.started += 1
                tasks.append(self._copy(i))
        self.next_check = now + p.poll
        return tasks

    @property
    def extras(self) -> dict[str, int]:
        return {"backups": len(self.launch)}


class SparkMaster(CubedMaster):
    """Spark's rule live: checks every ``interval`` seconds (:func:`~ltsim.codes.speculation.
    spark_timeline`); a result only records a successful duration."""

    checks_on_completion = False

    def act(self, now: float) -> list[TaskPlan]:
        p = self.policy
        tasks = []
        need = max(math.floor(p.quantile * self.n), 1)
        if len(self.durations) >= need:
            threshold = max(p.multiplier * self.durations[len(self.durations) // 2],
                            p.min_task_runtime)
            for i in range(self.n):
                if i in self.parts or i in self.launch or not now > threshold:
                    continue
                self.launch[i] = now
                tasks.append(self._copy(i))
        self.next_check = now + p.interval
        return tasks


class FlinkMaster(CubedMaster):
    """Flink's rule live (:func:`~ltsim.codes.speculation.flink_timeline`): checks every
    ``check_interval``; one speculative attempt per slow task (``max_concurrent_executions``
    above 2 runs further attempts in simulation only)."""

    checks_on_completion = False

    def act(self, now: float) -> list[TaskPlan]:
        p = self.policy
        tasks = []
        n = self.n
        k = math.floor(n * p.baseline_ratio + 0.5)
        if p.max_concurrent_executions > 1 and k > 0 and len(self.parts) / n >= p.baseline_ratio:
            median = self.durations[:k][k // 2]
            baseline = math.floor(median * 1000.0 * p.baseline_multiplier) / 1000.0
            for i in range(n):
                if i in self.parts or i in self.launch:
                    continue
                if now >= p.baseline_lower_bound and now >= baseline:
                    self.launch[i] = now
                    tasks.append(self._copy(i))
        self.next_check = now + p.check_interval
        return tasks


class PullMaster(_CopiesMaster):
    """Hadoop's and LATE's rules live, on their pull model
    (:func:`~ltsim.codes.speculation.hadoop_timeline`): task ``i`` runs on worker ``i``;
    a worker whose task has ended asks for work at once and then every ``heartbeat``
    seconds; the rule (:func:`~ltsim.codes.speculation.hadoop_choice`,
    :func:`~ltsim.codes.speculation.late_choice`) picks a task to copy on it (worker
    ``n + i`` copies task ``i``, on the asking worker's machine, with the start-up delay the
    code drew for the task). The first copy of a task to finish wins and the other is
    stopped, freeing its worker.

    A task's progress is what it reports: 0 until it says its start-up has ended, then the
    share of its unit's planned compute time elapsed (``term_seconds`` times its terms and
    speed; a unit of no planned time is done as soon as it begins), 1 once finished.
    """

    def __init__(self, n: int, policy, delays: np.ndarray, unit_times: np.ndarray) -> None:
        self.n, self.policy = n, policy
        self.copy_delays = delays
        self.unit_times = np.asarray(unit_times, dtype=float)
        self.parts: dict[int, float] = {}
        self.done = np.full(n, np.inf)
        self.begun_at = np.full(n, np.nan)  # each original's start of computing
        self.copy_begun = np.full(n, np.nan)
        self.copy_worker = np.full(n, -1)
        self.launch = np.full(n, np.nan)
        self.serving = np.full(n, -1)  # worker -> the task whose copy it runs
        self.asks: dict[int, float] = {}  # free worker -> its next request
        self.stops: list[int] = []

    def begun(self, worker: int, at: float) -> None:
        if worker < self.n:
            self.begun_at[worker] = at
        else:
            self.copy_begun[worker - self.n] = at

    def _share(self, t: float, begun: np.ndarray, times: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(times > 0, (t - begun) / times, (t >= begun).astype(float))
        return np.where(np.isnan(begun), 0.0, np.clip(share, 0.0, 1.0))

    def progress_all(self, t: float) -> np.ndarray:
        """Every task's progress at ``t``: its best running attempt's (1 when done)."""
        best = self._share(t, self.begun_at, self.unit_times)
        has = self.copy_worker >= 0
        if has.any():
            other = self._share(t, self.copy_begun[has],
                                self.unit_times[self.copy_worker[has]])
            best[has] = np.maximum(best[has], other)
        return np.where(self.done <= t, 1.0, best)

    def _first(self, task: int, worker: int, at: float) -> None:
        self.done[task] = at
        copy = self.copy_worker[task]
        if worker < self.n and copy >= 0:  # the original won: stop its copy
            self.stops.append(self.n + task)
            self._free(int(copy), at)
        elif worker >= self.n:  # the copy won: stop the original
            self.stops.append(task)
            self._free(int(copy), at)
        self._free(task, at)

    def _free(self, worker: int, at: float) -> None:
        self.serving[worker] = -1
        self.asks[worker] = at

    def cancels(self) -> list[int]:
        out, self.stops = self.stops, []
        return out

    def wakeup(self) -> float | None:
        if self.complete or not self.asks:
            return None
        return min(self.asks.values())

    def act(self, now: float) -> list[TaskPlan]:
        p = self.policy
        tasks = []
        for worker, _ in sorted(self.asks.items(), key=lambda item: (item[1], item[0])):
            asked = self.asks[worker]
            if asked > now or self.complete:
                continue
            if p.engine == "hadoop":
                chosen = hadoop_choice(worker, now, self.progress_all, self.done,
                                       self.copy_worker, p.gap, p.lag)
            else:
                node = self._share(now, self.begun_at, self.unit_times)
                chosen = late_choice(worker, now, self.progress_all(now), node, self.done,
                                     self.copy_worker, p.speculative_cap,
                                     p.slow_task_threshold, p.slow_node_threshold,
                                     p.min_task_age)
            if chosen < 0:
                while asked <= now:
                    asked += p.heartbeat
                self.asks[worker] = asked
                continue
            del self.asks[worker]
            self.launch[chosen], self.copy_worker[chosen] = now, worker
            self.serving[worker] = chosen
            tasks.append(TaskPlan(self.n + chosen, (Work(np.array([chosen])),),
                                  delay=float(self.copy_delays[chosen]), machine=worker,
                                  progress=True))
        return tasks

    @property
    def extras(self) -> dict[str, int]:
        return {"backups": int((~np.isnan(self.launch)).sum())}
