"""The memory and disk a run needs, held against what the machine has, before anything
runs; and the plan of a dry run (the estimates and a pilot's time)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..montecarlo import footprint, trials


def available_memory() -> int | None:
    """Bytes of memory available to new processes: ``MemAvailable`` on Linux, else the free
    physical memory the OS reports, else ``None``; at most what the memory limit of the
    cgroup (a container's, a batch job's) leaves, its inactive page cache counted as free."""
    have = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    have = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if have is None:
        try:
            have = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return None
    # cgroup v2, then v1: limit - (usage - inactive page cache), when a limit is set
    for folder, limit, usage, cache in (
            ("/sys/fs/cgroup", "memory.max", "memory.current", "inactive_file"),
            ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes",
             "total_inactive_file")):
        try:
            cap = Path(folder, limit).read_text(encoding="ascii").strip()
            if not cap.isdigit() or int(cap) >= 2**60:
                continue
            used = int(Path(folder, usage).read_text(encoding="ascii"))
            stat = dict(line.split()[:2] for line in
                        Path(folder, "memory.stat").read_text(encoding="ascii").splitlines()
                        if len(line.split()) >= 2)
            free = int(cap) - used + int(stat.get(cache, 0))
        except (OSError, ValueError):
            continue
        have = min(have, max(0, free))
    return have


def memory_problem(experiment, jobs: int, target: Path | None = None,
                   memory_only: bool = False) -> str | None:
    """Why the run cannot fit in memory with ``jobs`` processes, or its results on the disk
    of ``target`` (default ``results/<name>``), or ``None``.

    The need is that of :func:`ltsim.montecarlo.footprint.footprint`: each simulating
    process holds one block at a time, and the parent every trial until the end (memory);
    the result folder grows with trials x schemes, its rows twice while they are joined
    (disk: the free space of ``target``'s nearest existing folder).
    """
    need = footprint.footprint(experiment, jobs)
    have = available_memory()
    if have is not None and need.memory > have:
        total, gib = need.memory / 2**30, 2**30
        if need.grows_with_trials:
            return (f"trials: the run needs about {total:.1f} GiB of memory "
                    f"({need.parent / gib:.1f} GiB to hold {experiment.trials} trials of "
                    f"{len(experiment.schemes)} scheme(s)) and {have / gib:.1f} GiB is "
                    f"available; reduce --trials (or the schemes), got {experiment.trials}")
        return (f"m: the run needs about {total:.1f} GiB of memory ({need.per_process / gib:.2f}"
                f" GiB per process x {need.processes} process(es) and "
                f"{need.parent / gib:.2f} GiB for the trials) and {have / gib:.1f} GiB is "
                f"available; reduce m (or workers) or --jobs, got {experiment.m}")
    if memory_only:
        return None
    where = footprint.free_disk(target if target is not None
                                else Path("results") / experiment.name)
    if where is not None and need.disk > where[1]:
        return (f"trials: the run needs about {need.disk / 2**30:.1f} GiB of disk "
                f"({need.folder / 2**30:.1f} GiB of results, their rows twice while "
                f"latencies.csv is joined) and {where[1] / 2**30:.1f} GiB is free in "
                f"{where[0]}; reduce --trials (or the schemes) or write elsewhere (-o), got "
                f"{experiment.trials}")
    return None


def plan(experiment, jobs: int, target: Path | None = None) -> list[str]:
    """The lines of a dry run: the resolved config, the estimated memory, disk and time of
    the run (the time from a pilot of a few trials, unless the run would be refused)."""
    import yaml

    lines = [yaml.safe_dump(experiment.resolved(), sort_keys=False).rstrip()]
    need = footprint.footprint(experiment, jobs)
    have = available_memory()
    size = footprint.human
    lines.append(f"# memory: about {size(need.per_process)} per process x {need.processes} "
                 f"process(es) ({size(need.worker)} of it each one's own) and {size(need.parent)} "
                 f"in the parent for {experiment.trials} trials of {len(experiment.schemes)} "
                 f"scheme(s): about {size(need.memory)} in all"
                 + (f" ({have / 2**30:.1f} GiB available)" if have else ""))
    target = target if target is not None else Path("results") / experiment.name
    where = footprint.free_disk(target)
    lines.append(f"# disk: about {size(need.folder)} for the result folder, {size(need.disk)} at "
                 f"the peak (while latencies.csv is joined from its parts)"
                 + (f" ({where[1] / 2**30:.1f} GiB free in {where[0]})" if where else ""))
    problem = memory_problem(experiment, jobs, target)
    if problem:
        lines.append(f"# the run would be refused: {problem}")
        return lines
    pilot = max(1, min(experiment.trials, trials.batch_size(experiment), 8))
    trials.simulate_trials(experiment, 0, 1)  # compile and warm up
    start = time.perf_counter()
    trials.simulate_trials(experiment, 0, pilot)
    per_trial = (time.perf_counter() - start) / pilot
    estimate = per_trial * experiment.trials / max(1, min(jobs, experiment.trials))
    lines.append(f"# time: about {estimate:.3g} s for {experiment.trials} trials on {jobs} "
                 f"process(es) ({per_trial * 1e3:.3g} ms per trial, from a {pilot}-trial pilot)")
    return lines


PILOT_TRIALS = 64
"""Single jobs on an idle cluster that estimate a queueing run's offered load."""


def offered_load(experiment) -> list[str]:
    """The offered load of every scheme of a queueing run, as an idle cluster estimates it:
    ``rate x E[worker-seconds of one job] / n`` (the worker-seconds from
    :data:`PILOT_TRIALS` single jobs of the same system, its machines' classes drawn once and
    a trace by iteration resampled); one line each, a load of 1 or more said to be beyond the
    cluster's capacity."""
    from ..io import config as configs

    data = experiment.resolved()
    for key in ("arrivals", "jobs", "warmup", "cancel_delay", "persistence"):
        data.pop(key, None)
    if isinstance(data.get("delay"), dict):  # a trace by iteration: its rows resampled
        data["delay"].pop("iteration", None)
    data["trials"] = PILOT_TRIALS
    idle = configs.validate(data, kind="run")
    outcomes = trials.simulate_trials(idle, 0, PILOT_TRIALS)
    rate, n = experiment.arrivals.rate, experiment.n_workers
    lines = []
    for scheme, outcome in zip(idle.schemes, outcomes, strict=True):
        seconds = float(outcome.columns["worker_seconds"].mean())
        load = rate * seconds / n
        note = "  (beyond capacity: the queue grows)" if load >= 1 else ""
        lines.append(f"offered load of {scheme.scheme_id}: {load:.3g} (rate {rate:g} x "
                     f"{seconds:.4g} worker-seconds a job / {n} workers){note}")
    return lines
