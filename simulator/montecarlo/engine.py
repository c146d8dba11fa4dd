"""The Monte-Carlo engine: batches, processes, stopping rules. It knows nothing of the model.

The engine calls ``simulate(start, stop)`` for consecutive blocks of trials (it returns one
:class:`~ltsim.model.outcome.Outcome` per scheme, or a
:class:`~ltsim.model.outcome.Block` of them with their rows already formatted) and keeps
the longest run of finished blocks from the first one. Stopping rules are applied to that run
block by block, in order, so a run that stops on a precision target holds the same trials
whatever runs the blocks: this process, a pool of ``--jobs`` processes, or any
:class:`concurrent.futures.Executor` (a Dask cluster's ``client.get_executor()``).
"""

from __future__ import annotations

import contextlib
import gc
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from ..model.outcome import Block, Outcome

MIN_TRIALS_FOR_TARGET = 30
"""Trials needed before a precision target may stop a run."""


@dataclass(frozen=True)
class StopRule:
    """When to stop.

    Attributes
    ----------
    trials : int
        Maximum number of trials.
    target_rel_ci : float or None
        Stop once every scheme's 95% confidence half-width of the mean latency (over decoded
        trials) is below ``target_rel_ci`` times that mean.
    max_time : float or None
        Stop after this many seconds of simulation (not reproducible across machines).
    """

    trials: int
    target_rel_ci: float | None = None
    max_time: float | None = None


@dataclass(frozen=True)
class RunResult:
    """Outcomes of the trials kept, and why the run stopped.

    ``stop_reason`` is one of ``trials``, ``target``, ``time``, ``interrupted`` (Ctrl-C or
    SIGTERM) or ``failed`` (a block raised, or the executor was lost: ``error`` says why);
    the trials kept are complete in every case.
    """

    outcomes: list[Outcome]
    trials: int
    stop_reason: str
    wall_seconds: float
    error: str | None = None


def outcomes_of(block) -> list[Outcome]:
    """The outcomes of a block (a :class:`Block` or a plain list of outcomes)."""
    return block.outcomes if isinstance(block, Block) else block


def concat(parts: list, n_schemes: int) -> list[Outcome]:
    """Join the outcomes of consecutive blocks, scheme by scheme."""
    parts = [outcomes_of(p) for p in parts]
    return [Outcome.concat([p[i] for p in parts]) for i in range(n_schemes)]


Z95 = 1.959963984540054
"""Two-sided 95% quantile of the standard normal."""


def relative_half_width(latency: np.ndarray) -> float:
    """95% confidence half-width of the mean of the finite latencies, over that mean."""
    return Moments.of(latency).relative_half_width


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations of the finite latencies, mergeable block by
    block (Chan, Golub and LeVeque) so that a precision target costs O(1) per block."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def of(cls, latency: np.ndarray) -> Moments:
        finite = latency[np.isfinite(latency)]
        if finite.size == 0:
            return cls()
        with np.errstate(over="ignore", invalid="ignore"):  # huge but valid latencies
            mean = float(finite.mean())
            return cls(finite.size, mean, float(np.sum((finite - mean) ** 2)))

    def merge(self, other: Moments) -> Moments:
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        with np.errstate(over="ignore", invalid="ignore"):  # float64: overflow gives inf
            delta = np.float64(other.mean) - self.mean
            return Moments(n, float(self.mean + delta * other.n / n),
                           float(self.m2 + other.m2 + delta**2 * self.n * other.n / n))

    @property
    def relative_half_width(self) -> float:
        if self.n < 2 or not math.isfinite(self.m2):
            return math.inf
        half = Z95 * math.sqrt(self.m2 / (self.n - 1) / self.n)
        return half / self.mean if self.mean > 0 else (0.0 if half == 0 else math.inf)


class _Prefix:
    """The finished blocks, joined from the first one, with the stopping rules applied."""

    def __init__(self, blocks: list[tuple[int, int]], rule: StopRule, n_schemes: int,
                 first: int, initial: list[Moments] | None,
                 on_block: Callable[[int, int, list[Outcome]], None] | None):
        self.blocks, self.rule, self.n_schemes = blocks, rule, n_schemes
        self.first, self.on_block = first, on_block
        self.done: dict[int, list[Outcome]] = {}
        self.kept: list[list[Outcome]] = []
        self.moments = list(initial) if initial else [Moments() for _ in range(n_schemes)]
        self.stop_reason: str | None = None
        self.error: str | None = None

    def fail(self, reason: str) -> None:
        """Stop on a failure (a block that raised, a lost executor), keeping what is kept."""
        if self.stop_reason is None:
            self.stop_reason, self.error = "failed", reason

    @property
    def trials(self) -> int:
        """Trials held: those before ``first`` and the blocks kept."""
        return self.blocks[len(self.kept) - 1][1] if self.kept else self.first

    def add(self, index: int, outcomes: list[Outcome]) -> None:
        self.done[index] = outcomes
        while self.stop_reason is None and len(self.kept) in self.done:
            block = self.done.pop(len(self.kept))
            with _uninterrupted():  # a block is kept (and written) whole or not at all
                if self.on_block is not None:
                    self.on_block(*self.blocks[len(self.kept)], block)
                self.kept.append(block)
            self.moments = [m.merge(Moments.of(o.latency))
                            for m, o in zip(self.moments, outcomes_of(block), strict=True)]
            if len(self.kept) == len(self.blocks):
                self.stop_reason = "trials"
            elif self._precise_enough():
                self.stop_reason = "target"

    def _precise_enough(self) -> bool:
        return meets_target(self.moments, self.rule.target_rel_ci, self.trials)


