"""Execution backends behind one interface (:class:`.base.Backend`), imported lazily."""

from __future__ import annotations

from .base import Backend

BACKENDS = ("local", "dask", "lithops")


def make_backend(name: str, address: str | None = None, concurrency: int = 1,
                 client=None) -> Backend:
    """Create backend ``name``; heavy engines are imported only here.

    Parameters
    ----------
    concurrency : int
        Logical workers that must be able to run at once (the number of tasks of the
        largest scheme).
    client : distributed.Client, optional
        For ``dask``: the client of the cluster to run on (its owner closes it).
    """
    if name == "local":
        from .local import LocalBackend

        return LocalBackend(concurrency)
    if name == "dask":
        from .dask import DaskBackend

        return DaskBackend(address, concurrency, client=client)
    if name == "lithops":
        from .lithops import LithopsBackend

        return LithopsBackend(concurrency)
    raise ValueError(f"unknown backend {name!r}; one of {', '.join(BACKENDS)}")
