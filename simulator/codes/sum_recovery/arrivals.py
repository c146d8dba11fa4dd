"""The arrival process of the sum-recovery code, and its trials fed to the exact decoder.

The job is ``F = f_1 + ... + f_n``; each ``f_i`` is a *unit* of work of duration ``u``. Worker
``j`` (``0 <= j < n``) starts after a random delay ``X_j``, computes its own unit and returns
it (symbol ``e_j``), then walks a uniformly random order of the other ``n - 1`` units and
returns, one after another, the sums of consecutive chunks of ``d`` units of that order (the
last chunk may be shorter). A symbol is done at ``X_j + u * (1 + c)``, ``c`` the number of
units in the worker's chunks so far, so a worker alone holds ``F`` after
``1 + ceil((n - 1) / d)`` symbols; an optional cap limits the symbols of every worker (the
singleton counts). The symbols are merged by arrival time (stable: ties by worker, then
symbol); the master stops at the first arrival after which the all-ones vector lies in the
real row space of the received symbols' indicator vectors
(:func:`~ltsim.codes.sum_recovery.gfp.stop_count`). See docs/codes.md (section
``sum_recovery``).

Public API: :func:`sample_trial`, the symbols of one trial in arrival order (CSR), all of
them or the first few; :func:`run_trial`, one trial with lazy generation (symbols are drawn
in arrival order and fed to the decoder until it stops; only the received prefix is ever
built); :class:`Workspace`, the reusable buffers of both at a fixed ``n``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ...jit import njit
from ...util.pcg import restore, state_of, step
from .blas import one_blas_thread
from .gfp import BATCH, DecoderState, DecoderWorkspace, _dec_add, _dec_reset, _workspace

_NO_CAP = 0


class GeneratorState(NamedTuple):
    """The trial generator's arrays for ``n`` workers (see :func:`_trial`).

    Attributes
    ----------
    perm : ndarray of int32, shape (n, max(n - 1, 1))
        Each worker's random order of the other units, shuffled lazily.
    pinit : ndarray of bool, shape (n,)
        Whether a worker's row of ``perm`` is initialised.
    nsym : ndarray of int64, shape (n,)
        Each worker's next symbol.
    ntime : ndarray of float64, shape (n,)
        Each worker's next arrival time.
    heap : ndarray of int64, shape (n,)
        The workers, a binary heap by (next arrival time, worker).
    """

    perm: np.ndarray
    pinit: np.ndarray
    nsym: np.ndarray
    ntime: np.ndarray
    heap: np.ndarray


@njit
def _before(a, b, t) -> bool:
    """Heap order: earlier time, then lower worker."""
    return t[a] < t[b] or (t[a] == t[b] and a < b)


@njit
def _sift_down(heap, h, pos, t) -> None:
    x = heap[pos]
    while True:
        c = 2 * pos + 1
        if c >= h:
            break
        if c + 1 < h and _before(heap[c + 1], heap[c], t):
            c += 1
        if _before(heap[c], x, t):
            heap[pos] = heap[c]
            pos = c
        else:
            break
    heap[pos] = x


@njit
def _symbols_per_worker(n: int, d: int, cap: int) -> int:
    full = 1 + (n - 1 + d - 1) // d
    if cap > 0 and cap < full:
        return cap
    return full


@njit
def _trial(delays, u, d, cap, state, decode, limit, gen, dec, by_delay, whole=False):
    """Generate the symbols of one trial in arrival order and, with ``decode``, feed each to
    the decoder until it holds; never more than ``limit`` symbols.

    A binary heap keyed by (next arrival time, worker) merges the workers' schedules, so the
    sequence is the stable sort by time with ties by worker then symbol. A worker's random
    order is a Fisher-Yates shuffle of the other units done lazily, one ``rng.random()`` per
    unit placed (none for the last one), into its row of ``gen.perm``; the uniforms are
    NumPy's PCG64 run inline on ``state`` (:mod:`ltsim.util.pcg`). ``gen``
    (:class:`GeneratorState`) and the decoder's ``dec``
    (:class:`~ltsim.codes.sum_recovery.gfp.DecoderState`) are reset here.

    ``u`` holds every worker's unit time; with ``whole`` a worker returns all its symbols
    together when the last is done.

    ``by_delay`` lists the workers by increasing delay (the decoder's column priority; unused
    without ``decode``).

    Returns ``(stop, times, worker, ptr, idx)``: ``stop`` the 1-based stopping count or -1,
    and the generated prefix.
    """
    n = delays.shape[0]
    perm, pinit, nsym, ntime, heap = gen.perm, gen.pinit, gen.nsym, gen.ntime, gen.heap
    s_hi, s_lo, inc_hi, inc_lo = state[0], state[1], state[2], state[3]
    per = _symbols_per_worker(n, d, cap)
    last = 1 + min((per - 1) * d, n - 1)  # units of a worker's symbols
    for j in range(n):
        nsym[j] = 0
        pinit[j] = False
        ntime[j] = delays[j] + u[j] * (last if whole else 1)
        heap[j] = j
    h = n
    for pos in range(h // 2 - 1, -1, -1):
        _sift_down(heap, h, pos, ntime)
    cap_s = max(min(limit, 4 * n), 1)
    times = np.empty(cap_s, dtype=np.float64)
    worker = np.empty(cap_s, dtype=np.int64)
    ptr = np.empty(cap_s + 1, dtype=np.int64)
    idx = np.empty(cap_s * min(d, max(n - 1, 1)) + cap_s, dtype=np.int64)
    ptr[0] = 0
    if decode:
        _dec_reset(n, dec)
        prio = dec.prio
        for r in range(n):  # singletons arrive in the order of the delays (by_delay)
            prio[by_delay[r]] = r
    m = 0
    stop = -1
    while h > 0 and m < limit:
        j = heap[0]
        sym = nsym[j]
        if m == times.shape[0]:
            new = 2 * m
            times2 = np.empty(new, dtype=np.float64)
            for i in range(m):  # element loops: slice copies are slow to compile
                times2[i] = times[i]
            times = times2
            worker2 = np.empty(new, dtype=np.int64)
            for i in range(m):
                worker2[i] = worker[i]
            worker = worker2
            ptr2 = np.empty(new + 1, dtype=np.int64)
            for i in range(m + 1):
                ptr2[i] = ptr[i]
            ptr = ptr2
        e0 = ptr[m]
        covered = 0
        size = 1
        if sym > 0:
            covered = (sym - 1) * d
            size = min(d, n - 1 - covered)
        if e0 + size > idx.shape[0]:
            idx2 = np.empty(max(2 * idx.shape[0], e0 + size), dtype=np.int64)
            for i in range(e0):
                idx2[i] = idx[i]
            idx = idx2
        if sym == 0:
            idx[e0] = j
        else:
            row = perm[j]
            if not pinit[j]:
                for i in range(j):
                    row[i] = i
                for i in range(j + 1, n):
                    row[i - 1] = i
                pinit[j] = True
            left = n - 1
            for s in range(covered, covered + size):
                span = left - s
                if span > 1:
                    s_hi, s_lo, x = step(s_hi, s_lo, inc_hi, inc_lo)  # rng.random()
                    r = s + int(x * span)
                    if r >= left:  # guards against rounding of u * span up to span
                        r = left - 1
                    tmp = row[s]
                    row[s] = row[r]
                    row[r] = tmp
                idx[e0 + s - covered] = row[s]
        times[m] = ntime[j]
        worker[m] = j
        ptr[m + 1] = e0 + size
        m += 1
        nsym[j] = sym + 1
        if sym + 1 < per:
            if not whole:
                ntime[j] = delays[j] + u[j] * (1 + min((sym + 1) * d, n - 1))
        else:
            h -= 1
            heap[0] = heap[h]
        if h > 0:
            _sift_down(heap, h, 0, ntime)
        if decode and _dec_add(idx, e0, e0 + size, dec):
            stop = m
            break
    state[0], state[1] = s_hi, s_lo
    return stop, times[:m], worker[:m], ptr[: m + 1], idx[: ptr[m]]


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


class Workspace(DecoderWorkspace):
    """Buffers of the decoder and the trial generator for ``n`` units, reusable across trials.

    The decoder's (:class:`~ltsim.codes.sum_recovery.gfp.DecoderWorkspace`, whose
    parameters ``n``, ``batch`` and ``blas`` it takes) and the generator's
    (:class:`GeneratorState`, allocated on first use).
    """

    def __init__(self, n: int, batch: int = BATCH, blas: bool | None = None) -> None:
        super().__init__(n, batch, blas)
        self._gen: GeneratorState | None = None

    @staticmethod
    def generator_buffers(n: int) -> GeneratorState:
        """Fresh generator arrays for ``n`` workers."""
        return GeneratorState(
            perm=np.empty((n, max(n - 1, 1)), dtype=np.int32),
            pinit=np.empty(n, dtype=np.bool_),
            nsym=np.empty(n, dtype=np.int64),
            ntime=np.empty(n, dtype=np.float64),
            heap=np.empty(n, dtype=np.int64),
        )

    def generator(self) -> GeneratorState:
        """The generator's arrays, allocated on first use."""
        if self._gen is None:
            self._gen = self.generator_buffers(self.n)
        return self._gen


