"""What a scheme's trials produce: one :class:`Outcome` per scheme and block of trials."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Outcome:
    """Per-trial results of one scheme for a block of trials.

    Attributes
    ----------
    latency : ndarray of float64, shape (trials,)
        Time at which the master can recover F(x); ``inf`` for a decoding failure.
    symbols : ndarray of int64, shape (trials,)
        Encoded symbols received when the master stopped; -1 for uncoded schemes.
    decoded : ndarray of bool, shape (trials,)
        False where the master could not recover F(x).
    decode_seconds : ndarray of float64, shape (trials,)
        Measured wall time of the decoder; NaN where there is no decoder.
    columns : dict of str to ndarray, shape (trials,) each
        Further per-trial columns of ``latencies.csv`` a scheme reports (e.g. backups).
    """

    latency: np.ndarray
    symbols: np.ndarray
    decoded: np.ndarray
    decode_seconds: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    finish: np.ndarray | None = None
    """When the block asked for it (:attr:`~ltsim.model.system.TrialBlock.want_finish`):
    the time, shape (trials, workers), at which each worker would end its whole task if
    never stopped; NaN for a worker with no task."""
    jobs: dict[str, np.ndarray] | None = None
    """A queueing run's kept jobs, arrays of shape (trials, jobs) by name (``arrival``,
    ``response``, ``waiting``)."""

    @classmethod
    def uncoded(cls, latency: np.ndarray, **columns: np.ndarray) -> Outcome:
        """An outcome of a scheme without a decoder: always decoded, no symbols."""
        n = latency.shape[0]
        return cls(latency, np.full(n, -1, np.int64), np.ones(n, bool), np.full(n, np.nan),
                   columns)

    @property
    def trials(self) -> int:
        return int(self.latency.shape[0])

    @classmethod
    def concat(cls, parts: list[Outcome]) -> Outcome:
        """The outcomes of consecutive blocks of one scheme, joined."""
        if not parts:
            return cls(np.empty(0), np.empty(0, np.int64), np.empty(0, bool), np.empty(0))
        names = parts[0].columns.keys()
        jobs = None
        if parts[0].jobs is not None:
            jobs = {name: np.concatenate([p.jobs[name] for p in parts])
                    for name in parts[0].jobs}
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("latency", "symbols", "decoded", "decode_seconds")),
                   {name: np.concatenate([p.columns[name] for p in parts]) for name in names},
                   jobs=jobs)

    def finishing(self, finish: np.ndarray) -> Outcome:
        """The same outcome with every worker's task end (see :attr:`finish`)."""
        return dataclasses.replace(self, finish=finish)


@dataclass(frozen=True)
class Block:
    """The outcomes of a block of trials, one per scheme, and, when the worker process that
    simulated them formatted them, their rows of ``latencies.csv`` (bytes, one per scheme), so
    that the process collecting blocks only appends bytes."""

    outcomes: list[Outcome]
    rows: list[bytes] | None = None
