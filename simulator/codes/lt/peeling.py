"""Compiled kernels of the LT code: neighbour sampling and the online peeling decoder.

The code graph is stored in CSR form: encoded symbol ``i`` is the sum of the source symbols
``nbrs[ptr[i]:ptr[i + 1]]``. The decoder receives the symbols in the order ``order`` and stops
as soon as every source symbol is recovered.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...jit import njit


def sample_neighbours(
    ptr: np.ndarray, k: int, rng: np.random.Generator, chunk: int = 1 << 22
) -> np.ndarray:
    """Choose ``d_i = ptr[i+1] - ptr[i]`` distinct sources out of ``k`` for every symbol.

    Uniforms are drawn in chunks of about ``chunk`` edges so that memory stays bounded; the
    stream consumed (one double per edge, in symbol order) does not depend on ``chunk``.

    Parameters
    ----------
    ptr : ndarray of int64, shape (n_symbols + 1,)
        CSR offsets; degrees must lie in ``1..k``.
    k : int
        Number of source symbols.
    rng : Generator
        Source of the uniforms.

    Returns
    -------
    ndarray of int32, shape (ptr[-1],)
        Neighbour lists, each a set of distinct source indices.
    """
    n_symbols = ptr.shape[0] - 1
    nbrs = np.empty(ptr[-1], dtype=np.int32)
    stamp = np.full(k, -1, dtype=np.int64)
    first = 0
    while first < n_symbols:
        last = int(np.searchsorted(ptr, ptr[first] + chunk, side="right")) - 1
        last = min(max(last, first + 1), n_symbols)
        u = rng.random(int(ptr[last] - ptr[first]))
        floyd_fill(nbrs, ptr, first, last, u, stamp)
        first = last
    return nbrs


@njit
def floyd_fill(
    nbrs: np.ndarray, ptr: np.ndarray, first: int, last: int, u: np.ndarray, stamp: np.ndarray
) -> None:
    """Floyd's algorithm for symbols ``first..last-1``: a uniformly random ``d``-subset of
    ``0..k-1`` from exactly ``d`` uniforms. For ``j = k-d .. k-1`` pick ``t`` uniform in
    ``0..j``; take ``t`` unless already taken, else take ``j``.

    ``u`` holds the uniforms of edges ``ptr[first]..ptr[last]-1``; ``stamp`` (length ``k``)
    marks the sources taken by the current symbol.
    """
    k = stamp.shape[0]
    base = ptr[first]
    for i in range(first, last):
        start = ptr[i]
        d = ptr[i + 1] - start
        for step in range(d):
            j = k - d + step
            t = int(u[start - base + step] * (j + 1))
            if t > j:  # guards against rounding of u * (j + 1) up to j + 1
                t = j
            if stamp[t] == i:
                t = j
            stamp[t] = i
            nbrs[start + step] = t


@njit
def floyd_in_order(ptr: np.ndarray, order: np.ndarray, k: int, u: np.ndarray,
                   nbrs: np.ndarray) -> None:
    """Floyd's algorithm for every symbol, taken in ``order``: symbol ``order[t]`` gets its
    ``d`` distinct sources from the next ``d`` uniforms of ``u`` (``u`` holds one per edge,
    in that order), written to ``nbrs[ptr[sym]:ptr[sym + 1]]``."""
    stamp = np.full(k, -1, dtype=np.int64)
    pos = 0
    for t in range(order.shape[0]):
        sym = order[t]
        start = ptr[sym]
        d = ptr[sym + 1] - start
        for step in range(d):
            j = k - d + step
            pick = min(int(u[pos + step] * (j + 1)), j)
            if stamp[pick] == t:
                pick = j
            stamp[pick] = t
            nbrs[start + step] = pick
        pos += d


@njit
def peel(ptr: np.ndarray, nbrs: np.ndarray, order: np.ndarray, k: int, limit: int) -> int:
    """Online peeling decoder.

    Symbols arrive one at a time in ``order``. On arrival a symbol's residual degree (its
    neighbours not yet recovered) is computed. Residual degree one recovers a source at once;
    two or more links the symbol into the list of each unrecovered neighbour. Recovering a
    source walks its list (the ripple): every linked symbol loses one degree, and one left
    with a single neighbour recovers it in turn. The residual neighbour of a degree-one
    symbol is found in O(1) as the XOR of its unrecovered neighbours.

    Only the symbols that arrive are ever touched, so the work is proportional to the edges
    of the received symbols, with no pass over the whole graph.

    Parameters
    ----------
    ptr, nbrs : ndarray
        The code graph in CSR form (see module docstring).
    order : ndarray of int64, shape (n_symbols,)
        Arrival order: ``order[t]`` is the symbol that arrives ``t``-th.
    k : int
        Number of source symbols.
    limit : int
        Feed at most this many symbols.

    Returns
    -------
    int
        The number of symbols received when the last source was recovered, or -1 if the
        first ``limit`` symbols do not decode.
    """
    state = new_state(ptr, k)
    return peel_more(ptr, nbrs, order, 0, min(limit, ptr.shape[0] - 1), state)


class PeelingState(NamedTuple):
    """The online decoder's state for one code graph (made by :func:`new_state`, carried
    from one :func:`peel_more` call to the next).

    Attributes
    ----------
    recovered : ndarray of bool, shape (k,)
        Whether each source is recovered.
    head : ndarray of int32, shape (k,)
        The last edge linked into each source's list, or -1.
    link : ndarray of int32, shape (2 * edges,)
        Per edge ``e``, ``link[2e]`` the next edge of the same source's list and
        ``link[2e+1]`` its symbol (pages are touched only for the edges of symbols that
        arrive; 32-bit indices halve the memory traffic, callers keep edges below 2**31).
    degree, residual : ndarray of int32, shape (n_symbols,)
        Per symbol its residual degree and the XOR of its unrecovered neighbours.
    stack : ndarray of int64, shape (n_symbols,)
        The ripple's stack.
    schedule : ndarray of int64, shape (k, 2)
        Each recovery as (source, symbol), in order.
    counter : ndarray of int64, shape (1,)
        ``counter[0]`` counts the recovered sources.
    """

    recovered: np.ndarray
    head: np.ndarray
    link: np.ndarray
    degree: np.ndarray
    residual: np.ndarray
    stack: np.ndarray
    schedule: np.ndarray
    counter: np.ndarray


@njit
def new_state(ptr: np.ndarray, k: int) -> PeelingState:
    """Fresh decoder state (:class:`PeelingState`) for a graph with CSR offsets ``ptr`` and
    ``k`` sources: nothing recovered, no edge linked."""
    n_symbols = ptr.shape[0] - 1
    recovered = np.zeros(k, dtype=np.bool_)
    head = np.full(k, -1, dtype=np.int32)
    link = np.empty(2 * ptr[n_symbols], dtype=np.int32)
    degree = np.empty(n_symbols, dtype=np.int32)
    residual = np.empty(n_symbols, dtype=np.int32)
    stack = np.empty(n_symbols, dtype=np.int64)
    schedule = np.empty((k, 2), dtype=np.int64)
    counter = np.zeros(1, dtype=np.int64)
    return PeelingState(recovered, head, link, degree, residual, stack, schedule, counter)


@njit
def release(g, head, link, degree, residual, stack, top) -> int:
    """Source ``g`` is recovered: every received symbol still containing it (the linked list
    from ``head[g]``) loses it, and those left with one unrecovered neighbour are pushed on
    ``stack``. Returns the new stack top."""
    e = head[g]
    while e >= 0:
        other = link[2 * e + 1]
        if degree[other] > 0:
            degree[other] -= 1
            residual[other] ^= g
            if degree[other] == 1:
                stack[top] = other
                top += 1
        e = link[2 * e]
    return top


@njit
def peel_more(ptr, nbrs, order, first, last, state: PeelingState) -> int:
    """Feed arrivals ``order[first:last]`` to the decoder whose ``state`` is given (see
    :class:`PeelingState`; updated in place) and :func:`peel` for the algorithm.

    Returns the 1-based arrival count at which the last source was recovered, or -1 if the
    sources are not all recovered after ``order[last - 1]``.
    """
    recovered, head, link = state.recovered, state.head, state.link
    degree, residual, stack = state.degree, state.residual, state.stack
    schedule, counter = state.schedule, state.counter
    k = recovered.shape[0]
    n_recovered = counter[0]
    for t in range(first, last):
        sym = order[t]
        d = 0
        x = 0
        for e in range(ptr[sym], ptr[sym + 1]):
            g = nbrs[e]
            if not recovered[g]:
                d += 1
                x ^= g
        degree[sym] = d
        residual[sym] = x
        if d == 0:
            continue
        if d >= 2:
            for e in range(ptr[sym], ptr[sym + 1]):
                g = nbrs[e]
                if not recovered[g]:
                    link[2 * e] = head[g]
                    link[2 * e + 1] = sym
                    head[g] = e
            continue
        top = 0
        stack[top] = sym
        top += 1
        while top > 0:
            top -= 1
            s = stack[top]
            if degree[s] != 1:
                continue
            g = residual[s]
            degree[s] = 0
            residual[s] = 0
            recovered[g] = True
            schedule[n_recovered, 0] = g
            schedule[n_recovered, 1] = s
            n_recovered += 1
            top = release(g, head, link, degree, residual, stack, top)
        if n_recovered == k:
            counter[0] = n_recovered
            return t + 1
    counter[0] = n_recovered
    return -1


def back_substitute(ptr: np.ndarray, nbrs: np.ndarray, schedule: np.ndarray,
                    values: np.ndarray) -> np.ndarray:
    """Source values from symbol values along a recovery schedule.

    When source ``g`` was recovered from symbol ``s`` every other neighbour of ``s`` had been
    recovered before, so ``source[g] = values[s] - sum of the others``, taken in schedule
    order. ``values`` holds the real value of every symbol that arrived (others unused).
    """
    k = schedule.shape[0]
    source = np.zeros(k)
    for g, s in schedule.tolist():
        others = nbrs[ptr[s]:ptr[s + 1]]
        source[g] = values[s] - (source[others].sum() - source[g])
    return source
