"""Numba's compile cache must never stop ltsim from running."""

import os
import subprocess
import sys

import numba
import pytest

from ltsim import jit

pytestmark = pytest.mark.slow


def test_falls_back_to_no_cache_when_no_cache_folder_is_writable(monkeypatch):
    real = numba.njit

    def refusing(*args, **kwargs):
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", refusing)

    def add(a, b):
        return a + b

    compiled = jit.njit(add)
    assert compiled(2, 3) == 5
    assert type(compiled._cache).__name__ == "NullCache"


@pytest.mark.parametrize("cache_dir", ["/dev/null/not-a-folder", None])
def test_fresh_process_runs_with_unusable_or_default_cache(tmp_path, cache_dir):
    env = dict(os.environ)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    code = ("import numpy as np\n"
            "from ltsim.codes.lt.peeling import peel, sample_neighbours\n"
            "ptr = np.arange(0, 21, 2, dtype=np.int64)\n"
            "nbrs = sample_neighbours(ptr, 5, np.random.default_rng(0))\n"
            "print(peel(ptr, nbrs, np.arange(10, dtype=np.int64), 5, 10))\n")
    out = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) in (-1, *range(5, 11))


def test_kernels_use_the_disk_cache_when_possible():
    from ltsim.codes.lt.peeling import floyd_fill, peel

    assert type(peel._cache).__name__ == "FunctionCache"
    assert type(floyd_fill._cache).__name__ == "FunctionCache"