def meets_target(moments: list[Moments], target: float | None, trials: int) -> bool:
    """Whether ``trials`` trials with these per-scheme ``moments`` meet the precision
    ``target`` (never with fewer than :data:`MIN_TRIALS_FOR_TARGET` trials)."""
    if target is None or trials < MIN_TRIALS_FOR_TARGET:
        return False
    return all(m.relative_half_width <= target for m in moments)


def run(
    simulate: Callable[[int, int], list[Outcome]],
    n_schemes: int,
    rule: StopRule,
    batch: int,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    first: int = 0,
    initial: list[Moments] | None = None,
    on_block: Callable[[int, int, list[Outcome]], None] | None = None,
    executor: Executor | None = None,
    slots: int | None = None,
    health: Callable[[], str | None] | None = None,
) -> RunResult:
    """Run blocks of ``batch`` trials until a stopping rule fires.

    Parameters
    ----------
    simulate : callable
        ``simulate(start, stop)`` returns one :class:`Outcome` per scheme for trials
        ``start..stop-1``. Must be picklable when ``jobs > 1``.
    n_schemes : int
        Number of outcomes ``simulate`` returns.
    rule : StopRule
        Stopping rules (``rule.trials`` counts the trials before ``first`` too).
    batch : int
        Trials per block.
    jobs : int
        Processes; 1 runs in this process.
    progress : callable, optional
        Called with the number of trials held so far, after each block.
    first : int
        The first trial to simulate: trials ``0..first-1`` are already held (a resumed run).
    initial : list of Moments, optional
        Moments of the latencies of those trials, for the precision target.
    on_block : callable, optional
        ``on_block(start, stop, block)`` for every block kept, in trial order, as soon as
        it is kept (results can be written while the run goes on).
    executor : Executor, optional
        Runs the blocks instead of a pool of ``jobs`` processes (e.g. a Dask cluster's
        ``client.get_executor()``); the engine does not shut it down.
    slots : int, optional
        Blocks in flight at once (default ``2 * jobs``).
    health : callable, optional
        Called about twice a second while blocks run elsewhere: ``None`` while the executor
        can make progress, else why not (e.g. every worker of a cluster lost), which stops
        the run as ``failed``. Also asked why, when a block raises.

    Notes
    -----
    Ctrl-C (``KeyboardInterrupt``) ends the run early with ``stop_reason="interrupted"``
    and the blocks finished so far; a block that raises (a bug, a worker process killed, a
    lost cluster) ends it with ``stop_reason="failed"``, the blocks kept before it and the
    reason in ``error``. ``outcomes`` of the result hold the new trials only.
    """
    blocks = [(s, min(s + batch, rule.trials)) for s in range(first, rule.trials, batch)]
    prefix = _Prefix(blocks, rule, n_schemes, first, initial, on_block)
    started = time.perf_counter()

    def out_of_time() -> bool:
        return rule.max_time is not None and time.perf_counter() - started >= rule.max_time

    def report() -> None:
        if progress is not None:
            progress(prefix.trials)

    try:
        if not blocks or prefix._precise_enough():
            prefix.stop_reason = "target" if blocks else "trials"
        elif jobs <= 1 and executor is None:
            for index, (start, stop) in enumerate(blocks):
                try:
                    block = simulate(start, stop)
                except Exception as exc:  # kept trials survive any failure
                    prefix.fail(_reason(exc, health))
                    break
                prefix.add(index, block)
                report()
                if prefix.stop_reason is None and out_of_time():
                    prefix.stop_reason = "time"
                if prefix.stop_reason:
                    break
        else:
            _run_pool(simulate, blocks, prefix, jobs, out_of_time, report, executor,
                      slots or 2 * jobs, health)
    except KeyboardInterrupt:
        prefix.stop_reason = "interrupted"
    return RunResult(
        outcomes=concat(prefix.kept, n_schemes),
        trials=prefix.trials,
        stop_reason=prefix.stop_reason or "trials",
        wall_seconds=time.perf_counter() - started,
        error=prefix.error,
    )


