"""The schemes: one module a scheme, all behind :class:`~simulator.schemes.base.Scheme`.

A new code is a new module with a ``Scheme`` subclass, listed in ``SCHEMES`` below.
"""

from __future__ import annotations

from .base import CrossFieldError, Outcome, Scheme
from .lt import LTCode
from .one import AllAtOne
from .replication import Replication
from .uncoded import Uncoded

SCHEMES: dict[str, type[Scheme]] = {
    "one": AllAtOne,
    "uncoded": Uncoded,
    "replication": Replication,
    "lt": LTCode,
}

__all__ = ["SCHEMES", "AllAtOne", "CrossFieldError", "LTCode", "Outcome", "Replication",
           "Scheme", "Uncoded"]
