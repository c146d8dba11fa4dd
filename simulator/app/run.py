"""``ltsim run``: config -> Monte Carlo -> result folder, with clean failure on bad input."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io import config, folders, provenance, results
from ..io.report import format_summary
from ..model.outcome import Outcome
from ..montecarlo import engine, trials
from ..montecarlo.streams import STREAM
from ..util.validation import ConfigError
from .errors import BadInput, Failure
from .scheduler import check_address
from .signals import interrupts


@dataclass(frozen=True)
class RunRequest:
    """What the user asked for on the command line."""

    config_path: Path
    output: Path | None = None
    trials: int | None = None
    seed: int | None = None
    jobs: int | None = None
    target_rel_ci: float | None = None
    max_time: float | None = None
    force: bool = False
    quiet: bool = False
    sets: tuple[str, ...] = ()
    dry_run: bool = False
    extend: Path | None = None
    address: str | None = None


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


def memory_problem(experiment, jobs: int, target: Path | None = None) -> str | None:
    """Why the run cannot fit in memory with ``jobs`` processes, or its results on the disk
    of ``target`` (default ``results/<name>``), or ``None``.

    The need is that of :func:`simulator.montecarlo.footprint.footprint`: each simulating
    process holds one block at a time, and the parent every trial until the end (memory);
    the result folder grows with trials x schemes, its rows twice while they are joined
    (disk: the free space of ``target``'s nearest existing folder).
    """
    from ..montecarlo import footprint

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
    where = footprint.free_disk(target if target is not None
                                else Path("results") / experiment.name)
    if where is not None and need.disk > where[1]:
        return (f"trials: the run needs about {need.disk / 2**30:.1f} GiB of disk "
                f"({need.folder / 2**30:.1f} GiB of results, their rows twice while "
                f"latencies.csv is joined) and {where[1] / 2**30:.1f} GiB is free in "
                f"{where[0]}; reduce --trials (or the schemes) or write elsewhere (-o), got "
                f"{experiment.trials}")
    return None


@dataclass
class Held:
    """Trials an extended folder already holds."""

    trials: int = 0
    outcomes: list | None = None
    enough: str = ""
    """What the held trials are enough for (set by :meth:`done`)."""

    def done(self, experiment, target_rel_ci: float | None) -> bool:
        """Whether the held trials already meet the stopping rules: the trials asked for,
        or the precision target."""
        if self.trials >= experiment.trials:
            self.enough = f"--trials {experiment.trials}"
            return True
        if target_rel_ci is not None and self.outcomes:
            moments = [engine.Moments.of(o.latency) for o in self.outcomes]
            if engine.meets_target(moments, target_rel_ci, self.trials):
                self.enough = f"--target-rel-ci {target_rel_ci:g}"
                return True
        return False


@dataclass(frozen=True)
class Engine:
    """Where the blocks of trials run: ``jobs`` local processes, or a Dask cluster's
    executor (``slots`` blocks in flight)."""

    jobs: int = 1
    executor: Any = None
    slots: int | None = None
    name: str = "processes"
    health: Any = None
    """The engine's ``health`` check (a Dask cluster's), or ``None``."""


@dataclass
class Written:
    """A result folder written by :func:`simulate_into`."""

    status: str
    trials: int
    summary: Any
    folder: Path
    late_interrupt: bool = False
    """Ctrl-C or SIGTERM came while the complete folder was being written."""
    error: str | None = None
    """Why the run failed (its trials done are in ``folder``, ``"interrupted"``)."""
    kept: Path | None = None
    """Where the trials are when the folder could not be written."""
    resume: str = ""
    """The command that resumes the folder."""

    def failure_message(self) -> str:
        """The one line of a failed run: why, and where its trials are."""
        if self.kept is not None:
            return (f"run failed: {self.error}; the {self.trials} trials computed are kept in "
                    f"{self.kept}")
        return (f"run failed: {self.error}; the {self.trials} trials done are in "
                f"{self.folder} (status interrupted): `{self.resume}` resumes it")


def execute_run(request: RunRequest) -> int:
    """Carry out ``ltsim run``; raise :class:`BadInput` for usage and config errors.

    Returns
    -------
    int
        The exit code: 0, 130 if the run was interrupted. A run that failed at run time
        (:class:`Failure`, exit 1) keeps what it computed: the trials done are published as
        an ``"interrupted"`` folder that ``--extend`` resumes, or, if the folder cannot be
        written, kept in a staging folder the message names.
    """
    with interrupts():
        return _execute_run(request)


def _execute_run(request: RunRequest) -> int:
    experiment = load_experiment(request.config_path, request.trials, request.seed,
                                 request.sets)
    jobs = request.jobs or engine.default_jobs()
    extend = request.extend is not None
    target = request.extend or request.output or Path("results") / experiment.name
    if request.dry_run:
        return dry_run(experiment, jobs, target)
    problem = memory_problem(experiment, jobs, target)
    if problem:
        raise BadInput(f"{request.config_path}: {problem}")
    option = "--extend" if extend else "-o"
    try:
        folders.check_target(target, request.force, extend, option)
    except folders.TargetError as exc:
        raise BadInput(str(exc)) from None
    held = held_trials(target, experiment) if extend else Held()
    if extend and held.done(experiment, request.target_rel_ci):
        print(f"{target} already holds {held.trials} trials, enough for {held.enough}; "
              "nothing to do", file=sys.stderr)
        return 0
    with dask_engine(request.address, jobs) as where:
        written = simulate_into(experiment, target, where, request.target_rel_ci,
                                request.max_time, request.quiet, held, option,
                                config_file=request.config_path, extend=extend)
    if written is None:
        return 130
    if written.error is not None:
        written.resume = provenance.resume_command(target)
        raise Failure(written.failure_message())
    if not request.quiet:
        print(format_summary(written.summary))
    note = f" (interrupted after {written.trials} trials)" if written.status != "complete" \
        else ""
    print(f"results in {target}{note}", file=sys.stderr)
    return 130 if written.status != "complete" or written.late_interrupt else 0


WORKER_TIMEOUT = 60.0
"""Seconds a Dask cluster may have no worker before a run on it stops as failed (the
environment variable ``LTSIM_WORKER_TIMEOUT`` changes it)."""


@contextlib.contextmanager
def dask_engine(address: str | None, jobs: int):
    """The :class:`Engine` of a run: ``jobs`` processes, or, with ``address``, the executor
    of a Dask cluster (``tcp://host:8786``) with two blocks in flight per thread.

    A cluster without workers is refused (after two seconds' grace for workers that are
    starting). While the run goes on, a lost scheduler, or no worker for
    :data:`WORKER_TIMEOUT` seconds, stops it as failed (its trials kept). The
    ``distributed`` logs are silenced meanwhile: a failure is reported in one line.
    """
    if address is None:
        yield Engine(jobs)
        return
    check_address(address, "dask")
    timeout = worker_timeout()
    try:
        from distributed import Client
    except ImportError as exc:
        raise BadInput(f"--address: dask is not installed ({exc}); install ltsim[dask], got "
                       f"{address!r}") from None
    logging.disable(logging.CRITICAL)
    client = None
    try:
        try:
            client = Client(address, timeout=10)
        except Exception as exc:
            gist = " ".join(str(exc).split())[:160] or type(exc).__name__
            raise BadInput(f"--address: cannot reach the scheduler ({gist}), got "
                           f"{address!r}") from None
        with contextlib.suppress(Exception):
            client.wait_for_workers(1, timeout=2)
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise BadInput(f"--address: the scheduler has no workers (0 threads); start some "
                           f"with `dask worker {address}`, got {address!r}")
        yield Engine(threads, client.get_executor(pure=False), 2 * threads, "dask",
                     _cluster_health(client, address, timeout))
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=2)
        logging.disable(logging.NOTSET)


def worker_timeout() -> float:
    """:data:`WORKER_TIMEOUT`, or ``LTSIM_WORKER_TIMEOUT`` (a finite number > 0; anything
    else is refused in one line)."""
    text = os.environ.get("LTSIM_WORKER_TIMEOUT")
    if text is None:
        return WORKER_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise BadInput(f"LTSIM_WORKER_TIMEOUT: must be a finite number of seconds > 0, got "
                       f"{text!r}")
    return value


def _cluster_health(client, address: str, timeout: float):
    """The engine's ``health`` check of a Dask cluster: why it cannot go on, or ``None``.
    It reads the client's view of the cluster (refreshed in the background), never waits
    on the scheduler."""
    seen = [time.monotonic()]

    def health() -> str | None:
        status = str(getattr(client, "status", "running"))
        if status != "running":  # the scheduler held the blocks in flight: they are lost
            return f"lost the Dask scheduler at {address} (client {status})"
        try:
            workers = client.scheduler_info().get("workers", {})
        except Exception:
            workers = {}
        if any(w.get("nthreads", 0) for w in workers.values()):
            seen[0] = time.monotonic()
            return None
        if time.monotonic() - seen[0] > timeout:
            return f"no Dask worker for {timeout:g} s at {address} (all lost)"
        return None

    return health


def held_trials(folder: Path, experiment) -> Held:
    """The trials of an ltsim run folder to extend, after checking that it is the same
    experiment (the resolved configs may differ in ``trials`` only), drawn from the same
    random streams, from the same input files (their SHA-256), and that every row of its
    ``latencies.csv`` is one a run writes (:func:`simulator.io.results.read_latencies`)."""
    from ..io.report import CorruptResults, read_config, read_meta
    from ..montecarlo.streams import STREAM, stream_of

    try:
        old = read_config(folder)
        meta = read_meta(folder)
    except CorruptResults as exc:
        raise BadInput(f"--extend: {exc}, got '{folder}'") from None
    new = experiment.resolved()
    if not old:
        raise BadInput(f"--extend: {folder}/config.yaml is missing, got '{folder}'")
    differ = sorted(k for k in set(old) | set(new)
                    if k != "trials" and old.get(k) != new.get(k))
    if differ:
        raise BadInput(f"--extend: the folder's resolved config differs from the config given "
                       f"in {', '.join(differ)} (only trials may change), got '{folder}'")
    stream = stream_of(meta)
    if stream != STREAM:
        which = (f"random stream {stream} (an older ltsim)" if stream is not None else
                 "an unknown random stream (meta.json records none)")
        raise BadInput(f"--extend: the folder was drawn from {which} and this ltsim draws "
                       f"stream {STREAM}: the trials would mix two streams; rerun it with "
                       f"--force, got '{folder}'")
    changed = changed_inputs(meta, experiment)
    if changed:
        raise BadInput(f"--extend: {changed}; the trials would mix two laws (rerun with "
                       f"--force), got '{folder}'")
    try:
        n, outcomes = results.read_latencies(folder, [s.scheme_id for s in experiment.schemes])
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"--extend: {folder}/latencies.csv cannot be extended ({exc}), got "
                       f"'{folder}'") from None
    if n != meta.get("trials"):
        raise BadInput(f"--extend: {folder}/latencies.csv holds {n} trials and meta.json "
                       f"{meta.get('trials')} (truncated?), got '{folder}'")
    return Held(n, outcomes)


def changed_inputs(meta: dict, experiment) -> str | None:
    """How the input files of ``experiment`` differ from those a result folder's
    ``meta.json`` recorded (their SHA-256), or ``None`` if they are the same."""
    recorded = meta.get("input_files") or {}
    try:
        now = provenance.input_files(experiment)
    except OSError as exc:
        return f"an input file cannot be read ({exc.strerror or exc})"
    for path in sorted(set(recorded) | set(now)):
        if path not in recorded:
            return f"{path}: the folder recorded no SHA-256 of it"
        if path not in now:
            return f"{path}: the folder read it and the config does not"
        if recorded[path] != now[path]:
            return (f"{path} changed since the folder was written (SHA-256 "
                    f"{str(recorded[path])[:12]}... then, {now[path][:12]}... now)")
    return None


def simulate_into(experiment, target: Path, where: Engine, target_rel_ci, max_time,
                  quiet: bool, held: Held | None = None, option: str = "-o",
                  config_file=None, extend: bool = False) -> Written | None:
    """Simulate ``experiment`` into the result folder ``target`` (staged, locked, published
    atomically; see :mod:`simulator.io.folders`), resuming from the ``held`` trials.

    Returns the folder written: its status ``complete`` or ``interrupted`` (Ctrl-C,
    SIGTERM, or a failure: ``error`` says why, the trials done are published); ``None``
    when interrupted before any trial (nothing written). A run that fails before any new
    trial, or whose folder cannot be written, raises :class:`Failure` (what was computed is
    kept and named).
    """
    held = held or Held()
    try:
        with folders.Staging(target, option) as stage:
            return _run_into(experiment, target, stage, where, target_rel_ci, max_time,
                             quiet, held, config_file, extend)
    except folders.TargetError as exc:
        raise BadInput(str(exc)) from None


def _run_into(experiment, target, stage, where: Engine, target_rel_ci, max_time, quiet,
              held: Held, config_file, extend) -> Written | None:
    started = provenance.now()
    ids = [s.scheme_id for s in experiment.schemes]
    writer = results.LatencyWriter(stage.path, ids)
    if held.trials:
        writer.append(0, held.outcomes)
    initial = ([engine.Moments.of(o.latency) for o in held.outcomes] if held.trials else None)
    rule = engine.StopRule(experiment.trials, target_rel_ci, max_time)
    batch = trials.batch_size(experiment)
    simulate = functools.partial(trials.simulate_block, experiment,
                                 results.RowFormatter(ids))

    def keep(start, stop, block):
        writer.append_rows(block.rows, block.outcomes)

    with interrupts() as guard:
        with _progress(experiment.trials, quiet, held.trials) as update:
            try:
                outcome = engine.run(simulate, len(experiment.schemes), rule, batch,
                                     where.jobs, update, first=held.trials, initial=initial,
                                     on_block=keep, executor=where.executor,
                                     slots=where.slots, health=where.health)
            except OSError as exc:
                kept = stage.keep()
                raise Failure(f"writing {stage.path} failed during the run "
                              f"({exc.strerror or exc}); the trials written so far are kept "
                              f"in {kept}") from None
        with guard.hold():  # a second Ctrl-C must not stop the writing of the first's result
            return _publish(experiment, target, stage, where, target_rel_ci, max_time, held,
                            config_file, extend, started, writer, outcome, batch, guard)


def _publish(experiment, target, stage, where, target_rel_ci, max_time, held, config_file,
             extend, started, writer, outcome, batch, guard) -> Written | None:
    """Write the tables of a run that stopped, and publish its folder."""
    new = outcome.trials - held.trials
    if new <= 0:
        stage.discard()
        if outcome.stop_reason == "failed":
            raise Failure(f"run failed: {outcome.error}; no trial finished, nothing written")
        print(f"ltsim: interrupted before any trial finished; nothing written to {target}",
              file=sys.stderr)
        return None
    failed = outcome.stop_reason in ("interrupted", "failed")
    status = "interrupted" if failed else "complete"
    run = engine.RunResult(
        [Outcome.concat([h, o]) for h, o in zip(held.outcomes, outcome.outcomes, strict=True)]
        if held.trials else outcome.outcomes, outcome.trials, outcome.stop_reason,
        outcome.wall_seconds, outcome.error)
    meta = provenance.meta(
        status=status, config_file=config_file, seed=experiment.seed,
        trials=run.trials, trials_requested=experiment.trials,
        stop_reason=run.stop_reason, error=run.error, target_rel_ci=target_rel_ci,
        max_time=max_time, engine=where.name, jobs=where.jobs, batch_size=batch,
        started=started, wall_seconds=round(run.wall_seconds, 6),
        extended_from=held.trials if extend else None, stream=STREAM,
        input_files=provenance.input_files(experiment))
    try:
        frames = results.result_frames(experiment, run)
        writer.finish()
        results.write_tables(stage.path, frames, experiment.resolved(), meta)
        stage.publish()
    except OSError as exc:
        kept = stage.keep()
        if run.error is not None:
            return Written(status, run.trials, None, target, error=run.error, kept=kept)
        raise Failure(f"writing {target} failed ({exc.strerror or exc}); the "
                      f"{run.trials} trials computed are kept in {kept}") from None
    late = guard.interrupted and outcome.stop_reason != "interrupted"
    return Written(status, run.trials, frames["summary.csv"], target, late, run.error)


def load_experiment(path: Path, trials_: int | None = None, seed: int | None = None,
                    sets=()):
    """Read, override (``--trials``, ``--seed``, ``--set``) and validate a run config."""
    try:
        return config.load(path, "run", {"trials": trials_, "seed": seed}, tuple(sets))
    except ConfigError as exc:
        raise BadInput(f"{path}: {exc}") from None


def dry_run(experiment, jobs: int, target: Path | None = None) -> int:
    """Print the resolved config and the estimated memory, disk and time of the run (the
    time from a pilot of a few trials, unless the run would be refused)."""
    import yaml

    from ..montecarlo import footprint

    print(yaml.safe_dump(experiment.resolved(), sort_keys=False).rstrip())
    need = footprint.footprint(experiment, jobs)
    have = available_memory()
    size = footprint.human
    print(f"# memory: about {size(need.per_process)} per process x {need.processes} "
          f"process(es) ({size(need.worker)} of it each one's own) and {size(need.parent)} "
          f"in the parent for {experiment.trials} trials of {len(experiment.schemes)} "
          f"scheme(s): about {size(need.memory)} in all"
          + (f" ({have / 2**30:.1f} GiB available)" if have else ""))
    target = target if target is not None else Path("results") / experiment.name
    where = footprint.free_disk(target)
    print(f"# disk: about {size(need.folder)} for the result folder, {size(need.disk)} at "
          f"the peak (while latencies.csv is joined from its parts)"
          + (f" ({where[1] / 2**30:.1f} GiB free in {where[0]})" if where else ""))
    problem = memory_problem(experiment, jobs, target)
    if problem:
        print(f"# the run would be refused: {problem}")
        return 0
    pilot = max(1, min(experiment.trials, trials.batch_size(experiment), 8))
    trials.simulate_trials(experiment, 0, 1)  # compile and warm up
    start = time.perf_counter()
    trials.simulate_trials(experiment, 0, pilot)
    per_trial = (time.perf_counter() - start) / pilot
    estimate = per_trial * experiment.trials / max(1, min(jobs, experiment.trials))
    print(f"# time: about {estimate:.3g} s for {experiment.trials} trials on {jobs} "
          f"process(es) ({per_trial * 1e3:.3g} ms per trial, from a {pilot}-trial pilot)")
    return 0


@contextlib.contextmanager
def _progress(total: int, quiet: bool, done: int = 0):
    from tqdm import tqdm

    bar = tqdm(total=total, initial=done, unit="trial", file=sys.stderr,
               disable=quiet or not sys.stderr.isatty())
    last = [done]

    def update(done: int) -> None:
        bar.update(done - last[0])
        last[0] = done

    try:
        yield update
    finally:
        bar.close()
