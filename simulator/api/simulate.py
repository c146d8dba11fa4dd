"""``simulate``: an experiment's Monte Carlo, in memory or into a result folder.

In memory, the trials' outcomes stay in this process and a :class:`~ltsim.api.results.Results`
holds them. Into a folder (``out=``), the rows of ``latencies.csv`` are written while the run
goes on, into a locked staging folder published atomically at the end (see
:mod:`ltsim.io.folders`); Ctrl-C, SIGTERM or a lost cluster publish the trials done as an
``"interrupted"`` folder that ``extend=True`` resumes. Either way the numbers are the same
bytes: they depend on the seed and the trial indices only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io import folders, provenance, results
from ..model.outcome import Outcome
from ..montecarlo import engine, trials
from ..montecarlo.streams import STREAM
from .errors import BadInput, Failure
from .executors import Where, where_to_run
from .experiment import as_experiment
from .extend import Held, held_trials
from .reporter import Reporter
from .results import Results
from .signals import interrupts


def simulate(experiment, *, trials: int | None = None, seed: int | None = None,
             jobs: int | None = None, executor: Any = None,
             target_rel_ci: float | None = None, max_time: float | None = None,
             progress: bool = True, out: str | Path | None = None, force: bool = False,
             extend: bool = False, reporter: Reporter | None = None,
             write_jobs: bool = False) -> Results:
    """Simulate an experiment.

    Parameters
    ----------
    experiment : Experiment, path or mapping
        What to simulate (a YAML path or a config mapping is read as ``ltsim run`` reads it).
    trials, seed : int, optional
        Replace the experiment's (``trials`` is a maximum with ``target_rel_ci``).
    jobs : int, optional
        Local processes (default: every core); the numbers do not depend on it.
    executor : None, str, Executor or distributed.Client
        Where the blocks of trials run instead (see :func:`~ltsim.api.executors.where_to_run`):
        a Dask scheduler address or client, or any ``concurrent.futures.Executor``.
    target_rel_ci : float, optional
        Stop once every scheme's 95 % confidence half-width is below this fraction of its
        mean.
    max_time : float, optional
        Stop after this many seconds.
    progress : bool
        Show a progress bar (a widget in a notebook).
    out : path, optional
        Write the result folder there, as ``ltsim run -o`` does (progressively, atomically).
    force : bool
        Replace an existing folder ``out`` that ltsim wrote.
    extend : bool
        Add trials to the folder ``out`` (complete or interrupted): the bytes of a run done in
        one go.
    reporter : Reporter, optional
        Where progress and notes go (default: a progress bar only).
    write_jobs : bool
        For a queueing run into a folder: also write ``jobs.csv`` (every kept job).

    Returns
    -------
    Results
        Its ``status`` is ``"complete"`` or ``"interrupted"`` (Ctrl-C, or a failure: then
        ``error`` says why, and the trials done are kept).

    Raises
    ------
    ConfigError
        The experiment (with ``trials``/``seed``) is not valid.
    BadInput
        ``out`` cannot be written, the run would not fit in memory or on disk, the folder
        to extend is not this experiment's.
    Failure
        The run failed before any trial finished, or its folder could not be written (what
        was computed is kept and named).
    """
    given = {"trials": trials, "seed": seed}
    experiment = as_experiment(experiment).replace(
        **{k: v for k, v in given.items() if v is not None})
    reporter = reporter or Reporter(progress)
    call = provenance.call_text("simulate", experiment, trials=trials, seed=seed, jobs=jobs,
                                executor=executor, target_rel_ci=target_rel_ci,
                                max_time=max_time, out=out, force=force, extend=extend)
    with provenance.python_call(call), interrupts(), where_to_run(executor, jobs) as where:
        if out is None:
            if extend or force:
                raise BadInput("out: extend and force need a result folder, got None")
            return simulate_experiment(experiment, where, target_rel_ci, max_time, reporter)
        from .budget import memory_problem

        target = Path(out)
        problem = memory_problem(experiment.config, where.jobs, target)
        if problem:
            raise BadInput(problem)
        option = "--extend" if extend else "-o"
        try:
            folders.check_target(target, force, extend, option)
        except folders.TargetError as exc:
            raise BadInput(str(exc)) from None
        held = held_trials(target, experiment.config) if extend else Held()
        if extend and held.done(experiment.config, target_rel_ci):
            reporter.note(f"{target} already holds {held.trials} trials, enough for "
                          f"{held.enough}; nothing to do")
            return Results.load(target, experiment, computed=0)
        written = simulate_into(experiment.config, target, where, target_rel_ci, max_time,
                                reporter, held, option, extend=extend,
                                write_jobs=write_jobs or held.jobs)
        if written is None:
            return Results.empty(experiment)
        return written.results(experiment)


def simulate_experiment(experiment, where: Where, target_rel_ci, max_time,
                        reporter: Reporter) -> Results:
    """Simulate without a folder, on ``where``: the outcomes stay in this process."""
    from .budget import memory_problem

    cfg = experiment.config
    problem = memory_problem(cfg, where.jobs, None, memory_only=True)
    if problem:
        raise BadInput(problem)
    started = provenance.now()
    rule = engine.StopRule(cfg.trials, target_rel_ci, max_time)
    batch = trials.batch_size(cfg)
    with reporter.progress(cfg.trials) as update:
        run = engine.run(functools.partial(trials.simulate_trials, cfg), len(cfg.schemes),
                         rule, batch, where.jobs, update, executor=where.executor,
                         slots=where.slots, health=where.health)
    if run.trials == 0:
        if run.stop_reason == "failed":
            raise Failure(f"run failed: {run.error}; no trial finished")
        return Results.empty(experiment)
    meta = run_meta(cfg, run, where, batch, started, target_rel_ci, max_time)
    return Results(experiment, results.result_frames(cfg, run), meta, run.outcomes)


def failure_line(run, target: Path, sweep: bool = False) -> str:
    """The one line of a run that failed with trials done (``run``: its :class:`Written` or
    :class:`Results`): why, where the trials are, and the command that resumes them."""
    if run.kept is not None:
        return (f"run failed: {run.error}; the {run.trials} trials computed are kept in "
                f"{run.kept}")
    return (f"run failed: {run.error}; the {run.trials} trials done are in "
            f"{run.folder or target} (status interrupted): "
            f"`{provenance.resume_command(target, flag_takes_folder=not sweep)}` resumes it")


def run_meta(cfg, run, where: Where, batch: int, started: str, target_rel_ci, max_time,
             extended_from: int | None = None, config_file=None) -> dict:
    """The ``meta.json`` of a run that stopped."""
    status = "interrupted" if run.stop_reason in ("interrupted", "failed") else "complete"
    return provenance.meta(
        status=status, config_file=config_file, seed=cfg.seed,
        trials=run.trials, trials_requested=cfg.trials,
        stop_reason=run.stop_reason, error=run.error, target_rel_ci=target_rel_ci,
        max_time=max_time, engine=where.name, jobs=where.jobs, batch_size=batch,
        started=started, wall_seconds=round(run.wall_seconds, 6),
        extended_from=extended_from, stream=STREAM,
        input_files=provenance.input_files(cfg))


@dataclass
class Written:
    """A result folder written by :func:`simulate_into`."""

    status: str
    trials: int
    frames: Any
    """The tables but ``latencies.csv``, by file name (``None`` if not written)."""
    folder: Path
    late_interrupt: bool = False
    """Ctrl-C or SIGTERM came while the complete folder was being written."""
    error: str | None = None
    """Why the run failed (its trials done are in ``folder``, ``"interrupted"``)."""
    kept: Path | None = None
    """Where the trials are when the folder could not be written."""
    run: Any = None
    """The :class:`~ltsim.montecarlo.engine.RunResult` of every trial held."""
    computed: int = 0
    """Trials this run computed (beyond those held)."""
    meta: dict | None = None

    def results(self, experiment) -> Results:
        """The :class:`Results` of the folder written."""
        return Results(experiment, self.frames, self.meta, self.run.outcomes, self.folder,
                       late_interrupt=self.late_interrupt, kept=self.kept,
                       computed=self.computed)


def simulate_into(experiment, target: Path, where: Where, target_rel_ci, max_time,
                  reporter: Reporter, held: Held | None = None, option: str = "-o",
                  config_file=None, extend: bool = False, write_jobs: bool = False
                  ) -> Written | None:
    """Simulate ``experiment`` into the result folder ``target`` (staged, locked, published
    atomically; see :mod:`ltsim.io.folders`), resuming from the ``held`` trials.

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
                             reporter, held, config_file, extend, write_jobs)
    except folders.TargetError as exc:
        raise BadInput(str(exc)) from None


