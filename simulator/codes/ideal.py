"""Ideal: the genie bound of perfect load balancing with no coding overhead."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from ..jit import njit
from .base import Outcome, OverSources


def genie_latency(delays: np.ndarray, unit_times, n: int) -> np.ndarray:
    """``T = min t`` with ``sum_j max(0, floor((t - X_j) / u_j)) >= n``, per trial: the
    ``n``-th smallest of all unit completion times ``X_j + k u_j`` (``k >= 1``).

    Bisection on ``t`` brings ``count(lo) < n <= count(hi)`` to adjacent floats; T is then
    the first completion time after ``lo`` (exactly one of the completion times).

    A worker with ``u_j = 0`` (a speed factor 0) completes every unit at ``X_j``: T is then
    the smaller of the first such ``X_j`` and the ``n``-th completion time of the other
    workers alone (whichever comes first has the ``n`` units).

    Parameters
    ----------
    delays : ndarray, shape (trials, workers)
        Start-up delays ``X_j``.
    unit_times : float or ndarray, shape (trials, workers)
        Time ``u_j >= 0`` of one unit task on every worker.
    n : int
        Unit tasks needed.

    Returns
    -------
    ndarray, shape (trials,)
        The genie latency of every trial.
    """
    trials, workers = delays.shape
    u = np.broadcast_to(np.asarray(unit_times, dtype=float), (trials, workers))
    rows, cols = (u.strides[0] != 0), (u.strides[1] != 0)  # not a broadcast dimension
    compact = np.ascontiguousarray(u[:trials if rows else 1, :workers if cols else 1])
    out = np.empty(trials)
    _genie(np.ascontiguousarray(delays, dtype=float), compact, int(rows), int(cols),
           float(n), out)
    zero = (compact == 0).any(axis=1)
    for b in np.flatnonzero(np.broadcast_to(zero, (trials,))):
        x, step = delays[b], u[b]
        free = step == 0  # free units: the first of those workers to start does them all ...
        first = x[free].min()
        busy = ~free  # ... unless the others have done n units before it starts
        out[b] = first if not busy.any() else min(
            first, genie_latency(x[busy][None, :], step[busy][None, :], n)[0])
    return out


@njit
def _genie(delays, unit, rows, cols, n, out):
    """The bisection of :func:`genie_latency` for every trial whose unit times are all
    positive (the counts are sums of whole numbers: exact in any order). ``unit[b * rows,
    j * cols]`` is the unit time of worker ``j`` in trial ``b`` (``rows``, ``cols``: 0 for
    a dimension the unit times do not vary along)."""
    trials, workers = delays.shape
    for b in range(trials):
        x, step = delays[b], unit[b * rows]
        first = 0
        for j in range(workers):
            if step[j * cols] == 0:
                first = -1
                break
            if x[j] < x[first]:
                first = j
        if first < 0:
            continue  # a worker with free units: handled by the caller
        lo = x[first]  # count(lo) = 0 < n
        if not math.isfinite(lo):
            out[b] = lo
            continue
        hi = lo + n * step[first * cols]  # that worker alone has done n units by then
        while True:
            mid = lo + (hi - lo) / 2
            if mid <= lo or mid >= hi:
                break
            done = 0.0
            for j in range(workers):
                ahead = math.floor((mid - x[j]) / step[j * cols])
                if ahead > 0:
                    done += ahead
            if done >= n:
                hi = mid
            else:
                lo = mid
        best = math.inf
        for j in range(workers):  # each worker's next unit after lo
            ahead = math.floor((lo - x[j]) / step[j * cols])
            t = x[j] + (max(ahead, 0.0) + 1.0) * step[j * cols]
            if t < best:
                best = t
        out[b] = best


class Ideal(OverSources):
    """The genie bound: every worker computes units back to back from ``X_j`` and a genie
    hands out exactly the units needed, so ``T = min t`` with
    ``sum_j max(0, floor((t - X_j) / u_j)) >= n``. With ``k`` given the job is shared in
    ``k`` pieces of ``m / k`` functions (``n / k`` unit tasks each) instead of the ``n``
    unit tasks: ``T = min t`` with ``sum_j max(0, floor(k (t - X_j) / (n u_j)))  >= k``
    (e.g. row by row, ``k = m``). No scheme whose ``n`` workers compute
    unit tasks can beat it (speculative backups, which add fresh workers, can); plots draw
    it as a thin dashed reference line. Simulation only.

    Cost: every worker is busy until T (``worker_seconds = n T``) and exactly ``n`` units
    are done.
    """

    kind: Literal["ideal"] = "ideal"
    executable: ClassVar[bool] = False
    reference: ClassVar[bool] = True
    k: Annotated[int, Field(ge=1)] | None = None

    @property
    def default_id(self) -> str:
        return "ideal" if self.k is None else f"ideal-k{self.k}"

    def display_name(self) -> str:
        return self.label or ("Ideal" if self.k is None else f"Ideal (k={self.k})")

    def simulate(self, block) -> Outcome:
        n = block.workers
        if self.k is None:
            latency = genie_latency(block.delays, block.unit_times, n)
        else:
            piece = np.asarray(block.unit_times, dtype=float) * self.source_units(n)
            latency = genie_latency(block.delays, piece, self.k)
        out = Outcome.uncoded(latency, worker_seconds=n * latency,
                              units=np.full(block.trials, n, dtype=np.int64))
        if block.want_finish:  # ideal load balancing: every worker busy until the job is done
            out = out.finishing(np.repeat(latency[:, None], n, axis=1))
        return out

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        return 16 * workers + 64 * trials  # one trial at a time: two arrays of n
