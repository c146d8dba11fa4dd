"""``ltsim run`` and ``ltsim validate``."""

from __future__ import annotations

from pathlib import Path

import click

from .types import Integer, PositiveNumber


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path, readable=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, readable=False), default=None,
              help="Results folder [default: results/<name>].")
@click.option("--trials", type=Integer(1, 10**9), default=None,
              help="Override the config's trials.")
@click.option("--seed", type=Integer(0, 2**63 - 1), default=None,
              help="Override the config's seed.")
@click.option("--jobs", "-j", type=Integer(1), default=None,
              help="Worker processes [default: all cores]. Results do not depend on it.")
@click.option("--target-rel-ci", type=PositiveNumber(), default=None,
              help="Stop once every scheme's 95 % CI half-width is below this fraction of "
                   "its mean (the trial count then acts as a maximum).")
@click.option("--max-time", type=PositiveNumber(), default=None,
              help="Stop after this many seconds of simulation.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set delay.rate=0.5 --set schemes[3].r=4 "
                   "(repeatable; VALUE is read as the same text in the config file would be).")
@click.option("--dry-run", is_flag=True,
              help="Print the resolved config and the estimated time and memory; run nothing.")
@click.option("--force", is_flag=True,
              help="Replace an existing results folder written by ltsim (or an empty one).")
@click.option("--extend", type=click.Path(path_type=Path, readable=False), default=None,
              metavar="DIR",
              help="Add trials to the results folder DIR (complete or interrupted) of the same "
                   "config, up to the config's trials (or --trials): the same bytes as a run "
                   "done in one go.")
@click.option("--address", default=None, metavar="ADDR",
              help="Run the blocks of trials on a Dask scheduler, e.g. tcp://host:8786 "
                   "(same results as a local run).")
@click.option("--write-jobs", is_flag=True,
              help="For a queueing run (arrivals:): also write jobs.csv, every kept job "
                   "(with rounds: every round).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary table.")
def run(config_path, output, trials, seed, jobs, target_rel_ci, max_time, sets, dry_run,
        force, extend, address, write_jobs, quiet):
    """Run the Monte-Carlo experiment described by CONFIG (YAML) and write CSVs.

    \b
    Example:
      ltsim run configs/exp02.yaml --trials 2000 --seed 7 -o results/exp02-7
      ltsim run configs/exp02.yaml --set delay.rate=0.5 --dry-run
    """
    from ..api.budget import memory_problem, offered_load, plan
    from ..api.errors import BadInput, Failure
    from ..api.simulate import simulate
    from ..io.report import format_summary
    from ..montecarlo.engine import default_jobs
    from .report import console_reporter, load_experiment, resume_hint

    if extend is not None and (output is not None or force):
        raise click.UsageError("--extend writes into DIR itself; do not combine it with -o or "
                               "--force")
    experiment = load_experiment(config_path, trials=trials, seed=seed, sets=sets)
    jobs = jobs or default_jobs()
    target = extend or output or Path("results") / experiment.name
    if dry_run:
        for line in plan(experiment.config, jobs, target):
            click.echo(line)
        return 0
    problem = memory_problem(experiment.config, jobs, target)
    if problem:
        raise BadInput(f"{config_path}: {problem}")
    if write_jobs and not experiment.job_stream:
        raise BadInput(f"--write-jobs: only for a queueing run (a config with arrivals:) or "
                       f"rounds > 1, got "
                       f"'{config_path}'")
    reporter = console_reporter(quiet)
    if experiment.queueing:
        for line in offered_load(experiment.config):
            reporter.detail(line)
    results = simulate(experiment, jobs=jobs, executor=address, target_rel_ci=target_rel_ci,
                       max_time=max_time, out=target, force=force, extend=extend is not None,
                       reporter=reporter, write_jobs=write_jobs)
    if results.error is not None:
        raise Failure(resume_hint(results, target))
    if results.computed == 0:  # interrupted at once (130), or nothing to do (0)
        return 130 if results.status != "complete" or not results.trials else 0
    if not quiet:
        click.echo(format_summary(results.summary))
    interrupted = results.status != "complete"
    note = f" (interrupted after {results.trials} trials)" if interrupted else ""
    click.echo(f"results in {target}{note}", err=True)
    return 130 if interrupted or results.late_interrupt else 0


