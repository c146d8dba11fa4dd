"""The speculative-execution rules of real engines, as timelines of one trial (``kind:
backup, policy: ...``). Each rule sees only what its engine sees: when each task copy was
launched, when copies finished, and (for the engines that measure it) a running task's
progress.

The model shared by every policy: task i (unit i) is launched at 0 on worker i and would
finish at Y_i = X_i + s_i u; a copy of task i launched at t runs on a fresh machine and
finishes at t + D_i (D_i = X' + s' u drawn for the task as for today's backups). A task is
done when its first copy finishes; its other copy is cancelled then. T is when every task is
done.

``cubed`` (:func:`cubed_timeline`): Cubed's ``should_launch_backup`` as in
cubed-dev/cubed, ``cubed/runtime/backup.py`` (commit 14341a5a) and its asyncio loop
(``cubed/runtime/asyncio.py``): the master waits for the first completion or ``poll``
seconds (2 s), records every copy finished by then, and then, for every task without a
backup (in task order; Cubed iterates a set), launches one when at least ``min_tasks`` copies
have been started (backups included), more than n = ceil(N * min_completed_fraction) - 1
have finished and the task has run longer than ``slow_factor`` times the (n + 1)-th shortest
finished duration (strictly longer). N counts the backups launched so far, so each backup
launched raises the bar for the next in the same round.
"""

from __future__ import annotations

import bisect
import math

import numpy as np


def cubed_timeline(finish: np.ndarray, backup_duration: np.ndarray, min_tasks: int = 10,
                   min_completed_fraction: float = 0.5, slow_factor: float = 3.0,
                   poll: float = 2.0) -> dict[str, np.ndarray | float | int]:
    """One trial under Cubed's rule.

    Parameters
    ----------
    finish : ndarray, shape (n,)
        When each original copy would finish (launched at 0).
    backup_duration : ndarray, shape (n,)
        How long a backup of each task would take from its launch.

    Returns
    -------
    dict
        ``done`` (n,) when each task is done; ``launch`` (n,) when its backup was launched
        (NaN: none); ``latency``; ``backups``; ``busy`` the worker-seconds of every copy until
        it finished or was cancelled; ``units`` the copies that finished.
    """
    n = finish.shape[0]
    done = np.full(n, np.inf)
    launch = np.full(n, np.nan)
    backup_end = np.full(n, np.inf)
    durations: list[float] = []  # sorted durations of the copies finished (end - start)
    started = n  # copies launched: len(start_times)
    now = 0.0
    left = n
    while left > 0:
        pending = np.where(np.isinf(done), np.minimum(finish, backup_end), np.inf)
        nxt = float(pending.min())
        if not math.isfinite(nxt) and not np.isinf(done).any():
            break
        now = min(nxt, now + poll)  # asyncio.wait(..., timeout=poll, FIRST_COMPLETED)
        left -= _complete(now, finish, backup_end, launch, done, durations)
        for i in np.flatnonzero(np.isinf(done) & np.isnan(launch)):
            if started < min_tasks:
                break
            k = math.ceil(started * min_completed_fraction) - 1
            if len(durations) <= k:
                break  # the same for every task of this round until a backup is launched
            if now - 0.0 > durations[k] * slow_factor:
                launch[i] = now
                backup_end[i] = now + backup_duration[i]
                started += 1
    return _one_copy_result(finish, launch, backup_end, done)


def _complete(now: float, finish: np.ndarray, copy_end: np.ndarray, launch: np.ndarray,
              done: np.ndarray, durations: list[float]) -> int:
    """Every task not yet done whose original or copy has ended by ``now`` is done at
    ``now``; the winner's duration joins the sorted ``durations`` (an original ran from 0,
    a copy from its launch; a tie goes to the original). Returns how many tasks ended."""
    ended = np.flatnonzero(np.isinf(done) & (np.minimum(finish, copy_end) <= now))
    for i in ended:
        bisect.insort(durations, float(finish[i]) if finish[i] <= copy_end[i]
                      else float(copy_end[i] - launch[i]))
        done[i] = now
    return int(ended.size)


