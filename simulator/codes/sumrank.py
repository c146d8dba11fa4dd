"""Rateless sum-recovery code (Mallick & Joshi, ITW 2022): arrival process and exact decoder.

The job is ``F = f_1 + ... + f_n``; each ``f_i`` is a *unit* of work of duration ``u``. Worker
``j`` (``0 <= j < n``) starts after a random delay ``X_j``, computes its own unit and returns
it (symbol ``e_j``), then walks a uniformly random order of the other ``n - 1`` units and
returns, one after another, the sums of consecutive chunks of ``d`` units of that order (the
last chunk may be shorter). A symbol is done at ``X_j + u * (1 + c)``, ``c`` the number of
units in the worker's chunks so far, so a worker alone holds ``F`` after
``1 + ceil((n - 1) / d)`` symbols; an optional cap limits the symbols of every worker (the
singleton counts).

The master merges all symbols by arrival time (stable: ties by worker, then symbol) and stops
at the first arrival after which the all-ones vector lies in the **real** row space of the
received symbols' 0/1 indicator vectors: from then on ``F`` is a real linear combination of
the received values (:func:`coefficients` gives one).

Public API
----------
:func:`stop_count`
    Exact stopping count of a given arrival sequence (CSR), or -1.
:func:`coefficients`
    Real coefficients ``c`` with ``sum_s c_s * indicator_s = 1`` for a received prefix.
:func:`sample_trial`
    The symbols of one trial in arrival order (CSR): all of them, or the first few.
:func:`run_trial`
    One trial with lazy generation: symbols are drawn in arrival order and fed to the decoder
    until it stops; only the received prefix is ever built.
:class:`Workspace`
    Reusable buffers for :func:`run_trial` and :func:`stop_count` at a fixed ``n``.

The decoder
-----------
Write ``A`` for the received indicator rows; the condition is ``rank [A; 1] == rank A``. The
decoder keeps the row space of ``A`` in *reduced row echelon form* (RREF) over the prime
field ``GF(p)``, ``p =`` :data:`PRIME`, together with the all-ones vector reduced against
it, ``g``. With pivot columns ``Q`` and free columns ``Φ`` (``|Φ| = n - rank``) every basis
row is ``e_q + b_q`` with ``b_q`` supported on ``Φ``, so only the ``rank x |Φ|`` block of the
``b_q`` is stored, and

* a new 0/1 row ``a`` reduces in one sparse pass, ``v = a|_Φ - sum_{q in a ∩ Q} b_q`` (RREF
  rows vanish on the other pivots): ``O(|a| |Φ|)``;
* ``v == 0``: the row is dependent and nothing changes (the condition cannot change either);
* else a nonzero entry ``q'`` of ``v`` becomes a pivot: ``w = v / v[q']``,
  ``g <- g - g[q'] w``, and every stored row ``b <- b - b[q'] w`` (back substitution);
* the condition holds exactly when ``g == 0``: ``g`` is ``1`` minus a combination of basis
  rows and vanishes on the pivots, so it is zero iff ``1`` lies in the span.

A singleton ``e_j`` on a free column costs nothing: its pivot row is ``e_j`` itself and the
column just leaves ``Φ`` (the unit is *pinned*; this is the "``1`` restricted to the unpinned
units lies in the span of the chunks restricted to them" view of the condition). To keep
that the common case the pivot ``q'`` is chosen, among the nonzeros of ``v``, as the unit
whose singleton arrives **last** (its delay ``X_j``; in :func:`stop_count` the position of
its first singleton): units pinned soon stay free until their singleton comes. Any choice
gives the same ranks; this one only saves work.

Back substitution dominates: ``sum_r r (n - r) ~ n^3 / 6`` multiply-adds over a trial that
reaches full rank. Done one pivot at a time it would stream the whole block from memory per
pivot. Instead pivots are collected in batches of up to :data:`BATCH` non-unit rows. Inside a
batch a new row is reduced against the (stale) stored block, then in order against the
batch's earlier rows, so every per-arrival decision and ``g`` are exact and up to date. At
the end of a batch its rows ``W`` are made fully reduced among themselves,
``Wf = G^-1 W`` with ``G = W[:, Q_batch]`` unit upper triangular, and the stored block gets
the rank-``k`` update ``B <- B - B[:, Q_batch] Wf``, and the batch's columns leave ``Φ``
(swap with the last free column). Dependent arrivals never touch the block. The update runs
either as one BLAS ``dgemm`` (in place, strided, through numba's own BLAS helper; scipy's
OpenBLAS is held to one thread *for the calling thread only* while the decoder runs, so
trials in parallel processes never oversubscribe the cores) or, where that is not available
or ``Workspace(blas=False)``, in a compiled kernel (:func:`_row_pass`: two rows by four
products per vectorised inner loop, coefficients gathered from the row, reduction and
compaction fused), about 1.7x slower on this product. Both are exact and agree.

Exactness
---------
Arithmetic is exact modular arithmetic carried in float64. Residues are kept centred,
``|x| <= h = (p + 1) / 2 = 2**24 - 19`` (the reduction ``x - p * floor(x / p + 1/2)`` may
round to the other representative only next to ``±p/2``), so a product is below ``h^2``; a
block update with inner dimension ``k <= 32`` keeps an entry below ``32 h^2 + h < 2**53`` until
it is reduced, and the arriving row is reduced at least every :data:`_REDUCE_EVERY` products. All
intermediates are integers below ``2**53``, hence exact in any summation order, and a reduced
value is zero iff ``p`` divides it. So ranks over ``GF(p)`` are computed exactly.

For an integer matrix ``rank_p <= rank_Q``, with equality unless ``p`` divides every nonzero
maximal minor. Hence:

* every minor of a 0/1 matrix of order ``k`` is at most ``(k + 1)^((k + 1)/2) / 2^k`` in
  absolute value (Hadamard), which is below ``p`` for ``k <= 19``: for ``n <= 19`` no
  nonzero minor is divisible by ``p`` and the decoder is *provably* exact (the tests also
  check it against ``fractions.Fraction`` elimination on thousands of instances);
* the answer ``m`` is *certified* over ``Q`` by the run itself when ``m == n`` and all ``m``
  symbols were independent mod ``p`` (rank ``n`` at the stop): then ``rank_Q A_m = n``, so
  ``1`` is in the span, and the ``n`` rows of ``[A_{m-1}; 1]`` are independent mod ``p``,
  hence over ``Q``, so ``1`` is not in the span of ``A_{m-1}`` (nor, by monotonicity, of any
  shorter prefix). This is the typical trial (:attr:`Trial.certified`; all of them with
  exponential delays in the benchmark, most with Pareto ones);
* otherwise an error needs ``p`` to divide a specific nonzero integer (a minor); for these
  random systems that behaves like an event of probability about ``1/p ~ 3e-8`` per arrival
  that changes the rank while very few columns are still free (with many free columns *all*
  the entries of the reduced row would have to vanish mod ``p`` together).

Cost
----
``O(rank^2 (n - rank))`` multiply-adds at worst (``~n^3/6`` at full rank; about ``1.2e8``
in a trial at ``n = 1000, d = 10`` with exponential delays, ``0.8e8`` with Pareto ones), as
rank-32 block updates, plus ``O((|a| + BATCH) |Φ|)`` per arrival; memory ``n^2`` float64 for
the block (plus ``n^2`` int32 for the generator's lazy permutations). A whole trial at
``n = 1000, d = 10, u = 0.005`` (sampling included, ~1 ms of it) takes a median of about
17 ms with exponential and 14 ms with Pareto delays on one core of the 2-core development
machine with the BLAS update, about 18-24 ms and 16-18 ms with the compiled kernel; see
``benchmarks/bench_sumrank.py``.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import math
import os
from typing import NamedTuple

import numpy as np
from numba import types

from ..jit import njit
from ..util.pcg import restore, state_of, step

PRIME = 33554393
"""The field: the largest prime below ``2**25``."""
BATCH = 32
"""Non-unit pivots collected before the stored block is updated: a rank-32 update, whose
sums of 32 products of centred residues stay below ``32 h^2 + h < 2**53``,
``h = (PRIME + 1) / 2``. A multiple of 4, the width of the update kernel."""
_P = float(PRIME)
_PINV = 1.0 / _P
_HALF = PRIME // 2
_KMAX_PER_BATCH = 4
"""Batch slots of any kind (unit rows cost nothing) per non-unit slot."""
_REDUCE_EVERY = 16
"""Products accumulated on the reduced arrival between reductions. It starts as a sum of at
most ``|a| <= n`` residues, and a group's multipliers add up to 3 more products, so it stays
below ``|a| h + 19 h^2 < 2**53`` for ``|a| <= 2**24``. (Up to 28 would be safe; 16 measured
faster.)"""
_NO_CAP = 0


# --------------------------------------------------------------------------------------------
# modular arithmetic in float64
# --------------------------------------------------------------------------------------------


@njit
def _red(x: float) -> float:
    """Centred residue of the integer-valued ``x`` (``|x| < 2**53``) modulo :data:`PRIME`."""
    return x - _P * np.floor(x * _PINV + 0.5)


@njit
def _inv(a: float) -> float:
    """Centred inverse modulo :data:`PRIME` of the integer-valued ``a`` (not divisible by it)."""
    r0 = PRIME
    r1 = int(a) % PRIME
    t0 = 0
    t1 = 1
    while r1 != 0:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        t0, t1 = t1, t0 - q * t1
    t0 %= PRIME
    if t0 > _HALF:
        t0 -= PRIME
    return float(t0)


@njit
def _reduce_row(row: np.ndarray, nf: int) -> None:
    """Reduce ``row[:nf]`` in place (vectorised)."""
    for p in range(nf):
        x = row[p]
        row[p] = x - _P * np.floor(x * _PINV + 0.5)


# BLAS dgemm through numba's own helper (the one behind np.dot), which takes leading
# dimensions, alpha and beta, so the stored block is updated in place with no copy.
_GEMM_SIG = types.intc(
    types.char, types.char, types.char, types.intp, types.intp, types.intp,
    types.CPointer(types.float64), types.CPointer(types.float64), types.intp,
    types.CPointer(types.float64), types.intp, types.CPointer(types.float64),
    types.CPointer(types.float64), types.intp,
)
_xxgemm = types.ExternalFunction("numba_xxgemm", _GEMM_SIG)
_MINUS_ONE = np.array([-1.0])
_ONE = np.array([1.0])


@njit
def _row_pass(dst, nrows, C, gather, qj, src, kd, nf, mv, nm) -> None:
    """``dst[i] -= sum_a c_i[a] * src[a]`` over the first ``nf`` columns for ``i < nrows``,
    then reduce, then apply the ``nm`` column moves ``mv``; one pass over ``dst``.

    The coefficients are ``c_i = C[i, :kd]`` or, with ``gather``, the row's own entries at the
    columns ``qj`` (read before the row changes). The inner loop is vectorised and handles
    two destination rows and four source rows at a time, so each loaded source vector serves
    two rows and each destination vector four products; groups of zero coefficients are
    skipped, and so is a row pair with none. All entries are centred residues and
    ``kd <= 32``, so every value stays an integer below ``2**53`` until the row is reduced.
    ``dst`` rows must not overlap ``src``.
    """
    cab = np.empty((2, max(kd, 1)))
    ca = cab[0]
    cb = cab[1]
    i = 0
    while i < nrows:
        two = i + 1 < nrows
        j = i + 1 if two else i
        ra = dst[i, :nf]
        rb = dst[j, :nf]
        touched = False
        for a in range(kd):
            if gather:
                ca[a] = ra[qj[a]]
                cb[a] = rb[qj[a]] if two else 0.0
            else:
                ca[a] = C[i, a]
                cb[a] = C[j, a] if two else 0.0
            if ca[a] != 0.0 or cb[a] != 0.0:
                touched = True
        if touched:
            a = 0
            while a < kd:
                if a + 4 <= kd:
                    c0, c1, c2, c3 = ca[a], ca[a + 1], ca[a + 2], ca[a + 3]
                    d0, d1, d2, d3 = cb[a], cb[a + 1], cb[a + 2], cb[a + 3]
                    if (c0 != 0.0 or c1 != 0.0 or c2 != 0.0 or c3 != 0.0 or d0 != 0.0
                            or d1 != 0.0 or d2 != 0.0 or d3 != 0.0):
                        w0 = src[a, :nf]
                        w1 = src[a + 1, :nf]
                        w2 = src[a + 2, :nf]
                        w3 = src[a + 3, :nf]
                        if two:
                            for p in range(nf):
                                x0 = w0[p]
                                x1 = w1[p]
                                x2 = w2[p]
                                x3 = w3[p]
                                ra[p] -= (c0 * x0 + c1 * x1) + (c2 * x2 + c3 * x3)
                                rb[p] -= (d0 * x0 + d1 * x1) + (d2 * x2 + d3 * x3)
                        else:
                            for p in range(nf):
                                ra[p] -= (c0 * w0[p] + c1 * w1[p]) + (c2 * w2[p] + c3 * w3[p])
                    a += 4
                else:
                    c0 = ca[a]
                    d0 = cb[a]
                    if c0 != 0.0 or d0 != 0.0:
                        w0 = src[a, :nf]
                        if two:
                            for p in range(nf):
                                x0 = w0[p]
                                ra[p] -= c0 * x0
                                rb[p] -= d0 * x0
                        else:
                            for p in range(nf):
                                ra[p] -= c0 * w0[p]
                    a += 1
            _reduce_row(ra, nf)
            if two:
                _reduce_row(rb, nf)
        for m in range(nm):
            ra[mv[m, 0]] = ra[mv[m, 1]]
            if two:
                rb[mv[m, 0]] = rb[mv[m, 1]]
        i += 2


# --------------------------------------------------------------------------------------------
# the decoder
# --------------------------------------------------------------------------------------------
# Its state is one tuple of arrays, ``dec`` (see Workspace):
#   B (n, n)       stored pivot rows over the free positions 0..nf-1, then the batch's rows
#   g, v (n,)      the reduced all-ones vector over the free positions; scratch
#   freecol (n,)   column at each free position           colpos (n,)  its free position or -1
#   pivrow (n,)    column -> its stored row (>= 0), -1 free, -2 pivot of a unit row (pinned)
#   prio (n,)      pivot preference by free position (highest first), int64 >= 0
#   bq, bunit, brow (kmax,)  batch pivots: free position, unit row?, stored row
#   qj (batch,)    free positions of the batch's non-unit pivots
#   mv (kmax, 2)   column moves of the compaction
#   Gi (batch, batch), Wf (batch, n)   flush scratch
#   BQ (n, batch)  gathered coefficients for the BLAS update
#   st (6,)        n_free, n_stored, n_batch, nonzeros of g, n_batch_non_unit, use BLAS


@njit
def _dec_reset(n, dec) -> None:
    """Empty span: every column free, ``g = 1``."""
    g, freecol, colpos, pivrow, st = dec[1], dec[3], dec[4], dec[5], dec[15]
    for c in range(n):
        g[c] = 1.0
        freecol[c] = c
        colpos[c] = c
        pivrow[c] = -1
    st[0] = n
    st[1] = 0
    st[2] = 0
    st[3] = n
    st[4] = 0


@njit
def _dec_flush(dec) -> None:
    """End of a batch: reduce its rows fully among themselves (``Wf = G^-1 W``), update every
    stored row (``B -= B[:, Q] Wf``), and drop the batch's pivot columns from the free
    positions."""
    B, g, _v, freecol, colpos, pivrow, prio, bq, bunit, brow, qj, mv, Gi, Wf, BQ, st = dec
    nf = st[0]
    r0 = st[1]
    k = st[2]
    kd = st[4]
    if k == 0:
        return
    # column moves of "swap with the last free position", removals in decreasing position
    order = np.empty(k, dtype=bq.dtype)  # bq[:k] in decreasing order (insertion sort: k is
    for a in range(k):                   # at most a batch, and np.sort is slow to compile)
        v = bq[a]
        b = a
        while b > 0 and order[b - 1] < v:
            order[b] = order[b - 1]
            b -= 1
        order[b] = v
    nm = 0
    cur = nf
    for pos in order:
        last = cur - 1
        if pos != last:
            mv[nm, 0] = pos
            mv[nm, 1] = last
            nm += 1
        cur -= 1
    if kd > 0:
        a = 0
        for t in range(k):
            if not bunit[t]:
                qj[a] = bq[t]
                a += 1
        # G[a, b] = W_a[q_b] is unit upper triangular (each batch row was reduced against
        # the earlier ones); Gi = G^-1 by back substitution, <= kd - 1 products per entry.
        for a in range(kd - 1, -1, -1):
            wa = B[r0 + a]
            for c in range(kd):
                Gi[a, c] = 0.0
            Gi[a, a] = 1.0
            for b in range(a + 1, kd):
                gab = wa[qj[b]]
                if gab != 0.0:
                    for c in range(b, kd):
                        Gi[a, c] -= gab * Gi[b, c]
            for c in range(a + 1, kd):
                Gi[a, c] = _red(Gi[a, c])
        # Wf = Gi W = W - (I - Gi) W
        for a in range(kd):
            Gi[a, a] = 0.0
            for c in range(a + 1, kd):
                Gi[a, c] = -Gi[a, c]
            wf = Wf[a]
            wa = B[r0 + a]
            for p in range(nf):
                wf[p] = wa[p]
        _row_pass(Wf, kd, Gi, False, qj, B[r0 : r0 + kd], kd, nf, mv, 0)
    # every stored row: B -= B[:, Q] Wf, reduce, compact
    if st[5] and kd > 0 and r0 > 0:
        for i in range(r0):
            row = B[i]
            for a in range(kd):
                BQ[i, a] = row[qj[a]]
        # BLAS's column-major view: B^T -= Wf^T BQ^T (in place, leading dimensions n, n, batch)
        n = B.shape[1]
        _xxgemm(ord("d"), ord("n"), ord("n"), nf, r0, kd, _MINUS_ONE.ctypes, Wf.ctypes, n,
                BQ.ctypes, BQ.shape[1], _ONE.ctypes, B.ctypes, n)
        for i in range(r0):
            row = B[i, :nf]
            _reduce_row(row, nf)
            for m in range(nm):
                row[mv[m, 0]] = row[mv[m, 1]]
    else:
        _row_pass(B, r0, Gi, True, qj, Wf, kd, nf, mv, nm)
    for a in range(kd):
        row = B[r0 + a]
        wf = Wf[a]
        for p in range(nf):
            row[p] = wf[p]
        for m in range(nm):
            row[mv[m, 0]] = row[mv[m, 1]]
    for t in range(k):
        c = freecol[bq[t]]
        colpos[c] = -1
        pivrow[c] = -2 if bunit[t] else brow[t]
    for m in range(nm):
        dst = mv[m, 0]
        src = mv[m, 1]
        g[dst] = g[src]
        prio[dst] = prio[src]
        c = freecol[src]
        freecol[dst] = c
        colpos[c] = dst
    st[0] = nf - k
    st[1] = r0 + kd
    st[2] = 0
    st[4] = 0


@njit
def _dec_add(units, s, e, dec) -> bool:
    """Receive the symbol ``units[s:e]`` (distinct unit indices); True iff the all-ones
    vector is now in the span of everything received."""
    B, g, scratch, _freecol, colpos, pivrow, prio, bq, bunit, brow, qj = dec[:11]
    st = dec[15]
    nf = st[0]
    r0 = st[1]
    k = st[2]
    kd = st[4]
    # the reduced row is built in the stored row it would become (scratch if the span is full)
    v = B[r0 + kd] if r0 + kd < B.shape[0] else scratch
    for p in range(nf):
        v[p] = 0.0
    for a in range(s, e):
        c = units[a]
        i = pivrow[c]
        if i >= 0:
            row = B[i]
            for p in range(nf):
                v[p] -= row[p]
        elif i == -1:
            v[colpos[c]] += 1.0
        # i == -2: a pinned unit; its pivot row is the unit vector, nothing is left
    # Against the batch's rows in order (each vanishes on the earlier batch pivots), four at a
    # time: the multipliers of a group follow by scalar corrections, then one fused pass.
    # |v| stays below |a| h + 19 h^2 < 2**53 between reductions (see _REDUCE_EVERY).
    cnt = 0
    t = 0
    while t < k:
        m = 0
        t1 = t2 = t3 = t4 = 0
        while t < k and m < 4:
            if not bunit[t]:
                if m == 0:
                    t1 = t
                elif m == 1:
                    t2 = t
                elif m == 2:
                    t3 = t
                else:
                    t4 = t
                m += 1
            t += 1
        if m == 0:
            break
        w1 = B[brow[t1]]
        a1 = _red(v[bq[t1]])
        a2 = a3 = a4 = 0.0
        w2 = w3 = w4 = w1
        if m > 1:
            w2 = B[brow[t2]]
            q = bq[t2]
            a2 = _red(v[q] - a1 * w1[q])
        if m > 2:
            w3 = B[brow[t3]]
            q = bq[t3]
            a3 = _red(v[q] - a1 * w1[q] - a2 * w2[q])
        if m > 3:
            w4 = B[brow[t4]]
            q = bq[t4]
            a4 = _red(v[q] - a1 * w1[q] - a2 * w2[q] - a3 * w3[q])
        if a1 == 0.0 and a2 == 0.0 and a3 == 0.0 and a4 == 0.0:
            continue
        if cnt + 4 > _REDUCE_EVERY:
            _reduce_row(v, nf)
            cnt = 0
        for p in range(nf):
            v[p] -= (a1 * w1[p] + a2 * w2[p]) + (a3 * w3[p] + a4 * w4[p])
        cnt += 4
    for t in range(k):
        if bunit[t]:
            v[bq[t]] = 0.0
    # reduce; pivot: among the nonzeros, the highest priority (first such position)
    nnz = 0
    best = -1
    for p in range(nf):
        x = v[p]
        x = x - _P * np.floor(x * _PINV + 0.5)
        v[p] = x
        nz = x != 0.0
        nnz += nz
        pr = prio[p] if nz else -1
        best = max(best, pr)
    if nnz == 0:
        return False  # dependent: the span is unchanged
    q = 0
    while v[q] == 0.0 or prio[q] != best:
        q += 1
    bq[k] = q
    gq = g[q]
    if nnz == 1:
        bunit[k] = True
        if gq != 0.0:
            g[q] = 0.0
            st[3] -= 1
    else:
        if r0 + kd == B.shape[0]:  # cannot happen: a full span leaves no nonzero
            raise AssertionError("rank exceeds n")
        bunit[k] = False
        brow[k] = r0 + kd
        vq = v[q]
        inv = _inv(vq) if vq != 1.0 else 1.0
        if gq != 0.0:  # normalise and update g in one pass
            gnz = 0
            for p in range(nf):
                w = _red(v[p] * inv)
                v[p] = w
                x = _red(g[p] - gq * w)
                g[p] = x
                gnz += x != 0.0
            st[3] = gnz
        elif vq != 1.0:
            for p in range(nf):
                v[p] = _red(v[p] * inv)
        st[4] = kd + 1
    st[2] = k + 1
    done = st[3] == 0
    if not done and (st[4] == qj.shape[0] or k + 1 == bq.shape[0]):
        _dec_flush(dec)
    return done


@njit
def _csr_priority(ptr, idx, prio) -> None:
    """Pivot priority for :func:`_decode_csr`: the position of a unit's first singleton
    (later is better, never is best)."""
    never = ptr.shape[0]
    for c in range(prio.shape[0]):
        prio[c] = never
    for s in range(ptr.shape[0] - 1):
        if ptr[s + 1] - ptr[s] == 1:
            c = idx[ptr[s]]
            if prio[c] == never:
                prio[c] = s


@njit
def _decode_csr(ptr, idx, n, dec) -> int:
    _dec_reset(n, dec)
    _csr_priority(ptr, idx, dec[6])
    for s in range(ptr.shape[0] - 1):
        if _dec_add(idx, ptr[s], ptr[s + 1], dec):
            return s + 1
    return -1


# --------------------------------------------------------------------------------------------
# the arrival process
# --------------------------------------------------------------------------------------------


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
def _trial(delays, u, d, cap, state, decode, limit, perm, pinit, nsym, ntime, heap, dec,
           by_delay, whole=False):
    """Generate the symbols of one trial in arrival order and, with ``decode``, feed each to
    the decoder until it holds; never more than ``limit`` symbols.

    A binary heap keyed by (next arrival time, worker) merges the workers' schedules, so the
    sequence is the stable sort by time with ties by worker then symbol. A worker's random
    order is a Fisher-Yates shuffle of the other units done lazily, one ``rng.random()`` per
    unit placed (none for the last one), into its row of ``perm``; the uniforms are NumPy's
    PCG64 run inline on ``state`` (:mod:`ltsim.util.pcg`).

    ``u`` holds every worker's unit time; with ``whole`` a worker returns all its symbols
    together when the last is done.

    ``by_delay`` lists the workers by increasing delay (the decoder's column priority; unused
    without ``decode``).

    Returns ``(stop, times, worker, ptr, idx)``: ``stop`` the 1-based stopping count or -1,
    and the generated prefix.
    """
    n = delays.shape[0]
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
        prio = dec[6]
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


class Workspace:
    """Buffers of the decoder and the trial generator for ``n`` units, reusable across trials.

    Every call resets the state it uses, so one workspace serves any number of sequential
    calls (not concurrent ones). Reusing it saves allocating and page-faulting the ``n x n``
    float64 block (8 MB at ``n = 1000``) on every trial.

    Parameters
    ----------
    n : int
        Number of units (and workers).
    batch : int
        Non-unit pivots per block update, ``1 .. BATCH``. Only the speed depends on it (tests
        use small batches to exercise the block updates on small ``n``).
    blas : bool, optional
        Do the block update with BLAS ``dgemm`` (about 1.7x faster than the compiled kernel)
        instead of :func:`_row_pass`. Default: when :data:`BLAS_AVAILABLE`, i.e. when scipy's
        OpenBLAS can be held to one thread for the calling thread only, so that trials run in
        parallel processes never oversubscribe the cores. Both give the same answers.
    """

    def __init__(self, n: int, batch: int = BATCH, blas: bool | None = None) -> None:
        if not 1 <= n <= 2**24:
            raise ValueError(f"n must lie in 1..2**24 (the float64 bounds), got {n}")
        if not 1 <= batch <= BATCH:
            raise ValueError(f"batch must lie in 1..{BATCH}, got {batch}")
        self.n = n
        self.batch = batch
        kmax = _KMAX_PER_BATCH * batch
        f8, i8 = np.float64, np.int64
        self.dec: tuple[np.ndarray, ...] = (
            np.empty((n, n), dtype=f8),  # B
            np.empty(n, dtype=f8),  # g
            np.empty(n, dtype=f8),  # v
            np.empty(n, dtype=i8),  # freecol
            np.empty(n, dtype=i8),  # colpos
            np.empty(n, dtype=i8),  # pivrow
            np.empty(n, dtype=i8),  # prio (by free position)
            np.empty(kmax, dtype=i8),  # bq
            np.empty(kmax, dtype=np.bool_),  # bunit
            np.empty(kmax, dtype=i8),  # brow
            np.empty(batch, dtype=i8),  # qj
            np.empty((kmax, 2), dtype=i8),  # mv
            np.empty((batch, batch), dtype=f8),  # Gi
            np.empty((batch, n), dtype=f8),  # Wf
            np.empty((n, batch), dtype=f8),  # BQ
            np.zeros(6, dtype=i8),  # st
        )
        self._gen: tuple[np.ndarray, ...] | None = None
        if blas and not BLAS_AVAILABLE:
            raise ValueError("blas=True needs scipy's OpenBLAS with openblas_set_num_threads_local")
        self.blas = BLAS_AVAILABLE if blas is None else bool(blas)
        self.dec[-1][5] = int(self.blas)

    @staticmethod
    def generator_buffers(n: int) -> tuple[np.ndarray, ...]:
        """Fresh generator arrays ``(perm, pinit, nsym, ntime, heap)`` for ``n`` workers."""
        return (np.empty((n, max(n - 1, 1)), dtype=np.int32), np.empty(n, dtype=np.bool_),
                np.empty(n, dtype=np.int64), np.empty(n, dtype=np.float64),
                np.empty(n, dtype=np.int64))

    def generator(self) -> tuple[np.ndarray, ...]:
        """The generator's arrays, allocated on first use."""
        if self._gen is None:
            self._gen = self.generator_buffers(self.n)
        return self._gen

    @property
    def rank(self) -> int:
        """Rank mod :data:`PRIME` of the symbols decoded by the last call, up to its stop."""
        st = self.dec[-1]
        return int(self.n - st[0] + st[2])


