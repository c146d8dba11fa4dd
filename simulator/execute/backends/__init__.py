"""Execution backends behind one interface (:class:`.base.Backend`), imported lazily."""

from __future__ import annotations

from .base import Backend

BACKENDS = ("local", "dask", "lithops")


def make_backend(name: str, address: str | None = None, concurrency: int = 1) -> Backend:
    """Create backend ``name``; heavy engines are imported only here.

    Parameters
    ----------
    concurrency : int
        Logical workers that must be able to run at once (the number of tasks of the
        largest scheme).
    """
    if name == "local":
        from .local import LocalBackend

        return LocalBackend(concurrency)
    if name == "dask":
        from .dask import DaskBackend

        return DaskBackend(address, concurrency)
    if name == "lithops":
        from .lithops import LithopsBackend

        return LithopsBackend(concurrency)
    raise ValueError(f"unknown backend {name!r}; one of {', '.join(BACKENDS)}")
