"""Slow, obviously correct references of the newer codes, of the cost model and of the worker
classes: the oracles of ``tests/test_codes_reference.py`` and ``tests/test_cost_and_clusters.py``.

Everything here is plain Python written from the definitions (loops, sorting, exact
``fractions.Fraction`` arithmetic); numpy only serves the random draws, which are taken from
the same streams as ``ltsim run`` (:func:`ltsim.montecarlo.streams.stream`) so that a
reference reproduces a simulated trial exactly.

Notation: ``n`` workers, ``u = tau m / n`` the unit time, ``X_j`` the start-up delays;
worker ``j`` doing ``W`` unit tasks finishes at ``X_j + speed_j * u * W``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ltsim.montecarlo.streams import CLASSES, SPEEDS, stream
from tests.reference import lt_latency_reference

# --------------------------------------------------------------------------------------------
# the workers of a trial
# --------------------------------------------------------------------------------------------


def exact(value: float) -> Fraction:
    """A config number as the decimal the user wrote (``0.05`` is exactly 1/20)."""
    return Fraction(repr(float(value)))


def round_half_up(fraction: float, n: int) -> int:
    """``floor(fraction * n + 1/2)`` in exact decimal arithmetic."""
    return math.floor(exact(fraction) * n + Fraction(1, 2))


def class_counts(classes, n: int) -> list[int]:
    """Workers of every class: the rounded share of each class but the first, which takes the
    rest."""
    rest = [round_half_up(c.fraction, n) for c in classes[1:]]
    return [n - sum(rest), *rest]


def plain_system(experiment) -> bool:
    """The paper's model: one law for every worker, every speed 1."""
    classes = experiment.classes or []
    return (experiment.speed is None and not getattr(experiment.delay, "per_worker", False)
            and all(c.delay is None and c.speed == 1.0 for c in classes))


def draw_workers(experiment, trial: int) -> tuple[list[float], list[float]]:
    """Start-up delays and speeds of the workers of one trial, as lists.

    A plain system draws the n delays in one go from the trial's delay stream (child 0).
    Otherwise a uniformly random permutation (stream ``CLASSES``) deals the workers out to
    the classes, the first ``count_1`` to the first class, the next ``count_2`` to the
    second, ...; every class then draws its members' delays from the delay stream, classes in
    order; a class multiplies its members' speeds by its ``speed``, and a speed law multiplies
    every worker's speed by a draw (stream ``SPEEDS``).
    """
    n, seed = experiment.n_workers, experiment.seed
    delays_rng = stream(seed, trial, 0)
    if plain_system(experiment):
        return [float(x) for x in experiment.delay.sample(delays_rng, n)], [1.0] * n
    classes = list(experiment.classes or [])
    counts = class_counts(classes, n) if classes else [n]
    if len(counts) > 1:
        order = [int(j) for j in stream(seed, trial, CLASSES).permutation(n)]
    else:
        order = list(range(n))
    delays = [math.nan] * n
    speeds = [1.0] * n
    first = 0
    for k, count in enumerate(counts):
        members = order[first:first + count]
        first += count
        law = experiment.delay
        if classes and classes[k].delay is not None:
            law = classes[k].delay
        if getattr(law, "per_worker", False):  # worker j replays worker j of a trace
            draws = law.sample_workers(delays_rng, np.array(members, dtype=np.int64))
        else:
            draws = law.sample(delays_rng, count)
        for worker, x in zip(members, draws, strict=True):
            delays[worker] = float(x)
            speeds[worker] = classes[k].speed if classes else 1.0
    if experiment.speed is not None:
        factors = experiment.speed.sample(stream(seed, trial, SPEEDS), n)
        speeds = [s * float(f) for s, f in zip(speeds, factors, strict=True)]
    return delays, speeds