_DUMMY: DecoderWorkspace | None = None


def _dummy_decoder() -> DecoderState:
    """A decoder state that is never used (``decode=False``), of the right types."""
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = DecoderWorkspace(1, batch=1)
    return _DUMMY.dec


class Arrivals(NamedTuple):
    """Symbols in arrival order, as CSR.

    Attributes
    ----------
    times : ndarray of float64, shape (S,)
        Arrival times, non-decreasing.
    ptr : ndarray of int64, shape (S + 1,)
        CSR offsets.
    idx : ndarray of int64
        Units of each symbol: symbol ``s`` is ``idx[ptr[s]:ptr[s+1]]`` (a worker's first
        symbol is its own unit; the others follow its random order).
    worker : ndarray of int64, shape (S,)
        The worker that sent each symbol.
    """

    times: np.ndarray
    ptr: np.ndarray
    idx: np.ndarray
    worker: np.ndarray


class Trial(NamedTuple):
    """Outcome of :func:`run_trial`.

    Attributes
    ----------
    count : int
        Symbols received at the stop (1-based), or -1 if every symbol arrives without it
        (which the sum-recovery code never reaches: each worker's first symbol is its own
        unit, so all ``n`` first symbols recover F).
    latency : float
        Arrival time of the stopping symbol (``inf`` when ``count == -1``).
    received : Arrivals
        The received prefix: the first ``count`` arrivals (all of them when ``count == -1``).
    certified : bool
        Whether the computation itself proves the answer over the rationals: ``count == n``
        and the ``n`` received symbols are independent (see docs/codes.md, the exact
        decoder). Otherwise the answer is exact unless
        :data:`~ltsim.codes.sum_recovery.gfp.PRIME` divides a specific minor.
    """

    count: int
    latency: float
    received: Arrivals
    certified: bool


