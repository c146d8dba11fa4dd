"""The BLAS plumbing of the sum-recovery decoder: ``dgemm`` from compiled code, one thread.

The exact decoder (:mod:`~ltsim.codes.sum_recovery.gfp`) may do its block update as one BLAS
``dgemm``, in place and strided, through numba's own helper (the one behind ``np.dot``);
scipy's OpenBLAS is then held to one thread *for the calling thread only* while the kernels
run, so trials in parallel processes never oversubscribe the cores. The algorithm is
described in docs/codes.md (section ``sum_recovery``, the exact decoder).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os

import numpy as np
from numba import types

# BLAS dgemm through numba's own helper (the one behind np.dot), which takes leading
# dimensions, alpha and beta, so the stored block is updated in place with no copy.
GEMM_SIG = types.intc(
    types.char, types.char, types.char, types.intp, types.intp, types.intp,
    types.CPointer(types.float64), types.CPointer(types.float64), types.intp,
    types.CPointer(types.float64), types.intp, types.CPointer(types.float64),
    types.CPointer(types.float64), types.intp,
)
"""``dgemm``'s signature in numba's helper: kind, two transposes, m, n, k, alpha, A, lda, B,
ldb, beta, C, ldc (column-major)."""
xxgemm = types.ExternalFunction("numba_xxgemm", GEMM_SIG)
"""numba's ``numba_xxgemm``, callable from compiled code (kind ``ord("d")``: float64)."""
MINUS_ONE = np.array([-1.0])
ONE = np.array([1.0])
"""``alpha`` and ``beta`` of the in-place update ``C <- C - A B``."""


def _find_openblas_local():
    """``openblas_set_num_threads_local`` of the OpenBLAS that scipy ships (the BLAS behind
    numba's ``dgemm`` helper), or None. It sets the BLAS thread count of the calling thread
    only (OpenBLAS >= 0.3.27)."""
    try:
        import scipy

        pattern = os.path.join(os.path.dirname(scipy.__file__), os.pardir, "scipy.libs",
                               "libscipy_openblas*.so*")
        for path in sorted(glob.glob(pattern)):
            fn = getattr(ctypes.CDLL(path), "openblas_set_num_threads_local", None)
            if fn is not None:
                fn.restype = ctypes.c_int
                fn.argtypes = [ctypes.c_int]
                return fn
    except (ImportError, OSError):  # pragma: no cover - other platforms and builds
        pass
    return None  # pragma: no cover


_SET_LOCAL_THREADS = _find_openblas_local()
BLAS_AVAILABLE = _SET_LOCAL_THREADS is not None
"""Whether the block update may use BLAS (see
:class:`~ltsim.codes.sum_recovery.gfp.DecoderWorkspace`)."""


@contextlib.contextmanager
def one_blas_thread(active: bool):
    """Hold scipy's OpenBLAS to one thread in this thread while the kernels run."""
    if not active:
        yield
        return
    previous = _SET_LOCAL_THREADS(1)
    try:
        yield
    finally:
        _SET_LOCAL_THREADS(previous)