def fresh_workers(experiment, trial: int, index: int, size: int
                  ) -> tuple[list[float], list[float]]:
    """The ``size`` fresh workers scheme ``index`` starts in a trial (speculative backups),
    drawn from that scheme's stream (child ``1 + index``): for a plain system ``size`` delays
    of the law, speed 1; otherwise the cluster's own draw (used for the draws only)."""
    rng = stream(experiment.seed, trial, 1 + index)
    if plain_system(experiment):
        return [float(x) for x in experiment.delay.sample(rng, size)], [1.0] * size
    delays, speeds = experiment.cluster().fresh(rng, size)
    speeds = [1.0] * size if speeds is None else [float(s) for s in speeds]
    return [float(x) for x in delays], speeds


# --------------------------------------------------------------------------------------------
# the codes
# --------------------------------------------------------------------------------------------


def kth_smallest(values, k: int) -> float:
    """The k-th smallest (1-based) of ``values``."""
    return sorted(values)[k - 1]


def uncoded_reference(delays, speeds, unit) -> float:
    """``T = max_j (X_j + speed_j u)``."""
    return max(x + s * unit for x, s in zip(delays, speeds, strict=True))


def replication_reference(delays, speeds, unit, r: int) -> float:
    """``T = max over groups of r consecutive workers of the group's fastest finish``."""
    n = len(delays)
    finish = [delays[j] + speeds[j] * unit * r for j in range(n)]
    return max(min(finish[g:g + r]) for g in range(0, n, r))


def mds_reference(delays, speeds, unit, k: int, s: int, returns: str,
                  symbol: float | None = None) -> tuple[float, int]:
    """MDS over ``k`` sources: worker j's l-th symbol (``l = 1..s``) is done at
    ``X_j + l speed_j u c`` (``returns: symbol``) or all of them at ``X_j + s speed_j u c``
    (``worker``), ``c`` the unit tasks of a symbol (``symbol``; all ``n`` by default, a
    non-linear computation). T is the arrival of the k-th symbol; ``k`` symbols are used."""
    n = len(delays)
    c = n if symbol is None else symbol
    arrivals = []
    for j in range(n):
        for ell in range(1, s + 1):
            steps = ell if returns == "symbol" else s
            arrivals.append(delays[j] + speeds[j] * unit * c * steps)
    return kth_smallest(arrivals, k), k


