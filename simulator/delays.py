"""Start-up delay distributions ``X_j`` of the workers.

Each distribution is a small validated model with

* ``sample(rng, size)``: i.i.d. delays, an ndarray of shape ``size``, drawn from ``rng`` only;
* ``mean`` and ``variance``: analytic (``inf`` where the moment does not exist), so every
  family is also a free statistical test of its sampler;
* continuous families: ``isf(p)``, the inverse survival function (``x`` with
  ``P(X > x) = p``); laws with atoms (constant, empirical): ``atoms()``, the support points
  and their probabilities. :mod:`simulator.theory` uses these for exact expected latencies.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from .validation import StrictModel

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
MAX_SAMPLES_BYTES = 64 << 20
"""Largest delay-sample file (``dist: empirical``) read."""


def _moment(method: Callable[[Any], float]) -> property:
    """A moment as a property: ``inf`` where the closed form overflows (extreme but valid
    parameters, e.g. a lognormal with ``sigma = 30``) instead of an exception."""

    @functools.wraps(method)
    def guarded(self) -> float:
        try:
            value = float(method(self))
        except (OverflowError, ZeroDivisionError):
            return math.inf
        return math.inf if math.isnan(value) else value

    return property(guarded)


class Exponential(StrictModel):
    """Exponential with ``rate`` (mean ``1/rate``)."""

    dist: Literal["exponential"]
    rate: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.exponential(1.0 / self.rate, size)

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        return -np.log(p) / self.rate

    @_moment
    def mean(self) -> float:
        return 1.0 / self.rate

    @_moment
    def variance(self) -> float:
        return 1.0 / self.rate**2


class ShiftedExponential(StrictModel):
    """``shift`` plus an exponential with ``rate``."""

    dist: Literal["shifted_exponential"]
    shift: NonNegative
    rate: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        with np.errstate(over="ignore"):  # extreme parameters: an infinite delay
            return self.shift + rng.exponential(1.0 / self.rate, size)

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        return self.shift - np.log(p) / self.rate

    @_moment
    def mean(self) -> float:
        return self.shift + 1.0 / self.rate

    @_moment
    def variance(self) -> float:
        return 1.0 / self.rate**2


class Pareto(StrictModel):
    """Classical (type I) Pareto: ``P(X > x) = (scale / x) ** shape`` for ``x >= scale``."""

    dist: Literal["pareto"]
    scale: Positive
    shape: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        # Inversion with U in (0, 1]; U = 0 would give an infinite delay.
        u = 1.0 - rng.random(size)
        with np.errstate(over="ignore"):  # extreme parameters: an infinite delay
            return self.scale * u ** (-1.0 / self.shape)

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        return self.scale * np.power(p, -1.0 / self.shape)

    @_moment
    def mean(self) -> float:
        a = self.shape
        return a * self.scale / (a - 1.0) if a > 1 else math.inf

    @_moment
    def variance(self) -> float:
        a = self.shape
        return self.scale**2 * a / ((a - 1.0) ** 2 * (a - 2.0)) if a > 2 else math.inf


class Weibull(StrictModel):
    """Weibull with ``scale`` and ``shape``: ``P(X > x) = exp(-(x / scale) ** shape)``."""

    dist: Literal["weibull"]
    scale: Positive
    shape: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        with np.errstate(over="ignore"):  # extreme parameters: an infinite delay
            return self.scale * rng.weibull(self.shape, size)

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        return self.scale * np.power(-np.log(p), 1.0 / self.shape)

    @_moment
    def mean(self) -> float:
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    @_moment
    def variance(self) -> float:
        g1 = math.gamma(1.0 + 1.0 / self.shape)
        g2 = math.gamma(1.0 + 2.0 / self.shape)
        return self.scale**2 * (g2 - g1**2)


class Lognormal(StrictModel):
    """``exp(N(mu, sigma**2))``."""

    dist: Literal["lognormal"]
    mu: Finite
    sigma: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size)

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        normal = statistics.NormalDist()
        z = np.array([-normal.inv_cdf(float(q)) for q in np.ravel(p)]).reshape(np.shape(p))
        return np.exp(self.mu + self.sigma * z)

    @_moment
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2.0)

    @_moment
    def variance(self) -> float:
        s2 = self.sigma**2
        return math.expm1(s2) * math.exp(2.0 * self.mu + s2)


class Constant(StrictModel):
    """The same delay ``value`` at every worker."""

    dist: Literal["constant"]
    value: NonNegative

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return np.full(size, self.value, dtype=np.float64)

    def atoms(self) -> tuple[np.ndarray, np.ndarray]:
        """Support points and their probabilities."""
        return np.array([self.value]), np.array([1.0])

    @_moment
    def mean(self) -> float:
        return self.value

    @_moment
    def variance(self) -> float:
        return 0.0


class Empirical(StrictModel):
    """Resampling (with replacement) of measured delays read from a CSV file.

    The file holds one number per line (a header line is allowed, a first column is used when
    there are several). A relative ``path`` is taken from the folder of the config file.
    Samples must be finite and non-negative.
    """

    dist: Literal["empirical"]
    path: str
    _samples: np.ndarray = PrivateAttr()

    @field_validator("path")
    @classmethod
    def _resolve(cls, path: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        try:
            p = Path(path).expanduser()
            if not p.is_absolute() and base is not None:
                p = Path(base) / p
            p = p.resolve()
        except (OSError, RuntimeError, ValueError) as exc:  # ~nobody, NUL byte, too long
            raise ValueError(f"not a usable file path ({_reason(exc)})") from None
        read_samples(p)  # fail here, under the key 'path'
        return str(p)

    @model_validator(mode="after")
    def _load(self) -> Empirical:
        self._samples = read_samples(Path(self.path))
        return self

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.choice(self._samples, size=size, replace=True)

    @property
    def samples(self) -> np.ndarray:
        return self._samples

    def atoms(self) -> tuple[np.ndarray, np.ndarray]:
        """Support points (the distinct samples) and their probabilities."""
        values, counts = np.unique(self._samples, return_counts=True)
        return values, counts / counts.sum()

    @_moment
    def mean(self) -> float:
        return float(np.mean(self._samples))

    @_moment
    def variance(self) -> float:
        return float(np.var(self._samples))


def read_samples(path: Path) -> np.ndarray:
    """Read delay samples from a CSV file; raise ``ValueError`` naming what is wrong."""
    shown = _shown(path)
    try:
        if not path.is_file():
            raise ValueError(f"file not found: {shown}" if not path.exists()
                             else f"not a regular file: {shown}")
        size = path.stat().st_size
        if size > MAX_SAMPLES_BYTES:
            raise ValueError(f"{shown} is {size} bytes; the limit is {MAX_SAMPLES_BYTES}")
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {shown} as text ({_reason(exc)})") from None
    rows = [line.split(",")[0].strip() for line in text.splitlines() if line.strip()]
    if rows and not _is_number(rows[0]):
        rows = rows[1:]  # a header
    if not rows:
        raise ValueError(f"no samples in {shown}")
    values = []
    for lineno, cell in enumerate(rows, start=1):
        if not _is_number(cell):
            raise ValueError(f"sample {lineno} of {shown} is not a number: {cell[:30]!r}")
        values.append(float(cell))
    samples = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(samples) | (samples < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"samples must be finite and >= 0; sample {i + 1} of {shown} is {float(samples[i])!r}"
        )
    return samples


def _shown(path: Path, limit: int = 120) -> str:
    """``path`` for a one-line message: printable, at most ``limit`` characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))
    return text if len(text) <= limit else "..." + text[3 - limit :]


def _reason(exc: BaseException) -> str:
    """The gist of an exception, on one line, without the file name it may repeat."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8: byte {exc.start} is {exc.object[exc.start]:#04x}"
    return " ".join(str(exc).split()) or exc.__class__.__name__


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


Delay = Annotated[
    Union[Exponential, ShiftedExponential, Pareto, Weibull, Lognormal, Constant, Empirical],  # noqa: UP007
    Field(discriminator="dist"),
]
DELAY_FAMILIES = ("exponential", "shifted_exponential", "pareto", "weibull", "lognormal",
                  "constant", "empirical")
