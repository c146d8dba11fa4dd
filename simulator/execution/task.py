"""One logical worker's task as shipped to a backend: what it computes and how it behaves.

A remote worker unpickles these; this module (and :mod:`ltsim.model.work`, what a result
sums) is all it imports to do so, not the codes and their compiled kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.work import Work

BEGUN = -1
"""The index of the message a task planned with ``progress`` sends as it begins computing."""


@dataclass(frozen=True)
class TaskSpec:
    """One logical worker's task (picklable; shipped to the backend).

    Attributes
    ----------
    scheme, trial, worker : str, int, int
        Which task.
    delay : float
        Injected start-up delay in seconds (a sleep that cancellation interrupts).
    fail : str or None
        ``"raise"`` or ``"hang"`` to make this worker a straggler that never returns.
    results : tuple of Work
        What each result sums (kernel terms), computed in this order.
    stream : bool
        Return each result as soon as it is computed (else all at the end).
    max_seconds : float
        Bound on any wait inside the task (the config's timeout).
    """

    scheme: str
    trial: int
    worker: int
    delay: float
    fail: str | None
    results: tuple[Work, ...]
    stream: bool
    max_seconds: float
    speed: float = 1.0
    """Factor of the emulated compute time (``term_seconds``) of this worker."""
    progress: bool = False
    """Report the end of the start-up delay (a result of index :data:`BEGUN`)."""

    @property
    def units(self) -> int:
        """Kernel terms in the whole task."""
        return int(sum(r.size for r in self.results))
