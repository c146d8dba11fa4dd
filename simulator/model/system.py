"""The system a scheme runs on, as the closed forms see it."""

from __future__ import annotations

from dataclasses import dataclass

from .laws import DelayLaw


@dataclass(frozen=True)
class SystemView:
    """``workers`` i.i.d. workers with start-up delays from ``law``; one unit task takes
    ``unit`` seconds (``tau * m / workers``)."""

    law: DelayLaw
    workers: int
    unit: float
