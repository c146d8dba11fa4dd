"""Queueing runs (``arrivals:``): a stream of jobs on the workers' FCFS queues, the model side
of the Monte Carlo for them (the engine runs their blocks of trials as it runs single jobs).

A trial is one replication of ``J`` jobs, every job the same computation. Each of the ``n``
workers has its own FCFS queue; job ``j`` arrives at ``A_j`` and its task for worker ``w``
(what the code assigns ``w``, as for one job) starts at ``S = max(A_j, F_w)``, ``F_w`` the
time ``w`` is freed of job ``j - 1``. The worker is then idle for a fresh start-up delay
``X`` (drawn from its law for that task) and computes its units at ``s_w u`` each (a worker's
class and speed belong to the machine: drawn once per trial). So job ``j`` is exactly a job
of the single-job model whose worker ``w`` starts after the *effective* delay
``S - A_j + X``: the code's own simulation gives its completion ``C_j`` (the first time the
master can recover F(x), by the code's own decoding rule) and each worker's task end. At
``C_j`` every worker still on job ``j`` stops it after ``cancel_delay`` and is free; a task
that has not started by ``C_j`` is skipped at no cost. Response time ``R_j = C_j - A_j``.

Every scheme runs on queues of its own, on the same arrivals and the same start-up delays
(common random numbers). The first ``warmup`` jobs of a trial are dropped from every
statistic. A trial's row of ``latencies.csv`` holds the mean response time of its kept jobs
(``latency``), their median and 99th percentile (``p50_response``, ``p99_response``), the
mean wait of a job's first task (``waiting``: its earliest start minus its arrival), the
workers' utilisation (busy worker-seconds over ``n`` times the trial's span, from time 0 to
the end of its last task, warm-up included) and the mean ``worker_seconds`` and ``units`` of
a kept job.

Random streams of trial ``t``: child 0 gives the start-up delays of job 0, then job 1, ...
(job 0's are those of the single-job trial ``t``), :data:`ARRIVALS` the arrival times,
``1 + i`` scheme ``i``'s own draws, job after job, and the children of machine classes and
speeds as for one job.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..model.outcome import Outcome
from ..model.system import TrialBlock
from .streams import CLASSES, SPEEDS, Streams, stream

ARRIVALS = 2**32 + 2
"""Child of a trial's seed sequence that draws the arrival times of its jobs."""


