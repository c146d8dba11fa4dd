"""The ``ltsim`` command line. Heavy modules are imported inside the commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__

EXIT_CODES = """\b
Exit codes: 0 success; 1 a run that failed at run time; 2 usage or config error;
130 interrupted (Ctrl-C)."""


class LtsimError(click.ClickException):
    """A one-line error message on stderr and exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"ltsim: error: {self.format_message()}", err=True)


def command_line(ctx: click.Context) -> str:
    """The command as given, rebuilt from the options set on the command line."""
    import shlex

    from click.core import ParameterSource

    words = ctx.command_path.split()
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if ctx.get_parameter_source(param.name) != ParameterSource.COMMANDLINE:
            continue
        if isinstance(param, click.Argument):
            words.append(str(value))
        elif getattr(param, "is_flag", False):
            words.append(max(param.opts, key=len))
        else:
            words += [max(param.opts, key=len), str(value)]
    return shlex.join(words)


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ltsim")
def main() -> None:
    """Tail latency of coded distributed non-linear computations.

    \b
    Example:
      ltsim run configs/exp02.yaml && ltsim plot results/exp02
    """


@main.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Results folder [default: results/<name>].")
@click.option("--trials", type=int, default=None, help="Override the config's trials.")
@click.option("--seed", type=int, default=None, help="Override the config's seed.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes [default: all cores]. Results do not depend on it.")
@click.option("--target-rel-ci", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop once every scheme's 95%% CI half-width is below this fraction of "
                   "its mean (the trial count then acts as a maximum).")
@click.option("--max-time", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after this many seconds of simulation.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a config key, e.g. --set delay.rate=0.5 --set schemes[1].r=4 "
                   "(repeatable; VALUE is read as YAML).")
@click.option("--dry-run", is_flag=True,
              help="Print the resolved config and the estimated time and memory; run nothing.")
@click.option("--force", is_flag=True, help="Replace an existing results folder.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary table.")
def run(config_path, output, trials, seed, jobs, target_rel_ci, max_time, sets, dry_run,
        force, quiet):
    """Run the Monte-Carlo experiment described by CONFIG (YAML) and write CSVs.

    \b
    Example:
      ltsim run configs/exp02.yaml --trials 2000 --seed 7 -o results/exp02-7
      ltsim run configs/exp02.yaml --set delay.rate=0.5 --dry-run
    """
    from .runner import RunRequest, execute_run

    request = RunRequest(config_path, output, trials, seed, jobs, target_rel_ci, max_time,
                         force, quiet, command=command_line(click.get_current_context()),
                         sets=tuple(sets), dry_run=dry_run)
    code = execute_run(request, fail=LtsimError)
    sys.exit(code)


def _warn_if_partial(folder: Path) -> None:
    import json

    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if meta.get("status", "complete") != "complete":
        click.echo(f"note: {folder} holds a partial run ({meta['status']}, "
                   f"{meta.get('trials', '?')} trials)", err=True)


@main.command()
@click.argument("configs", metavar="CONFIG...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--show", is_flag=True, help="Print each resolved config (defaults filled in).")
def validate(configs, show):
    """Check config files without running them; exit 2 at the first invalid one.

    \b
    Example:
      ltsim validate configs/*.yaml --show
    """
    import yaml

    from .runner import load_experiment

    for path in configs:
        experiment = load_experiment(path, None, None, (), LtsimError)
        if show:
            click.echo(f"# {path}")
            click.echo(yaml.safe_dump(experiment.resolved(), sort_keys=False).rstrip())
        else:
            click.echo(f"{path}: ok ({len(experiment.schemes)} schemes, "
                       f"{experiment.trials} trials)")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
def show(folder):
    """Print the summary table of a results folder.

    \b
    Example:
      ltsim show results/exp02
    """
    from .report import describe_folder

    try:
        click.echo(describe_folder(folder))
    except (OSError, ValueError, KeyError) as exc:
        raise LtsimError(f"{folder}: not a readable results folder ({exc})") from None


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("results"))
def plot(path):
    """Draw the figures of one results folder or of every results folder below PATH.

    A simulation folder gets tail.png/.pdf (P(T > t) per scheme); an execution folder
    (from ltsim execute) gets its bar chart and task timeline.

    \b
    Example:
      ltsim plot results/
    """
    from .plotting import plot_tail, result_folders

    if not path.exists():
        raise LtsimError(f"no such folder: {path}")
    folders = result_folders(path)
    if not folders:
        raise LtsimError(f"no results (tail.csv) found in {path}")
    for folder in folders:
        try:
            if (folder / "executions.csv").is_file():
                from .execute.plots import plot_execution

                files = plot_execution(folder)
            else:
                files = plot_tail(folder)
        except (OSError, KeyError, ValueError) as exc:
            raise LtsimError(f"{folder}: cannot read results ({exc})") from None
        click.echo(" ".join(str(f) for f in files))
        _warn_if_partial(folder)


from .cli_execute import execute, fit  # noqa: E402

main.add_command(execute)
main.add_command(fit)


if __name__ == "__main__":  # pragma: no cover
    main()
