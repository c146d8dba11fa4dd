"""``kind: raptor``: RFC 5053's systematic Raptor code (R10) as a straggler code.

The m functions form K source symbols (K = n / r, each the sum of a group of r unit tasks, or
``k`` given: sources of m / k functions), 4 <= K <= 8192. Worker j computes the encoding
symbols with the ESIs ``j, j + n, j + 2n, ...`` (``systematic: true``, the RFC's use: the
source symbols, ESIs 0 .. K - 1, are every worker's first) or ``K + j, K + j + n, ...``
(``systematic: false``: repair symbols only), ``symbols_per_worker`` of them, one after
another, each returned when done (``returns: symbol``) or all together (``worker``).

What a symbol costs. An encoding symbol is the sum of the intermediate symbols
:func:`~ltsim.codes.raptor.rfc5053.lt_indices` lists, and the intermediate symbols are a
fixed linear function of the sources (C = A^-1 (0, ..., 0, sources), Section 5.4.2.4). So a
symbol is a fixed real combination of the sources, its *expansion*. In a linear computation
(``computation: linear``: rows of a matrix encoded in advance) it costs one source symbol,
whatever its expansion; in the paper's non-linear one a worker must compute every source its
expansion involves: the symbol costs that many source symbols (a source symbol, ESI < K,
exactly one). The expansion is computed in floating point from the dense inverse of A (a
coefficient counts when it exceeds 1e-9 times the largest of its symbol), so the non-linear
setting is limited to K <= 2048; tests/test_raptor.py checks the counts against exact
fractions on small K.

Decoding. The master can recover F(x) once the constraints and the symbols received have
rank L (:mod:`~ltsim.codes.raptor.decoding`): over the rationals (``field: rational``,
default: the real values of the paper's computation) or over GF(2) (``field: gf2``, what the
RFC's byte-oriented decoder needs). Every trial also reports the other field's answer where
it is cheap: ``symbols_gf2`` and ``decoded_gf2`` (GF(2) needs at least as many symbols).
"""

from __future__ import annotations