def _check_process(delays, u, d, cap) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Validated trial parameters: delays and per-worker unit times as contiguous float64,
    ``d`` and the cap (0 for none) as ints."""
    delays = np.ascontiguousarray(delays, dtype=np.float64)
    if delays.ndim != 1 or delays.size < 1:
        raise ValueError("delays must be a non-empty 1-d array, one per worker")
    if np.isnan(delays).any():
        raise ValueError("delays must not be NaN")
    u = np.ascontiguousarray(np.broadcast_to(np.asarray(u, dtype=np.float64), delays.shape))
    if not (np.all(np.isfinite(u)) and np.all(u >= 0)):
        raise ValueError("u must be finite and >= 0 (one value, or one per worker)")
    if int(d) != d or d < 1:
        raise ValueError(f"d must be an integer >= 1, got {d}")
    if cap is None:
        cap = _NO_CAP
    elif int(cap) != cap or cap < 1:
        raise ValueError(f"cap must be None or an integer >= 1, got {cap}")
    return delays, u, int(d), int(cap)


def symbols_per_worker(n: int, d: int, cap: int | None = None) -> int:
    """Symbols a worker sends: ``1 + ceil((n - 1) / d)``, at most ``cap``."""
    return int(_symbols_per_worker(n, d, _NO_CAP if cap is None else cap))


def sample_trial(delays: np.ndarray, u, d: int, cap: int | None,
                 rng: np.random.Generator, max_symbols: int | None = None,
                 whole: bool = False) -> Arrivals:
    """The symbols of one trial, merged in order of arrival.

    Parameters
    ----------
    delays : array_like of float, shape (n,)
        Start-up delays ``X_j``, one per worker (worker ``j`` owns unit ``j``).
    u : float or array_like of float, shape (n,)
        Time to compute one unit (on every worker, or on each).
    d : int
        Chunk size.
    cap : int or None
        At most this many symbols per worker (the singleton counts), or None for all
        ``1 + ceil((n - 1) / d)``.
    rng : Generator
        Draws the workers' random orders: one ``rng.random()`` per unit placed in a chunk
        (a lazy Fisher-Yates step; the last unit of an order needs none), in arrival order.
        So :func:`run_trial` with the same ``rng`` state receives exactly the first symbols
        of this sequence.
    max_symbols : int, optional
        Stop after the first this many arrivals (default: all).
    whole : bool
        Every worker returns its symbols together when its last is done (``returns:
        worker``).

    Returns
    -------
    Arrivals
        ``(times, ptr, idx, worker)``, sorted by time, ties by worker then symbol.

    Notes
    -----
    ``O(S log n + units)`` time for ``S`` symbols and ``O(n^2)`` memory; all symbols of an
    uncapped trial are ``n (1 + ceil((n-1)/d))``, so this is for tests and small ``n``;
    trials use :func:`run_trial`.
    """
    delays, u, d, cap = _check_process(delays, u, d, cap)
    n = delays.size
    total = n * _symbols_per_worker(n, d, cap)
    if max_symbols is not None:
        total = min(total, max(int(max_symbols), 0))
    state = state_of(rng)
    _, times, worker, ptr, idx = _trial(delays, u, d, cap, state, False, total,
                                        Workspace.generator_buffers(n), _dummy_decoder(),
                                        np.empty(0, dtype=np.int64), whole)
    restore(rng, state)
    return Arrivals(times, ptr, idx, worker)


def run_trial(delays: np.ndarray, u, d: int, cap: int | None,
              rng: np.random.Generator, workspace: Workspace | None = None,
              whole: bool = False) -> Trial:
    """One trial: generate symbols in arrival order and decode until ``F`` is recoverable.

    Symbols are produced lazily (a heap merges the workers' schedules, each worker's random
    order is drawn one Fisher-Yates step per unit placed) and fed one by one to the exact
    decoder of :func:`~ltsim.codes.sum_recovery.gfp.stop_count`, so all the work is that of
    the received prefix.

    Parameters
    ----------
    delays, u, d, cap, rng, whole
        As in :func:`sample_trial`; the received symbols are the first ones of
        ``sample_trial(delays, u, d, cap, rng)`` for the same ``rng`` state.
    workspace : Workspace, optional
        Buffers for ``n = len(delays)`` to reuse across trials.

    Returns
    -------
    Trial
        ``(count, latency, received, certified)``.
    """
    delays, u, d, cap = _check_process(delays, u, d, cap)
    n = delays.size
    ws = _workspace(n, workspace, Workspace)
    limit = n * _symbols_per_worker(n, d, cap)
    with one_blas_thread(ws.blas):
        state = state_of(rng)
        stop, times, worker, ptr, idx = _trial(delays, u, d, cap, state, True, limit,
                                               ws.generator(), ws.dec,
                                               np.argsort(delays, kind="stable"), whole)
        restore(rng, state)
    latency = float(times[stop - 1]) if stop > 0 else math.inf
    certified = stop == n and ws.rank == n
    return Trial(int(stop), latency, Arrivals(times, ptr, idx, worker), bool(certified))
