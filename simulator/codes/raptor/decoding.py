"""When a Raptor master can recover F(x): the first received encoding symbol after which the
precode constraints and the symbols received span every intermediate symbol.

The sources are the first K encoding symbols (the code is systematic), and those K rows
together with the S + H constraints make the invertible L x L matrix A of Section 5.4.2.4. So
every source is determined by what was received exactly when the constraints and the received
rows have rank L: then their span holds every row of A; and a span that holds every source
row holds every row of A, hence has rank L. The decision is a rank, taken online (each symbol
reduced against the rows kept so far, in arrival order), in two fields:

* over GF(2), what the RFC's byte-oriented decoder does (:func:`first_full_rank_gf2`), on
  rows packed 64 columns to a word;
* over the rationals, what the paper's real-valued sums need (:func:`first_full_rank_modp`),
  computed modulo the prime p = 2^31 - 1 with exact integer arithmetic. Rank L modulo p
  implies rank L over Q (a nonzero determinant modulo p is a nonzero integer), so a stop it
  reports is exact; it could only stop late, if p divided every L x L minor the rows make
  nonzero over Q, an event of probability about 1/p per received symbol for these random
  systems. Rank L over GF(2) implies rank L over Q as well (an odd determinant is nonzero):
  the rational decoder never needs more symbols than the binary one (tested trial by trial).

Both are dense eliminations, O(L^2) words or O(L^3) operations per block: exact, and fast
enough for the overhead curves and the tests; the RFC's inactivation decoder is what a
faster path would use.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PRIME = 2147483647
"""2^31 - 1: products of two residues stay below 2^62."""


@njit(inline="always")
def residue(x, p):
    """``x % p`` (in 0 .. p - 1) for an int64 ``x``; for p = 2^31 - 1 (:data:`PRIME`) by two
    folds (2^31 = 1 mod p) and a correction, several times faster than the division."""
    if p == PRIME:
        x = (x & PRIME) + (x >> 31)
        x = (x & PRIME) + (x >> 31)  # now -2 .. 2^31 + 1
        if x >= PRIME:
            x -= PRIME
        elif x < 0:
            x += PRIME
        return x
    return x % p


@njit(cache=True)
def insert_gf2(row, basis, pivot, rank):
    """Reduce the packed ``row`` against the echelon ``basis`` (row r has its lowest set bit
    at a column whose ``pivot`` is r); keep it if anything is left. Returns the new rank."""
    words = row.shape[0]
    for w in range(words):
        while row[w] != 0:
            word = row[w]
            low = word & (~word + np.uint64(1))
            bit = 0
            while (low >> np.uint64(bit)) != np.uint64(1):
                bit += 1
            col = w * 64 + bit
            r = pivot[col]
            if r < 0:
                basis[rank, :] = row
                pivot[col] = rank
                return rank + 1
            for v in range(w, words):
                row[v] ^= basis[r, v]
    return rank


@njit(cache=True)
def _pack(ptr, idx, i, words):
    row = np.zeros(words, dtype=np.uint64)
    for e in range(ptr[i], ptr[i + 1]):
        c = idx[e]
        row[c >> 6] ^= np.uint64(1) << np.uint64(c & 63)
    return row


@njit(cache=True)
def first_full_rank_gf2(c_ptr, c_idx, s_ptr, s_idx, order, L):
    """Symbols received (in ``order``, indices into the symbol rows) when the constraints and
    they first reach rank L over GF(2); -1 if all of ``order`` does not."""
    words = (L + 63) // 64
    basis = np.zeros((L, words), dtype=np.uint64)
    pivot = np.full(L, -1, dtype=np.int64)
    rank = 0
    for i in range(c_ptr.shape[0] - 1):
        rank = insert_gf2(_pack(c_ptr, c_idx, i, words), basis, pivot, rank)
    if rank == L:
        return 0
    for t in range(order.shape[0]):
        rank = insert_gf2(_pack(s_ptr, s_idx, order[t], words), basis, pivot, rank)
        if rank == L:
            return t + 1
    return -1


@njit(cache=True)
def insert_modp(row, basis, pivot, rank, p):
    """Reduce the dense residue ``row`` against the echelon ``basis`` (row r normalised to 1
    at its pivot column, zero before it) modulo ``p``; keep it if anything is left."""
    L = row.shape[0]
    for col in range(L):
        v = row[col]
        if v == 0:
            continue
        r = pivot[col]
        if r < 0:
            inv = 1
            base, e = v, p - 2  # v^(p-2) = v^-1 (Fermat)
            while e > 0:
                if e & 1:
                    inv = residue(inv * base, p)
                base = residue(base * base, p)
                e >>= 1
            for j in range(col, L):
                basis[rank, j] = residue(row[j] * inv, p)
            pivot[col] = rank
            return rank + 1
        for j in range(col, L):
            b = basis[r, j]
            if b != 0:
                row[j] = residue(row[j] - v * b, p)
    return rank


@njit(cache=True)
def _dense(ptr, idx, i, L):
    row = np.zeros(L, dtype=np.int64)
    for e in range(ptr[i], ptr[i + 1]):
        row[idx[e]] += 1
    return row


@njit(cache=True)
def first_full_rank_modp(c_ptr, c_idx, s_ptr, s_idx, order, L, p):
    """As :func:`first_full_rank_gf2`, the rank taken modulo the prime ``p``."""
    basis = np.zeros((L, L), dtype=np.int64)
    pivot = np.full(L, -1, dtype=np.int64)
    rank = 0
    for i in range(c_ptr.shape[0] - 1):
        rank = insert_modp(_dense(c_ptr, c_idx, i, L), basis, pivot, rank, p)
    if rank == L:
        return 0
    for t in range(order.shape[0]):
        rank = insert_modp(_dense(s_ptr, s_idx, order[t], L), basis, pivot, rank, p)
        if rank == L:
            return t + 1
    return -1
