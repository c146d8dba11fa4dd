"""The rank of a Raptor system by inactivation (structured Gaussian elimination, the idea of
RFC 5053's decoder, Section 5.5.2): fast where the dense eliminations of
:mod:`~ltsim.codes.raptor.decoding` are O(L^3).

The rows are 0/1 over the L intermediate symbols (the S + H constraints, then the symbols
received). **Peeling**: while some row has exactly one *active* column, it becomes that
column's pivot and the column leaves every row (eliminated); when none has, the row of least
active degree d >= 2 keeps its first active column and its other d - 1 become *inactive*
(they leave every row's active set too), so it pivots next. The pivots form a triangular
system: pivot row t solves its column c_t from columns eliminated before it and inactive
ones, so modulo the pivot rows every eliminated column equals a combination ``rep(c)`` of
inactive columns, built in pivot order (over GF(2): rep(c_t) = XOR of the reps of the row's
other eliminated columns and of its inactive columns; over GF(p): minus their sum). Every other
row reduces to the combination of its columns' reps; the rank of the system is the number of
pivots plus the rank of those residual rows, a dense matrix over the few inactive columns.

The peeling is the same in any field (a pivot's coefficient is 1); only the residual's rank
differs. :func:`first_full_rank` finds the fewest symbols, in arrival order, whose system has
rank L: it peels the fewest that can once, then reduces each further symbol modulo the pivot
rows and inserts it into an echelon basis of the residuals (the pivots stay a triangular
basis whatever rows are added); the tests check it against the dense online eliminations,
symbol for symbol.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .decoding import insert_gf2, insert_modp, residue

GF2 = 0
"""Field code of GF(2) for :func:`system_rank`; any larger value is a prime p."""


@njit(cache=True)
def _rows(c_ptr, c_idx, s_ptr, s_idx, order, m):
    """CSR of the constraints followed by the first ``m`` symbols of ``order``."""
    nc = c_ptr.shape[0] - 1
    total = c_ptr[nc]
    for t in range(m):
        x = order[t]
        total += s_ptr[x + 1] - s_ptr[x]
    ptr = np.empty(nc + m + 1, dtype=np.int64)
    idx = np.empty(total, dtype=np.int64)
    ptr[0] = 0
    e = 0
    for i in range(nc):
        for q in range(c_ptr[i], c_ptr[i + 1]):
            idx[e] = c_idx[q]
            e += 1
        ptr[i + 1] = e
    for t in range(m):
        x = order[t]
        for q in range(s_ptr[x], s_ptr[x + 1]):
            idx[e] = s_idx[q]
            e += 1
        ptr[nc + t + 1] = e
    return ptr, idx


@njit(cache=True)
def _columns(ptr, idx, L):
    """CSC of the rows: for every column, the rows holding it."""
    rows = ptr.shape[0] - 1
    count = np.zeros(L + 1, dtype=np.int64)
    for e in range(idx.shape[0]):
        count[idx[e] + 1] += 1
    cptr = np.cumsum(count)
    fill = cptr[:-1].copy()
    cidx = np.empty(idx.shape[0], dtype=np.int64)
    for r in range(rows):
        for e in range(ptr[r], ptr[r + 1]):
            c = idx[e]
            cidx[fill[c]] = r
            fill[c] += 1
    return cptr, cidx


@njit(cache=True)
def _peel(ptr, idx, L):
    """Peeling with inactivation. Returns the pivot order (column and row of each pivot),
    every column's state (-1 active never happens at the end; >= 0 its pivot's position;
    -2 - j inactive number j) and the number of inactive columns."""
    rows = ptr.shape[0] - 1
    cptr, cidx = _columns(ptr, idx, L)
    degree = np.empty(rows, dtype=np.int64)
    colsum = np.zeros(rows, dtype=np.int64)
    for r in range(rows):
        degree[r] = ptr[r + 1] - ptr[r]
        for e in range(ptr[r], ptr[r + 1]):
            colsum[r] += idx[e]
    state = np.full(L, -1, dtype=np.int64)  # -1 active
    used = np.zeros(rows, dtype=np.bool_)
    pivot_col = np.empty(L, dtype=np.int64)
    pivot_row = np.empty(L, dtype=np.int64)
    stack = np.empty(rows + L, dtype=np.int64)
    top = 0
    for r in range(rows):
        if degree[r] == 1:
            stack[top] = r
            top += 1
    pivots = 0
    inactive = 0
    remaining = L
    while remaining > 0:
        r = -1
        while top > 0:
            top -= 1
            cand = stack[top]
            if not used[cand] and degree[cand] == 1:
                r = cand
                break
        if r < 0:  # stuck: the row of least active degree >= 2 keeps one column
            best = -1
            for q in range(rows):
                if not used[q] and degree[q] >= 2 and (best < 0 or degree[q] < degree[best]):
                    best = q
            if best < 0:
                break  # no row has an active column left: the rest stay inactive
            kept = -1
            for e in range(ptr[best], ptr[best + 1]):
                c = idx[e]
                if state[c] != -1:
                    continue
                if kept < 0:
                    kept = c
                    continue
                state[c] = -2 - inactive  # inactivate
                inactive += 1
                remaining -= 1
                for q in range(cptr[c], cptr[c + 1]):
                    row = cidx[q]
                    degree[row] -= 1
                    colsum[row] -= c
                    if degree[row] == 1 and not used[row]:
                        stack[top] = row
                        top += 1
            r = best
        c = colsum[r]
        used[r] = True
        state[c] = pivots
        pivot_col[pivots] = c
        pivot_row[pivots] = r
        pivots += 1
        remaining -= 1
        for q in range(cptr[c], cptr[c + 1]):
            row = cidx[q]
            degree[row] -= 1
            colsum[row] -= c
            if degree[row] == 1 and not used[row]:
                stack[top] = row
                top += 1
    for c in range(L):  # columns no row holds any more: inactive
        if state[c] == -1:
            state[c] = -2 - inactive
            inactive += 1
    return pivot_col[:pivots], pivot_row[:pivots], state, inactive, used


@njit(cache=True)
def system_rank(ptr, idx, L, field):
    """Rank of the 0/1 rows (CSR over L columns) over GF(2) (``field`` = 0) or GF(p): the
    pivots of the peeling plus the rank of the other rows reduced modulo them."""
    _, pivot_row, state, inactive, used = _peel(ptr, idx, L)
    if field == GF2:
        rank = _residuals_gf2(ptr, idx, pivot_row, state, inactive, used)[0]
    else:
        rank = _residuals_modp(ptr, idx, pivot_row, state, inactive, used, field)[0]
    return pivot_row.shape[0] + rank


@njit(cache=True)
def prefix_rank(c_ptr, c_idx, s_ptr, s_idx, order, m, L, field):
    """Rank of the constraints and the first ``m`` symbols of ``order``, built and peeled
    from scratch (what a search over prefixes pays at every probe)."""
    ptr, idx = _rows(c_ptr, c_idx, s_ptr, s_idx, order, m)
    return system_rank(ptr, idx, L, field)


@njit(cache=True)
def _reps_gf2(ptr, idx, pivot_row, state, words):
    """Every eliminated column as a packed combination of the inactive ones (modulo the pivot
    rows), over GF(2), in pivot order."""
    pivots = pivot_row.shape[0]
    rep = np.zeros((pivots, words), dtype=np.uint64)
    for t in range(pivots):
        r = pivot_row[t]
        for e in range(ptr[r], ptr[r + 1]):
            s = state[idx[e]]
            if s == t:
                continue
            if s >= 0:
                for w in range(words):
                    rep[t, w] ^= rep[s, w]
            else:
                j = -2 - s
                rep[t, j >> 6] ^= np.uint64(1) << np.uint64(j & 63)
    return rep


@njit(cache=True)
def _reduce_gf2(idx, lo, hi, state, rep, words):
    """The row of columns ``idx[lo:hi]`` modulo the pivot rows: packed, over the inactive
    columns, over GF(2)."""
    row = np.zeros(words, dtype=np.uint64)
    for e in range(lo, hi):
        s = state[idx[e]]
        if s >= 0:
            for w in range(words):
                row[w] ^= rep[s, w]
        else:
            j = -2 - s
            row[j >> 6] ^= np.uint64(1) << np.uint64(j & 63)
    return row


@njit(cache=True)
def _reps_modp(ptr, idx, pivot_row, state, inactive, p):
    """As :func:`_reps_gf2`, modulo the prime ``p`` (dense residues)."""
    pivots = pivot_row.shape[0]
    rep = np.zeros((pivots, inactive), dtype=np.int64)
    for t in range(pivots):  # e_{c_t} = -(sum of the row's other columns), mod the pivots
        r = pivot_row[t]
        for e in range(ptr[r], ptr[r + 1]):
            s = state[idx[e]]
            if s == t:
                continue
            if s >= 0:
                for j in range(inactive):
                    rep[t, j] -= rep[s, j]
            else:
                rep[t, -2 - s] -= 1
        for j in range(inactive):
            rep[t, j] = residue(rep[t, j], p)
    return rep


@njit(cache=True)
def _reduce_modp(idx, lo, hi, state, rep, inactive, p):
    """As :func:`_reduce_gf2`, modulo the prime ``p``."""
    row = np.zeros(inactive, dtype=np.int64)
    for e in range(lo, hi):
        s = state[idx[e]]
        if s >= 0:
            for j in range(inactive):
                row[j] += rep[s, j]
        else:
            row[-2 - s] += 1
    for j in range(inactive):
        row[j] = residue(row[j], p)
    return row


@njit(cache=True)
def _residuals_gf2(ptr, idx, pivot_row, state, inactive, used):
    """The rows of a peeling that are not pivots, reduced modulo the pivot rows over GF(2)
    and inserted into an echelon basis: ``(rank, reps, basis, pivot, words)``, the last four
    to insert further rows."""
    size = max(inactive, 1)
    words = (size + 63) // 64
    rep = _reps_gf2(ptr, idx, pivot_row, state, words)
    basis = np.zeros((size, words), dtype=np.uint64)
    pivot = np.full(words * 64, -1, dtype=np.int64)
    rank = 0
    for r in range(ptr.shape[0] - 1):
        if not used[r]:
            rank = insert_gf2(_reduce_gf2(idx, ptr[r], ptr[r + 1], state, rep, words), basis,
                              pivot, rank)
    return rank, rep, basis, pivot, words


@njit(cache=True)
def _residuals_modp(ptr, idx, pivot_row, state, inactive, used, p):
    """As :func:`_residuals_gf2`, modulo the prime ``p``: ``(rank, reps, basis, pivot)``."""
    size = max(inactive, 1)
    rep = _reps_modp(ptr, idx, pivot_row, state, inactive, p)
    basis = np.zeros((size, size), dtype=np.int64)
    pivot = np.full(size, -1, dtype=np.int64)
    rank = 0
    for r in range(ptr.shape[0] - 1):
        if not used[r]:
            rank = insert_modp(_reduce_modp(idx, ptr[r], ptr[r + 1], state, rep, inactive, p),
                               basis, pivot, rank, p)
    return rank, rep, basis, pivot


@njit(cache=True)
def _grow(ptr, idx, pivot_row, state, inactive, used, s_ptr, s_idx, order, first, L, field):
    """The fewest symbols of ``order`` (at least ``first``, the ones peeled in ``ptr, idx``)
    whose system reaches rank L in ``field``, or -1: the residuals of the peeling
    (:func:`_residuals_gf2`, :func:`_residuals_modp`), then each further symbol reduced and
    inserted the same way (the rank is the pivots plus the basis's size)."""
    pivots = pivot_row.shape[0]
    total = order.shape[0]
    m = first
    if field == GF2:
        rank, rep2, basis2, pivot2, words = _residuals_gf2(ptr, idx, pivot_row, state,
                                                           inactive, used)
        while pivots + rank < L and m < total:
            e = order[m]
            rank = insert_gf2(_reduce_gf2(s_idx, s_ptr[e], s_ptr[e + 1], state, rep2, words),
                              basis2, pivot2, rank)
            m += 1
    else:
        rank, rep, basis, pivot = _residuals_modp(ptr, idx, pivot_row, state, inactive, used,
                                                  field)
        while pivots + rank < L and m < total:
            e = order[m]
            rank = insert_modp(_reduce_modp(s_idx, s_ptr[e], s_ptr[e + 1], state, rep,
                                            inactive, field), basis, pivot, rank, field)
            m += 1
    return m if pivots + rank == L else -1


@njit(cache=True)
def first_full_rank(c_ptr, c_idx, s_ptr, s_idx, order, L, field, start=0):
    """Fewest symbols of ``order`` whose system with the constraints has rank L in ``field``
    (-1 if all of them do not), and at least ``start`` (a count known not to be exceeded from
    below, e.g. the rationals' answer for GF(2)).

    The rows of the fewest symbols that can reach rank L, L - (S + H) (or ``start`` if
    larger), are peeled once; the pivot rows stay a triangular basis of the eliminated
    columns whatever rows are added, so the rank of any longer prefix is the pivots plus the
    rank of its other rows reduced modulo them, over the inactive columns. Each further
    symbol is reduced and inserted into an echelon basis of those residuals until the rank
    reaches L (:func:`_grow`): no prefix is rebuilt or peeled again.
    """
    total = order.shape[0]
    first = max(0, L - (c_ptr.shape[0] - 1), start)
    if first > total:
        return -1
    ptr, idx = _rows(c_ptr, c_idx, s_ptr, s_idx, order, first)
    _, pivot_row, state, inactive, used = _peel(ptr, idx, L)
    return _grow(ptr, idx, pivot_row, state, inactive, used, s_ptr, s_idx, order, first, L,
                 field)


@njit(cache=True)
def first_full_rank_both(c_ptr, c_idx, s_ptr, s_idx, order, L, p):
    """:func:`first_full_rank` over GF(p) and over GF(2), from one peeling (the same in
    every field). Returns ``(fewest over GF(p), fewest over GF(2))``, -1 where all of them
    do not reach rank L (over GF(2) too when they do not over GF(p): full rank over GF(2)
    implies it over the rationals)."""
    total = order.shape[0]
    first = max(0, L - (c_ptr.shape[0] - 1))
    if first > total:
        return -1, -1
    ptr, idx = _rows(c_ptr, c_idx, s_ptr, s_idx, order, first)
    _, pivot_row, state, inactive, used = _peel(ptr, idx, L)
    q = _grow(ptr, idx, pivot_row, state, inactive, used, s_ptr, s_idx, order, first, L, p)
    if q < 0:
        return -1, -1
    return q, _grow(ptr, idx, pivot_row, state, inactive, used, s_ptr, s_idx, order, first,
                    L, GF2)
