"""``ltsim sweep``: run every point of a design space, resumably, and tabulate them.

A sweep folder holds ``sweep.yaml`` (the resolved sweep), ``meta.json``, ``points/<slug>/``
(each point's result folder, as ``ltsim run`` writes it) and ``points.csv`` (one row per
point and scheme: the varied values, then every ``summary.csv`` column, then a
distribution-free 95 % confidence interval of p99). Points are run one after the other,
each on the engine of the command (local processes or a Dask cluster). A point whose folder
is complete is never run again: an interrupted sweep, or one extended with new values
(``--extend``), computes only what is missing.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..io import folders, provenance, results
from ..io.report import CorruptResults, read_config, read_meta, read_summary, read_sweep_yaml
from ..io.sweep import MAX_POINTS, Sweep, load_sweep, sweep_of
from ..montecarlo import engine, trials
from ..montecarlo.streams import STREAM
from ..util.validation import ConfigError
from .errors import BadInput, Failure, Problem
from .executors import shared_pool, where_to_run
from .reporter import SILENT, Reporter
from .results import Results, SweepResults
from .signals import interrupts


def sweep(spec, *, out: str | Path | None = None, trials: int | None = None,
          seed: int | None = None, jobs: int | None = None, executor: Any = None,
          force: bool = False, extend: bool = False, progress: bool = True,
          reporter: Reporter | None = None, max_points: int | None = MAX_POINTS
          ) -> SweepResults:
    """Run every point of a design space.

    Parameters
    ----------
    spec : path or mapping
        A sweep file, or its mapping: ``{"base": Experiment | mapping | path, "grid":
        {key: values}, "zip": {...}, "trials": ..., "seed": ...}`` (docs/sweeps.md).
    out : path, optional
        The sweep folder (as ``ltsim sweep -o``); ``None`` keeps every point in memory.
    trials, seed : int, optional
        Replace the sweep's trials per point and its seed.
    jobs, executor
        Where the trials run, as for :func:`~ltsim.api.simulate.simulate`.
    force, extend : bool
        Replace the folder ``out`` (and lift ``max_points``), or add to it what it lacks.
    progress : bool
        Show a progress bar over the points.
    reporter : Reporter, optional
        Where progress and notes go.
    max_points : int or None
        Refuse a sweep of more points (see :data:`~ltsim.io.sweep.MAX_POINTS`).

    Returns
    -------
    SweepResults
        Its ``status`` is ``complete`` or ``interrupted``; a failed point raises
        :class:`Failure` after the folder's ``meta.json`` is written.
    """
    reporter = reporter or Reporter(progress)
    plan = read_spec(spec, trials, seed, None if force else max_points)
    call = provenance.call_text("sweep", plan, out=out, trials=trials, seed=seed, jobs=jobs,
                                executor=executor, force=force, extend=extend)
    with provenance.python_call(call), interrupts() as guard:
        if out is None:
            if extend or force:
                raise BadInput("out: extend and force need a sweep folder, got None")
            return _in_memory(plan, jobs, executor, reporter)
        return _into_folder(plan, Path(out), jobs, executor, force, extend, reporter, guard)


def read_spec(spec, trials=None, seed=None, max_points=MAX_POINTS) -> Sweep:
    """The validated :class:`~ltsim.io.sweep.Sweep` of a sweep file or mapping."""
    from .experiment import Experiment, plain

    if isinstance(spec, Sweep):
        return spec
    if isinstance(spec, (str, Path)):
        return load_sweep(Path(spec), trials, seed, max_points)
    if not isinstance(spec, dict):
        raise ConfigError(f"sweep: must be a sweep file or a mapping, got "
                          f"{type(spec).__name__}")
    data, folder = dict(spec), Path(".")
    base = data.get("base")
    if isinstance(base, Experiment):
        data["base"] = base.to_dict(resolved=False)
        folder = base.base_dir or folder
    return sweep_of(plain(data), folder, str(data.get("name", "sweep")), trials, seed,
                    max_points)


def _in_memory(plan: Sweep, jobs, executor, reporter: Reporter) -> SweepResults:
    """Every point simulated in this process's memory."""
    from .experiment import Experiment
    from .simulate import simulate_experiment

    done: dict[str, Results] = {}
    status = "complete"
    started = provenance.now()
    with where_to_run(executor, jobs) as where, shared_pool(where) as where, \
            reporter.progress(len(plan.points), unit="point") as update:
        for i, point in enumerate(plan.points):
            experiment = Experiment.from_dict(point.config.resolved())
            result = simulate_experiment(experiment, where, plan.target_rel_ci,
                                         plan.max_time, SILENT)
            if result.error is not None:
                raise Failure(f"point {point.slug}: run failed: {result.error}")
            if result.trials:
                done[point.slug] = result
            update(i + 1)
            if result.status != "complete":
                status = "interrupted"
                break
    table = points_frame(plan, {slug: (r.summary, _latency_arrays(r))
                                for slug, r in done.items()})
    meta = _meta_of(plan, status, started, points_done=len(done), engine=where.name,
                    jobs=where.jobs)
    return SweepResults(table, meta, plan.resolved, plan.keys, done)


