"""The inline PCG64 of the compiled kernels draws exactly what ``Generator.random()`` draws."""

from __future__ import annotations

import numpy as np
import pytest

from ltsim.jit import njit
from ltsim.util.pcg import next_double, restore, state_of, step


@njit
def _draw(state, count):
    s_hi, s_lo, inc_hi, inc_lo = state[0], state[1], state[2], state[3]
    out = np.empty(count)
    for i in range(count):
        s_hi, s_lo, out[i] = step(s_hi, s_lo, inc_hi, inc_lo)
    state[0], state[1] = s_hi, s_lo
    return out


@pytest.mark.parametrize("seed", [0, 1, 2021, 2**63 + 12345])
def test_inline_steps_are_numpys_doubles_and_the_state_goes_back(seed):
    ours, theirs = (np.random.Generator(np.random.PCG64(seed)) for _ in range(2))
    ours.random(7)  # any position in the stream
    theirs.random(7)
    state = state_of(ours)
    drawn = _draw(state, 5000)
    np.testing.assert_array_equal(drawn, theirs.random(5000))
    restore(ours, state)
    np.testing.assert_array_equal(ours.random(100), theirs.random(100))
    words = state_of(ours)
    assert next_double(words) == theirs.random()
    restore(ours, words)
    assert ours.random() == theirs.random()
