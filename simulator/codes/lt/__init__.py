"""LT-r, the paper's rateless code: its family of modules.

* :mod:`~ltsim.codes.lt.code` — the code (:class:`LTCode`: parameters, checks, closed
  forms, real execution and its :class:`PeelingMaster`);
* :mod:`~ltsim.codes.lt.trial` — one simulated trial in one compiled call (degrees,
  arrivals, lazy neighbours, online peeling, cost);
* :mod:`~ltsim.codes.lt.soliton` — the Robust Soliton degree distribution;
* :mod:`~ltsim.codes.lt.peeling` — neighbour sampling and the online peeling decoder.

The code is defined in docs/codes.md (section ``lt``).
"""

from __future__ import annotations

from .code import CodeGraph, LTCode, PeelingMaster, ThresholdDecoder
from .soliton import RobustSoliton, mean_degree

__all__ = ["CodeGraph", "LTCode", "PeelingMaster", "RobustSoliton", "ThresholdDecoder",
           "mean_degree"]
