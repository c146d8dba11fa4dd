"""Random streams: one seed per experiment, an independent stream per trial.

Trial ``t`` of an experiment with seed ``s`` draws from ``SeedSequence(s, spawn_key=(t,))``,
which is the ``t``-th child of ``SeedSequence(s).spawn(...)``. Its first child drives the
workers' delays (shared by all schemes: common random numbers), child ``1 + i`` drives the
code of scheme ``i``; :data:`CLASSES` and :data:`SPEEDS` the workers' classes and speeds. A
trial's numbers therefore depend on the seed and the trial index only, never on batch sizes
or on the number of processes.

Building a ``Generator`` from a ``SeedSequence`` costs tens of microseconds, as much as a whole
trial of a small code. :class:`Streams` gives the very same streams for a fraction of that:
the seed-sequence hash that seeds PCG64 is computed by a compiled copy of NumPy's algorithm
for a whole block of trials at once, and one generator per process has its state set for
each trial. :func:`stream` is the reference it is tested against.
"""

from __future__ import annotations

import numpy as np

from ..jit import njit

STREAM = 2
"""The version of the random streams: which numbers a seed gives. It changes whenever a
release draws differently from the same seed (1: ltsim 0.1; 2: since 0.2.0, LT neighbours
drawn only for the symbols the decoder reads). ``meta.json`` records it, and ``--extend``
refuses a folder of another stream rather than mix the two."""


def stream_of(meta: dict) -> int | None:
    """The stream version of a result folder's ``meta.json``: its ``stream``, or for a folder
    written before it was recorded, the stream of the ltsim version that wrote it (``None``
    if unknown)."""
    if isinstance(meta.get("stream"), int):
        return meta["stream"]
    versions = meta.get("versions")
    version = versions.get("ltsim", "") if isinstance(versions, dict) else ""
    if not isinstance(version, str):
        return None
    return 1 if version.startswith("0.1.") else 2 if version.startswith("0.2.") else None


CLASSES = 2**32
"""Child of a trial's seed sequence that assigns the workers to their classes."""
SPEEDS = 2**32 + 1
"""Child of a trial's seed sequence that draws the workers' speed factors."""


def stream(seed: int, trial: int, child: int) -> np.random.Generator:
    """Child ``child`` of trial ``trial``'s seed sequence (0: delays, ``1 + i``: scheme ``i``);
    the same as ``SeedSequence(seed, spawn_key=(trial,)).spawn(...)[child]``."""
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seed, spawn_key=(trial, child))))


def _words(n: int) -> list[int]:
    """``n`` as little-endian 32-bit words, as :class:`numpy.random.SeedSequence` does."""
    if n == 0:
        return [0]
    out = []
    while n:
        out.append(n & 0xFFFFFFFF)
        n >>= 32
    return out


class Streams:
    """The streams of one child for any trial, fast: ``streams.at(trial)`` is the generator
    ``stream(seed, trial, child)`` would give, in the same state.

    One generator is reused: it is valid until the next call of :meth:`at` (or of
    :meth:`block` for a trial of another block).
    """

    def __init__(self, seed: int, child: int) -> None:
        self.seed, self.child = seed, child
        self.prefix = np.array(_words(seed) + [0] * max(0, 4 - len(_words(seed))),
                               dtype=np.uint64)
        self.suffix = np.array(_words(child), dtype=np.uint64)
        self.bitgen = np.random.PCG64(0)
        self.generator = np.random.Generator(self.bitgen)
        self.states: dict[int, tuple[int, int]] = {}

    def block(self, start: int, stop: int) -> None:
        """Compute the states of trials ``start .. stop-1`` at once."""
        trials = np.arange(start, stop, dtype=np.uint64)
        out = pcg64_states(self.prefix, trials, self.suffix)
        self.states = {start + i: ((int(out[i, 0]) << 64) | int(out[i, 1]),
                                   (int(out[i, 2]) << 64) | int(out[i, 3]))
                       for i in range(stop - start)}

    def at(self, trial: int) -> np.random.Generator:
        """The generator of ``trial``, at the start of its stream."""
        if trial not in self.states:
            self.block(trial, trial + 1)
        state, inc = self.states[trial]
        self.bitgen.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                             "has_uint32": 0, "uinteger": 0}
        return self.generator


