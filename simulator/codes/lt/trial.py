"""One LT trial in one compiled call: degrees, arrivals, lazy neighbours, peeling, cost.

The decoder only reads the neighbours of the symbols that arrive before decoding completes:
degrees are needed for every symbol (they set the arrival times), neighbours only for the
received ones. So a trial

1. draws every degree by inversion of the Robust Soliton CDF (one uniform per symbol, in
   symbol order: symbol ``j s + i`` is worker ``j``'s ``i``-th), through a guide table so a
   draw costs O(1) on average (the same degree as a binary search of the CDF);
2. computes every symbol's arrival time (worker ``j`` computes its symbols one after another
   from ``X_j``, a symbol of degree ``d`` taking ``u_j r d``; ``returns: worker`` delivers all
   with the last) and puts the symbols in arrival order by one stable sort of those times
   (:func:`radix_order`, symbols laid out worker by worker): ties by worker then symbol,
   the order a binary heap keyed by (time, worker) gives (the previous kernel's), about a
   quarter faster at m = 1000 and more at large m;
3. draws each arriving symbol's ``d`` distinct neighbours just before feeding it to the online
   peeling decoder (Floyd's algorithm, ``d`` uniforms), and stops as soon as every source is
   recovered (a threshold decoder takes exactly its M arrivals and decodes them then);
4. computes the trial's cost: each worker is busy until it finished or until T, and has
   completed the units it computed by then.

The uniforms are NumPy's PCG64 stream of the trial's generator, run inline
(:mod:`ltsim.util.pcg`): the degrees' uniforms, then the neighbours' uniforms of the
symbols in arrival order, up to the stopping symbol. Buffers are preallocated
(:class:`Workspace`): a trial allocates nothing.
"""

from __future__ import annotations

import math

import numpy as np

from ...jit import njit
from ...util.pcg import restore, state_of, step
from .peeling import release


class Workspace:
    """Buffers of LT trials for ``n`` workers, ``s`` symbols each and ``k`` sources."""

    def __init__(self, n: int, s: int, k: int, mean_degree: float) -> None:
        symbols = n * s
        edges = max(int(symbols * mean_degree * 1.25) + 64, 64)
        self.ints = np.empty((6, max(n, k, symbols) + 1), dtype=np.int64)
        self.times = np.empty(symbols)  # every symbol's arrival time
        self.keys = np.empty((2, symbols), dtype=np.uint64)  # the radix sort's keys
        self.count = np.empty(256, dtype=np.int64)
        self.nbrs = np.empty(edges, dtype=np.int32)
        self.link = np.empty(2 * edges, dtype=np.int32)
        self.small = np.empty((3, max(k, symbols) + 1), dtype=np.int32)
        self.recovered = np.empty(k, dtype=np.bool_)
        self.head = np.empty(k, dtype=np.int32)
        # each source's received symbols: the first ``cap`` in its own row of ``slots``
        # (read in one sweep when it is recovered), the rest on its linked list
        self.cap = math.ceil(1.1 * mean_degree) + 8
        self.slots = np.empty(k * self.cap, dtype=np.int32)
        self.fill = np.empty(k, dtype=np.int32)
        self.work = np.empty(n)
        self.state = np.empty(4, dtype=np.uint64)

    def grow(self, edges: int) -> None:
        """Room for at least ``edges`` received edges."""
        self.nbrs = np.empty(edges, dtype=np.int32)
        self.link = np.empty(2 * edges, dtype=np.int32)


def guide_table(cdf: np.ndarray) -> np.ndarray:
    """``guide[i]`` = the first index whose CDF exceeds ``i / len(cdf)``: inversion then
    starts there and scans a step or two."""
    return np.searchsorted(cdf, np.arange(cdf.shape[0]) / cdf.shape[0],
                           side="right").astype(np.int64)


def lt_trial(delays: np.ndarray, unit: np.ndarray, r: float, s: int, k: int, cdf: np.ndarray,
             guide: np.ndarray, whole: bool, threshold: int, rng: np.random.Generator,
             space: Workspace, linear: bool = False) -> tuple[float, int, bool, float, float]:
    """One trial of an LT-r code (see the module docstring).

    Parameters
    ----------
    delays, unit : ndarray, shape (n,)
        Start-up delay and unit time of every worker.
    r : float
        Unit tasks of one source symbol (``r``, or ``n / k`` for a code given ``k``).
    cdf, guide : ndarray, shape (k,)
        Robust Soliton CDF (last entry exactly 1) and its :func:`guide_table`.
    whole : bool
        ``returns: worker``.
    threshold : int
        Stop at this arrival (the paper's threshold decoder), or 0 for the online decoder.
    rng : Generator
        The trial's code stream (PCG64), advanced by what the trial draws.
    linear : bool
        ``computation: linear``: a symbol costs ``r`` unit tasks (one source symbol)
        whatever its degree, instead of ``r d``.

    Returns
    -------
    tuple
        ``(latency, symbols, decoded, worker_seconds, units)``; a failed trial has latency
        ``inf``. The edge buffers grow when a trial's degrees exceed them.
    """
    state = space.state
    state[:] = state_of(rng)
    latency, count, decoded, seconds, units, edges = _lt_trial(
        delays, unit, r, s, k, cdf, guide, whole, threshold, state, space.ints, space.times,
        space.nbrs, space.link, space.small, space.recovered, space.head, space.work, linear,
        space.keys, space.count, space.slots, space.fill, space.cap)
    restore(rng, state)
    if edges > space.nbrs.shape[0]:  # the kernel needed (and made) larger edge buffers
        space.grow(int(edges))
    return latency, int(count), bool(decoded), seconds, units


