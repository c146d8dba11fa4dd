"""The master: for each trial and scheme, submit the tasks the code plans, feed the results
to the code's :class:`~ltsim.codes.base.Master` as they arrive, stop as soon as F(x) is
recoverable, cancel the rest and check the decoded value against a direct sum."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .backends.base import Backend, End
from .plan import relative_error, round_draws, spec
from .task import BEGUN, TaskSpec
from .workload import direct, make_data

TOLERANCE = 1e-9
"""Largest relative error of a decoded F(x) accepted in float64."""


@dataclass
class Execution:
    """Rows of ``executions.csv`` and ``tasks.csv``, plus how the run ended."""

    executions: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    """Rows of ``rounds.csv`` (an iterative job: every round of every scheme and trial)."""
    exact: float = math.nan
    status: str = "complete"
    wall_seconds: float = 0.0

    @property
    def mismatches(self) -> int:
        """Trials whose decoded value was wrong."""
        return sum(row["status"] == "mismatch" for row in self.executions)

    @property
    def failures(self) -> int:
        """Scheme-trials that did not end with a correct F(x)."""
        return sum(row["status"] != "ok" for row in self.executions)

    @property
    def trials(self) -> int:
        return len({row["trial"] for row in self.executions})


def run_execution(config, backend: Backend,
                  report: Callable[[dict[str, Any]], None] | None = None,
                  grace: float = 2.0) -> Execution:
    """Execute every trial of every scheme of ``config`` (an
    :class:`~ltsim.io.config.ExecuteConfig`) on ``backend``.

    ``report`` is called with each row of ``executions.csv`` as it is produced. A
    ``KeyboardInterrupt`` ends the run early with ``status = "interrupted"``; the trials
    finished by then are kept whole (a trial is kept only with every scheme's row).
    """
    began = time.monotonic()
    data = make_data(config.workload)
    out = Execution(exact=direct(data))
    shared = backend.share(data)
    try:
        fresh = config.cluster().fresh
        unit_times = config.workload.term_seconds * config.terms_per_unit
        for trial in range(config.trials):
            every = round_draws(config, trial)
            rows, tasks, rounds = [], [], []
            for i, scheme in enumerate(config.schemes):
                parts = []
                for k, draws in enumerate(every):
                    plan = scheme.plan(config.n_workers, draws.rngs[i], backend.streams,
                                       fresh, draws.delays, unit_times * draws.speeds)
                    extra = functools.partial(spec, config, i, trial, draws)
                    specs = [extra(task) for task in plan.tasks]
                    row, done = run_scheme(backend, specs, plan.master, shared,
                                           config.timeout, out.exact, grace, extra,
                                           config.terms_per_unit)
                    if config.iterative:
                        for task in done:
                            task["round"] = k
                    parts.append(row)
                    tasks.extend(done)
                    if row["status"] != "ok":  # the job stops at a round that failed
                        break
                if config.iterative:
                    rounds.extend(round_rows(parts))
                    rows.append(job_row(parts, config.rounds))
                else:
                    rows.append(parts[0])
            out.executions.extend(rows)
            out.tasks.extend(tasks)
            out.rounds.extend(rounds)
            if report is not None:
                for row in rows:
                    report(row)
    except KeyboardInterrupt:
        out.status = "interrupted"
    out.wall_seconds = time.monotonic() - began
    return out


def round_rows(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of ``rounds.csv`` of one scheme's job: every round it ran, its start (the
    sum of the round times before it) and its round time."""
    out, start = [], 0.0
    for k, row in enumerate(parts):
        out.append({"trial": row["trial"], "scheme": row["scheme"], "round": k,
                    "start": start, "response": row["latency"], "status": row["status"]})
        start += row["latency"]
    return out


def job_row(parts: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    """The row of ``executions.csv`` of one scheme's iterative job: ``ok`` when every round
    recovered its F(x) (else the first round's status that did not, latency ``inf``); its
    ``latency`` the job time (the sum of the round times, from each round's submission to
    its completion: the master's work between rounds is not counted), ``mean_round`` and
    ``p99_round`` of the rounds' times, ``worker_seconds`` and ``units`` per round, the
    other counts summed over the rounds and the last round's decoded value."""
    import numpy as np

    last = parts[-1]
    times = np.array([p["latency"] for p in parts], dtype=float)
    failed = next((p for p in parts if p["status"] != "ok"), None)
    ok = failed is None and len(parts) == rounds
    row = dict(last)
    row.update({
        "status": "ok" if ok else (failed["status"] if failed else "incomplete"),
        "latency": float(times.sum()) if ok else math.inf,
        "decode_ms": math.fsum(p["decode_ms"] for p in parts),
        "symbols": sum(p["symbols"] for p in parts if p["symbols"] is not None)
        if all(p["symbols"] is not None for p in parts) else None,
        "received": sum(p["received"] for p in parts),
        "rel_error": max(p["rel_error"] for p in parts),
        "decoded": ok,
        "tasks": sum(p["tasks"] for p in parts),
        "failed_tasks": sum(p["failed_tasks"] for p in parts),
        "worker_seconds": math.fsum(p["worker_seconds"] for p in parts) / len(parts),
        "units": sum(p["units"] for p in parts) / len(parts),
        "rounds": len(parts),
        "mean_round": float(times[np.isfinite(times)].mean()) if np.isfinite(times).any()
        else 0.0,
        "p99_round": float(np.quantile(times[np.isfinite(times)], 0.99,
                                       method="inverted_cdf"))
        if np.isfinite(times).any() else 0.0,
    })
    return row


def run_scheme(backend: Backend, specs: list[TaskSpec], master, shared: Any, timeout: float,
               exact: float, grace: float = 2.0,
               extra: Callable[[Any], TaskSpec] | None = None, units_per_unit: int = 1,
               ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One scheme in one trial: returns its ``executions.csv`` row and ``tasks.csv`` rows.

    ``status`` is ``ok``, ``mismatch`` (decoded but wrong), ``undecodable`` (an LT threshold
    that did not decode, or every symbol received without decoding), ``incomplete`` (every
    task ended, some failed, and F(x) is not recoverable) or ``timeout``.
    """
    ends: dict[int, End] = {}
    submitted = time.time()
    batch = backend.submit(specs, shared)
    specs = list(specs)
    try:
        status, latency = _collect(backend, batch, master, specs, ends, submitted, timeout,
                                   extra)
    except BaseException:  # interrupted: stop the tasks in flight before giving up
        backend.cancel(batch, grace=min(grace, 0.5))
        raise
    if not status:
        if len(ends) < len(specs):
            status = "timeout"
        elif any(e.status == "failed" for e in ends.values()):
            status = "incomplete"
        else:
            status = "undecodable"
    for end in backend.cancel(batch, grace):
        ends.setdefault(end.worker, end)
    value = master.value
    error = relative_error(value, exact)
    if status == "ok" and not error <= TOLERANCE:
        status, latency = "mismatch", math.inf
    first = specs[0]
    row = {
        "scheme": first.scheme,
        "trial": first.trial,
        "status": status,
        "latency": latency,
        "decode_ms": master.seconds * 1e3,
        "symbols": master.symbols,
        "received": master.received,
        "value": value,
        "exact": exact,
        "rel_error": error,
        "decoded": status == "ok",
        "tasks": len(specs),
        "failed_tasks": sum(e.status == "failed" for e in ends.values()),
    }
    busy = [e.stopped - e.start for e in ends.values()
            if math.isfinite(e.start) and math.isfinite(e.stopped)]
    row["worker_seconds"] = math.fsum(busy)
    row["units"] = sum(e.units for e in ends.values()) / units_per_unit
    row.update(master.extras)
    tasks = []
    for task in specs:
        end = ends.get(task.worker) or End(task.worker, "cancelled", error="no report")
        tasks.append({
            "scheme": task.scheme,
            "trial": task.trial,
            "worker": task.worker,
            "submitted": submitted,
            "start": end.start,
            "finish": end.finish,
            "stopped": end.stopped,
            "units": end.units,
            "planned_units": task.units,
            "first_units": task.results[0].size if task.results else 0,
            "status": end.status,
            "delay": task.delay,
            "speed": task.speed,
            "injected_failure": task.fail or "",
            "error": end.error,
        })
    return row, tasks


def _collect(backend, batch, master, specs, ends, submitted, timeout, extra):
    """Feed results to ``master`` until it completes, fails, every task ended or the
    timeout; launch the tasks the master asks for. Returns ``(status, latency)``."""
    status, latency = "", math.inf
    deadline = time.monotonic() + timeout
    while not status:
        wake = master.wakeup()
        if wake is not None and time.time() - submitted >= wake:
            launched = [extra(task) for task in master.act(time.time() - submitted)]
            if launched:
                backend.submit_more(batch, launched)
                specs.extend(launched)
            continue
        left = deadline - time.monotonic()
        if left <= 0 or len(ends) >= len(specs):
            break
        wait = left if wake is None else min(left, submitted + wake - time.time())
        for msg in backend.as_completed(batch, max(0.0, wait)):
            if isinstance(msg, End):
                ends[msg.worker] = msg
                continue
            if msg.index == BEGUN:
                master.begun(msg.worker, time.time() - submitted)
                if master.wakeup() != wake:
                    break
                continue
            if master.add(msg.worker, msg.index, msg.value, time.time() - submitted):
                latency, status = time.time() - submitted, "ok"
                break
            if master.failed:
                status = "undecodable"
                break
            for worker in master.cancels():  # a copy lost the race: its worker is free
                backend.cancel_task(batch, worker)
            if master.wakeup() != wake:  # the master wants to act at another time
                break
    return status, latency
