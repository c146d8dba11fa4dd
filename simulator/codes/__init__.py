"""The codes: one module a code, all behind :class:`~ltsim.codes.base.Code`.

A new code is a new module with a ``Code`` subclass and one line in :data:`CODES` (or a call
to :func:`register`); configs, validation, simulation, real execution, results and plots pick
it up from there.
"""

from __future__ import annotations

from .backup import Backup
from .base import Code, CrossFieldError
from .ideal import Ideal
from .lt import LTCode
from .mds import MDSCode
from .one import AllAtOne
from .raptor.code import RaptorCode
from .replication import Replication
from .sum_recovery import SumRecovery
from .uncoded import Uncoded

CODES: dict[str, type[Code]] = {
    "one": AllAtOne,
    "uncoded": Uncoded,
    "replication": Replication,
    "lt": LTCode,
    "mds": MDSCode,
    "raptor": RaptorCode,
    "sum_recovery": SumRecovery,
    "backup": Backup,
    "ideal": Ideal,
}
"""Every code by its config ``kind``."""


def code_kind(cls: type[Code]) -> str:
    """The ``kind`` tag of a code class (its ``Literal`` annotation)."""
    import typing

    return typing.get_args(cls.model_fields["kind"].annotation)[0]


def register(cls: type[Code]) -> type[Code]:
    """Add a code class to :data:`CODES` (usable as a decorator); configs accept it at once."""
    CODES[code_kind(cls)] = cls
    return cls


LT = LTCode
MDS = MDSCode
Raptor = RaptorCode
One = AllAtOne
"""Short names for notebooks: ``ltsim.codes.LT(r=2)``, ``ltsim.codes.MDS(r=2)``."""

__all__ = ["CODES", "LT", "MDS", "Backup", "Code", "CrossFieldError", "Ideal", "One", "Raptor",
           "Replication", "SumRecovery", "Uncoded", "code_kind", "register"]

