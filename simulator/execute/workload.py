"""The workload: a Gaussian kernel sum ``F(x) = sum_i exp(-||x - a_i||^2 / (2 sigma^2))``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from ..validation import StrictModel


class GaussianKernel(StrictModel):
    """``m`` points ``a_i`` in ``R^dim`` and the query ``x``, all standard normal from ``seed``.

    ``sigma`` defaults to ``sqrt(dim)``, which keeps the kernel values near ``exp(-1)`` so that
    no term underflows. ``term_seconds`` (default 0) adds an emulated compute time per kernel
    term, slept by the worker: a stand-in for slower hardware, as ``time_scale`` is for
    start-up delays.
    """

    kind: Literal["gaussian_kernel"]
    m: Annotated[int, Field(ge=1, le=10**7)]
    dim: Annotated[int, Field(ge=1, le=10**5)]
    sigma: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    term_seconds: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = 0.0

    @property
    def bandwidth(self) -> float:
        """The kernel width actually used."""
        return self.sigma if self.sigma is not None else math.sqrt(self.dim)


@dataclass(frozen=True)
class KernelData:
    """The data every worker reads: points ``a`` (m, dim), query ``x`` (dim,), ``sigma``."""

    a: np.ndarray
    x: np.ndarray
    sigma: float
    term_seconds: float = 0.0


def make_data(workload: GaussianKernel) -> KernelData:
    """Draw the points and the query from ``workload.seed`` (an explicit Generator)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(workload.seed)))
    a = rng.standard_normal((workload.m, workload.dim))
    x = rng.standard_normal(workload.dim)
    return KernelData(a, x, workload.bandwidth, workload.term_seconds)


def kernel_sum(data: KernelData, rows: np.ndarray) -> float:
    """``sum_{i in rows} exp(-||x - a_i||^2 / (2 sigma^2))`` (rows may repeat)."""
    diff = data.a[rows] - data.x
    sq = np.einsum("ij,ij->i", diff, diff)
    return float(np.exp(sq / (-2.0 * data.sigma**2)).sum())


def direct(data: KernelData) -> float:
    """F(x) computed directly, the reference of every decoded value (``math.fsum``)."""
    diff = data.a - data.x
    sq = np.einsum("ij,ij->i", diff, diff)
    return math.fsum(np.exp(sq / (-2.0 * data.sigma**2)).tolist())