import functools
import time
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from ..base import (
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
from . import decoding, inactivation, rfc5053

NONLINEAR_K_MAX = 2048
"""Largest source block whose symbol expansions (a dense L x L inverse) ltsim computes."""


@functools.lru_cache(maxsize=8)
def expansion(K: int, esis: tuple[int, ...]) -> np.ndarray:
    """The real coefficients of the sources in each encoding symbol of ``esis``, shape
    (len(esis), K): rows of G A^-1 restricted to the source part, G the symbols' 0/1 rows
    over the intermediate symbols."""
    p = rfc5053.parameters(K)
    A = np.zeros((p.L, p.L))
    for i, row in enumerate(rfc5053.constraint_rows(K)):
        A[i, row] = 1.0
    for x in range(K):
        A[p.S + p.H + x, rfc5053.lt_indices(K, x)] = 1.0
    sources = np.linalg.solve(A, np.eye(p.L)[:, p.S + p.H:])  # C = this @ sources
    G = np.zeros((len(esis), p.L))
    for i, x in enumerate(esis):
        G[i, rfc5053.lt_indices(K, x)] = 1.0
    out = G @ sources
    out.flags.writeable = False
    return out


def expansion_sizes(coefficients: np.ndarray) -> np.ndarray:
    """Sources with a nonzero coefficient in each symbol (above 1e-9 of its largest)."""
    scale = np.abs(coefficients).max(axis=1, keepdims=True)
    return (np.abs(coefficients) > 1e-9 * scale).sum(axis=1)


class RaptorCode(OverSources):
    """RFC 5053's systematic Raptor code (see the module docstring)."""

    kind: Literal["raptor"] = "raptor"
    draws: ClassVar[bool] = False
    r: Annotated[int, Field(ge=1)] = 1
    k: Annotated[int, Field(ge=1)] | None = None
    symbols_per_worker: Annotated[int, Field(ge=1)] = 2
    returns: Literal["symbol", "worker"] = "symbol"
    systematic: bool = True
    field: Literal["rational", "gf2"] = "rational"

    @property
    def default_id(self) -> str:
        base = f"raptor{self.r}" if self.k is None else f"raptor-k{self.k}"
        return base + ("" if self.field == "rational" else "-gf2")

    def display_name(self) -> str:
        if self.label:
            return self.label
        name = f"Raptor-{self.r}" if self.k is None else f"Raptor (k={self.k})"
        return name + ("" if self.field == "rational" else " over GF(2)")

    def check(self, workers: int) -> None:
        self.check_sources(workers)
        if workers % self.r:
            raise CrossFieldError("r", f"must divide the number of workers ({workers})", self.r)
        K = self.sources(workers)
        if not rfc5053.K_MIN <= K <= rfc5053.K_MAX:
            key, value = ("r", self.r) if self.k is None else ("k", self.k)
            raise CrossFieldError(key, f"RFC 5053 defines source blocks of {rfc5053.K_MIN} "
                                  f"to {rfc5053.K_MAX} symbols; this is K = {K}", value)
        if workers * self.symbols_per_worker < K:
            raise CrossFieldError("symbols_per_worker", f"workers x symbols_per_worker must be "
                                  f">= K = {K} source symbols", self.symbols_per_worker)

    def check_computation(self, workers: int, linear: bool) -> None:
        K = self.sources(workers)
        if not linear and K > NONLINEAR_K_MAX:
            key, value = ("r", self.r) if self.k is None else ("k", self.k)
            raise CrossFieldError(key, f"K = {K} source symbols: the expansion of a symbol "
                                  f"over the sources (its non-linear cost) is computed up to "
                                  f"K = {NONLINEAR_K_MAX}; use computation: linear", value)

    def check_execution(self, workers: int) -> None:
        super().check_execution(workers)
        K = self.sources(workers)
        if K > NONLINEAR_K_MAX:
            key, value = ("r", self.r) if self.k is None else ("k", self.k)
            raise CrossFieldError(key, f"K = {K} source symbols: a real execution computes "
                                  "every symbol's expansion over the sources, up to "
                                  f"K = {NONLINEAR_K_MAX}", value)

    def esis(self, workers: int) -> tuple[int, ...]:
        """The ESI of every symbol, worker j's i-th at position j s + i."""
        K, s = self.sources(workers), self.symbols_per_worker
        first = 0 if self.systematic else K
        return tuple(first + j + i * workers for j in range(workers) for i in range(s))

    def symbol_costs(self, workers: int, linear: bool) -> np.ndarray:
        """Unit tasks of every symbol (position j s + i): a source symbol's (r, or n / k) in
        a linear computation, times its expansion's size in a non-linear one."""
        size = float(self.source_units(workers))
        count = workers * self.symbols_per_worker
        if linear:
            return np.full(count, size)
        K = self.sources(workers)
        return size * expansion_sizes(expansion(K, self.esis(workers))).astype(float)

    def arrival_times(self, delays, unit_times, costs) -> np.ndarray:
        """Arrival time of every symbol, shape (trials, n s)."""
        trials, n = delays.shape
        s = self.symbols_per_worker
        per = np.asarray(unit_times, dtype=float)
        per = np.broadcast_to(per if per.ndim else per[None, None], (trials, n))
        cost = costs.reshape(n, s)[None, :, :] * per[:, :, None]
        if self.returns == "symbol":
            done = np.cumsum(cost, axis=2)
        else:
            done = np.repeat(cost.sum(axis=2, keepdims=True), s, axis=2)
        return (delays[:, :, None] + done).reshape(trials, n * s)

    def simulate(self, block) -> Outcome:
        n = block.workers
        K = self.sources(n)
        code = rfc5053.code(K, max(self.esis(n)) + 1)
        L = code.params.L
        rows = np.asarray(self.esis(n), dtype=np.int64)  # row of each symbol position
        costs = self.symbol_costs(n, block.linear)
        times = self.arrival_times(block.delays, block.unit_times, costs)
        trials = block.trials
        latency = np.full(trials, np.inf)
        symbols = np.empty(trials, dtype=np.int64)
        decoded = np.zeros(trials, dtype=bool)
        gf2_symbols = np.zeros(trials)
        gf2_decoded = np.zeros(trials)
        seconds = np.empty(trials)
        args = (code.constraint_ptr, code.constraint_idx, code.symbol_ptr, code.symbol_idx)
        for b in range(trials):
            began = time.perf_counter()
            order = np.argsort(times[b], kind="stable")
            arrived = times[b][order]
            esi_order = rows[order]
            if self.field == "gf2":
                used = g = inactivation.first_full_rank(*args, esi_order, L,
                                                        inactivation.GF2)
            else:  # GF(2) never needs fewer symbols than the rationals: search from there
                used, g = inactivation.first_full_rank_both(*args, esi_order, L,
                                                            decoding.PRIME)
            if g > 0:
                gf2_symbols[b], gf2_decoded[b] = g, 1.0
            seconds[b] = time.perf_counter() - began
            if used > 0:
                latency[b], symbols[b], decoded[b] = arrived[used - 1], used, True
            else:
                symbols[b] = n * self.symbols_per_worker
        work = costs.reshape(n, self.symbols_per_worker).sum(axis=1)
        columns = cost_columns(block.delays, block.unit_times, work, latency)
        columns.update(symbols_gf2=gf2_symbols, decoded_gf2=gf2_decoded)
        out = Outcome(latency, symbols, decoded, seconds, columns)
        if block.want_finish:
            out = out.finishing(task_finish(block.delays, block.unit_times, work))
        return out

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None) -> Plan:
        """Real values: worker j's symbols are their expansions over the sources (a source
        symbol is its group of units; a repair symbol the weighted sum of every source its
        expansion involves, each source its group's units with the coefficient as weight);
        :class:`RaptorMaster` decides and solves."""
        K, s = self.sources(workers), self.symbols_per_worker
        group = workers // K  # unit tasks of a source
        esis = self.esis(workers)
        coefficients = expansion(K, esis)
        tasks = []
        for j in range(workers):
            work = []
            for i in range(s):
                x = esis[j * s + i]
                if x < K:  # a source symbol: exactly its group
                    work.append(Work(np.arange(x * group, (x + 1) * group)))
                    continue
                row = coefficients[j * s + i]
                keep = np.flatnonzero(np.abs(row) > 1e-9 * np.abs(row).max())
                units = (keep[:, None] * group + np.arange(group)).ravel()
                work.append(Work(units, np.repeat(row[keep], group)))
            tasks.append(TaskPlan(j, tuple(work), streaming and self.returns == "symbol"))
        return Plan(tasks, RaptorMaster(K, esis, s, coefficients, self.field))

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        # the decisions: the rows of the constraints and the symbols received (CSR, about 8
        # entries each, twice with the columns' index), the reps of the eliminated columns
        # over the inactive ones (a few sqrt(L) of them, 8 B each over the rationals); the
        # arrival times and orders of every symbol; the expansion (non-linear only, K up to
        # NONLINEAR_K_MAX)
        K = self.sources(workers)
        L = rfc5053.parameters(K).L if rfc5053.K_MIN <= K <= rfc5053.K_MAX else K
        count = workers * self.symbols_per_worker
        inactive = max(64, int(3 * L ** 0.5))
        expansion_bytes = 8 * count * K if K <= NONLINEAR_K_MAX else 0
        return int(256 * L + 8 * L * inactive + 32 * count * trials + expansion_bytes)