def _latency_arrays(result: Results) -> dict[str, Any]:
    ids = list(result.summary["scheme"].astype(str))
    return {sid: o.latency for sid, o in zip(ids, result.outcomes, strict=True)}


def _into_folder(plan: Sweep, target: Path, jobs, executor, force: bool, extend: bool,
                 reporter: Reporter, guard) -> SweepResults:
    """The sweep into its folder: locked for the whole run, resumable.

    The sweep folder is locked for the whole run (a second sweep, or a run, writing it is
    refused before anything is touched). Whatever ends the sweep (its last point, Ctrl-C,
    SIGTERM, a failure), ``points.csv`` and a final ``meta.json`` are written: its status
    never stays ``"running"`` once the process has ended (but for SIGKILL, which ``ltsim
    show`` recognises from the process id it records).
    """
    from .budget import memory_problem

    target = folders.real_target(target)
    jobs = jobs or engine.default_jobs()
    for point in plan.points:
        problem = memory_problem(point.config, jobs, target)
        if problem:
            raise BadInput(f"point {point.slug}: {problem}")
    problem = disk_problem(plan, target)
    if problem:
        raise BadInput(problem)
    try:
        folders.check_target(target, force and not extend, extend)
        lock = folders.Lock(target)
        lock.__enter__()
    except folders.TargetError as exc:
        raise BadInput(str(exc)) from None
    try:
        if extend:
            _check_same_sweep(target, plan)
            _check_points(target, plan)
        with where_to_run(executor, jobs) as where, shared_pool(where) as where:
            if not extend and target.exists():  # --force on an ltsim folder
                folders.replace_with_empty(target)
            target.mkdir(parents=True, exist_ok=True)
            _write_yaml(target / "sweep.yaml", plan.resolved)
            started, clock = provenance.now(), time.perf_counter()
            _write_json(_meta_of(plan, "running", started, pid=os.getpid()),
                        target / "meta.json")
            state = _Progress()
            try:
                _run_points(plan, target, where, state, reporter)
            except KeyboardInterrupt:
                state.status = "interrupted"
            except Problem as exc:  # a point could not run or be written
                state.status, state.error = "failed", str(exc)
            except Exception as exc:  # a bug: the sweep still ends with its meta.json
                state.status = "failed"
                state.error = f"internal error ({type(exc).__name__}: {exc})"
            with guard.hold():
                table, meta = _finish(plan, target, where, state, started, clock)
    finally:
        lock.__exit__(None, None, None)
    if state.error is not None:
        raise Failure(state.error)
    if extend and state.computed == 0 and state.status == "complete":
        reporter.note(f"{target} already holds every point; nothing to do")
    status = state.status if not guard.interrupted else "interrupted"
    return SweepResults(table, {**meta, "status": status}, plan.resolved, plan.keys,
                        folder=target, points_done=len(state.done))


@dataclass
class _Progress:
    """How far a sweep got."""

    status: str = "complete"
    error: str | None = None
    done: list = field(default_factory=list)
    computed: int = 0
    """Points run (or resumed) by this sweep."""


def _meta_of(plan: Sweep, status: str, started: str, **fields):
    return provenance.meta(status=status, config_file=plan.source,
                           seed=plan.seed, trials=plan.trials, trials_requested=plan.trials,
                           points=len(plan.points), started=started, stream=STREAM,
                           **fields)