def _run_into(experiment, target, stage, where: Where, target_rel_ci, max_time, reporter,
              held: Held, config_file, extend, write_jobs) -> Written | None:
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
        with reporter.progress(experiment.trials, held.trials) as update:
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
                            config_file, extend, started, writer, outcome, batch, guard,
                            reporter, write_jobs)


def _publish(experiment, target, stage, where, target_rel_ci, max_time, held, config_file,
             extend, started, writer, outcome, batch, guard, reporter, write_jobs
             ) -> Written | None:
    """Write the tables of a run that stopped, and publish its folder."""
    new = outcome.trials - held.trials
    if new <= 0:
        stage.discard()
        if outcome.stop_reason == "failed":
            raise Failure(f"run failed: {outcome.error}; no trial finished, nothing written")
        reporter.note(f"ltsim: interrupted before any trial finished; nothing written to "
                      f"{target}")
        return None
    failed = outcome.stop_reason in ("interrupted", "failed")
    status = "interrupted" if failed else "complete"
    run = engine.RunResult(
        [Outcome.concat([h, o]) for h, o in zip(held.outcomes, outcome.outcomes, strict=True)]
        if held.trials else outcome.outcomes, outcome.trials, outcome.stop_reason,
        outcome.wall_seconds, outcome.error)
    meta = run_meta(experiment, run, where, batch, started, target_rel_ci, max_time,
                    held.trials if extend else None, config_file)
    try:
        frames = results.result_frames(experiment, run, write_jobs)
        writer.finish()
        results.write_tables(stage.path, frames, experiment.resolved(), meta)
        stage.publish()
    except OSError as exc:
        kept = stage.keep()
        if run.error is not None:
            return Written(status, run.trials, None, target, error=run.error, kept=kept,
                           run=run, meta=meta, computed=new)
        raise Failure(f"writing {target} failed ({exc.strerror or exc}); the "
                      f"{run.trials} trials computed are kept in {kept}") from None
    late = guard.interrupted and outcome.stop_reason != "interrupted"
    return Written(status, run.trials, frames, target, late, run.error, run=run, meta=meta,
                   computed=new)