def queue_batch_size(experiment) -> int:
    """Trials per block of a queueing run: about 2^16 jobs x workers (their start-up delays,
    0.5 MiB), so that the trials of a run of 1000-job trials on tens of workers make several
    blocks for the processes to share (a block's cost is the jobs of its trials, job after
    job, each vectorised over the block's trials). Trials draw from their own streams, so the
    results do not depend on it."""
    per_trial = experiment.n_workers * experiment.queue_jobs
    return int(max(1, min(128, (1 << 16) // per_trial)))


def simulate_queue_trials(experiment, start: int, stop: int) -> list[Outcome]:
    """Simulate trials ``start .. stop-1`` of a queueing run: one :class:`Outcome` per
    scheme, a row per trial, with the kept jobs in :attr:`Outcome.jobs`."""
    with np.errstate(over="ignore", invalid="ignore"):
        arrivals, delays, speeds = _draw(experiment, start, stop)
        return [_queue(experiment, scheme, i, arrivals, delays, speeds, start)
                for i, scheme in enumerate(experiment.schemes)]


def _draw(experiment, start: int, stop: int):
    """Arrival times (trials, J), start-up delays of every job and worker (trials, J, n) and
    speeds (trials, n), or (trials, J, n) when the machines' classes evolve, or ``None``."""
    n, jobs, seed = experiment.n_workers, experiment.queue_jobs, experiment.seed
    cluster = experiment.cluster()
    trials = stop - start
    arrivals = np.empty((trials, jobs))
    delays = np.empty((trials, jobs, n))
    evolving = cluster.evolving
    speeds = (None if cluster.plain else
              np.empty((trials, jobs, n)) if evolving else np.empty((trials, n)))
    base, times = _streams(seed, 0, start, stop), _streams(seed, ARRIVALS, start, stop)
    classes = speeds_of = None
    if speeds is not None:
        classes, speeds_of = (_streams(seed, CLASSES, start, stop),
                              _streams(seed, SPEEDS, start, stop))
    for row in range(trials):
        trial = start + row
        if experiment.queueing:  # rounds: released at the previous one's completion
            arrivals[row] = experiment.arrivals.times(times.at(trial), jobs)
        else:
            arrivals[row] = 0.0
        chain = classes.at(trial) if classes else None
        machines = cluster.machines(n, chain, speeds_of.at(trial) if speeds_of else None)
        rng = base.at(trial)
        for job in range(jobs):
            if evolving and job > 0:  # the class assignment continues the chain's stream
                machines = cluster.evolve(machines, chain)
            if evolving:
                speeds[row, job] = machines.speeds
            elif speeds is not None and job == 0:
                speeds[row] = 1.0 if machines.speeds is None else machines.speeds
            delays[row, job] = cluster.delays(machines, rng, job)
    return arrivals, delays, speeds


def _streams(seed: int, child: int, start: int, stop: int) -> Streams:
    streams = Streams(seed, child)
    streams.block(start, stop)
    return streams


def _queue(experiment, scheme, index: int, arrivals, delays, speeds, start) -> Outcome:
    """One scheme's queues over a block of trials, job after job (vectorised over trials)."""
    trials, jobs, n = delays.shape
    warmup, cancel = experiment.queue_warmup, experiment.queue_cancel
    cluster = experiment.cluster()
    work = experiment.task_work()
    rngs = ([stream(experiment.seed, start + row, 1 + index) for row in range(trials)]
            if scheme.draws else ())
    free = np.zeros((trials, n))
    response = np.empty((trials, jobs))
    waiting = np.empty((trials, jobs))
    busy = np.empty((trials, jobs))
    units = np.zeros((trials, jobs))
    seconds = np.zeros((trials, jobs))
    decoded = np.ones((trials, jobs), dtype=bool)
    end_of_trial = np.zeros(trials)
    rounds = experiment.iterative
    alive = np.ones(trials, dtype=bool)  # rounds: every earlier round completed
    for job in range(jobs):
        arrival = arrivals[:, job:job + 1]
        begin = np.maximum(arrival, free)  # S: the worker takes the task
        effective = begin - arrival + delays[:, job]
        if rounds:  # a trial whose job stopped runs on placeholders, its results dropped
            effective = np.where(alive[:, None], effective, 0.0)
        block = TrialBlock(effective, experiment.unit_time, rngs,
                           speeds[:, job] if speeds is not None and speeds.ndim == 3
                           else speeds, cluster.fresh, want_finish=True,
                           linear=experiment.linear, work=work)
        out = scheme.simulate(block)
        latency = np.where(alive, out.latency, np.inf)
        done = arrival[:, 0] + latency  # C_j (inf: the job never completes)
        finish = arrival + out.finish  # each task's end if never stopped (NaN: no task)
        has = np.isfinite(finish) & alive[:, None]
        started = has & (begin <= done[:, None])
        stop = done[:, None] + cancel
        end = np.where(finish <= stop, finish, stop)
        busy[:, job] = np.where(started, end - begin, 0.0).sum(axis=1)
        free = np.where(started, end, free)
        response[:, job] = latency
        waiting[:, job] = np.where(has, begin, np.inf).min(axis=1) - arrival[:, 0]
        decoded[:, job] = out.decoded & alive
        if "units" in out.columns:
            units[:, job] = np.where(alive, out.columns["units"], 0.0)
        seconds[:, job] = np.nan_to_num(out.decode_seconds, nan=0.0)
        end_of_trial = np.maximum(end_of_trial, np.where(np.isfinite(done), done, 0.0))
        if rounds and job + 1 < jobs:  # the next round is released at this one's completion
            alive &= np.isfinite(done)
            arrivals[:, job + 1] = np.where(alive, done, 0.0)
    if rounds:
        return _rounds_outcome(scheme, arrivals, response, busy, units, seconds, decoded)
    end_of_trial = np.maximum(end_of_trial, np.where(np.isfinite(free), free, 0.0).max(axis=1))
    kept = slice(warmup, jobs)
    r = response[:, kept]
    latency = r.mean(axis=1)
    span = np.where(end_of_trial > 0, end_of_trial, math.inf)
    columns = {
        "p50_response": _quantile(r, 0.50),
        "p99_response": _quantile(r, 0.99),
        "waiting": waiting[:, kept].mean(axis=1),
        "utilisation": busy.sum(axis=1) / (n * span),
        "worker_seconds": busy[:, kept].mean(axis=1),
        "units": units[:, kept].mean(axis=1),
    }
    return Outcome(latency, np.full(trials, -1, np.int64), decoded[:, kept].all(axis=1),
                   seconds[:, kept].mean(axis=1) if scheme.draws else np.full(trials, np.nan),
                   columns, jobs={"arrival": arrivals[:, kept], "response": r,
                                  "waiting": waiting[:, kept]})


def _rounds_outcome(scheme, start, response, busy, units, seconds, decoded) -> Outcome:
    """An iterative job's row per trial: ``latency`` the job time (the last round's
    completion, rounds back to back from time 0; ``inf`` once a round never completes),
    ``mean_round`` and ``p99_round`` of its completed round times (0 if none), and
    ``worker_seconds`` and ``units`` per round; its rounds (release time and round time)
    for ``jobs.csv``."""
    trials = response.shape[0]
    finished = np.cumprod(np.isfinite(response), axis=1).astype(bool)
    released = np.concatenate([np.ones((trials, 1), bool), finished[:, :-1]], axis=1)
    job_time = start[:, -1] + response[:, -1]
    ok = decoded.all(axis=1)
    job_time = np.where(ok, job_time, np.inf)
    completed = np.where(np.isfinite(response), response, np.nan)
    count = np.isfinite(response).sum(axis=1)
    mean = np.where(count > 0, np.nansum(completed, axis=1) / np.maximum(count, 1), 0.0)
    if ok.all():
        p99 = _quantile(response, 0.99)
    else:
        with warnings.catch_warnings():  # a trial whose first round never completes
            warnings.simplefilter("ignore", RuntimeWarning)
            p99 = np.nan_to_num(np.nanquantile(completed, 0.99, axis=1,
                                               method="inverted_cdf"), nan=0.0)
    columns = {
        "mean_round": mean,
        "p99_round": p99,
        "worker_seconds": busy.mean(axis=1),
        "units": units.mean(axis=1),
    }
    return Outcome(job_time, np.full(trials, -1, np.int64), ok,
                   seconds.mean(axis=1) if scheme.draws else np.full(trials, np.nan),
                   columns, jobs={"start": np.where(released, start, np.inf),
                                  "response": response})


def _quantile(values: np.ndarray, q: float) -> np.ndarray:
    """Per row, the smallest value with at least a fraction ``q`` of the row at or below it
    (``inf`` counting as the largest)."""
    return np.quantile(values, q, axis=1, method="inverted_cdf")


def trend(response: np.ndarray) -> tuple[float, float]:
    """How much the second half of the kept jobs' responses exceeds the first half, and its
    standard error: across trials (one difference a trial) with two trials or more, else
    from 10 batch means of each half of the one trial.

    Parameters
    ----------
    response : ndarray, shape (trials, jobs)
    """
    half = response.shape[1] // 2
    if half < 1:
        return 0.0, math.inf
    first, second = response[:, :half], response[:, half:2 * half]
    if not (np.isfinite(first).all() and np.isfinite(second).all()):
        return math.inf, 0.0
    if response.shape[0] >= 2:
        d = second.mean(axis=1) - first.mean(axis=1)
        return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))
    batches = min(10, half)
    a = np.array_split(first[0], batches)
    b = np.array_split(second[0], batches)
    ma, mb = np.array([x.mean() for x in a]), np.array([x.mean() for x in b])
    se = math.sqrt(ma.var(ddof=1) / batches + mb.var(ddof=1) / batches) if batches > 1 \
        else math.inf
    return float(mb.mean() - ma.mean()), se


UNSTABLE_Z = 3.0
"""A scheme is flagged unstable when its responses grow from the first half of the kept
jobs to the second by more than this many standard errors."""


def unstable(response: np.ndarray) -> bool:
    """Whether the response times trend upward (see :func:`trend`, :data:`UNSTABLE_Z`)."""
    diff, se = trend(response)
    return diff > 0 and (diff > UNSTABLE_Z * se)