class RaptorMaster(Master):
    """Decides, symbol by symbol, whether the symbols received determine the sources (the
    simulation's decision, :func:`~ltsim.codes.raptor.inactivation.first_full_rank`, in the
    code's field), then solves the received symbols' expansions for the sources by least
    squares (``numpy.linalg.lstsq``) and returns their sum."""

    def __init__(self, K, esis, per_worker, coefficients, field) -> None:
        self.K, self.esis, self.s = K, esis, per_worker
        self.coefficients, self.field = coefficients, field
        self.code = rfc5053.code(K, max(esis) + 1)
        self.rows: list[int] = []
        self.values: list[float] = []
        self._value = float("nan")

    def add(self, worker, index, value, at) -> bool:
        if self.complete:
            return True
        self.received += 1
        position = worker * self.s + index
        if position in self.rows:
            return False
        self.rows.append(position)
        self.values.append(value)
        began = time.perf_counter()
        order = np.asarray([self.esis[p] for p in self.rows], dtype=np.int64)
        c = self.code
        field = inactivation.GF2 if self.field == "gf2" else decoding.PRIME
        used = inactivation.first_full_rank(c.constraint_ptr, c.constraint_idx, c.symbol_ptr,
                                            c.symbol_idx, order, c.params.L, field)
        if used == len(order):
            system = self.coefficients[self.rows]
            sources = np.linalg.lstsq(system, np.asarray(self.values), rcond=None)[0]
            self._value = float(sources.sum())
            self.complete = True
        self.seconds += time.perf_counter() - began
        return self.complete

    @property
    def value(self) -> float:
        return self._value

    @property
    def symbols(self) -> int | None:
        return len(self.rows)
