"""Ideal: the genie bound of perfect load balancing with no coding overhead."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from .base import Code, Outcome


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
    out = np.empty(trials)
    for b in range(trials):
        x, step = delays[b], u[b]
        free = step == 0
        if free.any():  # free units: the first of those workers to start does them all ...
            first = x[free].min()
            busy = ~free  # ... unless the others have done n units before it starts
            out[b] = first if not busy.any() else min(
                first, genie_latency(x[busy][None, :], step[busy][None, :], n)[0])
            continue
        lo = x.min()  # count(lo) = 0 < n
        hi = lo + n * step[np.argmin(x)]  # that worker alone has done n units by then
        while True:
            mid = lo + (hi - lo) / 2
            if mid <= lo or mid >= hi:
                break
            done = np.floor((mid - x) / step).clip(0).sum()
            if done >= n:
                hi = mid
            else:
                lo = mid
        ahead = np.floor((lo - x) / step).clip(0) + 1  # each worker's next unit after lo
        out[b] = (x + ahead * step).min()
    return out


class Ideal(Code):
    """The genie bound: every worker computes units back to back from ``X_j`` and a genie
    hands out exactly the units needed, so ``T = min t`` with
    ``sum_j max(0, floor((t - X_j) / u_j)) >= n``. No scheme whose ``n`` workers compute
    unit tasks can beat it (speculative backups, which add fresh workers, can); plots draw
    it as a thin dashed reference line. Simulation only.

    Cost: every worker is busy until T (``worker_seconds = n T``) and exactly ``n`` units
    are done.
    """

    kind: Literal["ideal"] = "ideal"
    executable: ClassVar[bool] = False
    reference: ClassVar[bool] = True

    @property
    def default_id(self) -> str:
        return "ideal"

    def display_name(self) -> str:
        return self.label or "Ideal"

    def simulate(self, block) -> Outcome:
        n = block.workers
        latency = genie_latency(block.delays, block.unit_times, n)
        out = Outcome.uncoded(latency, worker_seconds=n * latency,
                              units=np.full(block.trials, n, dtype=np.int64))
        if block.want_finish:  # ideal load balancing: every worker busy until the job is done
            out = out.finishing(np.repeat(latency[:, None], n, axis=1))
        return out

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        return 16 * workers + 64 * trials  # one trial at a time: two arrays of n
