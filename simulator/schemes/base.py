"""The interface every scheme implements."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field

from ..validation import StrictModel


@dataclass(frozen=True)
class Outcome:
    """What a scheme returns for a batch of trials.

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
    """

    latency: np.ndarray
    symbols: np.ndarray
    decoded: np.ndarray
    decode_seconds: np.ndarray

    @classmethod
    def uncoded(cls, latency: np.ndarray) -> Outcome:
        """An outcome of a scheme without a decoder: always decoded, no symbols."""
        n = latency.shape[0]
        return cls(latency, np.full(n, -1, np.int64), np.ones(n, bool), np.full(n, np.nan))


class CrossFieldError(ValueError):
    """A scheme parameter that is valid alone but not with the rest of the experiment."""

    def __init__(self, key: str, rule: str, value) -> None:
        super().__init__(f"{key}: {rule}, got {value!r}")
        self.key, self.rule, self.value = key, rule, value

    def under(self, prefix: str) -> CrossFieldError:
        """The same error with its key placed below ``prefix``."""
        return CrossFieldError(f"{prefix}.{self.key}", self.rule, self.value)


class Scheme(StrictModel):
    """A scheme: validated parameters plus the latency model.

    Subclasses set ``kind`` to a ``Literal`` and implement :meth:`simulate`.
    """

    label: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}$")] | None = None
    random: ClassVar[bool] = False
    """Whether :meth:`simulate` draws from its per-trial streams."""

    @property
    def scheme_id(self) -> str:
        """Name of the scheme in result files (``label`` when given)."""
        return self.label or self.default_id

    @property
    def default_id(self) -> str:
        raise NotImplementedError

    def check(self, workers: int) -> None:
        """Raise :class:`CrossFieldError` if the scheme cannot run on ``workers`` workers."""

    def simulate(
        self, delays: np.ndarray, tau: float, rngs: Sequence[np.random.Generator]
    ) -> Outcome:
        """Latency of a batch of trials.

        Parameters
        ----------
        delays : ndarray of float64, shape (trials, workers)
            Start-up delay ``X_j`` of every worker in every trial.
        tau : float
            Time of one unit task.
        rngs : sequence of Generator, length trials
            One independent stream per trial for the scheme's own randomness.
        """
        raise NotImplementedError

    def theory_mean(self, delay, workers: int, tau: float) -> float:
        """Closed-form expected latency, NaN where none applies."""
        return math.nan

    def theory_bound(self, delay, workers: int, tau: float) -> float:
        """Closed-form upper bound on the expected latency, NaN where none applies."""
        return math.nan

    def memory_bytes(self, workers: int) -> int:
        """Rough peak memory of one trial, beyond the delays."""
        return 0