def _find_openblas_local():
    """``openblas_set_num_threads_local`` of the OpenBLAS that scipy ships (the BLAS behind
    numba's ``dgemm`` helper), or None. It sets the BLAS thread count of the calling thread
    only (OpenBLAS >= 0.3.27)."""
    try:
        import scipy

        pattern = os.path.join(os.path.dirname(scipy.__file__), os.pardir, "scipy.libs",
                               "libscipy_openblas*.so*")
        for path in sorted(glob.glob(pattern)):
            fn = getattr(ctypes.CDLL(path), "openblas_set_num_threads_local", None)
            if fn is not None:
                fn.restype = ctypes.c_int
                fn.argtypes = [ctypes.c_int]
                return fn
    except (ImportError, OSError):  # pragma: no cover - other platforms and builds
        pass
    return None  # pragma: no cover


_SET_LOCAL_THREADS = _find_openblas_local()
BLAS_AVAILABLE = _SET_LOCAL_THREADS is not None
"""Whether the block update may use BLAS (see :class:`Workspace`)."""


@contextlib.contextmanager
def _one_blas_thread(active: bool):
    """Hold scipy's OpenBLAS to one thread in this thread while the kernels run."""
    if not active:
        yield
        return
    previous = _SET_LOCAL_THREADS(1)
    try:
        yield
    finally:
        _SET_LOCAL_THREADS(previous)


