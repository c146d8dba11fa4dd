"""Random streams: one seed per experiment, an independent stream per trial.

Trial ``t`` of an experiment with seed ``s`` draws from ``SeedSequence(s, spawn_key=(t,))``,
which is the ``t``-th child of ``SeedSequence(s).spawn(...)``. Its first child drives the
workers' delays (shared by all schemes: common random numbers), child ``1 + i`` drives the
code of scheme ``i``. A trial's numbers therefore depend on the seed and the trial index
only, never on batch sizes or on the number of processes.
"""

from __future__ import annotations

import numpy as np


def stream(seed: int, trial: int, child: int) -> np.random.Generator:
    """Child ``child`` of trial ``trial``'s seed sequence (0: delays, ``1 + i``: scheme ``i``);
    the same as ``SeedSequence(seed, spawn_key=(trial,)).spawn(...)[child]``."""
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seed, spawn_key=(trial, child))))


CLASSES = 2**32
"""Child of a trial's seed sequence that assigns the workers to their classes."""
SPEEDS = 2**32 + 1
"""Child of a trial's seed sequence that draws the workers' speed factors."""
