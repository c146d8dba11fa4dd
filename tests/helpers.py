"""Helpers shared by the tests: small configs, statistical checks, execution fixtures."""

from __future__ import annotations

import time

import numpy as np

from ltsim.codes.base import Work
from ltsim.execution.backends.base import End, Result
from ltsim.execution.plan import TaskSpec
from ltsim.execution.workload import KernelData
from ltsim.io import config


def experiment(schemes, delay=None, m=20, tau=0.01, trials=50, seed=1, **extra):
    """A validated run config from short arguments."""
    data = {
        "name": "t",
        "m": m,
        "tau": tau,
        "trials": trials,
        "seed": seed,
        "delay": delay or {"dist": "exponential", "rate": 1.0},
        "schemes": schemes,
        **extra,
    }
    return config.validate(data)


def within_sigmas(sample: np.ndarray, mu: float, sigmas: float = 4.0) -> tuple[bool, str]:
    """|mean - mu| < sigmas * SE, with a message for the assertion."""
    mu = float(mu)
    mean = float(np.mean(sample))
    se = float(np.std(sample, ddof=1) / np.sqrt(sample.size))
    return abs(mean - mu) < sigmas * se, f"mean {mean:.6g} vs {mu:.6g}, SE {se:.3g}"


TINY_CONFIG = (
    "name: tiny\nm: 24\ntau: 0.01\ntrials: 40\nseed: 5\n"
    "delay: {dist: exponential, rate: 0.5}\n"
    "schemes:\n"
    "  - {kind: one}\n  - {kind: uncoded}\n  - {kind: replication, r: 2}\n"
    "  - {kind: lt, r: 1, symbols_per_worker: 2, c: 0.1, delta: 0.5}\n"
    "  - {kind: lt, r: 2, symbols_per_worker: 2, c: 0.1, delta: 0.5}\n"
)


def small_config(**overrides):
    """An execute config: five schemes and a threshold LT on 16 workers, short delays."""
    data = {
        "name": "t",
        "workload": {"kind": "gaussian_kernel", "m": 32, "dim": 8, "seed": 4},
        "workers": 16,
        "trials": 2,
        "seed": 11,
        "delay": {"dist": "exponential", "rate": 50.0},
        "timeout": 20,
        "schemes": [
            {"kind": "one"},
            {"kind": "uncoded"},
            {"kind": "replication", "r": 2},
            {"kind": "lt", "r": 1, "symbols_per_worker": 3},
            {"kind": "lt", "r": 2, "symbols_per_worker": 3},
            {"kind": "lt", "r": 1, "symbols_per_worker": 3, "returns": "worker",
             "decoder": {"threshold": 40}, "label": "lt1-threshold"},
        ],
    }
    data.update(overrides)
    return config.validate(data, kind="execute")


def sleepy_tasks(n: int, fast: int, slow_delay: float) -> list[TaskSpec]:
    """``fast`` tasks without delay and ``n - fast`` that would sleep ``slow_delay``."""
    rows = Work(np.arange(4))
    return [TaskSpec("x", 0, j, 0.0 if j < fast else slow_delay, None, (rows,), True,
                     slow_delay) for j in range(n)]


def tiny_data() -> KernelData:
    rng = np.random.default_rng(0)
    return KernelData(rng.standard_normal((4, 3)), rng.standard_normal(3), 1.0)


def cancel_check(backend) -> None:
    """Fast tasks return; cancelling then stops the sleepers at once, before any work."""
    tasks = sleepy_tasks(6, 2, 30.0)
    batch = backend.submit(tasks, backend.share(tiny_data()))
    got = set()
    for msg in backend.as_completed(batch, 15.0):
        if isinstance(msg, Result):
            got.add(msg.worker)
        if got == {0, 1}:
            break
    began = time.monotonic()
    late = backend.cancel(batch, grace=5.0)
    elapsed = time.monotonic() - began
    assert got == {0, 1}
    slow = {e.worker: e for e in late if isinstance(e, End) and e.worker >= 2}
    assert set(slow) == {2, 3, 4, 5}
    assert all(e.status == "cancelled" and e.units == 0 for e in slow.values())
    assert elapsed < 5.0


def cli(*args):
    """``ltsim ARGS`` run in this process (click's test runner); arguments made strings."""
    from click.testing import CliRunner

    from ltsim.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def sweep_file(folder, body: str, name: str = "s.yaml"):
    """A sweep file ``folder/name`` over ``base.yaml`` of the same folder, with ``body``."""
    path = folder / name
    path.write_text("base: base.yaml\n" + body)
    return path
