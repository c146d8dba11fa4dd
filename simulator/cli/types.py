"""Option types whose errors read ``must be ..., got ...`` like every other ltsim error."""

from __future__ import annotations

import math

import click


class Integer(click.ParamType):
    """An integer in ``[low, high]``."""

    name = "integer"

    def __init__(self, low: int | None = None, high: int | None = None) -> None:
        self.low, self.high = low, high

    def rule(self) -> str:
        if self.low is not None and self.high is not None:
            return f"must be an integer from {self.low} to {self.high}"
        if self.low is not None:
            return f"must be an integer >= {self.low}"
        return "must be an integer"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip(), 10)
            except ValueError:
                self.fail(f"{self.rule()}, got {value!r}", param, ctx)
        if (self.low is not None and number < self.low) or (
                self.high is not None and number > self.high):
            self.fail(f"{self.rule()}, got {value!r}", param, ctx)
        return number


class PositiveNumber(click.ParamType):
    """A finite number > 0 (``nan`` and ``inf`` refused: they cannot be written as strict
    JSON, and mean nothing as a target or a time)."""

    name = "number"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            number = value
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"must be a finite number > 0, got {value!r}", param, ctx)
        if not math.isfinite(number) or number <= 0:
            self.fail(f"must be a finite number > 0, got {value!r}", param, ctx)
        return number