_U = np.uint64
_M32 = _U(0xFFFFFFFF)
_S16, _S32, _S63, _ONE = _U(16), _U(32), _U(63), _U(1)
_INIT_A, _MULT_A = _U(0x43B0D7E5), _U(0x931E8875)
_INIT_B, _MULT_B = _U(0x8B51F9DD), _U(0x58F38DED)
_MIX_L, _MIX_R = _U(0xCA01F9DD), _U(0x4973F715)
_PCG_HI, _PCG_LO = _U(0x2360ED051FC65DA4), _U(0x4385DF649FCCF645)


@njit
def _hashmix(value, hash_const):
    value = (value ^ hash_const[0]) & _M32
    hash_const[0] = (hash_const[0] * _MULT_A) & _M32
    value = (value * hash_const[0]) & _M32
    return value ^ (value >> _S16)


@njit
def _mix(x, y):
    result = ((_MIX_L * x) - (_MIX_R * y)) & _M32
    return result ^ (result >> _S16)


@njit
def _mul128(a_hi, a_lo, b_hi, b_lo):
    """``a * b mod 2**128`` on (high, low) 64-bit halves."""
    a0, a1 = a_lo & _M32, a_lo >> _S32
    b0, b1 = b_lo & _M32, b_lo >> _S32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    middle = (p00 >> _S32) + (p01 & _M32) + (p10 & _M32)
    lo = (p00 & _M32) | ((middle & _M32) << _S32)
    hi = p11 + (p01 >> _S32) + (p10 >> _S32) + (middle >> _S32)
    hi = hi + a_hi * b_lo + a_lo * b_hi
    return hi, lo


@njit
def _add128(a_hi, a_lo, b_hi, b_lo):
    lo = a_lo + b_lo
    carry = _ONE if lo < a_lo else _U(0)
    return a_hi + b_hi + carry, lo


@njit
def pcg64_states(prefix, trials, suffix):
    """PCG64 states (state high, low, increment high, low) seeded by
    ``SeedSequence(seed, spawn_key=(trial, child))`` for every trial: NumPy's entropy
    assembly, pool mixing and ``generate_state(4, uint64)``, then ``pcg64_set_seed``.

    ``prefix`` holds the seed's words padded to the pool size (4), ``suffix`` the child's
    (all ``uint64`` holding 32-bit words).
    """
    out = np.empty((trials.shape[0], 4), dtype=np.uint64)
    entropy = np.empty(prefix.shape[0] + 2 + suffix.shape[0], dtype=np.uint64)
    pool = np.empty(4, dtype=np.uint64)
    hash_const = np.empty(1, dtype=np.uint64)
    words = np.empty(8, dtype=np.uint64)
    for row in range(trials.shape[0]):
        size = 0
        for w in prefix:
            entropy[size] = w
            size += 1
        t = trials[row]
        entropy[size] = t & _M32
        size += 1
        if (t >> _S32) != _U(0):
            entropy[size] = t >> _S32
            size += 1
        for w in suffix:
            entropy[size] = w
            size += 1
        hash_const[0] = _INIT_A
        for i in range(4):
            word = entropy[i] if i < size else _U(0)
            pool[i] = _hashmix(word, hash_const)
        for i_src in range(4):
            for i_dst in range(4):
                if i_src != i_dst:
                    pool[i_dst] = _mix(pool[i_dst], _hashmix(pool[i_src], hash_const))
        for i_src in range(4, size):
            for i_dst in range(4):
                pool[i_dst] = _mix(pool[i_dst], _hashmix(entropy[i_src], hash_const))
        hash_b = _INIT_B
        for i_dst in range(8):
            value = (pool[i_dst % 4] ^ hash_b) & _M32
            hash_b = (hash_b * _MULT_B) & _M32
            value = (value * hash_b) & _M32
            words[i_dst] = value ^ (value >> _S16)
        seed_hi = words[0] | (words[1] << _S32)
        seed_lo = words[2] | (words[3] << _S32)
        inc_hi = words[4] | (words[5] << _S32)
        inc_lo = words[6] | (words[7] << _S32)
        # pcg64_srandom_r: state = 0; inc = (initseq << 1) | 1; step; state += initstate; step
        inc_hi = (inc_hi << _ONE) | (inc_lo >> _S63)
        inc_lo = (inc_lo << _ONE) | _ONE
        s_hi, s_lo = _add128(inc_hi, inc_lo, seed_hi, seed_lo)
        s_hi, s_lo = _mul128(s_hi, s_lo, _PCG_HI, _PCG_LO)
        s_hi, s_lo = _add128(s_hi, s_lo, inc_hi, inc_lo)
        out[row, 0] = s_hi
        out[row, 1] = s_lo
        out[row, 2] = inc_hi
        out[row, 3] = inc_lo
    return out
