"""``ltsim execute``: run the schemes of a config for real on a backend and write the folder."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from ..io import config as configs
from ..io import folders, provenance, results
from ..util.validation import ConfigError
from .errors import BadInput, Failure
from .executors import check_address, dask_client
from .reporter import Reporter
from .results import ExecutionResults
from .signals import interrupts


def execute(config, *, backend: str = "local", address: str | None = None,
            out: str | Path | None = None, trials: int | None = None, force: bool = False,
            allow_queueing: bool = False, on_trial: Callable | None = None,
            reporter: Reporter | None = None) -> ExecutionResults:
    """Run the schemes of an execute config for real and time them.

    Parameters
    ----------
    config : path or mapping
        An ``ltsim execute`` config (docs/execution.md).
    backend : {"local", "dask", "lithops"}
        Where the logical workers run: threads, a Dask cluster (``address``, else a
        LocalCluster), or Lithops.
    address : str, optional
        The Dask scheduler (with ``backend="dask"``).
    out : path, optional
        The result folder (as ``ltsim execute -o``); ``None`` keeps the tables in memory.
    trials : int, optional
        Replace the config's trials.
    force : bool
        Replace an existing folder ``out`` that ltsim wrote.
    allow_queueing : bool
        Run even if the backend runs fewer tasks at once than the logical workers (latency
        then includes queueing; a warning, and ``"queueing": true`` in the meta).
    on_trial : callable, optional
        Called with every trial's row of ``executions.csv`` as it ends.
    reporter : Reporter, optional
        Where warnings and notes go.

    Returns
    -------
    ExecutionResults
        Its ``status`` is ``complete`` or ``interrupted``; trials that did not recover F(x)
        are in its ``summary`` (``failures``, ``mismatches``).
    """
    reporter = reporter or Reporter(progress=False)
    if address is not None:
        check_address(address, backend)
    cfg = config_of(config, trials)
    check_progress(cfg, backend)
    target = Path(out) if out is not None else None
    if target is not None:
        try:
            folders.check_target(target, force)
        except folders.TargetError as exc:
            raise BadInput(str(exc)) from None
    call = provenance.call_text("execute", cfg, backend=backend, address=address, out=out,
                                trials=trials, force=force, allow_queueing=allow_queueing)
    with provenance.python_call(call), interrupts() as guard:
        run, info, started = _run(cfg, backend, address, allow_queueing, on_trial, reporter)
        if not run.executions:
            reporter.note("ltsim: interrupted before any trial finished; nothing written")
            return ExecutionResults({}, {"status": "interrupted", "trials": 0},
                                    cfg.resolved())
        with guard.hold():
            config_file = config if isinstance(config, (str, Path)) else None
            frames, meta = _tables(cfg, run, info, started, address, config_file)
            if target is not None:
                _write(target, frames, cfg, meta, run)
        if guard.interrupted:
            meta = {**meta, "status": "interrupted"}
        return ExecutionResults(frames, meta, cfg.resolved(), target)


def config_of(config, trials=None):
    """The validated execute config of a path or a mapping."""
    try:
        if isinstance(config, (str, Path)):
            return configs.load(config, "execute", {"trials": trials})
        data = dict(config)
        if trials is not None:
            data["trials"] = trials
        return configs.validate(data, kind="execute")
    except ConfigError as exc:
        raise exc if not isinstance(config, (str, Path)) else ConfigError(
            f"{config}: {exc}") from None


def check_progress(cfg, backend: str) -> None:
    """Rules that read running tasks' progress (Hadoop's, LATE's) run on a backend whose
    tasks report it, or the command is refused (nothing run or written)."""
    from ..execution.backends import REPORTS_PROGRESS

    for i, scheme in enumerate(cfg.schemes):
        if getattr(scheme, "reads_progress", False) and backend not in REPORTS_PROGRESS:
            raise BadInput(f"--backend: schemes[{i}] (policy {scheme.policy.engine}) reads "
                           "running tasks' progress, which only the "
                           f"{' and '.join(REPORTS_PROGRESS)} backend's tasks report, got "
                           f"{backend!r}")


def _run(cfg, backend_name, address, allow_queueing, on_trial, reporter):
    """Start the backend (on the one Dask client helper for a scheduler address), check
    that it runs every logical worker at once, and run the trials."""
    from ..execution.backends import make_backend
    from ..execution.master import run_execution

    with contextlib.ExitStack() as stack:
        client = None
        if backend_name == "dask" and address is not None:
            client = stack.enter_context(dask_client(address))
        started = provenance.now()
        try:
            backend = make_backend(backend_name, address, cfg.n_workers, client=client)
        except ImportError as exc:
            raise BadInput(f"--backend: {backend_name} is not installed ({exc}); install "
                           f"ltsim[{backend_name}], got {backend_name!r}") from None
        except Exception as exc:  # the backend could not start or reach its scheduler
            option = "--address" if address else "--backend"
            gist = " ".join(str(exc).split())[:160] or type(exc).__name__
            raise BadInput(f"{option}: cannot start the {backend_name} engine ({gist}), got "
                           f"{address or backend_name!r}") from None
        queueing = check_capacity(backend, cfg.n_workers, backend_name, address,
                                  allow_queueing, reporter)
        with backend:
            info = {**backend.describe(), "concurrent_workers": cfg.n_workers,
                    "queueing": queueing}
            try:
                run = run_execution(cfg, backend, on_trial)
            except Exception as exc:  # the backend failed under us: one line, exit 1
                raise Failure(f"execution failed: {exc.__class__.__name__}: "
                              f"{' '.join(str(exc).split())[:200]}") from None
    return run, info, started


def _tables(cfg, run, info, started, address, config_file):
    meta = provenance.meta(
        status=run.status, config_file=config_file,
        seed=cfg.seed, trials=run.trials, trials_requested=cfg.trials,
        versions_extra=provenance.engine_versions(),
        **{**info, "address": info.get("address", address)},
        exact_value=run.exact, mismatches=run.mismatches, failures=run.failures,
        started=started, wall_seconds=round(run.wall_seconds, 6))
    return results.execution_frames(cfg, run), meta


def _write(target: Path, frames, cfg, meta, run) -> None:
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


def check_capacity(backend, needed: int, backend_name: str, address: str | None,
                   allow_queueing: bool, reporter: Reporter) -> bool:
    """Whether the tasks of a trial queue on ``backend`` (it runs fewer than ``needed``
    logical workers at once: latency would measure queueing, not stragglers). Refuses that
    (closing the backend, nothing written) unless ``allow_queueing``, which warns in one
    line."""
    capacity = backend.capacity()
    if capacity is None or capacity.count >= needed:
        return False
    option, value = ("--address", address) if address else ("--backend", backend_name)
    clause = f"{capacity.what} and the execution needs {needed} concurrent workers"
    if not allow_queueing:
        backend.close()
        raise BadInput(f"{option}: {clause}; tasks would queue (latency measuring queueing, "
                       f"not stragglers): {capacity.remedy} or pass --allow-queueing, got "
                       f"{value!r}")
    reporter.warn(f"{option}: {clause}; tasks queue and latency includes queueing "
                  "(--allow-queueing; meta.json records \"queueing\": true)")
    return True
