"""``ltsim execute``: run the schemes of a config for real on a backend and write the folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..io import config as configs
from ..io import provenance, results
from ..io.report import format_summary
from ..util.validation import ConfigError
from .errors import BadInput


@dataclass(frozen=True)
class ExecuteRequest:
    """What the user asked for on the command line."""

    config_path: Path
    backend: str = "local"
    address: str | None = None
    output: Path | None = None
    trials: int | None = None
    force: bool = False
    quiet: bool = False


def execute_config(request: ExecuteRequest, report: Callable | None,
                   echo: Callable[..., None]) -> int:
    """Carry out ``ltsim execute``; returns the exit code (0, 1 if any trial did not recover
    F(x) correctly, 130 if interrupted)."""
    from ..execute.backends import make_backend
    from ..execute.master import run_execution

    if request.address is not None and request.backend != "dask":
        raise BadInput(f"--address: only used with --backend dask, got {request.address!r}")
    try:
        cfg = configs.load(request.config_path, "execute", {"trials": request.trials})
    except ConfigError as exc:
        raise BadInput(f"{request.config_path}: {exc}") from None
    target = request.output or Path("results") / cfg.name
    try:
        results.check_target(target, request.force)
    except results.ResultsExist as exc:
        raise BadInput(str(exc)) from None
    started = provenance.now()
    try:
        engine = make_backend(request.backend, request.address, cfg.n_workers)
    except ImportError as exc:
        raise BadInput(f"--backend: {request.backend} is not installed ({exc}); install "
                       f"ltsim[{request.backend}], got {request.backend!r}") from None
    except OSError as exc:
        raise BadInput(f"--backend: cannot start {request.backend} ({exc}), got "
                       f"{request.backend!r}") from None
    with engine:
        info = engine.describe()
        run = run_execution(cfg, engine, report)
    if not run.executions:
        echo("ltsim: interrupted before any trial finished; nothing written", err=True)
        return 130
    meta = {
        "status": run.status,
        "command": provenance.command_line(),
        "config_file": str(request.config_path),
        "seed": cfg.seed,
        "trials": run.trials,
        "trials_requested": cfg.trials,
        **info,
        "address": info.get("address", request.address),
        "exact_value": run.exact,
        "mismatches": run.mismatches,
        "started": started,
        "wall_seconds": round(run.wall_seconds, 6),
        "versions": {**provenance.versions(), **provenance.engine_versions()},
        "git": provenance.git_revision(),
    }
    frames = results.execution_frames(cfg, run)
    results.write_folder(target, frames, cfg.resolved(), meta, request.force)
    summary = frames["summary.csv"]
    if not request.quiet:
        echo(format_summary(summary))
    note = f" (interrupted after {run.trials} trials)" if run.status == "interrupted" else ""
    echo(f"results in {target}{note}", err=True)
    for _, row in summary[summary["failures"] > 0].iterrows():
        echo(f"ltsim: scheme {row['scheme']}: {row['failures']} of {row['trials']} trials "
             "did not recover F(x) (see executions.csv status)", err=True)
    if run.status == "interrupted":
        return 130
    return 1 if run.failures or run.mismatches else 0
