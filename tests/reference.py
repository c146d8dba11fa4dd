"""Slow, obviously correct reference implementations: the oracles of the fast code."""

from __future__ import annotations

import math


def peel_reference(neighbours: list[set[int]], order: list[int], k: int, limit: int) -> int:
    """Feed symbols in ``order``; after each arrival run the peeling decoder to a standstill
    from scratch on everything received so far.

    Returns the number of symbols received when all ``k`` sources are known, or -1.
    """
    received: list[set[int]] = []
    for t, sym in enumerate(order[:limit]):
        received.append(set(neighbours[sym]))
        known: set[int] = set()
        progress = True
        while progress:
            progress = False
            for nb in received:
                unknown = nb - known
                if len(unknown) == 1:
                    known |= unknown
                    progress = True
        if len(known) == k:
            return t + 1
    return -1


def floyd_reference(u: list[float], k: int, d: int) -> list[int]:
    """Floyd's algorithm, written out: ``d`` distinct values of ``0..k-1`` from ``d`` uniforms."""
    chosen: list[int] = []
    for step in range(d):
        j = k - d + step
        t = min(math.floor(u[step] * (j + 1)), j)
        chosen.append(j if t in chosen else t)
    return chosen


def robust_soliton_reference(k: int, c: float, delta: float) -> list[float]:
    """Luby's Robust Soliton pmf over degrees 1..k, term by term."""
    S = c * math.log(k / delta) * math.sqrt(k)
    spike = min(max(round(k / S), 1), k)
    weights = []
    for d in range(1, k + 1):
        rho = 1.0 / k if d == 1 else 1.0 / (d * (d - 1))
        if d < spike:
            tau = S / (d * k)
        elif d == spike:
            tau = S * max(math.log(S / delta), 0.0) / k
        else:
            tau = 0.0
        weights.append(rho + tau)
    beta = math.fsum(weights)
    return [w / beta for w in weights]


def lt_latency_reference(delays, degrees, neighbours, tau, r, s, k, returns="symbol",
                         threshold=None, speeds=None):
    """Latency of one LT trial from its delays and code, by sorting (time, worker, symbol):
    worker j's symbol of degree d takes ``speeds[j] tau r d`` (speed 1 when not given).

    Returns ``(latency, symbols, decoded)``.
    """
    n = len(delays)
    arrivals = []
    for j in range(n):
        unit = (tau if speeds is None else speeds[j] * tau) * r
        costs = [unit * degrees[j * s + i] for i in range(s)]
        elapsed = 0.0
        for i in range(s):
            elapsed += costs[i]
            done = elapsed if returns == "symbol" else sum(costs)
            arrivals.append((delays[j] + done, j, i))
    arrivals.sort()
    times = [a[0] for a in arrivals]
    order = [a[1] * s + a[2] for a in arrivals]
    limit = threshold or n * s
    used = peel_reference(neighbours, order, k, limit)
    if used < 0:
        return math.inf, limit, False
    if threshold:
        used = threshold
    return times[used - 1], used, True
