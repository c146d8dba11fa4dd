"""What a run will hold in memory and write to disk, estimated before anything runs.

A run (``ltsim run``) needs memory in three places and disk in one:

* every process that simulates (the ``--jobs`` worker processes, or the run's own process
  with ``--jobs 1``) holds the interpreter and libraries, the compiled kernels it loads, and
  one block of trials at a time: the delays of shape (batch, n) and what each code
  allocates to simulate them (NumPy temporaries of that shape, LT's decoder buffers, ...:
  :meth:`~ltsim.codes.base.Code.memory_bytes`);
* the parent process keeps every block until the run ends: one
  :class:`~ltsim.model.outcome.Outcome` per scheme (latency, symbols, decoded, decode
  time, cost columns) *and* the block's formatted rows of ``latencies.csv``; it then joins
  the outcomes into one array per column (a second copy, after the worker processes have
  exited) and builds ``summary.csv`` and ``tail.csv`` (sorting each scheme's latencies);
* the result folder: ``latencies.csv`` holds one text row per scheme and trial, written to
  part files during the run and joined at the end (so the disk holds its rows twice for a
  moment); ``tail.csv`` keeps at most about 10 000 points per scheme; the rest is small.

So the parent's memory and the disk grow linearly with trials x schemes, a worker's memory
with batch x n (and, for LT and sum recovery, with n alone). The constants were measured on
Linux (CPython 3.11, NumPy 2, numba 0.6x) from the peak RSS of ``ltsim run`` (``ru_maxrss``
from ``os.wait4``), tracemalloc, and result folders; ``docs/performance.md`` gives the
accuracy against real runs, and ``python tests/test_footprint.py`` measures it again.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .trials import batch_size

MiB = 2**20

BASE_BYTES = 165 * MiB
"""Resident memory of a process that has imported the run path (the interpreter, NumPy,
numba and llvmlite, SciPy, pandas, pydantic): counted once, since the worker processes are
forked from the parent and share these pages."""

KERNEL_BYTES = 45 * MiB
"""What a simulating process adds when it loads the compiled kernels from numba's cache
(the streams' seed hash, LT's trial, ...): private to each simulating process."""

OUTCOME_BYTES = 41
"""Bytes of one scheme's trial in an :class:`~ltsim.model.outcome.Outcome`: latency,
decode time and worker-seconds (float64), symbols and units (int64), decoded (bool)."""

BLOCK_OVERHEAD = 1100
"""Bytes of the Python objects of one scheme's block that the parent keeps (the Outcome,
its arrays and dict, the bytes object of its rows), whatever the batch."""

TABLE_BYTES = 64
"""Per trial of one scheme, the temporaries of its summary and tail (sorted copies, the
distinct latencies, their ranks and tail, the thinning), one scheme at a time."""

FLOAT_CHARS = 17
"""Characters of a float64 in ``latencies.csv`` on average (Python's shortest round-trip
repr: 16 or 17 significant digits and the point)."""

TAIL_ROW_CHARS = 36
"""Characters of a ``tail.csv`` row beyond the scheme's name: ``,t,tail`` and the newline,
two floats (the tail values of the extreme tail are long, ``4.9999999999999996e-06``)."""

SMALL_FILES = 1536
"""``meta.json``, ``config.yaml`` and the header lines."""


@dataclass(frozen=True)
class Footprint:
    """Estimated peak memory and disk of a run.

    Attributes
    ----------
    base : int
        Bytes of the interpreter and libraries, counted once (forked workers share them).
    worker : int
        Bytes each simulating process holds beyond ``base`` at its peak: the compiled kernels
        and one block of trials.
    processes : int
        Simulating processes that run at once.
    in_process : bool
        Whether the run simulates in its own process (``--jobs 1``): the parent then holds
        a worker's bytes as well as the trials.
    running : int
        Bytes of the trials the parent holds while blocks are simulated: the outcomes and
        formatted rows of every block kept.
    parent : int
        Peak bytes of the trials in the parent: ``running`` and the outcomes joined at the
        end (the worker processes have exited by then), or the tables' temporaries.
    folder : int
        Bytes of the complete result folder.
    disk : int
        Peak bytes on disk while the run goes on: the folder and, while ``latencies.csv``
        is joined from its part files, a second copy of its rows.
    """

    base: int
    worker: int
    processes: int
    in_process: bool
    running: int
    parent: int
    folder: int
    disk: int

    @property
    def per_process(self) -> int:
        """Peak resident memory one simulating process shows (``base`` included)."""
        return self.base + self.worker

    @property
    def memory(self) -> int:
        """Peak memory of the whole run: the base once, and the larger of the simulating
        processes' own bytes with the trials held meanwhile, and the parent's peak."""
        if self.in_process:
            return self.base + self.worker + self.parent
        return self.base + max(self.processes * self.worker + self.running, self.parent)

    @property
    def grows_with_trials(self) -> bool:
        """Whether the trials the parent holds, rather than the simulating processes,
        make most of :attr:`memory`."""
        return self.parent > self.processes * self.worker


def footprint(experiment, jobs: int = 1) -> Footprint:
    """Estimate the memory and disk of a run of ``experiment`` with ``jobs`` processes.

    Parameters
    ----------
    experiment : RunConfig
        The validated run config: ``experiment.trials`` trials of every scheme.
    jobs : int
        Worker processes (``--jobs``); 1 simulates in the run's own process.

    Returns
    -------
    Footprint
        Within 30 % of the measured peak RSS and folder size on the configurations of
        ``tests/test_footprint.py`` (m = 24 with 2e5 trials; m = 2e5 and 1e6 with Uncoded,
        Replication, MDS, backups and LT).
    """
    trials_ = max(0, int(experiment.trials))
    batch = batch_size(experiment)
    blocks = -(-trials_ // batch)
    rows = rows_bytes(experiment, trials_)
    running = held_bytes(experiment, trials_)
    joined = len(experiment.schemes) * trials_ * OUTCOME_BYTES
    tables = joined + trials_ * TABLE_BYTES
    return Footprint(
        base=BASE_BYTES,
        worker=KERNEL_BYTES + block_bytes(experiment, max(1, min(batch, trials_))),
        processes=max(1, min(int(jobs), blocks)),
        in_process=int(jobs) <= 1,
        running=running,
        parent=max(running + joined, tables),
        folder=folder_bytes(experiment, trials_),
        disk=folder_bytes(experiment, trials_) + rows,
    )


def block_bytes(experiment, batch: int) -> int:
    """Peak bytes of simulating one block of ``batch`` trials, beyond the base and kernels.

    The block's delays, one trial's draw, and the largest of the schemes' own needs
    (:meth:`~ltsim.codes.base.Code.memory_bytes`; the schemes of a block are simulated
    one after the other); with machine classes or a speed law also the speeds, the unit
    times the codes compute from them and the draws of the classes; and the block's
    outcomes and rows.
    """
    n = experiment.n_workers
    if experiment.cluster().plain:
        arrays = 8 * batch * n + 8 * n
    else:
        arrays = 8 * batch * n * 3 + 8 * n * 4
    own = max((s.memory_bytes(n, batch) for s in experiment.schemes), default=0)
    held = batch * len(experiment.schemes) * (OUTCOME_BYTES + 70)
    return int(arrays + own + held)


def held_bytes(experiment, trials: int) -> int:
    """Bytes of the blocks of ``trials`` trials the parent keeps until the run ends: every
    scheme's outcomes and formatted rows, and their Python objects."""
    if trials <= 0:
        return 0
    blocks = -(-trials // batch_size(experiment))
    return int(sum(trials * (OUTCOME_BYTES + row_bytes(experiment, s.scheme_id, trials))
                   + blocks * BLOCK_OVERHEAD for s in experiment.schemes))


def row_bytes(experiment, scheme_id: str, trials: int) -> float:
    """Average bytes of a scheme's row of ``latencies.csv`` over trials ``0 .. trials - 1``:
    ``scheme,trial,latency,symbols,decoded,worker_seconds,units``.

    ``symbols`` is empty for schemes without a decoder and has the digits of about n for
    coded ones: half of n's digits is counted (right within a few bytes a row)."""
    digits = len(str(experiment.n_workers))
    return (len(scheme_id) + 1 + mean_digits(trials) + 1 + FLOAT_CHARS + 1 + digits / 2
            + 1 + 4.2 + 1 + FLOAT_CHARS + 1 + digits + 1)


def mean_digits(trials: int) -> float:
    """Average number of decimal digits of ``0 .. trials - 1``."""
    if trials <= 0:
        return 0.0
    total, low, digits = 0, 0, 1
    while low < trials:
        high = min(trials, 10**digits)
        total += (high - low) * digits
        low, digits = high, digits + 1
    return total / trials


def rows_bytes(experiment, trials: int) -> int:
    """Bytes of all the rows of ``latencies.csv``: every scheme, ``trials`` trials each."""
    return int(sum(trials * row_bytes(experiment, s.scheme_id, trials)
                   for s in experiment.schemes))


def tail_points(trials: int) -> int:
    """Points ``tail.csv`` keeps for a scheme of ``trials`` trials: every one up to
    10 000, then about 3 500 growing with the logarithm of trials (the thinning of
    :func:`ltsim.io.results.thin_tail`)."""
    if trials < 10_000:
        return trials + 1
    return int(min(10_000, 3_500 + 1_100 * math.log10(trials / 10_000)))


def folder_bytes(experiment, trials: int) -> int:
    """Bytes of the complete result folder of ``trials`` trials."""
    tail = sum(tail_points(trials) * (len(s.scheme_id) + TAIL_ROW_CHARS)
               for s in experiment.schemes)
    return int(rows_bytes(experiment, trials) + tail + 250 * len(experiment.schemes)
               + SMALL_FILES)


def human(nbytes: float) -> str:
    """``nbytes`` for a reader: ``221 KiB``, ``262 MiB``, ``720.5 GiB``."""
    if nbytes < MiB:
        return f"{nbytes / 1024:.0f} KiB"
    if nbytes < 2**30:
        return f"{nbytes / MiB:.0f} MiB"
    return f"{nbytes / 2**30:.1f} GiB"


def free_disk(path: Path) -> tuple[Path, int] | None:
    """The nearest existing ancestor of ``path`` (``path`` itself if it exists) and the
    bytes free on its file system, or ``None`` if that cannot be told."""
    here = Path(os.path.abspath(path))
    while not here.exists() and here != here.parent:
        here = here.parent
    try:
        return here, shutil.disk_usage(here).free
    except OSError:
        return None
