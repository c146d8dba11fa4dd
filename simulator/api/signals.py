"""Signals: Ctrl-C and SIGTERM stop a command once, and never stop it writing what it has.

A command runs inside :func:`interrupts`. The first SIGINT or SIGTERM raises
``KeyboardInterrupt`` (the Monte-Carlo engine turns it into an ``"interrupted"`` stop), unless
it comes while the command is writing its results (:meth:`Interrupts.hold`), when it is only
recorded. Every later signal is only recorded: a second Ctrl-C pressed while the partial
result is being written cannot abort the writing. The command reads
:attr:`Interrupts.interrupted` to choose its exit code (130).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """The interrupt state of a command (see the module docstring)."""

    def __init__(self) -> None:
        self.count = 0
        self._held = 0

    @property
    def interrupted(self) -> bool:
        """Whether SIGINT or SIGTERM came since the command started."""
        return self.count > 0

    def handler(self, signum, frame) -> None:
        """The signal handler: raise on the first signal (outside :meth:`hold`), record the
        others."""
        self.count += 1
        if self.count == 1 and not self._held:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def hold(self) -> Iterator[Interrupts]:
        """Record, never raise, the signals that come during the block (results being
        written); the caller reads :attr:`interrupted` afterwards."""
        self._held += 1
        try:
            yield self
        finally:
            self._held -= 1


_current: list[Interrupts] = []


@contextlib.contextmanager
def interrupts() -> Iterator[Interrupts]:
    """Install the :class:`Interrupts` handler for SIGINT and SIGTERM while the block runs
    (the one already installed when nested; a no-op state outside the main thread)."""
    if _current:
        yield _current[-1]
        return
    state = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = {s: signal.signal(s, state.handler) for s in SIGNALS}
    _current.append(state)
    try:
        yield state
    finally:
        _current.pop()
        for s, handler in previous.items():
            signal.signal(s, handler)

