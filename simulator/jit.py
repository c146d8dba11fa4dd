"""Numba compilation with an on-disk cache that never breaks a read-only install."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numba


def njit(func: Callable) -> Callable:
    """Compile ``func`` in nopython mode, caching the machine code where a cache can be written.

    Numba looks for a writable cache folder (``NUMBA_CACHE_DIR``, ``__pycache__`` beside the
    source, then a per-user folder). When none is writable the function is compiled without a
    cache instead of failing at import.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", numba.NumbaWarning)
            return numba.njit(cache=True, nogil=True)(func)
    except (RuntimeError, numba.NumbaWarning, OSError):
        return numba.njit(cache=False, nogil=True)(func)
