"""Lithops backend (optional extra ``ltsim[lithops]``): serverless functions, e.g. AWS Lambda.

Each logical worker is one function call (:meth:`lithops.FunctionExecutor.call_async`); a
call returns all its results together when it ends (no per-symbol streaming: functions
cannot push partial results to the master without extra storage), so LT codes behave as
``returns: worker`` there. Cancellation cannot interrupt a running function: the master
stops waiting and abandons it (its injected sleeps are bounded by the config's ``timeout``);
on Lambda abandoned stragglers still run to completion and are billed.

Without a lithops config file (``~/.lithops/config`` or ``LITHOPS_CONFIG_FILE``) the
``localhost`` backend is used, with one process per logical worker. A config for AWS Lambda
looks like::

    lithops:
      backend: aws_lambda
      storage: aws_s3
    aws:
      region: us-east-1
    aws_lambda:
      execution_role: arn:aws:iam::123456789012:role/lithops-execution-role
      runtime_memory: 1024
    aws_s3:
      storage_bucket: my-lithops-bucket

and the run is ``LITHOPS_CONFIG_FILE=lambda.yaml ltsim execute configs/execute-paper.yaml
--backend lithops`` (the runtime must have ltsim installed, see lithops' runtime docs).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..task import TaskSpec
from ..worker import run_part, sleeper
from .base import Backend, Capacity, End, Message, Result, end_of


def lithops_task(spec: TaskSpec, data: Any):
    """Function body: the whole task, results returned together."""
    return run_part(spec, data, range(len(spec.results)), True, sleeper(spec.max_seconds))


@dataclass
class _Batch:
    tasks: list[TaskSpec]
    shared: Any = None
    futures: dict[Any, int] = field(default_factory=dict)
    ended: set[int] = field(default_factory=set)


class LithopsBackend(Backend):
    """Backend on a :class:`lithops.FunctionExecutor`."""

    name = "lithops"
    streams = False

    def __init__(self, concurrency: int) -> None:
        import lithops

        logging.getLogger("lithops").setLevel(logging.ERROR)

        config = None
        default = Path.home() / ".lithops" / "config"
        if not os.environ.get("LITHOPS_CONFIG_FILE") and not default.is_file():
            processes = max(1, concurrency)
            config = {"lithops": {"backend": "localhost", "storage": "localhost",
                                  "log_level": "WARNING"},
                      "localhost": {"runtime": sys.executable,
                                    "worker_processes": processes}}
        self.executor = lithops.FunctionExecutor(config=config)

    def capacity(self) -> Capacity | None:
        """Calls the lithops config runs at once: ``worker_processes`` on localhost, else
        ``max_workers`` containers (or VMs) each running ``min(chunksize, worker_processes)``
        calls. ``None`` when the config does not say (the cloud account's own concurrency
        limit, e.g. Lambda's per region, is invisible here)."""
        try:
            config = self.executor.config
            backend, mode = config["lithops"]["backend"], config["lithops"].get("mode")
            section = config[backend]
            processes = int(section["worker_processes"])
            if mode == "localhost" or backend == "localhost":
                count, keys = processes, f"{backend}.worker_processes"
            else:
                chunk = int(config["lithops"].get("chunksize") or processes)
                count = int(section["max_workers"]) * min(chunk, processes)
                keys = f"{backend}.max_workers x {backend}.worker_processes"
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
        plural = "" if count == 1 else "s"
        return Capacity(count, f"the lithops config runs {count} call{plural} at once",
                        f"raise {keys} in the lithops config")

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        capacity = self.capacity()
        if capacity is not None:
            info["concurrent_calls"] = capacity.count
        return info

    def share(self, data) -> Any:
        """The workload's description (seed and sizes), not its arrays: each call draws the
        data itself, once per process (a Lambda payload is limited to a few MiB)."""
        return data.source if data.source is not None else data

    def submit(self, tasks: list[TaskSpec], shared: Any) -> _Batch:
        batch = _Batch([], shared)
        self.submit_more(batch, tasks)
        return batch

    def submit_more(self, batch: _Batch, tasks: list[TaskSpec]) -> None:
        batch.tasks.extend(tasks)
        # include_modules=None: ship no code. Shipping ltsim's modules races with concurrent
        # workers importing them (seen on localhost: "cannot import name ..."); the runtime
        # has ltsim installed instead.
        futures = self.executor.map(lithops_task, [(spec, batch.shared) for spec in tasks],
                                    include_modules=None)
        for spec, fut in zip(tasks, futures, strict=True):
            batch.futures[fut] = spec.worker

    def as_completed(self, batch: _Batch, timeout: float) -> Iterator[Message]:
        from lithops.wait import ANY_COMPLETED

        deadline = time.monotonic() + timeout
        while len(batch.ended) < len(batch.tasks):
            pending = [f for f, w in batch.futures.items() if w not in batch.ended]
            left = deadline - time.monotonic()
            if left <= 0 or not pending:
                return
            try:
                done, _ = self.executor.wait(pending, return_when=ANY_COMPLETED,
                                             timeout=max(1, math.ceil(left)),
                                             throw_except=False, show_progressbar=False)
            except TimeoutError:  # lithops raises its own when nothing finished in time
                return
            for fut in done:
                yield from self._messages(batch, fut)

    def _messages(self, batch: _Batch, fut) -> Iterator[Message]:
        worker = batch.futures[fut]
        batch.ended.add(worker)
        try:
            part = fut.result(throw_except=True)
        except Exception as exc:  # the function raised or its container died
            yield End(worker, "failed", error=f"{type(exc).__name__}: {exc}")
            return
        for index, value, finish in part.results:
            yield Result(worker, index, value, finish)
        yield end_of(worker, part)

    def cancel(self, batch: _Batch, grace: float = 2.0) -> list[End]:
        late = []
        for worker in (w for w in batch.futures.values() if w not in batch.ended):
            batch.ended.add(worker)
            late.append(End(worker, "cancelled", error="abandoned (lithops cannot cancel)"))
        return late

    def close(self) -> None:
        # Abandoned calls are still monitored by lithops: stop its monitor and invoker first,
        # or its threads log a traceback per abandoned call at shutdown.
        with contextlib.suppress(Exception):
            self.executor.__exit__(None, None, None)
        with contextlib.suppress(Exception):  # cleaning is best effort
            self.executor.clean(clean_cloudobjects=True)
