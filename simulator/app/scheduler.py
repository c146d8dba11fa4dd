"""The Dask scheduler a command may run on: its ``--address``, checked before anything runs."""

from __future__ import annotations

import re

from .errors import BadInput

ADDRESS = re.compile(r"^((tcp|tls|ws|wss|ucx)://[^\s/:]+(:\d{1,5})?/?|inproc://\S+)$")
"""A dask scheduler address: ``tcp://host:8786`` (or tls, ws, wss, ucx, inproc)."""


def check_address(address: str, backend: str) -> None:
    """Refuse an ``--address`` that is not a dask scheduler address, before anything runs."""
    if backend != "dask":
        raise BadInput(f"--address: only used with --backend dask, got {address!r}")
    if not ADDRESS.match(address):
        raise BadInput(f"--address: must be a dask scheduler address such as "
                       f"tcp://host:8786, got {address!r}")
