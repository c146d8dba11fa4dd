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
rank L, jumping from a prefix of rank r to L - r symbols further (a symbol adds at most one
to the rank); the tests check it against the dense online eliminations, symbol for symbol.
"""

from __future__ import annotations

import numpy as np
from numba import njit

GF2 = 0
"""Field code of GF(2) for :func:`system_rank`; any larger value is a prime p."""

MERSENNE = 2147483647
"""2^31 - 1, the prime of the rationals' decision (:data:`ltsim.codes.raptor.decoding.PRIME`):
reduced by folding, without a division."""


@njit(inline="always")
def _mod(x, p):
    """``x % p`` (in 0 .. p - 1) for an int64 ``x``; for p = 2^31 - 1 by two folds
    (2^31 = 1 mod p) and a correction, several times faster than the division."""
    if p == MERSENNE:
        x = (x & MERSENNE) + (x >> 31)
        x = (x & MERSENNE) + (x >> 31)  # now -2 .. 2^31 + 1
        if x >= MERSENNE:
            x -= MERSENNE
        elif x < 0:
            x += MERSENNE
        return x
    return x % p


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
def _rank_gf2(matrix, cols):
    """Rank of packed rows over GF(2) (echelon by lowest set bit)."""
    rows, words = matrix.shape
    pivot = np.full(cols, -1, dtype=np.int64)
    basis = np.zeros((min(rows, cols), words), dtype=np.uint64)
    rank = 0
    for i in range(rows):
        row = matrix[i].copy()
        kept = False
        for w in range(words):
            while row[w] != 0 and not kept:
                word = row[w]
                low = word & (~word + np.uint64(1))
                bit = 0
                while (low >> np.uint64(bit)) != np.uint64(1):
                    bit += 1
                col = w * 64 + bit
                r = pivot[col]
                if r < 0:
                    basis[rank] = row
                    pivot[col] = rank
                    rank += 1
                    kept = True
                else:
                    for v in range(w, words):
                        row[v] ^= basis[r, v]
            if kept:
                break
    return rank


@njit(cache=True)
def _rank_modp(matrix, p):
    """Rank of residue rows modulo the prime ``p`` (row echelon, Fermat inverses)."""
    rows, cols = matrix.shape
    a = matrix.copy()
    rank = 0
    for col in range(cols):
        r = -1
        for i in range(rank, rows):
            if a[i, col] != 0:
                r = i
                break
        if r < 0:
            continue
        if r != rank:
            for j in range(cols):
                a[r, j], a[rank, j] = a[rank, j], a[r, j]
        inv, base, e = 1, a[rank, col], p - 2
        while e > 0:
            if e & 1:
                inv = _mod(inv * base, p)
            base = _mod(base * base, p)
            e >>= 1
        for j in range(col, cols):
            a[rank, j] = _mod(a[rank, j] * inv, p)
        for i in range(rank + 1, rows):
            f = a[i, col]
            if f != 0:
                for j in range(col, cols):
                    a[i, j] = _mod(a[i, j] - f * a[rank, j], p)
        rank += 1
    return rank


@njit(cache=True)
def system_rank(ptr, idx, L, field):
    """Rank of the 0/1 rows (CSR over L columns) over GF(2) (``field`` = 0) or GF(p)."""
    pivot_col, pivot_row, state, inactive, used = _peel(ptr, idx, L)
    return _residual_rank(ptr, idx, L, field, pivot_col, pivot_row, state, inactive, used)


@njit(cache=True)
def _residual_rank(ptr, idx, L, field, pivot_col, pivot_row, state, inactive, used):
    """The rank of the rows of a :func:`_peel` (which is the same in every field): the pivots
    and the rank of the residual rows over the inactive columns, in ``field``."""
    pivots = pivot_col.shape[0]
    rows = ptr.shape[0] - 1
    others = rows - pivots
    if inactive == 0 or others == 0:
        return pivots
    if field == GF2:
        words = (inactive + 63) // 64
        rep = np.zeros((pivots, words), dtype=np.uint64)
        for t in range(pivots):
            r = pivot_row[t]
            for e in range(ptr[r], ptr[r + 1]):
                c = idx[e]
                s = state[c]
                if s == t:
                    continue
                if s >= 0:
                    for w in range(words):
                        rep[t, w] ^= rep[s, w]
                else:
                    j = -2 - s
                    rep[t, j >> 6] ^= np.uint64(1) << np.uint64(j & 63)
        residual = np.zeros((others, words), dtype=np.uint64)
        i = 0
        for r in range(rows):
            if used[r]:
                continue
            for e in range(ptr[r], ptr[r + 1]):
                s = state[idx[e]]
                if s >= 0:
                    for w in range(words):
                        residual[i, w] ^= rep[s, w]
                else:
                    j = -2 - s
                    residual[i, j >> 6] ^= np.uint64(1) << np.uint64(j & 63)
            i += 1
        return pivots + _rank_gf2(residual, inactive)
    p = field
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
            rep[t, j] = _mod(rep[t, j], p)
    residual = np.zeros((others, inactive), dtype=np.int64)
    i = 0
    for r in range(rows):
        if used[r]:
            continue
        for e in range(ptr[r], ptr[r + 1]):
            s = state[idx[e]]
            if s >= 0:
                for j in range(inactive):
                    residual[i, j] += rep[s, j]
            else:
                residual[i, -2 - s] += 1
        for j in range(inactive):
            residual[i, j] = _mod(residual[i, j], p)
        i += 1
    return pivots + _rank_modp(residual, p)


@njit(cache=True)
def _rank_of(c_ptr, c_idx, s_ptr, s_idx, order, m, L, field):
    ptr, idx = _rows(c_ptr, c_idx, s_ptr, s_idx, order, m)
    return system_rank(ptr, idx, L, field)


@njit(cache=True)
def first_full_rank(c_ptr, c_idx, s_ptr, s_idx, order, L, field, start=0):
    """Fewest symbols of ``order`` whose system with the constraints has rank L (-1 if all of
    them do not), from L - (S + H), the fewest that can, or from ``start`` if larger (a count
    known not to be exceeded from below, e.g. the rationals' answer for GF(2)).

    A symbol adds at most one to the rank, so a prefix of ``m`` symbols of rank ``r < L``
    needs at least ``L - r`` more: the search jumps there and asks again, and never passes
    the answer (each prefix skipped has rank below L). At K = 1000 it takes 1.4 ranks over
    the rationals and 2.6 over GF(2) from there on average, galloping and bisecting 1.6 and
    3.1 (200 arrival orders, the same answers: ``scripts/raptor_search_probes.py``).
    """
    total = order.shape[0]
    nc = c_ptr.shape[0] - 1
    m = max(0, L - nc, start)  # below this the rows are too few
    while m <= total:
        rank = _rank_of(c_ptr, c_idx, s_ptr, s_idx, order, m, L, field)
        if rank == L:
            return m
        m += L - rank
    return -1


@njit(cache=True)
def first_full_rank_both(c_ptr, c_idx, s_ptr, s_idx, order, L, p):
    """:func:`first_full_rank` over GF(p), then over GF(2) from its answer (never fewer:
    full rank over GF(2) implies it over the rationals), as two calls would give them; the
    first GF(2) rank reuses the peeling of the last GF(p) one (the same rows, and the peeling
    is the same in every field). Returns ``(fewest over GF(p), fewest over GF(2))``, -1 for
    a field in which all of them do not reach rank L."""
    total = order.shape[0]
    nc = c_ptr.shape[0] - 1
    m = max(0, L - nc)
    while m <= total:
        ptr, idx = _rows(c_ptr, c_idx, s_ptr, s_idx, order, m)
        pivot_col, pivot_row, state, inactive, used = _peel(ptr, idx, L)
        rank = _residual_rank(ptr, idx, L, p, pivot_col, pivot_row, state, inactive, used)
        if rank == L:
            binary = _residual_rank(ptr, idx, L, GF2, pivot_col, pivot_row, state, inactive,
                                    used)
            if binary == L:
                return m, m
            return m, first_full_rank(c_ptr, c_idx, s_ptr, s_idx, order, L, GF2,
                                      m + L - binary)
        m += L - rank
    return -1, -1
