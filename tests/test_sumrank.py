"""Tests of the rateless sum-recovery code: exact decoder, arrival process, coefficients.

The decoder works in GF(PRIME); the reference below is exact rational elimination with
``fractions.Fraction``. For n <= 19 the two must agree by a Hadamard-bound argument (see
``test_small_n_is_provably_exact``); the tests check agreement on about two thousand
instances, and at larger n against ranks computed from scratch modulo another prime.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltsim.codes.sum_recovery import arrivals, gfp
from ltsim.codes.sum_recovery.blas import BLAS_AVAILABLE
from ltsim.codes.sum_recovery.coefficients import coefficients
from tests.reference_codes import OnesInSpan, sum_recovery_stop

# --------------------------------------------------------------------------------------------
# reference: exact rational elimination, checked after every arrival
# --------------------------------------------------------------------------------------------


def reference_stop(ptr, idx, n: int) -> int:
    """First m with rank([A_m; 1]) == rank(A_m) over Q, or -1 (A_m: first m symbols)."""
    return sum_recovery_stop([idx[ptr[s] : ptr[s + 1]] for s in range(len(ptr) - 1)], n)


def reference_rank(ptr, idx, n: int, m: int) -> int:
    """Rank over Q of the first m symbols."""
    span = OnesInSpan(n)
    for s in range(m):
        span.add(idx[ptr[s] : ptr[s + 1]])
    return span.rank


def csr(symbols) -> tuple[np.ndarray, np.ndarray]:
    """CSR arrays of a list of unit sets."""
    sizes = [len(s) for s in symbols]
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    idx = np.array([u for s in symbols for u in sorted(s)], dtype=np.int64)
    return ptr, idx


def random_symbols(rng: np.random.Generator, n: int) -> list[list[int]]:
    """A random arrival sequence mixing the shapes that matter: random subsets (empty ones
    included), singletons, repeats of earlier symbols, disjoint chunks of a random order, and
    complements."""
    out: list[list[int]] = []
    count = int(rng.integers(1, 3 * n + 4))
    kinds = rng.random(count)
    sizes = rng.integers(0, n + 1, count)
    keys = rng.random((count, n))
    for kind, size, key in zip(kinds, sizes.tolist(), keys, strict=True):
        order = np.argsort(key).tolist()  # a uniformly random order of the units
        if kind < 0.35:
            out.append(order[:size])
        elif kind < 0.5:
            out.append(order[:1])
        elif kind < 0.65 and out:
            out.append(list(out[order[0] % len(out)]))
        elif kind < 0.9:
            d = max(int(size), 1)
            start = order[0] // d * d  # one chunk of a random order cut in pieces of d
            out.append(order[start : start + d])
        elif out:
            last = set(out[-1])
            out.append([c for c in range(n) if c not in last])
    return out


WORKSPACES: dict[tuple[int, int, bool], arrivals.Workspace] = {}
UPDATES = [False, True] if BLAS_AVAILABLE else [False]  # block update: kernel, BLAS


def workspace(n: int, batch: int, blas: bool | None = None) -> arrivals.Workspace:
    """A cached workspace; by default small batches use the compiled kernel and full ones
    BLAS (when available), so both block updates run through every test."""
    if blas is None:
        blas = BLAS_AVAILABLE and batch == gfp.BATCH
    key = (n, batch, blas)
    if key not in WORKSPACES:
        WORKSPACES[key] = arrivals.Workspace(n, batch=batch, blas=blas)
    return WORKSPACES[key]


# --------------------------------------------------------------------------------------------
# (a) decoder against the reference
# --------------------------------------------------------------------------------------------


def test_small_n_is_provably_exact():
    """Every nonzero minor of a 0/1 matrix of order k <= 19 is below PRIME (Hadamard:
    |det| <= (k+1)^((k+1)/2) / 2^k), so ranks mod PRIME equal ranks over Q for n <= 19."""
    bound = [(k + 1) ** ((k + 1) / 2) / 2**k for k in range(1, 21)]
    assert max(bound[:19]) < gfp.PRIME < bound[19]
    assert all(gfp.PRIME % q for q in range(2, math.isqrt(gfp.PRIME) + 1))  # prime


def test_float64_arithmetic_stays_exact():
    """The bounds the kernels rely on: centred residues |x| <= h; a block update sums at most
    BATCH products onto a residue, the reduction of an arriving row at most 16 + 3 products
    onto a sum of up to 2**24 residues; all below 2**53, where float64 holds every integer."""
    h = (gfp.PRIME + 1) // 2
    assert h < 2**24
    assert gfp.BATCH * h * h + h < 2**53
    assert 2**24 * h + (gfp._REDUCE_EVERY + 3) * h * h < 2**53
    # the reduction is exact and centred on big inputs, including next to +-p/2
    xs = np.array([0, 1, -1, gfp.PRIME, 2**53 - 1, -(2**53) + 1, 3 * gfp.PRIME // 2,
                   (2**52 // gfp.PRIME) * gfp.PRIME + gfp.PRIME // 2], dtype=np.int64)
    for x in xs.tolist():
        r = gfp._red(float(x))
        assert r == int(r) and abs(r) <= h and (x - int(r)) % gfp.PRIME == 0


@pytest.mark.parametrize(
    ("n", "symbols", "expected"),
    [
        (1, [[0]], 1),
        (1, [[], [0]], 2),
        (3, [[0, 1], [1, 2], [0, 2]], 3),  # 1 = (a + b + c) / 2: not over GF(2)
        (3, [[0, 1], [1], [1, 2]], 3),  # 1 = a - b + c: a negative coefficient
        (3, [[0, 1], [1, 2], [1]], 3),
        (4, [[0, 1], [1, 2], [2, 3], [0, 3]], 3),  # 1 = a + c
        (4, [[0, 1], [1, 2], [0, 3]], 3),  # 1 = b + c
        (4, [[0, 1, 2], [1, 2, 3]], -1),
        (4, [[0, 1], [2, 3]], 2),
        (5, [[0, 1], [1, 2], [2, 3], [3, 4], [0, 4]], 5),  # odd cycle: all halves
        (5, [[0, 1, 2], [2, 3, 4], [2]], 3),  # a + b - c
        (4, [[0], [1], [2], [0, 1, 2]], -1),
        (4, [[0], [1], [2], [0, 1, 2], [0, 1, 2, 3]], 5),
        (6, [[0, 1, 2], [3, 4], [0, 1, 2], [5]], 4),
        (3, [[], [], [0, 1, 2]], 3),
        (4, [[0, 1], [0, 1], [2], [3]], 4),
    ],
)
def test_hand_made(n, symbols, expected):
    ptr, idx = csr(symbols)
    assert reference_stop(ptr, idx, n) == expected
    for batch in (1, 2, gfp.BATCH):
        assert gfp.stop_count(ptr, idx, n, workspace(n, batch)) == expected


@pytest.mark.slow
def test_random_instances_against_reference():
    """1600 seeded random sequences, n = 1..12, with batches 1 (a block update after every
    pivot, compiled kernel) and BATCH (none at this size)."""
    rng = np.random.default_rng(20220101)
    stops = []
    for _ in range(1600):
        n = int(rng.integers(1, 13))
        ptr, idx = csr(random_symbols(rng, n))
        expected = reference_stop(ptr, idx, n)
        stops.append(expected)
        for batch in (1, gfp.BATCH):
            assert gfp.stop_count(ptr, idx, n, workspace(n, batch)) == expected
    stops = np.array(stops)
    assert (stops == -1).sum() > 100 and (stops > 0).sum() > 800  # both outcomes exercised


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 8),
    symbols=st.lists(st.sets(st.integers(0, 7)), min_size=1, max_size=20),
    batch=st.sampled_from([1, 2, gfp.BATCH]),
)
def test_hypothesis_against_reference(n, symbols, batch):
    symbols = [[c % n for c in s] for s in symbols]
    symbols = [sorted(set(s)) for s in symbols]
    ptr, idx = csr(symbols)
    assert gfp.stop_count(ptr, idx, n, workspace(n, batch)) == reference_stop(ptr, idx, n)


def test_input_types_and_validation():
    ptr, idx = csr([[0, 1], [1, 2], [0, 2]])
    for dtype in (np.int32, np.int64, np.uint16):
        assert gfp.stop_count(ptr, idx.astype(dtype), 3) == 3
    assert gfp.stop_count(ptr.tolist(), idx.tolist(), 3) == 3
    assert gfp.stop_count(np.array([0]), np.array([], dtype=np.int64), 2) == -1
    with pytest.raises(ValueError, match=r"0\.\.2"):
        gfp.stop_count(ptr, idx + 1, 3)
    with pytest.raises(ValueError, match="ptr"):
        gfp.stop_count(ptr[:-1], idx, 3)
    with pytest.raises(ValueError, match="n must"):
        gfp.stop_count(ptr, idx, 0)
    with pytest.raises(ValueError, match="n must"):
        arrivals.Workspace(2**24 + 1)
    with pytest.raises(ValueError, match="workspace"):
        gfp.stop_count(ptr, idx, 3, arrivals.Workspace(4))
    with pytest.raises(ValueError, match="batch"):
        arrivals.Workspace(3, batch=gfp.BATCH + 1)
    assert arrivals.Workspace(3, blas=False).blas is False
    assert arrivals.Workspace(3).blas is BLAS_AVAILABLE


# --------------------------------------------------------------------------------------------
# (b) the arrival process
# --------------------------------------------------------------------------------------------


def draw_delays(rng: np.random.Generator, n: int, law: str) -> np.ndarray:
    if law == "exp":
        return rng.exponential(5.0, n)
    return 1.0 + rng.pareto(1.0, n)


def check_process(arr: arrivals.Arrivals, delays: np.ndarray, u: float, d: int, cap) -> None:
    """The sequence is the schedule of the model, merged stably by arrival time."""
    n = delays.size
    per = arrivals.symbols_per_worker(n, d, cap)
    assert arr.times.size == n * per
    sym = np.zeros(arr.times.size, dtype=np.int64)
    seen: dict[int, list[int]] = {}
    for s in range(arr.times.size):
        j = int(arr.worker[s])
        units = arr.idx[arr.ptr[s] : arr.ptr[s + 1]].tolist()
        k = len(seen.setdefault(j, []))
        sym[s] = k
        if k == 0:
            assert units == [j]
        else:
            assert j not in units and len(units) == min(d, n - 1 - (k - 1) * d)
        seen[j].append(s)
        covered = sum(len(arr.idx[arr.ptr[t] : arr.ptr[t + 1]]) for t in seen[j][1:])
        assert arr.times[s] == delays[j] + u * (1 + covered)
    for rows in seen.values():
        units = np.concatenate([arr.idx[arr.ptr[t] : arr.ptr[t + 1]] for t in rows])
        assert np.unique(units).size == units.size  # chunks are disjoint
        if cap is None:
            assert np.array_equal(np.sort(units), np.arange(n))  # a worker covers all
    order = np.lexsort((sym, arr.worker, arr.times))
    assert np.array_equal(order, np.arange(arr.times.size))


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_process_instances_against_reference(d):
    """Sequences of the real arrival process (small n), decoded by the kernel, by the lazy
    trial with the same random stream, and by the reference."""
    rng = np.random.default_rng(7 + d)
    for it in range(60):
        n = int(rng.integers(1, 13))
        law = "exp" if it % 2 else "pareto"
        u = float(rng.choice([0.005, 0.05, 0.5]))
        cap = None if it % 3 else int(rng.integers(1, 4))
        delays = draw_delays(rng, n, law)
        state = rng.bit_generator.state
        arr = arrivals.sample_trial(delays, u, d, cap, rng)
        check_process(arr, delays, u, d, cap)
        expected = reference_stop(arr.ptr, arr.idx, n)
        assert gfp.stop_count(arr.ptr, arr.idx, n, workspace(n, 1)) == expected
        rng.bit_generator.state = state
        ws = workspace(n, 2)
        trial = arrivals.run_trial(delays, u, d, cap, rng, ws)
        assert trial.count == expected
        assert trial.certified == (expected == n and ws.rank == n)
        if expected > 0:
            assert ws.rank == reference_rank(arr.ptr, arr.idx, n, expected)
        m = expected if expected > 0 else arr.times.size
        assert np.array_equal(trial.received.ptr, arr.ptr[: m + 1])
        assert np.array_equal(trial.received.idx, arr.idx[: arr.ptr[m]])
        assert np.array_equal(trial.received.worker, arr.worker[:m])
        assert np.array_equal(trial.received.times, arr.times[:m])
        if expected > 0:
            assert trial.latency == arr.times[expected - 1]
        else:
            assert cap is not None and trial.latency == math.inf


def test_process_medium_n_against_reference():
    """n = 20..45 (beyond the provable range), d in {1, 2, 3, 5}: still equal, with either
    block update."""
    rng = np.random.default_rng(11)
    for it in range(12):
        n = int(rng.integers(20, 46))
        d = [1, 2, 3, 5][it % 4]
        delays = draw_delays(rng, n, "exp" if it % 2 else "pareto")
        arr = arrivals.sample_trial(delays, 0.005, d, None, rng)
        expected = reference_stop(arr.ptr, arr.idx, n)
        for batch in (2, gfp.BATCH):
            for blas in UPDATES:
                ws = workspace(n, batch, blas)
                assert gfp.stop_count(arr.ptr, arr.idx, n, ws) == expected


def test_block_updates_agree_at_n_400():
    """The BLAS and the compiled block update give the same stop and rank on full-size
    batches (many block updates per trial)."""
    rng = np.random.default_rng(12)
    n = 400
    for law in ("exp", "pareto"):
        arr = arrivals.sample_trial(draw_delays(rng, n, law), 0.005, 10, None, rng,
                              max_symbols=3 * n)
        results = set()
        for blas in UPDATES:
            ws = workspace(n, gfp.BATCH, blas)
            results.add((gfp.stop_count(arr.ptr, arr.idx, n, ws), ws.rank))
        assert len(results) == 1 and next(iter(results))[0] > 0


def test_prefix_sampling_and_lazy_trial_agree():
    rng = np.random.default_rng(3)
    delays = draw_delays(rng, 50, "exp")
    state = rng.bit_generator.state
    full = arrivals.sample_trial(delays, 0.005, 4, None, rng)
    rng.bit_generator.state = state
    head = arrivals.sample_trial(delays, 0.005, 4, None, rng, max_symbols=37)
    assert np.array_equal(head.ptr, full.ptr[:38])
    assert np.array_equal(head.idx, full.idx[: full.ptr[37]])


# --------------------------------------------------------------------------------------------
# (c) properties
# --------------------------------------------------------------------------------------------


def first_full_coverage(arr: arrivals.Arrivals) -> int:
    """1-based arrival at which some worker has sent all its symbols (uncapped)."""
    last: dict[int, int] = {}
    for s, j in enumerate(arr.worker.tolist()):
        last[j] = s
    return min(last.values()) + 1


def test_stop_no_later_than_first_full_worker():
    rng = np.random.default_rng(5)
    for it in range(40):
        n = int(rng.integers(2, 40))
        d = int(rng.choice([1, 2, 3, 5, 10]))
        delays = draw_delays(rng, n, "exp" if it % 2 else "pareto")
        arr = arrivals.sample_trial(delays, 0.01, d, None, rng)
        count = gfp.stop_count(arr.ptr, arr.idx, n)
        assert 1 <= count <= first_full_coverage(arr)


def test_rerun_gives_the_same_answer():
    """State is reset between calls: one workspace, many sequences, in any order."""
    rng = np.random.default_rng(9)
    n = 60
    ws = arrivals.Workspace(n)
    cases = []
    for _ in range(6):
        arr = arrivals.sample_trial(draw_delays(rng, n, "exp"), 0.005, 3, None, rng)
        cases.append((arr, gfp.stop_count(arr.ptr, arr.idx, n, ws)))
    for arr, count in cases[::-1] + cases:
        assert gfp.stop_count(arr.ptr, arr.idx, n, ws) == count
        assert gfp.stop_count(arr.ptr, arr.idx, n) == count
        assert gfp.stop_count(arr.ptr, arr.idx, n, workspace(n, 4)) == count
        # a prefix of the stopping length gives the same count, one symbol less gives -1
        assert gfp.stop_count(arr.ptr[: count + 1], arr.idx[: arr.ptr[count]], n, ws) == count
        assert gfp.stop_count(arr.ptr[:count], arr.idx[: arr.ptr[count - 1]], n, ws) == -1


def rank_mod(rows: np.ndarray, p: int = 2**31 - 1) -> int:
    """Rank of an integer matrix modulo another prime, by plain dense Gaussian elimination
    from scratch (an independent check: different prime, no incremental state)."""
    a = np.array(rows, dtype=np.int64) % p
    rank = 0
    for col in range(a.shape[1]):
        nz = np.flatnonzero(a[rank:, col]) + rank
        if nz.size == 0:
            continue
        a[[rank, nz[0]]] = a[[nz[0], rank]]
        a[rank] = a[rank] * pow(int(a[rank, col]), -1, p) % p
        below = np.flatnonzero(a[:, col])
        below = below[below != rank]
        a[below] = (a[below] - np.outer(a[below, col], a[rank]) % p) % p
        rank += 1
        if rank == a.shape[0]:
            break
    return rank


def test_lazy_trial_at_n_150_matches_independent_ranks():
    """Beyond the provable range: the stop agrees with ranks of A_{m-1}, A_m and the same
    with the all-ones row appended, computed from scratch modulo 2^31 - 1; rerunning the
    trial with the same stream gives the same result."""
    rng = np.random.default_rng(1)
    n = 150
    ws = arrivals.Workspace(n)
    for law in ("exp", "pareto"):
        delays = draw_delays(rng, n, law)
        state = rng.bit_generator.state
        trial = arrivals.run_trial(delays, 0.005, 10, None, rng, ws)
        rng.bit_generator.state = state
        again = arrivals.run_trial(delays, 0.005, 10, None, rng, ws)
        assert again.count == trial.count and again.latency == trial.latency
        m = trial.count
        rec = trial.received
        assert gfp.stop_count(rec.ptr, rec.idx, n, workspace(n, 5)) == m
        A = np.zeros((m, n), dtype=np.int64)
        A[np.repeat(np.arange(m), np.diff(rec.ptr)), rec.idx] = 1
        ones = np.ones((1, n), dtype=np.int64)
        assert rank_mod(A) == rank_mod(np.vstack([A, ones]))
        assert rank_mod(A[:-1]) + 1 == rank_mod(np.vstack([A[:-1], ones]))
        assert trial.certified == (m == n and rank_mod(A) == n)


def test_coefficients_reproduce_all_ones():
    rng = np.random.default_rng(2)
    done = 0
    for _ in range(300):
        n = int(rng.integers(1, 13))
        ptr, idx = csr(random_symbols(rng, n))
        count = gfp.stop_count(ptr, idx, n)
        if count < 0:
            with pytest.raises(ValueError, match="span"):
                coefficients(ptr, idx, n)
            continue
        c = coefficients(ptr, idx, n)
        A = np.zeros((count, n))
        A[np.repeat(np.arange(count), np.diff(ptr[: count + 1])), idx[: ptr[count]]] = 1.0
        assert np.abs(A.T @ c - 1.0).max() <= 1e-12
        done += 1
    assert done > 100
    ptr, idx = csr([[0, 1], [1, 2], [0, 2]])
    assert np.allclose(coefficients(ptr, idx, 3), 0.5, atol=1e-12)
    ptr, idx = csr([[0, 1], [1], [1, 2]])
    assert np.allclose(coefficients(ptr, idx, 3), [1.0, -1.0, 1.0], atol=1e-12)
    with pytest.raises(ValueError, match="span"):
        coefficients(ptr, idx, 3, count=2)


def test_coefficients_of_a_trial_reconstruct_the_sum():
    rng = np.random.default_rng(4)
    n = 120
    trial = arrivals.run_trial(draw_delays(rng, n, "exp"), 0.005, 10, None, rng)
    rec = trial.received
    c = coefficients(rec.ptr, rec.idx, n, count=trial.count)
    f = rng.normal(size=n)  # the units' values
    values = np.add.reduceat(f[rec.idx], rec.ptr[:-1])
    assert abs(c @ values - f.sum()) <= 1e-9 * np.abs(f).sum()
    m = trial.count
    A = np.zeros((m, n))
    A[np.repeat(np.arange(m), np.diff(rec.ptr)), rec.idx] = 1.0
    assert np.abs(A.T @ c - 1.0).max() <= 1e-12


def test_cap_can_prevent_recovery_and_process_validation():
    rng = np.random.default_rng(8)
    delays = np.array([0.0, 0.1, 0.2, 0.3])
    trial = arrivals.run_trial(delays, 1.0, 1, 1, rng)  # singletons only: all four pin everything
    assert trial.count == 4 and trial.latency == 1.3
    trial = arrivals.run_trial(np.zeros(1), 1.0, 1, None, rng)
    assert trial.count == 1 and trial.latency == 1.0
    for bad in [dict(u=-1.0), dict(d=0), dict(cap=0), dict(delays=[np.nan])]:
        args = dict(delays=delays, u=1.0, d=2, cap=None) | bad
        with pytest.raises(ValueError):
            arrivals.run_trial(args["delays"], args["u"], args["d"], args["cap"], rng)
