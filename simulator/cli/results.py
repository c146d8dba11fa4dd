"""``ltsim show`` and ``ltsim plot``: read result folders, never re-simulate."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("folder", type=click.Path(path_type=Path, readable=False))
def show(folder):
    """Print the summary table of a results folder.

    \b
    Example:
      ltsim show results/exp02
    """
    from ..app.results import describe

    click.echo(describe(folder))
    return 0


@click.command()
@click.argument("path", type=click.Path(path_type=Path, readable=False), default=Path("results"))
def plot(path):
    """Draw the figures of one results folder or of every results folder below PATH.

    A simulation folder gets tail.png/.pdf (P(T > t) per scheme); an execution folder
    (from ltsim execute) gets its bar chart and task timeline.

    \b
    Example:
      ltsim plot results/
    """
    from ..app.results import plot_all

    bad = 0
    for line, ok in plot_all(path):
        click.echo(line, err=not ok or line.startswith("note:"))
        bad += not ok
    return 1 if bad else 0