def _reason(exc: BaseException, health: Callable[[], str | None] | None) -> str:
    """Why a block failed, in one line: what ``health`` knows (a lost cluster explains an
    empty ``CancelledError``), else the exception."""
    known = None
    if health is not None:
        with contextlib.suppress(Exception):
            known = health()
    text = " ".join(str(exc).split())[:200]
    gist = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"{known} ({gist})" if known else gist


@contextlib.contextmanager
def _uninterrupted():
    """Hold Ctrl-C and SIGTERM back while the block runs (main thread only), then deliver
    them as ``KeyboardInterrupt``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hit: list[int] = []
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in handlers:
        signal.signal(s, lambda signum, frame: hit.append(signum))
    try:
        yield
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
    for signum in hit:  # delivered to the handler they were held from (it may only count)
        handler = handlers[signum]
        if callable(handler):
            handler(signum, None)
        else:
            raise KeyboardInterrupt


def _pool_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class ProcessPool(ProcessPoolExecutor):
    """A pool of worker processes for blocks of trials.

    Its processes leave Ctrl-C and SIGTERM to the parent (which stops the run and writes
    what it has) and exit by themselves when the parent dies, even by SIGKILL (see
    :func:`_worker_init`). :meth:`stop` ends it without waiting for blocks whose results
    are dropped.
    """

    def __init__(self, jobs: int) -> None:
        super().__init__(max_workers=jobs, mp_context=_pool_context(),
                         initializer=_worker_init, initargs=(os.getpid(),))
        self.jobs = jobs

    def submit(self, fn, /, *args, **kwargs):
        """Submit ``fn(*args, **kwargs)``; the first submit forks the processes.

        The parent's objects are frozen out of the garbage collector while it forks
        (:func:`gc.freeze`): otherwise a child's first full collection walks every object
        it inherited, writing to their headers, and the kernel copies every page holding
        one (numba, pandas and SciPy are loaded in the parent) into the child.
        Measured on exp02's 5000-trial loop with ``--jobs 2``: about 10 % faster.
        """
        if len(getattr(self, "_processes", None) or {}) >= self.jobs:
            return super().submit(fn, *args, **kwargs)
        gc.freeze()
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            gc.unfreeze()

    def stop(self, wait_for_blocks: bool = False) -> None:
        """Shut the pool down; unless ``wait_for_blocks``, terminate its processes now.

        A process terminated while it sends a block's outcomes leaves half a message in the
        result pipe, and the pool's manager thread would wait for the rest forever (and the
        interpreter with it, at exit). Once the processes are gone, this process's end of
        the pipe is closed too, so that the reader sees the end of the pipe instead.
        """
        processes = list((getattr(self, "_processes", None) or {}).values())
        writer = getattr(getattr(self, "_result_queue", None), "_writer", None)
        self.shutdown(wait=wait_for_blocks, cancel_futures=True)
        if wait_for_blocks:
            return
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=2)
                if process.is_alive():
                    process.kill()
                    process.join(timeout=2)
        with contextlib.suppress(Exception):
            if writer is not None:
                writer.close()


@contextlib.contextmanager
def process_pool(jobs: int):
    """A :class:`ProcessPool` of ``jobs`` processes for the block, stopped at its end."""
    pool = ProcessPool(jobs)
    try:
        yield pool
    finally:
        pool.stop()


def _run_pool(simulate, blocks, prefix: _Prefix, jobs, out_of_time, report,
              executor: Executor | None, slots: int, health) -> None:
    pool = executor or ProcessPool(jobs)
    pending: dict[Future, int] = {}
    next_block = 0
    finished = False
    try:
        while prefix.stop_reason is None:
            while next_block < len(blocks) and len(pending) < slots:
                start, stop = blocks[next_block]
                pending[pool.submit(simulate, start, stop)] = next_block
                next_block += 1
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=pending.__getitem__):
                index = pending.pop(future)
                try:
                    block = future.result()
                except Exception as exc:  # a bug, a killed process, a lost cluster
                    prefix.fail(_reason(exc, health))
                    break
                prefix.add(index, block)
            if done:
                report()
            if prefix.stop_reason is None and health is not None:
                problem = health()
                if problem:
                    prefix.fail(problem)
            if prefix.stop_reason is None and out_of_time():
                prefix.stop_reason = "time"
        finished = prefix.stop_reason != "failed"
    finally:
        for future in pending:
            future.cancel()
        if executor is None:  # interrupted or failed: do not wait for dropped blocks
            pool.stop(wait_for_blocks=finished)


PARENT_POLL_SECONDS = 0.5
"""How often a worker process checks that its parent is alive."""


def _worker_init(parent: int) -> None:
    """Worker processes leave Ctrl-C and SIGTERM to the parent, which stops the run cleanly,
    and exit within :data:`PARENT_POLL_SECONDS` of the parent's death (a SIGKILLed run
    leaves no process behind)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="ltsim-parent-watch", daemon=True).start()


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
