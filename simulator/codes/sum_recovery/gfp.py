"""The exact decoder of the sum-recovery code: is the all-ones vector in the real span?

Incremental reduced row echelon form over GF(:data:`PRIME`), carried exactly in float64,
with batched back substitution (a block update by BLAS, :mod:`~ltsim.codes.sum_recovery.blas`,
or by the compiled :func:`_row_pass`). The algorithm, the proof that it is exact, and its
cost are in docs/codes.md (section ``sum_recovery``, the exact decoder).

Public API: :func:`stop_count`, the exact stopping count of a given arrival sequence (CSR);
:class:`DecoderWorkspace`, the decoder's reusable buffers (:class:`DecoderState`) at a
fixed ``n``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...jit import njit
from .blas import BLAS_AVAILABLE, MINUS_ONE, ONE, one_blas_thread, xxgemm

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
# the decoder: its state is one DecoderState, ``dec``
# --------------------------------------------------------------------------------------------


class DecoderState(NamedTuple):
    """The decoder's arrays (allocated by :class:`DecoderWorkspace`, reset by each call).

    Attributes
    ----------
    B : ndarray of float64, shape (n, n)
        Stored pivot rows over the free positions ``0..nf-1``, then the batch's rows.
    g : ndarray of float64, shape (n,)
        The reduced all-ones vector over the free positions.
    v : ndarray of float64, shape (n,)
        Scratch for an arriving row when the span is full.
    freecol : ndarray of int64, shape (n,)
        The column at each free position.
    colpos : ndarray of int64, shape (n,)
        Each column's free position, or -1.
    pivrow : ndarray of int64, shape (n,)
        Each column's stored row (>= 0), -1 if free, -2 if the pivot of a unit row (pinned).
    prio : ndarray of int64, shape (n,)
        Pivot preference by free position (highest first), >= 0.
    bq, bunit, brow : ndarray, shape (kmax,)
        The batch's pivots: free position (int64), whether a unit row (bool), stored row
        (int64).
    qj : ndarray of int64, shape (batch,)
        Free positions of the batch's non-unit pivots.
    mv : ndarray of int64, shape (kmax, 2)
        Column moves of the compaction.
    Gi : ndarray of float64, shape (batch, batch)
        Flush scratch: the inverse of the batch's pivot block.
    Wf : ndarray of float64, shape (batch, n)
        Flush scratch: the batch's rows fully reduced among themselves.
    BQ : ndarray of float64, shape (n, batch)
        Gathered coefficients for the BLAS update.
    st : ndarray of int64, shape (6,)
        Counters: free positions, stored rows, batch rows, nonzeros of ``g``, non-unit batch
        rows, and whether the block update uses BLAS.
    """

    B: np.ndarray
    g: np.ndarray
    v: np.ndarray
    freecol: np.ndarray
    colpos: np.ndarray
    pivrow: np.ndarray
    prio: np.ndarray
    bq: np.ndarray
    bunit: np.ndarray
    brow: np.ndarray
    qj: np.ndarray
    mv: np.ndarray
    Gi: np.ndarray
    Wf: np.ndarray
    BQ: np.ndarray
    st: np.ndarray


@njit
def _dec_reset(n, dec) -> None:
    """Empty span: every column free, ``g = 1``."""
    g, freecol, colpos, pivrow, st = dec.g, dec.freecol, dec.colpos, dec.pivrow, dec.st
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
    B, g, freecol, colpos, pivrow = dec.B, dec.g, dec.freecol, dec.colpos, dec.pivrow
    prio, bq, bunit, brow, qj, mv = dec.prio, dec.bq, dec.bunit, dec.brow, dec.qj, dec.mv
    Gi, Wf, BQ, st = dec.Gi, dec.Wf, dec.BQ, dec.st
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
        xxgemm(ord("d"), ord("n"), ord("n"), nf, r0, kd, MINUS_ONE.ctypes, Wf.ctypes, n,
               BQ.ctypes, BQ.shape[1], ONE.ctypes, B.ctypes, n)
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
    B, g, scratch, colpos, pivrow, prio = dec.B, dec.g, dec.v, dec.colpos, dec.pivrow, dec.prio
    bq, bunit, brow, qj, st = dec.bq, dec.bunit, dec.brow, dec.qj, dec.st
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
    _csr_priority(ptr, idx, dec.prio)
    for s in range(ptr.shape[0] - 1):
        if _dec_add(idx, ptr[s], ptr[s + 1], dec):
            return s + 1
    return -1


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


class DecoderWorkspace:
    """Buffers of the decoder for ``n`` units (:class:`DecoderState`), reusable across calls.

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
        self.dec = DecoderState(
            B=np.empty((n, n), dtype=f8),
            g=np.empty(n, dtype=f8),
            v=np.empty(n, dtype=f8),
            freecol=np.empty(n, dtype=i8),
            colpos=np.empty(n, dtype=i8),
            pivrow=np.empty(n, dtype=i8),
            prio=np.empty(n, dtype=i8),
            bq=np.empty(kmax, dtype=i8),
            bunit=np.empty(kmax, dtype=np.bool_),
            brow=np.empty(kmax, dtype=i8),
            qj=np.empty(batch, dtype=i8),
            mv=np.empty((kmax, 2), dtype=i8),
            Gi=np.empty((batch, batch), dtype=f8),
            Wf=np.empty((batch, n), dtype=f8),
            BQ=np.empty((n, batch), dtype=f8),
            st=np.zeros(6, dtype=i8),
        )
        if blas and not BLAS_AVAILABLE:
            raise ValueError("blas=True needs scipy's OpenBLAS with openblas_set_num_threads_local")
        self.blas = BLAS_AVAILABLE if blas is None else bool(blas)
        self.dec.st[5] = int(self.blas)

    @property
    def rank(self) -> int:
        """Rank mod :data:`PRIME` of the symbols decoded by the last call, up to its stop."""
        st = self.dec.st
        return int(self.n - st[0] + st[2])


def _workspace(n: int, workspace: DecoderWorkspace | None,
               make: type[DecoderWorkspace] = DecoderWorkspace) -> DecoderWorkspace:
    """``workspace``, checked to be for ``n`` units, or a new ``make(n)``."""
    if workspace is None:
        return make(n)
    if workspace.n != n:
        raise ValueError(f"workspace is for n={workspace.n}, not n={n}")
    return workspace


def _check_csr(ptr, idx, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Validated CSR arrays of symbols over ``n`` units, as contiguous int64."""
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
               workspace: DecoderWorkspace | None = None) -> int:
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
    workspace : DecoderWorkspace, optional
        Buffers for ``n`` to reuse across calls (a trial's
        :class:`~ltsim.codes.sum_recovery.arrivals.Workspace` serves too).

    Returns
    -------
    int
        The smallest ``m`` (``1 <= m <= S``) such that ``1`` is in the row space over the
        reals of the first ``m`` indicator vectors, or -1 if even all ``S`` do not reach it.

    Notes
    -----
    Incremental RREF over ``GF(PRIME)`` with batched back substitution; see docs/codes.md
    for the algorithm, why it is exact, and its ``O(n^3/6)`` worst-case cost. With a
    ``workspace``, ``count == n and workspace.rank == n`` afterwards means the answer is
    certified over the rationals.
    """
    ptr, idx = _check_csr(ptr, idx, n)
    ws = _workspace(int(n), workspace)
    with one_blas_thread(ws.blas):
        return int(_decode_csr(ptr, idx, int(n), ws.dec))