def _run_points(plan: Sweep, target: Path, where, state: _Progress,
                reporter: Reporter) -> None:
    """Run every point not complete yet, in order; stop at the first interrupted one."""
    from .extend import Held, held_trials
    from .simulate import failure_line, simulate_into

    for i, point in enumerate(plan.points):
        folder = target / "points" / point.slug
        why = _incomplete(folder, point.config, plan.target_rel_ci)
        if why is None:
            state.done.append(point)
            continue
        shown = ", ".join(f"{k}={v!r}" for k, v in point.values.items())
        if folder.exists() and why != "interrupted":
            reporter.note(f"point {point.slug}: {why}; recomputing it")
        reporter.detail(f"point {i + 1}/{len(plan.points)}: {shown}")
        held, resume = Held(), False
        if folder.exists() and not folders.written_by_ltsim(folder):
            raise Failure(f"point {point.slug}: {folder} holds no result of ltsim's "
                          "(unreadable meta.json); move it away and resume")
        if why == "interrupted":  # resumed; anything else is recomputed from its first trial
            try:
                held, resume = held_trials(folder, point.config), True
            except BadInput as exc:
                reporter.note(f"point {point.slug}: {exc}; recomputing it")
        try:
            written = simulate_into(point.config, folder, where, plan.target_rel_ci,
                                    plan.max_time, SILENT, held,
                                    "--extend" if resume else "-o",
                                    config_file=plan.source, extend=resume)
        except Problem as exc:  # e.g. the point's folder locked by another process
            raise Failure(f"point {point.slug}: {exc}") from None
        state.computed += 1
        if written is None:
            state.status = "interrupted"
            return
        if written.error is not None:
            state.status = "failed"
            state.error = f"point {point.slug}: {failure_line(written, target, sweep=True)}"
            return
        if written.status != "complete":
            state.status = "interrupted"
            return
        state.done.append(point)
        if written.late_interrupt:
            state.status = "interrupted"
            return


def _finish(plan: Sweep, target, where, state: _Progress, started, clock):
    """Write ``points.csv`` and the final ``meta.json`` of a sweep that stopped."""
    try:
        table = points_table(target, plan)
    except CorruptResults as exc:
        state.status = "failed"
        state.error = state.error or f"{exc}"
        table = pd.DataFrame()
    status = state.status if state.status != "failed" else "interrupted"
    meta = _meta_of(plan, status, started, points_done=len(state.done), error=state.error,
                    engine=where.name, jobs=where.jobs,
                    wall_seconds=round(time.perf_counter() - clock, 6))
    try:
        if not table.empty:
            _write_csv(table, target / "points.csv")
        _write_json(meta, target / "meta.json")
    except OSError as exc:
        raise Failure(f"writing {target} failed ({exc.strerror or exc}); the points are kept "
                      f"in {target / 'points'}") from None
    return table, meta


def _incomplete(folder: Path, config, target_rel_ci) -> str | None:
    """Why ``folder`` does not hold the complete result of exactly this point (``None`` if
    it does): missing, interrupted, another config, or a result file that the strict
    readers refuse (named). A point holding at least the trials asked for is complete, even
    if it was interrupted after that many (there is nothing to do for it)."""
    from ..montecarlo.streams import stream_of

    if not folder.exists():
        return "missing"
    try:
        meta = read_meta(folder)
        old = read_config(folder)
    except CorruptResults as exc:
        return str(exc)
    trials = meta.get("trials")
    complete = meta.get("status") == "complete"
    enough = isinstance(trials, int) and not isinstance(trials, bool) and (
        trials >= config.trials
        or (complete and meta.get("stop_reason") in ("target", "time")))
    if not enough:
        return "interrupted"
    new = config.resolved()
    if any(old.get(k) != new.get(k) for k in set(old) | set(new) if k != "trials"):
        return "its config.yaml is another point's"
    if stream_of(meta) != STREAM:
        return "drawn from another random stream"
    try:
        summary = read_summary(folder)
        n, _ = results.read_latencies(folder, [s.scheme_id for s in config.schemes])
    except CorruptResults as exc:
        return str(exc)
    except (OSError, ValueError, KeyError) as exc:
        return f"{folder / 'latencies.csv'}: {' '.join(str(exc).split())[:200]}"
    if n != trials or (summary["trials"] != trials).any():
        return (f"{folder}: latencies.csv holds {n} trials, meta.json {trials} and summary.csv "
                f"{sorted(set(summary['trials'].astype(int)))} (truncated?)")
    return None


