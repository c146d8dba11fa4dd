"""Shared helpers of the test suite."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

from simulator import config

# CI explores the same hypothesis examples on every run; locally they vary between runs.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def experiment(schemes, delay=None, m=20, tau=0.01, trials=50, seed=1, **extra):
    """A validated experiment from short arguments."""
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
    mean = float(np.mean(sample))
    se = float(np.std(sample, ddof=1) / np.sqrt(sample.size))
    return abs(mean - mu) < sigmas * se, f"mean {mean:.6g} vs {mu:.6g}, SE {se:.3g}"


@pytest.fixture
def tiny_config(tmp_path):
    """A small valid config file."""
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "name: tiny\nm: 24\ntau: 0.01\ntrials: 40\nseed: 5\n"
        "delay: {dist: exponential, rate: 0.5}\n"
        "schemes:\n"
        "  - {kind: one}\n  - {kind: uncoded}\n  - {kind: replication, r: 2}\n"
        "  - {kind: lt, r: 1, symbols_per_worker: 2, c: 0.1, delta: 0.5}\n"
        "  - {kind: lt, r: 2, symbols_per_worker: 2, c: 0.1, delta: 0.5}\n"
    )
    return path
