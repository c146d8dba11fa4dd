"""MDS: a dense (Gaussian) code over k source symbols; any k symbols decode."""

from __future__ import annotations

import math
import time
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from ..model.orderstats import expected_order_statistic, harmonic
from .base import (
    CrossFieldError,
    Master,
    Outcome,
    OverSources,
    Plan,
    TaskPlan,
    Work,
    cost_columns,
    task_finish,
)


class MDSCode(OverSources):
    """Dense MDS code, the coded computing of the paper's Section III-A made explicit.

    ``k = n / r`` source symbols, each the sum of a group of ``r`` units (or ``k`` given:
    sources of ``m / k`` functions, ``n / k`` unit tasks, e.g. the (10, 8) code of a
    linear job on 10 workers). Every encoded
    symbol is a dense Gaussian combination of all k source symbols, so computing one costs
    ``u n`` (every function: non-linear functions cannot be combined before they are
    computed). Worker ``j``'s ``l``-th symbol is done at ``X_j + l u n`` (``returns:
    symbol``) or all of its ``s`` symbols at ``X_j + s u n`` (``returns: worker``). Any k
    symbols decode: T is the arrival time of the k-th symbol. Needs ``n s >= k``.

    For real runs the generator is a seeded Gaussian matrix drawn from the code's stream of
    the trial; the master solves the k x k system of the first k arrivals.
    """

    kind: Literal["mds"] = "mds"
    draws: ClassVar[bool] = False
    r: Annotated[int, Field(ge=1)] = 1
    k: Annotated[int, Field(ge=1)] | None = None
    symbols_per_worker: Annotated[int, Field(ge=1)] = 1
    returns: Literal["symbol", "worker"] = "symbol"

    @property
    def default_id(self) -> str:
        return f"mds{self.r}" if self.k is None else f"mds-k{self.k}"

    def display_name(self) -> str:
        return self.label or (f"MDS-{self.r}" if self.k is None else f"MDS (k={self.k})")

    def check(self, workers: int) -> None:
        self.check_sources(workers)
        if workers % self.r:
            raise CrossFieldError("r", f"must divide the number of workers ({workers})", self.r)
        k = self.sources(workers)
        if workers * self.symbols_per_worker < k:
            raise CrossFieldError("symbols_per_worker", f"workers x symbols_per_worker must be "
                                  f">= k = {k} source symbols", self.symbols_per_worker)
        if k > 20_000:
            key, value = ("r", self.r) if self.k is None else ("k", self.k)
            raise CrossFieldError(key, f"k = {k} source symbols: a dense k x k solve per "
                                  "trial is beyond what ltsim runs (at most 20000)", value)

    def symbol_cost(self, workers: int, linear: bool = False) -> float:
        """Unit tasks of one encoded symbol: every function (``n``) of a non-linear
        computation; one source symbol (``r``, or ``n / k``) of a linear one."""
        return self.source_units(workers) if linear else workers

    def arrival_times(self, delays: np.ndarray, unit_times, linear: bool = False
                      ) -> np.ndarray:
        """Arrival time of every symbol, shape (trials, n s): worker ``j``'s symbol ``l``
        (``j s + l``) at ``X_j + (l + 1) u_j c`` (or all at ``X_j + s u_j c``), ``c`` the
        :meth:`symbol_cost`."""
        trials, n = delays.shape
        s = self.symbols_per_worker
        cost = self.symbol_cost(n, linear)
        per = np.broadcast_to(np.asarray(unit_times, dtype=float) * cost, (trials, n))
        steps = np.arange(1, s + 1) if self.returns == "symbol" else np.full(s, s)
        return (delays[:, :, None] + per[:, :, None] * steps).reshape(trials, n * s)

    def simulate(self, block) -> Outcome:
        n, k = block.workers, self.sources(block.workers)
        times = self.arrival_times(block.delays, block.unit_times, block.linear)
        latency = np.partition(times, k - 1, axis=1)[:, k - 1]
        work = np.full(n, self.symbol_cost(n, block.linear) * self.symbols_per_worker)
        out = Outcome(latency, np.full(block.trials, k, np.int64),
                      np.ones(block.trials, bool), np.full(block.trials, np.nan),
                      cost_columns(block.delays, block.unit_times, work, latency))
        if block.want_finish:
            out = out.finishing(task_finish(block.delays, block.unit_times, work))
        return out

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None) -> Plan:
        k = self.sources(workers)
        s, r = self.symbols_per_worker, workers // k
        generator = rng.standard_normal((workers * s, k))
        group = np.arange(workers) // r
        tasks = [TaskPlan(j, tuple(Work(np.arange(workers), generator[j * s + i, group])
                                   for i in range(s)),
                          streaming and self.returns == "symbol")
                 for j in range(workers)]
        return Plan(tasks, DenseMaster(generator, s))

    def theory_mean(self, system):
        """``u c + E[X_(k:n)]`` for one symbol per worker, ``c`` the cost of a symbol (``n``
        unit tasks, or a source's in a linear computation; the k-th order statistic; under
        exponential delays ``(H_n - H_{n-k}) / rate``)."""
        if self.symbols_per_worker != 1 or not system.plain:
            return math.nan
        n, k = system.workers, self.sources(system.workers)
        work = system.unit * self.symbol_cost(n, system.linear)
        parts = system.law.shift_rate()
        if parts is not None:
            shift, rate = parts
            return shift + work + (harmonic(n) - harmonic(n - k)) / rate
        return expected_order_statistic(system.law, k, n).plus(work)

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        # the arrival times of every symbol and np.partition's copy of them, shape
        # (trials, n s), then the cost columns' temporaries, shape (trials, n)
        return (16 * self.symbols_per_worker + 34) * trials * workers


class DenseMaster(Master):
    """Decodes a dense code from its first k results: F(x) = c . y with ``G^T c = 1``, G the
    k x k generator rows of the symbols received (``numpy.linalg.solve``)."""

    def __init__(self, generator: np.ndarray, per_worker: int) -> None:
        self.generator, self.s = generator, per_worker
        self.k = generator.shape[1]
        self.rows: list[int] = []
        self.values: list[float] = []
        self._value = math.nan

    def add(self, worker, index, value, at) -> bool:
        if self.complete:
            return True
        self.received += 1
        row = worker * self.s + index
        if row in self.rows:
            return False
        self.rows.append(row)
        self.values.append(value)
        if len(self.rows) == self.k:
            began = time.perf_counter()
            g = self.generator[self.rows]
            c = np.linalg.solve(g.T, np.ones(self.k))
            self._value = float(c @ np.asarray(self.values))
            self.seconds += time.perf_counter() - began
            self.complete = True
        return self.complete

    @property
    def value(self) -> float:
        return self._value

    @property
    def symbols(self) -> int | None:
        return len(self.rows)
