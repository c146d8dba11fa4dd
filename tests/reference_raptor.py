"""An obviously-correct slow reference of RFC 5053's R10, written from the RFC's text
(Sections 5.4.2.3, 5.4.4) independently of ``ltsim.codes.raptor``: rows as Python integers
used as bit sets, ranks by plain Gaussian elimination over GF(2) and over the rationals with
``fractions.Fraction``. Only the RFC's tables are shared."""

from __future__ import annotations

from fractions import Fraction
from math import comb

from ltsim.codes.raptor.tables import SYSTEMATIC_INDEX, V0, V1


def is_prime(n):
    return n > 1 and all(n % q for q in range(2, int(n ** 0.5) + 1))


def sizes(K):
    """(S, H, L, L') of Section 5.4.2.3."""
    X = 1
    while X * (X - 1) < 2 * K:
        X += 1
    S = -(-K // 100) + X  # ceil(0.01 K) + X
    while not is_prime(S):
        S += 1
    H = 1
    while comb(H, -(-H // 2)) < K + S:
        H += 1
    L = K + S + H
    Lp = L
    while not is_prime(Lp):
        Lp += 1
    return S, H, L, Lp


def rand(X, i, m):
    return (V0[(X + i) % 256] ^ V1[(X // 256 + i) % 256]) % m


def deg(v):
    table = [(10241, 1), (491582, 2), (712794, 3), (831695, 4), (948446, 10),
             (1032189, 11), (1048576, 40)]
    for limit, d in table:
        if v < limit:
            return d
    raise ValueError(v)


def trip(K, X):
    Lp = sizes(K)[3]
    J = SYSTEMATIC_INDEX[K - 4]
    A = (53591 + J * 997) % 65521
    B = 10267 * (J + 1) % 65521
    Y = (B + X * A) % 65521
    return deg(rand(Y, 0, 2 ** 20)), 1 + rand(Y, 1, Lp - 1), rand(Y, 2, Lp)


def lt_bits(K, X):
    """Encoding symbol X as a bit set over the L intermediate symbols (LTEnc)."""
    L, Lp = sizes(K)[2:]
    d, a, b = trip(K, X)
    while b >= L:
        b = (b + a) % Lp
    bits = 1 << b
    for _ in range(min(d - 1, L - 1)):
        b = (b + a) % Lp
        while b >= L:
            b = (b + a) % Lp
        bits |= 1 << b
    return bits


def precode_bits(K):
    """The S LDPC and H Half constraint rows as bit sets."""
    S, H = sizes(K)[:2]
    ldpc = [1 << (K + s) for s in range(S)]
    for i in range(K):
        a = 1 + ((i // S) % (S - 1))
        b = i % S
        ldpc[b] ^= 1 << i
        b = (b + a) % S
        ldpc[b] ^= 1 << i
        b = (b + a) % S
        ldpc[b] ^= 1 << i
    weight = -(-H // 2)
    gray = [g for g in (i ^ (i >> 1) for i in range(1 << H)) if bin(g).count("1") == weight]
    gray = gray[:K + S]
    half = []
    for h in range(H):
        bits = 1 << (K + S + h)
        for j in range(K + S):
            if (gray[j] >> h) & 1:
                bits |= 1 << j
        half.append(bits)
    return ldpc + half


def gf2_rank(rows):
    basis = {}
    for r in rows:
        while r:
            top = r.bit_length() - 1
            if top in basis:
                r ^= basis[top]
            else:
                basis[top] = r
                break
    return len(basis)


def rational_rank(rows, L):
    """Rank over Q of 0/1 rows (bit sets over L columns), by Fraction elimination."""
    matrix = [[Fraction((r >> c) & 1) for c in range(L)] for r in rows]
    rank = 0
    for c in range(L):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][c] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for i in range(len(matrix)):
            if i != rank and matrix[i][c] != 0:
                f = matrix[i][c] / matrix[rank][c]
                matrix[i] = [x - f * y for x, y in zip(matrix[i], matrix[rank], strict=True)]
        rank += 1
    return rank


def first_decodable(K, order, field):
    """Symbols of ``order`` (ESIs) received when the precode and they first have rank L
    (``field``: "gf2" or "q"); -1 if never."""
    L = sizes(K)[2]
    rows = precode_bits(K)
    rank = gf2_rank if field == "gf2" else (lambda rs: rational_rank(rs, L))
    for t, x in enumerate(order):
        rows.append(lt_bits(K, x))
        if rank(rows) == L:
            return t + 1
    return -1
