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
