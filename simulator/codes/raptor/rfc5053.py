"""The systematic Raptor code of RFC 5053 ("R10"), exactly as specified: its parameters, its
random number, degree and triple generators, the LDPC and Half precode symbols and the LT
encoding of intermediate symbols. Section numbers are the RFC's.

A source block of K source symbols (4 <= K <= 8192, Section 5.4.2.3 and 5.7) is expanded into
L = K + S + H *intermediate symbols* C[0..L-1]: C[0..K-1] are chosen so that the first K
encoding symbols are the source symbols (the systematic construction of Section 5.4.2.4),
C[K..K+S-1] are LDPC symbols and C[K+S..L-1] Half symbols (Section 5.4.2.3). Encoding symbol
X (its ESI) is the XOR (over the reals: the sum) of the intermediate symbols
:func:`lt_indices` lists (Section 5.4.4.3).

Everything here is a pure function of K (and X); :func:`code` returns the arrays a simulation
or an execution uses.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .tables import SYSTEMATIC_INDEX, V0, V1

K_MIN, K_MAX = 4, 8192
"""The source block sizes the RFC's systematic indices cover (Section 5.7)."""

DEGREE_LIMITS = (0, 10241, 491582, 712794, 831695, 948446, 1032189, 1048576)
DEGREES = (1, 2, 3, 4, 10, 11, 40)
"""The degree generator's table (Section 5.4.4.2, Table 1): Deg[v] = d[j] for
f[j-1] <= v < f[j]."""

Q = 65521
"""The largest prime below 2^16 (Section 5.4.4.4)."""


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % p for p in range(2, math.isqrt(n) + 1))


@dataclass(frozen=True)
class Parameters:
    """The code's sizes for K source symbols (Section 5.4.2.3): X the smallest positive
    integer with X (X - 1) >= 2K; S the smallest prime >= ceil(0.01 K) + X; H the smallest
    integer with choose(H, ceil(H/2)) >= K + S; L = K + S + H; L' the smallest prime >= L;
    J(K) the systematic index (Section 5.7)."""

    K: int
    X: int
    S: int
    H: int
    L: int
    L_prime: int
    J: int

    @property
    def H_prime(self) -> int:
        """ceil(H / 2): the weight of every Gray code a Half symbol uses."""
        return (self.H + 1) // 2


