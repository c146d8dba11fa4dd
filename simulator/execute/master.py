"""The master: for each trial and scheme, submit the tasks, decode results as they arrive,
stop as soon as F(x) is recoverable, cancel the rest and check the decoded value."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .backends.base import Backend, End
from .config import ExecuteConfig
from .plan import Plan, build_plan, relative_error, trial_draws
from .workload import direct, make_data

TOLERANCE = 1e-9
"""Largest relative error of a decoded F(x) accepted in float64."""


@dataclass
class Execution:
    """Rows of ``executions.csv`` and ``tasks.csv``, plus how the run ended."""

    executions: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    exact: float = math.nan
    status: str = "complete"
    wall_seconds: float = 0.0

    @property
    def mismatches(self) -> int:
        """Trials whose decoded value was wrong (the command then exits 1)."""
        return sum(row["status"] == "mismatch" for row in self.executions)


def run_execution(config: ExecuteConfig, backend: Backend,
                  report: Callable[[dict[str, Any]], None] | None = None,
                  grace: float = 2.0) -> Execution:
    """Execute every trial of every scheme on ``backend``.

    ``report`` is called with each row of ``executions.csv`` as it is produced. A
    ``KeyboardInterrupt`` ends the run early with ``status = "interrupted"``.
    """
    began = time.monotonic()
    data = make_data(config.workload)
    out = Execution(exact=direct(data))
    shared = backend.share(data)
    try:
        for trial in range(config.trials):
            delays, failing, rngs = trial_draws(config, trial)
            for i in range(len(config.schemes)):
                plan = build_plan(config, i, trial, delays, failing, rngs[i], backend.streams)
                row, tasks = run_scheme(backend, plan, shared, config.timeout, out.exact, grace)
                out.executions.append(row)
                out.tasks.extend(tasks)
                if report is not None:
                    report(row)
    except KeyboardInterrupt:
        out.status = "interrupted"
    out.wall_seconds = time.monotonic() - began
    return out


def run_scheme(backend: Backend, plan: Plan, shared: Any, timeout: float, exact: float,
               grace: float = 2.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One scheme in one trial: returns its ``executions.csv`` row and ``tasks.csv`` rows.

    ``status`` is ``ok``, ``mismatch`` (decoded but wrong), ``undecodable`` (an LT threshold
    that did not decode, or every symbol received without decoding), ``incomplete`` (every
    task ended, some failed, and F(x) is not recoverable) or ``timeout``.
    """
    decoder, n_tasks = plan.decoder, len(plan.tasks)
    ends: dict[int, End] = {}
    submitted = time.time()
    batch = backend.submit(plan.tasks, shared)
    status, latency = "", math.inf
    for msg in backend.as_completed(batch, timeout):
        if isinstance(msg, End):
            ends[msg.worker] = msg
            continue
        if decoder.add(msg.worker, msg.index, msg.value):
            latency, status = time.time() - submitted, "ok"
            break
        if decoder.failed:
            status = "undecodable"
            break
    if not status:
        if len(ends) < n_tasks:
            status = "timeout"
        elif any(e.status == "failed" for e in ends.values()):
            status = "incomplete"
        else:
            status = "undecodable"
    for end in backend.cancel(batch, grace):
        ends.setdefault(end.worker, end)
    value = decoder.value
    error = relative_error(value, exact)
    if status == "ok" and not error <= TOLERANCE:
        status, latency = "mismatch", math.inf
    spec0 = plan.tasks[0]
    row = {
        "scheme": spec0.scheme,
        "trial": spec0.trial,
        "status": status,
        "latency": latency,
        "decode_ms": decoder.seconds * 1e3,
        "symbols": decoder.symbols,
        "received": decoder.received,
        "value": value,
        "exact": exact,
        "rel_error": error,
        "decoded": status == "ok",
        "tasks": n_tasks,
        "failed_tasks": sum(e.status == "failed" for e in ends.values()),
    }
    tasks = []
    for spec in plan.tasks:
        end = ends.get(spec.worker) or End(spec.worker, "cancelled", error="no report")
        tasks.append({
            "scheme": spec.scheme,
            "trial": spec.trial,
            "worker": spec.worker,
            "submitted": submitted,
            "start": end.start,
            "finish": end.finish,
            "stopped": end.stopped,
            "units": end.units,
            "planned_units": spec.units,
            "status": end.status,
            "delay": spec.delay,
            "injected_failure": spec.fail or "",
            "error": end.error,
        })
    return row, tasks
