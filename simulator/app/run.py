"""``ltsim run``: config -> Monte Carlo -> result folder, with clean failure on bad input."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io import config, folders, provenance, results
from ..io.report import format_summary
from ..model.outcome import Outcome
from ..montecarlo import engine, trials
from ..util.validation import ConfigError
from .errors import BadInput, Failure
from .scheduler import check_address
from .signals import sigterm_as_interrupt


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
    physical memory the OS reports, else ``None``."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def memory_problem(experiment, jobs: int) -> str | None:
    """Why the experiment cannot fit in memory with ``jobs`` processes, or ``None``.

    Each process holds one batch at a time, so the need is the per-process estimate times
    the processes that can run at once.
    """
    need, have = trials.memory_estimate(experiment), available_memory()
    batches = -(-experiment.trials // trials.batch_size(experiment))
    processes = max(1, min(jobs, batches))
    if have is None or need * processes <= have:
        return None
    return (f"m: the run needs about {need / 2**30:.1f} GiB per process x {processes} "
            f"process(es) and {have / 2**30:.1f} GiB is available; reduce m (or workers) "
            f"or --jobs, got {experiment.m}")


@dataclass
class Held:
    """Trials an extended folder already holds."""

    trials: int = 0
    outcomes: list | None = None


@dataclass(frozen=True)
class Engine:
    """Where the blocks of trials run: ``jobs`` local processes, or a Dask cluster's
    executor (``slots`` blocks in flight)."""

    jobs: int = 1
    executor: Any = None
    slots: int | None = None
    name: str = "processes"


@dataclass
class Written:
    """A result folder written by :func:`simulate_into`."""

    status: str
    trials: int
    summary: Any
    folder: Path
    late_interrupt: bool = False
    """Ctrl-C or SIGTERM came while the complete folder was being written."""


def execute_run(request: RunRequest) -> int:
    """Carry out ``ltsim run``; raise :class:`BadInput` for usage and config errors.

    Returns
    -------
    int
        The exit code: 0, 1 if the results could not be written (what was computed is
        kept in the staging folder, named on stderr), or 130 if the run was interrupted.
    """
    experiment = load_experiment(request.config_path, request.trials, request.seed,
                                 request.sets)
    jobs = request.jobs or engine.default_jobs()
    if request.dry_run:
        return dry_run(experiment, jobs)
    problem = memory_problem(experiment, jobs)
    if problem:
        raise BadInput(f"{request.config_path}: {problem}")
    extend = request.extend is not None
    target = request.extend or request.output or Path("results") / experiment.name
    option = "--extend" if extend else "-o"
    try:
        folders.check_target(target, request.force, extend, option)
    except folders.TargetError as exc:
        raise BadInput(str(exc)) from None
    held = held_trials(target, experiment) if extend else Held()
    if extend and held.trials >= experiment.trials:
        print(f"{target} already holds {held.trials} trials (>= {experiment.trials}); "
              "nothing to do", file=sys.stderr)
        return 0
    with dask_engine(request.address, jobs) as where:
        written = simulate_into(experiment, target, where, request.target_rel_ci,
                                request.max_time, request.quiet, held, option,
                                config_file=request.config_path, extend=extend)
    if written is None:
        return 130
    if not request.quiet:
        print(format_summary(written.summary))
    note = f" (interrupted after {written.trials} trials)" if written.status != "complete" \
        else ""
    print(f"results in {target}{note}", file=sys.stderr)
    return 130 if written.status != "complete" or written.late_interrupt else 0


@contextlib.contextmanager
def dask_engine(address: str | None, jobs: int):
    """The :class:`Engine` of a run: ``jobs`` processes, or, with ``address``, the executor
    of a Dask cluster (``tcp://host:8786``) with two blocks in flight per thread."""
    if address is None:
        yield Engine(jobs)
        return
    check_address(address, "dask")
    try:
        from distributed import Client
    except ImportError as exc:
        raise BadInput(f"--address: dask is not installed ({exc}); install ltsim[dask], got "
                       f"{address!r}") from None
    try:
        client = Client(address, timeout=10)
    except Exception as exc:
        gist = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise BadInput(f"--address: cannot reach the scheduler ({gist}), got {address!r}"
                       ) from None
    try:
        threads = max(1, sum(client.nthreads().values()))
        yield Engine(threads, client.get_executor(pure=False), 2 * threads, "dask")
    finally:
        with contextlib.suppress(Exception):
            client.close()


def held_trials(folder: Path, experiment) -> Held:
    """The trials of an ltsim run folder to extend, after checking it is the same
    experiment (the resolved configs may differ in ``trials`` only)."""
    import yaml

    try:
        old = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BadInput(f"--extend: cannot read {folder}/config.yaml ({exc}), got "
                       f"'{folder}'") from None
    new = experiment.resolved()
    if not isinstance(old, dict):
        raise BadInput(f"--extend: {folder}/config.yaml is not a run config, got '{folder}'")
    differ = sorted(k for k in set(old) | set(new)
                    if k != "trials" and old.get(k) != new.get(k))
    if differ:
        raise BadInput(f"--extend: the folder's resolved config differs from the config given "
                       f"in {', '.join(differ)} (only trials may change), got '{folder}'")
    try:
        n, outcomes = results.read_latencies(folder, [s.scheme_id for s in experiment.schemes])
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"--extend: {folder}/latencies.csv cannot be extended ({exc}), got "
                       f"'{folder}'") from None
    return Held(n, outcomes)


