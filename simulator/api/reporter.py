"""What the library tells its user while it works: progress, notes and warnings.

The library never prints: it hands everything to a :class:`Reporter`. The default one shows a
progress bar (``tqdm.auto``: a widget in a notebook, text in a terminal) and nothing else;
the command line gives one that also writes its notes and warnings to stderr, as one line
each.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator


class Reporter:
    """Progress bars, notes and warnings of the library.

    Parameters
    ----------
    progress : bool
        Show progress bars.
    notes : callable, optional
        Called with every note and warning (one line of text); ``None`` drops them.
    bar_file : file, optional
        Where a text progress bar goes (default ``sys.stderr``); a bar is drawn only when it
        is a terminal or in a notebook.
    """

    def __init__(self, progress: bool = True, notes: Callable[[str], None] | None = None,
                 bar_file=None) -> None:
        self.show_progress, self._notes, self._bar_file = progress, notes, bar_file

    def note(self, text: str) -> None:
        """A note: what happened (``results in results/exp02``)."""
        if self._notes is not None:
            self._notes(text)

    def detail(self, text: str) -> None:
        """A note on progress (``point 3/21: tau=0.05``), dropped when progress is not
        shown."""
        if self.show_progress:
            self.note(text)

    def warn(self, text: str) -> None:
        """A warning: ``ltsim: warning: <text>``."""
        self.note(f"ltsim: warning: {text}")

    @contextlib.contextmanager
    def progress(self, total: int, done: int = 0, unit: str = "trial"
                 ) -> Iterator[Callable[[int], None]]:
        """A progress bar of ``total`` items, ``done`` of them already; yields
        ``update(done)``."""
        file = self._bar_file or sys.stderr
        shown = in_notebook() or (hasattr(file, "isatty") and file.isatty())
        if not (self.show_progress and shown):
            yield lambda done: None
            return
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=done, unit=unit, file=file)
        last = [done]

        def update(now: int) -> None:
            bar.update(now - last[0])
            last[0] = now

        try:
            yield update
        finally:
            bar.close()


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (where ``tqdm.auto`` draws a widget).

    A kernel has imported IPython before any of ltsim runs, so a process that has not is not
    one (and IPython, 40 ms, is not imported to find out)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


SILENT = Reporter(progress=False)
"""A reporter that shows nothing."""