@njit
def _sift_down(heap, size, pos, key):
    """Restore the heap order below ``pos``: the smallest ``(key[j], j)`` at the root."""
    item = heap[pos]
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        other = child + 1
        if other < size and (key[heap[other]] < key[heap[child]] or (
                key[heap[other]] == key[heap[child]] and heap[other] < heap[child])):
            child = other
        c = heap[child]
        if key[c] < key[item] or (key[c] == key[item] and c < item):
            heap[pos] = c
            pos = child
        else:
            break
    heap[pos] = item


@njit
def radix_order(times, size, keys, spare, order, other, count):
    """The stable order of ``times[:size]`` (non-negative floats, ``inf`` allowed): a
    least-significant-digit radix sort on their bits, a byte a pass (a pass is skipped when
    every key has the same byte there). The bits of a non-negative double order like the
    double; ``-0.0`` is first made ``+0.0``. Equal times keep their index order, as
    ``np.argsort(kind="stable")`` does. Returns ``order`` or ``other`` (whichever holds it);
    ``keys``, ``spare`` (uint64), ``order``, ``other`` (int64) hold at least ``size``,
    ``count`` 256 entries."""
    for i in range(size):
        times[i] += 0.0
    bits = times.view(np.uint64)
    for i in range(size):
        keys[i] = bits[i]
        order[i] = i
    src_k, src_i, dst_k, dst_i = keys, order, spare, other
    for shift in range(0, 64, 8):
        move = np.uint64(shift)
        for b in range(256):
            count[b] = 0
        for i in range(size):
            count[(src_k[i] >> move) & np.uint64(255)] += 1
        constant = False
        for b in range(256):
            if count[b] != 0:
                constant = count[b] == size
                break
        if constant:
            continue
        total = 0
        for b in range(256):
            c = count[b]
            count[b] = total
            total += c
        for i in range(size):
            b = (src_k[i] >> move) & np.uint64(255)
            p = count[b]
            count[b] = p + 1
            dst_k[p] = src_k[i]
            dst_i[p] = src_i[i]
        src_k, src_i, dst_k, dst_i = dst_k, dst_i, src_k, src_i
    return src_i


@njit
def _release(g, head, link, degree, residual, stack, top, slots, fill, cap) -> int:
    """Source ``g`` is recovered: every received symbol still containing it loses it, and
    those left with one unrecovered neighbour are pushed on ``stack``; returns the new stack
    top. The symbols are the first ``fill[g]`` entries of ``g``'s row of ``slots`` (one
    sequential read, the symbols' own reads independent of each other) and then its linked
    list of the symbols beyond ``cap`` (:func:`~ltsim.codes.lt.peeling.release`)."""
    base = g * cap
    for i in range(fill[g]):
        other = slots[base + i]
        if degree[other] > 0:
            degree[other] -= 1
            residual[other] ^= g
            if degree[other] == 1:
                stack[top] = other
                top += 1
    return release(g, head, link, degree, residual, stack, top)


@njit
def _ripple(a, degree, residual, recovered, head, link, stack, slots, fill, cap) -> int:
    """Recover the source of symbol ``a`` (residual degree one) and, in turn, of every
    symbol left with one unrecovered neighbour; returns the sources recovered. A symbol's
    residual neighbour is the XOR of its unrecovered ones."""
    count = 0
    top = 1
    stack[0] = a
    while top > 0:
        top -= 1
        b = stack[top]
        if degree[b] != 1:
            continue
        g = residual[b]
        degree[b] = 0
        residual[b] = 0
        if recovered[g]:
            continue
        recovered[g] = True
        count += 1
        top = _release(g, head, link, degree, residual, stack, top, slots, fill, cap)
    return count