def simulate_into(experiment, target: Path, where: Engine, target_rel_ci, max_time,
                  quiet: bool, held: Held | None = None, option: str = "-o",
                  config_file=None, extend: bool = False) -> Written | None:
    """Simulate ``experiment`` into the result folder ``target`` (staged, locked, published
    atomically; see :mod:`simulator.io.folders`), resuming from the ``held`` trials.

    Returns the folder written (its status ``complete`` or ``interrupted``), or ``None``
    when interrupted before any trial (nothing written). Raises :class:`Failure` when the
    folder cannot be written (what was computed is kept and named).
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

    with _progress(experiment.trials, quiet, held.trials) as update, sigterm_as_interrupt():
        try:
            outcome = engine.run(simulate, len(experiment.schemes), rule, batch, where.jobs,
                                 update, first=held.trials, initial=initial, on_block=keep,
                                 executor=where.executor, slots=where.slots)
        except OSError as exc:
            raise Failure(f"writing {stage.path} failed during the run ({exc.strerror or exc});"
                          " the trials written so far are kept there") from None
        except Exception as exc:  # a bug or a resource failure: say so in one line, exit 1
            raise Failure(f"run failed: {exc.__class__.__name__}: {exc}") from None
    status = "interrupted" if outcome.stop_reason == "interrupted" else "complete"
    if outcome.trials == 0:
        stage.discard()
        print(f"ltsim: interrupted before any trial finished; nothing written to {target}",
              file=sys.stderr)
        return None
    run = engine.RunResult(
        [Outcome.concat([h, o]) for h, o in zip(held.outcomes, outcome.outcomes, strict=True)]
        if held.trials else outcome.outcomes, outcome.trials, outcome.stop_reason,
        outcome.wall_seconds)
    meta = provenance.meta(
        status=status, config_file=config_file, seed=experiment.seed,
        trials=run.trials, trials_requested=experiment.trials,
        stop_reason=run.stop_reason, target_rel_ci=target_rel_ci,
        max_time=max_time, engine=where.name, jobs=where.jobs, batch_size=batch,
        started=started, wall_seconds=round(run.wall_seconds, 6),
        extended_from=held.trials if extend else None,
        input_files=provenance.input_files(experiment.delay))
    frames = results.result_frames(experiment, run)
    with _deferred_interrupts() as deferred:
        try:
            writer.finish()
            results.write_tables(stage.path, frames, experiment.resolved(), meta)
            stage.publish()
        except OSError as exc:
            raise Failure(f"writing {target} failed ({exc.strerror or exc}); the "
                          f"{run.trials} trials computed are kept in {stage.path}") from None
    return Written(status, run.trials, frames["summary.csv"], target, deferred.hit)


def load_experiment(path: Path, trials_: int | None = None, seed: int | None = None,
                    sets=()):
    """Read, override (``--trials``, ``--seed``, ``--set``) and validate a run config."""
    try:
        return config.load(path, "run", {"trials": trials_, "seed": seed}, tuple(sets))
    except ConfigError as exc:
        raise BadInput(f"{path}: {exc}") from None


def dry_run(experiment, jobs: int) -> int:
    """Print the resolved config and the estimated memory and time of the run."""
    import yaml

    print(yaml.safe_dump(experiment.resolved(), sort_keys=False).rstrip())
    memory = trials.memory_estimate(experiment)
    have = available_memory()
    print(f"# memory: about {memory / 2**20:.0f} MiB per process"
          + (f" ({have / 2**30:.1f} GiB available)" if have else ""))
    problem = memory_problem(experiment, jobs)
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


class _Deferred:
    hit = False


@contextlib.contextmanager
def _deferred_interrupts():
    """Let the result folder be written completely even if Ctrl-C arrives meanwhile."""
    state = _Deferred()

    def handler(signum, frame):
        state.hit = True

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


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