def _check_same_sweep(target: Path, sweep: Sweep) -> None:
    """``--extend`` adds points (or trials) to a sweep of the same base, seed and keys."""
    try:
        old = read_sweep_yaml(target)
    except CorruptResults as exc:
        raise BadInput(f"--extend: {target} is not a sweep folder ({exc}), got "
                       f"'{target}'") from None
    new = sweep.resolved
    differ = [k for k in ("base", "seed", "target_rel_ci", "max_time")
              if old.get(k) != new.get(k)]
    keys_old = sorted([*(old.get("grid") or {}), *(old.get("zip") or {})])
    if keys_old != sorted(sweep.keys):
        differ.append("the varied keys")
    if differ:
        raise BadInput(f"--extend: the sweep differs from the one in the folder in "
                       f"{', '.join(differ)} (only values and trials may be added), got "
                       f"'{target}'")


def _check_points(target: Path, sweep: Sweep) -> None:
    """``--extend`` refuses, before anything is written, a sweep whose point folders were
    drawn from another random stream or read input files that changed since."""
    from .extend import changed_inputs, other_stream

    for point in sweep.points:
        folder = target / "points" / point.slug
        try:
            meta = read_meta(folder)
        except CorruptResults:
            continue  # missing or unreadable: recomputed
        other = other_stream(meta)
        if other:
            raise BadInput(f"--extend: point {point.slug} was drawn from {other} and this "
                           f"ltsim draws stream {STREAM}; rerun the sweep with --force, got "
                           f"'{target}'")
        changed = changed_inputs(meta, point.config)
        if changed:
            raise BadInput(f"--extend: point {point.slug}: {changed}; rerun the sweep with "
                           f"--force, got '{target}'")


def disk_bytes(sweep: Sweep) -> tuple[int, int]:
    """Estimated bytes of a sweep's folder: every point's folder, and the peak on disk (the
    points' folders and the largest point's rows joined a second time)."""
    from ..montecarlo.footprint import footprint

    sizes = [footprint(p.config) for p in sweep.points]
    folder = sum(f.folder for f in sizes)
    return folder, folder + max((f.disk - f.folder for f in sizes), default=0)


def disk_problem(sweep: Sweep, target: Path) -> str | None:
    """Why the sweep's results cannot fit on the disk of ``target``, or ``None``."""
    from ..montecarlo.footprint import free_disk

    folder, peak = disk_bytes(sweep)
    where = free_disk(target)
    if where is None or peak <= where[1]:
        return None
    return (f"trials: the sweep needs about {peak / 2**30:.1f} GiB of disk "
            f"({folder / 2**30:.1f} GiB of results over {len(sweep.points)} points) and "
            f"{where[1] / 2**30:.1f} GiB is free in {where[0]}; reduce the trials or the "
            f"points, or write elsewhere (-o), got {sweep.trials}")


