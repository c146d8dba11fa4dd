"""``ltsim execute`` and ``ltsim fit``. Only click is imported here; the rest lazily."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import LtsimError


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--backend", type=click.Choice(["local", "dask", "lithops"]), default="local",
              show_default=True, help="Engine running the logical workers.")
@click.option("--address", default=None,
              help="dask scheduler address (e.g. tcp://host:8786) [default: a LocalCluster].")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Results folder [default: results/<name>].")
@click.option("--trials", type=click.IntRange(min=1), default=None,
              help="Override the config's trials.")
@click.option("--force", is_flag=True, help="Replace an existing results folder.")
@click.option("--quiet", "-q", is_flag=True, help="No per-trial lines.")
def execute(config_path, backend, address, output, trials, force, quiet):
    """Run the schemes of CONFIG for real and time them (Gaussian-kernel workload).

    Each logical worker is one task; LT symbols reach the master one by one where the
    backend allows; the master peels the real values, stops as soon as F(x) is recoverable,
    cancels the rest and checks F(x) against a direct sum (relative error <= 1e-9).
    Writes executions.csv, tasks.csv, summary.csv, config.yaml and meta.json.

    \b
    Examples:
      ltsim execute configs/execute-small.yaml
      ltsim execute configs/execute-small.yaml --backend dask --trials 3 -o results/x
      ltsim execute configs/execute-paper.yaml --backend dask --address tcp://sched:8786
    """
    from . import provenance
    from .execute import config as exec_config
    from .execute.backends import make_backend
    from .execute.master import run_execution
    from .execute.results import summary_frame, write_execution
    from .results import ResultsExist, check_target
    from .validation import ConfigError

    if address is not None and backend != "dask":
        raise LtsimError("--address is only used with --backend dask")
    try:
        cfg = exec_config.load(config_path, {"trials": trials})
    except ConfigError as exc:
        raise LtsimError(f"{config_path}: {exc}") from None
    target = output or Path("results") / cfg.name
    try:
        check_target(target, force)
    except ResultsExist as exc:
        raise LtsimError(str(exc)) from None
    concurrency = cfg.n_workers
    started = provenance.now()
    try:
        engine = make_backend(backend, address, concurrency)
    except ImportError as exc:
        raise LtsimError(f"backend {backend} is not installed ({exc}); install ltsim[{backend}]"
                         ) from None
    except OSError as exc:
        raise LtsimError(f"cannot start backend {backend}: {exc}") from None

    def report(row):
        if not quiet:
            err = "" if row["status"] == "ok" else f"  <- {row['status']}"
            click.echo(f"trial {row['trial']:>4} {row['scheme']:<12} latency "
                       f"{row['latency']:.4f} s  decode {row['decode_ms']:.2f} ms  "
                       f"received {row['received']}{err}", err=True)

    with engine:
        info = engine.describe()
        run = run_execution(cfg, engine, report)
    if not run.executions:
        click.echo("ltsim: interrupted before any trial finished; nothing written", err=True)
        sys.exit(130)
    meta = {
        "status": run.status,
        "command": provenance.command_line(),
        "config_file": str(config_path),
        "seed": cfg.seed,
        "trials": len({r["trial"] for r in run.executions}),
        "trials_requested": cfg.trials,
        **info,
        "address": info.get("address", address),
        "exact_value": run.exact,
        "mismatches": run.mismatches,
        "started": started,
        "wall_seconds": round(run.wall_seconds, 6),
        "versions": {**provenance.versions(), **_engine_versions()},
        "git": provenance.git_revision(),
    }
    write_execution(target, cfg, run, meta, force)
    summary = summary_frame(cfg, run)
    if not quiet:
        click.echo(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}",
                                     na_rep="-"))
    click.echo(f"results in {target}", err=True)
    failed = summary[summary["failures"] > 0]
    for _, row in failed.iterrows():
        click.echo(f"ltsim: scheme {row['scheme']}: {row['failures']} of {row['trials']} "
                   "trials did not recover F(x) (see executions.csv status)", err=True)
    if run.mismatches:
        click.echo(f"ltsim: error: {run.mismatches} decoded values differ from the direct sum "
                   "by more than 1e-9 (status 'mismatch' in executions.csv)", err=True)
        sys.exit(1)
    sys.exit(130 if run.status == "interrupted" else 0)


def _engine_versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in ("dask", "distributed", "lithops"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


@click.command()
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Config to write [default: DIR/fitted.yaml].")
@click.option("--origin", type=click.Choice(["start", "submitted"]), default="start",
              show_default=True,
              help="Time zero of a task: the worker's start, or the master's submission "
                   "(then dispatch counts as start-up delay).")
def fit(folder, output, origin):
    """Fit Y = X + tau B to DIR/tasks.csv and write an ltsim run config.

    tau: least squares of task time on kernel terms done (with intercept, kept in X).
    X: maximum likelihood of exponential, shifted exponential, Pareto, Weibull and
    lognormal (cancelled stragglers right-censored), the lowest AIC chosen.

    \b
    Example:
      ltsim fit results/execute-small -o configs/small-fit.yaml && \\
        ltsim run configs/small-fit.yaml
    """
    import pandas as pd
    import yaml

    from .fit import fit_tasks, fitted_config, format_fit, write_config
    from .validation import ConfigError

    tasks_csv, config_yaml = folder / "tasks.csv", folder / "config.yaml"
    for needed in (tasks_csv, config_yaml):
        if not needed.is_file():
            raise LtsimError(f"{needed} not found; DIR must be a folder of ltsim execute")
    try:
        tasks = pd.read_csv(tasks_csv)
        executed = yaml.safe_load(config_yaml.read_text(encoding="utf-8"))
        result = fit_tasks(tasks, origin)
        data = fitted_config(executed, result)
    except (KeyError, ValueError, TypeError, OSError, yaml.YAMLError) as exc:
        raise LtsimError(f"{folder}: cannot fit ({type(exc).__name__}: {exc})") from None
    table = format_fit(result)
    click.echo(table)
    target = output or folder / "fitted.yaml"
    header = f"Fitted by: ltsim fit {folder} (origin {origin})\n" + table
    try:
        write_config(data, target, header)
    except ConfigError as exc:
        raise LtsimError(f"fitted config is not valid for ltsim run: {exc}") from None
    click.echo(f"config in {target}", err=True)