@click.command()
@click.argument("configs", metavar="CONFIG...", nargs=-1, required=True,
                type=click.Path(path_type=Path, readable=False))
@click.option("--show", is_flag=True, help="Print each resolved config (defaults filled in).")
def validate(configs, show):
    """Check config files (of ltsim run or ltsim execute) without running them.

    Every file is checked and reported on one line; the exit code is 2 if any is invalid.

    \b
    Example:
      ltsim validate configs/*.yaml --show
    """
    from ..api.validate import validate_files

    ok = True
    for line, good in validate_files(configs, show):
        click.echo(line, err=not good)
        ok = ok and good
    return 0 if ok else 2




@click.command()
@click.argument("sweep_path", metavar="SWEEP", type=click.Path(path_type=Path, readable=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, readable=False), default=None,
              help="Sweep folder [default: results/<name>].")
@click.option("--trials", type=Integer(1, 10**9), default=None,
              help="Trials per point (overrides the sweep file's).")
@click.option("--seed", type=Integer(0, 2**63 - 1), default=None,
              help="The sweep's seed (each point's seed derives from it and its values).")
@click.option("--jobs", "-j", type=Integer(1), default=None,
              help="Worker processes [default: all cores]. Results do not depend on it.")
@click.option("--address", default=None, metavar="ADDR",
              help="Run the points on a Dask scheduler, e.g. tcp://host:8786.")
@click.option("--force", is_flag=True,
              help="Replace an existing sweep folder written by ltsim (or an empty one); also "
                   "runs a sweep of more points than the limit.")
@click.option("--extend", is_flag=True,
              help="Add to the sweep folder: compute only the points (or trials) it lacks, "
                   "e.g. after an interruption or with more values in the grid.")
@click.option("--dry-run", is_flag=True,
              help="Print the resolved sweep, its number of points and the estimated time "
                   "and disk; run nothing.")
@click.option("--quiet", "-q", is_flag=True, help="No per-point lines and no table.")
def sweep(sweep_path, output, trials, seed, jobs, address, force, extend, dry_run, quiet):
    """Run every point of the design space in SWEEP (a base config and the keys to vary).

    Writes DIR/points.csv (a row per point and scheme), DIR/points/<slug>/ (each point's
    results), sweep.yaml and meta.json; prints the best scheme at every point. A sweep of
    more than 10000 points is refused unless --force is given.

    \b
    Example:
      ltsim sweep configs/which-code.sweep.yaml -o results/which-code
      ltsim plot results/which-code
    """
    from ..api.errors import BadInput
    from ..api.sweep import plan_lines, read_spec
    from ..api.sweep import sweep as run_sweep
    from ..io.ranking import format_best
    from ..io.sweep import MAX_POINTS
    from ..montecarlo.engine import default_jobs
    from ..util.validation import ConfigError
    from .report import console_reporter

    if extend and force:
        raise click.UsageError("--extend keeps the folder; do not combine it with --force")
    try:
        plan = read_spec(sweep_path, trials, seed, None if force else MAX_POINTS)
    except ConfigError as exc:
        raise BadInput(f"{sweep_path}: {exc}") from None
    jobs = jobs or default_jobs()
    target = output or Path("results") / plan.name
    if dry_run:
        for line in plan_lines(plan, jobs, target):
            click.echo(line)
        return 0
    results = run_sweep(plan, out=target, jobs=jobs, executor=address, force=force,
                        extend=extend, reporter=console_reporter(quiet))
    if not quiet and not results.points.empty:
        click.echo(format_best(results.best("p99"), plan.keys))
    note = (f" (interrupted after {results.points_done} of {len(plan.points)} points)"
            if results.status != "complete" else "")
    click.echo(f"results in {target}{note}", err=True)
    return 130 if results.status != "complete" else 0