def _one_copy_result(finish: np.ndarray, launch: np.ndarray, copy_end: np.ndarray,
                     done: np.ndarray) -> dict[str, np.ndarray | float | int]:
    """A timeline's outcome when a task has at most one copy: latency, copies, and the cost
    (an original runs until it finishes or its task is done; a copy from its launch)."""
    original_busy = np.minimum(finish, done)
    copy_busy = np.where(np.isnan(launch), 0.0, np.minimum(copy_end, done)
                         - np.nan_to_num(launch))
    units = (finish <= done).sum() + (~np.isnan(launch) & (copy_end <= done)).sum()
    return {"done": done, "launch": launch, "latency": float(done.max()),
            "backups": int((~np.isnan(launch)).sum()),
            "busy": float(original_busy.sum() + copy_busy.sum()), "units": int(units)}


def _grid_from(at: float, interval: float) -> float:
    """The first check time at or after ``at`` on the grid interval, 2 interval, ..."""
    steps = at / interval
    nearest = round(steps)
    k = nearest if abs(steps - nearest) < 1e-9 else math.ceil(steps)
    return max(k, 1) * interval


def _next_check(after: float, interval: float) -> float:
    """The first check time strictly after ``after`` on the grid interval, 2 interval, ...
    (a time within 1e-9 of a grid point counts as on it)."""
    steps = after / interval
    nearest = round(steps)
    k = nearest + 1 if abs(steps - nearest) < 1e-9 else math.floor(steps) + 1
    return max(k, 1) * interval


