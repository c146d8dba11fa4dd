"""What a simulation, a sweep or an execution gives back: tables as pandas DataFrames, the
provenance, figures, and saving and loading result folders.

:class:`Results` holds a simulation's ``summary``, ``tail`` and ``latencies`` (the rows of
``latencies.csv``) and its ``meta``; :meth:`Results.save` writes exactly the bytes ``ltsim
run`` writes. :func:`load` reads any result folder back through the strict readers: a run
(:class:`Results`), a sweep (:class:`SweepResults`) or an execution
(:class:`ExecutionResults`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..io import folders, results
from ..io.report import (
    NUMERIC,
    CorruptResults,
    format_summary,
    read_config,
    read_meta,
    read_summary,
    read_table,
    read_yaml_mapping,
)
from ..model.outcome import Outcome
from .errors import BadInput, Failure


class Results:
    """The result of a simulation, in memory or read from its folder.

    Attributes
    ----------
    experiment : Experiment or None
        What was simulated (``None`` for a folder whose config no longer validates, e.g. an
        empirical trace that moved; :attr:`config` still holds it).
    meta : dict
        Provenance and status, as in ``meta.json``.
    folder : Path or None
        The result folder, when the results were written or read from one.
    """

    def __init__(self, experiment, frames: dict[str, pd.DataFrame] | None, meta: dict,
                 outcomes: list[Outcome] | None = None, folder: Path | None = None, *,
                 config: dict | None = None, late_interrupt: bool = False,
                 kept: Path | None = None, computed: int | None = None) -> None:
        self.experiment, self.meta, self.folder = experiment, meta, folder
        self.computed = int(meta.get("trials", 0)) if computed is None else computed
        """Trials this call computed (0 when a folder already held enough)."""
        self._frames = frames or {}
        self._outcomes = outcomes
        self._config = config
        self.late_interrupt, self.kept = late_interrupt, kept

    # -- construction -------------------------------------------------------------------

    @classmethod
    def empty(cls, experiment) -> Results:
        """No trial finished (interrupted at once)."""
        return cls(experiment, {}, {"status": "interrupted", "trials": 0,
                                    "stop_reason": "interrupted"}, computed=0)

    @classmethod
    def load(cls, folder: str | Path, experiment=None, computed: int | None = None
             ) -> Results:
        """Read a simulation folder (``ltsim run``'s) through the strict readers.

        Raises
        ------
        CorruptResults
            A file is missing, truncated or not what ltsim writes (one line naming it).
        """
        from .experiment import Experiment

        folder = Path(folder)
        meta = read_meta(folder)
        config = read_config(folder)
        frames = {"summary.csv": read_summary(folder),
                  "tail.csv": read_table(folder / "tail.csv", ["scheme", "t", "tail"],
                                         ("t", "tail"))}
        if experiment is None and config:
            try:
                experiment = Experiment.from_dict(config)
            except ValueError:
                experiment = None
        return cls(experiment, frames, meta, None, folder, config=config, computed=computed)

    # -- tables -------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config (as ``config.yaml``)."""
        if self._config is None and self.experiment is not None:
            self._config = self.experiment.to_dict()
        return self._config or {}

    @property
    def summary(self) -> pd.DataFrame:
        """One row per scheme: the columns of ``summary.csv`` (docs/results.md)."""
        return self._frames.get("summary.csv", pd.DataFrame())

    @property
    def tail(self) -> pd.DataFrame:
        """The empirical ``P(T > t)`` per scheme: the rows of ``tail.csv``."""
        return self._frames.get("tail.csv", pd.DataFrame())

    @property
    def outcomes(self) -> list[Outcome]:
        """Per scheme, every trial's latency, symbols, decoded flag and cost columns."""
        if self._outcomes is None:
            if self.folder is None:
                return []
            ids = list(dict.fromkeys(self.summary["scheme"].astype(str)))
            try:
                _, self._outcomes = results.read_latencies(self.folder, ids)
            except (OSError, ValueError, KeyError) as exc:
                raise CorruptResults(f"{self.folder / 'latencies.csv'}: "
                                     f"{' '.join(str(exc).split())[:200]}") from None
        return self._outcomes

    @property
    def latencies(self) -> pd.DataFrame:
        """One row per scheme and trial: the columns of ``latencies.csv``."""
        outcomes = self.outcomes
        if not outcomes:
            return pd.DataFrame(columns=results.LATENCY_COLUMNS)
        ids = list(self.summary["scheme"].astype(str))
        extra = results.extra_columns(outcomes)
        return pd.concat([results.latency_rows(sid, 0, o, extra)
                          for sid, o in zip(ids, outcomes, strict=True)], ignore_index=True)

    # -- status -------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """``complete`` or ``interrupted`` (Ctrl-C, SIGTERM or a failure)."""
        return str(self.meta.get("status", "complete"))

    @property
    def trials(self) -> int:
        """Trials held."""
        return int(self.meta.get("trials", 0))

    @property
    def stop_reason(self) -> str:
        """``trials``, ``target``, ``time``, ``interrupted`` or ``failed``."""
        return str(self.meta.get("stop_reason", ""))

    @property
    def error(self) -> str | None:
        """Why a failed run stopped (its trials are kept), else ``None``."""
        return self.meta.get("error")

    # -- output -------------------------------------------------------------------------

    def save(self, folder: str | Path, *, force: bool = False) -> Path:
        """Write the result folder ``ltsim run`` writes, byte for byte (``latencies.csv``,
        ``summary.csv``, ``tail.csv``, ``config.yaml``; ``meta.json`` records how the results
        were made), staged and published atomically.

        Raises
        ------
        BadInput
            ``folder`` exists (and ``force`` is not given, or it is not ltsim's).
        Failure
            Writing failed (what was written is kept and named).
        """
        target = Path(folder)
        if not self.trials:
            raise BadInput(f"folder: no trial to save, got '{target}'")
        try:
            folders.check_target(target, force)
        except folders.TargetError as exc:
            raise BadInput(str(exc)) from None
        ids = list(self.summary["scheme"].astype(str))
        with folders.Staging(target) as stage:
            try:
                writer = results.LatencyWriter(stage.path, ids)
                writer.append(0, self.outcomes)
                writer.finish()
                results.write_tables(stage.path, self._frames, self.config, self.meta)
                stage.publish()
            except OSError as exc:
                raise Failure(f"writing {target} failed ({exc.strerror or exc}); what was "
                              f"written is kept in {stage.keep()}") from None
        return target

    def plot(self) -> dict[str, Any]:
        """The figures of ``ltsim plot``: ``{"tail": Figure, "cost": Figure}`` (matplotlib;
        ``cost`` only when the summary has costs)."""
        from ..plots.tail import cost_figure, tail_figure

        figures = {"tail": tail_figure(self.tail, self.config, self.meta)}
        cost = cost_figure(self.summary, self.config, self.meta)
        if cost is not None:
            figures["cost"] = cost
        return figures

    def __repr__(self) -> str:
        head = (f"Results({self.config.get('name', '?')}: {self.trials} trials, "
                f"{self.status}, stopped by {self.stop_reason or '?'})")
        return head if self.summary.empty else head + "\n" + format_summary(self.summary)


class SweepResults:
    """The result of a sweep: ``points`` (a row per point and scheme, the varied values as
    columns), each point's :class:`Results`, and the provenance."""

    def __init__(self, points: pd.DataFrame, meta: dict, resolved: dict, keys: list[str],
                 point_results: dict[str, Results] | None = None,
                 folder: Path | None = None, points_done: int | None = None) -> None:
        self.points, self.meta, self.sweep, self.keys = points, meta, resolved, keys
        self._points = point_results or {}
        self.folder = folder
        self.points_done = int(meta.get("points_done", 0)) if points_done is None \
            else points_done

    @classmethod
    def load(cls, folder: str | Path) -> SweepResults:
        """Read a sweep folder through the strict readers."""
        folder = Path(folder)
        meta = read_meta(folder)
        resolved = read_yaml_mapping(folder / "sweep.yaml")
        keys = [*(resolved.get("grid") or {}), *(resolved.get("zip") or {})]
        numeric = (*NUMERIC, "p99_low", "p99_high")
        points = (read_table(folder / "points.csv", ["point", "scheme", "mean"], numeric)
                  if (folder / "points.csv").is_file() else pd.DataFrame())
        for key in keys:  # numbers read back as numbers (points.csv is text)
            if key in points:
                values = pd.to_numeric(points[key], errors="coerce")
                if values.notna().all():
                    points[key] = values
        return cls(points, meta, resolved, keys, folder=folder)

    @property
    def status(self) -> str:
        return str(self.meta.get("status", "complete"))

    def point(self, slug: str) -> Results:
        """The :class:`Results` of one point, by its slug (the ``point`` column)."""
        if slug not in self._points:
            if self.folder is None:
                raise KeyError(slug)
            self._points[slug] = Results.load(self.folder / "points" / slug)
        return self._points[slug]

    def plot(self, metric: str = "p99") -> dict[str, Any]:
        """The figures of ``ltsim plot`` for the sweep, by file stem: ``sweep-<key>`` for every
        varied key and, for two keys or more, ``wins`` (the winner by ``metric``)."""
        from ..plots.sweep import sweep_figures

        axes = [[k] for k in (self.sweep.get("grid") or {})]
        if self.sweep.get("zip"):
            axes.append(list(self.sweep["zip"]))
        if self.folder is not None:
            schemes = {slug: read_config(self.folder / "points" / slug).get("schemes")
                       for slug in dict.fromkeys(self.points["point"].astype(str))}
        else:
            schemes = {slug: r.config.get("schemes") for slug, r in self._points.items()}
        return sweep_figures(self.points, axes, schemes, str(self.sweep.get("name", "sweep")),
                             metric)

    def best(self, metric: str = "p99") -> pd.DataFrame:
        """The best scheme at every point by ``metric`` (bounds never win; a mean with failed
        trials ranks as infinite), with the runner-up."""
        from ..io.ranking import best_table, point_bounds, reference_ids

        if self.points.empty:
            return pd.DataFrame()
        if self.folder is not None:
            bounds = point_bounds(self.folder, self.points["point"].astype(str))
        else:
            bounds = {slug: reference_ids(r.config.get("schemes"))
                      for slug, r in self._points.items()}
        return best_table(self.points, self.keys, metric, bounds)

    def __repr__(self) -> str:
        n = self.points["point"].nunique() if not self.points.empty else 0
        return (f"SweepResults({self.sweep.get('name', '?')}: {n} points over "
                f"{', '.join(self.keys)}, {self.status})")


class ExecutionResults:
    """The result of ``ltsim execute``: ``summary``, ``executions`` (a row per scheme and
    trial), ``tasks`` (a row per task) and ``meta``."""

    def __init__(self, frames: dict[str, pd.DataFrame], meta: dict, config: dict,
                 folder: Path | None = None) -> None:
        self._frames, self.meta, self.config, self.folder = frames, meta, config, folder

    @classmethod
    def load(cls, folder: str | Path) -> ExecutionResults:
        folder = Path(folder)
        frames = {"summary.csv": read_summary(folder),
                  "executions.csv": read_table(folder / "executions.csv",
                                               ["scheme", "trial", "latency", "status"]),
                  "tasks.csv": read_table(folder / "tasks.csv", ["scheme", "trial", "worker"])}
        return cls(frames, read_meta(folder), read_config(folder), folder)

    @property
    def summary(self) -> pd.DataFrame:
        return self._frames["summary.csv"]

    @property
    def executions(self) -> pd.DataFrame:
        return self._frames["executions.csv"]

    @property
    def tasks(self) -> pd.DataFrame:
        return self._frames["tasks.csv"]

    @property
    def status(self) -> str:
        return str(self.meta.get("status", "complete"))

    def plot(self) -> dict[str, Any]:
        """The figures of ``ltsim plot``: ``execution`` (mean latency per scheme with its 95 %
        confidence interval) and ``timeline`` (the tasks of the first trial)."""
        from ..plots.execution import execution_figures

        return execution_figures(self.executions, self.tasks, self.config, self.meta,
                                 str(self.config.get("name", "execution")))

    def __repr__(self) -> str:
        return (f"ExecutionResults({self.config.get('name', '?')}: "
                f"{self.meta.get('trials', '?')} trials on {self.meta.get('backend', '?')})"
                "\n" + format_summary(self.summary))


def load(folder: str | Path) -> Results | SweepResults | ExecutionResults:
    """Read any result folder back: a simulation (``ltsim run``, ``Results.save``), a sweep or
    an execution, through the strict readers.

    Raises
    ------
    CorruptResults
        A file is missing, truncated or not what ltsim writes (one line naming it).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CorruptResults(f"{folder}: no such results folder")
    if (folder / "sweep.yaml").is_file():
        return SweepResults.load(folder)
    if (folder / "executions.csv").is_file():
        return ExecutionResults.load(folder)
    return Results.load(folder)