_DUMMY: Workspace | None = None


def _dummy_decoder() -> tuple[np.ndarray, ...]:
    """A decoder state that is never used (``decode=False``), of the right types."""
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = Workspace(1, batch=1)
    return _DUMMY.dec


def _workspace(n: int, workspace: Workspace | None) -> Workspace:
    if workspace is None:
        return Workspace(n)
    if workspace.n != n:
        raise ValueError(f"workspace is for n={workspace.n}, not n={n}")
    return workspace


def _check_csr(ptr, idx, n: int) -> tuple[np.ndarray, np.ndarray]:
    if int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n}")
    ptr = np.ascontiguousarray(ptr, dtype=np.int64)
    idx = np.asarray(idx)
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise ValueError("idx must hold integers")
    idx = np.ascontiguousarray(idx, dtype=np.int64)  # one compiled specialisation
    if ptr.ndim != 1 or idx.ndim != 1 or ptr.size < 1 or ptr[0] != 0 or ptr[-1] != idx.size:
        raise ValueError("ptr and idx must be 1-d, ptr starting at 0 and ending at len(idx)")
    if np.any(np.diff(ptr) < 0):
        raise ValueError("ptr must be non-decreasing")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"unit indices must lie in 0..{n - 1}")
    return ptr, idx


def stop_count(ptr: np.ndarray, idx: np.ndarray, n: int,
               workspace: Workspace | None = None) -> int:
    """Number of symbols received when the all-ones vector first enters their real span.

    Parameters
    ----------
    ptr : array_like of int, shape (S + 1,)
        CSR offsets: symbol ``s`` (the ``s``-th arrival, from 0) is ``idx[ptr[s]:ptr[s+1]]``.
    idx : array_like of int (e.g. int32 or int64)
        Unit indices in ``0..n-1``, distinct within a symbol (not checked: a repeated unit
        would count twice). Empty symbols are allowed.
    n : int
        Number of units (columns).
    workspace : Workspace, optional
        Buffers for ``n`` to reuse across calls.

    Returns
    -------
    int
        The smallest ``m`` (``1 <= m <= S``) such that ``1`` is in the row space over the
        reals of the first ``m`` indicator vectors, or -1 if even all ``S`` do not reach it.

    Notes
    -----
    Incremental RREF over ``GF(PRIME)`` with batched back substitution; see the module
    docstring for the algorithm, why it is exact, and its ``O(n^3/6)`` worst-case cost. With a
    ``workspace``, ``count == n and workspace.rank == n`` afterwards means the answer is
    certified over the rationals.
    """
    ptr, idx = _check_csr(ptr, idx, n)
    ws = _workspace(int(n), workspace)
    with _one_blas_thread(ws.blas):
        return int(_decode_csr(ptr, idx, int(n), ws.dec))


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
        and the ``n`` received symbols are independent (see the module docstring). Otherwise
        the answer is exact unless :data:`PRIME` divides a specific minor.
    """

    count: int
    latency: float
    received: Arrivals
    certified: bool


def _check_process(delays, u, d, cap) -> tuple[np.ndarray, np.ndarray, int, int]:
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
                                        *Workspace.generator_buffers(n), _dummy_decoder(),
                                        np.empty(0, dtype=np.int64), whole)
    restore(rng, state)
    return Arrivals(times, ptr, idx, worker)


def run_trial(delays: np.ndarray, u, d: int, cap: int | None,
              rng: np.random.Generator, workspace: Workspace | None = None,
              whole: bool = False) -> Trial:
    """One trial: generate symbols in arrival order and decode until ``F`` is recoverable.

    Symbols are produced lazily (a heap merges the workers' schedules, each worker's random
    order is drawn one Fisher-Yates step per unit placed) and fed one by one to the exact
    decoder of :func:`stop_count`, so all the work is that of the received prefix.

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
    ws = _workspace(n, workspace)
    limit = n * _symbols_per_worker(n, d, cap)
    with _one_blas_thread(ws.blas):
        state = state_of(rng)
        stop, times, worker, ptr, idx = _trial(delays, u, d, cap, state, True, limit,
                                               *ws.generator(), ws.dec,
                                               np.argsort(delays, kind="stable"), whole)
        restore(rng, state)
    latency = float(times[stop - 1]) if stop > 0 else math.inf
    certified = stop == n and ws.rank == n
    return Trial(int(stop), latency, Arrivals(times, ptr, idx, worker), bool(certified))


