"""The LT kernel's arrival order (:func:`ltsim.codes.lt.trial.radix_order`) is a stable sort
of the arrival times: the order np.argsort(kind="stable") gives, ties by index."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ltsim.codes.lt.trial import radix_order


def order_of(times: np.ndarray) -> np.ndarray:
    size = times.size
    keys = np.empty((2, max(size, 1)), dtype=np.uint64)
    ints = np.empty((2, max(size, 1)), dtype=np.int64)
    out = radix_order(times.copy(), size, keys[0], keys[1], ints[0], ints[1],
                      np.empty(256, dtype=np.int64))
    return out[:size]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=0.0, allow_nan=False),
                          st.sampled_from([0.0, -0.0, 1.0, 2.5, np.inf, 5e-324])),
                min_size=1, max_size=300))
def test_radix_order_is_a_stable_sort(values):
    times = np.array(values, dtype=np.float64)
    np.testing.assert_array_equal(order_of(times), np.argsort(times + 0.0, kind="stable"))


def test_radix_order_on_arrival_like_times():
    """Large arrays of delays plus running costs, with many ties (rounded delays, whole
    workers returning together)."""
    rng = np.random.default_rng(3)
    for size in (2, 2000, 50_000):
        times = np.round(rng.exponential(5.0, size), 2) + np.repeat(
            rng.exponential(0.01, (size + 1) // 2), 2)[:size]
        np.testing.assert_array_equal(order_of(times), np.argsort(times, kind="stable"))


def test_the_decoder_gives_the_same_trials_whatever_its_row_capacity():
    """Each source files its first ``cap`` symbols in its row and the rest on a linked list:
    with rows of one slot (nearly every symbol on the lists) or none at all, every trial is
    the same as with the default rows (latency, symbols, cost, and the stream after it)."""
    from ltsim.codes.lt.soliton import RobustSoliton
    from ltsim.codes.lt.trial import Workspace, guide_table, lt_trial

    m = 300
    soliton = RobustSoliton(m, 0.03, 0.5)
    guide = guide_table(soliton.cdf)
    results = []
    for cap in (None, 1, 0):
        space = Workspace(m, 2, m, soliton.mean)
        if cap is not None:
            space.cap = cap
            space.slots = np.empty(max(m * cap, 1), dtype=np.int32)
        delays_rng, code_rng = np.random.default_rng(5), np.random.default_rng(6)
        trials = []
        for threshold in (0, 0, 0, 340):
            delays = delays_rng.exponential(5.0, m)
            trials.append(lt_trial(delays, np.full(m, 0.005), 1, 2, m, soliton.cdf, guide,
                                   False, threshold, code_rng, space))
        trials.append(code_rng.random())
        results.append(trials)
    assert results[0] == results[1] == results[2]
    assert all(t[2] for t in results[0][:3])  # the online trials decoded
