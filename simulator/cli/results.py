"""``ltsim show`` and ``ltsim plot``: read result folders, never re-simulate."""

from __future__ import annotations

from pathlib import Path

import click

METRIC = click.option("--metric", type=click.Choice(["mean", "p50", "p90", "p99", "max"]),
                      default="p99", show_default=True,
                      help="For a sweep: the metric that decides which scheme wins.")


@click.command()
@click.argument("folder", type=click.Path(path_type=Path, readable=False))
@METRIC
def show(folder, metric):
    """Print the summary table of a results folder (for a sweep, the best scheme at every
    point).

    \b
    Example:
      ltsim show results/exp02
    """
    from ..api.show import describe

    click.echo(describe(folder, metric))
    return 0


@click.command()
@click.argument("path", type=click.Path(path_type=Path, readable=False), default=Path("results"))
@METRIC
def plot(path, metric):
    """Draw the figures of one results folder or of every results folder below PATH.

    A simulation folder gets tail.png/.pdf (P(T > t) per scheme) and cost.png (latency
    against worker-seconds); an execution folder its bar chart and task timeline; a sweep
    its metrics against every varied key and, for two keys or more, which code wins.

    \b
    Example:
      ltsim plot results/
    """
    from ..api.show import plot_all

    bad = 0
    for line, ok in plot_all(path, metric):
        click.echo(line, err=not ok or line.startswith("note:"))
        bad += not ok
    return 1 if bad else 0
