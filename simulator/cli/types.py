"""Option types whose errors read ``must be ..., got ...`` like every other ltsim error.

Click's :class:`~click.IntRange` and :class:`~click.FloatRange` do the parsing and the range
check; these subclasses only replace click's wording (``'many' is not a valid integer``,
``0 is not in the range x>=1``) by ltsim's one line, and refuse ``nan`` and ``inf``, which
``FloatRange`` accepts."""

from __future__ import annotations

import math

import click


class Integer(click.IntRange):
    """An integer in ``[low, high]`` (either end ``None``: unbounded)."""

    name = "integer"

    def __init__(self, low: int | None = None, high: int | None = None) -> None:
        super().__init__(low, high)

    def rule(self) -> str:
        if self.min is not None and self.max is not None:
            return f"must be an integer from {self.min} to {self.max}"
        if self.min is not None:
            return f"must be an integer >= {self.min}"
        return "must be an integer"

    def convert(self, value, param, ctx):
        native = isinstance(value, int) and not isinstance(value, bool)
        try:  # anything but an int is read as its text: 3.5 and True are refused
            return super().convert(value if native else str(value), param, ctx)
        except click.BadParameter:
            self.fail(f"{self.rule()}, got {value!r}", param, ctx)


class PositiveNumber(click.FloatRange):
    """A finite number > 0 (``nan`` and ``inf`` refused: they cannot be written as strict
    JSON, and mean nothing as a target or a time)."""

    name = "number"

    def __init__(self) -> None:
        super().__init__(min=0.0, min_open=True)

    def convert(self, value, param, ctx):
        try:  # anything but a float is read as its text: True is refused
            number = super().convert(value if isinstance(value, float) else str(value),
                                     param, ctx)
        except click.BadParameter:
            number = math.nan
        if not math.isfinite(number):
            self.fail(f"must be a finite number > 0, got {value!r}", param, ctx)
        return number
