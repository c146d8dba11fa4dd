"""Recovery of F(x) from the real values returned by the workers, online.

:class:`NumericPeeler` mirrors :func:`simulator.peeling.peel` (same residual-degree and XOR
bookkeeping, same ripple) and also carries each symbol's residual *value*: when a source is
recovered from a symbol of residual degree one, its value is that symbol's residual value and
it is subtracted from every arrived symbol that contains it. Pure Python: O(edges) per trial,
a few milliseconds for m = 1000.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np


class Decoder:
    """Interface: feed results with :meth:`add`; ``complete`` once F(x) is recoverable."""

    complete: bool = False
    failed: bool = False
    """True when F(x) can no longer be recovered from what this decoder will accept."""
    seconds: float = 0.0
    """Wall time spent decoding (the master's own work), summed over calls."""
    received: int = 0
    """Results fed so far."""

    def add(self, worker: int, index: int, value: float) -> bool:
        """Feed the ``index``-th result of logical worker ``worker``; return ``complete``."""
        raise NotImplementedError

    @property
    def value(self) -> float:
        """The decoded F(x); NaN before completion."""
        raise NotImplementedError

    @property
    def symbols(self) -> int | None:
        """Encoded symbols used (coded schemes only)."""
        return None


class SumDecoder(Decoder):
    """F(x) as a sum of ``k`` partial sums; ``source(worker, index)`` names the partial sum a
    result holds. Covers All-at-One (k = 1), Uncoded (k = n, one per worker) and
    r-Replication (k = n / r, the first finished replica of each group is kept)."""

    def __init__(self, k: int, source: Callable[[int, int], int]) -> None:
        self.k, self.source = k, source
        self.parts: dict[int, float] = {}

    def add(self, worker, index, value) -> bool:
        self.received += 1
        self.parts.setdefault(self.source(worker, index), value)
        self.complete = len(self.parts) == self.k
        return self.complete

    @property
    def value(self) -> float:
        return math.fsum(self.parts.values()) if self.complete else math.nan


class NumericPeeler(Decoder):
    """Online peeling decoder on real values for an LT code graph in CSR form.

    Parameters
    ----------
    ptr, nbrs : ndarray
        The code graph: symbol ``i`` is the sum of sources ``nbrs[ptr[i]:ptr[i + 1]]``.
    k : int
        Number of source symbols.
    per_worker : int
        Symbols per worker: result ``index`` of ``worker`` is symbol ``worker * s + index``.
    threshold : int, optional
        Collect this many symbols, then decode them at once (the paper's AWS Lambda method);
        ``failed`` if they do not decode. Without it every symbol is peeled on arrival.
    """

    def __init__(self, ptr: np.ndarray, nbrs: np.ndarray, k: int, per_worker: int,
                 threshold: int | None = None) -> None:
        n_symbols = ptr.shape[0] - 1
        self.k, self.s, self.threshold = k, per_worker, threshold
        self.ptr = ptr.tolist()
        self.nbrs = nbrs.tolist()
        order = np.argsort(nbrs, kind="stable")
        owner = np.repeat(np.arange(n_symbols), np.diff(ptr))
        rev_ptr = np.zeros(k + 1, dtype=np.int64)
        np.cumsum(np.bincount(nbrs, minlength=k), out=rev_ptr[1:])
        self.rev_ptr, self.rev = rev_ptr.tolist(), owner[order].tolist()
        self.recovered = [False] * k
        self.source = [0.0] * k
        self.arrived = [False] * n_symbols
        self.degree = [0] * n_symbols
        self.residual = [0] * n_symbols
        self.resval = [0.0] * n_symbols
        self.n_recovered = 0
        self.buffer: list[tuple[int, float]] = []
        self._symbols: int | None = None

    def add(self, worker, index, value) -> bool:
        if self.complete or self.failed:
            return self.complete
        self.received += 1
        sym = worker * self.s + index
        began = time.perf_counter()
        if self.threshold is None:
            self._peel(sym, value)
            if self.complete:
                self._symbols = self.received
        else:
            self.buffer.append((sym, value))
            if len(self.buffer) >= self.threshold:
                for s, v in self.buffer:
                    self._peel(s, v)
                self.failed = not self.complete
                self._symbols = self.threshold
        self.seconds += time.perf_counter() - began
        return self.complete

    def _peel(self, sym: int, value: float) -> None:
        ptr, nbrs, recovered, source = self.ptr, self.nbrs, self.recovered, self.source
        if self.arrived[sym] or self.complete:
            return
        self.arrived[sym] = True
        d, x, v = 0, 0, value
        for e in range(ptr[sym], ptr[sym + 1]):
            g = nbrs[e]
            if recovered[g]:
                v -= source[g]
            else:
                d += 1
                x ^= g
        self.degree[sym], self.residual[sym], self.resval[sym] = d, x, v
        if d != 1:
            return
        degree, residual, resval, arrived = self.degree, self.residual, self.resval, self.arrived
        rev_ptr, rev = self.rev_ptr, self.rev
        stack = [sym]
        while stack:
            s = stack.pop()
            if degree[s] != 1:
                continue
            g = residual[s]
            recovered[g] = True
            source[g] = resval[s]
            self.n_recovered += 1
            for e in range(rev_ptr[g], rev_ptr[g + 1]):
                other = rev[e]
                if arrived[other]:
                    degree[other] -= 1
                    residual[other] ^= g
                    resval[other] -= source[g]
                    if degree[other] == 1:
                        stack.append(other)
        self.complete = self.n_recovered == self.k

    @property
    def value(self) -> float:
        return math.fsum(self.source) if self.complete else math.nan

    @property
    def symbols(self) -> int | None:
        return self._symbols if self._symbols is not None else self.received
