"""Execution backends behind one interface (:class:`.base.Backend`), imported lazily: the
registry :data:`BACKENDS` names them without importing any (the command line's choices)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Backend

BACKENDS: dict[str, tuple[str, str]] = {
    "local": ("local", "LocalBackend"),
    "dask": ("dask", "DaskBackend"),
    "lithops": ("lithops", "LithopsBackend"),
}
"""Every backend by its ``--backend`` name: (module of this package, class), imported by
:func:`make_backend` only (heavy engines)."""

REPORTS_PROGRESS = ("local",)
"""The backends whose tasks report when they begin computing and can be stopped one by one
(:attr:`.base.Backend.progress`), what Hadoop's and LATE's rules need."""


def make_backend(name: str, address: str | None = None, concurrency: int = 1,
                 client=None) -> Backend:
    """Create backend ``name`` (:meth:`.base.Backend.create`), importing its module.

    Parameters
    ----------
    address : str, optional
        For ``dask``: the scheduler address (``None``: a local cluster).
    concurrency : int
        Logical workers that must be able to run at once (the number of tasks of the
        largest scheme).
    client : distributed.Client, optional
        For ``dask``: the client of the cluster to run on (its owner closes it).
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; one of {', '.join(BACKENDS)}")
    module, cls = BACKENDS[name]
    backend = getattr(importlib.import_module(f".{module}", __name__), cls)
    return backend.create(concurrency, address=address, client=client)