def median(values) -> float:
    """Median with numpy's convention: the mean of the two middle values for an even count."""
    ordered = sorted(values)
    q = len(ordered)
    if q % 2:
        return ordered[q // 2]
    return (ordered[q // 2 - 1] + ordered[q // 2]) / 2


def backup_reference(delays, speeds, unit, after: float, slow_factor: float,
                     fresh_delays, fresh_speeds) -> dict:
    """Speculative backups: task i on worker i finishes at ``Y_i = X_i + speed_i u``;
    ``q = ceil(after n)``, ``t0 = Y_(q)``, ``D`` the median of the q smallest Y,
    ``t_b = max(t0, slow_factor D)``. Every task with ``Y_i > t_b`` gets one backup on a fresh
    worker finishing at ``t_b + X'_i + speed'_i u``; a task is done at its first copy, T at
    the last task.

    Returns a dict with ``latency``, ``backups``, ``t_b``, ``late`` (task indices) and
    ``backup_finish`` (one per task, used for the late ones only).
    """
    n = len(delays)
    finish = [delays[i] + speeds[i] * unit for i in range(n)]
    q = max(1, math.ceil(exact(after) * n))
    first = sorted(finish)[:q]
    t_b = max(first[-1], slow_factor * median(first))
    backup_finish = [t_b + fresh_delays[i] + fresh_speeds[i] * unit for i in range(n)]
    late = [i for i in range(n) if finish[i] > t_b]
    done = [min(finish[i], backup_finish[i]) if i in late else finish[i] for i in range(n)]
    return {"latency": max(done), "backups": len(late), "t_b": t_b, "late": late,
            "backup_finish": backup_finish}


def ideal_reference(delays, speeds, unit, pieces: int | None = None) -> float:
    """The genie bound by brute force: the n-th smallest of all unit completion times
    ``X_j + i speed_j u``, ``i = 1..n``, over every worker; with ``pieces = k``, the k-th
    smallest of ``X_j + i speed_j u n / k``, ``i = 1..k``."""
    n = len(delays)
    k = n if pieces is None else pieces
    piece = unit if pieces is None else unit * (n / k)
    times = [delays[j] + i * (piece * speeds[j]) for j in range(n) for i in range(1, k + 1)]
    return kth_smallest(times, k)


def lt_reference(delays, speeds, unit, degrees, neighbours, r: float, s: int, k: int,
                 returns: str = "symbol", threshold: int | None = None, linear: bool = False):
    """LT-r: worker j computes its s symbols one after another from ``X_j``, a symbol of
    degree d taking ``speed_j u r d`` (``speed_j u r`` in a linear computation; ``r`` the
    unit tasks of a source); ``returns: worker`` delivers them together. Symbols are peeled
    in arrival order (ties by worker, then symbol): :func:`tests.reference.
    lt_latency_reference` with per-worker speeds.

    Returns ``(latency, symbols, decoded)``.
    """
    costs = [1] * len(degrees) if linear else degrees
    return lt_latency_reference(delays, costs, neighbours, unit, r, s, k, returns,
                                threshold, speeds)


def reduce_rational(vec: dict[int, Fraction],
                    basis: list[tuple[int, dict[int, Fraction]]]) -> dict[int, Fraction]:
    """Reduce a sparse rational vector against an echelon basis, in insertion order: each row
    ``(c, row)`` has ``row[c] == 1`` and is zero on the pivots of the rows before it, so
    eliminating in order leaves ``vec`` zero on every pivot."""
    vec = dict(vec)
    for c, row in basis:
        f = vec.get(c, 0)
        if f:
            for col, x in row.items():
                y = vec.get(col, 0) - f * x
                if y:
                    vec[col] = y
                else:
                    vec.pop(col, None)
    return vec


class OnesInSpan:
    """Exact test of whether the all-ones vector of length n lies in the real row space of
    the 0/1 rows added so far (an echelon basis over ``Fraction``)."""

    def __init__(self, n: int) -> None:
        self.basis: list[tuple[int, dict[int, Fraction]]] = []
        self.ones: dict[int, Fraction] = {i: Fraction(1) for i in range(n)}

    @property
    def rank(self) -> int:
        """Rank of the rows added so far."""
        return len(self.basis)

    def add(self, units) -> bool:
        """Add the indicator row of ``units``; return whether ones is now in the span."""
        v = reduce_rational({int(c): Fraction(1) for c in units}, self.basis)
        if v:
            pivot = min(v)
            new = [(pivot, {col: x / v[pivot] for col, x in v.items()})]
            self.basis += new
            self.ones = reduce_rational(self.ones, new)  # already zero on the older pivots
        return not self.ones


def sum_recovery_stop(symbols, n: int) -> int:
    """First prefix (1-based count) of ``symbols`` (lists of units) after which F is a real
    linear combination of the received symbols; -1 if none."""
    span = OnesInSpan(n)
    for m, units in enumerate(symbols, 1):
        if span.add(units):
            return m
    return -1


def sum_recovery_symbols_per_worker(n: int, d: int, cap: int | None) -> int:
    """``1 + ceil((n - 1) / d)``, at most ``cap``."""
    full = 1 + -(-(n - 1) // d)
    return full if cap is None else min(full, cap)


def sum_recovery_reference(arrivals, delays, speeds, unit, d: int, cap: int | None,
                           whole: bool) -> tuple[float, int, bool]:
    """Sum recovery on a given arrival sequence
    (:func:`ltsim.codes.sum_recovery.arrivals.sample_trial`), after checking it against the
    definition: worker j's first symbol is ``{j}``, then chunks of d units (the last shorter)
    of a random order of the other units, disjoint; its l-th symbol (0-based) is done at
    ``X_j + speed_j u (1 + min(l d, n - 1))`` (all at the last one's time with ``whole``),
    arrivals sorted by (time, worker, symbol).

    Returns ``(latency, symbols, decoded)``; a failure uses every symbol.
    """
    n = len(delays)
    per = sum_recovery_symbols_per_worker(n, d, cap)
    times = [float(t) for t in arrivals.times]
    owners = [int(w) for w in arrivals.worker]
    ptr = [int(p) for p in arrivals.ptr]
    units = [[int(c) for c in arrivals.idx[ptr[i]:ptr[i + 1]]] for i in range(len(times))]
    assert len(times) == n * per, (len(times), n, per)
    seen = [0] * n
    covered: list[set[int]] = [set() for _ in range(n)]
    keys = []
    for t, j, chunk in zip(times, owners, units, strict=True):
        ell = seen[j]
        seen[j] += 1
        if ell == 0:
            assert chunk == [j], (j, chunk)
        else:
            assert len(chunk) == min(d, n - 1 - (ell - 1) * d), (j, ell, chunk)
            assert j not in chunk and not covered[j] & set(chunk), (j, chunk)
        covered[j] |= set(chunk)
        steps = 1 + min((per - 1 if whole else ell) * d, n - 1)
        assert t == delays[j] + speeds[j] * unit * steps or math.isclose(
            t, delays[j] + speeds[j] * unit * steps, rel_tol=1e-12), (t, j, ell)
        keys.append((t, j, ell))
    assert keys == sorted(keys), "arrivals are not sorted by (time, worker, symbol)"
    if cap is None:
        assert all(c == set(range(n)) for c in covered)
    stop = sum_recovery_stop(units, n)
    if stop < 0:
        return math.inf, len(times), False
    return times[stop - 1], stop, True


# --------------------------------------------------------------------------------------------
# cost
# --------------------------------------------------------------------------------------------


def busy(start: float, begin: float, unit_time: float, work: int, latency: float
         ) -> tuple[float, int]:
    """One worker started at ``start`` that computes ``work`` units back to back from
    ``begin``, one every ``unit_time``, and is stopped at ``latency``: its busy seconds and
    the units it completed."""
    finish = begin + unit_time * work
    if finish <= latency:
        return finish - start, work
    done = math.floor((latency - begin) / unit_time)
    return latency - start, min(max(done, 0), work - 1)


def cost(delays, speeds, unit, work, latency, starts=None) -> tuple[float, int]:
    """``worker_seconds`` and ``units`` of workers ``j`` started at ``starts[j]`` (0 by
    default) doing ``work[j]`` units from ``X_j``."""
    seconds, units = [], 0
    for j in range(len(delays)):
        start = 0.0 if starts is None else starts[j]
        b, w = busy(start, delays[j], speeds[j] * unit, work[j], latency)
        seconds.append(b)
        units += w
    return math.fsum(seconds), units


# --------------------------------------------------------------------------------------------
# one scheme of one trial, from the streams
# --------------------------------------------------------------------------------------------


def scheme_reference(experiment, index: int, trial: int, at: float | None = None) -> dict:
    """Everything the fast path reports for scheme ``index`` in trial ``trial``: ``latency``,
    ``symbols`` (-1 for uncoded schemes), ``decoded``, ``worker_seconds``, ``units`` and,
    for backup, ``backups``.

    The cost is that of stopping at the reference latency, or at ``at`` when given (the cost
    model checked apart from the latency).
    """
    from ltsim.codes.sum_recovery.arrivals import sample_trial

    scheme = experiment.schemes[index]
    kind = type(scheme).model_fields["kind"].annotation.__args__[0]
    delays, speeds = draw_workers(experiment, trial)
    n, unit = len(delays), experiment.unit_time
    code_rng = stream(experiment.seed, trial, 1 + index)
    out: dict = {"symbols": -1, "decoded": True}

    def stop(latency: float) -> float:
        return latency if at is None else at

    if kind == "one":
        latency = delays[0] + speeds[0] * unit * n
        seconds, units = cost(delays[:1], speeds[:1], unit, [n], stop(latency))
    elif kind == "uncoded":
        latency = uncoded_reference(delays, speeds, unit)
        seconds, units = cost(delays, speeds, unit, [1] * n, stop(latency))
    elif kind == "replication":
        latency = replication_reference(delays, speeds, unit, scheme.r)
        seconds, units = cost(delays, speeds, unit, [scheme.r] * n, stop(latency))
    elif kind == "lt":
        # the code as drawn in order of arrival (the simulation draws a prefix of it)
        graph = scheme.sample_code(n, code_rng, np.asarray(delays, dtype=float),
                                   unit * np.asarray(speeds, dtype=float), experiment.linear)
        degrees = [int(x) for x in graph.degrees]
        neighbours = [set(int(c) for c in graph.nbrs[graph.ptr[i]:graph.ptr[i + 1]])
                      for i in range(len(degrees))]
        s = scheme.symbols_per_worker
        threshold = scheme.decoder.threshold if scheme.decoder is not None else None
        size, linear = scheme.source_units(n), experiment.linear
        latency, used, decoded = lt_reference(delays, speeds, unit, degrees, neighbours,
                                              size, s, scheme.sources(n), scheme.returns,
                                              threshold, linear)
        out.update(symbols=used, decoded=decoded)
        work = [size * (s if linear else sum(degrees[j * s:(j + 1) * s])) for j in range(n)]
        seconds, units = cost(delays, speeds, unit, work, stop(latency))
    elif kind == "mds":
        symbol = scheme.source_units(n) if experiment.linear else n
        latency, used = mds_reference(delays, speeds, unit, scheme.sources(n),
                                      scheme.symbols_per_worker, scheme.returns, symbol)
        out["symbols"] = used
        seconds, units = cost(delays, speeds, unit, [symbol * scheme.symbols_per_worker] * n,
                              stop(latency))
    elif kind == "sum_recovery":
        cap = scheme.symbols_per_worker
        arrivals = sample_trial(delays, [unit * s for s in speeds], scheme.d, cap, code_rng,
                                whole=scheme.returns == "worker")
        latency, used, decoded = sum_recovery_reference(arrivals, delays, speeds, unit,
                                                        scheme.d, cap,
                                                        scheme.returns == "worker")
        out.update(symbols=used, decoded=decoded)
        per = sum_recovery_symbols_per_worker(n, scheme.d, cap)
        work = 1 + min((per - 1) * scheme.d, n - 1)
        seconds, units = cost(delays, speeds, unit, [work] * n, stop(latency))
    elif kind == "backup":
        fresh_x, fresh_s = fresh_workers(experiment, trial, index, n)
        got = backup_reference(delays, speeds, unit, scheme.after, scheme.slow_factor,
                               fresh_x, fresh_s)
        latency = got["latency"]
        late = got["late"]
        seconds, units = cost(delays, speeds, unit, [1] * n, stop(latency))
        extra, extra_units = cost([got["t_b"] + fresh_x[i] for i in late],
                                  [fresh_s[i] for i in late], unit, [1] * len(late),
                                  stop(latency),
                                  starts=[got["t_b"]] * len(late))
        seconds, units = math.fsum([seconds, extra]), units + extra_units
        out["backups"] = got["backups"]
    elif kind == "ideal":
        latency = ideal_reference(delays, speeds, unit, scheme.k)
        seconds, units = n * stop(latency), n
    else:  # pragma: no cover - a kind added without a reference
        raise ValueError(f"no reference for kind {kind!r}")
    out.update(latency=latency, worker_seconds=seconds, units=units)
    return out
