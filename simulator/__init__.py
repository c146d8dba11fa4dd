"""ltsim: tail latency and cost of coded distributed non-linear computations.

The package simulates, and runs for real, straggler-mitigation schemes for jobs of the form
F(x) = f_1(x) + ... + f_m(x): the schemes of Mallick, Smith and Joshi, *Rateless Codes for
Distributed Non-linear Computations* (All-at-One, Uncoded, r-Replication, LT-r) and the codes
a user would weigh beside them (dense MDS, sum-recovery, speculative backups, the genie
bound), under the straggler model Y_j = X_j + speed_j * u * B_j.
"""

import os as _os
import sys as _sys
import types as _types

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


class _Package(_types.ModuleType):
    """The package module. The functions ``execute`` and ``fit`` share their names with the
    subpackages ``ltsim.execute`` and ``ltsim.fit``; importing a subpackage binds it on its
    parent, which would put the module where the function belongs (``ltsim.fit(...)``:
    'module' object is not callable). A public name keeps its function."""

    def __setattr__(self, name: str, value) -> None:
        if name in _PUBLIC and isinstance(value, _types.ModuleType):
            return  # the subpackage stays reachable as sys.modules["ltsim.<name>"]
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
