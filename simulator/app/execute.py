"""``ltsim execute``: run the schemes of a config for real on a backend and write the folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..io import config as configs
from ..io import folders, provenance, results
from ..io.report import format_summary
from ..util.validation import ConfigError
from .errors import BadInput, Failure
from .scheduler import check_address
from .signals import sigterm_as_interrupt


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

    if request.address is not None:
        check_address(request.address, request.backend)
    try:
        cfg = configs.load(request.config_path, "execute", {"trials": request.trials})
    except ConfigError as exc:
        raise BadInput(f"{request.config_path}: {exc}") from None
    target = request.output or Path("results") / cfg.name
    try:
        folders.check_target(target, request.force)
    except folders.TargetError as exc:
        raise BadInput(str(exc)) from None
    started = provenance.now()
    try:
        engine = make_backend(request.backend, request.address, cfg.n_workers)
    except ImportError as exc:
        raise BadInput(f"--backend: {request.backend} is not installed ({exc}); install "
                       f"ltsim[{request.backend}], got {request.backend!r}") from None
    except Exception as exc:  # the engine could not start or reach its scheduler
        where = "--address" if request.address else "--backend"
        value = request.address or request.backend
        gist = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise BadInput(f"{where}: cannot start the {request.backend} engine ({gist}), got "
                       f"{value!r}") from None
    with engine, sigterm_as_interrupt():
        info = engine.describe()
        try:
            run = run_execution(cfg, engine, report)
        except Exception as exc:  # the engine failed under us: one line, exit 1
            raise Failure(f"execution failed: {exc.__class__.__name__}: "
                          f"{' '.join(str(exc).split())[:200]}") from None
    if not run.executions:
        echo("ltsim: interrupted before any trial finished; nothing written", err=True)
        return 130
    meta = provenance.meta(
        status=run.status, config_file=request.config_path, seed=cfg.seed, trials=run.trials,
        trials_requested=cfg.trials, versions_extra=provenance.engine_versions(),
        **{**info, "address": info.get("address", request.address)},
        exact_value=run.exact, mismatches=run.mismatches, failures=run.failures,
        started=started, wall_seconds=round(run.wall_seconds, 6))
    frames = results.execution_frames(cfg, run)
    try:
        with folders.Staging(target) as stage:
            try:
                results.write_tables(stage.path, frames, cfg.resolved(), meta)
                stage.publish()
            except OSError as exc:
                raise Failure(f"writing {target} failed ({exc.strerror or exc}); the "
                              f"{run.trials} trials executed are kept in {stage.path}") from None
    except folders.TargetError as exc:
        raise Failure(str(exc)) from None
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