def plan_lines(sweep: Sweep, jobs: int, target: Path) -> list[str]:
    """The lines of a dry run: the resolved sweep, its points, and the estimated time,
    memory and disk of the run (the time from pilots of up to three points)."""
    from ..montecarlo.footprint import footprint

    lines = [yaml.safe_dump(sweep.resolved, sort_keys=False).rstrip()]
    lines.append(f"# points: {len(sweep.points)} over {', '.join(sweep.keys)}")
    memory = max(footprint(p.config, jobs).memory for p in sweep.points)
    lines.append(f"# memory: about {memory / 2**20:.0f} MiB at the largest point")
    folder, peak = disk_bytes(sweep)
    lines.append(f"# disk: about {folder / 2**20:.3g} MiB of results in {target} (peak "
                 f"{peak / 2**20:.3g} MiB)")
    problem = disk_problem(sweep, target)
    if problem:
        lines.append(f"# the sweep would be refused: {problem}")
        return lines
    pilots = sorted({0, len(sweep.points) // 2, len(sweep.points) - 1})
    seconds = []
    for i in pilots:
        experiment = sweep.points[i].config
        n = max(1, min(experiment.trials, trials.batch_size(experiment), 8))
        trials.simulate_trials(experiment, 0, 1)  # compile and warm up
        start = time.perf_counter()
        trials.simulate_trials(experiment, 0, n)
        seconds.append((time.perf_counter() - start) / n)
    per_trial = sum(seconds) / len(seconds)
    total_trials = sum(p.config.trials for p in sweep.points)
    estimate = per_trial * total_trials / max(1, jobs)
    lines.append(f"# time: about {estimate:.3g} s for {total_trials} trials on {jobs} "
                 f"process(es) ({per_trial * 1e3:.3g} ms per trial, from pilots of "
                 f"{len(pilots)} point(s))")
    return lines


def points_table(target: Path, sweep: Sweep) -> pd.DataFrame:
    """One row per point and scheme of the sweep folder ``target`` (see
    :func:`points_frame`); points without a result folder are left out, a point folder that
    the strict readers refuse raises :class:`CorruptResults` naming it."""
    found = {}
    for point in sweep.points:
        folder = target / "points" / point.slug
        if folder.exists():  # else not run yet (an interrupted sweep)
            summary = read_summary(folder)
            found[point.slug] = (summary, _latencies_of(folder, summary))
    return points_frame(sweep, found)


def points_frame(sweep: Sweep, found: dict[str, tuple[pd.DataFrame, dict]]) -> pd.DataFrame:
    """One row per point and scheme: the varied values, the point's ``summary.csv`` row and
    a distribution-free 95 % confidence interval of p99 (order statistics of the point's
    latencies), for the points in ``found`` (slug -> summary and latencies by scheme)."""
    frames = []
    for point in sweep.points:
        if point.slug not in found:
            continue
        summary, latencies = found[point.slug]
        summary = summary.assign(**p99_interval(summary, latencies))
        for key, value in reversed(point.values.items()):
            summary.insert(0, key, _cell(value))
        summary.insert(0, "point", point.slug)
        frames.append(summary)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _cell(value):
    """A varied value as a cell of ``points.csv``: numbers and text as they are, ``null``
    for none, lists and mappings in YAML flow style (one line)."""
    if value is None:
        return "null"
    if isinstance(value, (int, float, str)):
        return value
    return yaml.safe_dump(value, default_flow_style=True, width=2**31).strip().removesuffix(
        "\n...").strip()


def _latencies_of(folder: Path, summary: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each scheme's latencies in ``folder/latencies.csv``."""
    path = folder / "latencies.csv"
    try:
        lat = pd.read_csv(path, usecols=["scheme", "latency"], dtype={"scheme": str})
    except FileNotFoundError:
        raise CorruptResults(f"{path}: missing") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise CorruptResults(f"{path}: not a readable CSV table "
                             f"({' '.join(str(exc).split())[:160]})") from None
    return {scheme: lat.loc[lat["scheme"] == scheme, "latency"].to_numpy(float)
            for scheme in summary["scheme"].astype(str)}


def p99_interval(summary: pd.DataFrame, latencies: dict[str, np.ndarray]
                 ) -> dict[str, list[float]]:
    """95 % CI of each scheme's p99 from the order statistics (distribution-free, exact
    coverage >= 95 %): :func:`scipy.stats.quantile_test`'s interval, whose ranks are the
    Binomial(n, 0.99) quantiles. Where the upper rank is beyond n (fewer than about 300
    trials) scipy reports ``nan``; the interval is then unbounded above: ``inf``."""
    from scipy import stats

    low, high = [], []
    for scheme in summary["scheme"].astype(str):
        x = np.asarray(latencies.get(scheme, []), dtype=float)
        if x.size < 2:
            low.append(math.nan)
            high.append(math.nan)
            continue
        interval = stats.quantile_test(x, p=0.99).confidence_interval(0.95)
        low.append(float(interval.low))
        high.append(math.inf if math.isnan(interval.high) else float(interval.high))
    return {"p99_low": low, "p99_high": high}


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    results.write_csv(frame, tmp)
    tmp.replace(path)


def _write_json(data, path: Path) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    results.write_json(data, tmp)
    tmp.replace(path)


def _write_yaml(path: Path, data) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
