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
        for i in np.flatnonzero(np.isinf(done) & (np.minimum(finish, backup_end) <= now)):
            if finish[i] <= backup_end[i]:  # the original won: it ran from 0
                bisect.insort(durations, float(finish[i]))
            else:  # the backup won: it ran from its launch
                bisect.insort(durations, float(backup_end[i] - launch[i]))
            done[i] = now
            left -= 1
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
    latency = float(done.max())
    # cost: an original runs until it finishes or its task is done; a backup from its launch
    original_busy = np.minimum(finish, done)
    backup_busy = np.where(np.isnan(launch), 0.0,
                           np.minimum(backup_end, done) - np.nan_to_num(launch))
    units = (finish <= done).sum() + (~np.isnan(launch) & (backup_end <= done)).sum()
    return {"done": done, "launch": launch, "latency": latency,
            "backups": int((~np.isnan(launch)).sum()),
            "busy": float(original_busy.sum() + backup_busy.sum()), "units": int(units)}


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
            for i in np.flatnonzero(np.isinf(done) & (np.minimum(finish, copy_end) <= now)):
                won_copy = copy_end[i] < finish[i]
                bisect.insort(durations, float(copy_end[i] - launch[i]) if won_copy
                              else float(finish[i]))
                done[i] = now
                left -= 1
            continue
        now = check
        threshold = max(multiplier * durations[len(durations) // 2], min_task_runtime)
        for i in np.flatnonzero(np.isinf(done) & np.isnan(launch)):
            if now - 0.0 > threshold:
                launch[i] = now
                copy_end[i] = now + copy_duration[i]
    latency = float(done.max())
    original_busy = np.minimum(finish, done)
    copy_busy = np.where(np.isnan(launch), 0.0, np.minimum(copy_end, done)
                         - np.nan_to_num(launch))
    units = (finish <= done).sum() + (~np.isnan(launch) & (copy_end <= done)).sum()
    return {"done": done, "launch": launch, "latency": latency,
            "backups": int((~np.isnan(launch)).sum()),
            "busy": float(original_busy.sum() + copy_busy.sum()), "units": int(units)}


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
            for i in np.flatnonzero(np.isinf(done) & (np.minimum(finish, copy_end) <= now)):
                won_copy = copy_end[i] < finish[i]
                bisect.insort(durations, float(copy_end[i] - launch[i]) if won_copy
                              else float(finish[i]))
                done[i] = now
                left -= 1
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
