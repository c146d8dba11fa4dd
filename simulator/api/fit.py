"""``ltsim fit``: calibrate the simulator from an execution folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..util.validation import ConfigError
from .errors import BadInput, Failure

FITTED_MARK = "# Fitted by: ltsim fit"
"""The first line of every config ``ltsim fit`` writes: how it recognises its own files."""


def check_config_target(target: Path, force: bool) -> None:
    """The rule of result folders for the fitted config: an existing file is replaced only
    with ``force`` and only if ``ltsim fit`` wrote it; its folder must be writable."""
    from ..io.folders import TargetError, check_creatable

    if target.exists() or target.is_symlink():
        if target.is_dir():
            raise BadInput(f"-o: is a folder, not a file, got '{target}'")
        if not force:
            raise BadInput(f"-o: file already exists; pass --force to replace it, got "
                           f"'{target}'")
        try:
            first = target.read_text(encoding="utf-8").split("\n", 1)[0]
        except (OSError, UnicodeDecodeError):
            first = ""
        if not first.startswith(FITTED_MARK):
            raise BadInput(f"-o: exists and was not written by ltsim fit; ltsim replaces "
                           f"only its own files, got '{target}'")
    try:
        check_creatable(target, "-o")
    except TargetError as exc:
        raise BadInput(str(exc)) from None


def fit_folder(folder: Path, output: Path | None, origin: str, force: bool
               ) -> tuple[str, Path]:
    """Fit ``DIR/tasks.csv``, write the fitted ``ltsim run`` config; return the fit table
    and the config's path."""
    import pandas as pd

    from ..fitting.persistence import fit_stay
    from ..fitting.tasks import fit_tasks, fitted_config, format_fit, write_config
    from ..io.report import CorruptResults, read_yaml_mapping

    tasks_csv, config_yaml = folder / "tasks.csv", folder / "config.yaml"
    for needed in (tasks_csv, config_yaml):
        if not needed.is_file():
            raise BadInput(f"{folder}: not a folder of ltsim execute ({needed.name} not "
                           "found)")
    target = output or folder / "fitted.yaml"
    check_config_target(target, force)
    try:
        tasks = pd.read_csv(tasks_csv)
        executed = read_yaml_mapping(config_yaml)
        result = fit_tasks(tasks, origin)
        stay = None
        if (executed.get("rounds") or 1) > 1:  # several rounds: how long a class lasts
            stay = fit_stay(tasks, result.times, int(executed["workers"]), origin)
        data = fitted_config(executed, result, stay)
    except CorruptResults as exc:
        raise Failure(str(exc)) from None
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise Failure(f"{folder}: cannot fit ({type(exc).__name__}: {exc})") from None
    table = format_fit(result)
    if stay is not None:
        table += "\n" + stay.line()
    header = f"{FITTED_MARK[2:]} {folder} (origin {origin})\n" + table
    try:
        write_config(data, target, header)
    except ConfigError as exc:
        raise Failure(f"fitted config is not valid for ltsim run: {exc}") from None
    return table, target


@dataclass(frozen=True)
class Fitted:
    """What ``fit`` gives: the fitted experiment, the config file written, the fit table."""

    experiment: Any
    path: Path
    table: str

    def __repr__(self) -> str:
        return f"Fitted({self.path})\n{self.table}"


def fit(folder: str | Path, *, out: str | Path | None = None, origin: str = "start",
        force: bool = False) -> Fitted:
    """Fit the start-up delay law and the unit time of an execution folder and write the
    ``ltsim run`` config of the fitted model (default ``folder/fitted.yaml``).

    Parameters
    ----------
    folder : path
        A folder of ``ltsim execute`` (``tasks.csv``, ``config.yaml``).
    out : path, optional
        The config to write.
    origin : {"start", "submitted"}
        Time zero of a task: the worker's start, or the master's submission.
    force : bool
        Replace a config ``ltsim fit`` wrote before.
    """
    from .experiment import Experiment

    table, target = fit_folder(Path(folder), Path(out) if out is not None else None, origin,
                               force)
    return Fitted(Experiment.from_yaml(target), target, table)