@njit
def _feed(a, lo, hi, nbrs, link, recovered, head, degree, residual, stack, slots, fill,
          cap) -> int:
    """Feed arrival ``a`` (its neighbours ``nbrs[lo:hi]``) to the online decoder: file it
    with each unrecovered neighbour (in the source's row of ``slots``, or its list once the
    row is full; a recovered source is never released again, so its symbols need no
    filing), keep the count and XOR of the unrecovered neighbours, and ripple if one is
    left; returns the sources recovered."""
    dd = 0
    x = 0
    for e in range(lo, hi):
        g = nbrs[e]
        if recovered[g]:
            continue
        dd += 1
        x ^= g
        f = fill[g]
        if f < cap:
            slots[g * cap + f] = a
            fill[g] = f + 1
        else:
            link[2 * e] = head[g]
            link[2 * e + 1] = a
            head[g] = e
    degree[a] = dd
    residual[a] = x
    if dd != 1:
        return 0
    return _ripple(a, degree, residual, recovered, head, link, stack, slots, fill, cap)


@njit
def _lt_trial(delays, unit, r, s, k, cdf, guide, whole, threshold, state, ints, times,
              nbrs, link, small, recovered, head, work, linear, keys, count, slots, fill,
              cap):
    n = delays.shape[0]
    symbols = n * s
    degrees, order, ptr, stack = ints[0], ints[3], ints[4], ints[5]
    stamp, degree, residual = small[0], small[1], small[2]
    s_hi, s_lo, inc_hi, inc_lo = state[0], state[1], state[2], state[3]
    # 1. degrees by inversion of the CDF (guide table, then a short scan)
    total = 0
    for i in range(symbols):
        s_hi, s_lo, u = step(s_hi, s_lo, inc_hi, inc_lo)
        g = guide[min(int(u * k), k - 1)]
        while cdf[g] <= u:
            g += 1
        degrees[i] = g + 1
        total += g + 1
    if total > nbrs.shape[0]:  # rare: more edges than the workspace holds
        nbrs = np.empty(total, dtype=np.int32)
        link = np.empty(2 * total, dtype=np.int32)
    # 2. every symbol's arrival time and every worker's work; the symbols in arrival order
    for j in range(n):  # times as delays + the running sum of the symbols' costs
        cost = unit[j] * r
        whole_work = 0
        all_cost = 0.0
        for i in range(s):
            size = 1 if linear else degrees[j * s + i]
            whole_work += size
            all_cost += cost * size
        work[j] = r * whole_work
        if whole:
            for i in range(s):
                times[j * s + i] = delays[j] + all_cost
        else:
            acc = cost * (1 if linear else degrees[j * s])
            times[j * s] = delays[j] + acc
            for i in range(1, s):
                acc += unit[j] * r * (1 if linear else degrees[j * s + i])
                times[j * s + i] = delays[j] + acc
    sequence = radix_order(times, symbols, keys[0], keys[1], ints[1], ints[2], count)
    for g in range(k):
        recovered[g] = False
        head[g] = -1
        stamp[g] = -1
        fill[g] = 0
    # 3. arrivals in order: neighbours drawn lazily, peeled online
    limit = threshold if threshold > 0 else symbols
    edges = 0
    n_recovered = 0
    used = -1
    latency = math.inf
    for t in range(limit):  # arrival t's edges: nbrs[ptr[t]:ptr[t] + degree of its symbol]
        sym = sequence[t]
        arrival = times[sym]
        order[t] = sym
        d = degrees[sym]
        ptr[t] = edges
        for step_i in range(d):  # Floyd: a uniformly random d-subset of 0..k-1
            jj = k - d + step_i
            s_hi, s_lo, u = step(s_hi, s_lo, inc_hi, inc_lo)
            pick = min(int(u * (jj + 1)), jj)
            if stamp[pick] == t:
                pick = jj
            stamp[pick] = t
            nbrs[edges + step_i] = pick
        edges += d
        if threshold > 0:  # the paper's threshold decoder: all M arrivals at once
            if t + 1 < limit:
                continue
            for a in range(limit):
                n_recovered += _feed(a, ptr[a], ptr[a] + degrees[order[a]], nbrs, link,
                                     recovered, head, degree, residual, stack, slots, fill,
                                     cap)
            if n_recovered == k:
                used = limit
                latency = arrival
            break
        n_recovered += _feed(t, edges - d, edges, nbrs, link, recovered, head, degree,
                             residual, stack, slots, fill, cap)
        if n_recovered == k:
            used = t + 1
            latency = arrival
            break
    state[0], state[1] = s_hi, s_lo
    decoded = used > 0
    count = used if decoded else limit
    # 4. cost: busy until finished or until T, units completed by T
    seconds = 0.0
    units = 0.0
    for j in range(n):
        finish = delays[j] + unit[j] * work[j]
        if finish <= latency:
            seconds += finish
            units += work[j]
        else:
            seconds += latency
            if unit[j] > 0:
                completed = math.floor((latency - delays[j]) / unit[j])
                units += min(max(completed, 0.0), work[j] - 1.0)
    return latency, count, 1 if decoded else 0, seconds, units, total
