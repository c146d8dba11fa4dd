"""The two ways a command can fail, each with a one-line message."""

from __future__ import annotations


class Problem(Exception):
    """A failure reported as ``ltsim: error: <message>`` with :attr:`exit_code`."""

    exit_code = 1


class BadInput(Problem, ValueError):
    """Usage or config error, found before anything is written: exit 2."""

    exit_code = 2


class Failure(Problem, RuntimeError):
    """A run that failed at run time (what was computed is kept and named): exit 1."""

    exit_code = 1
