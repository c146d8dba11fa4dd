"""LT-r: an LT code over groups of r functions, decoded online by peeling."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from .. import theory
from ..peeling import peel, sample_neighbours
from ..soliton import RobustSoliton, mean_degree
from ..validation import StrictModel
from .base import CrossFieldError, Outcome, Scheme

MAX_EDGES = 2**31 - 1
"""Edges of one code graph the decoder can index (32-bit)."""


class ThresholdDecoder(StrictModel):
    """Stop at the ``threshold``-th arrival (the paper's AWS Lambda method)."""

    threshold: Annotated[int, Field(ge=1)]


@lru_cache(maxsize=32)
def robust_soliton(k: int, c: float, delta: float) -> RobustSoliton:
    """Cached :class:`RobustSoliton`; building one costs O(k)."""
    return RobustSoliton(k, c, delta)


@dataclass(frozen=True)
class CodeGraph:
    """One trial's code: arrival times and the bipartite graph.

    Attributes
    ----------
    times : ndarray of float64, shape (n * s,)
        Arrival time of each symbol; symbol ``j * s + i`` is worker ``j``'s ``i``-th.
    order : ndarray of int64, shape (n * s,)
        Symbols sorted by arrival time (stable: ties keep worker, then symbol, order).
    ptr, nbrs : ndarray
        CSR neighbour lists of the symbols (see :mod:`simulator.peeling`).
    """

    times: np.ndarray
    order: np.ndarray
    ptr: np.ndarray
    nbrs: np.ndarray

    @property
    def degrees(self) -> np.ndarray:
        return np.diff(self.ptr)


class LTCode(Scheme):
    """LT-r code with Robust Soliton degrees.

    ``k = n / r`` source symbols, each the sum of a group of ``r`` functions. Every worker
    computes ``symbols_per_worker`` encoded symbols one after another; a symbol of degree
    ``d`` costs ``tau * r * d``. The master peels symbols in order of arrival; the latency is
    the arrival time of the symbol that completes decoding (``inf`` if all symbols arrive and
    decoding is incomplete).

    ``returns: worker`` delivers a worker's symbols together when its last one is done;
    ``decoder: {threshold: M}`` stops at the M-th arrival instead (a failure if those M
    symbols do not decode).
    """

    kind: Literal["lt"]
    random: ClassVar[bool] = True
    r: Annotated[int, Field(ge=1)] = 1
    symbols_per_worker: Annotated[int, Field(ge=1)] = 2
    c: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 0.03
    delta: Annotated[float, Field(gt=0, lt=1)] = 0.5
    returns: Literal["symbol", "worker"] = "symbol"
    decoder: ThresholdDecoder | None = None

    @property
    def default_id(self) -> str:
        return f"lt{self.r}"

    def check(self, workers: int) -> None:
        if workers % self.r:
            raise CrossFieldError("r", f"must divide the number of workers ({workers})", self.r)
        k, total = workers // self.r, workers * self.symbols_per_worker
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
        return robust_soliton(workers // self.r, self.c, self.delta)

    def sample_graph(
        self, delays: np.ndarray, tau: float, rng: np.random.Generator
    ) -> CodeGraph:
        """Draw one trial's code graph and arrival times.

        Parameters
        ----------
        delays : ndarray of float64, shape (n,)
            Start-up delays of the workers.
        tau : float
            Time of one unit task.
        rng : Generator
            Consumed in a fixed order: degrees, then neighbours.
        """
        n, s = delays.shape[0], self.symbols_per_worker
        k = n // self.r
        degrees = self.soliton(n).sample(rng, n * s)
        ptr = np.zeros(n * s + 1, dtype=np.int64)
        np.cumsum(degrees, out=ptr[1:])
        if ptr[-1] >= MAX_EDGES:  # the decoder indexes edges with 32-bit integers
            raise OverflowError(f"{ptr[-1]} edges exceed the decoder's limit of {MAX_EDGES}")
        nbrs = sample_neighbours(ptr, k, rng)
        cost = (tau * self.r) * degrees.reshape(n, s).astype(np.float64)
        if self.returns == "symbol":
            done = np.cumsum(cost, axis=1)
        else:
            done = np.repeat(cost.sum(axis=1, keepdims=True), s, axis=1)
        times = (delays[:, None] + done).ravel()
        order = np.argsort(times, kind="stable")
        return CodeGraph(times, order, ptr, nbrs)

    def simulate(self, delays, tau, rngs) -> Outcome:
        trials, n = delays.shape
        k = n // self.r
        limit = self.decoder.threshold if self.decoder else n * self.symbols_per_worker
        latency = np.empty(trials)
        symbols = np.empty(trials, dtype=np.int64)
        decoded = np.empty(trials, dtype=bool)
        seconds = np.empty(trials)
        for b in range(trials):
            graph = self.sample_graph(delays[b], tau, rngs[b])
            start = time.perf_counter()
            used = peel(graph.ptr, graph.nbrs, graph.order, k, limit)
            seconds[b] = time.perf_counter() - start
            decoded[b] = used > 0
            if self.decoder is not None:
                used = limit if used > 0 else -1
            symbols[b] = used if used > 0 else limit
            latency[b] = graph.times[graph.order[used - 1]] if used > 0 else math.inf
        return Outcome(latency, symbols, decoded, seconds)

    def theory_bound(self, delay, workers, tau) -> float:
        parts = theory.exponential_parts(delay)
        if parts is None:
            return math.nan
        dbar = mean_degree(workers // self.r, self.c, self.delta)
        return theory.bound_lt(self.r, dbar, tau, *parts)

    def memory_bytes(self, workers: int) -> int:
        n_symbols = workers * self.symbols_per_worker
        edges = n_symbols * mean_degree(workers // self.r, self.c, self.delta)
        # per symbol: degrees, ptr, cost, times, order, decoder state (~90 B); per edge: the
        # neighbour and the decoder's two list links (12 B); one chunk of uniforms (32 MiB)
        return int(90 * n_symbols + 12 * edges + 16 * workers + 8 * 2**22)
