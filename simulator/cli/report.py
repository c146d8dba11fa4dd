"""What the commands share: reading a config file for a command, the console reporter, and
the one line of a failed run."""

from __future__ import annotations

from pathlib import Path

import click

from ..api.errors import BadInput
from ..api.reporter import Reporter
from ..util.validation import ConfigError


def console_reporter(quiet: bool = False) -> Reporter:
    """Progress on the terminal (unless ``quiet``) and notes on stderr, one line each."""
    return Reporter(progress=not quiet, notes=lambda text: click.echo(text, err=True))


def load_experiment(path: Path, *, trials=None, seed=None, sets=()):
    """The :class:`~ltsim.api.experiment.Experiment` of a run config file, with ``--trials``,
    ``--seed`` and ``--set``; a bad file is one line naming it (exit 2)."""
    from ..api.experiment import Experiment

    try:
        return Experiment.from_yaml(path, sets=tuple(sets), trials=trials, seed=seed)
    except ConfigError as exc:
        raise BadInput(f"{path}: {exc}") from None


def resume_hint(results, target: Path, sweep: bool = False) -> str:
    """The one line of a run that failed with trials done (see
    :func:`ltsim.api.simulate.failure_line`)."""
    from ..api.simulate import failure_line

    return failure_line(results, target, sweep)
