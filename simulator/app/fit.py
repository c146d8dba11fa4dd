"""``ltsim fit``: calibrate the simulator from an execution folder."""

from __future__ import annotations

from pathlib import Path

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

    from ..execute.fit import fit_tasks, fitted_config, format_fit, write_config
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
        data = fitted_config(executed, result)
    except CorruptResults as exc:
        raise Failure(str(exc)) from None
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise Failure(f"{folder}: cannot fit ({type(exc).__name__}: {exc})") from None
    table = format_fit(result)
    header = f"{FITTED_MARK[2:]} {folder} (origin {origin})\n" + table
    try:
        write_config(data, target, header)
    except ConfigError as exc:
        raise Failure(f"fitted config is not valid for ltsim run: {exc}") from None
    return table, target
