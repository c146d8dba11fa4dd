"""LT-r: an LT code over groups of r units (or k source symbols), decoded online by
peeling."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from ...model.orderstats import harmonic
from ...util.validation import StrictModel
from ..base import CrossFieldError, Master, Outcome, OverSources, Plan, TaskPlan, Work
from .peeling import back_substitute, floyd_in_order, new_state, peel_more
from .soliton import RobustSoliton, mean_degree, spike_position
from .trial import Workspace, guide_table, lt_trial

MAX_EDGES = 2**31 - 1
"""Edges of one code graph the decoder can index (32-bit)."""


class Unavailable(float):
    """NaN with the ``note`` saying why (the ``theory_note`` of ``summary.csv``)."""

    note: str

    def __new__(cls, note: str) -> Unavailable:
        value = super().__new__(cls, math.nan)
        value.note = note
        return value


class ThresholdDecoder(StrictModel):
    """Stop at the ``threshold``-th arrival (the paper's AWS Lambda method)."""

    threshold: Annotated[int, Field(ge=1)]


_LOCAL = threading.local()


def _workspace(n: int, s: int, k: int, mean_degree: float) -> Workspace:
    """Buffers of the compiled trial, reused by every trial of a thread (blocks may run in
    several threads of one process, e.g. on a Dask worker)."""
    key = (n, s, k)
    if getattr(_LOCAL, "key", None) != key:
        _LOCAL.key, _LOCAL.space = key, Workspace(n, s, k, mean_degree)
    return _LOCAL.space


@lru_cache(maxsize=8)
def _guide(k: int, c: float, delta: float) -> np.ndarray:
    """The guide table of the Robust Soliton CDF (see :func:`guide_table`)."""
    return guide_table(robust_soliton(k, c, delta).cdf)


@lru_cache(maxsize=32)
def robust_soliton(k: int, c: float, delta: float) -> RobustSoliton:
    """Cached :class:`RobustSoliton`; building one costs O(k)."""
    return RobustSoliton(k, c, delta)


@dataclass(frozen=True)
class CodeGraph:
    """One trial's code: the bipartite graph between encoded symbols and source groups.

    Attributes
    ----------
    ptr, nbrs : ndarray
        CSR neighbour lists: symbol ``j * s + i`` (worker ``j``'s ``i``-th) is the sum of the
        groups ``nbrs[ptr[j*s+i]:ptr[j*s+i+1]]`` (see :mod:`ltsim.codes.lt.peeling`).
    """

    ptr: np.ndarray
    nbrs: np.ndarray

    @property
    def degrees(self) -> np.ndarray:
        return np.diff(self.ptr)


class LTCode(OverSources):
    """LT-r code with Robust Soliton degrees.

    ``k = n / r`` source symbols, each the sum of a group of ``r`` units (or ``k`` given:
    sources of ``m / k`` functions, ``n / k`` unit tasks, e.g. an LT code over the 10,000
    rows of a linear job on 10 workers). Every worker computes ``symbols_per_worker``
    encoded symbols one after another; a symbol of degree ``d`` costs ``u * r * d`` (``r``
    the unit tasks of a source; ``u * r`` in a linear computation). The master peels
    symbols in order of arrival; the latency is the arrival time of the symbol that
    completes decoding (``inf`` if all symbols arrive and decoding is incomplete).

    ``returns: worker`` delivers a worker's symbols together when its last one is done;
    ``decoder: {threshold: M}`` stops at the M-th arrival instead (a failure if those M
    symbols do not decode).
    """

    kind: Literal["lt"] = "lt"
    draws: ClassVar[bool] = True
    r: Annotated[int, Field(ge=1)] = 1
    k: Annotated[int, Field(ge=1)] | None = None
    symbols_per_worker: Annotated[int, Field(ge=1)] = 2
    c: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 0.03
    delta: Annotated[float, Field(gt=0, lt=1)] = 0.5
    returns: Literal["symbol", "worker"] = "symbol"
    decoder: ThresholdDecoder | None = None

    @property
    def default_id(self) -> str:
        return f"lt{self.r}" if self.k is None else f"lt-k{self.k}"

    def display_name(self) -> str:
        return self.label or (f"LT-{self.r}" if self.k is None else f"LT (k={self.k})")

    def check(self, workers: int) -> None:
        self.check_sources(workers)
        if workers % self.r:
            raise CrossFieldError("r", f"must divide the number of workers ({workers})", self.r)
        k, total = self.sources(workers), workers * self.symbols_per_worker
        if total < k:
            raise CrossFieldError(
                "symbols_per_worker",
                f"workers x symbols_per_worker must be >= k = {k} source symbols",
                self.symbols_per_worker,
            )
        edges = total * mean_degree(k, self.c, self.delta)
        if edges > MAX_EDGES / 2:
            raise CrossFieldError(
                "symbols_per_worker",
                f"the code would have about {edges:.3g} edges; at most {MAX_EDGES / 2:.3g} "
                "are supported (reduce m, workers or symbols_per_worker)",
                self.symbols_per_worker,
            )
        if self.decoder is not None and not k <= self.decoder.threshold <= total:
            raise CrossFieldError(
                "decoder.threshold",
                f"must lie between k = {k} and the {total} symbols sent",
                self.decoder.threshold,
            )

    def soliton(self, workers: int) -> RobustSoliton:
        return robust_soliton(self.sources(workers), self.c, self.delta)

    def sample_code(self, workers: int, rng: np.random.Generator,
                    delays: np.ndarray | None = None, unit_times=None,
                    linear: bool = False) -> CodeGraph:
        """Draw one trial's whole code as the simulation draws it: the degrees in symbol
        order (symbol ``j * s + i`` is worker ``j``'s ``i``-th), then the neighbours of every
        symbol in order of arrival (given the workers' start-up ``delays`` and ``unit_times``;
        by worker then symbol when none are given). The simulation
        (:mod:`ltsim.codes.lt.trial`) draws exactly a prefix of these neighbours, those
        of the symbols it receives. ``linear``: the arrival times of a linear computation.
        """
        s, k = self.symbols_per_worker, self.sources(workers)
        degrees = self.soliton(workers).sample(rng, workers * s)
        ptr = np.zeros(workers * s + 1, dtype=np.int64)
        np.cumsum(degrees, out=ptr[1:])
        if ptr[-1] >= MAX_EDGES:  # the decoder indexes edges with 32-bit integers
            raise OverflowError(f"{ptr[-1]} edges exceed the decoder's limit of {MAX_EDGES}")
        graph = CodeGraph(ptr, np.empty(ptr[-1], dtype=np.int32))
        if delays is None:
            order = np.arange(workers * s)
        else:
            unit = np.zeros(workers) if unit_times is None else unit_times
            times = self.arrival_times(graph, np.asarray(delays, dtype=float), unit, linear)
            order = np.argsort(times, kind="stable")
        floyd_in_order(ptr, order, k, rng.random(int(ptr[-1])), graph.nbrs)
        return graph

    def arrival_times(self, graph: CodeGraph, delays: np.ndarray,
                      unit: float | np.ndarray, linear: bool = False) -> np.ndarray:
        """Arrival time of every symbol: worker ``j`` computes its symbols one after another
        from ``delays[j]``, a symbol of degree ``d`` taking ``unit * r * d`` (``unit * r``
        when ``linear``; ``r`` the unit tasks of a source, :meth:`source_units`; ``unit`` a
        scalar, or one per worker); ``returns: worker`` delivers them all when the last is
        done."""
        n, s = delays.shape[0], self.symbols_per_worker
        if np.ndim(unit):
            unit = np.asarray(unit)[:, None]
        sizes = np.ones(n * s) if linear else graph.degrees.astype(np.float64)
        cost = (unit * self.source_units(n)) * sizes.reshape(n, s)
        if self.returns == "symbol":
            done = np.cumsum(cost, axis=1)
        else:
            done = np.repeat(cost.sum(axis=1, keepdims=True), s, axis=1)
        return (delays[:, None] + done).ravel()

    def simulate(self, block) -> Outcome:
        """Every trial in one compiled call (:func:`~ltsim.codes.lt.trial.lt_trial`):
        degrees, arrival times, neighbours drawn lazily as symbols arrive, peeling, cost."""
        trials, n = block.delays.shape
        k = self.sources(n)
        size = float(self.source_units(n))
        threshold = self.decoder.threshold if self.decoder else 0
        soliton = self.soliton(n)
        space = _workspace(n, self.symbols_per_worker, k, soliton.mean)
        guide = _guide(k, self.c, self.delta)
        unit_times = np.broadcast_to(np.asarray(block.unit_times, dtype=float), (trials, n))
        latency, seconds = np.empty(trials), np.empty(trials)
        symbols = np.empty(trials, dtype=np.int64)
        decoded = np.empty(trials, dtype=bool)
        busy = np.empty(trials)
        units = np.empty(trials, dtype=np.int64 if self.k is None else float)
        finish = np.empty((trials, n)) if block.want_finish else None
        for b in range(trials):
            start = time.perf_counter()
            latency[b], symbols[b], decoded[b], busy[b], done = lt_trial(
                block.delays[b], np.ascontiguousarray(unit_times[b]), size,
                self.symbols_per_worker, k, soliton.cdf, guide, self.returns == "worker",
                threshold, block.rngs[b], space, block.linear)
            seconds[b] = time.perf_counter() - start
            units[b] = done
            if finish is not None:  # the trial's work per worker, in unit tasks
                finish[b] = block.delays[b] + unit_times[b] * space.work[:n]
        out = Outcome(latency, symbols, decoded, seconds,
                      {"worker_seconds": busy, "units": units})
        return out if finish is None else out.finishing(finish)

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None) -> Plan:
        s = self.symbols_per_worker
        k = self.sources(workers)
        r = workers // k
        graph = self.sample_code(workers, rng, delays, unit_times)
        tasks = []
        for j in range(workers):
            work = []
            for i in range(s):
                sym = j * s + i
                groups = graph.nbrs[graph.ptr[sym]:graph.ptr[sym + 1]].astype(np.int64)
                work.append(Work((groups[:, None] * r + np.arange(r)).ravel()))
            tasks.append(TaskPlan(j, tuple(work), streaming and self.returns == "symbol"))
        threshold = self.decoder.threshold if self.decoder is not None else None
        return Plan(tasks, PeelingMaster(graph, k, s, threshold))

    def _bound_applies(self, system) -> bool:
        """Whether Theorem 1 is stated for this system and code: (shifted) exponential
        delays, the online decoder with per-symbol returns, the paper's plain system (no
        machine classes, every speed 1) of a non-linear computation (its cost is the
        degrees'), for the paper's sources (``k = n / r``)."""
        return (system.law.shift_rate() is not None and system.plain and not system.linear
                and self.k is None
                and self.returns == "symbol" and self.decoder is None)

    def short_of_symbols(self, workers: int) -> str:
        """Why the code cannot be expected to decode, ``""`` when it can.

        Theorem 1 assumes decoding succeeds from about ``k = n / r`` symbols (``m_e -> inf``).
        The Robust Soliton over ``k`` sources is built for ``K = k beta`` received symbols
        (Luby 2002: decoding then succeeds with probability at least ``1 - delta``); a code
        that sends fewer (``n s < K``: one symbol per worker at ``r = 1``, a huge ``c``)
        practically never decodes at the sizes of the paper (it can for a few sources), and
        the bound describes nothing it does. (Decoding would be impossible only with
        ``n s < k``, which cannot happen, ``n s >= n >= k``: every code decodes with some
        probability.)

        Parameters
        ----------
        workers : int
            Number of workers ``n``.

        Returns
        -------
        str
            The ``theory_note`` of such a code, ``""`` otherwise.
        """
        k, sent = self.sources(workers), workers * self.symbols_per_worker
        S, spike = spike_position(k, self.c, self.delta)
        beta = 1.0 + S * harmonic(spike - 1) / k + S * max(math.log(S / self.delta), 0.0) / k
        if k == 1 or sent >= k * beta:  # one source: every symbol is it, the first decodes
            return ""
        return (f"no theory_bound: n*s = {sent} symbols sent, fewer than k*beta = "
                f"{k * beta:.6g}, the Robust Soliton's design size")

    def theory_mean(self, system) -> float:
        """NaN (no closed form); with a ``note`` (``theory_note``) when Theorem 1 would apply
        but the code sends too few symbols to decode (:meth:`short_of_symbols`)."""
        if self._bound_applies(system):
            note = self.short_of_symbols(system.workers)
            if note:
                return Unavailable(note)
        return math.nan

    def theory_bound(self, system) -> float:
        # Theorem 1, E[T] <= shift + u (r + 1) dbar_{n/r} + 1/rate (see _bound_applies),
        # for a code that sends the symbols its Robust Soliton needs (short_of_symbols)
        if not self._bound_applies(system) or self.short_of_symbols(system.workers):
            return math.nan
        shift, rate = system.law.shift_rate()
        dbar = mean_degree(system.workers // self.r, self.c, self.delta)
        return shift + system.unit * (self.r + 1) * dbar + 1.0 / rate

    def memory_bytes(self, workers: int, trials: int = 1) -> int:
        # The trial's buffers are reused by every trial of a process and allocated for all
        # the symbols, but only the pages of what a trial touches are resident: per symbol
        # its degree, arrival time, the radix sort's two keys and two indices (48 B); per
        # worker its work and unit time (16 B); per symbol received its order, edge pointer,
        # stack slot (8 B each), residual degree and XOR (4 B each); per edge received the
        # neighbour (4 B); per source the row of ``cap`` slots its symbols are filed in (4 B
        # each; the linked lists hold the rare symbols beyond a row) and 13 B, and
        # the Soliton CDF and its guide table (16 B). The online decoder receives about
        # 1.0-1.2 k symbols (1.75 k when high-degree symbols arrive much later than
        # low-degree ones).
        n_symbols = workers * self.symbols_per_worker
        k = self.sources(workers)
        received = min(n_symbols, self.decoder.threshold if self.decoder is not None
                       else math.ceil(1.1 * k))
        degree = mean_degree(k, self.c, self.delta)
        edges = received * degree
        cap = math.ceil(1.1 * degree) + 8  # trial.Workspace's row capacity
        return int(48 * n_symbols + 16 * workers + 32 * received + 4 * edges
                   + (29 + 4 * cap) * k + 64 * trials)


class PeelingMaster(Master):
    """The LT master on real values: the compiled decoder of the simulation
    (:func:`~ltsim.codes.lt.peeling.peel_more`) run arrival by arrival, and the source values
    back-substituted along its recovery schedule once every source is recovered.

    With a ``threshold`` it collects that many symbols and decodes them at once (the paper's
    AWS Lambda method); ``failed`` if they do not decode.
    """

    def __init__(self, graph: CodeGraph, k: int, per_worker: int,
                 threshold: int | None = None) -> None:
        n_symbols = graph.ptr.shape[0] - 1
        self.graph, self.k, self.s, self.threshold = graph, k, per_worker, threshold
        self.state = new_state(graph.ptr, k)
        self.order = np.empty(n_symbols, dtype=np.int64)
        self.values = np.zeros(n_symbols)
        self.arrived = np.zeros(n_symbols, dtype=bool)
        self.used: int | None = None
        self.source: np.ndarray | None = None

    def add(self, worker, index, value, at) -> bool:
        if self.complete or self.failed:
            return self.complete
        began = time.perf_counter()
        sym = worker * self.s + index
        if not self.arrived[sym]:
            self.arrived[sym] = True
            self.values[sym] = value
            self.order[self.received] = sym
            self.received += 1
            if self.threshold is None:
                self._peel(self.received - 1, self.received)
            elif self.received == self.threshold:
                self._peel(0, self.received)
                self.failed = not self.complete
        self.seconds += time.perf_counter() - began
        return self.complete

    def _peel(self, first: int, last: int) -> None:
        graph = self.graph
        done = peel_more(graph.ptr, graph.nbrs, self.order, first, last, self.state)
        if done > 0:
            self.complete = True
            self.used = last if self.threshold is not None else done
            self.source = back_substitute(graph.ptr, graph.nbrs, self.state.schedule,
                                          self.values)

    @property
    def value(self) -> float:
        return math.fsum(self.source.tolist()) if self.complete else math.nan

    @property
    def symbols(self) -> int | None:
        return self.used if self.used is not None else self.received
