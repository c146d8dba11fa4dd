"""Resuming a result folder (``--extend``): the trials it holds, after every check that
they can be continued — the same experiment, random stream and input files, and rows that a
run writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..io import provenance, results
from ..montecarlo import engine
from .errors import BadInput


@dataclass
class Held:
    """Trials an extended folder already holds."""

    trials: int = 0
    outcomes: list | None = None
    jobs: bool = False
    """The folder holds ``jobs.csv`` (a queueing run's kept jobs): it is written again."""
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


def held_trials(folder: Path, experiment) -> Held:
    """The trials of an ltsim run folder to extend, after checking that it is the same
    experiment (the resolved configs may differ in ``trials`` only), drawn from the same
    random streams, from the same input files (their SHA-256), and that every row of its
    ``latencies.csv`` is one a run writes (:func:`ltsim.io.results.read_latencies`)."""
    from ..io.report import CorruptResults, read_config, read_meta
    from ..montecarlo.streams import STREAM

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
    other = other_stream(meta)
    if other:
        raise BadInput(f"--extend: the folder was drawn from {other} and this ltsim draws "
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
    if getattr(experiment, "queueing", False):
        outcomes = _with_jobs(folder, experiment, n, outcomes)
        return Held(n, outcomes, jobs=True)
    if getattr(experiment, "iterative", False) and (folder / "jobs.csv").is_file():
        return Held(n, _with_rounds(folder, experiment, n, outcomes), jobs=True)
    return Held(n, outcomes)


def _with_rounds(folder: Path, experiment, trials: int, outcomes: list) -> list:
    """The held outcomes of an iterative job with every round, read back from the folder's
    ``jobs.csv`` (written again, with the new trials' rounds)."""
    import dataclasses

    import numpy as np

    from ..io.report import CorruptResults, read_table

    path = folder / "jobs.csv"
    try:
        table = read_table(path, results.ROUND_COLUMNS, ("trial", "round", "start",
                                                         "response"))
    except CorruptResults as exc:
        raise BadInput(f"--extend: {exc}, got '{folder}'") from None
    rounds = experiment.queue_jobs
    joined = []
    for scheme, outcome in zip(experiment.schemes, outcomes, strict=True):
        rows = table[table["scheme"].astype(str) == scheme.scheme_id]
        if len(rows) != trials * rounds:
            raise BadInput(f"--extend: {path} holds {len(rows)} rounds of {scheme.scheme_id}, "
                           f"not {trials} trials x {rounds} rounds, got '{folder}'")
        jobs = {name: rows[name].to_numpy(np.float64).reshape(trials, rounds)
                for name in ("start", "response")}
        joined.append(dataclasses.replace(outcome, jobs=jobs))
    return joined


def _with_jobs(folder: Path, experiment, trials: int, outcomes: list) -> list:
    """The held outcomes of a queueing run with their kept jobs, read back from the
    folder's ``jobs.csv`` (its tail and stability need every job)."""
    import dataclasses

    import numpy as np

    from ..io.report import CorruptResults, read_table

    path = folder / "jobs.csv"
    if not path.is_file():
        raise BadInput(f"--extend: a queueing run is extended from its jobs.csv and {folder} "
                       f"has none (run it with --write-jobs), got '{folder}'")
    try:
        table = read_table(path, results.JOBS_COLUMNS,
                           ("trial", "job", "arrival", "response", "waiting"))
    except CorruptResults as exc:
        raise BadInput(f"--extend: {exc}, got '{folder}'") from None
    kept = experiment.queue_jobs - experiment.queue_warmup
    joined = []
    for scheme, outcome in zip(experiment.schemes, outcomes, strict=True):
        rows = table[table["scheme"].astype(str) == scheme.scheme_id]
        if len(rows) != trials * kept:
            raise BadInput(f"--extend: {path} holds {len(rows)} jobs of {scheme.scheme_id}, "
                           f"not {trials} trials x {kept} kept jobs, got '{folder}'")
        jobs = {name: rows[name].to_numpy(np.float64).reshape(trials, kept)
                for name in ("arrival", "response", "waiting")}
        joined.append(dataclasses.replace(outcome, jobs=jobs))
    return joined


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


def other_stream(meta: dict) -> str | None:
    """Which other random stream a result folder's ``meta.json`` says its trials were drawn
    from (``None`` when it is this ltsim's)."""
    from ..montecarlo.streams import STREAM, stream_of

    stream = stream_of(meta)
    if stream == STREAM:
        return None
    return (f"random stream {stream} (an older ltsim)" if stream is not None else
            "an unknown random stream (meta.json records none)")