def spark_timeline(finish: np.ndarray, copy_duration: np.ndarray, interval: float = 0.1,
                   multiplier: float = 1.5, quantile: float = 0.75,
                   min_task_runtime: float = 0.1) -> dict[str, np.ndarray | float | int]:
    """One trial under Spark's rule (``TaskSetManager.checkSpeculatableTasks``, see
    docs/codes.md): checks at interval, 2 interval, ...; once max(floor(quantile n), 1)
    tasks have succeeded, every task with one running copy and no speculative one that has
    run strictly longer than max(multiplier * median, min_task_runtime) gets a copy, the
    median being the upper middle of the sorted successful durations. Event-driven: between
    completions nothing changes, so the next check that launches anything is computed.

    Returns the same as :func:`cubed_timeline`.
    """
    n = finish.shape[0]
    need = max(math.floor(quantile * n), 1)
    done = np.full(n, np.inf)
    launch = np.full(n, np.nan)
    copy_end = np.full(n, np.inf)
    durations: list[float] = []
    now = 0.0
    left = n
    while left > 0:
        ends = np.where(np.isinf(done), np.minimum(finish, copy_end), np.inf)
        completion = float(ends.min())
        check = math.inf
        if len(durations) >= need:
            threshold = max(multiplier * durations[len(durations) // 2], min_task_runtime)
            waiting = np.isinf(done) & np.isnan(launch)
            if waiting.any():  # originals launched at 0: they all qualify together
                check = max(_next_check(threshold, interval), _grid_from(now, interval))
        if completion <= check:
            now = completion
            left -= _complete(now, finish, copy_end, launch, done, durations)
            continue
        now = check
        threshold = max(multiplier * durations[len(durations) // 2], min_task_runtime)
        for i in np.flatnonzero(np.isinf(done) & np.isnan(launch)):
            if now - 0.0 > threshold:
                launch[i] = now
                copy_end[i] = now + copy_duration[i]
    return _one_copy_result(finish, launch, copy_end, done)


def flink_timeline(finish: np.ndarray, copy_duration: np.ndarray, check_interval: float = 1.0,
                   baseline_ratio: float = 0.75, baseline_multiplier: float = 1.5,
                   baseline_lower_bound: float = 60.0,
                   max_concurrent_executions: int = 2) -> dict[str, np.ndarray | float | int]:
    """One trial under Flink's batch speculative execution (``ExecutionTimeBasedSlowTask
    Detector`` and ``SpeculativeScheduler``, see docs/codes.md): checks at check_interval,
    2 check_interval, ...; once at least ``baseline_ratio`` of the tasks have finished, the
    baseline is ``baseline_multiplier`` times the median (index k // 2) of the k =
    round-half-up(n ratio) shortest finished durations, truncated to the millisecond; a
    running task whose attempts have run at least ``baseline_lower_bound`` and at least the
    baseline is slow and gets attempts up to ``max_concurrent_executions`` at once.

    ``copy_duration`` has shape (n, max_concurrent_executions - 1): the durations of a task's
    speculative attempts. Returns the same as :func:`cubed_timeline` (``launch`` the first
    speculative attempt's launch).
    """
    n = finish.shape[0]
    extra = max_concurrent_executions - 1
    copy_duration = np.asarray(copy_duration, dtype=float).reshape(n, extra)
    k = math.floor(n * baseline_ratio + 0.5)  # Java's Math.round, half up
    done = np.full(n, np.inf)
    launch = np.full(n, np.nan)
    copy_end = np.full(n, np.inf)  # the earliest speculative attempt's end
    durations: list[float] = []
    now, left = 0.0, n
    while left > 0:
        ends = np.where(np.isinf(done), np.minimum(finish, copy_end), np.inf)
        completion = float(ends.min())
        check = math.inf
        finished = n - left
        if extra > 0 and k > 0 and finished / n >= baseline_ratio:
            median = durations[:k][k // 2]
            baseline = math.floor(median * 1000.0 * baseline_multiplier) / 1000.0
            if (np.isinf(done) & np.isnan(launch)).any():  # originals launched at 0
                check = max(_grid_from(max(baseline, baseline_lower_bound), check_interval),
                            _grid_from(now, check_interval))
        if completion <= check:
            now = completion
            left -= _complete(now, finish, copy_end, launch, done, durations)
            continue
        now = check
        median = durations[:k][k // 2]
        baseline = math.floor(median * 1000.0 * baseline_multiplier) / 1000.0
        for i in np.flatnonzero(np.isinf(done) & np.isnan(launch)):
            ran = now - 0.0
            if ran >= baseline_lower_bound and ran >= baseline:
                launch[i] = now
                copy_end[i] = now + copy_duration[i].min()
    latency = float(done.max())
    original_busy = np.minimum(finish, done)
    launched = ~np.isnan(launch)
    copy_busy = np.where(launched[:, None],
                         np.minimum(np.nan_to_num(launch)[:, None] + copy_duration,
                                    done[:, None]) - np.nan_to_num(launch)[:, None], 0.0)
    copy_units = (launched[:, None]
                  & (np.nan_to_num(launch)[:, None] + copy_duration <= done[:, None])).sum()
    return {"done": done, "launch": launch, "latency": latency,
            "backups": int(launched.sum() * extra),
            "busy": float(original_busy.sum() + copy_busy.sum()),
            "units": int((finish <= done).sum() + copy_units)}


def hadoop_timeline(delays: np.ndarray, unit_times: np.ndarray, copy_delay: np.ndarray,
                    gap: float = 0.2, lag: float = 60.0, heartbeat: float = 3.0,
                    chooser=None, work: np.ndarray | None = None,
                    ) -> dict[str, np.ndarray | float | int]:
    """One trial under Hadoop MapReduce's classic rule (``TaskInProgress.hasSpeculativeTask``
    of Hadoop 0.20 / 1.x, see docs/codes.md). A worker whose slot is free asks for work when
    it frees and then every ``heartbeat`` seconds; the first task (in task order) with a
    single running attempt, at least ``gap`` behind the mean progress of all tasks (finished
    ones count 1) and created at least ``lag`` seconds ago gets a copy on the asking worker
    (its own speed, a fresh start-up delay). A task's progress is the fraction of its unit
    computed by its best running attempt (0 during a start-up delay).

    Parameters
    ----------
    delays, unit_times : ndarray, shape (n,)
        The workers' start-up delays and unit times (task i is launched at 0 on worker i).
    copy_delay : ndarray, shape (n,)
        The start-up delay of a copy of task i.
    chooser : callable, optional
        ``chooser(worker, t, progress, done, copy_worker, launch, serving)`` -> the task to
        copy on the asking worker, or -1: another engine's rule on the same pull model
        (:func:`late_timeline`); Hadoop's by default.
    work : ndarray, shape (n,), optional
        Every task's work in units (``skew:``): task i takes ``unit_times[w] * work[i]`` on
        worker w; 1 by default.
    """
    import heapq

    n = delays.shape[0]
    work = np.ones(n) if work is None else work
    machine_times = unit_times
    unit_times = machine_times * work  # each task's time on its own worker
    finish = delays + unit_times
    done = np.full(n, np.inf)
    launch = np.full(n, np.nan)
    copy_worker = np.full(n, -1)
    copy_end = np.full(n, np.inf)
    busy_until = finish.copy()  # each worker: its original until it finishes or is cancelled
    copy_busy = 0.0
    copy_units = 0
    events: list[tuple[float, int, int]] = []  # (time, kind, id): 0 original end, 1 copy end,
    for i in range(n):                          # 2 heartbeat of worker id
        heapq.heappush(events, (float(finish[i]), 0, i))
    left = n
    serving = np.full(n, -1)  # worker -> the task whose copy it runs

    def progress_all(t: float) -> np.ndarray:
        """Every task's progress at t: its best running attempt's share of its unit (1 when
        done), vectorised over the tasks."""
        with np.errstate(divide="ignore", invalid="ignore"):
            own = np.where(unit_times > 0, (t - delays) / unit_times,
                           (t >= delays).astype(float))
            best = np.clip(own, 0.0, 1.0)
            has = copy_worker >= 0
            if has.any():
                w = copy_worker[has]
                start = launch[has] + copy_delay[has]
                copy_time = machine_times[w] * work[has]
                other = np.where(copy_time > 0, (t - start) / copy_time,
                                 (t >= start).astype(float))
                best[has] = np.maximum(best[has], np.clip(other, 0.0, 1.0))
        return np.where(done <= t, 1.0, best)

    def progress(i: int, t: float) -> float:
        return float(progress_all(t)[i])

    def free(w: int, t: float) -> None:
        serving[w] = -1
        heapq.heappush(events, (t, 2, w))

    while left > 0 and events:
        t, kind, k = heapq.heappop(events)
        if kind == 0:  # original of task k ends
            if done[k] <= t:
                continue
            done[k] = t
            left -= 1
            if copy_worker[k] >= 0:  # its copy is killed
                w = copy_worker[k]
                copy_busy += t - launch[k]
                free(w, t)
            free(k, t)
        elif kind == 1:  # copy of task k ends
            if done[k] <= t or copy_end[k] != t:
                continue
            done[k] = t
            left -= 1
            copy_busy += t - launch[k]
            copy_units += 1
            busy_until[k] = t  # the original is killed
            free(k, t)
            free(copy_worker[k], t)
        else:  # worker k asks for work
            if serving[k] >= 0 or busy_until[k] > t or left == 0:
                continue
            if chooser is not None:
                chosen = chooser(k, t, progress_all, done, copy_worker, launch, serving)
            else:
                chosen = hadoop_choice(k, t, progress_all, done, copy_worker, gap, lag)
            if chosen < 0:
                heapq.heappush(events, (t + heartbeat, 2, k))
                continue
            launch[chosen], copy_worker[chosen], serving[k] = t, k, chosen
            copy_end[chosen] = t + copy_delay[chosen] + machine_times[k] * work[chosen]
            heapq.heappush(events, (float(copy_end[chosen]), 1, chosen))
    latency = float(done.max())
    original_busy = np.minimum(busy_until, done)
    units = int((finish <= done).sum()) + copy_units
    return {"done": done, "launch": launch, "latency": latency,
            "backups": int((~np.isnan(launch)).sum()),
            "busy": float(original_busy.sum() + copy_busy), "units": units}


def hadoop_choice(k: int, t: float, progress_all, done: np.ndarray, copy_worker: np.ndarray,
                  gap: float, lag: float) -> int:
    """Hadoop's ``hasSpeculativeTask`` for the free worker ``k`` asking at ``t`` (seconds
    since the job started): the first task in task order that is running, has no copy, is
    not ``k``'s own and is at least ``gap`` behind the mean progress (``progress_all(t)``,
    finished tasks 1), once ``t >= lag``; -1 for none."""
    if not t - 0.0 >= lag:
        return -1
    now_progress = progress_all(t)
    mean = now_progress.sum() / now_progress.shape[0]
    ok = (done > t) & (copy_worker < 0) & (mean - now_progress >= gap)
    ok[k] = False
    hits = np.flatnonzero(ok)
    return int(hits[0]) if hits.size else -1


def quantile(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` (its default, linear method) for a 1-d float array without
    NaN, to the bit, without numpy's per-call overhead (LATE asks for two at every
    heartbeat): the virtual index ``(n - 1) q``, the neighbours of the sorted values and
    numpy's two-sided interpolation (``_lerp``)."""
    n = values.shape[0]
    virtual = (n - 1) * q
    ordered = np.sort(values)
    if virtual >= n - 1:
        return float(ordered[-1])
    lo = math.floor(virtual)
    a, b = float(ordered[lo]), float(ordered[lo + 1])
    gamma = virtual - lo
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def late_choice(k: int, t: float, now: np.ndarray, node: np.ndarray, done: np.ndarray,
                copy_worker: np.ndarray, speculative_cap: float, slow_task_threshold: float,
                slow_node_threshold: float, min_task_age: float) -> int:
    """LATE's choice for the free worker ``k`` asking at ``t``: ``now`` every task's
    progress (finished 1), ``node`` every worker's progress on its own task (see
    :func:`late_timeline`); -1 for none."""
    n = now.shape[0]
    if t < min_task_age:
        return -1
    running = done > t
    if not running.any():
        return -1
    if (copy_worker[running] >= 0).sum() >= speculative_cap * n:
        return -1
    if node[k] < quantile(node, slow_node_threshold):
        return -1
    # progress rates of every task (launched at 0): a finished one 1 / its duration
    rates = np.where(done <= t, 1.0 / np.where(done <= t, done, 1.0), now / t)
    cut = quantile(rates, slow_task_threshold)
    ok = running & (copy_worker < 0) & (rates < cut)
    ok[k] = False
    if not ok.any():
        return -1
    with np.errstate(divide="ignore"):
        left = np.where(rates > 0, (1 - now) / rates, np.inf)
    candidates = np.flatnonzero(ok)
    return int(candidates[np.argmax(left[candidates])])


def late_timeline(delays: np.ndarray, unit_times: np.ndarray, copy_delay: np.ndarray,
                  speculative_cap: float = 0.1, slow_task_threshold: float = 0.25,
                  slow_node_threshold: float = 0.25, min_task_age: float = 60.0,
                  heartbeat: float = 3.0, work: np.ndarray | None = None,
                  ) -> dict[str, np.ndarray | float | int]:
    """One trial under LATE (Zaharia et al., OSDI 2008, Section 4), on Hadoop's pull model
    (:func:`hadoop_timeline`). When a free worker asks: nothing if it is a slow node (its
    progress, the share of its own task it has computed, below the ``slow_node_threshold``
    quantile of all workers'), nothing if the running copies reach ``speculative_cap`` of the
    n slots; else, among running tasks without a copy that have run at least
    ``min_task_age`` and whose progress rate (progress / time running) is below the
    ``slow_task_threshold`` quantile of every task's rate (a finished task's: 1 / its
    duration), the one with the longest
    estimated time left ((1 - progress) / rate) gets a copy on the asking worker. Quantiles
    by numpy's default (linear) method; comparisons strict. ``work`` as for
    :func:`hadoop_timeline`. See docs/codes.md."""
    task_times = unit_times if work is None else unit_times * work

    def choose(k, t, progress_all, done, copy_worker, launch, serving):
        if t < min_task_age:
            return -1
        # node progress: the work of the attempt each worker ran as its own task (its
        # original), whether or not a copy finished the task first
        with np.errstate(divide="ignore", invalid="ignore"):
            node = np.where(task_times > 0, np.clip((t - delays) / task_times, 0.0, 1.0),
                            1.0)
        return late_choice(k, t, progress_all(t), node, done, copy_worker, speculative_cap,
                           slow_task_threshold, slow_node_threshold, min_task_age)

    return hadoop_timeline(delays, unit_times, copy_delay, heartbeat=heartbeat, chooser=choose,
                           work=work)
