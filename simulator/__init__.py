"""ltsim: tail latency and cost of coded distributed non-linear computations.

The package simulates, and runs for real, straggler-mitigation schemes for jobs of the form
F(x) = f_1(x) + ... + f_m(x): the schemes of Mallick, Smith and Joshi, *Rateless Codes for
Distributed Non-linear Computations* (All-at-One, Uncoded, r-Replication, LT-r) and the codes
a user would weigh beside them (dense MDS, sum-recovery, speculative backups, the genie
bound), under the straggler model Y_j = X_j + speed_j * u * B_j.
"""

import os as _os

# Monte-Carlo trials run in parallel processes, each single-threaded: a BLAS thread pool in
# every process (OpenBLAS busy-waits) would only steal cores from the others. A user's own
# setting is kept.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")

__version__ = "0.3.0.dev0"

_PUBLIC = {
    "Experiment": ".api.experiment",
    "simulate": ".api.simulate",
    "sweep": ".api.sweep",
    "execute": ".api.execute",
    "fit": ".api.fit",
    "load": ".api.results",
    "Results": ".api.results",
    "SweepResults": ".api.results",
    "ExecutionResults": ".api.results",
    "Reporter": ".api.reporter",
    "ConfigError": ".util.errors",
    "BadInput": ".api.errors",
    "Failure": ".api.errors",
    "CorruptResults": ".io.report",
}
"""The public names and the modules that define them, imported on first use (so that
``ltsim --help`` does not load NumPy)."""

__all__ = [*_PUBLIC, "codes", "laws", "__version__"]


def __getattr__(name: str):
    import importlib

    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value
        return value
    if name in ("codes", "laws"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ltsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