def coefficients(ptr: np.ndarray, idx: np.ndarray, n: int, count: int | None = None,
                 atol: float = 1e-9) -> np.ndarray:
    """Real coefficients ``c`` with ``sum_s c_s * indicator_s = 1`` over a received prefix.

    The master gets ``F = sum_s c_s * value_s`` from them.

    Parameters
    ----------
    ptr, idx, n
        The symbols in arrival order, as in :func:`stop_count`.
    count : int, optional
        Use the first ``count`` symbols; default ``stop_count(ptr, idx, n)``.
    atol : float
        Largest accepted ``max_i |(A^T c)_i - 1|``.

    Returns
    -------
    ndarray of float64, shape (count,)
        The coefficient of each of the first ``count`` symbols.

    Raises
    ------
    ValueError
        If ``1`` is not in the span of the prefix (the residual exceeds ``atol``).

    Notes
    -----
    Singletons pin their unit: a unit ``j`` with a singleton ``e_j`` among the rows has its
    equation closed by that singleton's coefficient, ``c_{e_j} = 1 - sum_{C ∋ j} c_C``. The
    other rows' coefficients solve ``sum_{C ∋ i} c_C = 1`` over the unpinned units ``i``, a
    dense least-squares problem of size ``|U| x (#other rows)`` (LAPACK ``gelsy``, QR with
    column pivoting, which returns a basic solution with small coefficients), followed by one
    step of iterative refinement and a residual check. Float64 throughout:
    ``O(|U| m min(|U|, m))`` for ``m`` rows, well under a second at ``n = 1000``.
    """
    from scipy import linalg

    ptr, idx = _check_csr(ptr, idx, n)
    n = int(n)
    if count is None:
        count = stop_count(ptr, idx, n)
        if count < 0:
            raise ValueError("the all-ones vector is not in the span of the symbols")
    if not 0 <= count <= ptr.size - 1:
        raise ValueError(f"count must lie in 0..{ptr.size - 1}")
    ptr = ptr[: count + 1]
    sizes = np.diff(ptr)
    rows = np.repeat(np.arange(count), sizes)
    cols = np.asarray(idx[: ptr[-1]], dtype=np.int64)
    A = np.zeros((count, n))
    A[rows, cols] = 1.0
    # the first singleton of each unit closes that unit's equation
    single = np.flatnonzero(sizes == 1)
    pin_row = np.full(n, -1, dtype=np.int64)
    pin_row[cols[ptr[single]][::-1]] = single[::-1]
    pinned = np.flatnonzero(pin_row >= 0)
    slack = np.zeros(count, dtype=bool)
    slack[pin_row[pinned]] = True
    other = np.flatnonzero(~slack)
    free_units = np.flatnonzero(pin_row < 0)
    c = np.zeros(count)
    if free_units.size and other.size:
        M = A[np.ix_(other, free_units)].T
        rhs = np.ones(free_units.size)
        sol = linalg.lstsq(M, rhs, lapack_driver="gelsy")[0]
        sol += linalg.lstsq(M, rhs - M @ sol, lapack_driver="gelsy")[0]
        c[other] = sol
    c[pin_row[pinned]] = 1.0 - A[:, pinned].T @ c
    resid = float(np.abs(A.T @ c - 1.0).max(initial=0.0))
    if not resid <= atol:
        raise ValueError(f"the all-ones vector is not in the span (residual {resid:.3g})")
    return c


__all__ = [
    "BATCH",
    "BLAS_AVAILABLE",
    "PRIME",
    "Arrivals",
    "Trial",
    "Workspace",
    "coefficients",
    "run_trial",
    "sample_trial",
    "stop_count",
    "symbols_per_worker",
]
