"""Task assignment: what each logical worker of a scheme computes in one trial.

Kernel terms are numbered ``0..m-1``; worker-level function ``f_j`` (``j < n``) is the sum of
terms ``j q .. j q + q - 1`` with ``q = m / n``. A *unit* of work in ``tasks.csv`` is one
kernel term, so the fitted ``tau`` is the simulator's ``tau`` (time of one ``f_i``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..schemes import AllAtOne, LTCode, Replication, Scheme, Uncoded
from ..streams import trial_streams
from .config import ExecuteConfig
from .decoder import Decoder, NumericPeeler, SumDecoder


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
    results : tuple of ndarray
        Kernel-term indices summed by each result, computed in this order.
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
    results: tuple[np.ndarray, ...]
    stream: bool
    max_seconds: float

    @property
    def units(self) -> int:
        """Kernel terms in the whole task."""
        return int(sum(r.shape[0] for r in self.results))


@dataclass(frozen=True)
class Plan:
    """The tasks of one scheme in one trial and a fresh decoder for their results."""

    tasks: list[TaskSpec]
    decoder: Decoder


def trial_draws(config: ExecuteConfig, trial: int) -> tuple[np.ndarray, set[int], list]:
    """Start-up delays (seconds, after ``time_scale``), failing workers and the schemes'
    streams of one trial, from :func:`simulator.streams.trial_streams` as in ``ltsim run``.

    Failures draw from child ``1 + len(schemes)`` of the trial's seed sequence, a stream the
    simulator does not use.
    """
    n, n_schemes = config.n_workers, len(config.schemes)
    streams = trial_streams(config.seed, trial, n_schemes)
    if config.delay is None:
        delays = np.zeros(n)
    else:
        delays = config.delay.sample(streams[0], n) * config.time_scale
    failing: set[int] = set()
    if config.fail is not None:
        failing.update(config.fail.workers)
        if config.fail.probability > 0:
            seq = np.random.SeedSequence(config.seed, spawn_key=(trial, 1 + n_schemes))
            u = np.random.Generator(np.random.PCG64(seq)).random(n)
            failing.update(np.flatnonzero(u < config.fail.probability).tolist())
    return delays, failing, streams[1:]


def _block(units: np.ndarray, q: int) -> np.ndarray:
    """Kernel terms of the worker-level functions ``units``."""
    return (np.asarray(units, dtype=np.int64)[:, None] * q + np.arange(q)).ravel()


def build_plan(config: ExecuteConfig, index: int, trial: int, delays: np.ndarray,
               failing: set[int], rng: np.random.Generator, stream: bool) -> Plan:
    """Tasks and decoder of scheme ``config.schemes[index]`` in ``trial``.

    Parameters
    ----------
    rng : Generator
        The scheme's stream of this trial (LT codes draw their graph from it).
    stream : bool
        Whether the backend can return results one by one.
    """
    scheme: Scheme = config.schemes[index]
    n, q = config.n_workers, config.terms_per_unit
    mode = config.fail.mode if config.fail is not None else None

    def task(worker: int, results: list[np.ndarray], streamed: bool = False) -> TaskSpec:
        return TaskSpec(scheme.scheme_id, trial, worker, float(delays[worker]),
                        mode if worker in failing else None, tuple(results), streamed,
                        config.timeout)

    if isinstance(scheme, AllAtOne):
        return Plan([task(0, [np.arange(config.m)])], SumDecoder(1, lambda w, i: 0))
    if isinstance(scheme, Uncoded):
        tasks = [task(j, [_block(np.array([j]), q)]) for j in range(n)]
        return Plan(tasks, SumDecoder(n, lambda w, i: w))
    if isinstance(scheme, Replication):
        r = scheme.r
        tasks = [task(j, [_block(np.arange(j // r * r, j // r * r + r), q)]) for j in range(n)]
        return Plan(tasks, SumDecoder(n // r, lambda w, i: w // r))
    if isinstance(scheme, LTCode):
        r, s = scheme.r, scheme.symbols_per_worker
        graph = scheme.sample_graph(delays, 0.0, rng)  # times unused: the graph only
        tasks = []
        for j in range(n):
            results = []
            for i in range(s):
                sym = j * s + i
                groups = graph.nbrs[graph.ptr[sym]:graph.ptr[sym + 1]]
                units = (groups.astype(np.int64)[:, None] * r + np.arange(r)).ravel()
                results.append(_block(units, q))
            tasks.append(task(j, results, stream and scheme.returns == "symbol"))
        threshold = scheme.decoder.threshold if scheme.decoder is not None else None
        return Plan(tasks, NumericPeeler(graph.ptr, graph.nbrs, n // r, s, threshold))
    raise TypeError(f"no execution plan for scheme kind {type(scheme).__name__}")


def relative_error(decoded: float, exact: float) -> float:
    """``|decoded - exact| / |exact|`` (NaN when nothing was decoded)."""
    if not math.isfinite(decoded):
        return math.nan
    return abs(decoded - exact) / abs(exact) if exact else abs(decoded)
