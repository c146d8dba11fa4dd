"""``ltsim execute`` and ``ltsim fit``."""

from __future__ import annotations

from pathlib import Path

import click

from ..execution.backends import BACKENDS
from .types import Integer


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path, readable=False))
@click.option("--backend", type=click.Choice(list(BACKENDS)), default="local",
              show_default=True, help="Engine running the logical workers.")
@click.option("--address", default=None,
              help="dask scheduler address (e.g. tcp://host:8786) [default: a LocalCluster].")
@click.option("-o", "--output", type=click.Path(path_type=Path, readable=False), default=None,
              help="Results folder [default: results/<name>].")
@click.option("--trials", type=Integer(1, 10**6), default=None,
              help="Override the config's trials.")
@click.option("--force", is_flag=True,
              help="Replace an existing results folder written by ltsim (or an empty one).")
@click.option("--quiet", "-q", is_flag=True,
              help="No per-trial lines and no summary table.")
@click.option("--allow-queueing", is_flag=True,
              help="Run even if the engine runs fewer tasks at once than the logical workers "
                   "(latency then includes queueing; warned and recorded in meta.json).")
def execute(config_path, backend, address, output, trials, force, quiet, allow_queueing):
    """Run the schemes of CONFIG for real and time them (Gaussian-kernel workload).

    Each logical worker is one task; LT symbols reach the master one by one where the
    backend allows; the master decodes the real values, stops as soon as F(x) is
    recoverable, cancels the rest and checks F(x) against a direct sum (relative error
    <= 1e-9). Writes executions.csv, tasks.csv, summary.csv, config.yaml and meta.json.
    Exits 1 if any trial did not recover F(x) correctly.

    \b
    Examples:
      ltsim execute configs/execute-small.yaml
      ltsim execute configs/execute-small.yaml --backend dask --trials 3 -o results/x
      ltsim execute configs/execute-paper.yaml --backend dask --address tcp://sched:8786
    """
    from ..api.execute import execute as run_execute
    from ..io.report import format_summary
    from .report import console_reporter

    def report(row):
        err = "" if row["status"] == "ok" else f"  <- {row['status']}"
        click.echo(f"trial {row['trial']:>4} {row['scheme']:<12} latency "
                   f"{row['latency']:.4f} s  decode {row['decode_ms']:.2f} ms  "
                   f"received {row['received']}{err}", err=True)

    target = output
    if target is None:
        from ..api.execute import config_of

        target = Path("results") / config_of(config_path, trials).name
    results = run_execute(config_path, backend=backend, address=address, out=target,
                          trials=trials, force=force, allow_queueing=allow_queueing,
                          on_trial=None if quiet else report,
                          reporter=console_reporter(quiet))
    if not results.meta.get("trials"):
        return 130
    summary = results.summary
    if not quiet:
        click.echo(format_summary(summary))
    interrupted = results.status == "interrupted"
    note = f" (interrupted after {results.meta['trials']} trials)" if interrupted else ""
    click.echo(f"results in {target}{note}", err=True)
    for _, row in summary[summary["failures"] > 0].iterrows():
        click.echo(f"ltsim: scheme {row['scheme']}: {row['failures']} of {row['trials']} "
                   "trials did not recover F(x) (see executions.csv status)", err=True)
    if interrupted:
        return 130
    return 1 if results.meta.get("failures") or results.meta.get("mismatches") else 0


@click.command()
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path, readable=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, readable=False), default=None,
              help="Config to write [default: DIR/fitted.yaml].")
@click.option("--origin", type=click.Choice(["start", "submitted"]), default="start",
              show_default=True,
              help="Time zero of a task: the worker's start, or the master's submission "
                   "(then dispatch counts as start-up delay).")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def fit(folder, output, origin, force):
    """Fit Y = X + tau B to DIR/tasks.csv and write an ltsim run config.

    tau: least squares of task time on kernel terms done (with intercept, kept in X).
    X: censored maximum likelihood of every delay law that can be fitted (cancelled
    stragglers right-censored), the lowest AIC chosen.

    \b
    Example:
      ltsim fit results/execute-small -o configs/small-fit.yaml && \\
        ltsim run configs/small-fit.yaml
    """
    from ..api.fit import fit_folder

    table, target = fit_folder(folder, output, origin, force)
    click.echo(table)
    click.echo(f"config in {target}", err=True)
    return 0
