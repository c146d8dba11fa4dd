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
from .signals import interrupts


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
    allow_queueing: bool = False


def execute_config(request: ExecuteRequest, report: Callable | None,
                   echo: Callable[..., None]) -> int:
    """Carry out ``ltsim execute``; returns the exit code (0, 1 if any trial did not recover
    F(x) correctly, 130 if interrupted). A second Ctrl-C or SIGTERM while the folder of the
    first is written does not stop the writing."""
    with interrupts() as guard:
        return _execute_config(request, report, echo, guard)


def _execute_config(request: ExecuteRequest, report: Callable | None,
                    echo: Callable[..., None], guard) -> int:
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
    queueing = check_capacity(engine, cfg.n_workers, request, echo)
    with engine:
        info = {**engine.describe(), "concurrent_workers": cfg.n_workers, "queueing": queueing}
        try:
            run = run_execution(cfg, engine, report)
        except Exception as exc:  # the engine failed under us: one line, exit 1
            raise Failure(f"execution failed: {exc.__class__.__name__}: "
                          f"{' '.join(str(exc).split())[:200]}") from None
    if not run.executions:
        echo("ltsim: interrupted before any trial finished; nothing written", err=True)
        return 130
    with guard.hold():
        return _write_execution(request, cfg, run, info, started, target, echo, guard)


def _write_execution(request, cfg, run, info, started, target, echo, guard) -> int:
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
                              f"{run.trials} trials executed are kept in {stage.keep()}"
                              ) from None
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
    if run.status == "interrupted" or guard.interrupted:
        return 130
    return 1 if run.failures or run.mismatches else 0


def check_capacity(engine, needed: int, request: ExecuteRequest,
                   echo: Callable[..., None]) -> bool:
    """Whether the tasks of a trial queue on ``engine`` (it runs fewer than ``needed`` logical
    workers at once: latency would measure queueing, not stragglers). Refuses that (closing
    the engine, nothing written) unless ``request.allow_queueing``, which warns in one line."""
    capacity = engine.capacity()
    if capacity is None or capacity.count >= needed:
        return False
    where, value = (("--address", request.address) if request.address
                    else ("--backend", request.backend))
    clause = f"{capacity.what} and the execution needs {needed} concurrent workers"
    if not request.allow_queueing:
        engine.close()
        raise BadInput(f"{where}: {clause}; tasks would queue (latency measuring queueing, "
                       f"not stragglers): {capacity.remedy} or pass --allow-queueing, got "
                       f"{value!r}")
    echo(f"ltsim: warning: {where}: {clause}; tasks queue and latency includes queueing "
         "(--allow-queueing; meta.json records \"queueing\": true)", err=True)
    return True
