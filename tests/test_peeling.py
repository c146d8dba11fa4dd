"""The compiled peeling decoder and neighbour sampler against the slow references."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltsim.codes.lt.peeling import peel, sample_neighbours
from ltsim.codes.lt.soliton import RobustSoliton
from tests.reference import floyd_reference, peel_reference


def random_code(rng, k, n_symbols, soliton=True):
    if soliton:
        degrees = RobustSoliton(k, 0.2, 0.5).sample(rng, n_symbols)
    else:
        degrees = rng.integers(1, k + 1, n_symbols)
    ptr = np.concatenate([[0], np.cumsum(degrees)]).astype(np.int64)
    nbrs = sample_neighbours(ptr, k, rng)
    return ptr, nbrs


def as_sets(ptr, nbrs):
    return [set(nbrs[ptr[i]:ptr[i + 1]].tolist()) for i in range(len(ptr) - 1)]


@pytest.mark.slow
def test_fast_decoder_agrees_with_reference_on_thousands_of_graphs():
    rng = np.random.default_rng(2024)
    outcomes = {"decoded": 0, "failed": 0}
    for case in range(3000):
        k = int(rng.integers(1, 25))
        n_symbols = int(rng.integers(1, 2 * k + 6))
        ptr, nbrs = random_code(rng, k, n_symbols, soliton=case % 3 != 0)
        order = rng.permutation(n_symbols).astype(np.int64)
        limit = int(rng.integers(1, n_symbols + 1)) if case % 4 == 0 else n_symbols
        fast = peel(ptr, nbrs, order, k, limit)
        slow = peel_reference(as_sets(ptr, nbrs), order.tolist(), k, limit)
        assert fast == slow, (case, k, n_symbols, limit)
        outcomes["decoded" if fast > 0 else "failed"] += 1
    # Both branches are exercised many times.
    assert min(outcomes.values()) > 300, outcomes


def test_decoder_on_a_hand_made_graph():
    # Paper's example: f1+f2+f3, f2+f4, f3, f4 decodes all four at the 4th symbol.
    symbols = [[0, 1, 2], [1, 3], [2], [3]]
    ptr = np.array([0, 3, 5, 6, 7], dtype=np.int64)
    nbrs = np.array([s for sym in symbols for s in sym], dtype=np.int32)
    order = np.arange(4, dtype=np.int64)
    assert peel(ptr, nbrs, order, 4, 4) == 4
    assert peel(ptr, nbrs, order, 4, 3) == -1
    # In reverse order f4 then f3 arrive first; f2+f4 gives f2, then f1+f2+f3 gives f1.
    assert peel(ptr, nbrs, order[::-1].copy(), 4, 4) == 4


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 40), extra=st.integers(0, 40))
def test_never_decodes_from_fewer_than_k_symbols(seed, k, extra):
    rng = np.random.default_rng(seed)
    n_symbols = k + extra
    ptr, nbrs = random_code(rng, k, n_symbols)
    order = rng.permutation(n_symbols).astype(np.int64)
    used = peel(ptr, nbrs, order, k, n_symbols)
    assert used == -1 or k <= used <= n_symbols
    if used > 0:
        # The first `used` symbols cover every source; fewer do not decode.
        covered = set(nbrs[np.concatenate(
            [np.arange(ptr[s], ptr[s + 1]) for s in order[:used]])].tolist())
        assert covered == set(range(k))
        assert peel(ptr, nbrs, order, k, used - 1) == -1


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 60), n=st.integers(1, 30))
def test_neighbours_are_distinct_and_match_floyd_reference(seed, k, n):
    rng = np.random.default_rng(seed)
    degrees = rng.integers(1, k + 1, n)
    ptr = np.concatenate([[0], np.cumsum(degrees)]).astype(np.int64)
    nbrs = sample_neighbours(ptr, k, np.random.default_rng(seed), chunk=7)
    u = np.random.default_rng(seed).random(int(ptr[-1]))
    for i in range(n):
        got = nbrs[ptr[i]:ptr[i + 1]].tolist()
        assert len(set(got)) == len(got) == degrees[i]
        assert all(0 <= g < k for g in got)
        assert got == floyd_reference(u[ptr[i]:ptr[i + 1]].tolist(), k, int(degrees[i]))


def test_chunking_does_not_change_the_stream():
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    ptr = np.concatenate([[0], np.cumsum(np.full(500, 7))]).astype(np.int64)
    assert np.array_equal(sample_neighbours(ptr, 50, rng_a, chunk=1 << 22),
                          sample_neighbours(ptr, 50, rng_b, chunk=13))


def test_neighbour_subsets_are_uniform():
    k, d, draws = 6, 3, 60_000
    ptr = np.arange(0, d * draws + 1, d, dtype=np.int64)
    nbrs = sample_neighbours(ptr, k, np.random.default_rng(8)).reshape(draws, d)
    subsets = list(itertools.combinations(range(k), d))
    counts = {s: 0 for s in subsets}
    for row in np.sort(nbrs, axis=1):
        counts[tuple(row.tolist())] += 1
    p = 1 / len(subsets)
    se = math.sqrt(p * (1 - p) / draws)
    for s, c in counts.items():
        assert abs(c / draws - p) < 4 * se, (s, c / draws)
