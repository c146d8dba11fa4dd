"""The workload: a Gaussian kernel sum ``F(x) = sum_i exp(-||x - a_i||^2 / (2 sigma^2))``."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class KernelData:
    """The data every worker reads: points ``a`` (m, dim), query ``x`` (dim,), ``sigma``."""

    a: np.ndarray
    x: np.ndarray
    sigma: float
    term_seconds: float = 0.0
    source: Any = None
    """The workload description the data was drawn from (see :func:`materialize`)."""


def make_data(workload) -> KernelData:
    """Draw the points and the query of ``workload`` (the config's
    :class:`~ltsim.io.config.GaussianKernel`) from its ``seed``."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(workload.seed)))
    a = rng.standard_normal((workload.m, workload.dim))
    x = rng.standard_normal(workload.dim)
    return KernelData(a, x, workload.bandwidth, workload.term_seconds, workload)


@functools.lru_cache(maxsize=2)
def _drawn(workload) -> KernelData:
    return make_data(workload)


def materialize(shared) -> KernelData:
    """The workload data a task computes on: ``shared`` itself, or the data drawn (once per
    process) from a workload description, which is what a backend that cannot hold shared
    arrays ships instead of them (serverless calls have a payload limit)."""
    return shared if isinstance(shared, KernelData) else _drawn(shared)


def kernel_sum(data: KernelData, rows: np.ndarray) -> float:
    """``sum_{i in rows} exp(-||x - a_i||^2 / (2 sigma^2))`` (rows may repeat)."""
    return float(kernels(data, rows).sum())


def kernels(data: KernelData, rows: np.ndarray) -> np.ndarray:
    """``exp(-||x - a_i||^2 / (2 sigma^2))`` for every ``i`` in ``rows``."""
    diff = data.a[rows] - data.x
    sq = np.einsum("ij,ij->i", diff, diff)
    return np.exp(sq / (-2.0 * data.sigma**2))


def kernel_value(data: KernelData, result) -> float:
    """The value of one result (a :class:`~ltsim.codes.base.Work` whose units are kernel
    terms): the plain or weighted sum of its kernel terms."""
    values = kernels(data, result.units)
    if result.weights is None:
        return float(values.sum())
    return float(values @ result.weights)


def direct(data: KernelData) -> float:
    """F(x) computed directly, the reference of every decoded value (``math.fsum``)."""
    diff = data.a - data.x
    sq = np.einsum("ij,ij->i", diff, diff)
    return math.fsum(np.exp(sq / (-2.0 * data.sigma**2)).tolist())
