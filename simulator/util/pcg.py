"""NumPy's PCG64 stream inside compiled loops: the same doubles as ``Generator.random()``.

A compiled kernel that draws uniforms one at a time through a ``numpy.random.Generator``
pays an indirect call per draw. These functions run PCG64 (XSL-RR 128/64, NumPy's default
multiplier) inline on its state, held in a ``uint64`` array ``[state_hi, state_lo, inc_hi,
inc_lo]``: :func:`state_of` reads it from a generator, :func:`step` (in local variables,
inlined: about 4 ns a draw) or :func:`next_double` (on the array) draw exactly what
``generator.random()`` would, and :func:`restore` writes the advanced state back. The
128-bit product is one LLVM ``i128`` multiplication (:func:`umul128`).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit as _numba_njit
from numba.core import types
from numba.extending import intrinsic

from ..jit import njit

_U = np.uint64
_S11 = _U(11)
_S58, _S63 = _U(58), _U(63)
_MUL_HI, _MUL_LO = _U(0x2360ED051FC65DA4), _U(0x4385DF649FCCF645)
_TWO53 = 1.0 / 9007199254740992.0


def state_of(generator: np.random.Generator) -> np.ndarray:
    """The PCG64 state of ``generator`` as ``[state_hi, state_lo, inc_hi, inc_lo]``."""
    state = generator.bit_generator.state["state"]
    s, inc = state["state"], state["inc"]
    mask = (1 << 64) - 1
    return np.array([s >> 64, s & mask, inc >> 64, inc & mask], dtype=np.uint64)


def restore(generator: np.random.Generator, words: np.ndarray) -> None:
    """Write the advanced state ``words`` back into ``generator``."""
    full = generator.bit_generator.state
    full["state"] = {"state": (int(words[0]) << 64) | int(words[1]),
                     "inc": (int(words[2]) << 64) | int(words[3])}
    generator.bit_generator.state = full


@intrinsic
def umul128(typingctx, a, b):
    """``a * b`` of two ``uint64`` as the (high, low) halves of the 128-bit product."""
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        low = builder.trunc(product, ir.IntType(64))
        high = builder.trunc(builder.lshr(product, ir.Constant(i128, 64)), ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, (high, low))

    return sig, codegen


@_numba_njit(inline="always")
def step(s_hi, s_lo, inc_hi, inc_lo):
    """One PCG64 step: the new state halves and the double ``Generator.random()`` gives."""
    hi, lo = umul128(s_lo, _MUL_LO)
    hi = hi + s_hi * _MUL_LO + s_lo * _MUL_HI
    new_lo = lo + inc_lo
    new_hi = hi + inc_hi + (_U(1) if new_lo < lo else _U(0))
    value = new_hi ^ new_lo  # XSL-RR output
    rot = new_hi >> _S58
    out = (value >> rot) | (value << ((_U(64) - rot) & _S63))
    return new_hi, new_lo, (out >> _S11) * _TWO53


@njit
def next_double(st) -> float:
    """The next ``Generator.random()`` of the PCG64 state ``st`` (advanced in place)."""
    s_hi, s_lo, u = step(st[0], st[1], st[2], st[3])
    st[0], st[1] = s_hi, s_lo
    return u
