"""``ltsim fit``: calibrate the simulator from an execution folder."""

from __future__ import annotations

from pathlib import Path

from ..util.validation import ConfigError
from .errors import BadInput, Failure


def fit_folder(folder: Path, output: Path | None, origin: str, force: bool
               ) -> tuple[str, Path]:
    """Fit ``DIR/tasks.csv``, write the fitted ``ltsim run`` config; return the fit table
    and the config's path."""
    import pandas as pd
    import yaml

    from ..execute.fit import fit_tasks, fitted_config, format_fit, write_config

    tasks_csv, config_yaml = folder / "tasks.csv", folder / "config.yaml"
    for needed in (tasks_csv, config_yaml):
        if not needed.is_file():
            raise BadInput(f"{folder}: not a folder of ltsim execute ({needed.name} not "
                           "found)")
    target = output or folder / "fitted.yaml"
    if target.exists() and not force:
        raise BadInput(f"-o: {target} exists; pass --force to replace it, got '{target}'")
    try:
        tasks = pd.read_csv(tasks_csv)
        executed = yaml.safe_load(config_yaml.read_text(encoding="utf-8"))
        result = fit_tasks(tasks, origin)
        data = fitted_config(executed, result)
    except (KeyError, ValueError, TypeError, OSError, yaml.YAMLError) as exc:
        raise Failure(f"{folder}: cannot fit ({type(exc).__name__}: {exc})") from None
    table = format_fit(result)
    header = f"Fitted by: ltsim fit {folder} (origin {origin})\n" + table
    try:
        write_config(data, target, header)
    except ConfigError as exc:
        raise Failure(f"fitted config is not valid for ltsim run: {exc}") from None
    return table, target
