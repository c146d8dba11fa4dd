"""The system a scheme runs on, as the closed forms see it."""

from __future__ import annotations

from dataclasses import dataclass

from .cluster import Cluster
from .laws import DelayLaw


@dataclass(frozen=True)
class SystemView:
    """``workers`` workers with start-up delays from ``law`` (and the classes and speeds of
    ``cluster``); one unit task takes ``unit`` seconds (``tau * m / workers``) at speed 1.

    The closed forms of the paper hold for the plain model (:attr:`plain`: i.i.d. delays,
    every speed 1); codes return NaN where they have none for a richer cluster.
    """

    law: DelayLaw
    workers: int
    unit: float
    cluster: Cluster | None = None

    @property
    def plain(self) -> bool:
        return self.cluster is None or self.cluster.plain
