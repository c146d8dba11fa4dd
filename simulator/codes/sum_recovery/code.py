"""SR: the rateless sum-recovery code of Mallick and Joshi (ITW 2022)."""

from __future__ import annotations

import math
import time
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from ..base import (
    Code,
    CrossFieldError,
    Master,
    Outcome,
    Plan,
    TaskPlan,
    Work,
    cost_columns,
    task_finish,
)
from .arrivals import Workspace, run_trial, symbols_per_worker
from .coefficients import coefficients
from .gfp import DecoderWorkspace, stop_count


class SumRecovery(Code):
    """Rateless sum-recovery code: only the sum F is needed, not every f_i.

    Worker ``j`` first computes its own unit ``f_j`` (cost ``u``), then, walking a uniformly
    random order of the other ``n - 1`` units (drawn per worker and trial), the sums of
    consecutive chunks of ``d`` units (cost ``u d`` each; the last chunk may be shorter),
    returning each symbol when done (``returns: symbol``) or all together (``worker``),
    until it has covered all n units, so every worker alone eventually holds F (the
    authors' public encoder stops one chunk short of that; ltsim follows the definition).
    ``symbols_per_worker`` caps the symbols of a worker. The master stops at the first
    arrival after which the all-ones vector lies in the real row space of the received
    symbols' 0/1 indicator vectors: F is then a linear combination of the received values.
    The condition is decided exactly (:mod:`ltsim.codes.sum_recovery.gfp`).
    """

    linear: ClassVar[bool] = False  # its exact decoder counts the functions of a symbol
    kind: Literal["sum_recovery"] = "sum_recovery"
    draws: ClassVar[bool] = True
    d: Annotated[int, Field(ge=1)] = 10
    symbols_per_worker: Annotated[int, Field(ge=1)] | None = None
    returns: Literal["symbol", "worker"] = "symbol"

    @property
    def default_id(self) -> str:
        return f"sr{self.d}"

    def display_name(self) -> str:
        return self.label or f"SR-{self.d}"

    def check(self, workers: int) -> None:
        if workers > 20_000:
            raise CrossFieldError("kind", "exact sum-recovery decoding keeps an n x n system: "
                                  "at most 20000 workers", workers)

    def per_worker(self, workers: int) -> int:
        """Symbols a worker sends: ``1 + ceil((n - 1) / d)``, at most the cap."""
        return symbols_per_worker(workers, self.d, self.symbols_per_worker)

    def work(self, workers: int) -> int:
        """Unit tasks of a worker that sends all its symbols."""
        return 1 + min((self.per_worker(workers) - 1) * self.d, workers - 1)

    def simulate(self, block) -> Outcome:
        trials, n = block.delays.shape
        latency, seconds = np.empty(trials), np.empty(trials)
        symbols = np.empty(trials, dtype=np.int64)
        space = Workspace(n)
        unit_times = np.broadcast_to(np.asarray(block.unit_times, dtype=float), (trials, n))
        for b in range(trials):
            began = time.perf_counter()
            trial = run_trial(block.delays[b], unit_times[b], self.d, self.symbols_per_worker,
                              block.rngs[b], space, whole=self.returns == "worker")
            seconds[b] = time.perf_counter() - began
            latency[b] = trial.latency
            symbols[b] = trial.count if trial.count > 0 else trial.received.ptr.shape[0] - 1
        out = Outcome(latency, symbols, np.isfinite(latency), seconds,
                      cost_columns(block.delays, unit_times, np.full(n, self.work(n)),
                                   latency))
        if block.want_finish:
            out = out.finishing(task_finish(block.delays, unit_times, self.work(n)))
        return out

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        # the exact decoder's n x n float64 system and the generator's n x (n - 1) int32
        # orders (allocated once per block), then the cost columns' temporaries
        return 12 * workers * workers + 34 * trials * workers

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None) -> Plan:
        n, d, per = workers, self.d, self.per_worker(workers)
        others = np.broadcast_to(np.arange(n), (n, n))
        orders = rng.permuted(others[~np.eye(n, dtype=bool)].reshape(n, n - 1), axis=1)
        tasks, sets = [], []
        for j in range(n):
            mine = [np.array([j])] + [orders[j, c:c + d] for c in range(0, n - 1, d)]
            mine = mine[:per]
            sets.append(mine)
            tasks.append(TaskPlan(j, tuple(Work(units) for units in mine),
                                  streaming and self.returns == "symbol"))
        return Plan(tasks, SumRecoveryMaster(n, sets))


class SumRecoveryMaster(Master):
    """Decides on each arrival whether the all-ones vector is in the span of the received
    indicator vectors (:func:`~ltsim.codes.sum_recovery.gfp.stop_count`, exact) and then
    reconstructs F from real coefficients
    (:func:`~ltsim.codes.sum_recovery.coefficients.coefficients`, least squares with a
    residual check)."""

    def __init__(self, n: int, sets: list[list[np.ndarray]]) -> None:
        self.n, self.sets = n, sets
        self.ptr, self.idx, self.values = [0], [], []
        self.seen: set[tuple[int, int]] = set()
        self._value = math.nan
        self.space = DecoderWorkspace(n, blas=False)

    def add(self, worker, index, value, at) -> bool:
        if self.complete or (worker, index) in self.seen:
            return self.complete
        began = time.perf_counter()
        self.seen.add((worker, index))
        self.received += 1
        units = self.sets[worker][index]
        self.idx.extend(units.tolist())
        self.ptr.append(len(self.idx))
        self.values.append(value)
        ptr, idx = np.array(self.ptr), np.array(self.idx, dtype=np.int64)
        if stop_count(ptr, idx, self.n, self.space) > 0:
            c = coefficients(ptr, idx, self.n, len(self.values))
            self._value = math.fsum((c * np.asarray(self.values)).tolist())
            self.complete = True
        self.seconds += time.perf_counter() - began
        return self.complete

    @property
    def value(self) -> float:
        return self._value

    @property
    def symbols(self) -> int | None:
        return len(self.values)