@functools.lru_cache(maxsize=64)
def parameters(K: int) -> Parameters:
    """:class:`Parameters` of a source block of ``K`` symbols (4 <= K <= 8192)."""
    if not K_MIN <= K <= K_MAX:
        raise ValueError(f"RFC 5053 defines source blocks of {K_MIN} to {K_MAX} symbols, "
                         f"got {K}")
    X = 1
    while X * (X - 1) < 2 * K:
        X += 1
    S = math.ceil(0.01 * K) + X
    while not _is_prime(S):
        S += 1
    H = 1
    while math.comb(H, (H + 1) // 2) < K + S:
        H += 1
    L = K + S + H
    L_prime = L
    while not _is_prime(L_prime):
        L_prime += 1
    return Parameters(K, X, S, H, L, L_prime, SYSTEMATIC_INDEX[K - K_MIN])


def rand(X: int, i: int, m: int) -> int:
    """Rand[X, i, m] (Section 5.4.4.1): V0[(X + i) % 256] ^ V1[(floor(X / 256) + i) % 256],
    modulo m."""
    return (V0[(X + i) % 256] ^ V1[(X // 256 + i) % 256]) % m


def deg(v: int) -> int:
    """Deg[v] for 0 <= v < 2^20 (Section 5.4.4.2)."""
    for j in range(1, len(DEGREE_LIMITS)):
        if DEGREE_LIMITS[j - 1] <= v < DEGREE_LIMITS[j]:
            return DEGREES[j - 1]
    raise ValueError(f"Deg is defined for 0 <= v < 2^20, got {v}")


def trip(K: int, X: int) -> tuple[int, int, int]:
    """Trip[K, X] = (d, a, b) (Section 5.4.4.4): A = (53591 + J(K) 997) % Q,
    B = 10267 (J(K) + 1) % Q, Y = (B + X A) % Q, d = Deg[Rand[Y, 0, 2^20]],
    a = 1 + Rand[Y, 1, L' - 1], b = Rand[Y, 2, L']."""
    p = parameters(K)
    A = (53591 + p.J * 997) % Q
    B = 10267 * (p.J + 1) % Q
    Y = (B + X * A) % Q
    v = rand(Y, 0, 1 << 20)
    return deg(v), 1 + rand(Y, 1, p.L_prime - 1), rand(Y, 2, p.L_prime)


def lt_indices(K: int, X: int) -> list[int]:
    """The intermediate symbols encoding symbol ``X`` is the sum of: LTEnc[K, C, Trip[K, X]]
    (Section 5.4.4.3) walks b, b + a, ... modulo L', skipping values >= L, for
    min(d, L) steps. (The walk never repeats an index: a < L' and L' is prime.)"""
    p = parameters(K)
    d, a, b = trip(K, X)
    while b >= p.L:
        b = (b + a) % p.L_prime
    out = [b]
    for _ in range(1, min(d - 1, p.L - 1) + 1):
        b = (b + a) % p.L_prime
        while b >= p.L:
            b = (b + a) % p.L_prime
        out.append(b)
    return out


def ldpc_rows(K: int) -> list[list[int]]:
    """The S LDPC constraints (Section 5.4.2.3): for i = 0 .. K-1, with a = 1 + (floor(i/S)
    mod (S - 1)) and b = i mod S, source-side intermediate symbol C[i] enters the LDPC
    symbols K + b, K + (b + a) mod S and K + (b + 2a) mod S. Row s lists the intermediate
    symbols whose sum is zero: its C[i] and C[K + s] itself."""
    p = parameters(K)
    S = p.S
    rows: list[list[int]] = [[] for _ in range(S)]
    for i in range(K):
        a = 1 + (i // S) % (S - 1)
        b = i % S
        for _ in range(3):
            rows[b].append(i)
            b = (b + a) % S
    for s in range(S):
        rows[s].append(K + s)
    return rows


def gray_sequence(K: int) -> list[int]:
    """m[0 .. K+S-1] (Section 5.4.2.3): the Gray codes g[i] = i ^ floor(i/2), i = 0, 1, ...,
    that have exactly H' = ceil(H/2) bits set, in order."""
    p = parameters(K)
    out, i = [], 0
    while len(out) < K + p.S:
        g = i ^ (i >> 1)
        if bin(g).count("1") == p.H_prime:
            out.append(g)
        i += 1
    return out


def half_rows(K: int) -> list[list[int]]:
    """The H Half constraints (Section 5.4.2.3): Half symbol K + S + h is the sum of the
    C[j], j < K + S, whose m[j] has bit h set; row h lists those and K + S + h itself."""
    p = parameters(K)
    m = gray_sequence(K)
    return [[j for j in range(K + p.S) if (m[j] >> h) & 1] + [K + p.S + h]
            for h in range(p.H)]


def constraint_rows(K: int) -> list[list[int]]:
    """The S + H precode constraints (LDPC, then Half): each row's intermediate symbols sum
    to zero."""
    return ldpc_rows(K) + half_rows(K)


@dataclass(frozen=True)
class Code:
    """The arrays of one source block: the precode constraints and the first ``symbols``
    encoding symbols, each a row of intermediate-symbol indices in CSR form."""

    params: Parameters
    constraint_ptr: np.ndarray
    constraint_idx: np.ndarray
    symbol_ptr: np.ndarray
    symbol_idx: np.ndarray

    def symbol(self, x: int) -> np.ndarray:
        """The intermediate symbols encoding symbol ``x`` sums."""
        return self.symbol_idx[self.symbol_ptr[x]:self.symbol_ptr[x + 1]]


def _csr(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=ptr[1:])
    idx = np.fromiter((i for r in rows for i in r), dtype=np.int32, count=int(ptr[-1]))
    return ptr, idx


@functools.lru_cache(maxsize=16)
def code(K: int, symbols: int) -> Code:
    """The precode constraints and encoding symbols 0 .. ``symbols`` - 1 of a block of K
    (cached: a pure function of its arguments)."""
    ptr_c, idx_c = _csr(constraint_rows(K))
    ptr_s, idx_s = _csr([lt_indices(K, x) for x in range(symbols)])
    for a in (ptr_c, idx_c, ptr_s, idx_s):
        a.flags.writeable = False
    return Code(parameters(K), ptr_c, idx_c, ptr_s, idx_s)
